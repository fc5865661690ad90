/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Hierarchical timing wheel. A timer of expiry tick e, placed when the wheel
 * is at tick now, goes to level L when e - now < SLOTS^(L+1), in slot
 * (e >> L*BITS) % SLOTS. Level L > 0 slot i is emptied into the lower levels
 * at the first tick t with t % SLOTS^L == 0 and (t >> L*BITS) % SLOTS == i:
 * that tick lies in (now, e], so every timer reaches level 0 by its tick.
 */
#include <errno.h>
#include <stdint.h>

#include "timer_wheel.h"

#define SPR_TW_MASK ((uint64_t)SPR_TW_SLOTS - 1)

static inline void
link_init(struct spr_tw_link *head)
{
	head->next = head;
	head->prev = head;
}

static inline bool
link_empty(const struct spr_tw_link *head)
{
	return head->next == head;
}

static inline void
link_add_tail(struct spr_tw_link *head, struct spr_tw_link *l)
{
	l->prev = head->prev;
	l->next = head;
	head->prev->next = l;
	head->prev = l;
}

static inline void
link_del(struct spr_tw_link *l)
{
	l->prev->next = l->next;
	l->next->prev = l->prev;
	l->next = NULL;
	l->prev = NULL;
}

/* Move every entry of from (left empty) onto the empty list to. */
static inline void
link_move(struct spr_tw_link *from, struct spr_tw_link *to)
{
	if (link_empty(from)) {
		link_init(to);
		return;
	}
	*to = *from;
	to->next->prev = to;
	to->prev->next = to;
	link_init(from);
}

int
spr_tw_init(struct spr_tw *tw, uint64_t now_ms, uint32_t tick_ms)
{
	if (tick_ms == 0)
		return -EINVAL;
	tw->base_ms = now_ms;
	tw->now = 0;
	tw->tick_ms = tick_ms;
	tw->armed = 0;
	for (uint32_t i = 0; i < SPR_TW_SLOTS / 64; i++)
		tw->occupied[i] = 0;
	link_init(&tw->due);
	for (uint32_t l = 0; l < SPR_TW_LEVELS; l++)
		for (uint32_t s = 0; s < SPR_TW_SLOTS; s++)
			link_init(&tw->slot[l][s]);
	return 0;
}

/* Put an unlinked timer where its expiry tick belongs, seen from tw->now. */
static void
tw_place(struct spr_tw *tw, struct spr_tw_timer *t)
{
	uint64_t e = t->expires, d;
	struct spr_tw_link *head;
	uint32_t level;

	if (e < tw->now) {
		link_add_tail(&tw->due, &t->link);
		return;
	}
	d = e - tw->now;
	if (d < SPR_TW_SLOTS) {
		uint32_t s = (uint32_t)(e & SPR_TW_MASK);

		tw->occupied[s / 64] |= UINT64_C(1) << (s % 64);
		link_add_tail(&tw->slot[0][s], &t->link);
		return;
	}
	if (d >= SPR_TW_RANGE) {
		d = SPR_TW_RANGE - 1;
		e = tw->now + d;
	}
	level = (uint32_t)(63 - __builtin_clzll(d)) / SPR_TW_SLOT_BITS;
	head = &tw->slot[level][(e >> (level * SPR_TW_SLOT_BITS)) & SPR_TW_MASK];
	link_add_tail(head, &t->link);
}

/* Tick tw->now starts a new round of level 0: bring the next slots of the upper levels down. */
static void
tw_cascade(struct spr_tw *tw)
{
	for (uint32_t level = 1; level < SPR_TW_LEVELS; level++) {
		uint64_t idx = (tw->now >> (level * SPR_TW_SLOT_BITS)) & SPR_TW_MASK;
		struct spr_tw_link list;

		link_move(&tw->slot[level][idx], &list);
		while (!link_empty(&list)) {
			struct spr_tw_link *l = list.next;

			link_del(l);
			tw_place(tw, SPR_TW_ENTRY(l, struct spr_tw_timer, link));
		}
		if (idx != 0)
			break;
	}
}

/*
 * The level-0 slot of tw->now is empty: move to the next tick whose slot may
 * hold timers, to the next round (cascading), or to end, whichever is first.
 */
static void
tw_skip(struct spr_tw *tw, uint64_t end)
{
	uint64_t round = tw->now & ~SPR_TW_MASK, next = round + SPR_TW_SLOTS;
	uint32_t s = (uint32_t)(tw->now & SPR_TW_MASK) + 1;

	while (s < SPR_TW_SLOTS) {
		uint64_t w = tw->occupied[s / 64] >> (s % 64);

		if (w != 0) {
			next = round + s + (uint32_t)__builtin_ctzll(w);
			break;
		}
		s = (s | 63) + 1;
	}
	if (next > end)
		next = end;
	tw->now = next;
	if ((next & SPR_TW_MASK) == 0)
		tw_cascade(tw);
}

void
spr_tw_add(struct spr_tw *tw, struct spr_tw_timer *t, uint64_t expires_ms)
{
	uint64_t ticks = 0;

	if (spr_tw_armed(t))
		link_del(&t->link);
	else
		tw->armed++;
	if (expires_ms > tw->base_ms) {
		uint64_t d = expires_ms - tw->base_ms;

		ticks = d / tw->tick_ms + (d % tw->tick_ms != 0);
	}
	t->expires = ticks;
	tw_place(tw, t);
}

void
spr_tw_cancel(struct spr_tw *tw, struct spr_tw_timer *t)
{
	if (!spr_tw_armed(t))
		return;
	link_del(&t->link);
	tw->armed--;
}

uint32_t
spr_tw_advance(struct spr_tw *tw, uint64_t now_ms, uint32_t budget, spr_tw_fn fn, void *arg)
{
	uint64_t end = 0; /* ticks before end have come */
	uint32_t fired = 0;

	if (now_ms >= tw->base_ms)
		end = (now_ms - tw->base_ms) / tw->tick_ms + 1;
	for (;;) {
		struct spr_tw_link *head = &tw->due;
		struct spr_tw_link *l;

		if (link_empty(head)) {
			uint32_t s = (uint32_t)(tw->now & SPR_TW_MASK);

			if (tw->now >= end)
				break;
			head = &tw->slot[0][s];
			if (link_empty(head)) {
				tw->occupied[s / 64] &= ~(UINT64_C(1) << (s % 64));
				tw_skip(tw, end);
				continue;
			}
		}
		if (fired == budget)
			break;
		l = head->next;
		link_del(l);
		tw->armed--;
		fired++;
		fn(SPR_TW_ENTRY(l, struct spr_tw_timer, link), arg);
	}
	return fired;
}
