/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The parser's fast paths for the common shapes (name-addr of From, To and
 * Contact, Request-URI, Via) against the general code they stand in for:
 * every message is parsed twice, flush against a guard page, once as
 * production does and once with spr_sip_limits.no_fast_path, and the two
 * parses must agree on the return value, the fault, and every field filled
 * (views compared by pointer and length). The fast parse runs once with
 * each block classifier the CPU has (sip_scan.h: portable, SSE2, AVX2, AVX-512BW).
 * Messages: RFC 4475, PROTOS c07-sip
 * (both from the shared corpus, skipped when absent), the unit tests'
 * messages, and single-octet mutations, deletions and prefixes of a typical
 * REGISTER and of variants in the other shapes the fast paths take.
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include <spr/sip_msg.h>

#include "sip_scan.h"
#include "testutil.h"

/* Messages of tests/unit/test_sip_parse.c and test_sip_guard.c, LF line ends. */
static const char *const unit_msgs[] = {
	"REGISTER sip:registrar.example.com:5070;transport=udp SIP/2.0\n"
	"Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK776asdhds;rport;received=192.0.2.99\n"
	"Max-Forwards: 70\n"
	"To: Bob <sip:bob@example.com>\n"
	"From: \"Bob \\\"B\\\" Smith\" <sip:bob@example.com>;tag=456248;x=y\n"
	"Call-ID: 843817637684230@998sdasdh09\n"
	"CSeq: 1826 REGISTER\n"
	"Contact: <sip:bob@192.0.2.10:5062;transport=udp>;expires=3600;q=0.7;+sip.instance=\""
	"<urn:uuid:00000000-0000-1000-8000-000A95A0E128>\";reg-id=1\n"
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
	"hello",
	"SIP/2.0 200 OK then some\n"
	"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds\n"
	"From: <sip:bob@example.com>;tag=456248\n"
	"To: <sip:bob@example.com>\n"
	"Call-ID: 843817637684230@998sdasdh09\n"
	"CSeq: 1826 REGISTER\n"
	"\n",
	"SIP/2.0 100 \n"
	"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds\n"
	"From: <sip:bob@example.com>;tag=456248\n"
	"To: <sip:bob@example.com>\n"
	"Call-ID: 843817637684230@998sdasdh09\n"
	"CSeq: 1826 REGISTER\n"
	"\n",
	"SIP/2.0 4294967301 better not break the receiver\n"
	"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds\n"
	"From: <sip:bob@example.com>;tag=456248\n"
	"To: <sip:bob@example.com>\n"
	"Call-ID: 843817637684230@998sdasdh09\n"
	"CSeq: 1826 REGISTER\n"
	"\n",
	"SIP/2.0 099 Low\n"
	"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds\n"
	"From: <sip:bob@example.com>;tag=456248\n"
	"To: <sip:bob@example.com>\n"
	"Call-ID: 843817637684230@998sdasdh09\n"
	"CSeq: 1826 REGISTER\n"
	"\n",
	"SIP/2.0 700 High\n"
	"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds\n"
	"From: <sip:bob@example.com>;tag=456248\n"
	"To: <sip:bob@example.com>\n"
	"Call-ID: 843817637684230@998sdasdh09\n"
	"CSeq: 1826 REGISTER\n"
	"\n",
	"SIP/2.0 2x0 OK\n"
	"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds\n"
	"From: <sip:bob@example.com>;tag=456248\n"
	"To: <sip:bob@example.com>\n"
	"Call-ID: 843817637684230@998sdasdh09\n"
	"CSeq: 1826 REGISTER\n"
	"\n",
	"FOO-BAR.x sip:bob@example.com SIP/2.0\n"
	"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds\n"
	"From: <sip:bob@example.com>;tag=456248\n"
	"To: <sip:bob@example.com>\n"
	"Call-ID: 843817637684230@998sdasdh09\n"
	"CSeq: 1826 REGISTER\n"
	"\n",
	"FOO-BAR.x sip:bob@example.com SIP/2.0\n"
	"Via: SIP/2.0/UDP h;branch=z9hG4bK1\n"
	"From: <sip:a@b>;tag=1\n"
	"To: <sip:a@b>\n"
	"Call-ID: 1\n"
	"CSeq: 1 FOO-BAR.x\n"
	"\n",
	"register sip:example.com SIP/2.0\n"
	"Via: SIP/2.0/UDP h;branch=z9hG4bK1\n"
	"From: <sip:a@b>;tag=1\n"
	"To: <sip:a@b>\n"
	"Call-ID: 1\n"
	"CSeq: 1 register\n"
	"\n",
	"register sip:example.com SIP/2.0\n"
	"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds\n"
	"From: <sip:bob@example.com>;tag=456248\n"
	"To: <sip:bob@example.com>\n"
	"Call-ID: 843817637684230@998sdasdh09\n"
	"CSeq: 1826 REGISTER\n"
	"\n",
	"REGISTER  sip:example.com  sip/2.0 \t\n"
	"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds\n"
	"From: <sip:bob@example.com>;tag=456248\n"
	"To: <sip:bob@example.com>\n"
	"Call-ID: 843817637684230@998sdasdh09\n"
	"CSeq: 1826 REGISTER\n"
	"\n",
	"REGISTER urn:service:sos SIP/2.0\n"
	"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds\n"
	"From: <sip:bob@example.com>;tag=456248\n"
	"To: <sip:bob@example.com>\n"
	"Call-ID: 843817637684230@998sdasdh09\n"
	"CSeq: 1826 REGISTER\n"
	"\n",
	"REGISTER tel:+1-201-555-0123 SIP/2.0\n"
	"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds\n"
	"From: <sip:bob@example.com>;tag=456248\n"
	"To: <sip:bob@example.com>\n"
	"Call-ID: 843817637684230@998sdasdh09\n"
	"CSeq: 1826 REGISTER\n"
	"\n",
	"%s sip:a@b SIP/2.0\n"
	"Via: SIP/2.0/UDP h\n"
	"From: <sip:a@b>;tag=1\n"
	"To: <sip:a@b>\n"
	"Call-ID: c\n"
	"CSeq: 7 %s\n"
	"\n",
	"%sVia: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds\n"
	"From: <sip:bob@example.com>;tag=456248\n"
	"To: <sip:bob@example.com>\n"
	"Call-ID: 843817637684230@998sdasdh09\n"
	"CSeq: 1826 REGISTER\n"
	"\n",
	"REGISTER sip:example.com SIP/2.0\n"
	"v: SIP/2.0/UDP h1;branch=z9hG4bK1\n"
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
	"\n",
	"REGISTER sip:example.com SIP/2.0\n"
	"Via: SIP  /   2.0\n"
	" /UDP\n"
	"    192.0.2.2;branch=\n"
	" z9hG4bKf\n"
	"From: <sip:bob@example.com>\n"
	"  ;\n"
	"  tag = 98asjd8\n"
	"To:\n"
	" sip:bob@example.com\n"
	"Call-ID: fold@x\n"
	"cseq: 0009\n"
	"\tREGISTER\n"
	"Contact: <sip:bob@h> ; q = 0.33 ;\n"
	"  expires=\n"
	" 60\n"
	"X-Long: a\n"
	" b\n"
	"\tc\n"
	"Max-Forwards: 0068\n"
	"\n",
	"REGISTER sip:example.com SIP/2.0\n"
	"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds\n"
	"From: <sip:bob@example.com>;tag=456248\n"
	"To: <sip:bob@example.com>\n"
	"Call-ID: 843817637684230@998sdasdh09\n"
	"CSeq: 1826 REGISTER\n"
	"Contact: \"Doe, John\" <sip:jd@h1>;q=0.1, <sip:a,b@h2;x=1>,\n"
	" sip:plain@h3;expires=0 , Tok En <sip:te@h4>\n"
	"Contact: sip:+19725552222@gw1.example.net;unknownparam\n"
	"Contact: <sip:+19725552222@gw1.example.net;unknownparam>\n"
	"Contact: <sip:user@example.com?Route=%3Csip:sip.example.com%3E>\n"
	"Contact: <sip:%00@host5.example.com>;+sip.instance=\"<urn:a,b;c>\";reg-id=7;foo=\"x;"
	"y\";bar\n"
	"Contact: <name:John_Smith>\n"
	"\n",
	"REGISTER sip:example.com SIP/2.0\n"
	"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds\n"
	"From: <sip:bob@example.com>;tag=456248\n"
	"To: <sip:bob@example.com>\n"
	"Call-ID: 843817637684230@998sdasdh09\n"
	"CSeq: 1826 REGISTER\n"
	"Contact: *\n"
	"Expires: 0\n"
	"\n",
	"REGISTER sip:example.com SIP/2.0\n"
	"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds\n"
	"From: <sip:bob@example.com>;tag=456248\n"
	"To: <sip:bob@example.com>\n"
	"Call-ID: 843817637684230@998sdasdh09\n"
	"CSeq: 1826 REGISTER\n"
	"Contact: <sip:a@b>;%s\n"
	"\n",
	"REGISTER sip:example.com SIP/2.0\n"
	"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds\n"
	"From: <sip:bob@example.com>;tag=456248\n"
	"To: <sip:bob@example.com>\n"
	"Call-ID: 843817637684230@998sdasdh09\n"
	"CSeq: 1826 REGISTER\n"
	"Expires: 99999999999999999999999\n"
	"\n",
	"REGISTER sip:example.com SIP/2.0\n"
	"Via: SIP/2.0/TLS [2001:db8::1]:5061;branch=z9hG4bKa;rport=5070;maddr=x, SIP/2.0/UDP "
	"10.0.0.1;branch=z9hG4bKb\n"
	"v: sip/2.0/ws df7jal23ls0d.invalid;branch=z9hG4bKc;received=2001:db8::9;rport\n"
	"From: <sip:bob@example.com>;tag=1\n"
	"To: <sip:bob@example.com>\n"
	"Call-ID: v\n"
	"CSeq: 1 REGISTER\n"
	"\n",
	"REGISTER sip:example.com SIP/2.0\n"
	"Via: SIP/2.0/UDP h\n"
	"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds\n"
	"From: <sip:bob@example.com>;tag=456248\n"
	"To: <sip:bob@example.com>\n"
	"Call-ID: 843817637684230@998sdasdh09\n"
	"CSeq: 1826 REGISTER\n"
	"\n",
	"REGISTER sip:example.com SIP/2.0\n"
	"%sVia: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds\n"
	"From: <sip:bob@example.com>;tag=456248\n"
	"To: <sip:bob@example.com>\n"
	"Call-ID: 843817637684230@998sdasdh09\n"
	"CSeq: 1826 REGISTER\n"
	"\n",
	"REGISTER sip:example.com SIP/2.0\n"
	"From: <sip:a@b>;tag=1\n"
	"To: <sip:a@b>\n"
	"Call-ID: c\n"
	"CSeq: 1 REGISTER\n"
	"\n",
	"REGISTER sip:example.com SIP/2.0\n"
	"Via: SIP/2.0/UDP h\n"
	"To: <sip:a@b>\n"
	"Call-ID: c\n"
	"CSeq: 1 REGISTER\n"
	"\n",
	"REGISTER sip:example.com SIP/2.0\n"
	"Via: SIP/2.0/UDP h\n"
	"From: <sip:a@b>\n"
	"Call-ID: c\n"
	"CSeq: 1 REGISTER\n"
	"\n",
	"REGISTER sip:example.com SIP/2.0\n"
	"Via: SIP/2.0/UDP h\n"
	"From: <sip:a@b>\n"
	"To: <sip:a@b>\n"
	"CSeq: 1 REGISTER\n"
	"\n",
	"REGISTER sip:example.com SIP/2.0\n"
	"Via: SIP/2.0/UDP h\n"
	"From: <sip:a@b>\n"
	"To: <sip:a@b>\n"
	"Call-ID: c\n"
	"\n",
	"REGISTER sip:example.com SIP/2.0\n"
	"Via: SIP/2.0/UDP h\n"
	"From: <sip:a@b>\n"
	"To: <sip:a@b>\n"
	"Call-ID: c\n"
	"CSeq: 1 INVITE\n"
	"\n",
	"REGISTER sip:example.com SIP/2.0\n"
	"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds\n"
	"From: <sip:bob@example.com>;tag=456248\n"
	"To: <sip:bob@example.com>\n"
	"Call-ID: 843817637684230@998sdasdh09\n"
	"CSeq: 1826 REGISTER\n"
	"\n",
	"REGISTER sip:example.com SIP/2.0\n"
	"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds\n"
	"From: <sip:bob@example.com>;tag=456248\n"
	"To: <sip:bob@example.com>\n"
	"Call-ID: 843817637684230@998sdasdh09\n"
	"CSeq: 1826 REGISTER\n"
	"X: 1\n"
	"\n",
	"REGISTER sip:example.com SIP/2.0\n"
	"Via: SIP/2.0/UDP a, SIP/2.0/UDP b\n"
	"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds\n"
	"From: <sip:bob@example.com>;tag=456248\n"
	"To: <sip:bob@example.com>\n"
	"Call-ID: 843817637684230@998sdasdh09\n"
	"CSeq: 1826 REGISTER\n"
	"\n",
	"REGISTER sip:example.com SIP/2.0\n"
	"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds\n"
	"From: <sip:bob@example.com>;tag=456248\n"
	"To: <sip:bob@example.com>\n"
	"Call-ID: 843817637684230@998sdasdh09\n"
	"CSeq: 1826 REGISTER\n"
	"Contact: <sip:a@b>, <sip:c@d>\n"
	"\n",
	"REGISTER sip:example.com SIP/2.0\n"
	"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds\n"
	"From: <sip:bob@example.com>;tag=456248\n"
	"To: <sip:bob@example.com>\n"
	"Call-ID: 843817637684230@998sdasdh09\n"
	"CSeq: 1826 REGISTER\n"
	"Contact: <sip:a@b>, <sip:c@d>\n"
	"m: <sip:e@f>\n"
	"\n",
	"REGISTER sip:example.com SIP/2.0\n"
	"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds\n"
	"From: <sip:bob@example.com>;tag=456248\n"
	"To: <sip:bob@example.com>\n"
	"Call-ID: 843817637684230@998sdasdh09\n"
	"CSeq: 1826 REGISTER\n"
	"Content-Length: 200\n"
	"\n",
	"REGISTER sip:example.com SIP/2.0\n"
	"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds\n"
	"From: <sip:bob@example.com>;tag=456248\n"
	"To: <sip:bob@example.com>\n"
	"Call-ID: 843817637684230@998sdasdh09\n"
	"CSeq: 1826 REGISTER\n"
	"X-Pad: ",
	"REGISTER sip:example.com SIP/2.0\n"
	"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds\n"
	"From: <sip:bob@example.com>;tag=456248\n"
	"To: <sip:bob@example.com>\n"
	"Call-ID: 843817637684230@998sdasdh09\n"
	"CSeq: 1826 REGISTER\n"
	"\n"
	"012345678901234567890123456789012345678901234567890123456789012345678901234567890123"
	"456789012345678901234567890123456789",
	"REGISTER sip:example.com SIP/2.0\n"
	"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds\n"
	"From: <sip:bob@example.com>;tag=456248\n"
	"To: <sip:bob@example.com>\n"
	"Call-ID: 843817637684230@998sdasdh09\n"
	"CSeq: 1826 REGISTER\n"
	"Content-Length: 4\n"
	"\n"
	"body and more that is not ours, 0123456789012345678901234567890123456789",
	"REGISTER sip:example.com SIP/2.0\n"
	"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds\n"
	"From: <sip:bob@example.com>;tag=456248\n"
	"To: <sip:bob@example.com>\n"
	"Call-ID: 843817637684230@998sdasdh09\n"
	"CSeq: 1826 REGISTER\n"
	"Content-Length: 10\n"
	"\n"
	"short",
	"REGISTER sip:example.com SIP/2.0\n"
	"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds\n"
	"From: <sip:bob@example.com>;tag=456248\n"
	"To: <sip:bob@example.com>\n"
	"Call-ID: 843817637684230@998sdasdh09\n"
	"CSeq: 1826 REGISTER\n"
	"Content-Length: 3\n"
	"\n"
	"abcINVITE sip:x SIP/2.0\n",
	"REGISTER sip:example.com SIP/2.0\n"
	"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds\n"
	"From: <sip:bob@example.com>;tag=456248\n"
	"To: <sip:bob@example.com>\n"
	"Call-ID: 843817637684230@998sdasdh09\n"
	"CSeq: 1826 REGISTER\n"
	"\n"
	"rest of it\n",
	"\n"
	"\n"
	"REGISTER sip:example.com SIP/2.0\n"
	"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds\n"
	"From: <sip:bob@example.com>;tag=456248\n"
	"To: <sip:bob@example.com>\n"
	"Call-ID: 843817637684230@998sdasdh09\n"
	"CSeq: 1826 REGISTER\n"
	"l: 0\n"
	"\n",
	"REGISTER sip:example.com SIP/2.0\n"
	"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds\n"
	"From: <sip:bob@example.com>;tag=456248\n"
	"To: <sip:bob@example.com>\n"
	"Call-ID: 843817637684230@998sdasdh09\n"
	"CSeq: 1826 REGISTER\n",
	"REGISTER sip:example.com SIP/2.0\n"
	"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds\n"
	"From: <sip:bob@example.com>;tag=456248\n"
	"To: <sip:bob@example.com>\n"
	"Call-ID: 843817637684230@998sdasdh09\n"
	"CSeq: 1826 REGISTER\n"
	"X-Unfinished: a",
	"REGISTER sip:example.com SIP/2.0\n"
	"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds\n"
	"From: <sip:bob@example.com>;tag=456248\n"
	"To: <sip:bob@example.com>\n"
	"Call-ID: 843817637684230@998sdasdh09\n"
	"CSeq: 1826 REGISTER\n"
	"\r",
	"REGISTER sip:example.com SIP/2.0\n"
	"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds\n"
	"From: <sip:bob@example.com>;tag=456248\n"
	"To: <sip:bob@example.com>\n"
	"Call-ID: 843817637684230@998sdasdh09\n"
	"CSeq: 1826 REGISTER\n"
	"v=0\n"
	"o=x\n",
	"REGISTER sip:registrar.example.com SIP/2.0\n"
	"Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK776asdhds;rport;received=192.0.2.99\n"
	"Via: SIP/2.0/TLS [2001:db8::1]:5061;branch=z9hG4bKa, SIP/2.0/UDP h;rport=5\n"
	"Max-Forwards: 70\n"
	"To: Bob <sip:bob@example.com>\n"
	"From: \"Bob \\\"B\\\"\" <sip:bob@example.com>;tag=456248\n"
	"Call-ID: 843817637684230@998sdasdh09\n"
	"CSeq: 1826 REGISTER\n"
	"Contact: <sip:bob@192.0.2.10:5062;transport=udp>;expires=3600;q=0.7;+sip.instance=\""
	"<urn:uuid:00000000-0000-1000-8000-000A95A0E128>\";reg-id=1,\n"
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
	"From: <sip:a@b>;tag=1\n"
	"To: <sip:a@b>;tag=2\n"
	"Call-ID: x\n"
	"CSeq: 1 NOTIFY\n"
	"Content-Length: 0\n"
	"\n",
	"OPTIONS sip:user@example.com SIP/2.0\n"
	"Via  : SIP  /   2.0\n"
	" /UDP\n"
	"    192.0.2.2;branch=390skdjuw\n"
	"TO :\n"
	" sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n\n"
	"from   : \"J Rosenberg \\\\\\\"\"       <sip:jdrosen@example.com>\n"
	"  ;\n"
	"  tag = 98asjd8\n"
	"Call-ID: a@b\n"
	"cseq: 0009\n"
	"  OPTIONS\n"
	"l: 0\n"
	"\n",
	"INVITE sip:bob@example.com SIP/7.0\n"
	"Via: SIP/2.0/UDP 192.0.2.15;;,;,,\n"
	"Contact: \"Joe\" <sip:joe@example.org>;;;;\n"
	"From: Bell, A <sip:a@b>\n"
	"To: \"x <sip:y>\n"
	"CSeq: -1 X\n"
	"Call-ID: a b\n"
	"Max-Forwards: 300\n"
	"Content-Length: 99\n"
	"\n"
	"short",
	"\n"
	"\n"
	"REGISTER sip:a SIP/2.0\n"
	"v:SIP/2.0/UDP [::1]:5\n"
	"f:sip:a@b;tag=1\n"
	"t:sip:a@b\n"
	"i:c\n"
	"CSeq:1 REGISTER\n"
	"m:*\n"
	"\n",
	/* header names in odd cases and near misses (lines_fast()'s word compares) */
	"REGISTER sip:example.com SIP/2.0\n"
	"vIA: SIP/2.0/UDP 10.1.2.3;branch=z9hG4bK1\n"
	"mAX-fORWARDS: 70\n"
	"tO: <sip:a@example.com>\n"
	"FROM: <sip:a@example.com>;tag=1\n"
	"cALL-iD: x@y\n"
	"CSEQ: 1 REGISTER\n"
	"CONTACT: <sip:a@10.1.2.3>\n"
	"eXPIRES: 60\n"
	"Contacts: <sip:b@h>\n"
	"Expire: 1\n"
	"Via-: x\n"
	"To.: y\n"
	"Tp: z\n"
	"Cseq1: 2 X\n"
	"SUPPORTED: path\n"
	"Supported-: gruu\n"
	"user-AGENT: x\n"
	"Content-Lengthy: 3\n"
	"Content-Lengtj: 4\n"
	"Dontent-Length: 5\n"
	"SUBSCRIPTION-STATE: active\n"
	"CONTENT-LENGTH: 0\n"
	"\n",
};

/* The REGISTER of perf/bench_sip.c, and the same in the other shapes the fast paths take. */
static const char *const base_msgs[] = {
	"REGISTER sip:example.com SIP/2.0\r\n"
	"Via: SIP/2.0/UDP 10.1.2.3:5060;branch=z9hG4bK-524287-1---a1b2c3d4e5f6a7b8;rport\r\n"
	"Max-Forwards: 70\r\n"
	"Contact: <sip:u0004242@10.1.2.3:5060;transport=udp>;expires=3600\r\n"
	"To: <sip:u0004242@example.com>\r\n"
	"From: <sip:u0004242@example.com>;tag=9f8e7d6c5b4a\r\n"
	"Call-ID: u0004242-5a6b7c8d9e0f1a2b@10.1.2.3\r\n"
	"CSeq: 0000000001 REGISTER\r\n"
	"Expires: 3600\r\n"
	"Allow: INVITE, ACK, CANCEL, BYE, NOTIFY, REFER, MESSAGE, OPTIONS, INFO, SUBSCRIBE\r\n"
	"Supported: replaces, path, gruu\r\n"
	"User-Agent: Yealink SIP-T46S 66.86.0.15\r\n"
	"Content-Length: 0\r\n"
	"\r\n",
	"REGISTER sip:u@example.com:5070;transport=tcp;lr SIP/2.0\r\n"
	"Via: SIP/2.0/TCP h.example.com;rport=5060;received=192.0.2.1;branch=z9hG4bKx, "
	"SIP/2.0/UDP 192.0.2.2:5060;branch=z9hG4bKy\r\n"
	"To: sip:+4930123@example.com\r\n"
	"From: sip:+4930123@example.com;tag=a1\r\n"
	"Contact: <sip:+4930123@192.0.2.9;ob>;q=0.5;reg-id=1;expires=60, "
	"sip:a.b_c!~*'()&=+$/x@h:1;tag=t, <sip:host>\r\n"
	"Call-ID: c1\r\n"
	"CSeq: 7 REGISTER\r\n"
	"Content-Length: 0\r\n"
	"\r\n",
};

/* Octets put at every position of a base message ('-', '.' and '9' inside runs of digits). */
static const char mutants[] = {' ', '\t', '\r', '\n', '<', '>',	   ';',	       ',', '@', ':',
			       '%', '"',  '?',	'\0', '-', '.', (char)0x80, (char)0xff, 'a', '9'};

struct stats {
	uint32_t messages, accepted, rejected, truncated;
};

#define SAME_STR(a, b, what) same_str(&(a), &(b), what, ctx)

static void
same_str(const struct spr_str *a, const struct spr_str *b, const char *what, const char *ctx)
{
	if (a->p != b->p || a->len != b->len)
		fail_msg("%s: %s differs: fast %p+%u \"%.*s\", general %p+%u \"%.*s\"", ctx, what,
			 (const void *)a->p, a->len, (int)(a->p ? a->len : 0), a->p ? a->p : "",
			 (const void *)b->p, b->len, (int)(b->p ? b->len : 0), b->p ? b->p : "");
}

#define SAME(a, b, what)                                                                           \
	do {                                                                                       \
		if ((uint64_t)(a) != (uint64_t)(b))                                                \
			fail_msg("%s: %s differs: fast %llu, general %llu", ctx, what,             \
				 (unsigned long long)(a), (unsigned long long)(b));                \
	} while (0)

static void
same_uri(const struct spr_sip_uri *a, const struct spr_sip_uri *b, const char *ctx)
{
	SAME_STR(a->raw, b->raw, "uri.raw");
	SAME_STR(a->scheme, b->scheme, "uri.scheme");
	SAME_STR(a->user, b->user, "uri.user");
	SAME_STR(a->password, b->password, "uri.password");
	SAME_STR(a->host, b->host, "uri.host");
	SAME_STR(a->params, b->params, "uri.params");
	SAME_STR(a->headers, b->headers, "uri.headers");
	SAME(a->port, b->port, "uri.port");
	SAME(a->scheme_id, b->scheme_id, "uri.scheme_id");
	SAME(a->has_user, b->has_user, "uri.has_user");
}

static void
same_nameaddr(const struct spr_sip_nameaddr *a, const struct spr_sip_nameaddr *b, const char *ctx)
{
	SAME_STR(a->raw, b->raw, "na.raw");
	SAME_STR(a->display, b->display, "na.display");
	same_uri(&a->uri, &b->uri, ctx);
	SAME_STR(a->params, b->params, "na.params");
	SAME_STR(a->tag, b->tag, "na.tag");
	SAME(a->has_tag, b->has_tag, "na.has_tag");
}

static void
same_hlist(const struct spr_sip_hlist *a, const struct spr_sip_hlist *b, const char *ctx)
{
	SAME(a->n, b->n, "hlist.n");
	for (unsigned i = 0; i < a->n && i < SPR_SIP_HLIST_MAX; i++)
		SAME_STR(a->v[i], b->v[i], "hlist.v");
}

/* Every field of struct spr_sip_msg that a parse fills. */
static void
same_msg(const struct spr_sip_msg *a, const struct spr_sip_msg *b, const char *ctx)
{
	SAME(a->is_request, b->is_request, "is_request");
	SAME(a->start_ok, b->start_ok, "start_ok");
	SAME(a->method, b->method, "method");
	SAME(a->status, b->status, "status");
	SAME_STR(a->method_str, b->method_str, "method_str");
	same_uri(&a->ruri, &b->ruri, ctx);
	SAME_STR(a->reason, b->reason, "reason");
	SAME(a->err, b->err, "err");
	SAME_STR(a->err_header, b->err_header, "err_header");
	SAME(a->n_headers, b->n_headers, "n_headers");
	SAME(a->n_unknown, b->n_unknown, "n_unknown");
	SAME(a->n_via_fields, b->n_via_fields, "n_via_fields");
	for (unsigned i = 0; i < a->n_via_fields; i++)
		SAME_STR(a->via_fields[i], b->via_fields[i], "via_fields");
	SAME_STR(a->via.raw, b->via.raw, "via.raw");
	SAME_STR(a->via.transport, b->via.transport, "via.transport");
	SAME_STR(a->via.host, b->via.host, "via.host");
	SAME_STR(a->via.branch, b->via.branch, "via.branch");
	SAME_STR(a->via.received, b->via.received, "via.received");
	SAME(a->via.port, b->via.port, "via.port");
	SAME(a->via.rport_val, b->via.rport_val, "via.rport_val");
	SAME(a->via.has_rport, b->via.has_rport, "via.has_rport");
	SAME(a->via.has_rport_val, b->via.has_rport_val, "via.has_rport_val");
	same_nameaddr(&a->from, &b->from, ctx);
	same_nameaddr(&a->to, &b->to, ctx);
	SAME_STR(a->call_id, b->call_id, "call_id");
	SAME_STR(a->cseq_method, b->cseq_method, "cseq_method");
	SAME(a->cseq, b->cseq, "cseq");
	SAME(a->cseq_method_id, b->cseq_method_id, "cseq_method_id");
	SAME(a->contact_star, b->contact_star, "contact_star");
	SAME(a->n_contact_fields, b->n_contact_fields, "n_contact_fields");
	SAME(a->n_contacts, b->n_contacts, "n_contacts");
	for (unsigned i = 0; i < a->n_contacts && i < SPR_SIP_CONTACT_MAX; i++) {
		const struct spr_sip_contact *x = &a->contacts[i], *y = &b->contacts[i];
		same_nameaddr(&x->na, &y->na, ctx);
		SAME_STR(x->instance, y->instance, "contact.instance");
		SAME(x->expires, y->expires, "contact.expires");
		SAME(x->reg_id, y->reg_id, "contact.reg_id");
		SAME(x->q, y->q, "contact.q");
		SAME(x->flags, y->flags, "contact.flags");
	}
	SAME(a->has_expires, b->has_expires, "has_expires");
	SAME(a->has_min_expires, b->has_min_expires, "has_min_expires");
	SAME(a->has_max_forwards, b->has_max_forwards, "has_max_forwards");
	SAME(a->has_content_length, b->has_content_length, "has_content_length");
	SAME(a->expires, b->expires, "expires");
	SAME(a->min_expires, b->min_expires, "min_expires");
	SAME(a->max_forwards, b->max_forwards, "max_forwards");
	SAME(a->content_length, b->content_length, "content_length");
	SAME_STR(a->content_type, b->content_type, "content_type");
	SAME_STR(a->media_type, b->media_type, "media_type");
	SAME_STR(a->event, b->event, "event");
	SAME_STR(a->event_id, b->event_id, "event_id");
	SAME_STR(a->auth_scheme, b->auth_scheme, "auth_scheme");
	SAME_STR(a->auth_params, b->auth_params, "auth_params");
	SAME_STR(a->bearer, b->bearer, "bearer");
	SAME_STR(a->sip_if_match, b->sip_if_match, "sip_if_match");
	SAME_STR(a->sip_etag, b->sip_etag, "sip_etag");
	SAME_STR(a->subscription_state, b->subscription_state, "subscription_state");
	SAME_STR(a->user_agent, b->user_agent, "user_agent");
	SAME_STR(a->date, b->date, "date");
	same_hlist(&a->accept, &b->accept, ctx);
	same_hlist(&a->supported, &b->supported, ctx);
	same_hlist(&a->require, &b->require, ctx);
	same_hlist(&a->proxy_require, &b->proxy_require, ctx);
	same_hlist(&a->path, &b->path, ctx);
	same_hlist(&a->route, &b->route, ctx);
	same_hlist(&a->record_route, &b->record_route, ctx);
	SAME_STR(a->body, b->body, "body");
}

/*
 * Both parses of buf[0..len), in one guarded copy; the general one into a
 * message first filled with 0xa5 octets and the fast one into one filled
 * with 0x5a, so a field one path leaves unset differs.
 */
static void
diff_one(const char *buf, uint32_t len, const char *ctx, struct stats *s)
{
	static struct spr_sip_msg fast, gen;
	struct spr_sip_limits lf, lg;
	char *g = spr_test_guard_copy(buf, len);
	int rf = 0, rg;

	assert_non_null(g);
	spr_sip_limits_default(&lf);
	spr_sip_limits_default(&lg);
	lg.no_fast_path = 1;
	memset(&gen, 0xa5, sizeof(gen));
	rg = spr_sip_parse(g, len, &lg, &gen);
	/* the fast paths with each block classifier this CPU runs (sip_scan.h) */
	for (int isa = 0; isa < SPR_SIP_SCAN__COUNT; isa++) {
		char ictx[160];
		if (spr_sip_scan_select((enum spr_sip_scan_isa)isa) != 0)
			continue;
		snprintf(ictx, sizeof(ictx), "%s [%s]", ctx,
			 spr_sip_scan_name((enum spr_sip_scan_isa)isa));
		memset(&fast, 0x5a, sizeof(fast));
		rf = spr_sip_parse(g, len, &lf, &fast);
		if (rf != rg)
			fail_msg("%s: rc differs: fast %d (%s), general %d (%s)", ictx, rf,
				 spr_sip_err_name((enum spr_sip_err)fast.err), rg,
				 spr_sip_err_name((enum spr_sip_err)gen.err));
		same_msg(&fast, &gen, ictx);
	}
	s->messages++;
	if (rf > 0)
		s->accepted++;
	else if (rf == -EAGAIN)
		s->truncated++;
	else
		s->rejected++;
	spr_test_guard_free(g, len);
}

static void
report(const char *what, const struct stats *s)
{
	printf("%-28s %6u messages: %6u accepted, %6u rejected, %6u incomplete; all identical\n",
	       what, s->messages, s->accepted, s->rejected, s->truncated);
}

static void
test_unit_messages(void **state)
{
	struct stats s = {0};
	char ctx[64];

	(void)state;
	for (unsigned i = 0; i < sizeof(unit_msgs) / sizeof(unit_msgs[0]); i++) {
		uint32_t len;
		char *crlf = spr_test_crlf(unit_msgs[i], &len);
		assert_non_null(crlf);
		snprintf(ctx, sizeof(ctx), "unit message %u", i);
		diff_one(crlf, len, ctx, &s);
		/* as written, bare LFs and all */
		diff_one(unit_msgs[i], (uint32_t)strlen(unit_msgs[i]), ctx, &s);
		for (uint32_t cut = 0; cut < len; cut++) {
			snprintf(ctx, sizeof(ctx), "unit message %u cut at %u", i, cut);
			diff_one(crlf, cut, ctx, &s);
		}
		free(crlf);
	}
	report("unit-test messages", &s);
}

static void
test_mutations(void **state)
{
	struct stats s = {0};
	char ctx[96];

	(void)state;
	for (unsigned b = 0; b < sizeof(base_msgs) / sizeof(base_msgs[0]); b++) {
		uint32_t len = (uint32_t)strlen(base_msgs[b]), acc = s.accepted;
		char *m = malloc(len);

		assert_non_null(m);
		snprintf(ctx, sizeof(ctx), "base %u", b);
		diff_one(base_msgs[b], len, ctx, &s);
		assert_int_equal(s.accepted, acc + 1);
		for (uint32_t i = 0; i < len; i++) {
			/* each octet replaced by each interesting octet */
			memcpy(m, base_msgs[b], len);
			for (unsigned k = 0; k < sizeof(mutants); k++) {
				if (base_msgs[b][i] == mutants[k])
					continue;
				m[i] = mutants[k];
				snprintf(ctx, sizeof(ctx), "base %u, octet %u set to 0x%02x", b, i,
					 (unsigned char)mutants[k]);
				diff_one(m, len, ctx, &s);
			}
			/* each octet deleted */
			memcpy(m, base_msgs[b], i);
			memcpy(m + i, base_msgs[b] + i + 1, len - i - 1);
			snprintf(ctx, sizeof(ctx), "base %u, octet %u deleted", b, i);
			diff_one(m, len - 1, ctx, &s);
			/* each prefix */
			snprintf(ctx, sizeof(ctx), "base %u cut at %u", b, i);
			diff_one(base_msgs[b], i, ctx, &s);
		}
		free(m);
	}
	report("mutations of REGISTERs", &s);
}

static void
test_rfc4475(void **state)
{
	struct stats s = {0};
	char dir[2048], path[4096];
	struct dirent *de;
	DIR *d;

	(void)state;
	if (spr_test_datadir() == NULL) {
		printf("SKIP: no test corpus ($SPR_TESTDATA or ../shared/testdata)\n");
		skip();
	}
	snprintf(dir, sizeof(dir), "%s/rfc4475", spr_test_datadir());
	d = opendir(dir);
	if (d == NULL) {
		printf("SKIP: %s absent\n", dir);
		skip();
	}
	while ((de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name);
		uint32_t len;
		char *msg;
		if (n < 5 || strcmp(de->d_name + n - 4, ".dat") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		msg = spr_test_read_file(path, &len);
		assert_non_null(msg);
		diff_one(msg, len, de->d_name, &s);
		free(msg);
	}
	closedir(d);
	assert_int_equal(s.messages, 49);
	report("RFC 4475", &s);
}

/* A PROTOS case with its placeholders filled (testutil.c); the test fails when it is unreadable. */
static char *
load_case(const char *dir, uint32_t n, uint32_t *len)
{
	char *msg = spr_test_protos_case(dir, n, len);

	if (msg == NULL)
		fail_msg("PROTOS case %07u under %s is missing or malformed", n, dir);
	return msg;
}

#define PROTOS_CASES 4527u

static void
test_protos(void **state)
{
	struct stats s = {0};
	char dir[2048], ctx[32];
	struct stat st;

	(void)state;
	if (spr_test_datadir() == NULL) {
		printf("SKIP: no test corpus ($SPR_TESTDATA or ../shared/testdata)\n");
		skip();
	}
	snprintf(dir, sizeof(dir), "%s/protos-c07-sip", spr_test_datadir());
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		printf("SKIP: %s absent\n", dir);
		skip();
	}
	for (uint32_t n = 0; n < PROTOS_CASES; n++) {
		uint32_t len;
		char *text = load_case(dir, n, &len);
		snprintf(ctx, sizeof(ctx), "PROTOS case %u", n);
		diff_one(text, len, ctx, &s);
		free(text);
	}
	report("PROTOS c07-sip", &s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unit_messages),
		cmocka_unit_test(test_mutations),
		cmocka_unit_test(test_rfc4475),
		cmocka_unit_test(test_protos),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
