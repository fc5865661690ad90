/* SPDX-License-Identifier: BSD-3-Clause */
/* Location records as JSON: a record built and published through the real store. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>
#include <jansson.h>

#include <spr/location.h>
#include <spr/sip_msg.h>

#include "ul_json.h"

#define NOW 1700000000u

static const char aor[] = "al\0ice@example.com"; /* a NUL after unescaping */
#define AOR_LEN ((uint32_t)sizeof(aor) - 1)

struct bspec {
	const char *contact;
	uint32_t contact_len; /* 0: strlen */
	const char *call_id, *ua, *path, *instance;
	uint32_t expires_at, cseq, reg_id;
	uint16_t q, flags, port;
	int family;
	const char *addr;
};

static struct spr_ref
put_str(struct spr_record *r, uint32_t *off, const char *s, uint32_t len)
{
	struct spr_ref ref = {*off, len};

	if (len != 0)
		memcpy((char *)r + *off, s, len);
	*off += len;
	return ref;
}

static uint32_t
slen(const char *s)
{
	return s ? (uint32_t)strlen(s) : 0;
}

static uint32_t
clen(const struct bspec *b)
{
	return b->contact_len ? b->contact_len : slen(b->contact);
}

static struct spr_record *
build(struct spr_loc_shard *s, const struct bspec *b, uint16_t n)
{
	uint32_t blob = AOR_LEN, off;
	struct spr_record *r;

	for (uint16_t i = 0; i < n; i++)
		blob += clen(&b[i]) + slen(b[i].call_id) + slen(b[i].ua) + slen(b[i].path) +
			slen(b[i].instance);
	r = spr_loc_record_alloc(s, n, blob);
	assert_non_null(r);
	off = (uint32_t)(sizeof(*r) + n * sizeof(struct spr_binding));
	r->aor = put_str(r, &off, aor, AOR_LEN);
	r->hash = spr_loc_hash(&(struct spr_str){aor, AOR_LEN});
	for (uint16_t i = 0; i < n; i++) {
		struct spr_binding *x = &r->b[i];

		x->contact = put_str(r, &off, b[i].contact, clen(&b[i]));
		x->call_id = put_str(r, &off, b[i].call_id, slen(b[i].call_id));
		x->user_agent = put_str(r, &off, b[i].ua, slen(b[i].ua));
		x->path = put_str(r, &off, b[i].path, slen(b[i].path));
		x->instance = put_str(r, &off, b[i].instance, slen(b[i].instance));
		x->expires_at = b[i].expires_at;
		x->cseq = b[i].cseq;
		x->reg_id = b[i].reg_id;
		x->q = b[i].q;
		x->flags = b[i].flags;
		x->src_port = b[i].port;
		x->src_family = (uint8_t)b[i].family;
		if (b[i].family != 0)
			assert_int_equal(inet_pton(b[i].family, b[i].addr, x->src_addr), 1);
	}
	return r;
}

static const char c2[] = "sip:bob%00@[2001:db8::1]:5080;x=\xff\xc3\xa9";

static const struct bspec specs[] = {
	{
		.contact = "sip:alice@192.0.2.1:5060;transport=udp",
		.call_id = "abc@host",
		.ua = "UA/1.0",
		.path = "<sip:p1.example.com;lr>,<sip:p2.example.com;lr>",
		.instance = "<urn:uuid:00000000-0000-1000-8000-000A95A0E128>",
		.expires_at = NOW + 3600,
		.cseq = 7,
		.reg_id = 1,
		.q = 500,
		.flags = SPR_BINDING_HAS_REG_ID,
		.port = 5060,
		.family = AF_INET,
		.addr = "192.0.2.1",
	},
	{
		.contact = "sip:gone@192.0.2.9",
		.call_id = "old",
		.expires_at = NOW, /* expired this second */
		.q = SPR_SIP_Q_NONE,
	},
	{
		.contact = c2,
		.contact_len = sizeof(c2) - 1,
		.call_id = "x",
		.expires_at = NOW + 1,
		.cseq = 4294967295u,
		.q = 100,
		.port = 5080,
		.family = AF_INET6,
		.addr = "2001:db8::1",
	},
};

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

static const char *
str_of(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	assert_true(json_is_string(v));
	return json_string_value(v);
}

static void
test_record(void **state)
{
	struct spr_loc_shard *s = spr_loc_shard_create(0, 16);
	struct spr_str key = {aor, AOR_LEN};
	const struct spr_record *r;
	json_t *o, *bs, *b, *back;
	char *text;

	assert_non_null(s);
	assert_int_equal(spr_loc_publish(s, NULL, build(s, specs, 3)), 0);
	r = spr_loc_lookup(s, &key, spr_loc_hash(&key));
	assert_non_null(r);

	o = spr_ul_record_json(r, NOW, false);
	assert_non_null(o);
	/* the AOR keeps its NUL, through a dump and a load */
	text = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(15));
	assert_non_null(text);
	back = json_loads(text, JSON_ALLOW_NUL, NULL);
	assert_non_null(back);
	assert_int_equal(json_string_length(json_object_get(back, "aor")), AOR_LEN);
	assert_memory_equal(json_string_value(json_object_get(back, "aor")), aor, AOR_LEN);
	assert_non_null(strstr(text, "\"aor\":\"al\\u0000ice@example.com\""));
	assert_non_null(strstr(text, "\"q\":0.5,"));
	assert_non_null(strstr(text, "\"q\":0.1,"));
	assert_true(json_equal(o, back));
	json_decref(back);
	free(text);

	bs = json_object_get(o, "bindings");
	assert_int_equal(json_array_size(bs), 2); /* the expired one is left out */

	b = json_array_get(bs, 0);
	assert_int_equal(json_object_size(b), 10);
	assert_string_equal(str_of(b, "contact"), specs[0].contact);
	assert_int_equal(json_integer_value(json_object_get(b, "expires")), 3600);
	assert_true(json_real_value(json_object_get(b, "q")) == 0.5);
	assert_string_equal(str_of(b, "call_id"), "abc@host");
	assert_int_equal(json_integer_value(json_object_get(b, "cseq")), 7);
	assert_string_equal(str_of(b, "received"), "192.0.2.1:5060");
	assert_string_equal(str_of(b, "user_agent"), "UA/1.0");
	assert_string_equal(str_of(b, "path"), specs[0].path);
	assert_string_equal(str_of(b, "instance"), specs[0].instance);
	assert_int_equal(json_integer_value(json_object_get(b, "reg_id")), 1);

	b = json_array_get(bs, 1);
	assert_int_equal(json_object_size(b), 10);
	/* "%00" is text; the lone 0xff byte is not UTF-8 and becomes "%FF", é stays */
	assert_string_equal(str_of(b, "contact"), "sip:bob%00@[2001:db8::1]:5080;x=%FF\xc3\xa9");
	assert_int_equal(json_integer_value(json_object_get(b, "expires")), 1);
	assert_int_equal(json_integer_value(json_object_get(b, "cseq")), 4294967295);
	assert_string_equal(str_of(b, "received"), "[2001:db8::1]:5080");
	assert_true(json_is_null(json_object_get(b, "user_agent")));
	assert_true(json_is_null(json_object_get(b, "path")));
	assert_true(json_is_null(json_object_get(b, "instance")));
	assert_true(json_is_null(json_object_get(b, "reg_id")));
	json_decref(o);

	/* brief: contact and expires only */
	o = spr_ul_record_json(r, NOW, true);
	bs = json_object_get(o, "bindings");
	assert_int_equal(json_array_size(bs), 2);
	for (size_t i = 0; i < 2; i++) {
		b = json_array_get(bs, i);
		assert_int_equal(json_object_size(b), 2);
		assert_non_null(json_object_get(b, "contact"));
		assert_non_null(json_object_get(b, "expires"));
	}
	json_decref(o);

	/* later, only the long one is alive; later still, none */
	o = spr_ul_record_json(r, NOW + 1, false);
	assert_int_equal(json_array_size(json_object_get(o, "bindings")), 1);
	json_decref(o);
	o = spr_ul_record_json(r, NOW + 3600, false);
	assert_int_equal(json_array_size(json_object_get(o, "bindings")), 0);
	assert_int_equal(json_string_length(json_object_get(o, "aor")), AOR_LEN);
	json_decref(o);

	/* a binding without a source address */
	{
		struct bspec nosrc = specs[1];
		const struct spr_record *r2;

		nosrc.expires_at = NOW + 10;
		assert_int_equal(spr_loc_publish(s, r, build(s, &nosrc, 1)), 0);
		r2 = spr_loc_lookup(s, &key, spr_loc_hash(&key));
		o = spr_ul_record_json(r2, NOW, false);
		b = json_array_get(json_object_get(o, "bindings"), 0);
		assert_true(json_is_null(json_object_get(b, "received")));
		assert_true(json_is_null(json_object_get(b, "q")));
		json_decref(o);
	}
	urcu_qsbr_quiescent_state();
	spr_loc_shard_destroy(s);
	urcu_qsbr_quiescent_state();
}

static void
check_str(const char *in, uint32_t len, const char *want, uint32_t want_len)
{
	json_t *s = spr_ul_json_string(in, len);
	char *text;

	assert_non_null(s);
	assert_int_equal(json_string_length(s), want_len);
	assert_memory_equal(json_string_value(s), want, want_len);
	text = json_dumps(s, JSON_ENCODE_ANY);
	assert_non_null(text);
	free(text);
	json_decref(s);
}

#define CHECK(in, want) check_str(in, sizeof(in) - 1, want, sizeof(want) - 1)

static void
test_strings(void **state)
{
	CHECK("", "");
	CHECK("plain", "plain");
	CHECK("a\0b", "a\0b");
	CHECK("\xc3\xa9\xe2\x82\xac\xf0\x9d\x84\x9e", "\xc3\xa9\xe2\x82\xac\xf0\x9d\x84\x9e");
	CHECK("\xc0\x80", "%C0%80");		   /* overlong NUL */
	CHECK("\xed\xa0\x80", "%ED%A0%80");	   /* surrogate */
	CHECK("\xf4\x90\x80\x80", "%F4%90%80%80"); /* above U+10FFFF */
	CHECK("x\xe2\x82", "x%E2%82");		   /* cut short */
	CHECK("\x80z\xff", "%80z%FF");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_record),
		cmocka_unit_test(test_strings),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
