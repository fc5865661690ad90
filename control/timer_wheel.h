/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Hierarchical timing wheel (Varghese & Lauck), intrusive timers.
 *
 * SPR_TW_LEVELS levels of SPR_TW_SLOTS slots; a timer lives in the level
 * whose span covers its distance from the wheel's current tick and moves
 * down a level ("cascades") as the wheel turns. Add and cancel are O(1);
 * nothing is allocated after spr_tw_init. Expiries beyond the wheel's range
 * (SPR_TW_RANGE ticks) wait in the last slot and are placed again each time
 * that slot comes round, so no expiry is ever shortened.
 *
 * Time is in milliseconds from any monotonic origin (the caller's clock);
 * the wheel counts ticks of tick_ms from the now_ms given to spr_tw_init.
 * A timer fires in the first spr_tw_advance whose now_ms has reached its
 * expiry rounded up to a whole tick: never early, at most one tick late
 * when advance is called at least once a tick and the budget suffices.
 *
 * Context: one thread (the control thread) owns a wheel and its timers;
 * no function here is safe to call concurrently on the same wheel.
 */
#ifndef SPR_TIMER_WHEEL_H
#define SPR_TIMER_WHEEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SPR_TW_LEVELS 4u
#define SPR_TW_SLOT_BITS 8u
#define SPR_TW_SLOTS (1u << SPR_TW_SLOT_BITS)
#define SPR_TW_RANGE (UINT64_C(1) << (SPR_TW_LEVELS * SPR_TW_SLOT_BITS)) /* ticks */

struct spr_tw_link {
	struct spr_tw_link *next;
	struct spr_tw_link *prev;
};

/*
 * Embed in the object the timer belongs to; recover the object in the
 * callback with SPR_TW_ENTRY. Zeroed memory (or spr_tw_timer_init) is a
 * timer that is not armed. Fields are the wheel's.
 */
struct spr_tw_timer {
	struct spr_tw_link link; /* NULLs when not armed */
	uint64_t expires;	 /* tick */
};

#define SPR_TW_ENTRY(tp, type, member) ((type *)((char *)(tp)-offsetof(type, member)))

struct spr_tw {
	uint64_t base_ms;
	uint64_t now; /* next tick to run; ticks before it have run */
	uint32_t tick_ms;
	uint32_t armed;
	uint64_t occupied[SPR_TW_SLOTS / 64]; /* level 0: bit set if the slot may hold timers */
	struct spr_tw_link due;		      /* armed with an expiry already past: next advance */
	struct spr_tw_link slot[SPR_TW_LEVELS][SPR_TW_SLOTS];
};

/* Called for each timer that fires, already disarmed: fn may arm it again or free it. */
typedef void (*spr_tw_fn)(struct spr_tw_timer *t, void *arg);

/* Start an empty wheel at now_ms. Returns 0, or -EINVAL when tick_ms is 0. */
int spr_tw_init(struct spr_tw *tw, uint64_t now_ms, uint32_t tick_ms);

static inline void
spr_tw_timer_init(struct spr_tw_timer *t)
{
	t->link.next = NULL;
	t->link.prev = NULL;
	t->expires = 0;
}

static inline bool
spr_tw_armed(const struct spr_tw_timer *t)
{
	return t->link.next != NULL;
}

/*
 * Arm t to fire at expires_ms; an armed t is moved. An expiry already past
 * fires at the next spr_tw_advance. Context: the wheel's thread, also from
 * inside a spr_tw_fn.
 */
void spr_tw_add(struct spr_tw *tw, struct spr_tw_timer *t, uint64_t expires_ms);

/* Disarm t; nothing happens when t is not armed. Context: as spr_tw_add. */
void spr_tw_cancel(struct spr_tw *tw, struct spr_tw_timer *t);

/*
 * Turn the wheel to now_ms and fire at most budget timers whose time has
 * come; those left over fire in later calls, before any timer of a later
 * tick. The work done besides firing is bounded by the number of
 * SPR_TW_SLOTS-tick rounds crossed. Returns the number fired.
 * Context: the wheel's thread, not from inside a spr_tw_fn.
 */
uint32_t spr_tw_advance(struct spr_tw *tw, uint64_t now_ms, uint32_t budget, spr_tw_fn fn,
			void *arg);

/* When an armed t fires at the earliest: its expiry rounded up to the wheel's tick (ms). */
static inline uint64_t
spr_tw_expires_ms(const struct spr_tw *tw, const struct spr_tw_timer *t)
{
	return tw->base_ms + t->expires * tw->tick_ms;
}

/* Timers armed. */
static inline uint32_t
spr_tw_count(const struct spr_tw *tw)
{
	return tw->armed;
}

#endif /* SPR_TIMER_WHEEL_H */
