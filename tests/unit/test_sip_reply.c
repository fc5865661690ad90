/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Response building (dataplane/sip_reply.c): the short-span scans against a
 * plain loop at every length and position with the span flush against a
 * guard page, the decimal writer, the To-tag, the top Via rewrite
 * (RFC 3261 §18.2.1, RFC 3581 §4) and one whole reply byte for byte.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "sip_reply.h"
#include "testutil.h"

/* spr_find_byte and spr_has_cr at every length up to 80, the byte nowhere and at each position. */
static void
test_scans_every_position(void **state)
{
	(void)state;
	for (uint32_t len = 0; len <= 80; len++) {
		for (int32_t at = -1; at < (int32_t)len; at++) {
			char buf[80], dst[82];
			char *g;
			const char *want = NULL;

			memset(buf, 'a', sizeof(buf));
			if (at >= 0) {
				buf[at] = '\r';
				want = buf + at;
			}
			/* a second CR later must not hide the first */
			if (at >= 0 && at + 5 < (int32_t)len)
				buf[at + 5] = '\r';
			g = spr_test_guard_copy(buf, len);
			assert_non_null(g);
			assert_int_equal(spr_has_cr(g, len), at >= 0);
			if (want == NULL)
				assert_null(spr_find_byte(g, len, '\r'));
			else
				assert_ptr_equal(spr_find_byte(g, len, '\r'), g + at);
			/* the one-pass copy: same bytes and verdict, nothing written around */
			memset(dst, '#', sizeof(dst));
			assert_int_equal(spr_copy_has_cr(dst + 1, g, len), at >= 0);
			assert_memory_equal(dst + 1, buf, len);
			assert_int_equal(dst[0], '#');
			assert_int_equal(dst[len + 1], '#');
			/* bytes that differ from CR in one bit are not CR */
			memset(buf, '\r' ^ 0x80, len);
			spr_test_guard_free(g, len);
			g = spr_test_guard_copy(buf, len);
			assert_false(spr_has_cr(g, len));
			spr_test_guard_free(g, len);
		}
	}
}

static void
test_u32(void **state)
{
	static const uint32_t v[] = {0,	     1,	     9,	      10,	   99,	       100,
				     999,    1000,   9999,    10000,	   65535,      99999,
				     100000, 999999, 1000000, 4294967295u, 1234567890, 3600};
	char buf[16], want[16];
	struct spr_wbuf w;

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		int n = snprintf(want, sizeof(want), "%u", v[i]);

		spr_wbuf_init(&w, buf, sizeof(buf));
		spr_wbuf_u32(&w, v[i]);
		assert_false(w.overflow);
		assert_int_equal(w.len, n);
		assert_memory_equal(buf, want, (size_t)n);
		/* one byte short: overflow, nothing written */
		spr_wbuf_init(&w, buf, (uint32_t)n - 1);
		spr_wbuf_u32(&w, v[i]);
		assert_true(w.overflow);
		assert_int_equal(w.len, 0);
	}
}

/* A REGISTER whose top Via field is via (CRLF line ends added). */
static int
parse_with_via(const char *via, struct spr_sip_msg *m, char **buf)
{
	char text[1024];
	struct spr_sip_limits lim;
	uint32_t len;

	snprintf(text, sizeof(text),
		 "REGISTER sip:example.com SIP/2.0\n"
		 "Via: %s\n"
		 "From: <sip:alice@example.com>;tag=ft1\n"
		 "To: <sip:alice@example.com>\n"
		 "Call-ID: c1@h\n"
		 "CSeq: 7 REGISTER\n"
		 "Content-Length: 0\n"
		 "\n",
		 via);
	*buf = spr_test_crlf(text, &len);
	if (*buf == NULL)
		return -1;
	spr_sip_limits_default(&lim);
	return spr_sip_parse(*buf, len, &lim, m);
}

static const struct spr_peer src4 = {.family = AF_INET, .port = 5070, .addr = {192, 0, 2, 7}};

/* The "Via: ..." line of a 200 to a request with that top Via, from src. */
static void
via_line(const char *via, const struct spr_peer *src, char *out, size_t cap)
{
	static struct spr_sip_msg m;
	char *buf, reply[2048], *nl;
	struct spr_wbuf w;

	assert_true(parse_with_via(via, &m, &buf) > 0);
	spr_wbuf_init(&w, reply, sizeof(reply) - 1);
	spr_sip_reply_head(&w, &m, src, 200, "OK", NULL);
	assert_false(w.overflow);
	reply[w.len] = '\0';
	nl = strstr(reply, "\r\nVia: ");
	assert_non_null(nl);
	nl += 2;
	snprintf(out, cap, "%.*s", (int)(strstr(nl, "\r\n") - nl), nl);
	free(buf);
}

static void
test_top_via(void **state)
{
	static const struct {
		const char *in, *out;
	} c[] = {
		{"SIP/2.0/UDP h.example.com;branch=z9hG4bKa;rport",
		 "Via: SIP/2.0/UDP h.example.com;branch=z9hG4bKa;received=192.0.2.7;rport=5070"},
		{"SIP/2.0/UDP h;rport;branch=z9hG4bKa",
		 "Via: SIP/2.0/UDP h;branch=z9hG4bKa;received=192.0.2.7;rport=5070"},
		{"SIP/2.0/UDP h;received=198.51.100.1;branch=z9hG4bKa",
		 "Via: SIP/2.0/UDP h;branch=z9hG4bKa;received=192.0.2.7"},
		{"SIP/2.0/UDP h;branch=z9hG4bKa;rport=1234;received=198.51.100.1;x=1",
		 "Via: SIP/2.0/UDP h;branch=z9hG4bKa;x=1;received=192.0.2.7;rport=5070"},
		{"SIP/2.0/UDP h;branch=z9hG4bKa;RPort",
		 "Via: SIP/2.0/UDP h;branch=z9hG4bKa;received=192.0.2.7;rport=5070"},
		{"SIP/2.0/UDP h;branch=z9hG4bKa;rportx=1",
		 "Via: SIP/2.0/UDP h;branch=z9hG4bKa;rportx=1;received=192.0.2.7"},
		{"SIP/2.0/UDP h;branch=z9hG4bKa ; rport",
		 "Via: SIP/2.0/UDP h;branch=z9hG4bKa ;received=192.0.2.7;rport=5070"},
		{"SIP/2.0/UDP h;branch=z9hG4bKa, SIP/2.0/UDP g;branch=z9hG4bKb;rport",
		 "Via: SIP/2.0/UDP h;branch=z9hG4bKa;received=192.0.2.7"}, /* only the first is ours
									    */
		{"SIP/2.0/UDP h\n ;branch=z9hG4bKa;rport",
		 "Via: SIP/2.0/UDP h ;branch=z9hG4bKa;received=192.0.2.7;rport=5070"},
	};
	char got[512];

	(void)state;
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		via_line(c[i].in, &src4, got, sizeof(got));
		assert_string_equal(got, c[i].out);
	}
}

/*
 * The top Via with a received and an rport parameter at every offset across
 * the 16-byte blocks the one-pass copy works in, with parameters to keep
 * around them; more parameters than that copy keeps track of; under 16
 * bytes. Expected: the same Via with those two parameters cut and ours appended.
 */
static void
test_top_via_positions(void **state)
{
	char in[512], out[512], got[512], pad[64];

	(void)state;
	for (uint32_t k = 0; k < 48; k++) {
		memset(pad, 'a', k);
		pad[k] = '\0';
		snprintf(in, sizeof(in),
			 "SIP/2.0/UDP h;x=a%s;rport;branch=z9hG4bKa;RECEIVED=1.2.3.4;y", pad);
		snprintf(out, sizeof(out),
			 "Via: SIP/2.0/UDP h;x=a%s;branch=z9hG4bKa;y;received=192.0.2.7;rport=5070",
			 pad);
		via_line(in, &src4, got, sizeof(got));
		assert_string_equal(got, out);
		/* several ';' in the bytes the last block overlaps, one of them cut */
		snprintf(in, sizeof(in), "SIP/2.0/UDP h;branch=z9hG4bK%s;rport;a;b", pad);
		snprintf(out, sizeof(out),
			 "Via: SIP/2.0/UDP h;branch=z9hG4bK%s;a;b;received=192.0.2.7;rport=5070",
			 pad);
		via_line(in, &src4, got, sizeof(got));
		assert_string_equal(got, out);
		snprintf(in, sizeof(in), "SIP/2.0/UDP h%s;received=1.2.3.4;branch=z9hG4bKa;rport=9",
			 pad);
		snprintf(out, sizeof(out),
			 "Via: SIP/2.0/UDP h%s;branch=z9hG4bKa;received=192.0.2.7;rport=5070", pad);
		via_line(in, &src4, got, sizeof(got));
		assert_string_equal(got, out);
	}
	via_line("SIP/2.0/UDP h;a;b;c;d;e;f;g;h;i;j;k;l;m;n;o;p;q;rport;r;branch=z9hG4bKa", &src4,
		 got, sizeof(got));
	assert_string_equal(got, "Via: SIP/2.0/UDP h;a;b;c;d;e;f;g;h;i;j;k;l;m;n;o;p;q;r;"
				 "branch=z9hG4bKa;received=192.0.2.7;rport=5070");
	via_line("SIP/2.0/UDP h", &src4, got, sizeof(got));
	assert_string_equal(got, "Via: SIP/2.0/UDP h;received=192.0.2.7");
}

/* Dotted quads of every byte value in every position, as inet_ntop writes them. */
static void
test_ipv4_format(void **state)
{
	struct spr_peer p = {.family = AF_INET};
	char want[32], got[32];

	(void)state;
	for (uint32_t pos = 0; pos < 4; pos++) {
		for (uint32_t v = 0; v < 256; v++) {
			uint32_t n;

			memset(p.addr, pos == 0 ? 255 : 1, 4);
			p.addr[pos] = (uint8_t)v;
			snprintf(want, sizeof(want), "%u.%u.%u.%u", p.addr[0], p.addr[1], p.addr[2],
				 p.addr[3]);
			for (uint32_t cap = 15; cap <= 16; cap++) {
				memset(got, '#', sizeof(got));
				n = spr_peer_format(&p, got, cap);
				assert_int_equal(n, strlen(want));
				assert_memory_equal(got, want, n);
				assert_true(n + (cap == 15 ? 0 : 1) <= cap);
				assert_int_equal(got[cap], '#'); /* never past cap */
			}
		}
	}
}

/* Folded lines in the copied headers: each fold written as one SP. */
static void
test_folded_head(void **state)
{
	static struct spr_sip_msg m;
	struct spr_sip_limits lim;
	char *buf, out[2048];
	struct spr_wbuf w;
	uint32_t len;
	const char *want = "SIP/2.0 200 OK\r\n"
			   "Via: SIP/2.0/UDP h ;branch=z9hG4bKa;received=192.0.2.7\r\n"
			   "Via: SIP/2.0/UDP g.example.com ;branch=z9hG4bKb\r\n"
			   "From: <sip:alice@example.com> ;tag=ft1\r\n"
			   "To: <sip:alice@example.com> ;tag=tt1\r\n"
			   "Call-ID: c1@h.example.com\r\n"
			   "CSeq: 7 REGISTER\r\n";

	(void)state;
	buf = spr_test_crlf("REGISTER sip:example.com SIP/2.0\n"
			    "Via: SIP/2.0/UDP h\n ;branch=z9hG4bKa\n"
			    "Via: SIP/2.0/UDP g.example.com\n\t ;branch=z9hG4bKb\n"
			    "From: <sip:alice@example.com>\n ;tag=ft1\n"
			    "To: <sip:alice@example.com>\n ;tag=tt1\n"
			    "Call-ID: c1@h.example.com\n"
			    "CSeq: 7 REGISTER\n"
			    "Content-Length: 0\n"
			    "\n",
			    &len);
	assert_non_null(buf);
	spr_sip_limits_default(&lim);
	assert_true(spr_sip_parse(buf, len, &lim, &m) > 0);
	spr_wbuf_init(&w, out, sizeof(out));
	spr_sip_reply_head(&w, &m, &src4, 200, "OK", NULL);
	assert_false(w.overflow);
	assert_int_equal(w.len, strlen(want));
	assert_memory_equal(out, want, w.len);
	free(buf);
}

static void
test_top_via_ipv6(void **state)
{
	struct spr_peer src6 = {
		.family = AF_INET6, .port = 5060, .addr = {0x20, 0x01, 0x0d, 0xb8, [15] = 1}};
	char got[512];

	(void)state;
	via_line("SIP/2.0/UDP [2001:db8::1];branch=z9hG4bKa;rport", &src6, got, sizeof(got));
	assert_string_equal(
		got,
		"Via: SIP/2.0/UDP [2001:db8::1];branch=z9hG4bKa;received=[2001:db8::1];rport=5060");
}

static void
test_to_tag(void **state)
{
	struct spr_sip_msg m;
	char a[16], b[16];
	char ids[300][16];

	(void)state;
	memset(&m, 0, sizeof(m));
	m.call_id = SPR_STR("u0000001-5a6b7c8d9e0f1a2b@10.1.2.3");
	m.from.tag = SPR_STR("9f8e7d6c5b4a");
	spr_sip_to_tag(&m, a);
	spr_sip_to_tag(&m, b);
	assert_memory_equal(a, b, 16); /* a retransmission gets the same tag */
	for (int i = 0; i < 16; i++)
		assert_true((a[i] >= '0' && a[i] <= '9') || (a[i] >= 'a' && a[i] <= 'f'));
	/* every Call-ID length 0..299 (all tails), and a one-byte change, give another tag */
	for (uint32_t n = 0; n < 300; n++) {
		static char cid[300];

		memset(cid, 'x', sizeof(cid));
		m.call_id = (struct spr_str){cid, n};
		spr_sip_to_tag(&m, ids[n]);
		for (uint32_t k = 0; k < n; k++)
			assert_memory_not_equal(ids[k], ids[n], 16);
	}
	m.call_id = SPR_STR("c1");
	m.from.tag = SPR_STR("t1");
	spr_sip_to_tag(&m, a);
	m.from.tag = SPR_STR("t2");
	spr_sip_to_tag(&m, b);
	assert_memory_not_equal(a, b, 16);
}

/* The whole 200 to the benchmark REGISTER, byte for byte (the tag checked apart). */
static void
test_whole_reply(void **state)
{
	static struct spr_sip_msg m;
	struct spr_reply_cfg cfg = {.server = SPR_STR("sprd/0.1.0")};
	struct spr_now now = {0};
	struct spr_sip_limits lim;
	char *buf, out[2048], tag[16];
	struct spr_wbuf w;
	uint32_t len;
	const char *want =
		"SIP/2.0 200 OK\r\n"
		"Via: SIP/2.0/UDP 10.1.2.3:5060;branch=z9hG4bK-524287-1---a1b2c3d4e5f6a7b8;"
		"received=192.0.2.7;rport=5070\r\n"
		"From: <sip:u0000001@example.com>;tag=9f8e7d6c5b4a\r\n"
		"To: <sip:u0000001@example.com>;tag=XXXXXXXXXXXXXXXX\r\n"
		"Call-ID: u0000001-5a6b7c8d9e0f1a2b@10.1.2.3\r\n"
		"CSeq: 42 REGISTER\r\n"
		"Server: sprd/0.1.0\r\n"
		"Date: Tue, 14 Nov 2023 22:13:20 GMT\r\n"
		"Content-Length: 0\r\n"
		"\r\n";
	char *want_t = strdup(want), *t;

	(void)state;
	buf = spr_test_crlf(
		"REGISTER sip:example.com SIP/2.0\n"
		"Via: SIP/2.0/UDP 10.1.2.3:5060;branch=z9hG4bK-524287-1---a1b2c3d4e5f6a7b8;rport\n"
		"Max-Forwards: 70\n"
		"Contact: <sip:u0000001@10.1.2.3:5060;transport=udp>;expires=3600\n"
		"To: <sip:u0000001@example.com>\n"
		"From: <sip:u0000001@example.com>;tag=9f8e7d6c5b4a\n"
		"Call-ID: u0000001-5a6b7c8d9e0f1a2b@10.1.2.3\n"
		"CSeq: 0000000042 REGISTER\n"
		"Content-Length: 0\n"
		"\n",
		&len);
	assert_non_null(buf);
	assert_non_null(want_t);
	spr_sip_limits_default(&lim);
	assert_true(spr_sip_parse(buf, len, &lim, &m) > 0);
	spr_now_set(&now, 1700000000);
	spr_sip_to_tag(&m, tag);
	t = strstr(want_t, "XXXXXXXXXXXXXXXX");
	memcpy(t, tag, 16);
	spr_wbuf_init(&w, out, sizeof(out));
	spr_sip_reply_head(&w, &m, &src4, 200, "OK", NULL);
	spr_sip_reply_tail(&w, &cfg, &now, NULL);
	assert_false(w.overflow);
	assert_int_equal(w.len, strlen(want_t));
	assert_memory_equal(out, want_t, w.len);
	/* every shorter buffer overflows; the reply never passes its cap */
	for (uint32_t cap = 0; cap < w.len; cap++) {
		struct spr_wbuf s;

		spr_wbuf_init(&s, out, cap);
		spr_sip_reply_head(&s, &m, &src4, 200, "OK", NULL);
		spr_sip_reply_tail(&s, &cfg, &now, NULL);
		assert_true(s.overflow);
		assert_true(s.len <= cap);
	}
	free(want_t);
	free(buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scans_every_position),
		cmocka_unit_test(test_u32),
		cmocka_unit_test(test_top_via),
		cmocka_unit_test(test_top_via_positions),
		cmocka_unit_test(test_ipv4_format),
		cmocka_unit_test(test_folded_head),
		cmocka_unit_test(test_top_via_ipv6),
		cmocka_unit_test(test_to_tag),
		cmocka_unit_test(test_whole_reply),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
