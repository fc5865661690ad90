/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sprd: EAL and worker start-up, the control thread (clock, expiry wheel,
 * worker rings, JSON-RPC control socket) and clean shutdown. The only file
 * of the project that exits.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>
#include <urcu-qsbr.h>

#include <jansson.h>

#include "config.h"
#include "ctl.h"
#include "daemon.h"
#include "daemon_auth.h"
#include "expiry.h"
#include "io_dpdk.h"
#include "io_socket.h"
#include "lcore.h"
#include "notify.h"
#include "pidf.h"
#include "ul_json.h"

#define FIRE_BUDGET 20000u   /* expiry entries handled per control loop */
#define TIMER_MSGS_BUDGET 8192u
#define PIDF_BUDGET 256u     /* PUBLISH bodies parsed per control loop (~15 us each) */
#define CTL_BUDGET 16u
#define NOTIFY_BUDGET 1024u  /* NOTIFYs built and sent per control loop */
#define RING_SIZE 16384u
#define RELAY_SIZE 4096u     /* NOTIFY frames between control and worker 0 without a control queue */

/* jemalloc options: the store's (location.h) */
const char *malloc_conf = SPR_LOC_MALLOC_CONF;

static volatile sig_atomic_t stopping;
static volatile sig_atomic_t reload_asked;

static void
on_signal(int sig)
{
	if (sig == SIGHUP)
		reload_asked = 1;
	else
		stopping = 1;
}

void
spr_log(const struct sprd *d, int level, const char *fmt, ...)
{
	static const char *const names[] = {"error", "warning", "info", "debug"};
	char ts[32];
	struct tm tm;
	time_t t = time(NULL);
	va_list ap;

	if (level > d->cfg.log_level)
		return;
	gmtime_r(&t, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	fprintf(stderr, "%s sprd[%d] %s: ", ts, (int)getpid(), names[level]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/*
 * --- expiry timers: entries (kind, AOR hash, at) in the calendar (expiry.h),
 * asked for by the records' owners (TIMER) when a record's earliest expiry
 * moves earlier than the timer it has; no lookup, no dedup: a timer left
 * behind by such a move fires as a no-op (the owner's timer_at is ahead) ---
 */

static void
timer_arm(struct sprd *d, uint8_t kind, uint64_t hash, uint32_t at)
{
	if (spr_exp_add(&d->exp, kind, hash, at) != 0) {
		/* the record keeps its entries; they go at its next write */
		d->cnt.timer_map_full++;
		return;
	}
	d->cnt.timers_armed++;
}

/* EXPIRE carries the entry's time: the owner expires what is due by then (lcore.c). */
static int
timer_fired(uint8_t kind, uint64_t hash, uint32_t at, void *arg)
{
	struct sprd *d = arg;
	uint16_t owner = spr_worker_owner(hash, d->n_workers);
	struct spr_ring_msg msg = {.type = SPR_MSG_EXPIRE, .kind = kind, .worker = owner,
				   .at = at, .hash = hash};

	if (rte_ring_sp_enqueue_elem(d->w[owner]->from_ctl, &msg, sizeof(msg)) != 0) {
		/* the owner is busy: try again next second, never drop an expiry */
		d->cnt.expire_ring_full++;
		return 1;
	}
	d->cnt.timers_fired++;
	return 0;
}

/*
 * --- PUBLISH bodies: parsed here, where libxml2 may run (DESIGN §7) ---
 * The verdict goes back to the owner with the mbuf; a parsed status is
 * copied out of the scratch at its used size and the owner gives it back
 * (PIDF_FREE) once it is in the presentity record.
 */
static void
pidf_check(struct sprd *d, const struct spr_ring_msg *req)
{
	struct rte_mbuf *mb = req->ptr;
	const struct spr_pkt *p = rte_mbuf_to_priv(mb);
	struct spr_ring_msg res = {.type = SPR_MSG_PIDF_RESULT, .worker = req->worker, .ptr = mb};
	enum spr_pidf_fault f;
	char why[160];

	f = spr_pidf_parse(p->data + req->body.off, req->body.len, NULL, d->pidf_scratch, why,
			   sizeof(why));
	d->cnt.pidf_parsed++;
	if (f == SPR_PIDF_OK) {
		size_t sz = spr_pidf_status_size(d->pidf_scratch);

		res.status = malloc(sz);
		if (res.status != NULL)
			memcpy(res.status, d->pidf_scratch, sz);
		else
			f = SPR_PIDF_NO_MEMORY;
	} else {
		d->cnt.pidf_rejected++;
		spr_log(d, 3, "PUBLISH body refused: %s (%s)", spr_pidf_fault_name(f), why);
	}
	res.at = f;
	if (rte_ring_sp_enqueue_elem(d->w[req->worker]->from_ctl, &res, sizeof(res)) != 0) {
		/* the owner is busy: drop, the client retransmits */
		d->cnt.pidf_result_ring_full++;
		free(res.status);
		rte_pktmbuf_free(mb);
	}
}

/*
 * Messages from the workers: TIMER requests, finished operator requests,
 * PUBLISH bodies to parse (at most PIDF_BUDGET per call: a worker's ring
 * holds the rest) and statuses given back. Returns true when the PIDF
 * budget ran out, so more bodies may be waiting.
 */
static bool
drain_workers(struct sprd *d)
{
	struct spr_ring_msg msgs[SPR_BURST];
	uint32_t pidf_budget = PIDF_BUDGET;

	for (uint16_t i = 0; i < d->n_workers; i++) {
		uint32_t budget = TIMER_MSGS_BUDGET;
		unsigned n;

		do {
			if (pidf_budget == 0)
				break;
			n = rte_ring_sc_dequeue_burst_elem(d->w[i]->to_ctl, msgs, sizeof(msgs[0]),
							   SPR_BURST, NULL);
			for (unsigned k = 0; k < n; k++) {
				switch (msgs[k].type) {
				case SPR_MSG_TIMER:
					timer_arm(d, msgs[k].kind, msgs[k].hash, msgs[k].at);
					break;
				case SPR_MSG_UL_DONE:
					((struct spr_ul_req *)msgs[k].ptr)->done = 1;
					break;
				case SPR_MSG_PIDF_CHECK:
					pidf_check(d, &msgs[k]);
					pidf_budget -= pidf_budget != 0;
					break;
				case SPR_MSG_PIDF_FREE:
					free(msgs[k].ptr);
					break;
				case SPR_MSG_AUTH_NEEDED:
					/* a verification costs what a PIDF parse does: same budget */
					spr_daemon_auth_needed(d, &msgs[k]);
					pidf_budget -= pidf_budget != 0;
					break;
				case SPR_MSG_SUB_CREATED:
				case SPR_MSG_SUB_REFRESHED:
				case SPR_MSG_SUB_ENDED:
				case SPR_MSG_PRESENCE_CHANGED:
				case SPR_MSG_NOTIFY_RESPONSE:
				case SPR_MSG_LIST_MEMBER:
					spr_notify_on_msg(d->notify, &msgs[k], now_ms());
					break;
				default:
					break;
				}
			}
			budget = budget > n ? budget - n : 0;
		} while (n == SPR_BURST && budget != 0);
	}
	return pidf_budget == 0;
}

/*
 * After the workers stopped: what is still in flight between them and
 * control (bodies, verdicts, statuses to give back) is freed.
 */
static void
drain_at_exit(struct sprd *d)
{
	struct spr_ring_msg m;

	for (uint16_t i = 0; i < d->n_workers; i++) {
		struct spr_worker *w = d->w[i];

		while (rte_ring_sc_dequeue_elem(w->to_ctl, &m, sizeof(m)) == 0) {
			if (m.type == SPR_MSG_PIDF_CHECK || m.type == SPR_MSG_AUTH_NEEDED)
				rte_pktmbuf_free(m.ptr);
			else if (m.type == SPR_MSG_PIDF_FREE)
				free(m.ptr);
		}
		for (uint32_t k = 0; k < w->n_pend; k++)
			if (w->pend[k].type == SPR_MSG_PIDF_FREE)
				free(w->pend[k].ptr);
		w->n_pend = 0;
		while (rte_ring_sc_dequeue_elem(w->from_ctl, &m, sizeof(m)) == 0) {
			if (m.type == SPR_MSG_PIDF_RESULT) {
				free(m.status);
				rte_pktmbuf_free(m.ptr);
			} else if (m.type == SPR_MSG_AUTH_RESULT) {
				rte_pktmbuf_free(m.ptr);
			}
		}
	}
}

/* Run req on the AOR's owner and wait for it (the control thread may wait; workers never). */
int
spr_daemon_run_ul_req(struct sprd *d, struct spr_ul_req *req, uint64_t hash)
{
	uint16_t owner = spr_worker_owner(hash, d->n_workers);
	struct spr_ring_msg msg = {.type = SPR_MSG_UL_REQ, .worker = owner, .ptr = req};
	uint64_t deadline = now_ms() + 2000;

	req->done = 0;
	if (rte_ring_sp_enqueue_elem(d->w[owner]->from_ctl, &msg, sizeof(msg)) != 0)
		return -EBUSY;
	while (!req->done) {
		if (now_ms() > deadline)
			return -ETIMEDOUT;
		drain_workers(d);
		rte_pause();
	}
	return 0;
}

/* --- start-up --- */

static int
default_eal_args(char *buf, size_t cap, char **argv, int max, uint16_t lcores)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int n = 0;
	size_t off = 0;
	const char *fixed[] = {"sprd", "--no-huge", "--no-pci", "-m", "1024", "--no-shconf",
			       "--no-telemetry", "--log-level", "*:warning"};

	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]) && n < max; i++)
		argv[n++] = (char *)fixed[i];
	argv[n++] = "--file-prefix";
	argv[n++] = buf + off;
	off += (size_t)snprintf(buf + off, cap - off, "sprd-%d", (int)getpid()) + 1;
	argv[n++] = "--lcores";
	argv[n++] = buf + off;
	/* every lcore may run on every CPU: more workers than cores still start */
	off += (size_t)snprintf(buf + off, cap - off, "(0-%u)@(0-%ld)", lcores - 1u,
				cpus > 0 ? cpus - 1 : 0) + 1;
	return n;
}

static struct rte_ring *
ring_create(const char *kind, uint16_t a, uint16_t b, unsigned esize, unsigned count)
{
	char name[RTE_RING_NAMESIZE];

	snprintf(name, sizeof(name), "spr_%s_%u_%u", kind, a, b);
	return rte_ring_create_elem(name, esize, count, (int)rte_socket_id(),
				    RING_F_SP_ENQ | RING_F_SC_DEQ);
}

static int
workers_create(struct sprd *d, char *err, size_t errlen)
{
	const struct spr_config *c = &d->cfg;
	struct rte_ether_addr mac;
	int rc;

	/* one pool for every queue and worker: mbufs cross workers at handoff */
	d->pool = rte_pktmbuf_pool_create("spr_pool", c->mbufs * d->n_workers, 256,
					  SPR_MBUF_PRIV_SIZE,
					  (uint16_t)(c->mbuf_size + RTE_PKTMBUF_HEADROOM),
					  (int)rte_socket_id());
	if (d->pool == NULL) {
		snprintf(err, errlen, "mempool of %u mbufs: %s", c->mbufs * d->n_workers,
			 rte_strerror(rte_errno));
		return -1;
	}
	if (c->io == SPR_IO_DPDK) {
		if (!rte_eth_dev_is_valid_port(c->port_id)) {
			snprintf(err, errlen,
				 "dpdk: no ethdev port %u (%u ports; give a NIC or --vdev as EAL options)",
				 c->port_id, rte_eth_dev_count_avail());
			return -1;
		}
		struct rte_eth_dev_info info;
		uint16_t n_tx = d->n_workers;

		/*
		 * One TX queue per worker, and one for the control thread when the
		 * device has it (NOTIFYs, issue "Presence"). A vdev such as
		 * af_packet has as many queues as qpairs, and each extra qpair is a
		 * kernel socket in a fanout group that nobody would read.
		 */
		if (rte_eth_dev_info_get(c->port_id, &info) == 0 && info.max_tx_queues > n_tx)
			n_tx++;
		d->ctl_txq = n_tx > d->n_workers;
		rc = spr_dpdk_port_setup(c->port_id, d->n_workers, n_tx, d->pool, &c->listen);
		if (rc != 0) {
			snprintf(err, errlen, "dpdk: port %u setup with %u RX / %u TX queues: %s%s",
				 c->port_id, d->n_workers, n_tx, strerror(-rc),
				 rc == -ENOTSUP ? " (the device has no RSS: use --workers 1)" : "");
			return -1;
		}
		rte_eth_macaddr_get(c->port_id, &mac);
	}
	for (uint16_t i = 0; i < d->n_workers; i++) {
		struct spr_worker *w = calloc(1, sizeof(*w));
		int e = 0;

		if (w == NULL)
			goto nomem;
		d->w[i] = w;
		w->id = i;
		w->n_workers = d->n_workers;
		w->clock_sec = &d->clock_sec;
		w->lists = &d->lists;
		w->proc = calloc(1, sizeof(*w->proc));
		if (w->proc == NULL)
			goto nomem;
		spr_sip_limits_default(&w->proc->lim);
		w->proc->reg_cfg = &c->reg;
		w->proc->pres_cfg = &c->pres;
		w->proc->subs_cfg = &c->subs;
		w->proc->shards = d->shard; /* filled in by this loop before any worker runs */
		w->proc->n_shards = d->n_workers;
		w->proc->sub_seq = (uint64_t)i << 48; /* subscription ids: a 2^48 range each */
		/* entity-tags: each worker counts in its own 2^48 range (presence.c make_etag) */
		w->proc->etag_seq = (uint64_t)i << 48;
		w->proc->reply.server = (struct spr_str){c->server, (uint32_t)strlen(c->server)};
		w->proc->shard = d->shard[i] = spr_loc_shard_create(i, c->init_aors);
		if (w->proc->shard == NULL)
			goto nomem;
		if (c->io == SPR_IO_SOCKET) {
			w->io = spr_io_socket_create(&c->listen, d->pool, &e, err, (uint32_t)errlen);
		} else {
			w->io = spr_io_dpdk_create(c->port_id, i, i, d->pool, &c->listen, &mac);
			if (w->io == NULL)
				snprintf(err, errlen, "dpdk: queue %u of port %u: %s", i, c->port_id,
					 rte_strerror(rte_errno));
		}
		if (w->io == NULL)
			return -1;
		w->to_ctl = ring_create("toctl", i, 0, sizeof(struct spr_ring_msg), RING_SIZE);
		w->from_ctl = ring_create("fromctl", i, 0, sizeof(struct spr_ring_msg), RING_SIZE);
		if (w->to_ctl == NULL || w->from_ctl == NULL)
			goto nomem;
	}
	/* handoff: one SPSC ring per ordered pair of workers */
	for (uint16_t i = 0; i < d->n_workers; i++) {
		for (uint16_t j = 0; j < d->n_workers; j++) {
			if (i == j)
				continue;
			d->w[i]->handoff_to[j] = ring_create("ho", i, j, sizeof(void *), 4096);
			if (d->w[i]->handoff_to[j] == NULL)
				goto nomem;
			d->w[j]->handoff_from[i] = d->w[i]->handoff_to[j];
		}
	}
	return 0;
nomem:
	snprintf(err, errlen, "out of memory creating worker state");
	return -1;
}

static void
workers_destroy(struct sprd *d)
{
	for (uint16_t i = 0; i < d->n_workers; i++) {
		struct spr_worker *w = d->w[i];

		if (w == NULL)
			continue;
		if (w->io != NULL)
			spr_io_destroy(w->io);
		for (uint16_t j = 0; j < d->n_workers; j++)
			rte_ring_free(w->handoff_to[j]);
		rte_ring_free(w->to_ctl);
		rte_ring_free(w->from_ctl);
		if (d->shard[i] != NULL)
			spr_loc_shard_destroy(d->shard[i]);
		free(w->proc);
		free(w);
	}
	if (d->cfg.io == SPR_IO_DPDK && rte_eth_dev_is_valid_port(d->cfg.port_id)) {
		rte_eth_dev_stop(d->cfg.port_id);
		rte_eth_dev_close(d->cfg.port_id);
	}
	rte_mempool_free(d->pool);
}

/*
 * The NOTIFY engine and the io it sends with (docs/architecture.md
 * "Presence: SUBSCRIBE/NOTIFY"): on the socket backend a UDP socket of
 * control's own on the first listen address and an ephemeral port (a second
 * socket on the listen port would take a share of the workers' datagrams
 * through SO_REUSEPORT and never read them); Via names the listen port, so
 * responses reach the workers, which pass them on. On dpdk the control TX
 * queue when the device has one; else a relay io whose frames worker 0
 * sends on its own queue.
 */
static int
notify_create(struct sprd *d, char *err, size_t errlen)
{
	const struct spr_config *c = &d->cfg;
	struct spr_notify_cfg nc = {.t1_ms = c->sip_t1_ms, .t2_ms = 4000,
				    .min_interval_ms = c->notify_min_interval_ms,
				    .auto_presence = c->pres.mode == SPR_PRES_MODE_B2BUA,
				    .local = c->listen.a[0], .n_workers = d->n_workers,
				    .shards = d->shard, .to_worker = d->from_ctl,
				    .lists = &d->lists, .max_list_members = c->max_list_members,
				    .max_datagram = c->mbuf_size};

	if (nc.t2_ms < nc.t1_ms)
		nc.t2_ms = nc.t1_ms;
	/*
	 * a NOTIFY larger than the MTU leaves in IPv4 or IPv6 fragments on dpdk too
	 * (io_dpdk.h), so --mbuf-size bounds it on both backends
	 */
	for (uint16_t i = 0; i < d->n_workers; i++)
		d->from_ctl[i] = d->w[i]->from_ctl;
	if (getrandom(&nc.secret, sizeof(nc.secret), 0) != (ssize_t)sizeof(nc.secret)) {
		snprintf(err, errlen, "getrandom: %s", strerror(errno));
		return -1;
	}
	if (c->io == SPR_IO_SOCKET) {
		struct spr_io_addrs a = {.n = 1, .a = {c->listen.a[0]}};
		int e = 0;

		a.a[0].port = 0;
		d->ctl_io = spr_io_socket_create(&a, d->pool, &e, err, (uint32_t)errlen);
		if (d->ctl_io == NULL)
			return -1;
	} else if (d->ctl_txq) {
		struct rte_ether_addr mac;

		rte_eth_macaddr_get(c->port_id, &mac);
		d->ctl_io = spr_io_dpdk_create(c->port_id, SPR_IO_DPDK_NO_RX, d->n_workers, d->pool,
					       &c->listen, &mac);
		if (d->ctl_io == NULL) {
			snprintf(err, errlen, "dpdk: control TX queue %u of port %u: %s",
				 d->n_workers, c->port_id, rte_strerror(rte_errno));
			return -1;
		}
	} else {
		/* no queue to spare (net_af_packet, one qpair per worker): worker 0's sends them */
		d->ctl_io = spr_io_dpdk_create_relay(d->w[0]->io, RELAY_SIZE);
		if (d->ctl_io == NULL) {
			snprintf(err, errlen, "dpdk: control's relay through worker 0: %s",
				 rte_strerror(rte_errno));
			return -1;
		}
	}
	d->notify = spr_notify_create(&nc, d->ctl_io, now_ms());
	if (d->notify == NULL) {
		snprintf(err, errlen, "out of memory creating the NOTIFY engine");
		return -1;
	}
	return 0;
}

static void
control_loop(struct sprd *d)
{
	while (!stopping) {
		uint64_t ms = now_ms();
		bool busy;

		__atomic_store_n(&d->clock_sec, (uint32_t)(ms / 1000u), __ATOMIC_RELAXED);
		busy = drain_workers(d);
		busy |= spr_notify_poll(d->notify, ms, NOTIFY_BUDGET);
		spr_exp_advance(&d->exp, (uint32_t)(ms / 1000u), FIRE_BUDGET, timer_fired, d);
		spr_ctl_poll(d->ctl, CTL_BUDGET);
		/* after this loop's enqueues: a sleeping socket worker with ring work is woken */
		for (uint16_t i = 0; i < d->n_workers; i++)
			if (spr_worker_wake_if_pending(d->w[i]))
				d->cnt.worker_wakes++;
		if (reload_asked) {
			char why[256];

			reload_asked = 0;
			if (d->auth == NULL)
				spr_log(d, 2, "SIGHUP: nothing to reload (--auth none)");
			else if (spr_daemon_auth_reload(d, why, sizeof(why)) != 0)
				spr_log(d, 0, "SIGHUP: --jwks %s: %s (the old keys stay)",
					d->cfg.auth.jwks_path, why);
			else
				spr_log(d, 2, "SIGHUP: JWK Set %s reloaded, token cache flushed",
					d->cfg.auth.jwks_path);
		}
		if (busy) {
			/* PUBLISH bodies may be waiting: no sleep, but let grace periods pass */
			urcu_qsbr_quiescent_state();
			continue;
		}
		/* off-line while asleep, so workers' frees need not wait for us */
		urcu_qsbr_thread_offline();
		usleep(1000);
		urcu_qsbr_thread_online();
	}
}

int
main(int argc, char **argv)
{
	static struct sprd d;
	char err[512], ealbuf[128];
	char *eal_argv[32];
	int sep = -1, eal_argc, rc = EXIT_FAILURE;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			sep = i;
			break;
		}
	}
	spr_config_defaults(&d.cfg);
	/* options: after "--", or all of them when there is no "--" and no EAL option */
	{
		int first = sep >= 0 ? sep + 1 : 1;
		int r;

		for (int i = first; i + 1 < argc; i++) {
			if (strcmp(argv[i], "--config") == 0 &&
			    spr_config_load_file(&d.cfg, argv[i + 1], err, sizeof(err)) != 0) {
				fprintf(stderr, "sprd: %s\n", err);
				return 2;
			}
		}
		r = spr_config_parse_args(&d.cfg, argc - first, argv + first, err, sizeof(err));
		if (r == 1) {
			spr_config_usage(stdout, "sprd");
			return 0;
		}
		if (r != 0 || spr_config_check(&d.cfg, err, sizeof(err)) != 0) {
			fprintf(stderr, "sprd: %s\n", err);
			return 2;
		}
		if (spr_daemon_auth_load(&d, err, sizeof(err)) != 0) {
			fprintf(stderr, "sprd: %s\n", err);
			spr_daemon_auth_free(&d);
			return 2;
		}
	}
	d.n_workers = d.cfg.workers;

	if (sep > 1) {
		eal_argc = sep;
		for (int i = 0; i < sep && i < 32; i++)
			eal_argv[i] = argv[i];
	} else {
		eal_argc = default_eal_args(ealbuf, sizeof(ealbuf), eal_argv, 32,
					    (uint16_t)(d.n_workers + 1));
	}
	if (rte_eal_init(eal_argc, eal_argv) < 0) {
		fprintf(stderr, "sprd: EAL init failed: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	if (rte_lcore_count() < (unsigned)d.n_workers + 1) {
		fprintf(stderr, "sprd: %u workers need %u lcores, the EAL has %u (-l/--lcores)\n",
			d.n_workers, d.n_workers + 1, rte_lcore_count());
		goto out_eal;
	}
	urcu_qsbr_register_thread();
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	signal(SIGPIPE, SIG_IGN);
	d.clock_sec = (uint32_t)(now_ms() / 1000u);

	if (spr_exp_init(&d.exp, d.clock_sec, d.cfg.max_timers) != 0) {
		fprintf(stderr, "sprd: out of memory (expiry calendar)\n");
		goto out_rcu;
	}
	/* entity-tags must not be guessable (presence.c make_etag) */
	if (getrandom(&d.cfg.pres.etag_secret, sizeof(d.cfg.pres.etag_secret), 0) !=
	    (ssize_t)sizeof(d.cfg.pres.etag_secret)) {
		fprintf(stderr, "sprd: getrandom: %s\n", strerror(errno));
		goto out_timers;
	}
	d.pidf_scratch = malloc(sizeof(*d.pidf_scratch));
	if (d.pidf_scratch == NULL) {
		fprintf(stderr, "sprd: out of memory\n");
		goto out_timers;
	}
	if (workers_create(&d, err, sizeof(err)) != 0 ||
	    spr_daemon_auth_start(&d, err, sizeof(err)) != 0) {
		fprintf(stderr, "sprd: %s\n", err);
		goto out_workers;
	}
	if (notify_create(&d, err, sizeof(err)) != 0) {
		fprintf(stderr, "sprd: %s\n", err);
		goto out_workers;
	}
	d.ctl = spr_daemon_ctl_open(&d, err, sizeof(err));
	if (d.ctl == NULL) {
		fprintf(stderr, "sprd: %s\n", err);
		goto out_workers;
	}
	if (spr_daemon_auth_ctl_register(&d, d.ctl) != 0) {
		fprintf(stderr, "sprd: out of memory\n");
		goto out_ctl;
	}
	{
		unsigned lcore = rte_get_next_lcore(-1, 1, 0);

		for (uint16_t i = 0; i < d.n_workers; i++) {
			rte_eal_remote_launch(spr_worker_run, d.w[i], lcore);
			d.lcore[i] = lcore;
			lcore = rte_get_next_lcore(lcore, 1, 0);
		}
	}
	for (uint16_t i = 0; i < d.cfg.listen.n; i++) {
		char a[64];
		uint32_t n = spr_peer_format(&d.cfg.listen.a[i], a, sizeof(a) - 1);

		a[n] = '\0';
		spr_log(&d, 2, "listening on %s port %u (%s), %u worker(s), control %s", a,
			d.cfg.listen.a[i].port, d.cfg.io == SPR_IO_DPDK ? "dpdk" : "socket",
			d.n_workers, d.cfg.ctl_path);
	}
	control_loop(&d);
	spr_log(&d, 2, "stopping");
	for (uint16_t i = 0; i < d.n_workers; i++)
		d.w[i]->stop = 1;
	rte_eal_mp_wait_lcore();
	drain_at_exit(&d);
	rc = EXIT_SUCCESS;
out_ctl:
	spr_ctl_close(d.ctl);
out_workers:
	spr_notify_destroy(d.notify);
	if (d.ctl_io != NULL)
		spr_io_destroy(d.ctl_io);
	/* shard teardown waits for grace periods: this thread must not hold one up */
	urcu_qsbr_thread_offline();
	workers_destroy(&d);
out_timers:
	free(d.pidf_scratch);
	spr_exp_fini(&d.exp);
out_rcu:
	urcu_qsbr_unregister_thread();
out_eal:
	spr_daemon_auth_free(&d);
	{
		/* the EAL leaves its runtime directory behind; ours is per process */
		char rundir[PATH_MAX];

		snprintf(rundir, sizeof(rundir), "%s", rte_eal_get_runtime_dir());
		rte_eal_cleanup();
		if (sep <= 1)
			rmdir(rundir);
	}
	return rc;
}
