/* SPDX-License-Identifier: BSD-3-Clause */
/* SIP-URI parsing, RFC 3261 §19.1.4 equality and §10.3 AOR normalisation. */
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

#define assert_str(s, lit) assert_str_((s), (lit), __FILE__, __LINE__)

static void
assert_str_(struct spr_str s, const char *lit, const char *file, int line)
{
	if (s.len != strlen(lit) || (s.len != 0 && memcmp(s.p, lit, s.len) != 0)) {
		print_error("got \"%.*s\", want \"%s\"\n", (int)s.len, s.p ? s.p : "", lit);
		_fail(file, line);
	}
}

/* Parse text from a guarded copy; the views stay valid until guard_free. */
static char *
guarded_parse(const char *text, struct spr_sip_uri *u, int *rc)
{
	uint32_t len = (uint32_t)strlen(text);
	char *g = spr_test_guard_copy(text, len);

	assert_non_null(g);
	*rc = spr_sip_uri_parse(g, len, u);
	return g;
}

static void
test_uri_parse(void **state)
{
	struct spr_sip_uri u;
	char *g;
	int rc;

	(void)state;
	g = guarded_parse("sips:alice:secret@[2001:db8::10]:5061;transport=tcp;lr?subject=x&h=", &u,
			  &rc);
	assert_int_equal(rc, 0);
	assert_int_equal(u.scheme_id, SPR_URI_SIPS);
	assert_str(u.scheme, "sips");
	assert_true(u.has_user);
	assert_str(u.user, "alice");
	assert_str(u.password, "secret");
	assert_str(u.host, "[2001:db8::10]");
	assert_int_equal(u.port, 5061);
	assert_str(u.params, "transport=tcp;lr");
	assert_str(u.headers, "subject=x&h=");
	assert_str(u.raw, "sips:alice:secret@[2001:db8::10]:5061;transport=tcp;lr?subject=x&h=");
	spr_test_guard_free(g, u.raw.len);

	g = guarded_parse("SIP:example.com", &u, &rc);
	assert_int_equal(rc, 0);
	assert_int_equal(u.scheme_id, SPR_URI_SIP);
	assert_false(u.has_user);
	assert_str(u.user, "");
	assert_str(u.host, "example.com");
	assert_int_equal(u.port, 0);
	spr_test_guard_free(g, u.raw.len);

	/* user may hold ';', '?', '/' and escapes (RFC 4475 §3.1.1.2, §3.1.1.9) */
	g = guarded_parse("sip:user;par=u%40example.net@example.com", &u, &rc);
	assert_int_equal(rc, 0);
	assert_str(u.user, "user;par=u%40example.net");
	assert_str(u.host, "example.com");
	assert_str(u.params, "");
	spr_test_guard_free(g, u.raw.len);

	g = guarded_parse("sip:%61lice@atlanta.com;%6C%72;n%61me=v%61lue%25%34%31", &u, &rc);
	assert_int_equal(rc, 0);
	assert_str(u.user, "%61lice");
	assert_str(u.params, "%6C%72;n%61me=v%61lue%25%34%31");
	spr_test_guard_free(g, u.raw.len);

	/* other schemes: only raw and scheme */
	g = guarded_parse("tel:+1-201-555-0123", &u, &rc);
	assert_int_equal(rc, 0);
	assert_int_equal(u.scheme_id, SPR_URI_TEL);
	assert_str(u.scheme, "tel");
	assert_str(u.host, "");
	spr_test_guard_free(g, u.raw.len);
	g = guarded_parse("soap.beep://192.0.2.103:3002", &u, &rc);
	assert_int_equal(rc, 0);
	assert_int_equal(u.scheme_id, SPR_URI_OTHER);
	assert_str(u.scheme, "soap.beep");
	spr_test_guard_free(g, u.raw.len);

	static const char *const bad[] = {
		"",
		"sip",
		"sip:",
		":x",
		"sip:@",
		"sip:a@",
		"sip:a@b@c",
		"sip:::::sip.no.invalid",
		"sip:host:",
		"sip:host:65536",
		"sip:host:1234567",
		"sip:host:12a",
		"sip:host;",
		"sip:host;;x",
		"sip:host;=x",
		"sip:host;x=",
		"sip:host?",
		"sip:host?a",
		"sip:host?=b",
		"sip:a%4@host",
		"sip:a%zz@host",
		"sip:a b@host",
		"sip:a@ho st",
		"sip:a@[::1",
		"sip:a@[]",
		"sip:a@[zz::1]",
		"sip:a:p:q@host",
		"sip:a@host>",
		"<sip:a@host>",
		" sip:a@host",
		"sip:a@host ",
		"other:",
		"other:a b",
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		g = guarded_parse(bad[i], &u, &rc);
		if (rc != -EBADMSG)
			fail_msg("\"%s\" parsed", bad[i]);
		spr_test_guard_free(g, (uint32_t)strlen(bad[i]));
	}
}

static bool
uri_eq_text(const char *a, const char *b)
{
	struct spr_sip_uri ua, ub;
	char *ga, *gb;
	int ra, rb;
	bool eq, eq2;

	ga = guarded_parse(a, &ua, &ra);
	gb = guarded_parse(b, &ub, &rb);
	if (ra != 0 || rb != 0)
		fail_msg("cannot parse \"%s\" or \"%s\"", a, b);
	eq = spr_sip_uri_eq(&ua, &ub);
	eq2 = spr_sip_uri_eq(&ub, &ua);
	if (eq != eq2)
		fail_msg("not symmetric: \"%s\" \"%s\"", a, b);
	spr_test_guard_free(ga, (uint32_t)strlen(a));
	spr_test_guard_free(gb, (uint32_t)strlen(b));
	return eq;
}

/* RFC 3261 §19.1.4, the equivalent URIs, verbatim. */
static void
test_uri_eq_rfc(void **state)
{
	(void)state;
	assert_true(uri_eq_text("sip:%61lice@atlanta.com;transport=TCP",
				"sip:alice@AtLanTa.CoM;Transport=tcp"));
	assert_true(uri_eq_text("sip:carol@chicago.com", "sip:carol@chicago.com;newparam=5"));
	assert_true(uri_eq_text("sip:carol@chicago.com", "sip:carol@chicago.com;security=on"));
	assert_true(uri_eq_text("sip:carol@chicago.com;newparam=5",
				"sip:carol@chicago.com;security=on"));
	assert_true(uri_eq_text(
		"sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com",
		"sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com"));
	assert_true(uri_eq_text("sip:alice@atlanta.com?subject=project%20x&priority=urgent",
				"sip:alice@atlanta.com?priority=urgent&subject=project%20x"));
}

/* RFC 3261 §19.1.4, the URIs that are not equivalent, verbatim. */
static void
test_uri_ne_rfc(void **state)
{
	(void)state;
	/* different usernames */
	assert_false(uri_eq_text("SIP:ALICE@AtLanTa.CoM;Transport=udp",
				 "sip:alice@AtLanTa.CoM;Transport=UDP"));
	/* can resolve to different ports */
	assert_false(uri_eq_text("sip:bob@biloxi.com", "sip:bob@biloxi.com:5060"));
	/* can resolve to different transports */
	assert_false(uri_eq_text("sip:bob@biloxi.com", "sip:bob@biloxi.com;transport=udp"));
	/* can resolve to different port and transports */
	assert_false(uri_eq_text("sip:bob@biloxi.com", "sip:bob@biloxi.com:6000;transport=tcp"));
	/* different header component */
	assert_false(uri_eq_text("sip:carol@chicago.com",
				 "sip:carol@chicago.com?Subject=next%20meeting"));
	/* even though that's what phone21.boxesbybob.com resolves to */
	assert_false(uri_eq_text("sip:bob@phone21.boxesbybob.com", "sip:bob@192.0.2.4"));
}

static void
test_uri_eq_more(void **state)
{
	(void)state;
	/* scheme */
	assert_false(uri_eq_text("sip:a@b", "sips:a@b"));
	assert_true(uri_eq_text("SIPS:a@b", "sips:a@b"));
	/* user present vs absent; password is part of userinfo */
	assert_false(uri_eq_text("sip:b", "sip:a@b"));
	assert_false(uri_eq_text("sip:a:x@b", "sip:a@b"));
	assert_true(uri_eq_text("sip:a:%78@b", "sip:a:x@b"));
	/* a reserved character escaped is not the character */
	assert_false(uri_eq_text("sip:a%3Bb@h", "sip:a;b@h"));
	assert_true(uri_eq_text("sip:a%3bb@h", "sip:a%3Bb@h"));
	/* user, ttl, method, maddr must match when present in either */
	assert_false(uri_eq_text("sip:a@b;user=phone", "sip:a@b"));
	assert_false(uri_eq_text("sip:a@b;ttl=1", "sip:a@b"));
	assert_false(uri_eq_text("sip:a@b;method=INVITE", "sip:a@b"));
	assert_false(uri_eq_text("sip:a@b;maddr=x", "sip:a@b"));
	assert_false(uri_eq_text("sip:a@b;maddr=x", "sip:a@b;maddr=y"));
	assert_true(uri_eq_text("sip:a@b;maddr=X;lr", "sip:a@b;MADDR=x"));
	/* other parameters compared only when in both */
	assert_false(uri_eq_text("sip:a@b;foo=1", "sip:a@b;foo=2"));
	assert_false(uri_eq_text("sip:a@b;lr", "sip:a@b;lr=on"));
	assert_true(uri_eq_text("sip:a@b;f%6Fo=%41", "sip:a@b;FOO=a"));
	/* headers are never ignored */
	assert_false(uri_eq_text("sip:a@b?x=1", "sip:a@b?x=1&y=2"));
	assert_false(uri_eq_text("sip:a@b?x=1", "sip:a@b?x=2"));
	/* hosts compare case-insensitively, IPv6 too */
	assert_true(uri_eq_text("sip:a@[2001:DB8::1]", "sip:a@[2001:db8::1]"));
	assert_false(uri_eq_text("sip:a@h:5060", "sip:a@h:5061"));
	/* other schemes compare their bytes */
	assert_true(uri_eq_text("tel:+123", "tel:+123"));
	assert_false(uri_eq_text("tel:+123", "tel:+124"));
}

static void
aor_text(const char *uri, char *out, uint32_t cap, int *rc)
{
	struct spr_sip_uri u;
	int prc;
	char *g = guarded_parse(uri, &u, &prc);

	assert_int_equal(prc, 0);
	*rc = spr_sip_aor_normalize(&u, out, cap);
	spr_test_guard_free(g, (uint32_t)strlen(uri));
}

static void
test_aor(void **state)
{
	char out[128];
	int rc;

	(void)state;
	aor_text("sip:%61lice@AtLanTa.CoM;transport=tcp?x=y", out, sizeof(out), &rc);
	assert_int_equal(rc, 17);
	assert_memory_equal(out, "alice@atlanta.com", 17);

	aor_text("sips:Bob:pw@Example.COM:5061;user=phone", out, sizeof(out), &rc);
	assert_int_equal(rc, 20);
	assert_memory_equal(out, "Bob@example.com:5061", 20);

	/* %00 yields a NUL octet; the result is length-delimited (RFC 4475 §3.1.1.4) */
	aor_text("sip:null-%00-null@example.com", out, sizeof(out), &rc);
	assert_int_equal(rc, 23);
	assert_memory_equal(out, "null-\0-null@example.com", 23);
	aor_text("sip:%00%00@host5.example.com", out, sizeof(out), &rc);
	assert_int_equal(rc, 20);
	assert_memory_equal(out, "\0\0@host5.example.com", 20);

	/* a reserved character decodes too: the AOR is the unescaped form */
	aor_text("sip:a%3Bb@h", out, sizeof(out), &rc);
	assert_int_equal(rc, 5);
	assert_memory_equal(out, "a;b@h", 5);

	aor_text("sip:example.com", out, sizeof(out), &rc);
	assert_int_equal(rc, -EINVAL);
	aor_text("sip:@example.com", out, sizeof(out), &rc);
	assert_int_equal(rc, -EINVAL);
	aor_text("tel:+12015550123", out, sizeof(out), &rc);
	assert_int_equal(rc, -EINVAL);
	aor_text("mailto:a@b", out, sizeof(out), &rc);
	assert_int_equal(rc, -EINVAL);

	/* every capacity below the size fails, the exact size fits */
	for (uint32_t cap = 0; cap < 22; cap++) {
		aor_text("sip:us%65r@Host.example:5060", out, cap, &rc);
		if (rc != -ENOSPC)
			fail_msg("cap %u: rc %d", cap, rc);
	}
	aor_text("sip:us%65r@Host.example:5060", out, 22, &rc);
	assert_int_equal(rc, 22);
	assert_memory_equal(out, "user@host.example:5060", 22);
}

/* The AOR by its definition, a byte at a time: what spr_sip_aor_normalize must give. */
static int
aor_reference(const struct spr_sip_uri *u, char *out, uint32_t cap)
{
	static const char hex[] = "0123456789abcdefABCDEF";
	uint32_t n = 0;
	char port[8];
	int np;

	for (uint32_t i = 0; i < u->user.len;) {
		const char *q = u->user.p + i;
		char c = *q;

		if (c == '%' && u->user.len - i >= 3 && q[1] && q[2] && strchr(hex, q[1]) &&
		    strchr(hex, q[2])) {
			char two[3] = {q[1], q[2], 0};
			c = (char)strtol(two, NULL, 16);
			i += 3;
		} else {
			i++;
		}
		if (n == cap)
			return -ENOSPC;
		out[n++] = c;
	}
	if (cap - n < 1 + u->host.len)
		return -ENOSPC;
	out[n++] = '@';
	for (uint32_t i = 0; i < u->host.len; i++) {
		char c = u->host.p[i];
		out[n++] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
	}
	if (u->port != 0) {
		np = snprintf(port, sizeof(port), "%u", (unsigned)u->port);
		if (cap - n < 1 + (uint32_t)np)
			return -ENOSPC;
		out[n++] = ':';
		memcpy(out + n, port, (size_t)np);
		n += (uint32_t)np;
	}
	return (int)n;
}

/*
 * Users and hosts of every byte value (escapes, stray '%', letters around 'A'/'Z'
 * and past 0x80), every host length to 40 so the 8-byte lower-casing meets
 * every tail, and capacities around the size: identical to the reference.
 */
static void
test_aor_reference(void **state)
{
	static const char pool[] = "%%%0aFfgG@AZaz[`{@\x80\xc1\xdaZ9-.";
	char user[48], host[48], want[128], got[128];
	uint32_t seed = 12345;

	(void)state;
	for (int round = 0; round < 20000; round++) {
		struct spr_sip_uri u = {.scheme_id = SPR_URI_SIP, .has_user = 1};
		uint32_t ul, hl;
		int rw, rg;

		seed = seed * 1103515245u + 12345u;
		ul = 1 + (seed >> 16) % 24;
		hl = 1 + round % 40;
		for (uint32_t i = 0; i < ul; i++) {
			seed = seed * 1103515245u + 12345u;
			user[i] = (seed >> 24) & 1 ? pool[(seed >> 16) % (sizeof(pool) - 1)]
						   : (char)(seed >> 16);
		}
		for (uint32_t i = 0; i < hl; i++) {
			seed = seed * 1103515245u + 12345u;
			host[i] = (seed >> 24) & 1 ? pool[(seed >> 16) % (sizeof(pool) - 1)]
						   : (char)(seed >> 16);
		}
		u.user = (struct spr_str){.p = user, .len = ul};
		u.host = (struct spr_str){.p = host, .len = hl};
		u.port = (round % 3 == 0) ? (uint16_t)(seed % 65536) : 0;
		for (uint32_t cap = 0; cap <= 80; cap += (cap < 60 ? 7 : 1)) {
			rw = aor_reference(&u, want, cap);
			rg = spr_sip_aor_normalize(&u, got, cap);
			if (rw != rg || (rw > 0 && memcmp(want, got, (size_t)rw) != 0))
				fail_msg("round %d cap %u: reference %d, got %d", round, cap, rw, rg);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uri_parse),  cmocka_unit_test(test_uri_eq_rfc),
		cmocka_unit_test(test_uri_ne_rfc), cmocka_unit_test(test_uri_eq_more),
		cmocka_unit_test(test_aor),  cmocka_unit_test(test_aor_reference),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
