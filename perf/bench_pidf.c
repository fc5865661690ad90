/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * PIDF parse and build on a typical softphone PUBLISH body (~1 KB: one
 * tuple with deviceID, servcaps, contact, note and timestamp, an RPID person
 * with activities). Build writes what a NOTIFY carries for that status.
 */
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "pidf.h"

static const char publish_doc[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	"<presence xmlns=\"urn:ietf:params:xml:ns:pidf\"\n"
	"    xmlns:dm=\"urn:ietf:params:xml:ns:pidf:data-model\"\n"
	"    xmlns:rpid=\"urn:ietf:params:xml:ns:pidf:rpid\"\n"
	"    xmlns:c=\"urn:ietf:params:xml:ns:pidf:caps\"\n"
	"    entity=\"sip:u0004242@example.com\">\n"
	"  <tuple id=\"t-5a6b7c8d\">\n"
	"    <status>\n"
	"      <basic>open</basic>\n"
	"    </status>\n"
	"    <c:servcaps>\n"
	"      <c:audio>true</c:audio>\n"
	"      <c:video>true</c:video>\n"
	"      <c:message>true</c:message>\n"
	"    </c:servcaps>\n"
	"    <dm:deviceID>urn:uuid:3f2504e0-4f89-11d3-9a0c-0305e82c3301</dm:deviceID>\n"
	"    <contact priority=\"0.8\">sip:u0004242@10.1.2.3:5060;transport=udp</contact>\n"
	"    <note>Working from the Berlin office this week</note>\n"
	"    <timestamp>2024-05-30T16:09:44.123Z</timestamp>\n"
	"  </tuple>\n"
	"  <dm:person id=\"p-5a6b7c8d\">\n"
	"    <rpid:activities>\n"
	"      <rpid:meeting/>\n"
	"      <rpid:on-the-phone/>\n"
	"    </rpid:activities>\n"
	"    <rpid:place-type><rpid:office/></rpid:place-type>\n"
	"    <rpid:mood><rpid:happy/></rpid:mood>\n"
	"    <dm:note>In a customer call until 17:00, back afterwards</dm:note>\n"
	"    <dm:timestamp>2024-05-30T16:09:44.123Z</dm:timestamp>\n"
	"  </dm:person>\n"
	"  <dm:device id=\"d-5a6b7c8d\">\n"
	"    <dm:deviceID>urn:uuid:3f2504e0-4f89-11d3-9a0c-0305e82c3301</dm:deviceID>\n"
	"  </dm:device>\n"
	"</presence>\n";

struct pidf_fx {
	struct spr_pidf_limits lim;
	struct spr_pidf_status st;
	struct spr_str entity;
	char out[4096];
	uint64_t errors;
	int built;
};

static void *
pidf_setup(void)
{
	struct pidf_fx *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return NULL;
	spr_pidf_limits_default(&f->lim);
	f->entity = SPR_STR("sip:u0004242@example.com");
	if (spr_pidf_parse(publish_doc, sizeof(publish_doc) - 1, &f->lim, &f->st, NULL, 0) !=
	    SPR_PIDF_OK) {
		free(f);
		return NULL;
	}
	return f;
}

static void
parse_run(void *ctx, uint64_t iters)
{
	struct pidf_fx *f = ctx;

	for (uint64_t i = 0; i < iters; i++) {
		f->errors += spr_pidf_parse(publish_doc, sizeof(publish_doc) - 1, &f->lim, &f->st,
					    NULL, 0) != SPR_PIDF_OK;
		__asm__ volatile("" : : "r"(&f->st) : "memory");
	}
}

static void
build_run(void *ctx, uint64_t iters)
{
	struct pidf_fx *f = ctx;

	for (uint64_t i = 0; i < iters; i++) {
		f->built = spr_pidf_build(&f->st, &f->entity, f->out, sizeof(f->out));
		f->errors += f->built <= 0;
		__asm__ volatile("" : : "r"(f->out) : "memory");
	}
}

static int
parse_counters(void *ctx, struct spr_bench_counter *out, int max)
{
	const struct pidf_fx *f = ctx;

	if (max < 2)
		return 0;
	out[0] = (struct spr_bench_counter){"bytes", (double)(sizeof(publish_doc) - 1)};
	out[1] = (struct spr_bench_counter){"errors", (double)f->errors};
	return 2;
}

static int
build_counters(void *ctx, struct spr_bench_counter *out, int max)
{
	const struct pidf_fx *f = ctx;

	if (max < 2)
		return 0;
	out[0] = (struct spr_bench_counter){"bytes", (double)f->built};
	out[1] = (struct spr_bench_counter){"errors", (double)f->errors};
	return 2;
}

const struct spr_bench spr_benches_pidf[] = {
	{"BM_pidf_parse", pidf_setup, parse_run, parse_counters, 64},
	{"BM_pidf_build", pidf_setup, build_run, build_counters, 64},
	{NULL, NULL, NULL, NULL, 0},
};
