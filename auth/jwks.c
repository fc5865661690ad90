/* SPDX-License-Identifier: BSD-3-Clause */
/* JWK Set loading (contract in jwks.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#include "jwks-int.h"
#include "jwks.h"

#define RSA_BITS_MIN 2048 /* RFC 7518 §3.3 */
#define RSA_BITS_MAX 16384
#define OCT_BYTES_MIN 32 /* RFC 7518 §3.2: at least the hash size for HS256 */
#define OCT_BYTES_MAX 1024

static const char *const jws_alg_text[SPR_JWS_ALG__COUNT] = {
#define X(name, text) [SPR_JWS_##name] = text,
	SPR_FOREACH_JWS_ALG(X)
#undef X
};

enum spr_jws_alg
spr_jws_alg_from(const char *s, size_t len)
{
	for (int a = SPR_JWS_ALG_UNSET + 1; a < SPR_JWS_ALG__COUNT; a++)
		if (strlen(jws_alg_text[a]) == len && memcmp(jws_alg_text[a], s, len) == 0)
			return (enum spr_jws_alg)a;
	return SPR_JWS_ALG_UNSET;
}

enum spr_jws_md
spr_jws_alg_md(enum spr_jws_alg alg)
{
	switch (alg) {
	case SPR_JWS_RS384:
	case SPR_JWS_ES384:
		return SPR_JWS_MD_SHA384;
	case SPR_JWS_RS512:
		return SPR_JWS_MD_SHA512;
	default:
		return SPR_JWS_MD_SHA256;
	}
}

bool
spr_jwk_alg_ok(const struct spr_jwt_key *k, enum spr_jws_alg alg, bool allow_hmac)
{
	bool fits;

	switch (alg) {
	case SPR_JWS_RS256:
	case SPR_JWS_RS384:
	case SPR_JWS_RS512:
		fits = k->kty == SPR_JWK_RSA;
		break;
	case SPR_JWS_ES256:
		fits = k->kty == SPR_JWK_EC && k->crv == SPR_JWK_CRV_P256;
		break;
	case SPR_JWS_ES384:
		fits = k->kty == SPR_JWK_EC && k->crv == SPR_JWK_CRV_P384;
		break;
	case SPR_JWS_HS256:
		fits = k->kty == SPR_JWK_OCT && allow_hmac;
		break;
	default:
		return false;
	}
	/* a key that names its algorithm verifies that one only (RFC 7517 §4.4) */
	return fits && (k->alg == SPR_JWS_ALG_UNSET || k->alg == alg);
}

struct load_ctx {
	char *why;
	size_t whylen;
	uint32_t idx; /* key index in "keys" */
	const char *kid;
	EVP_MD *const *md; /* the set's digests */
};

static int __attribute__((format(printf, 3, 4)))
fail(struct load_ctx *lc, int err, const char *fmt, ...)
{
	va_list ap;
	int n = 0;

	if (lc->whylen == 0)
		return err;
	if (lc->idx != UINT32_MAX)
		n = snprintf(lc->why, lc->whylen,
			     lc->kid ? "key %u (kid \"%.64s\"): " : "key %u: ", lc->idx, lc->kid);
	if (n < 0 || (size_t)n >= lc->whylen)
		return err;
	va_start(ap, fmt);
	vsnprintf(lc->why + n, lc->whylen - (size_t)n, fmt, ap);
	va_end(ap);
	return err;
}

/* Member name of o as strict base64url into a new buffer (*len bytes; free with OPENSSL_free). */
static int
member_b64(struct load_ctx *lc, json_t *o, const char *name, uint8_t **buf, uint32_t *len)
{
	json_t *v = json_object_get(o, name);
	const char *s;
	size_t sl;
	int n;

	if (v == NULL)
		return fail(lc, -EINVAL, "missing \"%s\"", name);
	if (!json_is_string(v))
		return fail(lc, -EINVAL, "\"%s\" is not a string", name);
	s = json_string_value(v);
	sl = json_string_length(v);
	if (sl == 0 || sl > 8192)
		return fail(lc, -EINVAL, "\"%s\" has a bad length (%zu)", name, sl);
	if ((*buf = OPENSSL_malloc(spr_b64url_decoded_max((uint32_t)sl))) == NULL)
		return fail(lc, -ENOMEM, "out of memory");
	n = spr_b64url_decode(s, (uint32_t)sl, *buf, spr_b64url_decoded_max((uint32_t)sl));
	if (n <= 0) {
		OPENSSL_free(*buf);
		*buf = NULL;
		return fail(lc, -EINVAL, "\"%s\" is not strict base64url", name);
	}
	*len = (uint32_t)n;
	return 0;
}

/* An EVP_PKEY of type name ("RSA", "EC") from params. */
static EVP_PKEY *
pkey_fromdata(const char *name, OSSL_PARAM_BLD *bld)
{
	OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, name, NULL);
	EVP_PKEY *pk = NULL;

	if (params == NULL || ctx == NULL || EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params) <= 0)
		pk = NULL;
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	return pk;
}

/* k->vctx[mi] ready to verify with md (RSA: PKCS#1 v1.5). 0 or -EINVAL. */
static int
vctx_make(struct spr_jwt_key *k, enum spr_jws_md mi, const EVP_MD *md)
{
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_pkey(NULL, k->pkey, NULL);

	if (c == NULL || EVP_PKEY_verify_init(c) != 1 ||
	    (k->kty == SPR_JWK_RSA && EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PADDING) != 1) ||
	    EVP_PKEY_CTX_set_signature_md(c, md) != 1) {
		EVP_PKEY_CTX_free(c);
		return -EINVAL;
	}
	k->vctx[mi] = c;
	return 0;
}

static int
load_rsa(struct load_ctx *lc, json_t *o, struct spr_jwt_key *k)
{
	uint8_t *n = NULL, *e = NULL;
	uint32_t nl, el;
	BIGNUM *bn = NULL, *be = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	int rc, bits;

	if ((rc = member_b64(lc, o, "n", &n, &nl)) != 0)
		return rc;
	if ((rc = member_b64(lc, o, "e", &e, &el)) != 0)
		goto out_n;
	if ((bn = BN_bin2bn(n, (int)nl, NULL)) == NULL ||
	    (be = BN_bin2bn(e, (int)el, NULL)) == NULL) {
		rc = fail(lc, -ENOMEM, "out of memory");
		goto out;
	}
	bits = BN_num_bits(bn);
	if (bits < RSA_BITS_MIN || bits > RSA_BITS_MAX) {
		rc = fail(lc, -EINVAL, "RSA modulus of %d bits (need %d..%d)", bits, RSA_BITS_MIN,
			  RSA_BITS_MAX);
		goto out;
	}
	if (!BN_is_odd(be) || BN_is_one(be) || BN_num_bits(be) > 64) {
		rc = fail(lc, -EINVAL, "bad RSA exponent");
		goto out;
	}
	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be)) {
		rc = fail(lc, -ENOMEM, "out of memory");
		goto out;
	}
	if ((k->pkey = pkey_fromdata("RSA", bld)) == NULL) {
		rc = fail(lc, -EINVAL, "OpenSSL refused the RSA key");
		goto out;
	}
	k->sig_bytes = (uint32_t)EVP_PKEY_get_size(k->pkey);
	for (int mi = 0; mi < SPR_JWS_MD__COUNT; mi++)
		if (vctx_make(k, (enum spr_jws_md)mi, lc->md[mi]) != 0) {
			rc = fail(lc, -EINVAL, "OpenSSL cannot verify with the RSA key");
			goto out;
		}
	rc = 0;
out:
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn);
	BN_free(be);
	OPENSSL_free(e);
out_n:
	OPENSSL_free(n);
	return rc;
}

static int
load_ec(struct load_ctx *lc, json_t *o, struct spr_jwt_key *k)
{
	json_t *crv = json_object_get(o, "crv");
	uint8_t *x = NULL, *y = NULL, pt[1 + 2 * 48];
	uint32_t xl, yl, flen;
	const char *group;
	OSSL_PARAM_BLD *bld = NULL;
	EVP_PKEY_CTX *chk = NULL;
	enum spr_jws_md mi;
	int rc;

	if (!json_is_string(crv))
		return fail(lc, -EINVAL, "EC key without a \"crv\" string");
	if (strcmp(json_string_value(crv), "P-256") == 0) {
		k->crv = SPR_JWK_CRV_P256;
		group = "prime256v1";
		flen = 32;
	} else if (strcmp(json_string_value(crv), "P-384") == 0) {
		k->crv = SPR_JWK_CRV_P384;
		group = "secp384r1";
		flen = 48;
	} else {
		return fail(lc, -EINVAL, "unsupported curve \"%.32s\" (P-256, P-384)",
			    json_string_value(crv));
	}
	if ((rc = member_b64(lc, o, "x", &x, &xl)) != 0)
		return rc;
	if ((rc = member_b64(lc, o, "y", &y, &yl)) != 0)
		goto out;
	/* RFC 7518 §6.2.1.2: x and y are exactly the field size */
	if (xl != flen || yl != flen) {
		rc = fail(lc, -EINVAL, "x/y of %u/%u bytes (%s needs %u)", xl, yl,
			  json_string_value(crv), flen);
		goto out;
	}
	pt[0] = 0x04; /* uncompressed point */
	memcpy(pt + 1, x, flen);
	memcpy(pt + 1 + flen, y, flen);
	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
	    !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group, 0) ||
	    !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pt, 1 + 2 * flen)) {
		rc = fail(lc, -ENOMEM, "out of memory");
		goto out;
	}
	if ((k->pkey = pkey_fromdata("EC", bld)) == NULL ||
	    (chk = EVP_PKEY_CTX_new_from_pkey(NULL, k->pkey, NULL)) == NULL ||
	    EVP_PKEY_public_check(chk) != 1) {
		rc = fail(lc, -EINVAL, "EC point is not on %s", json_string_value(crv));
		goto out;
	}
	mi = k->crv == SPR_JWK_CRV_P256 ? SPR_JWS_MD_SHA256 : SPR_JWS_MD_SHA384;
	if (vctx_make(k, mi, lc->md[mi]) != 0) {
		rc = fail(lc, -EINVAL, "OpenSSL cannot verify with the EC key");
		goto out;
	}
	rc = 0;
out:
	EVP_PKEY_CTX_free(chk);
	OSSL_PARAM_BLD_free(bld);
	OPENSSL_free(x);
	OPENSSL_free(y);
	return rc;
}

static int
load_oct(struct load_ctx *lc, json_t *o, struct spr_jwt_key *k, bool allow_hmac)
{
	int rc;

	if (!allow_hmac)
		return fail(lc, -EPERM, "oct (HMAC) key needs --allow-hmac");
	if ((rc = member_b64(lc, o, "k", &k->secret, &k->secret_len)) != 0)
		return rc;
	if (k->secret_len < OCT_BYTES_MIN || k->secret_len > OCT_BYTES_MAX)
		return fail(lc, -EINVAL, "oct key of %u bytes (need %d..%d)", k->secret_len,
			    OCT_BYTES_MIN, OCT_BYTES_MAX);
	return 0;
}

static void
key_clear(struct spr_jwt_key *k)
{
	for (int mi = 0; mi < SPR_JWS_MD__COUNT; mi++) {
		EVP_PKEY_CTX_free(k->vctx[mi]);
		k->vctx[mi] = NULL;
	}
	EVP_PKEY_free(k->pkey);
	if (k->secret != NULL)
		OPENSSL_clear_free(k->secret, k->secret_len);
	k->pkey = NULL;
	k->secret = NULL;
}

/* Key object o into k. Returns 0, 1 when the key is skipped (not for signing), or -errno. */
static int
load_key(struct load_ctx *lc, json_t *o, struct spr_jwt_key *k, bool allow_hmac)
{
	static const char *const private_members[] = {"d", "p", "q", "dp", "dq", "qi", "oth"};
	json_t *kty, *v;
	const char *t;

	if (!json_is_object(o))
		return fail(lc, -EINVAL, "not a JSON object");
	if ((v = json_object_get(o, "kid")) != NULL) {
		if (!json_is_string(v) || json_string_length(v) > SPR_JWT_KID_MAX)
			return fail(lc, -EINVAL, "\"kid\" is not a string of at most %u bytes",
				    SPR_JWT_KID_MAX);
		lc->kid = json_string_value(v);
		k->has_kid = true;
		k->kid_len = (uint16_t)json_string_length(v);
		memcpy(k->kid, json_string_value(v), k->kid_len);
		k->kid[k->kid_len] = '\0';
	}
	if ((v = json_object_get(o, "use")) != NULL) {
		if (!json_is_string(v))
			return fail(lc, -EINVAL, "\"use\" is not a string");
		if (strcmp(json_string_value(v), "sig") != 0)
			return 1;
	}
	for (size_t i = 0; i < sizeof(private_members) / sizeof(private_members[0]); i++)
		if (json_object_get(o, private_members[i]) != NULL)
			return fail(lc, -EINVAL,
				    "private key material (\"%s\") in a public JWK Set",
				    private_members[i]);
	if (!json_is_string(kty = json_object_get(o, "kty")))
		return fail(lc, -EINVAL, "missing \"kty\"");
	t = json_string_value(kty);
	if ((v = json_object_get(o, "alg")) != NULL) {
		if (!json_is_string(v))
			return fail(lc, -EINVAL, "\"alg\" is not a string");
		k->alg = spr_jws_alg_from(json_string_value(v), json_string_length(v));
		if (k->alg == SPR_JWS_ALG_UNSET)
			return fail(lc, -EINVAL, "unsupported \"alg\" \"%.32s\"",
				    json_string_value(v));
	}
	int rc;
	if (strcmp(t, "RSA") == 0) {
		k->kty = SPR_JWK_RSA;
		rc = load_rsa(lc, o, k);
	} else if (strcmp(t, "EC") == 0) {
		k->kty = SPR_JWK_EC;
		rc = load_ec(lc, o, k);
	} else if (strcmp(t, "oct") == 0) {
		k->kty = SPR_JWK_OCT;
		rc = load_oct(lc, o, k, allow_hmac);
	} else {
		return fail(lc, -EINVAL, "unsupported \"kty\" \"%.32s\"", t);
	}
	if (rc != 0)
		return rc;
	if (k->alg != SPR_JWS_ALG_UNSET && !spr_jwk_alg_ok(k, (enum spr_jws_alg)k->alg, true))
		return fail(lc, -EINVAL, "\"alg\" %s does not fit a %s key", jws_alg_text[k->alg],
			    t);
	return 0;
}

int
spr_jwks_parse(const char *json, size_t len, bool allow_hmac, struct spr_jwt_keys **out, char *why,
	       size_t whylen)
{
	struct load_ctx lc = {.why = why, .whylen = whylen, .idx = UINT32_MAX};
	struct spr_jwt_keys *ks = NULL;
	json_error_t jerr;
	json_t *root, *keys;
	size_t nk;
	int rc;

	if (whylen)
		why[0] = '\0';
	if (len > SPR_JWKS_FILE_MAX)
		return fail(&lc, -EFBIG, "JWK Set of %zu bytes (at most %u)", len,
			    SPR_JWKS_FILE_MAX);
	if ((root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr)) == NULL)
		return fail(&lc, -EINVAL, "not JSON: line %d col %d: %.80s", jerr.line, jerr.column,
			    jerr.text);
	rc = -EINVAL;
	if (!json_is_array(keys = json_object_get(root, "keys"))) {
		fail(&lc, rc, "no \"keys\" array");
		goto out;
	}
	if ((nk = json_array_size(keys)) > SPR_JWKS_KEYS_MAX) {
		fail(&lc, rc, "%zu keys (at most %u)", nk, SPR_JWKS_KEYS_MAX);
		goto out;
	}
	if ((ks = calloc(1, sizeof(*ks) + nk * sizeof(ks->keys[0]))) == NULL) {
		rc = fail(&lc, -ENOMEM, "out of memory");
		goto out;
	}
	if ((ks->md[SPR_JWS_MD_SHA256] = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL ||
	    (ks->md[SPR_JWS_MD_SHA384] = EVP_MD_fetch(NULL, "SHA384", NULL)) == NULL ||
	    (ks->md[SPR_JWS_MD_SHA512] = EVP_MD_fetch(NULL, "SHA512", NULL)) == NULL ||
	    (ks->mdctx = EVP_MD_CTX_new()) == NULL) {
		rc = fail(&lc, -ENOMEM, "OpenSSL: no SHA-2 digests");
		goto out;
	}
	lc.md = ks->md;
	for (size_t i = 0; i < nk; i++) {
		struct spr_jwt_key *k = &ks->keys[ks->n];

		lc.idx = (uint32_t)i;
		lc.kid = NULL;
		if ((rc = load_key(&lc, json_array_get(keys, i), k, allow_hmac)) < 0) {
			key_clear(k);
			goto out;
		}
		if (rc == 1) { /* not a signing key */
			key_clear(k);
			memset(k, 0, sizeof(*k));
			continue;
		}
		for (uint32_t j = 0; j < ks->n; j++)
			if (k->has_kid && ks->keys[j].has_kid &&
			    ks->keys[j].kid_len == k->kid_len &&
			    memcmp(ks->keys[j].kid, k->kid, k->kid_len) == 0) {
				key_clear(k);
				rc = fail(&lc, -EINVAL, "duplicate kid");
				goto out;
			}
		ks->n++;
	}
	*out = ks;
	ks = NULL;
	rc = 0;
out:
	spr_jwks_free(ks);
	json_decref(root);
	return rc;
}

int
spr_jwks_load(const char *path, bool allow_hmac, struct spr_jwt_keys **out, char *why,
	      size_t whylen)
{
	struct load_ctx lc = {.why = why, .whylen = whylen, .idx = UINT32_MAX};
	struct stat st;
	char *buf = NULL;
	size_t got = 0;
	int fd, rc;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return fail(&lc, -errno, "%.200s: %s", path, strerror(errno));
	if (fstat(fd, &st) != 0) {
		rc = fail(&lc, -errno, "%.200s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > (off_t)SPR_JWKS_FILE_MAX) {
		rc = fail(&lc, S_ISREG(st.st_mode) ? -EFBIG : -EINVAL,
			  "%.200s: not a regular file of at most %u bytes", path,
			  SPR_JWKS_FILE_MAX);
		goto out;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		rc = fail(&lc, -ENOMEM, "out of memory");
		goto out;
	}
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			rc = fail(&lc, r < 0 ? -errno : -EIO, "%.200s: short read", path);
			goto out;
		}
		got += (size_t)r;
	}
	rc = spr_jwks_parse(buf, got, allow_hmac, out, why, whylen);
out:
	free(buf);
	close(fd);
	return rc;
}

int
spr_jwks_reload(struct spr_jwt_keys **slot, const char *path, bool allow_hmac, char *why,
		size_t whylen)
{
	struct spr_jwt_keys *ks;
	int rc = spr_jwks_load(path, allow_hmac, &ks, why, whylen);

	if (rc != 0)
		return rc;
	spr_jwks_free(*slot);
	*slot = ks;
	return 0;
}

uint32_t
spr_jwks_count(const struct spr_jwt_keys *ks)
{
	return ks ? ks->n : 0;
}

void
spr_jwks_free(struct spr_jwt_keys *ks)
{
	if (ks == NULL)
		return;
	for (uint32_t i = 0; i < ks->n; i++)
		key_clear(&ks->keys[i]);
	EVP_MD_CTX_free(ks->mdctx);
	for (int mi = 0; mi < SPR_JWS_MD__COUNT; mi++)
		EVP_MD_free(ks->md[mi]);
	free(ks);
}
