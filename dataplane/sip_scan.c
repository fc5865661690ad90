/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Block classification for the SIP parser (sip_scan.h): portable C, SSE2,
 * AVX2 and AVX-512BW, chosen once at run time. All three give the same bitmaps; the
 * portable one is the definition and tests/unit/test_sip_scan.c holds the
 * others to it.
 */
#include <errno.h>
#include <string.h>

#include <spr/str.h>

#include "sip_scan.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define SCAN_X86 1
#endif

/* ALPHA / DIGIT / "-" / "." : the octets that are not special. */
static const uint8_t andot[256] = {
	['0' ... '9'] = 1, ['A' ... 'Z'] = 1, ['a' ... 'z'] = 1, ['-'] = 1, ['.'] = 1,
};

/*
 * Blocks [b0, b1) of p[0..len) with the full-block classifier blocks(): the
 * block holding len from the last 64 octets shifted down (or a NUL-padded
 * copy when len < 64), the blocks past it all special.
 */
#define SCAN_RANGE(blocks, p, len, b0, b1, lf, sp)                                                 \
	do {                                                                                       \
		uint32_t full_ = (len) / SPR_SIP_SCAN_BLK;                                         \
		if ((b0) < full_) {                                                                \
			uint32_t n_ = ((b1) < full_ ? (b1) : full_) - (b0);                        \
			blocks((p) + (size_t)(b0)*SPR_SIP_SCAN_BLK, n_, (lf) + (b0), (sp) + (b0)); \
			(b0) += n_;                                                                \
		}                                                                                  \
		if ((b0) < (b1) && (b0) == full_) {                                                \
			uint32_t rem_ = (len)-full_ * SPR_SIP_SCAN_BLK;                            \
			if (full_ > 0 && rem_ > 0) {                                               \
				uint64_t lf_, sp_;                                                 \
				blocks((p) + (len)-SPR_SIP_SCAN_BLK, 1, &lf_, &sp_);               \
				(lf)[b0] = lf_ >> (SPR_SIP_SCAN_BLK - rem_);                       \
				(sp)[b0] = sp_ >> (SPR_SIP_SCAN_BLK - rem_) | ~0ull << rem_;       \
			} else if (rem_ > 0) {                                                     \
				char tail_[SPR_SIP_SCAN_BLK] = {0};                                \
				memcpy(tail_, (p), rem_);                                          \
				blocks(tail_, 1, (lf) + (b0), (sp) + (b0));                        \
			} else {                                                                   \
				(lf)[b0] = 0;                                                      \
				(sp)[b0] = ~0ull;                                                  \
			}                                                                          \
			(b0)++;                                                                    \
		}                                                                                  \
		for (; (b0) < (b1); (b0)++) {                                                      \
			(lf)[b0] = 0;                                                              \
			(sp)[b0] = ~0ull;                                                          \
		}                                                                                  \
	} while (0)

static inline void
scalar_blocks(const char *p, uint32_t n, uint64_t *lfo, uint64_t *spo)
{
	for (uint32_t b = 0; b < n; b++, p += SPR_SIP_SCAN_BLK) {
		uint64_t lf = 0, sp = 0;
		for (unsigned i = 0; i < SPR_SIP_SCAN_BLK; i++) {
			unsigned char c = (unsigned char)p[i];
			lf |= (uint64_t)(c == '\n') << i;
			sp |= (uint64_t)(andot[c] == 0) << i;
		}
		lfo[b] = lf;
		spo[b] = sp;
	}
}

static void
scan_scalar(const char *p, uint32_t len, uint32_t b0, uint32_t b1, uint64_t *lf, uint64_t *sp)
{
	SCAN_RANGE(scalar_blocks, p, len, b0, b1, lf, sp);
}

#ifdef SCAN_X86
/* One bit per octet of the 16 at p: LF in *lf, special in the result. */
__attribute__((target("sse2"))) static inline unsigned
sse2_16(const char *p, unsigned *lf)
{
	const __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
	const __m128i name = _mm_or_si128(spr_sse2_alnum(x), spr_sse2_in_range(x, '-', 2));

	*lf = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8('\n')));
	return ~(unsigned)_mm_movemask_epi8(name) & 0xffffu;
}

__attribute__((target("sse2"))) static inline void
sse2_blocks(const char *p, uint32_t n, uint64_t *lf, uint64_t *sp)
{
	for (uint32_t b = 0; b < n; b++, p += SPR_SIP_SCAN_BLK) {
		unsigned l0, l1, l2, l3;
		uint64_t s0 = sse2_16(p, &l0), s1 = sse2_16(p + 16, &l1);
		uint64_t s2 = sse2_16(p + 32, &l2), s3 = sse2_16(p + 48, &l3);

		lf[b] = l0 | (uint64_t)l1 << 16 | (uint64_t)l2 << 32 | (uint64_t)l3 << 48;
		sp[b] = s0 | s1 << 16 | s2 << 32 | s3 << 48;
	}
}

__attribute__((target("sse2"))) static void
scan_sse2(const char *p, uint32_t len, uint32_t b0, uint32_t b1, uint64_t *lf, uint64_t *sp)
{
	SCAN_RANGE(sse2_blocks, p, len, b0, b1, lf, sp);
}

/*
 * Set membership by nibbles: lo_tab[c & 15] holds bit h when the octet
 * h * 16 + (c & 15) is ALPHA, DIGIT, '-' or '.', and hi_tab[c >> 4] is
 * bit (c >> 4) (none for octets of 0x80 and up), so their AND is nonzero
 * exactly for those octets.
 */
#define LO_TAB                                                                                     \
	(char)0xa8, (char)0xf8, (char)0xf8, (char)0xf8, (char)0xf8, (char)0xf8, (char)0xf8,        \
		(char)0xf8, (char)0xf8, (char)0xf8, (char)0xf0, 0x50, 0x50, 0x54, 0x54, 0x50
#define HI_TAB 1, 2, 4, 8, 16, 32, 64, (char)0x80, 0, 0, 0, 0, 0, 0, 0, 0

/* One bit per octet of the 32 at p: LF in *lf, special in the result. */
#define AVX2_TARGET __attribute__((target("avx2,bmi,bmi2,popcnt,lzcnt,tune=haswell")))

AVX2_TARGET static inline uint32_t
avx2_32(const char *p, uint32_t *lf)
{
	const __m256i lo_tab = _mm256_setr_epi8(LO_TAB, LO_TAB);
	const __m256i hi_tab = _mm256_setr_epi8(HI_TAB, HI_TAB);
	const __m256i nib = _mm256_set1_epi8(0x0f);
	const __m256i x = _mm256_loadu_si256((const __m256i *)(const void *)p);
	const __m256i lo = _mm256_shuffle_epi8(lo_tab, _mm256_and_si256(x, nib));
	const __m256i hi =
		_mm256_shuffle_epi8(hi_tab, _mm256_and_si256(_mm256_srli_epi16(x, 4), nib));
	const __m256i in = _mm256_and_si256(lo, hi);

	*lf = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(x, _mm256_set1_epi8('\n')));
	return (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(in, _mm256_setzero_si256()));
}

AVX2_TARGET static inline void
avx2_blocks(const char *p, uint32_t n, uint64_t *lfo, uint64_t *spo)
{
	for (uint32_t b = 0; b < n; b++, p += SPR_SIP_SCAN_BLK) {
		uint32_t l0, l1, s0 = avx2_32(p, &l0), s1 = avx2_32(p + 32, &l1);
		uint64_t lf = (uint64_t)l1 << 32 | l0, sp = (uint64_t)s1 << 32 | s0;

		/* two scalar stores (left alone, gcc packs the halves in vector registers) */
		__asm__("" : "+r"(lf), "+r"(sp));
		lfo[b] = lf;
		spo[b] = sp;
	}
}

AVX2_TARGET static void
scan_avx2(const char *p, uint32_t len, uint32_t b0, uint32_t b1, uint64_t *lf, uint64_t *sp)
{
	SCAN_RANGE(avx2_blocks, p, len, b0, b1, lf, sp);
}

#define AVX512_TARGET __attribute__((target("avx512f,avx512bw,avx2,bmi,bmi2,popcnt,lzcnt")))

/* The same lookup on a whole block at once, the bitmaps straight from mask registers. */
AVX512_TARGET static inline void
avx512_blocks(const char *p, uint32_t n, uint64_t *lfo, uint64_t *spo)
{
	const __m512i lo_tab = _mm512_broadcast_i32x4(_mm_setr_epi8(LO_TAB));
	const __m512i hi_tab = _mm512_broadcast_i32x4(_mm_setr_epi8(HI_TAB));
	const __m512i nib = _mm512_set1_epi8(0x0f);
	const __m512i lf = _mm512_set1_epi8('\n');

	for (uint32_t b = 0; b < n; b++, p += SPR_SIP_SCAN_BLK) {
		const __m512i x = _mm512_loadu_si512((const void *)p);
		const __m512i lo = _mm512_shuffle_epi8(lo_tab, _mm512_and_si512(x, nib));
		const __m512i hi =
			_mm512_shuffle_epi8(hi_tab, _mm512_and_si512(_mm512_srli_epi16(x, 4), nib));

		lfo[b] = _mm512_cmpeq_epi8_mask(x, lf);
		spo[b] = _mm512_testn_epi8_mask(lo, hi);
	}
}

AVX512_TARGET static void
scan_avx512(const char *p, uint32_t len, uint32_t b0, uint32_t b1, uint64_t *lf, uint64_t *sp)
{
	SCAN_RANGE(avx512_blocks, p, len, b0, b1, lf, sp);
}
#endif

static void (*const scan_range[SPR_SIP_SCAN__COUNT])(const char *, uint32_t, uint32_t, uint32_t,
						     uint64_t *, uint64_t *) = {
	[SPR_SIP_SCAN_SCALAR] = scan_scalar,
#ifdef SCAN_X86
	[SPR_SIP_SCAN_SSE2] = scan_sse2,
	[SPR_SIP_SCAN_AVX2] = scan_avx2,
	[SPR_SIP_SCAN_AVX512] = scan_avx512,
#endif
};

static const char *const scan_names[SPR_SIP_SCAN__COUNT] = {
	[SPR_SIP_SCAN_SCALAR] = "scalar",
	[SPR_SIP_SCAN_SSE2] = "sse2",
	[SPR_SIP_SCAN_AVX2] = "avx2",
	[SPR_SIP_SCAN_AVX512] = "avx512bw",
};

bool
spr_sip_scan_supported(enum spr_sip_scan_isa isa)
{
	switch (isa) {
	case SPR_SIP_SCAN_SCALAR:
		return true;
#ifdef SCAN_X86
	case SPR_SIP_SCAN_SSE2:
		__builtin_cpu_init();
		return __builtin_cpu_supports("sse2");
	case SPR_SIP_SCAN_AVX2:
		/* libgcc checks that the OS saves the YMM state too */
		__builtin_cpu_init();
		return __builtin_cpu_supports("avx2");
	case SPR_SIP_SCAN_AVX512:
		/* libgcc checks that the OS saves the opmask and ZMM state too */
		__builtin_cpu_init();
		return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
#endif
	default:
		return false;
	}
}

const char *
spr_sip_scan_name(enum spr_sip_scan_isa isa)
{
	return (unsigned)isa < SPR_SIP_SCAN__COUNT ? scan_names[isa] : "invalid";
}

/* The implementation in use; -1 until resolved. Every thread resolves to the same. */
static int scan_sel = -1;

enum spr_sip_scan_isa
spr_sip_scan_selected(void)
{
	int s = __atomic_load_n(&scan_sel, __ATOMIC_RELAXED);

	if (s < 0) {
		s = SPR_SIP_SCAN__COUNT - 1;
		while (s > 0 && !spr_sip_scan_supported((enum spr_sip_scan_isa)s))
			s--;
		__atomic_store_n(&scan_sel, s, __ATOMIC_RELAXED);
	}
	return (enum spr_sip_scan_isa)s;
}

int
spr_sip_scan_select(enum spr_sip_scan_isa isa)
{
	if ((unsigned)isa >= SPR_SIP_SCAN__COUNT || !spr_sip_scan_supported(isa))
		return -ENOTSUP;
	__atomic_store_n(&scan_sel, (int)isa, __ATOMIC_RELAXED);
	return 0;
}

void
spr_sip_scan_isa(enum spr_sip_scan_isa isa, const char *p, uint32_t len, uint32_t b0, uint32_t b1,
		 uint64_t *lf, uint64_t *sp)
{
	scan_range[isa](p, len, b0, b1, lf, sp);
}
void
spr_sip_scan(const char *p, uint32_t len, uint32_t b0, uint32_t b1, uint64_t *lf, uint64_t *sp)
{
	int s = __atomic_load_n(&scan_sel, __ATOMIC_RELAXED);

	scan_range[likely(s >= 0) ? s : (int)spr_sip_scan_selected()](p, len, b0, b1, lf, sp);
}
