/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Response building: bounded writes into a caller's buffer (the request's
 * mbuf on the DPDK backend). A write that does not fit sets overflow and
 * leaves the buffer as it was before that write; callers check overflow once
 * at the end and answer 500 or drop.
 */
#ifndef SPR_SIP_REPLY_H
#define SPR_SIP_REPLY_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include <spr/sip_msg.h>
#include <spr/str.h>

struct spr_wbuf {
	char *p;
	uint32_t len;
	uint32_t cap;
	uint8_t overflow;
};

static inline void
spr_wbuf_init(struct spr_wbuf *w, char *p, uint32_t cap)
{
	w->p = p;
	w->len = 0;
	w->cap = cap;
	w->overflow = 0;
}

static inline void
spr_wbuf_put(struct spr_wbuf *w, const void *src, uint32_t n)
{
	if (unlikely(n > w->cap - w->len)) {
		w->overflow = 1;
		return;
	}
	memcpy(w->p + w->len, src, n);
	w->len += n;
}

#define SPR_WBUF_LIT(w, lit) spr_wbuf_put((w), (lit), sizeof(lit) - 1)

static inline void
spr_wbuf_str(struct spr_wbuf *w, const struct spr_str *s)
{
	spr_wbuf_put(w, s->p, s->len);
}

/* "00".."99": decimal digits two at a time. */
extern const char spr_digits2[200];

/* Decimal digits of v. */
static inline uint32_t
spr_u32_digits(uint32_t v)
{
	uint32_t n = 1;

	while (v >= 10000) {
		v /= 10000;
		n += 4;
	}
	return n + (v >= 10) + (v >= 100) + (v >= 1000);
}

/*
 * Room for n more bytes: where to write them (then add what was written to
 * w->len), or NULL with overflow set. One bounds check for a whole line.
 */
static inline char *
spr_wbuf_room(struct spr_wbuf *w, uint32_t n)
{
	if (unlikely(n > w->cap - w->len)) {
		w->overflow = 1;
		return NULL;
	}
	return w->p + w->len;
}

/* v in decimal at o (room for 10 bytes), two digits per step; bytes written. */
static inline uint32_t
spr_u32_write(char *o, uint32_t v)
{
	uint32_t n = spr_u32_digits(v);

	o += n;
	while (v >= 100) {
		uint32_t r = v % 100;

		v /= 100;
		o -= 2;
		memcpy(o, &spr_digits2[r * 2], 2);
	}
	if (v >= 10)
		memcpy(o - 2, &spr_digits2[v * 2], 2);
	else
		o[-1] = (char)('0' + v);
	return n;
}

/* Decimal unsigned (runs several times per reply). */
static inline void
spr_wbuf_u32(struct spr_wbuf *w, uint32_t v)
{
	char *o = spr_wbuf_room(w, spr_u32_digits(v));

	if (o != NULL)
		w->len += spr_u32_write(o, v);
}

/* A whole header line "Name: value\r\n"; name is a string literal. */
#define SPR_WBUF_HDR_U32(w, name, v)                                                               \
	do {                                                                                       \
		SPR_WBUF_LIT((w), name ": ");                                                      \
		spr_wbuf_u32((w), (v));                                                            \
		SPR_WBUF_LIT((w), "\r\n");                                                         \
	} while (0)
#define SPR_WBUF_HDR_STR(w, name, s)                                                               \
	do {                                                                                       \
		SPR_WBUF_LIT((w), name ": ");                                                      \
		spr_wbuf_str((w), (s));                                                            \
		SPR_WBUF_LIT((w), "\r\n");                                                         \
	} while (0)

/* A qvalue in thousandths as RFC 3261 writes it: "1", "0.5", "0.125". */
void spr_wbuf_q(struct spr_wbuf *w, uint16_t q);

/*
 * First c in [p, p + len), or NULL: memchr for the short spans of a header
 * (a few to a hundred bytes) without a library call. Reads only inside the
 * span: 16-byte blocks, the last one overlapping its predecessor.
 */
static inline const char *
spr_find_byte(const char *p, uint32_t len, char c)
{
#ifdef __SSE2__
	if (len >= 16) {
		const __m128i cv = _mm_set1_epi8(c);
		uint32_t i = 0;

		for (;;) {
			__m128i b = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
			uint32_t mask = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(b, cv));

			if (mask != 0)
				return p + i + (uint32_t)__builtin_ctz(mask);
			if (i + 16 == len)
				return NULL;
			i = i + 32 <= len ? i + 16 : len - 16;
		}
	}
#endif
	for (uint32_t i = 0; i < len; i++)
		if (p[i] == c)
			return p + i;
	return NULL;
}

/* Whether a 64-bit word has a zero byte (the classic SWAR test). */
static inline bool
spr_word_has_zero(uint64_t x)
{
	return ((x - 0x0101010101010101ULL) & ~x & 0x8080808080808080ULL) != 0;
}

/*
 * Whether [p, p + len) holds a CR: the test every copied header value takes
 * for folded lines. Reads only inside the span (overlapping last block or word).
 */
static inline bool
spr_has_cr(const char *p, uint32_t len)
{
	const uint64_t crs = 0x0d0d0d0d0d0d0d0dULL;
	uint64_t a, b;

#ifdef __SSE2__
	if (len >= 16) {
		const __m128i cr = _mm_set1_epi8('\r');
		__m128i acc = _mm_cmpeq_epi8(
			_mm_loadu_si128((const __m128i *)(const void *)(p + len - 16)), cr);

		for (uint32_t i = 0; i + 16 < len; i += 16) {
			__m128i blk = _mm_loadu_si128((const __m128i *)(const void *)(p + i));

			acc = _mm_or_si128(acc, _mm_cmpeq_epi8(blk, cr));
		}
		return _mm_movemask_epi8(acc) != 0;
	}
#else
	if (len >= 16)
		return memchr(p, '\r', len) != NULL;
#endif
	if (len >= 8) {
		memcpy(&a, p, 8);
		memcpy(&b, p + len - 8, 8);
		return spr_word_has_zero(a ^ crs) || spr_word_has_zero(b ^ crs);
	}
	if (len >= 4) {
		uint32_t x, y;

		memcpy(&x, p, 4);
		memcpy(&y, p + len - 4, 4);
		return spr_word_has_zero(((uint64_t)x << 32 | y) ^ crs);
	}
	for (uint32_t i = 0; i < len; i++)
		if (p[i] == '\r')
			return true;
	return false;
}

/* spr_wbuf_value() of a value with a CR in it (folded lines). */
void spr_wbuf_value_folded(struct spr_wbuf *w, const struct spr_str *v);

/* A header value, with folded lines (CRLF + WSP) written as one SP. */
static inline void
spr_wbuf_value(struct spr_wbuf *w, const struct spr_str *v)
{
	if (likely(!spr_has_cr(v->p, v->len)))
		spr_wbuf_str(w, v);
	else
		spr_wbuf_value_folded(w, v);
}

/*
 * Copy n bytes from src to dst (spans apart) and tell whether they hold a
 * CR: the copy and the fold test of a header value in one pass. Reads and
 * writes only inside the two spans (overlapping last block or word).
 */
static inline bool
spr_copy_has_cr(char *dst, const char *src, uint32_t n)
{
	const uint64_t crs = 0x0d0d0d0d0d0d0d0dULL;
	uint64_t a, b;

#ifdef __SSE2__
	if (n >= 16) {
		const __m128i cr = _mm_set1_epi8('\r');
		__m128i last = _mm_loadu_si128((const __m128i *)(const void *)(src + n - 16));
		__m128i acc = _mm_cmpeq_epi8(last, cr);

		for (uint32_t i = 0; i + 16 < n; i += 16) {
			__m128i blk = _mm_loadu_si128((const __m128i *)(const void *)(src + i));

			_mm_storeu_si128((__m128i *)(void *)(dst + i), blk);
			acc = _mm_or_si128(acc, _mm_cmpeq_epi8(blk, cr));
		}
		_mm_storeu_si128((__m128i *)(void *)(dst + n - 16), last);
		return _mm_movemask_epi8(acc) != 0;
	}
#else
	if (n >= 16) {
		memcpy(dst, src, n);
		return memchr(src, '\r', n) != NULL;
	}
#endif
	if (n >= 8) {
		memcpy(&a, src, 8);
		memcpy(&b, src + n - 8, 8);
		memcpy(dst, &a, 8);
		memcpy(dst + n - 8, &b, 8);
		return spr_word_has_zero(a ^ crs) || spr_word_has_zero(b ^ crs);
	}
	if (n >= 4) {
		uint32_t x, y;

		memcpy(&x, src, 4);
		memcpy(&y, src + n - 4, 4);
		memcpy(dst, &x, 4);
		memcpy(dst + n - 4, &y, 4);
		return spr_word_has_zero(((uint64_t)x << 32 | y) ^ crs);
	}
	a = 0;
	for (uint32_t i = 0; i < n; i++) {
		dst[i] = src[i];
		a |= src[i] == '\r';
	}
	return a != 0;
}

/* Copy n bytes between spans apart, inline (the CR test above is dropped unused). */
static inline void
spr_copy(char *dst, const char *src, uint32_t n)
{
	(void)spr_copy_has_cr(dst, src, n);
}

/* spr_wbuf_hdr_value() of a value that did not go the one-pass way. */
void spr_wbuf_hdr_value_slow(struct spr_wbuf *w, const char *name, uint32_t nlen,
			     const struct spr_str *v);

/*
 * A header line: name (a literal with its ": "), the value as
 * spr_wbuf_value() writes it, CRLF. Use SPR_WBUF_HDR_VALUE(). One bounds
 * check, and the value copied and checked for folds in one pass; a folded
 * value is written again the slow way over what was copied.
 */
static inline void
spr_wbuf_hdr_value(struct spr_wbuf *w, const char *name, uint32_t nlen, const struct spr_str *v)
{
	char *o = w->p + w->len;

	if (likely(nlen + v->len + 2 <= w->cap - w->len)) {
		memcpy(o, name, nlen);
		if (likely(!spr_copy_has_cr(o + nlen, v->p, v->len))) {
			memcpy(o + nlen + v->len, "\r\n", 2);
			w->len += nlen + v->len + 2;
			return;
		}
	}
	spr_wbuf_hdr_value_slow(w, name, nlen, v);
}

#define SPR_WBUF_HDR_VALUE(w, name, v)                                                             \
	spr_wbuf_hdr_value((w), name ": ", sizeof(name ": ") - 1, (v))

/* Where a request came from: the reply goes back there (RFC 3581). */
struct spr_peer {
	uint8_t family; /* AF_INET, AF_INET6 */
	uint16_t port;  /* host order */
	uint8_t addr[16];
};

/* Textual address of a peer ("192.0.2.1", "2001:db8::1"); bytes written. */
uint32_t spr_peer_format(const struct spr_peer *p, char *out, uint32_t cap);

/* Wall-clock second and its cached Date header value (RFC 3261 §20.17). */
struct spr_now {
	uint32_t sec; /* unix seconds */
	uint8_t date_len;
	char date[40];
};

/* Set the clock to unix second sec; the Date text is rebuilt only when sec changes. */
void spr_now_set(struct spr_now *now, uint32_t sec);

/* What every reply of this server carries. */
struct spr_reply_cfg {
	struct spr_str server; /* Server header value; empty: none */
};

/*
 * Status line and the headers copied from the request (RFC 3261 §8.2.6.2):
 * every Via (received= and rport= set on the top one, RFC 3581), From, To
 * (with to_tag added when the request's To has none and code > 100; NULL
 * for this server's own, spr_sip_to_tag(), computed only then), Call-ID,
 * CSeq. Headers the request lacked are left out, so this also answers a
 * request whose parse failed part-way.
 */
void spr_sip_reply_head_n(struct spr_wbuf *w, const struct spr_sip_msg *m,
			  const struct spr_peer *src, uint16_t code, const char *reason,
			  uint32_t reason_len, const struct spr_str *to_tag);

/* spr_sip_reply_head_n() of a NUL-terminated reason (a literal's length folds to a constant). */
static inline void
spr_sip_reply_head(struct spr_wbuf *w, const struct spr_sip_msg *m, const struct spr_peer *src,
		   uint16_t code, const char *reason, const struct spr_str *to_tag)
{
	spr_sip_reply_head_n(w, m, src, code, reason, (uint32_t)strlen(reason), to_tag);
}

/* Server, Date, Content-Length and the end of the header section; body may be NULL. */
void spr_sip_reply_tail(struct spr_wbuf *w, const struct spr_reply_cfg *cfg,
			const struct spr_now *now, const struct spr_str *body);

/*
 * When the reply written since start overflowed its buffer, write instead a
 * short "500 <reason>" with only the copied headers; returns whether it did.
 * Whatever the request changed stays changed: the 500 says the answer, not
 * the change, was lost.
 */
bool spr_sip_reply_fallback(struct spr_wbuf *w, uint32_t start, const struct spr_sip_msg *m,
			    const struct spr_peer *src, const struct spr_str *to_tag,
			    const struct spr_reply_cfg *cfg, const struct spr_now *now,
			    const char *reason);

/*
 * The To-tag this server gives a request: a stable function of Call-ID and
 * From-tag, so a retransmission gets the same tag. Writes 16 hex digits.
 */
void spr_sip_to_tag(const struct spr_sip_msg *m, char out[16]);

#endif /* SPR_SIP_REPLY_H */
