/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Minting ES256 tokens for tests and benchmarks, with libjwt (what it is
 * good at; sprd never verifies with it, see jwt_verify.h): a fresh P-256
 * key, its public half as a one-key JWK Set, and tokens signed with it.
 * Not used by sprd itself. Context: one thread at a time per minter.
 */
#ifndef SPR_JWT_MINT_H
#define SPR_JWT_MINT_H

#include <stddef.h>

struct spr_jwt_minter; /* opaque */

/* A new P-256 key named kid (1..64 bytes of [A-Za-z0-9._-]). NULL on failure. */
struct spr_jwt_minter *spr_jwt_minter_new(const char *kid);
void spr_jwt_minter_free(struct spr_jwt_minter *m);

/* {"keys":[{"kty":"EC","crv":"P-256","kid":...,"use":"sig","alg":"ES256","x":...,"y":...}]} */
const char *spr_jwt_minter_jwks(const struct spr_jwt_minter *m);

/*
 * An ES256 JWS (header alg, typ, kid) over the claims object claims_json,
 * NUL-terminated into out. Returns its length, or -ENOSPC / -EINVAL / -EIO.
 */
int spr_jwt_mint(struct spr_jwt_minter *m, const char *claims_json, char *out, size_t cap);

/*
 * in[0..len) as base64url without padding, NUL-terminated into out, which
 * must hold (len + 2) / 3 * 4 + 1 bytes. Returns the characters written.
 * For making tokens (here, in tests and tools); sprd itself only decodes.
 */
size_t spr_b64url_encode(const void *in, size_t len, char *out);

#endif
