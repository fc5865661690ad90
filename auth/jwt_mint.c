/* SPDX-License-Identifier: BSD-3-Clause */
/* ES256 tokens minted with libjwt for tests and benchmarks (contract in jwt_mint.h). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jwt.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "jwt_mint.h"

struct spr_jwt_minter {
	char kid[65];
	unsigned char *pem; /* the private key, PEM: what libjwt 1.10 takes */
	int pem_len;
	char jwks[512];
};

/* Coordinate param of pk, 32 bytes big-endian, as base64url into out (44 bytes). */
static int
coord(EVP_PKEY *pk, const char *param, char *out)
{
	BIGNUM *bn = NULL;
	uint8_t b[32];
	int ok = EVP_PKEY_get_bn_param(pk, param, &bn) == 1 && BN_bn2binpad(bn, b, 32) == 32;

	BN_free(bn);
	if (!ok)
		return -EIO;
	spr_b64url_encode(b, 32, out);
	return 0;
}

struct spr_jwt_minter *
spr_jwt_minter_new(const char *kid)
{
	struct spr_jwt_minter *m;
	EVP_PKEY *pk = NULL;
	BIO *bio = NULL;
	char x[48], y[48];
	char *data;
	long n;
	size_t kl = kid ? strlen(kid) : 0;

	if (kl == 0 || kl > 64 || strspn(kid, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
					       "0123456789._-") != kl)
		return NULL;
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return NULL;
	memcpy(m->kid, kid, kl + 1);
	if ((pk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")) == NULL ||
	    coord(pk, OSSL_PKEY_PARAM_EC_PUB_X, x) != 0 ||
	    coord(pk, OSSL_PKEY_PARAM_EC_PUB_Y, y) != 0 || (bio = BIO_new(BIO_s_mem())) == NULL ||
	    PEM_write_bio_PrivateKey(bio, pk, NULL, NULL, 0, NULL, NULL) != 1 ||
	    (n = BIO_get_mem_data(bio, &data)) <= 0 || (m->pem = malloc((size_t)n)) == NULL)
		goto fail;
	memcpy(m->pem, data, (size_t)n);
	m->pem_len = (int)n;
	snprintf(m->jwks, sizeof(m->jwks),
		 "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"%s\",\"use\":\"sig\","
		 "\"alg\":\"ES256\",\"x\":\"%s\",\"y\":\"%s\"}]}",
		 kid, x, y);
	BIO_free(bio);
	EVP_PKEY_free(pk);
	return m;
fail:
	BIO_free(bio);
	EVP_PKEY_free(pk);
	spr_jwt_minter_free(m);
	return NULL;
}

void
spr_jwt_minter_free(struct spr_jwt_minter *m)
{
	if (m == NULL)
		return;
	if (m->pem != NULL)
		OPENSSL_cleanse(m->pem, (size_t)m->pem_len);
	free(m->pem);
	free(m);
}

const char *
spr_jwt_minter_jwks(const struct spr_jwt_minter *m)
{
	return m->jwks;
}

int
spr_jwt_mint(struct spr_jwt_minter *m, const char *claims_json, char *out, size_t cap)
{
	jwt_t *j = NULL;
	char *s = NULL;
	size_t n;
	int rc = -EIO;

	if (jwt_new(&j) != 0)
		return -ENOMEM;
	if (jwt_add_grants_json(j, claims_json) != 0) {
		rc = -EINVAL;
		goto out;
	}
	if (jwt_add_header(j, "kid", m->kid) != 0 ||
	    jwt_set_alg(j, JWT_ALG_ES256, m->pem, m->pem_len) != 0 ||
	    (s = jwt_encode_str(j)) == NULL)
		goto out;
	n = strlen(s);
	if (n + 1 > cap) {
		rc = -ENOSPC;
		goto out;
	}
	memcpy(out, s, n + 1);
	rc = (int)n;
out:
	free(s);
	jwt_free(j);
	return rc;
}
