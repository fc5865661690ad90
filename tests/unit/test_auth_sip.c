/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * OAuth Bearer on the worker (dataplane/sip_auth.h) through spr_sip_process()
 * with a real shard and a real token cache: the cache is filled here through
 * auth/'s API as the control thread fills it, and reached by the worker
 * through the injected hooks (spr/auth_hook.h) exactly as sprd wires them.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "jwt_verify.h"
#include "sip_process.h"
#include "testutil.h"
#include "token_cache.h"

#define T0 1700000000u

struct fx {
	struct spr_reg_cfg reg;
	struct spr_pres_cfg pres;
	struct spr_auth_cfg auth;
	struct spr_proc_ctx ctx;
	struct spr_token_cache *cache;
	struct spr_token_hasher *hasher;
	struct spr_now now;
	struct spr_peer src;
	char out[16384];
	uint32_t out_len;
	unsigned seq;
};

static unsigned lookups; /* calls of the lookup hook */

static int
counting_get(const struct spr_token_cache *c, struct spr_token_hasher *h, const char *tok,
	     uint32_t len, int64_t now, struct spr_token_hit *out)
{
	lookups++;
	return spr_token_cache_get(c, h, tok, len, now, out);
}

static unsigned fp_lookups; /* calls of the lookup-by-fingerprint hook */

static int
counting_get_fp(const struct spr_token_cache *c, const struct spr_token_fp *fp, int64_t now,
		struct spr_token_hit *out)
{
	fp_lookups++;
	return spr_token_cache_get_fp(c, fp, now, out);
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	spr_reg_cfg_default(&f->reg);
	spr_pres_cfg_default(&f->pres);
	spr_auth_cfg_default(&f->auth);
	f->auth.enabled = true;
	f->auth.realm = "example.com";
	f->auth.max_token_bytes = 64;
	spr_sip_limits_default(&f->ctx.lim);
	f->ctx.reg_cfg = &f->reg;
	f->ctx.pres_cfg = &f->pres;
	f->ctx.reply.server = SPR_STR("sprd-test");
	f->ctx.shard = spr_loc_shard_create(0, 64);
	f->cache = spr_token_cache_new(64, 0, 0, NULL);
	f->hasher = spr_token_hasher_new();
	if (f->ctx.shard == NULL || f->cache == NULL || f->hasher == NULL)
		return -1;
	f->ctx.auth_cfg = &f->auth;
	f->ctx.auth_hooks = (struct spr_auth_hooks){f->hasher, f->cache, counting_get};
	spr_now_set(&f->now, T0);
	f->src.family = AF_INET;
	f->src.port = 5070;
	memcpy(f->src.addr, (uint8_t[]){192, 0, 2, 7}, 4);
	lookups = 0;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	spr_loc_shard_destroy(f->ctx.shard);
	spr_token_cache_free(f->cache);
	spr_token_hasher_free(f->hasher);
	free(f);
	return 0;
}

/* What control does on AUTH_NEEDED: cache the verdict for tok. */
static void
cache_put(struct fx *f, const char *tok, int verdict, const char *user, uint32_t scopes)
{
	struct spr_jwt_claims cl = {.exp = T0 + 600, .scopes = scopes};

	cl.user_len = (uint8_t)strlen(user);
	memcpy(cl.user, user, cl.user_len);
	assert_int_equal(spr_token_cache_put(f->cache, f->hasher, tok, (uint32_t)strlen(tok),
					     verdict, &cl, T0),
			 0);
}

/* Send text (LF -> CRLF). Returns the status code, 0 for no reply. */
static int
send_msg(struct fx *f, const char *text)
{
	uint32_t len;
	char *msg = spr_test_crlf(text, &len);

	assert_non_null(msg);
	f->out_len =
		spr_sip_process(&f->ctx, msg, len, &f->src, &f->now, f->out, sizeof(f->out) - 1);
	free(msg);
	f->out[f->out_len] = '\0';
	if (f->out_len < 12)
		return 0;
	return atoi(f->out + 8);
}

/* method REGISTER (To alice) or PUBLISH (R-URI alice) or OPTIONS, with tok (NULL: none). */
static int
req(struct fx *f, const char *method, const char *tok)
{
	char buf[4096], auth[2048] = "";
	unsigned s = ++f->seq;
	bool reg = strcmp(method, "REGISTER") == 0, pub = strcmp(method, "PUBLISH") == 0;

	if (tok != NULL)
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s\n", tok);
	snprintf(buf, sizeof(buf),
		 "%s sip:%s SIP/2.0\n"
		 "Via: SIP/2.0/UDP 192.0.2.7:5070;branch=z9hG4bKa%u;rport\n"
		 "Max-Forwards: 70\n"
		 "From: <sip:alice@example.com>;tag=a%u\n"
		 "To: <sip:alice@example.com>\n"
		 "Call-ID: auth%u\n"
		 "CSeq: %u %s\n"
		 "%s%s%s"
		 "Content-Length: 0\n"
		 "\n",
		 method, reg ? "example.com" : "alice@example.com", s, s, s, s, method,
		 reg ? "Contact: <sip:alice@192.0.2.7:5070>\n" : "",
		 pub ? "Event: presence\nExpires: 600\n" : "", auth);
	return send_msg(f, buf);
}

static bool
has(struct fx *f, const char *needle)
{
	return strstr(f->out, needle) != NULL;
}

static void
no_token_challenges(void **state)
{
	struct fx *f = *state;

	assert_int_equal(req(f, "REGISTER", NULL), 401);
	assert_true(has(f, "SIP/2.0 401 Unauthorized\r\n"));
	assert_true(has(f, "\r\nWWW-Authenticate: Bearer realm=\"example.com\", "
			   "scope=\"sip:register\"\r\n"));
	assert_int_equal(f->ctx.cnt.auth.result[SPR_AUTH_NO_TOKEN], 1);
	assert_int_equal(lookups, 0);

	/* the scope is the method's; authz_server is advertised when set */
	f->auth.authz_server = "https://as.example.com/token";
	assert_int_equal(req(f, "PUBLISH", NULL), 401);
	assert_true(has(f, "\r\nWWW-Authenticate: Bearer realm=\"example.com\", "
			   "scope=\"sip:presence\", "
			   "authz_server=\"https://as.example.com/token\"\r\n"));
	/* SUBSCRIBE needs a token too, before anything else is said about it */
	assert_int_equal(send_msg(f, "SUBSCRIBE sip:bob@example.com SIP/2.0\n"
				     "Via: SIP/2.0/UDP 192.0.2.7:5070;branch=z9hG4bKs1\n"
				     "From: <sip:alice@example.com>;tag=s1\n"
				     "To: <sip:bob@example.com>\n"
				     "Call-ID: sub1\nCSeq: 1 SUBSCRIBE\nEvent: presence\n"
				     "Content-Length: 0\n\n"),
			 401);
	assert_true(has(f, "scope=\"sip:presence\""));
}

static void
options_and_auth_off_pass(void **state)
{
	struct fx *f = *state;

	assert_int_equal(req(f, "OPTIONS", NULL), 200);
	f->auth.enabled = false;
	assert_int_equal(req(f, "REGISTER", NULL), 200);
	assert_false(has(f, "WWW-Authenticate"));
	assert_int_equal(f->ctx.cnt.auth.result[SPR_AUTH_NO_TOKEN], 0);
}

static void
oversize_refused_unhashed(void **state)
{
	struct fx *f = *state;
	char tok[66];

	memset(tok, 'a', 65);
	tok[65] = '\0';
	assert_int_equal(req(f, "REGISTER", tok), 401);
	assert_true(has(f, "error=\"invalid_token\", error_description=\"token too large\"\r\n"));
	assert_int_equal(lookups, 0);
	assert_int_equal(f->ctx.cnt.auth.verdict[SPR_JWT_TOO_LARGE], 1);
	/* at the limit it is looked up (a miss: to control) */
	tok[64] = '\0';
	assert_int_equal(req(f, "REGISTER", tok), 0);
	assert_true(f->ctx.auth_needed);
	assert_int_equal(lookups, 1);
}

static void
miss_goes_to_control_then_result_applies(void **state)
{
	struct fx *f = *state;

	assert_int_equal(req(f, "REGISTER", "tok.en.a"), 0);
	assert_true(f->ctx.auth_needed);
	assert_int_equal(f->out_len, 0);
	assert_int_equal(f->ctx.cnt.auth.misses, 1);
	assert_int_equal(f->ctx.cnt.auth.result[SPR_AUTH_NEEDED], 1);

	/* control's decision for this one request, cache or not */
	f->seq--;
	f->ctx.auth_result = spr_auth_result_pack(SPR_AUTH_PASS, SPR_JWT_OK) |
			     SPR_PROC_AUTH_RESULT_SET;
	assert_int_equal(req(f, "REGISTER", "tok.en.a"), 200);
	f->seq--;
	f->ctx.auth_result = spr_auth_result_pack(SPR_AUTH_INVALID_TOKEN, SPR_JWT_BAD_SIGNATURE) |
			     SPR_PROC_AUTH_RESULT_SET;
	assert_int_equal(req(f, "REGISTER", "tok.en.a"), 401);
	assert_true(has(f, "error=\"invalid_token\", error_description=\"bad signature\""));
	f->ctx.auth_result = 0;
	assert_int_equal(f->ctx.cnt.auth.results, 2);
	assert_int_equal(f->ctx.cnt.auth.verdict[SPR_JWT_BAD_SIGNATURE], 1);
}

static void
negative_hit(void **state)
{
	struct fx *f = *state;

	cache_put(f, "expired.to.ken", SPR_JWT_EXPIRED, "", 0);
	assert_int_equal(req(f, "REGISTER", "expired.to.ken"), 401);
	assert_true(has(f, "\r\nWWW-Authenticate: Bearer realm=\"example.com\", "
			   "scope=\"sip:register\", error=\"invalid_token\", "
			   "error_description=\"token expired\"\r\n"));
	assert_int_equal(f->ctx.cnt.auth.hits, 1);
	assert_int_equal(f->ctx.cnt.auth.hits_negative, 1);
	assert_int_equal(f->ctx.cnt.auth.verdict[SPR_JWT_EXPIRED], 1);
	assert_false(f->ctx.auth_needed);
}

static void
positive_hit_scopes(void **state)
{
	struct fx *f = *state;

	cache_put(f, "reg.only.tok", SPR_JWT_OK, "alice", SPR_AUTH_SCOPE_REGISTER);
	assert_int_equal(req(f, "REGISTER", "reg.only.tok"), 200);
	assert_int_equal(f->ctx.cnt.reg_requests, 1);
	/* the same token lacks the presence scope: 403 insufficient_scope (RFC 6750 §3.1) */
	assert_int_equal(req(f, "PUBLISH", "reg.only.tok"), 403);
	assert_true(has(f, "SIP/2.0 403 Insufficient Scope\r\n"));
	assert_true(has(f, "\r\nWWW-Authenticate: Bearer realm=\"example.com\", "
			   "scope=\"sip:presence\", error=\"insufficient_scope\"\r\n"));
	assert_int_equal(f->ctx.cnt.pub_requests, 0);

	cache_put(f, "pres.only.tok", SPR_JWT_OK, "alice", SPR_AUTH_SCOPE_PRESENCE);
	assert_int_equal(req(f, "REGISTER", "pres.only.tok"), 403);
	assert_true(has(f, "scope=\"sip:register\", error=\"insufficient_scope\""));
	assert_int_equal(f->ctx.cnt.auth.result[SPR_AUTH_INSUFFICIENT_SCOPE], 2);
	assert_int_equal(f->ctx.cnt.auth.result[SPR_AUTH_PASS], 1);
}

static void
user_mismatch(void **state)
{
	struct fx *f = *state;

	cache_put(f, "bob.tok.en", SPR_JWT_OK, "bob", SPR_AUTH_SCOPE_REGISTER);
	assert_int_equal(req(f, "REGISTER", "bob.tok.en"), 403);
	assert_true(has(f, "SIP/2.0 403 Token Not Issued For This User\r\n"));
	assert_int_equal(f->ctx.cnt.auth.result[SPR_AUTH_USER_MISMATCH], 1);
	assert_int_equal(f->ctx.cnt.reg_requests, 0);
	/* the AOR's user is compared unescaped (RFC 3261 §10.3 step 5) */
	cache_put(f, "alice.tok.en", SPR_JWT_OK, "alice", SPR_AUTH_SCOPE_REGISTER);
	assert_int_equal(send_msg(f, "REGISTER sip:example.com SIP/2.0\n"
				     "Via: SIP/2.0/UDP 192.0.2.7:5070;branch=z9hG4bKe1\n"
				     "From: <sip:%61lice@example.com>;tag=e1\n"
				     "To: <sip:%61lice@example.com>\n"
				     "Call-ID: esc1\nCSeq: 1 REGISTER\n"
				     "Contact: <sip:alice@192.0.2.7:5070>\n"
				     "Authorization: Bearer alice.tok.en\n"
				     "Content-Length: 0\n\n"),
			 200);
	/* an escaped '@' belongs to the user: the last '@' ends it */
	cache_put(f, "ab.tok.en", SPR_JWT_OK, "a@b", SPR_AUTH_SCOPE_REGISTER);
	assert_int_equal(send_msg(f, "REGISTER sip:example.com SIP/2.0\n"
				     "Via: SIP/2.0/UDP 192.0.2.7:5070;branch=z9hG4bKe3\n"
				     "From: <sip:a%40b@example.com>;tag=e3\n"
				     "To: <sip:a%40b@example.com>\n"
				     "Call-ID: esc3\nCSeq: 1 REGISTER\n"
				     "Contact: <sip:ab@192.0.2.7:5070>\n"
				     "Authorization: Bearer ab.tok.en\n"
				     "Content-Length: 0\n\n"),
			 200);
	/* a To without a user part matches no user */
	assert_int_equal(send_msg(f, "REGISTER sip:example.com SIP/2.0\n"
				     "Via: SIP/2.0/UDP 192.0.2.7:5070;branch=z9hG4bKe4\n"
				     "From: <sip:example.com>;tag=e4\n"
				     "To: <sip:example.com>\n"
				     "Call-ID: esc4\nCSeq: 1 REGISTER\n"
				     "Contact: <sip:ab@192.0.2.7:5070>\n"
				     "Authorization: Bearer ab.tok.en\n"
				     "Content-Length: 0\n\n"),
			 403);
	/* case matters in the user part */
	assert_int_equal(send_msg(f, "REGISTER sip:example.com SIP/2.0\n"
				     "Via: SIP/2.0/UDP 192.0.2.7:5070;branch=z9hG4bKe2\n"
				     "From: <sip:Alice@example.com>;tag=e2\n"
				     "To: <sip:Alice@example.com>\n"
				     "Call-ID: esc2\nCSeq: 1 REGISTER\n"
				     "Contact: <sip:alice@192.0.2.7:5070>\n"
				     "Authorization: Bearer alice.tok.en\n"
				     "Content-Length: 0\n\n"),
			 403);
}

static void
decide_is_pure(void **state)
{
	struct fx *f = *state;
	struct spr_sip_msg m;
	struct spr_token_hit hit = {.verdict = SPR_JWT_OK};
	uint32_t len;
	char *text = spr_test_crlf("SUBSCRIBE sip:bob@example.com SIP/2.0\n"
				   "Via: SIP/2.0/UDP 192.0.2.7:5070;branch=z9hG4bKd1\n"
				   "From: <sip:carol@example.com>;tag=d1\n"
				   "To: <sip:bob@example.com>\n"
				   "Call-ID: d1\nCSeq: 1 SUBSCRIBE\n\n",
				   &len);

	assert_true(spr_sip_parse(text, len, &f->ctx.lim, &m) > 0);
	hit.claims.scopes = SPR_AUTH_SCOPE_PRESENCE;
	memcpy(hit.claims.user, "carol", 5);
	hit.claims.user_len = 5;
	/* SUBSCRIBE: the watcher (From) is the user */
	assert_int_equal(spr_auth_sip_decide(&f->auth, &m, &hit), SPR_AUTH_PASS);
	memcpy(hit.claims.user, "bob", 3);
	hit.claims.user_len = 3;
	assert_int_equal(spr_auth_sip_decide(&f->auth, &m, &hit), SPR_AUTH_USER_MISMATCH);
	hit.verdict = SPR_JWT_NO_KEYS;
	assert_int_equal(spr_auth_sip_decide(&f->auth, &m, &hit), SPR_AUTH_UNAVAILABLE);
	hit.verdict = SPR_JWT_WRONG_AUDIENCE;
	assert_int_equal(spr_auth_sip_decide(&f->auth, &m, &hit), SPR_AUTH_INVALID_TOKEN);
	free(text);
}

/* Decide a REGISTER whose To user is `user` against the claim `claim`. */
static enum spr_auth_result
decide_to_user(struct fx *f, const char *user, const char *claim)
{
	struct spr_token_hit hit = {.verdict = SPR_JWT_OK};
	struct spr_sip_msg m;
	enum spr_auth_result r;
	char buf[512], *text;
	uint32_t len;

	snprintf(buf, sizeof(buf),
		 "REGISTER sip:example.com SIP/2.0\n"
		 "Via: SIP/2.0/UDP 192.0.2.7:5070;branch=z9hG4bKu1\n"
		 "From: <sip:%s@example.com>;tag=u1\n"
		 "To: <sip:%s@example.com>\n"
		 "Call-ID: u1\nCSeq: 1 REGISTER\n\n",
		 user, user);
	text = spr_test_crlf(buf, &len);
	assert_true(spr_sip_parse(text, len, &f->ctx.lim, &m) > 0);
	hit.claims.scopes = SPR_AUTH_SCOPE_REGISTER;
	hit.claims.user_len = (uint8_t)strlen(claim);
	memcpy(hit.claims.user, claim, hit.claims.user_len + 1);
	r = spr_auth_sip_decide(&f->auth, &m, &hit);
	free(text);
	return r;
}

/*
 * Step 6 at every user length that the word compare takes (4 to 16) and
 * around it: equal users pass, one octet off anywhere does not, and a user
 * holding an escape is compared normalised, so the claim equal to its raw
 * octets ("%41bc...") does not match while the decoded one ("Abc...") does
 * (fails if the word compare skipped its '%' test).
 */
static void
decide_user_every_length(void **state)
{
	struct fx *f = *state;
	const char *abc = "abcdefghijklmnopqrstuvwxyz";

	for (uint32_t n = 1; n <= 20; n++) {
		char u[32], c[32];

		memcpy(u, abc, n);
		u[n] = '\0';
		assert_int_equal(decide_to_user(f, u, u), SPR_AUTH_PASS);
		for (uint32_t k = 0; k < n; k++) {
			memcpy(c, u, n + 1);
			c[k] = 'Z';
			if (decide_to_user(f, u, c) != SPR_AUTH_USER_MISMATCH)
				fail_msg("%u-octet user, claim off at %u: not a mismatch", n, k);
		}
		if (n < 4)
			continue;
		for (uint32_t at = 0; at + 3 <= n; at += n - 3 > 0 ? n - 3 : 1) {
			/* "%41" at the start, then at the end */
			memcpy(u, abc, n);
			memcpy(u + at, "%41", 3);
			u[n] = '\0';
			memcpy(c, u, n + 1);
			if (decide_to_user(f, u, c) != SPR_AUTH_USER_MISMATCH)
				fail_msg("%u-octet user %s against its raw octets: a match", n, u);
			memcpy(c, abc, at);
			c[at] = 'A';
			memcpy(c + at + 1, abc + at + 3, n - at - 3);
			c[n - 2] = '\0';
			if (decide_to_user(f, u, c) != SPR_AUTH_PASS)
				fail_msg("%u-octet user %s against %s: no match", n, u, c);
			if (at == n - 3)
				break;
		}
	}
}

/*
 * The worker's pipeline (lcore.c): the token's fingerprint computed and its
 * set and ext prefetched ahead, then the check looks up with that
 * fingerprint, only for the very bytes it was computed over; a wrong
 * fingerprint is a miss, never a hit.
 */
static void
pipeline_fp(void **state)
{
	static const char text[] = "REGISTER sip:example.com SIP/2.0\n"
				   "Via: SIP/2.0/UDP 192.0.2.7:5070;branch=z9hG4bKp1;rport\n"
				   "From: <sip:alice@example.com>;tag=p1\n"
				   "To: <sip:alice@example.com>\n"
				   "Call-ID: pipe1\nCSeq: %u REGISTER\n"
				   "Contact: <sip:alice@192.0.2.7:5070>\n"
				   "Authorization: Bearer %s\n"
				   "Content-Length: 0\n\n";
	struct fx *f = *state;
	struct spr_sip_msg *m = malloc(sizeof(*m)), *m2 = malloc(sizeof(*m2));
	struct spr_auth_pre pre, pre2;
	struct spr_token_fp fp;
	char buf[1024], buf2[1024];
	uint32_t len, len2;
	char *msg, *msg2;
	int parsed;

	assert_non_null(m);
	assert_non_null(m2);
	f->ctx.auth_hooks.fp = spr_token_fp_prefetch;
	f->ctx.auth_hooks.prefetch = spr_token_cache_prefetch;
	f->ctx.auth_hooks.get_fp = counting_get_fp;
	fp_lookups = 0;
	cache_put(f, "alice.pipe.tok", SPR_JWT_OK, "alice", SPR_AUTH_SCOPE_REGISTER);
	snprintf(buf, sizeof(buf), text, 1u, "alice.pipe.tok");
	msg = spr_test_crlf(buf, &len);
	snprintf(buf2, sizeof(buf2), text, 2u, "other.pipe.tok");
	msg2 = spr_test_crlf(buf2, &len2);
	assert_non_null(msg);
	assert_non_null(msg2);

	/* stage 1 and 2, then the answer with the fingerprint: one lookup by it, a hit */
	parsed = spr_sip_process_parse(&f->ctx, m, msg, len);
	assert_true(parsed > 0);
	spr_proc_auth_prefetch(&f->ctx, m, &pre);
	assert_ptr_equal(pre.tok, m->bearer.p);
	assert_int_equal(pre.len, m->bearer.len);
	assert_int_equal(spr_token_fp_of(f->cache, f->hasher, m->bearer.p, m->bearer.len, &fp), 0);
	assert_memory_equal(&pre.fp, &fp, sizeof(fp));
	spr_auth_sip_prefetch_ext(&f->ctx.auth_hooks, &pre);
	f->ctx.auth_pre = &pre;
	f->out_len = spr_sip_process_msg(&f->ctx, m, parsed, &f->src, &f->now, f->out,
					 sizeof(f->out) - 1);
	assert_true(f->out_len > 12 && atoi(f->out + 8) == 200);
	assert_int_equal(fp_lookups, 1);
	assert_int_equal(lookups, 0);
	assert_int_equal(f->ctx.cnt.auth.hits, 1);

	/* a fingerprint computed for another message's token is not used for this one */
	assert_true(spr_sip_process_parse(&f->ctx, m2, msg2, len2) > 0);
	spr_proc_auth_prefetch(&f->ctx, m2, &pre2);
	assert_non_null(pre2.tok);
	f->ctx.auth_pre = &pre2;
	f->out_len = spr_sip_process_msg(&f->ctx, m, parsed, &f->src, &f->now, f->out,
					 sizeof(f->out) - 1);
	assert_true(f->out_len > 12 && atoi(f->out + 8) == 200);
	assert_int_equal(fp_lookups, 1);
	assert_int_equal(lookups, 1);

	/*
	 * A wrong fingerprint for the right bytes: a miss (to control), not a
	 * hit. The high half differs, so the set is alice's own, her entry in it.
	 */
	pre.fp.w[1] ^= 1;
	f->ctx.auth_pre = &pre;
	f->out_len = spr_sip_process_msg(&f->ctx, m, parsed, &f->src, &f->now, f->out,
					 sizeof(f->out) - 1);
	assert_int_equal(f->out_len, 0);
	assert_true(f->ctx.auth_needed);
	assert_int_equal(fp_lookups, 2);
	assert_int_equal(f->ctx.cnt.auth.misses, 1);
	f->ctx.auth_needed = 0;
	f->ctx.auth_pre = NULL;

	/* nothing ahead when the check would not look up: auth off, a method without scope */
	f->auth.enabled = false;
	spr_proc_auth_prefetch(&f->ctx, m, &pre);
	assert_null(pre.tok);
	f->auth.enabled = true;
	m->method = SPR_SIP_OPTIONS;
	spr_proc_auth_prefetch(&f->ctx, m, &pre);
	assert_null(pre.tok);
	free(msg);
	free(msg2);
	free(m);
	free(m2);
}

/*
 * The parser with the token cache's one-pass scanner (spr_sip_limits.
 * bearer_scan) gives every Bearer value the verdict and fields it gives
 * without it, good tokens and bad, and leaves the value the fingerprint is
 * finished from; through the worker's stages that fingerprint is the one
 * the token has, and the check hits.
 */
static void
pipeline_scan(void **state)
{
	static const char text[] = "REGISTER sip:example.com SIP/2.0\n"
				   "Via: SIP/2.0/UDP 192.0.2.7:5070;branch=z9hG4bKs1;rport\n"
				   "From: <sip:alice@example.com>;tag=s1\n"
				   "To: <sip:alice@example.com>\n"
				   "Call-ID: scan1\nCSeq: 1 REGISTER\n"
				   "Contact: <sip:alice@192.0.2.7:5070>\n"
				   "Authorization: Bearer %s\n"
				   "Content-Length: 0\n\n";
	static const char *const toks[] = {
		"alice.scan.tok",
		"abc==",
		"A-_.~+/9",
		"abc,def",
		"ab=c",
		"=abc",
		"abc%41",
		"abc\x80"
		"def",
		"abc\x7f",
		"abc\x01",
		"ab\"c",
		"abc)",
		"abc=,",
		/* longer than one 64-byte step, bad octets on either side of the boundary */
		"eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlX2J5dGVz",
		"eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSJ9@c2lnbmF0dXJlX2J5dGVz",
		"eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlX2J5dGV=",
		"eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlX2J5dGV*",
	};
	struct fx *f = *state;
	struct spr_sip_msg *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
	bool scans = spr_token_scan_b64(f->cache, "x", "x" + 1, (uint64_t[2]){0}) != NULL;
	struct spr_sip_limits with = f->ctx.lim;
	struct spr_auth_pre pre;
	struct spr_token_fp fp;
	char buf[1024];
	uint32_t len;
	char *msg;
	int ra, rb, parsed;

	assert_non_null(a);
	assert_non_null(b);
	with.bearer_scan = spr_token_scan_b64;
	with.bearer_scan_ctx = f->cache;
	for (size_t i = 0; i < sizeof(toks) / sizeof(toks[0]); i++) {
		snprintf(buf, sizeof(buf), text, toks[i]);
		msg = spr_test_crlf(buf, &len);
		assert_non_null(msg);
		ra = spr_sip_parse(msg, len, &f->ctx.lim, a);
		rb = spr_sip_parse(msg, len, &with, b);
		if (ra != rb || a->err != b->err || a->bearer.p != b->bearer.p ||
		    a->bearer.len != b->bearer.len || a->bearer_poly_len != 0)
			fail_msg("Bearer %s: %d/%u/%u without the scanner, %d/%u/%u with it",
				 toks[i], ra, a->err, a->bearer.len, rb, b->err, b->bearer.len);
		if (b->bearer.len != 0 && scans) {
			struct spr_token_fp want;

			assert_int_equal(b->bearer_poly_len, b->bearer.len);
			spr_token_fp_of_poly(f->cache, b->bearer_poly, b->bearer.len, &fp);
			assert_int_equal(spr_token_fp_of(f->cache, f->hasher, b->bearer.p,
							 b->bearer.len, &want),
					 0);
			assert_memory_equal(&fp, &want, sizeof(fp));
		}
		free(msg);
	}
	/* a bad one is flagged with the scanner too */
	snprintf(buf, sizeof(buf), text, "abc,def");
	msg = spr_test_crlf(buf, &len);
	spr_sip_parse(msg, len, &with, b);
	assert_int_equal(b->err, SPR_SIP_ERR_BAD_AUTHORIZATION);
	assert_int_equal(b->bearer.len, 0);
	assert_int_equal(b->bearer_poly_len, 0);
	free(msg);
	/* a second, bad Bearer line of the same length leaves the first's token and value */
	snprintf(buf, sizeof(buf), text, "alice.scan.tok\nAuthorization: Bearer alice,scan,tok");
	msg = spr_test_crlf(buf, &len);
	spr_sip_parse(msg, len, &with, b);
	assert_int_equal(b->bearer.len, strlen("alice.scan.tok"));
	if (scans) {
		struct spr_token_fp want;

		assert_int_equal(b->bearer_poly_len, b->bearer.len);
		spr_token_fp_of_poly(f->cache, b->bearer_poly, b->bearer.len, &fp);
		assert_int_equal(spr_token_fp_of(f->cache, f->hasher, "alice.scan.tok",
						 b->bearer.len, &want),
				 0);
		assert_memory_equal(&fp, &want, sizeof(fp));
	}
	free(msg);

	/* the worker's stages: the parser's value, the fingerprint from it, a hit */
	f->ctx.auth_hooks = spr_token_cache_hooks(f->cache, f->hasher);
	f->ctx.auth_hooks.get_fp = counting_get_fp;
	fp_lookups = 0;
	cache_put(f, "alice.scan.tok", SPR_JWT_OK, "alice", SPR_AUTH_SCOPE_REGISTER);
	snprintf(buf, sizeof(buf), text, "alice.scan.tok");
	msg = spr_test_crlf(buf, &len);
	assert_non_null(msg);
	parsed = spr_sip_process_parse(&f->ctx, a, msg, len);
	assert_true(parsed > 0);
	assert_int_equal(a->bearer_poly_len, scans ? a->bearer.len : 0);
	spr_proc_auth_prefetch(&f->ctx, a, &pre);
	assert_ptr_equal(pre.tok, a->bearer.p);
	assert_int_equal(spr_token_fp_of(f->cache, f->hasher, a->bearer.p, a->bearer.len, &fp), 0);
	assert_memory_equal(&pre.fp, &fp, sizeof(fp));
	f->ctx.auth_pre = &pre;
	f->out_len = spr_sip_process_msg(&f->ctx, a, parsed, &f->src, &f->now, f->out,
					 sizeof(f->out) - 1);
	f->ctx.auth_pre = NULL;
	assert_true(f->out_len > 12 && atoi(f->out + 8) == 200);
	assert_int_equal(fp_lookups, 1);
	assert_int_equal(f->ctx.cnt.auth.hits, 1);
	/* auth off: the parser checks tokens itself again */
	f->auth.enabled = false;
	assert_true(spr_sip_process_parse(&f->ctx, a, msg, len) > 0);
	assert_int_equal(a->bearer_poly_len, 0);
	f->auth.enabled = true;
	free(msg);
	free(a);
	free(b);
}

/* RFC 4475 §3.1.2.13 regaut01: an unknown Authorization scheme is 200 with auth off, 401 on. */
static void
regaut01(void **state)
{
	struct fx *f = *state;
	const char *dir = spr_test_datadir();
	char path[512];
	uint32_t len;
	char *msg;

	if (dir == NULL)
		skip();
	snprintf(path, sizeof(path), "%s/rfc4475/regaut01.dat", dir);
	msg = spr_test_read_file(path, &len);
	assert_non_null(msg);
	f->out_len =
		spr_sip_process(&f->ctx, msg, len, &f->src, &f->now, f->out, sizeof(f->out) - 1);
	f->out[f->out_len] = '\0';
	assert_int_equal(atoi(f->out + 8), 401);
	assert_true(has(f, "\r\nWWW-Authenticate: Bearer realm=\"example.com\", "
			   "scope=\"sip:register\"\r\n"));
	f->auth.enabled = false;
	f->out_len =
		spr_sip_process(&f->ctx, msg, len, &f->src, &f->now, f->out, sizeof(f->out) - 1);
	f->out[f->out_len] = '\0';
	assert_int_equal(atoi(f->out + 8), 200);
	free(msg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(no_token_challenges, setup, teardown),
		cmocka_unit_test_setup_teardown(options_and_auth_off_pass, setup, teardown),
		cmocka_unit_test_setup_teardown(oversize_refused_unhashed, setup, teardown),
		cmocka_unit_test_setup_teardown(miss_goes_to_control_then_result_applies, setup,
						teardown),
		cmocka_unit_test_setup_teardown(negative_hit, setup, teardown),
		cmocka_unit_test_setup_teardown(positive_hit_scopes, setup, teardown),
		cmocka_unit_test_setup_teardown(user_mismatch, setup, teardown),
		cmocka_unit_test_setup_teardown(decide_is_pure, setup, teardown),
		cmocka_unit_test_setup_teardown(decide_user_every_length, setup, teardown),
		cmocka_unit_test_setup_teardown(regaut01, setup, teardown),
		cmocka_unit_test_setup_teardown(pipeline_fp, setup, teardown),
		cmocka_unit_test_setup_teardown(pipeline_scan, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
