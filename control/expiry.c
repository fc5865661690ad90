/* SPDX-License-Identifier: BSD-3-Clause */
/* The expiry calendar (expiry.h). */
#include <errno.h>
#include <stdlib.h>

#include "expiry.h"

_Static_assert(sizeof(struct spr_exp_block) == 256, "a block is one 256-byte allocation class");

int
spr_exp_init(struct spr_exp *e, uint32_t now_sec, uint64_t max)
{
	*e = (struct spr_exp){.next_sec = now_sec, .max = max};
	e->slot = calloc(SPR_EXP_KINDS, sizeof(*e->slot));
	return e->slot != NULL ? 0 : -ENOMEM;
}

static void
chain_free(struct spr_exp_block *b)
{
	while (b != NULL) {
		struct spr_exp_block *next = b->next;

		free(b);
		b = next;
	}
}

void
spr_exp_fini(struct spr_exp *e)
{
	if (e->slot != NULL)
		for (uint32_t k = 0; k < SPR_EXP_KINDS; k++)
			for (uint32_t s = 0; s < SPR_EXP_SLOTS; s++)
				chain_free(e->slot[k][s]);
	for (uint32_t k = 0; k < SPR_EXP_KINDS; k++)
		chain_free(e->run[k]);
	chain_free(e->free);
	free(e->slot);
	*e = (struct spr_exp){0};
}

static void
block_put(struct spr_exp *e, struct spr_exp_block *b)
{
	if (e->n_free < SPR_EXP_FREE_MAX) {
		b->next = e->free;
		e->free = b;
		e->n_free++;
		return;
	}
	free(b);
	e->blocks--;
}

/* Put an entry in its slot; count is the caller's. */
static int
place(struct spr_exp *e, uint8_t kind, uint64_t hash, uint32_t at)
{
	uint32_t sec = at < e->next_sec ? e->next_sec : at;
	struct spr_exp_block **head = &e->slot[kind][sec & (SPR_EXP_SLOTS - 1)];
	struct spr_exp_block *b = *head;

	if (b == NULL || b->n == SPR_EXP_BLOCK_N) {
		if (e->free != NULL) {
			b = e->free;
			e->free = b->next;
			e->n_free--;
		} else {
			b = malloc(sizeof(*b));
			if (b == NULL)
				return -ENOMEM;
			e->blocks++;
		}
		b->n = 0;
		b->next = *head;
		*head = b;
	}
	b->at[b->n] = at;
	b->hash[b->n] = hash;
	b->n++;
	return 0;
}

int
spr_exp_add(struct spr_exp *e, uint8_t kind, uint64_t hash, uint32_t at)
{
	int rc;

	if (kind >= SPR_EXP_KINDS)
		return -EINVAL;
	if (e->count >= e->max)
		return -ENOSPC;
	rc = place(e, kind, hash, at);
	if (rc == 0)
		e->count++;
	return rc;
}

uint32_t
spr_exp_advance(struct spr_exp *e, uint32_t now_sec, uint32_t budget, spr_exp_fn fn, void *arg)
{
	uint32_t calls = 0, work = 0;

	/* stopped for longer than the calendar's span: each slot once, over the last span */
	if (e->next_sec <= now_sec && now_sec - e->next_sec >= SPR_EXP_SLOTS &&
	    e->run[0] == NULL && e->run[1] == NULL && e->run[2] == NULL)
		e->next_sec = now_sec - SPR_EXP_SLOTS + 1;
	for (;;) {
		for (uint32_t k = 0; k < SPR_EXP_KINDS; k++) {
			struct spr_exp_block *b;

			while ((b = e->run[k]) != NULL) {
				while (e->run_i < b->n) {
					uint32_t i = e->run_i, at = b->at[i];
					uint64_t hash = b->hash[i];

					if (work == budget)
						return calls;
					work++;
					e->run_i++;
					e->count--;
					if (at <= e->run_sec) {
						calls++;
						if (fn((uint8_t)k, hash, at, arg) == 0)
							continue;
					}
					/*
					 * a later round's, or kept by fn: back in a slot, a
					 * later one (run_sec is behind next_sec); the block
					 * it leaves cannot be reused before this one is done,
					 * so a failure here loses the entry
					 */
					if (place(e, (uint8_t)k, hash, at) == 0)
						e->count++;
					else
						e->lost++;
				}
				e->run[k] = b->next;
				e->run_i = 0;
				block_put(e, b);
			}
		}
		if (e->next_sec > now_sec)
			return calls;
		for (uint32_t k = 0; k < SPR_EXP_KINDS; k++) {
			struct spr_exp_block **head = &e->slot[k][e->next_sec & (SPR_EXP_SLOTS - 1)];

			e->run[k] = *head;
			*head = NULL;
		}
		e->run_sec = e->next_sec++;
	}
}
