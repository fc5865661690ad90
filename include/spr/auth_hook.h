/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * How a worker reaches the token cache without linking auth/ (DESIGN §4, §7).
 *
 * The worker must look the cache up itself (a hit is the common case and
 * must not leave the lcore), and the cache key is SHA-256 of the token,
 * which needs OpenSSL; dataplane/ links neither OpenSSL nor auth/. So the
 * daemon, which links auth/, injects two functions and their state into
 * each worker: the worker's own SHA-256 hasher (one per thread, so keying
 * allocates nothing and shares nothing) and the lock-free cache lookup.
 * Their signatures are exactly spr_token_key() and spr_token_cache_get()
 * (auth/token_cache.h), so the daemon stores those functions as they are.
 * This header names types only: the data types are in auth/auth-t.h
 * (plain data, no OpenSSL), the two states stay opaque.
 */
#ifndef SPR_AUTH_HOOK_H
#define SPR_AUTH_HOOK_H

#include <stdint.h>

struct spr_token_hasher;
struct spr_token_cache;
struct spr_token_key;
struct spr_token_hit;

struct spr_auth_hooks {
	struct spr_token_hasher *hasher;     /* the worker's own */
	const struct spr_token_cache *cache; /* shared; control is its only writer */
	/* SHA-256 of tok into *k: 0, or -EIO. Context: the thread owning hasher. */
	int (*key)(struct spr_token_hasher *h, const char *tok, uint32_t len,
		   struct spr_token_key *k);
	/* 0 and *out on a live entry, -ENOENT. Context: any thread, lock-free, no syscall. */
	int (*get)(const struct spr_token_cache *c, const struct spr_token_key *k, int64_t now,
		   struct spr_token_hit *out);
};

#endif /* SPR_AUTH_HOOK_H */
