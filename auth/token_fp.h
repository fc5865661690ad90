/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A token's keyed fingerprint: what the token cache keys its entries by
 * (token_cache.h; docs/architecture.md "Token cache" says why not SHA-256).
 *
 *   fp = AES-128_K( P_H(tok) xor L )
 *
 * - GF(2^128) = GF(2)[x] / (x^128 + x^7 + x^2 + x + 1); an element is 16
 *   bytes read as a little-endian 128-bit integer, bit i the coefficient
 *   of x^i (no bit reflection, unlike GCM's GHASH).
 * - tok is cut into n = ceil(len / 16) blocks b_1 .. b_n, the last padded
 *   with zero bytes; P_H(tok) = sum of b_i * H^(n + 1 - i) (Horner: the
 *   last block times H).
 * - L: len as a little-endian 64-bit integer in bytes 0-7, zero after.
 * - H (nonzero) and K: 32 secret random bytes per cache, never shown.
 *
 * Why it is a safe key: for two different tokens of at most l blocks,
 * P_H(a) xor L_a = P_H(b) xor L_b is a nonzero polynomial equation in H of
 * degree <= l (equal padded blocks with different lengths differ in L), so
 * it holds for at most l of the 2^128 values of H: whoever does not know H
 * makes a given cached token's fingerprint with another token with
 * probability <= l / 2^128 per try (l <= 4,096 at the 64 KiB ceiling of
 * --max-token-bytes). The AES layer makes fingerprints look random even to
 * someone who learns a few bits of many of them (which set a token picks,
 * from timing), so nothing about H leaks through them.
 *
 * Cost: one carry-less product per 16-byte block, summed unreduced and
 * reduced once, then one AES. With VPCLMULQDQ four blocks per instruction
 * (the table of powers of H is precomputed); with PCLMULQDQ one. Time
 * depends on len only.
 */
#ifndef SPR_TOKEN_FP_H
#define SPR_TOKEN_FP_H

#include <stdbool.h>
#include <stdint.h>

#include "auth-t.h"

/* Blocks summed against one run of the power table; longer tokens chain runs by Horner. */
#define SPR_FP_RUN 256u

enum spr_fp_impl {
	SPR_FP_NONE = 0,    /* the CPU has neither: the cache keys by SHA-256 instead */
	SPR_FP_PCLMUL = 1,  /* AES-NI + PCLMULQDQ, one block per product */
	SPR_FP_VPCLMUL = 2, /* + AVX-512BW/VL/VBMI and VPCLMULQDQ, four blocks per product */
};

struct spr_fp_key {
	uint8_t rk[11][16] __attribute__((aligned(16))); /* AES-128 round keys */
	uint8_t aes_key[16];
	uint8_t h[16];
	/* pw[m] = H^(SPR_FP_RUN - m), m < SPR_FP_RUN, then 4 zero elements */
	uint8_t pw[(SPR_FP_RUN + 4) * 16] __attribute__((aligned(64)));
};

/* The best implementation this CPU runs. */
enum spr_fp_impl spr_fp_best_impl(void);

/*
 * Fill k from 32 random bytes (AES key, then H; an all-zero H becomes 1).
 * impl: what k will be used with (the AES round keys and the powers need
 * AES-NI and PCLMULQDQ; SPR_FP_NONE fills aes_key and h only).
 */
void spr_fp_key_init(struct spr_fp_key *k, const uint8_t rnd[32], enum spr_fp_impl impl);

/* fp of tok with impl (not SPR_FP_NONE, and one the CPU runs). Any thread. */
void spr_fp_compute(const struct spr_fp_key *k, enum spr_fp_impl impl, const char *tok,
		    uint32_t len, struct spr_token_fp *out);

/*
 * The SIP parser's check of a Bearer token and the fingerprint's costly
 * part in one pass over [p, e): returns the first octet of it outside
 * b64token (RFC 6750 §2.1: ALPHA DIGIT - . _ ~ + /), e when none, as the
 * parser's own check would, and puts P_H of all of [p, e) in poly (the
 * sum, reduced; spr_fp_finish() makes the fingerprint of it). NULL, poly
 * untouched, when it cannot: impl not SPR_FP_VPCLMUL, p == e, or more
 * than SPR_FP_RUN blocks. The token costs a parser that uses it one pass
 * instead of two. Any thread.
 */
const char *spr_fp_scan_b64(const struct spr_fp_key *k, enum spr_fp_impl impl, const char *p,
			    const char *e, uint64_t poly[2]);

/* fp of a token of len bytes whose P_H is poly (spr_fp_scan_b64()). Any thread. */
void spr_fp_finish(const struct spr_fp_key *k, const uint64_t poly[2], uint32_t len,
		   struct spr_token_fp *out);

#endif /* SPR_TOKEN_FP_H */
