/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The shard store: per worker one shard of the AOR space holding two kinds
 * of record, each in its own table (DESIGN §5):
 *  - SPR_REC_BINDINGS: AOR -> its bindings (the location store, REGISTER);
 *  - SPR_REC_PRESENTITY: presentity (AOR) -> its publications (PUBLISH);
 *  - SPR_REC_SUBS: presentity (AOR) -> its watchers (SUBSCRIBE dialogs).
 * Both kinds share one allocation, publish and reclaim mechanism; only the
 * layout after the record header differs.
 *
 * A record is immutable once published. The shard owner (one thread) builds
 * a new record and publishes it in place of the old one; readers on any
 * thread see the old or the new record, never a mix. The old one is freed
 * after a liburcu QSBR grace period. Readers must be registered QSBR threads
 * (urcu_qsbr_register_thread) and online.
 *
 * One exception, the in-place refresh: when a REGISTER changes nothing of a
 * binding but its expiry and CSeq (same contact bytes, Call-ID, Path,
 * instance, User-Agent, q, reg-id, source; registrar.c), the owner stores
 * the binding's expires_at, cseq and generation in the published record,
 * each with a relaxed atomic store, instead of copying the record, and sets
 * the record's timer_at (read by the owner only). Each of those fields is
 * always whole, and every other byte of the record never changes. A reader on another thread loads them with
 * spr_binding_expires_at() / spr_binding_cseq() and may see, for a moment,
 * one of them from before the refresh and another from after (say the new
 * expiry with the old CSeq): both values were the binding's, of two
 * successive refreshes of the same contact. That is harmless because such
 * readers only display them (sprctl ul.lookup/ul.dump, presence state):
 * every decision on them — CSeq order, expiry, the timer — is the owner's,
 * and the owner sees its own stores.
 */
#ifndef SPR_LOCATION_H
#define SPR_LOCATION_H

#include <stddef.h>
#include <stdint.h>

#include <urcu-qsbr.h>
#include <urcu/rculfhash.h>

/*
 * jemalloc's options for every program that holds a store (sprd, the worker
 * benchmarks; the MALLOC_CONF environment variable still overrides them):
 * slabs of 16 pages, not 1-2, for the size classes of 129..512 bytes that
 * hold most records. A slab's metadata is ~160 bytes whatever its size, so
 * with one-page slabs of the 256-byte class it was 10.5 bytes per binding
 * (docs/benchmarks.md "Memory per binding"); now 0.5. A program sets it with
 * `const char *malloc_conf = SPR_LOC_MALLOC_CONF;`.
 */
#define SPR_LOC_MALLOC_CONF "slab_sizes:129-512:16"

#include <spr/str.h>

/*
 * A string stored in a record's blob, as an offset from the record start.
 * 16 bits each: a record is at most SPR_RECORD_MAX bytes, which keeps a
 * typical one-binding record in jemalloc's 256-byte class (docs/benchmarks.md).
 */
struct spr_ref {
	uint16_t off;
	uint16_t len;
};

#define SPR_RECORD_MAX 65535u

#define SPR_BINDING_HAS_REG_ID 0x1u

/* One binding (RFC 3261 §10.3). Fixed part; strings live in the record blob. */
struct spr_binding {
	uint32_t expires_at; /* unix seconds */
	uint32_t cseq;
	uint32_t generation; /* shard-wide write counter; EXPIRE carries it */
	uint32_t reg_id;
	uint16_t q;          /* thousandths, or SPR_SIP_Q_NONE */
	uint16_t flags;
	uint16_t src_port;   /* host order */
	uint8_t src_family;  /* AF_INET / AF_INET6 / 0 */
	uint8_t pad;
	uint8_t src_addr[16];
	struct spr_ref contact; /* contact URI, exact bytes */
	struct spr_ref call_id;
	struct spr_ref path;     /* Path values joined by ",", empty when none */
	struct spr_ref instance; /* +sip.instance, empty when none */
	struct spr_ref user_agent;
};

/* A binding's expiry (unix s), for readers on any thread (see the in-place refresh above). */
static inline uint32_t
spr_binding_expires_at(const struct spr_binding *b)
{
	return __atomic_load_n(&b->expires_at, __ATOMIC_RELAXED);
}

/* A binding's CSeq, for readers on any thread (see the in-place refresh above). */
static inline uint32_t
spr_binding_cseq(const struct spr_binding *b)
{
	return __atomic_load_n(&b->cseq, __ATOMIC_RELAXED);
}

enum spr_rec_kind {
	SPR_REC_BINDINGS = 0,
	SPR_REC_PRESENTITY,
	SPR_REC_SUBS,
	SPR_REC__KINDS
};

/*
 * One record of either kind. Variable size: the header, n entries (bindings
 * at b[], or a struct spr_presentity at b for SPR_REC_PRESENTITY), then the
 * blob of strings.
 */
struct spr_record {
	struct cds_lfht_node node;
	struct rcu_head rcu;
	uint64_t hash;
	struct spr_ref aor;
	uint32_t size; /* bytes allocated for this record */
	uint16_t n;    /* bindings, or publications */
	uint16_t pad;  /* the store's own (shard slot, kind, in-table mark); callers leave it alone */
	uint32_t timer_at; /* when the AOR's expiry timer is armed (unix s); 0: not armed */
	struct spr_binding b[];
};

/* In a record's pad: the record is a presentity / a watcher list (see spr_rec_kind()). */
#define SPR_REC_PAD_PRESENTITY 0x4000u
#define SPR_REC_PAD_SUBS 0x2000u

static inline enum spr_rec_kind
spr_rec_kind(const struct spr_record *r)
{
	if (r->pad & SPR_REC_PAD_PRESENTITY)
		return SPR_REC_PRESENTITY;
	return (r->pad & SPR_REC_PAD_SUBS) ? SPR_REC_SUBS : SPR_REC_BINDINGS;
}

/* Characters of an entity-tag (RFC 3903 §4.1): base64url, not NUL-terminated. */
#define SPR_ETAG_LEN 16u

/*
 * One publication of a presentity (RFC 3903: one per entity-tag). Its status
 * is a struct spr_pidf_status (pidf/pidf-t.h) cut to its used size and
 * 8-byte aligned in the record blob; the store treats it as opaque bytes.
 */
struct spr_publication {
	uint32_t expires_at; /* unix seconds */
	char etag[SPR_ETAG_LEN];
	struct spr_ref status;
};

/* The entries of a SPR_REC_PRESENTITY record, at r->b; n publications, oldest change first. */
struct spr_presentity {
	uint32_t version; /* the shard's write generation at the last change of presence state */
	uint32_t pad;
	struct spr_publication p[];
};

static inline const struct spr_presentity *
spr_rec_presentity(const struct spr_record *r)
{
	return (const struct spr_presentity *)(const void *)r->b;
}

static inline struct spr_presentity *
spr_rec_presentity_w(struct spr_record *r)
{
	return (struct spr_presentity *)(void *)r->b;
}

/* The status bytes of a publication (8-byte aligned). */
static inline const void *
spr_rec_status(const struct spr_record *r, const struct spr_publication *p)
{
	return (const char *)r + p->status.off;
}

/* The strings of a watcher, in its record's blob. */
enum spr_watcher_str {
	SPR_WS_CALL_ID,
	SPR_WS_FROM_TAG, /* the subscriber's tag */
	SPR_WS_REMOTE,   /* the SUBSCRIBE's From value (with its tag): the NOTIFY's To */
	SPR_WS_LOCAL,    /* the SUBSCRIBE's To value (no tag): the NOTIFY's From, plus our tag */
	SPR_WS_TARGET,   /* remote target: the subscriber's Contact URI */
	SPR_WS_ROUTE,    /* route set: Record-Route values in order, ", "-joined; empty: none */
	SPR_WS_WATCHER,  /* the watcher: the From URI */
	SPR_WS_EVENT_ID, /* the Event header's id parameter (RFC 6665 §8.2.1); empty: none */
	SPR_WS__COUNT
};

#define SPR_WATCHER_TAG_LEN 16u /* our To-tag (spr_sip_to_tag): 16 hex digits */

/* A list subscription (RFC 4662) to sip:buddies@DOMAIN: NOTIFYs carry RLMI (spr/buddies.h). */
#define SPR_WATCHER_LIST 0x2u

/*
 * One subscription to a presentity (RFC 6665 dialog and Event id, DESIGN §5;
 * one dialog may hold several subscriptions with different ids). NOTIFYs go
 * to the source address and port the SUBSCRIBE came from (RFC 3581 style).
 * The NOTIFY CSeq and transaction state are the control thread's own.
 */
struct spr_watcher {
	uint64_t id;	     /* subscription id: unique in the process */
	uint32_t expires_at; /* unix seconds */
	uint32_t cseq;	     /* the subscriber's last SUBSCRIBE CSeq */
	uint16_t src_port;   /* host order */
	uint8_t src_family;  /* AF_INET / AF_INET6 */
	uint8_t flags;	     /* SPR_WATCHER_* */
	uint8_t src_addr[16];
	char to_tag[SPR_WATCHER_TAG_LEN];
	struct spr_ref s[SPR_WS__COUNT];
};

/*
 * A fetch (SUBSCRIBE Expires: 0 outside a dialog, RFC 6665 §4.4.3): no
 * subscription, only the dialog kept until control has copied it for the one
 * NOTIFY (it then sends SUB_REMOVE). Never found by in-dialog requests.
 */
#define SPR_WATCHER_FETCH 0x1u
/*
 * The dialog had another subscription when this one was made (a different
 * Event id, RFC 6665 §4.1.2): control shares the dialog's NOTIFY CSeq.
 */
#define SPR_WATCHER_SHARED 0x4u

/*
 * A SPR_REC_SUBS record is one page of a presentity's watchers: the
 * presentity's watchers are split over pages of at most SPR_SUBS_PAGE_MAX
 * (dataplane/subscribe.h), each its own record in the SUBS table with the
 * presentity's AOR and hash and a page number, so a SUBSCRIBE copies one
 * small page, never the whole list. Records of one AOR are told apart by
 * page (spr_loc_publish); every page of an AOR is found by its hash
 * (spr_loc_lookup_hash_kind). At r->b: this header, then n watchers.
 */
struct spr_subs_page {
	uint32_t page; /* unique among the AOR's pages; not dense */
	uint32_t pad;
};

static inline uint32_t
spr_rec_page(const struct spr_record *r)
{
	return ((const struct spr_subs_page *)(const void *)r->b)->page;
}

/* The watchers of a SPR_REC_SUBS record (one page), after its header; n of them, oldest first. */
static inline const struct spr_watcher *
spr_rec_watchers(const struct spr_record *r)
{
	return (const struct spr_watcher *)(const void *)((const char *)r->b +
							   sizeof(struct spr_subs_page));
}

static inline struct spr_str
spr_rec_str(const struct spr_record *r, struct spr_ref ref)
{
	return (struct spr_str){(const char *)r + ref.off, ref.len};
}

struct spr_loc_shard;

struct spr_loc_stats {
	uint64_t aors;
	uint64_t bindings;
	uint64_t bytes;     /* record bytes allocated (live records) */
	uint64_t presentities;
	uint64_t publications;
	uint64_t presence_bytes; /* presentity record bytes allocated (live records) */
	uint64_t watched;    /* watcher pages (a watched presentity has one per 32 watchers) */
	uint64_t watchers;
	uint64_t subs_bytes; /* watcher record bytes allocated (live records) */
	uint64_t publishes;
	uint64_t frees_deferred; /* records retired (handed to call_rcu in batches) */
	uint64_t frees;          /* of those, freed after their grace period */
	uint64_t cached_bytes;   /* freed records kept by the shard for its next allocations */
	uint64_t batches;        /* call_rcu callbacks: retire batches handed over */
	uint64_t hint_bytes;     /* the hint array (fixed at creation; pages touched as used) */
	unsigned arena;          /* the jemalloc arena of the shard's records */
};

/*
 * Create an empty shard sized for about init_aors AORs (grows as needed).
 * Returns NULL on allocation failure.
 */
struct spr_loc_shard *spr_loc_shard_create(uint32_t id, uint32_t init_aors);

/*
 * Free the shard and every record in it. Context: no reader or writer may
 * use the shard any more; waits for a grace period.
 */
void spr_loc_shard_destroy(struct spr_loc_shard *s);

/*
 * Allocate a record of kind with n entries taking fixed_len bytes after the
 * header and blob_len bytes of strings; NULL when that is more than
 * SPR_RECORD_MAX bytes or memory is short. The header and the fixed_len
 * bytes are zeroed; r->n, r->size (bytes actually allocated) and the kind
 * are set. The blob starts at sizeof(struct spr_record) + fixed_len.
 * Context: shard owner.
 */
struct spr_record *spr_loc_alloc(struct spr_loc_shard *s, enum spr_rec_kind kind, uint16_t n,
				 uint32_t fixed_len, uint32_t blob_len);

/* A bindings record: n bindings, then blob_len bytes of strings. Context: shard owner. */
static inline struct spr_record *
spr_loc_record_alloc(struct spr_loc_shard *s, uint16_t n, uint32_t blob_len)
{
	return spr_loc_alloc(s, SPR_REC_BINDINGS, n, (uint32_t)n * sizeof(struct spr_binding),
			     blob_len);
}

/* Free a record that was never published. Context: shard owner. */
void spr_loc_record_free(struct spr_loc_shard *s, struct spr_record *r);

/*
 * Find the record of kind of an AOR (normalised bytes) with its hash. For
 * bindings the shard's hint for the hash first, the table when the hint
 * names another AOR; presentities have no hints. SPR_REC_SUBS: one of the
 * AOR's watcher pages, whichever is found first (all: spr_loc_lookup_hash_kind).
 * Context: any QSBR reader, online; result valid until the next quiescent state.
 */
const struct spr_record *spr_loc_lookup_kind(const struct spr_loc_shard *s, enum spr_rec_kind kind,
					     const struct spr_str *aor, uint64_t hash);

static inline const struct spr_record *
spr_loc_lookup(const struct spr_loc_shard *s, const struct spr_str *aor, uint64_t hash)
{
	return spr_loc_lookup_kind(s, SPR_REC_BINDINGS, aor, hash);
}

/*
 * Prefetch for a lookup of hash a little later (STYLE rule 7, work on
 * bursts in passes): first the hint slot, then — once that has arrived,
 * e.g. one message later — the record it names. Only hints: a lookup is
 * correct with or without them. Context: any QSBR reader, online.
 */
void spr_loc_prefetch_hint(const struct spr_loc_shard *s, uint64_t hash);
void spr_loc_prefetch_record(const struct spr_loc_shard *s, uint64_t hash);

/*
 * Every record of kind whose AOR hashes to hash (almost always one, or
 * none): up to max of them go to out[]; returns how many were found.
 * Context: any QSBR reader, online; results valid until the next quiescent state.
 */
uint32_t spr_loc_lookup_hash_kind(const struct spr_loc_shard *s, enum spr_rec_kind kind,
				  uint64_t hash, const struct spr_record **out, uint32_t max);

static inline uint32_t
spr_loc_lookup_hash(const struct spr_loc_shard *s, uint64_t hash, const struct spr_record **out,
		    uint32_t max)
{
	return spr_loc_lookup_hash_kind(s, SPR_REC_BINDINGS, hash, out, max);
}

/*
 * Make nrec the record of its AOR in place of old (NULL when the AOR had
 * none) in the table of their kind; nrec NULL removes old. old is freed
 * after a grace period that starts at the next spr_loc_flush() (or when the
 * shard's retire batch fills). A record with no entries must not be published:
 * pass NULL instead.
 * Returns 0, or -EEXIST when old is NULL and the AOR already has a record
 * (nrec then stays the caller's), -ENOENT when old is not the AOR's current
 * record, -EINVAL when nrec has no entries, is of another kind than old or
 * is not of old's AOR (hash and bytes); on error nothing changes.
 * Context: shard owner, QSBR online.
 */
int spr_loc_publish(struct spr_loc_shard *s, const struct spr_record *old, struct spr_record *nrec);

/*
 * Hand the records retired since the last flush to call_rcu as one batch
 * (a batch also goes by itself when it fills). The worker calls it once per
 * loop, before its quiescent state: one call_rcu per burst, not per record.
 * Retired records wait for it (or a full batch) before their grace period
 * starts. Context: shard owner.
 */
void spr_loc_flush(struct spr_loc_shard *s);

/* Next write generation of the shard (bindings, presentity versions). Context: shard owner. */
uint32_t spr_loc_next_generation(struct spr_loc_shard *s);

/*
 * Visit every record of kind in the shard. Context: any QSBR reader, online;
 * the walk holds back grace periods (and so frees) of every shard until it
 * returns, so callers on a worker must not use it; records are valid only
 * inside fn. Returns the number visited.
 */
typedef void (*spr_loc_visit_fn)(const struct spr_record *r, void *arg);
uint64_t spr_loc_walk_kind(const struct spr_loc_shard *s, enum spr_rec_kind kind,
			   spr_loc_visit_fn fn, void *arg);

static inline uint64_t
spr_loc_walk(const struct spr_loc_shard *s, spr_loc_visit_fn fn, void *arg)
{
	return spr_loc_walk_kind(s, SPR_REC_BINDINGS, fn, arg);
}

/* Counters of the shard. Context: any thread; figures may lag by one publish. */
void spr_loc_stats_get(const struct spr_loc_shard *s, struct spr_loc_stats *st);

/*
 * Hash of a normalised AOR: picks the shard (hash % workers) and the bucket.
 * Eight bytes a step (every REGISTER, PUBLISH and SUBSCRIBE hashes its AOR
 * on the worker), no byte read outside the AOR, then murmur3's finaliser so
 * that the low bits (shard, bucket) depend on every byte.
 */
static inline uint64_t
spr_loc_hash(const struct spr_str *aor)
{
	uint64_t h = spr_str_hash_words(0x6c6f636174696f6eULL, aor);

	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	return h ^ (h >> 33);
}

#endif /* SPR_LOCATION_H */
