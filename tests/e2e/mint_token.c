/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Test helper for tests/e2e/auth.sh: RSA keys, a JWK Set of their public
 * halves, and RS256 JWTs signed with them (python3's standard library has
 * no RSA signing). Not part of sprd.
 *
 *   mint_token keygen KEY.pem                    a new RSA-2048 private key
 *   mint_token jwks KID KEY.pem [KID KEY.pem]... the JWK Set, on stdout
 *   mint_token token KEY.pem KID SUB SCOPE EXP [AUD [ISS]]
 *                                                the token, on stdout; EXP
 *                                                "+N" is now + N seconds;
 *                                                SCOPE "-" leaves scope out
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "jwt_mint.h" /* spr_b64url_encode */

static EVP_PKEY *
read_key(const char *path)
{
	FILE *f = fopen(path, "r");
	EVP_PKEY *pk;

	if (f == NULL) {
		perror(path);
		exit(1);
	}
	pk = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (pk == NULL) {
		fprintf(stderr, "%s: not a PEM private key\n", path);
		exit(1);
	}
	return pk;
}

static void
bn_b64(EVP_PKEY *pk, const char *param, char *out)
{
	BIGNUM *bn = NULL;
	unsigned char buf[1024];
	int n;

	if (!EVP_PKEY_get_bn_param(pk, param, &bn) || (n = BN_bn2bin(bn, buf)) <= 0) {
		fprintf(stderr, "cannot read %s\n", param);
		exit(1);
	}
	spr_b64url_encode(buf, (size_t)n, out);
	BN_free(bn);
}

static int
keygen(const char *path)
{
	EVP_PKEY *pk = EVP_RSA_gen(2048);
	FILE *f = fopen(path, "w");

	if (pk == NULL || f == NULL || !PEM_write_PrivateKey(f, pk, NULL, NULL, 0, NULL, NULL)) {
		fprintf(stderr, "keygen %s failed\n", path);
		return 1;
	}
	fclose(f);
	EVP_PKEY_free(pk);
	return 0;
}

static int
jwks(int argc, char **argv)
{
	printf("{\"keys\":[");
	for (int i = 0; i + 1 < argc; i += 2) {
		EVP_PKEY *pk = read_key(argv[i + 1]);
		char n[1400], e[16];

		bn_b64(pk, OSSL_PKEY_PARAM_RSA_N, n);
		bn_b64(pk, OSSL_PKEY_PARAM_RSA_E, e);
		printf("%s{\"kty\":\"RSA\",\"kid\":\"%s\",\"use\":\"sig\",\"alg\":\"RS256\","
		       "\"n\":\"%s\",\"e\":\"%s\"}",
		       i == 0 ? "" : ",", argv[i], n, e);
		EVP_PKEY_free(pk);
	}
	printf("]}\n");
	return 0;
}

static int
token(int argc, char **argv)
{
	EVP_PKEY *pk = read_key(argv[0]);
	const char *kid = argv[1], *sub = argv[2], *scope = argv[3], *exp = argv[4];
	const char *aud = argc > 5 ? argv[5] : NULL, *iss = argc > 6 ? argv[6] : NULL;
	char header[256], payload[2048], scope_kv[600] = "", aud_kv[300] = "", iss_kv[300] = "";
	char msg[4096], sigb[600];
	unsigned char sig[512];
	size_t siglen = sizeof(sig), o;
	long long e = exp[0] == '+' ? (long long)time(NULL) + atoll(exp + 1) : atoll(exp);
	EVP_MD_CTX *md = EVP_MD_CTX_new();

	snprintf(header, sizeof(header), "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"%s\"}", kid);
	if (strcmp(scope, "-") != 0)
		snprintf(scope_kv, sizeof(scope_kv), ",\"scope\":\"%s\"", scope);
	if (aud != NULL && aud[0] != '\0')
		snprintf(aud_kv, sizeof(aud_kv), ",\"aud\":\"%s\"", aud);
	if (iss != NULL && iss[0] != '\0')
		snprintf(iss_kv, sizeof(iss_kv), ",\"iss\":\"%s\"", iss);
	snprintf(payload, sizeof(payload), "{\"sub\":\"%s\",\"exp\":%lld,\"iat\":%lld%s%s%s}", sub, e,
		 (long long)time(NULL), scope_kv, aud_kv, iss_kv);
	o = spr_b64url_encode((const unsigned char *)header, strlen(header), msg);
	msg[o++] = '.';
	o += spr_b64url_encode((const unsigned char *)payload, strlen(payload), msg + o);
	if (md == NULL || EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, pk) != 1 ||
	    EVP_DigestSign(md, sig, &siglen, (const unsigned char *)msg, o) != 1) {
		fprintf(stderr, "signing failed\n");
		return 1;
	}
	spr_b64url_encode(sig, siglen, sigb);
	printf("%s.%s\n", msg, sigb);
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(pk);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "keygen") == 0)
		return keygen(argv[2]);
	if (argc >= 4 && argc % 2 == 0 && strcmp(argv[1], "jwks") == 0)
		return jwks(argc - 2, argv + 2);
	if (argc >= 7 && argc <= 9 && strcmp(argv[1], "token") == 0)
		return token(argc - 2, argv + 2);
	fprintf(stderr, "usage: mint_token keygen KEY.pem | jwks KID KEY.pem... | "
			"token KEY.pem KID SUB SCOPE EXP [AUD [ISS]]\n");
	return 2;
}
