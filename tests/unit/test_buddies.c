/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Buddy lists on the control thread (control/buddies.h): the registered
 * users of a domain over several shards, and the state each one shows
 * (published, automatic, none). Users register and publish through
 * spr_sip_process() on the shard that owns them, as the workers do; the
 * PIDF parse of a PUBLISH is done here as control does it.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "buddies.h"
#include "lcore.h"
#include "pidf.h"
#include "sip_process.h"
#include "testutil.h"

#define T0 1700000000u
#define SHARDS 3u

struct fx {
	struct spr_reg_cfg reg;
	struct spr_pres_cfg pres;
	struct spr_proc_ctx ctx[SHARDS];
	struct spr_loc_shard *shard[SHARDS];
	struct spr_now now;
	struct spr_peer src;
	struct spr_pidf_status st;
	char out[16384];
	unsigned seq;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	spr_reg_cfg_default(&f->reg);
	spr_pres_cfg_default(&f->pres);
	for (uint32_t i = 0; i < SHARDS; i++) {
		spr_sip_limits_default(&f->ctx[i].lim);
		f->ctx[i].reg_cfg = &f->reg;
		f->ctx[i].pres_cfg = &f->pres;
		f->ctx[i].reply.server = SPR_STR("sprd-test");
		f->ctx[i].etag_seq = (uint64_t)i << 48;
		f->shard[i] = f->ctx[i].shard = spr_loc_shard_create(i, 64);
		if (f->shard[i] == NULL)
			return -1;
	}
	spr_now_set(&f->now, T0);
	f->src.family = AF_INET;
	f->src.port = 5070;
	memcpy(f->src.addr, (uint8_t[]){192, 0, 2, 7}, 4);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	for (uint32_t i = 0; i < SHARDS; i++)
		spr_loc_shard_destroy(f->shard[i]);
	free(f);
	return 0;
}

static uint16_t
owner(const char *aor)
{
	struct spr_str a = {aor, (uint32_t)strlen(aor)};

	return spr_worker_owner(spr_loc_hash(&a), SHARDS);
}

/* Send text to aor's owner (the PIDF step as control does it); the status code. */
static int
send_to(struct fx *f, const char *aor, const char *text)
{
	struct spr_proc_ctx *c = &f->ctx[owner(aor)];
	uint32_t len, n;
	char *msg = spr_test_crlf(text, &len);

	assert_non_null(msg);
	n = spr_sip_process(c, msg, len, &f->src, &f->now, f->out, sizeof(f->out) - 1);
	if (n == 0 && c->pidf_check) {
		struct spr_pres_verdict v;
		char why[160];

		v.fault = spr_pidf_parse(c->msg.body.p, c->msg.body.len, NULL, &f->st, why,
					 sizeof(why));
		v.status = v.fault == SPR_PIDF_OK ? &f->st : NULL;
		c->verdict = &v;
		n = spr_sip_process(c, msg, len, &f->src, &f->now, f->out, sizeof(f->out) - 1);
		c->verdict = NULL;
	}
	free(msg);
	f->out[n] = '\0';
	return n < 12 ? 0 : atoi(f->out + 8);
}

static int
reg(struct fx *f, const char *aor, uint32_t expires)
{
	char buf[1024];

	f->seq++;
	snprintf(buf, sizeof(buf),
		 "REGISTER sip:%s SIP/2.0\n"
		 "Via: SIP/2.0/UDP 192.0.2.7:5070;branch=z9hG4bKr%u\n"
		 "From: <sip:%s>;tag=f%u\nTo: <sip:%s>\n"
		 "Call-ID: reg-%s\nCSeq: %u REGISTER\n"
		 "Contact: <sip:dev@192.0.2.7:5070>;expires=%u\n"
		 "Content-Length: 0\n\n",
		 strchr(aor, '@') + 1, f->seq, aor, f->seq, aor, aor, f->seq, expires);
	return send_to(f, aor, buf);
}

static uint32_t
count_lf(const char *s)
{
	uint32_t n = 0;

	for (; *s != '\0'; s++)
		n += *s == '\n';
	return n;
}

/* PUBLISH a document with one open tuple and person (may be ""); LFs become CRLFs. */
static int
publish(struct fx *f, const char *aor, const char *person)
{
	char body[1024], buf[2048];
	int blen = snprintf(body, sizeof(body),
			    "<?xml version=\"1.0\"?>\n"
			    "<presence xmlns=\"urn:ietf:params:xml:ns:pidf\""
			    " xmlns:dm=\"urn:ietf:params:xml:ns:pidf:data-model\""
			    " xmlns:rpid=\"urn:ietf:params:xml:ns:pidf:rpid\" entity=\"sip:%s\">\n"
			    "<tuple id=\"t1\"><status><basic>open</basic></status></tuple>\n"
			    "%s</presence>\n",
			    aor, person);

	f->seq++;
	snprintf(buf, sizeof(buf),
		 "PUBLISH sip:%s SIP/2.0\n"
		 "Via: SIP/2.0/UDP 192.0.2.7:5070;branch=z9hG4bKp%u\n"
		 "From: <sip:%s>;tag=p%u\nTo: <sip:%s>\n"
		 "Call-ID: pub-%u\nCSeq: 1 PUBLISH\nEvent: presence\nExpires: 600\n"
		 "Content-Type: application/pidf+xml\nContent-Length: %d\n\n%s",
		 aor, f->seq, aor, f->seq, aor, f->seq, blen + (int)count_lf(body), body);
	return send_to(f, aor, buf);
}

static uint32_t
list(struct fx *f, const char *domain, struct spr_buddy *out, uint32_t max)
{
	struct spr_str d = {domain, (uint32_t)strlen(domain)};

	return spr_buddies_list(f->shard, SHARDS, &d, f->now.sec, out, max);
}

static void
assert_aor(const struct spr_buddy *b, const char *aor)
{
	assert_int_equal(b->aor_len, strlen(aor));
	assert_memory_equal(b->aor, aor, b->aor_len);
}

static void
test_aor_split(void **state)
{
	struct spr_str u, d, a = SPR_STR("a@b@example.com:5070"), none = SPR_STR("nodomain");

	(void)state;
	assert_true(spr_aor_split(&a, &u, &d));
	assert_int_equal(u.len, 3);
	assert_memory_equal(u.p, "a@b", 3);
	assert_int_equal(d.len, 16);
	assert_memory_equal(d.p, "example.com:5070", 16);
	assert_false(spr_aor_split(&none, &u, &d));
	assert_int_equal(u.len, 8);
	assert_int_equal(d.len, 0);
}

/* Every registered AOR of the domain over every shard, sorted; other domains and ports apart. */
static void
test_list_members(void **state)
{
	struct fx *f = *state;
	struct spr_buddy b[8];

	assert_int_equal(reg(f, "carol@example.com", 600), 200);
	assert_int_equal(reg(f, "alice@example.com", 600), 200);
	assert_int_equal(reg(f, "bob@example.com", 600), 200);
	assert_int_equal(reg(f, "dave@example.org", 600), 200);
	assert_int_equal(reg(f, "erin@example.com:5070", 600), 200);
	/* a PUBLISH alone does not make a registered user */
	assert_int_equal(publish(f, "frank@example.com", ""), 200);
	assert_int_equal(list(f, "example.com", b, 8), 3);
	assert_aor(&b[0], "alice@example.com");
	assert_aor(&b[1], "bob@example.com");
	assert_aor(&b[2], "carol@example.com");
	assert_int_equal(b[0].bindings, 1);
	assert_int_equal(b[0].hash, spr_loc_hash(&(struct spr_str)SPR_STR("alice@example.com")));
	assert_int_equal(list(f, "example.org", b, 8), 1);
	assert_aor(&b[0], "dave@example.org");
	assert_int_equal(list(f, "example.com:5070", b, 8), 1);
	assert_int_equal(list(f, "nowhere.example", b, 8), 0);
	/* the cap: at most max written, the count says how many there are */
	assert_int_equal(list(f, "example.com", b, 2), 3);
	/* unregistering the last binding takes the user off the list */
	assert_int_equal(reg(f, "bob@example.com", 0), 200);
	assert_int_equal(list(f, "example.com", b, 8), 2);
	assert_aor(&b[1], "carol@example.com");
}

/* A record whose bindings lapsed (its expiry timer not run yet) is no registered user. */
static void
test_list_bindings_alive(void **state)
{
	struct fx *f = *state;
	struct spr_buddy b[2];

	assert_int_equal(reg(f, "alice@example.com", 60), 200);
	assert_int_equal(reg(f, "bob@example.com", 600), 200);
	spr_now_set(&f->now, T0 + 61);
	assert_int_equal(list(f, "example.com", b, 2), 1);
	assert_aor(&b[0], "bob@example.com");
	assert_int_equal(b[0].bindings, 1);
}

/*
 * The worker's side: a REGISTER that gives an AOR its first live binding,
 * or takes its last, leaves member_changed (hash, domain hash) for the
 * worker to pass to control; a refresh leaves nothing.
 */
static void
test_member_changed(void **state)
{
	struct fx *f = *state;
	struct spr_str a = SPR_STR("alice@example.com"), d = SPR_STR("example.com");
	struct spr_reg_change *ch = &f->ctx[owner("alice@example.com")].member_changed;

	assert_int_equal(reg(f, "alice@example.com", 600), 200);
	assert_true(ch->set);
	assert_true(ch->registered);
	assert_true(ch->hash == spr_loc_hash(&a));
	assert_true(ch->domain_hash == spr_domain_hash(&d));
	ch->set = 0;
	assert_int_equal(reg(f, "alice@example.com", 600), 200);
	assert_false(ch->set);
	assert_int_equal(reg(f, "alice@example.com", 0), 200);
	assert_true(ch->set);
	assert_false(ch->registered);
	assert_true(ch->domain_hash == spr_domain_hash(&d));
}

static enum spr_buddy_source
state_of(struct fx *f, const char *aor, bool automatic, struct spr_pidf_state *ps)
{
	struct spr_str a = {aor, (uint32_t)strlen(aor)};

	return spr_buddy_state(f->shard[owner(aor)], &a, spr_loc_hash(&a), f->now.sec, automatic,
			       &f->st, ps);
}

static void
test_state(void **state)
{
	struct fx *f = *state;
	struct spr_pidf_state ps;

	assert_int_equal(reg(f, "alice@example.com", 600), 200);
	assert_int_equal(reg(f, "bob@example.com", 600), 200);
	assert_int_equal(reg(f, "carol@example.com", 600), 200);
	/* nothing published: automatic presence says available, without it offline */
	assert_int_equal(state_of(f, "alice@example.com", true, &ps), SPR_BUDDY_AUTOMATIC);
	assert_int_equal(ps.state, SPR_PRESENCE_AVAILABLE);
	assert_int_equal(ps.note.len, 0);
	assert_int_equal(state_of(f, "alice@example.com", false, &ps), SPR_BUDDY_NONE);
	assert_int_equal(ps.state, SPR_PRESENCE_OFFLINE);
	/* published: busy with a note, custom text */
	assert_int_equal(
		publish(f, "bob@example.com",
			"<dm:person id=\"p\"><rpid:activities><rpid:busy/></rpid:activities>"
			"<dm:note>In a meeting</dm:note></dm:person>\n"),
		200);
	assert_int_equal(state_of(f, "bob@example.com", true, &ps), SPR_BUDDY_PUBLISHED);
	assert_int_equal(ps.state, SPR_PRESENCE_BUSY);
	assert_int_equal(ps.note.len, 12);
	assert_memory_equal(ps.note.p, "In a meeting", 12);
	assert_int_equal(publish(f, "carol@example.com",
				 "<dm:person id=\"p\"><rpid:activities><rpid:other>gone fishing"
				 "</rpid:other></rpid:activities></dm:person>\n"),
			 200);
	assert_int_equal(state_of(f, "carol@example.com", false, &ps), SPR_BUDDY_PUBLISHED);
	assert_int_equal(ps.state, SPR_PRESENCE_CUSTOM);
	assert_int_equal(ps.custom.len, 12);
	assert_memory_equal(ps.custom.p, "gone fishing", 12);
	/* an expired publication is not shown: back to the automatic state */
	spr_now_set(&f->now, T0 + 601);
	assert_int_equal(state_of(f, "bob@example.com", true, &ps), SPR_BUDDY_AUTOMATIC);
	assert_int_equal(ps.state, SPR_PRESENCE_AVAILABLE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_aor_split),
		cmocka_unit_test_setup_teardown(test_list_members, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_bindings_alive, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state, setup, teardown),
		cmocka_unit_test_setup_teardown(test_member_changed, setup, teardown),
	};
	int rc;

	urcu_qsbr_register_thread();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	urcu_qsbr_unregister_thread();
	return rc;
}
