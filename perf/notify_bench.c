/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * spr_notify_bench: the NOTIFY engine's fan-out (control/notify.c) on the
 * control thread, with cached PIDF documents, sent by the real dpdk backend
 * (spr_io_dpdk_create on a net_ring port: L2-L4 encode, IPv4 and UDP
 * checksums) into a TX ring this program drains. No kernel.
 *
 * Set-up (untimed): P presentities, each published once through the real
 * PUBLISH handler (a ~1.3 KB softphone PIDF/RPID document), and W watchers
 * of each, subscribed through the real SUBSCRIBE handler; every
 * SUB_CREATED goes to the engine as a worker would send it (with the
 * subscriber's next hop). A presentity's watchers live in the store of its
 * one owner shard, in pages of SPR_SUBS_PAGE_MAX (32): 1 x 10,000 is one
 * real presentity with 10,000 watchers in 313 pages (max_watchers is set
 * to the ceiling, SPR_SUBS_WATCHERS_MAX = 10,000); more than that would be
 * spread over ceil(W / 10,000) shards.
 * The initial NOTIFYs are sent and answered (untimed).
 *
 * Each round (timed): one PRESENCE_CHANGED per presentity, then
 * spr_notify_poll(budget 1024, as sprd's control loop) until nothing waits
 * — every NOTIFY built from the dialog and the cached document and handed
 * to the io — and then one NOTIFY_RESPONSE 200 per NOTIFY (spr_notify_on_msg,
 * as a worker passes them on), which ends each transaction. Between the
 * polls the TX ring is drained and each frame's branch and CSeq read
 * (untimed: a watcher's and a worker's work). The clock is frozen during a
 * round (no Timer E fires; timers are armed and cancelled). Throttle off
 * (--notify-min-interval 0). --change republishes every presentity before
 * each round (untimed), so each round also builds one document per
 * presentity (timed, inside the polls).
 *
 *   spr_notify_bench [EAL options --] [--presentities P --watchers W] [--rounds R]
 *                    [--change] [--json]
 *
 * Without --presentities: 1 x 10,000 and 100,000 x 10. Never asserts.
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

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>
#include <urcu-qsbr.h>

#include "bench_msgs.h"
#include "io_dpdk.h"
#include "lcore.h"
#include "notify.h"
#include "pidf.h"

/* the daemon's jemalloc options, so the figures are about the same heap (location.h) */
const char *malloc_conf = SPR_LOC_MALLOC_CONF;

#define ROUNDS_DEFAULT 5u
#define BUDGET 1024u /* NOTIFYs per poll: sprd's NOTIFY_BUDGET */
#define N_MBUFS 8192u
#define TX_RING 4096u
#define SHARDS_MAX 1024u
#define SIP_PORT 5060

static const uint8_t our4[4] = {192, 0, 2, 1};
static const struct rte_ether_addr peer_mac = {{0x02, 0, 0, 0, 0, 0x01}};

/* perf/bench_msgs.h's softphone document; u0000000 is the presentity */
static const char doc_tmpl[] = SPR_BENCH_PIDF_DOC;

struct opts {
	uint32_t presentities; /* 0: the two default scenarios */
	uint32_t watchers;
	uint32_t rounds;
	bool change;
	bool json;
};

struct bench {
	struct rte_mempool *pool;
	struct rte_ring *rx, *tx, *to_worker;
	uint16_t port;
	struct spr_io_addrs ours;
	struct rte_ether_addr mac;
	struct spr_io *io;
	/* the workers' side, for set-up */
	struct spr_reg_cfg reg_cfg;
	struct spr_pres_cfg pres_cfg;
	struct spr_subs_cfg subs_cfg;
	struct spr_reply_cfg reply;
	struct spr_sip_limits lim;
	struct spr_sip_msg msg;
	struct spr_pidf_status *status; /* the parsed document (PUBLISH verdict) */
	char (*etag)[SPR_ETAG_LEN];	/* each presentity's publication, from its 200 */
	struct spr_pres_counters pres_cnt;
	struct spr_subs_counters subs_cnt;
	struct spr_subs_out subs_out;
	uint64_t etag_seq, sub_seq;
	struct spr_now now;
	char out[SPR_REPLY_MAX];
	/* per scenario */
	uint32_t n_shards;
	struct spr_loc_shard *shards[SHARDS_MAX];
	struct rte_ring *to_workers[SHARDS_MAX];
	struct spr_notify *n;
	struct spr_ring_msg *resp; /* one per NOTIFY of a round */
	uint64_t n_resp, cap_resp;
	uint64_t frames, frame_bytes, bad_frames;
};

/* One round's figures. */
struct round {
	uint64_t notifies;
	uint64_t send_tsc, resp_tsc; /* TSC inside the engine's calls */
	uint64_t send_cpu_ns, resp_cpu_ns;
	uint64_t polls;
};

static uint64_t
cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* --- set-up through the workers' handlers --- */

static int
parse(struct bench *b, const char *text, uint32_t len)
{
	int r = spr_sip_parse(text, len, &b->lim, &b->msg);

	if (r <= 0 || b->msg.err != SPR_SIP_ERR_NONE) {
		fprintf(stderr, "spr_notify_bench: a set-up message did not parse (%d)\n", r);
		return -1;
	}
	return 0;
}

/*
 * Presentity p publishes the document (verdict given): an initial PUBLISH,
 * then modifies of that publication (SIP-If-Match), so the document keeps
 * one tuple and each modify is a new version.
 */
static int
publish(struct bench *b, uint32_t p)
{
	char match[64] = "";
	const char *e;
	struct spr_pres_ctx ctx = {&b->pres_cfg, &b->reg_cfg, &b->reply,    b->shards[0],
				   &b->pres_cnt, NULL,	      &b->etag_seq, NULL};
	struct spr_pres_verdict v = {SPR_PIDF_OK, b->status};
	struct spr_peer src = {.family = AF_INET, .port = SIP_PORT, .addr = {10, 9, 0, 1}};
	static char text[4096];
	struct spr_wbuf w;
	int len;

	if (b->etag[p][0] != '\0')
		snprintf(match, sizeof(match), "SIP-If-Match: %.*s\r\n", (int)SPR_ETAG_LEN,
			 b->etag[p]);
	len = snprintf(text, sizeof(text),
		       "PUBLISH sip:u%07u@example.com SIP/2.0\r\n"
		       "Via: SIP/2.0/UDP 10.9.0.1:5060;branch=z9hG4bKpub%u-%u\r\n"
		       "Max-Forwards: 70\r\nFrom: <sip:u%07u@example.com>;tag=pub\r\n"
		       "To: <sip:u%07u@example.com>\r\nCall-ID: pub-%u-%u@bench\r\n"
		       "CSeq: 1 PUBLISH\r\nEvent: presence\r\nExpires: 3600\r\n%s"
		       "Content-Type: application/pidf+xml\r\nContent-Length: %u\r\n\r\n%s",
		       p, p, (unsigned)b->etag_seq, p, p, p, (unsigned)b->etag_seq, match,
		       (unsigned)(sizeof(doc_tmpl) - 1), doc_tmpl);
	if (parse(b, text, (uint32_t)len) != 0)
		return -1;
	spr_wbuf_init(&w, b->out, sizeof(b->out));
	if (spr_pres_handle(&ctx, &b->msg, &src, &b->now, &v, &w) != SPR_PRES_OK ||
	    (e = memmem(b->out, w.len, "\r\nSIP-ETag: ", 12)) == NULL ||
	    (uint32_t)(e + 12 - b->out) + SPR_ETAG_LEN > w.len) {
		fprintf(stderr, "spr_notify_bench: PUBLISH of u%07u not OK\n", p);
		return -1;
	}
	memcpy(b->etag[p], e + 12, SPR_ETAG_LEN);
	return 0;
}

/* Watcher i of presentity p subscribes in shard k; its SUB_CREATED goes to the engine. */
static int
subscribe(struct bench *b, uint32_t p, uint32_t i, uint16_t k)
{
	struct spr_subs_ctx ctx = {&b->subs_cfg, &b->reg_cfg, &b->reply,   b->shards[k],
				   &b->subs_cnt, NULL,	      &b->sub_seq, &b->subs_out};
	uint32_t ip = p * 16u + i; /* the watcher's address: 10.x.y.z */
	struct spr_peer src = {.family = AF_INET,
			       .port = SIP_PORT,
			       .addr = {10, (uint8_t)(ip >> 16), (uint8_t)(ip >> 8), (uint8_t)ip}};
	char text[1024];
	struct spr_wbuf w;
	int len;

	len = snprintf(text, sizeof(text),
		       "SUBSCRIBE sip:u%07u@example.com SIP/2.0\r\n"
		       "Via: SIP/2.0/UDP 10.%u.%u.%u:5060;branch=z9hG4bKsub%u-%u;rport\r\n"
		       "Max-Forwards: 70\r\nFrom: <sip:w%u@example.com>;tag=wt%u\r\n"
		       "To: <sip:u%07u@example.com>\r\nCall-ID: sub-%u-%u-5a6b7c8d9e0f@bench\r\n"
		       "CSeq: 1 SUBSCRIBE\r\nContact: <sip:w%u@10.%u.%u.%u:5060;transport=udp>\r\n"
		       "Event: presence\r\nAccept: application/pidf+xml\r\nExpires: 3600\r\n"
		       "Content-Length: 0\r\n\r\n",
		       p, src.addr[1], src.addr[2], src.addr[3], p, i, i, i, p, p, i, i,
		       src.addr[1], src.addr[2], src.addr[3]);
	if (parse(b, text, (uint32_t)len) != 0)
		return -1;
	spr_wbuf_init(&w, b->out, sizeof(b->out));
	b->subs_out.n = 0;
	if (spr_subs_handle(&ctx, &b->msg, &src, &b->now, &w) != SPR_SUBS_OK) {
		fprintf(stderr, "spr_notify_bench: SUBSCRIBE %u of u%07u not OK\n", i, p);
		return -1;
	}
	for (uint32_t e = 0; e < b->subs_out.n; e++) {
		const struct spr_subs_event *ev = &b->subs_out.ev[e];
		struct spr_ring_msg msg = {.type = SPR_MSG_SUB_CREATED,
					   .kind = SPR_MSG_HOP_VALID,
					   .worker = k,
					   .at = ev->expires_at,
					   .hash = ev->hash,
					   .sub_id = ev->id};

		if (ev->type != SPR_SUBS_EV_CREATED)
			continue;
		memcpy(msg.hop.mac, peer_mac.addr_bytes, 6);
		spr_notify_on_msg(b->n, &msg, (uint64_t)b->now.sec * 1000u);
	}
	return 0;
}

/* --- the TX side: each frame's branch and CSeq become the 200 a watcher sends --- */

static void
take_frame(struct bench *b, const struct rte_mbuf *m)
{
	const uint32_t hdrs = 14 + 20 + 8;
	const char *p = rte_pktmbuf_mtod_offset(m, const char *, hdrs);
	uint32_t len = m->data_len > hdrs ? m->data_len - hdrs : 0;
	const char *br = memmem(p, len, ";branch=", 8);
	const char *cs = memmem(p, len, "\r\nCSeq: ", 8);
	struct spr_ring_msg r = {.type = SPR_MSG_NOTIFY_RESPONSE, .at = 200};
	struct spr_str branch;

	b->frames++;
	b->frame_bytes += m->data_len;
	if (br == NULL || cs == NULL || (uint32_t)(br + 8 - p) + SPR_NOTIFY_BRANCH_LEN > len) {
		b->bad_frames++;
		return;
	}
	branch = (struct spr_str){br + 8, SPR_NOTIFY_BRANCH_LEN};
	if (!spr_notify_branch_parse(&branch, &r.hash, &r.nresp.check)) {
		b->bad_frames++;
		return;
	}
	r.nresp.cseq = (uint32_t)strtoul(cs + 8, NULL, 10);
	if (b->n_resp == b->cap_resp) {
		uint64_t cap = b->cap_resp != 0 ? b->cap_resp * 2 : 65536;
		struct spr_ring_msg *nr = realloc(b->resp, cap * sizeof(*nr));

		if (nr == NULL) {
			b->bad_frames++;
			return;
		}
		b->resp = nr;
		b->cap_resp = cap;
	}
	b->resp[b->n_resp++] = r;
}

static void
drain_tx(struct bench *b)
{
	struct rte_mbuf *m[64];
	unsigned n;

	while ((n = rte_ring_sc_dequeue_burst(b->tx, (void **)m, 64, NULL)) != 0) {
		for (unsigned i = 0; i < n; i++)
			take_frame(b, m[i]);
		rte_pktmbuf_free_bulk(m, n);
	}
}

/*
 * One round: changes for every presentity, polls until nothing waits, then
 * the 200s. timed: add the engine's time to *r.
 */
static void
round_run(struct bench *b, uint32_t presentities, uint64_t now_ms, bool timed, struct round *r)
{
	const struct spr_notify_counters *c = spr_notify_counters(b->n);
	uint64_t sent0 = c->notify_sent, t0, c0;
	bool more = true;

	b->n_resp = 0;
	t0 = rte_rdtsc();
	c0 = cpu_ns();
	for (uint32_t p = 0; p < presentities; p++) {
		char aor[32];
		int len = snprintf(aor, sizeof(aor), "u%07u@example.com", p);
		struct spr_str a = {aor, (uint32_t)len};
		struct spr_ring_msg msg = {
			.type = SPR_MSG_PRESENCE_CHANGED, .worker = 0, .hash = spr_loc_hash(&a)};

		spr_notify_on_msg(b->n, &msg, now_ms);
	}
	r->send_tsc += timed ? rte_rdtsc() - t0 : 0;
	r->send_cpu_ns += timed ? cpu_ns() - c0 : 0;
	while (more) {
		t0 = rte_rdtsc();
		c0 = cpu_ns();
		more = spr_notify_poll(b->n, now_ms, BUDGET);
		if (timed) {
			r->send_tsc += rte_rdtsc() - t0;
			r->send_cpu_ns += cpu_ns() - c0;
			r->polls++;
		}
		drain_tx(b);
	}
	t0 = rte_rdtsc();
	c0 = cpu_ns();
	for (uint64_t i = 0; i < b->n_resp; i++)
		spr_notify_on_msg(b->n, &b->resp[i], now_ms);
	if (timed) {
		r->resp_tsc += rte_rdtsc() - t0;
		r->resp_cpu_ns += cpu_ns() - c0;
		r->notifies += c->notify_sent - sent0;
	}
}

/* --- one scenario --- */

static void
scenario_free(struct bench *b)
{
	spr_notify_destroy(b->n);
	b->n = NULL;
	urcu_qsbr_thread_offline();
	for (uint32_t k = 0; k < b->n_shards; k++)
		spr_loc_shard_destroy(b->shards[k]);
	urcu_qsbr_thread_online();
	b->n_shards = 0;
}

static int
scenario(struct bench *b, const struct opts *o, uint32_t presentities, uint32_t watchers)
{
	uint32_t per = SPR_SUBS_WATCHERS_MAX;
	struct spr_notify_cfg nc = {.t1_ms = 500,
				    .t2_ms = 4000,
				    .min_interval_ms = 0,
				    .secret = 0x5eed5eed5eed5eedull,
				    .auto_presence = 1,
				    .local = b->ours.a[0]};
	const struct spr_notify_counters *c;
	struct round tot = {0}, first = {0};
	uint64_t now_ms = (uint64_t)b->now.sec * 1000u, setup_t0 = rte_rdtsc();
	double hz = (double)rte_get_tsc_hz(), send_ns, resp_ns, send_cpu, resp_cpu;
	char load[64];
	uint64_t subs, in_flight, frames0, bytes0;

	free(b->etag);
	b->etag = calloc(presentities, sizeof(*b->etag));
	if (b->etag == NULL)
		goto nomem;
	b->n_shards = (watchers + per - 1) / per;
	if (b->n_shards == 0 || b->n_shards > SHARDS_MAX) {
		fprintf(stderr, "spr_notify_bench: %u watchers need more than %u shards\n",
			watchers, SHARDS_MAX);
		return -1;
	}
	for (uint32_t k = 0; k < b->n_shards; k++) {
		b->shards[k] = spr_loc_shard_create(k, k == 0 ? presentities : 16);
		b->to_workers[k] = b->to_worker;
		if (b->shards[k] == NULL) {
			b->n_shards = k;
			goto nomem;
		}
	}
	nc.n_workers = (uint16_t)b->n_shards;
	nc.shards = b->shards;
	nc.to_worker = b->to_workers;
	b->n = spr_notify_create(&nc, b->io, now_ms);
	if (b->n == NULL)
		goto nomem;
	for (uint32_t p = 0; p < presentities; p++) {
		if (publish(b, p) != 0)
			goto fail;
		for (uint32_t i = 0; i < watchers; i++)
			if (subscribe(b, p, i, (uint16_t)(i / per)) != 0)
				goto fail;
		if ((p & 255) == 0)
			urcu_qsbr_quiescent_state(); /* let the old records go */
	}
	/* the initial NOTIFYs (one document build per presentity), answered */
	round_run(b, 0, now_ms, false, &first);
	urcu_qsbr_quiescent_state();
	fprintf(stderr, "spr_notify_bench: %u x %u set up in %.1f s (%u shard(s))\n", presentities,
		watchers, (double)(rte_rdtsc() - setup_t0) / hz, b->n_shards);
	frames0 = b->frames;
	bytes0 = b->frame_bytes;
	for (uint32_t r = 0; r < o->rounds; r++) {
		if (o->change) {
			for (uint32_t p = 0; p < presentities; p++)
				if (publish(b, p) != 0)
					goto fail;
			urcu_qsbr_quiescent_state();
		}
		now_ms += 10;
		round_run(b, presentities, now_ms, true, &tot);
		urcu_qsbr_quiescent_state();
	}
	c = spr_notify_counters(b->n);
	spr_notify_totals(b->n, &subs, &in_flight);
	spr_bench_loadavg(load, sizeof(load));
	send_ns = tot.notifies ? (double)tot.send_tsc / hz * 1e9 / (double)tot.notifies : 0;
	resp_ns = tot.notifies ? (double)tot.resp_tsc / hz * 1e9 / (double)tot.notifies : 0;
	send_cpu = tot.notifies ? (double)tot.send_cpu_ns / (double)tot.notifies : 0;
	resp_cpu = tot.notifies ? (double)tot.resp_cpu_ns / (double)tot.notifies : 0;
	fprintf(o->json ? stderr : stdout,
		"%u x %u: %llu NOTIFYs in %u round(s)%s, %.0f bytes per frame\n"
		"  send (PRESENCE_CHANGED + polls: build + io): %7.1f ns wall %7.1f ns CPU"
		" per NOTIFY: %9.0f /s wall %9.0f /s per CPU-second\n"
		"  200 (NOTIFY_RESPONSE):                        %7.1f ns wall %7.1f ns CPU"
		" per NOTIFY\n"
		"  both:                                         %7.1f ns wall %7.1f ns CPU"
		" per NOTIFY: %9.0f /s wall %9.0f /s per CPU-second\n"
		"  engine: sent %llu, 2xx %llu, retransmits %llu, send errors %llu, pidf builds "
		"%llu,"
		" in flight %llu, subscriptions %llu; io tx %llu, tx_drop %llu, bad frames %llu\n"
		"  load %s\n",
		presentities, watchers, (unsigned long long)tot.notifies, o->rounds,
		o->change ? " (a new document per presentity each round)" : "",
		b->frames != frames0
			? (double)(b->frame_bytes - bytes0) / (double)(b->frames - frames0)
			: 0,
		send_ns, send_cpu, send_ns > 0 ? 1e9 / send_ns : 0,
		send_cpu > 0 ? 1e9 / send_cpu : 0, resp_ns, resp_cpu, send_ns + resp_ns,
		send_cpu + resp_cpu, send_ns + resp_ns > 0 ? 1e9 / (send_ns + resp_ns) : 0,
		send_cpu + resp_cpu > 0 ? 1e9 / (send_cpu + resp_cpu) : 0,
		(unsigned long long)c->notify_sent, (unsigned long long)c->notify_2xx,
		(unsigned long long)c->notify_retransmits, (unsigned long long)c->notify_send_error,
		(unsigned long long)c->pidf_builds, (unsigned long long)in_flight,
		(unsigned long long)subs, (unsigned long long)b->io->cnt.tx_pkts,
		(unsigned long long)b->io->cnt.tx_drop, (unsigned long long)b->bad_frames, load);
	if (o->json)
		printf("{\"presentities\":%u,\"watchers\":%u,\"rounds\":%u,\"change\":%s,"
		       "\"notifies\":%llu,\"frame_bytes\":%.0f,\"send_ns\":%.1f,\"send_cpu_ns\":%."
		       "1f,"
		       "\"resp_ns\":%.1f,\"resp_cpu_ns\":%.1f,\"rate_wall\":%.0f,"
		       "\"rate_cpu\":%.0f,\"send_rate_cpu\":%.0f,\"pidf_builds\":%llu,"
		       "\"send_errors\":%llu,\"loadavg\":\"%s\"}\n",
		       presentities, watchers, o->rounds, o->change ? "true" : "false",
		       (unsigned long long)tot.notifies,
		       b->frames != frames0
			       ? (double)(b->frame_bytes - bytes0) / (double)(b->frames - frames0)
			       : 0,
		       send_ns, send_cpu, resp_ns, resp_cpu,
		       send_ns + resp_ns > 0 ? 1e9 / (send_ns + resp_ns) : 0,
		       send_cpu + resp_cpu > 0 ? 1e9 / (send_cpu + resp_cpu) : 0,
		       send_cpu > 0 ? 1e9 / send_cpu : 0, (unsigned long long)c->pidf_builds,
		       (unsigned long long)c->notify_send_error, load);
	scenario_free(b);
	return 0;
nomem:
	fprintf(stderr, "spr_notify_bench: out of memory\n");
fail:
	scenario_free(b);
	return -1;
}

/* --- set-up --- */

static int
num_arg(const char *name, const char *v, uint64_t lo, uint64_t hi, uint32_t *out)
{
	uint64_t x;

	if (spr_bench_num_arg("spr_notify_bench", name, v, lo, hi, &x) != 0)
		return -1;
	*out = (uint32_t)x;
	return 0;
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: spr_notify_bench [EAL options --] [--presentities P --watchers W]\n"
		   "                        [--rounds R] [--change] [--json]\n"
		   "  without --presentities: 1 x 10000 and 100000 x 10\n");
}

/* 0, 1 (help asked) or -1. */
static int
parse_opts(int argc, char **argv, struct opts *o)
{
	*o = (struct opts){0, 0, ROUNDS_DEFAULT, false, false};
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--json") == 0) {
			o->json = true;
			continue;
		}
		if (strcmp(a, "--change") == 0) {
			o->change = true;
			continue;
		}
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
			return 1;
		if (strcmp(a, "--presentities") == 0) {
			if (num_arg(a, v, 1, 9999999, &o->presentities) != 0)
				return -1;
		} else if (strcmp(a, "--watchers") == 0) {
			if (num_arg(a, v, 1, SHARDS_MAX * SPR_SUBS_WATCHERS_MAX, &o->watchers) != 0)
				return -1;
		} else if (strcmp(a, "--rounds") == 0) {
			if (num_arg(a, v, 1, 1000, &o->rounds) != 0)
				return -1;
		} else {
			fprintf(stderr, "spr_notify_bench: unknown option %s\n", a);
			usage(stderr);
			return -1;
		}
		i++;
	}
	if ((o->presentities == 0) != (o->watchers == 0)) {
		fprintf(stderr, "spr_notify_bench: --presentities and --watchers go together\n");
		return -1;
	}
	return 0;
}

static int
fail(const char *what)
{
	fprintf(stderr, "spr_notify_bench: %s: %s\n", what, rte_strerror(rte_errno));
	return -1;
}

static int
setup(struct bench *b)
{
	char why[160];
	int rc;

	b->pool = rte_pktmbuf_pool_create("nb_pool", N_MBUFS, 256, 0,
					  (uint16_t)(2048 + RTE_PKTMBUF_HEADROOM),
					  (int)rte_socket_id());
	b->rx = rte_ring_create("nb_rx", 64, (int)rte_socket_id(), RING_F_SP_ENQ | RING_F_SC_DEQ);
	b->tx = rte_ring_create("nb_tx", TX_RING, (int)rte_socket_id(),
				RING_F_SP_ENQ | RING_F_SC_DEQ);
	b->to_worker = rte_ring_create_elem("nb_toworker", sizeof(struct spr_ring_msg), 1024,
					    (int)rte_socket_id(), RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (b->pool == NULL || b->rx == NULL || b->tx == NULL || b->to_worker == NULL)
		return fail("mempool/rings");
	rc = rte_eth_from_rings("nb", &b->rx, 1, &b->tx, 1, (unsigned)rte_socket_id());
	if (rc < 0)
		return fail("rte_eth_from_rings");
	b->port = (uint16_t)rc;
	b->ours.n = 1;
	b->ours.a[0].family = AF_INET;
	b->ours.a[0].port = SIP_PORT;
	memcpy(b->ours.a[0].addr, our4, 4);
	rc = spr_dpdk_port_setup(b->port, 1, 1, b->pool, &b->ours);
	if (rc != 0) {
		fprintf(stderr, "spr_notify_bench: port setup: %s\n", strerror(-rc));
		return -1;
	}
	if (rte_eth_macaddr_get(b->port, &b->mac) != 0)
		return fail("rte_eth_macaddr_get");
	/* control's io: the port's TX queue, no RX (as sprd's control TX queue) */
	b->io = spr_io_dpdk_create(b->port, SPR_IO_DPDK_NO_RX, 0, b->pool, &b->ours, &b->mac);
	if (b->io == NULL)
		return fail("spr_io_dpdk_create");

	spr_reg_cfg_default(&b->reg_cfg);
	spr_pres_cfg_default(&b->pres_cfg);
	spr_subs_cfg_default(&b->subs_cfg);
	b->subs_cfg.max_watchers = SPR_SUBS_WATCHERS_MAX;
	b->reply.server = SPR_STR("sprd/0.1.0");
	spr_sip_limits_default(&b->lim);
	spr_now_set(&b->now, (uint32_t)time(NULL));
	b->status = malloc(sizeof(*b->status));
	if (b->status == NULL)
		return -1;
	if (spr_pidf_parse(doc_tmpl, sizeof(doc_tmpl) - 1, NULL, b->status, why, sizeof(why)) !=
	    SPR_PIDF_OK) {
		fprintf(stderr, "spr_notify_bench: the document did not parse: %s\n", why);
		return -1;
	}
	return 0;
}

static void
teardown(struct bench *b)
{
	struct rte_mbuf *m = NULL;

	if (b->io != NULL)
		spr_io_destroy(b->io);
	if (rte_eth_dev_is_valid_port(b->port)) {
		rte_eth_dev_stop(b->port);
		rte_eth_dev_close(b->port);
	}
	while (b->tx != NULL && rte_ring_dequeue(b->tx, (void **)&m) == 0)
		rte_pktmbuf_free(m);
	rte_ring_free(b->rx);
	rte_ring_free(b->tx);
	rte_ring_free(b->to_worker);
	rte_mempool_free(b->pool);
	free(b->status);
	free(b->resp);
	free(b->etag);
}

int
main(int argc, char **argv)
{
	static struct bench b;
	struct opts o;
	char ealbuf[64], rundir[PATH_MAX];
	char *eal_argv[32];
	int sep = -1, eal_argc, first, rc;

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
		/* one lcore: the control thread, floating */
		eal_argc = spr_bench_eal_args("spr_notify_bench", "512", "0@(0-1)", ealbuf,
					      sizeof(ealbuf), eal_argv);
	}
	if (rte_eal_init(eal_argc, eal_argv) < 0) {
		fprintf(stderr, "spr_notify_bench: EAL init failed: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	urcu_qsbr_register_thread();
	rc = 1;
	if (setup(&b) != 0)
		goto out;
	if (o.presentities != 0) {
		rc = scenario(&b, &o, o.presentities, o.watchers) != 0;
	} else {
		rc = scenario(&b, &o, 1, 10000) != 0;
		rc |= scenario(&b, &o, 100000, 10) != 0;
	}
out:
	teardown(&b);
	urcu_qsbr_unregister_thread();
	snprintf(rundir, sizeof(rundir), "%s", rte_eal_get_runtime_dir());
	rte_eal_cleanup();
	if (sep <= 1)
		rmdir(rundir);
	return rc;
}
