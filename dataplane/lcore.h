/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A worker lcore (DESIGN §2, §4): rx burst, parse, hand requests for other
 * shards to their owner, handle the rest, tx, quiescent state. Everything in
 * struct spr_worker is written by its own lcore only, except `stop` (set by
 * control) and the rings (SPSC: one producer, one consumer each).
 */
#ifndef SPR_LCORE_H
#define SPR_LCORE_H

#include <stdbool.h>
#include <stdint.h>

#include <spr/buddies.h>
#include <spr/ring_msg.h>

#include "io.h"
#include "sip_process.h"

#define SPR_WORKERS_MAX 16u
#define SPR_REPLY_MAX 16384u  /* reply scratch: bigger replies are counted drops */
#define SPR_TIMER_PEND 1024u  /* TIMER and PIDF_FREE held while the ring is full; SUB_* until flush */
#define SPR_WORKER_STAGES 3u  /* parse+hint prefetch, record prefetch, handle */

struct rte_ring;

#define SPR_FOREACH_WORKER_COUNTER(X)                                                              \
	X(loops)                                                                                   \
	X(handoff_out)                                                                             \
	X(handoff_in)                                                                              \
	X(handoff_full)    /* the owner's ring was full: dropped, the client retransmits */        \
	X(timers_sent)                                                                             \
	X(timer_ring_full) /* held back and retried */                                             \
	X(timer_lost)      /* the hold-back queue was full too */                                  \
	X(expire_msgs)                                                                             \
	X(ul_reqs)                                                                                 \
	X(pidf_sent)       /* PUBLISH bodies sent to control to parse */                           \
	X(pidf_ring_full)  /* the ring to control was full: dropped, the client retransmits */    \
	X(pidf_results)    /* control's verdicts applied */                                        \
	X(pidf_free_lost)  /* a status to give back found the hold-back queue full: leaked */ \
	X(sub_msgs)        /* SUB_CREATED/REFRESHED/ENDED, PRESENCE_CHANGED sent or held */       \
	X(list_msgs)       /* of those, LIST_MEMBER and PRESENCE_CHANGED for buddy lists */      \
	X(sub_msgs_lost)   /* the hold-back queue was full: control misses that event */          \
	X(notify_resp_ring_full) /* a NOTIFY response dropped: the NOTIFY is retransmitted */   \
	X(sub_removes)     /* SUB_REMOVE from control applied */

struct spr_worker_counters {
#define X(n) uint64_t n;
	SPR_FOREACH_WORKER_COUNTER(X)
#undef X
} __attribute__((aligned(64)));

/* An operator request run by the AOR's owner (sprctl ul.rm). */
struct spr_ul_req {
	char aor[256];
	uint32_t aor_len;
	char contact[1024];
	uint32_t contact_len;
	int result;         /* spr_reg_remove()'s */
	volatile int done;  /* set by control when the owner's UL_DONE arrives */
};

struct spr_worker {
	uint16_t id;
	uint16_t n_workers;
	volatile uint32_t stop;
	uint32_t sleeping; /* 1 while a socket worker sleeps in the kernel (spr_worker_wake_if_pending) */
	const volatile uint32_t *clock_sec; /* unix seconds, kept by the control thread */
	struct spr_io *io;
	struct spr_proc_ctx *proc;
	const struct spr_list_filter *lists; /* control's: domains with list subscriptions; may be NULL */
	struct rte_ring *handoff_to[SPR_WORKERS_MAX];   /* mbufs for worker j; NULL for self */
	struct rte_ring *handoff_from[SPR_WORKERS_MAX]; /* mbufs from worker j */
	struct rte_ring *to_ctl;   /* struct spr_ring_msg elements */
	struct rte_ring *from_ctl; /* struct spr_ring_msg elements */
	struct spr_now now;
	struct spr_worker_counters cnt;
	uint32_t n_pend;
	struct spr_ring_msg pend[SPR_TIMER_PEND];
	struct spr_sip_msg msgs[SPR_WORKER_STAGES]; /* parsed messages in the burst pipeline */
	char out[SPR_REPLY_MAX];
};

/* Bytes each mbuf of a worker mempool must keep in its private area. */
#define SPR_MBUF_PRIV_SIZE ((sizeof(struct spr_pkt) + 7u) & ~7u)

/* The lcore entry point (rte_eal_remote_launch); returns when w->stop is set. */
int spr_worker_run(void *arg);

/* One burst through the pipeline. Context: the worker's lcore (tests call it directly). */
void spr_worker_process(struct spr_worker *w, struct spr_pkt *pkts, uint16_t n);

/* Messages from control and handed-off requests; queued output. Context: the worker. */
void spr_worker_poll_rings(struct spr_worker *w);
void spr_worker_flush(struct spr_worker *w);

/*
 * Whether messages from control or handed-off requests wait in w's rings.
 * Context: any thread (ring counts are read without taking anything).
 */
bool spr_worker_rings_pending(const struct spr_worker *w);

/*
 * Called by control once per loop for every worker: a socket worker that sleeps
 * while its rings hold work is woken (otherwise it would wait for its own
 * datagram or IDLE_WAIT_MS). dpdk workers never sleep: nothing happens there.
 * Returns whether it woke w.
 */
bool spr_worker_wake_if_pending(struct spr_worker *w);

/* Owner worker of a normalised AOR's hash. */
static inline uint16_t
spr_worker_owner(uint64_t hash, uint16_t n_workers)
{
	return (uint16_t)(hash % n_workers);
}

#endif /* SPR_LCORE_H */
