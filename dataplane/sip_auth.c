/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <string.h>

#include "sip_auth.h"

static const uint16_t result_code[] = {
#define X(name, code, reason) code,
	SPR_FOREACH_AUTH_RESULT(X)
#undef X
};
static const char *const result_reason[] = {
#define X(name, code, reason) reason,
	SPR_FOREACH_AUTH_RESULT(X)
#undef X
};
static const char *const result_name[] = {
#define X(name, code, reason) #name,
	SPR_FOREACH_AUTH_RESULT(X)
#undef X
};
static const char *const verdict_name[] = {
#define X(name, counter, sip, err, desc) counter,
	SPR_FOREACH_JWT_VERDICT(X)
#undef X
};
static const char *const verdict_desc[] = {
#define X(name, counter, sip, err, desc) desc,
	SPR_FOREACH_JWT_VERDICT(X)
#undef X
};

uint16_t
spr_auth_result_code(enum spr_auth_result r)
{
	return (unsigned)r < SPR_AUTH__COUNT ? result_code[r] : 500;
}

const char *
spr_auth_result_reason(enum spr_auth_result r)
{
	return (unsigned)r < SPR_AUTH__COUNT ? result_reason[r] : "Authentication Error";
}

const char *
spr_auth_result_name(enum spr_auth_result r)
{
	return (unsigned)r < SPR_AUTH__COUNT ? result_name[r] : "?";
}

const char *
spr_auth_verdict_name(int v)
{
	return (unsigned)v < SPR_JWT__COUNT ? verdict_name[v] : verdict_name[SPR_JWT_INTERNAL];
}

/* The outcome of a failed verdict: the server's own state is 5xx, any token fault 401. */
static enum spr_auth_result
failure(int verdict)
{
	if (verdict == SPR_JWT_NO_KEYS)
		return SPR_AUTH_UNAVAILABLE;
	if (verdict == SPR_JWT_INTERNAL || (unsigned)verdict >= SPR_JWT__COUNT)
		return SPR_AUTH_ERROR;
	return SPR_AUTH_INVALID_TOKEN;
}

/* The URI whose AOR the request acts for (see the header, step 6). */
static const struct spr_sip_uri *
aor_uri(const struct spr_sip_msg *m)
{
	if (m->method == SPR_SIP_PUBLISH)
		return &m->ruri;
	if (m->method == SPR_SIP_SUBSCRIBE)
		return &m->from.uri;
	return &m->to.uri;
}

/* Does the word hold a '%' octet? (exact: the zero-octet test of w ^ '%'s) */
static inline bool
has_pct8(uint64_t w)
{
	const uint64_t ones = 0x0101010101010101ull;
	uint64_t x = w ^ (0x25 * ones);

	return ((x - ones) & ~x & (0x80 * ones)) != 0;
}

/*
 * The usual case of step 6, without a call: n (4 to 16) octets of the
 * request's user equal the claim's and none is '%', so the normalised user
 * is these octets and it matches. Read as two overlapping words each side,
 * within the n octets. false: not shown here (the general path decides).
 */
static inline bool
user_plain_eq(const char *u, const char *claim, uint32_t n)
{
	uint64_t a, b, c, d;

	if (n - 8 <= 8) {
		a = spr_ld64(u);
		b = spr_ld64(u + n - 8);
		c = spr_ld64(claim);
		d = spr_ld64(claim + n - 8);
	} else if (n - 4 <= 3) {
		a = spr_ld32(u);
		b = spr_ld32(u + n - 4);
		c = spr_ld32(claim);
		d = spr_ld32(claim + n - 4);
	} else {
		return false;
	}
	return ((a ^ c) | (b ^ d)) == 0 && !has_pct8(a) && !has_pct8(b);
}

/* The normalised AOR of step 6 fits in decide_user()'s buffer. */
#define AOR_MAX (SPR_JWT_USER_MAX + 260u)

/* Step 6 in general: the user part of u's normalised AOR against the claim. */
static __attribute__((noinline)) enum spr_auth_result
decide_user(const struct spr_sip_uri *u, const struct spr_token_hit *hit)
{
	char aor[AOR_MAX];
	int n;
	uint32_t ulen;

	/*
	 * Without an escape the normalised user is the user's own bytes: compare
	 * them as they are, when the normalised AOR would fit (else the general
	 * path below gives its verdict). Same outcome, without building the AOR.
	 */
	if ((u->scheme_id == SPR_URI_SIP || u->scheme_id == SPR_URI_SIPS) && u->has_user &&
	    u->user.len != 0 && u->host.len != 0 &&
	    (uint64_t)u->user.len + u->host.len + 7 <= sizeof(aor) &&
	    memchr(u->user.p, '%', u->user.len) == NULL)
		return u->user.len == hit->claims.user_len &&
				       memcmp(u->user.p, hit->claims.user, u->user.len) == 0
			       ? SPR_AUTH_PASS
			       : SPR_AUTH_USER_MISMATCH;
	n = spr_sip_aor_normalize(u, aor, sizeof(aor));
	if (n <= 0)
		return SPR_AUTH_USER_MISMATCH;
	/* user@host[:port] with the user unescaped: the host holds no '@' */
	ulen = (uint32_t)n;
	while (ulen > 0 && aor[ulen - 1] != '@')
		ulen--;
	if (ulen == 0)
		return SPR_AUTH_USER_MISMATCH;
	ulen--;
	if (ulen != hit->claims.user_len || memcmp(aor, hit->claims.user, ulen) != 0)
		return SPR_AUTH_USER_MISMATCH;
	return SPR_AUTH_PASS;
}

static inline enum spr_auth_result
decide(const struct spr_sip_msg *m, const struct spr_token_hit *hit)
{
	const struct spr_sip_uri *u;

	if (hit->verdict != SPR_JWT_OK)
		return failure(hit->verdict);
	if ((hit->claims.scopes & spr_auth_sip_scope(m->method)) == 0)
		return SPR_AUTH_INSUFFICIENT_SCOPE;
	u = aor_uri(m);
	/* the conditions of decide_user()'s first branch, and a match it would find */
	if ((u->scheme_id == SPR_URI_SIP || u->scheme_id == SPR_URI_SIPS) && u->has_user &&
	    u->host.len != 0 && u->user.len == hit->claims.user_len &&
	    (uint64_t)u->user.len + u->host.len + 7 <= AOR_MAX &&
	    user_plain_eq(u->user.p, hit->claims.user, u->user.len))
		return SPR_AUTH_PASS;
	return decide_user(u, hit);
}

enum spr_auth_result
spr_auth_sip_decide(const struct spr_auth_cfg *cfg, const struct spr_sip_msg *m,
		    const struct spr_token_hit *hit)
{
	(void)cfg;
	return decide(m, hit);
}

enum spr_auth_result
spr_auth_sip_check(const struct spr_auth_sip_ctx *ac, const struct spr_sip_msg *m, int64_t now,
		   uint8_t *verdict)
{
	struct spr_auth_counters *cnt = ac->cnt;
	struct spr_token_hit hit;
	enum spr_auth_result r;
	int rc;

	*verdict = SPR_JWT_OK;
	if (m->bearer.len == 0) {
		r = SPR_AUTH_NO_TOKEN;
		goto out;
	}
	if (m->bearer.len > ac->cfg->max_token_bytes) {
		*verdict = SPR_JWT_TOO_LARGE;
		cnt->verdict[SPR_JWT_TOO_LARGE]++;
		r = SPR_AUTH_INVALID_TOKEN;
		goto out;
	}
	if (ac->pre != NULL && ac->pre->tok == m->bearer.p && ac->pre->len == m->bearer.len)
		rc = ac->hooks->get_fp(ac->hooks->cache, &ac->pre->fp, now, &hit);
	else
		rc = ac->hooks->get(ac->hooks->cache, ac->hooks->hasher, m->bearer.p, m->bearer.len,
				    now, &hit);
	if (unlikely(rc == -EIO)) {
		cnt->key_errors++;
		*verdict = SPR_JWT_INTERNAL;
		r = SPR_AUTH_ERROR;
		goto out;
	}
	if (rc != 0) {
		cnt->misses++;
		r = SPR_AUTH_NEEDED;
		goto out;
	}
	cnt->hits++;
	if (hit.verdict != SPR_JWT_OK) {
		cnt->hits_negative++;
		*verdict = hit.verdict < SPR_JWT__COUNT ? hit.verdict : SPR_JWT_INTERNAL;
		cnt->verdict[*verdict]++;
	}
	r = decide(m, &hit);
out:
	cnt->result[r]++;
	return r;
}

void
spr_auth_sip_prefetch(const struct spr_auth_sip_ctx *ac, const struct spr_sip_msg *m,
		      struct spr_auth_pre *pre)
{
	pre->tok = NULL;
	/* the requests spr_auth_sip_check() looks up, as it decides */
	if (ac->cfg == NULL || !ac->cfg->enabled || ac->hooks->fp == NULL ||
	    spr_auth_sip_scope(m->method) == 0 || m->bearer.len == 0 ||
	    m->bearer.len > ac->cfg->max_token_bytes)
		return;
	/* the parser's scanner began the fingerprint (spr_sip_limits.bearer_scan) */
	if (m->bearer_poly_len == m->bearer.len && ac->hooks->fp_of_poly != NULL)
		ac->hooks->fp_of_poly(ac->hooks->cache, m->bearer_poly, m->bearer.len, &pre->fp);
	else if (ac->hooks->fp(ac->hooks->cache, ac->hooks->hasher, m->bearer.p, m->bearer.len,
			       &pre->fp) != 0)
		return; /* a failed hasher: the check itself tries again, and counts */
	pre->tok = m->bearer.p;
	pre->len = m->bearer.len;
}

/* A configured string: NULL counts as empty. */
static void
put_cstr(struct spr_wbuf *w, const char *s)
{
	if (s != NULL)
		spr_wbuf_put(w, s, (uint32_t)strlen(s));
}

void
spr_auth_sip_reply(const struct spr_auth_cfg *cfg, const struct spr_reply_cfg *reply,
		   const struct spr_sip_msg *m, const struct spr_peer *src,
		   const struct spr_now *now, enum spr_auth_result r, uint8_t verdict,
		   struct spr_wbuf *w)
{
	uint32_t scope = spr_auth_sip_scope(m->method);

	spr_sip_reply_head(w, m, src, spr_auth_result_code(r), spr_auth_result_reason(r), NULL);
	if (r == SPR_AUTH_NO_TOKEN || r == SPR_AUTH_INVALID_TOKEN ||
	    r == SPR_AUTH_INSUFFICIENT_SCOPE || r == SPR_AUTH_USER_MISMATCH) {
		/* RFC 6750 §3 auth-params, RFC 8898 §2.3 authz_server; values checked
		 * at start-up to hold no '"' or '\\' */
		SPR_WBUF_LIT(w, "WWW-Authenticate: Bearer realm=\"");
		put_cstr(w, cfg->realm);
		SPR_WBUF_LIT(w, "\", scope=\"");
		put_cstr(w, scope == SPR_AUTH_SCOPE_REGISTER ? cfg->scope_register
							     : cfg->scope_presence);
		SPR_WBUF_LIT(w, "\"");
		if (cfg->authz_server != NULL && cfg->authz_server[0] != '\0') {
			SPR_WBUF_LIT(w, ", authz_server=\"");
			put_cstr(w, cfg->authz_server);
			SPR_WBUF_LIT(w, "\"");
		}
		if (r == SPR_AUTH_INVALID_TOKEN) {
			SPR_WBUF_LIT(w, ", error=\"invalid_token\", error_description=\"");
			put_cstr(w, verdict_desc[verdict < SPR_JWT__COUNT ? verdict
									  : SPR_JWT_INTERNAL]);
			SPR_WBUF_LIT(w, "\"");
		} else if (r == SPR_AUTH_INSUFFICIENT_SCOPE) {
			SPR_WBUF_LIT(w, ", error=\"insufficient_scope\"");
		} else if (r == SPR_AUTH_USER_MISMATCH) {
			/* RFC 6750 has no code for it; the token is fine, not for this AOR */
			SPR_WBUF_LIT(w, ", error=\"insufficient_scope\", "
					"error_description=\"token not issued for this user\"");
		}
		SPR_WBUF_LIT(w, "\r\n");
	} else if (r == SPR_AUTH_BUSY || r == SPR_AUTH_UNAVAILABLE) {
		SPR_WBUF_LIT(w, "Retry-After: 1\r\n");
	}
	spr_sip_reply_tail(w, reply, now, NULL);
}
