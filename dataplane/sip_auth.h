/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * OAuth 2.0 Bearer on the worker (RFC 8898 §2, challenge of RFC 6750 §3):
 * which requests need a token, the token-cache lookup through the injected
 * hooks (spr/auth_hook.h), the scope and user checks, and the 401/403/503
 * answers. Verification itself happens on the control thread (auth/), which
 * the worker asks with AUTH_NEEDED when the cache has no entry.
 *
 * Decision for REGISTER (scope --scope-register), PUBLISH and SUBSCRIBE
 * (--scope-presence); every other request passes untouched:
 *  1. no Authorization: Bearer                       NO_TOKEN      401, challenge
 *  2. token over max_token_bytes (not hashed)        INVALID_TOKEN 401 "token too large"
 *  3. cache miss                                     NEEDED        to control
 *  4. cached failure                                 INVALID_TOKEN 401 (its description),
 *                                                    or 503/500 for the server's own state
 *  5. scope bit of the method not granted            INSUFFICIENT_SCOPE 403
 *  6. user claim != user part of the request's AOR   USER_MISMATCH 403
 *     (REGISTER: To; PUBLISH: Request-URI, the
 *     presentity it writes; SUBSCRIBE: From, the
 *     watcher), normalised (RFC 3261 §10.3 step 5)
 *  7. otherwise                                      PASS: the handler runs
 *
 * Types of auth-t.h only: nothing of auth/ is called or linked here.
 */
#ifndef SPR_SIP_AUTH_H
#define SPR_SIP_AUTH_H

#include <stdint.h>

#include <spr/auth_hook.h>
#include <spr/sip_msg.h>

#include "auth-t.h"
#include "sip_reply.h"

/* Outcomes: enum, SIP status (0: no reply from this module), reason phrase. */
#define SPR_FOREACH_AUTH_RESULT(X)                                                                 \
	X(PASS, 0, "")                                                                             \
	X(NEEDED, 0, "")                                                                           \
	X(NO_TOKEN, 401, "Unauthorized")                                                           \
	X(INVALID_TOKEN, 401, "Unauthorized")                                                      \
	X(INSUFFICIENT_SCOPE, 403, "Insufficient Scope")                                           \
	X(USER_MISMATCH, 403, "Token Not Issued For This User")                                    \
	X(BUSY, 503, "Authentication Busy")                                                        \
	X(UNAVAILABLE, 503, "Authentication Unavailable")                                          \
	X(ERROR, 500, "Authentication Error")

enum spr_auth_result {
#define X(name, code, reason) SPR_AUTH_##name,
	SPR_FOREACH_AUTH_RESULT(X)
#undef X
		SPR_AUTH__COUNT
};

uint16_t spr_auth_result_code(enum spr_auth_result r);
const char *spr_auth_result_reason(enum spr_auth_result r);
const char *spr_auth_result_name(enum spr_auth_result r);
/* Counter name of a verdict ("expired"), from auth-t.h's table. */
const char *spr_auth_verdict_name(int v);

/* Per-worker counters (STYLE rule 9). */
struct spr_auth_counters {
	uint64_t result[SPR_AUTH__COUNT];
	uint64_t verdict[SPR_JWT__COUNT]; /* token failures by verdict (cache, size, control) */
	uint64_t hits;			  /* cache entries found, good or bad */
	uint64_t hits_negative;		  /* of those, cached failures */
	uint64_t misses;		  /* sent to control (or refused busy) */
	uint64_t key_errors;		  /* the hasher failed: answered 500 */
	uint64_t results;		  /* control's AUTH_RESULTs applied */
	uint64_t ring_full;		  /* AUTH_NEEDED found the ring full: 503 Retry-After: 1 */
};

/*
 * A token's fingerprint computed a pipeline stage ahead
 * (spr_auth_sip_prefetch), so the check does not compute it again: used
 * only for the bytes it was computed over (tok, len are those of m->bearer
 * then).
 */
struct spr_auth_pre {
	struct spr_token_fp fp;
	const char *tok; /* NULL: none */
	uint32_t len;
};

struct spr_auth_sip_ctx {
	const struct spr_auth_cfg *cfg; /* NULL or !enabled: nothing is checked */
	const struct spr_auth_hooks *hooks;
	struct spr_auth_counters *cnt;
	const struct spr_auth_pre *pre; /* NULL: none */
};

/* SPR_AUTH_SCOPE_* a method needs; 0: the method needs no token. */
static inline uint32_t
spr_auth_sip_scope(uint8_t method)
{
	switch (method) {
	case SPR_SIP_REGISTER:
		return SPR_AUTH_SCOPE_REGISTER;
	case SPR_SIP_PUBLISH:
	case SPR_SIP_SUBSCRIBE:
		return SPR_AUTH_SCOPE_PRESENCE;
	default:
		return 0;
	}
}

/*
 * Steps 5-7 on a cache entry or a fresh verdict (hit->verdict, claims when
 * SPR_JWT_OK): PASS, INVALID_TOKEN, UNAVAILABLE, ERROR, INSUFFICIENT_SCOPE
 * or USER_MISMATCH. Pure: the control thread runs it too, on the claims it
 * has just verified. m is a request that needs a token.
 */
enum spr_auth_result spr_auth_sip_decide(const struct spr_auth_cfg *cfg,
					 const struct spr_sip_msg *m,
					 const struct spr_token_hit *hit);

/*
 * Steps 1-7 for request m at now (unix s). *verdict gets the token's verdict
 * for INVALID_TOKEN/UNAVAILABLE/ERROR (SPR_JWT_OK otherwise). Counts in
 * ac->cnt. NEEDED: the caller sends the token (m->bearer) to control.
 * Context: the worker owning ac->hooks->hasher; lock-free, no allocation.
 */
enum spr_auth_result spr_auth_sip_check(const struct spr_auth_sip_ctx *ac,
					const struct spr_sip_msg *m, int64_t now,
					uint8_t *verdict);

/*
 * Worker pipeline, stage 1: when spr_auth_sip_check() will look m's token
 * up, its fingerprint into *pre and the set it picks prefetched; else
 * pre->tok = NULL. Stage 2: the out-of-line user of its entry, if it has
 * one, prefetched.
 * Context: as spr_auth_sip_check().
 */
void spr_auth_sip_prefetch(const struct spr_auth_sip_ctx *ac, const struct spr_sip_msg *m,
			   struct spr_auth_pre *pre);

static inline void
spr_auth_sip_prefetch_ext(const struct spr_auth_hooks *hooks, const struct spr_auth_pre *pre)
{
	if (pre->tok != NULL)
		hooks->prefetch(hooks->cache, &pre->fp);
}

/*
 * The whole response for an outcome with a status (not PASS/NEEDED):
 * 401 and 403 carry WWW-Authenticate: Bearer realm, scope (the method's),
 * authz_server when configured, and error/error_description (RFC 6750 §3,
 * RFC 8898 §2.3); BUSY carries Retry-After: 1.
 */
void spr_auth_sip_reply(const struct spr_auth_cfg *cfg, const struct spr_reply_cfg *reply,
			const struct spr_sip_msg *m, const struct spr_peer *src,
			const struct spr_now *now, enum spr_auth_result r, uint8_t verdict,
			struct spr_wbuf *w);

/* The 32-bit `at` of an AUTH_RESULT ring message: outcome and verdict. */
static inline uint32_t
spr_auth_result_pack(enum spr_auth_result r, uint8_t verdict)
{
	return (uint32_t)r | (uint32_t)verdict << 8;
}

static inline enum spr_auth_result
spr_auth_result_unpack(uint32_t at, uint8_t *verdict)
{
	*verdict = (uint8_t)(at >> 8);
	return (enum spr_auth_result)(at & 0xffu);
}

#endif /* SPR_SIP_AUTH_H */
