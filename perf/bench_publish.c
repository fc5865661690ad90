/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A worker's share of PUBLISH (RFC 3903) over 100k presentities, each
 * published once in set-up: what spr_worker_run does per request, without
 * the io and the rings (perf/dp_bench.c --scenario publish has those).
 *  - BM_publish_modify_100k: SIP-If-Match + the 1,257-byte softphone body:
 *    parse, checks, "send the body to control" (spr_sip_process_msg returns
 *    0 with pidf_check set); then with control's verdict (parsed once here:
 *    control's parse is BM_pidf_parse) parse again, apply, answer 200.
 *  - BM_publish_refresh_100k: SIP-If-Match, no body: parse, refresh, 200.
 * Users are visited in a scattered order; each request carries the
 * entity-tag of the user's last 200. Figures go to docs/benchmarks.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <urcu-qsbr.h>

#include "bench.h"
#include "bench_msgs.h"
#include "pidf.h"
#include "sip_process.h"

#define USERS 100000u
#define QS_EVERY 32u


enum { M_INITIAL, M_MODIFY, M_REFRESH, M__COUNT };
static const char *const tmpl[M__COUNT] = {
	SPR_BENCH_PUB_INITIAL,
	SPR_BENCH_PUB_MODIFY,
	SPR_BENCH_PUB_REFRESH,
};

struct pubmsg {
	char buf[2048];
	uint32_t len;
	uint32_t n_user;
	uint32_t user_off[8];
	uint32_t etag_off; /* 0: none */
};

struct pub_fx {
	struct spr_proc_ctx *ctx;
	struct spr_reg_cfg reg_cfg;
	struct spr_pres_cfg pres_cfg;
	struct spr_pidf_status *status; /* control's verdict, parsed once */
	struct spr_sip_msg msg;
	struct spr_now now;
	struct spr_peer src;
	struct pubmsg m[M__COUNT];
	char (*etag)[SPR_ETAG_LEN];
	char out[4096];
	uint32_t next;
	uint64_t non200, not_sent;
};

static struct pub_fx *pub_fixture;

static void
pubmsg_init(struct pubmsg *m, const char *t)
{
	const char *p = t, *e;

	m->len = (uint32_t)strlen(t);
	memcpy(m->buf, t, m->len);
	m->n_user = 0;
	while (m->n_user < 8 && (p = strstr(p, "0000000")) != NULL) {
		m->user_off[m->n_user++] = (uint32_t)(p - t);
		p += 7;
	}
	e = strstr(t, "EEEEEEEEEEEEEEEE");
	m->etag_off = e != NULL ? (uint32_t)(e - t) : 0;
}

static void
pubmsg_set(struct pub_fx *f, struct pubmsg *m, uint32_t user)
{
	char d[7];

	for (int i = 6, v = (int)user; i >= 0; i--, v /= 10)
		d[i] = (char)('0' + v % 10);
	for (uint32_t k = 0; k < m->n_user; k++)
		memcpy(m->buf + m->user_off[k], d, 7);
	if (m->etag_off != 0)
		memcpy(m->buf + m->etag_off, f->etag[user], SPR_ETAG_LEN);
}

/* The worker's handling of one PUBLISH of user (both passes when it has a body). */
static void
publish(struct pub_fx *f, int kind, uint32_t user)
{
	struct spr_pres_verdict v = {SPR_PIDF_OK, f->status};
	struct pubmsg *m = &f->m[kind];
	uint32_t n;
	int parsed;
	const char *e;

	pubmsg_set(f, m, user);
	parsed = spr_sip_process_parse(f->ctx, &f->msg, m->buf, m->len);
	n = spr_sip_process_msg(f->ctx, &f->msg, parsed, &f->src, &f->now, f->out, sizeof(f->out));
	if (n == 0 && f->ctx->pidf_check) {
		/* control's verdict comes back: the worker parses the datagram again */
		f->ctx->verdict = &v;
		parsed = spr_sip_process_parse(f->ctx, &f->msg, m->buf, m->len);
		n = spr_sip_process_msg(f->ctx, &f->msg, parsed, &f->src, &f->now, f->out,
					sizeof(f->out));
		f->ctx->verdict = NULL;
	}
	if (n < 12 || memcmp(f->out + 8, "200", 3) != 0) {
		f->non200++;
		return;
	}
	e = memmem(f->out, n, "\r\nSIP-ETag: ", 12);
	if (e == NULL || (uint32_t)(e + 12 - f->out) + SPR_ETAG_LEN > n) {
		f->not_sent++;
		return;
	}
	memcpy(f->etag[user], e + 12, SPR_ETAG_LEN);
}

static void *
pub_setup(void)
{
	struct pub_fx *f;
	char why[160];

	if (pub_fixture != NULL)
		return pub_fixture;
	urcu_qsbr_register_thread();
	f = calloc(1, sizeof(*f));
	if (f == NULL)
		return NULL;
	f->ctx = calloc(1, sizeof(*f->ctx));
	f->status = malloc(sizeof(*f->status));
	f->etag = calloc(USERS, sizeof(*f->etag));
	if (f->ctx == NULL || f->status == NULL || f->etag == NULL)
		goto err;
	if (spr_pidf_parse(SPR_BENCH_PIDF_DOC, sizeof(SPR_BENCH_PIDF_DOC) - 1, NULL, f->status, why, sizeof(why)) !=
	    SPR_PIDF_OK)
		goto err;
	spr_reg_cfg_default(&f->reg_cfg);
	spr_pres_cfg_default(&f->pres_cfg);
	f->pres_cfg.etag_secret = 0x5eed5eed5eed5eedull;
	spr_sip_limits_default(&f->ctx->lim);
	f->ctx->reg_cfg = &f->reg_cfg;
	f->ctx->pres_cfg = &f->pres_cfg;
	f->ctx->reply.server = SPR_STR("sprd/0.1");
	spr_now_set(&f->now, 1700000000);
	f->src.family = AF_INET;
	f->src.port = 5060;
	memcpy(f->src.addr, (uint8_t[]){10, 1, 2, 3}, 4);
	for (int k = 0; k < M__COUNT; k++)
		pubmsg_init(&f->m[k], tmpl[k]);
	f->ctx->shard = spr_loc_shard_create(0, USERS);
	if (f->ctx->shard == NULL)
		goto err;
	for (uint32_t u = 0; u < USERS; u++) {
		publish(f, M_INITIAL, u);
		if (u % QS_EVERY == 0)
			urcu_qsbr_quiescent_state();
	}
	urcu_qsbr_synchronize_rcu();
	urcu_qsbr_barrier();
	pub_fixture = f;
	return f;
err:
	free(f->etag);
	free(f->status);
	free(f->ctx);
	free(f);
	return NULL;
}

static void
run(struct pub_fx *f, int kind, uint64_t iters)
{
	for (uint64_t i = 0; i < iters; i++) {
		f->next = (f->next + 1) % USERS;
		publish(f, kind, (uint32_t)(((uint64_t)f->next * 61813u) % USERS));
		if (i % QS_EVERY == 0)
			urcu_qsbr_quiescent_state();
	}
	urcu_qsbr_quiescent_state();
}

static void
modify_run(void *ctx, uint64_t iters)
{
	run(ctx, M_MODIFY, iters);
}

static void
refresh_run(void *ctx, uint64_t iters)
{
	run(ctx, M_REFRESH, iters);
}

static int
pub_counters(void *ctx, struct spr_bench_counter *out, int max)
{
	const struct pub_fx *f = ctx;

	if (max < 2)
		return 0;
	out[0] = (struct spr_bench_counter){"non200", (double)f->non200};
	out[1] = (struct spr_bench_counter){"no_etag", (double)f->not_sent};
	return 2;
}

const struct spr_bench spr_benches_publish[] = {
	{"BM_publish_modify_100k", pub_setup, modify_run, pub_counters, 256},
	{"BM_publish_refresh_100k", pub_setup, refresh_run, pub_counters, 256},
	{NULL, NULL, NULL, NULL, 0},
};
