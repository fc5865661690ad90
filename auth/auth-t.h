/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Types of OAuth 2.0 Bearer authentication (RFC 8898 for SIP, RFC 6750 for
 * the challenge, RFC 7519 JWT, RFC 7515 JWS, RFC 7517 JWK, RFC 7518 algs).
 * jwt.h verifies, jwks.h loads keys, token_cache.h remembers verdicts.
 */
#ifndef SPR_AUTH_T_H
#define SPR_AUTH_T_H

#include <stdbool.h>
#include <stdint.h>

/* Defaults of the issue-5 options. */
#define SPR_AUTH_DEF_USER_CLAIM "sub"
#define SPR_AUTH_DEF_SCOPE_REGISTER "sip:register"
#define SPR_AUTH_DEF_SCOPE_PRESENCE "sip:presence"
#define SPR_AUTH_DEF_CLOCK_SKEW 30u	    /* seconds */
#define SPR_AUTH_DEF_MAX_TOKEN_BYTES 8192u  /* --max-token-bytes */
#define SPR_AUTH_DEF_CACHE_SIZE 65536u	    /* --token-cache-size, entries */
#define SPR_AUTH_DEF_NEG_TTL 10u	    /* seconds a bad token stays cached */
#define SPR_AUTH_DEF_POS_TTL 3600u	    /* upper bound of a positive entry's life */
#define SPR_AUTH_MAX_TOKEN_BYTES_MAX 65536u /* ceiling of --max-token-bytes */

/* Compile-time ceilings. */
#define SPR_JWT_USER_MAX 255u /* bytes of the user claim's value */
#define SPR_JWT_KID_MAX 255u  /* bytes of a kid */

/*
 * Configuration of the auth worker (control/config.c fills it from
 * --auth ... --max-token-bytes). Strings are NUL-terminated and owned by
 * the caller; NULL or "" issuer/audience means "not checked".
 */
struct spr_auth_cfg {
	bool enabled;		    /* --auth bearer */
	bool allow_hmac;	    /* --allow-hmac: oct keys and HS256 accepted */
	const char *jwks_path;	    /* --jwks */
	const char *issuer;	    /* --issuer: iss must equal it */
	const char *audience;	    /* --audience: aud must equal or contain it */
	const char *realm;	    /* --realm (challenge only) */
	const char *authz_server;   /* --authz-server (challenge only) */
	const char *scope_register; /* --scope-register */
	const char *scope_presence; /* --scope-presence */
	const char *user_claim;	    /* --user-claim: claim naming the user */
	uint32_t clock_skew;	    /* --clock-skew, seconds, for exp/nbf/iat */
	uint32_t max_token_bytes;   /* --max-token-bytes, checked before decoding */
	uint32_t token_cache_size;  /* --token-cache-size, entries */
	uint32_t neg_ttl;	    /* seconds a failed verdict is cached */
	uint32_t pos_ttl;	    /* seconds a good verdict is cached at most (and <= exp) */
};

/* Scope bits of struct spr_jwt_claims.scopes. */
#define SPR_AUTH_SCOPE_REGISTER 0x1u
#define SPR_AUTH_SCOPE_PRESENCE 0x2u

/*
 * Verdicts of spr_jwt_verify(), in the order the checks run: enum, counter
 * name, SIP status and RFC 6750 error of the challenge, error_description
 * (RFC 6750 §3: printable ASCII without '"' or '\\', so it can be quoted
 * in WWW-Authenticate as is). Every token fault is 401 invalid_token;
 * only the server's own state gives 5xx.
 */
#define SPR_FOREACH_JWT_VERDICT(X)                                                                 \
	X(OK, "ok", 200, "", "")                                                                   \
	X(TOO_LARGE, "too_large", 401, "invalid_token", "token too large")                         \
	X(MALFORMED, "malformed", 401, "invalid_token", "malformed token")                         \
	X(BAD_BASE64, "bad_base64", 401, "invalid_token", "malformed token encoding")              \
	X(BAD_HEADER, "bad_header", 401, "invalid_token", "malformed token header")                \
	X(ALG_NOT_ALLOWED, "alg_not_allowed", 401, "invalid_token", "algorithm not allowed")       \
	X(UNKNOWN_KEY, "unknown_key", 401, "invalid_token", "unknown key")                         \
	X(KID_REQUIRED, "kid_required", 401, "invalid_token", "key id required")                   \
	X(BAD_SIGNATURE, "bad_signature", 401, "invalid_token", "bad signature")                   \
	X(BAD_CLAIMS, "bad_claims", 401, "invalid_token", "malformed token claims")                \
	X(MISSING_EXP, "missing_exp", 401, "invalid_token", "missing exp")                         \
	X(EXPIRED, "expired", 401, "invalid_token", "token expired")                               \
	X(NOT_YET_VALID, "not_yet_valid", 401, "invalid_token", "token not yet valid")             \
	X(WRONG_ISSUER, "wrong_issuer", 401, "invalid_token", "wrong issuer")                      \
	X(WRONG_AUDIENCE, "wrong_audience", 401, "invalid_token", "wrong audience")                \
	X(MISSING_USER, "missing_user", 401, "invalid_token", "missing user claim")                \
	X(NO_KEYS, "no_keys", 503, "", "no keys loaded")                                           \
	X(INTERNAL, "internal", 500, "", "internal error")

enum spr_jwt_verdict {
#define X(name, counter, sip, err, desc) SPR_JWT_##name,
	SPR_FOREACH_JWT_VERDICT(X)
#undef X
		SPR_JWT__COUNT
};

/* What a good token says, copied out of it (plain data). */
struct spr_jwt_claims {
	int64_t exp;			 /* NumericDate, seconds */
	uint32_t scopes;		 /* SPR_AUTH_SCOPE_* granted by "scope" */
	uint8_t user_len;		 /* bytes of user */
	char user[SPR_JWT_USER_MAX + 1]; /* value of cfg->user_claim, NUL-terminated */
};

/*
 * Token cache hit (token_cache.h). Plain data, here rather than in
 * token_cache.h so that the workers, which look the cache up through the
 * hooks of spr/auth_hook.h and link nothing of auth/, can hold it.
 */
/*
 * A token's keyed fingerprint (auth/token_fp.h), the token cache's key:
 * computed by a worker a pipeline stage before its lookup.
 */
struct spr_token_fp {
	uint64_t w[2];
} __attribute__((aligned(16)));

/* What a hit returns. verdict SPR_JWT_OK: claims valid; else the cached failure. */
struct spr_token_hit {
	uint8_t verdict; /* enum spr_jwt_verdict */
	int64_t expires;
	struct spr_jwt_claims claims; /* exp, scopes, user (OK only) */
};

#endif
