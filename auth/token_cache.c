/* SPDX-License-Identifier: BSD-3-Clause */
/* Token cache: keyed-hash-indexed, seqlock-guarded set-associative table (contract in token_cache.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <spr/str.h>

#include "jwt_verify.h"
#include "token_cache.h"


/*
 * One entry: one cache line. A good verdict's claims live in its token copy
 * (immutable, with the token's bytes), so a probe reads one line per way and
 * a hit one more allocation, read whole by the compare anyway. Written by
 * the control thread only, under seq (odd while being written).
 */
struct entry {
	uint32_t seq;
	uint32_t gen; /* cache generation it was written in; 0: never written */
	uint64_t tag; /* spr_token_tag() of the token */
	int64_t expires;
	uint32_t len; /* the token's length */
	uint8_t verdict;
	uint8_t pad[3];
	union {
		const struct spr_token_copy *copy; /* good verdict: token and claims */
		uint8_t key[SPR_TOKEN_KEY_BYTES];  /* bad verdict: SHA-256 of the token */
	} u;
} __attribute__((aligned(64)));

_Static_assert(sizeof(struct entry) == 64, "a token cache entry is one cache line");

/* The user of a copy: after the token's bytes, padded to 64 so it is copied in one block. */
#define COPY_USER_ROOM(ulen) ((ulen) + 1u < 64u ? 64u : (ulen) + 1u)

static inline const char *
copy_user(const struct spr_token_copy *t)
{
	return t->b + t->len;
}

struct spr_token_cache {
	uint64_t hkey[SPR_TOKEN_HASH_KEY_WORDS]; /* spr_token_tag()'s key: random, never changes */
	bool aes;				/* the CPU has AES-NI: tag_aes(), else tag_mum() */
	bool avx;				/* and AVX: tag_aes_vex() */
	bool avx2;				/* the hit's compare is ct_equal_avx2() */
	uint32_t gen;		       /* written by flush (release), read by everyone (acquire) */
	uint32_t set_mask;
	uint32_t neg_ttl;
	uint32_t pos_ttl;
	spr_token_retire_fn *retire;
	struct spr_token_cache_stats stats; /* control thread only */
	struct entry *e;		    /* (set_mask + 1) * SPR_TOKEN_WAYS */
};

struct spr_token_hasher {
	EVP_MD_CTX *ctx;
	EVP_MD *md;
};

#ifndef unlikely
#define unlikely(x) __builtin_expect(!!(x), 0)
#endif
#ifndef likely
#define likely(x) __builtin_expect(!!(x), 1)
#endif

_Static_assert(SPR_JWT_USER_MAX + 1 >= 64, "the hit copies the user in 64-byte blocks");

static inline void
cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

/*
 * The tag covers the token's length and its last TAG_SPAN bytes, not the
 * whole token: for a JWS (header.payload.signature) those bytes are the
 * signature or end with all of it (RS256: 342 characters, ES256: 86, HS256:
 * 43), so tokens an identity provider issued differ there and spread over
 * the sets as well as with a hash of everything, at a fraction of the cost
 * (4 words instead of 54 for an 862-byte token). Why it is safe that
 * anyone can make any number of distinct tokens with one tag (one tail,
 * different heads), all landing in that tag's set:
 *  - no decision rests on the tag: a lookup tries every way whose tag and
 *    length match, a good entry by the constant-time compare of the whole
 *    token with its copy, a bad one by SHA-256 of the whole token (computed
 *    at most once per lookup), and takes the one that is exactly equal;
 *  - a good entry needs a verified signature, and two tokens whose last
 *    TAG_SPAN bytes (the signature) agree are the same token unless the
 *    signature is forged, so crafted tokens with one tag are all bad
 *    verdicts, and a bad verdict never evicts a good one (put);
 *  - a set is aimed at only blind (the key is secret: which set a tail
 *    picks, and which honest tokens share it, is unknown), and among bad
 *    entries the crafted ones evict only what distinct random tokens evict
 *    too: each distinct token the attacker sends is a miss and one
 *    verification anyway, so cycling through five tokens of one set costs
 *    a verification per request, no more than sending a fresh token each
 *    time already does; a flood of one bad token still finds its entry;
 *  - per lookup, still at most one compare per way and one SHA-256.
 */
#define TAG_SPAN 64u

/* 64x64 -> 128-bit product folded to 64 bits. */
static inline uint64_t
mum(uint64_t a, uint64_t b)
{
	unsigned __int128 r = (unsigned __int128)a * b;

	return (uint64_t)r ^ (uint64_t)(r >> 64);
}

/*
 * Four lanes, each chaining 16-byte words through one product with key
 * words (so word order matters and the state stays secret), over the
 * length and the token's last TAG_SPAN bytes: a token of
 * TAG_SPAN bytes or more is four words, one per lane; a shorter one its
 * 16-byte words then its last 16 bytes (overlapping). It only spreads
 * tokens over sets: every hit is decided by an exact compare.
 */
static uint64_t
tag_mum(const struct spr_token_cache *c, const char *tok, uint32_t len)
{
	const uint64_t *k = c->hkey;
	uint64_t a0 = k[8] ^ len, a1 = k[9], a2 = k[10], a3 = k[11];

	if (len >= TAG_SPAN) {
		const char *p = tok + len - TAG_SPAN;

		a0 = mum(spr_ld64(p) ^ k[0], spr_ld64(p + 8) ^ k[1] ^ a0);
		a1 = mum(spr_ld64(p + 16) ^ k[2], spr_ld64(p + 24) ^ k[3] ^ a1);
		a2 = mum(spr_ld64(p + 32) ^ k[4], spr_ld64(p + 40) ^ k[5] ^ a2);
		a3 = mum(spr_ld64(p + 48) ^ k[6], spr_ld64(p + 56) ^ k[7] ^ a3);
	} else {
		const char *p = tok;
		uint32_t n = len;

		while (n > 16) {
			a0 = mum(spr_ld64(p) ^ k[2], spr_ld64(p + 8) ^ k[5] ^ a0);
			p += 16;
			n -= 16;
		}
		if (len >= 16) {
			const char *q = tok + len - 16;

			a1 = mum(spr_ld64(q) ^ k[4], spr_ld64(q + 8) ^ k[7] ^ a1);
		} else {
			uint64_t w[2] = {0, 0};

			memcpy(w, tok, len);
			a1 = mum(w[0] ^ k[4], w[1] ^ k[7] ^ a1);
		}
	}
	return mum(mum(a0 ^ k[1], a1 ^ k[6]) ^ len, mum(a2 ^ k[3], a3 ^ k[0]) ^ k[9]);
}

typedef uint64_t v2u64 __attribute__((vector_size(16)));

static inline v2u64
rd128(const char *p)
{
	v2u64 v;

	memcpy(&v, p, sizeof(v));
	return v;
}

#if defined(__x86_64__)
/*
 * The same four lanes with one AES round per 16-byte word (AES-NI): the
 * word XORed into the lane's secret state, then SubBytes/ShiftRows/
 * MixColumns and a key word. Inlined into tag_aes() and tag_aes_vex():
 * the same function, the second in VEX encoding, where a word's load folds
 * into its XOR.
 */
__attribute__((target("aes"), always_inline)) static inline uint64_t
tag_aes_body(const struct spr_token_cache *c, const char *tok, uint32_t len)
{
	const __m128i k0 = _mm_loadu_si128((const __m128i *)(const void *)&c->hkey[0]);
	const __m128i k1 = _mm_loadu_si128((const __m128i *)(const void *)&c->hkey[2]);
	const __m128i k2 = _mm_loadu_si128((const __m128i *)(const void *)&c->hkey[4]);
	const __m128i k3 = _mm_loadu_si128((const __m128i *)(const void *)&c->hkey[6]);
	const __m128i k4 = _mm_loadu_si128((const __m128i *)(const void *)&c->hkey[8]);
	const __m128i k5 = _mm_loadu_si128((const __m128i *)(const void *)&c->hkey[10]);
	__m128i s0 = _mm_xor_si128(k0, _mm_set1_epi32((int)len)), s1 = k1, s2 = k2, s3 = k3, w;

	if (len >= TAG_SPAN) {
		const char *p = tok + len - TAG_SPAN;

		s0 = _mm_aesenc_si128(_mm_xor_si128(s0, _mm_loadu_si128((const void *)p)), k4);
		s1 = _mm_aesenc_si128(_mm_xor_si128(s1, _mm_loadu_si128((const void *)(p + 16))), k5);
		s2 = _mm_aesenc_si128(_mm_xor_si128(s2, _mm_loadu_si128((const void *)(p + 32))), k4);
		s3 = _mm_aesenc_si128(_mm_xor_si128(s3, _mm_loadu_si128((const void *)(p + 48))),
				      k5);
	} else {
		const char *p = tok;
		uint32_t n = len;

		while (n > 16) {
			s0 = _mm_aesenc_si128(_mm_xor_si128(s0, _mm_loadu_si128((const void *)p)),
					      k5);
			p += 16;
			n -= 16;
		}
		if (len >= 16) {
			w = _mm_loadu_si128((const void *)(tok + len - 16));
		} else {
			uint64_t b[2] = {0, 0};

			memcpy(b, tok, len);
			w = _mm_loadu_si128((const void *)b);
		}
		s1 = _mm_aesenc_si128(_mm_xor_si128(s1, w), k4);
	}
	s0 = _mm_aesenc_si128(_mm_xor_si128(s0, s2), k5);
	s1 = _mm_aesenc_si128(_mm_xor_si128(s1, s3), k4);
	s0 = _mm_aesenc_si128(_mm_xor_si128(s0, s1), k2);
	s0 = _mm_aesenc_si128(s0, k3);
	return (uint64_t)_mm_cvtsi128_si64(s0) ^
	       (uint64_t)_mm_cvtsi128_si64(_mm_unpackhi_epi64(s0, s0));
}

__attribute__((target("aes"))) static uint64_t
tag_aes(const struct spr_token_cache *c, const char *tok, uint32_t len)
{
	return tag_aes_body(c, tok, len);
}

__attribute__((target("aes,avx"))) static uint64_t
tag_aes_vex(const struct spr_token_cache *c, const char *tok, uint32_t len)
{
	return tag_aes_body(c, tok, len);
}
#endif

/* spr_token_tag(), inlined where the pipeline computes it (one call less). */
static inline uint64_t
tag_of(const struct spr_token_cache *c, const char *tok, uint32_t len)
{
#if defined(__x86_64__)
	if (likely(c->avx))
		return tag_aes_vex(c, tok, len);
	if (likely(c->aes))
		return tag_aes(c, tok, len);
#endif
	return tag_mum(c, tok, len);
}

uint64_t
spr_token_tag(const struct spr_token_cache *c, const char *tok, uint32_t len)
{
	return tag_of(c, tok, len);
}

/* Equal bytes? Time depends on n only, not on where a and b differ. */
static inline bool
ct_equal(const void *a, const void *b, uint32_t n)
{
	const char *x = a, *y = b;
	v2u64 dv = {0, 0};
	uint64_t d = 0;
	uint32_t i = 0;

	if (n >= 16) {
		v2u64 d1 = {0, 0}, d2 = {0, 0}, d3 = {0, 0};

		for (; i + 64 <= n; i += 64) {
			dv |= rd128(x + i) ^ rd128(y + i);
			d1 |= rd128(x + i + 16) ^ rd128(y + i + 16);
			d2 |= rd128(x + i + 32) ^ rd128(y + i + 32);
			d3 |= rd128(x + i + 48) ^ rd128(y + i + 48);
		}
		dv |= d1 | d2 | d3;
		for (; i + 16 <= n; i += 16)
			dv |= rd128(x + i) ^ rd128(y + i);
		if (i < n)
			dv |= rd128(x + n - 16) ^ rd128(y + n - 16);
		d = dv[0] | dv[1];
	} else if (n >= 8) {
		d = (spr_ld64(x) ^ spr_ld64(y)) | (spr_ld64(x + n - 8) ^ spr_ld64(y + n - 8));
	} else {
		for (; i < n; i++)
			d |= (uint8_t)(x[i] ^ y[i]);
	}
	return d == 0;
}

#if defined(__x86_64__)
/*
 * ct_equal() 128 bytes per step, for n >= 32, then 64 and 32 when they
 * fit, and the last 32 bytes overlapping: which blocks are read depends on
 * n only.
 */
__attribute__((target("avx2"))) static bool
ct_equal_avx2(const void *a, const void *b, uint32_t n)
{
	const char *x = a, *y = b;
	__m256i d = _mm256_setzero_si256();
	size_t i = 0, whole = n & ~(size_t)127;

	for (; i < whole; i += 128) {
		__m256i d0 = _mm256_xor_si256(_mm256_loadu_si256((const void *)(x + i)),
					      _mm256_loadu_si256((const void *)(y + i)));
		__m256i d1 = _mm256_xor_si256(_mm256_loadu_si256((const void *)(x + i + 32)),
					      _mm256_loadu_si256((const void *)(y + i + 32)));
		__m256i d2 = _mm256_xor_si256(_mm256_loadu_si256((const void *)(x + i + 64)),
					      _mm256_loadu_si256((const void *)(y + i + 64)));
		__m256i d3 = _mm256_xor_si256(_mm256_loadu_si256((const void *)(x + i + 96)),
					      _mm256_loadu_si256((const void *)(y + i + 96)));

		d = _mm256_or_si256(
			d, _mm256_or_si256(_mm256_or_si256(d0, d1), _mm256_or_si256(d2, d3)));
	}
	if (i + 64 <= n) {
		__m256i d0 = _mm256_xor_si256(_mm256_loadu_si256((const void *)(x + i)),
					      _mm256_loadu_si256((const void *)(y + i)));
		__m256i d1 = _mm256_xor_si256(_mm256_loadu_si256((const void *)(x + i + 32)),
					      _mm256_loadu_si256((const void *)(y + i + 32)));

		d = _mm256_or_si256(d, _mm256_or_si256(d0, d1));
		i += 64;
	}
	if (i + 32 <= n) {
		d = _mm256_or_si256(d, _mm256_xor_si256(_mm256_loadu_si256((const void *)(x + i)),
							_mm256_loadu_si256((const void *)(y + i))));
		i += 32;
	}
	if (i < n)
		d = _mm256_or_si256(
			d, _mm256_xor_si256(_mm256_loadu_si256((const void *)(x + n - 32)),
					    _mm256_loadu_si256((const void *)(y + n - 32))));
	return _mm256_testz_si256(d, d);
}
#endif

/* The hit's compare of the token with its copy: ct_equal(), wider when the CPU can. */
static inline bool
ct_equal_tok(const struct spr_token_cache *c, const void *a, const void *b, uint32_t n)
{
#if defined(__x86_64__)
	if (likely(c->avx2) && n >= 32)
		return ct_equal_avx2(a, b, n);
#endif
	(void)c;
	return ct_equal(a, b, n);
}

struct spr_token_cache *
spr_token_cache_new(uint32_t entries, uint32_t neg_ttl, uint32_t pos_ttl,
		    spr_token_retire_fn *retire)
{
	struct spr_token_cache *c;
	uint32_t sets = 1;
	size_t bytes;

	if (entries == 0 || entries > (1u << 28))
		return NULL;
	while (sets * SPR_TOKEN_WAYS < entries)
		sets <<= 1;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	if (RAND_bytes((unsigned char *)c->hkey, (int)sizeof(c->hkey)) != 1) {
		free(c);
		return NULL;
	}
	bytes = (size_t)sets * SPR_TOKEN_WAYS * sizeof(struct entry);
	if ((c->e = aligned_alloc(64, bytes)) == NULL) {
		OPENSSL_cleanse(c->hkey, sizeof(c->hkey));
		free(c);
		return NULL;
	}
	memset(c->e, 0, bytes);
	c->gen = 1;
	c->set_mask = sets - 1;
	c->neg_ttl = neg_ttl ? neg_ttl : SPR_AUTH_DEF_NEG_TTL;
	c->pos_ttl = pos_ttl ? pos_ttl : SPR_AUTH_DEF_POS_TTL;
	c->retire = retire;
#if defined(__x86_64__)
	c->aes = __builtin_cpu_supports("aes");
	/* libgcc checks that the OS saves the YMM state too */
	c->avx = c->aes && __builtin_cpu_supports("avx");
	c->avx2 = __builtin_cpu_supports("avx2");
#endif
	return c;
}

void
spr_token_cache_set_hash_key(struct spr_token_cache *c, const uint64_t *key)
{
	memcpy(c->hkey, key, sizeof(c->hkey));
	c->aes = false;
	c->avx = false;
}

void
spr_token_copy_free(struct spr_token_copy *t)
{
	free(t);
}

void
spr_token_cache_free(struct spr_token_cache *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < (size_t)(c->set_mask + 1) * SPR_TOKEN_WAYS; i++)
		if (c->e[i].gen != 0 && c->e[i].verdict == SPR_JWT_OK)
			spr_token_copy_free((struct spr_token_copy *)c->e[i].u.copy);
	OPENSSL_cleanse(c->hkey, sizeof(c->hkey));
	free(c->e);
	free(c);
}

uint32_t
spr_token_cache_capacity(const struct spr_token_cache *c)
{
	return (c->set_mask + 1) * SPR_TOKEN_WAYS;
}

struct spr_token_hasher *
spr_token_hasher_new(void)
{
	struct spr_token_hasher *h = calloc(1, sizeof(*h));

	if (h == NULL)
		return NULL;
	if ((h->md = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL ||
	    (h->ctx = EVP_MD_CTX_new()) == NULL) {
		spr_token_hasher_free(h);
		return NULL;
	}
	return h;
}

void
spr_token_hasher_free(struct spr_token_hasher *h)
{
	if (h == NULL)
		return;
	EVP_MD_CTX_free(h->ctx);
	EVP_MD_free(h->md);
	free(h);
}

int
spr_token_key(struct spr_token_hasher *h, const char *tok, uint32_t len, struct spr_token_key *k)
{
	unsigned int n = 0;

	if (EVP_DigestInit_ex2(h->ctx, h->md, NULL) != 1 ||
	    EVP_DigestUpdate(h->ctx, tok, len) != 1 || EVP_DigestFinal_ex(h->ctx, k->b, &n) != 1 ||
	    n != SPR_TOKEN_KEY_BYTES)
		return -EIO;
	return 0;
}

static inline const struct entry *
set_of(const struct spr_token_cache *c, uint64_t tag)
{
	return &c->e[(size_t)(tag & c->set_mask) * SPR_TOKEN_WAYS];
}

/* SHA-256 of the token, computed at most once per call: 0, or -EIO. */
struct lazy_key {
	bool have;
	struct spr_token_key k;
};

static inline int
lazy_key_get(struct lazy_key *lk, struct spr_token_hasher *h, const char *tok, uint32_t len)
{
	if (!lk->have) {
		if (h == NULL || spr_token_key(h, tok, len, &lk->k) != 0)
			return -EIO;
		lk->have = true;
	}
	return 0;
}

uint64_t
spr_token_tag_prefetch(const struct spr_token_cache *c, const char *tok, uint32_t len)
{
	uint64_t tag = tag_of(c, tok, len);
	const char *set = (const char *)set_of(c, tag);

	for (uint32_t w = 0; w < SPR_TOKEN_WAYS; w++)
		__builtin_prefetch(set + w * sizeof(struct entry));
	return tag;
}

void
spr_token_cache_prefetch(const struct spr_token_cache *c, uint64_t tag, uint32_t len)
{
	uint32_t gen = __atomic_load_n(&c->gen, __ATOMIC_RELAXED);
	const struct entry *set = set_of(c, tag);

	/*
	 * A hint, read without the seqlock: a torn entry only prefetches the
	 * wrong lines, and prefetching never faults (a copy retired since is
	 * not freed before our next quiescent state anyway).
	 */
	for (uint32_t w = 0; w < SPR_TOKEN_WAYS; w++) {
		const struct entry *e = &set[w];
		const char *copy;

		if (e->tag != tag || e->len != len || e->gen != gen || e->verdict != SPR_JWT_OK)
			continue;
		copy = (const char *)__atomic_load_n(&e->u.copy, __ATOMIC_RELAXED);
		/* the copy's head, the token's bytes and 64 of the user, 4 lines a step */
		for (size_t off = 0; off < sizeof(struct spr_token_copy) + len + 64; off += 256) {
			__builtin_prefetch(copy + off);
			__builtin_prefetch(copy + off + 64);
			__builtin_prefetch(copy + off + 128);
			__builtin_prefetch(copy + off + 192);
		}
		return;
	}
}

int
spr_token_cache_get(const struct spr_token_cache *c, struct spr_token_hasher *h, const char *tok,
		    uint32_t len, int64_t now, struct spr_token_hit *out)
{
	return spr_token_cache_get_tagged(c, h, tok, len, spr_token_tag(c, tok, len), now, out);
}

int
spr_token_cache_get_tagged(const struct spr_token_cache *c, struct spr_token_hasher *h,
			   const char *tok, uint32_t len, uint64_t tag, int64_t now,
			   struct spr_token_hit *out)
{
	uint32_t gen = __atomic_load_n(&c->gen, __ATOMIC_ACQUIRE);
	const struct entry *set = set_of(c, tag);
	struct lazy_key lk;

	lk.have = false; /* the key itself is written when first needed */
	for (uint32_t w = 0; w < SPR_TOKEN_WAYS; w++) {
		const struct entry *e = &set[w];

		for (uint32_t tries = 0; tries < SPR_TOKEN_READ_RETRIES; tries++) {
			uint32_t s1 = __atomic_load_n(&e->seq, __ATOMIC_ACQUIRE), ulen;
			const struct spr_token_copy *copy = NULL;
			uint8_t key[SPR_TOKEN_KEY_BYTES], verdict;
			int64_t expires;

			if (s1 & 1) {
				cpu_relax();
				continue;
			}
			/*
			 * A mismatch read from a torn entry only costs a miss, so
			 * it is not re-validated; a candidate is, below, before
			 * its copy is touched.
			 */
			if (e->gen != gen || e->tag != tag || e->len != len)
				break;
			verdict = e->verdict;
			expires = e->expires;
			if (verdict == SPR_JWT_OK)
				copy = e->u.copy;
			else
				memcpy(key, e->u.key, sizeof(key));
			__atomic_thread_fence(__ATOMIC_ACQUIRE);
			if (__atomic_load_n(&e->seq, __ATOMIC_RELAXED) != s1)
				continue;
			/* a consistent entry: its copy lives until our next quiescent state */
			if (verdict == SPR_JWT_OK) {
				if (copy->len != len || !ct_equal_tok(c, copy->b, tok, len))
					break; /* another token with the same tag: next way */
				ulen = copy->user_len;
				out->claims.exp = copy->exp;
				out->claims.scopes = copy->scopes;
				/* whole 64-byte blocks (the copy has the room): vector moves, not a call */
				memcpy(out->claims.user, copy_user(copy), 64);
				if (unlikely(ulen >= 64))
					memcpy(out->claims.user + 64, copy_user(copy) + 64, ulen + 1 - 64);
			} else {
				if (lazy_key_get(&lk, h, tok, len) != 0)
					return -EIO;
				if (!ct_equal(key, lk.k.b, SPR_TOKEN_KEY_BYTES))
					break;
				ulen = 0;
				out->claims.exp = 0;
				out->claims.scopes = 0;
			}
			out->claims.user[ulen] = '\0';
			out->claims.user_len = (uint8_t)ulen;
			out->verdict = verdict;
			out->expires = expires;
			return out->expires > now ? 0 : -ENOENT;
		}
	}
	return -ENOENT;
}

static inline bool
live(const struct entry *e, uint32_t gen, int64_t now)
{
	return e->gen == gen && e->expires > now;
}

/* Does entry e (current generation, written by us: no race) hold exactly tok? 1, 0, -EIO. */
static int
holds(const struct spr_token_cache *c, const struct entry *e, uint64_t tag,
      struct spr_token_hasher *h, const char *tok, uint32_t len, struct lazy_key *lk)
{
	if (e->tag != tag || e->len != len)
		return 0;
	if (e->verdict == SPR_JWT_OK)
		return e->u.copy->len == len && ct_equal_tok(c, e->u.copy->b, tok, len);
	if (lazy_key_get(lk, h, tok, len) != 0)
		return -EIO;
	return ct_equal(e->u.key, lk->k.b, SPR_TOKEN_KEY_BYTES);
}

static void
retire(struct spr_token_cache *c, const struct spr_token_copy *t)
{
	if (t == NULL)
		return;
	c->stats.copy_bytes -= t->len;
	if (c->retire != NULL)
		c->retire((struct spr_token_copy *)t);
	else
		spr_token_copy_free((struct spr_token_copy *)t);
}

int
spr_token_cache_put(struct spr_token_cache *c, struct spr_token_hasher *h, const char *tok,
		    uint32_t len, int verdict, const struct spr_jwt_claims *claims, int64_t now)
{
	uint64_t tag = spr_token_tag(c, tok, len);
	struct entry *set = (struct entry *)set_of(c, tag), *victim = NULL, *e;
	const struct spr_token_copy *old, *copy = NULL;
	bool good = verdict == SPR_JWT_OK, same = false;
	struct lazy_key lk = {.have = false};
	uint32_t gen = c->gen;
	int64_t expires;
	int rc;

	if (verdict == SPR_JWT_NO_KEYS || verdict == SPR_JWT_INTERNAL || verdict < 0 ||
	    verdict >= SPR_JWT__COUNT)
		return -EAGAIN; /* the server's state, not the token's */
	if (good) {
		expires = now + c->pos_ttl;
		if (claims->exp < expires)
			expires = claims->exp;
		if (expires <= now) {
			c->stats.not_cached++;
			return -EAGAIN;
		}
	} else {
		expires = now + c->neg_ttl;
		if (lazy_key_get(&lk, h, tok, len) != 0)
			return -EIO;
	}

	/* the same token, else a dead entry, else evict: first-expiring bad one, then good */
	for (uint32_t w = 0; w < SPR_TOKEN_WAYS && victim == NULL; w++) {
		if (set[w].gen != gen)
			continue;
		if ((rc = holds(c, &set[w], tag, h, tok, len, &lk)) < 0)
			return rc;
		if (rc == 1) {
			victim = &set[w];
			same = true;
			c->stats.replaced++;
		}
	}
	for (uint32_t w = 0; w < SPR_TOKEN_WAYS && victim == NULL; w++)
		if (!live(&set[w], gen, now))
			victim = &set[w];
	for (int pass = 0; pass < 2 && victim == NULL; pass++) {
		if (pass == 1 && !good) {
			c->stats.dropped_negative++;
			return -EAGAIN;
		}
		for (uint32_t w = 0; w < SPR_TOKEN_WAYS; w++)
			if ((pass == 1 || set[w].verdict != SPR_JWT_OK) &&
			    (victim == NULL || set[w].expires < victim->expires))
				victim = &set[w];
		if (victim != NULL)
			c->stats.evicted++;
	}

	e = victim;
	old = e->gen != 0 && e->verdict == SPR_JWT_OK ? e->u.copy : NULL;
	if (good) {
		if (same && old != NULL && old->exp == claims->exp && old->scopes == claims->scopes &&
		    old->user_len == claims->user_len &&
		    memcmp(copy_user(old), claims->user, claims->user_len) == 0) {
			copy = old; /* the same bytes and claims: keep the published copy */
		} else {
			struct spr_token_copy *t =
				malloc(sizeof(*t) + len + COPY_USER_ROOM(claims->user_len));

			if (t == NULL) {
				c->stats.not_cached++;
				return -ENOMEM;
			}
			t->len = len;
			t->exp = claims->exp;
			t->scopes = claims->scopes;
			t->user_len = claims->user_len;
			memcpy(t->b, tok, len);
			memset(t->b + len, 0, COPY_USER_ROOM(claims->user_len));
			memcpy(t->b + len, claims->user, claims->user_len);
			copy = t;
			c->stats.copy_bytes += len;
		}
	}
	/* seqlock write: odd, then the data, then even (one writer: plain increments) */
	uint32_t s = e->seq;
	__atomic_store_n(&e->seq, s + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	e->gen = gen;
	e->tag = tag;
	e->len = len;
	e->expires = expires;
	e->verdict = (uint8_t)verdict;
	if (good)
		e->u.copy = copy;
	else
		memcpy(e->u.key, lk.k.b, SPR_TOKEN_KEY_BYTES);
	__atomic_store_n(&e->seq, s + 2, __ATOMIC_RELEASE);
	if (old != copy)
		retire(c, old); /* after the entry stopped pointing to it */
	c->stats.inserts++;
	return 0;
}

void
spr_token_cache_flush(struct spr_token_cache *c)
{
	uint32_t g = c->gen + 1;

	if (g == 0) /* 0 marks never-written entries */
		g = 1;
	__atomic_store_n(&c->gen, g, __ATOMIC_RELEASE);
	c->stats.flushes++;
}

void
spr_token_cache_stats(const struct spr_token_cache *c, struct spr_token_cache_stats *out)
{
	*out = c->stats;
}
