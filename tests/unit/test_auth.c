/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * auth/: JWK Set loading, JWT verification and the token cache.
 *
 * Keys (RSA 2048, EC P-256, EC P-384, an HMAC secret) are generated here
 * with OpenSSL, their public halves written as a JWK Set into a temporary
 * directory, and every token is minted here (EVP signatures; ECDSA turned
 * into JOSE raw R||S), so malformed and hostile tokens are as easy to make
 * as good ones. Each token is verified flush against a guard page and must
 * get exactly the expected verdict. The cache is checked single-threaded
 * (hit, miss, negative entries, TTLs, eviction, flush) and with two reader
 * threads racing the writer, every entry carrying a checksum of its key so
 * a torn read cannot go unnoticed.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jwt.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include "json_scan.h"
#include "jwks.h"
#include "jwt_mint.h"
#include "jwt_verify.h"
#include "testutil.h"
#include "token_cache.h"
#include "token_fp.h"

#define NOW INT64_C(1700000000)

static EVP_PKEY *rsa_key, *ec256_key, *ec384_key;
static uint8_t hmac_secret[32];
static char tmpdir[64];
static struct spr_jwt_keys *keys;      /* rsa1, ec1, ec384 (no oct) */
static struct spr_jwt_keys *keys_hmac; /* the same plus oct1, loaded with allow_hmac */
static struct spr_auth_cfg cfg;
static char why[512];
static struct spr_token_hasher *th; /* the test thread's, for the token cache */

/* ---- encoding and minting ---- */

static char *
b64url_str(const char *s)
{
	char *o = malloc(strlen(s) * 2 + 4);

	assert_non_null(o);
	spr_b64url_encode((const uint8_t *)s, strlen(s), o);
	return o;
}

/* Signature of alg over msg with key (pk, or the HMAC secret sec). */
static size_t
sign(const char *alg, EVP_PKEY *pk, const uint8_t *sec, size_t seclen, const char *msg,
     uint8_t *sig)
{
	const EVP_MD *md = strstr(alg, "384")	? EVP_sha384()
			   : strstr(alg, "512") ? EVP_sha512()
						: EVP_sha256();
	size_t n = 1024;

	if (alg[0] == 'H') {
		unsigned int l = 0;
		assert_non_null(
			HMAC(md, sec, (int)seclen, (const uint8_t *)msg, strlen(msg), sig, &l));
		return l;
	}
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	uint8_t der[1024];
	assert_non_null(c);
	assert_int_equal(EVP_DigestSignInit(c, NULL, md, NULL, pk), 1);
	assert_int_equal(
		EVP_DigestSign(c, alg[0] == 'E' ? der : sig, &n, (const uint8_t *)msg, strlen(msg)),
		1);
	EVP_MD_CTX_free(c);
	if (alg[0] == 'E') { /* DER -> JOSE R || S */
		const uint8_t *p = der;
		const BIGNUM *r, *s;
		int half = strstr(alg, "384") ? 48 : 32;
		ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)n);
		assert_non_null(es);
		ECDSA_SIG_get0(es, &r, &s);
		assert_int_equal(BN_bn2binpad(r, sig, half), half);
		assert_int_equal(BN_bn2binpad(s, sig + half, half), half);
		ECDSA_SIG_free(es);
		n = (size_t)(2 * half);
	}
	return n;
}

/* "b64(header).b64(payload).b64(sig)", malloc'd; alg NULL: no signature part content. */
static char *
mint_raw(const char *header, const char *payload, const char *alg, EVP_PKEY *pk, const uint8_t *sec,
	 size_t seclen)
{
	char *h = b64url_str(header), *p = b64url_str(payload);
	size_t cap = strlen(h) + strlen(p) + 2048;
	char *t = malloc(cap);
	uint8_t sig[1024];
	size_t n;

	assert_non_null(t);
	snprintf(t, cap, "%s.%s", h, p);
	free(h);
	free(p);
	if (alg == NULL) {
		strcat(t, ".");
		return t;
	}
	n = sign(alg, pk, sec, seclen, t, sig);
	strcat(t, ".");
	spr_b64url_encode(sig, n, t + strlen(t));
	return t;
}

static EVP_PKEY *
key_for(const char *alg)
{
	if (alg[0] == 'R')
		return rsa_key;
	return strstr(alg, "384") ? ec384_key : ec256_key;
}

/* A token of alg signed with the natural key of its kid; payload is the claims JSON. */
static char *
mint(const char *alg, const char *kid, const char *payload)
{
	char header[256];

	if (kid)
		snprintf(header, sizeof(header), "{\"alg\":\"%s\",\"typ\":\"JWT\",\"kid\":\"%s\"}",
			 alg, kid);
	else
		snprintf(header, sizeof(header), "{\"alg\":\"%s\",\"typ\":\"JWT\"}", alg);
	return mint_raw(header, payload, alg, alg[0] == 'H' ? NULL : key_for(alg), hmac_secret,
			sizeof(hmac_secret));
}

/* Claims with the usual iss/aud/sub/scope and exp = NOW + dexp. */
static char *
claims(int64_t dexp)
{
	char *c = malloc(512);

	assert_non_null(c);
	snprintf(c, 512,
		 "{\"iss\":\"https://"
		 "idp.example.com\",\"aud\":\"sprd\",\"sub\":\"alice@example.com\","
		 "\"exp\":%lld,\"iat\":%lld,\"scope\":\"openid sip:register sip:presence\"}",
		 (long long)(NOW + dexp), (long long)NOW - 10);
	return c;
}

/* Verify flush against a guard page, with the given key set and cfg. */
static int
verify_with(const struct spr_jwt_keys *ks, const struct spr_auth_cfg *c, const char *tok,
	    uint32_t len, int64_t now, struct spr_jwt_claims *out)
{
	char *g = spr_test_guard_copy(tok, len);
	int v;

	assert_non_null(g);
	v = spr_jwt_verify(ks, c, g, len, now, out);
	spr_test_guard_free(g, len);
	return v;
}

static int
verify(const char *tok, struct spr_jwt_claims *out)
{
	return verify_with(keys, &cfg, tok, (uint32_t)strlen(tok), NOW, out);
}

#define assert_verdict(got, want)                                                                  \
	do {                                                                                       \
		int g_ = (got), w_ = (want);                                                       \
		if (g_ != w_)                                                                      \
			fail_msg("verdict %s (%s), expected %s", spr_jwt_verdict_name(g_),         \
				 spr_jwt_verdict_description(g_), spr_jwt_verdict_name(w_));       \
	} while (0)

/* ---- JWK Set ---- */

static void
bn_b64(EVP_PKEY *pk, const char *param, int pad, char *out)
{
	BIGNUM *bn = NULL;
	uint8_t buf[1024];
	int n;

	assert_int_equal(EVP_PKEY_get_bn_param(pk, param, &bn), 1);
	n = pad ? BN_bn2binpad(bn, buf, pad) : BN_bn2bin(bn, buf);
	assert_true(n > 0);
	spr_b64url_encode(buf, (size_t)n, out);
	BN_free(bn);
}

static void
jwk_rsa(EVP_PKEY *pk, const char *kid, char *out, size_t cap)
{
	char n[400], e[16];

	bn_b64(pk, OSSL_PKEY_PARAM_RSA_N, 0, n);
	bn_b64(pk, OSSL_PKEY_PARAM_RSA_E, 0, e);
	snprintf(out, cap,
		 "{\"kty\":\"RSA\",\"kid\":\"%s\",\"use\":\"sig\",\"n\":\"%s\",\"e\":\"%s\"}", kid,
		 n, e);
}

static void
jwk_ec(EVP_PKEY *pk, const char *kid, const char *crv, char *out, size_t cap)
{
	char x[128], y[128];
	int f = strcmp(crv, "P-384") == 0 ? 48 : 32;

	bn_b64(pk, OSSL_PKEY_PARAM_EC_PUB_X, f, x);
	bn_b64(pk, OSSL_PKEY_PARAM_EC_PUB_Y, f, y);
	snprintf(out, cap,
		 "{\"kty\":\"EC\",\"kid\":\"%s\",\"crv\":\"%s\",\"x\":\"%s\",\"y\":\"%s\"}", kid,
		 crv, x, y);
}

static char *
write_tmp(const char *name, const char *text)
{
	static char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	assert_non_null(f = fopen(path, "w"));
	assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
	fclose(f);
	return path;
}

static char jwk_rsa1[1024], jwk_ec1[512], jwk_ec384[512], jwk_oct1[256];

static int
group_setup(void **state)
{
	char set[4096], hs[64];

	assert_non_null(mkdtemp(strcpy(tmpdir, "/tmp/spr-auth-XXXXXX")));
	rsa_key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	ec256_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	ec384_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	if (!rsa_key || !ec256_key || !ec384_key || (th = spr_token_hasher_new()) == NULL)
		return -1;
	for (size_t i = 0; i < sizeof(hmac_secret); i++)
		hmac_secret[i] = (uint8_t)(i * 7 + 3);
	jwk_rsa(rsa_key, "rsa1", jwk_rsa1, sizeof(jwk_rsa1));
	jwk_ec(ec256_key, "ec1", "P-256", jwk_ec1, sizeof(jwk_ec1));
	jwk_ec(ec384_key, "ec384", "P-384", jwk_ec384, sizeof(jwk_ec384));
	spr_b64url_encode(hmac_secret, sizeof(hmac_secret), hs);
	snprintf(jwk_oct1, sizeof(jwk_oct1), "{\"kty\":\"oct\",\"kid\":\"oct1\",\"k\":\"%s\"}", hs);

	snprintf(set, sizeof(set), "{\"keys\":[%s,%s,%s]}", jwk_rsa1, jwk_ec1, jwk_ec384);
	if (spr_jwks_load(write_tmp("jwks.json", set), false, &keys, why, sizeof(why)) != 0) {
		fprintf(stderr, "jwks: %s\n", why);
		return -1;
	}
	snprintf(set, sizeof(set), "{\"keys\":[%s,%s,%s,%s]}", jwk_rsa1, jwk_ec1, jwk_ec384,
		 jwk_oct1);
	if (spr_jwks_load(write_tmp("jwks-hmac.json", set), true, &keys_hmac, why, sizeof(why)) !=
	    0)
		return -1;
	return 0;
}

static int
group_teardown(void **state)
{
	char cmd[128];

	spr_jwks_free(keys);
	spr_jwks_free(keys_hmac);
	spr_token_hasher_free(th);
	EVP_PKEY_free(rsa_key);
	EVP_PKEY_free(ec256_key);
	EVP_PKEY_free(ec384_key);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static int
test_setup(void **state)
{
	spr_auth_cfg_default(&cfg);
	cfg.issuer = "https://idp.example.com";
	cfg.audience = "sprd";
	return 0;
}

/* ---- good tokens ---- */

static void
check_good(const char *alg, const char *kid)
{
	struct spr_jwt_claims cl;
	char *c = claims(600), *t = mint(alg, kid, c);

	assert_verdict(verify(t, &cl), SPR_JWT_OK);
	assert_string_equal(cl.user, "alice@example.com");
	assert_int_equal(cl.user_len, strlen("alice@example.com"));
	assert_int_equal(cl.exp, NOW + 600);
	assert_int_equal(cl.scopes, SPR_AUTH_SCOPE_REGISTER | SPR_AUTH_SCOPE_PRESENCE);
	free(c);
	free(t);
}

static void
valid_rs256(void **state)
{
	check_good("RS256", "rsa1");
}

static void
valid_rs512(void **state)
{
	check_good("RS512", "rsa1");
}

static void
valid_es256(void **state)
{
	check_good("ES256", "ec1");
}

static void
valid_es384(void **state)
{
	check_good("ES384", "ec384");
}

/* ---- algorithm confusion ---- */

static void
alg_none(void **state)
{
	struct spr_jwt_claims cl;
	char *c = claims(600);
	char *t1 = mint_raw("{\"alg\":\"none\"}", c, NULL, NULL, NULL, 0);
	char *t2 = mint_raw("{\"alg\":\"none\",\"kid\":\"rsa1\"}", c, NULL, NULL, NULL, 0);
	char *t3 = mint_raw("{\"alg\":\"None\",\"kid\":\"rsa1\"}", c, NULL, NULL, NULL, 0);

	assert_verdict(verify(t1, &cl), SPR_JWT_ALG_NOT_ALLOWED);
	assert_verdict(verify(t2, &cl), SPR_JWT_ALG_NOT_ALLOWED);
	assert_verdict(verify(t3, &cl), SPR_JWT_ALG_NOT_ALLOWED);
	cfg.allow_hmac = true;
	assert_verdict(verify_with(keys_hmac, &cfg, t2, (uint32_t)strlen(t2), NOW, &cl),
		       SPR_JWT_ALG_NOT_ALLOWED);
	free(c);
	free(t1);
	free(t2);
	free(t3);
}

/*
 * The classic confusion: HS256 keyed with the RSA public key's bytes (its
 * PEM, what a verifier that reads the key as "a secret" would use). Refused
 * by the alg gate without --allow-hmac and by the pinning with it. libjwt
 * 1.10's jwt_decode() accepts the same token: that is why the checks are ours.
 */
static void
hs256_with_rsa_public_key(void **state)
{
	struct spr_jwt_claims cl;
	BIO *b = BIO_new(BIO_s_mem());
	char *pem, *c = claims(600), *t;
	long plen;
	jwt_t *j = NULL;

	assert_non_null(b);
	assert_int_equal(PEM_write_bio_PUBKEY(b, rsa_key), 1);
	plen = BIO_get_mem_data(b, &pem);
	t = mint_raw("{\"alg\":\"HS256\",\"kid\":\"rsa1\"}", c, "HS256", NULL, (uint8_t *)pem,
		     (size_t)plen);
	assert_verdict(verify(t, &cl), SPR_JWT_ALG_NOT_ALLOWED);
	cfg.allow_hmac = true;
	assert_verdict(verify_with(keys_hmac, &cfg, t, (uint32_t)strlen(t), NOW, &cl),
		       SPR_JWT_ALG_NOT_ALLOWED);
	/* libjwt verifies the MAC with whatever key it is given, alg taken from the token */
	assert_int_equal(jwt_decode(&j, t, (const unsigned char *)pem, (int)plen), 0);
	jwt_free(j);
	BIO_free(b);
	free(c);
	free(t);
}

static void
hs256_allowed_or_not(void **state)
{
	struct spr_jwt_claims cl;
	char *c = claims(600), *t = mint("HS256", "oct1", c);
	uint32_t len = (uint32_t)strlen(t);

	cfg.allow_hmac = true;
	assert_verdict(verify_with(keys_hmac, &cfg, t, len, NOW, &cl), SPR_JWT_OK);
	assert_string_equal(cl.user, "alice@example.com");
	/* the same token and key set, HMAC switched off */
	cfg.allow_hmac = false;
	assert_verdict(verify_with(keys_hmac, &cfg, t, len, NOW, &cl), SPR_JWT_ALG_NOT_ALLOWED);
	/* HMAC with a wrong secret */
	cfg.allow_hmac = true;
	t[len - 3] = t[len - 3] == 'A' ? 'B' : 'A';
	assert_verdict(verify_with(keys_hmac, &cfg, t, len, NOW, &cl), SPR_JWT_BAD_SIGNATURE);
	free(c);
	free(t);
}

static void
alg_pinned_to_key(void **state)
{
	struct spr_jwt_claims cl;
	char *c = claims(600);
	/* RS256 signed with the RSA key, but kid names the EC key */
	char *t1 = mint_raw("{\"alg\":\"RS256\",\"kid\":\"ec1\"}", c, "RS256", rsa_key, NULL, 0);
	/* ES384 signed with the P-384 key, kid names the P-256 key */
	char *t2 = mint_raw("{\"alg\":\"ES384\",\"kid\":\"ec1\"}", c, "ES384", ec384_key, NULL, 0);
	/* ES256 with kid of the RSA key */
	char *t3 = mint_raw("{\"alg\":\"ES256\",\"kid\":\"rsa1\"}", c, "ES256", ec256_key, NULL, 0);
	/* algorithms we do not do */
	char *t4 = mint_raw("{\"alg\":\"PS256\",\"kid\":\"rsa1\"}", c, "RS256", rsa_key, NULL, 0);
	char *t5 = mint_raw("{\"alg\":\"HS512\",\"kid\":\"oct1\"}", c, "HS512", NULL, hmac_secret,
			    sizeof(hmac_secret));

	assert_verdict(verify(t1, &cl), SPR_JWT_ALG_NOT_ALLOWED);
	assert_verdict(verify(t2, &cl), SPR_JWT_ALG_NOT_ALLOWED);
	assert_verdict(verify(t3, &cl), SPR_JWT_ALG_NOT_ALLOWED);
	assert_verdict(verify(t4, &cl), SPR_JWT_ALG_NOT_ALLOWED);
	cfg.allow_hmac = true;
	assert_verdict(verify_with(keys_hmac, &cfg, t5, (uint32_t)strlen(t5), NOW, &cl),
		       SPR_JWT_ALG_NOT_ALLOWED);
	free(c);
	free(t1);
	free(t2);
	free(t3);
	free(t4);
	free(t5);
}

/* A key that states "alg" verifies that algorithm only. */
static void
key_alg_member_pins(void **state)
{
	struct spr_jwt_keys *ks;
	struct spr_jwt_claims cl;
	char set[2048], *c = claims(600), *t384 = mint("RS384", NULL, c),
			*t256 = mint("RS256", NULL, c);

	snprintf(set, sizeof(set), "{\"keys\":[%.*s\"alg\":\"RS256\",%s]}",
		 (int)(strchr(jwk_rsa1, ',') - jwk_rsa1 + 1), jwk_rsa1, strchr(jwk_rsa1, ',') + 1);
	assert_int_equal(spr_jwks_parse(set, strlen(set), false, &ks, why, sizeof(why)), 0);
	assert_verdict(verify_with(ks, &cfg, t256, (uint32_t)strlen(t256), NOW, &cl), SPR_JWT_OK);
	assert_verdict(verify_with(ks, &cfg, t384, (uint32_t)strlen(t384), NOW, &cl),
		       SPR_JWT_ALG_NOT_ALLOWED);
	spr_jwks_free(ks);
	free(c);
	free(t384);
	free(t256);
}

/* ---- time ---- */

static void
expired(void **state)
{
	struct spr_jwt_claims cl;
	char *c = claims(-3600), *t = mint("RS256", "rsa1", c);

	assert_verdict(verify(t, &cl), SPR_JWT_EXPIRED);
	free(c);
	free(t);
}

static void
exp_missing_or_string(void **state)
{
	struct spr_jwt_claims cl;
	char *t1 = mint("ES256", "ec1",
			"{\"iss\":\"https://idp.example.com\",\"aud\":\"sprd\",\"sub\":\"a\"}");
	char *t2 = mint("ES256", "ec1",
			"{\"iss\":\"https://idp.example.com\",\"aud\":\"sprd\",\"sub\":\"a\","
			"\"exp\":\"1700000600\"}");
	char *t3 = mint("ES256", "ec1",
			"{\"iss\":\"https://idp.example.com\",\"aud\":\"sprd\",\"sub\":\"a\","
			"\"exp\":1700000600.75}");

	assert_verdict(verify(t1, &cl), SPR_JWT_MISSING_EXP);
	assert_verdict(verify(t2, &cl), SPR_JWT_BAD_CLAIMS);
	assert_verdict(verify(t3, &cl), SPR_JWT_OK); /* NumericDate may be fractional */
	assert_int_equal(cl.exp, NOW + 600);
	free(t1);
	free(t2);
	free(t3);
}

static char *
mint_times(const char *extra, int64_t exp)
{
	char p[512];

	snprintf(p, sizeof(p),
		 "{\"iss\":\"https://"
		 "idp.example.com\",\"aud\":\"sprd\",\"sub\":\"a\",\"exp\":%lld%s}",
		 (long long)exp, extra);
	return mint("ES256", "ec1", p);
}

static void
nbf_iat_future(void **state)
{
	struct spr_jwt_claims cl;
	char extra[64];
	char *t;

	snprintf(extra, sizeof(extra), ",\"nbf\":%lld", (long long)(NOW + 3600));
	t = mint_times(extra, NOW + 7200);
	assert_verdict(verify(t, &cl), SPR_JWT_NOT_YET_VALID);
	free(t);
	snprintf(extra, sizeof(extra), ",\"iat\":%lld", (long long)(NOW + 3600));
	t = mint_times(extra, NOW + 7200);
	assert_verdict(verify(t, &cl), SPR_JWT_NOT_YET_VALID);
	free(t);
	t = mint_times(",\"nbf\":\"soon\"", NOW + 7200);
	assert_verdict(verify(t, &cl), SPR_JWT_BAD_CLAIMS);
	free(t);
}

static void
skew_boundaries(void **state)
{
	struct spr_jwt_claims cl;
	int64_t skew = cfg.clock_skew;
	char extra[64];
	char *t;

	assert_int_equal(skew, 30);
	t = mint_times("", NOW - skew + 1);
	assert_verdict(verify(t, &cl), SPR_JWT_OK);
	free(t);
	t = mint_times("", NOW - skew);
	assert_verdict(verify(t, &cl), SPR_JWT_EXPIRED);
	free(t);
	t = mint_times("", NOW - skew - 1);
	assert_verdict(verify(t, &cl), SPR_JWT_EXPIRED);
	free(t);
	snprintf(extra, sizeof(extra), ",\"nbf\":%lld", (long long)(NOW + skew));
	t = mint_times(extra, NOW + 600);
	assert_verdict(verify(t, &cl), SPR_JWT_OK);
	free(t);
	snprintf(extra, sizeof(extra), ",\"nbf\":%lld", (long long)(NOW + skew + 1));
	t = mint_times(extra, NOW + 600);
	assert_verdict(verify(t, &cl), SPR_JWT_NOT_YET_VALID);
	free(t);
	snprintf(extra, sizeof(extra), ",\"iat\":%lld", (long long)(NOW + skew));
	t = mint_times(extra, NOW + 600);
	assert_verdict(verify(t, &cl), SPR_JWT_OK);
	free(t);
	/* skew 0: exp = now is expired, exp = now + 1 is not */
	cfg.clock_skew = 0;
	t = mint_times("", NOW);
	assert_verdict(verify(t, &cl), SPR_JWT_EXPIRED);
	free(t);
	t = mint_times("", NOW + 1);
	assert_verdict(verify(t, &cl), SPR_JWT_OK);
	free(t);
}

/* ---- issuer, audience, user, scopes ---- */

static char *
mint_claims(const char *payload)
{
	char p[768];

	snprintf(p, sizeof(p), payload, (long long)(NOW + 600));
	return mint("RS256", "rsa1", p);
}

static void
issuer(void **state)
{
	struct spr_jwt_claims cl;
	char *t1 = mint_claims("{\"iss\":\"https://evil.example.com\",\"aud\":\"sprd\","
			       "\"sub\":\"a\",\"exp\":%lld}");
	char *t2 = mint_claims("{\"aud\":\"sprd\",\"sub\":\"a\",\"exp\":%lld}");
	char *t3 = mint_claims("{\"iss\":\"https://idp.example.com/\",\"aud\":\"sprd\","
			       "\"sub\":\"a\",\"exp\":%lld}");

	assert_verdict(verify(t1, &cl), SPR_JWT_WRONG_ISSUER);
	assert_verdict(verify(t2, &cl), SPR_JWT_WRONG_ISSUER);
	assert_verdict(verify(t3, &cl), SPR_JWT_WRONG_ISSUER);
	cfg.issuer = NULL; /* not configured: not checked */
	assert_verdict(verify(t1, &cl), SPR_JWT_OK);
	free(t1);
	free(t2);
	free(t3);
}

static void
audience(void **state)
{
	struct spr_jwt_claims cl;
	char *wrong = mint_claims("{\"iss\":\"https://idp.example.com\",\"aud\":\"other\","
				  "\"sub\":\"a\",\"exp\":%lld}");
	char *in_array = mint_claims("{\"iss\":\"https://idp.example.com\","
				     "\"aud\":[\"other\",\"sprd\"],\"sub\":\"a\",\"exp\":%lld}");
	char *not_in_array = mint_claims("{\"iss\":\"https://idp.example.com\","
					 "\"aud\":[\"other\",\"sprd2\",\"spr\"],\"sub\":\"a\","
					 "\"exp\":%lld}");
	char *missing = mint_claims("{\"iss\":\"https://idp.example.com\",\"sub\":\"a\","
				    "\"exp\":%lld}");
	char *number = mint_claims("{\"iss\":\"https://idp.example.com\",\"aud\":7,"
				   "\"sub\":\"a\",\"exp\":%lld}");

	assert_verdict(verify(wrong, &cl), SPR_JWT_WRONG_AUDIENCE);
	assert_verdict(verify(in_array, &cl), SPR_JWT_OK);
	assert_verdict(verify(not_in_array, &cl), SPR_JWT_WRONG_AUDIENCE);
	assert_verdict(verify(missing, &cl), SPR_JWT_WRONG_AUDIENCE);
	assert_verdict(verify(number, &cl), SPR_JWT_BAD_CLAIMS);
	free(wrong);
	free(in_array);
	free(not_in_array);
	free(missing);
	free(number);
}

static void
user_claim_and_scopes(void **state)
{
	struct spr_jwt_claims cl;
	char *t1 = mint_claims("{\"iss\":\"https://idp.example.com\",\"aud\":\"sprd\","
			       "\"sub\":\"4f1c-99\",\"preferred_username\":\"bob\",\"exp\":%lld,"
			       "\"scope\":\"sip:presence\"}");
	char *t2 = mint_claims("{\"iss\":\"https://idp.example.com\",\"aud\":\"sprd\","
			       "\"sub\":\"a\",\"exp\":%lld,\"scope\":\"sip:registerx xsip:presence "
			       " sip:register\"}");
	char *t3 = mint_claims("{\"iss\":\"https://idp.example.com\",\"aud\":\"sprd\","
			       "\"sub\":\"a\",\"exp\":%lld}");
	char *t4 = mint_claims("{\"iss\":\"https://idp.example.com\",\"aud\":\"sprd\","
			       "\"sub\":\"a\\nb\",\"exp\":%lld}");
	char *t5 = mint_claims("{\"iss\":\"https://idp.example.com\",\"aud\":\"sprd\","
			       "\"sub\":\"a\",\"exp\":%lld,\"scope\":[\"sip:register\"]}");

	assert_verdict(verify(t1, &cl), SPR_JWT_OK);
	assert_string_equal(cl.user, "4f1c-99");
	assert_int_equal(cl.scopes, SPR_AUTH_SCOPE_PRESENCE);
	cfg.user_claim = "preferred_username";
	assert_verdict(verify(t1, &cl), SPR_JWT_OK);
	assert_string_equal(cl.user, "bob");
	assert_int_equal(cl.user_len, 3);
	assert_verdict(verify(t2, &cl), SPR_JWT_MISSING_USER);
	cfg.user_claim = "sub";
	assert_verdict(verify(t2, &cl), SPR_JWT_OK);
	assert_int_equal(cl.scopes, SPR_AUTH_SCOPE_REGISTER);
	assert_verdict(verify(t3, &cl), SPR_JWT_OK);
	assert_int_equal(cl.scopes, 0); /* no scope: 403 insufficient_scope is the caller's */
	cfg.scope_register = "registrar";
	assert_verdict(verify(t2, &cl), SPR_JWT_OK);
	assert_int_equal(cl.scopes, 0);
	assert_verdict(verify(t4, &cl), SPR_JWT_BAD_CLAIMS); /* control character in the user */
	assert_verdict(verify(t5, &cl), SPR_JWT_BAD_CLAIMS);
	free(t1);
	free(t2);
	free(t3);
	free(t4);
	free(t5);
}

static void
user_too_long(void **state)
{
	struct spr_jwt_claims cl;
	char p[1024], u[300];
	char *t;

	memset(u, 'u', sizeof(u));
	u[255] = '\0';
	snprintf(p, sizeof(p),
		 "{\"iss\":\"https://"
		 "idp.example.com\",\"aud\":\"sprd\",\"sub\":\"%s\",\"exp\":%lld}",
		 u, (long long)(NOW + 60));
	t = mint("ES256", "ec1", p);
	assert_verdict(verify(t, &cl), SPR_JWT_OK);
	assert_int_equal(cl.user_len, 255);
	free(t);
	u[255] = 'u';
	u[256] = '\0';
	snprintf(p, sizeof(p),
		 "{\"iss\":\"https://"
		 "idp.example.com\",\"aud\":\"sprd\",\"sub\":\"%s\",\"exp\":%lld}",
		 u, (long long)(NOW + 60));
	t = mint("ES256", "ec1", p);
	assert_verdict(verify(t, &cl), SPR_JWT_BAD_CLAIMS);
	free(t);
}

/* ---- keys ---- */

static void
unknown_kid(void **state)
{
	struct spr_jwt_claims cl;
	char *c = claims(600), *t = mint("RS256", "rsa2", c);

	assert_verdict(verify(t, &cl), SPR_JWT_UNKNOWN_KEY);
	free(t);
	t = mint("RS256", "RSA1", c); /* kids are case-sensitive */
	assert_verdict(verify(t, &cl), SPR_JWT_UNKNOWN_KEY);
	free(t);
	free(c);
}

static void
no_kid(void **state)
{
	struct spr_jwt_keys *one;
	struct spr_jwt_claims cl;
	char set[2048], *c = claims(600), *t = mint("RS256", NULL, c);

	/* three keys, no kid: refused even though one of them would verify */
	assert_verdict(verify(t, &cl), SPR_JWT_KID_REQUIRED);
	snprintf(set, sizeof(set), "{\"keys\":[%s]}", jwk_rsa1);
	assert_int_equal(spr_jwks_parse(set, strlen(set), false, &one, why, sizeof(why)), 0);
	assert_int_equal(spr_jwks_count(one), 1);
	assert_verdict(verify_with(one, &cfg, t, (uint32_t)strlen(t), NOW, &cl), SPR_JWT_OK);
	spr_jwks_free(one);
	/* no keys at all */
	assert_verdict(verify_with(NULL, &cfg, t, (uint32_t)strlen(t), NOW, &cl), SPR_JWT_NO_KEYS);
	free(c);
	free(t);
}

static void
two_keys_no_kid(void **state)
{
	struct spr_jwt_keys *two;
	struct spr_jwt_claims cl;
	char set[4096], *c = claims(600), *t = mint("ES256", NULL, c);

	snprintf(set, sizeof(set), "{\"keys\":[%s,%s]}", jwk_ec1, jwk_rsa1);
	assert_int_equal(spr_jwks_parse(set, strlen(set), false, &two, why, sizeof(why)), 0);
	assert_verdict(verify_with(two, &cfg, t, (uint32_t)strlen(t), NOW, &cl),
		       SPR_JWT_KID_REQUIRED);
	spr_jwks_free(two);
	free(c);
	free(t);
}

/* ---- shape and encoding ---- */

static void
malformed_base64(void **state)
{
	struct spr_jwt_claims cl;
	char *c = claims(600), *t = mint("RS256", "rsa1", c);
	char *d1 = strchr(t, '.'), *d2 = strchr(d1 + 1, '.');
	size_t len = strlen(t);
	char *u = malloc(len + 8);

	assert_non_null(u);
	/* a byte outside the alphabet in the payload */
	strcpy(u, t);
	u[d1 - t + 5] = '*';
	assert_verdict(verify(u, &cl), SPR_JWT_BAD_BASE64);
	/* standard base64's '+' and '/' */
	strcpy(u, t);
	u[d1 - t + 5] = '+';
	assert_verdict(verify(u, &cl), SPR_JWT_BAD_BASE64);
	strcpy(u, t);
	u[2] = '/';
	assert_verdict(verify(u, &cl), SPR_JWT_BAD_BASE64);
	/* padding: "=" or "==" appended to the signature (342 chars, 2 mod 4) */
	strcpy(u, t);
	strcat(u, "==");
	assert_verdict(verify(u, &cl), SPR_JWT_BAD_BASE64);
	/* padding inside the header */
	snprintf(u, len + 8, "%.*s=%s", (int)(d1 - t), t, d1);
	assert_verdict(verify(u, &cl), SPR_JWT_BAD_BASE64);
	/* white space: inside a part, around a dot, at the end */
	snprintf(u, len + 8, "%.*s %s", (int)(d2 - t - 3), t, d2 - 3);
	assert_verdict(verify(u, &cl), SPR_JWT_BAD_BASE64);
	snprintf(u, len + 8, "%.*s\n%s", (int)(d1 - t + 1), t, d1 + 1);
	assert_verdict(verify(u, &cl), SPR_JWT_BAD_BASE64);
	snprintf(u, len + 8, "%s ", t);
	assert_verdict(verify(u, &cl), SPR_JWT_BAD_BASE64);
	/* non-canonical trailing bits: last signature char 2 mod 4 must have low 4 bits 0 */
	strcpy(u, t);
	assert_int_equal((len - (size_t)(d2 + 1 - t)) % 4, 2);
	u[len - 1] = u[len - 1] == 'A' ? 'B' : (char)(u[len - 1] + 1);
	assert_verdict(verify(u, &cl), SPR_JWT_BAD_BASE64);
	free(u);
	free(c);
	free(t);
}

static void
segments(void **state)
{
	struct spr_jwt_claims cl;
	char *c = claims(600), *t = mint("ES256", "ec1", c);
	size_t len = strlen(t);
	char *u = malloc(len + 16);

	assert_non_null(u);
	snprintf(u, len + 16, "%s.AAAA", t); /* four parts */
	assert_verdict(verify(u, &cl), SPR_JWT_MALFORMED);
	snprintf(u, len + 16, "%s.", t);
	assert_verdict(verify(u, &cl), SPR_JWT_MALFORMED);
	assert_verdict(verify("", &cl), SPR_JWT_MALFORMED);
	assert_verdict(verify("abc", &cl), SPR_JWT_MALFORMED);
	assert_verdict(verify("..", &cl), SPR_JWT_MALFORMED);
	assert_verdict(verify(".e30.", &cl), SPR_JWT_MALFORMED);
	snprintf(u, len + 16, "%.*s", (int)(strchr(t, '.') - t), t); /* header only */
	assert_verdict(verify(u, &cl), SPR_JWT_MALFORMED);
	free(u);
	free(c);
	free(t);
}

static void
bad_header(void **state)
{
	struct spr_jwt_claims cl;
	char *c = claims(600);
	static const char *const headers[] = {
		"not json",
		"[\"alg\",\"RS256\"]",
		"{\"typ\":\"JWT\",\"kid\":\"rsa1\"}",
		"{\"alg\":256,\"kid\":\"rsa1\"}",
		"{\"alg\":\"RS256\",\"kid\":7}",
		"{\"alg\":\"RS256\",\"kid\":\"rsa1\",\"crit\":[\"exp\"],\"exp\":1}",
		"{\"alg\":\"RS256\",\"alg\":\"none\",\"kid\":\"rsa1\"}",
	};

	for (size_t i = 0; i < sizeof(headers) / sizeof(headers[0]); i++) {
		char *t = mint_raw(headers[i], c, "RS256", rsa_key, NULL, 0);

		assert_verdict(verify(t, &cl), SPR_JWT_BAD_HEADER);
		free(t);
	}
	free(c);
}

static void
bad_payload(void **state)
{
	struct spr_jwt_claims cl;
	char *t1 = mint("RS256", "rsa1", "not json");
	char *t2 = mint("RS256", "rsa1", "[1,2]");
	char *t3 = mint("RS256", "rsa1", "{\"exp\":1,\"exp\":9999999999}");

	assert_verdict(verify(t1, &cl), SPR_JWT_BAD_CLAIMS);
	assert_verdict(verify(t2, &cl), SPR_JWT_BAD_CLAIMS);
	assert_verdict(verify(t3, &cl), SPR_JWT_BAD_CLAIMS);
	free(t1);
	free(t2);
	free(t3);
}

static void
signature_of_another_token(void **state)
{
	struct spr_jwt_claims cl;
	char *c1 = claims(600), *c2 = claims(601);
	const char *algs[][2] = {{"RS256", "rsa1"}, {"ES256", "ec1"}, {"ES384", "ec384"}};

	for (size_t i = 0; i < 3; i++) {
		char *a = mint(algs[i][0], algs[i][1], c1), *b = mint(algs[i][0], algs[i][1], c2);
		char u[4096];

		const char *sa = strrchr(a, '.'), *sb = strrchr(b, '.');

		assert_non_null(sa);
		assert_non_null(sb);
		snprintf(u, sizeof(u), "%.*s%s", (int)(sa - a), a, sb ? sb : "");
		assert_verdict(verify(u, &cl), SPR_JWT_BAD_SIGNATURE);
		/* a flipped payload byte (still canonical base64url) */
		strcpy(u, a);
		u[strchr(a, '.') - a + 4] = u[strchr(a, '.') - a + 4] == 'A' ? 'B' : 'A';
		assert_verdict(verify(u, &cl), SPR_JWT_BAD_SIGNATURE);
		free(a);
		free(b);
	}
	free(c1);
	free(c2);
}

/* ECDSA in DER (what OpenSSL emits) rather than JOSE R||S is refused. */
static void
ecdsa_der_signature(void **state)
{
	struct spr_jwt_claims cl;
	char *c = claims(600), *h = b64url_str("{\"alg\":\"ES256\",\"kid\":\"ec1\"}");
	char *p = b64url_str(c), t[2048];
	uint8_t der[128];
	size_t n = sizeof(der);
	EVP_MD_CTX *m = EVP_MD_CTX_new();

	snprintf(t, sizeof(t), "%s.%s", h, p);
	assert_int_equal(EVP_DigestSignInit(m, NULL, EVP_sha256(), NULL, ec256_key), 1);
	assert_int_equal(EVP_DigestSign(m, der, &n, (uint8_t *)t, strlen(t)), 1);
	strcat(t, ".");
	spr_b64url_encode(der, n, t + strlen(t));
	assert_verdict(verify(t, &cl), SPR_JWT_BAD_SIGNATURE);
	EVP_MD_CTX_free(m);
	free(c);
	free(h);
	free(p);
}

static void
oversized(void **state)
{
	struct spr_jwt_claims cl;
	char *c = claims(600), *t = mint("RS256", "rsa1", c);
	uint32_t len = (uint32_t)strlen(t);
	char *big = malloc(SPR_AUTH_DEF_MAX_TOKEN_BYTES + 2);

	/* exactly the cap passes the length check, one byte over does not */
	cfg.max_token_bytes = len;
	assert_verdict(verify(t, &cl), SPR_JWT_OK);
	cfg.max_token_bytes = len - 1;
	assert_verdict(verify(t, &cl), SPR_JWT_TOO_LARGE);
	/* garbage over the default cap: refused before anything is decoded */
	cfg.max_token_bytes = SPR_AUTH_DEF_MAX_TOKEN_BYTES;
	assert_non_null(big);
	memset(big, '*', SPR_AUTH_DEF_MAX_TOKEN_BYTES + 1);
	big[SPR_AUTH_DEF_MAX_TOKEN_BYTES + 1] = '\0';
	assert_verdict(verify(big, &cl), SPR_JWT_TOO_LARGE);
	big[SPR_AUTH_DEF_MAX_TOKEN_BYTES] = '\0';
	assert_verdict(verify(big, &cl), SPR_JWT_MALFORMED);
	free(big);
	free(c);
	free(t);
}

static void
truncated(void **state)
{
	struct spr_jwt_claims cl;
	char *c = claims(600), *t = mint("RS256", "rsa1", c), *e = mint("ES256", "ec1", c);
	uint32_t len = (uint32_t)strlen(t), elen = (uint32_t)strlen(e);
	uint32_t d2 = (uint32_t)(strrchr(t, '.') - t);

	/*
	 * 342 signature chars: one off leaves 1 mod 4 (not base64); two or six
	 * off (0 mod 4) a short signature.
	 */
	assert_verdict(verify_with(keys, &cfg, t, len - 1, NOW, &cl), SPR_JWT_BAD_BASE64);
	assert_verdict(verify_with(keys, &cfg, t, len - 2, NOW, &cl), SPR_JWT_BAD_SIGNATURE);
	assert_verdict(verify_with(keys, &cfg, t, len - 6, NOW, &cl), SPR_JWT_BAD_SIGNATURE);
	assert_verdict(verify_with(keys, &cfg, e, elen - 2, NOW, &cl), SPR_JWT_BAD_SIGNATURE);
	/* cut at the second dot: empty signature; before it: two parts */
	assert_verdict(verify_with(keys, &cfg, t, d2 + 1, NOW, &cl), SPR_JWT_BAD_SIGNATURE);
	assert_verdict(verify_with(keys, &cfg, t, d2, NOW, &cl), SPR_JWT_MALFORMED);
	/* cut in the middle of the payload */
	assert_verdict(verify_with(keys, &cfg, t, d2 - 20, NOW, &cl), SPR_JWT_MALFORMED);
	free(c);
	free(t);
	free(e);
}

static void
verdict_table(void **state)
{
	for (int v = 0; v < SPR_JWT__COUNT; v++) {
		const char *d = spr_jwt_verdict_description(v);

		assert_non_null(spr_jwt_verdict_name(v));
		/* RFC 6750 §3: error_description is %x20-21 / %x23-5B / %x5D-7E */
		for (const char *p = d; *p; p++)
			assert_true(*p >= 0x20 && *p <= 0x7e && *p != '"' && *p != '\\');
		if (v != SPR_JWT_OK)
			assert_true(spr_jwt_verdict_sip(v) >= 400 && d[0] != '\0');
	}
	assert_string_equal(spr_jwt_verdict_description(SPR_JWT_EXPIRED), "token expired");
	assert_string_equal(spr_jwt_verdict_error(SPR_JWT_BAD_SIGNATURE), "invalid_token");
	assert_int_equal(spr_jwt_verdict_sip(SPR_JWT_WRONG_AUDIENCE), 401);
	assert_string_equal(spr_jwt_verdict_name(-1), "internal");
	assert_string_equal(spr_jwt_verdict_name(SPR_JWT__COUNT), "internal");
}

/* ---- JWK Set errors ---- */

static void
jwks_expect(const char *json, bool allow_hmac, int rc, const char *why_has)
{
	struct spr_jwt_keys *ks = NULL;
	int got = spr_jwks_parse(json, strlen(json), allow_hmac, &ks, why, sizeof(why));

	if (got != rc || (why_has && strstr(why, why_has) == NULL))
		fail_msg("jwks rc %d (want %d), why \"%s\" (want \"%s\")", got, rc, why,
			 why_has ? why_has : "");
	spr_jwks_free(ks);
}

static void
jwks_errors(void **state)
{
	char set[8192], *p;
	char x[128];

	jwks_expect("{\"keys\":[", false, -EINVAL, "not JSON");
	jwks_expect("{\"key\":[]}", false, -EINVAL, "no \"keys\" array");
	jwks_expect("{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"r\",\"e\":\"AQAB\"}]}", false, -EINVAL,
		    "key 0 (kid \"r\"): missing \"n\"");
	/* a second key, P-521 */
	snprintf(set, sizeof(set),
		 "{\"keys\":[%s,{\"kty\":\"EC\",\"kid\":\"e5\",\"crv\":\"P-521\",\"x\":\"AA\","
		 "\"y\":\"AA\"}]}",
		 jwk_ec1);
	jwks_expect(set, false, -EINVAL, "key 1 (kid \"e5\"): unsupported curve \"P-521\"");
	/* the P-384 key's coordinates labelled P-256 */
	strcpy(set, jwk_ec384);
	p = strstr(set, "P-384");
	memcpy(p, "P-256", 5);
	snprintf(x, sizeof(x), "{\"keys\":[");
	memmove(set + strlen(x), set, strlen(set) + 1);
	memcpy(set, x, strlen(x));
	strcat(set, "]}");
	jwks_expect(set, false, -EINVAL, "x/y of 48/48 bytes");
	/* a point not on the curve: y + 1 */
	strcpy(set, "{\"keys\":[");
	strcat(set, jwk_ec1);
	strcat(set, "]}");
	p = strstr(set, "\"y\":\"") + 5;
	p[3] = p[3] == 'A' ? 'B' : 'A';
	jwks_expect(set, false, -EINVAL, "not on P-256");
	/* oct without --allow-hmac; short oct */
	snprintf(set, sizeof(set), "{\"keys\":[%s]}", jwk_oct1);
	jwks_expect(set, false, -EPERM, "key 0 (kid \"oct1\"): oct (HMAC) key needs --allow-hmac");
	jwks_expect(set, true, 0, NULL);
	jwks_expect("{\"keys\":[{\"kty\":\"oct\",\"k\":\"c2hvcnQ\"}]}", true, -EINVAL,
		    "key 0: oct key of 5 bytes");
	/* private material, unknown kty, bad alg, alg not fitting, duplicate kid */
	snprintf(set, sizeof(set), "{\"keys\":[%.*s,\"d\":\"AAAA\"}]}", (int)strlen(jwk_ec1) - 1,
		 jwk_ec1);
	jwks_expect(set, false, -EINVAL, "private key material (\"d\")");
	jwks_expect("{\"keys\":[{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"AA\"}]}", false,
		    -EINVAL, "unsupported \"kty\" \"OKP\"");
	snprintf(set, sizeof(set), "{\"keys\":[%.*s,\"alg\":\"none\"}]}", (int)strlen(jwk_ec1) - 1,
		 jwk_ec1);
	jwks_expect(set, false, -EINVAL, "unsupported \"alg\" \"none\"");
	snprintf(set, sizeof(set), "{\"keys\":[%.*s,\"alg\":\"RS256\"}]}", (int)strlen(jwk_ec1) - 1,
		 jwk_ec1);
	jwks_expect(set, false, -EINVAL, "\"alg\" RS256 does not fit a EC key");
	snprintf(set, sizeof(set), "{\"keys\":[%s,%s]}", jwk_ec1, jwk_ec1);
	jwks_expect(set, false, -EINVAL, "key 1 (kid \"ec1\"): duplicate kid");
	/* non-canonical base64url in n (padding) */
	snprintf(set, sizeof(set), "{\"keys\":[%s]}", jwk_rsa1);
	p = strstr(set, "\"e\":\"AQAB\"");
	assert_non_null(p);
	memmove(p + 10, p + 9, strlen(p + 9) + 1);
	memcpy(p, "\"e\":\"AQAB=\"", 11);
	jwks_expect(set, false, -EINVAL, "\"e\" is not strict base64url");
	/* an encryption key is skipped, not an error */
	snprintf(set, sizeof(set), "{\"keys\":[%s]}", jwk_rsa1);
	p = strstr(set, "\"sig\"");
	memcpy(p, "\"enc\"", 5);
	{
		struct spr_jwt_keys *ks;

		assert_int_equal(spr_jwks_parse(set, strlen(set), false, &ks, why, sizeof(why)), 0);
		assert_int_equal(spr_jwks_count(ks), 0);
		spr_jwks_free(ks);
	}
}

static void
jwks_small_rsa_and_caps(void **state)
{
	EVP_PKEY *small = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
	char jwk[2048], *set;
	size_t cap = SPR_JWKS_FILE_MAX + 64, o;

	assert_non_null(small);
	jwk_rsa(small, "small", jwk, sizeof(jwk));
	set = malloc(cap);
	assert_non_null(set);
	snprintf(set, cap, "{\"keys\":[%s]}", jwk);
	jwks_expect(set, false, -EINVAL, "RSA modulus of 1024 bits");
	EVP_PKEY_free(small);
	/* 65 keys */
	o = (size_t)snprintf(set, cap, "{\"keys\":[");
	for (int i = 0; i < 65; i++)
		o += (size_t)snprintf(set + o, cap - o, "%s{\"kty\":\"oct\",\"kid\":\"k%d\"}",
				      i ? "," : "", i);
	snprintf(set + o, cap - o, "]}");
	jwks_expect(set, true, -EINVAL, "65 keys (at most 64)");
	/* over 1 MiB, as a file and in memory */
	memset(set, ' ', SPR_JWKS_FILE_MAX + 1);
	set[SPR_JWKS_FILE_MAX + 1] = '\0';
	jwks_expect(set, false, -EFBIG, "at most");
	{
		struct spr_jwt_keys *ks = NULL;

		assert_int_equal(
			spr_jwks_load(write_tmp("big.json", set), false, &ks, why, sizeof(why)),
			-EFBIG);
		assert_int_equal(
			spr_jwks_load("/nonexistent/jwks.json", false, &ks, why, sizeof(why)),
			-ENOENT);
		assert_non_null(strstr(why, "/nonexistent/jwks.json"));
		assert_null(ks);
	}
	free(set);
}

static void
jwks_reload(void **state)
{
	struct spr_jwt_keys *ks = NULL;
	struct spr_jwt_claims cl;
	char set[2048], *c = claims(600), *trsa = mint("RS256", "rsa1", c);
	char *tec = mint("ES256", "ec1", c);
	const char *path;

	snprintf(set, sizeof(set), "{\"keys\":[%s]}", jwk_rsa1);
	path = write_tmp("reload.json", set);
	assert_int_equal(spr_jwks_reload(&ks, path, false, why, sizeof(why)), 0);
	assert_verdict(verify_with(ks, &cfg, trsa, (uint32_t)strlen(trsa), NOW, &cl), SPR_JWT_OK);
	/* a broken file leaves the set as it was */
	path = write_tmp("reload.json", "{\"keys\":[{\"kty\":\"EC\"}]}");
	assert_int_equal(spr_jwks_reload(&ks, path, false, why, sizeof(why)), -EINVAL);
	assert_verdict(verify_with(ks, &cfg, trsa, (uint32_t)strlen(trsa), NOW, &cl), SPR_JWT_OK);
	/* rotation: the RSA key leaves, the EC key comes */
	snprintf(set, sizeof(set), "{\"keys\":[%s]}", jwk_ec1);
	path = write_tmp("reload.json", set);
	assert_int_equal(spr_jwks_reload(&ks, path, false, why, sizeof(why)), 0);
	assert_verdict(verify_with(ks, &cfg, trsa, (uint32_t)strlen(trsa), NOW, &cl),
		       SPR_JWT_UNKNOWN_KEY);
	assert_verdict(verify_with(ks, &cfg, tec, (uint32_t)strlen(tec), NOW, &cl), SPR_JWT_OK);
	spr_jwks_free(ks);
	free(c);
	free(trsa);
	free(tec);
}

/* ---- libjwt as a minter (auth/jwt_mint.h): its ES256 tokens verify here ---- */

static void
libjwt_minted_es256(void **state)
{
	struct spr_jwt_minter *m = spr_jwt_minter_new("mint1");
	struct spr_jwt_keys *ks;
	struct spr_jwt_claims cl;
	char c[512], t[2048];
	int n;

	assert_non_null(m);
	assert_null(spr_jwt_minter_new("bad kid"));
	assert_int_equal(spr_jwks_parse(spr_jwt_minter_jwks(m), strlen(spr_jwt_minter_jwks(m)),
					false, &ks, why, sizeof(why)),
			 0);
	snprintf(c, sizeof(c),
		 "{\"iss\":\"https://idp.example.com\",\"aud\":[\"sprd\"],\"sub\":\"carol\","
		 "\"exp\":%lld,\"scope\":\"sip:register\"}",
		 (long long)(NOW + 60));
	n = spr_jwt_mint(m, c, t, sizeof(t));
	assert_true(n > 0);
	assert_verdict(verify_with(ks, &cfg, t, (uint32_t)n, NOW, &cl), SPR_JWT_OK);
	assert_string_equal(cl.user, "carol");
	assert_int_equal(cl.scopes, SPR_AUTH_SCOPE_REGISTER);
	/* a different key set (same kid, another key): bad signature */
	{
		struct spr_jwt_minter *m2 = spr_jwt_minter_new("mint1");
		struct spr_jwt_keys *ks2;

		assert_non_null(m2);
		assert_int_equal(spr_jwks_parse(spr_jwt_minter_jwks(m2),
						strlen(spr_jwt_minter_jwks(m2)), false, &ks2, why,
						sizeof(why)),
				 0);
		assert_verdict(verify_with(ks2, &cfg, t, (uint32_t)n, NOW, &cl),
			       SPR_JWT_BAD_SIGNATURE);
		spr_jwks_free(ks2);
		spr_jwt_minter_free(m2);
	}
	assert_int_equal(spr_jwt_mint(m, c, t, 16), -ENOSPC);
	assert_int_equal(spr_jwt_mint(m, "not json", t, sizeof(t)), -EINVAL);
	spr_jwks_free(ks);
	spr_jwt_minter_free(m);
}

/* ---- the claims reader on hostile JSON (auth/json_scan.h) ---- */

/* Verdict of an ES256 token (kid ec1) whose payload is the printf of fmt with exp = NOW + 600. */
static int
verify_payload(const char *fmt, struct spr_jwt_claims *cl)
{
	char p[16384];
	char *t;
	int v;

	snprintf(p, sizeof(p), fmt, (long long)(NOW + 600));
	t = mint("ES256", "ec1", p);
	v = verify(t, cl);
	free(t);
	return v;
}

#define GOOD_HEAD "{\"iss\":\"https://idp.example.com\",\"aud\":\"sprd\",\"exp\":%lld,"
/* the same, for a payload built with snprintf first */
#define GOOD_HEAD_P "{\"iss\":\"https://idp.example.com\",\"aud\":\"sprd\",\"exp\":%%lld,"

static void
claims_duplicates_and_escapes(void **state)
{
	struct spr_jwt_claims cl;

	/* a duplicate anywhere, also one spelt with an escape */
	assert_verdict(verify_payload(GOOD_HEAD "\"sub\":\"a\",\"x\":{\"k\":1,\"k\":2}}", &cl),
		       SPR_JWT_BAD_CLAIMS);
	assert_verdict(verify_payload(GOOD_HEAD "\"sub\":\"a\",\"s\\u0075b\":\"b\"}", &cl),
		       SPR_JWT_BAD_CLAIMS);
	assert_verdict(verify_payload(GOOD_HEAD "\"sub\":\"a\",\"x\":[{\"k\":1},{\"k\":1}]}", &cl),
		       SPR_JWT_OK); /* equal names in two objects are fine */
	/* escapes decoded: user, aud element, a surrogate pair */
	assert_verdict(verify_payload("{\"iss\":\"https:\\/\\/idp.example.com\",\"aud\":[\"x\","
				      "\"sp\\u0072d\"],\"exp\":%lld,\"sub\":\"al\\u0069ce\"}",
				      &cl),
		       SPR_JWT_OK);
	assert_string_equal(cl.user, "alice");
	assert_verdict(verify_payload(GOOD_HEAD "\"sub\":\"\\ud83d\\ude00\\u00e9\"}", &cl),
		       SPR_JWT_OK);
	assert_int_equal(cl.user_len, 6);
	assert_memory_equal(cl.user, "\xf0\x9f\x98\x80\xc3\xa9", 6);
	/* what jansson refused is refused */
	static const char *const bad[] = {
		GOOD_HEAD "\"sub\":\"a\\u0000b\"}",	     /* NUL */
		GOOD_HEAD "\"sub\":\"\\ud800\"}",	     /* lone high surrogate */
		GOOD_HEAD "\"sub\":\"\\ud800\\u0041\"}",    /* high then not low */
		GOOD_HEAD "\"sub\":\"\\udc00\"}",	     /* lone low surrogate */
		GOOD_HEAD "\"sub\":\"\\x41\"}",	     /* unknown escape */
		GOOD_HEAD "\"sub\":\"\\u12G4\"}",	     /* bad hex */
		GOOD_HEAD "\"sub\":\"a\tb\"}",		     /* raw control character */
		GOOD_HEAD "\"sub\":\"\xff\"}",		     /* not UTF-8 */
		GOOD_HEAD "\"sub\":\"\xc0\xaf\"}",	     /* overlong */
		GOOD_HEAD "\"sub\":\"\xed\xa0\x80\"}",	     /* UTF-8 surrogate */
		GOOD_HEAD "\"sub\":\"\xf4\x90\x80\x80\"}",  /* above U+10FFFF */
		GOOD_HEAD "\"sub\":\"\xe2\x82\"}",	     /* cut sequence */
		GOOD_HEAD "\"sub\":\"a\"} x",		     /* trailing garbage */
		GOOD_HEAD "\"sub\":\"a\",}",		     /* trailing comma */
		GOOD_HEAD "\"sub\":\"a\"",		     /* unterminated */
		GOOD_HEAD "\"sub\":\"a\",\"x\":[1,]}",	     /* trailing comma in an array */
		GOOD_HEAD "\"sub\":\"a\",\"x\":tru}",	     /* bad literal */
		GOOD_HEAD "\"sub\":\"a\",\"x\":'a'}",	     /* not a JSON string */
		GOOD_HEAD "\"sub\":\"a\",x:1}",		     /* unquoted name */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int v = verify_payload(bad[i], &cl);

		if (v != SPR_JWT_BAD_CLAIMS)
			fail_msg("payload %zu: %s", i, spr_jwt_verdict_name(v));
	}
	/* an escaped control character reaches the user check: refused there */
	assert_verdict(verify_payload(GOOD_HEAD "\"sub\":\"a\\tb\"}", &cl), SPR_JWT_BAD_CLAIMS);
	/* white space around everything is fine */
	assert_verdict(verify_payload(" \r\n\t{ \"iss\" : \"https://idp.example.com\" , \"aud\" :"
				      " [ \"sprd\" ] , \"exp\" : %lld , \"sub\" : \"a\" } \n",
				      &cl),
		       SPR_JWT_OK);
}

static void
claims_numbers(void **state)
{
	struct spr_jwt_claims cl;
	char p[512];

	/* exp at the int64 edge is a number (and far away) */
	assert_verdict(verify_payload("{\"iss\":\"https://idp.example.com\",\"aud\":\"sprd\","
				      "\"exp\":9223372036854775807,\"sub\":\"a\",\"n\":%lld}",
				      &cl),
		       SPR_JWT_OK);
	assert_verdict(verify_payload(GOOD_HEAD "\"sub\":\"a\",\"n\":-9223372036854775808}", &cl),
		       SPR_JWT_OK);
	assert_verdict(verify_payload(GOOD_HEAD "\"sub\":\"a\",\"n\":1e-400}", &cl),
		       SPR_JWT_OK); /* underflow: a number */
	assert_verdict(verify_payload(GOOD_HEAD "\"sub\":\"a\",\"n\":-0.5E+3}", &cl), SPR_JWT_OK);
	/* anywhere in the claims, what does not fit int64 or double is refused */
	static const char *const bad[] = {
		GOOD_HEAD "\"sub\":\"a\",\"n\":9223372036854775808}",
		GOOD_HEAD "\"sub\":\"a\",\"n\":-9223372036854775809}",
		GOOD_HEAD "\"sub\":\"a\",\"n\":1e400}",
		GOOD_HEAD "\"sub\":\"a\",\"n\":[-1e999]}",
		GOOD_HEAD "\"sub\":\"a\",\"n\":012}",
		GOOD_HEAD "\"sub\":\"a\",\"n\":+1}",
		GOOD_HEAD "\"sub\":\"a\",\"n\":1.}",
		GOOD_HEAD "\"sub\":\"a\",\"n\":.5}",
		GOOD_HEAD "\"sub\":\"a\",\"n\":1e}",
		GOOD_HEAD "\"sub\":\"a\",\"n\":-}",
		GOOD_HEAD "\"sub\":\"a\",\"n\":NaN}",
		GOOD_HEAD "\"sub\":\"a\",\"n\":0x10}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int v = verify_payload(bad[i], &cl);

		if (v != SPR_JWT_BAD_CLAIMS)
			fail_msg("payload %zu: %s", i, spr_jwt_verdict_name(v));
	}
	/* exp: an int64 or a real in +-9e15 (floored); anything else is malformed */
	assert_verdict(verify_payload("{\"iss\":\"https://idp.example.com\",\"aud\":\"sprd\","
				      "\"exp\":1e16,\"sub\":\"a\",\"n\":%lld}",
				      &cl),
		       SPR_JWT_BAD_CLAIMS);
	snprintf(p, sizeof(p),
		 "{\"iss\":\"https://idp.example.com\",\"aud\":\"sprd\",\"exp\":%lld.99e0,"
		 "\"sub\":\"a\"}",
		 (long long)(NOW + 600));
	assert_verdict(verify_payload(p, &cl), SPR_JWT_OK);
	assert_int_equal(cl.exp, NOW + 600);
	assert_verdict(verify_payload("{\"iss\":\"https://idp.example.com\",\"aud\":\"sprd\","
				      "\"exp\":null,\"sub\":\"a\",\"n\":%lld}",
				      &cl),
		       SPR_JWT_BAD_CLAIMS);
	assert_verdict(verify_payload("{\"iss\":\"https://idp.example.com\",\"aud\":\"sprd\","
				      "\"exp\":true,\"sub\":\"a\",\"n\":%lld}",
				      &cl),
		       SPR_JWT_BAD_CLAIMS);
	/* a number longer than SPR_JSON_NUMBER_MAX characters is refused (jansson took it) */
	snprintf(p, sizeof(p), GOOD_HEAD_P "\"sub\":\"a\",\"n\":0.%0*d1}", (int)SPR_JSON_NUMBER_MAX,
		 0);
	assert_verdict(verify_payload(p, &cl), SPR_JWT_BAD_CLAIMS);
}

static void
claims_types_and_limits(void **state)
{
	struct spr_jwt_claims cl;
	char p[16384];
	int n;

	/* the user claim must be a string */
	assert_verdict(verify_payload(GOOD_HEAD "\"sub\":42}", &cl), SPR_JWT_BAD_CLAIMS);
	assert_verdict(verify_payload(GOOD_HEAD "\"sub\":null}", &cl), SPR_JWT_BAD_CLAIMS);
	assert_verdict(verify_payload(GOOD_HEAD "\"sub\":[\"a\"]}", &cl), SPR_JWT_BAD_CLAIMS);
	assert_verdict(verify_payload(GOOD_HEAD "\"sub\":{\"a\":1}}", &cl), SPR_JWT_BAD_CLAIMS);
	assert_verdict(verify_payload(GOOD_HEAD "\"sub\":\"\"}", &cl), SPR_JWT_BAD_CLAIMS);
	/* iss, aud and scope of the wrong type */
	assert_verdict(verify_payload("{\"iss\":1,\"aud\":\"sprd\",\"exp\":%lld,\"sub\":\"a\"}", &cl),
		       SPR_JWT_BAD_CLAIMS);
	assert_verdict(verify_payload("{\"iss\":\"https://idp.example.com\",\"aud\":[\"sprd\",1],"
				      "\"exp\":%lld,\"sub\":\"a\"}",
				      &cl),
		       SPR_JWT_OK); /* found before the bad element, as before */
	assert_verdict(verify_payload("{\"iss\":\"https://idp.example.com\",\"aud\":[1,\"sprd\"],"
				      "\"exp\":%lld,\"sub\":\"a\"}",
				      &cl),
		       SPR_JWT_BAD_CLAIMS);
	assert_verdict(verify_payload(GOOD_HEAD "\"sub\":\"a\",\"scope\":true}", &cl),
		       SPR_JWT_BAD_CLAIMS);
	/* nesting: 16 levels (the claims object is the first) pass, 17 do not, 5000 neither */
	n = snprintf(p, sizeof(p), GOOD_HEAD_P "\"sub\":\"a\",\"x\":");
	for (int i = 0; i < 15; i++)
		p[n++] = i % 2 ? '[' : '{', n += i % 2 ? 0 : sprintf(p + n, "\"k\":");
	p[n++] = '1';
	for (int i = 14; i >= 0; i--)
		p[n++] = i % 2 ? ']' : '}';
	p[n++] = '}';
	p[n] = '\0';
	assert_verdict(verify_payload(p, &cl), SPR_JWT_OK);
	n = snprintf(p, sizeof(p), GOOD_HEAD_P "\"sub\":\"a\",\"x\":");
	for (int i = 0; i < 16; i++)
		p[n++] = '[';
	for (int i = 0; i < 16; i++)
		p[n++] = ']';
	p[n++] = '}';
	p[n] = '\0';
	assert_verdict(verify_payload(p, &cl), SPR_JWT_BAD_CLAIMS);
	n = snprintf(p, sizeof(p), GOOD_HEAD_P "\"sub\":\"a\",\"x\":");
	for (int i = 0; i < 5000; i++)
		p[n++] = '[';
	p[n++] = '}';
	p[n] = '\0';
	assert_verdict(verify_payload(p, &cl), SPR_JWT_BAD_CLAIMS);
	/* members per object: SPR_JSON_MEMBERS_MAX pass, one more does not */
	for (int extra = 0; extra < 2; extra++) {
		n = snprintf(p, sizeof(p), GOOD_HEAD_P "\"sub\":\"a\"");
		for (uint32_t i = 4; i < SPR_JSON_MEMBERS_MAX + (uint32_t)extra; i++)
			n += snprintf(p + n, sizeof(p) - (size_t)n, ",\"m%u\":%u", i, i);
		snprintf(p + n, sizeof(p) - (size_t)n, "}");
		assert_verdict(verify_payload(p, &cl), extra ? SPR_JWT_BAD_CLAIMS : SPR_JWT_OK);
	}
}

/* Headers go through the same reader: escapes are decoded, duplicates refused. */
static void
header_escapes(void **state)
{
	struct spr_jwt_claims cl;
	char *c = claims(600);
	char *t1 = mint_raw("{\"alg\":\"E\\u0053256\",\"kid\":\"e\\u00631\"}", c, "ES256", ec256_key,
			    NULL, 0);
	char *t2 = mint_raw("{\"alg\":\"ES256\",\"kid\":\"ec1\",\"k\\u0069d\":\"ec1\"}", c, "ES256",
			    ec256_key, NULL, 0);
	char *t3 = mint_raw("{\"alg\":\"ES256\",\"kid\":\"ec1\",\"cr\\u0069t\":[]}", c, "ES256",
			    ec256_key, NULL, 0);

	assert_verdict(verify(t1, &cl), SPR_JWT_OK);
	assert_verdict(verify(t2, &cl), SPR_JWT_BAD_HEADER);
	assert_verdict(verify(t3, &cl), SPR_JWT_BAD_HEADER);
	free(c);
	free(t1);
	free(t2);
	free(t3);
}

/* The reader alone: shapes the verify tests cannot reach. */
static void
json_scan_direct(void **state)
{
	static const char *const names[] = {"a", "b", "a"};
	struct spr_json_val v[3];
	uint8_t scratch[256];
	struct spr_json_scratch sc = {scratch, sizeof(scratch), 0};
	static const char *const bad[] = {"", " ", "[]", "\"a\"", "1", "{", "{\"a\"}", "{\"a\":}",
					  "{}{}", "{\"a\":1 \"b\":2}", "{\"a\":\"\\"};
	const char *ok = "{\"b\":[true,false,null,{},[]],\"a\":\"x\\\"y\"}";
	uint32_t pos = 0, k = 0;
	struct spr_json_val e;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (spr_json_object_scan((const uint8_t *)bad[i], (uint32_t)strlen(bad[i]), names,
					 3, v, &sc) != -EBADMSG)
			fail_msg("\"%s\" accepted", bad[i]);
	assert_int_equal(spr_json_object_scan((const uint8_t *)"{}", 2, names, 3, v, &sc), 0);
	assert_int_equal(v[0].type, SPR_JSON_ABSENT);
	assert_int_equal(spr_json_object_scan((const uint8_t *)ok, (uint32_t)strlen(ok), names, 3,
					      v, &sc),
			 0);
	/* a name asked for twice fills both slots */
	assert_int_equal(v[0].type, SPR_JSON_STRING);
	assert_int_equal(v[2].type, SPR_JSON_STRING);
	assert_int_equal(v[0].slen, 3);
	assert_memory_equal(v[0].s, "x\"y", 3);
	assert_int_equal(v[1].type, SPR_JSON_ARRAY);
	while (spr_json_array_next(&v[1], &pos, &e, &sc) == 1) {
		static const uint8_t want[] = {SPR_JSON_TRUE, SPR_JSON_FALSE, SPR_JSON_NULL,
					       SPR_JSON_OBJECT, SPR_JSON_ARRAY};
		assert_true(k < 5);
		assert_int_equal(e.type, want[k]);
		k++;
	}
	assert_int_equal(k, 5);
	/* too many names for one scan */
	assert_int_equal(spr_json_object_scan((const uint8_t *)"{}", 2, names,
					      SPR_JSON_NAMES_MAX + 1, v, &sc),
			 -EINVAL);
}

/* ---- token cache ---- */

/* A token-like string for i, of a length that varies with i; buf of at least 64 bytes. */
static const char *
tok_of(uint32_t i, char *buf)
{
	int n = snprintf(buf, 64, "eyJ.%u.", i);

	for (uint32_t j = 0; j < i % 23; j++)
		buf[n++] = (char)('A' + (i + j) % 26);
	buf[n] = '\0';
	return buf;
}

static void
good_claims(struct spr_jwt_claims *cl, const char *user, int64_t exp, uint32_t scopes)
{
	memset(cl, 0, sizeof(*cl));
	cl->exp = exp;
	cl->scopes = scopes;
	cl->user_len = (uint8_t)strlen(user);
	strcpy(cl->user, user);
}

static int
put(struct spr_token_cache *c, const char *tok, int verdict, const struct spr_jwt_claims *cl,
    int64_t now)
{
	return spr_token_cache_put(c, th, tok, (uint32_t)strlen(tok), verdict, cl, now);
}

static int
get(const struct spr_token_cache *c, const char *tok, int64_t now, struct spr_token_hit *hit)
{
	return spr_token_cache_get(c, th, tok, (uint32_t)strlen(tok), now, hit);
}

static unsigned retired;

static void
count_retire(struct spr_token_ext *t)
{
	retired++;
	spr_token_ext_free(t);
}

/* What the cache holds for one long user: the ext and the user padded to 64 bytes. */
static uint64_t
ext_bytes_of(uint32_t user_len)
{
	return sizeof(struct spr_token_ext) + (user_len + 1 < 64 ? 64 : user_len + 1);
}

/*
 * Hit, miss, replace; a user of more than SPR_TOKEN_USER_INLINE octets
 * lives in an ext (counted in ext_bytes, retired when its entry stops
 * pointing to it), a shorter one in the entry; SHA-256 keys (the
 * fingerprint without AES-NI/PCLMULQDQ) need the hasher.
 */
static void
cache_hit_miss_and_key(void **state)
{
	struct spr_token_cache *c = spr_token_cache_new(1024, 10, 3600, count_retire);
	struct spr_token_key k1;
	struct spr_token_hit hit;
	struct spr_jwt_claims cl;
	struct spr_token_cache_stats st;
	struct spr_token_fp fp;
	char u200[201];
	static const uint8_t abc[32] = {0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea,
					0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
					0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c,
					0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad};

	retired = 0;
	assert_non_null(c);
	assert_int_equal(spr_token_cache_capacity(c), 1024);
	assert_int_equal(spr_token_key(th, "abc", 3, &k1), 0);
	assert_memory_equal(k1.b, abc, 32); /* SHA-256("abc"), FIPS 180-2 */
	assert_int_equal(get(c, "abc", NOW, &hit), -ENOENT);
	good_claims(&cl, "alice@example.com", NOW + 600, SPR_AUTH_SCOPE_REGISTER);
	assert_int_equal(put(c, "abc", SPR_JWT_OK, &cl, NOW), 0);
	assert_int_equal(get(c, "abc", NOW, &hit), 0);
	assert_int_equal(hit.verdict, SPR_JWT_OK);
	assert_string_equal(hit.claims.user, "alice@example.com");
	assert_int_equal(hit.claims.user_len, 17);
	assert_int_equal(hit.claims.scopes, SPR_AUTH_SCOPE_REGISTER);
	assert_int_equal(hit.claims.exp, NOW + 600);
	assert_int_equal(hit.expires, NOW + 600);
	spr_token_cache_stats(c, &st);
	assert_int_equal(st.ext_bytes, ext_bytes_of(17)); /* 17 octets: an ext */
	/* only exactly these bytes hit */
	assert_int_equal(get(c, "abd", NOW, &hit), -ENOENT);
	assert_int_equal(get(c, "ab", NOW, &hit), -ENOENT);
	assert_int_equal(get(c, "abcd", NOW, &hit), -ENOENT);
	assert_int_equal(spr_token_cache_get(c, th, "abcd", 3, NOW, &hit), 0);
	/* written again: replaced, not duplicated; "bob" fits in the entry, alice's ext retired */
	good_claims(&cl, "bob", NOW + 700, SPR_AUTH_SCOPE_PRESENCE);
	assert_int_equal(put(c, "abc", SPR_JWT_OK, &cl, NOW), 0);
	assert_int_equal(get(c, "abc", NOW, &hit), 0);
	assert_string_equal(hit.claims.user, "bob");
	assert_int_equal(hit.claims.user_len, 3);
	assert_int_equal(hit.claims.scopes, SPR_AUTH_SCOPE_PRESENCE);
	spr_token_cache_stats(c, &st);
	assert_int_equal(st.inserts, 2);
	assert_int_equal(st.replaced, 1);
	assert_int_equal(st.ext_bytes, 0);
	assert_int_equal(retired, 1);
	/* an inline user replaced retires nothing; a 200-octet one takes an ext again */
	memset(u200, 'z', 200);
	u200[200] = '\0';
	good_claims(&cl, u200, NOW + 700, SPR_AUTH_SCOPE_PRESENCE);
	assert_int_equal(put(c, "abc", SPR_JWT_OK, &cl, NOW), 0);
	assert_int_equal(retired, 1);
	spr_token_cache_stats(c, &st);
	assert_int_equal(st.ext_bytes, ext_bytes_of(200));
	assert_int_equal(get(c, "abc", NOW, &hit), 0);
	assert_string_equal(hit.claims.user, u200);
	/* the same token's verdict turning bad drops its ext */
	assert_int_equal(put(c, "abc", SPR_JWT_EXPIRED, NULL, NOW), 0);
	assert_int_equal(get(c, "abc", NOW, &hit), 0);
	assert_int_equal(hit.verdict, SPR_JWT_EXPIRED);
	assert_int_equal(hit.claims.user_len, 0);
	spr_token_cache_stats(c, &st);
	assert_int_equal(st.ext_bytes, 0);
	assert_int_equal(retired, 2);
	spr_token_cache_free(c);
	assert_int_equal(retired, 2);
	assert_null(spr_token_cache_new(0, 0, 0, NULL));

	/* keyed by SHA-256: the fingerprint is its first 16 bytes, and needs a hasher */
	c = spr_token_cache_new(64, 10, 3600, NULL);
	assert_non_null(c);
	assert_int_equal(spr_token_cache_set_fp_impl(c, SPR_FP_NONE), 0);
	assert_int_equal(spr_token_fp_of(c, th, "abc", 3, &fp), 0);
	assert_memory_equal(&fp, abc, sizeof(fp));
	assert_int_equal(spr_token_fp_of(c, NULL, "abc", 3, &fp), -EIO);
	assert_int_equal(spr_token_fp_prefetch(c, NULL, "abc", 3, &fp), -EIO);
	good_claims(&cl, "alice", NOW + 600, SPR_AUTH_SCOPE_REGISTER);
	assert_int_equal(spr_token_cache_put(c, NULL, "abc", 3, SPR_JWT_OK, &cl, NOW), -EIO);
	assert_int_equal(put(c, "abc", SPR_JWT_OK, &cl, NOW), 0);
	assert_int_equal(spr_token_cache_get(c, NULL, "abc", 3, NOW, &hit), -EIO);
	assert_int_equal(get(c, "abc", NOW, &hit), 0);
	assert_string_equal(hit.claims.user, "alice");
	/* no implementation past the last one, none before SHA-256 */
	assert_int_equal(spr_token_cache_set_fp_impl(c, SPR_FP_VPCLMUL + 1), -ENOTSUP);
	assert_int_equal(spr_token_cache_set_fp_impl(c, -1), -ENOTSUP);
	spr_token_cache_free(c);
}

/* ---- one set: only the fingerprint tells entries apart ---- */

struct tokref {
	const char *p;
	uint32_t len;
};

/* Token i's verdict: every fourth one bad. */
static int
nth_verdict(uint32_t i)
{
	return i % 4 == 2 ? SPR_JWT_BAD_SIGNATURE : SPR_JWT_OK;
}

/*
 * Token i's claims, all different: a user long enough for an ext, a short
 * one held in the entry, or one of exactly 16 or 17 octets (the edge).
 */
static void
nth_claims(uint32_t i, struct spr_jwt_claims *cl)
{
	int n;

	memset(cl, 0, sizeof(*cl));
	if (i % 4 == 0)
		n = snprintf(cl->user, sizeof(cl->user), "user%u.long.enough.for.ext@example.com",
			     i);
	else if (i % 4 == 1)
		n = snprintf(cl->user, sizeof(cl->user), "u%u", i);
	else
		n = snprintf(cl->user, sizeof(cl->user), "%0*u", 16 + (int)(i & 1), i);
	cl->user_len = (uint8_t)n;
	cl->exp = NOW + 600 + i;
	cl->scopes = i % 3;
}

/* t is cached as token i: its own verdict and claims, by get and by fingerprint. */
static void
expect_own(const struct spr_token_cache *c, struct tokref t, uint32_t i)
{
	struct spr_token_hit hit, hit2;
	struct spr_token_fp fp, fp2;
	struct spr_jwt_claims want;

	nth_claims(i, &want);
	memset(&hit, 'X', sizeof(hit));
	if (spr_token_cache_get(c, th, t.p, t.len, NOW, &hit) != 0)
		fail_msg("token %u (%u bytes): a miss", i, t.len);
	assert_int_equal(hit.verdict, nth_verdict(i));
	if (nth_verdict(i) != SPR_JWT_OK) {
		assert_int_equal(hit.expires, NOW + 10);
		assert_int_equal(hit.claims.user_len, 0);
		assert_int_equal(hit.claims.user[0], '\0');
	} else {
		assert_int_equal(hit.expires, want.exp);
		assert_int_equal(hit.claims.exp, want.exp);
		assert_int_equal(hit.claims.scopes, want.scopes);
		assert_int_equal(hit.claims.user_len, want.user_len);
		assert_string_equal(hit.claims.user, want.user);
	}
	/* the pipelined path: the same fingerprint, the same answer */
	assert_int_equal(spr_token_fp_of(c, th, t.p, t.len, &fp), 0);
	assert_int_equal(spr_token_fp_prefetch(c, th, t.p, t.len, &fp2), 0);
	assert_memory_equal(&fp, &fp2, sizeof(fp));
	spr_token_cache_prefetch(c, &fp);
	memset(&hit2, 'Y', sizeof(hit2));
	assert_int_equal(spr_token_cache_get_fp(c, &fp, NOW, &hit2), 0);
	assert_int_equal(hit2.verdict, hit.verdict);
	assert_int_equal(hit2.expires, hit.expires);
	assert_int_equal(hit2.claims.user_len, hit.claims.user_len);
	assert_string_equal(hit2.claims.user, hit.claims.user);
	/* every bit of the fingerprint is compared (all tokens share the one set) */
	for (uint32_t b = 0; b < 128; b++) {
		fp2 = fp;
		fp2.w[b / 64] ^= UINT64_C(1) << (b % 64);
		if (spr_token_cache_get_fp(c, &fp2, NOW, &hit2) != -ENOENT)
			fail_msg("token %u with fingerprint bit %u flipped: a hit", i, b);
	}
}

static void
expect_miss(const struct spr_token_cache *c, struct tokref t, const char *what)
{
	struct spr_token_hit hit;

	if (spr_token_cache_get(c, th, t.p, t.len, NOW, &hit) != -ENOENT)
		fail_msg("%s (%u bytes), never put: a hit", what, t.len);
}

/* Is tok (len bytes) one of the four tokens in[]? */
static bool
in_group(const struct tokref in[4], const char *tok, uint32_t len)
{
	for (uint32_t j = 0; j < 4; j++)
		if (in[j].len == len && memcmp(in[j].p, tok, len) == 0)
			return true;
	return false;
}

/* Copy of src (n bytes) with byte k changed. */
static char *
flipped(const char *src, uint32_t n, uint32_t k)
{
	char *d = malloc(n + 1);

	assert_non_null(d);
	memcpy(d, src, n);
	d[k] ^= d[k] == 0 ? 1 : 0x20;
	return d;
}

/*
 * Each single byte of t changed (every byte near the start and the ends of
 * the power table's runs, every 37th elsewhere in a long token): a miss,
 * unless the change makes one of the cached tokens in[].
 */
static void
expect_every_byte_matters(const struct spr_token_cache *c, const struct tokref in[4],
			  struct tokref t, int impl)
{
	char *v = malloc(t.len);
	uint32_t step;

	assert_non_null(v);
	for (uint32_t k = 0; k < t.len; k += step) {
		struct spr_token_hit hit;
		bool edge = k % 4096 <= 64 || k % 4096 >= 4032;

		step = t.len <= 1000 || edge ? 1 : 37;
		memcpy(v, t.p, t.len);
		v[k] ^= 0x20;
		if (in_group(in, v, t.len))
			continue;
		if (spr_token_cache_get(c, th, v, t.len, NOW, &hit) != -ENOENT)
			fail_msg("impl %d: %u-byte token changed at %u: a hit", impl, t.len, k);
	}
	free(v);
}

/* Four tokens to cache in one set, three near them never put. */
struct one_set_group {
	struct tokref in[4], out[3];
};

/*
 * One group in a one-set cache keyed by impl (tokens gi * 4 + j of
 * nth_claims()). Returns false, testing nothing, when the CPU cannot run impl.
 */
static bool
one_set_group(int impl, const struct one_set_group *gr, uint32_t gi)
{
	struct spr_token_cache *c = spr_token_cache_new(4, 10, 3600, count_retire);
	struct spr_token_cache_stats st;
	struct spr_token_hit hit;
	struct spr_token_fp fp;
	struct spr_jwt_claims cl;

	assert_non_null(c);
	assert_int_equal(spr_token_cache_capacity(c), 4);
	if (spr_token_cache_set_fp_impl(c, impl) == -ENOTSUP) {
		spr_token_cache_free(c);
		return false;
	}
	/* SHA-256 needs the hasher, the others none */
	assert_int_equal(spr_token_fp_of(c, NULL, gr->in[0].p, gr->in[0].len, &fp),
			 impl == SPR_FP_NONE ? -EIO : 0);
	retired = 0;
	for (uint32_t j = 0; j < 4; j++) {
		uint32_t i = gi * 4 + j;

		nth_claims(i, &cl);
		assert_int_equal(spr_token_cache_put(c, th, gr->in[j].p, gr->in[j].len,
						     nth_verdict(i), &cl, NOW),
				 0);
	}
	for (uint32_t j = 0; j < 4; j++)
		expect_own(c, gr->in[j], gi * 4 + j);
	for (uint32_t j = 0; j < 3; j++)
		expect_miss(c, gr->out[j], "a neighbour");
	if (gr->in[0].len > 100)
		expect_every_byte_matters(c, gr->in, gr->in[0], impl);
	/*
	 * Bad verdicts for two of the neighbours: each takes the bad entry's
	 * way (token 2 of the group's, then the first neighbour's), the three
	 * good entries stay.
	 */
	for (uint32_t j = 0; j < 2; j++) {
		const struct tokref *t = &gr->out[j];

		assert_int_equal(
			spr_token_cache_put(c, th, t->p, t->len, SPR_JWT_MALFORMED, NULL, NOW), 0);
		assert_int_equal(spr_token_cache_get(c, th, t->p, t->len, NOW, &hit), 0);
		assert_int_equal(hit.verdict, SPR_JWT_MALFORMED);
		for (uint32_t k = 0; k < 4; k++)
			if (k != 2)
				expect_own(c, gr->in[k], gi * 4 + k);
		expect_miss(c, gr->in[2], "an evicted bad entry");
	}
	expect_miss(c, gr->out[0], "an evicted bad entry");
	spr_token_cache_stats(c, &st);
	assert_int_equal(st.evicted, 2);
	assert_int_equal(retired, 0); /* no ext was let go */
	spr_token_cache_free(c);
	return true;
}

/*
 * Exactly its own, with each fingerprint the CPU computes and with SHA-256:
 * in a one-set cache (capacity 4: every token lands in the one set, so
 * only the fingerprint compare keeps them apart) four tokens that differ
 * from each other in one byte (first, middle, last; 862 bytes, and 4,200
 * bytes, past one run of the power table), by being a prefix or one byte
 * longer, or only in length (all-zero tokens: the polynomial is 0 at any
 * length), each get exactly their own verdict and claims, good or bad, by
 * get and by fingerprint; tokens never put miss, including the cached 862
 * and 4,200-byte ones with any single byte changed. Then bad verdicts put
 * into the full set evict only the bad entry, never a good one.
 */
static void
cache_one_set_exact(void **state)
{
	enum { G = 862, B = 4200 };
	char *g = malloc(G + 2), *b = malloc(B + 1), z[40] = {0};
	char *g0, *g431, *g861, *g100, *b0, *b4096, *b4199;
	uint32_t ran = 0;

	assert_non_null(g);
	assert_non_null(b);
	for (uint32_t i = 0; i < G + 2; i++)
		g[i] = (char)('A' + (i * 7 + i / 26) % 26);
	for (uint32_t i = 0; i < B; i++)
		b[i] = (char)('a' + (i * 11 + i / 26) % 26);
	g0 = flipped(g, G, 0);
	g431 = flipped(g, G, 431);
	g861 = flipped(g, G, 861);
	g100 = flipped(g, G, 100);
	b0 = flipped(b, B, 0);
	b4096 = flipped(b, B, 4096);
	b4199 = flipped(b, B, 4199);

	const struct one_set_group groups[] = {
		{{{g, G}, {g0, G}, {g431, G}, {g861, G}}, {{g100, G}, {g, G - 1}, {g, G + 1}}},
		{{{g, G}, {g, G - 1}, {g, G + 1}, {g, 1}}, {{g, G - 2}, {g, G + 2}, {g0, G - 1}}},
		{{{z, 0}, {z, 1}, {z, 16}, {z, 17}}, {{z, 2}, {z, 15}, {z, 32}}},
		{{{b, B}, {b0, B}, {b4096, B}, {b, 4096}}, {{b4199, B}, {b, B - 1}, {b, 4097}}},
	};

	for (int impl = SPR_FP_NONE; impl <= SPR_FP_VPCLMUL; impl++) {
		bool runs = true;

		for (uint32_t gi = 0; gi < sizeof(groups) / sizeof(groups[0]) && runs; gi++)
			runs = one_set_group(impl, &groups[gi], gi);
		ran += runs;
	}
	assert_int_equal(ran, spr_fp_best_impl() + 1);
	free(g);
	free(b);
	free(g0);
	free(g431);
	free(g861);
	free(g100);
	free(b0);
	free(b4096);
	free(b4199);
}

/*
 * Fingerprints spread tokens over the sets (the low bits of w[0] pick the
 * set): 1024 tokens that differ only in their first four bytes, or only
 * in their last four, take > 550 of 1024 values of w[0] % 1024 (1024
 * balls in 1024 bins: ~647 expected; a fingerprint blind to those bytes
 * gives 1), at lengths from 862 down to 6, with every implementation the
 * CPU runs and with SHA-256.
 */
static void
cache_fp_spreads(void **state)
{
	uint32_t ran = 0;

	for (int impl = SPR_FP_NONE; impl <= SPR_FP_VPCLMUL; impl++) {
		struct spr_token_cache *c = spr_token_cache_new(4096, 10, 3600, NULL);
		char t[900];

		assert_non_null(c);
		if (spr_token_cache_set_fp_impl(c, impl) == -ENOTSUP) {
			spr_token_cache_free(c);
			continue;
		}
		ran++;
		for (int end = 0; end < 2; end++)
			for (uint32_t len = 862; len >= 5; len = len > 100 ? len - 101 : len - 3) {
				uint32_t at = end ? len - 4 : 0; /* the first or the last four */
				uint8_t seen[1024] = {0};
				uint32_t sets = 0;

				memset(t, 'x', sizeof(t));
				for (uint32_t i = 0; i < 1024; i++) {
					struct spr_token_fp fp;
					char d[5];

					snprintf(d, sizeof(d), "%04u", i);
					memcpy(t + at, d, 4);
					assert_int_equal(spr_token_fp_of(c, th, t, len, &fp), 0);
					if (!seen[fp.w[0] % 1024]++)
						sets++;
				}
				if (sets <= 550)
					fail_msg("impl %d, %u-byte tokens changed at %u: %u sets",
						 impl, len, at, sets);
			}
		spr_token_cache_free(c);
	}
	assert_int_equal(ran, spr_fp_best_impl() + 1);
}

/*
 * A hit gives the user back whole, at every length around the entry's
 * inline limit (16 octets) and the ext's blocks (64 bytes, then the rest),
 * into a hit full of other bytes (fails when a block is cut short or the
 * NUL is missing).
 */
static void
cache_hit_user_lengths(void **state)
{
	static const uint32_t ulens[] = {0, 1, 14, 15, 16, 17, 63, 64, 65, 200, 255};
	struct spr_token_cache *c = spr_token_cache_new(1024, 10, 3600, NULL);

	for (uint32_t k = 0; k < sizeof(ulens) / sizeof(ulens[0]); k++) {
		uint32_t n = ulens[k];
		struct spr_jwt_claims cl;
		struct spr_token_hit hit;
		char tok[64];

		memset(&cl, 0, sizeof(cl));
		cl.exp = NOW + 600;
		cl.scopes = SPR_AUTH_SCOPE_REGISTER;
		cl.user_len = (uint8_t)n;
		for (uint32_t i = 0; i < n; i++)
			cl.user[i] = (char)('a' + (i * 7 + n) % 26);
		snprintf(tok, sizeof(tok), "user-length-%u.token.bytes", n);
		assert_int_equal(put(c, tok, SPR_JWT_OK, &cl, NOW), 0);
		memset(&hit, 'X', sizeof(hit));
		assert_int_equal(get(c, tok, NOW, &hit), 0);
		assert_int_equal(hit.claims.user_len, n);
		assert_memory_equal(hit.claims.user, cl.user, n);
		assert_int_equal(hit.claims.user[n], '\0');
	}
	spr_token_cache_free(c);
}

static void
cache_negative(void **state)
{
	struct spr_token_cache *c = spr_token_cache_new(64, 10, 3600, NULL);
	struct spr_token_hit hit;
	char t[64];

	assert_int_equal(put(c, tok_of(1, t), SPR_JWT_BAD_SIGNATURE, NULL, NOW), 0);
	assert_int_equal(get(c, t, NOW, &hit), 0);
	assert_int_equal(hit.verdict, SPR_JWT_BAD_SIGNATURE);
	assert_int_equal(hit.claims.user_len, 0);
	assert_int_equal(get(c, t, NOW + 9, &hit), 0);
	assert_int_equal(get(c, t, NOW + 10, &hit), -ENOENT);
	/* the server's own troubles are not the token's: not cached */
	tok_of(2, t);
	assert_int_equal(put(c, t, SPR_JWT_NO_KEYS, NULL, NOW), -EAGAIN);
	assert_int_equal(put(c, t, SPR_JWT_INTERNAL, NULL, NOW), -EAGAIN);
	assert_int_equal(get(c, t, NOW, &hit), -ENOENT);
	spr_token_cache_free(c);
}

static void
cache_ttl(void **state)
{
	struct spr_token_cache *c = spr_token_cache_new(64, 10, 300, NULL);
	struct spr_token_hit hit;
	struct spr_jwt_claims cl;
	struct spr_token_cache_stats st;
	char t[64];

	/* exp sooner than pos_ttl: the entry dies at exp */
	good_claims(&cl, "a", NOW + 100, 0);
	assert_int_equal(put(c, tok_of(1, t), SPR_JWT_OK, &cl, NOW), 0);
	assert_int_equal(get(c, t, NOW + 99, &hit), 0);
	assert_int_equal(get(c, t, NOW + 100, &hit), -ENOENT);
	/* exp later than pos_ttl: dies at now + pos_ttl, claims keep the real exp */
	good_claims(&cl, "b", NOW + 100000, 0);
	assert_int_equal(put(c, tok_of(2, t), SPR_JWT_OK, &cl, NOW), 0);
	assert_int_equal(get(c, t, NOW + 299, &hit), 0);
	assert_int_equal(hit.claims.exp, NOW + 100000);
	assert_int_equal(get(c, t, NOW + 300, &hit), -ENOENT);
	/* accepted inside the skew grace but already past exp: not cached */
	good_claims(&cl, "c", NOW - 5, 0);
	assert_int_equal(put(c, tok_of(3, t), SPR_JWT_OK, &cl, NOW), -EAGAIN);
	assert_int_equal(get(c, t, NOW, &hit), -ENOENT);
	spr_token_cache_stats(c, &st);
	assert_int_equal(st.not_cached, 1);
	spr_token_cache_free(c);
}

/*
 * One set of four ways: who is evicted, bad verdicts never push out good
 * ones (even a good one expiring sooner), and an ext is retired exactly
 * when its entry is overwritten (users here are longer than 16 octets,
 * except where an inline one is evicted to show it retires nothing).
 */
static void
cache_eviction(void **state)
{
	struct spr_token_cache *c = spr_token_cache_new(4, 10, 3600, count_retire);
	char k[8][64];
	struct spr_token_hit hit;
	struct spr_jwt_claims cl;
	struct spr_token_cache_stats st;

	retired = 0;
	assert_int_equal(spr_token_cache_capacity(c), 4);
	for (uint32_t i = 0; i < 8; i++)
		tok_of(i, k[i]);
	/* four good entries, expiring at +100 +200 +300 +400, each with an ext */
	for (uint32_t i = 0; i < 4; i++) {
		good_claims(&cl, "u.user.longer.than.16", NOW + 100 * (i + 1), 0);
		assert_int_equal(put(c, k[i], SPR_JWT_OK, &cl, NOW), 0);
	}
	/* a bad verdict finds no room: dropped, every good entry stays */
	assert_int_equal(put(c, k[4], SPR_JWT_EXPIRED, NULL, NOW), -EAGAIN);
	for (uint32_t i = 0; i < 4; i++)
		assert_int_equal(get(c, k[i], NOW, &hit), 0);
	assert_int_equal(get(c, k[4], NOW, &hit), -ENOENT);
	assert_int_equal(retired, 0);
	/* a fifth good one evicts the first to expire (k0), whose ext is retired */
	good_claims(&cl, "v.user.longer.than.16", NOW + 500, 0);
	assert_int_equal(put(c, k[5], SPR_JWT_OK, &cl, NOW), 0);
	assert_int_equal(retired, 1);
	assert_int_equal(get(c, k[0], NOW, &hit), -ENOENT);
	assert_int_equal(get(c, k[5], NOW, &hit), 0);
	assert_string_equal(hit.claims.user, "v.user.longer.than.16");
	/* once k1 has expired its way is free for a bad verdict (expiring at +305) */
	assert_int_equal(put(c, k[4], SPR_JWT_EXPIRED, NULL, NOW + 295), 0);
	assert_int_equal(retired, 2);
	assert_int_equal(get(c, k[4], NOW + 295, &hit), 0);
	assert_int_equal(hit.verdict, SPR_JWT_EXPIRED);
	/* a good verdict evicts the bad entry before any good one, even k2 expiring at +300 */
	good_claims(&cl, "w", NOW + 298, 0);
	assert_int_equal(put(c, k[6], SPR_JWT_OK, &cl, NOW + 295), 0);
	assert_int_equal(get(c, k[4], NOW + 295, &hit), -ENOENT);
	for (uint32_t i = 2; i < 4; i++)
		assert_int_equal(get(c, k[i], NOW + 295, &hit), 0);
	assert_int_equal(retired, 2); /* the bad entry had no ext */
	/* the good entry expiring first (k6, +298, its user inline) goes: nothing retired */
	good_claims(&cl, "x.user.longer.than.16", NOW + 900, 0);
	assert_int_equal(put(c, k[7], SPR_JWT_OK, &cl, NOW + 295), 0);
	assert_int_equal(get(c, k[6], NOW + 295, &hit), -ENOENT);
	assert_int_equal(get(c, k[2], NOW + 295, &hit), 0);
	assert_string_equal(hit.claims.user, "u.user.longer.than.16");
	assert_int_equal(get(c, k[7], NOW + 295, &hit), 0);
	assert_string_equal(hit.claims.user, "x.user.longer.than.16");
	spr_token_cache_stats(c, &st);
	assert_int_equal(st.dropped_negative, 1);
	assert_int_equal(st.evicted, 3);
	assert_int_equal(st.ext_bytes, 4 * ext_bytes_of(21));
	assert_int_equal(retired, 2);
	spr_token_cache_free(c); /* the four live exts freed here, not retired */
	assert_int_equal(retired, 2);
}

static void
cache_flush(void **state)
{
	struct spr_token_cache *c = spr_token_cache_new(256, 10, 3600, NULL);
	struct spr_token_hit hit;
	struct spr_jwt_claims cl;
	char t[64];

	good_claims(&cl, "a", NOW + 600, 0);
	for (uint32_t i = 0; i < 100; i++)
		put(c, tok_of(i, t), i % 2 ? SPR_JWT_OK : SPR_JWT_BAD_SIGNATURE, &cl, NOW);
	spr_token_cache_flush(c);
	for (uint32_t i = 0; i < 100; i++)
		assert_int_equal(get(c, tok_of(i, t), NOW, &hit), -ENOENT);
	assert_int_equal(put(c, tok_of(7, t), SPR_JWT_OK, &cl, NOW), 0);
	assert_int_equal(get(c, t, NOW, &hit), 0);
	spr_token_cache_free(c);
}

/* ---- cache under concurrent readers ---- */

#define RACE_KEYS 256u
#define RACE_WRITES 400000u

struct race {
	struct spr_token_cache *c;
	uint32_t stop;
	uint64_t hits, bad_hits, ext_hits, inline_hits, torn;
};

/*
 * Retired exts are kept until the readers have stopped (an endless grace
 * period), then freed: under ASan a reader touching a freed ext would fail.
 */
static struct spr_token_ext *race_retired;
static uint64_t race_retired_n;

static void
race_retire(struct spr_token_ext *t)
{
	t->reclaim[0] = race_retired;
	race_retired = t;
	race_retired_n++;
}

/* Everything an entry for key i holds is a function of i and a round r; the user spells both. */
static void
race_claims(uint32_t i, uint32_t r, struct spr_jwt_claims *cl)
{
	uint32_t sum = (i * 2654435761u) ^ (r * 40503u), pad;
	int n;

	/*
	 * One write in three has a user of at most SPR_TOKEN_USER_INLINE
	 * octets (in the entry: at most "ff.61a7f." and 7 more), the others a
	 * longer one (an ext, retired and freed when its entry is rewritten),
	 * so entries flip between the two under the readers. Variable length,
	 * so a torn read would mix lengths and bytes.
	 */
	if (sum % 3 == 0) {
		n = snprintf(cl->user, sizeof(cl->user), "%x.%x.", i, r);
		pad = sum / 3 % 8;
	} else {
		n = snprintf(cl->user, sizeof(cl->user), "u%u-r%u-%08x-", i, r, sum);
		pad = 2 + sum % 150; /* at least 17 octets */
	}
	for (uint32_t j = 0; j < pad; j++)
		cl->user[n++] = (char)('a' + (sum + j) % 26);
	cl->user[n] = '\0';
	cl->user_len = (uint8_t)n;
	cl->exp = NOW + 100000 + r;
	cl->scopes = sum & 3;
}

static void *
race_reader(void *arg)
{
	struct race *rc = arg;
	struct spr_token_hasher *h = spr_token_hasher_new();
	uint32_t x = (uint32_t)(uintptr_t)&x;

	if (h == NULL)
		return NULL;
	while (!__atomic_load_n(&rc->stop, __ATOMIC_ACQUIRE)) {
		struct spr_token_hit hit;
		struct spr_jwt_claims want;
		struct spr_token_fp fp;
		char t[64];
		uint32_t i, r, len;
		int got;

		x = x * 1103515245u + 12345u;
		i = (x >> 8) % RACE_KEYS;
		len = (uint32_t)strlen(tok_of(i, t));
		/* half the lookups as the worker's pipeline makes them */
		if (x & 0x10000) {
			got = spr_token_cache_get(rc->c, h, t, len, NOW, &hit);
		} else if (spr_token_fp_prefetch(rc->c, h, t, len, &fp) != 0) {
			rc->torn++;
			continue;
		} else {
			spr_token_cache_prefetch(rc->c, &fp);
			got = spr_token_cache_get_fp(rc->c, &fp, NOW, &hit);
		}
		if (got != 0)
			continue;
		rc->hits++;
		if (hit.verdict == SPR_JWT_BAD_SIGNATURE) {
			rc->bad_hits++;
			if (hit.claims.user_len != 0 || hit.expires != NOW + 10)
				rc->torn++;
			continue;
		}
		r = (uint32_t)(hit.claims.exp - NOW - 100000);
		if (hit.claims.user_len > SPR_TOKEN_USER_INLINE)
			rc->ext_hits++;
		else
			rc->inline_hits++;
		race_claims(i, r, &want);
		if (hit.verdict != SPR_JWT_OK || hit.claims.user_len != want.user_len ||
		    strcmp(hit.claims.user, want.user) != 0 || hit.claims.scopes != want.scopes ||
		    hit.expires != hit.claims.exp)
			rc->torn++;
	}
	spr_token_hasher_free(h);
	return NULL;
}

static void
cache_concurrent_readers(void **state)
{
	/* 64 entries for 256 keys: constant replacement and eviction under the readers */
	struct spr_token_cache *c = spr_token_cache_new(64, 10, 1000000, race_retire);
	struct race rs[2] = {{.c = c}, {.c = c}};
	pthread_t th_[2];

	race_retired = NULL;
	race_retired_n = 0;
	for (int t = 0; t < 2; t++)
		assert_int_equal(pthread_create(&th_[t], NULL, race_reader, &rs[t]), 0);
	for (uint32_t w = 0; w < RACE_WRITES; w++) {
		struct spr_jwt_claims cl;
		char t[64];
		uint32_t i = (w * 7919u) % RACE_KEYS;
		int rc;

		tok_of(i, t);
		race_claims(i, w, &cl);
		/*
		 * Every key is written once per round of RACE_KEYS writes; one round
		 * in four writes bad verdicts, so entries flip between good (an
		 * inline user or an ext) and bad in place (a bad verdict finding no
		 * room is dropped).
		 */
		bool bad = (w / RACE_KEYS) % 4 == 1;

		rc = put(c, t, bad ? SPR_JWT_BAD_SIGNATURE : SPR_JWT_OK, &cl, NOW);
		assert_true(rc == 0 || (rc == -EAGAIN && bad));
		if (w % 50000 == 0)
			spr_token_cache_flush(c);
	}
	for (int t = 0; t < 2; t++) {
		__atomic_store_n(&rs[t].stop, 1, __ATOMIC_RELEASE);
		assert_int_equal(pthread_join(th_[t], NULL), 0);
	}
	print_message("readers: %llu + %llu hits (%llu bad, %llu ext, %llu inline), %llu torn, "
		      "%llu exts retired\n",
		      (unsigned long long)rs[0].hits, (unsigned long long)rs[1].hits,
		      (unsigned long long)(rs[0].bad_hits + rs[1].bad_hits),
		      (unsigned long long)(rs[0].ext_hits + rs[1].ext_hits),
		      (unsigned long long)(rs[0].inline_hits + rs[1].inline_hits),
		      (unsigned long long)(rs[0].torn + rs[1].torn),
		      (unsigned long long)race_retired_n);
	assert_int_equal(rs[0].torn + rs[1].torn, 0);
	assert_true(race_retired_n > 0);
	assert_true(rs[0].bad_hits + rs[1].bad_hits > 0);
	assert_true(rs[0].ext_hits + rs[1].ext_hits > 0);
	assert_true(rs[0].inline_hits + rs[1].inline_hits > 0);
	while (race_retired != NULL) {
		struct spr_token_ext *n = race_retired->reclaim[0];

		spr_token_ext_free(race_retired);
		race_retired = n;
	}
	spr_token_cache_free(c);
}

/* The whole path the auth worker runs: verify, remember, then a hit answers. */
static void
cache_with_verify(void **state)
{
	struct spr_token_cache *c = spr_token_cache_new(64, 10, 3600, NULL);
	struct spr_token_hit hit;
	struct spr_jwt_claims cl;
	char *cs = claims(600), *good = mint("ES256", "ec1", cs), *bad = strdup(good);
	int v;

	bad[strlen(bad) - 5] = bad[strlen(bad) - 5] == 'A' ? 'B' : 'A';
	v = verify(good, &cl);
	assert_int_equal(put(c, good, v, &cl, NOW), 0);
	assert_int_equal(get(c, good, NOW + 1, &hit), 0);
	assert_int_equal(hit.verdict, SPR_JWT_OK);
	assert_string_equal(hit.claims.user, "alice@example.com");
	v = verify(bad, &cl);
	assert_int_equal(v, SPR_JWT_BAD_SIGNATURE);
	assert_int_equal(put(c, bad, v, &cl, NOW), 0);
	assert_int_equal(get(c, bad, NOW + 1, &hit), 0);
	assert_int_equal(hit.verdict, SPR_JWT_BAD_SIGNATURE);
	/* the good token is untouched by its corrupted twin */
	assert_int_equal(get(c, good, NOW + 1, &hit), 0);
	assert_int_equal(hit.verdict, SPR_JWT_OK);
	spr_token_cache_free(c);
	free(cs);
	free(good);
	free(bad);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup(f, test_setup)
		T(valid_rs256),
		T(valid_rs512),
		T(valid_es256),
		T(valid_es384),
		T(alg_none),
		T(hs256_with_rsa_public_key),
		T(hs256_allowed_or_not),
		T(alg_pinned_to_key),
		T(key_alg_member_pins),
		T(expired),
		T(exp_missing_or_string),
		T(nbf_iat_future),
		T(skew_boundaries),
		T(issuer),
		T(audience),
		T(user_claim_and_scopes),
		T(user_too_long),
		T(unknown_kid),
		T(no_kid),
		T(two_keys_no_kid),
		T(malformed_base64),
		T(segments),
		T(bad_header),
		T(bad_payload),
		T(signature_of_another_token),
		T(ecdsa_der_signature),
		T(oversized),
		T(truncated),
		T(verdict_table),
		T(jwks_errors),
		T(jwks_small_rsa_and_caps),
		T(jwks_reload),
		T(libjwt_minted_es256),
		T(claims_duplicates_and_escapes),
		T(claims_numbers),
		T(claims_types_and_limits),
		T(header_escapes),
		T(json_scan_direct),
		T(cache_hit_miss_and_key),
		T(cache_one_set_exact),
		T(cache_fp_spreads),
		T(cache_hit_user_lengths),
		T(cache_negative),
		T(cache_ttl),
		T(cache_eviction),
		T(cache_flush),
		T(cache_concurrent_readers),
		T(cache_with_verify),
#undef T
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
