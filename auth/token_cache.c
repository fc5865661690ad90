/* SPDX-License-Identifier: BSD-3-Clause */
/* Token cache: fingerprint-keyed, seqlock-guarded set-associative table (contract in token_cache.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "jwt_verify.h"
#include "token_cache.h"
#include "token_fp.h"

/*
 * One entry: one cache line, all a hit reads unless the user is longer
 * than SPR_TOKEN_USER_INLINE. Written by the control thread only, under
 * seq (odd while being written).
 */
struct entry {
	uint32_t seq;
	uint32_t gen; /* cache generation it was written in; 0: never written */
	int64_t expires;
	struct spr_token_fp fp; /* the token's */
	int64_t exp;		/* good verdict: the token's exp claim */
	uint32_t scopes;	/* good verdict */
	uint8_t verdict;
	uint8_t user_len; /* good verdict */
	uint8_t pad[2];
	union {
		char user[SPR_TOKEN_USER_INLINE];  /* user_len <= SPR_TOKEN_USER_INLINE */
		const struct spr_token_ext *ext; /* longer */
	} u;
} __attribute__((aligned(64)));

_Static_assert(sizeof(struct entry) == 64, "a token cache entry is one cache line");
_Static_assert(SPR_TOKEN_USER_INLINE == 16, "the hit copies an inline user in one 16-byte move");

/* Tables this large are offered to transparent huge pages. */
#define HUGE_PAGE ((size_t)2 << 20)

/* An ext's room for the user: padded to 64 so the hit copies it in whole blocks. */
#define EXT_USER_ROOM(ulen) ((ulen) + 1u < 64u ? 64u : (ulen) + 1u)

struct spr_token_cache {
	struct spr_fp_key *fk;	/* the fingerprint's keys: random, never change */
	enum spr_fp_impl impl;	/* SPR_FP_NONE: SHA-256 */
	uint32_t gen;		/* written by flush (release), read by everyone (acquire) */
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

_Static_assert(SPR_JWT_USER_MAX + 1 >= 64, "the hit copies an ext's user in 64-byte blocks");

static inline void
cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

/* Equal fingerprints? In time that does not depend on where they differ. */
static inline bool
fp_equal(const struct spr_token_fp *a, const struct spr_token_fp *b)
{
	return ((a->w[0] ^ b->w[0]) | (a->w[1] ^ b->w[1])) == 0;
}

int
spr_token_fp_of(const struct spr_token_cache *c, struct spr_token_hasher *h, const char *tok,
		uint32_t len, struct spr_token_fp *fp)
{
	struct spr_token_key k;

	if (likely(c->impl != SPR_FP_NONE)) {
		spr_fp_compute(c->fk, c->impl, tok, len, fp);
		return 0;
	}
	if (h == NULL || spr_token_key(h, tok, len, &k) != 0)
		return -EIO;
	memcpy(fp, k.b, sizeof(*fp));
	OPENSSL_cleanse(&k, sizeof(k));
	return 0;
}

static int
new_keys(struct spr_token_cache *c, enum spr_fp_impl impl)
{
	uint8_t rnd[32];

	if (RAND_bytes(rnd, (int)sizeof(rnd)) != 1)
		return -EIO;
	spr_fp_key_init(c->fk, rnd, impl);
	OPENSSL_cleanse(rnd, sizeof(rnd));
	c->impl = impl;
	return 0;
}

int
spr_token_cache_set_fp_impl(struct spr_token_cache *c, int impl)
{
	if (impl < SPR_FP_NONE || impl > (int)spr_fp_best_impl())
		return -ENOTSUP;
	return new_keys(c, (enum spr_fp_impl)impl);
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
	bytes = (size_t)sets * SPR_TOKEN_WAYS * sizeof(struct entry);
	/* bytes is a power of two: a multiple of the alignment, as aligned_alloc() wants */
	if ((c->fk = aligned_alloc(64, sizeof(*c->fk))) == NULL ||
	    (c->e = aligned_alloc(bytes >= HUGE_PAGE ? HUGE_PAGE : 64, bytes)) == NULL) {
		spr_token_cache_free(c);
		return NULL;
	}
	/* a hint: where THP is off or refused the table stays on small pages */
	if (bytes >= HUGE_PAGE)
		(void)madvise(c->e, bytes, MADV_HUGEPAGE);
	/* zeroed before anything can fail: spr_token_cache_free() reads the entries */
	memset(c->e, 0, bytes);
	if (new_keys(c, spr_fp_best_impl()) != 0) {
		spr_token_cache_free(c);
		return NULL;
	}
	c->gen = 1;
	c->set_mask = sets - 1;
	c->neg_ttl = neg_ttl ? neg_ttl : SPR_AUTH_DEF_NEG_TTL;
	c->pos_ttl = pos_ttl ? pos_ttl : SPR_AUTH_DEF_POS_TTL;
	c->retire = retire;
	return c;
}

void
spr_token_ext_free(struct spr_token_ext *t)
{
	free(t);
}

static inline bool
has_ext(const struct entry *e)
{
	return e->gen != 0 && e->verdict == SPR_JWT_OK && e->user_len > SPR_TOKEN_USER_INLINE;
}

void
spr_token_cache_free(struct spr_token_cache *c)
{
	if (c == NULL)
		return;
	if (c->e != NULL)
		for (size_t i = 0; i < (size_t)(c->set_mask + 1) * SPR_TOKEN_WAYS; i++)
			if (has_ext(&c->e[i]))
				spr_token_ext_free((struct spr_token_ext *)c->e[i].u.ext);
	if (c->fk != NULL) {
		OPENSSL_cleanse(c->fk, sizeof(*c->fk));
		free(c->fk);
	}
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
set_of(const struct spr_token_cache *c, const struct spr_token_fp *fp)
{
	return &c->e[(size_t)(fp->w[0] & c->set_mask) * SPR_TOKEN_WAYS];
}

/*
 * The way a token is put in when it is free, and looked for first: bits of
 * the fingerprint's other word than the set's. In a cache sized as advised
 * most entries sit in their home way, so a hit reads one line where
 * probing the set in order read four (what that saves the worker per
 * REGISTER: docs/benchmarks.md, session 5).
 */
static inline uint32_t
home_of(const struct spr_token_fp *fp)
{
	return (uint32_t)(fp->w[1] & (SPR_TOKEN_WAYS - 1));
}

/* Stage 1's prefetch: the home way's line only (the others when stage 2 finds it empty). */
static inline void
prefetch_home(const struct spr_token_cache *c, const struct spr_token_fp *fp)
{
	__builtin_prefetch(&set_of(c, fp)[home_of(fp)]);
}

/* The i-th way probed for fp: its home way first, then the others in order. */
static inline uint32_t
way(const struct spr_token_fp *fp, uint32_t i)
{
	return (home_of(fp) + i) & (SPR_TOKEN_WAYS - 1);
}

int
spr_token_fp_prefetch(const struct spr_token_cache *c, struct spr_token_hasher *h,
		      const char *tok, uint32_t len, struct spr_token_fp *fp)
{
	int rc = spr_token_fp_of(c, h, tok, len, fp);

	if (rc != 0)
		return rc;
	prefetch_home(c, fp);
	return 0;
}

const char *
spr_token_scan_b64(const void *c, const char *p, const char *e, uint64_t poly[2])
{
	const struct spr_token_cache *tc = c;

	return spr_fp_scan_b64(tc->fk, tc->impl, p, e, poly);
}

void
spr_token_fp_of_poly(const struct spr_token_cache *c, const uint64_t poly[2], uint32_t len,
		     struct spr_token_fp *fp)
{
	spr_fp_finish(c->fk, poly, len, fp);
	prefetch_home(c, fp);
}

void
spr_token_cache_prefetch(const struct spr_token_cache *c, const struct spr_token_fp *fp)
{
	uint32_t gen = __atomic_load_n(&c->gen, __ATOMIC_RELAXED);
	const struct entry *set = set_of(c, fp), *e = &set[home_of(fp)];

	/*
	 * A hint, read without the seqlock: a torn entry only prefetches the
	 * wrong line, and prefetching never faults (an ext retired since is
	 * not freed before our next quiescent state anyway). Only the home way
	 * was prefetched; when the token is not there, the lookup will read
	 * the other ways: fetch them now.
	 */
	if (e->gen != gen || !fp_equal(&e->fp, fp)) {
		for (uint32_t i = 1; i < SPR_TOKEN_WAYS; i++)
			__builtin_prefetch(&set[way(fp, i)]);
		return;
	}
	if (e->verdict == SPR_JWT_OK && e->user_len > SPR_TOKEN_USER_INLINE) {
		const char *x = (const char *)__atomic_load_n(&e->u.ext, __ATOMIC_RELAXED);

		__builtin_prefetch(x);
		__builtin_prefetch(x + 64);
	}
}

struct spr_auth_hooks
spr_token_cache_hooks(const struct spr_token_cache *c, struct spr_token_hasher *h)
{
	return (struct spr_auth_hooks){
		.hasher = h,
		.cache = c,
		.get = spr_token_cache_get,
		.fp = spr_token_fp_prefetch,
		.prefetch = spr_token_cache_prefetch,
		.get_fp = spr_token_cache_get_fp,
		.scan = spr_token_scan_b64,
		.fp_of_poly = spr_token_fp_of_poly,
	};
}

int
spr_token_cache_get(const struct spr_token_cache *c, struct spr_token_hasher *h, const char *tok,
		    uint32_t len, int64_t now, struct spr_token_hit *out)
{
	struct spr_token_fp fp;

	if (spr_token_fp_of(c, h, tok, len, &fp) != 0)
		return -EIO;
	return spr_token_cache_get_fp(c, &fp, now, out);
}

int
spr_token_cache_get_fp(const struct spr_token_cache *c, const struct spr_token_fp *fp, int64_t now,
		       struct spr_token_hit *out)
{
	uint32_t gen = __atomic_load_n(&c->gen, __ATOMIC_ACQUIRE);
	const struct entry *set = set_of(c, fp);

	for (uint32_t i = 0; i < SPR_TOKEN_WAYS; i++) {
		const struct entry *e = &set[way(fp, i)];

		for (uint32_t tries = 0; tries < SPR_TOKEN_READ_RETRIES; tries++) {
			uint32_t s1 = __atomic_load_n(&e->seq, __ATOMIC_ACQUIRE), ulen;
			const struct spr_token_ext *ext = NULL;
			uint8_t verdict;
			uint32_t scopes;
			int64_t expires, exp;

			if (s1 & 1) {
				cpu_relax();
				continue;
			}
			/* a mismatch read from a torn entry only costs a miss */
			if (e->gen != gen || !fp_equal(&e->fp, fp))
				break;
			verdict = e->verdict;
			expires = e->expires;
			exp = e->exp;
			scopes = e->scopes;
			ulen = e->user_len;
			if (ulen > SPR_TOKEN_USER_INLINE)
				ext = e->u.ext;
			else /* one vector move; used only once the entry proves consistent */
				memcpy(out->claims.user, e->u.user, SPR_TOKEN_USER_INLINE);
			__atomic_thread_fence(__ATOMIC_ACQUIRE);
			if (__atomic_load_n(&e->seq, __ATOMIC_RELAXED) != s1)
				continue;
			/* a consistent entry: its ext lives until our next quiescent state */
			if (verdict != SPR_JWT_OK) {
				ulen = 0;
				exp = 0;
				scopes = 0;
			} else if (ext != NULL) {
				/* whole 64-byte blocks (the ext has the room): vector moves, not a call */
				memcpy(out->claims.user, ext->b, 64);
				if (unlikely(ulen >= 64))
					memcpy(out->claims.user + 64, ext->b + 64, ulen + 1 - 64);
			}
			out->claims.user[ulen] = '\0';
			out->claims.user_len = (uint8_t)ulen;
			out->claims.exp = exp;
			out->claims.scopes = scopes;
			out->verdict = verdict;
			out->expires = expires;
			return expires > now ? 0 : -ENOENT;
		}
	}
	return -ENOENT;
}

static inline bool
live(const struct entry *e, uint32_t gen, int64_t now)
{
	return e->gen == gen && e->expires > now;
}

static void
retire(struct spr_token_cache *c, const struct spr_token_ext *t)
{
	if (t == NULL)
		return;
	c->stats.ext_bytes -= sizeof(*t) + EXT_USER_ROOM(t->user_len);
	if (c->retire != NULL)
		c->retire((struct spr_token_ext *)t);
	else
		spr_token_ext_free((struct spr_token_ext *)t);
}

int
spr_token_cache_put(struct spr_token_cache *c, struct spr_token_hasher *h, const char *tok,
		    uint32_t len, int verdict, const struct spr_jwt_claims *claims, int64_t now)
{
	struct spr_token_fp fp;
	struct entry *set, *victim = NULL, *e;
	const struct spr_token_ext *old, *ext = NULL;
	bool good = verdict == SPR_JWT_OK;
	uint32_t gen = c->gen;
	int64_t expires;

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
	}
	if (spr_token_fp_of(c, h, tok, len, &fp) != 0)
		return -EIO;
	set = (struct entry *)set_of(c, &fp);
	/* before any counter moves: an allocation failure changes nothing */
	if (good && claims->user_len > SPR_TOKEN_USER_INLINE) {
		struct spr_token_ext *t = malloc(sizeof(*t) + EXT_USER_ROOM(claims->user_len));

		if (t == NULL) {
			c->stats.not_cached++;
			return -ENOMEM;
		}
		t->user_len = claims->user_len;
		memset(t->b, 0, EXT_USER_ROOM(claims->user_len));
		memcpy(t->b, claims->user, claims->user_len);
		ext = t;
	}

	/*
	 * The same token, else a dead entry (the home way first), else evict:
	 * the first-expiring bad one, then good.
	 */
	for (uint32_t w = 0; w < SPR_TOKEN_WAYS && victim == NULL; w++)
		if (set[w].gen == gen && fp_equal(&set[w].fp, &fp)) {
			victim = &set[w];
			c->stats.replaced++;
		}
	for (uint32_t i = 0; i < SPR_TOKEN_WAYS && victim == NULL; i++)
		if (!live(&set[way(&fp, i)], gen, now))
			victim = &set[way(&fp, i)];
	for (int pass = 0; pass < 2 && victim == NULL; pass++) {
		if (pass == 1 && !good) { /* a bad verdict has no ext */
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
	old = has_ext(e) ? e->u.ext : NULL;
	if (ext != NULL)
		c->stats.ext_bytes += sizeof(*ext) + EXT_USER_ROOM(ext->user_len);
	/* seqlock write: odd, then the data, then even (one writer: plain increments) */
	uint32_t s = e->seq;
	__atomic_store_n(&e->seq, s + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	e->gen = gen;
	e->fp = fp;
	e->expires = expires;
	e->verdict = (uint8_t)verdict;
	memset(&e->u, 0, sizeof(e->u));
	if (good) {
		e->exp = claims->exp;
		e->scopes = claims->scopes;
		e->user_len = claims->user_len;
		if (ext != NULL)
			e->u.ext = ext;
		else
			memcpy(e->u.user, claims->user, claims->user_len);
	} else {
		e->exp = 0;
		e->scopes = 0;
		e->user_len = 0;
	}
	__atomic_store_n(&e->seq, s + 2, __ATOMIC_RELEASE);
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
