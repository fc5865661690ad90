/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * RFC 4475 torture messages through the whole per-message path (parse,
 * classify, registrar, reply), with the verdicts of the shared corpus's
 * expect.tsv. Bindings held before the run must all survive it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "registrar.h"
#include "sip_process.h"
#include "testutil.h"

#define PRE_AORS 50

struct fx {
	struct spr_reg_cfg cfg;
	struct spr_proc_ctx ctx;
	struct spr_now now;
	struct spr_peer src;
	char out[70000];
};

static uint32_t
process(struct fx *f, const char *msg, uint32_t len)
{
	/* flush against a guard page: any over-read faults */
	char *g = spr_test_guard_copy(msg, len);
	uint32_t n;

	assert_non_null(g);
	n = spr_sip_process(&f->ctx, g, len, &f->src, &f->now, f->out, sizeof(f->out) - 1);
	spr_test_guard_free(g, len);
	f->out[n] = '\0';
	return n;
}

static void
preload(struct fx *f)
{
	char buf[512];
	uint32_t n;

	for (int i = 0; i < PRE_AORS; i++) {
		n = (uint32_t)snprintf(buf, sizeof(buf),
				       "REGISTER sip:example.com SIP/2.0\r\n"
				       "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKpre%d\r\n"
				       "From: <sip:pre%d@example.com>;tag=p\r\n"
				       "To: <sip:pre%d@example.com>\r\n"
				       "Call-ID: pre%d\r\nCSeq: 1 REGISTER\r\n"
				       "Contact: <sip:pre%d@192.0.2.1:5060>\r\n"
				       "Content-Length: 0\r\n\r\n",
				       i, i, i, i, i);
		assert_int_equal(process(f, buf, n) > 0, 1);
		assert_true(strncmp(f->out, "SIP/2.0 200 ", 12) == 0);
	}
}

static void
check_preloaded(struct fx *f)
{
	for (int i = 0; i < PRE_AORS; i++) {
		char aor[64], uri[64];
		struct spr_str a;
		const struct spr_record *r;
		struct spr_str c;

		snprintf(aor, sizeof(aor), "pre%d@example.com", i);
		snprintf(uri, sizeof(uri), "sip:pre%d@192.0.2.1:5060", i);
		a = (struct spr_str){aor, (uint32_t)strlen(aor)};
		r = spr_loc_lookup(f->ctx.shard, &a, spr_loc_hash(&a));
		assert_non_null(r);
		assert_int_equal(r->n, 1);
		c = spr_rec_str(r, r->b[0].contact);
		assert_int_equal(c.len, strlen(uri));
		assert_memory_equal(c.p, uri, c.len);
		assert_int_equal(r->b[0].cseq, 1);
	}
}

/* accept-register: every contact of the request is stored with its exact URI bytes. */
static void
check_stored(struct fx *f, const char *name, const char *msg, uint32_t len)
{
	struct spr_sip_msg *m = calloc(1, sizeof(*m));
	struct spr_sip_limits lim;
	char aor[SPR_REG_AOR_MAX];
	struct spr_str a;
	const struct spr_record *r;
	int alen;

	assert_non_null(m);
	spr_sip_limits_default(&lim);
	assert_true(spr_sip_parse(msg, len, &lim, m) > 0);
	alen = spr_reg_aor(m, aor, sizeof(aor));
	assert_true(alen > 0);
	a = (struct spr_str){aor, (uint32_t)alen};
	r = spr_loc_lookup(f->ctx.shard, &a, spr_loc_hash(&a));
	if (r == NULL)
		fail_msg("%s: nothing stored for its AOR", name);
	assert_int_equal(r->n, m->n_contacts);
	for (uint32_t i = 0; i < m->n_contacts; i++) {
		const struct spr_str *want = &m->contacts[i].na.uri.raw;
		bool found = false;

		for (uint32_t j = 0; j < r->n; j++) {
			struct spr_str got = spr_rec_str(r, r->b[j].contact);

			found |= spr_str_eq(&got, want);
		}
		if (!found)
			fail_msg("%s: contact %.*s not stored exactly", name, (int)want->len, want->p);
	}
	free(m);
}

static void
test_rfc4475_verdicts(void **state)
{
	const char *dir = spr_test_datadir();
	char path[4096], line[1024];
	struct fx *f;
	FILE *tsv;
	unsigned checked = 0;

	(void)state;
	if (dir == NULL) {
		print_message("SKIP: RFC 4475 corpus absent (set SPR_TESTDATA or check out ../shared/testdata)\n");
		skip();
	}
	snprintf(path, sizeof(path), "%s/rfc4475/expect.tsv", dir);
	tsv = fopen(path, "r");
	if (tsv == NULL) {
		print_message("SKIP: %s absent\n", path);
		skip();
	}
	f = calloc(1, sizeof(*f));
	assert_non_null(f);
	spr_reg_cfg_default(&f->cfg);
	spr_sip_limits_default(&f->ctx.lim);
	f->ctx.reg_cfg = &f->cfg;
	f->ctx.reply.server = SPR_STR("sprd-test");
	f->ctx.shard = spr_loc_shard_create(0, 64);
	assert_non_null(f->ctx.shard);
	spr_now_set(&f->now, 1700000000);
	f->src.family = AF_INET;
	f->src.port = 5099;
	memcpy(f->src.addr, (uint8_t[]){198, 51, 100, 9}, 4);
	preload(f);

	while (fgets(line, sizeof(line), tsv) != NULL) {
		char name[64], verdict[64];
		char *msg;
		uint32_t len, n;
		int code = 0;

		if (line[0] == '#' || sscanf(line, "%63s %63s", name, verdict) != 2)
			continue;
		snprintf(path, sizeof(path), "%s/rfc4475/%s.dat", dir, name);
		msg = spr_test_read_file(path, &len);
		if (msg == NULL)
			fail_msg("%s: cannot read %s", name, path);
		n = process(f, msg, len);
		if (n >= 12)
			code = atoi(f->out + 8);
		print_message("%-12s %-16s -> %d\n", name, verdict, code);
		if (strcmp(verdict, "accept-register") == 0) {
			if (code != 200)
				fail_msg("%s: want 200, got %d: %s", name, code, f->out);
			check_stored(f, name, msg, len);
		} else if (strcmp(verdict, "respond") == 0) {
			if (code < 200 || code == 400)
				fail_msg("%s: want a final non-400 response, got %d: %s", name, code,
					 f->out);
		} else if (strncmp(verdict, "reject-", 7) == 0) {
			if (code != atoi(verdict + 7))
				fail_msg("%s: want %s, got %d: %s", name, verdict + 7, code, f->out);
		} else if (strcmp(verdict, "drop") == 0) {
			if (n != 0)
				fail_msg("%s: want no reply, got: %s", name, f->out);
		} else if (strcmp(verdict, "respond-or-400") == 0) {
			if (n != 0 && code < 200)
				fail_msg("%s: want a final response or none, got: %s", name, f->out);
		} else {
			fail_msg("%s: unknown verdict %s", name, verdict);
		}
		free(msg);
		checked++;
	}
	fclose(tsv);
	assert_int_equal(checked, 49);
	check_preloaded(f);
	spr_loc_shard_destroy(f->ctx.shard);
	free(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc4475_verdicts),
	};
	int rc;

	urcu_qsbr_register_thread();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	urcu_qsbr_unregister_thread();
	return rc;
}
