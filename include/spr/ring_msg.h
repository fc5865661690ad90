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
	/* worker -> control: arm the (kind, hash) expiry timer at `at` (unix s) unless armed earlier */
	SPR_MSG_TIMER = 1,
	/* control -> owner: the (kind, hash) timer fired; remove what has expired, re-arm the rest */
	SPR_MSG_EXPIRE,
	/* control -> owner: run the request at ptr (struct spr_ul_req) and send it back */
	SPR_MSG_UL_REQ,
	/* owner -> control: ptr is done */
	SPR_MSG_UL_DONE,
	/*
	 * owner -> control: parse the PIDF body of the PUBLISH in mbuf ptr (its
	 * struct spr_pkt in the private area) at body.off, body.len of the datagram
	 */
	SPR_MSG_PIDF_CHECK,
	/*
	 * control -> owner: the verdict on mbuf ptr's body: `at` is an enum
	 * spr_pidf_fault; status is the parsed struct spr_pidf_status (malloc'd
	 * by control, cut to its used size) when `at` is 0, else NULL
	 */
	SPR_MSG_PIDF_RESULT,
	/* owner -> control: free status ptr (allocation and free stay on control) */
	SPR_MSG_PIDF_FREE,
	/*
	 * owner -> control: verify the Bearer token of the request in mbuf ptr
	 * (its struct spr_pkt in the private area) at body.off, body.len of the
	 * datagram, cache the verdict and decide (dataplane/sip_auth.h)
	 */
	SPR_MSG_AUTH_NEEDED,
	/* control -> owner: the decision on mbuf ptr: `at` is spr_auth_result_pack()'s */
	SPR_MSG_AUTH_RESULT,
	/*
	 * owner -> control: subscription sub_id to presentity `hash` was
	 * created / refreshed (its watcher record is published; `at`: expires
	 * at, unix s; when kind has SPR_MSG_HOP_VALID, hop is the link-layer
	 * next hop the SUBSCRIBE's frame came from, for the NOTIFYs on dpdk) /
	 * ended (removed; `at`: enum spr_subs_reason)
	 */
	SPR_MSG_SUB_CREATED,
	SPR_MSG_SUB_REFRESHED,
	SPR_MSG_SUB_ENDED,
	/* owner -> control: presentity `hash` (it has watchers) changed; `at`: its version */
	SPR_MSG_PRESENCE_CHANGED,
	/*
	 * worker -> control: a response to one of control's NOTIFYs: `hash` is
	 * the subscription id, `at` the status, nresp the CSeq and branch check
	 */
	SPR_MSG_NOTIFY_RESPONSE,
	/* control -> owner: end subscription sub_id of presentity `hash` (481, 408, Timer F) */
	SPR_MSG_SUB_REMOVE,
	/*
	 * owner -> control: AOR `hash` got its first bindings record or lost
	 * its last one, and its domain (domain hash in sub_id) may have buddy
	 * list subscriptions (spr/buddies.h); control reads the store to see which
	 */
	SPR_MSG_LIST_MEMBER,
};

/* SUB_CREATED, SUB_REFRESHED: flags in kind */
#define SPR_MSG_HOP_VALID 0x1u /* hop is set */
#define SPR_MSG_HOP_VLAN 0x2u  /* frames to the subscriber carry 802.1Q tag hop.vlan_tci */

/* 32 bytes: rte_ring element size (rte_ring_*_elem with esize 32). */
struct spr_ring_msg {
	uint8_t type;
	uint8_t kind;    /* TIMER, EXPIRE: enum spr_rec_kind (spr/location.h);
			    SUB_CREATED, SUB_REFRESHED: SPR_MSG_HOP_* flags */
	uint16_t worker; /* sender (worker -> control) or owner (control -> worker) */
	uint32_t at;     /* TIMER, EXPIRE: the timer's time, unix seconds;
			    PIDF_RESULT: enum spr_pidf_fault; AUTH_RESULT: packed outcome and verdict */
	uint64_t hash;   /* TIMER, EXPIRE: AOR hash */
	union {
		void *ptr; /* UL_REQ, UL_DONE: the request; PIDF_CHECK, PIDF_RESULT,
			      AUTH_NEEDED, AUTH_RESULT: the mbuf; PIDF_FREE: the status */
		struct {
			uint8_t mac[6];
			uint16_t vlan_tci; /* host order */
		} hop; /* SUB_CREATED, SUB_REFRESHED with SPR_MSG_HOP_VALID */
	};
	union {
		struct {
			uint32_t off, len;
		} body;       /* PIDF_CHECK: the body; AUTH_NEEDED: the token */
		void *status; /* PIDF_RESULT */
		uint64_t sub_id; /* SUB_CREATED, SUB_REFRESHED, SUB_ENDED, SUB_REMOVE;
				    LIST_MEMBER: the domain hash */
		struct {
			uint32_t cseq, check;
		} nresp; /* NOTIFY_RESPONSE */
	};
};

_Static_assert(sizeof(struct spr_ring_msg) == 32, "ring elements are 32 bytes");

#endif /* SPR_RING_MSG_H */
