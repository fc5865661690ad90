/* SPDX-License-Identifier: BSD-3-Clause */
/* Inside auth/ only: the layout of a key set, shared by jwks.c and jwt.c. */
#ifndef SPR_JWKS_INT_H
#define SPR_JWKS_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/types.h>

#include "auth-t.h"

/* Signature algorithms sprd knows (RFC 7518 §3.1); "none" is not one. */
#define SPR_FOREACH_JWS_ALG(X)                                                                     \
	X(RS256, "RS256")                                                                          \
	X(RS384, "RS384")                                                                          \
	X(RS512, "RS512")                                                                          \
	X(ES256, "ES256")                                                                          \
	X(ES384, "ES384")                                                                          \
	X(HS256, "HS256")

enum spr_jws_alg {
	SPR_JWS_ALG_UNSET, /* a key without "alg": pinned by kty/crv alone */
#define X(name, text) SPR_JWS_##name,
	SPR_FOREACH_JWS_ALG(X)
#undef X
		SPR_JWS_ALG__COUNT
};

enum spr_jwk_kty { SPR_JWK_RSA, SPR_JWK_EC, SPR_JWK_OCT };
enum spr_jwk_crv { SPR_JWK_CRV_NONE, SPR_JWK_CRV_P256, SPR_JWK_CRV_P384 };

/* Digests of the JWS algorithms, by index into spr_jwt_keys.md and spr_jwt_key.vctx. */
enum spr_jws_md { SPR_JWS_MD_SHA256, SPR_JWS_MD_SHA384, SPR_JWS_MD_SHA512, SPR_JWS_MD__COUNT };

struct spr_jwt_key {
	bool has_kid;
	uint8_t kty; /* enum spr_jwk_kty */
	uint8_t crv; /* enum spr_jwk_crv (EC only) */
	uint8_t alg; /* enum spr_jws_alg: the key's "alg", or UNSET */
	uint16_t kid_len;
	char kid[SPR_JWT_KID_MAX + 1];
	EVP_PKEY *pkey; /* RSA and EC */
	/*
	 * Verification contexts made once at load, initialised for verify
	 * (RSA: PKCS#1 v1.5 padding) with the digest of each algorithm the key
	 * can do (RSA: SHA-256/384/512; EC: its curve's); NULL elsewhere. A
	 * verification only hashes and calls EVP_PKEY_verify on one of them.
	 */
	EVP_PKEY_CTX *vctx[SPR_JWS_MD__COUNT];
	uint32_t sig_bytes; /* RSA: modulus bytes (the signature's exact size) */
	uint8_t *secret;    /* oct */
	uint32_t secret_len;
};

/*
 * An immutable set of keys plus the OpenSSL state verifications reuse
 * (fetched digests, one digest context, the keys' verification contexts):
 * so one thread at a time verifies with a set (sprd: the control thread).
 */
struct spr_jwt_keys {
	uint32_t n;
	EVP_MD *md[SPR_JWS_MD__COUNT];
	EVP_MD_CTX *mdctx;
	struct spr_jwt_key keys[];
};

/* The digest alg signs with. */
enum spr_jws_md spr_jws_alg_md(enum spr_jws_alg alg);

/* enum spr_jws_alg of a JOSE "alg" value, SPR_JWS_ALG_UNSET when unknown (incl. "none"). */
enum spr_jws_alg spr_jws_alg_from(const char *s, size_t len);

/* May key k verify alg (its kty, curve and own "alg")? allow_hmac gates oct keys. */
bool spr_jwk_alg_ok(const struct spr_jwt_key *k, enum spr_jws_alg alg, bool allow_hmac);

/*
 * Strict base64url (RFC 4648 §5, RFC 7515 §2 "without padding"): only
 * A-Z a-z 0-9 - _, no '=', no white space, length % 4 != 1, and unused
 * trailing bits zero (so each byte string has exactly one encoding).
 * Writes (len * 3) / 4 bytes at most. Returns bytes written or -EBADMSG.
 */
int spr_b64url_decode(const char *in, uint32_t len, uint8_t *out, uint32_t cap);

static inline uint32_t
spr_b64url_decoded_max(uint32_t len)
{
	return len / 4 * 3 + 2;
}

#endif
