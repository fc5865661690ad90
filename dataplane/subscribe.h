/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SUBSCRIBE for the presence event package (RFC 6665, RFC 3856) on the
 * worker that owns the presentity: the notifier's checks, the watcher
 * records of the shard (SPR_REC_SUBS: a watched presentity's watchers in
 * pages of at most SPR_SUBS_PAGE_MAX, one record each, struct spr_subs_page)
 * and the events the control thread's NOTIFY engine needs (created,
 * refreshed, ended). NOTIFYs themselves are sent by control (control/notify.c).
 *
 * Also the NOTIFY branch format both sides share: control writes it into
 * its NOTIFYs' Via, a worker reads it back from the responses it receives.
 */
#ifndef SPR_SUBSCRIBE_H
#define SPR_SUBSCRIBE_H

#include <stdbool.h>
#include <stdint.h>

#include <spr/location.h>
#include <spr/sip_msg.h>

#include "registrar.h"
#include "sip_reply.h"

#define SPR_SUBS_WATCHERS_MAX 10000u /* ceiling of max_watchers */
#define SPR_SUBS_PAGE_MAX 32u	     /* watchers per page record: what one SUBSCRIBE copies */
#define SPR_SUBS_PAGES_MAX ((SPR_SUBS_WATCHERS_MAX + SPR_SUBS_PAGE_MAX - 1) / SPR_SUBS_PAGE_MAX)
/* records one hash lookup may return: every page, and a few of AORs with the same hash */
#define SPR_SUBS_RECS_MAX (SPR_SUBS_PAGES_MAX + 8u)
#define SPR_SUBS_ROUTE_MAX 1024u   /* bytes of a stored route set */
#define SPR_SUBS_FETCH_TTL 32u     /* seconds a fetch's dialog is kept if control never removes it */

/* Outcomes of a SUBSCRIBE: enum, SIP status, reason phrase (STYLE rule 5). */
#define SPR_FOREACH_SUBS_RESULT(X)                                                                 \
	X(OK, 200, "OK")                                                                           \
	X(RURI_SCHEME, 416, "Unsupported URI Scheme")                                              \
	X(DOMAIN_NOT_SERVED, 404, "Domain Not Served")                                             \
	X(NOT_PRESENTITY, 404, "Request-URI Is Not A Presentity")                                  \
	X(AOR_TOO_LONG, 400, "Address-Of-Record Too Long")                                         \
	X(UNSUPPORTED, 420, "Bad Extension")                                                       \
	X(EXTENSION_REQUIRED, 421, "Extension Required")                                           \
	X(BAD_EVENT, 489, "Bad Event")                                                             \
	X(NOT_ACCEPTABLE, 406, "Not Acceptable")                                                   \
	X(TOO_BRIEF, 423, "Interval Too Brief")                                                    \
	X(NO_CONTACT, 400, "Missing Contact")                                                      \
	X(ROUTE_TOO_LONG, 400, "Record-Route Too Long")                                            \
	X(WATCHER_DOMAIN, 403, "Watcher Domain Not Authorised")                                     \
	X(WATCHER_NOT_REGISTERED, 403, "Watcher Not Registered")                                   \
	X(NO_DIALOG, 481, "Subscription Does Not Exist")                                           \
	X(CSEQ_ORDER, 500, "CSeq Lower Than Last")                                                 \
	X(TOO_MANY_WATCHERS, 503, "Too Many Watchers")                                             \
	X(TOO_LARGE, 503, "Watcher Page Exceeds 64 KiB")                                           \
	X(NO_MEMORY, 500, "Out Of Memory")                                                         \
	X(STORE_CONFLICT, 500, "Subscription Store Conflict")                                      \
	X(REPLY_TOO_LARGE, 500, "Response Too Large")

enum spr_subs_result {
#define X(name, code, reason) SPR_SUBS_##name,
	SPR_FOREACH_SUBS_RESULT(X)
#undef X
		SPR_SUBS__COUNT
};

uint16_t spr_subs_result_code(enum spr_subs_result r);
const char *spr_subs_result_reason(enum spr_subs_result r);
const char *spr_subs_result_name(enum spr_subs_result r);

/*
 * --presence-policy: who may subscribe to a presentity (RFC 3856 §6.6
 * authorisation, decided at once: no pending state). Others get 403.
 */
enum spr_subs_policy {
	SPR_SUBS_POLICY_OPEN = 0,    /* anyone */
	SPR_SUBS_POLICY_SAME_DOMAIN, /* the watcher's From host is the presentity's domain */
	SPR_SUBS_POLICY_REGISTERED,  /* the watcher's From AOR has a live binding here */
};

/* Policy; expiry limits and domains are the registrar's (struct spr_reg_cfg). */
struct spr_subs_cfg {
	uint8_t policy;		  /* enum spr_subs_policy */
	uint32_t default_expires; /* SUBSCRIBE without Expires (RFC 3856 §6.4: 3600) */
	uint16_t max_watchers;	  /* per presentity, <= SPR_SUBS_WATCHERS_MAX; past it 503 */
	struct spr_str contact;	  /* our Contact value in the 200 ("<sip:IP:PORT>") */
};

void spr_subs_cfg_default(struct spr_subs_cfg *cfg);

/* Per-worker counters: one writer, readers sum (STYLE rule 9). */
struct spr_subs_counters {
	uint64_t result[SPR_SUBS__COUNT];
	uint64_t created;
	uint64_t list_created; /* of those, list subscriptions (RFC 4662) */
	uint64_t refreshed;
	uint64_t retransmissions; /* same dialog and CSeq: answered, nothing written */
	uint64_t unsubscribed;	  /* Expires 0 */
	uint64_t fetches;	  /* Expires 0 outside a dialog: answered, one NOTIFY follows */
	uint64_t fetches_done;	  /* of those, the kept dialog dropped once control had it */
	uint64_t expired;
	uint64_t removed; /* by control: the NOTIFY got 481/408 or timed out */
};

/* What the NOTIFY engine is told about a subscription. */
enum spr_subs_ev_type { SPR_SUBS_EV_CREATED = 1, SPR_SUBS_EV_REFRESHED, SPR_SUBS_EV_ENDED };
/* Why a subscription ended (SPR_SUBS_EV_ENDED): the final NOTIFY's Subscription-State. */
enum spr_subs_reason { SPR_SUBS_END_UNSUBSCRIBED = 0, SPR_SUBS_END_TIMEOUT };

struct spr_subs_event {
	uint64_t hash; /* the presentity's */
	uint64_t id;
	uint32_t expires_at; /* CREATED, REFRESHED */
	uint8_t type;	     /* enum spr_subs_ev_type */
	uint8_t reason;	     /* ENDED: enum spr_subs_reason */
};

/*
 * Events of the last call, for the caller to send to control (bounded: one
 * page's watchers and one more; spr_subs_expire stops at a page that would
 * not fit and asks for its timer again at once).
 */
struct spr_subs_out {
	uint32_t n;
	struct spr_subs_event ev[SPR_SUBS_PAGE_MAX + 1];
};

struct spr_subs_ctx {
	const struct spr_subs_cfg *cfg;
	const struct spr_reg_cfg *reg; /* min/max expiry and domains, shared with REGISTER */
	const struct spr_reply_cfg *reply;
	struct spr_loc_shard *shard;
	struct spr_subs_counters *cnt;
	struct spr_reg_arm *arm;  /* out; may be NULL when no timers run (tests) */
	uint64_t *seq;		  /* the owner's subscription counter (ids unique per process) */
	struct spr_subs_out *out; /* out: events, appended; the caller resets n */
	/*
	 * Every worker's shard, for --presence-policy registered (the watcher's
	 * AOR may live in another shard: read under QSBR, never written);
	 * n_shards 0: ctx->shard is the only one.
	 */
	struct spr_loc_shard *const *shards;
	uint16_t n_shards;
};

/*
 * The presentity of a SUBSCRIBE: the normalised Request-URI of a new
 * subscription (RFC 3856 §6.1), the To URI of an in-dialog one (its
 * Request-URI is our Contact). Bytes written, -EINVAL or -ENOSPC.
 */
int spr_subs_aor(const struct spr_sip_msg *m, char *out, uint32_t cap);

/*
 * Handle a SUBSCRIBE that parsed without fault (RFC 6665 §4.2.1) and write
 * the whole response. A new subscription, a refresh and an unsubscribe
 * (Expires 0) append their event to ctx->out.
 * Context: owner of the presentity's shard, QSBR online.
 */
enum spr_subs_result spr_subs_handle(const struct spr_subs_ctx *ctx, const struct spr_sip_msg *m,
				     const struct spr_peer *src, const struct spr_now *now,
				     struct spr_wbuf *out);

/*
 * The watcher timer of hash fired: remove the watchers expired at now (an
 * ENDED timeout event each) and re-arm for the next. Returns how many.
 * Context: owner of the shard, QSBR online.
 */
uint32_t spr_subs_expire(const struct spr_subs_ctx *ctx, uint64_t hash, uint32_t now);

/*
 * Control ended subscription id of presentity hash (its NOTIFY got 481 or
 * 408, or timed out), or has copied a fetch's dialog: remove it, no event.
 * 0, -ENOENT or -ENOMEM.
 * Context: owner of the shard, QSBR online.
 */
int spr_subs_remove(const struct spr_subs_ctx *ctx, uint64_t hash, uint64_t id, uint32_t now);

/* Whether hash has watchers in the shard (a PUBLISH then tells control). Context: any reader. */
static inline bool
spr_subs_watched(const struct spr_loc_shard *s, uint64_t hash)
{
	const struct spr_record *r;

	return spr_loc_lookup_hash_kind(s, SPR_REC_SUBS, hash, &r, 1) != 0;
}

/*
 * NOTIFY branch: "z9hG4bKspr" + 16 hex of the subscription id + 8 hex of a
 * check (a keyed hash of id and CSeq, so a forged response cannot end a
 * subscription without the process secret).
 */
#define SPR_NOTIFY_BRANCH_PREFIX "z9hG4bKspr"
#define SPR_NOTIFY_BRANCH_LEN (sizeof(SPR_NOTIFY_BRANCH_PREFIX) - 1 + 24)

/* Write the branch of a NOTIFY (SPR_NOTIFY_BRANCH_LEN bytes). */
void spr_notify_branch_write(char *out, uint64_t id, uint32_t check);

/* Read one back: true when branch has that shape. */
bool spr_notify_branch_parse(const struct spr_str *branch, uint64_t *id, uint32_t *check);

#endif /* SPR_SUBSCRIBE_H */
