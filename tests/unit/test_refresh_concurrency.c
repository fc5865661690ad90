/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The in-place refresh (include/spr/location.h) under concurrent QSBR
 * readers: one owner thread refreshes AORs through spr_sip_process (every
 * refresh changes only expiry and CSeq, so each is written into the
 * published record), now and then one that must rebuild the record (another
 * source port). Readers on other threads look the AORs up and check that
 * every string is whole, the CSeq they load never goes back and the expiry
 * is one the owner wrote. Bounded by counts; no timing. Run under ASan+UBSan
 * in build-san with the rest of the unit suite.
 */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>
#include <urcu-qsbr.h>

#include "sip_process.h"
#include "testutil.h"

/* jemalloc fills freed memory with 0x5a: a reader that sees a freed record fails the checks. */
const char *malloc_conf = "junk:free";

#define AORS 64u
#define ROUNDS 400u /* refreshes per AOR */
#define READERS 2u
#define READER_CAP 2000000u
#define READER_MIN 20000u /* lookups per reader at least, however the threads are scheduled */
#define NOW 1700000000u
#define EXPIRES 3600u

struct shared {
	struct spr_proc_ctx ctx;
	struct spr_reg_cfg cfg;
	volatile int done;
	int started; /* readers running */
	uint64_t in_place;
	uint64_t rebuilt;
};

struct reader {
	pthread_t tid;
	struct shared *sh;
	uint64_t lookups;
	uint64_t bad;
	char what[160];
};

static void
aor_of(uint32_t i, char *out, size_t cap)
{
	snprintf(out, cap, "u%04u@example.com", i);
}

static void *
reader_main(void *arg)
{
	struct reader *rd = arg;
	uint32_t last_cseq[AORS] = {0};
	char aor[32], want[64];

	urcu_qsbr_register_thread();
	__atomic_add_fetch(&rd->sh->started, 1, __ATOMIC_RELEASE);
	for (uint64_t n = 0;
	     n < READER_CAP && (n < READER_MIN || !__atomic_load_n(&rd->sh->done, __ATOMIC_ACQUIRE));
	     n++) {
		uint32_t i = (uint32_t)(n * 7919u % AORS);
		struct spr_str a;
		const struct spr_record *r;

		aor_of(i, aor, sizeof(aor));
		a = (struct spr_str){aor, (uint32_t)strlen(aor)};
		r = spr_loc_lookup(rd->sh->ctx.shard, &a, spr_loc_hash(&a));
		rd->lookups++;
		if (r != NULL && r->n == 1) {
			const struct spr_binding *b = &r->b[0];
			struct spr_str c = spr_rec_str(r, b->contact), ci = spr_rec_str(r, b->call_id);
			uint32_t cseq = spr_binding_cseq(b), exp = spr_binding_expires_at(b);
			int wl = snprintf(want, sizeof(want), "sip:u%04u@192.0.2.7", i);

			if (c.len != (uint32_t)wl || memcmp(c.p, want, c.len) != 0 || ci.len != 8 ||
			    memcmp(ci.p, "cid-", 4) != 0 || cseq < last_cseq[i] || cseq == 0 ||
			    exp < NOW + EXPIRES || exp > NOW + EXPIRES + ROUNDS) {
				if (rd->bad++ == 0)
					snprintf(rd->what, sizeof(rd->what),
						 "aor %u: contact %.*s call-id %.*s cseq %u (last %u) exp %u",
						 i, (int)c.len, c.p, (int)ci.len, ci.p, cseq, last_cseq[i],
						 exp);
			}
			last_cseq[i] = cseq;
		} else if (r != NULL) {
			if (rd->bad++ == 0)
				snprintf(rd->what, sizeof(rd->what), "aor %u: %u bindings", i, r->n);
		}
		if (n % 64 == 0)
			urcu_qsbr_quiescent_state();
	}
	urcu_qsbr_unregister_thread();
	return NULL;
}

/* REGISTER of AOR i with CSeq cseq; returns the status. */
static int
refresh(struct shared *sh, uint32_t i, uint32_t cseq, const struct spr_now *now,
	const struct spr_peer *src)
{
	char text[512], out[2048];
	uint32_t len, n;
	char *msg;

	snprintf(text, sizeof(text),
		 "REGISTER sip:example.com SIP/2.0\n"
		 "Via: SIP/2.0/UDP 192.0.2.7:5070;branch=z9hG4bK%u-%u;rport\n"
		 "From: <sip:u%04u@example.com>;tag=f%u\n"
		 "To: <sip:u%04u@example.com>\n"
		 "Call-ID: cid-%04u\n"
		 "CSeq: %u REGISTER\n"
		 "Contact: <sip:u%04u@192.0.2.7>;expires=%u\n"
		 "User-Agent: conc/1\n"
		 "Content-Length: 0\n"
		 "\n",
		 i, cseq, i, i, i, i, cseq, i, EXPIRES);
	msg = spr_test_crlf(text, &len);
	assert_non_null(msg);
	n = spr_sip_process(&sh->ctx, msg, len, src, now, out, sizeof(out));
	free(msg);
	return n >= 12 ? atoi(out + 8) : 0;
}

static void
test_in_place_under_readers(void **state)
{
	struct shared *sh = calloc(1, sizeof(*sh));
	struct reader rd[READERS];
	struct spr_peer src = {.family = AF_INET, .port = 5070, .addr = {192, 0, 2, 7}};
	struct spr_now now = {0};

	(void)state;
	assert_non_null(sh);
	spr_reg_cfg_default(&sh->cfg);
	spr_sip_limits_default(&sh->ctx.lim);
	sh->ctx.reg_cfg = &sh->cfg;
	urcu_qsbr_register_thread();
	sh->ctx.shard = spr_loc_shard_create(0, AORS);
	assert_non_null(sh->ctx.shard);
	spr_now_set(&now, NOW);
	for (uint32_t i = 0; i < AORS; i++)
		assert_int_equal(refresh(sh, i, 1, &now, &src), 200);
	memset(rd, 0, sizeof(rd));
	for (uint32_t k = 0; k < READERS; k++) {
		rd[k].sh = sh;
		assert_int_equal(pthread_create(&rd[k].tid, NULL, reader_main, &rd[k]), 0);
	}
	/* let the readers start so that they overlap the writes (bounded: no timing is asserted) */
	for (uint32_t spin = 0;
	     spin < 1000000u && __atomic_load_n(&sh->started, __ATOMIC_ACQUIRE) < (int)READERS; spin++)
		sched_yield();
	for (uint32_t round = 1; round <= ROUNDS; round++) {
		spr_now_set(&now, NOW + round);
		/* every 16th round from another port: the record is rebuilt and replaced */
		src.port = (uint16_t)(round % 16 == 0 ? 5071 + round % 2 : 5070);
		for (uint32_t i = 0; i < AORS; i++) {
			assert_int_equal(refresh(sh, i, round + 1, &now, &src), 200);
			if (i % 8 == 0)
				urcu_qsbr_quiescent_state();
		}
	}
	__atomic_store_n(&sh->done, 1, __ATOMIC_RELEASE);
	urcu_qsbr_thread_offline();
	for (uint32_t k = 0; k < READERS; k++) {
		assert_int_equal(pthread_join(rd[k].tid, NULL), 0);
		if (rd[k].bad != 0)
			fail_msg("reader %u: %llu bad reads, first: %s", k,
				 (unsigned long long)rd[k].bad, rd[k].what);
		assert_true(rd[k].lookups > 0);
	}
	urcu_qsbr_thread_online();
	/* most refreshes were in place, and some were not */
	assert_true(sh->ctx.cnt.reg.refreshed_in_place > (uint64_t)AORS * ROUNDS / 2);
	assert_true(sh->ctx.cnt.reg.refreshed_in_place < (uint64_t)AORS * ROUNDS);
	assert_int_equal(sh->ctx.cnt.reg.bindings_refreshed, (uint64_t)AORS * ROUNDS);
	urcu_qsbr_thread_offline();
	spr_loc_shard_destroy(sh->ctx.shard);
	urcu_qsbr_unregister_thread();
	free(sh);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_in_place_under_readers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
