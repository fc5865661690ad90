/* SPDX-License-Identifier: BSD-3-Clause */
/* RFC 3261 §10.3 rule by rule, through spr_sip_process() with a real shard. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "registrar.h"
#include "sip_process.h"
#include "testutil.h"

struct fx {
	struct spr_reg_cfg cfg;
	struct spr_proc_ctx ctx;
	struct spr_now now;
	struct spr_peer src;
	char out[16384];
	uint32_t out_len;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	spr_reg_cfg_default(&f->cfg);
	spr_sip_limits_default(&f->ctx.lim);
	f->ctx.reg_cfg = &f->cfg;
	f->ctx.reply.server = SPR_STR("sprd-test");
	f->ctx.shard = spr_loc_shard_create(0, 64);
	if (f->ctx.shard == NULL)
		return -1;
	spr_now_set(&f->now, 1700000000);
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

/* Send text (LF line ends turned into CRLF); returns the status code, 0 for no reply. */
static int
send_msg(struct fx *f, const char *text)
{
	uint32_t len;
	char *msg = spr_test_crlf(text, &len);

	assert_non_null(msg);
	f->out_len = spr_sip_process(&f->ctx, msg, len, &f->src, &f->now, f->out,
				     sizeof(f->out) - 1);
	free(msg);
	f->out[f->out_len] = '\0';
	if (f->out_len < 12)
		return 0;
	return atoi(f->out + 8);
}

/* A REGISTER for alice@example.com with the given Call-ID, CSeq and extra headers. */
static int
reg(struct fx *f, const char *call_id, unsigned cseq, const char *headers)
{
	char buf[8192];

	snprintf(buf, sizeof(buf),
		 "REGISTER sip:example.com SIP/2.0\n"
		 "Via: SIP/2.0/UDP 192.0.2.7:5070;branch=z9hG4bK%u%s;rport\n"
		 "Max-Forwards: 70\n"
		 "From: <sip:alice@example.com>;tag=ft%s\n"
		 "To: <sip:alice@example.com>\n"
		 "Call-ID: %s\n"
		 "CSeq: %u REGISTER\n"
		 "User-Agent: unit/1.0\n"
		 "%s"
		 "Content-Length: 0\n"
		 "\n",
		 cseq, call_id, call_id, call_id, cseq, headers);
	return send_msg(f, buf);
}

static const struct spr_record *
lookup(struct fx *f, const char *aor)
{
	struct spr_str a = {aor, (uint32_t)strlen(aor)};

	return spr_loc_lookup(f->ctx.shard, &a, spr_loc_hash(&a));
}

static bool
reply_has(struct fx *f, const char *needle)
{
	return strstr(f->out, needle) != NULL;
}

static unsigned
count_in_reply(struct fx *f, const char *needle)
{
	unsigned n = 0;

	for (const char *p = f->out; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

static void
assert_contact(const struct spr_record *r, uint32_t i, const char *uri)
{
	struct spr_str s = spr_rec_str(r, r->b[i].contact);

	assert_int_equal(s.len, strlen(uri));
	assert_memory_equal(s.p, uri, s.len);
}

static void
test_register_stores_binding(void **state)
{
	struct fx *f = *state;
	const struct spr_record *r;
	struct spr_str ci, ua;

	assert_int_equal(reg(f, "c1", 1, "Contact: <sip:alice@192.0.2.7:5070;ob>\nExpires: 3600\n"),
			 200);
	assert_true(reply_has(f, "Contact: <sip:alice@192.0.2.7:5070;ob>;expires=3600\r\n"));
	r = lookup(f, "alice@example.com");
	assert_non_null(r);
	assert_int_equal(r->n, 1);
	assert_contact(r, 0, "sip:alice@192.0.2.7:5070;ob");
	ci = spr_rec_str(r, r->b[0].call_id);
	assert_int_equal(ci.len, 2);
	assert_memory_equal(ci.p, "c1", 2);
	ua = spr_rec_str(r, r->b[0].user_agent);
	assert_int_equal(ua.len, 8);
	assert_int_equal(r->b[0].cseq, 1);
	assert_int_equal(r->b[0].expires_at, 1700000000 + 3600);
	assert_int_equal(r->b[0].src_port, 5070);
	assert_int_equal(r->b[0].q, SPR_SIP_Q_NONE);
	assert_int_equal(f->ctx.cnt.reg.bindings_added, 1);
}

static void
test_reply_headers(void **state)
{
	struct fx *f = *state;

	assert_int_equal(reg(f, "c1", 7, "Contact: <sip:alice@192.0.2.7>\n"), 200);
	assert_true(strncmp(f->out, "SIP/2.0 200 OK\r\n", 16) == 0);
	assert_true(reply_has(f, "Via: SIP/2.0/UDP 192.0.2.7:5070;branch=z9hG4bK7c1;received=192.0.2.7;rport=5070\r\n"));
	assert_true(reply_has(f, "From: <sip:alice@example.com>;tag=ftc1\r\n"));
	assert_true(reply_has(f, "To: <sip:alice@example.com>;tag="));
	assert_true(reply_has(f, "Call-ID: c1\r\n"));
	assert_true(reply_has(f, "CSeq: 7 REGISTER\r\n"));
	assert_true(reply_has(f, "Server: sprd-test\r\n"));
	assert_true(reply_has(f, "Date: Tue, 14 Nov 2023 22:13:20 GMT\r\n"));
	assert_true(reply_has(f, "Content-Length: 0\r\n\r\n"));
	/* the default expiry applies with no expires param and no Expires header */
	assert_true(reply_has(f, ";expires=3600\r\n"));
}

static void
test_refresh_and_retransmission(void **state)
{
	struct fx *f = *state;
	const struct spr_record *r;
	uint32_t gen;

	assert_int_equal(reg(f, "c1", 1, "Contact: <sip:alice@192.0.2.7>\nExpires: 600\n"), 200);
	gen = lookup(f, "alice@example.com")->b[0].generation;
	f->now.sec += 100;
	assert_int_equal(reg(f, "c1", 2, "Contact: <sip:alice@192.0.2.7>\nExpires: 600\n"), 200);
	r = lookup(f, "alice@example.com");
	assert_int_equal(r->n, 1);
	assert_int_equal(r->b[0].cseq, 2);
	assert_int_equal(r->b[0].expires_at, 1700000000 + 700);
	assert_true(r->b[0].generation != gen);
	gen = r->b[0].generation;
	/* equal CSeq: a retransmission, answered with what is stored, nothing written */
	f->now.sec += 10;
	assert_int_equal(reg(f, "c1", 2, "Contact: <sip:alice@192.0.2.7>\nExpires: 600\n"), 200);
	assert_true(reply_has(f, ";expires=590\r\n"));
	r = lookup(f, "alice@example.com");
	assert_int_equal(r->b[0].generation, gen);
	assert_int_equal(f->ctx.cnt.reg.retransmissions, 1);
	assert_int_equal(f->ctx.cnt.reg.bindings_refreshed, 1);
}

/*
 * The in-place refresh (location.h): a refresh that changes nothing but
 * expiry and CSeq writes them into the published record; anything else, or a
 * refreshed binding that is not already last, builds a new record.
 */
static void
test_refresh_in_place(void **state)
{
	struct fx *f = *state;
	const struct spr_record *r, *r0;
	struct spr_loc_stats st;
	uint64_t publishes;
	uint32_t gen;

	assert_int_equal(reg(f, "c1", 1, "Contact: <sip:alice@192.0.2.7>\nExpires: 600\n"), 200);
	r0 = lookup(f, "alice@example.com");
	gen = r0->b[0].generation;
	assert_int_equal(r0->timer_at, 1700000000 + 600);
	spr_loc_stats_get(f->ctx.shard, &st);
	publishes = st.publishes;
	f->ctx.arm.at = 0;
	f->now.sec += 100;
	assert_int_equal(reg(f, "c1", 2, "Contact: <sip:alice@192.0.2.7>\nExpires: 600\n"), 200);
	assert_true(reply_has(f, "Contact: <sip:alice@192.0.2.7>;expires=600\r\n"));
	r = lookup(f, "alice@example.com");
	assert_ptr_equal(r, r0);
	assert_int_equal(r->n, 1);
	assert_int_equal(spr_binding_cseq(&r->b[0]), 2);
	assert_int_equal(spr_binding_expires_at(&r->b[0]), 1700000000 + 700);
	assert_true(r->b[0].generation != gen);
	assert_int_equal(r->timer_at, 1700000000 + 600); /* still ahead and earlier: kept */
	assert_int_equal(f->ctx.arm.at, 0);
	spr_loc_stats_get(f->ctx.shard, &st);
	assert_int_equal(st.publishes, publishes);
	assert_int_equal(f->ctx.cnt.reg.bindings_refreshed, 1);
	assert_int_equal(f->ctx.cnt.reg.refreshed_in_place, 1);

	/* a shorter expiry moves the timer earlier: set in place and asked of control */
	assert_int_equal(reg(f, "c1", 3, "Contact: <sip:alice@192.0.2.7>\nExpires: 120\n"), 200);
	assert_ptr_equal(lookup(f, "alice@example.com"), r0);
	assert_int_equal(r0->timer_at, 1700000000 + 220);
	assert_int_equal(f->ctx.arm.at, 1700000000 + 220);
	assert_int_equal(f->ctx.cnt.reg.refreshed_in_place, 2);

	/* another source port: the binding's received changes, so a new record */
	f->src.port = 5071;
	assert_int_equal(reg(f, "c1", 4, "Contact: <sip:alice@192.0.2.7>\nExpires: 600\n"), 200);
	r = lookup(f, "alice@example.com");
	assert_true(r != r0);
	assert_int_equal(r->b[0].src_port, 5071);
	assert_int_equal(r->b[0].cseq, 4);
	assert_int_equal(f->ctx.cnt.reg.refreshed_in_place, 2);
	assert_int_equal(f->ctx.cnt.reg.bindings_refreshed, 3);

	/* another q: a new record */
	r0 = r;
	assert_int_equal(reg(f, "c1", 5, "Contact: <sip:alice@192.0.2.7>;q=0.5\nExpires: 600\n"),
			 200);
	r = lookup(f, "alice@example.com");
	assert_true(r != r0);
	assert_int_equal(r->b[0].q, 500);
	/* another Call-ID for the same contact (the phone restarted): a new record */
	r0 = r;
	assert_int_equal(reg(f, "c9", 1, "Contact: <sip:alice@192.0.2.7>;q=0.5\nExpires: 600\n"),
			 200);
	r = lookup(f, "alice@example.com");
	assert_true(r != r0);
	assert_int_equal(f->ctx.cnt.reg.refreshed_in_place, 2);
}

/*
 * Whether a refresh is in place is decided on bytes: a Call-ID that differs
 * from the stored one in any one byte, at lengths around every word and
 * block size, is rebuilt; the same Call-ID again refreshes in place.
 */
static void
test_refresh_in_place_call_id_bytes(void **state)
{
	static const uint32_t lens[] = {1, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 47, 48, 70};
	struct fx *f = *state;
	const char *contact = "Contact: <sip:alice@192.0.2.7>\n";
	char a[80], b[80];
	unsigned cseq = 1;
	uint64_t in_place;

	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		uint32_t n = lens[i];

		memset(a, 'c', n);
		a[n] = '\0';
		for (uint32_t k = 0; k < n; k++) {
			assert_int_equal(reg(f, a, cseq++, contact), 200);
			memcpy(b, a, n + 1);
			b[k] = 'd';
			in_place = f->ctx.cnt.reg.refreshed_in_place;
			assert_int_equal(reg(f, b, cseq++, contact), 200);
			assert_int_equal(f->ctx.cnt.reg.refreshed_in_place, in_place);
			assert_int_equal(reg(f, b, cseq++, contact), 200);
			assert_int_equal(f->ctx.cnt.reg.refreshed_in_place, in_place + 1);
		}
	}
	assert_int_equal(lookup(f, "alice@example.com")->n, 1);
}

/*
 * A contact that names the binding without being its bytes (an equivalent
 * URI, the same +sip.instance at another URI) is stored anew, not refreshed
 * in place; the same bytes again are.
 */
static void
test_refresh_in_place_needs_same_bytes(void **state)
{
	struct fx *f = *state;
	const char *inst = ";+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-000a95a0e128>\"";
	char hdr[256];
	uint64_t in_place = f->ctx.cnt.reg.refreshed_in_place;

	assert_int_equal(reg(f, "c1", 1, "Contact: <sip:alice@h.example.com>\n"), 200);
	assert_int_equal(reg(f, "c1", 2, "Contact: <sip:alice@H.Example.COM>\n"), 200);
	assert_int_equal(f->ctx.cnt.reg.refreshed_in_place, in_place);
	assert_int_equal(lookup(f, "alice@example.com")->n, 1);
	assert_contact(lookup(f, "alice@example.com"), 0, "sip:alice@H.Example.COM");
	assert_int_equal(reg(f, "c1", 3, "Contact: <sip:alice@H.Example.COM>\n"), 200);
	assert_int_equal(f->ctx.cnt.reg.refreshed_in_place, in_place + 1);

	snprintf(hdr, sizeof(hdr), "Contact: <sip:alice@192.0.2.7>%s\n", inst);
	assert_int_equal(reg(f, "c2", 1, hdr), 200);
	snprintf(hdr, sizeof(hdr), "Contact: <sip:alice@192.0.2.8>%s\n", inst);
	assert_int_equal(reg(f, "c2", 2, hdr), 200);
	assert_int_equal(f->ctx.cnt.reg.refreshed_in_place, in_place + 1);
	assert_contact(lookup(f, "alice@example.com"), 1, "sip:alice@192.0.2.8");
	assert_int_equal(reg(f, "c2", 3, hdr), 200);
	assert_int_equal(f->ctx.cnt.reg.refreshed_in_place, in_place + 2);
}

/* With two bindings only the last one refreshes in place: the order stays oldest update first. */
static void
test_refresh_in_place_order(void **state)
{
	struct fx *f = *state;
	const struct spr_record *r, *r0;

	assert_int_equal(reg(f, "c1", 1, "Contact: <sip:a@h>\n"), 200);
	assert_int_equal(reg(f, "c2", 1, "Contact: <sip:b@h>\n"), 200);
	r0 = lookup(f, "alice@example.com");
	assert_int_equal(r0->n, 2);
	assert_contact(r0, 0, "sip:a@h");
	assert_contact(r0, 1, "sip:b@h");
	/* b is last: in place */
	assert_int_equal(reg(f, "c2", 2, "Contact: <sip:b@h>\n"), 200);
	assert_ptr_equal(lookup(f, "alice@example.com"), r0);
	assert_int_equal(spr_binding_cseq(&r0->b[1]), 2);
	assert_int_equal(f->ctx.cnt.reg.refreshed_in_place, 1);
	/* a is not: rebuilt with a moved last */
	assert_int_equal(reg(f, "c1", 2, "Contact: <sip:a@h>\n"), 200);
	r = lookup(f, "alice@example.com");
	assert_true(r != r0);
	assert_contact(r, 0, "sip:b@h");
	assert_contact(r, 1, "sip:a@h");
	assert_int_equal(f->ctx.cnt.reg.refreshed_in_place, 1);
	/* both in one request, in the record's order: in place */
	assert_int_equal(reg(f, "c3", 1, "Contact: <sip:b@h>, <sip:a@h>\n"), 200);
	r0 = lookup(f, "alice@example.com"); /* other Call-ID: rebuilt */
	assert_int_equal(reg(f, "c3", 2, "Contact: <sip:b@h>, <sip:a@h>\n"), 200);
	assert_ptr_equal(lookup(f, "alice@example.com"), r0);
	assert_int_equal(f->ctx.cnt.reg.refreshed_in_place, 3);
	/* one of them expired since: the record is rebuilt without it */
	f->now.sec += 3601;
	assert_int_equal(reg(f, "c3", 3, "Contact: <sip:a@h>\nExpires: 60\n"), 200);
	r = lookup(f, "alice@example.com");
	assert_true(r != r0);
	assert_int_equal(r->n, 1);
	assert_contact(r, 0, "sip:a@h");
}

static void
test_cseq_lower_rejected(void **state)
{
	struct fx *f = *state;
	const struct spr_record *r;

	assert_int_equal(reg(f, "c1", 5, "Contact: <sip:alice@192.0.2.7>\n"), 200);
	assert_int_equal(reg(f, "c1", 4, "Contact: <sip:alice@192.0.2.7>\nExpires: 0\n"), 400);
	assert_true(reply_has(f, "SIP/2.0 400 Sequence Number Lower Than Stored\r\n"));
	r = lookup(f, "alice@example.com");
	assert_non_null(r);
	assert_int_equal(r->n, 1);
	assert_int_equal(r->b[0].cseq, 5);
	/* another Call-ID replaces whatever its CSeq (RFC 3261 §10.3 step 7) */
	assert_int_equal(reg(f, "c2", 1, "Contact: <sip:alice@192.0.2.7>\nExpires: 120\n"), 200);
	r = lookup(f, "alice@example.com");
	assert_int_equal(r->n, 1);
	assert_int_equal(r->b[0].cseq, 1);
	assert_int_equal(r->b[0].expires_at, 1700000000 + 120);
	/* and removes it with expiry 0 */
	assert_int_equal(reg(f, "c3", 1, "Contact: <sip:alice@192.0.2.7>\nExpires: 0\n"), 200);
	assert_null(lookup(f, "alice@example.com"));
}

static void
test_fetch_lists_remaining(void **state)
{
	struct fx *f = *state;

	assert_int_equal(reg(f, "c1", 1,
			     "Contact: <sip:a@192.0.2.7>;q=0.5, <sip:b@192.0.2.8>;expires=900\n"
			     "Expires: 600\n"),
			 200);
	f->now.sec += 100;
	assert_int_equal(reg(f, "c9", 1, ""), 200);
	assert_true(reply_has(f, "Contact: <sip:a@192.0.2.7>;expires=500;q=0.5\r\n"));
	assert_true(reply_has(f, "Contact: <sip:b@192.0.2.8>;expires=800\r\n"));
	assert_int_equal(f->ctx.cnt.reg.fetches, 1);
	/* an expired binding is not shown, and is gone at the next write */
	f->now.sec += 600;
	assert_int_equal(reg(f, "c9", 2, ""), 200);
	assert_int_equal(count_in_reply(f, "Contact:"), 1);
	assert_int_equal(reg(f, "c9", 3, "Contact: <sip:c@192.0.2.9>\n"), 200);
	assert_int_equal(lookup(f, "alice@example.com")->n, 2);
}

static void
test_unregister_one(void **state)
{
	struct fx *f = *state;
	const struct spr_record *r;

	assert_int_equal(reg(f, "c1", 1, "Contact: <sip:a@192.0.2.7>, <sip:b@192.0.2.8>\n"), 200);
	assert_int_equal(reg(f, "c1", 2, "Contact: <sip:a@192.0.2.7>;expires=0\n"), 200);
	assert_int_equal(count_in_reply(f, "Contact:"), 1);
	r = lookup(f, "alice@example.com");
	assert_int_equal(r->n, 1);
	assert_contact(r, 0, "sip:b@192.0.2.8");
	assert_int_equal(f->ctx.cnt.reg.bindings_removed, 1);
}

static void
test_wildcard(void **state)
{
	struct fx *f = *state;

	assert_int_equal(reg(f, "c1", 1, "Contact: <sip:a@192.0.2.7>, <sip:b@192.0.2.8>\n"), 200);
	assert_int_equal(reg(f, "c1", 2, "Contact: *\n"), 400);
	assert_true(reply_has(f, " 400 Wildcard Contact Needs Expires 0\r\n"));
	assert_int_equal(reg(f, "c1", 2, "Contact: *\nExpires: 60\n"), 400);
	assert_int_equal(reg(f, "c1", 2, "Contact: *\nContact: <sip:c@192.0.2.9>\nExpires: 0\n"), 400);
	assert_true(reply_has(f, " 400 Wildcard Contact With Other Contacts\r\n"));
	/* in one header the grammar itself forbids it (RFC 3261 §20.10) */
	assert_int_equal(reg(f, "c1", 2, "Contact: *, <sip:c@192.0.2.9>\nExpires: 0\n"), 400);
	assert_true(reply_has(f, " 400 Malformed Contact\r\n"));
	assert_int_equal(lookup(f, "alice@example.com")->n, 2);
	/* same Call-ID and a CSeq not higher aborts it */
	assert_int_equal(reg(f, "c1", 1, "Contact: *\nExpires: 0\n"), 400);
	assert_int_equal(lookup(f, "alice@example.com")->n, 2);
	assert_int_equal(reg(f, "c1", 3, "Contact: *\nExpires: 0\n"), 200);
	assert_int_equal(count_in_reply(f, "Contact:"), 0);
	assert_null(lookup(f, "alice@example.com"));
	assert_int_equal(f->ctx.cnt.reg.bindings_removed, 2);
	/* nothing registered: still 200 */
	assert_int_equal(reg(f, "c5", 1, "Contact: *\nExpires: 0\n"), 200);
}

static void
test_interval_too_brief_and_max(void **state)
{
	struct fx *f = *state;

	assert_int_equal(reg(f, "c1", 1, "Contact: <sip:a@192.0.2.7>\nExpires: 30\n"), 423);
	assert_true(reply_has(f, "SIP/2.0 423 Interval Too Brief\r\n"));
	assert_true(reply_has(f, "Min-Expires: 60\r\n"));
	assert_null(lookup(f, "alice@example.com"));
	/* all or nothing: one good contact and one too brief stores neither */
	assert_int_equal(reg(f, "c1", 2, "Contact: <sip:a@192.0.2.7>, <sip:b@192.0.2.8>;expires=5\n"),
			 423);
	assert_null(lookup(f, "alice@example.com"));
	/* longer than max is shortened, and the 200 says so */
	assert_int_equal(reg(f, "c1", 3, "Contact: <sip:a@192.0.2.7>\nExpires: 100000\n"), 200);
	assert_true(reply_has(f, ";expires=7200\r\n"));
	/* the contact parameter wins over the header */
	assert_int_equal(reg(f, "c1", 4, "Contact: <sip:a@192.0.2.7>;expires=120\nExpires: 30\n"),
			 200);
	assert_true(reply_has(f, ";expires=120\r\n"));
}

static void
test_q_values(void **state)
{
	struct fx *f = *state;

	assert_int_equal(reg(f, "c1", 1, "Contact: <sip:a@192.0.2.7>;q=0.125\n"), 200);
	assert_int_equal(lookup(f, "alice@example.com")->b[0].q, 125);
	assert_true(reply_has(f, ";q=0.125\r\n"));
	assert_int_equal(reg(f, "c1", 2, "Contact: <sip:a@192.0.2.7>;q=1.5\n"), 400);
	assert_true(reply_has(f, "SIP/2.0 400 Invalid q Value\r\n"));
	assert_int_equal(reg(f, "c1", 3, "Contact: <sip:a@192.0.2.7>;q=0.1234\n"), 400);
	assert_int_equal(lookup(f, "alice@example.com")->b[0].q, 125);
	assert_int_equal(lookup(f, "alice@example.com")->b[0].cseq, 1);
}

static void
test_max_contacts(void **state)
{
	struct fx *f = *state;
	const struct spr_record *r;

	f->cfg.max_contacts = 2;
	assert_int_equal(reg(f, "c1", 1, "Contact: <sip:a@h>, <sip:b@h>, <sip:c@h>\n"), 503);
	assert_true(reply_has(f, " 503 Too Many Registered Contacts\r\n"));
	assert_null(lookup(f, "alice@example.com"));
	assert_int_equal(reg(f, "c1", 2, "Contact: <sip:a@h>, <sip:b@h>\n"), 200);
	assert_int_equal(reg(f, "c2", 1, "Contact: <sip:c@h>\n"), 503);
	assert_int_equal(lookup(f, "alice@example.com")->n, 2);
	/* refreshing one of the two keeps within the limit */
	assert_int_equal(reg(f, "c1", 3, "Contact: <sip:a@h>\n"), 200);
	/* drop_oldest: b was updated least recently, so it goes */
	f->cfg.drop_oldest = true;
	assert_int_equal(reg(f, "c2", 2, "Contact: <sip:c@h>\n"), 200);
	r = lookup(f, "alice@example.com");
	assert_int_equal(r->n, 2);
	assert_contact(r, 0, "sip:a@h");
	assert_contact(r, 1, "sip:c@h");
	assert_int_equal(f->ctx.cnt.reg.bindings_dropped_oldest, 1);
	/* a request that alone exceeds the limit is still refused */
	assert_int_equal(reg(f, "c3", 1, "Contact: <sip:x@h>, <sip:y@h>, <sip:z@h>\n"), 503);
}

static void
test_instance_reg_id(void **state)
{
	struct fx *f = *state;
	const struct spr_record *r;
	struct spr_str inst;

	assert_int_equal(reg(f, "c1", 1,
			     "Contact: <sip:a@192.0.2.7:1111;ob>;+sip.instance=\"<urn:uuid:0001>\";reg-id=1\n"),
			 200);
	assert_true(reply_has(f, ";+sip.instance=\"<urn:uuid:0001>\";reg-id=1\r\n"));
	/* after a reboot: new Call-ID, new address, same instance and reg-id: replaced */
	assert_int_equal(reg(f, "c2", 1,
			     "Contact: <sip:a@192.0.2.99:2222;ob>;+sip.instance=\"<urn:uuid:0001>\";reg-id=1\n"),
			 200);
	r = lookup(f, "alice@example.com");
	assert_int_equal(r->n, 1);
	assert_contact(r, 0, "sip:a@192.0.2.99:2222;ob");
	inst = spr_rec_str(r, r->b[0].instance);
	assert_int_equal(inst.len, strlen("\"<urn:uuid:0001>\""));
	/* another flow of the same instance is another binding */
	assert_int_equal(reg(f, "c2", 2,
			     "Contact: <sip:a@192.0.2.99:3333;ob>;+sip.instance=\"<urn:uuid:0001>\";reg-id=2\n"),
			 200);
	r = lookup(f, "alice@example.com");
	assert_int_equal(r->n, 2);
	assert_int_equal(r->b[1].reg_id, 2);
}

static void
test_path_and_require(void **state)
{
	struct fx *f = *state;
	const struct spr_record *r;
	struct spr_str path;

	assert_int_equal(reg(f, "c1", 1,
			     "Contact: <sip:a@192.0.2.7>\nPath: <sip:edge1.example.net;lr>\n"
			     "Path: <sip:edge2.example.net;lr>\nSupported: path\n"),
			 200);
	assert_true(reply_has(f, "Path: <sip:edge1.example.net;lr>\r\nPath: <sip:edge2.example.net;lr>\r\n"));
	r = lookup(f, "alice@example.com");
	path = spr_rec_str(r, r->b[0].path);
	assert_int_equal(path.len, strlen("<sip:edge1.example.net;lr>,<sip:edge2.example.net;lr>"));
	assert_memory_equal(path.p, "<sip:edge1.example.net;lr>,<sip:edge2.example.net;lr>", path.len);
	/* stored, but not echoed to a client that did not say it supports path */
	assert_int_equal(reg(f, "c1", 2, "Contact: <sip:a@192.0.2.7>\nPath: <sip:edge1.example.net;lr>\n"),
			 200);
	assert_false(reply_has(f, "Path:"));
	assert_int_equal(reg(f, "c1", 3, "Contact: <sip:a@192.0.2.7>\nRequire: path\n"), 200);
	assert_int_equal(reg(f, "c1", 4, "Contact: <sip:a@192.0.2.7>\nRequire: path, foo-ext\n"), 420);
	assert_true(reply_has(f, "SIP/2.0 420 Bad Extension\r\n"));
	assert_true(reply_has(f, "Unsupported: foo-ext\r\n"));
	assert_int_equal(lookup(f, "alice@example.com")->b[0].cseq, 3);
}

static void
test_domains_and_schemes(void **state)
{
	struct fx *f = *state;

	f->cfg.domains[0] = SPR_STR("example.com");
	f->cfg.n_domains = 1;
	assert_int_equal(reg(f, "c1", 1, "Contact: <sip:a@192.0.2.7>\n"), 200);
	assert_int_equal(send_msg(f, "REGISTER sip:other.org SIP/2.0\n"
				     "Via: SIP/2.0/UDP 192.0.2.7;branch=z9hG4bKx1\n"
				     "From: <sip:alice@other.org>;tag=1\nTo: <sip:alice@other.org>\n"
				     "Call-ID: d1\nCSeq: 1 REGISTER\nContact: <sip:a@192.0.2.7>\n"
				     "Content-Length: 0\n\n"),
			 404);
	assert_true(reply_has(f, " 404 Domain Not Served\r\n"));
	/* the To domain counts too (step 5) */
	assert_int_equal(send_msg(f, "REGISTER sip:EXAMPLE.com SIP/2.0\n"
				     "Via: SIP/2.0/UDP 192.0.2.7;branch=z9hG4bKx2\n"
				     "From: <sip:alice@other.org>;tag=1\nTo: <sip:alice@other.org>\n"
				     "Call-ID: d2\nCSeq: 1 REGISTER\nContact: <sip:a@192.0.2.7>\n"
				     "Content-Length: 0\n\n"),
			 404);
	assert_int_equal(send_msg(f, "REGISTER tel:+15551234 SIP/2.0\n"
				     "Via: SIP/2.0/UDP 192.0.2.7;branch=z9hG4bKx3\n"
				     "From: <sip:alice@example.com>;tag=1\nTo: <sip:alice@example.com>\n"
				     "Call-ID: d3\nCSeq: 1 REGISTER\nContact: <sip:a@192.0.2.7>\n"
				     "Content-Length: 0\n\n"),
			 416);
	assert_int_equal(send_msg(f, "REGISTER sip:example.com SIP/2.0\n"
				     "Via: SIP/2.0/UDP 192.0.2.7;branch=z9hG4bKx4\n"
				     "From: <tel:+15551234>;tag=1\nTo: <tel:+15551234>\n"
				     "Call-ID: d4\nCSeq: 1 REGISTER\nContact: <sip:a@192.0.2.7>\n"
				     "Content-Length: 0\n\n"),
			 416);
	assert_true(reply_has(f, " 416 Unsupported URI Scheme In To\r\n"));
	/* a SIP URI with no user part names no AOR */
	assert_int_equal(send_msg(f, "REGISTER sip:example.com SIP/2.0\n"
				     "Via: SIP/2.0/UDP 192.0.2.7;branch=z9hG4bKx5\n"
				     "From: <sip:example.com>;tag=1\nTo: <sip:example.com>\n"
				     "Call-ID: d5\nCSeq: 1 REGISTER\nContact: <sip:a@192.0.2.7>\n"
				     "Content-Length: 0\n\n"),
			 400);
	assert_true(reply_has(f, " 400 To URI Is Not A SIP Address-Of-Record\r\n"));
}

static void
test_uri_equivalence_and_aor(void **state)
{
	struct fx *f = *state;
	const struct spr_record *r;

	assert_int_equal(reg(f, "c1", 1, "Contact: <sip:alice@HOST.example.com;transport=udp>\n"), 200);
	/* §19.1.4: host case and param value case do not matter; the stored bytes stay */
	assert_int_equal(reg(f, "c1", 2, "Contact: <sip:alice@host.example.com;transport=UDP>\n"), 200);
	r = lookup(f, "alice@example.com");
	assert_int_equal(r->n, 1);
	assert_int_equal(r->b[0].cseq, 2);
	assert_contact(r, 0, "sip:alice@host.example.com;transport=UDP");
	/* escaped user and upper-case host name the same AOR */
	assert_int_equal(send_msg(f, "REGISTER sip:example.com SIP/2.0\n"
				     "Via: SIP/2.0/UDP 192.0.2.7;branch=z9hG4bKy1\n"
				     "From: <sip:alice@example.com>;tag=1\n"
				     "To: \"Alice\" <sip:%61lice@EXAMPLE.COM;user=phone>\n"
				     "Call-ID: c1\nCSeq: 3 REGISTER\n"
				     "Contact: <sip:alice@host.example.com;transport=udp>\n"
				     "Content-Length: 0\n\n"),
			 200);
	r = lookup(f, "alice@example.com");
	assert_int_equal(r->n, 1);
	assert_int_equal(r->b[0].cseq, 3);
	/* the same contact twice in one request is refused */
	assert_int_equal(reg(f, "c1", 4, "Contact: <sip:x@h>, <sip:X@h>, <sip:x@H>\n"), 400);
	assert_true(reply_has(f, " 400 Same Contact Twice In Request\r\n"));
}

static void
test_contact_bytes_exact(void **state)
{
	struct fx *f = *state;
	const struct spr_record *r;

	assert_int_equal(reg(f, "c1", 1,
			     "Contact: <sip:us%65r@192.0.2.7;unknownparam=%41;lr?Route=%3Csip:x%3E>;foo=bar\n"),
			 200);
	r = lookup(f, "alice@example.com");
	assert_contact(r, 0, "sip:us%65r@192.0.2.7;unknownparam=%41;lr?Route=%3Csip:x%3E");
}

static void
test_other_methods(void **state)
{
	struct fx *f = *state;

	assert_int_equal(send_msg(f, "OPTIONS sip:example.com SIP/2.0\n"
				     "Via: SIP/2.0/UDP 192.0.2.7;branch=z9hG4bKo1\n"
				     "Max-Forwards: 0\n"
				     "From: <sip:alice@example.com>;tag=1\nTo: <sip:example.com>\n"
				     "Call-ID: o1\nCSeq: 1 OPTIONS\nContent-Length: 0\n\n"),
			 200);
	assert_true(reply_has(f, "Allow: REGISTER, PUBLISH, SUBSCRIBE, OPTIONS\r\n"));
	assert_int_equal(send_msg(f, "INVITE sip:bob@example.com SIP/2.0\n"
				     "Via: SIP/2.0/UDP 192.0.2.7;branch=z9hG4bKi1\n"
				     "From: <sip:alice@example.com>;tag=1\nTo: <sip:bob@example.com>\n"
				     "Call-ID: i1\nCSeq: 1 INVITE\nContent-Length: 0\n\n"),
			 405);
	assert_true(reply_has(f, "Allow: REGISTER, PUBLISH, SUBSCRIBE, OPTIONS\r\n"));
	assert_int_equal(send_msg(f, "FOO sip:bob@example.com SIP/2.0\n"
				     "Via: SIP/2.0/UDP 192.0.2.7;branch=z9hG4bKf1\n"
				     "From: <sip:alice@example.com>;tag=1\nTo: <sip:bob@example.com>\n"
				     "Call-ID: f1\nCSeq: 1 FOO\nContent-Length: 0\n\n"),
			 501);
	/* ACK and responses get nothing */
	assert_int_equal(send_msg(f, "ACK sip:bob@example.com SIP/2.0\n"
				     "Via: SIP/2.0/UDP 192.0.2.7;branch=z9hG4bKa1\n"
				     "From: <sip:alice@example.com>;tag=1\nTo: <sip:bob@example.com>;tag=2\n"
				     "Call-ID: a1\nCSeq: 1 ACK\nContent-Length: 0\n\n"),
			 0);
	assert_int_equal(send_msg(f, "SIP/2.0 200 OK\n"
				     "Via: SIP/2.0/UDP 192.0.2.7;branch=z9hG4bKr1\n"
				     "From: <sip:alice@example.com>;tag=1\nTo: <sip:bob@example.com>;tag=2\n"
				     "Call-ID: r1\nCSeq: 1 OPTIONS\nContent-Length: 0\n\n"),
			 0);
	assert_int_equal(f->ctx.cnt.drop_ack, 1);
	assert_int_equal(f->ctx.cnt.drop_response, 1);
	assert_int_equal(f->ctx.cnt.method_not_allowed, 1);
	assert_int_equal(f->ctx.cnt.not_implemented, 1);
}

static void
test_bad_request_answered_with_fault(void **state)
{
	struct fx *f = *state;

	/* missing Call-ID: 400 naming it, Via and the rest copied */
	assert_int_equal(send_msg(f, "REGISTER sip:example.com SIP/2.0\n"
				     "Via: SIP/2.0/UDP 192.0.2.7;branch=z9hG4bKb1\n"
				     "From: <sip:alice@example.com>;tag=1\nTo: <sip:alice@example.com>\n"
				     "CSeq: 1 REGISTER\nContact: <sip:a@192.0.2.7>\nContent-Length: 0\n\n"),
			 400);
	assert_true(reply_has(f, "SIP/2.0 400 Missing Call-ID\r\n"));
	assert_true(reply_has(f, "Via: SIP/2.0/UDP 192.0.2.7;branch=z9hG4bKb1;received=192.0.2.7\r\n"));
	assert_null(lookup(f, "alice@example.com"));
	assert_int_equal(f->ctx.cnt.parse_err[SPR_SIP_ERR_MISSING_CALL_ID], 1);
	/* garbage is a counted drop */
	assert_int_equal(send_msg(f, "\x01\x02 hello\n\n"), 0);
	assert_int_equal(f->ctx.cnt.drop_unparseable, 1);
}

static void
test_folded_headers_in_reply(void **state)
{
	struct fx *f = *state;

	assert_int_equal(send_msg(f, "REGISTER sip:example.com SIP/2.0\n"
				     "Via: SIP/2.0/UDP 192.0.2.7;branch=z9hG4bKfo1\n"
				     "From: <sip:alice@example.com>\n ;tag=77\n"
				     "To: <sip:alice@example.com>\n"
				     "Call-ID: fold1\nCSeq: 1\n\tREGISTER\n"
				     "Contact: <sip:a@192.0.2.7>\nContent-Length: 0\n\n"),
			 200);
	assert_true(reply_has(f, "From: <sip:alice@example.com> ;tag=77\r\n"));
	assert_true(reply_has(f, "CSeq: 1 REGISTER\r\n"));
}

static void
test_many_aors(void **state)
{
	struct fx *f = *state;
	char buf[1024];

	for (unsigned i = 0; i < 5000; i++) {
		snprintf(buf, sizeof(buf),
			 "REGISTER sip:example.com SIP/2.0\n"
			 "Via: SIP/2.0/UDP 192.0.2.7;branch=z9hG4bKm%u\n"
			 "From: <sip:u%u@example.com>;tag=1\nTo: <sip:u%u@example.com>\n"
			 "Call-ID: m%u\nCSeq: 1 REGISTER\nContact: <sip:u%u@192.0.2.7>\n"
			 "Content-Length: 0\n\n",
			 i, i, i, i, i);
		assert_int_equal(send_msg(f, buf), 200);
	}
	for (unsigned i = 0; i < 5000; i++) {
		char aor[64], uri[64];
		const struct spr_record *r;

		snprintf(aor, sizeof(aor), "u%u@example.com", i);
		snprintf(uri, sizeof(uri), "sip:u%u@192.0.2.7", i);
		r = lookup(f, aor);
		assert_non_null(r);
		assert_int_equal(r->n, 1);
		assert_contact(r, 0, uri);
	}
}

/* Bindings whose strings pass SPR_RECORD_MAX together: refused whole, nothing lost. */
static void
test_record_too_large(void **state)
{
	struct fx *f = *state;
	static char hdr[40000], msg[48000]; /* 30 contacts of ~1.1 KB each */
	uint32_t len;
	char *crlf;

	f->cfg.max_contacts = 64;
	for (int round = 0; round < 2; round++) {
		size_t off = 0;

		for (int i = 0; i < 30; i++)
			off += (size_t)snprintf(hdr + off, sizeof(hdr) - off,
						"Contact: <sip:r%di%d-%01100d@192.0.2.7>\n", round, i, 0);
		snprintf(msg, sizeof(msg),
			 "REGISTER sip:example.com SIP/2.0\n"
			 "Via: SIP/2.0/UDP 192.0.2.7;branch=z9hG4bKbig%d\n"
			 "From: <sip:alice@example.com>;tag=1\nTo: <sip:alice@example.com>\n"
			 "Call-ID: big\nCSeq: %d REGISTER\n%sContent-Length: 0\n\n",
			 round, round + 1, hdr);
		crlf = spr_test_crlf(msg, &len);
		f->out_len = spr_sip_process(&f->ctx, crlf, len, &f->src, &f->now, f->out,
					     sizeof(f->out) - 1);
		free(crlf);
		f->out[f->out_len] = '\0';
		if (round == 0)
			assert_true(reply_has(f, "SIP/2.0 200 OK\r\n") ||
				    reply_has(f, "SIP/2.0 500 Response Too Large\r\n"));
		else if (!reply_has(f, "SIP/2.0 500 Bindings Of AOR Exceed 64 KiB\r\n"))
			fail_msg("got: %.80s", f->out);
	}
	assert_int_equal(lookup(f, "alice@example.com")->n, 30);
	assert_int_equal(lookup(f, "alice@example.com")->b[0].cseq, 1);
}

static struct spr_reg_ctx
reg_ctx(struct fx *f)
{
	return (struct spr_reg_ctx){f->ctx.reg_cfg, &f->ctx.reply, f->ctx.shard, &f->ctx.cnt.reg,
				    &f->ctx.arm};
}

static void
test_expiry_timer(void **state)
{
	struct fx *f = *state;
	struct spr_reg_ctx rc = reg_ctx(f);
	struct spr_str aor = SPR_STR("alice@example.com");
	uint64_t h = spr_loc_hash(&aor);

	/* a new AOR asks for a timer at its first expiry */
	f->ctx.arm.at = 0;
	assert_int_equal(reg(f, "c1", 1, "Contact: <sip:a@h>;expires=100, <sip:b@h>;expires=300\n"),
			 200);
	assert_int_equal(f->ctx.arm.at, 1700000000 + 100);
	assert_true(f->ctx.arm.hash == h);
	assert_int_equal(lookup(f, "alice@example.com")->timer_at, 1700000000 + 100);
	/* a refresh that expires later needs no new timer */
	f->ctx.arm.at = 0;
	assert_int_equal(reg(f, "c1", 2, "Contact: <sip:b@h>;expires=600\n"), 200);
	assert_int_equal(f->ctx.arm.at, 0);
	/* one that expires earlier does */
	assert_int_equal(reg(f, "c1", 3, "Contact: <sip:c@h>;expires=60\n"), 200);
	assert_int_equal(f->ctx.arm.at, 1700000000 + 60);
	/*
	 * the timer at 100 s left behind by that move fires before the record's
	 * own (60 s, still ahead): nothing removed, nothing asked, timer_at kept
	 */
	f->ctx.arm.at = 0;
	assert_int_equal(spr_reg_expire(&rc, h, 1700000000 + 59), 0);
	assert_int_equal(f->ctx.arm.at, 0);
	assert_int_equal(lookup(f, "alice@example.com")->n, 3);
	assert_int_equal(lookup(f, "alice@example.com")->timer_at, 1700000000 + 60);
	/* at 60 s c goes, the rest stays and the next timer is at 100 s */
	f->ctx.arm.at = 0;
	assert_int_equal(spr_reg_expire(&rc, h, 1700000000 + 60), 1);
	assert_int_equal(lookup(f, "alice@example.com")->n, 2);
	assert_int_equal(f->ctx.arm.at, 1700000000 + 100);
	assert_int_equal(spr_reg_expire(&rc, h, 1700000000 + 100), 1);
	assert_int_equal(f->ctx.arm.at, 1700000000 + 600);
	assert_int_equal(spr_reg_expire(&rc, h, 1700000000 + 600), 1);
	assert_null(lookup(f, "alice@example.com"));
	assert_int_equal(f->ctx.cnt.reg.bindings_expired, 3);
	/* a timer for an AOR that is gone is harmless */
	assert_int_equal(spr_reg_expire(&rc, h, 1700000000 + 700), 0);
}

/*
 * A timer that fires after refreshes pushed the expiry later removes nothing,
 * asks for the new first expiry and records it in timer_at, so the refreshes
 * after it ask for nothing (control keeps no map of the timers it holds).
 */
static void
test_expire_after_refresh(void **state)
{
	struct fx *f = *state;
	struct spr_reg_ctx rc = reg_ctx(f);
	struct spr_str aor = SPR_STR("alice@example.com");
	uint64_t h = spr_loc_hash(&aor);
	const uint32_t t0 = 1700000000;

	f->ctx.arm.at = 0;
	assert_int_equal(reg(f, "c1", 1, "Contact: <sip:a@h>;expires=100\n"), 200);
	assert_int_equal(f->ctx.arm.at, t0 + 100);
	/* at 50 s refreshed for 100 s: no new timer, the one at 100 s stays */
	f->now.sec = t0 + 50;
	f->ctx.arm.at = 0;
	assert_int_equal(reg(f, "c1", 2, "Contact: <sip:a@h>;expires=100\n"), 200);
	assert_int_equal(f->ctx.arm.at, 0);
	assert_int_equal(lookup(f, "alice@example.com")->timer_at, t0 + 100);
	/* it fires at 100 s: nothing removed, a timer asked for 150 s, timer_at 150 */
	assert_int_equal(spr_reg_expire(&rc, h, t0 + 100), 0);
	assert_int_equal(f->ctx.arm.at, t0 + 150);
	assert_true(f->ctx.arm.hash == h);
	assert_int_equal(f->ctx.arm.kind, SPR_REC_BINDINGS);
	assert_int_equal(lookup(f, "alice@example.com")->timer_at, t0 + 150);
	/* a second EXPIRE of the same time (a duplicate) asks for nothing more */
	f->ctx.arm.at = 0;
	assert_int_equal(spr_reg_expire(&rc, h, t0 + 100), 0);
	assert_int_equal(f->ctx.arm.at, 0);
	/* at 120 s refreshed again: the timer at 150 s is ahead, nothing asked */
	f->now.sec = t0 + 120;
	assert_int_equal(reg(f, "c1", 3, "Contact: <sip:a@h>;expires=100\n"), 200);
	assert_int_equal(f->ctx.arm.at, 0);
	/* at 150 s: re-armed for 220 s; at 220 s the binding goes */
	assert_int_equal(spr_reg_expire(&rc, h, t0 + 150), 0);
	assert_int_equal(f->ctx.arm.at, t0 + 220);
	f->ctx.arm.at = 0;
	assert_int_equal(spr_reg_expire(&rc, h, t0 + 220), 1);
	assert_null(lookup(f, "alice@example.com"));
	assert_int_equal(f->ctx.arm.at, 0);
}

static void
test_operator_remove(void **state)
{
	struct fx *f = *state;
	struct spr_reg_ctx rc = reg_ctx(f);
	struct spr_str aor = SPR_STR("alice@example.com");
	struct spr_str none = SPR_STR_NULL;
	struct spr_str c_b = SPR_STR("sip:b@H");
	struct spr_str c_x = SPR_STR("sip:x@h");

	assert_int_equal(reg(f, "c1", 1, "Contact: <sip:a@h>, <sip:b@h>\n"), 200);
	assert_int_equal(spr_reg_remove(&rc, &aor, &c_x, f->now.sec), -ENOENT);
	/* §19.1.4: host case does not matter */
	assert_int_equal(spr_reg_remove(&rc, &aor, &c_b, f->now.sec), 1);
	assert_int_equal(lookup(f, "alice@example.com")->n, 1);
	assert_contact(lookup(f, "alice@example.com"), 0, "sip:a@h");
	assert_int_equal(spr_reg_remove(&rc, &aor, &none, f->now.sec), 1);
	assert_null(lookup(f, "alice@example.com"));
	assert_int_equal(spr_reg_remove(&rc, &aor, &none, f->now.sec), -ENOENT);
	assert_int_equal(f->ctx.cnt.reg.bindings_removed_by_operator, 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_register_stores_binding, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reply_headers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refresh_and_retransmission, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refresh_in_place, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refresh_in_place_call_id_bytes, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_refresh_in_place_needs_same_bytes, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_refresh_in_place_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cseq_lower_rejected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fetch_lists_remaining, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unregister_one, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wildcard, setup, teardown),
		cmocka_unit_test_setup_teardown(test_interval_too_brief_and_max, setup, teardown),
		cmocka_unit_test_setup_teardown(test_q_values, setup, teardown),
		cmocka_unit_test_setup_teardown(test_max_contacts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_instance_reg_id, setup, teardown),
		cmocka_unit_test_setup_teardown(test_path_and_require, setup, teardown),
		cmocka_unit_test_setup_teardown(test_domains_and_schemes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_uri_equivalence_and_aor, setup, teardown),
		cmocka_unit_test_setup_teardown(test_contact_bytes_exact, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_methods, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_request_answered_with_fault, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_folded_headers_in_reply, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_aors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expiry_timer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expire_after_refresh, setup, teardown),
		cmocka_unit_test_setup_teardown(test_operator_remove, setup, teardown),
		cmocka_unit_test_setup_teardown(test_record_too_large, setup, teardown),
	};
	int rc;

	urcu_qsbr_register_thread();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	urcu_qsbr_unregister_thread();
	return rc;
}
