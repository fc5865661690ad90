/* SPDX-License-Identifier: BSD-3-Clause */
/* spr_sip_parse(): start lines, every modelled header, faults, caps, RFC 4475 verdicts. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <spr/sip_msg.h>

#include "sip_scan.h"
#include "testutil.h"

/* A parsed message and the guarded buffer its views point into. */
struct pm {
	struct spr_sip_msg m;
	char *buf;
	uint32_t len;
	int rc;
};

static struct pm *
parse_lim(const char *text, const struct spr_sip_limits *lim)
{
	struct pm *pm = calloc(1, sizeof(*pm));
	char *crlf;

	assert_non_null(pm);
	crlf = spr_test_crlf(text, &pm->len);
	assert_non_null(crlf);
	pm->buf = spr_test_guard_copy(crlf, pm->len);
	assert_non_null(pm->buf);
	free(crlf);
	pm->rc = spr_sip_parse(pm->buf, pm->len, lim, &pm->m);
	return pm;
}

static struct pm *
parse(const char *text)
{
	return parse_lim(text, NULL);
}

static void
pm_free(struct pm *pm)
{
	spr_test_guard_free(pm->buf, pm->len);
	free(pm);
}

#define assert_str(s, lit) assert_str_((s), (lit), __FILE__, __LINE__)

static void
assert_str_(struct spr_str s, const char *lit, const char *file, int line)
{
	if (s.len != strlen(lit) || (s.len != 0 && memcmp(s.p, lit, s.len) != 0)) {
		print_error("got \"%.*s\" (%u), want \"%s\"\n", (int)s.len, s.p ? s.p : "", s.len,
			    lit);
		_fail(file, line);
	}
}

#define assert_err(pm, e) assert_err_((pm), (e), __FILE__, __LINE__)

static void
assert_err_(const struct pm *pm, enum spr_sip_err e, const char *file, int line)
{
	if (pm->rc != -EBADMSG || pm->m.err != e) {
		print_error("rc %d err %s, want -EBADMSG %s\n", pm->rc,
			    spr_sip_err_name((enum spr_sip_err)pm->m.err), spr_sip_err_name(e));
		_fail(file, line);
	}
}

#define assert_ok(pm) assert_ok_((pm), __FILE__, __LINE__)

static void
assert_ok_(const struct pm *pm, const char *file, int line)
{
	if (pm->rc != (int)pm->len || pm->m.err != SPR_SIP_ERR_NONE) {
		print_error("rc %d (len %u) err %s header \"%.*s\"\n", pm->rc, pm->len,
			    spr_sip_err_name((enum spr_sip_err)pm->m.err),
			    (int)pm->m.err_header.len,
			    pm->m.err_header.p ? pm->m.err_header.p : "");
		_fail(file, line);
	}
}

#define MANDATORY                                                                                  \
	"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds\n"                               \
	"From: <sip:bob@example.com>;tag=456248\n"                                                 \
	"To: <sip:bob@example.com>\n"                                                              \
	"Call-ID: 843817637684230@998sdasdh09\n"                                                   \
	"CSeq: 1826 REGISTER\n"

#define REG_LINE "REGISTER sip:example.com SIP/2.0\n"

/* ------------------------------------------------------------------------- */

static void
test_register_full(void **state)
{
	struct pm *pm = parse(
		"REGISTER sip:registrar.example.com:5070;transport=udp SIP/2.0\n"
		"Via: SIP/2.0/UDP "
		"192.0.2.10:5062;branch=z9hG4bK776asdhds;rport;received=192.0.2.99\n"
		"Max-Forwards: 70\n"
		"To: Bob <sip:bob@example.com>\n"
		"From: \"Bob \\\"B\\\" Smith\" <sip:bob@example.com>;tag=456248;x=y\n"
		"Call-ID: 843817637684230@998sdasdh09\n"
		"CSeq: 1826 REGISTER\n"
		"Contact: <sip:bob@192.0.2.10:5062;transport=udp>;expires=3600;q=0.7"
		";+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-000A95A0E128>\";reg-id=1\n"
		"Expires: 7200\n"
		"Min-Expires: 60\n"
		"Supported: path, outbound\n"
		"Require: path\n"
		"Proxy-Require: foo\n"
		"Accept: application/sdp, application/pidf+xml;q=0.5\n"
		"Path: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>\n"
		"Route: <sip:r1.example.com;lr>\n"
		"Record-Route: <sip:rr.example.com;lr>\n"
		"Event: presence;id=42\n"
		"Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJib2IifQ.c2ln-_~+/==\n"
		"SIP-If-Match: etag-1\n"
		"SIP-ETag: etag-2\n"
		"Subscription-State: active;expires=60\n"
		"User-Agent: test-ua/1.0 (unit)\n"
		"Date: Sat, 13 Nov 2010 23:29:00 GMT\n"
		"X-Custom: whatever, goes\n"
		"Content-Type: text/plain;charset=utf-8\n"
		"Content-Length: 5\n"
		"\n"
		"hello");
	const struct spr_sip_msg *m = &pm->m;
	const struct spr_sip_contact *c;

	(void)state;
	assert_ok(pm);
	assert_true(m->is_request);
	assert_true(m->start_ok);
	assert_int_equal(m->method, SPR_SIP_REGISTER);
	assert_str(m->method_str, "REGISTER");
	assert_str(m->ruri.raw, "sip:registrar.example.com:5070;transport=udp");
	assert_int_equal(m->ruri.scheme_id, SPR_URI_SIP);
	assert_str(m->ruri.host, "registrar.example.com");
	assert_int_equal(m->ruri.port, 5070);
	assert_str(m->ruri.params, "transport=udp");
	assert_false(m->ruri.has_user);

	assert_int_equal(m->n_via_fields, 1);
	assert_str(m->via_fields[0],
		   "SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK776asdhds;rport;received=192.0.2.99");
	assert_str(m->via.raw,
		   "SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK776asdhds;rport;received=192.0.2.99");
	assert_str(m->via.transport, "UDP");
	assert_str(m->via.host, "192.0.2.10");
	assert_int_equal(m->via.port, 5062);
	assert_str(m->via.branch, "z9hG4bK776asdhds");
	assert_str(m->via.received, "192.0.2.99");
	assert_true(m->via.has_rport);
	assert_false(m->via.has_rport_val);

	assert_true(m->has_max_forwards);
	assert_int_equal(m->max_forwards, 70);
	assert_str(m->to.raw, "Bob <sip:bob@example.com>");
	assert_str(m->to.display, "Bob");
	assert_str(m->to.uri.user, "bob");
	assert_false(m->to.has_tag);
	assert_str(m->from.display, "\"Bob \\\"B\\\" Smith\"");
	assert_str(m->from.uri.raw, "sip:bob@example.com");
	assert_true(m->from.has_tag);
	assert_str(m->from.tag, "456248");
	assert_str(m->from.params, "tag=456248;x=y");
	assert_str(m->call_id, "843817637684230@998sdasdh09");
	assert_int_equal(m->cseq, 1826);
	assert_str(m->cseq_method, "REGISTER");
	assert_int_equal(m->cseq_method_id, SPR_SIP_REGISTER);

	assert_int_equal(m->n_contact_fields, 1);
	assert_int_equal(m->n_contacts, 1);
	assert_false(m->contact_star);
	c = &m->contacts[0];
	assert_str(c->na.uri.raw, "sip:bob@192.0.2.10:5062;transport=udp");
	assert_str(c->na.display, "");
	assert_int_equal(c->flags, SPR_CONTACT_HAS_EXPIRES | SPR_CONTACT_HAS_REG_ID);
	assert_int_equal(c->expires, 3600);
	assert_int_equal(c->q, 700);
	assert_int_equal(c->reg_id, 1);
	assert_str(c->instance, "\"<urn:uuid:00000000-0000-1000-8000-000A95A0E128>\"");

	assert_true(m->has_expires);
	assert_int_equal(m->expires, 7200);
	assert_true(m->has_min_expires);
	assert_int_equal(m->min_expires, 60);
	assert_int_equal(m->supported.n, 2);
	assert_str(m->supported.v[0], "path");
	assert_str(m->supported.v[1], "outbound");
	assert_int_equal(m->require.n, 1);
	assert_str(m->proxy_require.v[0], "foo");
	assert_int_equal(m->accept.n, 2);
	assert_str(m->accept.v[1], "application/pidf+xml;q=0.5");
	assert_int_equal(m->path.n, 2);
	assert_str(m->path.v[1], "<sip:p2.example.com;lr>");
	assert_int_equal(m->route.n, 1);
	assert_int_equal(m->record_route.n, 1);
	assert_str(m->event, "presence");
	assert_str(m->event_id, "42");
	assert_str(m->auth_scheme, "Bearer");
	assert_str(m->bearer, "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJib2IifQ.c2ln-_~+/==");
	assert_str(m->auth_params, "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJib2IifQ.c2ln-_~+/==");
	assert_str(m->sip_if_match, "etag-1");
	assert_str(m->sip_etag, "etag-2");
	assert_str(m->subscription_state, "active;expires=60");
	assert_str(m->user_agent, "test-ua/1.0 (unit)");
	assert_str(m->date, "Sat, 13 Nov 2010 23:29:00 GMT");
	assert_str(m->content_type, "text/plain;charset=utf-8");
	assert_str(m->media_type, "text/plain");
	assert_true(m->has_content_length);
	assert_int_equal(m->content_length, 5);
	assert_str(m->body, "hello");
	assert_int_equal(m->n_unknown, 1);
	assert_int_equal(m->n_headers, 26);
	pm_free(pm);
}

static void
test_status_line(void **state)
{
	struct pm *pm;

	(void)state;
	pm = parse("SIP/2.0 200 OK then some\n" MANDATORY "\n");
	assert_ok(pm);
	assert_false(pm->m.is_request);
	assert_true(pm->m.start_ok);
	assert_int_equal(pm->m.status, 200);
	assert_str(pm->m.reason, "OK then some");
	pm_free(pm);

	/* empty reason phrase (RFC 4475 §3.1.1.13) */
	pm = parse("SIP/2.0 100 \n" MANDATORY "\n");
	assert_ok(pm);
	assert_int_equal(pm->m.status, 100);
	assert_str(pm->m.reason, "");
	pm_free(pm);

	/* responses need no CSeq method match, and no mandatory headers */
	pm = parse("SIP/2.0 699 x\nCSeq: 1 INVITE\n\n");
	assert_ok(pm);
	pm_free(pm);

	pm = parse("SIP/2.0 4294967301 better not break the receiver\n" MANDATORY "\n");
	assert_err(pm, SPR_SIP_ERR_BAD_STATUS);
	assert_true(pm->m.start_ok);
	assert_false(pm->m.is_request);
	pm_free(pm);

	pm = parse("SIP/2.0 099 Low\n" MANDATORY "\n");
	assert_err(pm, SPR_SIP_ERR_BAD_STATUS);
	pm_free(pm);

	pm = parse("SIP/2.0 700 High\n" MANDATORY "\n");
	assert_err(pm, SPR_SIP_ERR_BAD_STATUS);
	pm_free(pm);

	pm = parse("SIP/2.0 2x0 OK\n" MANDATORY "\n");
	assert_err(pm, SPR_SIP_ERR_BAD_STATUS);
	pm_free(pm);
}

static void
test_request_line(void **state)
{
	struct pm *pm;

	(void)state;
	/* an unknown method is no fault; method tokens are case-sensitive */
	pm = parse("FOO-BAR.x sip:bob@example.com SIP/2.0\n" MANDATORY "\n");
	assert_err(pm, SPR_SIP_ERR_CSEQ_METHOD);
	pm_free(pm);
	pm = parse("FOO-BAR.x sip:bob@example.com SIP/2.0\n"
		   "Via: SIP/2.0/UDP h;branch=z9hG4bK1\nFrom: <sip:a@b>;tag=1\nTo: <sip:a@b>\n"
		   "Call-ID: 1\nCSeq: 1 FOO-BAR.x\n\n");
	assert_ok(pm);
	assert_int_equal(pm->m.method, SPR_SIP_UNKNOWN);
	assert_str(pm->m.method_str, "FOO-BAR.x");
	assert_int_equal(pm->m.cseq_method_id, SPR_SIP_UNKNOWN);
	pm_free(pm);
	/* two unknown methods, both SPR_SIP_UNKNOWN, compared by their bytes */
	pm = parse("FOO-BAR.x sip:bob@example.com SIP/2.0\n"
		   "Via: SIP/2.0/UDP h;branch=z9hG4bK1\nFrom: <sip:a@b>;tag=1\nTo: <sip:a@b>\n"
		   "Call-ID: 1\nCSeq: 1 FOO-BAR.y\n\n");
	assert_err(pm, SPR_SIP_ERR_CSEQ_METHOD);
	pm_free(pm);
	pm = parse("register sip:example.com SIP/2.0\n"
		   "Via: SIP/2.0/UDP h;branch=z9hG4bK1\nFrom: <sip:a@b>;tag=1\nTo: <sip:a@b>\n"
		   "Call-ID: 1\nCSeq: 1 register\n\n");
	assert_ok(pm);
	assert_int_equal(pm->m.method, SPR_SIP_UNKNOWN);
	pm_free(pm);
	pm = parse("register sip:example.com SIP/2.0\n" MANDATORY "\n");
	assert_err(pm, SPR_SIP_ERR_CSEQ_METHOD);
	pm_free(pm);

	/* version is case-insensitive (RFC 3261 §7.1); extra SP and trailing LWS tolerated */
	pm = parse("REGISTER  sip:example.com  sip/2.0 \t\n" MANDATORY "\n");
	assert_ok(pm);
	assert_str(pm->m.ruri.raw, "sip:example.com");
	pm_free(pm);

	/* other URI schemes are kept as absoluteURI */
	pm = parse("REGISTER urn:service:sos SIP/2.0\n" MANDATORY "\n");
	assert_ok(pm);
	assert_int_equal(pm->m.ruri.scheme_id, SPR_URI_OTHER);
	assert_str(pm->m.ruri.scheme, "urn");
	pm_free(pm);
	pm = parse("REGISTER tel:+1-201-555-0123 SIP/2.0\n" MANDATORY "\n");
	assert_ok(pm);
	assert_int_equal(pm->m.ruri.scheme_id, SPR_URI_TEL);
	pm_free(pm);

	/* each known method maps to its id */
	static const char *const names[] = {"REGISTER", "INVITE",    "ACK",    "BYE",	  "CANCEL",
					    "OPTIONS",	"SUBSCRIBE", "NOTIFY", "PUBLISH", "MESSAGE",
					    "INFO",	"PRACK",     "UPDATE", "REFER"};
	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char text[512];
		snprintf(text, sizeof(text),
			 "%s sip:a@b SIP/2.0\nVia: SIP/2.0/UDP h\nFrom: <sip:a@b>;tag=1\n"
			 "To: <sip:a@b>\nCall-ID: c\nCSeq: 7 %s\n\n",
			 names[i], names[i]);
		pm = parse(text);
		assert_ok(pm);
		assert_int_equal(pm->m.method, SPR_SIP_REGISTER + i);
		assert_int_equal(pm->m.cseq_method_id, SPR_SIP_REGISTER + i);
		assert_string_equal(spr_sip_method_name(pm->m.method), names[i]);
		pm_free(pm);
	}
}

/* A start line that cannot be parsed stops the parse. */
static void
test_bad_start_line(void **state)
{
	static const char *const lines[] = {
		"garbage\n",
		"INVITE\n",
		"INVITE sip:a@b\n",
		"INVITE SIP/2.0\n",
		"\tINVITE\n",
		"SIP/2.0\n",
		"INVITE sip:a@b SIP/2.0\rX\n",
	};

	(void)state;
	for (unsigned i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		char text[512];
		snprintf(text, sizeof(text), "%s" MANDATORY "\n", lines[i]);
		struct pm *pm = parse(text);
		assert_err(pm, SPR_SIP_ERR_BAD_START_LINE);
		assert_false(pm->m.start_ok);
		assert_int_equal(pm->m.n_via_fields, 0);
		pm_free(pm);
	}
	/* a bare LF ends nothing (RFC 3261 §7.5: CRLF) */
	{
		static const char raw[] = "REGISTER sip:a@b SIP/2.0\nVia: x\r\n\r\n";
		struct spr_sip_msg *m = malloc(sizeof(*m));
		char *g = spr_test_guard_copy(raw, sizeof(raw) - 1);
		assert_int_equal(spr_sip_parse(g, sizeof(raw) - 1, NULL, m), -EBADMSG);
		assert_int_equal(m->err, SPR_SIP_ERR_BAD_START_LINE);
		spr_test_guard_free(g, sizeof(raw) - 1);
		free(m);
	}
}

/* Faults in the start line that still let the headers be parsed for the response. */
static void
test_start_line_faults(void **state)
{
	static const struct {
		const char *line;
		enum spr_sip_err err;
	} cases[] = {
		{"REGISTER sip:example.com SIP/7.0\n", SPR_SIP_ERR_BAD_VERSION},
		{"REGISTER sip:example.com SIP/2.0.1\n", SPR_SIP_ERR_BAD_VERSION},
		{"REGISTER sip:example.com HTTP/1.1\n", SPR_SIP_ERR_BAD_VERSION},
		{"REGISTER <sip:example.com> SIP/2.0\n", SPR_SIP_ERR_BAD_RURI},
		{"REGISTER sip:example.com; lr SIP/2.0\n", SPR_SIP_ERR_BAD_RURI},
		{"REGISTER sip: SIP/2.0\n", SPR_SIP_ERR_BAD_RURI},
		{"REGISTER sip:a@@b SIP/2.0\n", SPR_SIP_ERR_BAD_RURI},
		{"REGISTER sip:a@b:99999 SIP/2.0\n", SPR_SIP_ERR_BAD_RURI},
		{"REGISTER nocolon SIP/2.0\n", SPR_SIP_ERR_BAD_RURI},
		{"REGISTER   SIP/2.0\n", SPR_SIP_ERR_BAD_RURI},
		{"REG(ISTER sip:example.com SIP/2.0\n", SPR_SIP_ERR_BAD_METHOD},
		{" sip:example.com SIP/2.0\n", SPR_SIP_ERR_BAD_METHOD},
	};

	(void)state;
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[512];
		snprintf(text, sizeof(text), "%s" MANDATORY "\n", cases[i].line);
		struct pm *pm = parse(text);
		assert_err(pm, cases[i].err);
		assert_true(pm->m.start_ok);
		assert_true(pm->m.is_request);
		assert_int_equal(pm->m.n_via_fields, 1);
		assert_str(pm->m.call_id, "843817637684230@998sdasdh09");
		assert_int_equal(pm->m.err_header.len, 0);
		pm_free(pm);
	}
	assert_int_equal(spr_sip_err_code(SPR_SIP_ERR_BAD_VERSION), 505);
}

/* Compact forms (RFC 3261 §7.3.3) and header names in any case. */
static void
test_compact_and_case(void **state)
{
	struct pm *pm = parse(REG_LINE "v: SIP/2.0/UDP h1;branch=z9hG4bK1\n"
				       "f: <sip:bob@example.com>;tag=1\n"
				       "t: <sip:bob@example.com>\n"
				       "i: cid-1\n"
				       "cSeQ: 1 REGISTER\n"
				       "m: <sip:bob@h1>\n"
				       "e: gzip\n"
				       "s: subject\n"
				       "u: presence\n"
				       "k: path\n"
				       "o: presence\n"
				       "c: application/pidf+xml\n"
				       "l: 0\n"
				       "vIA  : SIP/2.0/TCP h2\n"
				       "CONTACT: <sip:bob@h2>\n"
				       "\n");
	const struct spr_sip_msg *m = &pm->m;

	(void)state;
	assert_ok(pm);
	assert_int_equal(m->n_via_fields, 2);
	assert_str(m->via.host, "h1");
	assert_str(m->via_fields[1], "SIP/2.0/TCP h2");
	assert_str(m->from.tag, "1");
	assert_str(m->to.uri.host, "example.com");
	assert_str(m->call_id, "cid-1");
	assert_int_equal(m->n_contacts, 2);
	assert_int_equal(m->n_contact_fields, 2);
	assert_str(m->contacts[1].na.uri.host, "h2");
	assert_int_equal(m->n_unknown, 3);
	assert_true(spr_sip_hlist_has(&m->supported, "PATH", 4));
	assert_str(m->event, "presence");
	assert_str(m->media_type, "application/pidf+xml");
	assert_true(m->has_content_length);
	assert_int_equal(m->content_length, 0);
	pm_free(pm);
}

/* CRLF followed by SP or HT continues a value (RFC 3261 §7.3.1). */
static void
test_folding(void **state)
{
	struct pm *pm =
		parse(REG_LINE "Via: SIP  /   2.0\n /UDP\n    192.0.2.2;branch=\n z9hG4bKf\n"
			       "From: <sip:bob@example.com>\n  ;\n  tag = 98asjd8\n"
			       "To:\n sip:bob@example.com\n"
			       "Call-ID: fold@x\n"
			       "cseq: 0009\n\tREGISTER\n"
			       "Contact: <sip:bob@h> ; q = 0.33 ;\n  expires=\n 60\n"
			       "X-Long: a\n b\n\tc\n"
			       "Max-Forwards: 0068\n"
			       "\n");
	const struct spr_sip_msg *m = &pm->m;

	(void)state;
	assert_ok(pm);
	assert_str(m->via.transport, "UDP");
	assert_str(m->via.host, "192.0.2.2");
	assert_str(m->via.branch, "z9hG4bKf");
	assert_str(m->from.tag, "98asjd8");
	assert_str(m->to.uri.raw, "sip:bob@example.com");
	assert_int_equal(m->cseq, 9);
	assert_str(m->cseq_method, "REGISTER");
	assert_int_equal(m->contacts[0].q, 330);
	assert_int_equal(m->contacts[0].expires, 60);
	assert_str(m->contacts[0].na.params, "q = 0.33 ;\r\n  expires=\r\n 60");
	assert_int_equal(m->max_forwards, 68);
	assert_int_equal(m->n_unknown, 1);
	pm_free(pm);
}

static void
test_contact_lists(void **state)
{
	struct pm *pm =
		parse(REG_LINE MANDATORY
		      "Contact: \"Doe, John\" <sip:jd@h1>;q=0.1, <sip:a,b@h2;x=1>,\n"
		      " sip:plain@h3;expires=0 , Tok En <sip:te@h4>\n"
		      "Contact: sip:+19725552222@gw1.example.net;unknownparam\n"
		      "Contact: <sip:+19725552222@gw1.example.net;unknownparam>\n"
		      "Contact: <sip:user@example.com?Route=%3Csip:sip.example.com%3E>\n"
		      "Contact: <sip:%00@host5.example.com>;+sip.instance=\"<urn:a,b;c>\";reg-id=7;"
		      "foo=\"x;y\";bar\n"
		      "Contact: <name:John_Smith>\n"
		      "\n");
	const struct spr_sip_msg *m = &pm->m;

	(void)state;
	assert_ok(pm);
	assert_int_equal(m->n_contact_fields, 6);
	assert_int_equal(m->n_contacts, 9);
	assert_str(m->contacts[0].na.raw, "\"Doe, John\" <sip:jd@h1>;q=0.1");
	assert_str(m->contacts[0].na.display, "\"Doe, John\"");
	assert_int_equal(m->contacts[0].q, 100);
	assert_str(m->contacts[1].na.uri.raw, "sip:a,b@h2;x=1");
	assert_str(m->contacts[1].na.uri.user, "a,b");
	assert_int_equal(m->contacts[1].q, SPR_SIP_Q_NONE);
	assert_int_equal(m->contacts[1].flags, 0);
	assert_str(m->contacts[2].na.raw, "sip:plain@h3;expires=0");
	assert_int_equal(m->contacts[2].flags, SPR_CONTACT_HAS_EXPIRES);
	assert_int_equal(m->contacts[2].expires, 0);
	assert_str(m->contacts[3].na.display, "Tok En");
	/* addr-spec: params after the URI belong to the contact (RFC 4475 §3.3.12) */
	assert_str(m->contacts[4].na.uri.raw, "sip:+19725552222@gw1.example.net");
	assert_str(m->contacts[4].na.uri.params, "");
	assert_str(m->contacts[4].na.params, "unknownparam");
	/* inside <> they belong to the URI (RFC 4475 §3.3.13) */
	assert_str(m->contacts[5].na.uri.params, "unknownparam");
	assert_str(m->contacts[5].na.params, "");
	/* URI bytes kept exactly, escapes and all (RFC 4475 §3.3.14) */
	assert_str(m->contacts[6].na.uri.raw,
		   "sip:user@example.com?Route=%3Csip:sip.example.com%3E");
	assert_str(m->contacts[6].na.uri.headers, "Route=%3Csip:sip.example.com%3E");
	assert_str(m->contacts[7].na.uri.user, "%00");
	assert_str(m->contacts[7].instance, "\"<urn:a,b;c>\"");
	assert_int_equal(m->contacts[7].reg_id, 7);
	assert_str(m->contacts[7].na.params,
		   "+sip.instance=\"<urn:a,b;c>\";reg-id=7;foo=\"x;y\";bar");
	assert_int_equal(m->contacts[8].na.uri.scheme_id, SPR_URI_OTHER);
	assert_str(m->contacts[8].na.uri.raw, "name:John_Smith");

	struct spr_str v;
	assert_true(spr_sip_param_get(&m->contacts[7].na.params, "FOO", 3, &v));
	assert_str(v, "\"x;y\"");
	assert_true(spr_sip_param_get(&m->contacts[7].na.params, "bar", 3, &v));
	assert_str(v, "");
	assert_false(spr_sip_param_get(&m->contacts[7].na.params, "ba", 2, &v));
	assert_true(spr_sip_param_get(&m->contacts[0].na.params, "q", 1, &v));
	assert_str(v, "0.1");
	pm_free(pm);
}

static void
test_contact_star_and_values(void **state)
{
	struct pm *pm = parse(REG_LINE MANDATORY "Contact: *\nExpires: 0\n\n");

	(void)state;
	assert_ok(pm);
	assert_true(pm->m.contact_star);
	assert_int_equal(pm->m.n_contacts, 0);
	assert_int_equal(pm->m.n_contact_fields, 1);
	pm_free(pm);

	/* q values, delta-seconds clamp (RFC 3261 §20.19), reg-id range */
	static const struct {
		const char *param;
		uint16_t q;
		uint32_t expires, reg_id;
		uint16_t flags;
	} ok[] = {
		{"q=0", 0, 0, 0, 0},
		{"q=0.", 0, 0, 0, 0},
		{"q=0.001", 1, 0, 0, 0},
		{"q=0.5", 500, 0, 0, 0},
		{"q=1", 1000, 0, 0, 0},
		{"q=1.000", 1000, 0, 0, 0},
		{"Q=0.25", 250, 0, 0, 0},
		{"expires=4294967295", SPR_SIP_Q_NONE, 4294967295u, 0, SPR_CONTACT_HAS_EXPIRES},
		{"expires=4294967296", SPR_SIP_Q_NONE, 4294967295u, 0, SPR_CONTACT_HAS_EXPIRES},
		{"EXPIRES=280297596632815", SPR_SIP_Q_NONE, 4294967295u, 0,
		 SPR_CONTACT_HAS_EXPIRES},
		{"reg-id=1", SPR_SIP_Q_NONE, 0, 1, SPR_CONTACT_HAS_REG_ID},
		{"reg-id=2147483647", SPR_SIP_Q_NONE, 0, 2147483647u, SPR_CONTACT_HAS_REG_ID},
	};
	for (unsigned i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		char text[1024];
		snprintf(text, sizeof(text), REG_LINE MANDATORY "Contact: <sip:a@b>;%s\n\n",
			 ok[i].param);
		pm = parse(text);
		assert_ok(pm);
		assert_int_equal(pm->m.contacts[0].q, ok[i].q);
		assert_int_equal(pm->m.contacts[0].flags, ok[i].flags);
		assert_int_equal(pm->m.contacts[0].expires, ok[i].expires);
		assert_int_equal(pm->m.contacts[0].reg_id, ok[i].reg_id);
		pm_free(pm);
	}
	pm = parse(REG_LINE MANDATORY "Expires: 99999999999999999999999\n\n");
	assert_ok(pm);
	assert_int_equal(pm->m.expires, UINT32_MAX);
	pm_free(pm);
}

static void
test_via(void **state)
{
	struct pm *pm = parse(
		REG_LINE
		"Via: SIP/2.0/TLS [2001:db8::1]:5061;branch=z9hG4bKa;rport=5070;maddr=x, "
		"SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKb\n"
		"v: sip/2.0/ws df7jal23ls0d.invalid;branch=z9hG4bKc;received=2001:db8::9;rport\n"
		"From: <sip:bob@example.com>;tag=1\nTo: <sip:bob@example.com>\n"
		"Call-ID: v\nCSeq: 1 REGISTER\n\n");
	const struct spr_sip_msg *m = &pm->m;

	(void)state;
	assert_ok(pm);
	assert_int_equal(m->n_via_fields, 3);
	assert_str(m->via_fields[0],
		   "SIP/2.0/TLS [2001:db8::1]:5061;branch=z9hG4bKa;rport=5070;maddr=x");
	assert_str(m->via_fields[1], "SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKb");
	assert_str(m->via_fields[2],
		   "sip/2.0/ws df7jal23ls0d.invalid;branch=z9hG4bKc;received=2001:db8::9;rport");
	assert_str(m->via.transport, "TLS");
	assert_str(m->via.host, "[2001:db8::1]");
	assert_int_equal(m->via.port, 5061);
	assert_str(m->via.branch, "z9hG4bKa");
	assert_true(m->via.has_rport);
	assert_true(m->via.has_rport_val);
	assert_int_equal(m->via.rport_val, 5070);
	assert_str(m->via.received, "");
	pm_free(pm);

	pm = parse(REG_LINE "Via: SIP/2.0/UDP h\n" MANDATORY "\n");
	assert_ok(pm);
	assert_str(pm->m.via.host, "h");
	assert_int_equal(pm->m.via.port, 0);
	assert_str(pm->m.via.branch, "");
	assert_false(pm->m.via.has_rport);
	assert_int_equal(pm->m.n_via_fields, 2);
	pm_free(pm);
}

/* Each fault of the table, reached by one extra header line before the mandatory ones. */
static void
test_header_faults(void **state)
{
	static const struct {
		const char *extra;
		enum spr_sip_err err;
		const char *hname;
	} cases[] = {
		{"Bad Header: x\n", SPR_SIP_ERR_BAD_HEADER_LINE, "Bad"},
		{"NoColon x\n", SPR_SIP_ERR_BAD_HEADER_LINE, "NoColon"},
		{": empty\n", SPR_SIP_ERR_BAD_HEADER_LINE, ""},
		{"Via;: x\n", SPR_SIP_ERR_BAD_HEADER_LINE, "Via"},
		{"Via: SIP/2.0/UDP\n", SPR_SIP_ERR_BAD_VIA, "Via"},
		{"Via: SIP/3.0/UDP h\n", SPR_SIP_ERR_BAD_VIA, "Via"},
		{"Via: HTTP/2.0/UDP h\n", SPR_SIP_ERR_BAD_VIA, "Via"},
		{"Via: SIP/2.0/UDP h;;\n", SPR_SIP_ERR_BAD_VIA, "Via"},
		{"Via: SIP/2.0/UDP 192.0.2.15;;,;,,\n", SPR_SIP_ERR_BAD_VIA, "Via"},
		{"Via: SIP/2.0/UDP h:99999\n", SPR_SIP_ERR_BAD_VIA, "Via"},
		{"Via: SIP/2.0/UDP h:-1\n", SPR_SIP_ERR_BAD_VIA, "Via"},
		{"Via: SIP/2.0/UDP h;rport=x\n", SPR_SIP_ERR_BAD_VIA, "Via"},
		{"Via: SIP/2.0/UDP h;=token\n", SPR_SIP_ERR_BAD_VIA, "Via"},
		{"Via: SIP/2.0/UDP h;branch=\n", SPR_SIP_ERR_BAD_VIA, "Via"},
		{"Via: SIP/2.0/UDP [::1\n", SPR_SIP_ERR_BAD_VIA, "Via"},
		{"Via: SIP/2.0/UDPh\n", SPR_SIP_ERR_BAD_VIA, "Via"},
		{"From: Bell, Alexander <sip:a@b>;tag=1\n", SPR_SIP_ERR_BAD_FROM, "From"},
		{"From: \"Mr. J. User <sip:a@b>;tag=1\n", SPR_SIP_ERR_BAD_FROM, "From"},
		{"From: <sip:a@b;tag=1\n", SPR_SIP_ERR_BAD_FROM, "From"},
		{"From: <sip:a@b>>;tag=1\n", SPR_SIP_ERR_BAD_FROM, "From"},
		{"From: < sip:a@b >;tag=1\n", SPR_SIP_ERR_BAD_FROM, "From"},
		{"From: sip:a@b?x=y;tag=1\n", SPR_SIP_ERR_BAD_FROM, "From"},
		{"From: sip:a@b, sip:c@d\n", SPR_SIP_ERR_BAD_FROM, "From"},
		{"From: <sip:a@b>=token\n", SPR_SIP_ERR_BAD_FROM, "From"},
		{"From: <sip:a@b>;tag\n", SPR_SIP_ERR_BAD_FROM, "From"},
		{"From: <sip:a@b>;tag=1;tag=2\n", SPR_SIP_ERR_BAD_FROM, "From"},
		{"From: a\x01 <sip:a@b>\n", SPR_SIP_ERR_BAD_FROM, "From"},
		{"From:\n", SPR_SIP_ERR_BAD_FROM, "From"},
		{"f: <sip:a@@b>\n", SPR_SIP_ERR_BAD_FROM, "f"},
		{"To: Watson, Thomas <sip:a@b>\n", SPR_SIP_ERR_BAD_TO, "To"},
		{"To: Receiver <<sip:a@b>\n", SPR_SIP_ERR_BAD_TO, "To"},
		{"To: \"x\" sip:a@b\n", SPR_SIP_ERR_BAD_TO, "To"},
		{"Call-ID: a b\n", SPR_SIP_ERR_BAD_CALL_ID, "Call-ID"},
		{"Call-ID: @x\n", SPR_SIP_ERR_BAD_CALL_ID, "Call-ID"},
		{"Call-ID: a@b@c\n", SPR_SIP_ERR_BAD_CALL_ID, "Call-ID"},
		{"Call-ID: a;b\n", SPR_SIP_ERR_BAD_CALL_ID, "Call-ID"},
		{"i:\n", SPR_SIP_ERR_BAD_CALL_ID, "i"},
		{"CSeq: x REGISTER\n", SPR_SIP_ERR_BAD_CSEQ, "CSeq"},
		{"CSeq: 1\n", SPR_SIP_ERR_BAD_CSEQ, "CSeq"},
		{"CSeq: -1 REGISTER\n", SPR_SIP_ERR_BAD_CSEQ, "CSeq"},
		{"CSeq: 1REGISTER\n", SPR_SIP_ERR_BAD_CSEQ, "CSeq"},
		{"CSeq: 1 REGISTER x\n", SPR_SIP_ERR_BAD_CSEQ, "CSeq"},
		{"CSeq: 2147483648 REGISTER\n", SPR_SIP_ERR_CSEQ_RANGE, "CSeq"},
		{"CSeq: 36893488147419103232 REGISTER\n", SPR_SIP_ERR_CSEQ_RANGE, "CSeq"},
		{"Contact: <sip:joe@example.org>;;;;\n", SPR_SIP_ERR_BAD_CONTACT, "Contact"},
		{"Contact: sip:user@example.com?Route=%3Csip:sip.example.com%3E\n",
		 SPR_SIP_ERR_BAD_CONTACT, "Contact"},
		{"Contact: *;expires=0\n", SPR_SIP_ERR_BAD_CONTACT, "Contact"},
		{"Contact: *, <sip:a@b>\n", SPR_SIP_ERR_BAD_CONTACT, "Contact"},
		{"Contact: <sip:a@b>,\n", SPR_SIP_ERR_BAD_CONTACT, "Contact"},
		{"Contact: Bell, A <sip:a@b>\n", SPR_SIP_ERR_BAD_CONTACT, "Contact"},
		{"Contact: 1211 sip:a@b>\n", SPR_SIP_ERR_BAD_CONTACT, "Contact"},
		{"m: <sip:a@b>;foo=\"unbalanced\n", SPR_SIP_ERR_BAD_CONTACT, "m"},
		{"Contact: <sip:a@b>;q=1.5\n", SPR_SIP_ERR_BAD_Q, "Contact"},
		{"Contact: <sip:a@b>;q=0.1234\n", SPR_SIP_ERR_BAD_Q, "Contact"},
		{"Contact: <sip:a@b>;q=.5\n", SPR_SIP_ERR_BAD_Q, "Contact"},
		{"Contact: <sip:a@b>;q\n", SPR_SIP_ERR_BAD_Q, "Contact"},
		{"Contact: <sip:a@b>;q=2\n", SPR_SIP_ERR_BAD_Q, "Contact"},
		{"Contact: <sip:a@b>;expires=-1\n", SPR_SIP_ERR_BAD_CONTACT_EXPIRES, "Contact"},
		{"Contact: <sip:a@b>;expires=1h\n", SPR_SIP_ERR_BAD_CONTACT_EXPIRES, "Contact"},
		{"Contact: <sip:a@b>;reg-id=0\n", SPR_SIP_ERR_BAD_REG_ID, "Contact"},
		{"Contact: <sip:a@b>;reg-id=2147483648\n", SPR_SIP_ERR_BAD_REG_ID, "Contact"},
		{"Contact: <sip:a@b>;reg-id=x\n", SPR_SIP_ERR_BAD_REG_ID, "Contact"},
		{"Expires: -1\n", SPR_SIP_ERR_BAD_EXPIRES, "Expires"},
		{"Expires: 1.5\n", SPR_SIP_ERR_BAD_EXPIRES, "Expires"},
		{"Expires:\n", SPR_SIP_ERR_BAD_EXPIRES, "Expires"},
		{"Min-Expires: x\n", SPR_SIP_ERR_BAD_MIN_EXPIRES, "Min-Expires"},
		{"Max-Forwards: 256\n", SPR_SIP_ERR_BAD_MAX_FORWARDS, "Max-Forwards"},
		{"Max-Forwards: -1\n", SPR_SIP_ERR_BAD_MAX_FORWARDS, "Max-Forwards"},
		{"Max-Forwards: 99999999999\n", SPR_SIP_ERR_BAD_MAX_FORWARDS, "Max-Forwards"},
		{"Content-Length: -999\n", SPR_SIP_ERR_BAD_CONTENT_LENGTH, "Content-Length"},
		{"l: 12345678901\n", SPR_SIP_ERR_BAD_CONTENT_LENGTH, "l"},
		{"Content-Length: 1 0\n", SPR_SIP_ERR_BAD_CONTENT_LENGTH, "Content-Length"},
		{"Content-Type: text\n", SPR_SIP_ERR_BAD_CONTENT_TYPE, "Content-Type"},
		{"Content-Type: text/\n", SPR_SIP_ERR_BAD_CONTENT_TYPE, "Content-Type"},
		{"Content-Type: text/plain;\n", SPR_SIP_ERR_BAD_CONTENT_TYPE, "Content-Type"},
		{"c:\n", SPR_SIP_ERR_BAD_CONTENT_TYPE, "c"},
		{"Event:\n", SPR_SIP_ERR_BAD_EVENT, "Event"},
		{"Event: presence;;\n", SPR_SIP_ERR_BAD_EVENT, "Event"},
		{"o: pres ence\n", SPR_SIP_ERR_BAD_EVENT, "o"},
		{"Authorization: Bearer\n", SPR_SIP_ERR_BAD_AUTHORIZATION, "Authorization"},
		{"Authorization: Bearer a b\n", SPR_SIP_ERR_BAD_AUTHORIZATION, "Authorization"},
		{"Authorization: bearer a$b\n", SPR_SIP_ERR_BAD_AUTHORIZATION, "Authorization"},
		{"Authorization: Bearer ab=c\n", SPR_SIP_ERR_BAD_AUTHORIZATION, "Authorization"},
		{"Authorization:\n", SPR_SIP_ERR_BAD_AUTHORIZATION, "Authorization"},
		{"Path: sip:p@x\n", SPR_SIP_ERR_BAD_PATH, "Path"},
		{"Path: <sip:p@x\n", SPR_SIP_ERR_BAD_PATH, "Path"},
		{"Path: <sip:p@x>;lr, junk\n", SPR_SIP_ERR_BAD_PATH, "Path"},
		{"Route: <sip:p@x\n", SPR_SIP_ERR_BAD_HEADER_LINE, "Route"},
		{"Supported: a,b,c,d,e,f,g,h,i\n", SPR_SIP_ERR_TOO_MANY_FIELDS, "Supported"},
		{"From: <sip:x@y>;tag=2\n", SPR_SIP_ERR_DUP_FROM, "From"},
		{"t: <sip:x@y>\n", SPR_SIP_ERR_DUP_TO, "To"},
		{"i: other\n", SPR_SIP_ERR_DUP_CALL_ID, "Call-ID"},
		{"CSeq: 1826 REGISTER\n", SPR_SIP_ERR_DUP_CSEQ, "CSeq"},
		{"Max-Forwards: 70\nMax-Forwards: 70\n", SPR_SIP_ERR_DUP_MAX_FORWARDS,
		 "Max-Forwards"},
		{"l: 0\nContent-Length: 0\n", SPR_SIP_ERR_DUP_CONTENT_LENGTH, "Content-Length"},
		{"c: a/b\nContent-Type: a/b\n", SPR_SIP_ERR_DUP_CONTENT_TYPE, "Content-Type"},
		{"Expires: 1\nexpires: 2\n", SPR_SIP_ERR_DUP_EXPIRES, "expires"},
		{"Event: a\no: a\n", SPR_SIP_ERR_DUP_EVENT, "o"},
		{"Authorization: Bearer a\nAuthorization: Bearer a\n",
		 SPR_SIP_ERR_DUP_AUTHORIZATION, "Authorization"},
	};

	(void)state;
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[1024];
		struct pm *pm;

		snprintf(text, sizeof(text), REG_LINE "%s" MANDATORY "\n", cases[i].extra);
		pm = parse(text);
		if (pm->rc != -EBADMSG || pm->m.err != cases[i].err)
			fail_msg("case %u \"%s\": rc %d err %s, want %s", i, cases[i].extra, pm->rc,
				 spr_sip_err_name((enum spr_sip_err)pm->m.err),
				 spr_sip_err_name(cases[i].err));
		assert_str(pm->m.err_header, cases[i].hname);
		/* the fields a 400 needs are still there */
		assert_true(pm->m.n_via_fields >= 1);
		if (strncmp(cases[i].extra, "i:", 2) != 0 &&
		    strncmp(cases[i].extra, "Call-ID", 7) != 0)
			assert_str(pm->m.call_id, "843817637684230@998sdasdh09");
		if (strncmp(cases[i].extra, "CSeq", 4) != 0)
			assert_str(pm->m.cseq_method, "REGISTER");
		assert_int_equal(spr_sip_err_code((enum spr_sip_err)pm->m.err), 400);
		pm_free(pm);
	}
}

static void
test_missing_mandatory(void **state)
{
	static const struct {
		const char *text;
		enum spr_sip_err err;
	} cases[] = {
		{REG_LINE "From: <sip:a@b>;tag=1\nTo: <sip:a@b>\nCall-ID: c\nCSeq: 1 REGISTER\n\n",
		 SPR_SIP_ERR_MISSING_VIA},
		{REG_LINE "Via: SIP/2.0/UDP h\nTo: <sip:a@b>\nCall-ID: c\nCSeq: 1 REGISTER\n\n",
		 SPR_SIP_ERR_MISSING_FROM},
		{REG_LINE "Via: SIP/2.0/UDP h\nFrom: <sip:a@b>\nCall-ID: c\nCSeq: 1 REGISTER\n\n",
		 SPR_SIP_ERR_MISSING_TO},
		{REG_LINE
		 "Via: SIP/2.0/UDP h\nFrom: <sip:a@b>\nTo: <sip:a@b>\nCSeq: 1 REGISTER\n\n",
		 SPR_SIP_ERR_MISSING_CALL_ID},
		{REG_LINE "Via: SIP/2.0/UDP h\nFrom: <sip:a@b>\nTo: <sip:a@b>\nCall-ID: c\n\n",
		 SPR_SIP_ERR_MISSING_CSEQ},
		{REG_LINE "Via: SIP/2.0/UDP h\nFrom: <sip:a@b>\nTo: <sip:a@b>\nCall-ID: c\n"
			  "CSeq: 1 INVITE\n\n",
		 SPR_SIP_ERR_CSEQ_METHOD},
	};

	(void)state;
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pm *pm = parse(cases[i].text);
		assert_err(pm, cases[i].err);
		pm_free(pm);
	}
}

static void
test_caps(void **state)
{
	struct spr_sip_limits lim;
	struct pm *pm;
	char big[4096];

	(void)state;
	spr_sip_limits_default(&lim);
	assert_int_equal(lim.max_msg, SPR_SIP_MSG_MAX);
	assert_true(lim.max_vias <= SPR_SIP_VIA_MAX);
	assert_true(lim.max_contacts <= SPR_SIP_CONTACT_MAX);

	lim.max_headers = 5;
	pm = parse_lim(REG_LINE MANDATORY "\n", &lim);
	assert_ok(pm);
	pm_free(pm);
	pm = parse_lim(REG_LINE MANDATORY "X: 1\n\n", &lim);
	assert_err(pm, SPR_SIP_ERR_TOO_MANY_HEADERS);
	pm_free(pm);

	spr_sip_limits_default(&lim);
	lim.max_vias = 2;
	pm = parse_lim(REG_LINE "Via: SIP/2.0/UDP a, SIP/2.0/UDP b\n" MANDATORY "\n", &lim);
	assert_err(pm, SPR_SIP_ERR_TOO_MANY_VIAS);
	assert_int_equal(pm->m.n_via_fields, 2);
	assert_str(pm->m.via.host, "a");
	pm_free(pm);

	spr_sip_limits_default(&lim);
	lim.max_contacts = 2;
	pm = parse_lim(REG_LINE MANDATORY "Contact: <sip:a@b>, <sip:c@d>\n\n", &lim);
	assert_ok(pm);
	pm_free(pm);
	pm = parse_lim(REG_LINE MANDATORY "Contact: <sip:a@b>, <sip:c@d>\nm: <sip:e@f>\n\n", &lim);
	assert_err(pm, SPR_SIP_ERR_TOO_MANY_CONTACTS);
	assert_int_equal(pm->m.n_contacts, 2);
	assert_int_equal(pm->m.n_contact_fields, 2);
	pm_free(pm);

	/* the default ceilings: RFC 4475 longreq carries 34 Via fields */
	{
		char text[8192];
		int n = snprintf(text, sizeof(text), REG_LINE);
		for (int i = 0; i < 40; i++)
			n += snprintf(text + n, sizeof(text) - (size_t)n,
				      "Via: SIP/2.0/TCP sip%d.example.com\n", i);
		snprintf(text + n, sizeof(text) - (size_t)n, "%s",
			 "From: <sip:a@b>;tag=1\nTo: <sip:a@b>\nCall-ID: c\nCSeq: 1 REGISTER\n\n");
		pm = parse(text);
		assert_ok(pm);
		assert_int_equal(pm->m.n_via_fields, 40);
		pm_free(pm);
	}

	/* over max_msg: 513 (RFC 3261 §21.5.14) */
	spr_sip_limits_default(&lim);
	lim.max_msg = 300;
	memset(big, 'x', sizeof(big));
	snprintf(big, sizeof(big), REG_LINE MANDATORY "Content-Length: 200\n\n");
	big[strlen(big)] = 'x';
	big[sizeof(big) - 1] = '\0';
	pm = parse_lim(big, &lim);
	assert_err(pm, SPR_SIP_ERR_TOO_LARGE);
	assert_int_equal(spr_sip_err_code(SPR_SIP_ERR_TOO_LARGE), 513);
	pm_free(pm);
	/* a header section that does not end within max_msg */
	memset(big, 'x', sizeof(big));
	snprintf(big, sizeof(big), REG_LINE MANDATORY "X-Pad: ");
	big[strlen(big)] = 'x';
	big[sizeof(big) - 1] = '\0';
	pm = parse_lim(big, &lim);
	assert_err(pm, SPR_SIP_ERR_TOO_LARGE);
	assert_int_equal(pm->m.n_via_fields, 1);
	pm_free(pm);
	/* no Content-Length: the whole datagram counts */
	pm = parse_lim(REG_LINE MANDATORY "\n"
					  "0123456789012345678901234567890123456789"
					  "0123456789012345678901234567890123456789"
					  "0123456789012345678901234567890123456789",
		       &lim);
	assert_err(pm, SPR_SIP_ERR_TOO_LARGE);
	pm_free(pm);
	lim.max_msg = 400;
	pm = parse_lim(REG_LINE MANDATORY "Content-Length: 4\n\nbody and more that is not ours, "
					  "0123456789012345678901234567890123456789",
		       &lim);
	assert_int_equal(pm->rc, (int)(pm->len - 68));
	assert_str(pm->m.body, "body");
	pm_free(pm);
}

static void
test_body(void **state)
{
	struct pm *pm;
	uint32_t hdr;

	(void)state;
	pm = parse(REG_LINE MANDATORY "Content-Length: 10\n\nshort");
	assert_err(pm, SPR_SIP_ERR_BODY_TOO_SHORT);
	assert_str(pm->m.body, "short");
	pm_free(pm);

	/* bytes after the Content-Length body are not part of the message (RFC 4475 §3.1.1.8) */
	pm = parse(REG_LINE MANDATORY "Content-Length: 3\n\nabcINVITE sip:x SIP/2.0\n");
	hdr = pm->len - (uint32_t)strlen("abcINVITE sip:x SIP/2.0\r\n");
	assert_int_equal(pm->rc, (int)(hdr + 3));
	assert_str(pm->m.body, "abc");
	pm_free(pm);

	/* no Content-Length on a datagram: the body is the rest (RFC 3261 §18.3) */
	pm = parse(REG_LINE MANDATORY "\nrest of it\n");
	assert_ok(pm);
	assert_false(pm->m.has_content_length);
	assert_str(pm->m.body, "rest of it\r\n");
	pm_free(pm);

	/* CRLFs before the start line are skipped (RFC 3261 §7.5) */
	pm = parse("\n\n" REG_LINE MANDATORY "l: 0\n\n");
	assert_ok(pm);
	assert_str(pm->m.body, "");
	pm_free(pm);
}

static void
test_incomplete(void **state)
{
	static const char *const texts[] = {
		"",
		"\n",
		"REGISTER sip:example.com SIP/2.0",
		REG_LINE,
		REG_LINE MANDATORY,
		REG_LINE MANDATORY "X-Unfinished: a",
		REG_LINE MANDATORY "\r",
	};

	(void)state;
	for (unsigned i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		struct pm *pm = parse(texts[i]);
		if (pm->rc != -EAGAIN)
			fail_msg("case %u: rc %d", i, pm->rc);
		assert_int_equal(pm->m.err, SPR_SIP_ERR_TRUNCATED);
		pm_free(pm);
	}
	/* a fault in a complete line settles it even without the empty line */
	struct pm *pm = parse(REG_LINE MANDATORY "v=0\no=x\n");
	assert_err(pm, SPR_SIP_ERR_BAD_HEADER_LINE);
	pm_free(pm);
}

static void
test_tables(void **state)
{
	struct spr_sip_hlist l = {.n = 3, .v = {SPR_STR("foo"), SPR_STR("Path"), SPR_STR("gruu")}};
	const struct spr_str known[] = {SPR_STR("path"), SPR_STR("FOO")};
	struct spr_str out;

	(void)state;
	assert_int_equal(spr_sip_err_code(SPR_SIP_ERR_NONE), 0);
	assert_string_equal(spr_sip_err_name(SPR_SIP_ERR_BAD_Q), "BAD_Q");
	assert_string_equal(spr_sip_err_reason(SPR_SIP_ERR_MISSING_CSEQ), "Missing CSeq");
	assert_int_equal(spr_sip_err_code(SPR_SIP_ERR_MISSING_CSEQ), 400);
	assert_int_equal(spr_sip_err_code(SPR_SIP_ERR__COUNT), 400);
	assert_non_null(spr_sip_err_reason(SPR_SIP_ERR__COUNT));
	for (int e = 0; e < SPR_SIP_ERR__COUNT; e++) {
		assert_non_null(spr_sip_err_name((enum spr_sip_err)e));
		assert_non_null(spr_sip_err_reason((enum spr_sip_err)e));
	}
	assert_string_equal(spr_sip_method_name(SPR_SIP_SUBSCRIBE), "SUBSCRIBE");
	assert_non_null(spr_sip_method_name(SPR_SIP_METHOD__COUNT));

	assert_true(spr_sip_hlist_has(&l, "PATH", 4));
	assert_false(spr_sip_hlist_has(&l, "pat", 3));
	assert_true(spr_sip_hlist_first_unknown(&l, known, 2, &out));
	assert_str(out, "gruu");
	l.n = 2;
	assert_false(spr_sip_hlist_first_unknown(&l, known, 2, &out));
	l.n = 0;
	assert_false(spr_sip_hlist_first_unknown(&l, known, 0, &out));
}

/* ------------------------------------------------------------------------- */
/* RFC 4475 torture messages: the verdict the parser gives each one. */

static const struct {
	const char *file;
	enum spr_sip_err err; /* for reject-* */
} rfc4475_rejects[] = {
	{"badinv01", SPR_SIP_ERR_BAD_VIA},	 {"clerr", SPR_SIP_ERR_BODY_TOO_SHORT},
	{"ncl", SPR_SIP_ERR_BAD_CONTENT_LENGTH}, {"scalar02", SPR_SIP_ERR_CSEQ_RANGE},
	{"quotbal", SPR_SIP_ERR_BAD_TO},	 {"ltgtruri", SPR_SIP_ERR_BAD_RURI},
	{"lwsruri", SPR_SIP_ERR_BAD_RURI},	 {"regbadct", SPR_SIP_ERR_BAD_CONTACT},
	{"baddn", SPR_SIP_ERR_BAD_FROM},	 {"badvers", SPR_SIP_ERR_BAD_VERSION},
	{"mismatch01", SPR_SIP_ERR_CSEQ_METHOD}, {"insuf", SPR_SIP_ERR_MISSING_FROM},
	{"multi01", SPR_SIP_ERR_DUP_CSEQ},	 {"mcl01", SPR_SIP_ERR_DUP_CONTENT_LENGTH},
};

static char *
rfc4475_load(const char *name, uint32_t *len)
{
	char path[4096];
	char *raw, *g;

	snprintf(path, sizeof(path), "%s/rfc4475/%s.dat", spr_test_datadir(), name);
	raw = spr_test_read_file(path, len);
	if (raw == NULL)
		fail_msg("cannot read %s", path);
	g = spr_test_guard_copy(raw, *len);
	free(raw);
	return g;
}

static void
test_rfc4475_verdicts(void **state)
{
	char path[4096], line[512];
	struct spr_sip_msg *m = malloc(sizeof(*m));
	unsigned n = 0;
	FILE *f;

	(void)state;
	if (spr_test_datadir() == NULL) {
		printf("SKIP: no test corpus ($SPR_TESTDATA or ../shared/testdata)\n");
		free(m);
		skip();
	}
	snprintf(path, sizeof(path), "%s/rfc4475/expect.tsv", spr_test_datadir());
	f = fopen(path, "r");
	if (f == NULL) {
		printf("SKIP: %s absent\n", path);
		free(m);
		skip();
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char name[64], verdict[64];
		uint32_t len;
		char *g;
		int rc;

		if (line[0] == '#' || sscanf(line, "%63s %63s", name, verdict) != 2)
			continue;
		g = rfc4475_load(name, &len);
		rc = spr_sip_parse(g, len, NULL, m);
		n++;
		if (strcmp(verdict, "accept-register") == 0 || strcmp(verdict, "respond") == 0) {
			if (rc <= 0 || !m->is_request)
				fail_msg("%s (%s): rc %d err %s", name, verdict, rc,
					 spr_sip_err_name((enum spr_sip_err)m->err));
			if (strcmp(verdict, "accept-register") == 0)
				assert_int_equal(m->method, SPR_SIP_REGISTER);
		} else if (strncmp(verdict, "reject-", 7) == 0) {
			unsigned i = 0;
			while (i < sizeof(rfc4475_rejects) / sizeof(rfc4475_rejects[0]) &&
			       strcmp(rfc4475_rejects[i].file, name) != 0)
				i++;
			if (i == sizeof(rfc4475_rejects) / sizeof(rfc4475_rejects[0]))
				fail_msg("%s: no expected fault listed", name);
			if (rc != -EBADMSG || m->err != rfc4475_rejects[i].err || !m->start_ok ||
			    m->n_via_fields == 0)
				fail_msg("%s (%s): rc %d err %s", name, verdict, rc,
					 spr_sip_err_name((enum spr_sip_err)m->err));
			assert_int_equal(spr_sip_err_code((enum spr_sip_err)m->err),
					 (uint16_t)atoi(verdict + 7) != 0 ? atoi(verdict + 7)
									  : 400);
		} else if (strcmp(verdict, "drop") == 0) {
			if (m->start_ok && m->is_request)
				fail_msg("%s (drop): parsed as a request", name);
		} else {
			assert_true(rc > 0 || rc == -EBADMSG);
		}
		spr_test_guard_free(g, len);
	}
	fclose(f);
	assert_int_equal(n, 49);
	free(m);
}

/* Field-level checks on a few torture messages. */
static void
test_rfc4475_fields(void **state)
{
	struct spr_sip_msg *m = malloc(sizeof(*m));
	uint32_t len;
	char *g;

	(void)state;
	if (spr_test_datadir() == NULL) {
		printf("SKIP: no test corpus ($SPR_TESTDATA or ../shared/testdata)\n");
		free(m);
		skip();
	}
	g = rfc4475_load("escnull", &len);
	assert_int_equal(spr_sip_parse(g, len, NULL, m), (int)len);
	assert_int_equal(m->n_contacts, 2);
	assert_str(m->contacts[0].na.uri.raw, "sip:%00@host5.example.com");
	assert_str(m->contacts[1].na.uri.user, "%00%00");
	spr_test_guard_free(g, len);

	g = rfc4475_load("dblreq", &len);
	assert_true(spr_sip_parse(g, len, NULL, m) < (int)len);
	assert_int_equal(m->method, SPR_SIP_REGISTER);
	spr_test_guard_free(g, len);

	g = rfc4475_load("wsinv", &len);
	assert_int_equal(spr_sip_parse(g, len, NULL, m), (int)len);
	assert_int_equal(m->n_via_fields, 3);
	assert_str(m->via.host, "192.0.2.2");
	assert_str(m->via.branch, "390skdjuw");
	assert_str(m->to.tag, "1918181833n");
	assert_str(m->from.display, "\"J Rosenberg \\\\\\\"\"");
	assert_int_equal(m->max_forwards, 68);
	assert_int_equal(m->cseq, 9);
	assert_int_equal(m->contacts[0].q, 330);
	assert_int_equal(m->body.len, 150);
	spr_test_guard_free(g, len);

	g = rfc4475_load("intmeth", &len);
	assert_int_equal(spr_sip_parse(g, len, NULL, m), (int)len);
	assert_str(m->method_str, "!interesting-Method0123456789_*+`.%indeed'~");
	assert_int_equal(m->method, SPR_SIP_UNKNOWN);
	assert_str(m->ruri.user, "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
	assert_str(m->ruri.password, "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)");
	assert_str(m->call_id, "intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{");
	spr_test_guard_free(g, len);

	g = rfc4475_load("regaut01", &len);
	assert_int_equal(spr_sip_parse(g, len, NULL, m), (int)len);
	assert_str(m->auth_scheme, "NoOneKnowsThisScheme");
	assert_str(m->auth_params, "opaque-data=here");
	assert_str(m->bearer, "");
	spr_test_guard_free(g, len);
	free(m);
}

/*
 * The bearer token is checked 16, 32 or 64 octets at a time (skip_b64, by
 * the block classifier in use): with each one this CPU runs, every octet
 * value at every position of a 40-octet token (two 16-octet blocks and a
 * tail; one 32-octet block and an overlapping tail), of a 109-octet one
 * (64, 32, overlapping tail) and of a 200-octet one (128, 64, overlapping
 * tail), with the message flush against a guard page,
 * gets the verdict of RFC 6750 §2.1's
 * b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=".
 */
static void
test_bearer_every_octet(void **state)
{
	static const char head[] = "REGISTER sip:example.com SIP/2.0\r\n"
				   "Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1\r\n"
				   "To: <sip:a@example.com>\r\nFrom: <sip:a@example.com>;tag=1\r\n"
				   "Call-ID: x\r\nCSeq: 1 REGISTER\r\nAuthorization: Bearer ";
	static const char tail[] = "\r\nContent-Length: 0\r\n\r\n";
	static const uint32_t tlens[] = {40, 109, 200};
	struct spr_sip_msg *m = malloc(sizeof(*m));
	char raw[sizeof(head) + 200 + sizeof(tail)];
	enum spr_sip_scan_isa def = spr_sip_scan_selected();
	uint32_t isas = 0;

	(void)state;
	assert_non_null(m);
	for (int isa = 0; isa < SPR_SIP_SCAN__COUNT; isa++) {
		if (spr_sip_scan_select((enum spr_sip_scan_isa)isa) != 0)
			continue;
		isas++;
		for (int c = 0; c < 256; c++) {
			bool b64 = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
				   (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
				   c == '~' || c == '+' || c == '/';

			if (c == '\r' || c == '\n')
				continue; /* they end the line: not the token's business */
			for (uint32_t t = 0; t < sizeof(tlens) / sizeof(tlens[0]); t++) {
				uint32_t tl = tlens[t];

				for (uint32_t k = 0; k < tl; k++) {
					uint32_t len = 0, want_len = tl;
					bool ok = b64;
					char *g;
					int rc;

					memcpy(raw, head, sizeof(head) - 1);
					len = sizeof(head) - 1;
					memset(raw + len, 'A', tl);
					raw[len + k] = (char)c;
					len += tl;
					memcpy(raw + len, tail, sizeof(tail) - 1);
					len += sizeof(tail) - 1;
					if (c == '=' && k == tl - 1)
						ok = true; /* trailing padding */
					/* white space around the value is not part of it */
					if ((c == ' ' || c == '\t') && (k == 0 || k == tl - 1)) {
						ok = true;
						want_len = tl - 1;
					}
					g = spr_test_guard_copy(raw, len);
					assert_non_null(g);
					rc = spr_sip_parse(g, len, NULL, m);
					if (ok ? (rc != (int)len || m->bearer.len != want_len)
					       : (rc != -EBADMSG ||
						  m->err != SPR_SIP_ERR_BAD_AUTHORIZATION))
						fail_msg(
							"[%s] octet 0x%02x at %u of %u: rc %d, "
							"bearer "
							"%u, err %s",
							spr_sip_scan_name(
								(enum spr_sip_scan_isa)isa),
							c, k, tl, rc, m->bearer.len,
							spr_sip_err_name((enum spr_sip_err)m->err));
					spr_test_guard_free(g, len);
				}
			}
		}
	}
	assert_true(isas >= 1);
	assert_int_equal(spr_sip_scan_select(def), 0);
	free(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_register_full),
		cmocka_unit_test(test_bearer_every_octet),
		cmocka_unit_test(test_status_line),
		cmocka_unit_test(test_request_line),
		cmocka_unit_test(test_bad_start_line),
		cmocka_unit_test(test_start_line_faults),
		cmocka_unit_test(test_compact_and_case),
		cmocka_unit_test(test_folding),
		cmocka_unit_test(test_contact_lists),
		cmocka_unit_test(test_contact_star_and_values),
		cmocka_unit_test(test_via),
		cmocka_unit_test(test_header_faults),
		cmocka_unit_test(test_missing_mandatory),
		cmocka_unit_test(test_caps),
		cmocka_unit_test(test_body),
		cmocka_unit_test(test_incomplete),
		cmocka_unit_test(test_tables),
		cmocka_unit_test(test_rfc4475_verdicts),
		cmocka_unit_test(test_rfc4475_fields),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
