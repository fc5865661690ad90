/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * One datagram in, at most one response out: parse, classify, handle,
 * build the reply (DESIGN §4 after decode, for one shard). The lcore loop
 * calls this per packet; tests call it directly.
 */
#ifndef SPR_SIP_PROCESS_H
#define SPR_SIP_PROCESS_H

#include <stdint.h>

#include <spr/location.h>
#include <spr/sip_msg.h>

#include "presence.h"
#include "registrar.h"
#include "sip_auth.h"
#include "sip_reply.h"
#include "subscribe.h"

/* Methods this server answers with something other than 405/501. */
#define SPR_ALLOW "REGISTER, PUBLISH, SUBSCRIBE, OPTIONS"

/* Outcomes of a datagram that are not a REGISTER result or a parse fault. */
#define SPR_FOREACH_PROC_COUNTER(X)                                                                \
	X(rx_msgs)                                                                                 \
	X(rx_requests)                                                                             \
	X(drop_unparseable)  /* start line unreadable: not known to be a request */                \
	X(drop_response)     /* a response to no transaction of ours */                            \
	X(drop_ack)          /* ACK is never answered */                                           \
	X(drop_no_via)       /* a bad request with no Via cannot be answered */                    \
	X(parse_error)       /* answered with the fault's status */                                \
	X(options)                                                                                 \
	X(reg_requests)                                                                             \
	X(pub_requests)                                                                            \
	X(sub_requests)                                                                            \
	X(notify_responses)  /* responses to control's NOTIFYs, sent on to control */           \
	X(method_not_allowed)                                                                      \
	X(not_implemented)                                                                         \
	X(cancel_no_txn)                                                                           \
	X(bad_extension)                                                                           \
	X(bad_uri_scheme)                                                                          \
	X(reply_overflow)                                                                          \
	X(replies)

struct spr_proc_counters {
#define X(n) uint64_t n;
	SPR_FOREACH_PROC_COUNTER(X)
#undef X
	uint64_t parse_err[SPR_SIP_ERR__COUNT];
	struct spr_reg_counters reg;
	struct spr_pres_counters pres;
	struct spr_subs_counters subs;
	struct spr_auth_counters auth;
} __attribute__((aligned(64)));

/* A worker's processing context: one writer, its own shard. */
struct spr_proc_ctx {
	struct spr_sip_limits lim;
	const struct spr_reg_cfg *reg_cfg;
	const struct spr_pres_cfg *pres_cfg;
	struct spr_reply_cfg reply;
	struct spr_loc_shard *shard;
	struct spr_proc_counters cnt;
	uint64_t etag_seq;      /* entity-tags issued (presence.h); start it apart per worker */
	struct spr_reg_arm arm; /* out: a timer the last message asks for (at == 0: none) */
	/* in: the AOR of the REGISTER being answered as the worker classified it (NULL: none) */
	const struct spr_reg_aor_key *reg_key;
	/*
	 * In: control's verdict on the body of the message being answered (NULL:
	 * none yet). Out: pidf_check is set when the answer is to send the
	 * message's PIDF body to control (nothing was written).
	 */
	const struct spr_pres_verdict *verdict;
	uint8_t pidf_check;
	/*
	 * Bearer tokens (sip_auth.h): auth_cfg NULL or disabled checks nothing.
	 * Out: auth_needed is set when the answer is to send the token to
	 * control (nothing was written). In: auth_result, control's packed
	 * outcome (spr_auth_result_pack) for the message being answered, is
	 * applied as it is instead of a cache lookup (0: none; PASS is never
	 * packed as 0 because it is only sent with the flag bit below).
	 */
	const struct spr_auth_cfg *auth_cfg;
	struct spr_auth_hooks auth_hooks;
	uint8_t auth_needed;
	uint32_t auth_result;
	/* in: the token's fingerprint as the worker's pipeline computed it (NULL: none) */
	const struct spr_auth_pre *auth_pre;
	/* SUBSCRIBE (subscribe.h): events for control, and a presentity change to report */
	const struct spr_subs_cfg *subs_cfg;
	struct spr_loc_shard *const *shards; /* every worker's, read-only (policy); NULL: own only */
	uint16_t n_shards;
	uint64_t sub_seq; /* subscription ids issued; start it apart per worker */
	struct spr_pres_change pres_changed;
	struct spr_reg_change reg_changed; /* the registrar's, turned into pres_changed at once */
	struct spr_reg_change member_changed; /* and kept for buddy lists (the worker sends it) */
	struct spr_subs_out subs_out;
	struct spr_sip_msg msg; /* scratch for the message being handled */
};

#define SPR_PROC_AUTH_RESULT_SET 0x80000000u /* in auth_result: an outcome is given */

/* The token check's view of a worker's context. */
static inline struct spr_auth_sip_ctx
spr_proc_auth_ctx(struct spr_proc_ctx *c)
{
	return (struct spr_auth_sip_ctx){c->auth_cfg, &c->auth_hooks, &c->cnt.auth, c->auth_pre};
}

/*
 * Worker pipeline stages 1 and 2 for a message this worker will answer
 * (spr_auth_sip_prefetch): pre gets the token's fingerprint and its set is
 * prefetched (pre->tok NULL: no lookup ahead), then an out-of-line user of
 * its entry is. Give pre back in auth_pre
 * while answering m.
 */
static inline void
spr_proc_auth_prefetch(struct spr_proc_ctx *c, const struct spr_sip_msg *m,
		       struct spr_auth_pre *pre)
{
	struct spr_auth_sip_ctx ac = spr_proc_auth_ctx(c);

	pre->tok = NULL;
	if (c->auth_cfg != NULL && c->auth_cfg->enabled)
		spr_auth_sip_prefetch(&ac, m, pre);
}

/* The presence handler's view of a worker's context. */
static inline struct spr_pres_ctx
spr_proc_pres_ctx(struct spr_proc_ctx *c)
{
	return (struct spr_pres_ctx){c->pres_cfg,   c->reg_cfg, &c->reply,     c->shard,
				     &c->cnt.pres, &c->arm,    &c->etag_seq, &c->pres_changed};
}

/* The registrar's view of a worker's context. */
static inline struct spr_reg_ctx
spr_proc_reg_ctx(struct spr_proc_ctx *c)
{
	return (struct spr_reg_ctx){c->reg_cfg, &c->reply,	   c->shard,  &c->cnt.reg,
				    &c->arm,	 &c->reg_changed, c->reg_key};
}

/*
 * After a registrar call: a registration change becomes a presence change
 * for watchers (automatic presence, spr_pres_registration_changed()), and
 * is kept in member_changed for buddy lists until the worker takes it.
 * Context: owner of c->shard.
 */
static inline void
spr_proc_reg_changed(struct spr_proc_ctx *c, uint32_t now)
{
	if (c->reg_changed.set) {
		struct spr_pres_ctx pc = spr_proc_pres_ctx(c);

		if (c->pres_cfg != NULL) /* NULL: a registrar without presence (tests) */
			spr_pres_registration_changed(&pc, &c->reg_changed, now);
		c->member_changed = c->reg_changed;
		c->reg_changed.set = 0;
	}
}

/* The SUBSCRIBE handler's view of a worker's context. */
static inline struct spr_subs_ctx
spr_proc_subs_ctx(struct spr_proc_ctx *c)
{
	return (struct spr_subs_ctx){c->subs_cfg,   c->reg_cfg, &c->reply,    c->shard,
				     &c->cnt.subs, &c->arm,    &c->sub_seq,  &c->subs_out,
				     c->shards,    c->n_shards};
}

/*
 * The two halves of spr_sip_process(), for a caller that must look at the
 * message between them or keep several parsed at once (the worker choosing
 * the AOR's owner and prefetching a burst ahead):
 * spr_sip_process_parse() fills m and returns spr_sip_parse()'s result;
 * spr_sip_process_msg() answers m given that result.
 */
int spr_sip_process_parse(struct spr_proc_ctx *c, struct spr_sip_msg *m, const char *pkt,
			  uint32_t len);
uint32_t spr_sip_process_msg(struct spr_proc_ctx *c, const struct spr_sip_msg *m, int parsed,
			     const struct spr_peer *src, const struct spr_now *now, char *out,
			     uint32_t cap);

/*
 * Handle one datagram from src. Writes the response into out[0..cap) and
 * returns its length, or 0 when nothing is to be sent (counted drop, or
 * c->pidf_check: the body goes to control first).
 * Context: owner of c->shard, QSBR online.
 */
uint32_t spr_sip_process(struct spr_proc_ctx *c, const char *pkt, uint32_t len,
			 const struct spr_peer *src, const struct spr_now *now, char *out,
			 uint32_t cap);

#endif /* SPR_SIP_PROCESS_H */
