/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * PIDF parse and build on a typical softphone PUBLISH body (~1 KB: one
 * tuple with deviceID, servcaps, contact, note and timestamp, an RPID person
 * with activities). Build writes what a NOTIFY carries for that status.
 * RLMI: the body of a buddy list NOTIFY (RFC 4662) over 10 and 100 members,
 * each part that document (~0.9 KB) built once, as control caches it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "bench_msgs.h"
#include "pidf.h"
#include "rlmi.h"

static const char publish_doc[] = SPR_BENCH_PIDF_DOC;

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
	f->entity = SPR_STR("sip:u0000000@example.com");
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

#define RLMI_MEMBERS_MAX 100u
#define RLMI_OUT (RLMI_MEMBERS_MAX * 1400u)

struct rlmi_fx {
	struct spr_rlmi_resource res[RLMI_MEMBERS_MAX];
	char uris[RLMI_MEMBERS_MAX][48];
	char docs[RLMI_MEMBERS_MAX][2048];
	char out[RLMI_OUT];
	uint32_t n, version;
	uint64_t errors;
	int built;
};

static void *
rlmi_setup_n(uint32_t n)
{
	struct rlmi_fx *f = calloc(1, sizeof(*f));
	struct spr_pidf_status *st = malloc(sizeof(*st));

	if (f == NULL || st == NULL ||
	    spr_pidf_parse(publish_doc, sizeof(publish_doc) - 1, NULL, st, NULL, 0) != SPR_PIDF_OK)
		goto err;
	f->n = n;
	for (uint32_t i = 0; i < n; i++) {
		int ul = snprintf(f->uris[i], sizeof(f->uris[i]), "sip:u%07u@example.com", i);
		struct spr_str ent = {f->uris[i], (uint32_t)ul};
		int dl = spr_pidf_build(st, &ent, f->docs[i], sizeof(f->docs[i]));

		if (dl <= 0)
			goto err;
		f->res[i] = (struct spr_rlmi_resource){ent, {f->docs[i], (uint32_t)dl}, i + 1u};
	}
	free(st);
	return f;
err:
	free(st);
	free(f);
	return NULL;
}

static void *
rlmi_setup_10(void)
{
	return rlmi_setup_n(10);
}

static void *
rlmi_setup_100(void)
{
	return rlmi_setup_n(100);
}

static void
rlmi_run(void *ctx, uint64_t iters)
{
	static const struct spr_str list = SPR_STR("sip:buddies@example.com");
	struct rlmi_fx *f = ctx;
	struct spr_rlmi_out o;

	for (uint64_t i = 0; i < iters; i++) {
		f->built = spr_rlmi_build(&list, f->version++, true, f->res, f->n, 0x5eed, f->out,
					  sizeof(f->out), &o);
		f->errors += f->built <= 0 || o.omitted != 0;
		__asm__ volatile("" : : "r"(f->out) : "memory");
	}
}

static int
rlmi_counters(void *ctx, struct spr_bench_counter *out, int max)
{
	const struct rlmi_fx *f = ctx;

	if (max < 3)
		return 0;
	out[0] = (struct spr_bench_counter){"bytes", (double)f->built};
	out[1] = (struct spr_bench_counter){"members", (double)f->n};
	out[2] = (struct spr_bench_counter){"errors", (double)f->errors};
	return 3;
}

const struct spr_bench spr_benches_pidf[] = {
	{"BM_pidf_parse", pidf_setup, parse_run, parse_counters, 64},
	{"BM_pidf_build", pidf_setup, build_run, build_counters, 64},
	{"BM_rlmi_build_10", rlmi_setup_10, rlmi_run, rlmi_counters, 16},
	{"BM_rlmi_build_100", rlmi_setup_100, rlmi_run, rlmi_counters, 4},
	{NULL, NULL, NULL, NULL, 0},
};
