/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * spr_refresh_ir: the worker's per-REGISTER work, packet I/O aside, for
 * counting instructions with callgrind. It drives the real burst pipeline
 * (spr_worker_process, then the end-of-burst flush and quiescent state of
 * spr_worker_run) over a stub io that only checks each reply's status line.
 * Phase 1 registers --users AORs (CSeq 1); phase 2 refreshes them --rounds
 * times in a scattered order, CSeq one higher each round. Phase 2 runs
 * under callgrind with the instrumentation switched on only then, so
 *
 *   valgrind --tool=callgrind --toggle-collect=worker_turn \
 *            build/perf/spr_refresh_ir --users 20000 --rounds 2
 *
 * counts the worker's own instructions for the refreshes (not the
 * generator's, nor the call_rcu thread's). Instructions per refresh =
 * Ir / refreshes printed. --moving sends each round from another source
 * port, so every refresh rebuilds its record (the copy-on-write path:
 * allocation, copy, table replace, retire) instead of updating it in place. Never asserts; no EAL is needed (the rings are initialised in
 * plain memory). docs/benchmarks.md has the figures.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <rte_ring.h>
#include <rte_ring_elem.h>
#include <urcu-qsbr.h>

#include "bench_msgs.h"
#include "lcore.h"

/* the daemon's jemalloc options, so the figures are about the same heap (location.h) */
const char *malloc_conf = SPR_LOC_MALLOC_CONF;

#define USERS_DEFAULT 20000u
#define USERS_MAX 9999999u
#define ROUNDS_DEFAULT 2u
#define CTL_RING 1024u

/* The REGISTER of perf/bench_msgs.h, as spr_bench and spr_dp_bench send it. */
static const char reg_tmpl[] = SPR_BENCH_REGISTER;

#define MSG_LEN (sizeof(reg_tmpl) - 1)

struct stub_io {
	struct spr_io io;
	uint64_t replies;
	uint64_t non200;
	uint64_t drops;
};

static void
stub_reply(struct spr_io *io, struct spr_pkt *pkt, const char *payload, uint32_t len)
{
	struct stub_io *s = (struct stub_io *)io;

	s->replies++;
	s->non200 += len < 12 || memcmp(payload, "SIP/2.0 200", 11) != 0;
}

static void
stub_drop(struct spr_io *io, struct spr_pkt *pkt)
{
	((struct stub_io *)io)->drops++;
}

static void
stub_flush(struct spr_io *io)
{
}

static const struct spr_io_ops stub_ops = {
	.reply = stub_reply, .drop = stub_drop, .flush = stub_flush};

struct ir {
	struct stub_io sio;
	struct spr_worker *w;
	struct spr_reg_cfg cfg;
	uint32_t users;
	bool moving; /* each round from another source port: every refresh rebuilds its record */
	char (*buf)[SPR_BURST][MSG_LEN];
	uint32_t user_off[4];
	uint32_t cseq_off;
};

static void
put_digits(char *p, uint32_t v, int n)
{
	for (int i = n - 1; i >= 0; i--) {
		p[i] = (char)('0' + v % 10);
		v /= 10;
	}
}

static struct rte_ring *
ring_new(void)
{
	ssize_t sz = rte_ring_get_memsize_elem(sizeof(struct spr_ring_msg), CTL_RING);
	struct rte_ring *r = sz > 0 ? aligned_alloc(64, ((size_t)sz + 63) & ~(size_t)63) : NULL;

	if (r != NULL && rte_ring_init(r, "ir", CTL_RING,
				       RING_F_SP_ENQ | RING_F_SC_DEQ | RING_F_EXACT_SZ) != 0) {
		free(r);
		return NULL;
	}
	return r;
}

/* What callgrind counts (--toggle-collect=worker_turn): one turn of spr_worker_run's loop. */
__attribute__((noinline)) static void
worker_turn(struct spr_worker *w, struct spr_pkt *pkts, uint32_t n)
{
	spr_worker_process(w, pkts, (uint16_t)n);
	spr_worker_flush(w);
	urcu_qsbr_quiescent_state();
}

/* One burst of users[0..n) at cseq through the worker; counted: in worker_turn(). */
static void
burst(struct ir *b, const uint32_t *users, uint32_t n, uint32_t cseq, bool counted)
{
	struct spr_pkt pkts[SPR_BURST];
	struct spr_ring_msg msgs[SPR_BURST];

	for (uint32_t i = 0; i < n; i++) {
		char *m = b->buf[0][i];

		for (int k = 0; k < 4; k++)
			put_digits(m + b->user_off[k], users[i], 7);
		put_digits(m + b->cseq_off, cseq, 10);
		memset(&pkts[i], 0, sizeof(pkts[i]));
		pkts[i].data = m;
		pkts[i].len = MSG_LEN;
		pkts[i].src.family = AF_INET;
		pkts[i].src.port = (uint16_t)(b->moving ? 5060 + cseq % 2 : 5060);
		memcpy(pkts[i].src.addr, (uint8_t[]){10, 1, 2, 3}, 4);
		pkts[i].dst.family = AF_INET;
		pkts[i].dst.port = 5060;
		memcpy(pkts[i].dst.addr, (uint8_t[]){192, 0, 2, 1}, 4);
	}
	if (counted) {
		worker_turn(b->w, pkts, n);
	} else {
		spr_worker_process(b->w, pkts, (uint16_t)n);
		spr_worker_flush(b->w);
		urcu_qsbr_quiescent_state();
	}
	/* control's side: timers asked for are taken and forgotten */
	while (rte_ring_sc_dequeue_burst_elem(b->w->to_ctl, msgs, sizeof(msgs[0]), SPR_BURST,
					      NULL) != 0)
		;
}

static uint32_t
next_user(uint32_t *pos, uint32_t users, uint32_t stride)
{
	*pos = (uint32_t)(((uint64_t)*pos + stride) % users);
	return *pos;
}

static uint64_t
refresh_phase(struct ir *b, uint32_t rounds, uint32_t stride)
{
	uint32_t users[SPR_BURST], pos = 0;
	uint64_t done = 0;

	for (uint32_t r = 0; r < rounds; r++) {
		for (uint32_t u = 0; u < b->users;) {
			uint32_t n = b->users - u < SPR_BURST ? b->users - u : SPR_BURST;

			for (uint32_t i = 0; i < n; i++)
				users[i] = next_user(&pos, b->users, stride);
			burst(b, users, n, r + 2, true);
			u += n;
			done += n;
		}
	}
	return done;
}

static uint32_t
gcd(uint32_t a, uint32_t b)
{
	while (b != 0) {
		uint32_t t = a % b;

		a = b;
		b = t;
	}
	return a;
}

int
main(int argc, char **argv)
{
	static uint32_t clock_sec = 1700000000;
	struct ir b;
	uint32_t rounds = ROUNDS_DEFAULT, stride, users[SPR_BURST];
	uint64_t refreshes;
	const char *p;

	memset(&b, 0, sizeof(b));
	b.users = USERS_DEFAULT;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--users") == 0 && i + 1 < argc)
			b.users = (uint32_t)strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--moving") == 0)
			b.moving = true;
		else if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc)
			rounds = (uint32_t)strtoul(argv[++i], NULL, 10);
		else {
			fprintf(stderr, "usage: %s [--users N] [--rounds R] [--moving]\n", argv[0]);
			return 2;
		}
	}
	if (b.users == 0 || b.users > USERS_MAX || rounds == 0 || rounds > 1000) {
		fprintf(stderr, "refresh_ir: --users 1..%u, --rounds 1..1000\n", USERS_MAX);
		return 2;
	}
	b.buf = malloc(sizeof(*b.buf));
	b.w = calloc(1, sizeof(*b.w));
	if (b.buf == NULL || b.w == NULL || (b.w->proc = calloc(1, sizeof(*b.w->proc))) == NULL)
		return 1;
	for (uint32_t i = 0; i < SPR_BURST; i++)
		memcpy(b.buf[0][i], reg_tmpl, MSG_LEN);
	p = reg_tmpl;
	for (int k = 0; k < 4 && (p = strstr(p, "u0000000")) != NULL; k++, p++)
		b.user_off[k] = (uint32_t)(p - reg_tmpl) + 1;
	b.cseq_off = (uint32_t)(strstr(reg_tmpl, "CSeq: ") - reg_tmpl) + 6;

	spr_reg_cfg_default(&b.cfg);
	b.sio.io.ops = &stub_ops;
	b.w->io = &b.sio.io;
	b.w->n_workers = 1;
	b.w->clock_sec = &clock_sec;
	spr_sip_limits_default(&b.w->proc->lim);
	b.w->proc->reg_cfg = &b.cfg;
	b.w->proc->reply.server = SPR_STR("sprd/0.1.0");
	b.w->to_ctl = ring_new();
	b.w->from_ctl = ring_new();
	if (b.w->to_ctl == NULL || b.w->from_ctl == NULL)
		return 1;
	urcu_qsbr_register_thread();
	b.w->proc->shard = spr_loc_shard_create(0, b.users);
	if (b.w->proc->shard == NULL)
		return 1;
	spr_now_set(&b.w->now, clock_sec);

	for (uint32_t u = 0; u < b.users;) {
		uint32_t n = b.users - u < SPR_BURST ? b.users - u : SPR_BURST;

		for (uint32_t i = 0; i < n; i++)
			users[i] = u + i;
		burst(&b, users, n, 1, false);
		u += n;
	}
	stride = (uint32_t)((b.users * 0.6180339887) + 1);
	while (gcd(stride, b.users) != 1)
		stride++;
	refreshes = refresh_phase(&b, rounds, stride);
	printf("users %u refreshes %llu replies %llu non200 %llu drops %llu refreshed %llu in place "
	       "%llu\n",
	       b.users, (unsigned long long)refreshes, (unsigned long long)b.sio.replies,
	       (unsigned long long)b.sio.non200, (unsigned long long)b.sio.drops,
	       (unsigned long long)b.w->proc->cnt.reg.bindings_refreshed,
	       (unsigned long long)b.w->proc->cnt.reg.refreshed_in_place);
	urcu_qsbr_thread_offline();
	spr_loc_shard_destroy(b.w->proc->shard);
	urcu_qsbr_unregister_thread();
	free(b.w->to_ctl);
	free(b.w->from_ctl);
	free(b.w->proc);
	free(b.w);
	free(b.buf);
	return 0;
}
