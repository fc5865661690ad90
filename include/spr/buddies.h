/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Buddy lists (docs/architecture.md "Buddy lists"): the registered users of
 * a domain. Shared by the workers, which tell control when a user of a
 * domain with list subscriptions registers, goes away or changes presence,
 * and by control, which keeps the lists.
 *
 * The filter is written by control only (spr_list_filter_add/_del) and read
 * by every worker without a lock: a set bit means "some domain with this
 * domain hash has list subscriptions". A false positive costs one ring
 * message that control drops.
 */
#ifndef SPR_BUDDIES_H
#define SPR_BUDDIES_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <spr/str.h>

/* The user part of every list URI: sip:buddies@DOMAIN. */
#define SPR_BUDDIES_USER "buddies"

/*
 * Split a normalised AOR ("user@host[:port]") at its last '@' (an escaped
 * '@' of the user part is decoded, so only the last one is certain).
 * Returns false when there is none (user is then the whole AOR, domain empty).
 */
static inline bool
spr_aor_split(const struct spr_str *aor, struct spr_str *user, struct spr_str *domain)
{
	for (uint32_t i = aor->len; i > 0; i--) {
		if (aor->p[i - 1] == '@') {
			*user = (struct spr_str){aor->p, i - 1};
			*domain = (struct spr_str){aor->p + i, aor->len - i};
			return true;
		}
	}
	*user = *aor;
	*domain = (struct spr_str){aor->p + aor->len, 0};
	return false;
}

static inline struct spr_str
spr_aor_domain(const struct spr_str *aor)
{
	struct spr_str u, d;

	spr_aor_split(aor, &u, &d);
	return d;
}

#define SPR_DOMAIN_HASH_SEED 0x646f6d61696e0000ull /* "domain" */

static inline uint64_t
spr_domain_hash(const struct spr_str *domain)
{
	return spr_hash64(domain->p, domain->len, SPR_DOMAIN_HASH_SEED);
}

#define SPR_LIST_FILTER_BITS 4096u

struct spr_list_filter {
	uint32_t any; /* domains with list subscriptions; 0: the workers skip the fence */
	uint32_t pad;
	uint64_t bits[SPR_LIST_FILTER_BITS / 64];
	uint16_t count[SPR_LIST_FILTER_BITS]; /* control's own: domains per bit */
};

/*
 * Whether domain hash dh may have list subscriptions. Called by a worker
 * right after it published a change (a bindings record created or removed,
 * a presence change): the full fence orders that publish before the read,
 * and control sets a bit before it reads the tables (spr_list_filter_add),
 * so either the worker sees the bit and tells control, or control's read
 * sees the change (Dekker). Context: any thread.
 */
static inline bool
spr_list_filter_has(const struct spr_list_filter *f, uint64_t dh)
{
	uint32_t b = (uint32_t)(dh % SPR_LIST_FILTER_BITS);

	if (f == NULL)
		return false;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (__atomic_load_n(&f->any, __ATOMIC_RELAXED) == 0)
		return false;
	return (__atomic_load_n(&f->bits[b / 64], __ATOMIC_RELAXED) >> (b % 64)) & 1u;
}

/* A domain got its first list subscription. Context: control only. */
static inline void
spr_list_filter_add(struct spr_list_filter *f, uint64_t dh)
{
	uint32_t b = (uint32_t)(dh % SPR_LIST_FILTER_BITS);

	if (f->count[b]++ == 0)
		__atomic_fetch_or(&f->bits[b / 64], UINT64_C(1) << (b % 64), __ATOMIC_SEQ_CST);
	__atomic_fetch_add(&f->any, 1, __ATOMIC_SEQ_CST);
}

/* A domain lost its last list subscription. Context: control only. */
static inline void
spr_list_filter_del(struct spr_list_filter *f, uint64_t dh)
{
	uint32_t b = (uint32_t)(dh % SPR_LIST_FILTER_BITS);

	if (f->count[b] == 0)
		return;
	if (--f->count[b] == 0)
		__atomic_fetch_and(&f->bits[b / 64], ~(UINT64_C(1) << (b % 64)), __ATOMIC_SEQ_CST);
	__atomic_fetch_sub(&f->any, 1, __ATOMIC_SEQ_CST);
}

#endif /* SPR_BUDDIES_H */
