/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fixed-size messages between workers and the control thread (DESIGN §2).
 * Each worker has one SPSC ring to control and one from control; a full
 * ring is counted by the sender, never waited on.
 */
#ifndef SPR_RING_MSG_H
#define SPR_RING_MSG_H

#include <stdint.h>

enum spr_ring_msg_type {
	/* worker -> control: arm the AOR's expiry timer at `at` (unix s) unless armed earlier */
	SPR_MSG_TIMER = 1,
	/* control -> owner: the AOR's timer fired; remove what has expired, re-arm the rest */
	SPR_MSG_EXPIRE,
	/* control -> owner: run the request at ptr (struct spr_ul_req) and send it back */
	SPR_MSG_UL_REQ,
	/* owner -> control: ptr is done */
	SPR_MSG_UL_DONE,
};

/* 32 bytes: rte_ring element size (rte_ring_*_elem with esize 32). */
struct spr_ring_msg {
	uint8_t type;
	uint8_t pad;
	uint16_t worker; /* sender (worker -> control) or owner (control -> worker) */
	uint32_t at;     /* TIMER: unix seconds */
	uint64_t hash;   /* TIMER, EXPIRE: AOR hash */
	void *ptr;       /* UL_REQ, UL_DONE */
	uint64_t spare;
};

#endif /* SPR_RING_MSG_H */
