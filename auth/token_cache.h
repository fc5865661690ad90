/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Token cache (DESIGN §5 "Tokens"): token -> the verdict of the auth worker,
 * so a worker answers a known token without verifying it and a flood of one
 * bad token costs one verification.
 *
 * Key (a departure from DESIGN §5's "SHA-256(token)"; docs/architecture.md
 * says why): the token's keyed 128-bit fingerprint (token_fp.h: a
 * polynomial hash over GF(2^128) under a secret H, then AES-128 under a
 * secret K, both drawn per cache from OpenSSL's CSPRNG). Nobody who does not
 * hold the keys can make another token with a cached token's fingerprint
 * (probability <= blocks / 2^128 a try), so an entry whose fingerprint
 * equals the presented token's is that token's verdict, good or bad, and no
 * copy of the token is kept: an entry holds 16 bytes of fingerprint
 * whatever the token's size, good or bad verdict alike. The fingerprint's
 * low bits pick the set, bits of its other word the token's home way in
 * it. On a CPU without AES-NI and PCLMULQDQ the
 * fingerprint is the first 16 bytes of SHA-256 of the token instead (the
 * same role, some 20 times the cost).
 *
 * Layout: a fixed table of sets of SPR_TOKEN_WAYS entries, one cache line
 * each, holding the verdict and, for a good one, the claims a worker needs
 * (exp, scopes, and the user when it has at most SPR_TOKEN_USER_INLINE
 * octets). A token is put in its home way when that way is free, and
 * looked for there first, so a hit reads one line, not the set's four.
 * A longer user lives in an immutable
 * struct spr_token_ext the entry points to. Each entry is guarded by a
 * sequence counter (seqlock): the single writer makes it odd, writes, makes
 * it even; a reader copies the entry and keeps the copy only when the
 * counter was even and unchanged around the copy, else retries, at most
 * SPR_TOKEN_READ_RETRIES times, then reports a miss. Only then does it read
 * the ext the entry pointed to. An ext is never written after it is
 * published, and one that an entry stops pointing to is handed to the
 * cache's retire function, which must free it (spr_token_ext_free) only
 * when no reader can still hold it: in sprd a QSBR grace period (call_rcu),
 * the workers being QSBR readers. Without a retire function it is freed at
 * once, which is right only when no other thread reads the cache (tests,
 * benchmarks).
 *
 * Entries:
 *  - good verdict: user, scopes, expires = min(exp, now + pos_ttl); tokens
 *    whose exp is already past (inside the clock-skew grace) are verified
 *    on each use rather than cached, so no entry outlives its token's exp;
 *  - bad verdict: the reason, expires = now + neg_ttl.
 * A bad verdict never evicts a good one (a flood of distinct bad tokens
 * cannot push out users' tokens); otherwise the victim is the entry that
 * expires first. Flush is O(1): a generation number every entry carries
 * (exts of flushed entries are retired when their entry is reused or the
 * cache freed).
 *
 * Memory: the table (SPR_TOKEN_WAYS-way sets of 64-byte entries) plus, per
 * good entry with a user of more than SPR_TOKEN_USER_INLINE octets, an ext
 * of 24 bytes and the user padded to 64. A table of 2 MiB or more is
 * aligned to 2 MiB and offered to transparent huge pages (madvise), so
 * that a lookup's random line rarely costs a page walk as well.
 *
 * Cost of a hit (perf/bench_auth.c; docs/benchmarks.md): the fingerprint
 * (one carry-less product per 16 bytes of token, one AES), the probe of
 * one line (the home way), the claims copy; a hit on a bad entry costs
 * the same.
 */
#ifndef SPR_TOKEN_CACHE_H
#define SPR_TOKEN_CACHE_H

#include <stdbool.h>
#include <stdint.h>

#include <spr/auth_hook.h>

#include "auth-t.h"

#define SPR_TOKEN_WAYS 4u
#define SPR_TOKEN_READ_RETRIES 8u
#define SPR_TOKEN_KEY_BYTES 32u
#define SPR_TOKEN_USER_INLINE 16u /* octets of user an entry holds itself */

/* struct spr_token_hit and struct spr_token_fp are in auth-t.h (the workers hold them). */

/* SHA-256 of a token: the fingerprint where the CPU lacks AES-NI or PCLMULQDQ (its first 16 bytes). */
struct spr_token_key {
	uint8_t b[SPR_TOKEN_KEY_BYTES];
};

/*
 * A good entry's user claim of more than SPR_TOKEN_USER_INLINE octets,
 * immutable, owned by the cache until retired: user_len bytes, NUL, zero
 * padding to at least 64 bytes.
 */
struct spr_token_ext {
	void *reclaim[2]; /* for the retire function (sprd: room for a struct rcu_head) */
	uint32_t user_len;
	char b[];
};

/* Takes an ext no entry points to any more; frees it (spr_token_ext_free) after readers. */
typedef void spr_token_retire_fn(struct spr_token_ext *t);

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
	uint64_t ext_bytes; /* bytes of long users held out of the entries (exts), now */
};

/*
 * A cache of at least `entries` entries (rounded up to a power of two of
 * sets), neg_ttl and pos_ttl in seconds (0: the SPR_AUTH_DEF_* value),
 * retire NULL or as above. Draws its fingerprint keys from OpenSSL's CSPRNG. NULL on
 * -ENOMEM, no randomness, or entries 0. Context: control thread, before
 * workers run.
 */
struct spr_token_cache *spr_token_cache_new(uint32_t entries, uint32_t neg_ttl, uint32_t pos_ttl,
					    spr_token_retire_fn *retire);
/* Frees the table and every ext at once: after every reader has stopped. */
void spr_token_cache_free(struct spr_token_cache *c);
uint32_t spr_token_cache_capacity(const struct spr_token_cache *c);
void spr_token_ext_free(struct spr_token_ext *t);

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
 * The fingerprint of tok into *fp (the cache's key; see above). h: the
 * calling thread's hasher, used only where the CPU lacks AES-NI or
 * PCLMULQDQ (SHA-256). Returns 0, -EIO when SHA-256 was needed and h is
 * NULL or failed. Context: any thread; no allocation, no syscall.
 */
int spr_token_fp_of(const struct spr_token_cache *c, struct spr_token_hasher *h, const char *tok,
		    uint32_t len, struct spr_token_fp *fp);

/*
 * Tests only, before anything is cached: key by impl (enum spr_fp_impl of
 * token_fp.h; SPR_FP_NONE: SHA-256) instead of the best the CPU runs.
 * Returns 0, -ENOTSUP when the CPU cannot.
 */
int spr_token_cache_set_fp_impl(struct spr_token_cache *c, int impl);

/*
 * Look tok (len bytes) up at time now. Returns 0 and *out on a live entry
 * for exactly these bytes, -ENOENT on a miss (absent, expired, flushed, or
 * the entry kept changing under us), -EIO when SHA-256 was needed (see
 * spr_token_fp_of()) and h failed. Context: a QSBR reader (worker lcore),
 * or the only thread; lock-free, no allocation, no syscall. An ext read
 * stays valid until the caller's next quiescent state.
 */
int spr_token_cache_get(const struct spr_token_cache *c, struct spr_token_hasher *h,
			const char *tok, uint32_t len, int64_t now, struct spr_token_hit *out);

/* The same by a fingerprint computed before (spr_token_fp_prefetch(), a pipeline stage earlier). */
int spr_token_cache_get_fp(const struct spr_token_cache *c, const struct spr_token_fp *fp,
			   int64_t now, struct spr_token_hit *out);

/*
 * For a pipeline: spr_token_fp_of() with the cache lines of the set it
 * picks prefetched; then, once those are in, spr_token_cache_prefetch()
 * prefetches the ext of a live good entry with that fingerprint, if it has
 * one (a hint: nothing is decided). Context: as spr_token_cache_get().
 */
int spr_token_fp_prefetch(const struct spr_token_cache *c, struct spr_token_hasher *h,
			  const char *tok, uint32_t len, struct spr_token_fp *fp);
void spr_token_cache_prefetch(const struct spr_token_cache *c, const struct spr_token_fp *fp);

/*
 * For the SIP parser (spr_sip_limits.bearer_scan, with c as its ctx): the
 * parser's b64token check of a Bearer token and the costly part of its
 * fingerprint in one pass (spr_fp_scan_b64() of token_fp.h, NULL where it
 * cannot); then spr_token_fp_of_poly() finishes the fingerprint and
 * prefetches as spr_token_fp_prefetch() does. Context: any thread; no
 * allocation, no syscall.
 */
const char *spr_token_scan_b64(const void *c, const char *p, const char *e, uint64_t poly[2]);
void spr_token_fp_of_poly(const struct spr_token_cache *c, const uint64_t poly[2], uint32_t len,
			  struct spr_token_fp *fp);

/*
 * The hooks a worker reaches c through (spr/auth_hook.h): the functions
 * above, all of the pipeline's, with h the worker's own hasher.
 */
struct spr_auth_hooks spr_token_cache_hooks(const struct spr_token_cache *c,
					    struct spr_token_hasher *h);

/*
 * Remember the verdict of spr_jwt_verify() for tok (claims read only when
 * verdict is SPR_JWT_OK). h: the caller's hasher (see spr_token_fp_of()).
 * Returns 0, -EAGAIN when not cached (see the policy above), -ENOMEM, -EIO
 * when SHA-256 was needed and failed. Context: control thread only (the single writer).
 */
int spr_token_cache_put(struct spr_token_cache *c, struct spr_token_hasher *h, const char *tok,
			uint32_t len, int verdict, const struct spr_jwt_claims *claims,
			int64_t now);

/* Forget every entry (JWKS reload). O(1). Context: control thread only. */
void spr_token_cache_flush(struct spr_token_cache *c);

/* Context: control thread only. */
void spr_token_cache_stats(const struct spr_token_cache *c, struct spr_token_cache_stats *out);

#endif
