/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The location store under one writer per shard and concurrent QSBR readers.
 * Freed records are junk-filled by jemalloc (malloc_conf below), so a reader
 * that sees a record after its grace period, or a half-written one, fails the
 * pattern check. Bounded by iteration counts; no timing.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <jemalloc/jemalloc.h>

#include <spr/location.h>

#include "testutil.h"

/* jemalloc fills freed memory with 0x5a. */
const char *malloc_conf = "junk:free";

#define SHARDS 2u
#define AORS 2000u
#define PUBLISHES 200000u /* all writers together */
#define READERS 3u
#define READER_CAP 4000000u /* lookups per reader at most */
#define MAX_BINDINGS 3u

struct writer {
	pthread_t tid;
	struct spr_loc_shard *s;
	uint32_t shard;
	uint32_t n;    /* AORs of the shard */
	uint32_t *idx; /* their indexes */
	uint32_t *seq; /* last cseq published, by AOR index */
	uint64_t publishes;
	int err;
};

struct reader {
	pthread_t tid;
	uint32_t id;
	uint64_t lookups;
	uint64_t hits;
	uint64_t bad;
	char what[160];
};

static struct spr_loc_shard *shards[SHARDS];
static char aor_name[AORS][40];
static uint32_t aor_len[AORS];
static uint64_t aor_hash[AORS];
static uint32_t aor_shard[AORS];
static int writers_left;
static int readers_hit; /* readers that have found a record */

/*
 * The writers start their updates once every reader has found a record (or
 * after 10 s), so that the updates race with running readers: on a loaded
 * host a reader may otherwise be scheduled only after the writers are done.
 */
#define READER_WAIT_NS 10000000000ll

static inline uint8_t
pattern(uint32_t idx, uint32_t cseq, uint32_t k, uint32_t j)
{
	return (uint8_t)(idx * 131u + cseq * 7u + k * 57u + j * 3u + 1u);
}

static inline uint32_t
contact_len(uint32_t cseq, uint32_t k)
{
	return 24u + (cseq + k) % 24u;
}

static inline uint16_t
nbindings(uint32_t cseq)
{
	return (uint16_t)(1u + cseq % MAX_BINDINGS);
}

static inline uint64_t
xorshift(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* The record of AOR idx at cseq: every byte of it follows from (idx, cseq). */
static struct spr_record *
build(struct spr_loc_shard *s, uint32_t idx, uint32_t cseq)
{
	uint16_t n = nbindings(cseq);
	uint32_t blob = aor_len[idx], off;
	struct spr_record *r;

	for (uint32_t k = 0; k < n; k++)
		blob += contact_len(cseq, k);
	r = spr_loc_record_alloc(s, n, blob);
	if (r == NULL)
		return NULL;
	r->hash = aor_hash[idx];
	off = (uint32_t)(sizeof(*r) + n * sizeof(struct spr_binding));
	memcpy((char *)r + off, aor_name[idx], aor_len[idx]);
	r->aor = (struct spr_ref){off, aor_len[idx]};
	off += aor_len[idx];
	for (uint32_t k = 0; k < n; k++) {
		struct spr_binding *b = &r->b[k];
		uint32_t len = contact_len(cseq, k);

		for (uint32_t j = 0; j < len; j++)
			((uint8_t *)r)[off + j] = pattern(idx, cseq, k, j);
		b->contact = (struct spr_ref){off, len};
		b->cseq = cseq;
		b->reg_id = idx;
		b->expires_at = cseq ^ 0xa5a5a5a5u;
		b->generation = spr_loc_next_generation(s);
		b->q = 1000;
		off += len;
	}
	return r;
}

/* 0 when r is a whole record of AOR idx; else a description in what. */
static int
check(const struct spr_record *r, uint32_t idx, char *what, size_t wlen)
{
	uint32_t cseq = r->b[0].cseq;
	struct spr_str aor = spr_rec_str(r, r->aor);
	size_t fixed;

	if (r->n != nbindings(cseq)) {
		snprintf(what, wlen, "aor %u: %u bindings at cseq %u", idx, r->n, cseq);
		return -1;
	}
	fixed = sizeof(*r) + r->n * sizeof(struct spr_binding);
	if (r->hash != aor_hash[idx] || r->aor.off != fixed || aor.len != aor_len[idx] ||
	    memcmp(aor.p, aor_name[idx], aor.len) != 0) {
		snprintf(what, wlen, "aor %u: wrong key", idx);
		return -1;
	}
	for (uint32_t k = 0; k < r->n; k++) {
		const struct spr_binding *b = &r->b[k];
		uint32_t len = contact_len(cseq, k);

		if (b->cseq != cseq || b->reg_id != idx || b->expires_at != (cseq ^ 0xa5a5a5a5u) ||
		    b->contact.len != len || b->contact.off + len > r->size) {
			snprintf(what, wlen, "aor %u cseq %u: binding %u fixed part", idx, cseq, k);
			return -1;
		}
		for (uint32_t j = 0; j < len; j++) {
			if (((const uint8_t *)r)[b->contact.off + j] != pattern(idx, cseq, k, j)) {
				snprintf(what, wlen, "aor %u cseq %u: binding %u byte %u", idx,
					 cseq, k, j);
				return -1;
			}
		}
	}
	return 0;
}

static void *
writer_main(void *arg)
{
	struct writer *w = arg;
	uint64_t rnd = 0x9e3779b97f4a7c15ull * (w->shard + 1);
	uint64_t quota = PUBLISHES / SHARDS;

	urcu_qsbr_register_thread();
	for (uint32_t i = 0; i < w->n && w->err == 0; i++) {
		uint32_t idx = w->idx[i];
		struct spr_record *r = build(w->s, idx, 0);

		if (r == NULL || spr_loc_publish(w->s, NULL, r) != 0)
			w->err = -1;
		w->seq[idx] = 0;
		w->publishes++;
		urcu_qsbr_quiescent_state();
	}
	urcu_qsbr_thread_offline();
	for (int64_t waited = 0; __atomic_load_n(&readers_hit, __ATOMIC_ACQUIRE) < (int)READERS &&
				 waited < READER_WAIT_NS;
	     waited += 100000) {
		struct timespec ts = {0, 100000};
		nanosleep(&ts, NULL);
	}
	urcu_qsbr_thread_online();
	while (w->publishes < quota && w->err == 0) {
		uint32_t idx = w->idx[xorshift(&rnd) % w->n];
		uint32_t cseq = w->seq[idx] + 1;
		struct spr_str aor = {aor_name[idx], aor_len[idx]};
		const struct spr_record *old = spr_loc_lookup(w->s, &aor, aor_hash[idx]);
		struct spr_record *r = build(w->s, idx, cseq);

		if (old == NULL || r == NULL) {
			w->err = -2;
			break;
		}
		if (cseq % 64 == 0) {
			/* unregister then register again: readers see a miss in between */
			if (spr_loc_publish(w->s, old, NULL) != 0 ||
			    spr_loc_publish(w->s, NULL, r) != 0)
				w->err = -3;
			w->publishes += 2;
		} else {
			if (spr_loc_publish(w->s, old, r) != 0)
				w->err = -4;
			w->publishes++;
		}
		w->seq[idx] = cseq;
		urcu_qsbr_quiescent_state();
	}
	urcu_qsbr_unregister_thread();
	__atomic_sub_fetch(&writers_left, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void *
reader_main(void *arg)
{
	struct reader *rd = arg;
	uint64_t rnd = 0xd1b54a32d192ed03ull * (rd->id + 1);
	uint32_t *last = calloc(AORS, sizeof(*last));

	if (last == NULL) {
		rd->bad = 1;
		snprintf(rd->what, sizeof(rd->what), "out of memory");
		return NULL;
	}
	urcu_qsbr_register_thread();
	while (__atomic_load_n(&writers_left, __ATOMIC_ACQUIRE) != 0 && rd->lookups < READER_CAP) {
		uint32_t idx = (uint32_t)(xorshift(&rnd) % AORS);
		struct spr_str aor = {aor_name[idx], aor_len[idx]};
		const struct spr_record *r =
			spr_loc_lookup(shards[aor_shard[idx]], &aor, aor_hash[idx]);

		rd->lookups++;
		if (r != NULL) {
			if (rd->hits++ == 0)
				__atomic_add_fetch(&readers_hit, 1, __ATOMIC_RELEASE);
			if (check(r, idx, rd->what, sizeof(rd->what)) != 0) {
				rd->bad++;
			} else if (r->b[0].cseq < last[idx]) {
				snprintf(rd->what, sizeof(rd->what), "aor %u: cseq %u after %u",
					 idx, r->b[0].cseq, last[idx]);
				rd->bad++;
			} else {
				last[idx] = r->b[0].cseq;
			}
		}
		urcu_qsbr_quiescent_state();
		if (rd->bad != 0)
			break;
	}
	urcu_qsbr_unregister_thread();
	free(last);
	return NULL;
}

static void
test_one_writer_per_shard_readers(void **state)
{
	struct writer w[SHARDS];
	struct reader rd[READERS];
	uint32_t *seq = calloc(AORS, sizeof(*seq));
	const char *junk_opt;
	size_t sz = sizeof(junk_opt);

	assert_int_equal(mallctl("opt.junk", &junk_opt, &sz, NULL, 0), 0);
	assert_string_equal(junk_opt, "free");
	assert_non_null(seq);
	memset(w, 0, sizeof(w));
	memset(rd, 0, sizeof(rd));
	for (uint32_t s = 0; s < SHARDS; s++) {
		shards[s] = spr_loc_shard_create(s, AORS / SHARDS);
		assert_non_null(shards[s]);
		w[s].s = shards[s];
		w[s].shard = s;
		w[s].seq = seq;
		w[s].idx = calloc(AORS, sizeof(uint32_t));
		assert_non_null(w[s].idx);
	}
	for (uint32_t i = 0; i < AORS; i++) {
		struct spr_str a;

		aor_len[i] = (uint32_t)snprintf(aor_name[i], sizeof(aor_name[i]),
						"+4930%07u@ims.example.net", i * 7919u);
		a = (struct spr_str){aor_name[i], aor_len[i]};
		aor_hash[i] = spr_loc_hash(&a);
		aor_shard[i] = (uint32_t)(aor_hash[i] % SHARDS);
		w[aor_shard[i]].idx[w[aor_shard[i]].n++] = i;
	}
	writers_left = SHARDS;
	readers_hit = 0;
	for (uint32_t i = 0; i < READERS; i++) {
		rd[i].id = i;
		assert_int_equal(pthread_create(&rd[i].tid, NULL, reader_main, &rd[i]), 0);
	}
	for (uint32_t s = 0; s < SHARDS; s++)
		assert_int_equal(pthread_create(&w[s].tid, NULL, writer_main, &w[s]), 0);
	for (uint32_t s = 0; s < SHARDS; s++)
		pthread_join(w[s].tid, NULL);
	for (uint32_t i = 0; i < READERS; i++)
		pthread_join(rd[i].tid, NULL);

	for (uint32_t s = 0; s < SHARDS; s++) {
		assert_int_equal(w[s].err, 0);
		assert_true(w[s].publishes >= PUBLISHES / SHARDS);
	}
	for (uint32_t i = 0; i < READERS; i++) {
		if (rd[i].bad != 0)
			fail_msg("reader %u: %s", i, rd[i].what);
		assert_true(rd[i].hits > 0);
	}

	/* No lost update: each AOR's record holds its writer's last cseq. */
	urcu_qsbr_register_thread();
	uint64_t bindings[SHARDS] = {0}, aors[SHARDS] = {0};
	for (uint32_t i = 0; i < AORS; i++) {
		struct spr_str aor = {aor_name[i], aor_len[i]};
		const struct spr_record *r =
			spr_loc_lookup(shards[aor_shard[i]], &aor, aor_hash[i]);
		char what[160];

		assert_non_null(r);
		if (check(r, i, what, sizeof(what)) != 0)
			fail_msg("final: %s", what);
		assert_int_equal(r->b[0].cseq, seq[i]);
		bindings[aor_shard[i]] += r->n;
		aors[aor_shard[i]]++;
	}
	for (uint32_t s = 0; s < SHARDS; s++) {
		struct spr_loc_stats st;

		spr_loc_stats_get(shards[s], &st);
		assert_int_equal(st.aors, aors[s]);
		assert_int_equal(st.bindings, bindings[s]);
		assert_int_equal(st.publishes, w[s].publishes);
		spr_loc_shard_destroy(shards[s]);
		free(w[s].idx);
	}
	urcu_qsbr_unregister_thread();
	free(seq);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_writer_per_shard_readers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
