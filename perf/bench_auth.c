/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * OAuth Bearer: what a worker pays for a known token and what the auth
 * worker pays for an unknown one.
 *  - BM_auth_cache_hit: spr_token_cache_get() of an 862-byte token (keyed
 *    hash, table probe, constant-time compare with the cached copy, claims
 *    copy), over 4096 distinct tokens all cached (the worker's path);
 *  - BM_auth_cache_hit_hot: the same over 64 of those tokens, so tokens,
 *    copies and entries stay in L1/L2 (a worker's token was just parsed;
 *    its copy is as warm as the user is active);
 *  - BM_auth_token_tag: the keyed hash alone;
 *  - BM_auth_cache_hit_negative: the same over 4096 tokens cached as bad
 *    (their entries keep SHA-256, so a hit hashes the token);
 *  - BM_auth_token_key: SHA-256 of the token (the old cache key);
 *  - BM_jwt_verify_rs256 / _es256: spr_jwt_verify() of a ~860 / ~800-byte
 *    token (kid, aud array, 12 claims), to set beside
 *    `openssl speed rsa2048` / `ecdsap256` verify/s on the same core.
 * Tokens and the JWK Set are fixed literals (made once with the openssl
 * CLI; exp 2100-01-01), so perf/ itself needs no OpenSSL.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "jwks.h"
#include "jwt_verify.h"
#include "token_cache.h"

#define NOW INT64_C(1700000100)
#define HIT_TOKENS 4096u

static const char bench_jwks[] =
	"{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"bench-rsa\",\"use\":\"sig\",\"alg\":\"RS256\",\"n\":"
	"\"94Jy6KzGs"
	"2T44wiOK6UehxznLwzHDBdTiIUpliUwBC509V-BR3H81kZphBH8Nj7bb7kPObCDoqP9FJ4NXX69FaVpu"
	"quCgW2oqa9CpvCzKxdlhRFVXLZoXH8JbatdtcvqBR1z7VUjOVI5rjonS8PiWqNawUfm5uhE1lu8DlVp7"
	"0VmWsh-sBNBK0Mn9Q-RtKNFByboBzm24F5H_p0DJ6b17aAYZDWUZkqA-nmMZC30GTvisIACmh5CkOSU1"
	"4YEP1Ilg_f6TmMM9c8IxBVsjsqjjkyYpLv13z89DY9AOpwn2tg3j87JwxAy5J6_OsWC_OFbDRARSXb_e"
	"By8gkBSOQ1AIw\",\"e\":\"AQAB\"},{\"kty\":\"EC\",\"kid\":\"bench-ec\",\"use\":\"sig\","
	"\"alg\":\"ES256"
	"\",\"crv\":\"P-256\",\"x\":\"OXz9OxGNKo7HCOB-4quq2ZmKPwybmb2vU_qkAbOBGEk\",\"y\":\"jOIn5-"
	"ohp"
	"tLtM-tyKR1LI8kWZuKWD1wT4MNpv6ZlekI\"}]}";

static const char tok_rs256[] =
	"eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImJlbmNoLXJzYSJ9.eyJpc3MiOiJodHRwczo"
	"vL2lkcC5leGFtcGxlLmNvbS9yZWFsbXMvY2FycmllciIsImF1ZCI6WyJzcHJkIiwiYWNjb3VudCJdLCJ"
	"zdWIiOiJmM2IyYzFkMC01YTZiLTRjN2QtOGU5Zi0wYTFiMmMzZDRlNWYiLCJleHAiOjQxMDI0NDQ4MDA"
	"sImlhdCI6MTcwMDAwMDAwMCwibmJmIjoxNzAwMDAwMDAwLCJqdGkiOiI2YzFmMGU5YS0zYjJkLTRlNWY"
	"tOGE3Yi05YzBkMWUyZjNhNGIiLCJhenAiOiJzb2Z0cGhvbmUiLCJzY29wZSI6Im9wZW5pZCBzaXA6cmV"
	"naXN0ZXIgc2lwOnByZXNlbmNlIHByb2ZpbGUgZW1haWwiLCJwcmVmZXJyZWRfdXNlcm5hbWUiOiJ1MDA"
	"wNDI0MkBleGFtcGxlLmNvbSIsInBhZCI6IngifQ.qkuaRgoZWGhQctZxySTJ8VVsJdcRW9lB569hVjgI"
	"ZyJp63rUa5_WkPqFiHp4_Q1i62PHDkI8rwcGsVrHmpyKSdbGI_WybL7BoYSqa1Byn26bb65xmxMlJhU7"
	"0C-YqgK5kupLcu0wOMz6DT6cGrVcyA1JRU35qkUtdPfwXfgO6VEzU6rQuBhnK-1Do4Tue_9x8uQx44M_"
	"9VJFzIwHUKPSIoYazvJTaIFNX9-6oe1CMHWkPdOk20SpaL_S0YFxxEzpJeA14_0o7tRrKM3izHpZ5WSL"
	"aqz0fFmEoh8uJc3TZgrDpFAG0rEFGWOIdsFvHGG3LoxH6rV-pN3bbP6vwu6YcQ";

static const char tok_es256[] =
	"eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImJlbmNoLWVjIn0.eyJpc3MiOiJodHRwczov"
	"L2lkcC5leGFtcGxlLmNvbS9yZWFsbXMvY2FycmllciIsImF1ZCI6WyJzcHJkIiwiYWNjb3VudCJdLCJz"
	"dWIiOiJmM2IyYzFkMC01YTZiLTRjN2QtOGU5Zi0wYTFiMmMzZDRlNWYiLCJleHAiOjQxMDI0NDQ4MDAs"
	"ImlhdCI6MTcwMDAwMDAwMCwibmJmIjoxNzAwMDAwMDAwLCJqdGkiOiI2YzFmMGU5YS0zYjJkLTRlNWYt"
	"OGE3Yi05YzBkMWUyZjNhNGIiLCJhenAiOiJzb2Z0cGhvbmUiLCJzY29wZSI6Im9wZW5pZCBzaXA6cmVn"
	"aXN0ZXIgc2lwOnByZXNlbmNlIHByb2ZpbGUgZW1haWwiLCJwcmVmZXJyZWRfdXNlcm5hbWUiOiJ1MDAw"
	"NDI0MkBleGFtcGxlLmNvbSIsInBhZCI6Inh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4"
	"eHh4eHgiLCJlbWFpbCI6InUwMDA0MjQyQGV4YW1wbGUuY29tIiwibmFtZSI6IlVzZXIgRm91ciBUd28g"
	"Rm91ciBUd28iLCJzaWQiOiIwYTFiMmMzZC00ZTVmLTZhN2ItOGM5ZC0wZTFmMmEzYjRjNWQifQ.MHupH"
	"-YPjImrg7hhMdn58GZoHnFh5i8DyaP3WPDXbaUXNTMu0VitJ4BCBs2KNIgxeJmO_ddStvOpuJSm1hLQQ"
	"g";

struct auth_fx {
	struct spr_auth_cfg cfg;
	struct spr_jwt_keys *keys;
	struct spr_token_cache *cache;
	struct spr_token_cache *neg;	 /* the same tokens, cached as bad */
	struct spr_token_hasher *hasher;
	char *toks;			 /* HIT_TOKENS tokens of tok_len bytes */
	uint32_t tok_len;
	uint64_t next, misses, failures;
};

static void *
auth_setup(void)
{
	struct auth_fx *fx = calloc(1, sizeof(*fx));
	struct spr_jwt_claims cl;
	char why[256];

	if (fx == NULL)
		return NULL;
	spr_auth_cfg_default(&fx->cfg);
	fx->cfg.issuer = "https://idp.example.com/realms/carrier";
	fx->cfg.audience = "sprd";
	fx->cfg.user_claim = "preferred_username";
	if (spr_jwks_parse(bench_jwks, sizeof(bench_jwks) - 1, false, &fx->keys, why,
			   sizeof(why)) != 0 ||
	    spr_jwt_verify(fx->keys, &fx->cfg, tok_rs256, sizeof(tok_rs256) - 1, NOW, &cl) != 0 ||
	    spr_jwt_verify(fx->keys, &fx->cfg, tok_es256, sizeof(tok_es256) - 1, NOW, &cl) != 0)
		goto fail;
	/* distinct tokens of the RS256 token's size: the last signature bytes vary */
	fx->tok_len = sizeof(tok_rs256) - 1;
	fx->cache = spr_token_cache_new(SPR_AUTH_DEF_CACHE_SIZE, 0, 0, NULL);
	fx->neg = spr_token_cache_new(SPR_AUTH_DEF_CACHE_SIZE, 0, 0, NULL);
	fx->hasher = spr_token_hasher_new();
	fx->toks = malloc((size_t)HIT_TOKENS * fx->tok_len);
	if (!fx->cache || !fx->neg || !fx->hasher || !fx->toks)
		goto fail;
	for (uint32_t i = 0; i < HIT_TOKENS; i++) {
		char *t = fx->toks + (size_t)i * fx->tok_len, hex[5];

		memcpy(t, tok_rs256, fx->tok_len);
		snprintf(hex, sizeof(hex), "%04x", i);
		memcpy(t + fx->tok_len - 4, hex, 4);
		if (spr_token_cache_put(fx->cache, fx->hasher, t, fx->tok_len, SPR_JWT_OK, &cl,
					NOW) != 0 ||
		    spr_token_cache_put(fx->neg, fx->hasher, t, fx->tok_len, SPR_JWT_BAD_SIGNATURE,
					NULL, NOW) != 0)
			goto fail;
	}
	return fx;
fail:
	spr_token_cache_free(fx->cache);
	spr_token_cache_free(fx->neg);
	spr_token_hasher_free(fx->hasher);
	spr_jwks_free(fx->keys);
	free(fx->toks);
	free(fx);
	return NULL;
}

static void
hit_run(struct auth_fx *fx, const struct spr_token_cache *c, uint8_t want, uint32_t ntok,
	uint64_t iters)
{
	for (uint64_t n = 0; n < iters; n++) {
		uint32_t i = (uint32_t)(fx->next++ % ntok);
		struct spr_token_hit hit;

		if (spr_token_cache_get(c, fx->hasher, fx->toks + (size_t)i * fx->tok_len,
					fx->tok_len, NOW, &hit) != 0 ||
		    hit.verdict != want)
			fx->misses++;
	}
}

static void
cache_hit_run(void *ctx, uint64_t iters)
{
	struct auth_fx *fx = ctx;

	hit_run(fx, fx->cache, SPR_JWT_OK, HIT_TOKENS, iters);
}

static void
cache_hit_hot_run(void *ctx, uint64_t iters)
{
	struct auth_fx *fx = ctx;

	hit_run(fx, fx->cache, SPR_JWT_OK, 64, iters);
}

static void
cache_hit_negative_run(void *ctx, uint64_t iters)
{
	struct auth_fx *fx = ctx;

	hit_run(fx, fx->neg, SPR_JWT_BAD_SIGNATURE, HIT_TOKENS, iters);
}

static void
token_tag_run(void *ctx, uint64_t iters)
{
	struct auth_fx *fx = ctx;

	for (uint64_t n = 0; n < iters; n++) {
		uint32_t i = (uint32_t)(fx->next++ % HIT_TOKENS);

		fx->misses += spr_token_tag(fx->cache, fx->toks + (size_t)i * fx->tok_len,
					    fx->tok_len) == 0; /* keep it */
	}
}

static void
token_key_run(void *ctx, uint64_t iters)
{
	struct auth_fx *fx = ctx;
	struct spr_token_key k;

	for (uint64_t n = 0; n < iters; n++) {
		uint32_t i = (uint32_t)(fx->next++ % HIT_TOKENS);

		spr_token_key(fx->hasher, fx->toks + (size_t)i * fx->tok_len, fx->tok_len, &k);
		fx->misses += k.b[0] == 0 && k.b[1] == 0 && k.b[2] == 0; /* keep it */
	}
}

static void
verify_run(struct auth_fx *fx, const char *tok, uint32_t len, uint64_t iters)
{
	for (uint64_t n = 0; n < iters; n++) {
		struct spr_jwt_claims cl;

		if (spr_jwt_verify(fx->keys, &fx->cfg, tok, len, NOW, &cl) != SPR_JWT_OK)
			fx->failures++;
	}
}

static void
verify_rs256_run(void *ctx, uint64_t iters)
{
	verify_run(ctx, tok_rs256, sizeof(tok_rs256) - 1, iters);
}

static void
verify_es256_run(void *ctx, uint64_t iters)
{
	verify_run(ctx, tok_es256, sizeof(tok_es256) - 1, iters);
}

static int
auth_counters(void *ctx, struct spr_bench_counter *out, int max)
{
	const struct auth_fx *fx = ctx;

	if (max < 3)
		return 0;
	out[0] = (struct spr_bench_counter){"token_bytes", (double)fx->tok_len};
	out[1] = (struct spr_bench_counter){"misses", (double)fx->misses};
	out[2] = (struct spr_bench_counter){"failures", (double)fx->failures};
	return 3;
}

const struct spr_bench spr_benches_auth[] = {
	{"BM_auth_cache_hit", auth_setup, cache_hit_run, auth_counters, 256},
	{"BM_auth_cache_hit_hot", auth_setup, cache_hit_hot_run, auth_counters, 256},
	{"BM_auth_token_tag", auth_setup, token_tag_run, auth_counters, 256},
	{"BM_auth_cache_hit_negative", auth_setup, cache_hit_negative_run, auth_counters, 256},
	{"BM_auth_token_key", auth_setup, token_key_run, auth_counters, 256},
	{"BM_jwt_verify_rs256", auth_setup, verify_rs256_run, auth_counters, 16},
	{"BM_jwt_verify_es256", auth_setup, verify_es256_run, auth_counters, 16},
	{NULL, NULL, NULL, NULL, 0},
};
