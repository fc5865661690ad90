/* SPDX-License-Identifier: BSD-3-Clause */
/* JWT verification (the steps and their verdicts are in jwt.h). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "json_scan.h"
#include "jwks-int.h"
#include "jwt_verify.h"

static const struct {
	const char *name, *error, *desc;
	uint16_t sip;
} verdicts[SPR_JWT__COUNT] = {
#define X(n, counter, code, err, d) [SPR_JWT_##n] = {counter, err, d, code},
	SPR_FOREACH_JWT_VERDICT(X)
#undef X
};

static inline int
vidx(int v)
{
	return v >= 0 && v < SPR_JWT__COUNT ? v : SPR_JWT_INTERNAL;
}

const char *
spr_jwt_verdict_name(int v)
{
	return verdicts[vidx(v)].name;
}

uint16_t
spr_jwt_verdict_sip(int v)
{
	return verdicts[vidx(v)].sip;
}

const char *
spr_jwt_verdict_error(int v)
{
	return verdicts[vidx(v)].error;
}

const char *
spr_jwt_verdict_description(int v)
{
	return verdicts[vidx(v)].desc;
}

void
spr_auth_cfg_default(struct spr_auth_cfg *cfg)
{
	*cfg = (struct spr_auth_cfg){
		.scope_register = SPR_AUTH_DEF_SCOPE_REGISTER,
		.scope_presence = SPR_AUTH_DEF_SCOPE_PRESENCE,
		.user_claim = SPR_AUTH_DEF_USER_CLAIM,
		.clock_skew = SPR_AUTH_DEF_CLOCK_SKEW,
		.max_token_bytes = SPR_AUTH_DEF_MAX_TOKEN_BYTES,
		.token_cache_size = SPR_AUTH_DEF_CACHE_SIZE,
		.neg_ttl = SPR_AUTH_DEF_NEG_TTL,
		.pos_ttl = SPR_AUTH_DEF_POS_TTL,
	};
}

/* A decoded part: bytes [p, p + len) of the decode buffer. */
struct part {
	const uint8_t *p;
	uint32_t len;
};

/* SHA-2 of msg with the set's digest context: the digest length, 0 on failure. */
static unsigned int
digest(const struct spr_jwt_keys *ks, enum spr_jws_md mi, const char *msg, uint32_t mlen,
       uint8_t *out)
{
	unsigned int n = 0;

	if (EVP_DigestInit_ex2(ks->mdctx, ks->md[mi], NULL) != 1 ||
	    EVP_DigestUpdate(ks->mdctx, msg, mlen) != 1 ||
	    EVP_DigestFinal_ex(ks->mdctx, out, &n) != 1)
		return 0;
	return n;
}

/* A DER INTEGER (X.690 §8.3) of the big-endian unsigned b[0..n): minimal, non-negative. */
static uint32_t
der_uint(uint8_t *o, const uint8_t *b, uint32_t n)
{
	uint32_t i = 0, len;

	while (i + 1 < n && b[i] == 0)
		i++;
	len = n - i + (b[i] >= 0x80);
	o[0] = 0x02;
	o[1] = (uint8_t)len;
	o[2] = 0;
	memcpy(o + 2 + (b[i] >= 0x80), b + i, n - i);
	return 2 + len;
}

/*
 * JOSE ECDSA signature (RFC 7518 §3.4: R || S, each the field size) as the
 * DER ECDSA-Sig-Value OpenSSL verifies; out holds 6 + 2 * (half + 1) bytes.
 */
static uint32_t
ecdsa_der(const uint8_t *rs, uint32_t half, uint8_t *out)
{
	uint32_t n = der_uint(out + 2, rs, half);

	n += der_uint(out + 2 + n, rs + half, half);
	out[0] = 0x30; /* SEQUENCE; at most 2 * 51 bytes: short length form */
	out[1] = (uint8_t)n;
	return 2 + n;
}

static bool
verify_sig(const struct spr_jwt_keys *ks, const struct spr_jwt_key *k, enum spr_jws_alg alg,
	   const char *msg, uint32_t mlen, const struct part *sig)
{
	enum spr_jws_md mi = spr_jws_alg_md(alg);
	uint8_t md[EVP_MAX_MD_SIZE], der[6 + 2 * 49];
	unsigned int mdlen;

	switch (k->kty) {
	case SPR_JWK_RSA:
		/* RFC 8017 §8.2.2: the signature is exactly the modulus size */
		if (sig->len != k->sig_bytes || k->vctx[mi] == NULL ||
		    (mdlen = digest(ks, mi, msg, mlen, md)) == 0)
			return false;
		return EVP_PKEY_verify(k->vctx[mi], sig->p, sig->len, md, mdlen) == 1;
	case SPR_JWK_EC: {
		uint32_t half = k->crv == SPR_JWK_CRV_P256 ? 32 : 48, dlen;

		if (sig->len != 2 * half || k->vctx[mi] == NULL ||
		    (mdlen = digest(ks, mi, msg, mlen, md)) == 0)
			return false;
		dlen = ecdsa_der(sig->p, half, der);
		return EVP_PKEY_verify(k->vctx[mi], der, dlen, md, mdlen) == 1;
	}
	case SPR_JWK_OCT: {
		uint8_t mac[EVP_MAX_MD_SIZE];
		unsigned int maclen = 0;

		if (HMAC(ks->md[mi], k->secret, (int)k->secret_len, (const uint8_t *)msg, mlen,
			 mac, &maclen) == NULL ||
		    sig->len != maclen)
			return false;
		return CRYPTO_memcmp(mac, sig->p, maclen) == 0;
	}
	}
	return false;
}

static const struct spr_jwt_key *
find_key(const struct spr_jwt_keys *ks, const struct spr_json_val *kid, int *verdict)
{
	if (kid->type == SPR_JSON_ABSENT) {
		if (ks->n == 1)
			return &ks->keys[0];
		*verdict = SPR_JWT_KID_REQUIRED;
		return NULL;
	}
	for (uint32_t i = 0; i < ks->n; i++) {
		const struct spr_jwt_key *k = &ks->keys[i];

		if (k->has_kid && k->kid_len == kid->slen && memcmp(k->kid, kid->s, k->kid_len) == 0)
			return k;
	}
	*verdict = SPR_JWT_UNKNOWN_KEY;
	return NULL;
}

/* NumericDate (RFC 7519 §2) v into *t; false when it is not a number in range. */
static bool
numeric_date(const struct spr_json_val *v, int64_t *t)
{
	if (v->type == SPR_JSON_INT) {
		*t = v->i;
		return true;
	}
	if (v->type == SPR_JSON_REAL) {
		double d = floor(v->d);

		if (!(d > -9.0e15 && d < 9.0e15))
			return false;
		*t = (int64_t)d;
		return true;
	}
	return false;
}

/* Optional time claim: 0 absent, 1 present in *t, -1 not a number. */
static int
time_claim(const struct spr_json_val *v, int64_t *t)
{
	if (v->type == SPR_JSON_ABSENT)
		return 0;
	return numeric_date(v, t) ? 1 : -1;
}

static bool
str_is(const struct spr_json_val *v, const char *want)
{
	size_t wl = strlen(want);

	return v->type == SPR_JSON_STRING && v->slen == wl && memcmp(v->s, want, wl) == 0;
}

/* The top-level claims sprd reads; the user claim's name is the configured one. */
enum { C_EXP, C_NBF, C_IAT, C_ISS, C_AUD, C_SCOPE, C_USER, C__COUNT };

/* Steps 13 and 14: iss and aud. */
static int
check_iss_aud(const struct spr_json_val *c, const struct spr_auth_cfg *cfg,
	      struct spr_json_scratch *sc)
{
	if (cfg->issuer != NULL && cfg->issuer[0] != '\0') {
		const struct spr_json_val *iss = &c[C_ISS];

		if (iss->type != SPR_JSON_ABSENT && iss->type != SPR_JSON_STRING)
			return SPR_JWT_BAD_CLAIMS;
		if (!str_is(iss, cfg->issuer))
			return SPR_JWT_WRONG_ISSUER;
	}
	if (cfg->audience != NULL && cfg->audience[0] != '\0') {
		const struct spr_json_val *aud = &c[C_AUD];

		if (aud->type == SPR_JSON_ARRAY) {
			struct spr_json_val a;
			uint32_t pos = 0;

			while (spr_json_array_next(aud, &pos, &a, sc) == 1) {
				if (a.type != SPR_JSON_STRING)
					return SPR_JWT_BAD_CLAIMS;
				if (str_is(&a, cfg->audience))
					return SPR_JWT_OK;
			}
			return SPR_JWT_WRONG_AUDIENCE;
		}
		if (aud->type != SPR_JSON_ABSENT && aud->type != SPR_JSON_STRING)
			return SPR_JWT_BAD_CLAIMS;
		if (!str_is(aud, cfg->audience))
			return SPR_JWT_WRONG_AUDIENCE;
	}
	return SPR_JWT_OK;
}

static bool
word_is(const char *w, size_t len, const char *want)
{
	return want != NULL && want[0] != '\0' && strlen(want) == len && memcmp(w, want, len) == 0;
}

/* Steps 15 and 16: the user and the scopes. */
static int
copy_user_scopes(const struct spr_json_val *c, const struct spr_auth_cfg *cfg,
		 struct spr_jwt_claims *out)
{
	const struct spr_json_val *u = &c[C_USER], *sc = &c[C_SCOPE];
	const char *s;
	size_t n;

	if (u->type == SPR_JSON_ABSENT)
		return SPR_JWT_MISSING_USER;
	if (u->type != SPR_JSON_STRING || (n = u->slen) == 0 || n > SPR_JWT_USER_MAX)
		return SPR_JWT_BAD_CLAIMS;
	s = u->s;
	for (size_t i = 0; i < n; i++)
		if ((uint8_t)s[i] < 0x20 || s[i] == 0x7f)
			return SPR_JWT_BAD_CLAIMS;
	memcpy(out->user, s, n);
	out->user[n] = '\0';
	out->user_len = (uint8_t)n;

	out->scopes = 0;
	if (sc->type == SPR_JSON_ABSENT)
		return SPR_JWT_OK;
	if (sc->type != SPR_JSON_STRING)
		return SPR_JWT_BAD_CLAIMS;
	s = sc->s;
	n = sc->slen;
	for (size_t i = 0; i < n;) {
		size_t j = i;

		while (j < n && s[j] != ' ')
			j++;
		if (j > i) {
			if (word_is(s + i, j - i, cfg->scope_register))
				out->scopes |= SPR_AUTH_SCOPE_REGISTER;
			if (word_is(s + i, j - i, cfg->scope_presence))
				out->scopes |= SPR_AUTH_SCOPE_PRESENCE;
		}
		i = j + 1;
	}
	return SPR_JWT_OK;
}

/* Steps 10..16 on the verified payload. */
static int
check_claims(const struct part *pl, const struct spr_auth_cfg *cfg, int64_t now,
	     struct spr_json_scratch *sc, struct spr_jwt_claims *out)
{
	const char *names[C__COUNT] = {
		[C_EXP] = "exp",     [C_NBF] = "nbf",	  [C_IAT] = "iat",
		[C_ISS] = "iss",     [C_AUD] = "aud",	  [C_SCOPE] = "scope",
		[C_USER] = cfg->user_claim ? cfg->user_claim : SPR_AUTH_DEF_USER_CLAIM,
	};
	struct spr_json_val c[C__COUNT];
	int64_t skew = cfg->clock_skew, exp, nbf = 0, iat = 0;
	int v, r, rn, ri;

	if (spr_json_object_scan(pl->p, pl->len, names, C__COUNT, c, sc) != 0)
		return SPR_JWT_BAD_CLAIMS;
	if ((r = time_claim(&c[C_EXP], &exp)) <= 0)
		return r == 0 ? SPR_JWT_MISSING_EXP : SPR_JWT_BAD_CLAIMS;
	/* RFC 7519 §4.1.4: now must be before exp; skew grants that much grace */
	if (exp <= now - skew)
		return SPR_JWT_EXPIRED;
	/* §4.1.5 nbf: now at or after it; iat in the future means a bad clock or a forgery */
	rn = time_claim(&c[C_NBF], &nbf);
	ri = time_claim(&c[C_IAT], &iat);
	if (rn < 0 || ri < 0)
		return SPR_JWT_BAD_CLAIMS;
	if ((rn == 1 && nbf > now + skew) || (ri == 1 && iat > now + skew))
		return SPR_JWT_NOT_YET_VALID;
	if ((v = check_iss_aud(c, cfg, sc)) != SPR_JWT_OK)
		return v;
	out->exp = exp;
	return copy_user_scopes(c, cfg, out);
}

/* Steps 4..9 on the decoded header and signature. */
static int
check_header_sig(const struct spr_jwt_keys *ks, const struct spr_auth_cfg *cfg,
		 const struct part *hd, const char *msg, uint32_t mlen, const struct part *sig,
		 struct spr_json_scratch *sc)
{
	enum { H_ALG, H_KID, H_CRIT, H__COUNT };
	static const char *const names[H__COUNT] = {"alg", "kid", "crit"};
	struct spr_json_val h[H__COUNT];
	const struct spr_jwt_key *k;
	enum spr_jws_alg a;
	int v;

	if (spr_json_object_scan(hd->p, hd->len, names, H__COUNT, h, sc) != 0 ||
	    h[H_ALG].type != SPR_JSON_STRING ||
	    (h[H_KID].type != SPR_JSON_ABSENT && h[H_KID].type != SPR_JSON_STRING) ||
	    h[H_CRIT].type != SPR_JSON_ABSENT)
		return SPR_JWT_BAD_HEADER;
	a = spr_jws_alg_from(h[H_ALG].s, h[H_ALG].slen);
	if (a == SPR_JWS_ALG_UNSET || (a == SPR_JWS_HS256 && !cfg->allow_hmac))
		return SPR_JWT_ALG_NOT_ALLOWED;
	if (ks == NULL || ks->n == 0)
		return SPR_JWT_NO_KEYS;
	if ((k = find_key(ks, &h[H_KID], &v)) == NULL)
		return v;
	if (!spr_jwk_alg_ok(k, a, cfg->allow_hmac))
		return SPR_JWT_ALG_NOT_ALLOWED;
	return verify_sig(ks, k, a, msg, mlen, sig) ? SPR_JWT_OK : SPR_JWT_BAD_SIGNATURE;
}

int
spr_jwt_verify(const struct spr_jwt_keys *ks, const struct spr_auth_cfg *cfg, const char *tok,
	       uint32_t len, int64_t now, struct spr_jwt_claims *out)
{
	const char *d1, *d2;
	struct part hd, pl, sig;
	struct spr_json_scratch sc;
	uint8_t *buf;
	uint32_t cap, off = 0;
	int n, v;

	/* step 1: before any byte is decoded */
	if (len > cfg->max_token_bytes || len > SPR_AUTH_MAX_TOKEN_BYTES_MAX)
		return SPR_JWT_TOO_LARGE;
	/* step 2 */
	if (len == 0 || (d1 = memchr(tok, '.', len)) == NULL ||
	    (d2 = memchr(d1 + 1, '.', len - (uint32_t)(d1 + 1 - tok))) == NULL ||
	    memchr(d2 + 1, '.', len - (uint32_t)(d2 + 1 - tok)) != NULL || d1 == tok ||
	    d2 == d1 + 1)
		return SPR_JWT_MALFORMED;
	/* step 3: all three parts into one buffer, then room for decoded JSON strings */
	cap = spr_b64url_decoded_max(len) + 6;
	if ((buf = malloc((size_t)cap * 3)) == NULL)
		return SPR_JWT_INTERNAL;
	v = SPR_JWT_BAD_BASE64;
	if ((n = spr_b64url_decode(tok, (uint32_t)(d1 - tok), buf, cap)) < 0)
		goto out;
	hd = (struct part){buf, (uint32_t)n};
	off = (uint32_t)n;
	if ((n = spr_b64url_decode(d1 + 1, (uint32_t)(d2 - d1 - 1), buf + off, cap - off)) < 0)
		goto out;
	pl = (struct part){buf + off, (uint32_t)n};
	off += (uint32_t)n;
	if ((n = spr_b64url_decode(d2 + 1, len - (uint32_t)(d2 + 1 - tok), buf + off, cap - off)) <
	    0)
		goto out;
	sig = (struct part){buf + off, (uint32_t)n};
	/* decoded strings of header and claims: never longer than their text, twice for aud */
	sc = (struct spr_json_scratch){buf + cap, 2 * cap, 0};
	/* steps 4..9: JWS signing input is the ASCII "header.payload" (RFC 7515 §5.2 step 8) */
	if ((v = check_header_sig(ks, cfg, &hd, tok, (uint32_t)(d2 - tok), &sig, &sc)) !=
	    SPR_JWT_OK)
		goto out;
	/* steps 10..16 */
	v = check_claims(&pl, cfg, now, &sc, out);
out:
	free(buf);
	return v;
}
