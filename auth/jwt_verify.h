/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * JWT access tokens (RFC 7519) signed with JWS compact serialisation
 * (RFC 7515), verified by sprd itself. libjwt 1.10 checks neither the
 * algorithm against the key, nor exp, aud or iss, so nothing here relies on
 * it: every step below is ours, in this order, and the first that fails
 * gives the verdict.
 *
 *  1. len > cfg->max_token_bytes                      TOO_LARGE (nothing decoded yet)
 *  2. exactly three dot-separated parts, header and
 *     payload non-empty                               MALFORMED
 *  3. each part strict base64url (jwks-int.h)         BAD_BASE64
 *  4. header a JSON object (json_scan.h: strict, no
 *     duplicate names, bounded depth and size) with
 *     "alg" a string, "kid" a string if present, no
 *     "crit" (we implement no extension)              BAD_HEADER
 *  5. alg one of RS256 RS384 RS512 ES256 ES384, or
 *     HS256 with cfg->allow_hmac ("none" never)       ALG_NOT_ALLOWED
 *  6. a key set with keys                             NO_KEYS
 *  7. the key whose kid equals "kid"; without "kid"
 *     the only key of the set                         UNKNOWN_KEY / KID_REQUIRED
 *  8. alg pinned to that key: RSA -> RS*, EC P-256 ->
 *     ES256, EC P-384 -> ES384, oct -> HS256 (and the
 *     key's own "alg" when it has one)               ALG_NOT_ALLOWED
 *  9. signature over "header.payload": RSASSA-PKCS1-v1_5,
 *     ECDSA from JOSE raw R||S of the curve's size,
 *     HMAC compared in constant time                  BAD_SIGNATURE
 * 10. payload a JSON object (read only now, by the
 *     same reader; only the claims below are kept)    BAD_CLAIMS
 * 11. "exp" present and a number                      MISSING_EXP / BAD_CLAIMS
 *     now < exp + skew                                EXPIRED
 * 12. "nbf" (if present) <= now + skew, "iat" (if
 *     present) <= now + skew; numbers                 NOT_YET_VALID / BAD_CLAIMS
 * 13. cfg->issuer set: "iss" equal to it              WRONG_ISSUER
 * 14. cfg->audience set: "aud" equal to it or an
 *     array containing it                             WRONG_AUDIENCE
 * 15. cfg->user_claim a string of 1..255 bytes
 *     without control characters                      MISSING_USER / BAD_CLAIMS
 * 16. "scope" (optional) a space-separated string: its
 *     tokens equal to cfg->scope_register/presence set
 *     SPR_AUTH_SCOPE_* (a missing scope is not a token
 *     fault: the caller answers 403 insufficient_scope)
 *
 * (Named jwt_verify.h, not jwt.h, so that <jwt.h> stays libjwt's.)
 *
 * No JSON tree is built and no key is parsed here: the key set holds the
 * keys as EVP_PKEYs with verification contexts made at load (jwks-int.h),
 * so a verification is base64url, the JSON reader, one SHA-2 digest and one
 * EVP_PKEY_verify.
 *
 * Context: one thread at a time per key set (the set's OpenSSL contexts are
 * reused; in sprd the auth worker on the control thread). Allocates one
 * buffer: never on a worker lcore.
 */
#ifndef SPR_JWT_VERIFY_H
#define SPR_JWT_VERIFY_H

#include <stdint.h>

#include "auth-t.h"

struct spr_jwt_keys;

/*
 * Verify tok (len bytes, no NUL needed) at time now (seconds since the
 * epoch). Returns enum spr_jwt_verdict: SPR_JWT_OK (0) and *out filled, or
 * the first failed step above and *out undefined.
 */
int spr_jwt_verify(const struct spr_jwt_keys *ks, const struct spr_auth_cfg *cfg, const char *tok,
		   uint32_t len, int64_t now, struct spr_jwt_claims *out);

/* The columns of SPR_FOREACH_JWT_VERDICT; an out-of-range v gives INTERNAL's. */
const char *spr_jwt_verdict_name(int v);	/* counter name: "expired" */
uint16_t spr_jwt_verdict_sip(int v);		/* 401 */
const char *spr_jwt_verdict_error(int v);	/* RFC 6750 error: "invalid_token" */
const char *spr_jwt_verdict_description(int v); /* error_description: "token expired" */

/* cfg with every issue-5 default; strings point to literals. */
void spr_auth_cfg_default(struct spr_auth_cfg *cfg);

#endif
