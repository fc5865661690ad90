/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Buddy lists on the control thread (docs/architecture.md "Buddy lists"):
 * the registered users of a domain, read from the location shards, and the
 * presence each of them shows (sprctl presence.buddies, list NOTIFYs).
 *
 * A registered user is an AOR of the domain with a binding alive now. The
 * registrar reports every change of that (first binding, last one gone by
 * REGISTER, expiry timer or ul.rm: struct spr_reg_change), and the worker
 * passes it to control when the domain has lists (spr/buddies.h).
 *
 * Context: the control thread (or a test), a registered QSBR reader, online;
 * never a worker (a walk holds back grace periods while it runs).
 */
#ifndef SPR_CONTROL_BUDDIES_H
#define SPR_CONTROL_BUDDIES_H

#include <stdbool.h>
#include <stdint.h>

#include <spr/buddies.h>
#include <spr/location.h>

#include "pidf.h"
#include "registrar.h"

/*
 * Visit the bindings record of every registered user of domain (a binding
 * alive at now) in the n shards. Returns the records visited (all of them).
 */
uint64_t spr_buddies_walk(struct spr_loc_shard *const *shards, uint16_t n,
			  const struct spr_str *domain, uint32_t now, spr_loc_visit_fn fn,
			  void *arg);

/* Whether bindings record r is of a registered user of domain (a binding alive at now). */
bool spr_buddies_member(const struct spr_record *r, const struct spr_str *domain, uint32_t now);

/* One registered user. */
struct spr_buddy {
	uint64_t hash;	   /* of the AOR */
	uint16_t bindings; /* alive at the listing's now */
	uint16_t aor_len;
	char aor[SPR_REG_AOR_MAX];
};

/*
 * The registered users of domain, at most max of them into out[] (walk
 * order), then sorted by AOR bytes. Returns how many there are: more than
 * max means the list is cut.
 */
uint32_t spr_buddies_list(struct spr_loc_shard *const *shards, uint16_t n,
			  const struct spr_str *domain, uint32_t now, struct spr_buddy *out,
			  uint32_t max);

/* Where a user's state comes from. */
enum spr_buddy_source {
	SPR_BUDDY_NONE,	     /* nothing published and no automatic presence: offline */
	SPR_BUDDY_AUTOMATIC, /* nothing published; registered (--mode b2bua): available */
	SPR_BUDDY_PUBLISHED, /* the composed view of its live publications */
};

const char *spr_buddy_source_name(enum spr_buddy_source s);

/*
 * The presence of registered user aor (hash) as its watchers see it: the
 * composed view of the publications alive at now in its owner's shard;
 * else available when automatic, else offline. scratch receives the
 * composed status; out's strings point into it. A composition that fails
 * (it cannot: the store composes before it accepts) counts as none.
 */
enum spr_buddy_source spr_buddy_state(const struct spr_loc_shard *owner, const struct spr_str *aor,
				      uint64_t hash, uint32_t now, bool automatic,
				      struct spr_pidf_status *scratch, struct spr_pidf_state *out);

#endif /* SPR_CONTROL_BUDDIES_H */
