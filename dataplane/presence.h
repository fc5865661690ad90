/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * PUBLISH (RFC 3903) on the worker that owns the presentity: the event state
 * compositor's checks, entity-tags and the presentity records of the shard.
 *
 * The PIDF body is parsed on the control thread (libxml2 lives in pidf/ only,
 * DESIGN §7): a PUBLISH that carries one and passes every check that needs no
 * XML comes back as SPR_PRES_PIDF_CHECK with nothing written; the caller
 * sends it to control, and when control's verdict arrives it parses the
 * datagram again and calls spr_pres_handle() once more with that verdict.
 * Body-less refreshes and removals never leave the worker.
 *
 * Types of pidf-t.h only (no libxml2 header, no pidf function is called).
 */
#ifndef SPR_PRESENCE_H
#define SPR_PRESENCE_H

#include <stdint.h>

#include <spr/location.h>
#include <spr/sip_msg.h>

#include "pidf-t.h"
#include "registrar.h"
#include "sip_reply.h"

#define SPR_PRES_PUBS_MAX 16u /* ceiling of max_publications */

/*
 * Outcomes of a PUBLISH: enum, SIP status, reason phrase (STYLE rule 5).
 * PIDF_CHECK is no reply: the body went to control. PIDF_REJECTED is
 * answered with the PIDF fault's own status and reason (pidf-t.h).
 */
#define SPR_FOREACH_PRES_RESULT(X)                                                                 \
	X(OK, 200, "OK")                                                                           \
	X(RURI_SCHEME, 416, "Unsupported URI Scheme")                                              \
	X(DOMAIN_NOT_SERVED, 404, "Domain Not Served")                                             \
	X(NOT_PRESENTITY, 404, "Request-URI Is Not A Presentity")                                  \
	X(AOR_TOO_LONG, 400, "Address-Of-Record Too Long")                                         \
	X(UNSUPPORTED, 420, "Bad Extension")                                                       \
	X(BAD_EVENT, 489, "Bad Event")                                                             \
	X(NO_BODY_NO_MATCH, 400, "PUBLISH Without Body Or SIP-If-Match")                           \
	X(UNKNOWN_ETAG, 412, "Conditional Request Failed")                                         \
	X(TOO_BRIEF, 423, "Interval Too Brief")                                                    \
	X(MEDIA_TYPE, 415, "Unsupported Media Type")                                               \
	X(PIDF_CHECK, 0, "Body Sent To Control")                                                   \
	X(PIDF_REJECTED, 400, "PIDF Rejected")                                                     \
	X(TOO_LARGE, 413, "Presence State Too Large")                                              \
	X(NO_MEMORY, 500, "Out Of Memory")                                                         \
	X(STORE_CONFLICT, 500, "Presence Store Conflict")                                          \
	X(REPLY_TOO_LARGE, 500, "Response Too Large")

enum spr_pres_result {
#define X(name, code, reason) SPR_PRES_##name,
	SPR_FOREACH_PRES_RESULT(X)
#undef X
		SPR_PRES__COUNT
};

uint16_t spr_pres_result_code(enum spr_pres_result r);
const char *spr_pres_result_reason(enum spr_pres_result r);
const char *spr_pres_result_name(enum spr_pres_result r);

/*
 * --mode: b2bua (the default) derives a presentity's state from its
 * registrations when nothing is published (automatic presence); p2p has
 * presence without registration and derives nothing.
 */
enum spr_pres_mode { SPR_PRES_MODE_B2BUA = 0, SPR_PRES_MODE_P2P };

/* Presence policy; expiry limits and domains are the registrar's (struct spr_reg_cfg). */
struct spr_pres_cfg {
	uint8_t mode;		   /* enum spr_pres_mode */
	uint32_t default_expires;  /* PUBLISH without Expires (RFC 3903 §4.1: 3600) */
	uint16_t max_publications; /* per presentity, <= SPR_PRES_PUBS_MAX; past it the least
				      recently changed publication goes */
	uint64_t etag_secret;	   /* per process, random: entity-tags cannot be guessed */
};

void spr_pres_cfg_default(struct spr_pres_cfg *cfg);

/* Per-worker presence counters: one writer, readers sum (STYLE rule 9). */
struct spr_pres_counters {
	uint64_t result[SPR_PRES__COUNT];
	uint64_t pidf_fault[SPR_PIDF__COUNT]; /* PIDF_REJECTED by fault */
	uint64_t pubs_added;
	uint64_t pubs_refreshed;
	uint64_t pubs_modified;
	uint64_t pubs_removed;
	uint64_t pubs_expired;
	uint64_t pubs_dropped_oldest;
	uint64_t auto_open;   /* b2bua: first binding, nothing published: watchers told */
	uint64_t auto_closed; /* b2bua: last binding gone, nothing published: watchers told */
	uint64_t auto_masked; /* b2bua: a registration change hidden by live publications */
};

/* Control's verdict on a PUBLISH body (SPR_MSG_PIDF_RESULT). */
struct spr_pres_verdict {
	enum spr_pidf_fault fault;
	const struct spr_pidf_status *status; /* the parsed body when fault is SPR_PIDF_OK */
};

/* A change of presence state that watchers must hear of (set = 0: none). */
struct spr_pres_change {
	uint64_t hash;
	uint64_t domain_hash; /* spr_domain_hash of its domain (buddy lists, spr/buddies.h) */
	uint32_t version;     /* 0 when the presentity is gone */
	uint8_t set;
};

struct spr_pres_ctx {
	const struct spr_pres_cfg *cfg;
	const struct spr_reg_cfg *reg; /* min/max expiry and domains, shared with REGISTER */
	const struct spr_reply_cfg *reply;
	struct spr_loc_shard *shard;
	struct spr_pres_counters *cnt;
	struct spr_reg_arm *arm; /* out; may be NULL when no timers run (tests) */
	uint64_t *etag_seq;	 /* the owner's entity-tag counter (unique per process) */
	struct spr_pres_change *changed; /* out; may be NULL */
};

/*
 * The presentity of a PUBLISH: its normalised Request-URI (RFC 3903 §6
 * step 2, normalised as RFC 3261 §10.3 step 5 does an AOR). Bytes written,
 * -EINVAL (not a SIP AOR) or -ENOSPC.
 */
int spr_pres_aor(const struct spr_sip_msg *m, char *out, uint32_t cap);

/*
 * Handle a PUBLISH that parsed without fault (RFC 3903 §6). v is NULL the
 * first time; a request with a body that passes every other check then
 * returns SPR_PRES_PIDF_CHECK and writes nothing. Called again with
 * control's verdict it applies the publication (or answers the fault) and
 * writes the whole response. v->status is only read: the caller frees it.
 * Context: owner of the presentity's shard, QSBR online.
 */
enum spr_pres_result spr_pres_handle(const struct spr_pres_ctx *ctx, const struct spr_sip_msg *m,
				     const struct spr_peer *src, const struct spr_now *now,
				     const struct spr_pres_verdict *v, struct spr_wbuf *out);

/*
 * The presentity timer of hash fired: remove every publication expired at
 * now and re-arm for the earliest that is left (ctx->arm). Returns the
 * publications removed. Context: owner of the shard, QSBR online.
 */
uint32_t spr_pres_expire(const struct spr_pres_ctx *ctx, uint64_t hash, uint32_t now);

/*
 * Automatic presence (--mode b2bua): the registrar reported that the AOR of
 * ch->hash got its first binding or lost its last. When the presentity has
 * no live publication (real publications always win) its state changes from
 * offline to available or back: ctx->changed is set so watchers hear of it
 * through the same PRESENCE_CHANGED path (and throttle) as a PUBLISH. The
 * document itself is built on control (no XML here). Counted either way;
 * nothing in p2p mode. Context: owner of the shard, QSBR online.
 */
void spr_pres_registration_changed(const struct spr_pres_ctx *ctx, const struct spr_reg_change *ch,
				   uint32_t now);

static inline const struct spr_record *
spr_pres_lookup(const struct spr_loc_shard *s, const struct spr_str *aor, uint64_t hash)
{
	return spr_loc_lookup_kind(s, SPR_REC_PRESENTITY, aor, hash);
}

#endif /* SPR_PRESENCE_H */
