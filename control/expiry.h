/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The expiry calendar of the control thread (docs/architecture.md "Expiry"):
 * a multiset of entries (kind, AOR hash, at), at in unix seconds; each one
 * fires once, when the clock has reached at, and is gone.
 *
 * No lookup and no cancel, so an entry is 12 bytes and nothing else: a
 * record's owner asks for a timer only when the record's earliest expiry
 * moves earlier than the timer it has armed (spr_record.timer_at), and the
 * later entry that move leaves behind fires as a no-op (the owner sees its
 * timer_at still ahead).
 *
 * SPR_EXP_SLOTS one-second slots, each with one chain of blocks per kind.
 * An entry due within SPR_EXP_SLOTS seconds sits in its own second's slot; a
 * later one sits in the slot of its second modulo SPR_EXP_SLOTS and is put
 * back each time that slot comes round before its time (once every
 * SPR_EXP_SLOTS s). An entry whose time has already passed goes in the next
 * second's slot.
 *
 * Context: one thread owns a calendar; no function here is thread-safe.
 */
#ifndef SPR_EXPIRY_H
#define SPR_EXPIRY_H

#include <stdint.h>

#define SPR_EXP_KINDS 3u	 /* enum spr_rec_kind */
#define SPR_EXP_SLOT_BITS 12u
#define SPR_EXP_SLOTS (1u << SPR_EXP_SLOT_BITS) /* seconds */
#define SPR_EXP_BLOCK_N 20u	 /* entries per block: a block is 256 bytes */
#define SPR_EXP_FREE_MAX 256u /* empty blocks kept for reuse */

struct spr_exp_block {
	struct spr_exp_block *next;
	uint32_t n;
	uint32_t at[SPR_EXP_BLOCK_N];
	uint64_t hash[SPR_EXP_BLOCK_N];
};

struct spr_exp {
	uint32_t next_sec; /* the next second to run; every second before it has run */
	uint32_t run_sec;  /* the second whose entries are in run[] */
	uint64_t count;	   /* entries held */
	uint64_t max;	   /* entries held at most */
	uint64_t blocks;   /* allocated, the free ones included */
	uint64_t lost;	   /* entries put back for later that found no memory */
	/* slot[kind][sec % SPR_EXP_SLOTS]: the chain of blocks, newest first */
	struct spr_exp_block *(*slot)[SPR_EXP_SLOTS];
	/* a slot being run: its chains, taken off the slot, and where in the first block */
	struct spr_exp_block *run[SPR_EXP_KINDS];
	uint32_t run_i;
	struct spr_exp_block *free;
	uint32_t n_free;
};

/*
 * Start an empty calendar at now_sec holding at most max entries.
 * Returns 0 or -ENOMEM.
 */
int spr_exp_init(struct spr_exp *e, uint32_t now_sec, uint64_t max);

/* Free every block; the calendar is empty and must be initialised again before use. */
void spr_exp_fini(struct spr_exp *e);

/*
 * Add an entry. Returns 0, -EINVAL (kind out of range), -ENOSPC (max
 * entries held) or -ENOMEM.
 */
int spr_exp_add(struct spr_exp *e, uint8_t kind, uint64_t hash, uint32_t at);

/*
 * Called for an entry that is due (at <= the second being run). Returns 0
 * when it is done (the entry goes), non-zero to keep it for the next second.
 */
typedef int (*spr_exp_fn)(uint8_t kind, uint64_t hash, uint32_t at, void *arg);

/*
 * Run every second up to now_sec: fn for each entry due. At most budget
 * entries are handled (called, or put back for a later round); the rest
 * waits for the next call. Returns the calls made.
 */
uint32_t spr_exp_advance(struct spr_exp *e, uint32_t now_sec, uint32_t budget, spr_exp_fn fn,
			 void *arg);

static inline uint64_t
spr_exp_count(const struct spr_exp *e)
{
	return e->count;
}

#endif /* SPR_EXPIRY_H */
