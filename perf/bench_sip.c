/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Parser, registrar and location-store benchmarks on a typical REGISTER
 * (~450 bytes, a softphone's). Figures go to docs/benchmarks.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <jemalloc/jemalloc.h>

#include "bench.h"
#include "bench_msgs.h"
#include "registrar.h"
#include "sip_process.h"

#define USERS_1M 1000000u
#define QS_EVERY 32u /* a worker announces a quiescent state once per burst */

/* A REGISTER with a 7-digit user number in four places and a 10-digit CSeq. */
static const char reg_tmpl[] = SPR_BENCH_REGISTER;

#define URI_BYTES (sizeof("sip:u0000000@10.1.2.3:5060;transport=udp") - 1)

struct regmsg {
	char buf[sizeof(reg_tmpl)];
	uint32_t len;
	uint32_t user_off[4];
	uint32_t cseq_off;
};

static void
regmsg_init(struct regmsg *m)
{
	const char *p = reg_tmpl;
	int k = 0;

	memcpy(m->buf, reg_tmpl, sizeof(reg_tmpl));
	m->len = sizeof(reg_tmpl) - 1;
	while (k < 4 && (p = strstr(p, "u0000000")) != NULL) {
		m->user_off[k++] = (uint32_t)(p - reg_tmpl) + 1;
		p++;
	}
	m->cseq_off = (uint32_t)(strstr(reg_tmpl, "CSeq: ") - reg_tmpl) + 6;
}

static void
put_digits(char *p, uint32_t v, int width)
{
	for (int i = width - 1; i >= 0; i--) {
		p[i] = (char)('0' + v % 10);
		v /= 10;
	}
}

static void
regmsg_set(struct regmsg *m, uint32_t user, uint32_t cseq)
{
	for (int k = 0; k < 4; k++)
		put_digits(m->buf + m->user_off[k], user, 7);
	put_digits(m->buf + m->cseq_off, cseq, 10);
}

static uint64_t
je_allocated(void)
{
	uint64_t epoch = 1;
	size_t sz = sizeof(epoch), allocated = 0, asz = sizeof(allocated);

	mallctl("epoch", &epoch, &sz, &epoch, sz);
	mallctl("stats.allocated", &allocated, &asz, NULL, 0);
	return allocated;
}

/* --- BM_sip_parse_register --- */

struct parse_fx {
	struct regmsg m;
	struct spr_sip_limits lim;
	struct spr_sip_msg msg;
	uint64_t errors;
};

static void *
parse_setup(void)
{
	struct parse_fx *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return NULL;
	regmsg_init(&f->m);
	regmsg_set(&f->m, 4242, 1);
	spr_sip_limits_default(&f->lim);
	return f;
}

static void
parse_run(void *ctx, uint64_t iters)
{
	struct parse_fx *f = ctx;

	for (uint64_t i = 0; i < iters; i++) {
		int rc = spr_sip_parse(f->m.buf, f->m.len, &f->lim, &f->msg);

		f->errors += rc <= 0;
		__asm__ volatile("" : : "r"(&f->msg) : "memory");
	}
}

static int
parse_counters(void *ctx, struct spr_bench_counter *out, int max)
{
	const struct parse_fx *f = ctx;

	if (max < 2)
		return 0;
	out[0] = (struct spr_bench_counter){"bytes", (double)f->m.len};
	out[1] = (struct spr_bench_counter){"errors", (double)f->errors};
	return 2;
}

/* --- the 1M-AOR registrar fixture, shared by refresh and lookup --- */

struct reg_fx {
	struct spr_reg_cfg cfg;
	struct spr_proc_ctx *ctx;
	struct spr_now now;
	struct spr_peer src;
	struct regmsg m;
	char out[4096];
	uint32_t cseq;
	uint32_t next; /* position in the visiting permutation */
	uint64_t non200;
	double bytes_per_binding;
};

static struct reg_fx *reg_fixture;

/* Visit users in a scattered order: i * stride mod 1M, stride coprime to 1M. */
static uint32_t
next_user(struct reg_fx *f)
{
	f->next = (f->next + 1) % USERS_1M;
	return (uint32_t)(((uint64_t)f->next * 611953u) % USERS_1M);
}

static void *
reg_setup(void)
{
	struct reg_fx *f;
	uint64_t before;

	if (reg_fixture != NULL)
		return reg_fixture;
	urcu_qsbr_register_thread();
	f = calloc(1, sizeof(*f));
	if (f == NULL)
		return NULL;
	f->ctx = calloc(1, sizeof(*f->ctx));
	if (f->ctx == NULL)
		goto err_free_fx;
	spr_reg_cfg_default(&f->cfg);
	spr_sip_limits_default(&f->ctx->lim);
	f->ctx->reg_cfg = &f->cfg;
	f->ctx->reply.server = SPR_STR("sprd/0.1");
	spr_now_set(&f->now, 1700000000);
	f->src.family = AF_INET;
	f->src.port = 5060;
	memcpy(f->src.addr, (uint8_t[]){10, 1, 2, 3}, 4);
	regmsg_init(&f->m);
	before = je_allocated();
	f->ctx->shard = spr_loc_shard_create(0, USERS_1M);
	if (f->ctx->shard == NULL)
		goto err_free_ctx;
	f->cseq = 1;
	for (uint32_t u = 0; u < USERS_1M; u++) {
		uint32_t n;

		regmsg_set(&f->m, u, f->cseq);
		n = spr_sip_process(f->ctx, f->m.buf, f->m.len, &f->src, &f->now, f->out,
				    sizeof(f->out));
		f->non200 += n < 12 || memcmp(f->out + 8, "200", 3) != 0;
		if (u % QS_EVERY == 0)
			urcu_qsbr_quiescent_state();
	}
	urcu_qsbr_synchronize_rcu();
	urcu_qsbr_barrier();
	f->bytes_per_binding = (double)(je_allocated() - before) / USERS_1M;
	reg_fixture = f;
	return f;

err_free_ctx:
	free(f->ctx);
err_free_fx:
	free(f);
	return NULL;
}

static void
refresh_run(void *ctx, uint64_t iters)
{
	struct reg_fx *f = ctx;

	for (uint64_t i = 0; i < iters; i++) {
		uint32_t n;

		regmsg_set(&f->m, next_user(f), ++f->cseq);
		n = spr_sip_process(f->ctx, f->m.buf, f->m.len, &f->src, &f->now, f->out,
				    sizeof(f->out));
		f->non200 += n < 12 || f->out[8] != '2';
		if (i % QS_EVERY == 0)
			urcu_qsbr_quiescent_state();
	}
	urcu_qsbr_quiescent_state();
}

static int
refresh_counters(void *ctx, struct spr_bench_counter *out, int max)
{
	const struct reg_fx *f = ctx;

	if (max < 4)
		return 0;
	out[0] = (struct spr_bench_counter){"bytes_per_binding", f->bytes_per_binding};
	out[1] = (struct spr_bench_counter){"uri_bytes", (double)URI_BYTES};
	out[2] = (struct spr_bench_counter){"bytes_beyond_uri", f->bytes_per_binding - URI_BYTES};
	out[3] = (struct spr_bench_counter){"non200", (double)f->non200};
	return 4;
}

struct lookup_fx {
	struct reg_fx *reg;
	char aor[32];
	uint64_t misses;
};

static void *
lookup_setup(void)
{
	struct lookup_fx *l = calloc(1, sizeof(*l));

	if (l == NULL)
		return NULL;
	l->reg = reg_setup();
	if (l->reg == NULL) {
		free(l);
		return NULL;
	}
	memcpy(l->aor, "u0000000@example.com", 20);
	return l;
}

static void
lookup_run(void *ctx, uint64_t iters)
{
	struct lookup_fx *l = ctx;
	struct spr_str aor = {l->aor, 20};

	for (uint64_t i = 0; i < iters; i++) {
		const struct spr_record *r;

		put_digits(l->aor + 1, next_user(l->reg), 7);
		r = spr_loc_lookup(l->reg->ctx->shard, &aor, spr_loc_hash(&aor));
		l->misses += r == NULL;
	}
	urcu_qsbr_quiescent_state();
}

static int
lookup_counters(void *ctx, struct spr_bench_counter *out, int max)
{
	const struct lookup_fx *l = ctx;

	if (max < 1)
		return 0;
	out[0] = (struct spr_bench_counter){"misses", (double)l->misses};
	return 1;
}

const struct spr_bench spr_benches_sip[] = {
	{"BM_sip_parse_register", parse_setup, parse_run, parse_counters, 1024},
	{"BM_register_refresh_1M", reg_setup, refresh_run, refresh_counters, 1024},
	{"BM_location_lookup_1M", lookup_setup, lookup_run, lookup_counters, 1024},
	{NULL, NULL, NULL, NULL, 0},
};
