/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The NOTIFY engine (DESIGN §6) on the control thread: per subscription
 * the dialog as the owner worker stored it, the NOTIFY CSeq, one non-INVITE
 * client transaction at a time (RFC 3261 §17.1.2: Timer E retransmissions
 * from T1 doubling to T2, Timer F at 64*T1), a throttle (at most one NOTIFY
 * per --notify-min-interval, the last state always delivered) and per
 * watched presentity the PIDF document of its current version, built once
 * and sent to every watcher.
 *
 * Fed by the workers' SUB_CREATED / SUB_REFRESHED / SUB_ENDED /
 * PRESENCE_CHANGED / NOTIFY_RESPONSE / LIST_MEMBER messages; answers with
 * SUB_REMOVE to the owner when a NOTIFY gets 481 or 408 or times out.
 *
 * A subscription to sip:buddies@DOMAIN with eventlist (SPR_WATCHER_LIST)
 * is a list subscription: its NOTIFYs carry an RFC 4662 body over the
 * domain's registered users (one list per domain, shared by its list
 * subscriptions), each member's document being its presentity's cached one.
 *
 * Context: the control thread only, a registered QSBR reader that is online
 * while any function here runs.
 */
#ifndef SPR_NOTIFY_H
#define SPR_NOTIFY_H

#include <stdint.h>

#include <jansson.h>

#include <spr/buddies.h>
#include <spr/ring_msg.h>

#include "io.h"

struct rte_ring;
struct spr_loc_shard;

#define SPR_FOREACH_NOTIFY_COUNTER(X)                                                              \
	X(subscriptions)      /* created here (SUB_CREATED) */                                     \
	X(dialogs_shared)     /* a subscription joined a dialog that had another (Event id) */     \
	X(dialog_share_failed) /* no memory to share: it sends with a CSeq of its own */           \
	X(notify_fetches)    /* SUB_CREATED of a fetch: one final NOTIFY, the store's copy removed */ \
	X(sub_missing)	      /* an event for a subscription the store or engine no longer has */  \
	X(notify_sent)	      /* NOTIFY transactions started */                                    \
	X(notify_retransmits) /* Timer E */                                                        \
	X(notify_2xx)                                                                              \
	X(notify_failed)     /* other final responses: the subscription goes on */                 \
	X(notify_481_408)    /* ended the subscription */                                          \
	X(notify_timeout)    /* Timer F: ended the subscription */                                 \
	X(notify_throttled)  /* a change held back by --notify-min-interval */                     \
	X(notify_send_error) /* spr_io_send refused it (no route, no mbuf, too large) */           \
	X(notify_no_io)	     /* no control io (a dpdk device without a control TX queue) */        \
	X(notify_too_large)  /* the NOTIFY did not fit the buffer */                               \
	X(resp_unknown)	     /* a response for no subscription or an old CSeq */                   \
	X(resp_forged)	     /* the branch check did not match */                                  \
	X(pidf_builds)	     /* documents built (one per presentity version) */                    \
	X(pidf_builds_auto)  /* of those, automatic presence: registered, nothing published */    \
	X(pidf_build_errors)                                                                       \
	X(sub_remove_sent)                                                                         \
	X(sub_remove_ring_full) /* the owner expires it instead */                                 \
	X(list_subscriptions)   /* of subscriptions, to a buddy list (RFC 4662) */                 \
	X(list_walks)           /* shard walks for a list's members (creation, after a cut) */     \
	X(list_member_events)   /* LIST_MEMBER messages */                                         \
	X(list_member_unmatched) /* of those, for a domain without lists (filter false positive) */ \
	X(list_members_added)                                                                      \
	X(list_members_removed)                                                                    \
	X(list_members_cut)    /* registered users left out by --max-list-members */               \
	X(list_bodies)         /* list NOTIFY bodies built (multipart/related + RLMI) */           \
	X(list_partial)        /* of those, partial state (only members that changed) */          \
	X(list_build_errors)                                                                       \
	X(list_parts)          /* member documents sent in list bodies */                          \
	X(list_parts_omitted)  /* member documents left out: the NOTIFY would pass the size cap */ \
	X(list_boundary_redraws)

struct spr_notify_counters {
#define X(n) uint64_t n;
	SPR_FOREACH_NOTIFY_COUNTER(X)
#undef X
};

struct spr_notify_cfg {
	uint32_t t1_ms;		  /* RFC 3261 T1 (500); Timer F = 64 * T1 */
	uint32_t t2_ms;		  /* RFC 3261 T2 (4000) */
	uint32_t min_interval_ms; /* between two NOTIFYs of a subscription; 0: no throttle */
	uint64_t secret;	  /* keys the branch check */
	uint8_t auto_presence;	  /* --mode b2bua: no publication -> state from registrations */
	struct spr_peer local;	  /* our address: Via sent-by, Contact, From of the datagram */
	uint16_t n_workers;
	struct spr_loc_shard *const *shards; /* [n_workers] */
	struct rte_ring *const *to_worker;   /* [n_workers]: control -> worker rings */
	/* buddy lists (docs/architecture.md "Buddy lists") */
	struct spr_list_filter *lists; /* written here, read by the workers; NULL: no lists */
	uint32_t max_list_members;     /* members of one list; past it the list is cut */
	uint32_t max_datagram;	       /* bytes of one NOTIFY (the io's mbuf data room) */
};

struct spr_notify;

/* NULL when out of memory. io may be NULL (every NOTIFY is then counted notify_no_io). */
struct spr_notify *spr_notify_create(const struct spr_notify_cfg *cfg, struct spr_io *io,
				     uint64_t now_ms);
void spr_notify_destroy(struct spr_notify *n);

/* A worker's message of one of the types above. */
void spr_notify_on_msg(struct spr_notify *n, const struct spr_ring_msg *msg, uint64_t now_ms);

/*
 * Run timers, send at most budget NOTIFYs that wait, flush the io.
 * Returns true when some are still waiting (the caller should not sleep).
 */
bool spr_notify_poll(struct spr_notify *n, uint64_t now_ms, uint32_t budget);

const struct spr_notify_counters *spr_notify_counters(const struct spr_notify *n);

/* Subscriptions the engine holds, and of those with a transaction in flight. */
void spr_notify_totals(const struct spr_notify *n, uint64_t *subs, uint64_t *in_flight);

/* Buddy lists the engine keeps (domains with list subscriptions), and their members. */
void spr_notify_list_totals(const struct spr_notify *n, uint64_t *lists, uint64_t *members);

/* The watchers of presentity hash as the engine knows them: a JSON array. */
json_t *spr_notify_watchers_json(const struct spr_notify *n, uint64_t hash, uint32_t now_s);

#endif /* SPR_NOTIFY_H */
