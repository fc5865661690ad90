/* SPDX-License-Identifier: BSD-3-Clause */
/* Token cache: seqlock-guarded set-associative table (contract in token_cache.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "jwt_verify.h"
#include "token_cache.h"

/*
 * One entry; the fields a probe reads sit in its first cache line, the user
 * (read on a hit only) after them. Written by the control thread only, under
 * seq (odd while being written).
 */
struct entry {
	uint32_t seq;
	uint32_t gen; /* cache generation it was written in; 0: never written */
	int64_t expires;
	uint8_t key[SPR_TOKEN_KEY_BYTES];
	int64_t exp;
	uint32_t scopes;
	uint8_t verdict;
	uint8_t user_len;
	char user[SPR_JWT_USER_MAX + 1];
} __attribute__((aligned(64)));

struct spr_token_cache {
	uint32_t gen; /* written by flush (release), read by everyone (acquire) */
	uint32_t set_mask;
	uint32_t neg_ttl;
	uint32_t pos_ttl;
	struct spr_token_cache_stats stats; /* control thread only */
	struct entry *e;		    /* (set_mask + 1) * SPR_TOKEN_WAYS */
};

struct spr_token_hasher {
	EVP_MD_CTX *ctx;
	EVP_MD *md;
};

static inline void
cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

struct spr_token_cache *
spr_token_cache_new(uint32_t entries, uint32_t neg_ttl, uint32_t pos_ttl)
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
	if ((c->e = aligned_alloc(64, bytes)) == NULL) {
		free(c);
		return NULL;
	}
	memset(c->e, 0, bytes);
	c->gen = 1;
	c->set_mask = sets - 1;
	c->neg_ttl = neg_ttl ? neg_ttl : SPR_AUTH_DEF_NEG_TTL;
	c->pos_ttl = pos_ttl ? pos_ttl : SPR_AUTH_DEF_POS_TTL;
	return c;
}

void
spr_token_cache_free(struct spr_token_cache *c)
{
	if (c == NULL)
		return;
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

static inline struct entry *
set_of(const struct spr_token_cache *c, const struct spr_token_key *k)
{
	uint64_t h;

	memcpy(&h, k->b, sizeof(h)); /* SHA-256 output: uniform, not attacker-steerable */
	return &c->e[(size_t)(h & c->set_mask) * SPR_TOKEN_WAYS];
}

int
spr_token_cache_get(const struct spr_token_cache *c, const struct spr_token_key *k, int64_t now,
		    struct spr_token_hit *out)
{
	uint32_t gen = __atomic_load_n(&c->gen, __ATOMIC_ACQUIRE);
	const struct entry *set = set_of(c, k);

	for (uint32_t w = 0; w < SPR_TOKEN_WAYS; w++) {
		const struct entry *e = &set[w];

		for (uint32_t tries = 0; tries < SPR_TOKEN_READ_RETRIES; tries++) {
			uint32_t s1 = __atomic_load_n(&e->seq, __ATOMIC_ACQUIRE), ulen;

			if (s1 & 1) {
				cpu_relax();
				continue;
			}
			/*
			 * A mismatch read from a torn entry only costs a miss, so
			 * it is not re-validated; a match is, below.
			 */
			if (e->gen != gen || memcmp(e->key, k->b, SPR_TOKEN_KEY_BYTES) != 0)
				break;
			out->verdict = e->verdict;
			out->expires = e->expires;
			out->claims.exp = e->exp;
			out->claims.scopes = e->scopes;
			ulen = e->user_len; /* <= 255: the copy stays in bounds even if torn */
			memcpy(out->claims.user, e->user, ulen);
			out->claims.user[ulen] = '\0';
			out->claims.user_len = (uint8_t)ulen;
			__atomic_thread_fence(__ATOMIC_ACQUIRE);
			if (__atomic_load_n(&e->seq, __ATOMIC_RELAXED) != s1)
				continue;
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

int
spr_token_cache_put(struct spr_token_cache *c, const struct spr_token_key *k, int verdict,
		    const struct spr_jwt_claims *claims, int64_t now)
{
	struct entry *set = set_of(c, k), *victim = NULL, *e;
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

	/* the same key, else a dead entry, else evict: first-expiring bad one, then good */
	for (uint32_t w = 0; w < SPR_TOKEN_WAYS && victim == NULL; w++)
		if (set[w].gen == gen && memcmp(set[w].key, k->b, SPR_TOKEN_KEY_BYTES) == 0) {
			victim = &set[w];
			c->stats.replaced++;
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
	/* seqlock write: odd, then the data, then even (one writer: plain increments) */
	uint32_t s = e->seq;
	__atomic_store_n(&e->seq, s + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	e->gen = gen;
	e->expires = expires;
	memcpy(e->key, k->b, SPR_TOKEN_KEY_BYTES);
	e->verdict = (uint8_t)verdict;
	if (good) {
		e->exp = claims->exp;
		e->scopes = claims->scopes;
		e->user_len = claims->user_len;
		memcpy(e->user, claims->user, claims->user_len);
	} else {
		e->exp = 0;
		e->scopes = 0;
		e->user_len = 0;
	}
	__atomic_store_n(&e->seq, s + 2, __ATOMIC_RELEASE);
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
