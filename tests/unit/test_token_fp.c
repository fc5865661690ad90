/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The token fingerprint (auth/token_fp.h) against a reference written from
 * its definition alone: GF(2^128) products bit by bit, the polynomial by
 * Horner over every block, AES-128 by OpenSSL. Each implementation this CPU
 * runs must give the reference's bytes, at every length that takes a
 * different path (masked tails, whole steps, runs of SPR_FP_RUN blocks).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "token_fp.h"

/* a * b in GF(2)[x] / (x^128 + x^7 + x^2 + x + 1), little-endian bytes, bit i = x^i */
static void
ref_mul(const uint8_t a_in[16], const uint8_t b[16], uint8_t r[16])
{
	uint8_t a[16], acc[16] = {0};

	memcpy(a, a_in, 16);
	for (int i = 0; i < 128; i++) {
		int carry;

		if ((b[i / 8] >> (i % 8)) & 1)
			for (int k = 0; k < 16; k++)
				acc[k] ^= a[k];
		carry = a[15] >> 7;
		for (int k = 15; k > 0; k--)
			a[k] = (uint8_t)(a[k] << 1 | a[k - 1] >> 7);
		a[0] = (uint8_t)(a[0] << 1);
		if (carry)
			a[0] ^= 0x87;
	}
	memcpy(r, acc, 16);
}

static void
ref_fp(const uint8_t key[16], const uint8_t h[16], const char *tok, uint32_t len, uint8_t out[16])
{
	uint8_t acc[16] = {0}, x[16];
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n = 0;

	/* Horner: ((b1 * H + b2) * H + ... + bn) * H */
	for (uint32_t off = 0; off < len; off += 16) {
		uint8_t b[16] = {0};

		memcpy(b, tok + off, len - off < 16 ? len - off : 16);
		for (int k = 0; k < 16; k++)
			acc[k] ^= b[k];
		ref_mul(acc, h, acc);
	}
	memcpy(x, acc, 16);
	for (int k = 0; k < 8; k++)
		x[k] ^= (uint8_t)((uint64_t)len >> (8 * k));
	assert_non_null(ctx);
	assert_int_equal(EVP_EncryptInit_ex(ctx, EVP_aes_128_ecb(), NULL, key, NULL), 1);
	EVP_CIPHER_CTX_set_padding(ctx, 0);
	assert_int_equal(EVP_EncryptUpdate(ctx, out, &n, x, 16), 1);
	assert_int_equal(n, 16);
	EVP_CIPHER_CTX_free(ctx);
}

static const uint32_t lens[] = {0,   1,   15,  16,  17,   31,   32,   33,   48,   63,
				64,  65,  100, 127, 128,  129,  858,  862,  1023, 4095,
				4096, 4097, 4111, 4160, 5000, 8192, 8193, 12345};

static void
matches_reference(void **state)
{
	enum spr_fp_impl best = spr_fp_best_impl();
	static char tok[12345];
	uint8_t rnd[32];
	int tried = 0;

	(void)state;
	if (best == SPR_FP_NONE)
		skip(); /* the cache keys by SHA-256 on this CPU: nothing to compare */
	for (uint32_t i = 0; i < sizeof(tok); i++)
		tok[i] = (char)('A' + (i * 7 + i / 13) % 58);
	for (int round = 0; round < 3; round++) {
		struct spr_fp_key *k = aligned_alloc(64, sizeof(*k));

		assert_non_null(k);
		assert_int_equal(RAND_bytes(rnd, sizeof(rnd)), 1);
		for (int impl = SPR_FP_PCLMUL; impl <= (int)best; impl++) {
			spr_fp_key_init(k, rnd, (enum spr_fp_impl)impl);
			for (size_t l = 0; l < sizeof(lens) / sizeof(lens[0]); l++) {
				struct spr_token_fp fp;
				uint8_t want[16];
				/* an odd start: the loads are unaligned in packets */
				const char *t = tok + (l % 7);
				uint32_t n = lens[l] <= sizeof(tok) - 7 ? lens[l] : sizeof(tok) - 7;

				ref_fp(rnd, k->h, t, n, want);
				spr_fp_compute(k, (enum spr_fp_impl)impl, t, n, &fp);
				if (memcmp(&fp, want, 16) != 0)
					fail_msg("impl %d, %u bytes: not the reference's", impl, n);
				tried++;
			}
		}
		free(k);
	}
	assert_true(tried >= 3 * (int)(sizeof(lens) / sizeof(lens[0])));
}

/* AES-128 itself: FIPS-197 appendix C.1 (the key schedule and rounds are ours). */
static void
aes_known_answer(void **state)
{
	static const uint8_t key_h[32] = {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
					  0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
					  /* H = 1: P is the XOR of the blocks */
					  1};
	static const uint8_t pt[16] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
				       0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};
	static const uint8_t ct[16] = {0x69, 0xc4, 0xe0, 0xd8, 0x6a, 0x7b, 0x04, 0x30,
				       0xd8, 0xcd, 0xb7, 0x80, 0x70, 0xb4, 0xc5, 0x5a};
	enum spr_fp_impl best = spr_fp_best_impl();
	struct spr_fp_key *k = aligned_alloc(64, sizeof(*k));
	char tok[16];

	(void)state;
	assert_non_null(k);
	if (best == SPR_FP_NONE) {
		free(k);
		skip();
	}
	/* P_1(tok) xor L = pt when tok = pt with len (16) taken out of byte 0 */
	memcpy(tok, pt, 16);
	tok[0] ^= 16;
	for (int impl = SPR_FP_PCLMUL; impl <= (int)best; impl++) {
		struct spr_token_fp fp;

		spr_fp_key_init(k, key_h, (enum spr_fp_impl)impl);
		spr_fp_compute(k, (enum spr_fp_impl)impl, tok, 16, &fp);
		assert_memory_equal(&fp, ct, 16);
	}
	free(k);
}

/* Any one byte changed, and the same bytes with a zero byte more, give other fingerprints. */
static void
every_byte_counts(void **state)
{
	enum spr_fp_impl best = spr_fp_best_impl();
	struct spr_fp_key *k = aligned_alloc(64, sizeof(*k));
	uint8_t rnd[32];
	char a[1100], b[1101];
	struct spr_token_fp fa, fb;

	(void)state;
	assert_non_null(k);
	if (best == SPR_FP_NONE) {
		free(k);
		skip();
	}
	assert_int_equal(RAND_bytes(rnd, sizeof(rnd)), 1);
	spr_fp_key_init(k, rnd, best);
	for (uint32_t i = 0; i < sizeof(a); i++)
		a[i] = (char)('a' + i % 26);
	spr_fp_compute(k, best, a, sizeof(a), &fa);
	for (uint32_t i = 0; i < sizeof(a); i++) {
		memcpy(b, a, sizeof(a));
		b[i] ^= 0x01;
		spr_fp_compute(k, best, b, sizeof(a), &fb);
		if (memcmp(&fa, &fb, 16) == 0)
			fail_msg("byte %u changed, same fingerprint", i);
	}
	memcpy(b, a, sizeof(a));
	b[sizeof(a)] = '\0';
	spr_fp_compute(k, best, b, sizeof(b), &fb);
	assert_memory_not_equal(&fa, &fb, 16);
	free(k);
}

/* RFC 6750 §2.1 b64token, written out: the scanner must agree with it on every octet value. */
static bool
ref_b64token(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
}

/*
 * spr_fp_scan_b64(): the first octet outside b64token as the reference
 * finds it, and P_H of the whole range (the fingerprint spr_fp_finish()
 * makes of it is spr_fp_compute()'s), for every octet value at every
 * position of a 64-byte step and its neighbours, at lengths that end in
 * masked and whole steps, from odd starts; NULL past SPR_FP_RUN blocks,
 * for nothing, and where the implementation is not VPCLMULQDQ.
 */
static void
scan_b64_matches(void **state)
{
	enum { MAX = 4096 + 64 };
	static char buf[MAX + 8];
	static const uint32_t slens[] = {1,   2,   15,	16,  17,  63,	64,  65,
					 127, 128, 129, 200, 858, 4095, 4096};
	struct spr_fp_key *k = aligned_alloc(64, sizeof(*k));
	uint8_t rnd[32];
	uint64_t poly[2];
	unsigned long checked = 0;

	(void)state;
	assert_non_null(k);
	assert_int_equal(RAND_bytes(rnd, sizeof(rnd)), 1);
	if (spr_fp_best_impl() >= SPR_FP_PCLMUL) {
		spr_fp_key_init(k, rnd, SPR_FP_PCLMUL);
		assert_null(spr_fp_scan_b64(k, SPR_FP_PCLMUL, buf, buf + 100, poly));
	}
	if (spr_fp_best_impl() != SPR_FP_VPCLMUL) {
		free(k);
		skip(); /* no one-pass scanner on this CPU: the parser checks tokens itself */
	}
	spr_fp_key_init(k, rnd, SPR_FP_VPCLMUL);
	assert_null(spr_fp_scan_b64(k, SPR_FP_VPCLMUL, buf, buf, poly));
	assert_null(spr_fp_scan_b64(k, SPR_FP_VPCLMUL, buf, buf + 4097, poly));
	for (uint32_t i = 0; i < sizeof(buf); i++)
		buf[i] = "ABCxyz019-._~+/"[i % 15];
	for (size_t li = 0; li < sizeof(slens) / sizeof(slens[0]); li++) {
		uint32_t n = slens[li];
		const char *t = buf + (li % 5);
		/* positions: each of the first 130 and the last 70, and a few between */
		for (uint32_t pos = 0; pos <= n; pos += (pos < 130 || pos + 70 >= n) ? 1 : 61) {
			for (int v = 0; v < 256; v += (pos == n ? 256 : 1)) {
				char *x = (char *)t + (pos < n ? pos : 0);
				/* and a bad octet in the next step: the first one found must win */
				char *y = (char *)t + (pos + 67 < n ? pos + 67 : 0);
				char saved = *x, saved_y = *y;
				const char *want = t + n, *got;
				struct spr_token_fp fp, fp2;

				if (pos + 67 < n)
					*y = ',';
				if (pos < n)
					*x = (char)v;
				for (uint32_t j = 0; j < n; j++)
					if (!ref_b64token((unsigned char)t[j])) {
						want = t + j;
						break;
					}
				poly[0] = poly[1] = 0x5a5a5a5a5a5a5a5aull;
				got = spr_fp_scan_b64(k, SPR_FP_VPCLMUL, t, t + n, poly);
				if (got != want)
					fail_msg("%u bytes, octet 0x%02x at %u: stops at %td, not "
						 "%td",
						 n, v, pos, got - t, want - t);
				spr_fp_finish(k, poly, n, &fp);
				spr_fp_compute(k, SPR_FP_VPCLMUL, t, n, &fp2);
				if (memcmp(&fp, &fp2, sizeof(fp)) != 0)
					fail_msg(
						"%u bytes, octet 0x%02x at %u: another fingerprint",
						n, v, pos);
				*x = saved;
				*y = saved_y;
				checked++;
			}
		}
	}
	assert_true(checked > 100000);
	free(k);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(matches_reference),
		cmocka_unit_test(aes_known_answer),
		cmocka_unit_test(every_byte_counts),
		cmocka_unit_test(scan_b64_matches),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
