/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Token cache (DESIGN §5 "Tokens"): token -> the verdict of the auth worker,
 * so a worker answers a known token without verifying it and a flood of one
 * bad token costs one verification.
 *
 * Index and match (a departure from DESIGN §5's "SHA-256(token)" as the key;
 * docs/architecture.md says why): the set is chosen by a 64-bit keyed hash
 * of the token's length and last 64 bytes, its signature (spr_token_tag():
 * one AES round per 16-byte word with AES-NI, else a multiply-mix, from a
 * random per-cache key, so nobody outside the process knows which set a
 * token picks; token_cache.c says why tokens made to share a tag are
 * harmless), and the tag only picks candidates. The hit decision is exact:
 *  - good verdict: the entry points to an immutable copy of the token's
 *    bytes, compared in full, in constant time, with the presented token;
 *  - bad verdict: the entry holds SHA-256 of the token (a flood of large
 *    garbage tokens must not pin their bytes in memory), compared with
 *    SHA-256 of the presented token, computed only when a tag matches such
 *    an entry.
 * So no decision rests on the fast hash: a tag collision costs one compare.
 *
 * Layout: a fixed table of sets of SPR_TOKEN_WAYS entries. Each entry is
 * guarded by a sequence counter (seqlock): the single writer makes it odd,
 * writes, makes it even; a reader copies the entry and keeps the copy only
 * when the counter was even and unchanged around the copy, else retries, at
 * most SPR_TOKEN_READ_RETRIES times, then reports a miss. Only then does
 * it read the token copy the entry pointed to. A copy is never written
 * after it is published, and one that an entry stops pointing to is handed
 * to the cache's retire function, which must free it (spr_token_copy_free)
 * only when no reader can still hold it: in sprd a QSBR grace period
 * (call_rcu), the workers being QSBR readers. Without a retire function
 * the copy is freed at once, which is right only when no other thread reads
 * the cache (tests, benchmarks).
 *
 * Entries:
 *  - good verdict: user, scopes, expires = min(exp, now + pos_ttl); tokens
 *    whose exp is already past (inside the clock-skew grace) are verified
 *    on each use rather than cached, so no entry outlives its token's exp;
 *  - bad verdict: the reason, expires = now + neg_ttl.
 * A bad verdict never evicts a good one (a flood of distinct bad tokens
 * cannot push out users' tokens); otherwise the victim is the entry that
 * expires first. Flush is O(1): a generation number every entry carries
 * (copies of flushed entries are retired when their entry is reused or the
 * cache freed).
 *
 * Memory: the table (SPR_TOKEN_WAYS-way sets of 64-byte entries, one cache
 * line each) plus one copy per good entry (the token's length, its user
 * padded to 64 bytes, and 40 bytes).
 *
 * Cost of a hit (perf/bench_auth.c, 862-byte token; docs/benchmarks.md):
 * the keyed hash, the probe, one compare of the token's bytes, the claims
 * copy. A hit on a bad entry adds SHA-256 of the token.
 */
#ifndef SPR_TOKEN_CACHE_H
#define SPR_TOKEN_CACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "auth-t.h"

#define SPR_TOKEN_WAYS 4u
#define SPR_TOKEN_READ_RETRIES 8u
#define SPR_TOKEN_KEY_BYTES 32u

/* struct spr_token_hit is in auth-t.h (the workers read it). */

/* SHA-256 of a token: how a bad verdict's entry knows its token. */
struct spr_token_key {
	uint8_t b[SPR_TOKEN_KEY_BYTES];
};

/*
 * An immutable copy of a good token's bytes and its claims, owned by the
 * cache until retired: len bytes of token, then the user (user_len bytes,
 * NUL, zero padding to at least 64 bytes).
 */
struct spr_token_copy {
	void *reclaim[2]; /* for the retire function (sprd: room for a struct rcu_head) */
	int64_t exp;
	uint32_t scopes;
	uint32_t len;
	uint8_t user_len;
	char b[];
};

/* Takes a copy no entry points to any more; frees it (spr_token_copy_free) after readers. */
typedef void spr_token_retire_fn(struct spr_token_copy *t);

struct spr_token_cache;	 /* opaque */
struct spr_token_hasher; /* one per thread that computes SHA-256 keys */

/* Writer-side figures (control thread). */
struct spr_token_cache_stats {
	uint64_t inserts;
	uint64_t replaced;	   /* same token written again */
	uint64_t evicted;	   /* a live entry pushed out */
	uint64_t dropped_negative; /* bad verdict not cached: set full of good ones */
	uint64_t not_cached;	   /* good verdict already past exp (skew grace), or no memory */
	uint64_t flushes;
	uint64_t copy_bytes; /* token bytes in copies held by entries, now */
};

/*
 * A cache of at least `entries` entries (rounded up to a power of two of
 * sets), neg_ttl and pos_ttl in seconds (0: the SPR_AUTH_DEF_* value),
 * retire NULL or as above. Draws its hash key from OpenSSL's CSPRNG. NULL on
 * -ENOMEM, no randomness, or entries 0. Context: control thread, before
 * workers run.
 */
struct spr_token_cache *spr_token_cache_new(uint32_t entries, uint32_t neg_ttl, uint32_t pos_ttl,
					    spr_token_retire_fn *retire);
/* Frees the table and every copy at once: after every reader has stopped. */
void spr_token_cache_free(struct spr_token_cache *c);
uint32_t spr_token_cache_capacity(const struct spr_token_cache *c);
void spr_token_copy_free(struct spr_token_copy *t);

/*
 * Per-thread SHA-256 state, so computing a key allocates nothing.
 * new: NULL on -ENOMEM. Context: the owning thread only.
 */
struct spr_token_hasher *spr_token_hasher_new(void);
void spr_token_hasher_free(struct spr_token_hasher *h);
/* SHA-256 of tok into *k. Returns 0, -EIO if OpenSSL fails. */
int spr_token_key(struct spr_token_hasher *h, const char *tok, uint32_t len,
		  struct spr_token_key *k);

/* The keyed 64-bit hash of len and tok's last 64 bytes that picks its set. Context: any thread. */
uint64_t spr_token_tag(const struct spr_token_cache *c, const char *tok, uint32_t len);

/*
 * Tests only: replace the hash key by key (SPR_TOKEN_HASH_KEY_WORDS words)
 * and use the portable multiply-mix hash (not AES-NI) from now on, before
 * anything is cached, so that tags can be made to collide.
 */
#define SPR_TOKEN_HASH_KEY_WORDS 12u
void spr_token_cache_set_hash_key(struct spr_token_cache *c, const uint64_t *key);

/*
 * Look tok (len bytes) up at time now. Returns 0 and *out on a live entry
 * for exactly these bytes, -ENOENT on a miss (absent, expired, flushed, or
 * the entry kept changing under us), -EIO when SHA-256 was needed (a bad
 * entry's tag matched) and h failed. h: the calling thread's hasher.
 * Context: a QSBR reader (worker lcore), or the only thread; lock-free, no
 * allocation, no syscall. The copy compared stays valid until the caller's
 * next quiescent state.
 */
int spr_token_cache_get(const struct spr_token_cache *c, struct spr_token_hasher *h,
			const char *tok, uint32_t len, int64_t now, struct spr_token_hit *out);

/*
 * The same with tag = spr_token_tag(c, tok, len) computed before (by
 * spr_token_tag_prefetch(), a pipeline stage earlier). A wrong tag only
 * costs a miss: the hit decision is the exact compare.
 */
int spr_token_cache_get_tagged(const struct spr_token_cache *c, struct spr_token_hasher *h,
			       const char *tok, uint32_t len, uint64_t tag, int64_t now,
			       struct spr_token_hit *out);

/*
 * For a pipeline: spr_token_tag() of tok, with the cache lines of the set
 * it picks prefetched; then, once those are in, spr_token_cache_prefetch()
 * prefetches the token copy of a live good entry with that tag and length
 * (a hint: nothing is decided). Context: as spr_token_cache_get().
 */
uint64_t spr_token_tag_prefetch(const struct spr_token_cache *c, const char *tok, uint32_t len);
void spr_token_cache_prefetch(const struct spr_token_cache *c, uint64_t tag, uint32_t len);

/*
 * Remember the verdict of spr_jwt_verify() for tok (claims read only when
 * verdict is SPR_JWT_OK). h: the caller's hasher (a bad verdict's key).
 * Returns 0, -EAGAIN when not cached (see the policy above), -EIO when
 * SHA-256 failed. Context: control thread only (the single writer).
 */
int spr_token_cache_put(struct spr_token_cache *c, struct spr_token_hasher *h, const char *tok,
			uint32_t len, int verdict, const struct spr_jwt_claims *claims,
			int64_t now);

/* Forget every entry (JWKS reload). O(1). Context: control thread only. */
void spr_token_cache_flush(struct spr_token_cache *c);

/* Context: control thread only. */
void spr_token_cache_stats(const struct spr_token_cache *c, struct spr_token_cache_stats *out);

#endif
