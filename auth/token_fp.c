/* SPDX-License-Identifier: BSD-3-Clause */
/* A token's keyed fingerprint (definition and security argument in token_fp.h). */
#include <stddef.h>
#include <string.h>

#include "token_fp.h"

#if defined(__x86_64__)
#include <immintrin.h>

enum spr_fp_impl
spr_fp_best_impl(void)
{
	if (!__builtin_cpu_supports("aes") || !__builtin_cpu_supports("pclmul") ||
	    !__builtin_cpu_supports("sse4.1"))
		return SPR_FP_NONE;
	/* libgcc also checks that the OS saves the ZMM state; VBMI (every CPU with
	 * VPCLMULQDQ has it) is for spr_fp_scan_b64()'s class lookup */
	if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
	    __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vbmi") &&
	    __builtin_cpu_supports("vpclmulqdq"))
		return SPR_FP_VPCLMUL;
	return SPR_FP_PCLMUL;
}

#ifndef unlikely
#define unlikely(x) __builtin_expect(!!(x), 0)
#endif

#define FP_TARGET "aes,pclmul,sse4.1"
#define FP_TARGET_512 "aes,pclmul,sse4.1,avx2,avx512f,avx512bw,avx512vl,avx512vbmi,vpclmulqdq"

/*
 * The 256-bit product hi * x^128 + mid * x^64 + lo (each 128 bits, as the
 * four partial products leave them) reduced modulo x^128 + x^7 + x^2 + x + 1:
 * x^128 = x^7 + x^2 + x + 1 (0x87), so the top 64-bit word folds down by
 * one product with 0x87 into words 1-2, then word 2 into words 0-1.
 */
__attribute__((target(FP_TARGET), always_inline)) static inline __m128i
gf_reduce(__m128i lo, __m128i mid, __m128i hi)
{
	const __m128i p = _mm_set_epi64x(0, 0x87);
	__m128i t_lo = _mm_xor_si128(lo, _mm_slli_si128(mid, 8));
	__m128i t_hi = _mm_xor_si128(hi, _mm_srli_si128(mid, 8));
	__m128i r = _mm_clmulepi64_si128(t_hi, p, 0x01); /* word 3 * 0x87: <= 71 bits */

	t_lo = _mm_xor_si128(t_lo, _mm_slli_si128(r, 8));
	t_hi = _mm_xor_si128(t_hi, _mm_srli_si128(r, 8));
	/* word 2 (now with r's top bits) * 0x87 */
	return _mm_xor_si128(t_lo, _mm_clmulepi64_si128(t_hi, p, 0x00));
}

__attribute__((target(FP_TARGET), always_inline)) static inline __m128i
gf_mul(__m128i a, __m128i b)
{
	__m128i lo = _mm_clmulepi64_si128(a, b, 0x00);
	__m128i hi = _mm_clmulepi64_si128(a, b, 0x11);
	__m128i mid = _mm_xor_si128(_mm_clmulepi64_si128(a, b, 0x01),
				    _mm_clmulepi64_si128(a, b, 0x10));

	return gf_reduce(lo, mid, hi);
}

__attribute__((target(FP_TARGET), always_inline)) static inline __m128i
aes_encrypt(const struct spr_fp_key *k, __m128i x)
{
	x = _mm_xor_si128(x, _mm_load_si128((const void *)k->rk[0]));
	for (int r = 1; r < 10; r++)
		x = _mm_aesenc_si128(x, _mm_load_si128((const void *)k->rk[r]));
	return _mm_aesenclast_si128(x, _mm_load_si128((const void *)k->rk[10]));
}

/* One round key from the previous one (FIPS-197 §5.2 with AESKEYGENASSIST). */
__attribute__((target(FP_TARGET), always_inline)) static inline __m128i
expand(__m128i k, __m128i assist)
{
	assist = _mm_shuffle_epi32(assist, 0xff);
	k = _mm_xor_si128(k, _mm_slli_si128(k, 4));
	k = _mm_xor_si128(k, _mm_slli_si128(k, 4));
	k = _mm_xor_si128(k, _mm_slli_si128(k, 4));
	return _mm_xor_si128(k, assist);
}

__attribute__((target(FP_TARGET))) static void
key_schedule(struct spr_fp_key *k)
{
	__m128i r = _mm_loadu_si128((const void *)k->aes_key);

	/* AESKEYGENASSIST takes its round constant as an immediate */
#define STEP(i, rcon)                                                                             \
	do {                                                                                      \
		_mm_store_si128((void *)k->rk[i], r);                                             \
		r = expand(r, _mm_aeskeygenassist_si128(r, rcon));                                \
	} while (0)
	STEP(0, 0x01);
	STEP(1, 0x02);
	STEP(2, 0x04);
	STEP(3, 0x08);
	STEP(4, 0x10);
	STEP(5, 0x20);
	STEP(6, 0x40);
	STEP(7, 0x80);
	STEP(8, 0x1b);
	STEP(9, 0x36);
#undef STEP
	_mm_store_si128((void *)k->rk[10], r);
}

__attribute__((target(FP_TARGET))) static void
powers(struct spr_fp_key *k)
{
	__m128i h = _mm_loadu_si128((const void *)k->h), p = h;

	for (uint32_t e = 1; e <= SPR_FP_RUN; e++) {
		_mm_store_si128((void *)(k->pw + (SPR_FP_RUN - e) * 16), p);
		p = gf_mul(p, h);
	}
	memset(k->pw + SPR_FP_RUN * 16, 0, 4 * 16);
}

/*
 * Runs of up to SPR_FP_RUN blocks: acc = acc * H^g + sum of the run's
 * blocks b_j * H^(g + 1 - j), where g is the run's block count; the
 * powers for a run of g blocks start at pw[SPR_FP_RUN - g]. A run_fn sums
 * one run (bytes <= SPR_FP_RUN * 16) against powers pw, reduced.
 */
#define RUN_BYTES (SPR_FP_RUN * 16u)

static inline const uint8_t *
run_powers(const struct spr_fp_key *k, uint32_t bytes)
{
	return k->pw + (SPR_FP_RUN - (bytes + 15) / 16) * 16;
}

typedef __m128i run_fn(const uint8_t *pw, const char *tok, uint32_t bytes);

/* P_H(tok): the runs of tok chained by Horner. run: a constant, so the call is direct. */
__attribute__((target(FP_TARGET), always_inline)) static inline __m128i
poly(const struct spr_fp_key *k, const char *tok, uint32_t len, run_fn *run)
{
	uint32_t bytes = len < RUN_BYTES ? len : RUN_BYTES;
	__m128i acc = bytes != 0 ? run(run_powers(k, bytes), tok, bytes) : _mm_setzero_si128();

	for (uint32_t off = bytes; off < len; off += bytes) {
		const uint8_t *pw;

		bytes = len - off < RUN_BYTES ? len - off : RUN_BYTES;
		pw = run_powers(k, bytes);
		acc = _mm_xor_si128(gf_mul(acc, _mm_load_si128((const void *)pw)),
				    run(pw, tok + off, bytes));
	}
	return acc;
}

__attribute__((target(FP_TARGET))) static __m128i
run_pclmul(const uint8_t *pw, const char *tok, uint32_t bytes)
{
	uint32_t g = (bytes + 15) / 16, whole = bytes / 16;
	__m128i lo = _mm_setzero_si128(), mid = lo, hi = lo;

	for (uint32_t j = 0; j < g; j++) {
		__m128i d, p = _mm_load_si128((const void *)(pw + j * 16));

		if (j < whole) {
			d = _mm_loadu_si128((const void *)(tok + j * 16));
		} else {
			uint8_t b[16] = {0};

			memcpy(b, tok + j * 16, bytes - j * 16);
			d = _mm_loadu_si128((const void *)b);
		}
		lo = _mm_xor_si128(lo, _mm_clmulepi64_si128(d, p, 0x00));
		hi = _mm_xor_si128(hi, _mm_clmulepi64_si128(d, p, 0x11));
		mid = _mm_xor_si128(mid, _mm_xor_si128(_mm_clmulepi64_si128(d, p, 0x01),
						       _mm_clmulepi64_si128(d, p, 0x10)));
	}
	return gf_reduce(lo, mid, hi);
}

/* The sum of a zmm's four 128-bit lanes. */
__attribute__((target(FP_TARGET_512), always_inline)) static inline __m128i
lanes_xor(__m512i v)
{
	__m256i x = _mm256_xor_si256(_mm512_castsi512_si256(v), _mm512_extracti64x4_epi64(v, 1));

	return _mm_xor_si128(_mm256_castsi256_si128(x), _mm256_extracti128_si256(x, 1));
}

/*
 * RFC 6750 §2.1 b64token octets (the SIP parser's C_B64 class): 0x80 marks
 * one. Octets from 0x80 up are none.
 */
static const uint8_t b64token[128] __attribute__((aligned(64))) = {
	['+'] = 0x80, ['-'] = 0x80,	    ['.'] = 0x80,
	['/'] = 0x80, ['0' ... '9'] = 0x80, ['A' ... 'Z'] = 0x80,
	['_'] = 0x80, ['a' ... 'z'] = 0x80, ['~'] = 0x80,
};

/* Lanes of d (those in m) that are not b64token octets. */
__attribute__((target(FP_TARGET_512), always_inline)) static inline __mmask64
not_b64token(__m512i d, __mmask64 m)
{
	__m512i cls = _mm512_permutex2var_epi8(_mm512_load_si512((const void *)b64token), d,
					       _mm512_load_si512((const void *)(b64token + 64)));

	/* the class's top bit, unless d's own is set (octets from 0x80 up) */
	return ~_mm512_movepi8_mask(_mm512_andnot_si512(d, cls)) & m;
}

/*
 * The same sum four blocks per step: lane l of step s is block 4s + l of
 * the run, against the power next to it in the table (the table is laid
 * out so that consecutive blocks take consecutive entries). The last step
 * loads only the token's bytes (masked: no read past them), so missing
 * blocks are zero, and their powers (at worst the 4 zero entries past the
 * table) do not matter. With scan (a constant: the compiler drops what it
 * does not use), *bad is the offset of the first octet that is not
 * b64token, or bytes.
 */
__attribute__((target(FP_TARGET_512), always_inline)) static inline __m128i
run_512(const uint8_t *pw, const char *tok, uint32_t bytes, bool scan, uint32_t *bad)
{
	__m512i lo = _mm512_setzero_si512(), mid = lo, hi = lo;
	uint32_t off = 0;

	if (scan)
		*bad = bytes;
	for (; off < bytes; off += 64) {
		/* bytes - off < 64 on the last step only */
		__mmask64 m =
			bytes - off >= 64 ? ~(__mmask64)0 : ((__mmask64)1 << (bytes - off)) - 1;
		__m512i d = bytes - off >= 64 ? _mm512_loadu_si512((const void *)(tok + off))
					      : _mm512_maskz_loadu_epi8(m, tok + off);
		__m512i p = _mm512_loadu_si512((const void *)(pw + off));

		if (scan) {
			__mmask64 x = not_b64token(d, m);

			if (unlikely(x != 0) && *bad == bytes)
				*bad = off + (uint32_t)__builtin_ctzll(x);
		}
		lo = _mm512_xor_si512(lo, _mm512_clmulepi64_epi128(d, p, 0x00));
		hi = _mm512_xor_si512(hi, _mm512_clmulepi64_epi128(d, p, 0x11));
		mid = _mm512_ternarylogic_epi64(mid, _mm512_clmulepi64_epi128(d, p, 0x01),
						_mm512_clmulepi64_epi128(d, p, 0x10), 0x96);
	}
	return gf_reduce(lanes_xor(lo), lanes_xor(mid), lanes_xor(hi));
}

__attribute__((target(FP_TARGET_512))) static __m128i
run_vpclmul(const uint8_t *pw, const char *tok, uint32_t bytes)
{
	return run_512(pw, tok, bytes, false, NULL);
}

__attribute__((target(FP_TARGET))) static void
finish(const struct spr_fp_key *k, __m128i poly, uint32_t len, struct spr_token_fp *out)
{
	__m128i x = aes_encrypt(k, _mm_xor_si128(poly, _mm_cvtsi64_si128((long long)len)));

	_mm_store_si128((void *)out->w, x);
}

__attribute__((target(FP_TARGET_512))) static void
fp_vpclmul(const struct spr_fp_key *k, const char *tok, uint32_t len, struct spr_token_fp *out)
{
	finish(k, poly(k, tok, len, run_vpclmul), len, out);
}

__attribute__((target(FP_TARGET))) static void
fp_pclmul(const struct spr_fp_key *k, const char *tok, uint32_t len, struct spr_token_fp *out)
{
	finish(k, poly(k, tok, len, run_pclmul), len, out);
}

void
spr_fp_key_init(struct spr_fp_key *k, const uint8_t rnd[32], enum spr_fp_impl impl)
{
	static const uint8_t zero[16];

	memset(k, 0, sizeof(*k));
	memcpy(k->aes_key, rnd, 16);
	memcpy(k->h, rnd + 16, 16);
	if (memcmp(k->h, zero, 16) == 0)
		k->h[0] = 1;
	if (impl == SPR_FP_NONE)
		return;
	key_schedule(k);
	powers(k);
}

void
spr_fp_compute(const struct spr_fp_key *k, enum spr_fp_impl impl, const char *tok, uint32_t len,
	       struct spr_token_fp *out)
{
	if (impl == SPR_FP_VPCLMUL)
		fp_vpclmul(k, tok, len, out);
	else
		fp_pclmul(k, tok, len, out);
}

/* One run: the powers start where a run of that many blocks starts (as in poly()). */
__attribute__((target(FP_TARGET_512))) static const char *
scan_b64(const struct spr_fp_key *k, const char *p, const char *e, uint64_t poly[2])
{
	uint32_t bytes = (uint32_t)(e - p), bad;

	_mm_storeu_si128((void *)poly, run_512(run_powers(k, bytes), p, bytes, true, &bad));
	return p + bad;
}

const char *
spr_fp_scan_b64(const struct spr_fp_key *k, enum spr_fp_impl impl, const char *p, const char *e,
		uint64_t poly[2])
{
	if (impl != SPR_FP_VPCLMUL || p >= e || e - p > (ptrdiff_t)RUN_BYTES)
		return NULL;
	return scan_b64(k, p, e, poly);
}

__attribute__((target(FP_TARGET))) void
spr_fp_finish(const struct spr_fp_key *k, const uint64_t poly[2], uint32_t len,
	      struct spr_token_fp *out)
{
	finish(k, _mm_loadu_si128((const void *)poly), len, out);
}

#else /* not x86-64: the cache keys by SHA-256 */

enum spr_fp_impl
spr_fp_best_impl(void)
{
	return SPR_FP_NONE;
}

void
spr_fp_key_init(struct spr_fp_key *k, const uint8_t rnd[32], enum spr_fp_impl impl)
{
	(void)impl;
	memset(k, 0, sizeof(*k));
	memcpy(k->aes_key, rnd, 16);
	memcpy(k->h, rnd + 16, 16);
}

void
spr_fp_compute(const struct spr_fp_key *k, enum spr_fp_impl impl, const char *tok, uint32_t len,
	       struct spr_token_fp *out)
{
	(void)k;
	(void)impl;
	(void)tok;
	(void)len;
	memset(out, 0, sizeof(*out));
}

const char *
spr_fp_scan_b64(const struct spr_fp_key *k, enum spr_fp_impl impl, const char *p, const char *e,
		uint64_t poly[2])
{
	(void)k;
	(void)impl;
	(void)p;
	(void)e;
	(void)poly;
	return NULL;
}

void
spr_fp_finish(const struct spr_fp_key *k, const uint64_t poly[2], uint32_t len,
	      struct spr_token_fp *out)
{
	(void)k;
	(void)poly;
	(void)len;
	memset(out, 0, sizeof(*out));
}
#endif
