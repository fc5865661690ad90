/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The shard store: per shard one RCU hash table (liburcu cds_lfht, QSBR
 * flavour) per record kind (bindings, presentities, watchers), records of every kind
 * allocated from a jemalloc arena of the shard's own.
 *
 * Reclaim: a replaced or removed record joins the shard's current retire
 * batch; a full batch, or the batch at spr_loc_flush() (once per worker
 * loop), goes to liburcu's call_rcu as one callback. After its grace period
 * the call_rcu thread pushes the batch on the shard's lock-free reclaim
 * stack, and the owner takes its records back at its next allocation or
 * publish: into the shard's record cache (free lists by size class, owned by
 * the owner alone, bounded), or to jemalloc when the cache is full. An
 * allocation takes a cached record of its size class before it asks
 * jemalloc. Only the owner ever allocates from or frees into the shard's
 * arena, through the shard's own explicit tcache, so a worker never waits on
 * an arena lock held by another thread and mostly takes none at all; the
 * cache spares it jemalloc's generic mallocx/dallocx path (~270 instructions
 * an allocation and free, docs/benchmarks.md) in steady churn.
 *
 * One call_rcu thread serves every shard of the process. It is created with
 * URCU_CALL_RCU_RT (it polls its queue), so call_rcu never wakes it with a
 * futex, and it lives as long as the process: a publishing thread keeps a
 * pointer to it in its thread-local call_rcu data, which would dangle if it
 * were freed with the last shard.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jemalloc/jemalloc.h>
#include <urcu-qsbr.h>
#include <urcu/lfstack.h>
#include <urcu/rculfhash.h>

#include <spr/location.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#else
#define ASAN_POISON_MEMORY_REGION(p, n) ((void)(p), (void)(n))
#define ASAN_UNPOISON_MEMORY_REGION(p, n) ((void)(p), (void)(n))
#endif

#define SPR_LOC_SLOTS 1024u		     /* shards alive at once in a process */
#define SPR_LOC_BATCH 60u		     /* records per call_rcu callback (a ~520-byte batch) */
#define SPR_LOC_CACHE_CLASSES 65u	     /* record sizes cached: up to 1024 bytes, by 16 */
#define SPR_LOC_CACHE_BYTES (8u << 20)	     /* freed records a shard keeps, at most */
#define SPR_LOC_MAX_INIT_BUCKETS (1ul << 20) /* 16 MiB of buckets; the table grows past it */

/* Records retired together: one call_rcu for all of them. */
struct spr_loc_batch {
	struct rcu_head rcu; /* for call_rcu, then the reclaim stack's link */
	struct spr_loc_shard *s;
	struct spr_loc_batch *spare_next;
	uint32_t n;
	struct spr_record *r[SPR_LOC_BATCH];
};

/* Records past their grace period, of one size class, kept for the next allocation. */
struct spr_loc_bin {
	struct spr_record *head; /* linked through the first word of each record */
	uint32_t n;
};

struct spr_loc_shard {
	struct cds_lfht *ht[SPR_REC__KINDS];
	int mflags; /* mallocx/dallocx flags: the shard's arena and tcache */
	unsigned arena;
	unsigned tcache; /* explicit: used by the owner only, so no arena lock per record */
	uint32_t id;
	uint16_t slot;
	/*
	 * Hints: hash -> the current bindings record of some AOR with that hash slot,
	 * so a burst can prefetch records before it handles them (STYLE rule 7).
	 * Written by the owner only, read under QSBR; a record leaves its slot
	 * before it is retired, so a hint never outlives its record's grace
	 * period. Fixed size; a collision just overwrites (the table is the truth).
	 */
	struct spr_record **hint;
	uint64_t hint_mask;

	/* Written by the shard owner only; read by anyone (relaxed). */
	struct {
		uint64_t recs[SPR_REC__KINDS];
		uint64_t entries[SPR_REC__KINDS];
		uint64_t bytes[SPR_REC__KINDS];
		uint64_t publishes;
		uint64_t frees_deferred;
		uint64_t frees;
		uint64_t cached_bytes;
		uint64_t batches;
		uint32_t generation;
	} st __attribute__((aligned(64)));

	/* The owner's: the batch being filled, spare batches, the record cache. */
	struct spr_loc_batch *batch;
	struct spr_loc_batch *spare; /* linked through rcu.next */
	uint16_t cls[SPR_LOC_CACHE_CLASSES]; /* (size + 15) / 16 -> jemalloc's class / 16 */
	struct spr_loc_bin bin[SPR_LOC_CACHE_CLASSES];

	/* Batches past their grace period; pushed by the call_rcu thread. */
	struct __cds_lfs_stack reclaim __attribute__((aligned(64)));
	/* Records retired one by one (no batch could be allocated), likewise. */
	struct __cds_lfs_stack reclaim_one;
};

/*
 * A record carries its shard's slot in its pad field, so the call_rcu
 * callback finds the shard. Slots change only in create and destroy. Beside
 * the slot: the kind (SPR_REC_PAD_PRESENTITY, set at allocation, never
 * changed) and the in-table mark.
 */
#define SPR_LOC_SLOT_MASK 0x03ffu
#define SPR_LOC_IN_TABLE 0x8000u

_Static_assert(SPR_LOC_SLOTS - 1 <= SPR_LOC_SLOT_MASK, "a slot fits its bits of pad");
_Static_assert(((SPR_REC_PAD_PRESENTITY | SPR_REC_PAD_SUBS) &
		(SPR_LOC_SLOT_MASK | SPR_LOC_IN_TABLE)) == 0,
	       "the kind bits are apart from slot and mark");

static struct spr_loc_shard *spr_loc_slots[SPR_LOC_SLOTS];
static pthread_mutex_t spr_loc_slots_lock = PTHREAD_MUTEX_INITIALIZER;

static struct call_rcu_data *spr_loc_crdp;
static pthread_once_t spr_loc_crdp_once = PTHREAD_ONCE_INIT;
static __thread bool spr_loc_thread_ready;

_Static_assert(sizeof(struct rcu_head) >= sizeof(struct cds_lfs_node),
	       "a record's rcu head is reused as its reclaim link");

static void
spr_loc_crdp_create(void)
{
	spr_loc_crdp = urcu_qsbr_create_call_rcu_data(URCU_CALL_RCU_RT, -1);
}

/*
 * Point the calling thread's call_rcu at the shared polling call_rcu thread,
 * unless the thread already has call_rcu data of its own.
 */
static inline void
spr_loc_thread_init(void)
{
	if (likely(spr_loc_thread_ready))
		return;
	if (urcu_qsbr_get_thread_call_rcu_data() == NULL)
		urcu_qsbr_set_thread_call_rcu_data(spr_loc_crdp);
	spr_loc_thread_ready = true;
}

static inline void
spr_loc_stat_add(uint64_t *c, uint64_t v)
{
	__atomic_store_n(c, *c + v, __ATOMIC_RELAXED);
}

static inline void
spr_loc_stat_sub(uint64_t *c, uint64_t v)
{
	__atomic_store_n(c, *c - v, __ATOMIC_RELAXED);
}

static inline struct spr_record *
spr_loc_rec(struct cds_lfht_node *node)
{
	return caa_container_of(node, struct spr_record, node);
}

/* cds_lfht has already matched the full 64-bit hash; key is a struct spr_str AOR. */
static int
spr_loc_match_aor(struct cds_lfht_node *node, const void *key)
{
	const struct spr_record *r = spr_loc_rec(node);
	struct spr_str aor = spr_rec_str(r, r->aor);

	return spr_str_eq(&aor, key);
}

/* SUBS: key is a record; same AOR bytes and same page (struct spr_subs_page). */
static int
spr_loc_match_page(struct cds_lfht_node *node, const void *key)
{
	const struct spr_record *r = spr_loc_rec(node), *k = key;
	struct spr_str aor = spr_rec_str(r, r->aor), kaor = spr_rec_str(k, k->aor);

	return spr_rec_page(r) == spr_rec_page(k) && spr_str_eq(&aor, &kaor);
}

static int
spr_loc_match_any(struct cds_lfht_node *node, const void *key)
{
	return 1;
}

/* Context: call_rcu thread, after the batch's grace period. */
static void
spr_loc_reclaim_cb(struct rcu_head *head)
{
	struct spr_loc_batch *b = caa_container_of(head, struct spr_loc_batch, rcu);

	cds_lfs_push(&b->s->reclaim, (struct cds_lfs_node *)(void *)head);
}

/* Context: call_rcu thread, after the record's grace period (a record retired alone). */
static void
spr_loc_reclaim_one_cb(struct rcu_head *head)
{
	struct spr_record *r = caa_container_of(head, struct spr_record, rcu);
	struct spr_loc_shard *s = spr_loc_slots[r->pad & SPR_LOC_SLOT_MASK];

	cds_lfs_push(&s->reclaim_one, (struct cds_lfs_node *)(void *)head);
}

/*
 * A record no reader can reach any more: into the cache of its size class,
 * or back to jemalloc when that is full or the record is big. A cached
 * record is filled with 0x5a as jemalloc's junk:free would (builds with
 * assertions) and poisoned for AddressSanitizer, so a reader that kept it
 * past its grace period is caught by the tests. Context: shard owner.
 */
static void
spr_loc_free_rec(struct spr_loc_shard *s, struct spr_record *r)
{
	uint32_t size = r->size, c = size >> 4;
	struct spr_loc_bin *bin = &s->bin[c < SPR_LOC_CACHE_CLASSES ? c : 0];

	if (c >= SPR_LOC_CACHE_CLASSES || (size & 15) != 0 ||
	    s->st.cached_bytes + size > SPR_LOC_CACHE_BYTES) {
		dallocx(r, s->mflags);
		return;
	}
#ifndef NDEBUG
	memset(r, 0x5a, size);
#endif
	*(struct spr_record **)(void *)r = bin->head;
	ASAN_POISON_MEMORY_REGION((char *)r + sizeof(void *), size - sizeof(void *));
	bin->head = r;
	bin->n++;
	spr_loc_stat_add(&s->st.cached_bytes, size);
}

/* A cached record of class c (size c * 16), or NULL. Context: shard owner. */
static inline struct spr_record *
spr_loc_cache_take(struct spr_loc_shard *s, uint32_t c)
{
	struct spr_loc_bin *bin = &s->bin[c];
	struct spr_record *r = bin->head;

	if (r == NULL)
		return NULL;
	bin->head = *(struct spr_record **)(void *)r;
	bin->n--;
	ASAN_UNPOISON_MEMORY_REGION(r, c << 4);
	spr_loc_stat_sub(&s->st.cached_bytes, c << 4);
	return r;
}

/* Free what the call_rcu thread handed back. Context: shard owner, or destroy. */
static void
spr_loc_reclaim(struct spr_loc_shard *s)
{
	struct cds_lfs_head *h;
	struct cds_lfs_node *ln, *next;
	uint64_t n = 0;

	if (likely(cds_lfs_empty(&s->reclaim) && cds_lfs_empty(&s->reclaim_one)))
		return;
	h = __cds_lfs_pop_all(&s->reclaim);
	if (h != NULL) {
		cds_lfs_for_each_safe(h, ln, next)
		{
			struct spr_loc_batch *b =
				caa_container_of((struct rcu_head *)(void *)ln, struct spr_loc_batch, rcu);

			for (uint32_t i = 0; i < b->n; i++)
				spr_loc_free_rec(s, b->r[i]);
			n += b->n;
			b->n = 0;
			b->spare_next = s->spare;
			s->spare = b;
		}
	}
	h = __cds_lfs_pop_all(&s->reclaim_one);
	if (h != NULL) {
		cds_lfs_for_each_safe(h, ln, next)
		{
			spr_loc_free_rec(s, caa_container_of((struct rcu_head *)(void *)ln,
							     struct spr_record, rcu));
			n++;
		}
	}
	spr_loc_stat_add(&s->st.frees, n);
}

void
spr_loc_flush(struct spr_loc_shard *s)
{
	struct spr_loc_batch *b = s->batch;

	if (b == NULL)
		return;
	s->batch = NULL;
	spr_loc_thread_init();
	spr_loc_stat_add(&s->st.batches, 1);
	urcu_qsbr_call_rcu(&b->rcu, spr_loc_reclaim_cb);
}

/*
 * r left its table: into the current retire batch (a full one goes to
 * call_rcu); alone through call_rcu when no batch can be had.
 * Context: shard owner.
 */
static void
spr_loc_retire_rec(struct spr_loc_shard *s, struct spr_record *r)
{
	struct spr_loc_batch *b = s->batch;

	r->pad &= (uint16_t)~SPR_LOC_IN_TABLE;
	if (b == NULL) {
		if ((b = s->spare) != NULL)
			s->spare = b->spare_next;
		else if ((b = mallocx(sizeof(*b), s->mflags)) == NULL) {
			spr_loc_thread_init();
			urcu_qsbr_call_rcu(&r->rcu, spr_loc_reclaim_one_cb);
			return;
		}
		b->s = s;
		b->n = 0;
		s->batch = b;
	}
	b->r[b->n++] = r;
	if (b->n == SPR_LOC_BATCH)
		spr_loc_flush(s);
}

static int
spr_loc_slot_get(struct spr_loc_shard *s)
{
	int ret = -ENOSPC;

	pthread_mutex_lock(&spr_loc_slots_lock);
	for (uint32_t i = 0; i < SPR_LOC_SLOTS; i++) {
		if (spr_loc_slots[i] == NULL) {
			spr_loc_slots[i] = s;
			s->slot = (uint16_t)i;
			ret = 0;
			break;
		}
	}
	pthread_mutex_unlock(&spr_loc_slots_lock);
	return ret;
}

static void
spr_loc_slot_put(struct spr_loc_shard *s)
{
	pthread_mutex_lock(&spr_loc_slots_lock);
	spr_loc_slots[s->slot] = NULL;
	pthread_mutex_unlock(&spr_loc_slots_lock);
}

/* Create an arena that never purges: freeing on a worker must not madvise. */
static int
spr_loc_arena_create(unsigned *arena)
{
	char name[64];
	ssize_t never = -1;
	size_t sz = sizeof(*arena);

	if (mallctl("arenas.create", arena, &sz, NULL, 0) != 0)
		return -ENOMEM;
	snprintf(name, sizeof(name), "arena.%u.dirty_decay_ms", *arena);
	if (mallctl(name, NULL, NULL, &never, sizeof(never)) != 0)
		goto err_destroy;
	snprintf(name, sizeof(name), "arena.%u.muzzy_decay_ms", *arena);
	if (mallctl(name, NULL, NULL, &never, sizeof(never)) != 0)
		goto err_destroy;
	return 0;
err_destroy:
	snprintf(name, sizeof(name), "arena.%u.destroy", *arena);
	mallctl(name, NULL, NULL, NULL, 0);
	return -ENOMEM;
}

static void
spr_loc_arena_destroy(unsigned arena)
{
	char name[64];

	snprintf(name, sizeof(name), "arena.%u.destroy", arena);
	mallctl(name, NULL, NULL, NULL, 0);
}

static unsigned long
spr_loc_pow2(uint32_t n)
{
	unsigned long v = 1;

	while (v < n && v < SPR_LOC_MAX_INIT_BUCKETS)
		v <<= 1;
	return v;
}

struct spr_loc_shard *
spr_loc_shard_create(uint32_t id, uint32_t init_aors)
{
	unsigned long size = spr_loc_pow2(init_aors);
	struct spr_loc_shard *s;

	if (pthread_once(&spr_loc_crdp_once, spr_loc_crdp_create) != 0 || spr_loc_crdp == NULL)
		return NULL;
	s = aligned_alloc(64, (sizeof(*s) + 63) & ~(size_t)63);
	if (s == NULL)
		return NULL;
	memset(s, 0, sizeof(*s));
	s->id = id;
	__cds_lfs_init(&s->reclaim);
	__cds_lfs_init(&s->reclaim_one);
	for (uint32_t k = 1; k < SPR_LOC_CACHE_CLASSES; k++) {
		size_t c = nallocx((size_t)k * 16, 0);

		s->cls[k] = (uint16_t)(c != 0 && c < SPR_LOC_CACHE_CLASSES * 16 && c % 16 == 0 ? c / 16
											  : 0);
	}
	if (spr_loc_arena_create(&s->arena) != 0)
		goto err_free;
	{
		size_t sz = sizeof(s->tcache);

		if (mallctl("tcache.create", &s->tcache, &sz, NULL, 0) != 0)
			goto err_arena;
	}
	s->mflags = MALLOCX_ARENA(s->arena) | MALLOCX_TCACHE(s->tcache);
	s->hint = calloc(size, sizeof(*s->hint));
	if (s->hint == NULL)
		goto err_tcache;
	s->hint_mask = size - 1;
	for (int k = 0; k < SPR_REC__KINDS; k++) {
		/* fewer devices publish or watch than register: those tables start smaller */
		unsigned long ksize = k == SPR_REC_BINDINGS ? size : (size >= 8192 ? size / 8 : 1024);

		s->ht[k] = cds_lfht_new_flavor(ksize, ksize, 0,
					       CDS_LFHT_AUTO_RESIZE | CDS_LFHT_ACCOUNTING,
					       &urcu_qsbr_flavor, NULL);
		if (s->ht[k] == NULL)
			goto err_ht;
	}
	if (spr_loc_slot_get(s) != 0)
		goto err_ht;
	return s;
err_ht:
	for (int k = 0; k < SPR_REC__KINDS; k++)
		if (s->ht[k] != NULL)
			cds_lfht_destroy(s->ht[k], NULL);
	free(s->hint);
err_tcache:
	mallctl("tcache.destroy", NULL, NULL, &s->tcache, sizeof(s->tcache));
err_arena:
	spr_loc_arena_destroy(s->arena);
err_free:
	free(s);
	return NULL;
}

void
spr_loc_shard_destroy(struct spr_loc_shard *s)
{
	struct cds_lfht_iter iter;
	struct spr_record *r;
	int online;

	if (s == NULL)
		return;
	spr_loc_thread_init();
	/* walking and deleting need a read-side section, whatever the caller's state */
	online = urcu_qsbr_read_ongoing();
	if (!online)
		urcu_qsbr_thread_online();
	for (int k = 0; k < SPR_REC__KINDS; k++) {
		cds_lfht_for_each_entry(s->ht[k], &iter, r, node)
		{
			if (cds_lfht_del(s->ht[k], &r->node) == 0)
				spr_loc_retire_rec(s, r);
		}
	}
	spr_loc_flush(s);
	/*
	 * Offline: the table's resize worker may be waiting for a grace period,
	 * and cds_lfht_destroy waits for it.
	 */
	urcu_qsbr_thread_offline();
	/* Every callback queued for this shard, by publish or above, has run. */
	urcu_qsbr_barrier();
	spr_loc_reclaim(s);
	for (uint32_t c = 0; c < SPR_LOC_CACHE_CLASSES; c++) {
		struct spr_record *cr;

		while ((cr = spr_loc_cache_take(s, c)) != NULL)
			dallocx(cr, s->mflags);
	}
	while (s->spare != NULL) {
		struct spr_loc_batch *b = s->spare;

		s->spare = b->spare_next;
		dallocx(b, s->mflags);
	}
	for (int k = 0; k < SPR_REC__KINDS; k++)
		cds_lfht_destroy(s->ht[k], NULL);
	if (online)
		urcu_qsbr_thread_online();
	/* the tcache holds freed records of the arena: it goes first */
	mallctl("tcache.destroy", NULL, NULL, &s->tcache, sizeof(s->tcache));
	spr_loc_arena_destroy(s->arena);
	spr_loc_slot_put(s);
	free(s->hint);
	free(s);
}

struct spr_record *
spr_loc_alloc(struct spr_loc_shard *s, enum spr_rec_kind kind, uint16_t n, uint32_t fixed_len,
	      uint32_t blob_len)
{
	size_t fixed = sizeof(struct spr_record) + (size_t)fixed_len;
	size_t size = fixed + blob_len;
	struct spr_record *r;

	uint32_t k = (uint32_t)((size + 15) >> 4), c;

	if (size > SPR_RECORD_MAX)
		return NULL;
	spr_loc_reclaim(s);
	if (k < SPR_LOC_CACHE_CLASSES && (c = s->cls[k]) != 0 &&
	    (r = spr_loc_cache_take(s, c)) != NULL) {
		memset(r, 0, fixed);
		r->size = c << 4;
	} else {
		r = mallocx(size, s->mflags);
		if (unlikely(r == NULL))
			return NULL;
		memset(r, 0, fixed);
		r->size = (uint32_t)sallocx(r, s->mflags);
	}
	r->n = n;
	r->pad = (uint16_t)(s->slot | (kind == SPR_REC_PRESENTITY ? SPR_REC_PAD_PRESENTITY
				       : kind == SPR_REC_SUBS	    ? SPR_REC_PAD_SUBS
								    : 0));
	return r;
}

void
spr_loc_record_free(struct spr_loc_shard *s, struct spr_record *r)
{
	if (r != NULL)
		spr_loc_free_rec(s, r);
}

const struct spr_record *
spr_loc_lookup_kind(const struct spr_loc_shard *s, enum spr_rec_kind kind,
		    const struct spr_str *aor, uint64_t hash)
{
	struct cds_lfht_iter iter;
	struct cds_lfht_node *node;

	if (likely(kind == SPR_REC_BINDINGS)) {
		const struct spr_record *h = rcu_dereference(s->hint[hash & s->hint_mask]);

		if (h != NULL && h->hash == hash) {
			struct spr_str ha = spr_rec_str(h, h->aor);

			if (likely(spr_str_eq(&ha, aor)))
				return h;
		}
	}

	cds_lfht_lookup(s->ht[kind], hash, spr_loc_match_aor, aor, &iter);
	node = cds_lfht_iter_get_node(&iter);
	return likely(node != NULL) ? spr_loc_rec(node) : NULL;
}

/* Account for old leaving the table and hand it to call_rcu. Context: shard owner. */
static void
spr_loc_retire(struct spr_loc_shard *s, struct spr_record *old)
{
	enum spr_rec_kind k = spr_rec_kind(old);

	spr_loc_stat_sub(&s->st.entries[k], old->n);
	spr_loc_stat_sub(&s->st.bytes[k], old->size);
	spr_loc_stat_add(&s->st.frees_deferred, 1);
	spr_loc_retire_rec(s, old);
}

int
spr_loc_publish(struct spr_loc_shard *s, const struct spr_record *old, struct spr_record *nrec)
{
	struct spr_record *o = (struct spr_record *)old; /* the owner's to retire */
	struct cds_lfht_iter iter;
	struct spr_str aor;
	enum spr_rec_kind k;
	cds_lfht_match_fct match;
	const void *key;

	spr_loc_thread_init();
	spr_loc_reclaim(s);
	if (nrec != NULL) {
		if (unlikely(nrec->n == 0))
			return -EINVAL;
		if (unlikely(o != NULL && spr_rec_kind(o) != spr_rec_kind(nrec)))
			return -EINVAL;
		aor = spr_rec_str(nrec, nrec->aor);
	}
	if (unlikely(o == NULL && nrec == NULL))
		return -EINVAL;
	k = spr_rec_kind(nrec != NULL ? nrec : o);
	/* watcher pages: one record per (AOR, page) */
	match = k == SPR_REC_SUBS ? spr_loc_match_page : spr_loc_match_aor;
	key = k == SPR_REC_SUBS ? (const void *)nrec : (const void *)&aor;
	if (o == NULL) {
		if (cds_lfht_add_unique(s->ht[k], nrec->hash, match, key, &nrec->node) !=
		    &nrec->node)
			return -EEXIST;
		nrec->pad |= SPR_LOC_IN_TABLE;
		if (k == SPR_REC_BINDINGS)
			rcu_assign_pointer(s->hint[nrec->hash & s->hint_mask], nrec);
		spr_loc_stat_add(&s->st.recs[k], 1);
	} else {
		/*
		 * old must be the AOR's record in the table, not a retired or
		 * unpublished one: the in-table mark says it was linked, and lfht
		 * itself refuses a node whose next pointer carries the removal flag.
		 * The owner holds the node, so no second lookup is needed for the
		 * iterator; cds_lfht_replace re-reads next if a resize moved it.
		 */
		if (unlikely(!(o->pad & SPR_LOC_IN_TABLE)))
			return -ENOENT;
		iter.node = &o->node;
		iter.next = rcu_dereference(o->node.next);
		if (nrec == NULL) {
			if (unlikely(cds_lfht_del(s->ht[k], &o->node) != 0))
				return -ENOENT;
			if (s->hint[o->hash & s->hint_mask] == o)
				rcu_set_pointer(&s->hint[o->hash & s->hint_mask], NULL);
			spr_loc_stat_sub(&s->st.recs[k], 1);
		} else {
			/* -EINVAL when nrec is not of old's AOR (hash or bytes) */
			int ret = cds_lfht_replace(s->ht[k], &iter, nrec->hash, match, key,
						   &nrec->node);
			if (unlikely(ret != 0))
				return ret;
			nrec->pad |= SPR_LOC_IN_TABLE;
			if (k == SPR_REC_BINDINGS)
				rcu_assign_pointer(s->hint[nrec->hash & s->hint_mask], nrec);
		}
		spr_loc_retire(s, o);
	}
	if (nrec != NULL) {
		spr_loc_stat_add(&s->st.entries[k], nrec->n);
		spr_loc_stat_add(&s->st.bytes[k], nrec->size);
	}
	spr_loc_stat_add(&s->st.publishes, 1);
	return 0;
}

uint32_t
spr_loc_next_generation(struct spr_loc_shard *s)
{
	uint32_t g = s->st.generation + 1;

	__atomic_store_n(&s->st.generation, g, __ATOMIC_RELAXED);
	return g;
}

uint64_t
spr_loc_walk_kind(const struct spr_loc_shard *s, enum spr_rec_kind kind, spr_loc_visit_fn fn,
		  void *arg)
{
	struct cds_lfht_iter iter;
	struct spr_record *r;
	uint64_t n = 0;

	cds_lfht_for_each_entry(s->ht[kind], &iter, r, node)
	{
		fn(r, arg);
		n++;
	}
	return n;
}

void
spr_loc_stats_get(const struct spr_loc_shard *s, struct spr_loc_stats *st)
{
	st->aors = __atomic_load_n(&s->st.recs[SPR_REC_BINDINGS], __ATOMIC_RELAXED);
	st->bindings = __atomic_load_n(&s->st.entries[SPR_REC_BINDINGS], __ATOMIC_RELAXED);
	st->bytes = __atomic_load_n(&s->st.bytes[SPR_REC_BINDINGS], __ATOMIC_RELAXED);
	st->presentities = __atomic_load_n(&s->st.recs[SPR_REC_PRESENTITY], __ATOMIC_RELAXED);
	st->publications = __atomic_load_n(&s->st.entries[SPR_REC_PRESENTITY], __ATOMIC_RELAXED);
	st->presence_bytes = __atomic_load_n(&s->st.bytes[SPR_REC_PRESENTITY], __ATOMIC_RELAXED);
	st->watched = __atomic_load_n(&s->st.recs[SPR_REC_SUBS], __ATOMIC_RELAXED);
	st->watchers = __atomic_load_n(&s->st.entries[SPR_REC_SUBS], __ATOMIC_RELAXED);
	st->subs_bytes = __atomic_load_n(&s->st.bytes[SPR_REC_SUBS], __ATOMIC_RELAXED);
	st->publishes = __atomic_load_n(&s->st.publishes, __ATOMIC_RELAXED);
	st->frees_deferred = __atomic_load_n(&s->st.frees_deferred, __ATOMIC_RELAXED);
	st->frees = __atomic_load_n(&s->st.frees, __ATOMIC_RELAXED);
	st->cached_bytes = __atomic_load_n(&s->st.cached_bytes, __ATOMIC_RELAXED);
	st->batches = __atomic_load_n(&s->st.batches, __ATOMIC_RELAXED);
	st->hint_bytes = (s->hint_mask + 1) * sizeof(*s->hint);
	st->arena = s->arena;
}

uint32_t
spr_loc_lookup_hash_kind(const struct spr_loc_shard *s, enum spr_rec_kind kind, uint64_t hash,
			 const struct spr_record **out, uint32_t max)
{
	struct cds_lfht_iter iter;
	struct cds_lfht_node *node;
	uint32_t n = 0;

	/* lfht calls match only on nodes of this exact hash, so "any" means "this hash" */
	cds_lfht_lookup(s->ht[kind], hash, spr_loc_match_any, NULL, &iter);
	while ((node = cds_lfht_iter_get_node(&iter)) != NULL && n < max) {
		out[n++] = spr_loc_rec(node);
		cds_lfht_next_duplicate(s->ht[kind], spr_loc_match_any, NULL, &iter);
	}
	return n;
}

void
spr_loc_prefetch_hint(const struct spr_loc_shard *s, uint64_t hash)
{
	__builtin_prefetch(&s->hint[hash & s->hint_mask]);
}

void
spr_loc_prefetch_record(const struct spr_loc_shard *s, uint64_t hash)
{
	const struct spr_record *h = rcu_dereference(s->hint[hash & s->hint_mask]);

	if (h != NULL) {
		/* header and first binding, then where a small record's AOR lies */
		__builtin_prefetch(h);
		__builtin_prefetch((const char *)h + 64);
		__builtin_prefetch((const char *)h + 128);
	}
}
