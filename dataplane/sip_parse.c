/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Zero-copy SIP message parser (RFC 3261 §7, §20, §25.1).
 *
 * One pass: each header line is delimited once (a vector search for LF, a
 * look at the next octet for folding) and its value parsed once within those
 * bounds, so no parser looks past the line it was given; vector loads may
 * cover later octets of the buffer but never reach buf + len and never match
 * there. Faults are recorded, not
 * returned early, so that the header fields a 400 needs are still parsed.
 * Lines end with CRLF only (RFC 3261 §7.5); a bare CR or LF is a fault.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <spr/sip_msg.h>

#include "sip_scan.h"

/* Character classes (RFC 3261 §25.1). */
enum {
	C_TOKEN = 1u << 0, /* token */
	C_WORD = 1u << 1,  /* word (Call-ID) */
	C_LWS = 1u << 2,   /* SP / HTAB / CR / LF: inside a delimited value, CRLF is a fold */
	C_DIGIT = 1u << 3,
	C_HOST = 1u << 4, /* hostname / IPv4address characters */
	C_B64 = 1u << 5,  /* b64token (RFC 6750 §2.1) */
	C_HEX = 1u << 6,
	C_QD = 1u << 7, /* qdtext that needs no further look: %x20-7E but '"' and '\\', and 8-bit */
	C_GENV = 1u << 8, /* token, or ':' of an IPv6address (gen-value) */
	/* SIP-URI runs of the fast path (uri_fast()), escapes left out */
	C_UUSER = 1u << 9,   /* unreserved / user-unreserved but ';', '?' and ',' */
	C_UPARAM = 1u << 10, /* unreserved / param-unreserved (paramchar) */
	C_WSP = 1u << 11,    /* SP / HTAB: a line starting with one continues the previous (fold) */
};

#define C_TOK (C_TOKEN | C_GENV)
#define C_UBOTH (C_UUSER | C_UPARAM) /* unreserved, "&", "+", "$", "/" */
#define C_ALNUM (C_TOK | C_WORD | C_HOST | C_B64 | C_QD | C_UBOTH)

static const uint16_t cc[256] = {
	['0' ... '9'] = C_ALNUM | C_DIGIT | C_HEX,
	['A' ... 'F'] = C_ALNUM | C_HEX,
	['G' ... 'Z'] = C_ALNUM,
	['a' ... 'f'] = C_ALNUM | C_HEX,
	['g' ... 'z'] = C_ALNUM,
	['-'] = C_TOK | C_WORD | C_HOST | C_B64 | C_QD | C_UBOTH,
	['.'] = C_TOK | C_WORD | C_HOST | C_B64 | C_QD | C_UBOTH,
	['_'] = C_TOK | C_WORD | C_B64 | C_QD | C_UBOTH,
	['~'] = C_TOK | C_WORD | C_B64 | C_QD | C_UBOTH,
	['+'] = C_TOK | C_WORD | C_B64 | C_QD | C_UBOTH,
	['!'] = C_TOK | C_WORD | C_QD | C_UBOTH,
	['%'] = C_TOK | C_WORD | C_QD,
	['*'] = C_TOK | C_WORD | C_QD | C_UBOTH,
	['`'] = C_TOK | C_WORD | C_QD,
	['\''] = C_TOK | C_WORD | C_QD | C_UBOTH,
	['/'] = C_WORD | C_B64 | C_QD | C_UBOTH,
	['('] = C_WORD | C_QD | C_UBOTH,
	[')'] = C_WORD | C_QD | C_UBOTH,
	['<'] = C_WORD | C_QD,
	['>'] = C_WORD | C_QD,
	[':'] = C_WORD | C_QD | C_GENV | C_UPARAM,
	['\\'] = C_WORD,
	['"'] = C_WORD,
	['['] = C_WORD | C_QD | C_UPARAM,
	[']'] = C_WORD | C_QD | C_UPARAM,
	['?'] = C_WORD | C_QD,
	['{'] = C_WORD | C_QD,
	['}'] = C_WORD | C_QD,
	[' '] = C_LWS | C_QD | C_WSP,
	['\t'] = C_LWS | C_QD | C_WSP,
	['\r'] = C_LWS,
	['\n'] = C_LWS,
	['#'] = C_QD,
	['$'] = C_QD | C_UBOTH,
	['&'] = C_QD | C_UBOTH,
	[','] = C_QD,
	[';'] = C_QD,
	['='] = C_QD | C_UUSER,
	['@'] = C_QD,
	['^'] = C_QD,
	['|'] = C_QD,
	[0x80 ... 0xff] = C_QD,
};

static inline bool
is_c(char c, unsigned mask)
{
	return (cc[(unsigned char)c] & mask) != 0;
}

static inline const char *
skip_lws(const char *p, const char *e)
{
	while (p < e && is_c(*p, C_LWS))
		p++;
	return p;
}

static inline const char *
rtrim_lws(const char *s, const char *e)
{
	while (e > s && is_c(e[-1], C_LWS))
		e--;
	return e;
}

/* End of the run of class mask at p; four octets per bound check. */
static inline const char *
skip_class(const char *p, const char *e, unsigned mask)
{
	if (e - p >= 4) {
		const char *e4 = e - 4;
		do {
			if (!is_c(p[0], mask))
				return p;
			if (!is_c(p[1], mask))
				return p + 1;
			if (!is_c(p[2], mask))
				return p + 2;
			if (!is_c(p[3], mask))
				return p + 3;
			p += 4;
		} while (p <= e4);
	}
	while (p < e && is_c(*p, mask))
		p++;
	return p;
}

#ifdef __SSE2__
/* Octets among the 16 at p that are alphanumeric, '-' or '.', one bit each. */
static inline unsigned
andot16(const char *p)
{
	const __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);

	return (unsigned)_mm_movemask_epi8(
		_mm_or_si128(spr_sse2_alnum(x), spr_sse2_in_range(x, '-', 2)));
}
#endif

#ifdef __SSE2__
/* Octets among the 16 at p in b64token (RFC 6750 §2.1: ALPHA DIGIT - . _ ~ + /), one bit each. */
static inline unsigned
b64tok16(const char *p)
{
	const __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
	/* '-' '.' '/' are 0x2d..0x2f */
	const __m128i hs = spr_sse2_in_range(x, '-', 3);
	const __m128i ot = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('+')),
						     _mm_cmpeq_epi8(x, _mm_set1_epi8('_'))),
					_mm_cmpeq_epi8(x, _mm_set1_epi8('~')));

	return (unsigned)_mm_movemask_epi8(
		_mm_or_si128(spr_sse2_alnum(x), _mm_or_si128(hs, ot)));
}
#endif

#if defined(__x86_64__)
#define B64_AVX2 __attribute__((target("avx2,bmi,tune=haswell")))

/*
 * b64token by nibble tables (one pshufb each): an octet x is in the set iff
 * lo[x & 15] & hi[x >> 4] != 0. Bits: 0 "+-./" (0x2b, 0x2d-0x2f), 1 digits,
 * 2 letters A-O a-o (0x41-0x4f, 0x61-0x6f), 3 P-Z p-z, 4 '_' (0x5f), 5 '~'
 * (0x7e). hi is 0 from 8 on and pshufb gives 0 for an index >= 0x80, so
 * every non-ASCII octet is out.
 */
B64_AVX2 static inline __m256i
b64tok32_zero(const char *p)
{
	const __m256i lo =
		_mm256_setr_epi8(0x0a, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0c,
				 0x05, 0x04, 0x05, 0x25, 0x15, 0x0a, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e,
				 0x0e, 0x0e, 0x0e, 0x0e, 0x0c, 0x05, 0x04, 0x05, 0x25, 0x15);
	const __m256i hi =
		_mm256_setr_epi8(0, 0, 0x01, 0x02, 0x04, 0x18, 0x04, 0x28, 0, 0, 0, 0, 0, 0, 0, 0,
				 0, 0, 0x01, 0x02, 0x04, 0x18, 0x04, 0x28, 0, 0, 0, 0, 0, 0, 0, 0);
	const __m256i x = _mm256_loadu_si256((const __m256i *)(const void *)p);
	const __m256i h = _mm256_and_si256(_mm256_srli_epi16(x, 4), _mm256_set1_epi8(0x0f));

	/* lanes 0 where the octet is not in b64token */
	return _mm256_and_si256(_mm256_shuffle_epi8(lo, x), _mm256_shuffle_epi8(hi, h));
}

/* Octets among the 32 at p not in b64token, one bit each. */
B64_AVX2 static inline uint32_t
b64bad32(const char *p)
{
	return (uint32_t)_mm256_movemask_epi8(
		_mm256_cmpeq_epi8(b64tok32_zero(p), _mm256_setzero_si256()));
}

/* Does any of the n * 32 octets at p (n 2 or 4) fall outside b64token? */
B64_AVX2 static inline bool
b64bad_any(const char *p, int n)
{
	__m256i z = _mm256_min_epu8(b64tok32_zero(p), b64tok32_zero(p + 32));

	if (n == 4)
		z = _mm256_min_epu8(z,
				    _mm256_min_epu8(b64tok32_zero(p + 64), b64tok32_zero(p + 96)));
	return !_mm256_testz_si256(_mm256_cmpeq_epi8(z, _mm256_setzero_si256()),
				   _mm256_set1_epi8(-1));
}

/*
 * skip_b64() for e - s >= 32: 128 octets per step while 128 remain, then
 * 64, then 32, then the last 32 before e (overlapping octets already
 * passed); a step that finds an octet outside is redone 32 at a time.
 */
B64_AVX2 static __attribute__((noinline)) const char *
skip_b64_avx2(const char *p, const char *e)
{
	uint32_t m;

	while (e - p >= 128 && !b64bad_any(p, 4))
		p += 128;
	if (e - p >= 64 && !b64bad_any(p, 2))
		p += 64;
	while (e - p >= 32) {
		if ((m = b64bad32(p)) != 0)
			return p + __builtin_ctz(m);
		p += 32;
	}
	if (p == e)
		return e;
	/* lane i is e - 32 + i; p is lane 32 - (e - p) */
	m = b64bad32(e - 32) >> (32 - (e - p));
	return m != 0 ? p + __builtin_ctz(m) : e;
}
#endif

/* skip_class(p, e, C_B64) 16 octets per step: a bearer token is most of a REGISTER. */
static inline const char *
skip_b64(const char *p, const char *e)
{
#if defined(__x86_64__)
	if (e - p >= 32 && spr_sip_scan_selected() >= SPR_SIP_SCAN_AVX2)
		return skip_b64_avx2(p, e);
#endif
#ifdef __SSE2__
	while (e - p >= 16) {
		unsigned m = ~b64tok16(p) & 0xffffu;

		if (m != 0)
			return p + __builtin_ctz(m);
		p += 16;
	}
#endif
	return skip_class(p, e, C_B64);
}

/*
 * skip_class() for runs expected to be long (Call-ID, branch, tags): 16
 * octets per step while 16 remain before e. mask must hold every
 * alphanumeric, '-' and '.' (C_ANDOT).
 */
static inline const char *
skip_long(const char *p, const char *e, unsigned mask)
{
#ifdef __SSE2__
	while (e - p >= 16) {
		unsigned m = ~andot16(p) & 0xffffu;
		if (m == 0) {
			p += 16;
			continue;
		}
		p += __builtin_ctz(m);
		if (!is_c(*p, mask))
			return p;
		p++;
	}
#endif
	return skip_class(p, e, mask);
}

/*
 * First octet in [p, e) equal to a, b or c, or e. Octets up to lim (the end
 * of the readable buffer, lim >= e) may be loaded but are never matched.
 */
static inline const char *
find_any3(const char *p, const char *e, const char *lim, char a, char b, char c)
{
#ifdef __SSE2__
	const __m128i va = _mm_set1_epi8(a), vb = _mm_set1_epi8(b), vc = _mm_set1_epi8(c);

	for (; p < e && lim - p >= 16; p += 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
		unsigned m = (unsigned)_mm_movemask_epi8(
			_mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, va), _mm_cmpeq_epi8(x, vb)),
				     _mm_cmpeq_epi8(x, vc)));
		if (m != 0)
			return p + __builtin_ctz(m) < e ? p + __builtin_ctz(m) : e;
	}
	if (p >= e)
		return e;
#else
	(void)lim;
#endif
	while (p < e && *p != a && *p != b && *p != c)
		p++;
	return p;
}

/* First LF in [p, e), or NULL. */
static inline const char *
find_lf(const char *p, const char *e)
{
#ifdef __SSE2__
	const __m128i lf = _mm_set1_epi8('\n');

	for (; e - p >= 16; p += 16) {
		unsigned m = (unsigned)_mm_movemask_epi8(
			_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(const void *)p), lf));
		if (m != 0)
			return p + __builtin_ctz(m);
	}
#endif
	return memchr(p, '\n', (size_t)(e - p));
}

/* LFs among the 64 octets at base, one bit each; base > q means empty. */
struct lfmap {
	const char *base;
	uint64_t bits;
};

/* First LF in [q, e), or NULL; each 64-octet block is compared once. */
static inline const char *
lf_next(struct lfmap *m, const char *q, const char *e)
{
#ifdef __SSE2__
	const __m128i lf = _mm_set1_epi8('\n');

	for (;;) {
		if ((size_t)(q - m->base) < 64) {
			uint64_t b = m->bits >> (q - m->base);
			if (b != 0)
				return q + __builtin_ctzll(b);
			q = m->base + 64;
		}
		if (e - q < 64)
			return find_lf(q, e);
		m->base = q;
		m->bits = 0;
		for (int i = 0; i < 4; i++) {
			__m128i x = _mm_loadu_si128((const __m128i *)(const void *)(q + 16 * i));
			m->bits |= (uint64_t)(uint16_t)_mm_movemask_epi8(_mm_cmpeq_epi8(x, lf))
				   << (16 * i);
		}
	}
#else
	(void)m;
	return find_lf(q, e);
#endif
}

/*
 * Index of the lowest set bit of w != 0, as a 64-bit value: added to a
 * pointer without the sign extension __builtin_ctzll()'s int costs. TZCNT
 * runs as BSF on CPUs without BMI1, which gives the same for w != 0.
 */
static inline uint64_t
ctz64(uint64_t w)
{
#if defined(__x86_64__)
	uint64_t r;

	__asm__("tzcnt %1, %0" : "=r"(r) : "rm"(w) : "cc");
	return r;
#else
	return (uint64_t)__builtin_ctzll(w);
#endif
}

static inline struct spr_str
mkstr(const char *s, const char *e)
{
	return (struct spr_str){s, (uint32_t)(e - s)};
}

/*
 * Case-insensitive comparison of token characters with a lower-case literal
 * of equal length. For token octets c | 0x20 lower-cases letters and leaves
 * every other token octet distinct from the literal's letters, digits, '-',
 * '.' and '/'; callers pass validated tokens only. Reads p[0..n) only: words
 * that overlap rather than a byte tail.
 */
static inline bool
tok_caseeq(const char *p, const char *lit, uint32_t n)
{
	if (n >= 8) {
		for (uint32_t i = 0; i + 8 < n; i += 8)
			if ((spr_ld64(p + i) | 0x2020202020202020ull) != spr_ld64(lit + i))
				return false;
		return (spr_ld64(p + n - 8) | 0x2020202020202020ull) == spr_ld64(lit + n - 8);
	}
	if (n >= 4)
		return (((spr_ld32(p) | 0x20202020u) ^ spr_ld32(lit)) |
			((spr_ld32(p + n - 4) | 0x20202020u) ^ spr_ld32(lit + n - 4))) == 0;
	if (n >= 2)
		return (((spr_ld16(p) | 0x2020u) ^ spr_ld16(lit)) |
			((spr_ld16(p + n - 2) | 0x2020u) ^ spr_ld16(lit + n - 2))) == 0;
	return n == 0 || (p[0] | 0x20) == lit[0];
}

#define LIT_CASEEQ(s, e, lit)                                                                      \
	((e) - (s) == sizeof(lit) - 1 && tok_caseeq((s), (lit), sizeof(lit) - 1))

/* SIP-Version "SIP/2.0", case-insensitive (RFC 3261 §7.1), over any octets. */
static inline bool
is_sip20(const char *p, const char *e)
{
	/* b | 0x20 is 's', 'i' or 'p' only for that letter in either case */
	return e - p == 7 && (spr_ld32(p) | 0x00202020u) == spr_ld32("sip/") &&
	       spr_ld32(p + 3) == spr_ld32("/2.0");
}

/* ------------------------------------------------------------------------- */
/* Tables */

static const struct {
	uint16_t code;
	const char *reason;
	const char *name;
} err_tab[SPR_SIP_ERR__COUNT] = {
#define X(n, c, r) [SPR_SIP_ERR_##n] = {(c), (r), #n},
	SPR_FOREACH_SIP_ERR(X)
#undef X
};

uint16_t
spr_sip_err_code(enum spr_sip_err e)
{
	return (unsigned)e < SPR_SIP_ERR__COUNT ? err_tab[e].code : 400;
}

const char *
spr_sip_err_reason(enum spr_sip_err e)
{
	return (unsigned)e < SPR_SIP_ERR__COUNT ? err_tab[e].reason : "Bad Request";
}

const char *
spr_sip_err_name(enum spr_sip_err e)
{
	return (unsigned)e < SPR_SIP_ERR__COUNT ? err_tab[e].name : "INVALID";
}

static const char *const method_names[SPR_SIP_METHOD__COUNT] = {
	[SPR_SIP_UNKNOWN] = "UNKNOWN", [SPR_SIP_REGISTER] = "REGISTER",
	[SPR_SIP_INVITE] = "INVITE",   [SPR_SIP_ACK] = "ACK",
	[SPR_SIP_BYE] = "BYE",	       [SPR_SIP_CANCEL] = "CANCEL",
	[SPR_SIP_OPTIONS] = "OPTIONS", [SPR_SIP_SUBSCRIBE] = "SUBSCRIBE",
	[SPR_SIP_NOTIFY] = "NOTIFY",   [SPR_SIP_PUBLISH] = "PUBLISH",
	[SPR_SIP_MESSAGE] = "MESSAGE", [SPR_SIP_INFO] = "INFO",
	[SPR_SIP_PRACK] = "PRACK",     [SPR_SIP_UPDATE] = "UPDATE",
	[SPR_SIP_REFER] = "REFER",
};

const char *
spr_sip_method_name(enum spr_sip_method m)
{
	return (unsigned)m < SPR_SIP_METHOD__COUNT ? method_names[m] : method_names[0];
}

/* Method tokens are case-sensitive (RFC 3261 §7.1). */
static uint8_t
method_id(const char *p, uint32_t n)
{
#define M(lit, id)                                                                                 \
	if (n == sizeof(lit) - 1 && memcmp(p, lit, sizeof(lit) - 1) == 0)                          \
		return (id);
	if (n < 3)
		return SPR_SIP_UNKNOWN;
	switch (p[0]) {
	case 'R':
		M("REGISTER", SPR_SIP_REGISTER);
		M("REFER", SPR_SIP_REFER);
		break;
	case 'I':
		M("INVITE", SPR_SIP_INVITE);
		M("INFO", SPR_SIP_INFO);
		break;
	case 'A':
		M("ACK", SPR_SIP_ACK);
		break;
	case 'B':
		M("BYE", SPR_SIP_BYE);
		break;
	case 'C':
		M("CANCEL", SPR_SIP_CANCEL);
		break;
	case 'O':
		M("OPTIONS", SPR_SIP_OPTIONS);
		break;
	case 'S':
		M("SUBSCRIBE", SPR_SIP_SUBSCRIBE);
		break;
	case 'N':
		M("NOTIFY", SPR_SIP_NOTIFY);
		break;
	case 'P':
		M("PUBLISH", SPR_SIP_PUBLISH);
		M("PRACK", SPR_SIP_PRACK);
		break;
	case 'M':
		M("MESSAGE", SPR_SIP_MESSAGE);
		break;
	case 'U':
		M("UPDATE", SPR_SIP_UPDATE);
		break;
	default:
		break;
	}
	return SPR_SIP_UNKNOWN;
#undef M
}

void
spr_sip_limits_default(struct spr_sip_limits *lim)
{
	lim->max_msg = SPR_SIP_MSG_MAX;
	lim->max_headers = 128;
	lim->max_vias = SPR_SIP_VIA_MAX;
	lim->max_contacts = SPR_SIP_CONTACT_MAX;
	lim->no_fast_path = 0;
	lim->bearer_scan = NULL;
	lim->bearer_scan_ctx = NULL;
}

/* ------------------------------------------------------------------------- */
/* Value grammar pieces shared by several headers */

/* quoted-string (RFC 3261 §25.1) from its opening DQUOTE; returns its end or NULL. */
static const char *
scan_quoted(const char *p, const char *e)
{
	for (p++; p < e; p++) {
		unsigned char c;
		while (p < e && is_c(*p, C_QD))
			p++;
		if (p == e)
			break;
		c = (unsigned char)*p;
		if (c == '"')
			return p + 1;
		if (c == '\\') {
			/* quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F) */
			if (++p == e || *p == '\r' || *p == '\n' || (unsigned char)*p > 0x7f)
				return NULL;
		} else if (c != '\r' && c != '\n') {
			/* CTL other than LWS (a CRLF inside a delimited value is a fold) */
			return NULL;
		}
	}
	return NULL;
}

/* gen-value = token / host / quoted-string; returns its end or NULL when empty or malformed. */
static const char *
scan_gen_value(const char *p, const char *e)
{
	const char *s = p;

	if (p == e)
		return NULL;
	if (*p == '"')
		return scan_quoted(p, e);
	if (*p == '[') {
		for (p++; p < e && *p != ']'; p++)
			if (!is_c(*p, C_HEX) && *p != ':' && *p != '.')
				return NULL;
		return p < e ? p + 1 : NULL;
	}
	/* token, or an IPv6address without brackets (received, RFC 3261 §20.42) */
	p = skip_long(p, e, C_GENV);
	return p > s ? p : NULL;
}

/* One generic-param: name, value (empty when absent), and where it ends. */
struct param {
	struct spr_str name;
	struct spr_str value;
	bool has_value;
	const char *end;
};

/*
 * generic-param = token [ EQUAL gen-value ], at p (after SEMI and its SWS).
 * Returns 0 and fills *pa, or -1.
 */
static int
parse_param(const char *p, const char *e, struct param *pa)
{
	const char *n = skip_class(p, e, C_TOKEN);
	const char *q;

	if (n == p)
		return -1;
	pa->name = mkstr(p, n);
	pa->end = n;
	pa->has_value = false;
	pa->value = (struct spr_str){n, 0};
	q = skip_lws(n, e);
	if (q < e && *q == '=') {
		const char *v = skip_lws(q + 1, e);
		const char *ve = scan_gen_value(v, e);
		if (ve == NULL)
			return -1;
		pa->value = mkstr(v, ve);
		pa->has_value = true;
		pa->end = ve;
	}
	return 0;
}

/* Decimal digits only; saturates at UINT32_MAX. Returns -1 when empty or not digits. */
static int
parse_delta(const char *p, const char *e, uint32_t *out)
{
	uint64_t v = 0;

	if (p == e)
		return -1;
	for (; p < e; p++) {
		if (!is_c(*p, C_DIGIT))
			return -1;
		v = v * 10 + (uint64_t)(*p - '0');
		if (v > UINT32_MAX)
			v = (uint64_t)UINT32_MAX + 1;
	}
	*out = v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
	return v > UINT32_MAX ? 1 : 0;
}

/* qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ), in thousandths. */
static int
parse_qvalue(const struct spr_str *s, uint16_t *q)
{
	const char *p = s->p, *e = s->p + s->len;
	uint32_t v, scale = 100;

	if (p == e || (*p != '0' && *p != '1'))
		return -1;
	v = (uint32_t)(*p++ - '0') * 1000;
	if (p < e) {
		if (*p++ != '.' || e - p > 3)
			return -1;
		for (; p < e; p++, scale /= 10) {
			if (!is_c(*p, C_DIGIT))
				return -1;
			v += (uint32_t)(*p - '0') * scale;
		}
	}
	if (v > 1000)
		return -1;
	*q = (uint16_t)v;
	return 0;
}

struct pstate {
	struct spr_sip_msg *msg;
	const char *lim; /* end of the readable buffer */
	uint32_t seen;	 /* headers present that may be once, and H_VIA (bit per enum hdr) */
	uint16_t max_vias;
	uint16_t max_contacts;
	bool fast; /* fast paths for the common shapes (struct spr_sip_limits no_fast_path) */
	const struct spr_sip_limits *cfg; /* bearer_scan */

	/*
	 * Fast paths only: buf[0..scan_len) (scan_len = end - buf) classified
	 * in blocks (sip_scan.h), [0, nblk) of its nblk_all blocks so far; the
	 * last block holds the octet at scan_len, which reads as special. An LF
	 * at scan_len - 1 is left out of the lf bitmaps: a line ending there
	 * leaves the header section incomplete, which the general code finds,
	 * so every LF the fast paths take has an octet after it.
	 */
	const char *buf;
	uint32_t scan_len;
	uint32_t nblk;
	uint32_t nblk_all;
	uint64_t lf[SPR_SIP_MSG_MAX / SPR_SIP_SCAN_BLK + 1];
	uint64_t sp[SPR_SIP_MSG_MAX / SPR_SIP_SCAN_BLK + 1];
};

/* Blocks classified ahead of the one asked for, so that one call covers a typical header section.
 */
#define SCAN_AHEAD 16u

/* Classify up to block b (and SCAN_AHEAD more when there are). b < st->nblk_all. */
static __attribute__((noinline)) void
scan_more(struct pstate *st, uint32_t b)
{
	uint32_t to = st->nblk + SCAN_AHEAD;

	if (to < b + 1)
		to = b + 1;
	if (to > st->nblk_all)
		to = st->nblk_all;
	spr_sip_scan(st->buf, st->scan_len, st->nblk, to, st->lf, st->sp);
	if (to == st->nblk_all && st->scan_len != 0) {
		uint32_t last = st->scan_len - 1;
		if (last / SPR_SIP_SCAN_BLK >= st->nblk)
			st->lf[last / SPR_SIP_SCAN_BLK] &= ~(1ull << last % SPR_SIP_SCAN_BLK);
	}
	st->nblk = to;
}

/* Block b classified; b < st->nblk_all. */
static inline uint32_t
blk_at(struct pstate *st, uint32_t b)
{
	if (unlikely(b >= st->nblk))
		scan_more(st, b);
	return b;
}

/* next_sp_far() once it reaches blocks not classified yet. */
static __attribute__((noinline)) const char *
next_sp_scan(struct pstate *st, uint32_t b)
{
	uint64_t w;

	/* the octet at scan_len is special, so this stops by the last block */
	while ((w = st->sp[blk_at(st, b)]) == 0)
		b++;
	return st->buf + (size_t)b * SPR_SIP_SCAN_BLK + ctz64(w);
}

/* next_sp() past the block of p; no call while the blocks are classified. */
static __attribute__((noinline)) const char *
next_sp_far(struct pstate *st, const char *p)
{
	uint32_t b = (uint32_t)(p - st->buf) / SPR_SIP_SCAN_BLK;
	uint64_t w;

	while (++b < st->nblk)
		if ((w = st->sp[b]) != 0)
			return st->buf + (size_t)b * SPR_SIP_SCAN_BLK + ctz64(w);
	return next_sp_scan(st, b);
}

/*
 * First special octet (not ALPHA, DIGIT, '-' or '.') at or after p, where
 * p <= buf + scan_len; buf + scan_len when none is before it. Reads no octet.
 * The block of p must be classified: it is when a later LF of the line was
 * found with next_lf() (the LF being special, the search stops by it).
 */
static inline const char *
next_sp(struct pstate *st, const char *p)
{
	size_t off = (size_t)(p - st->buf);
	uint64_t w = st->sp[off / SPR_SIP_SCAN_BLK] >> (off % SPR_SIP_SCAN_BLK);

	if (likely(w != 0))
		return p + ctz64(w);
	return next_sp_far(st, p);
}

/* First LF at or after p (p <= buf + scan_len) and before buf + scan_len - 1, or NULL. */
static inline const char *
next_lf(struct pstate *st, const char *p)
{
	uint32_t off = (uint32_t)(p - st->buf), b = off / SPR_SIP_SCAN_BLK;
	uint64_t w = st->lf[blk_at(st, b)] >> (off % SPR_SIP_SCAN_BLK);

	while (w == 0) {
		if (++b == st->nblk_all)
			return NULL;
		w = st->lf[blk_at(st, b)];
		off = b * SPR_SIP_SCAN_BLK;
	}
	return st->buf + off + __builtin_ctzll(w);
}

/*
 * skip_class() from the bitmaps, for a class mask that holds every ALPHA,
 * DIGIT, '-' and '.': only the special octets are looked at. p <= e <= buf + scan_len.
 */
static inline const char *
skip_fast(struct pstate *st, const char *p, const char *e, unsigned mask)
{
	for (;;) {
		const char *q = next_sp(st, p);
		if (q >= e)
			return e;
		if (!is_c(*q, mask))
			return q;
		p = q + 1;
	}
}

/* skip_class(p, e, C_HOST): C_HOST is exactly ALPHA, DIGIT, '-' and '.'. */
static inline const char *
skip_host(struct pstate *st, const char *p, const char *e)
{
	const char *q = next_sp(st, p);

	return q < e ? q : e;
}

/*
 * The run of 1 to 19 decimal digits at p that ends at a special octet or
 * at e: its end, with its exact value in *v; NULL when the run of ALPHA,
 * DIGIT, '-' and '.' at p is empty, longer or holds another octet.
 */
static inline const char *
dec_fast(struct pstate *st, const char *p, const char *e, uint64_t *v)
{
	const char *d = skip_host(st, p, e), *t = p;
	uint64_t x = 0;

	if (d == p || d - p > 19)
		return NULL;
	/* four digits a step: each octet 0x3_, and still after + 6 (no carries then); then pairs */
	for (; d - t >= 4; t += 4) {
		uint32_t w = spr_ld32(t);
		if (((w & 0xf0f0f0f0u) ^ 0x30303030u) |
		    (((w + 0x06060606u) & 0xf0f0f0f0u) ^ 0x30303030u))
			return NULL;
		w &= 0x0f0f0f0fu;
		w = (w * 10 + (w >> 8)) & 0x00ff00ffu;
		x = x * 10000 + (w & 0xffu) * 100 + (w >> 16);
	}
	for (; t < d; t++) {
		uint64_t c = (uint64_t)(unsigned char)*t - '0';
		if (c > 9)
			return NULL;
		x = x * 10 + c;
	}
	*v = x;
	return d;
}

/*
 * port = 1*DIGIT of at most 5 digits and at most 65535, at d before e: its
 * end (the first octet that is not a digit, or e), the value in *port; NULL
 * when the run is empty, longer or too large. The common 4-digit port is
 * read as one word.
 */
static inline const char *
port_digits(const char *d, const char *e, uint32_t *port)
{
	const char *q;
	uint32_t v = 0;

	if (e - d >= 5 && (unsigned char)(d[4] - '0') > 9) {
		uint32_t w = spr_ld32(d);
		if ((((w & 0xf0f0f0f0u) ^ 0x30303030u) |
		     (((w + 0x06060606u) & 0xf0f0f0f0u) ^ 0x30303030u)) == 0) {
			w &= 0x0f0f0f0fu;
			w = (w * 10 + (w >> 8)) & 0x00ff00ffu;
			*port = (w & 0xffu) * 100 + (w >> 16);
			return d + 4;
		}
	}
	q = skip_class(d, e, C_DIGIT);
	if (q == d || q - d > 5)
		return NULL;
	for (; d < q; d++)
		v = v * 10 + (uint32_t)(*d - '0');
	if (v > 65535)
		return NULL;
	*port = v;
	return q;
}

/*
 * Fast path for the common SIP-URI shape, "sip:" [ user "@" ] host [ ":" port ]
 * *( ";" pname [ "=" pvalue ] ), from p: no escape, password, IPv6 reference
 * or headers, a port of at most 5 digits; with_params false takes no
 * parameters (an addr-spec's URI ends before the first ';'). Returns the
 * first octet the shape does not take (or e), with *u filled exactly as
 * spr_sip_uri_parse() fills it for the URI from p to there, or NULL when the
 * shape is another. Callers accept only a URI ending where they expect it
 * ('>', ';', ',', e); anything else falls back to the general parser.
 *
 * The user run leaves out ';', '?' and ',', which an addr-spec's URI cannot
 * hold; a user that does hold them stops the run early, and as no later run
 * takes an '@' the URI then ends before its '@' and is refused here.
 */
static inline __attribute__((always_inline)) const char *
uri_fast(struct pstate *st, const char *p, const char *e, bool with_params, struct spr_sip_uri *u)
{
	const char *s = p, *h, *q;
	uint32_t port = 0;

	if (e - p <= 4 || (spr_ld32(p) | 0x00202020u) != spr_ld32("sip:"))
		return NULL;
	h = p += 4;
	q = skip_fast(st, p, e, C_UUSER);
	u->user = SPR_STR_NULL;
	u->has_user = 0;
	if (q < e && *q == '@') {
		u->user = mkstr(p, q);
		u->has_user = 1;
		h = q + 1;
	} else if (q < e && *q == '%') {
		return NULL;
	}
	q = skip_host(st, h, e);
	if (q == h)
		return NULL;
	u->host = mkstr(h, q);
	if (q < e && *q == ':' && (q = port_digits(q + 1, e, &port)) == NULL)
		return NULL;
	u->port = (uint16_t)port;
	u->params = SPR_STR_NULL;
	if (with_params && q < e && *q == ';') {
		const char *ps = q + 1;
		do {
			const char *n = q + 1;
			q = skip_fast(st, n, e, C_UPARAM);
			if (q == n)
				return NULL;
			if (q < e && *q == '=') {
				n = q + 1;
				q = skip_fast(st, n, e, C_UPARAM);
				if (q == n)
					return NULL;
			}
		} while (q < e && *q == ';');
		u->params = mkstr(ps, q);
	}
	u->raw = mkstr(s, q);
	u->scheme = (struct spr_str){s, 3};
	u->password = u->headers = SPR_STR_NULL;
	u->scheme_id = SPR_URI_SIP;
	return q;
}

/*
 * Request-URI in [p, e): one token, no LWS, no <> (RFC 4475 §3.1.2.6-7).
 * Fast path for the common shape; anything else falls back to the general
 * parser. 0 or -1; *u is left zeroed when the URI is not parsed at all.
 */
static int
ruri_parse(struct pstate *st, const char *p, const char *e, struct spr_sip_uri *u)
{
	if (likely(st->fast) && uri_fast(st, p, e, true, u) == e)
		return 0;
	memset(u, 0, sizeof(*u));
	if (e == p || memchr(p, ' ', (size_t)(e - p)) != NULL)
		return -1;
	return spr_sip_uri_parse(p, (uint32_t)(e - p), u) == 0 ? 0 : -1;
}

/* ------------------------------------------------------------------------- */
/* name-addr / addr-spec (From, To, Contact, Path) */

enum {
	NA_OK = 0,
	NA_BAD = -1,
};

/* contact-params: q, expires, +sip.instance (RFC 5626), reg-id (RFC 5626). */
static int
contact_param(struct spr_sip_contact *c, const struct param *pa)
{
	const char *ne = pa->name.p + pa->name.len;
	uint32_t v;

	if (pa->name.len == 1 && spr_ascii_lower(pa->name.p[0]) == 'q') {
		if (parse_qvalue(&pa->value, &c->q) != 0)
			return SPR_SIP_ERR_BAD_Q;
	} else if (LIT_CASEEQ(pa->name.p, ne, "expires")) {
		if (parse_delta(pa->value.p, pa->value.p + pa->value.len, &c->expires) < 0)
			return SPR_SIP_ERR_BAD_CONTACT_EXPIRES;
		c->flags |= SPR_CONTACT_HAS_EXPIRES;
	} else if (LIT_CASEEQ(pa->name.p, ne, "reg-id")) {
		if (spr_str_to_u32(&pa->value, &v) != 0 || v == 0 || v > INT32_MAX)
			return SPR_SIP_ERR_BAD_REG_ID;
		c->reg_id = v;
		c->flags |= SPR_CONTACT_HAS_REG_ID;
	} else if (LIT_CASEEQ(pa->name.p, ne, "+sip.instance")) {
		c->instance = pa->value;
	}
	return NA_OK;
}

/*
 * ( name-addr / addr-spec ) *( SEMI generic-param ), RFC 3261 §20.10 and
 * §25.1, from *pp. In list mode stops before a top-level ','; otherwise the
 * value must end at e; lim is the end of the readable buffer. When c is
 * given the contact-params q, expires, +sip.instance and reg-id are
 * interpreted.
 *
 * An unquoted display name is a sequence of tokens (RFC 4475 §3.1.2.14).
 * Without "<>" the URI ends at the first ';' and what follows are header
 * parameters; such an addr-spec holding '?' (or ',' outside a list) had to
 * use name-addr form (RFC 3261 §20, RFC 4475 §3.1.2.12).
 *
 * Returns NA_OK, NA_BAD, or a specific fault (BAD_Q, BAD_CONTACT_EXPIRES, BAD_REG_ID).
 */
static int
parse_nameaddr(const char **pp, const char *e, const char *lim, bool list,
	       struct spr_sip_nameaddr *na, struct spr_sip_contact *c)
{
	const char *p = skip_lws(*pp, e);
	const char *start = p, *t = skip_class(p, e, C_TOKEN), *us, *ue, *last;
	int specific = NA_OK;

	/* na->uri is cleared by spr_sip_uri_parse() or on the way out below */
	na->raw = na->display = na->params = na->tag = SPR_STR_NULL;
	na->has_tag = 0;
	if (p == e)
		goto bad_uri;
	if (t > p && t < e && *t == ':') {
		/* addr-spec: the URI runs to the first ';', ',' or LWS */
		us = p;
		for (ue = t; ue < e && *ue != ';' && *ue != ',' && !is_c(*ue, C_LWS); ue++)
			if (*ue == '?' || *ue == '<' || *ue == '>' || *ue == '"')
				goto bad_uri;
		p = ue;
		last = ue;
	} else {
		if (*p == '"') {
			t = scan_quoted(p, e);
			if (t == NULL)
				goto bad_uri;
			na->display = mkstr(p, t);
			p = skip_lws(t, e);
		} else if (t > p) {
			/* display-name = *( token LWS ) */
			const char *de;
			do {
				de = t;
				p = skip_lws(t, e);
				t = skip_class(p, e, C_TOKEN);
			} while (t > p);
			na->display = mkstr(start, de);
		}
		if (p == e || *p != '<')
			goto bad_uri;
		us = p + 1;
		ue = find_any3(us, e, lim, '>', '>', '>');
		if (ue == e)
			goto bad_uri;
		p = ue + 1;
		last = p;
	}
	if (spr_sip_uri_parse(us, (uint32_t)(ue - us), &na->uri) != 0)
		return NA_BAD;
	p = skip_lws(p, e);
	if (p < e && *p == ';') {
		const char *ps = skip_lws(p + 1, e);
		while (p < e && *p == ';') {
			struct param pa;
			const char *ne;
			if (parse_param(skip_lws(p + 1, e), e, &pa) != 0)
				return NA_BAD;
			last = pa.end;
			p = skip_lws(pa.end, e);
			ne = pa.name.p + pa.name.len;
			if (LIT_CASEEQ(pa.name.p, ne, "tag")) {
				if (pa.value.len == 0 || na->has_tag)
					return NA_BAD;
				na->tag = pa.value;
				na->has_tag = 1;
			} else if (c != NULL) {
				int r = contact_param(c, &pa);
				if (r != NA_OK && specific == NA_OK)
					specific = r;
			}
		}
		na->params = mkstr(ps, last);
	}
	if (p < e && !(list && *p == ','))
		return NA_BAD;
	na->raw = mkstr(start, last);
	*pp = p;
	return specific;
bad_uri:
	memset(&na->uri, 0, sizeof(na->uri));
	return NA_BAD;
}

/*
 * contact_param() with the common expires=delta-seconds read by dec_fast():
 * the same verdict and fields.
 */
static inline int
contact_param_fast(struct pstate *st, struct spr_sip_contact *c, const struct param *pa)
{
	const char *ve = pa->value.p + pa->value.len;
	uint64_t v = 0;

	switch (pa->name.len) {
	case 7:
		if (LIT_CASEEQ(pa->name.p, pa->name.p + 7, "expires") &&
		    dec_fast(st, pa->value.p, ve, &v) == ve) {
			c->expires = v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
			c->flags |= SPR_CONTACT_HAS_EXPIRES;
			return NA_OK;
		}
		return contact_param(c, pa);
	case 1:
	case 6:
	case 13:
		return contact_param(c, pa);
	default:
		/* none of q, expires, reg-id, +sip.instance */
		return NA_OK;
	}
}

/* The contact-params of c before any is read. */
static inline void
contact_init(struct spr_sip_contact *c)
{
	c->instance = SPR_STR_NULL;
	c->expires = 0;
	c->reg_id = 0;
	c->q = SPR_SIP_Q_NONE;
	c->flags = 0;
}

/*
 * Fast path for the common shape of a From, To or Contact value:
 * "<" SIP-URI ">" or a SIP-URI addr-spec (as uri_fast() takes them), then
 * *( ";" token [ "=" token ] ), with no display name, quoted string, IPv6
 * value or LWS but the one before the value; in list mode it stops before a
 * ','. Returns true with *pp, *na and the contact-params of c set exactly as
 * parse_nameaddr() sets them for a value it accepts with NA_OK; false when the
 * value is another shape or a fault, which the caller leaves to the general
 * parser (c may have been written: contact_init() it again).
 */
static inline __attribute__((always_inline)) bool
nameaddr_fast(struct pstate *st, const char **pp, const char *e, bool list,
	      struct spr_sip_nameaddr *na, struct spr_sip_contact *c)
{
	const char *p = skip_lws(*pp, e), *start = p, *q;

	if (p == e)
		return false;
	if (*p == '<') {
		q = uri_fast(st, p + 1, e, true, &na->uri);
		if (q == NULL || q == e || *q != '>')
			return false;
		p = q + 1;
	} else {
		/* addr-spec: its URI ends at ';', ',' or e, none of which uri_fast() takes */
		p = uri_fast(st, p, e, false, &na->uri);
		if (p == NULL)
			return false;
	}
	na->display = na->params = na->tag = SPR_STR_NULL;
	na->has_tag = 0;
	if (p < e && *p == ';') {
		const char *ps = p + 1;
		do {
			struct param pa;
			const char *n = p + 1;
			p = skip_fast(st, n, e, C_TOKEN);
			if (p == n)
				return false;
			pa.name = mkstr(n, p);
			pa.value = (struct spr_str){p, 0};
			pa.has_value = false;
			if (p < e && *p == '=') {
				const char *v = p + 1;
				/* gen-value as a token; a quoted string or IPv6 value falls back */
				p = skip_fast(st, v, e, C_GENV);
				if (p == v)
					return false;
				pa.value = mkstr(v, p);
				pa.has_value = true;
			}
			pa.end = p;
			if (LIT_CASEEQ(n, n + pa.name.len, "tag")) {
				if (pa.value.len == 0 || na->has_tag)
					return false;
				na->tag = pa.value;
				na->has_tag = 1;
			} else if (c != NULL && contact_param_fast(st, c, &pa) != NA_OK) {
				return false;
			}
		} while (p < e && *p == ';');
		na->params = mkstr(ps, p);
	}
	if (p < e && !(list && *p == ','))
		return false;
	na->raw = mkstr(start, p);
	*pp = p;
	return true;
}

/* ------------------------------------------------------------------------- */
/* Per-header parsers; each gets the value trimmed of LWS on both sides. */

enum hdr {
	H_UNKNOWN,
	H_VIA,
	H_FROM,
	H_TO,
	H_CALL_ID,
	H_CSEQ,
	H_CONTACT,
	H_EXPIRES,
	H_MIN_EXPIRES,
	H_MAX_FORWARDS,
	H_CONTENT_LENGTH,
	H_CONTENT_TYPE,
	H_EVENT,
	H_AUTHORIZATION,
	H_SIP_IF_MATCH,
	H_SIP_ETAG,
	H_SUBSCRIPTION_STATE,
	H_USER_AGENT,
	H_DATE,
	H_ACCEPT,
	H_SUPPORTED,
	H_REQUIRE,
	H_PROXY_REQUIRE,
	H_PATH,
	H_ROUTE,
	H_RECORD_ROUTE,
};

static inline void
set_err(struct spr_sip_msg *m, enum spr_sip_err e, const struct spr_str *hname)
{
	if (m->err == SPR_SIP_ERR_NONE) {
		m->err = (uint8_t)e;
		if (hname != NULL)
			m->err_header = *hname;
	}
}

/* parse_nameaddr(), with contact-params from contact_init(), after its fast path. */
static inline __attribute__((always_inline)) int
nameaddr(struct pstate *st, const char **pp, const char *e, bool list, struct spr_sip_nameaddr *na,
	 struct spr_sip_contact *c)
{
	if (likely(st->fast) && nameaddr_fast(st, pp, e, list, na, c))
		return NA_OK;
	if (c != NULL)
		contact_init(c);
	return parse_nameaddr(pp, e, st->lim, list, na, c);
}

/*
 * via-parm = sent-protocol LWS sent-by *( SEMI via-params ) (RFC 3261 §20.42,
 * RFC 3581 rport). Stops before a ',' or at e. Returns 0 or -1.
 */
static int
parse_via_parm(const char **pp, const char *e, struct spr_sip_via *v)
{
	const char *p = skip_lws(*pp, e), *s = p, *t, *last;

	memset(v, 0, sizeof(*v));
	/*
	 * sent-protocol = "SIP" SLASH "2.0" SLASH transport, SLASH = SWS "/" SWS;
	 * "SIP/2.0/" without LWS in one look, any other spelling token by token
	 */
	if (e - p >= 8 && (spr_ld32(p) | spr_ld32("   ")) == spr_ld32("sip/") &&
	    spr_ld32(p + 4) == spr_ld32("2.0/")) {
		p = skip_lws(p + 8, e);
	} else {
		t = skip_class(p, e, C_TOKEN);
		if (!LIT_CASEEQ(p, t, "sip"))
			return -1;
		p = skip_lws(t, e);
		if (p == e || *p != '/')
			return -1;
		p = skip_lws(p + 1, e);
		t = skip_class(p, e, C_TOKEN);
		if (!LIT_CASEEQ(p, t, "2.0"))
			return -1;
		p = skip_lws(t, e);
		if (p == e || *p != '/')
			return -1;
		p = skip_lws(p + 1, e);
	}
	t = skip_class(p, e, C_TOKEN);
	if (t == p)
		return -1;
	v->transport = mkstr(p, t);
	p = skip_lws(t, e);
	if (p == t)
		return -1;
	/* sent-by = host [ COLON port ] */
	if (p < e && *p == '[') {
		t = p + 1;
		while (t < e && (is_c(*t, C_HEX) || *t == ':' || *t == '.'))
			t++;
		if (t == e || *t != ']' || t == p + 1)
			return -1;
		t++;
	} else {
		t = skip_class(p, e, C_HOST);
		if (t == p)
			return -1;
	}
	v->host = mkstr(p, t);
	last = t;
	p = skip_lws(t, e);
	if (p < e && *p == ':') {
		uint32_t port = 0;
		p = skip_lws(p + 1, e);
		t = skip_class(p, e, C_DIGIT);
		if (t == p || t - p > 5)
			return -1;
		for (; p < t; p++)
			port = port * 10 + (uint32_t)(*p - '0');
		if (port > 65535)
			return -1;
		v->port = (uint16_t)port;
		last = t;
		p = skip_lws(t, e);
	}
	while (p < e && *p == ';') {
		struct param pa;
		const char *ne;
		if (parse_param(skip_lws(p + 1, e), e, &pa) != 0)
			return -1;
		ne = pa.name.p + pa.name.len;
		if (LIT_CASEEQ(pa.name.p, ne, "branch")) {
			if (pa.value.len == 0)
				return -1;
			v->branch = pa.value;
		} else if (LIT_CASEEQ(pa.name.p, ne, "received")) {
			if (pa.value.len == 0)
				return -1;
			v->received = pa.value;
		} else if (LIT_CASEEQ(pa.name.p, ne, "rport")) {
			v->has_rport = 1;
			if (pa.has_value) {
				uint32_t port;
				if (spr_str_to_u32(&pa.value, &port) != 0 || port > 65535)
					return -1;
				v->rport_val = (uint16_t)port;
				v->has_rport_val = 1;
			}
		}
		last = pa.end;
		p = skip_lws(pa.end, e);
	}
	if (p < e && *p != ',')
		return -1;
	v->raw = mkstr(s, last);
	*pp = p;
	return 0;
}

/*
 * Fast path for the common via-parm, "SIP/2.0/" transport SP host
 * [ ":" port ] *( ";" token [ "=" token ] ): one SP and no other LWS, no IPv6
 * host or quoted value, from s (*pp after its LWS). Returns true with *v and *pp set exactly as
 * parse_via_parm() sets them for a via-parm it accepts; false when the
 * via-parm is another shape or a fault, which the caller leaves to the general
 * parser (*v may have been written).
 */
static bool
via_fast(struct pstate *st, const char *s, const char **pp, const char *e, struct spr_sip_via *v)
{
	const char *p = s, *t;

	if (e - p < 8 || (spr_ld32(p) | spr_ld32("   ")) != spr_ld32("sip/") ||
	    spr_ld32(p + 4) != spr_ld32("2.0/"))
		return false;
	/* what the loop below may leave unset (stores, not a memset: it is short) */
	v->branch = v->received = SPR_STR_NULL;
	v->port = v->rport_val = 0;
	v->has_rport = v->has_rport_val = 0;
	p += 8;
	t = skip_fast(st, p, e, C_TOKEN);
	if (t == p || t == e || *t != ' ')
		return false;
	v->transport = mkstr(p, t);
	p = t + 1;
	t = skip_host(st, p, e);
	if (t == p)
		return false;
	v->host = mkstr(p, t);
	p = t;
	if (p < e && *p == ':') {
		uint32_t port;
		if ((p = port_digits(p + 1, e, &port)) == NULL)
			return false;
		v->port = (uint16_t)port;
	}
	while (p < e && *p == ';') {
		const char *n = p + 1, *ne = skip_fast(st, n, e, C_TOKEN);
		struct spr_str val = {ne, 0};
		if (ne == n)
			return false;
		p = ne;
		if (p < e && *p == '=') {
			/* gen-value as a token; a quoted string or IPv6 value falls back */
			const char *vs = p + 1;
			p = skip_fast(st, vs, e, C_GENV);
			if (p == vs)
				return false;
			val = mkstr(vs, p);
		}
		if (LIT_CASEEQ(n, ne, "branch")) {
			if (val.len == 0)
				return false;
			v->branch = val;
		} else if (LIT_CASEEQ(n, ne, "received")) {
			if (val.len == 0)
				return false;
			v->received = val;
		} else if (LIT_CASEEQ(n, ne, "rport")) {
			v->has_rport = 1;
			if (p > ne) {
				uint32_t port;
				if (spr_str_to_u32(&val, &port) != 0 || port > 65535)
					return false;
				v->rport_val = (uint16_t)port;
				v->has_rport_val = 1;
			}
		}
	}
	if (p < e && *p != ',')
		return false;
	v->raw = mkstr(s, p);
	*pp = p;
	return true;
}

static __attribute__((noinline)) void
hdr_via(struct pstate *st, const char *p, const char *e, const struct spr_str *hn)
{
	struct spr_sip_msg *m = st->msg;

	/* the first via-parm goes to m->via, written whole (msg_zero_absent()) */
	st->seen |= 1u << H_VIA;

	for (;;) {
		struct spr_sip_via scratch;
		struct spr_sip_via *v = m->n_via_fields == 0 ? &m->via : &scratch;
		const char *s = skip_lws(p, e);
		if (!(likely(st->fast) && via_fast(st, s, &p, e, v)) &&
		    parse_via_parm(&p, e, v) != 0) {
			/* kept as written so that the 400 still carries it (RFC 3261 §8.2.6.2) */
			set_err(m, SPR_SIP_ERR_BAD_VIA, hn);
			memset(v, 0, sizeof(*v));
			if (m->n_via_fields < st->max_vias)
				m->via_fields[m->n_via_fields++] = mkstr(s, e);
			return;
		}
		if (m->n_via_fields < st->max_vias)
			m->via_fields[m->n_via_fields++] = v->raw;
		else
			set_err(m, SPR_SIP_ERR_TOO_MANY_VIAS, hn);
		if (p == e)
			return;
		p++; /* ',' */
	}
}

static __attribute__((noinline)) void
hdr_contact(struct pstate *st, const char *p, const char *e, const struct spr_str *hn)
{
	struct spr_sip_msg *m = st->msg;

	if (m->n_contact_fields != UINT8_MAX)
		m->n_contact_fields++;
	/* Contact: STAR (RFC 3261 §20.10) */
	if (e - p == 1 && *p == '*') {
		m->contact_star = 1;
		return;
	}
	for (;;) {
		struct spr_sip_contact scratch;
		struct spr_sip_contact *c =
			m->n_contacts < st->max_contacts ? &m->contacts[m->n_contacts] : &scratch;
		int r;

		contact_init(c);
		r = nameaddr(st, &p, e, true, &c->na, c);
		if (r != NA_OK) {
			set_err(m, r == NA_BAD ? SPR_SIP_ERR_BAD_CONTACT : (enum spr_sip_err)r, hn);
			return;
		}
		if (c == &scratch)
			set_err(m, SPR_SIP_ERR_TOO_MANY_CONTACTS, hn);
		else
			m->n_contacts++;
		if (p == e)
			return;
		p++; /* ',' */
	}
}

static __attribute__((noinline)) void
hdr_nameaddr(struct pstate *st, const char *p, const char *e, const struct spr_str *hn,
	     struct spr_sip_nameaddr *na, enum spr_sip_err bad)
{
	if (nameaddr(st, &p, e, false, na, NULL) != NA_OK)
		set_err(st->msg, bad, hn);
}

/* callid = word [ "@" word ] */
static inline __attribute__((always_inline)) void
hdr_call_id(struct pstate *st, const char *p, const char *e, const struct spr_str *hn)
{
	const char *t = likely(st->fast) ? skip_fast(st, p, e, C_WORD) : skip_long(p, e, C_WORD);

	if (t < e && *t == '@' && t > p) {
		const char *w = t + 1;
		t = likely(st->fast) ? skip_fast(st, w, e, C_WORD) : skip_long(w, e, C_WORD);
		if (t == w)
			t = p;
	}
	if (t == p || t != e) {
		set_err(st->msg, SPR_SIP_ERR_BAD_CALL_ID, hn);
		return;
	}
	st->msg->call_id = mkstr(p, e);
}

/* CSeq = 1*DIGIT LWS Method; the number is below 2^31 (RFC 3261 §8.1.1.5). */
static inline __attribute__((always_inline)) void
hdr_cseq(struct pstate *st, const char *p, const char *e, const struct spr_str *hn)
{
	struct spr_sip_msg *m = st->msg;
	const char *t = p, *ms, *me;
	uint64_t v = 0;

	/* digits once v reaches 2^31 are only counted: the range fault is all that is left */
	if (likely(st->fast) && (t = dec_fast(st, p, e, &v)) != NULL) {
		/* at most 19 digits: v is exact, so v >= 2^31 exactly when the loop's would be */
	} else {
		for (t = p, v = 0; t < e && (unsigned char)(*t - '0') <= 9; t++)
			v = v < ((uint64_t)1 << 31) ? v * 10 + (uint64_t)(*t - '0') : v;
	}
	if (t == p) {
		set_err(m, SPR_SIP_ERR_BAD_CSEQ, hn);
		return;
	}
	ms = skip_lws(t, e);
	me = likely(st->fast) ? skip_fast(st, ms, e, C_TOKEN) : skip_class(ms, e, C_TOKEN);
	if (ms == t || me == ms || me != e) {
		set_err(m, SPR_SIP_ERR_BAD_CSEQ, hn);
		return;
	}
	if (v >= ((uint64_t)1 << 31)) {
		set_err(m, SPR_SIP_ERR_CSEQ_RANGE, hn);
		return;
	}
	m->cseq = (uint32_t)v;
	m->cseq_method = mkstr(ms, me);
	m->cseq_method_id = method_id(ms, (uint32_t)(me - ms));
}

/* type "/" subtype *( SEMI m-parameter ) (RFC 3261 §20.15) */
static __attribute__((noinline)) void
hdr_content_type(struct pstate *st, const char *p, const char *e, const struct spr_str *hn)
{
	struct spr_sip_msg *m = st->msg;
	const char *t = skip_class(p, e, C_TOKEN), *q, *se;

	if (t == p)
		goto bad;
	q = skip_lws(t, e);
	if (q == e || *q != '/')
		goto bad;
	q = skip_lws(q + 1, e);
	se = skip_class(q, e, C_TOKEN);
	if (se == q)
		goto bad;
	m->media_type = mkstr(p, se);
	q = skip_lws(se, e);
	while (q < e && *q == ';') {
		struct param pa;
		if (parse_param(skip_lws(q + 1, e), e, &pa) != 0 || !pa.has_value)
			goto bad;
		q = skip_lws(pa.end, e);
	}
	if (q != e)
		goto bad;
	m->content_type = mkstr(p, e);
	return;
bad:
	m->media_type = SPR_STR_NULL;
	set_err(m, SPR_SIP_ERR_BAD_CONTENT_TYPE, hn);
}

/* Event = event-type *( SEMI event-param ), id param kept (RFC 6665 §8.4) */
static __attribute__((noinline)) void
hdr_event(struct pstate *st, const char *p, const char *e, const struct spr_str *hn)
{
	struct spr_sip_msg *m = st->msg;
	const char *t = skip_class(p, e, C_TOKEN), *q;

	if (t == p)
		goto bad;
	m->event = mkstr(p, t);
	q = skip_lws(t, e);
	while (q < e && *q == ';') {
		struct param pa;
		if (parse_param(skip_lws(q + 1, e), e, &pa) != 0)
			goto bad;
		if (LIT_CASEEQ(pa.name.p, pa.name.p + pa.name.len, "id"))
			m->event_id = pa.value;
		q = skip_lws(pa.end, e);
	}
	if (q == e)
		return;
bad:
	set_err(m, SPR_SIP_ERR_BAD_EVENT, hn);
}

/* credentials = auth-scheme LWS rest; Bearer carries a b64token (RFC 8898, RFC 6750 §2.1) */
static __attribute__((noinline)) void
hdr_authorization(struct pstate *st, const char *p, const char *e, const struct spr_str *hn)
{
	struct spr_sip_msg *m = st->msg;
	const char *t = skip_class(p, e, C_TOKEN), *r;

	if (t == p || (t < e && !is_c(*t, C_LWS)))
		goto bad;
	r = skip_lws(t, e);
	m->auth_scheme = mkstr(p, t);
	m->auth_params = mkstr(r, e);
	if (LIT_CASEEQ(p, t, "bearer")) {
		const char *b = NULL;
		uint64_t poly[2];
		bool scanned;

		/* the token cache's scanner: the same check, and the token's fingerprint begun */
		if (st->cfg->bearer_scan != NULL)
			b = st->cfg->bearer_scan(st->cfg->bearer_scan_ctx, r, e, poly);
		scanned = b != NULL;
		if (!scanned)
			b = skip_b64(r, e);
		if (b == r)
			goto bad;
		while (b < e && *b == '=')
			b++;
		if (b != e)
			goto bad;
		/* the value goes with the bearer it was computed over, and only with it */
		m->bearer = mkstr(r, e);
		m->bearer_poly_len = scanned ? (uint32_t)(e - r) : 0;
		if (scanned)
			memcpy(m->bearer_poly, poly, sizeof(poly));
	}
	return;
bad:
	set_err(m, SPR_SIP_ERR_BAD_AUTHORIZATION, hn);
}

/*
 * A comma-separated list header, appended to l: each element trimmed, empty
 * ones skipped; commas inside quoted strings and <> do not separate.
 */
static __attribute__((noinline)) void
hdr_list(struct pstate *st, const char *p, const char *e, const struct spr_str *hn,
	 struct spr_sip_hlist *l, bool path)
{
	struct spr_sip_msg *m = st->msg;
	enum spr_sip_err bad = path ? SPR_SIP_ERR_BAD_PATH : SPR_SIP_ERR_BAD_HEADER_LINE;

	while (p < e) {
		const char *s = p, *ee;
		for (;;) {
			p = find_any3(p, e, st->lim, ',', '"', '<');
			if (p == e || *p == ',')
				break;
			if (*p == '"') {
				p = scan_quoted(p, e);
				if (p == NULL)
					goto bad;
			} else {
				p = find_any3(p, e, st->lim, '>', '>', '>');
				if (p == e)
					goto bad;
				p++;
			}
		}
		s = skip_lws(s, p);
		ee = rtrim_lws(s, p);
		if (ee > s) {
			if (path) {
				/* path-value = name-addr *( SEMI rr-param ) (RFC 3327) */
				struct spr_sip_nameaddr na;
				const char *q = s;
				if (parse_nameaddr(&q, ee, st->lim, false, &na, NULL) != NA_OK ||
				    na.uri.raw.p == s || na.uri.raw.p[-1] != '<')
					goto bad;
			}
			if (l->n == SPR_SIP_HLIST_MAX) {
				set_err(m, SPR_SIP_ERR_TOO_MANY_FIELDS, hn);
				return;
			}
			l->v[l->n++] = mkstr(s, ee);
		}
		if (p < e)
			p++;
	}
	return;
bad:
	set_err(m, bad, hn);
}

/*
 * Fast path of hdr_list() for a list of tokens, token *( "," [ SP ] token ):
 * appends them to l as hdr_list() does and returns true; false with l->n as
 * it was for any other shape (or too many fields), for hdr_list() to take.
 */
static bool
hlist_fast(struct pstate *st, const char *p, const char *e, struct spr_sip_hlist *l)
{
	uint32_t n = l->n;

	for (;;) {
		const char *t = skip_fast(st, p, e, C_TOKEN);
		if (t == p || n == SPR_SIP_HLIST_MAX)
			return false;
		l->v[n++] = mkstr(p, t);
		if (t == e)
			break;
		if (*t != ',')
			return false;
		p = t + 1;
		if (p < e && *p == ' ')
			p++;
	}
	l->n = (uint8_t)n;
	return true;
}

/* hdr_list() after its fast path. */
static void
hdr_tokens(struct pstate *st, const char *p, const char *e, const struct spr_str *hn,
	   struct spr_sip_hlist *l)
{
	if (!(likely(st->fast) && hlist_fast(st, p, e, l)))
		hdr_list(st, p, e, hn, l, false);
}

/* Header name → id: by length, then first letter, then the rest case-insensitively. */
static inline __attribute__((always_inline)) enum hdr
hdr_lookup(const char *p, uint32_t n)
{
	char c0 = (char)(p[0] | 0x20);

#define H(lit, id)                                                                                 \
	if (c0 == (lit)[0] && tok_caseeq(p + 1, (lit) + 1, sizeof(lit) - 2))                       \
		return (id);
	switch (n) {
	case 1:
		switch (c0) {
		case 'v':
			return H_VIA;
		case 'f':
			return H_FROM;
		case 't':
			return H_TO;
		case 'i':
			return H_CALL_ID;
		case 'm':
			return H_CONTACT;
		case 'l':
			return H_CONTENT_LENGTH;
		case 'c':
			return H_CONTENT_TYPE;
		case 'k':
			return H_SUPPORTED;
		case 'o':
			return H_EVENT;
		default:
			return H_UNKNOWN;
		}
	case 2:
		H("to", H_TO);
		break;
	case 3:
		H("via", H_VIA);
		break;
	case 4:
		H("from", H_FROM);
		H("cseq", H_CSEQ);
		H("path", H_PATH);
		H("date", H_DATE);
		break;
	case 5:
		H("event", H_EVENT);
		H("route", H_ROUTE);
		break;
	case 6:
		H("accept", H_ACCEPT);
		break;
	case 7:
		H("call-id", H_CALL_ID);
		H("contact", H_CONTACT);
		H("expires", H_EXPIRES);
		H("require", H_REQUIRE);
		break;
	case 8:
		H("sip-etag", H_SIP_ETAG);
		break;
	case 9:
		H("supported", H_SUPPORTED);
		break;
	case 10:
		H("user-agent", H_USER_AGENT);
		break;
	case 11:
		H("min-expires", H_MIN_EXPIRES);
		break;
	case 12:
		H("max-forwards", H_MAX_FORWARDS);
		H("content-type", H_CONTENT_TYPE);
		H("sip-if-match", H_SIP_IF_MATCH);
		H("record-route", H_RECORD_ROUTE);
		break;
	case 13:
		H("authorization", H_AUTHORIZATION);
		H("proxy-require", H_PROXY_REQUIRE);
		break;
	case 14:
		H("content-length", H_CONTENT_LENGTH);
		break;
	case 18:
		H("subscription-state", H_SUBSCRIPTION_STATE);
		break;
	default:
		break;
	}
	return H_UNKNOWN;
#undef H
}

/*
 * Octets [off, off + 8) of a string literal as a little-endian word, zero
 * past its end: a constant expression for the compiler to fold.
 */
#define LIT_B(lit, off, i)                                                                         \
	(sizeof(lit) - 1 > (off) + (i) ? (uint64_t)(uint8_t)(lit)[(off) + (i)] << (8 * (i)) : 0)
#define LIT64(lit, off)                                                                            \
	(LIT_B(lit, off, 0) | LIT_B(lit, off, 1) | LIT_B(lit, off, 2) | LIT_B(lit, off, 3) |       \
	 LIT_B(lit, off, 4) | LIT_B(lit, off, 5) | LIT_B(lit, off, 6) | LIT_B(lit, off, 7))

#define LC8 0x2020202020202020ull

/*
 * hdr_lookup() for a name of ALPHA, DIGIT, '-' and '.' only, at p with at
 * least four octets after it readable (lines_fast() has the ':', more of the
 * value or its CR, and the CRLF). For those octets c | 0x20 lower-cases
 * letters and changes nothing else, so one masked word compare checks up to
 * eight octets of a name.
 */
static inline __attribute__((always_inline)) enum hdr
hdr_lookup_fast(const char *p, uint32_t n)
{
	uint64_t w, t;

#define W(lit) LIT64(lit, 0)
#define T(lit) LIT64(lit, sizeof(lit) - 9)
#define H8(lit, id)                                                                                \
	if (w == W(lit))                                                                           \
		return (id);
#define H16(lit, id)                                                                               \
	if (w == W(lit) && t == T(lit))                                                            \
		return (id);
	switch (n) {
	case 1:
		return hdr_lookup(p, 1);
	case 2:
		w = (spr_ld32(p) | 0x20202020u) & 0xffffu;
		H8("to", H_TO);
		return H_UNKNOWN;
	case 3:
		w = (spr_ld32(p) | 0x20202020u) & 0xffffffu;
		H8("via", H_VIA);
		return H_UNKNOWN;
	case 4:
		w = (spr_ld64(p) | LC8) & 0xffffffffu;
		H8("from", H_FROM);
		H8("cseq", H_CSEQ);
		H8("path", H_PATH);
		H8("date", H_DATE);
		return H_UNKNOWN;
	case 5:
		w = (spr_ld64(p) | LC8) & 0xffffffffffull;
		H8("event", H_EVENT);
		H8("route", H_ROUTE);
		return H_UNKNOWN;
	case 6:
		w = (spr_ld64(p) | LC8) & 0xffffffffffffull;
		H8("accept", H_ACCEPT);
		return H_UNKNOWN;
	case 7:
		w = (spr_ld64(p) | LC8) & 0xffffffffffffffull;
		H8("call-id", H_CALL_ID);
		H8("contact", H_CONTACT);
		H8("expires", H_EXPIRES);
		H8("require", H_REQUIRE);
		return H_UNKNOWN;
	case 8:
		w = spr_ld64(p) | LC8;
		H8("sip-etag", H_SIP_ETAG);
		return H_UNKNOWN;
	case 9:
	case 10:
	case 11:
	case 12:
	case 13:
	case 14:
		w = spr_ld64(p) | LC8;
		t = spr_ld64(p + n - 8) | LC8;
		switch (n) {
		case 9:
			H16("supported", H_SUPPORTED);
			break;
		case 10:
			H16("user-agent", H_USER_AGENT);
			break;
		case 11:
			H16("min-expires", H_MIN_EXPIRES);
			break;
		case 12:
			H16("max-forwards", H_MAX_FORWARDS);
			H16("content-type", H_CONTENT_TYPE);
			H16("sip-if-match", H_SIP_IF_MATCH);
			H16("record-route", H_RECORD_ROUTE);
			break;
		case 13:
			H16("authorization", H_AUTHORIZATION);
			H16("proxy-require", H_PROXY_REQUIRE);
			break;
		default:
			H16("content-length", H_CONTENT_LENGTH);
			break;
		}
		return H_UNKNOWN;
	case 18:
		return hdr_lookup(p, 18);
	default:
		return H_UNKNOWN;
	}
#undef W
#undef T
#undef H8
#undef H16
}

/*
 * The ':' ending a field-name at ls when it lies among the first 16 octets
 * with no CR before it, else NULL; reads ls[0..16) only when that is below
 * lim. Without CR, c | 0x20 matches a letter or '-' of a lower-case name only
 * for that letter or '-', so hdr_lookup() is exact on the octets before it.
 */
static inline const char *
name_colon(const char *ls, const char *lim)
{
#ifdef __SSE2__
	if (lim - ls >= 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)ls);
		unsigned m = (unsigned)_mm_movemask_epi8(
			_mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8(':')),
				     _mm_cmpeq_epi8(x, _mm_set1_epi8('\r'))));
		if (m != 0 && ls[__builtin_ctz(m)] == ':')
			return ls + __builtin_ctz(m);
	}
#else
	(void)ls;
	(void)lim;
#endif
	return NULL;
}

/* Fault of a second instance of a header that may appear once (RFC 3261 §7.3.1). */
static const uint8_t dup_err[H_RECORD_ROUTE + 1] = {
	[H_FROM] = SPR_SIP_ERR_DUP_FROM,
	[H_TO] = SPR_SIP_ERR_DUP_TO,
	[H_CALL_ID] = SPR_SIP_ERR_DUP_CALL_ID,
	[H_CSEQ] = SPR_SIP_ERR_DUP_CSEQ,
	[H_MAX_FORWARDS] = SPR_SIP_ERR_DUP_MAX_FORWARDS,
	[H_CONTENT_LENGTH] = SPR_SIP_ERR_DUP_CONTENT_LENGTH,
	[H_CONTENT_TYPE] = SPR_SIP_ERR_DUP_CONTENT_TYPE,
	[H_EXPIRES] = SPR_SIP_ERR_DUP_EXPIRES,
	[H_EVENT] = SPR_SIP_ERR_DUP_EVENT,
	[H_AUTHORIZATION] = SPR_SIP_ERR_DUP_AUTHORIZATION,
};

/* One header field: name [ns, ne), value [v, ve) with the LWS around it trimmed. */
static inline __attribute__((always_inline)) void
parse_header(struct pstate *st, enum hdr id, const struct spr_str *hn, const char *v,
	     const char *ve)
{
	struct spr_sip_msg *m = st->msg;
	uint64_t u64 = 0;
	uint32_t u32;

	if (dup_err[id] != 0) {
		if (st->seen & (1u << id)) {
			set_err(m, (enum spr_sip_err)dup_err[id], hn);
			return;
		}
		st->seen |= 1u << id;
	}
	switch (id) {
	case H_VIA:
		hdr_via(st, v, ve, hn);
		break;
	case H_FROM:
		hdr_nameaddr(st, v, ve, hn, &m->from, SPR_SIP_ERR_BAD_FROM);
		break;
	case H_TO:
		hdr_nameaddr(st, v, ve, hn, &m->to, SPR_SIP_ERR_BAD_TO);
		break;
	case H_CALL_ID:
		hdr_call_id(st, v, ve, hn);
		break;
	case H_CSEQ:
		hdr_cseq(st, v, ve, hn);
		break;
	case H_CONTACT:
		hdr_contact(st, v, ve, hn);
		break;
	case H_EXPIRES:
		if (likely(st->fast) && dec_fast(st, v, ve, &u64) == ve) {
			m->expires = u64 > UINT32_MAX ? UINT32_MAX : (uint32_t)u64;
			m->has_expires = 1;
		} else if (parse_delta(v, ve, &m->expires) < 0)
			set_err(m, SPR_SIP_ERR_BAD_EXPIRES, hn);
		else
			m->has_expires = 1;
		break;
	case H_MIN_EXPIRES:
		if (parse_delta(v, ve, &m->min_expires) < 0)
			set_err(m, SPR_SIP_ERR_BAD_MIN_EXPIRES, hn);
		else
			m->has_min_expires = 1;
		break;
	case H_MAX_FORWARDS:
		if (likely(st->fast) && dec_fast(st, v, ve, &u64) == ve) {
			u32 = u64 > 255 ? 256 : (uint32_t)u64;
		} else if (parse_delta(v, ve, &u32) != 0) {
			u32 = 256;
		}
		if (u32 > 255) {
			set_err(m, SPR_SIP_ERR_BAD_MAX_FORWARDS, hn);
		} else {
			m->max_forwards = u32;
			m->has_max_forwards = 1;
		}
		break;
	case H_CONTENT_LENGTH: {
		struct spr_str s = mkstr(v, ve);
		if (likely(st->fast) && dec_fast(st, v, ve, &u64) == ve && ve - v <= 10 &&
		    u64 <= UINT32_MAX) {
			m->content_length = (uint32_t)u64;
			m->has_content_length = 1;
		} else if (spr_str_to_u32(&s, &m->content_length) != 0)
			set_err(m, SPR_SIP_ERR_BAD_CONTENT_LENGTH, hn);
		else
			m->has_content_length = 1;
		break;
	}
	case H_CONTENT_TYPE:
		hdr_content_type(st, v, ve, hn);
		break;
	case H_EVENT:
		hdr_event(st, v, ve, hn);
		break;
	case H_AUTHORIZATION:
		hdr_authorization(st, v, ve, hn);
		break;
	case H_SIP_IF_MATCH:
		m->sip_if_match = mkstr(v, ve);
		break;
	case H_SIP_ETAG:
		m->sip_etag = mkstr(v, ve);
		break;
	case H_SUBSCRIPTION_STATE:
		m->subscription_state = mkstr(v, ve);
		break;
	case H_USER_AGENT:
		m->user_agent = mkstr(v, ve);
		break;
	case H_DATE:
		m->date = mkstr(v, ve);
		break;
	case H_ACCEPT:
		hdr_list(st, v, ve, hn, &m->accept, false);
		break;
	case H_SUPPORTED:
		hdr_tokens(st, v, ve, hn, &m->supported);
		break;
	case H_REQUIRE:
		hdr_tokens(st, v, ve, hn, &m->require);
		break;
	case H_PROXY_REQUIRE:
		hdr_tokens(st, v, ve, hn, &m->proxy_require);
		break;
	case H_PATH:
		hdr_list(st, v, ve, hn, &m->path, true);
		break;
	case H_ROUTE:
		hdr_list(st, v, ve, hn, &m->route, false);
		break;
	case H_RECORD_ROUTE:
		hdr_list(st, v, ve, hn, &m->record_route, false);
		break;
	case H_UNKNOWN:
		m->n_unknown++;
		break;
	}
}

/*
 * Fast path over the common header lines from *pp: a name of ALPHA, DIGIT,
 * '-' and '.', ':' right after it, one CRLF and no fold. Each gets the same
 * id, name and value the general loop in spr_sip_parse() finds for it.
 * Returns 1 past the empty line ending the header section, -1 when the
 * section is incomplete (as the general loop finds), 0 at a line of another
 * shape, which the general loop takes; *pp is where it stopped.
 */
static int
lines_fast(struct pstate *st, const char **pp, const char *end, uint32_t max_headers)
{
	struct spr_sip_msg *m = st->msg;
	const char *p = *pp;
	uint32_t nh = m->n_headers, lb = (uint32_t)(p - st->buf) / SPR_SIP_SCAN_BLK;
	/* LFs at or after p of block lb (which starts at lbase): each line takes the next one */
	uint64_t lw =
		st->lf[blk_at(st, lb)] & (~0ull << (uint32_t)(p - st->buf) % SPR_SIP_SCAN_BLK);
	const char *lbase = st->buf + (size_t)lb * SPR_SIP_SCAN_BLK;
	int r;

	/* later lines start before end: each line taken ends at an LF before end - 1 */
	if (p == end) {
		r = -1;
		goto out;
	}
	for (;;) {
		const char *ls = p, *n, *nl, *v, *ve;
		struct spr_str hn;

		if (*p == '\r') {
			if (p + 1 == end) {
				r = -1;
				break;
			}
			if (p[1] == '\n') {
				p += 2;
				r = 1;
				break;
			}
		}
		while (unlikely(lw == 0)) {
			if (++lb == st->nblk_all)
				break;
			lw = st->lf[blk_at(st, lb)];
			lbase += SPR_SIP_SCAN_BLK;
		}
		if (unlikely(lw == 0)) {
			r = 0;
			break;
		}
		nl = lbase + ctz64(lw);
		lw &= lw - 1;
		/* nl + 1 < end (struct pstate) */
		if (unlikely(nl[-1] != '\r' || is_c(nl[1], C_WSP))) {
			r = 0;
			break;
		}
		/* the first special octet, at the latest the CR (so n + 2 <= nl) */
		n = next_sp(st, ls);
		if (unlikely(n == ls || *n != ':')) {
			r = 0;
			break;
		}
		p = nl + 1;
		if (unlikely(++nh > max_headers))
			set_err(m, SPR_SIP_ERR_TOO_MANY_HEADERS, NULL);
		hn = mkstr(ls, n);
		/* skip_lws(n + 1, ve) and rtrim_lws(), for ": " and a value at a glance */
		ve = nl - 1;
		if (likely(n[1] == ' ' && !is_c(n[2], C_LWS))) {
			/* v < ve, and *v is not LWS: the trim stops by v + 1 */
			v = n + 2;
			while (is_c(ve[-1], C_LWS))
				ve--;
		} else {
			v = skip_lws(n + 1, ve);
			ve = rtrim_lws(v, ve);
		}
		parse_header(st, hdr_lookup_fast(ls, hn.len), &hn, v, ve);
	}
out:
	m->n_headers = (uint16_t)nh;
	*pp = p;
	return r;
}

/* ------------------------------------------------------------------------- */
/* Start line */

/*
 * Request-Line = Method SP Request-URI SP SIP-Version CRLF, tolerating extra
 * SP between the elements and trailing whitespace (RFC 4475 §3.1.2.8-9).
 * Returns -1 when the line is not a request line at all.
 */
static int
parse_request_line(struct pstate *st, const char *p, const char *e)
{
	struct spr_sip_msg *m = st->msg;
	const char *sp = memchr(p, ' ', (size_t)(e - p));
	const char *vs, *us, *ue;

	if (sp == NULL)
		return -1;
	while (e > sp && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	for (vs = e; vs > sp && vs[-1] != ' '; vs--)
		;
	if (vs == sp + 1 || vs == e)
		return -1;
	m->is_request = 1;
	m->start_ok = 1;
	m->method_str = mkstr(p, sp);
	if (sp == p || skip_class(p, sp, C_TOKEN) != sp)
		set_err(m, SPR_SIP_ERR_BAD_METHOD, NULL);
	else
		m->method = method_id(p, (uint32_t)(sp - p));
	us = sp;
	ue = vs - 1;
	while (us < ue && *us == ' ')
		us++;
	while (ue > us && ue[-1] == ' ')
		ue--;
	if (ruri_parse(st, us, ue, &m->ruri) != 0)
		set_err(m, SPR_SIP_ERR_BAD_RURI, NULL);
	if (!is_sip20(vs, e))
		set_err(m, SPR_SIP_ERR_BAD_VERSION, NULL);
	return 0;
}

/*
 * Fast path for the common Request-Line, Method SP Request-URI SP "SIP/2.0"
 * CRLF with single SPs, a Method of ALPHA, DIGIT, '-' and '.' and a
 * Request-URI uri_fast() takes whole. Returns where the next line starts,
 * with *m set exactly as parse_request_line() sets it for that line; NULL
 * for any other line, which the caller leaves to the general code (m->ruri
 * cleared again).
 */
static const char *
reqline_fast(struct pstate *st, const char *p)
{
	struct spr_sip_msg *m = st->msg;
	const char *nl = next_lf(st, p), *sp, *ue;

	if (nl == NULL)
		return NULL;
	sp = next_sp(st, p);
	if (sp == p || *sp != ' ')
		return NULL;
	/* " " Request-URI " SIP/2.0" CR, the URI not empty */
	if (nl - sp < 11 || nl[-1] != '\r')
		return NULL;
	ue = nl - 9;
	if (*ue != ' ' || !is_sip20(ue + 1, nl - 1))
		return NULL;
	if (uri_fast(st, sp + 1, ue, true, &m->ruri) != ue) {
		memset(&m->ruri, 0, sizeof(m->ruri));
		return NULL;
	}
	m->is_request = 1;
	m->start_ok = 1;
	m->method_str = mkstr(p, sp);
	m->method = method_id(p, (uint32_t)(sp - p));
	return nl + 1;
}

/* Status-Line = SIP-Version SP Status-Code SP Reason-Phrase CRLF; -1 when not one. */
static int
parse_status_line(struct spr_sip_msg *m, const char *p, const char *e)
{
	const char *sp = memchr(p, ' ', (size_t)(e - p));
	const char *c;

	if (sp == NULL)
		return -1;
	m->is_request = 0;
	m->start_ok = 1;
	if (!is_sip20(p, sp))
		set_err(m, SPR_SIP_ERR_BAD_VERSION, NULL);
	c = sp + 1;
	if (e - c < 3 || !is_c(c[0], C_DIGIT) || !is_c(c[1], C_DIGIT) || !is_c(c[2], C_DIGIT) ||
	    (e - c > 3 && c[3] != ' ')) {
		set_err(m, SPR_SIP_ERR_BAD_STATUS, NULL);
		return 0;
	}
	m->status = (uint16_t)((c[0] - '0') * 100 + (c[1] - '0') * 10 + (c[2] - '0'));
	if (m->status < 100 || m->status > 699)
		set_err(m, SPR_SIP_ERR_BAD_STATUS, NULL);
	m->reason = e - c > 3 ? mkstr(c + 4, e) : (struct spr_str){e, 0};
	return 0;
}

/* ------------------------------------------------------------------------- */

/*
 * memset(p, 0, n) for a constant n of 16 to 256: 16-octet stores, the last
 * one overlapping (gcc would spend a REP STOSQ step per 8 octets).
 */
static inline __attribute__((always_inline)) void
zero_run(char *p, size_t n)
{
#ifdef __SSE2__
	const __m128i z = _mm_setzero_si128();

	for (size_t i = 0; i + 16 < n; i += 16) {
		_mm_storeu_si128((__m128i *)(void *)(p + i), z);
		/* keeps gcc from folding the loop back into a memset */
		__asm__ volatile("" ::: "memory");
	}
	_mm_storeu_si128((__m128i *)(void *)(p + n - 16), z);
#else
	memset(p, 0, n);
#endif
}

/*
 * Zero what the parse reads back; arrays are filled only as far as their
 * counts. The Request-URI, the top Via and From and To are left to the parse:
 * each is written whole when its line is parsed, or zeroed by
 * msg_zero_absent() when it is not.
 */
static void
msg_reset(struct spr_sip_msg *m)
{
	memset(m, 0, offsetof(struct spr_sip_msg, ruri));
	memset(&m->reason, 0,
	       offsetof(struct spr_sip_msg, via_fields) - offsetof(struct spr_sip_msg, reason));
	memset(&m->call_id, 0,
	       offsetof(struct spr_sip_msg, contacts) - offsetof(struct spr_sip_msg, call_id));
	zero_run((char *)m + offsetof(struct spr_sip_msg, contacts) + sizeof(m->contacts),
		 offsetof(struct spr_sip_msg, accept) - offsetof(struct spr_sip_msg, contacts) -
			 sizeof(m->contacts));
	m->accept.n = m->supported.n = m->require.n = m->proxy_require.n = 0;
	m->path.n = m->route.n = m->record_route.n = 0;
	m->body = SPR_STR_NULL;
}

/* The end of msg_reset(): the top Via, From and To when no line wrote them. */
static void
msg_zero_absent(const struct pstate *st, struct spr_sip_msg *m)
{
	if (unlikely(!(st->seen & (1u << H_VIA))))
		memset(&m->via, 0, sizeof(m->via));
	if (unlikely(!(st->seen & (1u << H_FROM))))
		memset(&m->from, 0, sizeof(m->from));
	if (unlikely(!(st->seen & (1u << H_TO))))
		memset(&m->to, 0, sizeof(m->to));
}

int
spr_sip_parse(const char *buf, uint32_t len, const struct spr_sip_limits *lim,
	      struct spr_sip_msg *msg)
{
	struct spr_sip_limits dflt;
	struct pstate st;
	struct lfmap lfm;
	const char *p = buf, *end, *nl;
	uint32_t max_msg, hdr_len, total;
	int rc;

	msg_reset(msg);
	if (lim == NULL) {
		spr_sip_limits_default(&dflt);
		lim = &dflt;
	}
	max_msg = lim->max_msg < SPR_SIP_MSG_MAX ? lim->max_msg : SPR_SIP_MSG_MAX;
	st.msg = msg;
	st.lim = buf + len;
	st.seen = 0;
	st.fast = lim->no_fast_path == 0;
	st.cfg = lim;
	st.max_vias = lim->max_vias < SPR_SIP_VIA_MAX ? lim->max_vias : SPR_SIP_VIA_MAX;
	st.max_contacts =
		lim->max_contacts < SPR_SIP_CONTACT_MAX ? lim->max_contacts : SPR_SIP_CONTACT_MAX;
	end = buf + (len < max_msg ? len : max_msg);
	if (likely(st.fast)) {
		st.buf = buf;
		st.scan_len = (uint32_t)(end - buf);
		st.nblk = 0;
		st.nblk_all = st.scan_len / SPR_SIP_SCAN_BLK + 1;
	}

	/* CRLFs before the start line are ignored (RFC 3261 §7.5) */
	while (end - p >= 2 && p[0] == '\r' && p[1] == '\n')
		p += 2;
	if (likely(st.fast) && (nl = reqline_fast(&st, p)) != NULL) {
		p = nl;
		goto headers;
	}
	/* reqline_fast() wrote the Request-URI whole; the general code may not */
	memset(&msg->ruri, 0, sizeof(msg->ruri));
	nl = memchr(p, '\n', (size_t)(end - p));
	if (nl == NULL)
		goto incomplete;
	if (nl == p || nl[-1] != '\r' || memchr(p, '\r', (size_t)(nl - 1 - p)) != NULL)
		goto bad_start;
	/* a response starts with SIP-Version; a Method never holds '/' */
	if (nl - 1 - p >= 4 && (p[0] | 0x20) == 's' && (p[1] | 0x20) == 'i' &&
	    (p[2] | 0x20) == 'p' && p[3] == '/')
		rc = parse_status_line(msg, p, nl - 1);
	else
		rc = parse_request_line(&st, p, nl - 1);
	if (rc != 0)
		goto bad_start;
	p = nl + 1;

headers:
	/* message-header *( message-header ) CRLF */
	lfm.base = end;
	lfm.bits = 0;
	for (;;) {
		const char *ls = p, *q, *n, *v, *ve;
		bool bad_eol = false;
		enum hdr id;
		struct spr_str hn;

		if (p == end)
			goto incomplete;
		if (*p == '\r') {
			if (p + 1 == end)
				goto incomplete;
			if (p[1] == '\n') {
				p += 2;
				break;
			}
		}
		if (likely(st.fast)) {
			rc = lines_fast(&st, &p, end, lim->max_headers);
			if (rc > 0)
				break;
			if (rc < 0)
				goto incomplete;
			ls = p;
		}
		/* the field runs to a CRLF not followed by SP/HT (folding, RFC 3261 §7.3.1) */
		for (q = p;; q = nl + 1) {
			nl = lf_next(&lfm, q, end);
			if (nl == NULL || nl + 1 == end)
				goto incomplete;
			if (nl == ls || nl[-1] != '\r')
				bad_eol = true;
			if (nl[1] != ' ' && nl[1] != '\t')
				break;
		}
		p = nl + 1;
		ve = nl > ls && nl[-1] == '\r' ? nl - 1 : nl;
		if (st.fast)
			/* the line classified for the value's fast paths (next_sp()) */
			(void)blk_at(&st, (uint32_t)(nl - buf) / SPR_SIP_SCAN_BLK);
		msg->n_headers++;
		if (msg->n_headers > lim->max_headers)
			set_err(msg, SPR_SIP_ERR_TOO_MANY_HEADERS, NULL);
		/* field-name HCOLON, HCOLON = *( SP / HTAB ) ":" SWS */
		n = bad_eol ? NULL : name_colon(ls, end);
		if (n != NULL && n > ls &&
		    ((id = hdr_lookup(ls, (uint32_t)(n - ls))) != H_UNKNOWN ||
		     skip_class(ls, n, C_TOKEN) == n)) {
			hn = mkstr(ls, n);
			v = n;
		} else {
			n = skip_class(ls, ve, C_TOKEN);
			hn = mkstr(ls, n);
			v = n;
			while (v < ve && (*v == ' ' || *v == '\t'))
				v++;
			if (n == ls || v == ve || *v != ':' || bad_eol) {
				set_err(msg, SPR_SIP_ERR_BAD_HEADER_LINE, n == ls ? NULL : &hn);
				continue;
			}
			id = hdr_lookup(ls, hn.len);
		}
		v = skip_lws(v + 1, ve);
		parse_header(&st, id, &hn, v, rtrim_lws(v, ve));
	}

	hdr_len = (uint32_t)(p - buf);
	if (msg->has_content_length) {
		if (msg->content_length > len - hdr_len) {
			set_err(msg, SPR_SIP_ERR_BODY_TOO_SHORT, NULL);
			msg->body = mkstr(p, buf + len);
			total = len;
		} else {
			msg->body = (struct spr_str){p, msg->content_length};
			total = hdr_len + msg->content_length;
		}
	} else {
		/* no Content-Length: the body is the rest of the datagram (RFC 3261 §18.3) */
		msg->body = mkstr(p, buf + len);
		total = len;
	}
	if (total > max_msg)
		set_err(msg, SPR_SIP_ERR_TOO_LARGE, NULL);
	msg_zero_absent(&st, msg);
	if (msg->is_request) {
		if (msg->n_via_fields == 0)
			set_err(msg, SPR_SIP_ERR_MISSING_VIA, NULL);
		if (msg->from.raw.p == NULL)
			set_err(msg, SPR_SIP_ERR_MISSING_FROM, NULL);
		if (msg->to.raw.p == NULL)
			set_err(msg, SPR_SIP_ERR_MISSING_TO, NULL);
		if (msg->call_id.p == NULL)
			set_err(msg, SPR_SIP_ERR_MISSING_CALL_ID, NULL);
		if (msg->cseq_method.p == NULL)
			set_err(msg, SPR_SIP_ERR_MISSING_CSEQ, NULL);
		/* the same known method id is the same bytes (method_id() is case-sensitive) */
		else if ((msg->method == SPR_SIP_UNKNOWN || msg->method != msg->cseq_method_id) &&
			 !spr_str_eq(&msg->method_str, &msg->cseq_method))
			set_err(msg, SPR_SIP_ERR_CSEQ_METHOD, NULL);
	}
	return msg->err == SPR_SIP_ERR_NONE ? (int)total : -EBADMSG;

bad_start:
	msg_zero_absent(&st, msg);
	set_err(msg, SPR_SIP_ERR_BAD_START_LINE, NULL);
	msg->start_ok = 0;
	return -EBADMSG;

incomplete:
	msg_zero_absent(&st, msg);
	if (len > max_msg)
		set_err(msg, SPR_SIP_ERR_TOO_LARGE, NULL);
	if (msg->err != SPR_SIP_ERR_NONE)
		return -EBADMSG;
	msg->err = SPR_SIP_ERR_TRUNCATED;
	return -EAGAIN;
}

bool
spr_sip_param_get(const struct spr_str *params, const char *name, uint32_t name_len,
		  struct spr_str *value)
{
	const char *p = params->p, *e = params->p + params->len;
	struct spr_str want = {name, name_len};

	while (p < e) {
		const char *s = skip_lws(p, e), *ne, *q;
		struct spr_str n;

		/* the element runs to a ';' outside a quoted-string */
		for (q = s; q < e && *q != ';'; q++)
			if (*q == '"') {
				const char *qe = scan_quoted(q, e);
				if (qe == NULL) {
					q = e;
					break;
				}
				q = qe - 1;
			}
		p = q < e ? q + 1 : q;
		for (ne = s; ne < q && *ne != '=' && !is_c(*ne, C_LWS); ne++)
			;
		n = mkstr(s, ne);
		if (!spr_str_caseeq(&n, &want))
			continue;
		ne = skip_lws(ne, q);
		if (ne < q && *ne == '=') {
			const char *vs = skip_lws(ne + 1, q);
			*value = mkstr(vs, rtrim_lws(vs, q));
		} else {
			*value = (struct spr_str){ne, 0};
		}
		return true;
	}
	return false;
}

bool
spr_sip_hlist_has(const struct spr_sip_hlist *l, const char *tok, uint32_t tok_len)
{
	struct spr_str t = {tok, tok_len};

	for (uint32_t i = 0; i < l->n; i++)
		if (spr_str_caseeq(&l->v[i], &t))
			return true;
	return false;
}

bool
spr_sip_hlist_first_unknown(const struct spr_sip_hlist *l, const struct spr_str *known,
			    uint32_t nknown, struct spr_str *out)
{
	for (uint32_t i = 0; i < l->n; i++) {
		uint32_t j = 0;
		while (j < nknown && !spr_str_caseeq(&l->v[i], &known[j]))
			j++;
		if (j == nknown) {
			*out = l->v[i];
			return true;
		}
	}
	return false;
}
