/* SPDX-License-Identifier: BSD-3-Clause */
/* JWT verification (the steps and their verdicts are in jwt.h). */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rsa.h>

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

/*
 * Digests fetched once: the implicit fetch behind EVP_sha256() goes through
 * OpenSSL 3's method store (locks, a hash walk) on every verification.
 */
static EVP_MD *mds[3];
static pthread_once_t mds_once = PTHREAD_ONCE_INIT;

static void
mds_fetch(void)
{
	mds[0] = EVP_MD_fetch(NULL, "SHA256", NULL);
	mds[1] = EVP_MD_fetch(NULL, "SHA384", NULL);
	mds[2] = EVP_MD_fetch(NULL, "SHA512", NULL);
}

/* NULL only if OpenSSL could not fetch the digest (then the signature fails). */
static const EVP_MD *
alg_md(enum spr_jws_alg alg)
{
	pthread_once(&mds_once, mds_fetch);
	switch (alg) {
	case SPR_JWS_RS384:
	case SPR_JWS_ES384:
		return mds[1];
	case SPR_JWS_RS512:
		return mds[2];
	default:
		return mds[0];
	}
}

/* RSASSA-PKCS1-v1_5 or ECDSA (DER) signature sig over msg with pk. */
static bool
verify_pkey(EVP_PKEY *pk, bool rsa, const EVP_MD *md, const char *msg, uint32_t mlen,
	    const uint8_t *sig, size_t slen)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pc = NULL;
	bool ok = false;

	if (c == NULL)
		return false;
	if (EVP_DigestVerifyInit(c, &pc, md, NULL, pk) != 1)
		goto out;
	if (rsa && EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PADDING) != 1)
		goto out;
	ok = EVP_DigestVerify(c, sig, slen, (const uint8_t *)msg, mlen) == 1;
out:
	EVP_MD_CTX_free(c);
	return ok;
}

/* JOSE ECDSA signature (RFC 7518 §3.4: R || S, each the field size) -> DER, then verify. */
static bool
verify_ecdsa(const struct spr_jwt_key *k, const EVP_MD *md, const char *msg, uint32_t mlen,
	     const struct part *sig)
{
	uint32_t half = k->crv == SPR_JWK_CRV_P256 ? 32 : 48;
	ECDSA_SIG *es;
	BIGNUM *r, *s;
	uint8_t *der = NULL;
	int dlen;
	bool ok;

	if (sig->len != 2 * half)
		return false;
	if ((es = ECDSA_SIG_new()) == NULL)
		return false;
	r = BN_bin2bn(sig->p, (int)half, NULL);
	s = BN_bin2bn(sig->p + half, (int)half, NULL);
	if (r == NULL || s == NULL || ECDSA_SIG_set0(es, r, s) != 1) {
		BN_free(r);
		BN_free(s);
		ECDSA_SIG_free(es);
		return false;
	}
	dlen = i2d_ECDSA_SIG(es, &der);
	ECDSA_SIG_free(es);
	if (dlen <= 0)
		return false;
	ok = verify_pkey(k->pkey, false, md, msg, mlen, der, (size_t)dlen);
	OPENSSL_free(der);
	return ok;
}

static bool
verify_sig(const struct spr_jwt_key *k, enum spr_jws_alg alg, const char *msg, uint32_t mlen,
	   const struct part *sig)
{
	const EVP_MD *md = alg_md(alg);

	if (md == NULL)
		return false;
	switch (k->kty) {
	case SPR_JWK_RSA:
		/* RFC 8017 §8.2.2: the signature is exactly the modulus size */
		return sig->len == (uint32_t)EVP_PKEY_get_size(k->pkey) &&
		       verify_pkey(k->pkey, true, md, msg, mlen, sig->p, sig->len);
	case SPR_JWK_EC:
		return verify_ecdsa(k, md, msg, mlen, sig);
	case SPR_JWK_OCT: {
		uint8_t mac[EVP_MAX_MD_SIZE];
		unsigned int maclen = 0;

		if (HMAC(md, k->secret, (int)k->secret_len, (const uint8_t *)msg, mlen, mac,
			 &maclen) == NULL ||
		    sig->len != maclen)
			return false;
		return CRYPTO_memcmp(mac, sig->p, maclen) == 0;
	}
	}
	return false;
}

static const struct spr_jwt_key *
find_key(const struct spr_jwt_keys *ks, json_t *kid, int *verdict)
{
	if (kid == NULL) {
		if (ks->n == 1)
			return &ks->keys[0];
		*verdict = SPR_JWT_KID_REQUIRED;
		return NULL;
	}
	for (uint32_t i = 0; i < ks->n; i++) {
		const struct spr_jwt_key *k = &ks->keys[i];

		if (k->has_kid && k->kid_len == json_string_length(kid) &&
		    memcmp(k->kid, json_string_value(kid), k->kid_len) == 0)
			return k;
	}
	*verdict = SPR_JWT_UNKNOWN_KEY;
	return NULL;
}

/* NumericDate (RFC 7519 §2) v into *t; false when it is not a number in range. */
static bool
numeric_date(json_t *v, int64_t *t)
{
	if (json_is_integer(v)) {
		*t = json_integer_value(v);
		return true;
	}
	if (json_is_real(v)) {
		double d = floor(json_real_value(v));

		if (!(d > -9.0e15 && d < 9.0e15))
			return false;
		*t = (int64_t)d;
		return true;
	}
	return false;
}

/* Optional time claim: 0 absent, 1 present in *t, -1 not a number. */
static int
time_claim(json_t *claims, const char *name, int64_t *t)
{
	json_t *v = json_object_get(claims, name);

	if (v == NULL)
		return 0;
	return numeric_date(v, t) ? 1 : -1;
}

static bool
str_is(json_t *v, const char *want)
{
	size_t wl = strlen(want);

	return json_is_string(v) && json_string_length(v) == wl &&
	       memcmp(json_string_value(v), want, wl) == 0;
}

/* Steps 13 and 14: iss and aud. */
static int
check_iss_aud(json_t *claims, const struct spr_auth_cfg *cfg)
{
	if (cfg->issuer != NULL && cfg->issuer[0] != '\0') {
		json_t *iss = json_object_get(claims, "iss");

		if (iss != NULL && !json_is_string(iss))
			return SPR_JWT_BAD_CLAIMS;
		if (!str_is(iss, cfg->issuer))
			return SPR_JWT_WRONG_ISSUER;
	}
	if (cfg->audience != NULL && cfg->audience[0] != '\0') {
		json_t *aud = json_object_get(claims, "aud"), *a;
		size_t i;

		if (json_is_array(aud)) {
			json_array_foreach(aud, i, a)
			{
				if (!json_is_string(a))
					return SPR_JWT_BAD_CLAIMS;
				if (str_is(a, cfg->audience))
					return SPR_JWT_OK;
			}
			return SPR_JWT_WRONG_AUDIENCE;
		}
		if (aud != NULL && !json_is_string(aud))
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
copy_user_scopes(json_t *claims, const struct spr_auth_cfg *cfg, struct spr_jwt_claims *out)
{
	json_t *u = json_object_get(claims, cfg->user_claim ? cfg->user_claim : "sub");
	json_t *sc = json_object_get(claims, "scope");
	const char *s;
	size_t n;

	if (u == NULL)
		return SPR_JWT_MISSING_USER;
	if (!json_is_string(u) || (n = json_string_length(u)) == 0 || n > SPR_JWT_USER_MAX)
		return SPR_JWT_BAD_CLAIMS;
	s = json_string_value(u);
	for (size_t i = 0; i < n; i++)
		if ((uint8_t)s[i] < 0x20 || s[i] == 0x7f)
			return SPR_JWT_BAD_CLAIMS;
	memcpy(out->user, s, n);
	out->user[n] = '\0';
	out->user_len = (uint8_t)n;

	out->scopes = 0;
	if (sc == NULL)
		return SPR_JWT_OK;
	if (!json_is_string(sc))
		return SPR_JWT_BAD_CLAIMS;
	s = json_string_value(sc);
	n = json_string_length(sc);
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
	     struct spr_jwt_claims *out)
{
	int64_t skew = cfg->clock_skew, exp, nbf = 0, iat = 0;
	json_t *claims = json_loadb((const char *)pl->p, pl->len, JSON_REJECT_DUPLICATES, NULL);
	int v, r, rn, ri;

	if (claims == NULL || !json_is_object(claims)) {
		v = SPR_JWT_BAD_CLAIMS;
		goto out;
	}
	if ((r = time_claim(claims, "exp", &exp)) <= 0) {
		v = r == 0 ? SPR_JWT_MISSING_EXP : SPR_JWT_BAD_CLAIMS;
		goto out;
	}
	/* RFC 7519 §4.1.4: now must be before exp; skew grants that much grace */
	if (exp <= now - skew) {
		v = SPR_JWT_EXPIRED;
		goto out;
	}
	/* §4.1.5 nbf: now at or after it; iat in the future means a bad clock or a forgery */
	rn = time_claim(claims, "nbf", &nbf);
	ri = time_claim(claims, "iat", &iat);
	if (rn < 0 || ri < 0) {
		v = SPR_JWT_BAD_CLAIMS;
		goto out;
	}
	if ((rn == 1 && nbf > now + skew) || (ri == 1 && iat > now + skew)) {
		v = SPR_JWT_NOT_YET_VALID;
		goto out;
	}
	if ((v = check_iss_aud(claims, cfg)) != SPR_JWT_OK)
		goto out;
	out->exp = exp;
	v = copy_user_scopes(claims, cfg, out);
out:
	json_decref(claims);
	return v;
}

/* Steps 4..9 on the decoded header and signature. */
static int
check_header_sig(const struct spr_jwt_keys *ks, const struct spr_auth_cfg *cfg,
		 const struct part *hd, const char *msg, uint32_t mlen, const struct part *sig)
{
	json_t *h = json_loadb((const char *)hd->p, hd->len, JSON_REJECT_DUPLICATES, NULL);
	json_t *alg, *kid;
	const struct spr_jwt_key *k;
	enum spr_jws_alg a;
	int v;

	if (h == NULL || !json_is_object(h) || !json_is_string(alg = json_object_get(h, "alg")) ||
	    ((kid = json_object_get(h, "kid")) != NULL && !json_is_string(kid)) ||
	    json_object_get(h, "crit") != NULL) {
		v = SPR_JWT_BAD_HEADER;
		goto out;
	}
	a = spr_jws_alg_from(json_string_value(alg), json_string_length(alg));
	if (a == SPR_JWS_ALG_UNSET || (a == SPR_JWS_HS256 && !cfg->allow_hmac)) {
		v = SPR_JWT_ALG_NOT_ALLOWED;
		goto out;
	}
	if (ks == NULL || ks->n == 0) {
		v = SPR_JWT_NO_KEYS;
		goto out;
	}
	if ((k = find_key(ks, kid, &v)) == NULL)
		goto out;
	if (!spr_jwk_alg_ok(k, a, cfg->allow_hmac)) {
		v = SPR_JWT_ALG_NOT_ALLOWED;
		goto out;
	}
	v = verify_sig(k, a, msg, mlen, sig) ? SPR_JWT_OK : SPR_JWT_BAD_SIGNATURE;
out:
	json_decref(h);
	return v;
}

int
spr_jwt_verify(const struct spr_jwt_keys *ks, const struct spr_auth_cfg *cfg, const char *tok,
	       uint32_t len, int64_t now, struct spr_jwt_claims *out)
{
	const char *d1, *d2;
	struct part hd, pl, sig;
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
	/* step 3: all three parts into one buffer */
	cap = spr_b64url_decoded_max(len) + 6;
	if ((buf = malloc(cap)) == NULL)
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
	/* steps 4..9: JWS signing input is the ASCII "header.payload" (RFC 7515 §5.2 step 8) */
	if ((v = check_header_sig(ks, cfg, &hd, tok, (uint32_t)(d2 - tok), &sig)) != SPR_JWT_OK)
		goto out;
	/* steps 10..16 */
	v = check_claims(&pl, cfg, now, out);
out:
	free(buf);
	return v;
}
