/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The SIP parser's first look at a message: each 64-octet block classified
 * at once into two bitmaps, so that the parser finds line ends and the end
 * of a run of name, host or token characters with a shift and a count of
 * trailing zeros instead of a test per octet.
 *
 *   lf  octets equal to LF
 *   sp  "special" octets: every octet that is not ALPHA, DIGIT, '-' or '.'
 *       (so every delimiter of the SIP grammar, LWS and CR, and every octet
 *       outside US-ASCII)
 *
 * Bit i of block b stands for octet 64 * b + i. Octets at or past the end
 * of what is classified count as special and never as LF, so a search for
 * the next special octet always stops by the end.
 *
 * Several implementations give identical bitmaps: portable C (the
 * reference), SSE2 (any x86-64), AVX2 and AVX-512BW (each chosen at run
 * time when the CPU has it; valgrind hides AVX-512, so callgrind counts
 * the AVX2 one). The parser uses the one spr_sip_scan_select() chose, by default
 * the fastest the CPU runs. None reads at or past p + len.
 */
#ifndef SPR_SIP_SCAN_H
#define SPR_SIP_SCAN_H

#include <stdbool.h>
#include <stdint.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define SPR_SIP_SCAN_BLK 64u

#ifdef __SSE2__
/* Lanes of x (0xff) whose octet is in [lo, lo + n): a signed compare after biasing lo to -128. */
static inline __m128i
spr_sse2_in_range(__m128i x, char lo, int n)
{
	return _mm_cmplt_epi8(_mm_add_epi8(x, _mm_set1_epi8((char)(0x80 - lo))),
			      _mm_set1_epi8((char)(0x80 + n)));
}

/* Lanes of x that are ASCII letters or digits. */
static inline __m128i
spr_sse2_alnum(__m128i x)
{
	return _mm_or_si128(spr_sse2_in_range(_mm_or_si128(x, _mm_set1_epi8(0x20)), 'a', 26),
			    spr_sse2_in_range(x, '0', 10));
}
#endif

enum spr_sip_scan_isa {
	SPR_SIP_SCAN_SCALAR = 0,
	SPR_SIP_SCAN_SSE2,
	SPR_SIP_SCAN_AVX2,
	SPR_SIP_SCAN_AVX512, /* AVX-512BW */
	SPR_SIP_SCAN__COUNT
};

/* Whether this build and this CPU can run isa. */
bool spr_sip_scan_supported(enum spr_sip_scan_isa isa);

/*
 * The implementation spr_sip_parse() uses from now on, in every thread: 0,
 * or -ENOTSUP when spr_sip_scan_supported(isa) is false. For tests and
 * benchmarks; without a call the fastest supported one is used.
 */
int spr_sip_scan_select(enum spr_sip_scan_isa isa);

/* The implementation in use (resolved on first use). */
enum spr_sip_scan_isa spr_sip_scan_selected(void);

const char *spr_sip_scan_name(enum spr_sip_scan_isa isa);

/*
 * Blocks [b0, b1) of the message p[0..len) into lf[b0..b1) and sp[b0..b1)
 * (two arrays: a bitmap is found with one scaled index), with isa (which
 * must be supported). A block reaching past len is classified as if the
 * octets from len on were NUL: special, not LF.
 */
void spr_sip_scan_isa(enum spr_sip_scan_isa isa, const char *p, uint32_t len, uint32_t b0,
		      uint32_t b1, uint64_t *lf, uint64_t *sp);

/* The same with the selected implementation (what the parser calls). */
void spr_sip_scan(const char *p, uint32_t len, uint32_t b0, uint32_t b1, uint64_t *lf,
		  uint64_t *sp);

#endif /* SPR_SIP_SCAN_H */
