/* SPDX-License-Identifier: BSD-3-Clause */
/* The daemon's state, shared by main.c and the control-socket methods (daemon_ctl.c). */
#ifndef SPR_DAEMON_H
#define SPR_DAEMON_H

#include <stdint.h>

#include "config.h"
#include "expiry.h"
#include "lcore.h"

struct rte_mempool;
struct spr_ctl;
struct spr_daemon_auth;
struct spr_notify;
struct spr_pidf_status;

#define SPR_FOREACH_CONTROL_COUNTER(X)                                                             \
	X(timers_armed)                                                                            \
	X(timers_fired)                                                                            \
	X(expire_ring_full) /* retried a second later */                                           \
	X(timer_map_full)   /* --max-timers reached: bindings go at their AOR's next write */   \
	X(pidf_parsed)      /* PUBLISH bodies parsed for the workers */                          \
	X(pidf_rejected)    /* of those, refused with a PIDF fault */                            \
	X(pidf_result_ring_full) /* the owner's ring was full: dropped, the client retransmits */ \
	X(worker_wakes)     /* sleeping socket workers woken for work in their rings */

struct spr_control_counters {
#define X(n) uint64_t n;
	SPR_FOREACH_CONTROL_COUNTER(X)
#undef X
};

struct sprd {
	struct spr_config cfg;
	uint16_t n_workers;
	unsigned lcore[SPR_WORKERS_MAX];
	struct spr_worker *w[SPR_WORKERS_MAX];
	struct spr_loc_shard *shard[SPR_WORKERS_MAX];
	struct rte_mempool *pool; /* mbufs of every queue and worker */
	volatile uint32_t clock_sec;
	struct spr_exp exp; /* expiry timers of the records (control/expiry.h) */
	struct spr_pidf_status *pidf_scratch; /* PUBLISH bodies are parsed into this */
	struct spr_ctl *ctl;
	struct spr_daemon_auth *auth; /* --auth bearer: control/daemon_auth.h; NULL: off */
	struct spr_notify *notify;      /* SUBSCRIBE/NOTIFY engine (control/notify.h) */
	struct spr_io *ctl_io;          /* what NOTIFYs leave by; NULL: none */
	struct rte_ring *from_ctl[SPR_WORKERS_MAX]; /* the workers' rings from control */
	struct spr_list_filter lists;   /* domains with buddy list subscriptions (spr/buddies.h) */
	bool ctl_txq;                   /* dpdk: the port has a TX queue for control */
	struct spr_control_counters cnt;
};

/* Control-thread log line on stderr; level 0 error .. 3 debug. */
void spr_log(const struct sprd *d, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Open the control socket and register every method. NULL with err on failure. */
struct spr_ctl *spr_daemon_ctl_open(struct sprd *d, char *err, size_t errlen);

/* Run an operator request on the AOR's owner worker and wait (bounded) for it. 0 / -errno. */
int spr_daemon_run_ul_req(struct sprd *d, struct spr_ul_req *req, uint64_t hash);

#endif /* SPR_DAEMON_H */
