/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * JWK Sets (RFC 7517) -> an immutable set of verification keys.
 *
 * Accepted keys (RFC 7518 §6): kty "RSA" (n, e; modulus 2048..16384 bits)
 * for RS256/RS384/RS512; kty "EC" with crv "P-256" (ES256) or "P-384"
 * (ES384), x and y of the curve's size and on the curve; kty "oct" (k, at
 * least 32 bytes) for HS256, only when allow_hmac. Key material is strict
 * base64url (no padding, no white space, canonical trailing bits). A key
 * with "use" other than "sig" is skipped; a key carrying private material
 * ("d", "p", ...), an unknown kty or curve, an "alg" its type cannot do, a
 * duplicate kid, more than SPR_JWKS_KEYS_MAX keys or a file over
 * SPR_JWKS_FILE_MAX bytes fail the whole load, so a bad file never
 * replaces a good set.
 *
 * Return conventions: 0 / -errno; on failure why (if whylen > 0) gets a
 * NUL-terminated message naming the key ("key 2 (kid \"k1\"): RSA key
 * without n") and *out is untouched.
 *
 * Context: control thread (the only verifier). A set is immutable once
 * loaded; spr_jwks_reload() swaps the caller's pointer and frees the old set
 * at once, which is safe because nothing but the control thread holds it.
 */
#ifndef SPR_JWKS_H
#define SPR_JWKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SPR_JWKS_KEYS_MAX 64u
#define SPR_JWKS_FILE_MAX (1u << 20)

struct spr_jwt_keys; /* opaque; jwks-int.h inside auth/ */

/* Parse a JWK Set held in memory (len bytes, no NUL needed). */
int spr_jwks_parse(const char *json, size_t len, bool allow_hmac, struct spr_jwt_keys **out,
		   char *why, size_t whylen);

/* Read and parse the JWK Set file at path. -EFBIG over SPR_JWKS_FILE_MAX. */
int spr_jwks_load(const char *path, bool allow_hmac, struct spr_jwt_keys **out, char *why,
		  size_t whylen);

/*
 * Load path into a new set and, on success only, put it in *slot and free
 * the set *slot held. The caller flushes the token cache afterwards (a key
 * that left the set must not keep its tokens valid).
 */
int spr_jwks_reload(struct spr_jwt_keys **slot, const char *path, bool allow_hmac, char *why,
		    size_t whylen);

/* Number of keys in a set (skipped keys not counted). */
uint32_t spr_jwks_count(const struct spr_jwt_keys *ks);

/* Free a set; NULL is fine. */
void spr_jwks_free(struct spr_jwt_keys *ks);

#endif
