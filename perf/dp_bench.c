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
 *   spr_dp_bench [EAL options --] [--users N] [--seconds S | --requests R]
 *                [--window W] [--json]
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

#include "io_dpdk.h"
#include "lcore.h"

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
#define SIP_PORT 5060

static const uint8_t our4[4] = {192, 0, 2, 1};
static const uint8_t peer4[4] = {10, 1, 2, 3};
static const struct rte_ether_addr peer_mac = {{0x02, 0, 0, 0, 0, 0x01}};

/* The REGISTER of perf/bench_sip.c: a 7-digit user number in four places, a 10-digit CSeq. */
static const char reg_tmpl[] =
	"REGISTER sip:example.com SIP/2.0\r\n"
	"Via: SIP/2.0/UDP 10.1.2.3:5060;branch=z9hG4bK-524287-1---a1b2c3d4e5f6a7b8;rport\r\n"
	"Max-Forwards: 70\r\n"
	"Contact: <sip:u0000000@10.1.2.3:5060;transport=udp>;expires=3600\r\n"
	"To: <sip:u0000000@example.com>\r\n"
	"From: <sip:u0000000@example.com>;tag=9f8e7d6c5b4a\r\n"
	"Call-ID: u0000000-5a6b7c8d9e0f1a2b@10.1.2.3\r\n"
	"CSeq: 0000000001 REGISTER\r\n"
	"Expires: 3600\r\n"
	"Allow: INVITE, ACK, CANCEL, BYE, NOTIFY, REFER, MESSAGE, OPTIONS, INFO, SUBSCRIBE\r\n"
	"Supported: replaces, path, gruu\r\n"
	"User-Agent: Yealink SIP-T46S 66.86.0.15\r\n"
	"Content-Length: 0\r\n"
	"\r\n";

#define HDRS_LEN                                                                                   \
	(sizeof(struct rte_ether_hdr) + sizeof(struct rte_ipv4_hdr) + sizeof(struct rte_udp_hdr))
#define FRAME_LEN (HDRS_LEN + sizeof(reg_tmpl) - 1)

enum gen_cmd { GEN_REGISTER = 1, GEN_REFRESH, GEN_QUIT };

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
	uint8_t frame[FRAME_LEN];
	uint32_t user_off[4]; /* in frame */
	uint32_t cseq_off;
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
	struct spr_worker *w;
	struct spr_loc_shard *shard;
	volatile uint32_t clock_sec;
	unsigned worker_lcore, gen_lcore;
	struct gen g;
	uint64_t ctl_msgs;
	volatile pid_t worker_tid;
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
	struct sched ws, gs; /* worker's and generator's threads */
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
frame_init(struct gen *g, const struct rte_ether_addr *our_mac)
{
	struct rte_ether_hdr *eh = (struct rte_ether_hdr *)g->frame;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eh + 1);
	struct rte_udp_hdr *u = (struct rte_udp_hdr *)(ip + 1);
	const uint32_t sip_len = sizeof(reg_tmpl) - 1;
	const char *p = reg_tmpl;
	int k = 0;

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
	memcpy(g->frame + HDRS_LEN, reg_tmpl, sip_len);
	while (k < 4 && (p = strstr(p, "u0000000")) != NULL) {
		g->user_off[k++] = (uint32_t)HDRS_LEN + (uint32_t)(p - reg_tmpl) + 1;
		p++;
	}
	g->cseq_off = (uint32_t)HDRS_LEN + (uint32_t)(strstr(reg_tmpl, "CSeq: ") - reg_tmpl) + 6;
}

static void
frame_write(const struct gen *g, struct rte_mbuf *m, uint32_t user, uint32_t cseq)
{
	uint8_t *f = rte_pktmbuf_mtod(m, uint8_t *);
	uint8_t digits[7];

	memcpy(f, g->frame, FRAME_LEN);
	put_digits(digits, user, 7);
	for (int k = 0; k < 4; k++)
		memcpy(f + g->user_off[k], digits, 7);
	put_digits(f + g->cseq_off, cseq, 10);
	m->data_len = FRAME_LEN;
	m->pkt_len = FRAME_LEN;
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

static void
gen_replies(struct phase_res *r, struct rte_mbuf **mb, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		const struct rte_mbuf *m = mb[i];

		if (m->data_len < HDRS_LEN + 11 ||
		    memcmp(rte_pktmbuf_mtod_offset(m, const char *, HDRS_LEN), "SIP/2.0 200", 11) !=
			    0)
			r->non200++;
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
			gen_replies(r, mb, n);
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
				uint32_t user, cseq;

				if (cmd == GEN_REGISTER) {
					user = (uint32_t)(r->sent + i);
					cseq = 1;
				} else {
					refresh_next(g, &user, &cseq);
				}
				frame_write(g, mb[i], user, cseq);
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

/* The control thread's duties the worker needs: the clock, and its TIMER messages taken away. */
static void
ctl_tick(struct bench *b)
{
	struct spr_ring_msg msgs[SPR_BURST];
	unsigned n;

	b->clock_sec = (uint32_t)time(NULL);
	do {
		n = rte_ring_sc_dequeue_burst_elem(b->w->to_ctl, msgs, sizeof(msgs[0]), SPR_BURST,
						   NULL);
		b->ctl_msgs += n;
	} while (n == SPR_BURST);
}

/* Run one generator phase to its end; a phase whose replies stop coming is aborted. */
static void
run_phase(struct bench *b, enum gen_cmd cmd, uint64_t target, uint64_t ticks)
{
	struct gen *g = &b->g;
	uint32_t seq = g->cmd_seq + 1;
	uint64_t last = UINT64_MAX, last_change = rte_get_tsc_cycles();

	if (cmd != GEN_QUIT)
		fprintf(stderr, "spr_dp_bench: %s phase starts (worker thread %d)\n",
			cmd == GEN_REGISTER ? "register" : "refresh", (int)b->worker_tid);
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

		ctl_tick(b);
		if (p != last) {
			last = p;
			last_change = now;
		} else if (now - last_change > STALL_SECONDS * rte_get_tsc_hz()) {
			g->abort = 1;
		}
		usleep(1000);
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
}

/* Worker-side figures of a phase: after - before. */
struct wdelta {
	uint64_t rx_pkts, rx_sip, tx_pkts, io_drops, tx_drop;
	uint64_t reg_ok, reg_not_ok, proc_drops, replies, retransmissions, refreshed, added;
	uint64_t handoff_out, timer_lost, loops;
	struct sched ws, gs;
};

static struct wdelta
wdelta(const struct wsnap *a, const struct wsnap *z)
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
	d.timer_lost = D(w.timer_lost);
	d.loops = D(w.loops);
	d.ws = (struct sched){D(ws.run_ns), D(ws.wait_ns)};
	d.gs = (struct sched){D(gs.run_ns), D(gs.wait_ns)};
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
};

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: spr_dp_bench [EAL options --] [--users N] [--seconds S | --requests R]\n"
		"                    [--window W] [--json]\n"
		"  --users N     AORs registered in phase 1 (default %u, at most %u)\n"
		"  --seconds S   refresh phase length (default %u, at most %u)\n"
		"  --requests R  refresh phase: R requests instead of S seconds\n"
		"  --window W    requests in flight at most (default %u, at most %u)\n"
		"  --json        one JSON object on stdout (the summary goes to stderr)\n",
		USERS_DEFAULT, USERS_MAX, SECONDS_DEFAULT, SECONDS_MAX, WINDOW_DEFAULT, WINDOW_MAX);
}

static int
num_arg(const char *name, const char *v, uint64_t lo, uint64_t hi, uint64_t *out)
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
	fprintf(stderr, "spr_dp_bench: %s takes a number in [%llu, %llu]\n", name,
		(unsigned long long)lo, (unsigned long long)hi);
	return -1;
}

/* 0, 1 (help asked) or -1. */
static int
parse_opts(int argc, char **argv, struct opts *o)
{
	*o = (struct opts){USERS_DEFAULT, SECONDS_DEFAULT, 0, WINDOW_DEFAULT, false};
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		uint64_t x;

		if (strcmp(a, "--json") == 0) {
			o->json = true;
			continue;
		}
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
			return 1;
		if (strcmp(a, "--users") == 0) {
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
default_eal_args(char *buf, size_t cap, char **argv)
{
	int n = 0;

	argv[n++] = "spr_dp_bench";
	argv[n++] = "--no-huge";
	argv[n++] = "--no-pci";
	argv[n++] = "-m";
	argv[n++] = "1024";
	argv[n++] = "--no-shconf";
	argv[n++] = "--no-telemetry";
	argv[n++] = "--log-level=*:warning";
	argv[n++] = "--file-prefix";
	argv[n++] = buf;
	snprintf(buf, cap, "spr_dp_bench_%d", (int)getpid());
	/* main lcore sleeps and floats; worker on CPU 0, generator on CPU 1 */
	argv[n++] = "--lcores";
	argv[n++] = "0@(0-1),1@0,2@1";
	return n;
}

static int
fail(const char *what)
{
	fprintf(stderr, "spr_dp_bench: %s: %s\n", what, rte_strerror(rte_errno));
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
	w->proc->reply.server = SPR_STR("sprd/0.1.0");
	w->io = spr_io_dpdk_create(b->port, 0, 0, b->pool, &b->ours, &mac);
	if (w->io == NULL)
		return fail("spr_io_dpdk_create");
	w->to_ctl = rte_ring_create_elem("dpb_toctl", sizeof(struct spr_ring_msg), CTL_RING,
					 (int)rte_socket_id(), RING_F_SP_ENQ | RING_F_SC_DEQ);
	w->from_ctl = rte_ring_create_elem("dpb_fromctl", sizeof(struct spr_ring_msg), 1024,
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
loadavg(char *out, size_t cap)
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
		"\"generator_wait_s\":%.3f,\"rate_per_worker_cpu_s\":%.0f}}",
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
		d->ws.run_ns != 0 ? (double)r->replied * 1e9 / (double)d->ws.run_ns : 0);
}

int
main(int argc, char **argv)
{
	static struct bench b;
	struct opts o;
	struct phase_res reg, ref;
	struct wsnap s0, s1, s2;
	struct wdelta d_reg, d_ref;
	char ealbuf[64], load[128], rundir[PATH_MAX];
	char *eal_argv[32];
	int sep = -1, eal_argc, first, rc;
	uint64_t before, after;
	double per_binding;
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
	if (sep > 1) {
		eal_argc = RTE_MIN(sep, 32);
		for (int i = 0; i < eal_argc; i++)
			eal_argv[i] = argv[i];
	} else {
		eal_argc = default_eal_args(ealbuf, sizeof(ealbuf), eal_argv);
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
	b.clock_sec = (uint32_t)time(NULL);
	if (setup(&b, &o) != 0 || shard_create(&b, o.users, &before) != 0)
		goto out;
	/* main never reads the shard: offline, so grace periods need not wait for it */
	urcu_qsbr_thread_offline();
	rte_eal_remote_launch(worker_main, &b, b.worker_lcore);
	rte_eal_remote_launch(gen_run, &b.g, b.gen_lcore);
	while (b.worker_tid == 0 || b.g.tid == 0)
		usleep(1000);

	/* phase 1: every user registered once */
	snap(&b, &s0);
	run_phase(&b, GEN_REGISTER, o.users, 0);
	reg = b.g.res;
	snap(&b, &s1);
	urcu_qsbr_synchronize_rcu();
	urcu_qsbr_barrier();
	after = je_allocated();
	per_binding = ((double)after - (double)before) / o.users;

	/* phase 2: refreshes, CSeq one higher per round */
	if (!reg.aborted)
		run_phase(&b, GEN_REFRESH, o.requests,
			  o.requests != 0 ? 0 : (uint64_t)o.seconds * rte_get_tsc_hz());
	else
		memset(&b.g.res, 0, sizeof(b.g.res));
	ref = b.g.res;
	snap(&b, &s2);
	run_phase(&b, GEN_QUIT, 0, 0);
	rte_eal_wait_lcore(b.gen_lcore);
	b.w->stop = 1;
	rte_eal_wait_lcore(b.worker_lcore);

	d_reg = wdelta(&s0, &s1);
	d_ref = wdelta(&s1, &s2);
	loadavg(load, sizeof(load));
	human = o.json ? stderr : stdout;
	fprintf(human,
		"spr_dp_bench: 1 worker (lcore %u), generator lcore %u, %u users, window %u,"
		" TSC %.3f GHz, %s\n",
		b.worker_lcore, b.gen_lcore, o.users, o.window, rte_get_tsc_hz() / 1e9,
		o.requests != 0 ? "requests" : "seconds");
	print_phase_human(human, "register", &reg, &d_reg);
	print_phase_human(human, "refresh", &ref, &d_ref);
	fprintf(human, "memory   %.1f bytes per binding (jemalloc stats.allocated after phase 1)\n",
		per_binding);
	fprintf(human, "load     %s\n", load);
	if (o.json) {
		printf("{\"users\":%u,\"window\":%u,\"seconds\":%u,\"requests\":%llu,"
		       "\"tsc_hz\":%llu,\"frame_bytes\":%u,\"bytes_per_binding\":%.1f,"
		       "\"loadavg\":\"%s\",",
		       o.users, o.window, o.requests != 0 ? 0 : o.seconds,
		       (unsigned long long)o.requests, (unsigned long long)rte_get_tsc_hz(),
		       (unsigned)FRAME_LEN, per_binding, load);
		print_phase_json(stdout, "register", &reg, &d_reg);
		putchar(',');
		print_phase_json(stdout, "refresh", &ref, &d_ref);
		printf("}\n");
	}
	rc = reg.aborted || ref.aborted ? 1 : 0;
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
