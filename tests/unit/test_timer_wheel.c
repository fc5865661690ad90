/* SPDX-License-Identifier: BSD-3-Clause */
/* The timing wheel: exact fire ticks across levels, cancel, budget, range clamp, time jumps. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "timer_wheel.h"

#define BASE_MS UINT64_C(1700000000000)

struct tt {
	struct spr_tw_timer t;
	uint64_t expires_ms; /* as asked */
	uint64_t due_ms;     /* expires_ms rounded up to the wheel's tick */
	uint32_t fires;
	uint64_t fired_at;
};

/* What the callback sees of the call that fires it. */
struct run {
	uint64_t now;
	uint64_t prev_now; /* now of the previous advance */
	uint64_t fired;
	bool check_exact; /* the call must be the first with now >= due */
};

static uint64_t
due_of(uint64_t base, uint32_t tick, uint64_t expires_ms)
{
	uint64_t d;

	if (expires_ms <= base)
		return base;
	d = expires_ms - base;
	return base + (d / tick + (d % tick != 0)) * tick;
}

static void
on_fire(struct spr_tw_timer *t, void *arg)
{
	struct tt *x = SPR_TW_ENTRY(t, struct tt, t);
	struct run *run = arg;

	assert_false(spr_tw_armed(t));
	assert_true(run->now >= x->due_ms);
	assert_true(run->now >= x->expires_ms);
	if (run->check_exact)
		assert_true(run->prev_now < x->due_ms);
	x->fires++;
	x->fired_at = run->now;
	run->fired++;
}

static uint32_t
advance(struct spr_tw *tw, struct run *run, uint64_t now, uint32_t budget)
{
	uint32_t n;

	run->now = now;
	n = spr_tw_advance(tw, now, budget, on_fire, run);
	run->prev_now = now;
	return n;
}

static void
arm(struct spr_tw *tw, struct tt *x, uint64_t expires_ms)
{
	x->expires_ms = expires_ms;
	x->due_ms = due_of(tw->base_ms, tw->tick_ms, expires_ms);
	spr_tw_add(tw, &x->t, expires_ms);
}

/* Delays (in ticks) on both sides of every level boundary and of the wheel's range. */
static const uint64_t boundary_ticks[] = {
	0,
	1,
	2,
	SPR_TW_SLOTS - 1,
	SPR_TW_SLOTS,
	SPR_TW_SLOTS + 1,
	2 * SPR_TW_SLOTS - 1,
	2 * SPR_TW_SLOTS,
	(UINT64_C(1) << 16) - 1,
	UINT64_C(1) << 16,
	(UINT64_C(1) << 16) + 1,
	(UINT64_C(1) << 16) + SPR_TW_SLOTS,
	(UINT64_C(1) << 24) - 1,
	UINT64_C(1) << 24,
	(UINT64_C(1) << 24) + 1,
	SPR_TW_RANGE - 1,
	SPR_TW_RANGE,
	SPR_TW_RANGE + 1,
	2 * SPR_TW_RANGE + 12345,
};

#define N_BOUNDARY (sizeof(boundary_ticks) / sizeof(boundary_ticks[0]))

/*
 * One timer per boundary delay, armed at a wheel position that is not
 * round: each fires exactly at its tick, not one call before.
 */
static void
check_boundaries(uint32_t tick, uint64_t start_ticks)
{
	static struct spr_tw tw;
	struct tt x[N_BOUNDARY];
	struct run run = {.check_exact = true};
	uint64_t now = BASE_MS + start_ticks * tick;

	memset(x, 0, sizeof(x));
	assert_int_equal(spr_tw_init(&tw, BASE_MS, tick), 0);
	run.prev_now = BASE_MS;
	assert_int_equal(advance(&tw, &run, now, UINT32_MAX), 0);
	for (uint32_t i = 0; i < N_BOUNDARY; i++) {
		arm(&tw, &x[i], now + boundary_ticks[i] * tick);
		assert_true(spr_tw_armed(&x[i].t));
	}
	assert_int_equal(spr_tw_count(&tw), N_BOUNDARY);
	for (uint32_t i = 0; i < N_BOUNDARY; i++) {
		uint64_t due = x[i].due_ms;

		if (boundary_ticks[i] == 0)
			run.prev_now = due - 1; /* armed after that advance */
		if (due > run.prev_now + 1) {
			assert_int_equal(advance(&tw, &run, due - 1, UINT32_MAX), 0);
			assert_int_equal(x[i].fires, 0);
		}
		advance(&tw, &run, due, UINT32_MAX);
		assert_int_equal(x[i].fires, 1);
		assert_int_equal(x[i].fired_at, due);
	}
	assert_int_equal(spr_tw_count(&tw), 0);
	assert_int_equal(run.fired, N_BOUNDARY);
}

static void
test_boundaries_tick1(void **state)
{
	check_boundaries(1, 0);
	check_boundaries(1, 77);
}

static void
test_boundaries_tick10(void **state)
{
	check_boundaries(10, 3 * SPR_TW_SLOTS + 5);
}

/* Expiries that are not a whole tick round up; past ones fire at the next advance. */
static void
test_rounding_and_past(void **state)
{
	static struct spr_tw tw;
	struct tt a = {0}, b = {0}, c = {0};
	struct run run = {0};

	assert_int_equal(spr_tw_init(&tw, BASE_MS, 0), -EINVAL);
	assert_int_equal(spr_tw_init(&tw, BASE_MS, 10), 0);
	arm(&tw, &a, BASE_MS + 11); /* due at +20 */
	assert_int_equal(spr_tw_expires_ms(&tw, &a.t), BASE_MS + 20);
	assert_int_equal(advance(&tw, &run, BASE_MS + 19, 10), 0);
	assert_int_equal(advance(&tw, &run, BASE_MS + 20, 10), 1);
	assert_int_equal(a.fired_at, BASE_MS + 20);

	arm(&tw, &b, BASE_MS + 5);     /* already past */
	arm(&tw, &c, BASE_MS - 10000); /* before the wheel's origin */
	assert_int_equal(advance(&tw, &run, BASE_MS + 20, 10), 2);
	assert_int_equal(b.fires, 1);
	assert_int_equal(c.fires, 1);

	/* a clock that goes back fires nothing new */
	arm(&tw, &a, BASE_MS + 30);
	assert_int_equal(advance(&tw, &run, BASE_MS, 10), 0);
	assert_int_equal(advance(&tw, &run, BASE_MS + 30, 10), 1);
	assert_int_equal(a.fires, 2);
}

static void
test_cancel(void **state)
{
	static struct spr_tw tw;
	struct tt x[6];
	struct run run = {.prev_now = BASE_MS};
	const uint64_t delays[] = {0, 5, 300, 70000, UINT64_C(1) << 25, SPR_TW_RANGE + 100};

	memset(x, 0, sizeof(x));
	assert_int_equal(spr_tw_init(&tw, BASE_MS, 1), 0);
	/* on a timer never armed */
	spr_tw_timer_init(&x[0].t);
	spr_tw_cancel(&tw, &x[0].t);
	assert_false(spr_tw_armed(&x[0].t));
	assert_int_equal(spr_tw_count(&tw), 0);

	for (uint32_t i = 0; i < 6; i++)
		arm(&tw, &x[i], BASE_MS + delays[i]);
	assert_int_equal(spr_tw_count(&tw), 6);
	for (uint32_t i = 0; i < 6; i += 2) {
		spr_tw_cancel(&tw, &x[i].t);
		assert_false(spr_tw_armed(&x[i].t));
		spr_tw_cancel(&tw, &x[i].t); /* twice */
	}
	assert_int_equal(spr_tw_count(&tw), 3);
	while (spr_tw_count(&tw) != 0)
		advance(&tw, &run, run.prev_now + (UINT64_C(1) << 30), UINT32_MAX);
	for (uint32_t i = 0; i < 6; i++)
		assert_int_equal(x[i].fires, i % 2);

	/* cancel after it fired, and cancel of the last timer of a slot then a new add there */
	spr_tw_cancel(&tw, &x[1].t);
	arm(&tw, &x[0], run.prev_now + 3);
	spr_tw_cancel(&tw, &x[0].t);
	arm(&tw, &x[2], run.prev_now + 3);
	assert_int_equal(advance(&tw, &run, run.prev_now + 3, UINT32_MAX), 1);
	assert_int_equal(x[0].fires, 0);
	assert_int_equal(x[2].fires, 1);
}

/* Adding an armed timer moves it: earlier, later, across levels; it fires once. */
static void
test_readd(void **state)
{
	static struct spr_tw tw;
	struct tt a = {0};
	struct run run = {.check_exact = true};

	assert_int_equal(spr_tw_init(&tw, BASE_MS, 1), 0);
	run.prev_now = BASE_MS;
	arm(&tw, &a, BASE_MS + 100000);
	arm(&tw, &a, BASE_MS + 50);
	assert_int_equal(spr_tw_count(&tw), 1);
	assert_int_equal(advance(&tw, &run, BASE_MS + 49, UINT32_MAX), 0);
	assert_int_equal(advance(&tw, &run, BASE_MS + 50, UINT32_MAX), 1);

	arm(&tw, &a, BASE_MS + 60);
	arm(&tw, &a, BASE_MS + 70000);
	assert_int_equal(advance(&tw, &run, BASE_MS + 69999, UINT32_MAX), 0);
	assert_int_equal(advance(&tw, &run, BASE_MS + 70000, UINT32_MAX), 1);
	assert_int_equal(a.fires, 2);
	assert_int_equal(spr_tw_count(&tw), 0);
}

struct periodic {
	struct spr_tw *tw;
	struct run run;
	struct tt x;
	uint32_t left;
};

static void
on_periodic(struct spr_tw_timer *t, void *arg)
{
	struct periodic *p = arg;

	on_fire(t, &p->run);
	if (--p->left != 0)
		arm(p->tw, &p->x, p->run.now + 7);
}

/* A callback may arm its own timer again. */
static void
test_rearm_in_callback(void **state)
{
	static struct spr_tw tw;
	struct periodic p = {.tw = &tw, .left = 5};
	uint64_t now = BASE_MS;

	assert_int_equal(spr_tw_init(&tw, BASE_MS, 1), 0);
	arm(&tw, &p.x, BASE_MS + 7);
	while (p.left != 0) {
		now++;
		p.run.now = now;
		spr_tw_advance(&tw, now, UINT32_MAX, on_periodic, &p);
	}
	assert_int_equal(p.x.fires, 5);
	assert_int_equal(now, BASE_MS + 35);
}

/* Timers left over by the budget fire first in the next calls, never early, never lost. */
static void
test_budget_carry_over(void **state)
{
	static struct spr_tw tw;
	static struct tt x[305];
	struct run run = {0};
	uint32_t total = 0;

	memset(x, 0, sizeof(x));
	assert_int_equal(spr_tw_init(&tw, BASE_MS, 1), 0);
	for (uint32_t i = 0; i < 300; i++)
		arm(&tw, &x[i], BASE_MS + 10);
	for (uint32_t i = 300; i < 305; i++)
		arm(&tw, &x[i], BASE_MS + 20);
	assert_int_equal(advance(&tw, &run, BASE_MS + 15, 100), 100);
	assert_int_equal(advance(&tw, &run, BASE_MS + 15, 100), 100);
	assert_int_equal(advance(&tw, &run, BASE_MS + 15, 0), 0);
	assert_int_equal(advance(&tw, &run, BASE_MS + 15, 100), 100);
	assert_int_equal(advance(&tw, &run, BASE_MS + 15, 100), 0);
	for (uint32_t i = 300; i < 305; i++)
		assert_int_equal(x[i].fires, 0);
	assert_int_equal(advance(&tw, &run, BASE_MS + 19, 100), 0);

	/* the ones of tick 20 wait behind leftovers of tick 10 */
	for (uint32_t i = 0; i < 10; i++)
		arm(&tw, &x[i], BASE_MS + 10);
	assert_int_equal(advance(&tw, &run, BASE_MS + 100, 4), 4);
	for (uint32_t i = 300; i < 305; i++)
		assert_int_equal(x[i].fires, 0);
	while (total < 11)
		total += advance(&tw, &run, BASE_MS + 100, 1);
	for (uint32_t i = 0; i < 305; i++)
		assert_int_equal(x[i].fires, i < 10 ? 2u : 1u);
	assert_int_equal(spr_tw_count(&tw), 0);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t
rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* Delay in ms spread over every level, and a few past the range. */
static uint64_t
random_delay(uint32_t tick)
{
	uint64_t r = rnd() % 100;
	uint64_t span;

	if (r < 40)
		span = SPR_TW_SLOTS;
	else if (r < 70)
		span = UINT64_C(1) << 16;
	else if (r < 90)
		span = UINT64_C(1) << 24;
	else if (r < 99)
		span = SPR_TW_RANGE;
	else
		span = SPR_TW_RANGE + SPR_TW_RANGE / 4;
	return rnd() % (span * tick);
}

/*
 * 100k timers at random delays over every level, advanced by random steps
 * (mostly short, sometimes hours): each fires once, in the first call whose
 * now has reached its expiry rounded up to the tick.
 */
static void
test_random_100k(void **state)
{
	enum { N = 100000 };
	static struct spr_tw tw;
	struct tt *x = calloc(N, sizeof(*x));
	struct run run = {.check_exact = true};
	const uint32_t tick = 10;
	uint64_t now = BASE_MS;

	assert_non_null(x);
	assert_int_equal(spr_tw_init(&tw, BASE_MS, tick), 0);
	run.prev_now = now - 1; /* no advance yet */
	for (uint32_t i = 0; i < N; i++)
		arm(&tw, &x[i], now + random_delay(tick));
	/* cancel and re-arm some so the lists see deletes in the middle */
	for (uint32_t i = 0; i < N; i += 7) {
		spr_tw_cancel(&tw, &x[i].t);
		arm(&tw, &x[i], now + random_delay(tick));
	}
	while (spr_tw_count(&tw) != 0) {
		uint64_t r = rnd() % 1000;

		if (r == 0)
			now += rnd() % (UINT64_C(4) * 3600 * 1000);
		else if (r == 1)
			now += rnd() % (UINT64_C(40) * 24 * 3600 * 1000);
		else
			now += 1 + rnd() % (5 * tick);
		advance(&tw, &run, now, UINT32_MAX);
	}
	assert_int_equal(run.fired, N);
	for (uint32_t i = 0; i < N; i++)
		assert_int_equal(x[i].fires, 1);
	free(x);
}

/*
 * A jump of hours fires at most budget per call; every timer fires once, in
 * some call at or after its time, and all of them by the end.
 */
static void
test_time_jump_budget(void **state)
{
	enum { N = 20000, BUDGET = 128 };
	static struct spr_tw tw;
	struct tt *x = calloc(N, sizeof(*x));
	struct run run = {0};
	const uint64_t hours = UINT64_C(3600) * 1000;
	uint32_t calls = 0, n;

	assert_non_null(x);
	assert_int_equal(spr_tw_init(&tw, BASE_MS, 1), 0);
	for (uint32_t i = 0; i < N; i++)
		arm(&tw, &x[i], BASE_MS + rnd() % (5 * hours));
	arm(&tw, &x[0], BASE_MS + 7 * hours); /* beyond the jump */
	while ((n = advance(&tw, &run, BASE_MS + 6 * hours, BUDGET)) != 0) {
		assert_true(n <= BUDGET);
		calls++;
	}
	assert_int_equal(run.fired, N - 1);
	assert_int_equal(calls, (N - 1 + BUDGET - 1) / BUDGET);
	assert_int_equal(x[0].fires, 0);
	assert_int_equal(spr_tw_count(&tw), 1);
	assert_int_equal(advance(&tw, &run, BASE_MS + 7 * hours - 1, BUDGET), 0);
	assert_int_equal(advance(&tw, &run, BASE_MS + 7 * hours, BUDGET), 1);
	for (uint32_t i = 0; i < N; i++)
		assert_int_equal(x[i].fires, 1);
	free(x);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_boundaries_tick1),
		cmocka_unit_test(test_boundaries_tick10),
		cmocka_unit_test(test_rounding_and_past),
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_readd),
		cmocka_unit_test(test_rearm_in_callback),
		cmocka_unit_test(test_budget_carry_over),
		cmocka_unit_test(test_random_100k),
		cmocka_unit_test(test_time_jump_budget),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
