/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The expiry calendar (control/expiry.c): each entry fires once, in the
 * first advance whose second has reached its time, never before; entries
 * beyond the calendar's span, in the past, kept by the callback; the budget;
 * the cap; a clock that jumps far ahead; duplicates.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "expiry.h"

#define T0 1700000000u

struct seen {
	uint32_t now;	 /* the second of the advance running */
	uint32_t n;	 /* calls */
	uint32_t keep;	 /* calls that keep the entry (return 1) */
	uint32_t *fired; /* per entry index (hash), the second it fired in; 0: not */
	uint32_t *count; /* per entry index, calls */
	uint8_t kind_of[4096];
	int bad;	 /* a call before the entry's time, or of the wrong kind */
};

static int
cb(uint8_t kind, uint64_t hash, uint32_t at, void *arg)
{
	struct seen *s = arg;

	s->n++;
	if (at > s->now)
		s->bad = 1;
	if (hash < 4096) {
		if (s->kind_of[hash] != kind)
			s->bad = 1;
		s->count[hash]++;
		if (s->fired[hash] == 0)
			s->fired[hash] = s->now;
	}
	if (s->keep != 0) {
		s->keep--;
		return 1;
	}
	return 0;
}

static void
seen_init(struct seen *s, uint32_t n)
{
	memset(s, 0, sizeof(*s));
	s->fired = calloc(n, sizeof(*s->fired));
	s->count = calloc(n, sizeof(*s->count));
	assert_non_null(s->fired);
	assert_non_null(s->count);
}

static void
seen_fini(struct seen *s)
{
	free(s->fired);
	free(s->count);
}

static uint32_t
adv(struct spr_exp *e, struct seen *s, uint32_t now, uint32_t budget)
{
	s->now = now;
	return spr_exp_advance(e, now, budget, cb, s);
}

/* Entries at many times, within and beyond the span, fire exactly in their second. */
static void
test_exact(void **state)
{
	struct spr_exp e;
	struct seen s;
	uint32_t at[1000];

	(void)state;
	seen_init(&s, 1000);
	assert_int_equal(spr_exp_init(&e, T0, 1u << 20), 0);
	srand(7);
	for (uint32_t i = 0; i < 1000; i++) {
		/* up to three spans ahead, some in this very second */
		at[i] = T0 + (uint32_t)rand() % (3 * SPR_EXP_SLOTS + 50);
		s.kind_of[i] = (uint8_t)(i % SPR_EXP_KINDS);
		assert_int_equal(spr_exp_add(&e, s.kind_of[i], i, at[i]), 0);
	}
	assert_int_equal(spr_exp_count(&e), 1000);
	/* nothing before its time */
	assert_int_equal(adv(&e, &s, T0 - 1, 100000), 0);
	for (uint32_t now = T0; now < T0 + 3 * SPR_EXP_SLOTS + 60; now++)
		adv(&e, &s, now, 100000);
	assert_false(s.bad);
	assert_int_equal(s.n, 1000);
	for (uint32_t i = 0; i < 1000; i++) {
		assert_int_equal(s.count[i], 1);
		assert_int_equal(s.fired[i], at[i]);
	}
	assert_int_equal(spr_exp_count(&e), 0);
	/* the empty blocks are kept for reuse, at most SPR_EXP_FREE_MAX */
	assert_true(e.blocks <= SPR_EXP_FREE_MAX);
	spr_exp_fini(&e);
	seen_fini(&s);
}

/* An advance may skip seconds: what fell due in them fires in it. */
static void
test_coarse_steps_and_past(void **state)
{
	struct spr_exp e;
	struct seen s;

	(void)state;
	seen_init(&s, 16);
	assert_int_equal(spr_exp_init(&e, T0, 100), 0);
	assert_int_equal(spr_exp_add(&e, 0, 1, T0 + 5), 0);
	assert_int_equal(spr_exp_add(&e, 0, 2, T0 + 9), 0);
	assert_int_equal(spr_exp_add(&e, 0, 3, T0 + 10), 0);
	assert_int_equal(adv(&e, &s, T0 + 9, 100), 2);
	assert_int_equal(s.fired[1], T0 + 9);
	assert_int_equal(s.fired[2], T0 + 9);
	assert_int_equal(s.fired[3], 0);
	/* a time already past fires at the next advance */
	assert_int_equal(spr_exp_add(&e, 0, 4, T0 - 100), 0);
	assert_int_equal(spr_exp_add(&e, 0, 5, T0 + 9), 0);
	assert_int_equal(adv(&e, &s, T0 + 9, 100), 0); /* second 9 has run already */
	assert_int_equal(adv(&e, &s, T0 + 10, 100), 3);
	assert_int_equal(s.fired[4], T0 + 10);
	assert_int_equal(s.fired[5], T0 + 10);
	assert_int_equal(s.fired[3], T0 + 10);
	/* duplicates of one hash: each fires */
	assert_int_equal(spr_exp_add(&e, 0, 6, T0 + 12), 0);
	assert_int_equal(spr_exp_add(&e, 0, 6, T0 + 12), 0);
	assert_int_equal(spr_exp_add(&e, 0, 6, T0 + 14), 0);
	assert_int_equal(adv(&e, &s, T0 + 13, 100), 2);
	assert_int_equal(adv(&e, &s, T0 + 14, 100), 1);
	assert_int_equal(s.count[6], 3);
	assert_false(s.bad);
	/* a clock going back runs nothing */
	assert_int_equal(spr_exp_add(&e, 0, 7, T0 + 20), 0);
	assert_int_equal(adv(&e, &s, T0 + 3, 100), 0);
	assert_int_equal(adv(&e, &s, T0 + 20, 100), 1);
	spr_exp_fini(&e);
	seen_fini(&s);
}

/* The budget bounds the entries handled; the rest comes at the next advance, in order of time. */
static void
test_budget(void **state)
{
	struct spr_exp e;
	struct seen s;
	uint32_t total = 0;

	(void)state;
	seen_init(&s, 500);
	assert_int_equal(spr_exp_init(&e, T0, 1000), 0);
	for (uint32_t i = 0; i < 500; i++) {
		s.kind_of[i] = (uint8_t)(i % SPR_EXP_KINDS);
		assert_int_equal(spr_exp_add(&e, s.kind_of[i], i, T0 + 1 + i % 2), 0);
	}
	for (int k = 0; k < 10; k++) {
		uint32_t got = adv(&e, &s, T0 + 2, 64);

		assert_true(got <= 64);
		total += got;
	}
	assert_int_equal(total, 500);
	assert_int_equal(spr_exp_count(&e), 0);
	for (uint32_t i = 0; i < 500; i++)
		assert_int_equal(s.count[i], 1);
	assert_false(s.bad);
	spr_exp_fini(&e);
	seen_fini(&s);
}

/* The callback keeps an entry (the owner's ring was full): it comes again the next second. */
static void
test_keep(void **state)
{
	struct spr_exp e;
	struct seen s;

	(void)state;
	seen_init(&s, 4);
	assert_int_equal(spr_exp_init(&e, T0, 10), 0);
	assert_int_equal(spr_exp_add(&e, 1, 2, T0 + 1), 0);
	s.kind_of[2] = 1;
	s.keep = 2;
	assert_int_equal(adv(&e, &s, T0 + 1, 10), 1);
	assert_int_equal(spr_exp_count(&e), 1);
	assert_int_equal(adv(&e, &s, T0 + 1, 10), 0); /* not again in the same second */
	assert_int_equal(adv(&e, &s, T0 + 2, 10), 1);
	assert_int_equal(adv(&e, &s, T0 + 3, 10), 1);
	assert_int_equal(s.count[2], 3);
	assert_int_equal(spr_exp_count(&e), 0);
	assert_int_equal(adv(&e, &s, T0 + 4, 10), 0);
	assert_false(s.bad);
	spr_exp_fini(&e);
	seen_fini(&s);
}

/* Past max entries an add is refused; bad kinds too. */
static void
test_cap(void **state)
{
	struct spr_exp e;
	struct seen s;

	(void)state;
	seen_init(&s, 8);
	assert_int_equal(spr_exp_init(&e, T0, 3), 0);
	for (uint64_t i = 0; i < 3; i++)
		assert_int_equal(spr_exp_add(&e, 0, i, T0 + 5), 0);
	assert_int_equal(spr_exp_add(&e, 0, 3, T0 + 5), -ENOSPC);
	assert_int_equal(spr_exp_add(&e, SPR_EXP_KINDS, 4, T0 + 5), -EINVAL);
	assert_int_equal(adv(&e, &s, T0 + 5, 10), 3);
	assert_int_equal(spr_exp_add(&e, 0, 3, T0 + 6), 0);
	spr_exp_fini(&e);
	seen_fini(&s);
}

/* A clock far ahead (a long stop): every due entry fires in one advance, later ones wait. */
static void
test_jump(void **state)
{
	struct spr_exp e;
	struct seen s;
	uint32_t far = T0 + 10 * SPR_EXP_SLOTS;

	(void)state;
	seen_init(&s, 8);
	assert_int_equal(spr_exp_init(&e, T0, 10), 0);
	assert_int_equal(spr_exp_add(&e, 0, 1, T0 + 3), 0);
	assert_int_equal(spr_exp_add(&e, 0, 2, T0 + 5 * SPR_EXP_SLOTS + 17), 0);
	assert_int_equal(spr_exp_add(&e, 0, 3, far + 1), 0);
	assert_int_equal(spr_exp_add(&e, 0, 4, far + 2 * SPR_EXP_SLOTS), 0);
	assert_int_equal(adv(&e, &s, far, 100), 2);
	assert_int_equal(s.fired[1], far);
	assert_int_equal(s.fired[2], far);
	assert_int_equal(adv(&e, &s, far + 1, 100), 1);
	assert_int_equal(s.fired[3], far + 1);
	assert_int_equal(adv(&e, &s, far + 2 * SPR_EXP_SLOTS - 1, 100), 0);
	assert_int_equal(adv(&e, &s, far + 2 * SPR_EXP_SLOTS, 100), 1);
	assert_false(s.bad);
	assert_int_equal(spr_exp_count(&e), 0);
	spr_exp_fini(&e);
	seen_fini(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exact),	      cmocka_unit_test(test_coarse_steps_and_past),
		cmocka_unit_test(test_budget),	      cmocka_unit_test(test_keep),
		cmocka_unit_test(test_cap),	      cmocka_unit_test(test_jump),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
