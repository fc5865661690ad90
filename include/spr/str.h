/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Views into buffers. A struct spr_str never owns its bytes: it points into
 * a packet, a record blob or a literal, and is valid as long as that is.
 */
#ifndef SPR_STR_H
#define SPR_STR_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

struct spr_str {
	const char *p;
	uint32_t len;
};

#define SPR_STR(lit) ((struct spr_str){(lit), sizeof(lit) - 1})
#define SPR_STR_NULL ((struct spr_str){NULL, 0})

#ifndef likely
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#endif

static inline bool
spr_str_empty(const struct spr_str *s)
{
	return s->len == 0;
}

static inline bool
spr_str_eq(const struct spr_str *a, const struct spr_str *b)
{
	return a->len == b->len && (a->len == 0 || memcmp(a->p, b->p, a->len) == 0);
}

static inline char
spr_ascii_lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c | 0x20) : c;
}

/* ASCII case-insensitive equality (header names, tokens, hosts). */
static inline bool
spr_str_caseeq(const struct spr_str *a, const struct spr_str *b)
{
	if (a->len != b->len)
		return false;
	for (uint32_t i = 0; i < a->len; i++)
		if (spr_ascii_lower(a->p[i]) != spr_ascii_lower(b->p[i]))
			return false;
	return true;
}

/* Case-insensitive comparison with a lower-case C literal. */
static inline bool
spr_str_caseeq_lit(const struct spr_str *a, const char *lit, uint32_t litlen)
{
	struct spr_str b = {lit, litlen};
	return spr_str_caseeq(a, &b);
}

#define SPR_STR_CASEEQ_LIT(s, lit) spr_str_caseeq_lit((s), (lit), sizeof(lit) - 1)

/*
 * Parse an unsigned decimal of at most 10 digits that must fit in 32 bits.
 * Returns 0 and sets *out, or -1 on an empty, non-digit or out-of-range value.
 */
static inline int
spr_str_to_u32(const struct spr_str *s, uint32_t *out)
{
	uint64_t v = 0;
	if (s->len == 0 || s->len > 10)
		return -1;
	for (uint32_t i = 0; i < s->len; i++) {
		unsigned d = (unsigned char)s->p[i] - '0';
		if (d > 9)
			return -1;
		v = v * 10 + d;
	}
	if (v > UINT32_MAX)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/* The value of hex digit c (either case), or -1. */
static inline int
spr_hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Unaligned loads of 2, 4 and 8 octets in host order (one move each once inlined). */
static inline uint16_t
spr_ld16(const void *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static inline uint32_t
spr_ld32(const void *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static inline uint64_t
spr_ld64(const void *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* 64-bit FNV-1a; stable across runs (shard choice, tags). */
static inline uint64_t
spr_hash64(const void *p, uint32_t len, uint64_t seed)
{
	const unsigned char *b = p;
	uint64_t h = 0xcbf29ce484222325ULL ^ seed;
	for (uint32_t i = 0; i < len; i++) {
		h ^= b[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

/*
 * One 64-bit word into a running string hash: xor, then multiply by an odd
 * constant, so each step is a bijection of h for a given word and two strings
 * of the same length that differ in one word end in different states. Not
 * keyed and not finalised: the caller adds a finaliser that spreads the bits
 * the multiply leaves high (spr_loc_hash(), the To-tag).
 */
static inline uint64_t
spr_hash_mix(uint64_t h, uint64_t v)
{
	return (h ^ v) * 0x9e3779b97f4a7c15ULL;
}

/* s into the running hash h: its length, then 8 bytes a step; reads nothing outside s. */
static inline uint64_t
spr_str_hash_words(uint64_t h, const struct spr_str *s)
{
	const char *p = s->p;
	uint32_t n = s->len;
	uint64_t v;

	h = spr_hash_mix(h, n);
	for (; n >= 8; p += 8, n -= 8) {
		memcpy(&v, p, 8);
		h = spr_hash_mix(h, v);
	}
	if (n >= 4) {
		uint32_t a, b;

		memcpy(&a, p, 4);
		memcpy(&b, p + n - 4, 4);
		h = spr_hash_mix(h, (uint64_t)a << 32 | b);
	} else if (n != 0) {
		h = spr_hash_mix(h, (uint64_t)(unsigned char)p[0] << 16 |
					    (uint64_t)(unsigned char)p[n / 2] << 8 |
					    (unsigned char)p[n - 1]);
	}
	return h;
}

#endif /* SPR_STR_H */
