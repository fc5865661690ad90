/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * OAuth Bearer: what a worker pays for a known token and what the auth
 * worker pays for an unknown one.
 *  - BM_auth_cache_hit: spr_token_cache_get() of an 862-byte token (keyed
 *    fingerprint, table probe, claims copy), over 4096 distinct tokens all
 *    cached (the worker's path);
 *  - BM_auth_cache_hit_hot: the same over 64 of those tokens, so tokens
 *    and entries stay in L1/L2 (a worker's token was just parsed; its
 *    entry is as warm as the user is active);
 *  - BM_auth_cache_hit_pipelined: as the worker's pipeline does it;
 *  - BM_auth_token_fp: the keyed fingerprint alone;
 *  - BM_auth_cache_hit_negative: the same over 4096 tokens cached as bad
 *    (the same fingerprint and probe);
 *  - BM_auth_token_key: SHA-256 of the token (DESIGN's cache key, the
 *    fingerprint on CPUs without AES-NI and PCLMULQDQ);
 *  - BM_jwt_verify_rs256 / _es256: spr_jwt_verify() of a ~860 / ~800-byte
 *    token (kid, aud array, 12 claims), to set beside
 *    `openssl speed rsa2048` / `ecdsap256` verify/s on the same core.
 *  - BM_register_{plain,token,auth}_4k: a refresh through spr_sip_process()
 *    (parse, auth check, registrar, store, the 200) over 4,096 registered
 *    users: without a token, with each user's ~880-byte token and auth off,
 *    and with auth on (every request a token-cache hit, user = To user);
 *    the price of auth on a hit is auth/plain.
 * Tokens and the JWK Set are fixed literals (made once with the openssl
 * CLI; exp 2100-01-01), so perf/ itself needs no OpenSSL.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/socket.h>

#include <urcu-qsbr.h>

#include "bench.h"
#include "jwks.h"
#include "jwt_verify.h"
#include "registrar.h"
#include "sip_process.h"
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

/*
 * The same hits as the worker's pipeline makes them (dataplane/lcore.c):
 * token n+2's fingerprint computed and its set prefetched, token n+1's
 * entry read for an out-of-line user, token n looked up by its fingerprint.
 */
static void
cache_hit_pipelined_run(void *ctx, uint64_t iters)
{
	struct auth_fx *fx = ctx;
	struct spr_token_fp fp[4];

	for (uint64_t n = 0; n < iters + 2; n++) {
		if (n < iters) {
			uint32_t i = (uint32_t)((fx->next + n) % HIT_TOKENS);

			if (spr_token_fp_prefetch(fx->cache, fx->hasher,
						  fx->toks + (size_t)i * fx->tok_len, fx->tok_len,
						  &fp[n % 4]) != 0)
				fx->misses++;
		}
		if (n >= 1 && n - 1 < iters)
			spr_token_cache_prefetch(fx->cache, &fp[(n - 1) % 4]);
		if (n >= 2) {
			struct spr_token_hit hit;
			uint64_t k = (n - 2) % 4;

			if (spr_token_cache_get_fp(fx->cache, &fp[k], NOW, &hit) != 0 ||
			    hit.verdict != SPR_JWT_OK)
				fx->misses++;
		}
	}
	fx->next += iters;
}

static void
token_fp_run(void *ctx, uint64_t iters)
{
	struct auth_fx *fx = ctx;

	for (uint64_t n = 0; n < iters; n++) {
		uint32_t i = (uint32_t)(fx->next++ % HIT_TOKENS);
		struct spr_token_fp fp;

		spr_token_fp_of(fx->cache, fx->hasher, fx->toks + (size_t)i * fx->tok_len,
				fx->tok_len, &fp);
		fx->misses += fp.w[0] == 0 && fp.w[1] == 0; /* keep it */
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

/* --- a refresh through spr_sip_process() with and without a token --- */

#define REG_USERS 4096u
#define REG_QS_EVERY 32u

/* bench_sip.c's REGISTER; "%s" is an Authorization line or nothing. */
static const char reg_fmt[] =
	"REGISTER sip:example.com SIP/2.0\r\n"
	"Via: SIP/2.0/UDP 10.1.2.3:5060;branch=z9hG4bK-524287-1---a1b2c3d4e5f6a7b8;rport\r\n"
	"Max-Forwards: 70\r\n"
	"Contact: <sip:u%07u@10.1.2.3:5060;transport=udp>;expires=3600\r\n"
	"To: <sip:u%07u@example.com>\r\n"
	"From: <sip:u%07u@example.com>;tag=9f8e7d6c5b4a\r\n"
	"Call-ID: u%07u-5a6b7c8d9e0f1a2b@10.1.2.3\r\n"
	"CSeq: %010u REGISTER\r\n"
	"Expires: 3600\r\n"
	"Allow: INVITE, ACK, CANCEL, BYE, NOTIFY, REFER, MESSAGE, OPTIONS, INFO, SUBSCRIBE\r\n"
	"Supported: replaces, path, gruu\r\n"
	"User-Agent: Yealink SIP-T46S 66.86.0.15\r\n"
	"%s"
	"Content-Length: 0\r\n"
	"\r\n";

#define REG_MSG_MAX 1600u

struct reg_msgs {
	char (*buf)[REG_MSG_MAX]; /* one per user */
	uint32_t *len, *cseq_off;
};

struct regauth_fx {
	struct spr_reg_cfg cfg;
	struct spr_auth_cfg auth;
	struct spr_proc_ctx *ctx;
	struct spr_token_cache *cache;
	struct spr_token_hasher *hasher;
	struct spr_now now;
	struct spr_peer src;
	struct reg_msgs plain, token;
	char out[4096];
	uint32_t cseq, next;
	uint64_t non200;
};

static struct regauth_fx *regauth_fixture;

/* User u's token: tok_rs256 with "u%07u" written over the start of its signature. */
static void
user_token(uint32_t u, char *t)
{
	char tag[9];

	memcpy(t, tok_rs256, sizeof(tok_rs256));
	snprintf(tag, sizeof(tag), "u%07u", u);
	memcpy(t + sizeof(tok_rs256) - 1 - 40, tag, 8);
}

static int
reg_msgs_make(struct reg_msgs *m, bool token)
{
	m->buf = malloc((size_t)REG_USERS * REG_MSG_MAX);
	m->len = malloc(REG_USERS * sizeof(*m->len));
	m->cseq_off = malloc(REG_USERS * sizeof(*m->cseq_off));
	if (m->buf == NULL || m->len == NULL || m->cseq_off == NULL)
		return -1;
	for (uint32_t u = 0; u < REG_USERS; u++) {
		char line[sizeof(tok_rs256) + 40] = "", t[sizeof(tok_rs256)];
		int n;

		if (token) {
			user_token(u, t);
			snprintf(line, sizeof(line), "Authorization: Bearer %s\r\n", t);
		}
		n = snprintf(m->buf[u], REG_MSG_MAX, reg_fmt, u, u, u, u, 1u, line);
		if (n <= 0 || (uint32_t)n >= REG_MSG_MAX)
			return -1;
		m->len[u] = (uint32_t)n;
		m->cseq_off[u] = (uint32_t)(strstr(m->buf[u], "CSeq: ") - m->buf[u]) + 6;
	}
	return 0;
}

static void
cseq_write(char *p, uint32_t v)
{
	for (int i = 9; i >= 0; i--) {
		p[i] = (char)('0' + v % 10);
		v /= 10;
	}
}

static uint32_t
reg_send(struct regauth_fx *f, const struct reg_msgs *m, uint32_t u)
{
	uint32_t n;

	cseq_write(m->buf[u] + m->cseq_off[u], f->cseq);
	n = spr_sip_process(f->ctx, m->buf[u], m->len[u], &f->src, &f->now, f->out,
			    sizeof(f->out));
	f->non200 += n < 12 || memcmp(f->out + 8, "200", 3) != 0;
	return n;
}

static void *
regauth_setup(void)
{
	struct regauth_fx *f;
	struct spr_jwt_claims cl = {.exp = NOW + 100000, .scopes = SPR_AUTH_SCOPE_REGISTER};

	if (regauth_fixture != NULL)
		return regauth_fixture;
	if (!urcu_qsbr_read_ongoing())
		urcu_qsbr_register_thread();
	if ((f = calloc(1, sizeof(*f))) == NULL || (f->ctx = calloc(1, sizeof(*f->ctx))) == NULL)
		return NULL;
	spr_reg_cfg_default(&f->cfg);
	spr_sip_limits_default(&f->ctx->lim);
	f->ctx->reg_cfg = &f->cfg;
	f->ctx->reply.server = SPR_STR("sprd/0.1");
	spr_now_set(&f->now, (uint32_t)NOW);
	f->src.family = AF_INET;
	f->src.port = 5060;
	memcpy(f->src.addr, (uint8_t[]){10, 1, 2, 3}, 4);
	spr_auth_cfg_default(&f->auth);
	f->auth.enabled = false;
	f->cache = spr_token_cache_new(8 * REG_USERS, 0, 0, NULL);
	f->hasher = spr_token_hasher_new();
	f->ctx->shard = spr_loc_shard_create(0, REG_USERS);
	if (f->cache == NULL || f->hasher == NULL || f->ctx->shard == NULL ||
	    reg_msgs_make(&f->plain, false) != 0 || reg_msgs_make(&f->token, true) != 0)
		return NULL;
	/* the verdicts control would have cached: good, scope register, user = the To user */
	for (uint32_t u = 0; u < REG_USERS; u++) {
		char t[sizeof(tok_rs256)];

		user_token(u, t);
		cl.user_len = (uint8_t)snprintf(cl.user, sizeof(cl.user), "u%07u", u);
		if (spr_token_cache_put(f->cache, f->hasher, t, sizeof(t) - 1, SPR_JWT_OK, &cl,
					NOW) != 0)
			return NULL;
	}
	f->ctx->auth_cfg = &f->auth;
	f->ctx->auth_hooks = spr_token_cache_hooks(f->cache, f->hasher);
	f->cseq = 1;
	for (uint32_t u = 0; u < REG_USERS; u++)
		reg_send(f, &f->plain, u);
	urcu_qsbr_synchronize_rcu();
	regauth_fixture = f;
	return f;
}

/* Users in a scattered order, each request a refresh with a higher CSeq. */
static void
regauth_run(struct regauth_fx *f, const struct reg_msgs *m, bool auth, uint64_t iters)
{
	f->auth.enabled = auth;
	for (uint64_t i = 0; i < iters; i++) {
		f->next = (f->next + 1) % REG_USERS;
		if (f->next == 0)
			f->cseq++;
		reg_send(f, m, (uint32_t)(((uint64_t)f->next * 2531u) % REG_USERS));
		if (i % REG_QS_EVERY == 0)
			urcu_qsbr_quiescent_state();
	}
	urcu_qsbr_quiescent_state();
}

/*
 * The same requests in the worker's order (dataplane/lcore.c): request n
 * parsed and its token's fingerprint computed and set prefetched, request
 * n-1's out-of-line user (if any) prefetched, request n-2 answered with
 * its fingerprint. Without the
 * location prefetches the worker also makes (the same for every mode).
 */
static void
regauth_pipe_run(struct regauth_fx *f, const struct reg_msgs *m, bool auth, uint64_t iters)
{
	static struct spr_sip_msg msgs[3];
	struct spr_auth_pre pre[3];
	int parsed[3];

	f->auth.enabled = auth;
	for (uint64_t i = 0; i < iters + 2; i++) {
		if (i < iters) {
			uint32_t k = (uint32_t)(i % 3), u;

			f->next = (f->next + 1) % REG_USERS;
			if (f->next == 0)
				f->cseq++;
			u = (uint32_t)(((uint64_t)f->next * 2531u) % REG_USERS);
			cseq_write(m->buf[u] + m->cseq_off[u], f->cseq);
			parsed[k] = spr_sip_process_parse(f->ctx, &msgs[k], m->buf[u], m->len[u]);
			spr_proc_auth_prefetch(f->ctx, &msgs[k], &pre[k]);
		}
		if (i >= 1 && i - 1 < iters)
			spr_auth_sip_prefetch_ext(&f->ctx->auth_hooks, &pre[(i - 1) % 3]);
		if (i >= 2) {
			uint32_t k = (uint32_t)((i - 2) % 3), n;

			f->ctx->auth_pre = &pre[k];
			n = spr_sip_process_msg(f->ctx, &msgs[k], parsed[k], &f->src, &f->now,
						f->out, sizeof(f->out));
			f->ctx->auth_pre = NULL;
			f->non200 += n < 12 || memcmp(f->out + 8, "200", 3) != 0;
			if ((i - 2) % REG_QS_EVERY == 0)
				urcu_qsbr_quiescent_state();
		}
	}
	urcu_qsbr_quiescent_state();
}

static void
reg_token_pipe_run(void *ctx, uint64_t iters)
{
	struct regauth_fx *f = ctx;

	regauth_pipe_run(f, &f->token, false, iters);
}

static void
reg_auth_pipe_run(void *ctx, uint64_t iters)
{
	struct regauth_fx *f = ctx;

	regauth_pipe_run(f, &f->token, true, iters);
}

static void
reg_plain_run(void *ctx, uint64_t iters)
{
	struct regauth_fx *f = ctx;

	regauth_run(f, &f->plain, false, iters);
}

static void
reg_token_run(void *ctx, uint64_t iters)
{
	struct regauth_fx *f = ctx;

	regauth_run(f, &f->token, false, iters);
}

static void
reg_auth_run(void *ctx, uint64_t iters)
{
	struct regauth_fx *f = ctx;

	regauth_run(f, &f->token, true, iters);
}

static int
regauth_counters(void *ctx, struct spr_bench_counter *out, int max)
{
	const struct regauth_fx *f = ctx;

	if (max < 3)
		return 0;
	out[0] = (struct spr_bench_counter){"non200", (double)f->non200};
	out[1] = (struct spr_bench_counter){"auth_hits", (double)f->ctx->cnt.auth.hits};
	out[2] = (struct spr_bench_counter){"auth_misses", (double)f->ctx->cnt.auth.misses};
	return 3;
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
	{"BM_auth_cache_hit_pipelined", auth_setup, cache_hit_pipelined_run, auth_counters, 256},
	{"BM_auth_token_fp", auth_setup, token_fp_run, auth_counters, 256},
	{"BM_auth_cache_hit_negative", auth_setup, cache_hit_negative_run, auth_counters, 256},
	{"BM_auth_token_key", auth_setup, token_key_run, auth_counters, 256},
	{"BM_jwt_verify_rs256", auth_setup, verify_rs256_run, auth_counters, 16},
	{"BM_jwt_verify_es256", auth_setup, verify_es256_run, auth_counters, 16},
	{"BM_register_plain_4k", regauth_setup, reg_plain_run, regauth_counters, 256},
	{"BM_register_token_4k", regauth_setup, reg_token_run, regauth_counters, 256},
	{"BM_register_auth_4k", regauth_setup, reg_auth_run, regauth_counters, 256},
	{"BM_register_token_4k_pipelined", regauth_setup, reg_token_pipe_run, regauth_counters,
	 256},
	{"BM_register_auth_4k_pipelined", regauth_setup, reg_auth_pipe_run, regauth_counters, 256},
	{NULL, NULL, NULL, NULL, 0},
};
