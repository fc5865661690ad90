/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * How a worker reaches the token cache without linking auth/ (DESIGN §4, §7).
 *
 * The worker must look the cache up itself (a hit is the common case and
 * must not leave the lcore), and the lookup may need SHA-256 of the token
 * (the cache's key where the CPU lacks AES-NI or PCLMULQDQ), which needs
 * OpenSSL; dataplane/ links neither OpenSSL nor auth/. So the daemon, which
 * links auth/, injects the lookup and its state into each worker: the
 * worker's own SHA-256 hasher (one per thread, so hashing allocates nothing
 * and shares nothing) and the lock-free cache. The signatures are exactly
 * those of auth/token_cache.h, so the daemon stores those functions as they
 * are. This header names types only: the hit and fingerprint types are in
 * auth/auth-t.h (plain data, no OpenSSL), the two states stay opaque.
 */
#ifndef SPR_AUTH_HOOK_H
#define SPR_AUTH_HOOK_H

#include <stdint.h>

struct spr_token_hasher;
struct spr_token_cache;
struct spr_token_hit;
struct spr_token_fp;

struct spr_auth_hooks {
	struct spr_token_hasher *hasher;     /* the worker's own */
	const struct spr_token_cache *cache; /* shared; control is its only writer */
	/*
	 * 0 and *out on a live entry for exactly tok, -ENOENT, or -EIO when the
	 * hasher failed. Context: the thread owning hasher, a QSBR reader;
	 * lock-free, no syscall.
	 */
	int (*get)(const struct spr_token_cache *c, struct spr_token_hasher *h, const char *tok,
		   uint32_t len, int64_t now, struct spr_token_hit *out);
	/*
	 * For the worker's pipeline, all three or none (NULL: get alone):
	 * spr_token_fp_prefetch() (0, or -EIO as get), spr_token_cache_prefetch()
	 * and spr_token_cache_get_fp(). Same context as get.
	 */
	int (*fp)(const struct spr_token_cache *c, struct spr_token_hasher *h, const char *tok,
		  uint32_t len, struct spr_token_fp *out);
	void (*prefetch)(const struct spr_token_cache *c, const struct spr_token_fp *fp);
	int (*get_fp)(const struct spr_token_cache *c, const struct spr_token_fp *fp, int64_t now,
		      struct spr_token_hit *out);
	/*
	 * Optional, both or none (with the three above): the parser's Bearer
	 * scanner, ctx the cache (spr_token_scan_b64(), the signature of
	 * spr_sip_limits.bearer_scan in spr/sip_msg.h), and the fingerprint from the value it left
	 * in the message, prefetching as fp does (spr_token_fp_of_poly()). Same context as get.
	 */
	const char *(*scan)(const void *ctx, const char *p, const char *e, uint64_t poly[2]);
	void (*fp_of_poly)(const struct spr_token_cache *c, const uint64_t poly[2], uint32_t len,
			   struct spr_token_fp *out);
};

#endif /* SPR_AUTH_HOOK_H */
