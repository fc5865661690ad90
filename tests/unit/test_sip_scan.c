/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The parser's block classifier (dataplane/sip_scan.h): the portable one
 * against the definition written out here octet by octet, and every
 * implementation this CPU runs (SSE2, AVX2, AVX-512BW) against the portable one, on
 * random buffers, on every octet value at every position of a block, on
 * every length around the block edges and on every block range, each buffer
 * flush against a guard page (no read at or past the end).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sip_scan.h"
#include "testutil.h"

#define MAXLEN 700u
#define NBLK (MAXLEN / SPR_SIP_SCAN_BLK + 2)

/* The definition: LF; special = not ALPHA / DIGIT / "-" / "."; past len: special, not LF. */
static void
expect_blocks(const char *p, uint32_t len, uint32_t b0, uint32_t b1, uint64_t *lfo, uint64_t *spo)
{
	for (uint32_t b = b0; b < b1; b++) {
		uint64_t lf = 0, sp = 0;
		for (uint32_t i = 0; i < SPR_SIP_SCAN_BLK; i++) {
			uint32_t o = b * SPR_SIP_SCAN_BLK + i;
			unsigned char c = o < len ? (unsigned char)p[o] : 0;
			bool plain = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
				     (c >= 'a' && c <= 'z') || c == '-' || c == '.';
			if (o < len && c == '\n')
				lf |= 1ull << i;
			if (o >= len || !plain)
				sp |= 1ull << i;
		}
		lfo[b] = lf;
		spo[b] = sp;
	}
}

static unsigned checked[SPR_SIP_SCAN__COUNT];

/* Every supported implementation on blocks [b0, b1) of buf[0..len), guarded, against the
 * definition. */
static void
check(const char *buf, uint32_t len, uint32_t b0, uint32_t b1, const char *what)
{
	uint64_t want_lf[NBLK], want_sp[NBLK], lf[NBLK], sp[NBLK];
	char *g = spr_test_guard_copy(buf, len);

	assert_non_null(g);
	assert_true(b1 <= NBLK);
	expect_blocks(g, len, b0, b1, want_lf, want_sp);
	for (int isa = 0; isa < SPR_SIP_SCAN__COUNT; isa++) {
		if (!spr_sip_scan_supported((enum spr_sip_scan_isa)isa))
			continue;
		memset(lf, 0x5a, sizeof(lf));
		memset(sp, 0x5a, sizeof(sp));
		spr_sip_scan_isa((enum spr_sip_scan_isa)isa, g, len, b0, b1, lf, sp);
		for (uint32_t b = b0; b < b1; b++)
			if (lf[b] != want_lf[b] || sp[b] != want_sp[b])
				fail_msg("%s: %s, len %u, block %u of [%u, %u): lf %016llx sp "
					 "%016llx, "
					 "want lf %016llx sp %016llx",
					 what, spr_sip_scan_name((enum spr_sip_scan_isa)isa), len,
					 b, b0, b1, (unsigned long long)lf[b],
					 (unsigned long long)sp[b], (unsigned long long)want_lf[b],
					 (unsigned long long)want_sp[b]);
		checked[isa]++;
	}
	spr_test_guard_free(g, len);
}

static void
test_supported(void **state)
{
	(void)state;
	assert_true(spr_sip_scan_supported(SPR_SIP_SCAN_SCALAR));
	assert_true(spr_sip_scan_supported(spr_sip_scan_selected()));
	assert_int_equal(spr_sip_scan_select(SPR_SIP_SCAN__COUNT), -ENOTSUP);
	for (int isa = 0; isa < SPR_SIP_SCAN__COUNT; isa++) {
		int rc = spr_sip_scan_select((enum spr_sip_scan_isa)isa);
		printf("%-8s %s\n", spr_sip_scan_name((enum spr_sip_scan_isa)isa),
		       rc == 0 ? "supported" : "not supported here");
		if (rc == 0)
			assert_int_equal(spr_sip_scan_selected(), isa);
	}
	assert_int_equal(spr_sip_scan_select(SPR_SIP_SCAN_SCALAR), 0);
	assert_int_equal(spr_sip_scan_selected(), SPR_SIP_SCAN_SCALAR);
}

/* Every octet value at every position of two blocks, over a plain and over a special background. */
static void
test_every_octet(void **state)
{
	char buf[2 * SPR_SIP_SCAN_BLK];

	(void)state;
	for (int bg = 0; bg < 2; bg++) {
		for (uint32_t pos = 0; pos < sizeof(buf); pos++) {
			for (int c = 0; c < 256; c++) {
				memset(buf, bg ? ';' : 'a', sizeof(buf));
				buf[pos] = (char)c;
				check(buf, sizeof(buf), 0, 3, "every octet");
			}
		}
	}
}

/* Every length from 0 to MAXLEN (the partial last block), every block range. */
static void
test_lengths_and_ranges(void **state)
{
	char buf[MAXLEN];
	uint64_t x = 0x9e3779b97f4a7c15ull;

	(void)state;
	for (uint32_t i = 0; i < MAXLEN; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		/* mostly SIP text: letters, digits and the grammar's delimiters */
		buf[i] = "aZ9-.:;,=@<>\" \t\r\n/%_~!\x80\xff\x00"[x % 25];
	}
	for (uint32_t len = 0; len <= MAXLEN; len++) {
		uint32_t nb = len / SPR_SIP_SCAN_BLK + 1;
		check(buf, len, 0, nb, "whole");
		for (uint32_t b0 = 0; b0 < nb; b0++)
			for (uint32_t b1 = b0 + 1; b1 <= nb + 1; b1++)
				if (len % 37 == 0 || b1 - b0 == 1)
					check(buf, len, b0, b1, "range");
	}
}

/* Random octets, random lengths. */
static void
test_random(void **state)
{
	char buf[MAXLEN];
	uint64_t x = 88172645463325252ull;

	(void)state;
	for (int round = 0; round < 20000; round++) {
		uint32_t len;
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		len = (uint32_t)(x % MAXLEN);
		for (uint32_t i = 0; i < len; i++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			buf[i] = (char)(x >> 24);
		}
		check(buf, len, 0, len / SPR_SIP_SCAN_BLK + 1, "random");
	}
	for (int isa = 0; isa < SPR_SIP_SCAN__COUNT; isa++)
		printf("%-8s %u buffers identical to the definition\n",
		       spr_sip_scan_name((enum spr_sip_scan_isa)isa), checked[isa]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_supported),
		cmocka_unit_test(test_every_octet),
		cmocka_unit_test(test_lengths_and_ranges),
		cmocka_unit_test(test_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
