/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * PUBLISH (RFC 3903) through spr_sip_process() with a real shard. The
 * control thread's step — parsing the PIDF body — is done here with
 * spr_pidf_parse(), and the verdict handed back as the worker does.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "pidf.h"
#include "presence.h"
#include "sip_process.h"
#include "testutil.h"

#define T0 1700000000u

static const char doc_open[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	"<presence xmlns=\"urn:ietf:params:xml:ns:pidf\" entity=\"pres:alice@example.com\">\n"
	"<tuple id=\"t1\"><status><basic>open</basic></status><note>at desk</note></tuple>\n"
	"</presence>\n";

static const char doc_busy[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	"<presence xmlns=\"urn:ietf:params:xml:ns:pidf\"\n"
	" xmlns:dm=\"urn:ietf:params:xml:ns:pidf:data-model\"\n"
	" xmlns:rpid=\"urn:ietf:params:xml:ns:pidf:rpid\" entity=\"pres:alice@example.com\">\n"
	"<tuple id=\"t1\"><status><basic>open</basic></status></tuple>\n"
	"<dm:person id=\"p1\"><rpid:activities><rpid:busy/></rpid:activities>"
	"<dm:note>In a meeting</dm:note></dm:person>\n"
	"</presence>\n";

struct fx {
	struct spr_reg_cfg reg;
	struct spr_pres_cfg pres;
	struct spr_proc_ctx ctx;
	struct spr_now now;
	struct spr_peer src;
	struct spr_pidf_status st;
	char out[16384];
	uint32_t out_len;
	char etag[SPR_ETAG_LEN + 1]; /* SIP-ETag of the last reply, "" when none */
	unsigned pidf_checks;	     /* requests sent to "control" */
	unsigned seq;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	spr_reg_cfg_default(&f->reg);
	spr_pres_cfg_default(&f->pres);
	f->pres.etag_secret = 0x5eed;
	spr_sip_limits_default(&f->ctx.lim);
	f->ctx.reg_cfg = &f->reg;
	f->ctx.pres_cfg = &f->pres;
	f->ctx.reply.server = SPR_STR("sprd-test");
	f->ctx.shard = spr_loc_shard_create(0, 64);
	if (f->ctx.shard == NULL)
		return -1;
	spr_now_set(&f->now, T0);
	f->src.family = AF_INET;
	f->src.port = 5070;
	memcpy(f->src.addr, (uint8_t[]){192, 0, 2, 7}, 4);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	spr_loc_shard_destroy(f->ctx.shard);
	free(f);
	return 0;
}

static void
take_reply(struct fx *f)
{
	const char *e;

	f->out[f->out_len] = '\0';
	f->etag[0] = '\0';
	if ((e = strstr(f->out, "SIP-ETag: ")) != NULL) {
		const char *end = strstr(e, "\r\n");

		assert_int_equal(end - (e + 10), SPR_ETAG_LEN);
		memcpy(f->etag, e + 10, SPR_ETAG_LEN);
		f->etag[SPR_ETAG_LEN] = '\0';
	}
}

/*
 * Send text (LF line ends turned into CRLF, the body too); when the worker
 * asks for the PIDF check, parse the body as control does and send the
 * verdict back. Returns the status code, 0 for no reply.
 */
static int
send_msg(struct fx *f, const char *text)
{
	uint32_t len;
	char *msg = spr_test_crlf(text, &len);

	assert_non_null(msg);
	f->out_len =
		spr_sip_process(&f->ctx, msg, len, &f->src, &f->now, f->out, sizeof(f->out) - 1);
	if (f->out_len == 0 && f->ctx.pidf_check) {
		const struct spr_sip_msg *m = &f->ctx.msg;
		struct spr_pres_verdict v;
		char why[160];

		f->pidf_checks++;
		v.fault = spr_pidf_parse(m->body.p, m->body.len, NULL, &f->st, why, sizeof(why));
		v.status = v.fault == SPR_PIDF_OK ? &f->st : NULL;
		f->ctx.verdict = &v;
		f->out_len = spr_sip_process(&f->ctx, msg, len, &f->src, &f->now, f->out,
					     sizeof(f->out) - 1);
		f->ctx.verdict = NULL;
		assert_false(f->ctx.pidf_check);
	}
	free(msg);
	take_reply(f);
	if (f->out_len < 12)
		return 0;
	return atoi(f->out + 8);
}

/*
 * A PUBLISH for alice@example.com. headers: extra header lines ("" for
 * none); body NULL for none, sent as application/pidf+xml unless headers
 * carry a Content-Type.
 */
static int
pub(struct fx *f, const char *headers, const char *body)
{
	char buf[8192];
	size_t blen = body != NULL ? strlen(body) : 0;
	unsigned s = ++f->seq;

	/* the body's LFs become CRLFs too: Content-Length counts those */
	for (const char *p = body; p != NULL && *p != '\0'; p++)
		blen += *p == '\n';
	snprintf(buf, sizeof(buf),
		 "PUBLISH sip:alice@Example.COM SIP/2.0\n"
		 "Via: SIP/2.0/UDP 192.0.2.7:5070;branch=z9hG4bKp%u;rport\n"
		 "Max-Forwards: 70\n"
		 "From: <sip:alice@example.com>;tag=pt%u\n"
		 "To: <sip:alice@example.com>\n"
		 "Call-ID: pub%u\n"
		 "CSeq: 1 PUBLISH\n"
		 "%s%s"
		 "Content-Length: %zu\n"
		 "\n%s",
		 s, s, s, headers,
		 body != NULL && strstr(headers, "Content-Type") == NULL
			 ? "Content-Type: application/pidf+xml\n"
			 : "",
		 blen, body != NULL ? body : "");
	return send_msg(f, buf);
}

static const struct spr_record *
presentity(struct fx *f)
{
	struct spr_str a = SPR_STR("alice@example.com");

	return spr_pres_lookup(f->ctx.shard, &a, spr_loc_hash(&a));
}

static bool
reply_has(struct fx *f, const char *needle)
{
	return strstr(f->out, needle) != NULL;
}

static const struct spr_pidf_status *
pub_status(const struct spr_record *r, uint32_t i)
{
	return spr_rec_status(r, &spr_rec_presentity(r)->p[i]);
}

static void
test_initial_refresh_modify_remove(void **state)
{
	struct fx *f = *state;
	const struct spr_record *r;
	char first[SPR_ETAG_LEN + 1], second[SPR_ETAG_LEN + 1], hdr[128];
	struct spr_pidf_state ps;
	uint32_t v1;

	/* initial: body, no SIP-If-Match -> 200 with SIP-ETag and the default Expires */
	assert_int_equal(pub(f, "Event: presence\n", doc_open), 200);
	assert_int_equal(f->pidf_checks, 1);
	assert_int_equal(strlen(f->etag), SPR_ETAG_LEN);
	assert_true(reply_has(f, "Expires: 3600\r\n"));
	r = presentity(f);
	assert_non_null(r);
	assert_int_equal(spr_rec_kind(r), SPR_REC_PRESENTITY);
	assert_int_equal(r->n, 1);
	assert_memory_equal(spr_rec_presentity(r)->p[0].etag, f->etag, SPR_ETAG_LEN);
	assert_int_equal(spr_rec_presentity(r)->p[0].expires_at, T0 + 3600);
	spr_pidf_status_to_state(pub_status(r, 0), &ps);
	assert_int_equal(ps.state, SPR_PRESENCE_AVAILABLE);
	/* one timer per presentity, of the presentity kind */
	assert_int_equal(f->ctx.arm.kind, SPR_REC_PRESENTITY);
	assert_int_equal(f->ctx.arm.at, T0 + 3600);
	assert_true(f->ctx.arm.hash == r->hash);
	v1 = spr_rec_presentity(r)->version;
	assert_true(v1 != 0);
	/* PUBLISH does not touch the bindings of the same AOR */
	{
		struct spr_str a = SPR_STR("alice@example.com");

		assert_null(spr_loc_lookup(f->ctx.shard, &a, spr_loc_hash(&a)));
	}
	memcpy(first, f->etag, sizeof(first));

	/* refresh: SIP-If-Match, no body -> a new ETag, no trip to control, same state */
	snprintf(hdr, sizeof(hdr), "Event: presence\nSIP-If-Match: %s\nExpires: 600\n", first);
	assert_int_equal(pub(f, hdr, NULL), 200);
	assert_int_equal(f->pidf_checks, 1);
	assert_true(reply_has(f, "Expires: 600\r\n"));
	assert_string_not_equal(f->etag, first);
	r = presentity(f);
	assert_int_equal(r->n, 1);
	assert_int_equal(spr_rec_presentity(r)->p[0].expires_at, T0 + 600);
	assert_int_equal(spr_rec_presentity(r)->version, v1); /* presence state unchanged */
	memcpy(second, f->etag, sizeof(second));
	/* the old tag is gone */
	assert_int_equal(pub(f, hdr, NULL), 412);
	assert_true(reply_has(f, "SIP/2.0 412 Conditional Request Failed\r\n"));

	/* modify: SIP-If-Match and a body -> new status, new ETag, new version */
	snprintf(hdr, sizeof(hdr), "Event: presence\nSIP-If-Match: %s\n", second);
	assert_int_equal(pub(f, hdr, doc_busy), 200);
	assert_int_equal(f->pidf_checks, 2);
	r = presentity(f);
	assert_int_equal(r->n, 1);
	assert_true(spr_rec_presentity(r)->version > v1);
	spr_pidf_status_to_state(pub_status(r, 0), &ps);
	assert_int_equal(ps.state, SPR_PRESENCE_BUSY);
	assert_int_equal(ps.note.len, strlen("In a meeting"));
	assert_memory_equal(spr_rec_presentity(r)->p[0].etag, f->etag, SPR_ETAG_LEN);

	/* remove: SIP-If-Match with Expires 0 */
	snprintf(hdr, sizeof(hdr), "Event: presence\nSIP-If-Match: %s\nExpires: 0\n", f->etag);
	assert_int_equal(pub(f, hdr, NULL), 200);
	assert_true(reply_has(f, "Expires: 0\r\n"));
	assert_string_equal(f->etag, "");
	assert_null(presentity(f));
	assert_int_equal(f->ctx.cnt.pres.pubs_added, 1);
	assert_int_equal(f->ctx.cnt.pres.pubs_refreshed, 1);
	assert_int_equal(f->ctx.cnt.pres.pubs_modified, 1);
	assert_int_equal(f->ctx.cnt.pres.pubs_removed, 1);
	assert_int_equal(f->ctx.cnt.pres.result[SPR_PRES_UNKNOWN_ETAG], 1);
	assert_int_equal(f->ctx.cnt.pres.result[SPR_PRES_OK], 4);
}

static void
test_conditional_failures(void **state)
{
	struct fx *f = *state;
	char hdr[128];

	/* unknown ETag, nothing stored at all */
	assert_int_equal(pub(f, "Event: presence\nSIP-If-Match: AAAAAAAAAAAAAAAA\n", NULL), 412);
	/* unknown ETag with a body: refused before any XML is parsed */
	assert_int_equal(pub(f, "Event: presence\nSIP-If-Match: bogus\n", doc_open), 412);
	assert_int_equal(f->pidf_checks, 0);
	/* expired ETag */
	assert_int_equal(pub(f, "Event: presence\nExpires: 60\n", doc_open), 200);
	snprintf(hdr, sizeof(hdr), "Event: presence\nSIP-If-Match: %s\n", f->etag);
	spr_now_set(&f->now, T0 + 60);
	assert_int_equal(pub(f, hdr, NULL), 412);
	/* no body and no SIP-If-Match */
	assert_int_equal(pub(f, "Event: presence\n", NULL), 400);
	assert_true(reply_has(f, "SIP/2.0 400 PUBLISH Without Body Or SIP-If-Match\r\n"));
}

static void
test_event_media_expiry(void **state)
{
	struct fx *f = *state;

	/* Event: presence is required (RFC 3903 §6 step 3) */
	assert_int_equal(pub(f, "", doc_open), 489);
	assert_true(reply_has(f, "SIP/2.0 489 Bad Event\r\n"));
	assert_true(reply_has(f, "Allow-Events: presence\r\n"));
	assert_int_equal(pub(f, "Event: dialog\n", doc_open), 489);
	/* the body must be PIDF */
	assert_int_equal(pub(f, "Event: presence\nContent-Type: text/plain\n", "hello\n"), 415);
	assert_true(reply_has(f, "SIP/2.0 415 Unsupported Media Type\r\n"));
	assert_true(reply_has(f, "Accept: application/pidf+xml\r\n"));
	assert_int_equal(f->pidf_checks, 0);
	/* expiry as for REGISTER: 423 below the minimum, shortened above the maximum */
	assert_int_equal(pub(f, "Event: presence\nExpires: 10\n", doc_open), 423);
	assert_true(reply_has(f, "Min-Expires: 60\r\n"));
	assert_int_equal(pub(f, "Event: presence\nExpires: 99999\n", doc_open), 200);
	assert_true(reply_has(f, "Expires: 7200\r\n"));
	/* an initial publication that expires at once stores nothing */
	assert_int_equal(pub(f, "Event: presence\nExpires: 0\n", doc_open), 200);
	assert_true(reply_has(f, "Expires: 0\r\n"));
	assert_int_equal(presentity(f)->n, 1);
	/* other schemes and bare domains are no presentity */
	assert_int_equal(send_msg(f, "PUBLISH sip:example.com SIP/2.0\n"
				     "Via: SIP/2.0/UDP 192.0.2.7;branch=z9hG4bKx1\n"
				     "From: <sip:alice@example.com>;tag=1\nTo: <sip:example.com>\n"
				     "Call-ID: x1\nCSeq: 1 PUBLISH\nEvent: presence\n"
				     "SIP-If-Match: x\nContent-Length: 0\n\n"),
			 404);
	assert_int_equal(send_msg(f, "PUBLISH tel:+15551234 SIP/2.0\n"
				     "Via: SIP/2.0/UDP 192.0.2.7;branch=z9hG4bKx2\n"
				     "From: <sip:alice@example.com>;tag=1\nTo: <tel:+15551234>\n"
				     "Call-ID: x2\nCSeq: 1 PUBLISH\nEvent: presence\n"
				     "SIP-If-Match: x\nContent-Length: 0\n\n"),
			 416);
}

static void
test_pidf_faults(void **state)
{
	struct fx *f = *state;
	assert_int_equal(pub(f, "Event: presence\n", "<presence><tuple></presence>\n"), 400);
	assert_true(reply_has(f, "SIP/2.0 400 PIDF Not Well-Formed\r\n"));
	assert_int_equal(pub(f, "Event: presence\n",
			     "<presence xmlns=\"urn:example\" entity=\"pres:a@b\"/>\n"),
			 400);
	assert_true(reply_has(f, "SIP/2.0 400 PIDF Wrong Namespace\r\n"));
	assert_null(presentity(f));
	assert_int_equal(f->ctx.cnt.pres.result[SPR_PRES_PIDF_REJECTED], 2);
	assert_int_equal(f->ctx.cnt.pres.pidf_fault[SPR_PIDF_NOT_WELL_FORMED], 1);
	/* more tuples than a status holds -> 413 with the fault's reason */
	{
		char doc[4096];
		int n = snprintf(doc, sizeof(doc),
				 "<presence xmlns=\"urn:ietf:params:xml:ns:pidf\" "
				 "entity=\"pres:alice@example.com\">\n");

		for (unsigned i = 0; i <= SPR_PIDF_TUPLES_MAX; i++)
			n += snprintf(
				doc + n, sizeof(doc) - (size_t)n,
				"<tuple id=\"t%u\"><status><basic>open</basic></status></tuple>\n",
				i);
		snprintf(doc + n, sizeof(doc) - (size_t)n, "</presence>\n");
		assert_int_equal(pub(f, "Event: presence\n", doc), 413);
		assert_true(reply_has(f, "SIP/2.0 413 PIDF Too Many Tuples\r\n"));
	}
}

static void
test_max_publications(void **state)
{
	struct fx *f = *state;
	char oldest[SPR_ETAG_LEN + 1], hdr[128];
	const struct spr_record *r;

	f->pres.max_publications = 2;
	assert_int_equal(pub(f, "Event: presence\n", doc_open), 200);
	memcpy(oldest, f->etag, sizeof(oldest));
	assert_int_equal(pub(f, "Event: presence\n", doc_busy), 200);
	assert_int_equal(presentity(f)->n, 2);
	/* a third device: the least recently changed publication goes */
	assert_int_equal(pub(f, "Event: presence\n", doc_open), 200);
	r = presentity(f);
	assert_int_equal(r->n, 2);
	assert_int_equal(f->ctx.cnt.pres.pubs_dropped_oldest, 1);
	assert_memory_equal(spr_rec_presentity(r)->p[1].etag, f->etag, SPR_ETAG_LEN);
	snprintf(hdr, sizeof(hdr), "Event: presence\nSIP-If-Match: %s\n", oldest);
	assert_int_equal(pub(f, hdr, NULL), 412);
	/* entity-tags are distinct */
	assert_memory_not_equal(spr_rec_presentity(r)->p[0].etag, spr_rec_presentity(r)->p[1].etag,
				SPR_ETAG_LEN);
}

static void
test_expiry(void **state)
{
	struct fx *f = *state;
	struct spr_pres_ctx pc = spr_proc_pres_ctx(&f->ctx);
	const struct spr_record *r;
	uint64_t h;
	uint32_t v;

	assert_int_equal(pub(f, "Event: presence\nExpires: 100\n", doc_open), 200);
	assert_int_equal(pub(f, "Event: presence\nExpires: 300\n", doc_busy), 200);
	r = presentity(f);
	h = r->hash;
	v = spr_rec_presentity(r)->version;
	assert_int_equal(r->timer_at, T0 + 100);
	/* a timer left behind, the record's own (100 s) still ahead: nothing removed or asked */
	f->ctx.arm.at = 0;
	assert_int_equal(spr_pres_expire(&pc, h, T0 + 99), 0);
	assert_int_equal(f->ctx.arm.at, 0);
	assert_int_equal(presentity(f)->timer_at, T0 + 100);
	/* the first one goes, the version moves, the timer moves to the second */
	f->ctx.arm.at = 0;
	assert_int_equal(spr_pres_expire(&pc, h, T0 + 100), 1);
	r = presentity(f);
	assert_int_equal(r->n, 1);
	assert_true(spr_rec_presentity(r)->version > v);
	assert_int_equal(f->ctx.arm.at, T0 + 300);
	assert_int_equal(f->ctx.arm.kind, SPR_REC_PRESENTITY);
	assert_int_equal(spr_pres_expire(&pc, h, T0 + 300), 1);
	assert_null(presentity(f));
	assert_int_equal(f->ctx.cnt.pres.pubs_expired, 2);
	/* a timer for a presentity that is gone is harmless */
	assert_int_equal(spr_pres_expire(&pc, h, T0 + 400), 0);
}

static void
test_allow_and_stats(void **state)
{
	struct fx *f = *state;
	struct spr_loc_stats st;

	assert_int_equal(send_msg(f,
				  "INVITE sip:bob@example.com SIP/2.0\n"
				  "Via: SIP/2.0/UDP 192.0.2.7;branch=z9hG4bKi1\n"
				  "From: <sip:alice@example.com>;tag=1\nTo: <sip:bob@example.com>\n"
				  "Call-ID: i1\nCSeq: 1 INVITE\nContent-Length: 0\n\n"),
			 405);
	assert_true(reply_has(f, "Allow: REGISTER, PUBLISH, SUBSCRIBE, OPTIONS\r\n"));
	assert_int_equal(pub(f, "Event: presence\n", doc_open), 200);
	spr_loc_stats_get(f->ctx.shard, &st);
	assert_int_equal(st.presentities, 1);
	assert_int_equal(st.publications, 1);
	assert_true(st.presence_bytes > 0);
	assert_int_equal(st.aors, 0);
	assert_int_equal(f->ctx.cnt.pub_requests, 2); /* the check and the verdict */
}

/* A REGISTER of alice: contact ("*" for the wildcard) and expires. */
static int
reg(struct fx *f, const char *contact, unsigned expires)
{
	char buf[1024];
	unsigned s = ++f->seq;

	snprintf(buf, sizeof(buf),
		 "REGISTER sip:example.com SIP/2.0\n"
		 "Via: SIP/2.0/UDP 192.0.2.7:5070;branch=z9hG4bKr%u\n"
		 "Max-Forwards: 70\n"
		 "From: <sip:alice@example.com>;tag=r%u\n"
		 "To: <sip:alice@example.com>\n"
		 "Call-ID: reg-alice\n"
		 "CSeq: %u REGISTER\n"
		 "Contact: %s%s%s\n"
		 "Expires: %u\n"
		 "Content-Length: 0\n\n",
		 s, s, s, contact[0] == '*' ? "" : "<", contact, contact[0] == '*' ? "" : ">",
		 expires);
	return send_msg(f, buf);
}

/* The presence change the last call reported (then cleared, as the worker does). */
static bool
changed(struct fx *f)
{
	struct spr_str a = SPR_STR("alice@example.com");
	bool set = f->ctx.pres_changed.set;

	if (set)
		assert_true(f->ctx.pres_changed.hash == spr_loc_hash(&a));
	f->ctx.pres_changed.set = 0;
	return set;
}

/*
 * --mode b2bua: the first binding and the last one going (unregister, `*`,
 * expiry, operator removal) are presence changes when nothing is published;
 * publications mask them; p2p mode reports none.
 */
static void
test_auto_presence(void **state)
{
	struct fx *f = *state;
	struct spr_reg_ctx rc = spr_proc_reg_ctx(&f->ctx);
	struct spr_str a = SPR_STR("alice@example.com"), none = SPR_STR_NULL;
	uint64_t h = spr_loc_hash(&a);
	char hdr[128], etag[SPR_ETAG_LEN + 1];

	assert_int_equal(f->pres.mode, SPR_PRES_MODE_B2BUA); /* the default */
	assert_int_equal(reg(f, "sip:alice@192.0.2.7", 600), 200);
	assert_true(changed(f));
	assert_int_equal(f->ctx.cnt.pres.auto_open, 1);
	/* a refresh and a second device change nothing watchers see */
	assert_int_equal(reg(f, "sip:alice@192.0.2.7", 600), 200);
	assert_false(changed(f));
	assert_int_equal(reg(f, "sip:alice@192.0.2.8", 600), 200);
	assert_false(changed(f));
	/* one of two goes: still registered; the last goes: offline */
	assert_int_equal(reg(f, "sip:alice@192.0.2.8", 0), 200);
	assert_false(changed(f));
	assert_int_equal(reg(f, "sip:alice@192.0.2.7", 0), 200);
	assert_true(changed(f));
	assert_int_equal(f->ctx.cnt.pres.auto_closed, 1);
	/* a failed REGISTER changes nothing */
	assert_int_equal(reg(f, "sip:alice@192.0.2.7", 10), 423);
	assert_false(changed(f));

	/* a real publication wins: registration changes are masked, counted */
	assert_int_equal(pub(f, "Event: presence\nExpires: 600\n", doc_busy), 200);
	assert_true(changed(f)); /* the PUBLISH's own change */
	memcpy(etag, f->etag, sizeof(etag));
	assert_int_equal(reg(f, "sip:alice@192.0.2.7", 600), 200);
	assert_false(changed(f));
	assert_int_equal(f->ctx.cnt.pres.auto_masked, 1);
	/* the publication removed: a change (PUBLISH path); then `*` offline */
	snprintf(hdr, sizeof(hdr), "Event: presence\nExpires: 0\nSIP-If-Match: %s\n", etag);
	assert_int_equal(pub(f, hdr, NULL), 200);
	assert_true(changed(f));
	assert_int_equal(reg(f, "*", 0), 200);
	assert_true(changed(f));
	assert_int_equal(f->ctx.cnt.pres.auto_closed, 2);

	/* expiry on the owner's timer */
	assert_int_equal(reg(f, "sip:alice@192.0.2.7", 60), 200);
	assert_true(changed(f));
	assert_int_equal(spr_reg_expire(&rc, h, T0 + 30), 0);
	spr_proc_reg_changed(&f->ctx, T0 + 30);
	assert_false(changed(f));
	assert_int_equal(spr_reg_expire(&rc, h, T0 + 60), 1);
	spr_proc_reg_changed(&f->ctx, T0 + 60);
	assert_true(changed(f));
	assert_int_equal(f->ctx.cnt.pres.auto_closed, 3);

	/* re-registering after the binding lapsed (its timer not yet run) is open again */
	assert_int_equal(reg(f, "sip:alice@192.0.2.7", 60), 200);
	assert_true(changed(f));
	spr_now_set(&f->now, T0 + 100);
	assert_int_equal(reg(f, "sip:alice@192.0.2.8", 60), 200);
	assert_true(changed(f));
	assert_int_equal(f->ctx.cnt.pres.auto_open, 4);

	/* operator removal (sprctl ul.rm) */
	assert_int_equal(spr_reg_remove(&rc, &a, &none, T0 + 100), 1);
	spr_proc_reg_changed(&f->ctx, T0 + 100);
	assert_true(changed(f));
	assert_int_equal(f->ctx.cnt.pres.auto_closed, 4);

	/* p2p: presence without registration, nothing automatic */
	f->pres.mode = SPR_PRES_MODE_P2P;
	assert_int_equal(reg(f, "sip:alice@192.0.2.7", 600), 200);
	assert_false(changed(f));
	assert_int_equal(reg(f, "*", 0), 200);
	assert_false(changed(f));
	assert_int_equal(f->ctx.cnt.pres.auto_open, 4);
	assert_int_equal(f->ctx.cnt.pres.auto_closed, 4);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_initial_refresh_modify_remove, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_conditional_failures, setup, teardown),
		cmocka_unit_test_setup_teardown(test_event_media_expiry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pidf_faults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_max_publications, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expiry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_allow_and_stats, setup, teardown),
		cmocka_unit_test_setup_teardown(test_auto_presence, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
