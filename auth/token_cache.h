/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Token cache (DESIGN §5 "Tokens"): SHA-256(token) -> the verdict of the
 * auth worker, so a worker answers a known token without verifying it and
 * a flood of one bad token costs one verification.
 *
 * Layout: a fixed table of sets of SPR_TOKEN_WAYS entries, set chosen by
 * the digest's first 8 bytes. Each entry is guarded by a sequence counter
 * (seqlock): the single writer makes it odd, writes, makes it even; a
 * reader copies the entry and keeps the copy only when the counter was even
 * and unchanged around the copy, else retries, at most
 * SPR_TOKEN_READ_RETRIES times, then reports a miss. A reader therefore
 * never returns a torn entry and never waits for the writer.
 *
 * Entries:
 *  - good verdict: user, scopes, expires = min(exp, now + pos_ttl); tokens
 *    whose exp is already past (inside the clock-skew grace) are verified
 *    on each use rather than cached, so no entry outlives its token's exp;
 *  - bad verdict: the reason, expires = now + neg_ttl.
 * A bad verdict never evicts a good one (a flood of distinct bad tokens
 * cannot push out users' tokens); otherwise the victim is the entry that
 * expires first. Flush is O(1): a generation number every entry carries.
 *
 * Key cost: a hit is SHA-256 over the whole token plus the table probe.
 * Measured (perf/bench_auth.c, 862-byte token, SHA-NI, shared 2-core VM):
 * key ~0.75 us, probe + copy ~0.08 us, so the hit is ~1 us, not the 100 ns
 * hoped for: the hash, not the table, is the cost. The cheaper key, SHA-256
 * of the signature part only, would be sound for good entries (a valid
 * signature fixes the signed header.payload, so whoever presents those
 * signature bytes gets exactly the claims they were issued with) but not
 * for bad ones: anyone who saw a victim's signature could pair it with a
 * garbage payload, get it cached as bad, and lock the victim out for
 * neg_ttl. It would also still hash 342 bytes for RS256 (~0.35 us). So the
 * whole token is hashed, as DESIGN §5 says.
 */
#ifndef SPR_TOKEN_CACHE_H
#define SPR_TOKEN_CACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "auth-t.h"

#define SPR_TOKEN_WAYS 4u
#define SPR_TOKEN_READ_RETRIES 8u

/* struct spr_token_key and struct spr_token_hit are in auth-t.h (the workers read them). */

struct spr_token_cache;	 /* opaque */
struct spr_token_hasher; /* one per thread that computes keys */

/* Writer-side figures (control thread). */
struct spr_token_cache_stats {
	uint64_t inserts;
	uint64_t replaced;	   /* same key written again */
	uint64_t evicted;	   /* a live entry pushed out */
	uint64_t dropped_negative; /* bad verdict not cached: set full of good ones */
	uint64_t not_cached;	   /* good verdict already past exp (skew grace) */
	uint64_t flushes;
};

/*
 * A cache of at least `entries` entries (rounded up to a power of two of
 * sets), neg_ttl and pos_ttl in seconds (0: the SPR_AUTH_DEF_* value).
 * NULL on -ENOMEM or entries 0. Context: control thread, before workers run.
 */
struct spr_token_cache *spr_token_cache_new(uint32_t entries, uint32_t neg_ttl, uint32_t pos_ttl);
void spr_token_cache_free(struct spr_token_cache *c);
uint32_t spr_token_cache_capacity(const struct spr_token_cache *c);

/*
 * Per-thread SHA-256 state, so computing a key allocates nothing.
 * new: NULL on -ENOMEM. Context: the owning thread only.
 */
struct spr_token_hasher *spr_token_hasher_new(void);
void spr_token_hasher_free(struct spr_token_hasher *h);
/* SHA-256 of tok into *k. Returns 0, -EIO if OpenSSL fails. */
int spr_token_key(struct spr_token_hasher *h, const char *tok, uint32_t len,
		  struct spr_token_key *k);

/*
 * Look k up at time now. Returns 0 and *out on a live entry, -ENOENT on a
 * miss (absent, expired, flushed, or the entry kept changing under us).
 * Context: any thread, lock-free, no allocation, no syscall (worker lcores).
 */
int spr_token_cache_get(const struct spr_token_cache *c, const struct spr_token_key *k, int64_t now,
			struct spr_token_hit *out);

/*
 * Remember the verdict of spr_jwt_verify() for k (claims read only when
 * verdict is SPR_JWT_OK). Returns 0, or -EAGAIN when not cached (see the
 * policy above). Context: control thread only (the single writer).
 */
int spr_token_cache_put(struct spr_token_cache *c, const struct spr_token_key *k, int verdict,
			const struct spr_jwt_claims *claims, int64_t now);

/* Forget every entry (JWKS reload). O(1). Context: control thread only. */
void spr_token_cache_flush(struct spr_token_cache *c);

/* Context: control thread only. */
void spr_token_cache_stats(const struct spr_token_cache *c, struct spr_token_cache_stats *out);

#endif
