/* SPDX-License-Identifier: BSD-3-Clause */
/* The location store, single-threaded: publish, lookup, walk, stats. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <spr/location.h>

#include "testutil.h"

#define BULK_AORS 100000u

struct fixture {
	struct spr_loc_shard *s;
};

/* Build a record of aor with n bindings; binding i has contact "sip:<aor>;i=<i>" and cseq. */
static struct spr_record *
mkrec_hash(struct spr_loc_shard *s, const char *aor, uint16_t n, uint32_t cseq, uint64_t hash)
{
	uint32_t alen = (uint32_t)strlen(aor), blob = alen, off;
	char contact[128];
	struct spr_record *r;

	for (uint16_t i = 0; i < n; i++)
		blob += (uint32_t)snprintf(contact, sizeof(contact), "sip:%s;i=%u", aor, i);
	r = spr_loc_record_alloc(s, n, blob);
	assert_non_null(r);
	assert_int_equal(r->n, n);
	assert_true(r->size >= sizeof(*r) + n * sizeof(struct spr_binding) + blob);
	off = (uint32_t)(sizeof(*r) + n * sizeof(struct spr_binding));
	/* the fixed part is zeroed */
	assert_int_equal(r->hash, 0);
	assert_int_equal(r->aor.off, 0);
	assert_int_equal(r->aor.len, 0);
	for (uint16_t i = 0; i < n; i++) {
		static const struct spr_binding zero;

		assert_memory_equal(&r->b[i], &zero, sizeof(zero));
	}
	r->hash = hash;
	memcpy((char *)r + off, aor, alen);
	r->aor = (struct spr_ref){off, alen};
	off += alen;
	for (uint16_t i = 0; i < n; i++) {
		uint32_t len = (uint32_t)snprintf(contact, sizeof(contact), "sip:%s;i=%u", aor, i);

		memcpy((char *)r + off, contact, len);
		r->b[i].contact = (struct spr_ref){off, len};
		r->b[i].cseq = cseq;
		r->b[i].q = 1000;
		off += len;
	}
	return r;
}

static uint64_t
hash_of(const char *aor)
{
	struct spr_str a = {aor, (uint32_t)strlen(aor)};

	return spr_loc_hash(&a);
}

static struct spr_record *
mkrec(struct spr_loc_shard *s, const char *aor, uint16_t n, uint32_t cseq)
{
	return mkrec_hash(s, aor, n, cseq, hash_of(aor));
}

static const struct spr_record *
find(const struct spr_loc_shard *s, const char *aor)
{
	struct spr_str a = {aor, (uint32_t)strlen(aor)};

	return spr_loc_lookup(s, &a, spr_loc_hash(&a));
}

static const struct spr_record *
find_hash(const struct spr_loc_shard *s, const char *aor, uint64_t h)
{
	struct spr_str a = {aor, (uint32_t)strlen(aor)};

	return spr_loc_lookup(s, &a, h);
}

static void
check_stats(const struct spr_loc_shard *s, uint64_t aors, uint64_t bindings, uint64_t bytes)
{
	struct spr_loc_stats st;

	spr_loc_stats_get(s, &st);
	assert_int_equal(st.aors, aors);
	assert_int_equal(st.bindings, bindings);
	assert_int_equal(st.bytes, bytes);
}

struct walk_acc {
	uint64_t bindings;
	uint64_t bytes;
};

static void
walk_fn(const struct spr_record *r, void *arg)
{
	struct walk_acc *acc = arg;

	acc->bindings += r->n;
	acc->bytes += r->size;
}

static int
group_setup(void **state)
{
	urcu_qsbr_register_thread();
	return 0;
}

static int
group_teardown(void **state)
{
	urcu_qsbr_unregister_thread();
	return 0;
}

static int
setup(void **state)
{
	static struct fixture f;

	f.s = spr_loc_shard_create(0, 16);
	if (f.s == NULL)
		return -1;
	*state = &f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	spr_loc_shard_destroy(f->s);
	urcu_qsbr_quiescent_state();
	return 0;
}

static void
test_create_destroy(void **state)
{
	struct spr_loc_shard *a = spr_loc_shard_create(1, 0);
	struct spr_loc_shard *b = spr_loc_shard_create(2, 1000);
	struct spr_loc_shard *c = spr_loc_shard_create(3, UINT32_MAX);

	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(c);
	check_stats(a, 0, 0, 0);
	assert_null(find(a, "alice@example.com"));
	spr_loc_shard_destroy(a);
	spr_loc_shard_destroy(b);
	spr_loc_shard_destroy(c);
	spr_loc_shard_destroy(NULL);
}

static void
test_alloc_free_unpublished(void **state)
{
	struct fixture *f = *state;
	struct spr_record *r = mkrec(f->s, "alice@example.com", 3, 1);

	spr_loc_record_free(f->s, r);
	spr_loc_record_free(f->s, NULL);
	check_stats(f->s, 0, 0, 0);
}

static void
test_insert_lookup(void **state)
{
	struct fixture *f = *state;
	struct spr_record *r = mkrec(f->s, "alice@example.com", 2, 7);
	const struct spr_record *got;
	struct spr_loc_stats st;

	assert_null(find(f->s, "alice@example.com"));
	assert_int_equal(spr_loc_publish(f->s, NULL, r), 0);
	got = find(f->s, "alice@example.com");
	assert_ptr_equal(got, r);
	struct spr_str c = spr_rec_str(got, got->b[1].contact);
	assert_int_equal(c.len, strlen("sip:alice@example.com;i=1"));
	assert_memory_equal(c.p, "sip:alice@example.com;i=1", c.len);
	assert_null(find(f->s, "bob@example.com"));
	assert_null(find(f->s, "alice@example.co"));
	assert_null(find_hash(f->s, "alice@example.com", hash_of("alice@example.com") ^ 1));
	check_stats(f->s, 1, 2, r->size);
	spr_loc_stats_get(f->s, &st);
	assert_int_equal(st.publishes, 1);
	assert_int_equal(st.frees_deferred, 0);
}

static void
test_same_hash_different_aor(void **state)
{
	struct fixture *f = *state;
	struct spr_record *a = mkrec_hash(f->s, "alice@example.com", 1, 1, 42);
	struct spr_record *b = mkrec_hash(f->s, "bob@example.com", 1, 1, 42);
	struct spr_record *c = mkrec_hash(f->s, "bob@example.org", 1, 1, 42);

	assert_int_equal(spr_loc_publish(f->s, NULL, a), 0);
	assert_int_equal(spr_loc_publish(f->s, NULL, b), 0);
	assert_ptr_equal(find_hash(f->s, "alice@example.com", 42), a);
	assert_ptr_equal(find_hash(f->s, "bob@example.com", 42), b);
	assert_null(find_hash(f->s, "carol@example.com", 42));
	assert_null(find(f->s, "alice@example.com"));
	assert_int_equal(spr_loc_walk(f->s, walk_fn, &(struct walk_acc){0, 0}), 2);
	const struct spr_record *same[4];
	assert_int_equal(spr_loc_lookup_hash(f->s, 42, same, 4), 2);
	assert_true((same[0] == a && same[1] == b) || (same[0] == b && same[1] == a));
	assert_int_equal(spr_loc_lookup_hash(f->s, 42, same, 1), 1);
	assert_int_equal(spr_loc_lookup_hash(f->s, 43, same, 4), 0);
	/* replace across AORs of equal hash is refused */
	assert_int_equal(spr_loc_publish(f->s, a, c), -EINVAL);
	assert_ptr_equal(find_hash(f->s, "alice@example.com", 42), a);
	assert_int_equal(spr_loc_publish(f->s, b, NULL), 0);
	assert_ptr_equal(find_hash(f->s, "alice@example.com", 42), a);
	assert_null(find_hash(f->s, "bob@example.com", 42));
	assert_int_equal(spr_loc_publish(f->s, NULL, c), 0);
	assert_ptr_equal(find_hash(f->s, "bob@example.org", 42), c);
	check_stats(f->s, 2, 2, a->size + c->size);
}

static void
test_duplicate_insert(void **state)
{
	struct fixture *f = *state;
	struct spr_record *r1 = mkrec(f->s, "alice@example.com", 1, 1);
	struct spr_record *r2 = mkrec(f->s, "alice@example.com", 2, 2);
	struct spr_loc_stats st;

	assert_int_equal(spr_loc_publish(f->s, NULL, r1), 0);
	assert_int_equal(spr_loc_publish(f->s, NULL, r2), -EEXIST);
	assert_ptr_equal(find(f->s, "alice@example.com"), r1);
	check_stats(f->s, 1, 1, r1->size);
	spr_loc_stats_get(f->s, &st);
	assert_int_equal(st.publishes, 1);
	spr_loc_record_free(f->s, r2);
}

static void
test_replace(void **state)
{
	struct fixture *f = *state;
	struct spr_record *r1 = mkrec(f->s, "alice@example.com", 1, 1);
	struct spr_record *r2 = mkrec(f->s, "alice@example.com", 3, 2);
	struct spr_record *r3 = mkrec(f->s, "alice@example.com", 2, 3);
	struct spr_record *other = mkrec(f->s, "bob@example.com", 1, 1);
	struct spr_record *empty = spr_loc_record_alloc(f->s, 0, 0);
	const struct spr_record *got;
	struct spr_loc_stats st;

	assert_non_null(empty);
	assert_int_equal(spr_loc_publish(f->s, NULL, r1), 0);
	assert_int_equal(spr_loc_publish(f->s, r1, r2), 0);
	got = find(f->s, "alice@example.com");
	assert_ptr_equal(got, r2);
	assert_int_equal(got->n, 3);
	assert_int_equal(got->b[2].cseq, 2);
	check_stats(f->s, 1, 3, r2->size);
	spr_loc_stats_get(f->s, &st);
	assert_int_equal(st.publishes, 2);
	assert_int_equal(st.frees_deferred, 1);

	/* old no longer current: refused, nothing changes (r1 is still in its grace period) */
	assert_int_equal(spr_loc_publish(f->s, r1, r3), -ENOENT);
	/* a record of another AOR cannot replace this one */
	assert_int_equal(spr_loc_publish(f->s, r2, other), -EINVAL);
	/* no bindings: must be a removal instead */
	assert_int_equal(spr_loc_publish(f->s, r2, empty), -EINVAL);
	assert_ptr_equal(find(f->s, "alice@example.com"), r2);
	check_stats(f->s, 1, 3, r2->size);

	assert_int_equal(spr_loc_publish(f->s, r2, r3), 0);
	assert_ptr_equal(find(f->s, "alice@example.com"), r3);
	check_stats(f->s, 1, 2, r3->size);
	spr_loc_record_free(f->s, other);
	spr_loc_record_free(f->s, empty);
	urcu_qsbr_quiescent_state();
}

static void
test_remove(void **state)
{
	struct fixture *f = *state;
	struct spr_record *a = mkrec(f->s, "alice@example.com", 2, 1);
	struct spr_record *b = mkrec(f->s, "bob@example.com", 1, 1);
	struct spr_record *never = mkrec(f->s, "carol@example.com", 1, 1);
	struct spr_loc_stats st;

	assert_int_equal(spr_loc_publish(f->s, NULL, a), 0);
	assert_int_equal(spr_loc_publish(f->s, NULL, b), 0);
	check_stats(f->s, 2, 3, a->size + b->size);
	assert_int_equal(spr_loc_publish(f->s, a, NULL), 0);
	assert_null(find(f->s, "alice@example.com"));
	assert_ptr_equal(find(f->s, "bob@example.com"), b);
	check_stats(f->s, 1, 1, b->size);
	/* a record that is not in the table cannot be removed */
	assert_int_equal(spr_loc_publish(f->s, never, NULL), -ENOENT);
	assert_int_equal(spr_loc_publish(f->s, NULL, NULL), -EINVAL);
	assert_int_equal(spr_loc_publish(f->s, b, NULL), 0);
	check_stats(f->s, 0, 0, 0);
	spr_loc_stats_get(f->s, &st);
	assert_int_equal(st.publishes, 4);
	assert_int_equal(st.frees_deferred, 2);
	assert_int_equal(spr_loc_walk(f->s, walk_fn, &(struct walk_acc){0, 0}), 0);
	spr_loc_record_free(f->s, never);
	urcu_qsbr_quiescent_state();
}

static void
test_walk(void **state)
{
	struct fixture *f = *state;
	struct walk_acc acc = {0, 0};
	uint64_t bytes = 0;
	char aor[64];

	assert_int_equal(spr_loc_walk(f->s, walk_fn, &acc), 0);
	for (uint16_t i = 0; i < 50; i++) {
		struct spr_record *r;

		snprintf(aor, sizeof(aor), "user%u@example.com", i);
		r = mkrec(f->s, aor, (uint16_t)(1 + i % 4), 1);
		bytes += r->size;
		assert_int_equal(spr_loc_publish(f->s, NULL, r), 0);
	}
	assert_int_equal(spr_loc_walk(f->s, walk_fn, &acc), 50);
	/* 50 AORs with 1, 2, 3, 4, 1, ... bindings: 12 * 10 + 1 + 2 */
	assert_int_equal(acc.bindings, 123);
	assert_int_equal(acc.bytes, bytes);
	check_stats(f->s, 50, 123, bytes);
}

static void
test_generations(void **state)
{
	struct fixture *f = *state;
	uint32_t g1 = spr_loc_next_generation(f->s);
	uint32_t g2 = spr_loc_next_generation(f->s);
	uint32_t g3 = spr_loc_next_generation(f->s);

	assert_true(g1 < g2);
	assert_true(g2 < g3);
}

static void
test_bulk(void **state)
{
	struct spr_loc_shard *s = spr_loc_shard_create(7, 1024);
	const struct spr_record **recs = calloc(BULK_AORS, sizeof(*recs));
	struct spr_loc_stats st;
	uint64_t bytes = 0;
	char aor[64];

	assert_non_null(s);
	assert_non_null(recs);
	for (uint32_t i = 0; i < BULK_AORS; i++) {
		struct spr_record *r;

		snprintf(aor, sizeof(aor), "+1555%07u@ims.example.net", i);
		r = mkrec(s, aor, 1, i);
		bytes += r->size;
		assert_int_equal(spr_loc_publish(s, NULL, r), 0);
		recs[i] = r;
	}
	check_stats(s, BULK_AORS, BULK_AORS, bytes);
	assert_int_equal(spr_loc_walk(s, walk_fn, &(struct walk_acc){0, 0}), BULK_AORS);
	for (uint32_t i = 0; i < BULK_AORS; i++) {
		snprintf(aor, sizeof(aor), "+1555%07u@ims.example.net", i);
		assert_ptr_equal(find(s, aor), recs[i]);
		assert_int_equal(recs[i]->b[0].cseq, i);
	}
	snprintf(aor, sizeof(aor), "+1555%07u@ims.example.net", BULK_AORS);
	assert_null(find(s, aor));
	for (uint32_t i = 0; i < BULK_AORS; i++) {
		assert_int_equal(spr_loc_publish(s, recs[i], NULL), 0);
		if (i % 1024 == 0)
			urcu_qsbr_quiescent_state();
	}
	check_stats(s, 0, 0, 0);
	assert_int_equal(spr_loc_walk(s, walk_fn, &(struct walk_acc){0, 0}), 0);
	for (uint32_t i = 0; i < BULK_AORS; i += 997) {
		snprintf(aor, sizeof(aor), "+1555%07u@ims.example.net", i);
		assert_null(find(s, aor));
	}
	/* once the last batch is handed over and every callback ran, the owner's next allocation frees them all */
	spr_loc_flush(s);
	urcu_qsbr_barrier();
	spr_loc_record_free(s, spr_loc_record_alloc(s, 1, 0));
	spr_loc_stats_get(s, &st);
	assert_int_equal(st.publishes, 2 * BULK_AORS);
	assert_int_equal(st.frees_deferred, BULK_AORS);
	assert_int_equal(st.frees, BULK_AORS);
	free(recs);
	spr_loc_shard_destroy(s);
}

/*
 * Destroy a populated table from an online QSBR thread: destroy must go
 * offline, as the resize worker may be waiting for a grace period (a hang
 * seen with 1M AORs before it did).
 */
/*
 * The hint array (hash -> record, for burst prefetching): colliding slots,
 * replacement and removal never make a lookup return a stale or wrong record.
 */
static void
test_hints(void **state)
{
	struct fixture *f = *state;
	uint64_t ha = hash_of("a@x"), hb = ha + 16; /* 16 slots here: same slot, other hash */
	struct spr_record *a1 = mkrec_hash(f->s, "a@x", 1, 1, ha);
	struct spr_record *b1 = mkrec_hash(f->s, "b@x", 1, 1, hb);
	struct spr_record *a2, *b2;

	spr_loc_prefetch_hint(f->s, ha);
	spr_loc_prefetch_record(f->s, ha); /* empty slot */
	assert_int_equal(spr_loc_publish(f->s, NULL, a1), 0);
	assert_int_equal(spr_loc_publish(f->s, NULL, b1), 0); /* takes the slot from a1 */
	spr_loc_prefetch_record(f->s, ha);
	assert_ptr_equal(find_hash(f->s, "a@x", ha), a1);
	assert_ptr_equal(find_hash(f->s, "b@x", hb), b1);
	/* the AOR bytes decide, not the slot: a@x under b's hash is not found */
	assert_null(find_hash(f->s, "a@x", hb));
	/* removing the slot's record clears it; the other AOR is still found */
	assert_int_equal(spr_loc_publish(f->s, b1, NULL), 0);
	assert_null(find_hash(f->s, "b@x", hb));
	assert_ptr_equal(find_hash(f->s, "a@x", ha), a1);
	/* replacing takes the slot; the record it replaced is never returned again */
	a2 = mkrec_hash(f->s, "a@x", 2, 2, ha);
	assert_int_equal(spr_loc_publish(f->s, a1, a2), 0);
	assert_ptr_equal(find_hash(f->s, "a@x", ha), a2);
	b2 = mkrec_hash(f->s, "b@x", 1, 3, hb);
	assert_int_equal(spr_loc_publish(f->s, NULL, b2), 0);
	assert_ptr_equal(find_hash(f->s, "a@x", ha), a2);
	/* removing a record that no longer holds the slot leaves the slot's owner found */
	assert_int_equal(spr_loc_publish(f->s, a2, NULL), 0);
	assert_null(find_hash(f->s, "a@x", ha));
	assert_ptr_equal(find_hash(f->s, "b@x", hb), b2);
	urcu_qsbr_quiescent_state();
}

static void
test_destroy_populated_online(void **state)
{
	struct spr_loc_shard *s = spr_loc_shard_create(8, 1);
	char aor[64];

	assert_non_null(s);
	for (uint32_t i = 0; i < 20000; i++) {
		snprintf(aor, sizeof(aor), "user%u@example.com", i);
		assert_int_equal(spr_loc_publish(s, NULL, mkrec(s, aor, 1, i)), 0);
	}
	spr_loc_shard_destroy(s);
	assert_true(urcu_qsbr_read_ongoing());
}

/*
 * spr_loc_hash: reads nothing outside the AOR (flush against a guard page at
 * every length), a one-byte change anywhere gives another hash, and the
 * shards and buckets it picks (low bits) are even over 100,000 AORs.
 */
static void
test_hash(void **state)
{
	static uint64_t seen[64 * 8];
	char buf[64];
	uint32_t per[8] = {0}, nseen = 0;

	(void)state;
	memset(buf, 'u', sizeof(buf));
	for (uint32_t len = 0; len < 64; len++) {
		char *g = spr_test_guard_copy(buf, len);
		uint64_t h;

		assert_non_null(g);
		h = spr_loc_hash(&(struct spr_str){g, len});
		assert_true(h == spr_loc_hash(&(struct spr_str){g, len}));
		for (uint32_t k = 0; k < nseen; k++)
			assert_true(seen[k] != h);
		seen[nseen++] = h;
		for (uint32_t at = 0; at < len && at < 7; at++) {
			g[len - 1 - at] ^= 1;
			h = spr_loc_hash(&(struct spr_str){g, len});
			g[len - 1 - at] ^= 1;
			for (uint32_t k = 0; k < nseen; k++)
				assert_true(seen[k] != h);
			seen[nseen++] = h;
		}
		spr_test_guard_free(g, len);
	}
	for (uint32_t i = 0; i < BULK_AORS; i++) {
		char aor[32];
		int n = snprintf(aor, sizeof(aor), "u%07u@example.com", i);

		per[spr_loc_hash(&(struct spr_str){aor, (uint32_t)n}) % 8]++;
	}
	for (uint32_t k = 0; k < 8; k++) {
		assert_true(per[k] > BULK_AORS / 8 * 95 / 100);
		assert_true(per[k] < BULK_AORS / 8 * 105 / 100);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_destroy),
		cmocka_unit_test(test_hash),
		cmocka_unit_test_setup_teardown(test_alloc_free_unpublished, setup, teardown),
		cmocka_unit_test_setup_teardown(test_insert_lookup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_same_hash_different_aor, setup, teardown),
		cmocka_unit_test_setup_teardown(test_duplicate_insert, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replace, setup, teardown),
		cmocka_unit_test_setup_teardown(test_remove, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hints, setup, teardown),
		cmocka_unit_test_setup_teardown(test_walk, setup, teardown),
		cmocka_unit_test_setup_teardown(test_generations, setup, teardown),
		cmocka_unit_test(test_bulk),
		cmocka_unit_test(test_destroy_populated_online),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
