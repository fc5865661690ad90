/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The messages every benchmark sends, in one place so that the figures of
 * spr_bench, spr_dp_bench, spr_refresh_ir and spr_notify_bench are about the
 * same bytes: a softphone's REGISTER and PUBLISH and its 1,257-byte PIDF/RPID
 * document. "u0000000" is the user (7 digits, patched per user by the
 * benchmarks), "EEEEEEEEEEEEEEEE" an entity-tag (SPR_ETAG_LEN), and the
 * REGISTER's CSeq has 10 digits. Also the benchmarks' number-option parser,
 * their default EAL arguments and the load average they print.
 */
#ifndef SPR_BENCH_MSGS_H
#define SPR_BENCH_MSGS_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define SPR_BENCH_REGISTER                                                                         \
	"REGISTER sip:example.com SIP/2.0\r\n"                                                     \
	"Via: SIP/2.0/UDP 10.1.2.3:5060;branch=z9hG4bK-524287-1---a1b2c3d4e5f6a7b8;rport\r\n"      \
	"Max-Forwards: 70\r\n"                                                                     \
	"Contact: <sip:u0000000@10.1.2.3:5060;transport=udp>;expires=3600\r\n"                     \
	"To: <sip:u0000000@example.com>\r\n"                                                       \
	"From: <sip:u0000000@example.com>;tag=9f8e7d6c5b4a\r\n"                                    \
	"Call-ID: u0000000-5a6b7c8d9e0f1a2b@10.1.2.3\r\n"                                          \
	"CSeq: 0000000001 REGISTER\r\n"                                                            \
	"Expires: 3600\r\n"                                                                        \
	"Allow: INVITE, ACK, CANCEL, BYE, NOTIFY, REFER, MESSAGE, OPTIONS, INFO, SUBSCRIBE\r\n"    \
	"Supported: replaces, path, gruu\r\n"                                                      \
	"User-Agent: Yealink SIP-T46S 66.86.0.15\r\n"                                              \
	"Content-Length: 0\r\n"                                                                    \
	"\r\n"

#define SPR_BENCH_PIDF_DOC                                                                         \
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"                                             \
	"<presence xmlns=\"urn:ietf:params:xml:ns:pidf\"\n"                                        \
	"    xmlns:dm=\"urn:ietf:params:xml:ns:pidf:data-model\"\n"                                \
	"    xmlns:rpid=\"urn:ietf:params:xml:ns:pidf:rpid\"\n"                                    \
	"    xmlns:c=\"urn:ietf:params:xml:ns:pidf:caps\"\n"                                       \
	"    entity=\"sip:u0000000@example.com\">\n"                                               \
	"  <tuple id=\"t-5a6b7c8d\">\n"                                                            \
	"    <status>\n"                                                                           \
	"      <basic>open</basic>\n"                                                              \
	"    </status>\n"                                                                          \
	"    <c:servcaps>\n"                                                                       \
	"      <c:audio>true</c:audio>\n"                                                          \
	"      <c:video>true</c:video>\n"                                                          \
	"      <c:message>true</c:message>\n"                                                      \
	"    </c:servcaps>\n"                                                                      \
	"    <dm:deviceID>urn:uuid:3f2504e0-4f89-11d3-9a0c-0305e82c3301</dm:deviceID>\n"           \
	"    <contact priority=\"0.8\">sip:u0000000@10.1.2.3:5060;transport=udp</contact>\n"       \
	"    <note>Working from the Berlin office this week</note>\n"                              \
	"    <timestamp>2024-05-30T16:09:44.123Z</timestamp>\n"                                    \
	"  </tuple>\n"                                                                             \
	"  <dm:person id=\"p-5a6b7c8d\">\n"                                                        \
	"    <rpid:activities>\n"                                                                  \
	"      <rpid:meeting/>\n"                                                                  \
	"      <rpid:on-the-phone/>\n"                                                             \
	"    </rpid:activities>\n"                                                                 \
	"    <rpid:place-type><rpid:office/></rpid:place-type>\n"                                  \
	"    <rpid:mood><rpid:happy/></rpid:mood>\n"                                               \
	"    <dm:note>In a customer call until 17:00, back afterwards</dm:note>\n"                 \
	"    <dm:timestamp>2024-05-30T16:09:44.123Z</dm:timestamp>\n"                              \
	"  </dm:person>\n"                                                                         \
	"  <dm:device id=\"d-5a6b7c8d\">\n"                                                        \
	"    <dm:deviceID>urn:uuid:3f2504e0-4f89-11d3-9a0c-0305e82c3301</dm:deviceID>\n"           \
	"  </dm:device>\n"                                                                         \
	"</presence>\n"

_Static_assert(sizeof(SPR_BENCH_PIDF_DOC) - 1 == 1257, "SPR_BENCH_PUB_BODY_HDRS' Content-Length");

/* A PUBLISH's headers up to the entity-tag and body ones. */
#define SPR_BENCH_PUB_HEAD                                                                         \
	"PUBLISH sip:u0000000@example.com SIP/2.0\r\n"                                             \
	"Via: SIP/2.0/UDP 10.1.2.3:5060;branch=z9hG4bK-524287-1---a1b2c3d4e5f6a7b8;rport\r\n"      \
	"Max-Forwards: 70\r\n"                                                                     \
	"To: <sip:u0000000@example.com>\r\n"                                                       \
	"From: <sip:u0000000@example.com>;tag=9f8e7d6c5b4a\r\n"                                    \
	"Call-ID: p0000000-5a6b7c8d9e0f1a2b@10.1.2.3\r\n"                                          \
	"CSeq: 1 PUBLISH\r\n"                                                                      \
	"Event: presence\r\n"                                                                      \
	"Expires: 3600\r\n"                                                                        \
	"User-Agent: Yealink SIP-T46S 66.86.0.15\r\n"
#define SPR_BENCH_PUB_IF_MATCH "SIP-If-Match: EEEEEEEEEEEEEEEE\r\n"
#define SPR_BENCH_PUB_BODY_HDRS "Content-Type: application/pidf+xml\r\nContent-Length: 1257\r\n\r\n"

/* The three PUBLISHes of RFC 3903: initial (body), modify (If-Match + body), refresh (If-Match). */
#define SPR_BENCH_PUB_INITIAL SPR_BENCH_PUB_HEAD SPR_BENCH_PUB_BODY_HDRS SPR_BENCH_PIDF_DOC
#define SPR_BENCH_PUB_MODIFY                                                                       \
	SPR_BENCH_PUB_HEAD SPR_BENCH_PUB_IF_MATCH SPR_BENCH_PUB_BODY_HDRS SPR_BENCH_PIDF_DOC
#define SPR_BENCH_PUB_REFRESH SPR_BENCH_PUB_HEAD SPR_BENCH_PUB_IF_MATCH "Content-Length: 0\r\n\r\n"

/* A decimal option value in [lo, hi] into *out, or -1 after saying so on stderr. */
static inline int
spr_bench_num_arg(const char *prog, const char *name, const char *v, uint64_t lo, uint64_t hi,
		  uint64_t *out)
{
	char *end;
	unsigned long long x;

	if (v == NULL)
		goto bad;
	errno = 0;
	x = strtoull(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || x < lo || x > hi)
		goto bad;
	*out = x;
	return 0;
bad:
	fprintf(stderr, "%s: %s takes a number in [%llu, %llu]\n", prog, name,
		(unsigned long long)lo, (unsigned long long)hi);
	return -1;
}

/*
 * EAL arguments for a benchmark started without any: no hugepages, no PCI,
 * mem_mb MiB, no shared config or telemetry, a file prefix of its own
 * (written into buf) and the lcore map lcores. Returns the count put in argv
 * (at most 13).
 */
static inline int
spr_bench_eal_args(const char *prog, const char *mem_mb, const char *lcores, char *buf, size_t cap,
		   char **argv)
{
	int n = 0;

	argv[n++] = (char *)prog;
	argv[n++] = "--no-huge";
	argv[n++] = "--no-pci";
	argv[n++] = "-m";
	argv[n++] = (char *)mem_mb;
	argv[n++] = "--no-shconf";
	argv[n++] = "--no-telemetry";
	argv[n++] = "--log-level=*:warning";
	argv[n++] = "--file-prefix";
	argv[n++] = buf;
	snprintf(buf, cap, "%s_%d", prog, (int)getpid());
	argv[n++] = "--lcores";
	argv[n++] = (char *)lcores;
	return n;
}

/* /proc/loadavg's three figures into out, or "unknown". */
static inline void
spr_bench_loadavg(char *out, size_t cap)
{
	FILE *f = fopen("/proc/loadavg", "r");
	double l1, l5, l15;

	snprintf(out, cap, "unknown");
	if (f == NULL)
		return;
	if (fscanf(f, "%lf %lf %lf", &l1, &l5, &l15) == 3)
		snprintf(out, cap, "%.2f %.2f %.2f", l1, l5, l15);
	fclose(f);
}

#endif /* SPR_BENCH_MSGS_H */
