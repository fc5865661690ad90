/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * spr_dp_bench: the full worker loop without the kernel. One worker lcore
 * runs the real spr_worker_run() over the real dpdk backend on a net_ring
 * port whose rings this program owns; a generator lcore writes
 * Ethernet/IPv4/UDP REGISTER frames into the port's RX ring and takes the
 * replies off its TX ring. Phase 1 registers every user once (CSeq 1);
 * phase 2 refreshes them in a scattered order, each refresh of a user with
 * a CSeq one higher than the last, so every one is a real refresh (an equal
 * CSeq would be a retransmission and write nothing). At most --window
 * requests are in flight, so nothing is dropped for want of mbufs or ring
 * room. Figures go to docs/benchmarks.md. Never asserts.
 *
 * --scenario publish does the same with PUBLISH (RFC 3903) of a ~1.3 KB
 * softphone PIDF/RPID document: phase 1 publishes every user once
 * (initial), phase 2 modifies (SIP-If-Match + body), phase 3 refreshes
 * (SIP-If-Match, no body), each with the entity-tag of the user's last 200.
 * A PUBLISH with a body goes the whole way sprd sends it: the worker checks
 * it and sends the body to control (PIDF_CHECK); the main lcore plays
 * control as control/main.c does (libxml2 parse with our limits, the status
 * copied out, PIDF_RESULT; PIDF_FREE freed); the worker parses the request
 * again, applies the verdict and answers. A refresh never leaves the worker.
 *
 * --token puts an "Authorization: Bearer <JWT>" of each user into its
 * REGISTERs (ES256, minted with libjwt through auth/jwt_mint.h, ~860 bytes
 * like perf/bench_auth.c's RS256 token); --auth also turns OAuth Bearer on
 * in the worker (scope, user = the To user) with every token verified and
 * cached before the worker starts, so each request is a cache hit. A miss
 * (a token pushed out of its set) goes to the main lcore, which plays
 * control's auth worker (verify, cache, decide, AUTH_RESULT) and counts it.
 * Against the same run without --auth this is the price of auth on a hit.
 *
 * --ab measures that price in one process: the refresh phase runs in
 * slices of AB_SLICE_MS, auth off and on in turn (ABBA order, so a drift
 * in the machine's speed falls on both), with the same REGISTERs, tokens,
 * shard and cache; only the worker's auth config pointer changes, between
 * slices, while nothing is in flight. It prints both figures, their ratio
 * over all slices, and the median and range of the ratio per pair of
 * slices. Separate runs of --token and --auth differ from run to run by
 * more than auth costs (heap and page placement, other tenants' load);
 * slices of one run do not share that noise.
 *
 *   spr_dp_bench [EAL options --] [--scenario register|publish] [--users N]
 *                [--seconds S | --requests R] [--window W] [--token | --auth | --ab]
 *                [--json]
 *
 * Default EAL options: no hugepages, no PCI, main lcore floating (it sleeps),
 * worker on CPU 0, generator on CPU 1.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <netinet/in.h>
#include <sys/socket.h>

#include <jemalloc/jemalloc.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_pause.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>
#include <rte_udp.h>
#include <urcu-qsbr.h>

#include "bench_msgs.h"
#include "io_dpdk.h"
#include "jwks.h"
#include "jwt_mint.h"
#include "jwt_verify.h"
#include "lcore.h"
#include "pidf.h"
#include "token_cache.h"

/* the daemon's jemalloc options, so the figures are about the same heap (location.h) */
const char *malloc_conf = SPR_LOC_MALLOC_CONF;

#define USERS_DEFAULT 1000000u
#define USERS_MAX 9999999u /* seven digits in the template */
#define SECONDS_DEFAULT 10u
#define SECONDS_MAX 600u
#define WINDOW_DEFAULT 4096u
#define WINDOW_MAX 65536u
#define GEN_BURST 32u
#define MBUF_DATA 2048u
#define MBUF_CACHE 256u
#define CTL_RING 65536u /* worker -> control: phase 1 sends one TIMER per new AOR */
#define STALL_SECONDS 5u
#define AB_SLICE_MS 250u /* --ab: one slice of the refresh phase */
#define AB_PAIRS_MAX (SECONDS_MAX * 1000u / AB_SLICE_MS)
#define SIP_PORT 5060

static const uint8_t our4[4] = {192, 0, 2, 1};
static const uint8_t peer4[4] = {10, 1, 2, 3};
static const struct rte_ether_addr peer_mac = {{0x02, 0, 0, 0, 0, 0x01}};

/* perf/bench_msgs.h: a 7-digit user number in four places, a 10-digit CSeq. */
static const char reg_tmpl[] = SPR_BENCH_REGISTER;

/* PUBLISH (perf/bench_msgs.h): u0000000 is the presentity, EEEEEEEEEEEEEEEE an entity-tag */
static const char pub_initial_tmpl[] = SPR_BENCH_PUB_INITIAL;
static const char pub_modify_tmpl[] = SPR_BENCH_PUB_MODIFY;
static const char pub_refresh_tmpl[] = SPR_BENCH_PUB_REFRESH;

#define HDRS_LEN                                                                                   \
	(sizeof(struct rte_ether_hdr) + sizeof(struct rte_ipv4_hdr) + sizeof(struct rte_udp_hdr))
#define FRAME_MAX (HDRS_LEN + sizeof(pub_modify_tmpl) - 1)

enum gen_cmd { GEN_REGISTER = 1, GEN_REFRESH, GEN_PUBLISH, GEN_MODIFY, GEN_PUB_REFRESH, GEN_QUIT };

/* A request's frame, the places its user number, CSeq and entity-tag go. */
enum { T_REGISTER, T_REGISTER_TOKEN, T_PUB_INITIAL, T_PUB_MODIFY, T_PUB_REFRESH, T__COUNT };
struct tmpl {
	uint8_t frame[FRAME_MAX];
	uint32_t len;
	uint32_t n_user;
	uint32_t user_off[8];
	uint32_t cseq_off; /* 0: none */
	uint32_t etag_off; /* 0: none */
	uint32_t tok_off;  /* 0: none */
};

/* --token / --auth: each user's token, all of one length (a 7-digit user in "sub") */
#define TOKEN_MAX 1024u

/* What one phase did, as the generator saw it. */
struct phase_res {
	uint64_t sent;
	uint64_t replied;
	uint64_t non200; /* replies whose status line is not "SIP/2.0 200" */
	uint64_t t0, t1; /* TSC: phase start, last reply */
	uint64_t loops;
	uint64_t idle;	      /* loops that neither sent nor received */
	uint64_t window_full; /* loops that could not send: window full (waiting on the worker) */
	uint64_t ring_full;   /* frames the RX ring refused (freed; never expected) */
	uint64_t alloc_fail;  /* bursts the mempool could not give */
	bool aborted;	      /* stalled: main gave up on missing replies */
};

struct gen {
	struct rte_mempool *pool;
	struct rte_ring *rx; /* the port's RX ring: we produce */
	struct rte_ring *tx; /* the port's TX ring: we consume */
	struct tmpl t[T__COUNT];
	char (*etag)[SPR_ETAG_LEN]; /* publish: each user's entity-tag, from its last 200 */
	char *toks;		    /* --token: users * tok_len bytes */
	uint32_t tok_len;
	int reg_kind; /* T_REGISTER, or T_REGISTER_TOKEN with --token */
	uint64_t no_etag;	    /* publish: 200s without a SIP-ETag or user we could read */
	uint32_t users;
	uint32_t stride; /* refresh order: user += stride mod users, stride coprime to users */
	uint32_t window;
	/* refresh position, kept across refresh phases */
	uint32_t next_user;
	uint32_t visited; /* users of the current round */
	uint32_t cseq;
	/* command, written by main before cmd_seq (release) */
	enum gen_cmd cmd;
	uint64_t target; /* requests to send; 0: for `ticks` */
	uint64_t ticks;	 /* TSC ticks to send for */
	volatile uint32_t abort;
	uint32_t cmd_seq;
	/* written by the generator */
	volatile pid_t tid;
	uint64_t progress; /* replies so far in this phase (relaxed) */
	uint32_t done_seq; /* release, after res */
	struct phase_res res;
};

struct bench {
	struct rte_mempool *pool;
	struct rte_ring *rx, *tx;
	uint16_t port;
	struct spr_io_addrs ours;
	struct spr_reg_cfg reg_cfg;
	struct spr_pres_cfg pres_cfg;
	struct spr_pidf_status *pidf_scratch; /* control's parse scratch (publish) */
	uint64_t pidf_parsed, pidf_rejected, pidf_result_ring_full;
	volatile pid_t ctl_tid;
	struct spr_worker *w;
	struct spr_loc_shard *shard;
	volatile uint32_t clock_sec;
	unsigned worker_lcore, gen_lcore;
	struct gen g;
	uint64_t ctl_msgs;
	volatile pid_t worker_tid;
	/* --auth: the worker's config and cache; main plays control's auth worker */
	struct spr_auth_cfg auth_cfg;
	struct spr_jwt_keys *keys;
	struct spr_token_cache *cache;
	struct spr_token_hasher *w_hasher, *ctl_hasher;
	struct spr_sip_msg auth_msg;
	uint64_t auth_verified, auth_result_ring_full;
	bool quiet; /* run_phase() does not announce each phase (--ab's slices) */
};

/* A thread's scheduler figures (/proc/.../schedstat): on CPU, runnable but waiting for one. */
struct sched {
	uint64_t run_ns;
	uint64_t wait_ns;
};

/* Worker-side counters at one moment (the worker writes them; read racily, which is fine here). */
struct wsnap {
	struct spr_worker_counters w;
	struct spr_proc_counters p;
	struct spr_io_counters io;
	struct sched ws, gs, cs; /* worker's, generator's and control's (main) threads */
	uint64_t pidf_parsed;
};

/* --- frames --- */

static void
put_digits(uint8_t *p, uint32_t v, int width)
{
	for (int i = width - 1; i >= 0; i--) {
		p[i] = (uint8_t)('0' + v % 10);
		v /= 10;
	}
}

static void
tmpl_init(struct tmpl *t, const char *sip, const struct rte_ether_addr *our_mac)
{
	struct rte_ether_hdr *eh = (struct rte_ether_hdr *)t->frame;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eh + 1);
	struct rte_udp_hdr *u = (struct rte_udp_hdr *)(ip + 1);
	const uint32_t sip_len = (uint32_t)strlen(sip);
	const char *p = sip, *e;

	eh->dst_addr = *our_mac;
	eh->src_addr = peer_mac;
	eh->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(sizeof(*ip) + sizeof(*u) + sip_len));
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	memcpy(&ip->src_addr, peer4, 4);
	memcpy(&ip->dst_addr, our4, 4);
	/* nothing in the IP header changes per request: one checksum for all */
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	u->src_port = rte_cpu_to_be_16(SIP_PORT);
	u->dst_port = rte_cpu_to_be_16(SIP_PORT);
	u->dgram_len = rte_cpu_to_be_16((uint16_t)(sizeof(*u) + sip_len));
	u->dgram_cksum = 0; /* none: allowed over IPv4 (RFC 768) */
	memcpy(t->frame + HDRS_LEN, sip, sip_len);
	t->len = (uint32_t)HDRS_LEN + sip_len;
	t->n_user = 0;
	while (t->n_user < 8 && (p = strstr(p, "0000000")) != NULL) {
		t->user_off[t->n_user++] = (uint32_t)HDRS_LEN + (uint32_t)(p - sip);
		p += 7;
	}
	e = strstr(sip, "CSeq: 0000000001");
	t->cseq_off = e != NULL ? (uint32_t)HDRS_LEN + (uint32_t)(e - sip) + 6 : 0;
	e = strstr(sip, "EEEEEEEEEEEEEEEE");
	t->etag_off = e != NULL ? (uint32_t)HDRS_LEN + (uint32_t)(e - sip) : 0;
	e = strstr(sip, "Bearer ");
	t->tok_off = e != NULL ? (uint32_t)HDRS_LEN + (uint32_t)(e - sip) + 7 : 0;
}

/* reg_tmpl with an Authorization: Bearer line of tok_len placeholder bytes. */
static int
reg_token_tmpl(char *out, size_t cap, uint32_t tok_len)
{
	const char *cl = strstr(reg_tmpl, "Content-Length:");
	int n = snprintf(out, cap, "%.*sAuthorization: Bearer ", (int)(cl - reg_tmpl), reg_tmpl);

	if (n < 0 || (size_t)n + tok_len + 2 + strlen(cl) + 1 > cap)
		return -1;
	memset(out + n, 'T', tok_len);
	snprintf(out + n + tok_len, cap - (size_t)n - tok_len, "\r\n%s", cl);
	return 0;
}

static void
frame_init(struct gen *g, const struct rte_ether_addr *our_mac)
{
	tmpl_init(&g->t[T_REGISTER], reg_tmpl, our_mac);
	if (g->toks != NULL) {
		static char text[sizeof(reg_tmpl) + 64 + TOKEN_MAX];

		if (reg_token_tmpl(text, sizeof(text), g->tok_len) == 0 &&
		    HDRS_LEN + strlen(text) <= FRAME_MAX)
			tmpl_init(&g->t[T_REGISTER_TOKEN], text, our_mac);
	}
	tmpl_init(&g->t[T_PUB_INITIAL], pub_initial_tmpl, our_mac);
	tmpl_init(&g->t[T_PUB_MODIFY], pub_modify_tmpl, our_mac);
	tmpl_init(&g->t[T_PUB_REFRESH], pub_refresh_tmpl, our_mac);
}

static void
frame_write(const struct gen *g, struct rte_mbuf *m, int kind, uint32_t user, uint32_t cseq)
{
	const struct tmpl *t = &g->t[kind];
	uint8_t *f = rte_pktmbuf_mtod(m, uint8_t *);
	uint8_t digits[7];

	memcpy(f, t->frame, t->len);
	put_digits(digits, user, 7);
	for (uint32_t k = 0; k < t->n_user; k++)
		memcpy(f + t->user_off[k], digits, 7);
	if (t->cseq_off != 0)
		put_digits(f + t->cseq_off, cseq, 10);
	if (t->etag_off != 0)
		memcpy(f + t->etag_off, g->etag[user], SPR_ETAG_LEN);
	if (t->tok_off != 0)
		memcpy(f + t->tok_off, g->toks + (size_t)user * g->tok_len, g->tok_len);
	m->data_len = (uint16_t)t->len;
	m->pkt_len = t->len;
}

/* The request after the last one of the refresh order; a new round raises the CSeq. */
static inline void
refresh_next(struct gen *g, uint32_t *user, uint32_t *cseq)
{
	*user = g->next_user;
	*cseq = g->cseq;
	g->next_user += g->stride;
	if (g->next_user >= g->users)
		g->next_user -= g->users;
	if (++g->visited == g->users) {
		g->visited = 0;
		g->cseq++;
	}
}

static uint32_t
gcd32(uint32_t a, uint32_t b)
{
	while (b != 0) {
		uint32_t t = a % b;

		a = b;
		b = t;
	}
	return a;
}

/* A stride near users / golden ratio, coprime to users: visits every user once per round. */
static uint32_t
stride_for(uint32_t users)
{
	uint32_t s = (uint32_t)((uint64_t)users * 618034u / 1000000u);

	if (users < 2)
		return 0;
	if (s == 0)
		s = 1;
	while (gcd32(s, users) != 1)
		s++;
	return s % users;
}

/* --- generator lcore --- */

/* A 200 to a PUBLISH: keep its SIP-ETag for the user's next request (From: <sip:uNNNNNNN@). */
static void
gen_etag(struct gen *g, const char *p, uint32_t len)
{
	const char *e = memmem(p, len, "\r\nSIP-ETag: ", 12);
	const char *u = memmem(p, len, "<sip:u", 6);
	uint32_t user = 0;

	if (e == NULL || u == NULL || (uint32_t)(e + 12 - p) + SPR_ETAG_LEN > len ||
	    (uint32_t)(u + 6 - p) + 7 > len) {
		g->no_etag++;
		return;
	}
	for (int i = 0; i < 7; i++)
		user = user * 10 + (uint32_t)(u[6 + i] - '0');
	if (user >= g->users) {
		g->no_etag++;
		return;
	}
	memcpy(g->etag[user], e + 12, SPR_ETAG_LEN);
}

static void
gen_replies(struct gen *g, struct phase_res *r, struct rte_mbuf **mb, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		const struct rte_mbuf *m = mb[i];
		const char *p = rte_pktmbuf_mtod_offset(m, const char *, HDRS_LEN);

		if (m->data_len < HDRS_LEN + 11 || memcmp(p, "SIP/2.0 200", 11) != 0)
			r->non200++;
		else if (g->etag != NULL)
			gen_etag(g, p, m->data_len - (uint32_t)HDRS_LEN);
	}
	rte_pktmbuf_free_bulk(mb, n);
	r->replied += n;
	r->t1 = rte_get_tsc_cycles();
}

static void
gen_phase(struct gen *g, enum gen_cmd cmd, struct phase_res *r)
{
	struct rte_mbuf *mb[GEN_BURST * 2];
	uint64_t target = g->target, deadline = 0;
	bool sending = true;

	memset(r, 0, sizeof(*r));
	r->t0 = r->t1 = rte_get_tsc_cycles();
	if (target == 0)
		deadline = r->t0 + g->ticks;
	for (;;) {
		unsigned n = rte_ring_sc_dequeue_burst(g->tx, (void **)mb, GEN_BURST * 2, NULL);
		uint64_t room, k = 0;

		r->loops++;
		if (n != 0) {
			gen_replies(g, r, mb, n);
			__atomic_store_n(&g->progress, r->replied, __ATOMIC_RELAXED);
		}
		if (sending && ((target != 0 && r->sent >= target) ||
				(deadline != 0 && rte_get_tsc_cycles() >= deadline)))
			sending = false;
		if (!sending && r->replied >= r->sent)
			break;
		if (g->abort) {
			r->aborted = true;
			break;
		}
		room = g->window - (r->sent - r->replied);
		if (sending) {
			k = RTE_MIN(room, (uint64_t)GEN_BURST);
			if (target != 0)
				k = RTE_MIN(k, target - r->sent);
			if (k == 0)
				r->window_full++;
		}
		if (k != 0 && rte_pktmbuf_alloc_bulk(g->pool, mb, (unsigned)k) != 0) {
			r->alloc_fail++;
			k = 0;
		}
		if (k != 0) {
			unsigned q;

			for (unsigned i = 0; i < k; i++) {
				uint32_t user, cseq = 1;
				int kind = g->reg_kind;

				if (cmd == GEN_REGISTER || cmd == GEN_PUBLISH)
					user = (uint32_t)(r->sent + i);
				else
					refresh_next(g, &user, &cseq);
				if (cmd == GEN_PUBLISH)
					kind = T_PUB_INITIAL;
				else if (cmd == GEN_MODIFY)
					kind = T_PUB_MODIFY;
				else if (cmd == GEN_PUB_REFRESH)
					kind = T_PUB_REFRESH;
				frame_write(g, mb[i], kind, user, cseq);
			}
			q = rte_ring_sp_enqueue_burst(g->rx, (void **)mb, (unsigned)k, NULL);
			if (q < k) {
				r->ring_full += k - q;
				rte_pktmbuf_free_bulk(mb + q, (unsigned)k - q);
			}
			r->sent += q;
		}
		if (n == 0 && k == 0)
			r->idle++;
	}
}

static int
gen_run(void *arg)
{
	struct gen *g = arg;
	uint32_t seen = 0;

	g->tid = gettid();
	for (;;) {
		uint32_t seq = __atomic_load_n(&g->cmd_seq, __ATOMIC_ACQUIRE);

		if (seq == seen) {
			rte_pause();
			continue;
		}
		seen = seq;
		if (g->cmd == GEN_QUIT)
			break;
		gen_phase(g, g->cmd, &g->res);
		__atomic_store_n(&g->done_seq, seq, __ATOMIC_RELEASE);
	}
	return 0;
}

/* --- worker lcore: the real loop; its thread id first, for its scheduler figures --- */

static int
worker_main(void *arg)
{
	struct bench *b = arg;

	b->worker_tid = gettid();
	return spr_worker_run(b->w);
}

/* --- main lcore: clock, worker -> control ring, phases --- */

static struct sched
sched_get(pid_t tid)
{
	struct sched s = {0, 0};
	char path[64];
	unsigned long long run, wait;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%d/schedstat", (int)tid);
	f = fopen(path, "r");
	if (f == NULL)
		return s;
	if (fscanf(f, "%llu %llu", &run, &wait) == 2)
		s = (struct sched){run, wait};
	fclose(f);
	return s;
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

/* A PUBLISH body, as control/main.c's pidf_check: parse, copy the status out, answer. */
static void
ctl_pidf_check(struct bench *b, const struct spr_ring_msg *req)
{
	struct rte_mbuf *mb = req->ptr;
	const struct spr_pkt *p = rte_mbuf_to_priv(mb);
	struct spr_ring_msg res = {.type = SPR_MSG_PIDF_RESULT, .worker = req->worker, .ptr = mb};
	enum spr_pidf_fault f;
	char why[160];

	f = spr_pidf_parse(p->data + req->body.off, req->body.len, NULL, b->pidf_scratch, why,
			   sizeof(why));
	b->pidf_parsed++;
	if (f == SPR_PIDF_OK) {
		size_t sz = spr_pidf_status_size(b->pidf_scratch);

		res.status = malloc(sz);
		if (res.status != NULL)
			memcpy(res.status, b->pidf_scratch, sz);
		else
			f = SPR_PIDF_NO_MEMORY;
	} else {
		b->pidf_rejected++;
	}
	res.at = f;
	if (rte_ring_sp_enqueue_elem(b->w->from_ctl, &res, sizeof(res)) != 0) {
		b->pidf_result_ring_full++;
		free(res.status);
		rte_pktmbuf_free(mb);
	}
}

/* An out-of-line user the cache stopped pointing to: freed after the worker's grace period. */
static void
token_ext_free_cb(struct rcu_head *head)
{
	spr_token_ext_free((struct spr_token_ext *)((char *)head -
						      offsetof(struct spr_token_ext, reclaim)));
}

static void
token_ext_retire(struct spr_token_ext *t)
{
	urcu_qsbr_call_rcu((struct rcu_head *)(void *)t->reclaim, token_ext_free_cb);
}

/* AUTH_NEEDED, as control/daemon_auth.c: verify, cache, decide, answer. */
static void
ctl_auth_needed(struct bench *b, const struct spr_ring_msg *req)
{
	struct rte_mbuf *mb = req->ptr;
	const struct spr_pkt *p = rte_mbuf_to_priv(mb);
	const char *tok = p->data + req->body.off;
	struct spr_ring_msg res = {.type = SPR_MSG_AUTH_RESULT, .worker = req->worker, .ptr = mb};
	struct spr_token_hit hit = {0};
	enum spr_auth_result r;
	int v;

	v = spr_jwt_verify(b->keys, &b->auth_cfg, tok, req->body.len, b->clock_sec, &hit.claims);
	hit.verdict = (uint8_t)v;
	b->auth_verified++;
	if (v != SPR_JWT_NO_KEYS && v != SPR_JWT_INTERNAL)
		spr_token_cache_put(b->cache, b->ctl_hasher, tok, req->body.len, v, &hit.claims,
				    b->clock_sec);
	if (spr_sip_parse(p->data, p->len, &b->w->proc->lim, &b->auth_msg) < 0)
		r = SPR_AUTH_ERROR;
	else
		r = spr_auth_sip_decide(&b->auth_cfg, &b->auth_msg, &hit);
	res.at = spr_auth_result_pack(r, hit.verdict);
	if (rte_ring_sp_enqueue_elem(b->w->from_ctl, &res, sizeof(res)) != 0) {
		b->auth_result_ring_full++;
		rte_pktmbuf_free(mb);
	}
}

/*
 * The control thread's duties the worker needs: the clock, its TIMER
 * messages taken away, PUBLISH bodies parsed, statuses freed, tokens
 * verified. Returns how many messages it took.
 */
static uint64_t
ctl_tick(struct bench *b)
{
	struct spr_ring_msg msgs[SPR_BURST];
	uint64_t taken = 0;
	unsigned n;

	b->clock_sec = (uint32_t)time(NULL);
	do {
		n = rte_ring_sc_dequeue_burst_elem(b->w->to_ctl, msgs, sizeof(msgs[0]), SPR_BURST,
						   NULL);
		for (unsigned i = 0; i < n; i++) {
			if (msgs[i].type == SPR_MSG_PIDF_CHECK)
				ctl_pidf_check(b, &msgs[i]);
			else if (msgs[i].type == SPR_MSG_PIDF_FREE)
				free(msgs[i].ptr);
			else if (msgs[i].type == SPR_MSG_AUTH_NEEDED)
				ctl_auth_needed(b, &msgs[i]);
		}
		b->ctl_msgs += n;
		taken += n;
	} while (n == SPR_BURST);
	return taken;
}

static const char *
cmd_name(enum gen_cmd cmd)
{
	static const char *const names[] = {"?",	"register", "refresh", "publish",
					    "modify", "pub-refresh"};

	return (unsigned)cmd < sizeof(names) / sizeof(names[0]) ? names[cmd] : "?";
}

/* Run one generator phase to its end; a phase whose replies stop coming is aborted. */
static void
run_phase(struct bench *b, enum gen_cmd cmd, uint64_t target, uint64_t ticks)
{
	struct gen *g = &b->g;
	uint32_t seq = g->cmd_seq + 1;
	uint64_t last = UINT64_MAX, last_change = rte_get_tsc_cycles();

	if (cmd != GEN_QUIT && !b->quiet)
		fprintf(stderr, "spr_dp_bench: %s phase starts (worker thread %d)\n", cmd_name(cmd),
			(int)b->worker_tid);
	g->cmd = cmd;
	g->target = target;
	g->ticks = ticks;
	g->abort = 0;
	__atomic_store_n(&g->progress, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&g->cmd_seq, seq, __ATOMIC_RELEASE);
	if (cmd == GEN_QUIT)
		return;
	while (__atomic_load_n(&g->done_seq, __ATOMIC_ACQUIRE) != seq) {
		uint64_t p = __atomic_load_n(&g->progress, __ATOMIC_RELAXED);
		uint64_t now = rte_get_tsc_cycles();
		uint64_t took = ctl_tick(b);

		if (p != last) {
			last = p;
			last_change = now;
		} else if (now - last_change > STALL_SECONDS * rte_get_tsc_hz()) {
			g->abort = 1;
		}
		if (took == 0)
			usleep(took == 0 && cmd != GEN_PUBLISH && cmd != GEN_MODIFY ? 1000 : 50);
	}
	ctl_tick(b);
}

static void
snap(const struct bench *b, struct wsnap *s)
{
	memcpy(&s->w, &b->w->cnt, sizeof(s->w));
	memcpy(&s->p, &b->w->proc->cnt, sizeof(s->p));
	memcpy(&s->io, &b->w->io->cnt, sizeof(s->io));
	s->ws = sched_get(b->worker_tid);
	s->gs = sched_get(b->g.tid);
	s->cs = sched_get(b->ctl_tid);
	s->pidf_parsed = b->pidf_parsed;
}

/* Worker-side figures of a phase: after - before. */
struct wdelta {
	uint64_t rx_pkts, rx_sip, tx_pkts, io_drops, tx_drop;
	uint64_t reg_ok, reg_not_ok, proc_drops, replies, retransmissions, refreshed, added;
	uint64_t handoff_out, timer_lost, loops;
	uint64_t pidf_sent, pidf_parsed; /* publish: bodies to control, parsed there */
	uint64_t auth_hits, auth_misses, auth_pass; /* --auth: worker's token cache, PASS */
	struct sched ws, gs, cs;
};

/* publish: the PUBLISH counters stand in for REGISTER's (ok, non-200, added, refreshed). */
static struct wdelta
wdelta(const struct wsnap *a, const struct wsnap *z, bool publish)
{
	struct wdelta d = {0};

#define D(f) (z->f - a->f)
	d.rx_pkts = D(io.rx_pkts);
	d.rx_sip = D(io.rx_sip);
	d.tx_pkts = D(io.tx_pkts);
	d.tx_drop = D(io.tx_drop);
	d.io_drops = D(io.drop_short) + D(io.drop_l2) + D(io.drop_ip_csum) + D(io.drop_ip_other) +
		     D(io.drop_udp_csum) + D(io.drop_not_udp) + D(io.drop_port) + D(io.drop_frag) +
		     D(io.drop_icmp) + D(io.drop_no_neigh) + D(io.drop_no_mbuf) +
		     D(io.drop_oversize) + D(io.drop_reply_size);
	d.reg_ok = D(p.reg.result[SPR_REG_OK]);
	for (int i = 0; i < SPR_REG__COUNT; i++)
		if (i != SPR_REG_OK)
			d.reg_not_ok += D(p.reg.result[i]);
	d.proc_drops = D(p.drop_unparseable) + D(p.drop_response) + D(p.drop_ack) +
		       D(p.drop_no_via) + D(p.parse_error);
	d.replies = D(p.replies);
	d.retransmissions = D(p.reg.retransmissions);
	d.refreshed = D(p.reg.bindings_refreshed);
	d.added = D(p.reg.bindings_added);
	d.handoff_out = D(w.handoff_out);
	d.auth_hits = D(p.auth.hits);
	d.auth_misses = D(p.auth.misses);
	d.auth_pass = D(p.auth.result[SPR_AUTH_PASS]);
	d.timer_lost = D(w.timer_lost);
	d.loops = D(w.loops);
	d.ws = (struct sched){D(ws.run_ns), D(ws.wait_ns)};
	d.gs = (struct sched){D(gs.run_ns), D(gs.wait_ns)};
	d.cs = (struct sched){D(cs.run_ns), D(cs.wait_ns)};
	d.pidf_sent = D(w.pidf_sent);
	d.pidf_parsed = D(pidf_parsed);
	if (publish) {
		d.reg_ok = D(p.pres.result[SPR_PRES_OK]);
		d.reg_not_ok = 0;
		for (int i = 0; i < SPR_PRES__COUNT; i++)
			if (i != SPR_PRES_OK && i != SPR_PRES_PIDF_CHECK)
				d.reg_not_ok += D(p.pres.result[i]);
		d.added = D(p.pres.pubs_added);
		d.refreshed = D(p.pres.pubs_refreshed) + D(p.pres.pubs_modified);
	}
#undef D
	return d;
}

/* --- set-up --- */

struct opts {
	uint32_t users;
	uint32_t seconds;
	uint64_t requests; /* 0: run for seconds */
	uint32_t window;
	bool json;
	bool publish; /* --scenario publish */
	bool token;   /* --token: REGISTERs carry each user's Bearer token */
	bool auth;    /* --auth: and the worker checks it (implies --token) */
	bool ab;      /* --ab: refresh in slices, auth off and on in turn (implies --auth) */
};

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: spr_dp_bench [EAL options --] [--scenario register|publish] [--users N]\n"
		"                    [--seconds S | --requests R] [--window W]\n"
		"                    [--token | --auth | --ab] [--json]\n"
		"  --scenario    register (default): register, refresh; publish: publish (body,\n"
		"                control parses it), modify (SIP-If-Match + body), refresh (no body)\n"
		"  --users N     AORs registered in phase 1 (default %u, at most %u)\n"
		"  --seconds S   refresh phase length (default %u, at most %u); publish: modify and\n"
		"                refresh phases each\n"
		"  --requests R  refresh phase: R requests instead of S seconds\n"
		"  --window W    requests in flight at most (default %u, at most %u)\n"
		"  --token       REGISTERs carry Authorization: Bearer <the user's ES256 JWT>\n"
		"  --auth        --token, and the worker checks it (every request a cache hit)\n"
		"  --ab          --auth, and the refresh phase in slices of %u ms, auth off and\n"
		"                on in turn (S seconds each): the price of auth on a hit\n"
		"  --json        one JSON object on stdout (the summary goes to stderr)\n",
		USERS_DEFAULT, USERS_MAX, SECONDS_DEFAULT, SECONDS_MAX, WINDOW_DEFAULT, WINDOW_MAX,
		AB_SLICE_MS);
}

static int
num_arg(const char *name, const char *v, uint64_t lo, uint64_t hi, uint64_t *out)
{
	return spr_bench_num_arg("spr_dp_bench", name, v, lo, hi, out);
}

/* 0, 1 (help asked) or -1. */
static int
parse_opts(int argc, char **argv, struct opts *o)
{
	*o = (struct opts){
		.users = USERS_DEFAULT, .seconds = SECONDS_DEFAULT, .window = WINDOW_DEFAULT};
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		uint64_t x;

		if (strcmp(a, "--json") == 0) {
			o->json = true;
			continue;
		}
		if (strcmp(a, "--token") == 0 || strcmp(a, "--auth") == 0 ||
		    strcmp(a, "--ab") == 0) {
			o->token = true;
			o->auth |= strcmp(a, "--token") != 0;
			o->ab |= strcmp(a, "--ab") == 0;
			continue;
		}
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
			return 1;
		if (strcmp(a, "--scenario") == 0) {
			if (v == NULL || (strcmp(v, "register") != 0 && strcmp(v, "publish") != 0)) {
				fprintf(stderr, "spr_dp_bench: --scenario register|publish\n");
				return -1;
			}
			o->publish = strcmp(v, "publish") == 0;
		} else if (strcmp(a, "--users") == 0) {
			if (num_arg(a, v, 1, USERS_MAX, &x) != 0)
				return -1;
			o->users = (uint32_t)x;
		} else if (strcmp(a, "--seconds") == 0) {
			if (num_arg(a, v, 1, SECONDS_MAX, &x) != 0)
				return -1;
			o->seconds = (uint32_t)x;
		} else if (strcmp(a, "--requests") == 0) {
			if (num_arg(a, v, 1, UINT64_MAX / 2, &x) != 0)
				return -1;
			o->requests = x;
		} else if (strcmp(a, "--window") == 0) {
			if (num_arg(a, v, 1, WINDOW_MAX, &x) != 0)
				return -1;
			o->window = (uint32_t)x;
		} else {
			fprintf(stderr, "spr_dp_bench: unknown option %s\n", a);
			usage(stderr);
			return -1;
		}
		i++;
	}
	return 0;
}

static int
fail(const char *what)
{
	fprintf(stderr, "spr_dp_bench: %s: %s\n", what, rte_strerror(rte_errno));
	return -1;
}

/* The claims of user u's token; pad makes every token about as long as an RS256 one. */
static void
token_claims(char *out, size_t cap, uint32_t u, int64_t now, uint32_t pad)
{
	int n = snprintf(out, cap,
			 "{\"iss\":\"https://idp.example.com/realms/carrier\",\"aud\":[\"sprd\","
			 "\"account\"],\"sub\":\"u%07u\",\"exp\":%lld,\"iat\":%lld,\"nbf\":%lld,"
			 "\"jti\":\"6c1f0e9a-3b2d-4e5f-8a7b-9c0d1e2f3a4b\",\"azp\":\"softphone\","
			 "\"scope\":\"openid sip:register sip:presence profile email\","
			 "\"preferred_username\":\"u%07u@example.com\",\"pad\":\"",
			 u, (long long)(now + 86400), (long long)now, (long long)now, u);

	for (uint32_t i = 0; i < pad && (size_t)n + 3 < cap; i++)
		out[n++] = 'x';
	snprintf(out + n, cap - (size_t)n, "\"}");
}

/*
 * --token: an ES256 token per user, minted with libjwt (auth/jwt_mint.h),
 * all of one length. --auth: the JWK Set, the worker's config and hooks,
 * and every token verified and cached as control would on first use.
 */
static int
tokens_setup(struct bench *b, const struct opts *o)
{
	struct spr_jwt_minter *m = spr_jwt_minter_new("bench-es256");
	int64_t now = (int64_t)time(NULL);
	char claims[1024], tok[TOKEN_MAX];
	uint32_t pad = 0, bad = 0;
	char why[256];
	int n = 0;

	if (m == NULL)
		goto fail;
	/* pad until the token is ~860 bytes, like perf/bench_auth.c's RS256 one */
	for (; pad < 400; pad += 3) {
		token_claims(claims, sizeof(claims), 0, now, pad);
		if ((n = spr_jwt_mint(m, claims, tok, sizeof(tok))) < 0)
			goto fail;
		if (n >= 858)
			break;
	}
	b->g.tok_len = (uint32_t)n;
	if ((b->g.toks = malloc((size_t)o->users * b->g.tok_len)) == NULL)
		goto fail;
	fprintf(stderr, "spr_dp_bench: minting %u ES256 tokens of %u bytes (libjwt)\n", o->users,
		b->g.tok_len);
	for (uint32_t u = 0; u < o->users; u++) {
		token_claims(claims, sizeof(claims), u, now, pad);
		if (spr_jwt_mint(m, claims, tok, sizeof(tok)) != n)
			goto fail; /* every token must have the length of the template's slot */
		memcpy(b->g.toks + (size_t)u * b->g.tok_len, tok, b->g.tok_len);
	}
	b->g.reg_kind = T_REGISTER_TOKEN;
	if (!o->auth) {
		spr_jwt_minter_free(m);
		return 0;
	}
	spr_auth_cfg_default(&b->auth_cfg);
	b->auth_cfg.enabled = true;
	b->auth_cfg.issuer = "https://idp.example.com/realms/carrier";
	b->auth_cfg.audience = "sprd";
	b->auth_cfg.realm = "example.com";
	/* 8 ways per token on average: a 4-way set overflows for very few users */
	b->auth_cfg.token_cache_size = o->users > (1u << 24) ? 1u << 27 : 8 * o->users;
	if (spr_jwks_parse(spr_jwt_minter_jwks(m), strlen(spr_jwt_minter_jwks(m)), false, &b->keys,
			   why, sizeof(why)) != 0 ||
	    (b->cache = spr_token_cache_new(b->auth_cfg.token_cache_size, 0, 0,
					    token_ext_retire)) == NULL ||
	    (b->w_hasher = spr_token_hasher_new()) == NULL ||
	    (b->ctl_hasher = spr_token_hasher_new()) == NULL)
		goto fail;
	fprintf(stderr, "spr_dp_bench: verifying and caching %u tokens\n", o->users);
	for (uint32_t u = 0; u < o->users; u++) {
		const char *t = b->g.toks + (size_t)u * b->g.tok_len;
		struct spr_jwt_claims cl;
		int v = spr_jwt_verify(b->keys, &b->auth_cfg, t, b->g.tok_len, now, &cl);

		bad += v != SPR_JWT_OK;
		spr_token_cache_put(b->cache, b->ctl_hasher, t, b->g.tok_len, v, &cl, now);
	}
	if (bad != 0) {
		fprintf(stderr, "spr_dp_bench: %u tokens failed verification\n", bad);
		goto fail;
	}
	b->w->proc->auth_cfg = &b->auth_cfg;
	b->w->proc->auth_hooks = spr_token_cache_hooks(b->cache, b->w_hasher);
	spr_jwt_minter_free(m);
	return 0;
fail:
	fprintf(stderr, "spr_dp_bench: tokens: set-up failed\n");
	spr_jwt_minter_free(m);
	return -1;
}

static int
setup(struct bench *b, const struct opts *o)
{
	struct spr_worker *w;
	struct rte_ether_addr mac;
	unsigned ring_sz = rte_align32pow2(2 * o->window + GEN_BURST * 2);
	unsigned n_mbufs = RTE_MAX(16384u, 2 * o->window + 3 * 2 * MBUF_CACHE + 4 * GEN_BURST);
	int rc;

	if (ring_sz < 1024)
		ring_sz = 1024;
	b->pool = rte_pktmbuf_pool_create("dpb_pool", n_mbufs, MBUF_CACHE, SPR_MBUF_PRIV_SIZE,
					  (uint16_t)(MBUF_DATA + RTE_PKTMBUF_HEADROOM),
					  (int)rte_socket_id());
	if (b->pool == NULL)
		return fail("mempool");
	b->rx = rte_ring_create("dpb_rx", ring_sz, (int)rte_socket_id(),
				RING_F_SP_ENQ | RING_F_SC_DEQ);
	b->tx = rte_ring_create("dpb_tx", ring_sz, (int)rte_socket_id(),
				RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (b->rx == NULL || b->tx == NULL)
		return fail("rings");
	rc = rte_eth_from_rings("dpb", &b->rx, 1, &b->tx, 1, (unsigned)rte_socket_id());
	if (rc < 0)
		return fail("rte_eth_from_rings");
	b->port = (uint16_t)rc;
	b->ours.n = 1;
	b->ours.a[0].family = AF_INET;
	b->ours.a[0].port = SIP_PORT;
	memcpy(b->ours.a[0].addr, our4, 4);
	rc = spr_dpdk_port_setup(b->port, 1, 1, b->pool, &b->ours);
	if (rc != 0) {
		fprintf(stderr, "spr_dp_bench: port setup: %s\n", strerror(-rc));
		return -1;
	}
	if (rte_eth_macaddr_get(b->port, &mac) != 0)
		return fail("rte_eth_macaddr_get");

	/* the worker as control/main.c makes it; one worker: no handoff rings */
	b->w = w = calloc(1, sizeof(*w));
	if (w == NULL || (w->proc = calloc(1, sizeof(*w->proc))) == NULL) {
		fprintf(stderr, "spr_dp_bench: out of memory\n");
		return -1;
	}
	w->id = 0;
	w->n_workers = 1;
	w->clock_sec = &b->clock_sec;
	spr_reg_cfg_default(&b->reg_cfg);
	spr_sip_limits_default(&w->proc->lim);
	w->proc->reg_cfg = &b->reg_cfg;
	if (o->publish) {
		/* presence as sprd runs it (b2bua); REGISTER runs stay as they were measured */
		spr_pres_cfg_default(&b->pres_cfg);
		b->pres_cfg.etag_secret = 0x5eed5eed5eed5eedull;
		w->proc->pres_cfg = &b->pres_cfg;
		w->proc->etag_seq = 0;
		b->pidf_scratch = malloc(sizeof(*b->pidf_scratch));
		b->g.etag = calloc(o->users, sizeof(*b->g.etag));
		if (b->pidf_scratch == NULL || b->g.etag == NULL) {
			fprintf(stderr, "spr_dp_bench: out of memory\n");
			return -1;
		}
	}
	if (o->token && tokens_setup(b, o) != 0)
		return -1;
	w->proc->reply.server = SPR_STR("sprd/0.1.0");
	w->io = spr_io_dpdk_create(b->port, 0, 0, b->pool, &b->ours, &mac);
	if (w->io == NULL)
		return fail("spr_io_dpdk_create");
	w->to_ctl = rte_ring_create_elem("dpb_toctl", sizeof(struct spr_ring_msg), CTL_RING,
					 (int)rte_socket_id(), RING_F_SP_ENQ | RING_F_SC_DEQ);
	/* PIDF_RESULTs: as many as requests in flight */
	w->from_ctl = rte_ring_create_elem("dpb_fromctl", sizeof(struct spr_ring_msg),
					   rte_align32pow2(RTE_MAX(1024u, 2 * o->window)),
					   (int)rte_socket_id(), RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (w->to_ctl == NULL || w->from_ctl == NULL)
		return fail("control rings");

	b->g.pool = b->pool;
	b->g.rx = b->rx;
	b->g.tx = b->tx;
	b->g.users = o->users;
	b->g.stride = stride_for(o->users);
	b->g.window = o->window;
	b->g.cseq = 2;
	frame_init(&b->g, &mac);
	return 0;
}

/* The shard, sized for every user; jemalloc's allocated bytes before it in *before. */
static int
shard_create(struct bench *b, uint32_t users, uint64_t *before)
{
	*before = je_allocated();
	b->shard = b->w->proc->shard = spr_loc_shard_create(0, users);
	if (b->shard == NULL) {
		fprintf(stderr, "spr_dp_bench: shard for %u AORs: out of memory\n", users);
		return -1;
	}
	return 0;
}

static void
teardown(struct bench *b)
{
	struct rte_mbuf *m = NULL;

	if (b->w != NULL) {
		if (b->w->io != NULL)
			spr_io_destroy(b->w->io);
		rte_ring_free(b->w->to_ctl);
		rte_ring_free(b->w->from_ctl);
		free(b->w->proc);
		free(b->w);
	}
	if (b->shard != NULL)
		spr_loc_shard_destroy(b->shard);
	if (b->cache != NULL) {
		urcu_qsbr_barrier(); /* retired token copies freed before the cache goes */
		spr_token_cache_free(b->cache);
	}
	spr_token_hasher_free(b->w_hasher);
	spr_token_hasher_free(b->ctl_hasher);
	spr_jwks_free(b->keys);
	free(b->g.toks);
	if (rte_eth_dev_is_valid_port(b->port)) {
		rte_eth_dev_stop(b->port);
		rte_eth_dev_close(b->port);
	}
	while (b->rx != NULL && rte_ring_dequeue(b->rx, (void **)&m) == 0)
		rte_pktmbuf_free(m);
	while (b->tx != NULL && rte_ring_dequeue(b->tx, (void **)&m) == 0)
		rte_pktmbuf_free(m);
	rte_ring_free(b->rx);
	rte_ring_free(b->tx);
	rte_mempool_free(b->pool);
	free(b->pidf_scratch);
	free(b->g.etag);
}

/* --- report --- */

static double
secs(const struct phase_res *r)
{
	return (double)(r->t1 - r->t0) / (double)rte_get_tsc_hz();
}

static double
rate(const struct phase_res *r)
{
	double s = secs(r);

	return s > 0 ? (double)r->replied / s : 0;
}

static void
print_phase_human(FILE *f, const char *name, const struct phase_res *r, const struct wdelta *d)
{
	double hz = (double)rte_get_tsc_hz(), rt = rate(r);

	fprintf(f,
		"%-8s %10llu sent %10llu replies in %7.3f s: %10.0f /s  %7.1f ns  %6.0f cycles"
		" per request%s\n",
		name, (unsigned long long)r->sent, (unsigned long long)r->replied, secs(r), rt,
		rt > 0 ? 1e9 / rt : 0, rt > 0 ? hz / rt : 0, r->aborted ? "  (STALLED)" : "");
	fprintf(f,
		"         generator: non-200 %llu, loops %llu, idle %llu, window full %llu,"
		" ring full %llu, alloc fail %llu\n",
		(unsigned long long)r->non200, (unsigned long long)r->loops,
		(unsigned long long)r->idle, (unsigned long long)r->window_full,
		(unsigned long long)r->ring_full, (unsigned long long)r->alloc_fail);
	fprintf(f,
		"         worker: rx %llu, reg ok %llu, reg non-200 %llu, added %llu, refreshed "
		"%llu,"
		" retransmissions %llu, parse/proc drops %llu, io drops %llu, tx drop %llu,"
		" handoff %llu, timers lost %llu, loops %llu (%.1f pkts/loop)\n",
		(unsigned long long)d->rx_pkts, (unsigned long long)d->reg_ok,
		(unsigned long long)d->reg_not_ok, (unsigned long long)d->added,
		(unsigned long long)d->refreshed, (unsigned long long)d->retransmissions,
		(unsigned long long)d->proc_drops, (unsigned long long)d->io_drops,
		(unsigned long long)d->tx_drop, (unsigned long long)d->handoff_out,
		(unsigned long long)d->timer_lost, (unsigned long long)d->loops,
		d->loops != 0 ? (double)d->rx_pkts / (double)d->loops : 0);
	fprintf(f,
		"         threads: worker on CPU %.3f s, runnable but waiting %.3f s;"
		" generator on CPU %.3f s, waiting %.3f s; %.0f replies per worker CPU-second\n",
		d->ws.run_ns / 1e9, d->ws.wait_ns / 1e9, d->gs.run_ns / 1e9, d->gs.wait_ns / 1e9,
		d->ws.run_ns != 0 ? (double)r->replied * 1e9 / (double)d->ws.run_ns : 0);
	if (d->auth_hits != 0 || d->auth_misses != 0)
		fprintf(f, "         auth: token cache hits %llu, misses %llu (verified on main), PASS %llu\n",
			(unsigned long long)d->auth_hits, (unsigned long long)d->auth_misses,
			(unsigned long long)d->auth_pass);
	if (d->pidf_sent != 0 || d->pidf_parsed != 0)
		fprintf(f,
			"         control: PIDF bodies sent %llu, parsed %llu, on CPU %.3f s"
			" (%.2f us per body), waiting %.3f s; worker + control CPU %.0f ns per reply"
			" (%.0f per CPU-second)\n",
			(unsigned long long)d->pidf_sent, (unsigned long long)d->pidf_parsed,
			d->cs.run_ns / 1e9,
			d->pidf_parsed != 0 ? d->cs.run_ns / 1e3 / (double)d->pidf_parsed : 0,
			d->cs.wait_ns / 1e9,
			r->replied != 0 ? (double)(d->ws.run_ns + d->cs.run_ns) / (double)r->replied
					: 0,
			d->ws.run_ns + d->cs.run_ns != 0
				? (double)r->replied * 1e9 / (double)(d->ws.run_ns + d->cs.run_ns)
				: 0);
}

static void
print_phase_json(FILE *f, const char *name, const struct phase_res *r, const struct wdelta *d)
{
	double hz = (double)rte_get_tsc_hz(), rt = rate(r);

	fprintf(f,
		"\"%s\":{\"sent\":%llu,\"replies\":%llu,\"seconds\":%.6f,\"rate\":%.0f,"
		"\"ns_per_request\":%.2f,\"cycles_per_request\":%.1f,\"stalled\":%s,"
		"\"generator\":{\"non200\":%llu,\"loops\":%llu,\"idle\":%llu,\"window_full\":%llu,"
		"\"ring_full\":%llu,\"alloc_fail\":%llu},"
		"\"worker\":{\"rx_pkts\":%llu,\"rx_sip\":%llu,\"tx_pkts\":%llu,\"reg_ok\":%llu,"
		"\"reg_non200\":%llu,\"bindings_added\":%llu,\"bindings_refreshed\":%llu,"
		"\"retransmissions\":%llu,\"proc_drops\":%llu,\"io_drops\":%llu,\"tx_drop\":%llu,"
		"\"handoff_out\":%llu,\"timer_lost\":%llu,\"loops\":%llu},"
		"\"threads\":{\"worker_run_s\":%.3f,\"worker_wait_s\":%.3f,\"generator_run_s\":%."
		"3f,"
		"\"generator_wait_s\":%.3f,\"rate_per_worker_cpu_s\":%.0f,\"control_run_s\":%.3f,"
		"\"control_wait_s\":%.3f,\"pidf_sent\":%llu,\"pidf_parsed\":%llu},"
		"\"auth\":{\"hits\":%llu,\"misses\":%llu,\"pass\":%llu}}",
		name, (unsigned long long)r->sent, (unsigned long long)r->replied, secs(r), rt,
		rt > 0 ? 1e9 / rt : 0, rt > 0 ? hz / rt : 0, r->aborted ? "true" : "false",
		(unsigned long long)r->non200, (unsigned long long)r->loops,
		(unsigned long long)r->idle, (unsigned long long)r->window_full,
		(unsigned long long)r->ring_full, (unsigned long long)r->alloc_fail,
		(unsigned long long)d->rx_pkts, (unsigned long long)d->rx_sip,
		(unsigned long long)d->tx_pkts, (unsigned long long)d->reg_ok,
		(unsigned long long)d->reg_not_ok, (unsigned long long)d->added,
		(unsigned long long)d->refreshed, (unsigned long long)d->retransmissions,
		(unsigned long long)d->proc_drops, (unsigned long long)d->io_drops,
		(unsigned long long)d->tx_drop, (unsigned long long)d->handoff_out,
		(unsigned long long)d->timer_lost, (unsigned long long)d->loops, d->ws.run_ns / 1e9,
		d->ws.wait_ns / 1e9, d->gs.run_ns / 1e9, d->gs.wait_ns / 1e9,
		d->ws.run_ns != 0 ? (double)r->replied * 1e9 / (double)d->ws.run_ns : 0,
		d->cs.run_ns / 1e9, d->cs.wait_ns / 1e9, (unsigned long long)d->pidf_sent,
		(unsigned long long)d->pidf_parsed, (unsigned long long)d->auth_hits,
		(unsigned long long)d->auth_misses, (unsigned long long)d->auth_pass);
}

/* --- --ab: auth off and on in turn --- */

static void
phase_add(struct phase_res *acc, const struct phase_res *r)
{
	acc->sent += r->sent;
	acc->replied += r->replied;
	acc->non200 += r->non200;
	acc->t1 += r->t1 - r->t0; /* acc->t0 stays 0: t1 is the time of all slices */
	acc->loops += r->loops;
	acc->idle += r->idle;
	acc->window_full += r->window_full;
	acc->ring_full += r->ring_full;
	acc->alloc_fail += r->alloc_fail;
	acc->aborted |= r->aborted;
}

static void
wdelta_add(struct wdelta *acc, const struct wdelta *d)
{
#define A(f) acc->f += d->f
	A(rx_pkts), A(rx_sip), A(tx_pkts), A(io_drops), A(tx_drop);
	A(reg_ok), A(reg_not_ok), A(proc_drops), A(replies), A(retransmissions), A(refreshed);
	A(added), A(handoff_out), A(timer_lost), A(loops), A(pidf_sent), A(pidf_parsed);
	A(auth_hits), A(auth_misses), A(auth_pass);
	A(ws.run_ns), A(ws.wait_ns), A(gs.run_ns), A(gs.wait_ns), A(cs.run_ns), A(cs.wait_ns);
#undef A
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The ratio of auth off to auth on, per pair of slices and over all of them. */
struct ab_res {
	uint32_t pairs;
	double all, median, min, max; /* percent: cycles per request off / on */
};

/*
 * The refresh phase as `pairs` pairs of slices: off then on, then on then
 * off (ABBA). res[0], d[0]: auth off, summed; res[1], d[1]: auth on.
 */
static void
run_ab(struct bench *b, uint32_t pairs, struct phase_res res[2], struct wdelta d[2],
       struct ab_res *ab)
{
	static double ratio[AB_PAIRS_MAX];
	uint64_t slice = rte_get_tsc_hz() / 1000 * AB_SLICE_MS;
	double cyc[2] = {0, 0};

	memset(res, 0, 2 * sizeof(*res));
	memset(d, 0, 2 * sizeof(*d));
	memset(ab, 0, sizeof(*ab));
	fprintf(stderr,
		"spr_dp_bench: refresh phase starts: %u pairs of %u ms slices, auth off and on\n",
		pairs, AB_SLICE_MS);
	b->quiet = true;
	for (uint32_t s = 0; s < 2 * pairs && !res[0].aborted && !res[1].aborted; s++) {
		int on = (s & 1) ^ ((s >> 1) & 1);
		struct wsnap before, after;
		struct wdelta sd;

		b->w->proc->auth_cfg = on ? &b->auth_cfg : NULL; /* nothing in flight */
		snap(b, &before);
		run_phase(b, GEN_REFRESH, 0, slice);
		snap(b, &after);
		sd = wdelta(&before, &after, false);
		phase_add(&res[on], &b->g.res);
		wdelta_add(&d[on], &sd);
		cyc[on] = rate(&b->g.res) > 0 ? (double)rte_get_tsc_hz() / rate(&b->g.res) : 0;
		if ((s & 1) && cyc[1] > 0)
			ratio[ab->pairs++] = 100.0 * cyc[0] / cyc[1];
	}
	b->quiet = false;
	b->w->proc->auth_cfg = &b->auth_cfg;
	if (ab->pairs == 0 || rate(&res[0]) <= 0 || rate(&res[1]) <= 0)
		return;
	ab->all = 100.0 * rate(&res[1]) / rate(&res[0]);
	qsort(ratio, ab->pairs, sizeof(ratio[0]), cmp_double);
	ab->median = ab->pairs % 2 ? ratio[ab->pairs / 2]
				   : (ratio[ab->pairs / 2 - 1] + ratio[ab->pairs / 2]) / 2;
	ab->min = ratio[0];
	ab->max = ratio[ab->pairs - 1];
}

int
main(int argc, char **argv)
{
	static struct bench b;
	struct opts o;
	struct phase_res res[3];
	struct wsnap snaps[4];
	struct wdelta d[3];
	struct ab_res ab = {0};
	enum gen_cmd cmds[3];
	const char *names[3];
	int n_phases;
	char ealbuf[64], load[128], rundir[PATH_MAX];
	char *eal_argv[32];
	int sep = -1, eal_argc, first, rc;
	uint64_t before = 0, after;
	double per_binding = 0;
	FILE *human;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			sep = i;
			break;
		}
	}
	first = sep >= 0 ? sep + 1 : 1;
	rc = parse_opts(argc - first, argv + first, &o);
	if (rc != 0) {
		if (rc == 1)
			usage(stdout);
		return rc == 1 ? 0 : 2;
	}
	if (o.publish && o.token) {
		fprintf(stderr,
			"spr_dp_bench: --token, --auth and --ab go with --scenario register\n");
		return 2;
	}
	if (o.ab && o.requests != 0) {
		fprintf(stderr, "spr_dp_bench: --ab runs for --seconds, not --requests\n");
		return 2;
	}
	if (sep > 1) {
		eal_argc = RTE_MIN(sep, 32);
		for (int i = 0; i < eal_argc; i++)
			eal_argv[i] = argv[i];
	} else {
		/* main lcore sleeps and floats; worker on CPU 0, generator on CPU 1 */
		eal_argc = spr_bench_eal_args("spr_dp_bench", "1024", "0@(0-1),1@0,2@1", ealbuf,
					      sizeof(ealbuf), eal_argv);
	}
	if (rte_eal_init(eal_argc, eal_argv) < 0) {
		fprintf(stderr, "spr_dp_bench: EAL init failed: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	rc = 1;
	b.worker_lcore = rte_get_next_lcore(-1, 1, 0);
	b.gen_lcore = rte_get_next_lcore(b.worker_lcore, 1, 0);
	if (b.gen_lcore >= RTE_MAX_LCORE) {
		fprintf(stderr, "spr_dp_bench: needs 3 lcores (main, worker, generator), has %u\n",
			rte_lcore_count());
		goto out_eal;
	}
	urcu_qsbr_register_thread();
	b.ctl_tid = gettid();
	b.clock_sec = (uint32_t)time(NULL);
	if (o.publish) {
		cmds[0] = GEN_PUBLISH, cmds[1] = GEN_MODIFY, cmds[2] = GEN_PUB_REFRESH;
		names[0] = "publish", names[1] = "modify", names[2] = "refresh";
	} else {
		cmds[0] = GEN_REGISTER, cmds[1] = GEN_REFRESH;
		names[0] = "register", names[1] = "refresh";
		names[2] = "auth on"; /* --ab: phases 1 and 2 are its slices, summed */
		if (o.ab)
			names[1] = "auth off";
	}
	if (setup(&b, &o) != 0 || shard_create(&b, o.users, &before) != 0)
		goto out;
	/* main never reads the shard: offline, so grace periods need not wait for it */
	urcu_qsbr_thread_offline();
	rte_eal_remote_launch(worker_main, &b, b.worker_lcore);
	rte_eal_remote_launch(gen_run, &b.g, b.gen_lcore);
	while (b.worker_tid == 0 || b.g.tid == 0)
		usleep(1000);

	/* phase 1: every user registered (published) once; then refreshes (modifies, refreshes) */
	n_phases = o.publish ? 3 : o.ab ? 1 : 2;
	snap(&b, &snaps[0]);
	for (int i = 0; i < n_phases; i++) {
		if (i != 0 && res[i - 1].aborted) {
			memset(&res[i], 0, sizeof(res[i]));
			snap(&b, &snaps[i + 1]);
			continue;
		}
		run_phase(&b, cmds[i], i == 0 ? o.users : o.requests,
			  i == 0 || o.requests != 0 ? 0 : (uint64_t)o.seconds * rte_get_tsc_hz());
		res[i] = b.g.res;
		snap(&b, &snaps[i + 1]);
		if (i == 0) {
			urcu_qsbr_synchronize_rcu();
			urcu_qsbr_barrier();
			after = je_allocated();
			per_binding = ((double)after - (double)before) / o.users;
		}
	}
	if (o.ab) {
		memset(&res[1], 0, 2 * sizeof(res[1]));
		memset(&d[1], 0, 2 * sizeof(d[1]));
		if (!res[0].aborted)
			run_ab(&b, o.seconds * 1000 / AB_SLICE_MS, &res[1], &d[1], &ab);
	}
	run_phase(&b, GEN_QUIT, 0, 0);
	rte_eal_wait_lcore(b.gen_lcore);
	b.w->stop = 1;
	rte_eal_wait_lcore(b.worker_lcore);

	for (int i = 0; i < n_phases; i++)
		d[i] = wdelta(&snaps[i], &snaps[i + 1], o.publish);
	if (o.ab)
		n_phases = 3;
	spr_bench_loadavg(load, sizeof(load));
	human = o.json ? stderr : stdout;
	fprintf(human,
		"spr_dp_bench: %s, 1 worker (lcore %u), generator lcore %u, %u users, window %u,"
		" TSC %.3f GHz, %s\n",
		o.publish ? "publish"
		: o.ab	  ? "register, tokens, auth off and on in turn"
		: o.auth  ? "register, auth on"
		: o.token ? "register, tokens, auth off"
			  : "register",
		b.worker_lcore, b.gen_lcore, o.users, o.window, rte_get_tsc_hz() / 1e9,
		o.requests != 0 ? "requests" : "seconds");
	for (int i = 0; i < n_phases; i++)
		print_phase_human(human, names[i], &res[i], &d[i]);
	if (o.publish)
		fprintf(human, "         entity-tags not read from a 200: %llu\n",
			(unsigned long long)b.g.no_etag);
	if (o.ab)
		fprintf(human,
			"auth on/off %.1f%% of the replies per second over all slices; per pair of"
			" slices: median %.1f%%, %.1f-%.1f%% (%u pairs)\n",
			ab.all, ab.median, ab.min, ab.max, ab.pairs);
	fprintf(human, "memory   %.1f bytes per %s (jemalloc stats.allocated after phase 1)\n",
		per_binding, o.publish ? "presentity" : "binding");
	fprintf(human, "load     %s\n", load);
	if (o.json) {
		printf("{\"scenario\":\"%s\",\"users\":%u,\"window\":%u,\"seconds\":%u,"
		       "\"requests\":%llu,\"tsc_hz\":%llu,\"frame_bytes\":%u,"
		       "\"bytes_per_binding\":%.1f,\"loadavg\":\"%s\",",
		       o.publish ? "publish"
		       : o.ab	 ? "register-ab"
		       : o.auth	 ? "register-auth"
		       : o.token ? "register-token"
				 : "register",
		       o.users, o.window, o.requests != 0 ? 0 : o.seconds,
		       (unsigned long long)o.requests, (unsigned long long)rte_get_tsc_hz(),
		       b.g.t[o.publish ? T_PUB_INITIAL : b.g.reg_kind].len, per_binding, load);
		for (int i = 0; i < n_phases; i++) {
			if (i != 0)
				putchar(',');
			print_phase_json(stdout, names[i], &res[i], &d[i]);
		}
		if (o.ab)
			printf(",\"ab\":{\"pairs\":%u,\"slice_ms\":%u,\"all\":%.2f,\"median\":%.2f,"
			       "\"min\":%.2f,\"max\":%.2f}",
			       ab.pairs, AB_SLICE_MS, ab.all, ab.median, ab.min, ab.max);
		printf("}\n");
	}
	rc = 0;
	for (int i = 0; i < n_phases; i++)
		rc |= res[i].aborted ? 1 : 0;
out:
	urcu_qsbr_thread_offline();
	teardown(&b);
	urcu_qsbr_unregister_thread();
out_eal:
	/* the EAL leaves its runtime directory behind; the default one is per process */
	snprintf(rundir, sizeof(rundir), "%s", rte_eal_get_runtime_dir());
	rte_eal_cleanup();
	if (sep <= 1)
		rmdir(rundir);
	return rc;
}
