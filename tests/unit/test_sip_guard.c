/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The parser never reads at or past buf + len: every message, whole and cut
 * at every length, is parsed flush against a PROT_NONE page (a stray read
 * faults). Also every URI prefix through spr_sip_uri_parse.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <spr/sip_msg.h>

#include "testutil.h"

static const char *const messages[] = {
	"REGISTER sip:registrar.example.com SIP/2.0\n"
	"Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK776asdhds;rport;received=192.0.2.99\n"
	"Via: SIP/2.0/TLS [2001:db8::1]:5061;branch=z9hG4bKa, SIP/2.0/UDP h;rport=5\n"
	"Max-Forwards: 70\n"
	"To: Bob <sip:bob@example.com>\n"
	"From: \"Bob \\\"B\\\"\" <sip:bob@example.com>;tag=456248\n"
	"Call-ID: 843817637684230@998sdasdh09\n"
	"CSeq: 1826 REGISTER\n"
	"Contact: <sip:bob@192.0.2.10:5062;transport=udp>;expires=3600;q=0.7"
	";+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-000A95A0E128>\";reg-id=1,\n"
	" sip:x@y;q=1, \"A, B\" <sip:ab@h?x=y>\n"
	"Expires: 7200\n"
	"Supported: path, outbound\n"
	"Path: <sip:p1.example.com;lr>\n"
	"Event: presence;id=1\n"
	"Authorization: Bearer abc.def-_~+/==\n"
	"Content-Type: text/plain;charset=utf-8\n"
	"Content-Length: 5\n"
	"\n"
	"hello",
	"SIP/2.0 200 OK\n"
	"Via: SIP/2.0/UDP h;branch=z9hG4bK1\n"
	"From: <sip:a@b>;tag=1\nTo: <sip:a@b>;tag=2\nCall-ID: x\nCSeq: 1 NOTIFY\n"
	"Content-Length: 0\n\n",
	"OPTIONS sip:user@example.com SIP/2.0\n"
	"Via  : SIP  /   2.0\n /UDP\n    192.0.2.2;branch=390skdjuw\n"
	"TO :\n sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n\n"
	"from   : \"J Rosenberg \\\\\\\"\"       <sip:jdrosen@example.com>\n  ;\n  tag = 98asjd8\n"
	"Call-ID: a@b\ncseq: 0009\n  OPTIONS\nl: 0\n\n",
	"INVITE sip:bob@example.com SIP/7.0\nVia: SIP/2.0/UDP 192.0.2.15;;,;,,\n"
	"Contact: \"Joe\" <sip:joe@example.org>;;;;\nFrom: Bell, A <sip:a@b>\nTo: \"x <sip:y>\n"
	"CSeq: -1 X\nCall-ID: a b\nMax-Forwards: 300\nContent-Length: 99\n\nshort",
	"\n\nREGISTER sip:a SIP/2.0\nv:SIP/2.0/UDP [::1]:5\nf:sip:a@b;tag=1\nt:sip:a@b\n"
	"i:c\nCSeq:1 REGISTER\nm:*\n\n",
};

static void
parse_all_prefixes(const char *buf, uint32_t len, struct spr_sip_msg *m)
{
	for (uint32_t cut = 0; cut <= len; cut++) {
		char *g = spr_test_guard_copy(buf, cut);
		int rc;

		assert_non_null(g);
		rc = spr_sip_parse(g, cut, NULL, m);
		assert_true(rc == -EAGAIN || rc == -EBADMSG || (rc > 0 && (uint32_t)rc <= cut));
		spr_test_guard_free(g, cut);
	}
}

static void
test_guard_messages(void **state)
{
	struct spr_sip_msg *m = malloc(sizeof(*m));

	(void)state;
	assert_non_null(m);
	for (unsigned i = 0; i < sizeof(messages) / sizeof(messages[0]); i++) {
		uint32_t len;
		char *text = spr_test_crlf(messages[i], &len);

		assert_non_null(text);
		parse_all_prefixes(text, len, m);
		free(text);
	}
	free(m);
}

/* A valid message cut anywhere inside its header section needs more bytes. */
static void
test_guard_truncated_valid(void **state)
{
	struct spr_sip_msg *m = malloc(sizeof(*m));
	uint32_t len, hdr;
	char *text = spr_test_crlf(messages[0], &len);
	const char *blank = strstr(text, "\r\n\r\n");

	(void)state;
	assert_non_null(blank);
	hdr = (uint32_t)(blank - text) + 4;
	for (uint32_t cut = 0; cut < hdr; cut++) {
		char *g = spr_test_guard_copy(text, cut);
		int rc = spr_sip_parse(g, cut, NULL, m);
		if (rc != -EAGAIN || m->err != SPR_SIP_ERR_TRUNCATED)
			fail_msg("cut %u: rc %d err %s", cut, rc,
				 spr_sip_err_name((enum spr_sip_err)m->err));
		spr_test_guard_free(g, cut);
	}
	for (uint32_t cut = hdr; cut < len; cut++) {
		char *g = spr_test_guard_copy(text, cut);
		assert_int_equal(spr_sip_parse(g, cut, NULL, m), -EBADMSG);
		assert_int_equal(m->err, SPR_SIP_ERR_BODY_TOO_SHORT);
		spr_test_guard_free(g, cut);
	}
	free(text);
	free(m);
}

/* Every torture message of RFC 4475 too, when the corpus is there. */
static void
test_guard_rfc4475(void **state)
{
	static const char *const names[] = {
		"wsinv",      "intmeth",  "esc01",     "escnull",    "esc02",	 "lwsdisp",
		"longreq",    "dblreq",	  "semiuri",   "transports", "mpart01",	 "unreason",
		"noreason",   "badinv01", "clerr",     "ncl",	     "scalar02", "scalarlg",
		"quotbal",    "ltgtruri", "lwsruri",   "lwsstart",   "trws",	 "escruri",
		"baddate",    "regbadct", "badaspec",  "baddn",	     "badvers",	 "mismatch01",
		"mismatch02", "bigcode",  "badbranch", "insuf",	     "unkscm",	 "novelsc",
		"unksm2",     "bext01",	  "invut",     "regaut01",   "multi01",	 "mcl01",
		"bcast",      "zeromf",	  "cparam01",  "cparam02",   "regescrt", "sdp01",
		"inv2543",
	};
	struct spr_sip_msg *m;

	(void)state;
	if (spr_test_datadir() == NULL) {
		printf("SKIP: no test corpus ($SPR_TESTDATA or ../shared/testdata)\n");
		skip();
	}
	m = malloc(sizeof(*m));
	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char path[4096];
		uint32_t len;
		char *raw;

		snprintf(path, sizeof(path), "%s/rfc4475/%s.dat", spr_test_datadir(), names[i]);
		raw = spr_test_read_file(path, &len);
		if (raw == NULL)
			fail_msg("cannot read %s", path);
		parse_all_prefixes(raw, len, m);
		free(raw);
	}
	free(m);
}

static void
test_guard_uris(void **state)
{
	static const char *const uris[] = {
		"sips:alice:secret@[2001:db8::10]:5061;transport=tcp;lr?subject=x&h=",
		"sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/"
		";;*:&it+has=1,weird!*pas$wo~d_too."
		"(doesn't-it)@example.com",
		"sip:%61lice@atlanta.com;%6C%72;n%61me=v%61lue%25%34%31",
		"sip:a%4",
		"soap.beep://192.0.2.103:3002",
	};
	struct spr_sip_uri a, b;

	(void)state;
	for (unsigned i = 0; i < sizeof(uris) / sizeof(uris[0]); i++) {
		uint32_t len = (uint32_t)strlen(uris[i]);
		char *whole = spr_test_guard_copy(uris[i], len);
		int wrc = spr_sip_uri_parse(whole, len, &b);

		for (uint32_t cut = 0; cut <= len; cut++) {
			char *g = spr_test_guard_copy(uris[i], cut);
			char out[256];
			int rc = spr_sip_uri_parse(g, cut, &a);

			assert_true(rc == 0 || rc == -EBADMSG);
			if (rc == 0) {
				(void)spr_sip_aor_normalize(&a, out, sizeof(out));
				if (wrc == 0)
					(void)spr_sip_uri_eq(&a, &b);
			}
			spr_test_guard_free(g, cut);
		}
		spr_test_guard_free(whole, len);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_guard_messages),
		cmocka_unit_test(test_guard_truncated_valid),
		cmocka_unit_test(test_guard_rfc4475),
		cmocka_unit_test(test_guard_uris),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
