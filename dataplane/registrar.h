/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The registrar: RFC 3261 §10.3 as a function of (parsed REGISTER, shard,
 * now) -> response bytes. All-or-nothing: a REGISTER either publishes one
 * new record for its AOR or changes nothing.
 */
#ifndef SPR_REGISTRAR_H
#define SPR_REGISTRAR_H

#include <stdbool.h>
#include <stdint.h>

#include <spr/location.h>
#include <spr/sip_msg.h>

#include "sip_reply.h"

#define SPR_REG_DOMAINS_MAX 64u
#define SPR_REG_AOR_MAX 256u     /* bytes of a normalised AOR */
#define SPR_REG_CONTACTS_MAX 64u /* ceiling of max_contacts */

/* Outcomes of a REGISTER: enum, SIP status, reason phrase (STYLE rule 5). */
#define SPR_FOREACH_REG_RESULT(X)                                                                  \
	X(OK, 200, "OK")                                                                           \
	X(RURI_SCHEME, 416, "Unsupported URI Scheme")                                              \
	X(DOMAIN_NOT_SERVED, 404, "Domain Not Served")                                             \
	X(AOR_SCHEME, 416, "Unsupported URI Scheme In To")                                        \
	X(BAD_AOR, 400, "To URI Is Not A SIP Address-Of-Record")                                   \
	X(AOR_TOO_LONG, 400, "Address-Of-Record Too Long")                                         \
	X(UNSUPPORTED, 420, "Bad Extension")                                                       \
	X(STAR_WITH_CONTACTS, 400, "Wildcard Contact With Other Contacts")                         \
	X(STAR_EXPIRES, 400, "Wildcard Contact Needs Expires 0")                                   \
	X(DUP_CONTACT, 400, "Same Contact Twice In Request")                                       \
	X(CSEQ_ORDER, 400, "Sequence Number Lower Than Stored")                                   \
	X(TOO_BRIEF, 423, "Interval Too Brief")                                                    \
	X(TOO_MANY_CONTACTS, 503, "Too Many Registered Contacts")                                  \
	X(NO_MEMORY, 500, "Out Of Memory")                                                         \
	X(RECORD_TOO_LARGE, 500, "Bindings Of AOR Exceed 64 KiB")                                  \
	X(STORE_CONFLICT, 500, "Location Store Conflict")                                          \
	X(REPLY_TOO_LARGE, 500, "Response Too Large")

enum spr_reg_result {
#define X(name, code, reason) SPR_REG_##name,
	SPR_FOREACH_REG_RESULT(X)
#undef X
		SPR_REG__COUNT
};

uint16_t spr_reg_result_code(enum spr_reg_result r);
const char *spr_reg_result_reason(enum spr_reg_result r);
const char *spr_reg_result_name(enum spr_reg_result r);

/* Registrar policy; see docs/operations.md for defaults and meaning. */
struct spr_reg_cfg {
	uint32_t min_expires;     /* below (and not 0): 423 with Min-Expires */
	uint32_t max_expires;     /* above: shortened to this */
	uint32_t default_expires; /* no expires param and no Expires header */
	uint16_t max_contacts;    /* bindings per AOR, <= SPR_REG_CONTACTS_MAX */
	bool drop_oldest;         /* on max_contacts: drop the least recently updated, not 503 */
	uint16_t n_domains;       /* 0: every domain is served */
	struct spr_str domains[SPR_REG_DOMAINS_MAX];
};

void spr_reg_cfg_default(struct spr_reg_cfg *cfg);

/* Per-worker registrar counters: one writer, readers sum (STYLE rule 9). */
struct spr_reg_counters {
	uint64_t result[SPR_REG__COUNT];
	uint64_t bindings_added;
	uint64_t bindings_refreshed;
	uint64_t refreshed_in_place; /* of those, updated in the published record (location.h) */
	uint64_t bindings_removed;
	uint64_t bindings_dropped_oldest;
	uint64_t retransmissions; /* same Call-ID and CSeq: answered, not applied */
	uint64_t fetches;
	uint64_t bindings_expired;
	uint64_t bindings_removed_by_operator;
};

/*
 * An expiry timer the caller must ask the control thread to arm (DESIGN §6):
 * set by the registrar (or the presence handler) when a record it published
 * expires earlier than the timer it had, or had none. at == 0: nothing to arm.
 */
struct spr_reg_arm {
	uint64_t hash;
	uint32_t at;
	uint8_t kind; /* enum spr_rec_kind of the record */
};

/*
 * The registration state of an AOR changed (automatic presence, --mode
 * b2bua): its first binding arrived, or its last one went (unregister, `*`,
 * expiry, operator removal). Set by the registrar; set == 0: no change.
 */
struct spr_reg_change {
	uint64_t hash;
	uint64_t domain_hash; /* spr_domain_hash of its domain (buddy lists, spr/buddies.h) */
	uint8_t registered;   /* 1: has bindings now; 0: has none */
	uint8_t set;
};

/*
 * A REGISTER's AOR as the worker already normalised and hashed it to pick
 * the owner (lcore.c classify()), so the registrar need not do it again.
 */
struct spr_reg_aor_key {
	uint64_t hash;
	uint32_t len; /* > 0 */
	char aor[SPR_REG_AOR_MAX];
};

struct spr_reg_ctx {
	const struct spr_reg_cfg *cfg;
	const struct spr_reply_cfg *reply;
	struct spr_loc_shard *shard;
	struct spr_reg_counters *cnt;
	struct spr_reg_arm *arm; /* out; may be NULL when no timers run (tests, benchmarks) */
	struct spr_reg_change *changed; /* out; may be NULL */
	const struct spr_reg_aor_key *key; /* in: spr_reg_aor() of the request and its hash; may be NULL */
};

/* Whether host is one of cfg's domains (every domain when none is configured). */
bool spr_reg_domain_served(const struct spr_reg_cfg *cfg, const struct spr_str *host);

/*
 * One expiry timer per record (docs/architecture.md "Expiry"): set the
 * timer_at of nrec, whose first entry expires at first, before it is
 * published. The timer old had is kept while it is still ahead and no later
 * than first; otherwise nrec->timer_at = first and *arm (when not NULL) asks
 * control for a TIMER of (kind, hash). Context: shard owner.
 */
static inline void
spr_rec_arm(struct spr_reg_arm *arm, const struct spr_record *old, struct spr_record *nrec,
	    uint32_t first, uint32_t now)
{
	uint32_t armed = old != NULL ? old->timer_at : 0;

	if (armed > now && armed <= first) {
		nrec->timer_at = armed;
		return;
	}
	nrec->timer_at = first;
	if (arm != NULL) {
		arm->kind = (uint8_t)spr_rec_kind(nrec);
		arm->hash = nrec->hash;
		arm->at = first;
	}
}

/*
 * After an EXPIRE of a published record r that removed nothing (or could
 * not): the same rule for r itself, whose timer_at (owner-only, see
 * spr/location.h) it may set. When r's own timer is still ahead and no later
 * than first, the EXPIRE was a timer left behind and nothing is asked.
 */
static inline void
spr_rec_rearm(struct spr_reg_arm *arm, const struct spr_record *r, uint32_t first, uint32_t now)
{
	spr_rec_arm(arm, r, (struct spr_record *)(uintptr_t)r, first, now);
}

/*
 * The AOR of a request: normalised To URI (RFC 3261 §10.3 step 5).
 * Returns bytes written, -EINVAL (not a SIP AOR) or -ENOSPC.
 */
int spr_reg_aor(const struct spr_sip_msg *m, char *out, uint32_t cap);

/*
 * Handle a REGISTER that parsed without fault; write the whole response
 * into out. Context: owner of the AOR's shard, QSBR online.
 */
enum spr_reg_result spr_reg_handle(const struct spr_reg_ctx *ctx, const struct spr_sip_msg *m,
				   const struct spr_peer *src, const struct spr_now *now,
				   struct spr_wbuf *out);

/*
 * The AOR timer of hash fired: remove every binding expired at now from the
 * records of that hash and re-arm for the earliest that is left (ctx->arm).
 * Returns the bindings removed. Context: owner of the shard, QSBR online.
 */
uint32_t spr_reg_expire(const struct spr_reg_ctx *ctx, uint64_t hash, uint32_t now);

/*
 * Operator removal (sprctl ul.rm): the binding of aor whose contact URI
 * equals contact (RFC 3261 §19.1.4), or every binding when contact is
 * empty. Returns the bindings removed, -ENOENT when none matched, -ENOMEM.
 * Context: owner of the shard, QSBR online.
 */
int spr_reg_remove(const struct spr_reg_ctx *ctx, const struct spr_str *aor,
		   const struct spr_str *contact, uint32_t now);

/* Bindings of a record still alive at second now. */
static inline bool
spr_binding_alive(const struct spr_binding *b, uint32_t now)
{
	return spr_binding_expires_at(b) > now;
}

#endif /* SPR_REGISTRAR_H */
