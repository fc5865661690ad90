/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SUBSCRIBE (RFC 6665, RFC 3856) through spr_sip_process() with a real
 * shard: the notifier's checks, the watcher records, the events for the
 * NOTIFY engine, expiry and removal by control, and the NOTIFY branch format.
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

#include "sip_process.h"
#include "subscribe.h"
#include "testutil.h"

#define T0 1700000000u

struct fx {
	struct spr_reg_cfg reg;
	struct spr_pres_cfg pres;
	struct spr_subs_cfg subs;
	struct spr_proc_ctx ctx;
	struct spr_now now;
	struct spr_peer src;
	char out[16384];
	uint32_t out_len;
	char to_tag[32];
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	spr_reg_cfg_default(&f->reg);
	f->reg.min_expires = 60;
	f->reg.max_expires = 7200;
	spr_pres_cfg_default(&f->pres);
	spr_subs_cfg_default(&f->subs);
	f->subs.contact = SPR_STR("<sip:192.0.2.1:5060>");
	f->subs.max_watchers = 3;
	spr_sip_limits_default(&f->ctx.lim);
	f->ctx.reg_cfg = &f->reg;
	f->ctx.pres_cfg = &f->pres;
	f->ctx.subs_cfg = &f->subs;
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

/* Send text (LF turned into CRLF); returns the status code, 0 for no reply. */
static int
send_msg(struct fx *f, const char *text)
{
	uint32_t len;
	char *msg = spr_test_crlf(text, &len);
	const char *t;
	int code = 0;

	assert_non_null(msg);
	f->ctx.subs_out.n = 0;
	f->out_len =
		spr_sip_process(&f->ctx, msg, len, &f->src, &f->now, f->out, sizeof(f->out) - 1);
	free(msg);
	f->out[f->out_len] = '\0';
	if (f->out_len > 12)
		code = atoi(f->out + 8);
	f->to_tag[0] = '\0';
	if ((t = strstr(f->out, "\r\nTo: ")) != NULL && (t = strstr(t, ";tag=")) != NULL)
		snprintf(f->to_tag, sizeof(f->to_tag), "%.*s", (int)strcspn(t + 5, "\r;"), t + 5);
	return code;
}

static bool
reply_has(const struct fx *f, const char *s)
{
	return strstr(f->out, s) != NULL;
}

/* A SUBSCRIBE of alice to bob; extra headers, CSeq, From-tag, To-tag (NULL: none). */
static int
sub(struct fx *f, const char *extra, unsigned cseq, const char *ftag, const char *ttag)
{
	char msg[2048];

	snprintf(msg, sizeof(msg),
		 "SUBSCRIBE sip:bob@example.com SIP/2.0\n"
		 "Via: SIP/2.0/UDP 192.0.2.7:5070;branch=z9hG4bKs%u%s\n"
		 "Max-Forwards: 70\n"
		 "From: <sip:alice@example.com>;tag=%s\n"
		 "To: <sip:bob@example.com>%s%s\n"
		 "Call-ID: sub-%s@test\n"
		 "CSeq: %u SUBSCRIBE\n"
		 "Contact: <sip:alice@192.0.2.7:5070>\n"
		 "%s"
		 "Content-Length: 0\n\n",
		 cseq, ftag, ftag, ttag ? ";tag=" : "", ttag ? ttag : "", ftag, cseq, extra);
	return send_msg(f, msg);
}

static bool
str_is(const struct spr_str *s, const char *lit)
{
	return s->len == strlen(lit) && memcmp(s->p, lit, s->len) == 0;
}

static const struct spr_record *
watchers(struct fx *f)
{
	struct spr_str aor = SPR_STR("bob@example.com");

	return spr_loc_lookup_kind(f->ctx.shard, SPR_REC_SUBS, &aor, spr_loc_hash(&aor));
}

static void
test_checks(void **state)
{
	struct fx *f = *state;

	/* RFC 6665 §4.2.1: unknown or missing event package */
	assert_int_equal(sub(f, "Event: dialog\n", 1, "a", NULL), 489);
	assert_true(reply_has(f, "Allow-Events: presence\r\n"));
	assert_int_equal(sub(f, "", 1, "a", NULL), 489);
	/* RFC 3856 §6.6: Accept must allow PIDF */
	assert_int_equal(sub(f, "Event: presence\nAccept: application/xpidf+xml\n", 1, "a", NULL),
			 406);
	assert_true(reply_has(f, "Accept: application/pidf+xml\r\n"));
	assert_int_equal(sub(f,
			     "Event: presence\nAccept: text/plain, application/pidf+xml;q=0.5\n"
			     "Expires: 600\n",
			     1, "b", NULL),
			 200);
	assert_int_equal(
		sub(f, "Event: presence\nAccept: application/*\nExpires: 600\n", 1, "c", NULL),
		200);
	/* expiry: too brief 423 with Min-Expires; too long shortened */
	assert_int_equal(sub(f, "Event: presence\nExpires: 10\n", 1, "d", NULL), 423);
	assert_true(reply_has(f, "Min-Expires: 60\r\n"));
	assert_int_equal(sub(f, "Event: presence\nExpires: 99999\n", 1, "e", NULL), 200);
	assert_true(reply_has(f, "Expires: 7200\r\n"));
	/* nothing was stored by the refused ones */
	assert_int_equal(watchers(f)->n, 3);
	assert_int_equal(f->ctx.cnt.subs.result[SPR_SUBS_BAD_EVENT], 2);
	assert_int_equal(f->ctx.cnt.subs.result[SPR_SUBS_NOT_ACCEPTABLE], 1);
	assert_int_equal(f->ctx.cnt.subs.result[SPR_SUBS_TOO_BRIEF], 1);
	/* past max_watchers: 503 */
	assert_int_equal(sub(f, "Event: presence\n", 1, "f", NULL), 503);
	/* a new dialog needs a Contact */
	assert_int_equal(
		send_msg(f, "SUBSCRIBE sip:bob@example.com SIP/2.0\n"
			    "Via: SIP/2.0/UDP 192.0.2.7;branch=z9hG4bKnc\n"
			    "From: <sip:alice@example.com>;tag=nc\nTo: <sip:bob@example.com>\n"
			    "Call-ID: nc\nCSeq: 1 SUBSCRIBE\nEvent: presence\n"
			    "Content-Length: 0\n\n"),
		400);
	/* not a presentity */
	assert_int_equal(send_msg(f, "SUBSCRIBE tel:+15551234 SIP/2.0\n"
				     "Via: SIP/2.0/UDP 192.0.2.7;branch=z9hG4bKt\n"
				     "From: <sip:alice@example.com>;tag=t\nTo: <tel:+15551234>\n"
				     "Call-ID: t\nCSeq: 1 SUBSCRIBE\nEvent: presence\n"
				     "Contact: <sip:a@192.0.2.7>\nContent-Length: 0\n\n"),
			 416);
}

static void
test_dialog_lifecycle(void **state)
{
	struct fx *f = *state;
	const struct spr_record *r;
	const struct spr_watcher *w;
	char tag[32];
	uint64_t id;

	/* a new dialog: 200 with our To-tag, Expires (default 3600) and Contact */
	assert_int_equal(sub(f,
			     "Event: presence\nRecord-Route: <sip:p1.example.com;lr>\n"
			     "Record-Route: <sip:p2.example.com;lr>\n",
			     1, "a1", NULL),
			 200);
	assert_int_equal(strlen(f->to_tag), 16);
	snprintf(tag, sizeof(tag), "%s", f->to_tag);
	assert_true(reply_has(f, "Expires: 3600\r\n"));
	assert_true(reply_has(f, "Contact: <sip:192.0.2.1:5060>\r\n"));
	assert_int_equal(f->ctx.subs_out.n, 1);
	assert_int_equal(f->ctx.subs_out.ev[0].type, SPR_SUBS_EV_CREATED);
	id = f->ctx.subs_out.ev[0].id;
	r = watchers(f);
	assert_non_null(r);
	assert_int_equal(spr_rec_kind(r), SPR_REC_SUBS);
	assert_int_equal(r->n, 1);
	w = &spr_rec_watchers(r)[0];
	assert_int_equal(w->id, id);
	assert_int_equal(w->expires_at, T0 + 3600);
	assert_memory_equal(w->to_tag, tag, 16);
	assert_int_equal(w->src_port, 5070);
	{
		struct spr_str route = spr_rec_str(r, w->s[SPR_WS_ROUTE]);
		struct spr_str target = spr_rec_str(r, w->s[SPR_WS_TARGET]);
		struct spr_str remote = spr_rec_str(r, w->s[SPR_WS_REMOTE]);

		/* RFC 3261 §12.1.1: the UAS keeps Record-Route in order */
		assert_true(str_is(&route, "<sip:p1.example.com;lr>, <sip:p2.example.com;lr>"));
		assert_true(str_is(&target, "sip:alice@192.0.2.7:5070"));
		assert_true(str_is(&remote, "<sip:alice@example.com>;tag=a1"));
	}
	assert_int_equal(f->ctx.arm.kind, SPR_REC_SUBS);
	assert_int_equal(f->ctx.arm.at, T0 + 3600);

	/* a retransmission of the initial SUBSCRIBE: same tag, nothing new */
	assert_int_equal(sub(f, "Event: presence\n", 1, "a1", NULL), 200);
	assert_string_equal(f->to_tag, tag);
	assert_int_equal(f->ctx.subs_out.n, 0);
	assert_int_equal(watchers(f)->n, 1);
	assert_int_equal(f->ctx.cnt.subs.retransmissions, 1);

	/* in-dialog refresh (To-tag ours): 200, REFRESHED, new expiry */
	spr_now_set(&f->now, T0 + 100);
	assert_int_equal(sub(f, "Event: presence\nExpires: 600\n", 2, "a1", tag), 200);
	assert_true(reply_has(f, "Expires: 600\r\n"));
	assert_int_equal(f->ctx.subs_out.n, 1);
	assert_int_equal(f->ctx.subs_out.ev[0].type, SPR_SUBS_EV_REFRESHED);
	assert_int_equal(f->ctx.subs_out.ev[0].id, id);
	assert_int_equal(spr_rec_watchers(watchers(f))[0].expires_at, T0 + 700);
	/* a lower CSeq is refused */
	assert_int_equal(sub(f, "Event: presence\n", 1, "a1", tag), 500);

	/* unknown dialog: 481 */
	assert_int_equal(sub(f, "Event: presence\n", 3, "a1", "0123456789abcdef"), 481);
	assert_int_equal(sub(f, "Event: presence\n", 3, "zz", tag), 481);

	/* unsubscribe: 200 Expires 0, ENDED (unsubscribed), record gone */
	assert_int_equal(sub(f, "Event: presence\nExpires: 0\n", 3, "a1", tag), 200);
	assert_true(reply_has(f, "Expires: 0\r\n"));
	assert_int_equal(f->ctx.subs_out.n, 1);
	assert_int_equal(f->ctx.subs_out.ev[0].type, SPR_SUBS_EV_ENDED);
	assert_int_equal(f->ctx.subs_out.ev[0].reason, SPR_SUBS_END_UNSUBSCRIBED);
	assert_int_equal(f->ctx.subs_out.ev[0].id, id);
	assert_null(watchers(f));
	assert_int_equal(f->ctx.cnt.subs.unsubscribed, 1);
	/* and the dialog is gone */
	assert_int_equal(sub(f, "Event: presence\n", 4, "a1", tag), 481);
}

/*
 * A fetch (RFC 6665 §4.4.3: Expires 0, no dialog): 200 Expires 0, no
 * subscription, its dialog kept (flagged) for control's one NOTIFY until
 * control removes it; in-dialog requests never find it.
 */
static void
test_fetch(void **state)
{
	struct fx *f = *state;
	struct spr_subs_ctx sc = spr_proc_subs_ctx(&f->ctx);
	const struct spr_watcher *w;
	char tag[32];
	uint64_t id, h;

	assert_int_equal(sub(f, "Event: presence\nExpires: 0\n", 1, "fe", NULL), 200);
	assert_true(reply_has(f, "Expires: 0\r\n"));
	snprintf(tag, sizeof(tag), "%s", f->to_tag);
	assert_int_equal(f->ctx.cnt.subs.fetches, 1);
	assert_int_equal(f->ctx.cnt.subs.created, 0);
	/* control is told, as for a subscription: it reads the dialog from the store */
	assert_int_equal(f->ctx.subs_out.n, 1);
	assert_int_equal(f->ctx.subs_out.ev[0].type, SPR_SUBS_EV_CREATED);
	id = f->ctx.subs_out.ev[0].id;
	assert_non_null(watchers(f));
	w = &spr_rec_watchers(watchers(f))[0];
	assert_true(w->flags & SPR_WATCHER_FETCH);
	assert_int_equal(w->expires_at, T0 + SPR_SUBS_FETCH_TTL);
	h = watchers(f)->hash;
	/* a retransmission is answered the same, nothing new */
	assert_int_equal(sub(f, "Event: presence\nExpires: 0\n", 1, "fe", NULL), 200);
	assert_true(reply_has(f, "Expires: 0\r\n"));
	assert_string_equal(f->to_tag, tag);
	assert_int_equal(f->ctx.subs_out.n, 0);
	assert_int_equal(watchers(f)->n, 1);
	/* no subscription: an in-dialog refresh or unsubscribe is 481 */
	assert_int_equal(sub(f, "Event: presence\n", 2, "fe", tag), 481);
	assert_int_equal(sub(f, "Event: presence\nExpires: 0\n", 2, "fe", tag), 481);
	/* a real subscription in the same dialog afterwards is new, and the one found in-dialog */
	assert_int_equal(sub(f, "Event: presence\n", 2, "fe", NULL), 200);
	assert_int_equal(f->ctx.subs_out.n, 1);
	assert_true(f->ctx.subs_out.ev[0].id != id);
	assert_int_equal(watchers(f)->n, 2);
	assert_int_equal(sub(f, "Event: presence\n", 3, "fe", tag), 200);
	assert_int_equal(f->ctx.subs_out.ev[0].type, SPR_SUBS_EV_REFRESHED);
	/* control copied the fetch's dialog and removes it: counted apart from removals */
	assert_int_equal(spr_subs_remove(&sc, h, id, T0 + 1), 0);
	assert_int_equal(f->ctx.cnt.subs.fetches_done, 1);
	assert_int_equal(f->ctx.cnt.subs.removed, 0);
	assert_int_equal(watchers(f)->n, 1);
	/* had control never removed it, it lapses with no ENDED event */
	assert_int_equal(sub(f, "Event: presence\nExpires: 0\n", 1, "f2", NULL), 200);
	f->ctx.subs_out.n = 0;
	assert_int_equal(spr_subs_expire(&sc, h, T0 + SPR_SUBS_FETCH_TTL), 1);
	assert_int_equal(f->ctx.subs_out.n, 0);
	assert_int_equal(watchers(f)->n, 1);
}

static void
test_expiry_and_remove(void **state)
{
	struct fx *f = *state;
	struct spr_subs_ctx sc = spr_proc_subs_ctx(&f->ctx);
	uint64_t h, id2;

	assert_int_equal(sub(f, "Event: presence\nExpires: 100\n", 1, "x1", NULL), 200);
	assert_int_equal(sub(f, "Event: presence\nExpires: 300\n", 1, "x2", NULL), 200);
	id2 = f->ctx.subs_out.ev[0].id;
	h = watchers(f)->hash;
	/* a timer left behind, the record's own (100 s) still ahead: nothing removed or asked */
	f->ctx.subs_out.n = 0;
	f->ctx.arm.at = 0;
	assert_int_equal(spr_subs_expire(&sc, h, T0 + 99), 0);
	assert_int_equal(f->ctx.arm.at, 0);
	assert_int_equal(watchers(f)->timer_at, T0 + 100);
	/* the first goes with an ENDED timeout event; the timer moves to the second */
	f->ctx.arm.at = 0;
	assert_int_equal(spr_subs_expire(&sc, h, T0 + 100), 1);
	assert_int_equal(f->ctx.subs_out.n, 1);
	assert_int_equal(f->ctx.subs_out.ev[0].type, SPR_SUBS_EV_ENDED);
	assert_int_equal(f->ctx.subs_out.ev[0].reason, SPR_SUBS_END_TIMEOUT);
	assert_int_equal(f->ctx.arm.at, T0 + 300);
	assert_int_equal(watchers(f)->n, 1);
	/* control removes the second (its NOTIFY got 481): no event */
	f->ctx.subs_out.n = 0;
	assert_int_equal(spr_subs_remove(&sc, h, id2, T0 + 101), 0);
	assert_int_equal(f->ctx.subs_out.n, 0);
	assert_null(watchers(f));
	assert_int_equal(spr_subs_remove(&sc, h, id2, T0 + 101), -ENOENT);
	assert_int_equal(f->ctx.cnt.subs.expired, 1);
	assert_int_equal(f->ctx.cnt.subs.removed, 1);
}

/* A SUBSCRIBE of alice to the list sip:buddies@example.com; extra headers, CSeq, To-tag. */
static int
list_sub(struct fx *f, const char *extra, unsigned cseq, const char *ttag)
{
	char msg[2048];

	snprintf(msg, sizeof(msg),
		 "SUBSCRIBE sip:buddies@example.com SIP/2.0\n"
		 "Via: SIP/2.0/UDP 192.0.2.7:5070;branch=z9hG4bKl%u\n"
		 "From: <sip:alice@example.com>;tag=la\n"
		 "To: <sip:buddies@example.com>%s%s\n"
		 "Call-ID: list@test\nCSeq: %u SUBSCRIBE\n"
		 "Contact: <sip:alice@192.0.2.7:5070>\nEvent: presence\n%s"
		 "Content-Length: 0\n\n",
		 cseq, ttag ? ";tag=" : "", ttag ? ttag : "", cseq, extra);
	return send_msg(f, msg);
}

/* RFC 4662 §4.4: list subscriptions need eventlist; their watcher is marked a list. */
static void
test_list_subscription(void **state)
{
	struct fx *f = *state;
	struct spr_str aor = SPR_STR("buddies@example.com");
	const struct spr_record *r;
	char tag[32];

	/* no Supported: eventlist: 421 with Require: eventlist, nothing stored */
	assert_int_equal(list_sub(f, "", 1, NULL), 421);
	assert_true(reply_has(f, " 421 Extension Required\r\n"));
	assert_true(reply_has(f, "\r\nRequire: eventlist\r\n"));
	assert_int_equal(f->ctx.subs_out.n, 0);
	/* an Accept without multipart/related: 406 naming what a list sends */
	assert_int_equal(
		list_sub(f, "Supported: eventlist\nAccept: application/pidf+xml\n", 1, NULL), 406);
	assert_true(reply_has(f, "Accept: multipart/related, application/rlmi+xml, "
				 "application/pidf+xml\r\n"));
	/* Supported (or Require) eventlist: 200 with Require: eventlist, a list watcher */
	assert_int_equal(list_sub(f,
				  "Supported: 100rel, eventlist\nAccept: application/pidf+xml, "
				  "multipart/related, application/rlmi+xml\n",
				  1, NULL),
			 200);
	assert_true(reply_has(f, "\r\nRequire: eventlist\r\n"));
	snprintf(tag, sizeof(tag), "%s", f->to_tag);
	assert_int_equal(f->ctx.subs_out.n, 1);
	assert_int_equal(f->ctx.subs_out.ev[0].type, SPR_SUBS_EV_CREATED);
	r = spr_loc_lookup_kind(f->ctx.shard, SPR_REC_SUBS, &aor, spr_loc_hash(&aor));
	assert_non_null(r);
	assert_int_equal(r->n, 1);
	assert_int_equal(spr_rec_watchers(r)[0].flags, SPR_WATCHER_LIST);
	assert_int_equal(f->ctx.cnt.subs.list_created, 1);
	/* a refresh in the dialog keeps the mark and the Require, Supported or not */
	assert_int_equal(list_sub(f, "Expires: 600\n", 2, tag), 200);
	assert_true(reply_has(f, "\r\nRequire: eventlist\r\n"));
	r = spr_loc_lookup_kind(f->ctx.shard, SPR_REC_SUBS, &aor, spr_loc_hash(&aor));
	assert_int_equal(spr_rec_watchers(r)[0].flags, SPR_WATCHER_LIST);
	/* Require: eventlist on a list: accepted; on a presentity: 420 Unsupported */
	assert_int_equal(send_msg(f,
				  "SUBSCRIBE sip:buddies@example.com SIP/2.0\n"
				  "Via: SIP/2.0/UDP 192.0.2.7;branch=z9hG4bKr1\n"
				  "From: <sip:carol@example.com>;tag=c\n"
				  "To: <sip:buddies@example.com>\nCall-ID: rq1\nCSeq: 1 SUBSCRIBE\n"
				  "Contact: <sip:c@192.0.2.7>\nEvent: presence\n"
				  "Require: eventlist\nContent-Length: 0\n\n"),
			 200);
	assert_int_equal(sub(f, "Event: presence\nRequire: eventlist\n", 1, "rq", NULL), 420);
	assert_true(reply_has(f, "Unsupported: eventlist\r\n"));
	/* a presentity's 200 has no Require; another user part is not a list */
	assert_int_equal(sub(f, "Event: presence\nSupported: eventlist\n", 1, "p", NULL), 200);
	assert_false(reply_has(f, "Require:"));
	assert_int_equal(watchers(f)->n, 1);
	assert_int_equal(spr_rec_watchers(watchers(f))[0].flags, 0);
	assert_int_equal(f->ctx.cnt.subs.result[SPR_SUBS_EXTENSION_REQUIRED], 1);
}

static void
test_branch(void **state)
{
	char b[SPR_NOTIFY_BRANCH_LEN];
	struct spr_str s = {b, sizeof(b)};
	uint64_t id = 0;
	uint32_t check = 0;

	(void)state;
	spr_notify_branch_write(b, 0x0123456789abcdefULL, 0xdeadbeef);
	assert_memory_equal(b, "z9hG4bKspr0123456789abcdefdeadbeef", sizeof(b));
	assert_true(spr_notify_branch_parse(&s, &id, &check));
	assert_true(id == 0x0123456789abcdefULL);
	assert_int_equal(check, 0xdeadbeef);
	s.len--;
	assert_false(spr_notify_branch_parse(&s, &id, &check));
	s = (struct spr_str)SPR_STR("z9hG4bKspr0123456789abcdefdeadbeeg");
	assert_false(spr_notify_branch_parse(&s, &id, &check));
}

/* A new SUBSCRIBE to bob from the watcher URI from (From-tag ftag). */
static int
sub_from(struct fx *f, const char *from, const char *ftag, const char *extra)
{
	char msg[2048];

	snprintf(msg, sizeof(msg),
		 "SUBSCRIBE sip:bob@example.com SIP/2.0\n"
		 "Via: SIP/2.0/UDP 192.0.2.7:5070;branch=z9hG4bKf%s\n"
		 "Max-Forwards: 70\n"
		 "From: <%s>;tag=%s\n"
		 "To: <sip:bob@example.com>\n"
		 "Call-ID: from-%s@test\n"
		 "CSeq: 1 SUBSCRIBE\n"
		 "Contact: <sip:w@192.0.2.7:5070>\n"
		 "Event: presence\n%s"
		 "Content-Length: 0\n\n",
		 ftag, from, ftag, ftag, extra);
	return send_msg(f, msg);
}

/* REGISTER aor (user@domain) for expires seconds into shard s. */
static void
register_in(struct fx *f, struct spr_loc_shard *s, const char *aor, unsigned expires)
{
	struct spr_loc_shard *own = f->ctx.shard;
	static unsigned seq;
	char msg[1024];

	seq++;
	snprintf(msg, sizeof(msg),
		 "REGISTER sip:example.com SIP/2.0\n"
		 "Via: SIP/2.0/UDP 192.0.2.7:5070;branch=z9hG4bKr%u\n"
		 "From: <sip:%s>;tag=r\nTo: <sip:%s>\nCall-ID: reg-%s\nCSeq: %u REGISTER\n"
		 "Contact: <sip:w@192.0.2.7:5070>\nExpires: %u\nContent-Length: 0\n\n",
		 seq, aor, aor, aor, seq, expires);
	f->ctx.shard = s;
	if (send_msg(f, msg) != 200)
		fail_msg("%s", f->out);
	f->ctx.shard = own;
}

/* --presence-policy: open, same-domain (the default), registered (any shard). */
static void
test_policy(void **state)
{
	struct fx *f = *state;
	struct spr_loc_shard *other = spr_loc_shard_create(1, 64);
	struct spr_loc_shard *shards[2] = {f->ctx.shard, other};
	char aor[64], tag[32];
	int n;

	assert_non_null(other);
	f->subs.max_watchers = 64;
	/* same-domain: the From host is the presentity's domain, case aside */
	assert_int_equal(f->subs.policy, SPR_SUBS_POLICY_SAME_DOMAIN);
	assert_int_equal(sub_from(f, "sip:carol@EXAMPLE.com", "s1", ""), 200);
	assert_int_equal(sub_from(f, "sip:mallory@example.org", "s2", ""), 403);
	assert_true(reply_has(f, "SIP/2.0 403 Watcher Domain Not Authorised\r\n"));
	assert_int_equal(sub_from(f, "tel:+15551234", "s3", ""), 403);
	/* a fetch is a new subscription too */
	assert_int_equal(sub_from(f, "sip:mallory@example.org", "s4", "Expires: 0\n"), 403);
	assert_int_equal(f->ctx.cnt.subs.result[SPR_SUBS_WATCHER_DOMAIN], 3);
	assert_int_equal(watchers(f)->n, 1);

	/* open: anyone */
	f->subs.policy = SPR_SUBS_POLICY_OPEN;
	assert_int_equal(sub_from(f, "sip:mallory@example.org", "o1", ""), 200);
	snprintf(tag, sizeof(tag), "%s", f->to_tag);
	/* an in-dialog refresh is not judged again */
	f->subs.policy = SPR_SUBS_POLICY_SAME_DOMAIN;
	{
		char msg[1024];

		snprintf(msg, sizeof(msg),
			 "SUBSCRIBE sip:192.0.2.1:5060 SIP/2.0\n"
			 "Via: SIP/2.0/UDP 192.0.2.7:5070;branch=z9hG4bKo2\n"
			 "From: <sip:mallory@example.org>;tag=o1\n"
			 "To: <sip:bob@example.com>;tag=%s\n"
			 "Call-ID: from-o1@test\nCSeq: 2 SUBSCRIBE\n"
			 "Contact: <sip:w@192.0.2.7:5070>\nEvent: presence\nContent-Length: 0\n\n",
			 tag);
		assert_int_equal(send_msg(f, msg), 200);
	}

	/* registered: the watcher's AOR needs a live binding, in whichever shard owns it */
	f->subs.policy = SPR_SUBS_POLICY_REGISTERED;
	f->ctx.shards = shards;
	f->ctx.n_shards = 2;
	assert_int_equal(sub_from(f, "sip:carol@example.com", "r1", ""), 403);
	assert_true(reply_has(f, "SIP/2.0 403 Watcher Not Registered\r\n"));
	/* a user whose AOR hashes to the other shard */
	for (n = 0; n < 1000; n++) {
		struct spr_str a;

		snprintf(aor, sizeof(aor), "w%d@example.org", n);
		a = (struct spr_str){aor, (uint32_t)strlen(aor)};
		if (spr_loc_hash(&a) % 2 == 1)
			break;
	}
	assert_true(n < 1000);
	/* registered in the wrong shard: not found there, so not registered */
	register_in(f, f->ctx.shard, aor, 600);
	snprintf(tag, sizeof(tag), "sip:%s", aor);
	assert_int_equal(sub_from(f, tag, "r2", ""), 403);
	register_in(f, other, aor, 600);
	assert_int_equal(sub_from(f, tag, "r3", ""), 200);
	/* a lapsed binding does not count */
	spr_now_set(&f->now, T0 + 600);
	assert_int_equal(sub_from(f, tag, "r4", ""), 403);
	assert_int_equal(f->ctx.cnt.subs.result[SPR_SUBS_WATCHER_NOT_REGISTERED], 3);
	f->ctx.shards = NULL;
	f->ctx.n_shards = 0;
	spr_loc_shard_destroy(other);
}

/* The stored Event id of watcher i. */
static bool
event_id_is(struct fx *f, uint32_t i, const char *id)
{
	const struct spr_record *r = watchers(f);
	struct spr_str v = spr_rec_str(r, spr_rec_watchers(r)[i].s[SPR_WS_EVENT_ID]);

	return str_is(&v, id);
}

/*
 * RFC 6665 §4.1.2 / §8.2.1: the Event id is part of a subscription's
 * identity: one dialog may hold several subscriptions, each found by its id.
 */
static void
test_event_id(void **state)
{
	struct fx *f = *state;
	const struct spr_watcher *ws;
	char tag[32];
	uint64_t a1, c3;

	assert_int_equal(sub(f, "Event: presence;id=a1\nRecord-Route: <sip:p1.example.com;lr>\n",
			     1, "d", NULL),
			 200);
	snprintf(tag, sizeof(tag), "%s", f->to_tag);
	a1 = f->ctx.subs_out.ev[0].id;
	assert_true(event_id_is(f, 0, "a1"));
	assert_false(spr_rec_watchers(watchers(f))[0].flags & SPR_WATCHER_SHARED);
	/* the same dialog (no To-tag yet) with another id: a second subscription, sharing it */
	assert_int_equal(sub(f, "Event: presence;id=b2\n", 2, "d", NULL), 200);
	assert_string_equal(f->to_tag, tag);
	assert_int_equal(f->ctx.subs_out.n, 1);
	assert_int_equal(f->ctx.subs_out.ev[0].type, SPR_SUBS_EV_CREATED);
	assert_int_equal(watchers(f)->n, 2);
	assert_true(event_id_is(f, 1, "b2"));
	assert_true(spr_rec_watchers(watchers(f))[1].flags & SPR_WATCHER_SHARED);
	/* a retransmission of the first is still one */
	assert_int_equal(sub(f, "Event: presence;id=a1\n", 1, "d", NULL), 200);
	assert_int_equal(f->ctx.subs_out.n, 0);
	assert_int_equal(f->ctx.cnt.subs.retransmissions, 1);
	/* in-dialog: the id picks the subscription a refresh is for */
	assert_int_equal(sub(f, "Event: presence;id=a1\nExpires: 600\n", 3, "d", tag), 200);
	assert_int_equal(f->ctx.subs_out.ev[0].type, SPR_SUBS_EV_REFRESHED);
	assert_true(f->ctx.subs_out.ev[0].id == a1);
	/* in-dialog with a new id: a new subscription in that dialog, its route set kept */
	assert_int_equal(sub(f, "Event: presence;id=c3\n", 4, "d", tag), 200);
	assert_int_equal(f->ctx.subs_out.ev[0].type, SPR_SUBS_EV_CREATED);
	c3 = f->ctx.subs_out.ev[0].id;
	assert_int_equal(watchers(f)->n, 3);
	ws = spr_rec_watchers(watchers(f));
	assert_true(ws[2].id == c3);
	assert_true(event_id_is(f, 2, "c3"));
	assert_true(ws[2].flags & SPR_WATCHER_SHARED);
	assert_memory_equal(ws[2].to_tag, tag, 16);
	{
		struct spr_str route = spr_rec_str(watchers(f), ws[2].s[SPR_WS_ROUTE]);
		struct spr_str local = spr_rec_str(watchers(f), ws[2].s[SPR_WS_LOCAL]);

		assert_true(str_is(&route, "<sip:p1.example.com;lr>"));
		assert_true(str_is(&local, "<sip:bob@example.com>"));
	}
	/* unsubscribing one id ends that one only */
	assert_int_equal(sub(f, "Event: presence;id=b2\nExpires: 0\n", 5, "d", tag), 200);
	assert_int_equal(f->ctx.subs_out.n, 1);
	assert_int_equal(f->ctx.subs_out.ev[0].type, SPR_SUBS_EV_ENDED);
	assert_int_equal(watchers(f)->n, 2);
	/* an id the dialog never had, to unsubscribe; or any id in an unknown dialog: 481 */
	assert_int_equal(sub(f, "Event: presence;id=zz\nExpires: 0\n", 6, "d", tag), 481);
	assert_int_equal(sub(f, "Event: presence;id=a1\n", 6, "d", "0123456789abcdef"), 481);
	assert_int_equal(watchers(f)->n, 2);
}

/* The presentity's pages (every SUBS record of bob's hash), their watchers summed. */
static uint32_t
pages_of(struct fx *f, const struct spr_record **recs, uint32_t *total)
{
	struct spr_str aor = SPR_STR("bob@example.com");
	uint32_t n = spr_loc_lookup_hash_kind(f->ctx.shard, SPR_REC_SUBS, spr_loc_hash(&aor), recs,
					      SPR_SUBS_RECS_MAX);

	*total = 0;
	for (uint32_t k = 0; k < n; k++) {
		assert_true(recs[k]->n >= 1 && recs[k]->n <= SPR_SUBS_PAGE_MAX);
		for (uint32_t j = 0; j < k; j++)
			assert_int_not_equal(spr_rec_page(recs[j]), spr_rec_page(recs[k]));
		*total += recs[k]->n;
	}
	return n;
}

/* The page holding subscription id, or NULL. */
static const struct spr_record *
page_with(const struct spr_record *const *recs, uint32_t n, uint64_t id)
{
	for (uint32_t k = 0; k < n; k++)
		for (uint32_t i = 0; i < recs[k]->n; i++)
			if (spr_rec_watchers(recs[k])[i].id == id)
				return recs[k];
	return NULL;
}

/*
 * Many watchers of one presentity: pages of at most SPR_SUBS_PAGE_MAX, a
 * SUBSCRIBE rewrites one page only, dialogs are found in any page, the cap
 * still gives 503, and expiry works through every page in bounded steps.
 */
static void
test_many_pages(void **state)
{
	enum { N = 1000 };
	struct fx *f = *state;
	struct spr_subs_ctx sc = spr_proc_subs_ctx(&f->ctx);
	static const struct spr_record *recs[SPR_SUBS_RECS_MAX], *before[SPR_SUBS_RECS_MAX];
	static uint64_t ids[N];
	static char tags[N][32];
	struct spr_loc_stats st;
	const struct spr_record *pg;
	uint32_t np, total, nb, changed, removed, steps, last_at = 0;
	char ftag[16];
	uint64_t h;

	f->subs.max_watchers = N;
	for (uint32_t i = 0; i < N; i++) {
		snprintf(ftag, sizeof(ftag), "m%u", i);
		assert_int_equal(sub(f, "Event: presence\nExpires: 600\n", 1, ftag, NULL), 200);
		assert_int_equal(f->ctx.subs_out.n, 1);
		ids[i] = f->ctx.subs_out.ev[0].id;
		snprintf(tags[i], sizeof(tags[i]), "%s", f->to_tag);
	}
	np = pages_of(f, recs, &total);
	assert_int_equal(total, N);
	assert_int_equal(np, (N + SPR_SUBS_PAGE_MAX - 1) / SPR_SUBS_PAGE_MAX);
	h = recs[0]->hash;
	spr_loc_stats_get(f->ctx.shard, &st);
	assert_int_equal(st.watchers, N);
	assert_int_equal(st.watched, np);
	/* past the cap: 503, nothing stored */
	assert_int_equal(sub(f, "Event: presence\n", 1, "over", NULL), 503);
	assert_true(reply_has(f, "SIP/2.0 503 Too Many Watchers\r\n"));
	assert_int_equal(f->ctx.cnt.subs.result[SPR_SUBS_TOO_MANY_WATCHERS], 1);

	/* refresh of a watcher in a middle page: found there, only that page rewritten */
	memcpy(before, recs, sizeof(before));
	nb = np;
	pg = page_with(recs, np, ids[N / 2]);
	assert_non_null(pg);
	spr_now_set(&f->now, T0 + 100);
	assert_int_equal(sub(f, "Event: presence\nExpires: 600\n", 2, "m500", tags[N / 2]), 200);
	assert_int_equal(f->ctx.subs_out.n, 1);
	assert_int_equal(f->ctx.subs_out.ev[0].type, SPR_SUBS_EV_REFRESHED);
	assert_true(f->ctx.subs_out.ev[0].id == ids[N / 2]);
	np = pages_of(f, recs, &total);
	assert_int_equal(np, nb);
	assert_int_equal(total, N);
	changed = 0;
	for (uint32_t k = 0; k < np; k++) {
		uint32_t j;

		for (j = 0; j < nb && before[j] != recs[k]; j++)
			;
		changed += j == nb;
	}
	assert_int_equal(changed, 1);
	pg = page_with(recs, np, ids[N / 2]);
	for (uint32_t i = 0; i < pg->n; i++)
		if (spr_rec_watchers(pg)[i].id == ids[N / 2])
			assert_int_equal(spr_rec_watchers(pg)[i].expires_at, T0 + 700);
	/* a retransmitted initial SUBSCRIBE of the last one: same tag, nothing new */
	assert_int_equal(sub(f, "Event: presence\n", 1, "m999", NULL), 200);
	assert_string_equal(f->to_tag, tags[N - 1]);
	assert_int_equal(f->ctx.subs_out.n, 0);
	/* a dialog in the first page, and an unknown one */
	assert_int_equal(sub(f, "Event: presence\nExpires: 600\n", 2, "m0", tags[0]), 200);
	assert_true(f->ctx.subs_out.ev[0].id == ids[0]);
	assert_int_equal(sub(f, "Event: presence\n", 2, "m0", "0123456789abcdef"), 481);

	/* unsubscribe in a middle page: that page compacts, the room is used again */
	assert_int_equal(sub(f, "Event: presence\nExpires: 0\n", 2, "m400", tags[400]), 200);
	assert_int_equal(f->ctx.subs_out.ev[0].type, SPR_SUBS_EV_ENDED);
	assert_true(f->ctx.subs_out.ev[0].id == ids[400]);
	np = pages_of(f, recs, &total);
	assert_int_equal(total, N - 1);
	assert_null(page_with(recs, np, ids[400]));
	assert_int_equal(sub(f, "Event: presence\nExpires: 600\n", 1, "again", NULL), 200);
	assert_int_equal(pages_of(f, recs, &total), np);
	assert_int_equal(total, N);
	assert_int_equal(sub(f, "Event: presence\n", 1, "over2", NULL), 503);
	/* control removes one (its NOTIFY got 481) */
	assert_int_equal(spr_subs_remove(&sc, h, ids[10], T0 + 100), 0);
	assert_int_equal(spr_subs_remove(&sc, h, ids[10], T0 + 100), -ENOENT);
	np = pages_of(f, recs, &total);
	assert_int_equal(total, N - 1);

	/*
	 * Expiry at T0 + 600: all but the two refreshed ones (T0 + 700) and the
	 * one made at T0 + 100. Each step stops before events would overflow the
	 * output and asks for the timer at once; bounded steps.
	 */
	removed = 0;
	for (steps = 0; steps < 200; steps++) {
		uint32_t r;

		f->ctx.subs_out.n = 0;
		f->ctx.arm.at = 0;
		r = spr_subs_expire(&sc, h, T0 + 600);
		assert_true(f->ctx.subs_out.n <= SPR_SUBS_PAGE_MAX + 1);
		assert_int_equal(f->ctx.subs_out.n, r);
		removed += r;
		if (r == 0)
			break;
		assert_int_equal(f->ctx.arm.kind, SPR_REC_SUBS);
		assert_true(f->ctx.arm.at == T0 + 600 || f->ctx.arm.at == T0 + 700);
		last_at = f->ctx.arm.at;
	}
	assert_true(steps > 1 && steps < 200);
	assert_int_equal(removed, N - 1 - 3);
	np = pages_of(f, recs, &total);
	assert_int_equal(total, 3);
	assert_int_equal(last_at, T0 + 700); /* the next timer: the earliest left */
	/* the last EXPIRE removed nothing and asked nothing: that timer covers it */
	assert_int_equal(f->ctx.arm.at, 0);
	for (uint32_t k = 0; k < np; k++)
		assert_int_equal(recs[k]->timer_at, T0 + 700);
	assert_int_equal(f->ctx.cnt.subs.expired, N - 1 - 3);
	/* every page left has that timer; the rest expire then */
	f->ctx.subs_out.n = 0;
	assert_int_equal(spr_subs_expire(&sc, h, T0 + 700), 3);
	assert_int_equal(pages_of(f, recs, &total), 0);
	assert_null(watchers(f));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_checks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dialog_lifecycle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expiry_and_remove, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fetch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_policy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_subscription, setup, teardown),
		cmocka_unit_test_setup_teardown(test_event_id, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_pages, setup, teardown),
		cmocka_unit_test(test_branch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
