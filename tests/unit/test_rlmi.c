/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * RFC 4662 list notification bodies (pidf/rlmi.h), read back the way a
 * subscriber would: the multipart/related body split at its boundary, the
 * RLMI document parsed with libxml2, every instance's cid matched to a
 * part's Content-ID, the boundary absent from every part, hostile URIs
 * escaped into well-formed XML, parts left out when the cap is reached.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "rlmi.h"
#include "testutil.h"

#define MAXP 8

static const char doc_a[] = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
			    "<presence xmlns=\"urn:ietf:params:xml:ns:pidf\" "
			    "entity=\"sip:alice@example.com\"><tuple id=\"t\"><status>"
			    "<basic>open</basic></status></tuple></presence>\n";
static const char doc_b[] = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
			    "<presence xmlns=\"urn:ietf:params:xml:ns:pidf\" "
			    "entity=\"sip:bob@example.com\"><tuple id=\"t\"><status>"
			    "<basic>closed</basic></status></tuple></presence>\n";

struct part {
	char cid[64];
	char ctype[80];
	const char *content;
	uint32_t len;
};

/* A list notification as the subscriber sees it. */
struct parsed {
	char boundary[64], start[64];
	uint32_t nparts;
	struct part p[MAXP];
	xmlDocPtr rlmi;
};

/* The value of param name="..." in a Content-Type value. */
static void
ctype_param(const char *ct, const char *name, char *out, size_t cap)
{
	char pat[32];
	const char *v, *e;

	snprintf(pat, sizeof(pat), ";%s=\"", name);
	v = strstr(ct, pat);
	assert_non_null(v);
	v += strlen(pat);
	e = strchr(v, '"');
	assert_non_null(e);
	assert_true((size_t)(e - v) < cap);
	memcpy(out, v, (size_t)(e - v));
	out[e - v] = '\0';
}

static void
part_header(const char *h, const char *end, const char *name, char *out, size_t cap)
{
	size_t nl = strlen(name);

	out[0] = '\0';
	while (h < end) {
		const char *eol = strstr(h, "\r\n");

		assert_non_null(eol);
		if ((size_t)(eol - h) > nl + 2 && strncasecmp(h, name, nl) == 0 && h[nl] == ':') {
			const char *v = h + nl + 1;

			while (*v == ' ')
				v++;
			assert_true((size_t)(eol - v) < cap);
			memcpy(out, v, (size_t)(eol - v));
			out[eol - v] = '\0';
		}
		h = eol + 2;
	}
}

/* Split body (RFC 2046 §5.1.1) and parse its start part as RLMI; fails the test on any flaw. */
static void
parse_body(const char *body, uint32_t len, const struct spr_rlmi_out *o, struct parsed *ps)
{
	char delim[80], close[80];
	const char *p = body, *end = body + len;

	memset(ps, 0, sizeof(*ps));
	assert_int_equal(strlen(o->content_type), o->content_type_len);
	assert_int_equal(o->content_type_len, SPR_RLMI_CTYPE_LEN); /* what NOTIFY sizing assumes */
	assert_non_null(strstr(o->content_type, "multipart/related;type=\"application/rlmi+xml\""));
	ctype_param(o->content_type, "boundary", ps->boundary, sizeof(ps->boundary));
	ctype_param(o->content_type, "start", ps->start, sizeof(ps->start));
	snprintf(delim, sizeof(delim), "--%s\r\n", ps->boundary);
	snprintf(close, sizeof(close), "\r\n--%s--\r\n", ps->boundary);
	/* the body opens with the first delimiter and ends with the close delimiter */
	assert_memory_equal(p, delim, strlen(delim));
	assert_true(len > strlen(close));
	assert_memory_equal(end - strlen(close), close, strlen(close));
	p += strlen(delim);
	while (p < end) {
		struct part *pt = &ps->p[ps->nparts];
		const char *hend = strstr(p, "\r\n\r\n"), *next;
		char mid[80];

		assert_true(ps->nparts < MAXP);
		assert_non_null(hend);
		part_header(p, hend + 2, "Content-ID", pt->cid, sizeof(pt->cid));
		part_header(p, hend + 2, "Content-Type", pt->ctype, sizeof(pt->ctype));
		pt->content = hend + 4;
		snprintf(mid, sizeof(mid), "\r\n--%s", ps->boundary);
		next = memmem(pt->content, (size_t)(end - pt->content), mid, strlen(mid));
		assert_non_null(next);
		pt->len = (uint32_t)(next - pt->content);
		ps->nparts++;
		/* the boundary occurs in no content */
		assert_null(memmem(pt->content, pt->len, ps->boundary, strlen(ps->boundary)));
		p = next + strlen(mid);
		if (strncmp(p, "--\r\n", 4) == 0) {
			assert_ptr_equal(p + 4, end);
			break;
		}
		assert_memory_equal(p, "\r\n", 2);
		p += 2;
	}
	/* the start part is the RLMI document */
	assert_true(ps->nparts >= 1);
	assert_int_equal(ps->p[0].cid[0], '<');
	assert_string_equal(ps->p[0].cid, ps->start);
	assert_string_equal(ps->p[0].ctype, "application/rlmi+xml;charset=\"UTF-8\"");
	ps->rlmi = xmlReadMemory(ps->p[0].content, (int)ps->p[0].len, NULL, NULL,
				 XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	assert_non_null(ps->rlmi);
}

static char *
attr(xmlNodePtr n, const char *name)
{
	xmlChar *v = xmlGetProp(n, (const xmlChar *)name);
	static char buf[8][512];
	static int k;
	char *out = buf[k++ % 8];

	if (v == NULL)
		return NULL;
	snprintf(out, 512, "%s", (const char *)v);
	xmlFree(v);
	return out;
}

static xmlNodePtr
child(xmlNodePtr n, const char *name, xmlNodePtr after)
{
	for (xmlNodePtr c = after != NULL ? after->next : n->children; c != NULL; c = c->next)
		if (c->type == XML_ELEMENT_NODE && strcmp((const char *)c->name, name) == 0)
			return c;
	return NULL;
}

/* The part whose Content-ID is <cid>, or NULL. */
static const struct part *
part_of(const struct parsed *ps, const char *cid)
{
	char want[80];

	snprintf(want, sizeof(want), "<%s>", cid);
	for (uint32_t i = 1; i < ps->nparts; i++)
		if (strcmp(ps->p[i].cid, want) == 0)
			return &ps->p[i];
	return NULL;
}

static int
build(const char *list_uri, uint32_t version, const struct spr_rlmi_resource *r, uint32_t n,
      uint64_t seed, char *out, uint32_t cap, struct spr_rlmi_out *o)
{
	struct spr_str lu = {list_uri, (uint32_t)strlen(list_uri)};

	return spr_rlmi_build(&lu, version, true, r, n, seed, out, cap, o);
}

#define RES(uri, doc, id)                                                                          \
	{                                                                                          \
		{(uri), sizeof(uri) - 1}, {(doc), sizeof(doc) - 1}, (id)                           \
	}

static void
test_three_resources(void **state)
{
	static char out[16384];
	const struct spr_rlmi_resource r[] = {
		RES("sip:alice@example.com", doc_a, 0x1111),
		RES("sip:bob@example.com", doc_b, 0x2222),
		{SPR_STR("sip:carol@example.com"), SPR_STR_NULL, 0x3333}, /* state unknown */
	};
	struct spr_rlmi_out o;
	struct parsed ps;
	xmlNodePtr root, res = NULL, in;
	int len = build("sip:buddies@example.com", 7, r, 3, 42, out, sizeof(out), &o);
	const char *uris[] = {"sip:alice@example.com", "sip:bob@example.com",
			      "sip:carol@example.com"};
	const char *docs[] = {doc_a, doc_b, NULL};
	char ids[3][20];

	(void)state;
	assert_true(len > 0);
	assert_int_equal(o.included, 2);
	assert_int_equal(o.omitted, 0);
	parse_body(out, (uint32_t)len, &o, &ps);
	assert_int_equal(ps.nparts, 3);
	root = xmlDocGetRootElement(ps.rlmi);
	assert_string_equal((const char *)root->name, "list");
	assert_non_null(root->ns);
	assert_string_equal((const char *)root->ns->href, SPR_RLMI_NS);
	assert_string_equal(attr(root, "uri"), "sip:buddies@example.com");
	assert_string_equal(attr(root, "version"), "7");
	assert_string_equal(attr(root, "fullState"), "true");
	for (int i = 0; i < 3; i++) {
		res = child(root, "resource", res);
		assert_non_null(res);
		assert_string_equal(attr(res, "uri"), uris[i]);
		in = child(res, "instance", NULL);
		if (docs[i] == NULL) {
			assert_null(in); /* no state, no instance */
			continue;
		}
		assert_non_null(in);
		assert_string_equal(attr(in, "state"), "active");
		snprintf(ids[i], sizeof(ids[i]), "%s", attr(in, "id"));
		{
			const struct part *pt = part_of(&ps, attr(in, "cid"));

			assert_non_null(pt);
			assert_string_equal(pt->ctype, "application/pidf+xml;charset=\"UTF-8\"");
			assert_int_equal(pt->len, strlen(docs[i]));
			assert_memory_equal(pt->content, docs[i], pt->len);
		}
	}
	assert_null(child(root, "resource", res));
	assert_string_equal(ids[0], "0000000000001111");
	assert_string_equal(ids[1], "0000000000002222");
	/* Content-IDs differ from one another */
	assert_string_not_equal(ps.p[0].cid, ps.p[1].cid);
	assert_string_not_equal(ps.p[1].cid, ps.p[2].cid);
	xmlFreeDoc(ps.rlmi);
}

/* The next version: its own boundary and cids, the same instance ids. */
static void
test_versions(void **state)
{
	static char a[8192], b[8192];
	const struct spr_rlmi_resource r[] = {RES("sip:alice@example.com", doc_a, 9)};
	struct spr_rlmi_out oa, ob;
	struct parsed pa, pb;
	int la = build("sip:buddies@example.com", 0, r, 1, 5, a, sizeof(a), &oa);
	int lb = build("sip:buddies@example.com", 1, r, 1, 5, b, sizeof(b), &ob);
	xmlNodePtr ia, ib;

	(void)state;
	assert_true(la > 0 && lb > 0);
	parse_body(a, (uint32_t)la, &oa, &pa);
	parse_body(b, (uint32_t)lb, &ob, &pb);
	assert_string_equal(attr(xmlDocGetRootElement(pa.rlmi), "version"), "0");
	assert_string_equal(attr(xmlDocGetRootElement(pb.rlmi), "version"), "1");
	assert_string_not_equal(pa.boundary, pb.boundary);
	assert_string_not_equal(pa.start, pb.start);
	ia = child(child(xmlDocGetRootElement(pa.rlmi), "resource", NULL), "instance", NULL);
	ib = child(child(xmlDocGetRootElement(pb.rlmi), "resource", NULL), "instance", NULL);
	assert_string_equal(attr(ia, "id"), attr(ib, "id"));
	/* the same inputs give the same body */
	assert_int_equal(build("sip:buddies@example.com", 1, r, 1, 5, a, sizeof(a), &oa), lb);
	assert_memory_equal(a, b, (size_t)lb);
	xmlFreeDoc(pa.rlmi);
	xmlFreeDoc(pb.rlmi);
}

/* Quotes, angle brackets, ampersands, control bytes and non-UTF-8 in URIs: well-formed XML. */
static void
test_hostile_uris(void **state)
{
	static char out[16384];
	const struct spr_rlmi_resource r[] = {
		RES("sip:a\"b<c>&d'e@example.com", doc_a, 1),
		RES("sip:x\x01y\x7f z\xff\xfe@example.com", doc_b, 2),
		RES("sip:]]></list><list uri=\"evil\"@example.com", doc_a, 3),
	};
	const char *want[] = {"sip:a\"b<c>&d'e@example.com", "sip:x%01y%7F%20z%FF%FE@example.com",
			      "sip:]]></list><list%20uri=\"evil\"@example.com"};
	struct spr_rlmi_out o;
	struct parsed ps;
	xmlNodePtr root, res = NULL;
	int len = build("sip:bud\"dies&<\x02>@example.com", 3, r, 3, 77, out, sizeof(out), &o);

	(void)state;
	assert_true(len > 0);
	parse_body(out, (uint32_t)len, &o, &ps);
	root = xmlDocGetRootElement(ps.rlmi);
	assert_string_equal(attr(root, "uri"), "sip:bud\"dies&<%02>@example.com");
	for (int i = 0; i < 3; i++) {
		res = child(root, "resource", res);
		assert_non_null(res);
		assert_string_equal(attr(res, "uri"), want[i]);
		assert_non_null(part_of(&ps, attr(child(res, "instance", NULL), "cid")));
	}
	assert_null(child(root, "resource", res));
	assert_null(child(root, "list", NULL));
	xmlFreeDoc(ps.rlmi);
}

/* A cap: parts are left out from the end, their resources listed without an instance. */
static void
test_cap(void **state)
{
	static char out[16384];
	const struct spr_rlmi_resource r[] = {
		RES("sip:alice@example.com", doc_a, 1),
		RES("sip:bob@example.com", doc_b, 2),
		RES("sip:carol@example.com", doc_a, 3),
	};
	struct spr_rlmi_out o;
	struct parsed ps;
	xmlNodePtr root, res;
	int full = build("sip:buddies@example.com", 1, r, 3, 9, out, sizeof(out), &o), len;
	uint32_t cap;

	(void)state;
	assert_true(full > 0);
	/* room for about one part less than everything */
	cap = (uint32_t)full - 100;
	len = build("sip:buddies@example.com", 1, r, 3, 9, out, cap, &o);
	assert_true(len > 0 && (uint32_t)len <= cap);
	assert_int_equal(o.included, 2);
	assert_int_equal(o.omitted, 1);
	parse_body(out, (uint32_t)len, &o, &ps);
	assert_int_equal(ps.nparts, 3);
	root = xmlDocGetRootElement(ps.rlmi);
	res = child(root, "resource", NULL);
	assert_non_null(child(res, "instance", NULL));
	res = child(root, "resource", child(root, "resource", NULL));
	assert_non_null(child(res, "instance", NULL));
	res = child(root, "resource", res);
	assert_string_equal(attr(res, "uri"), "sip:carol@example.com");
	assert_null(child(res, "instance", NULL));
	xmlFreeDoc(ps.rlmi);
	/* room for the RLMI document only */
	len = build("sip:buddies@example.com", 1, r, 3, 9, out, 700, &o);
	assert_true(len > 0 && len <= 700);
	assert_int_equal(o.included, 0);
	assert_int_equal(o.omitted, 3);
	parse_body(out, (uint32_t)len, &o, &ps);
	assert_int_equal(ps.nparts, 1);
	xmlFreeDoc(ps.rlmi);
	/* not even that */
	assert_int_equal(build("sip:buddies@example.com", 1, r, 3, 9, out, 200, &o), -ENOSPC);
}

/* A part holding the boundary that would be drawn gets another boundary. */
static void
test_boundary_redrawn(void **state)
{
	static char out[16384], doc[1024];
	struct spr_rlmi_resource r[] = {RES("sip:alice@example.com", doc_a, 1)};
	struct spr_rlmi_out o;
	struct parsed ps;
	char first[64];
	int len = build("sip:buddies@example.com", 4, r, 1, 1234, out, sizeof(out), &o);

	(void)state;
	assert_true(len > 0);
	assert_int_equal(o.redraws, 0);
	ctype_param(o.content_type, "boundary", first, sizeof(first));
	snprintf(doc, sizeof(doc),
		 "<?xml version=\"1.0\"?><presence xmlns=\"urn:ietf:params:xml:ns:pidf\" "
		 "entity=\"sip:alice@example.com\"><note>--%s</note></presence>",
		 first);
	r[0].doc = (struct spr_str){doc, (uint32_t)strlen(doc)};
	len = build("sip:buddies@example.com", 4, r, 1, 1234, out, sizeof(out), &o);
	assert_true(len > 0);
	assert_int_equal(o.redraws, 1);
	parse_body(out, (uint32_t)len, &o, &ps); /* checks the boundary is in no part */
	assert_string_not_equal(ps.boundary, first);
	assert_int_equal(ps.nparts, 2);
	assert_int_equal(ps.p[1].len, strlen(doc));
	xmlFreeDoc(ps.rlmi);
}

static void
test_empty_list(void **state)
{
	static char out[4096];
	struct spr_rlmi_out o;
	struct parsed ps;
	int len = build("sip:buddies@example.com", 0, NULL, 0, 1, out, sizeof(out), &o);

	(void)state;
	assert_true(len > 0);
	parse_body(out, (uint32_t)len, &o, &ps);
	assert_int_equal(ps.nparts, 1);
	assert_null(child(xmlDocGetRootElement(ps.rlmi), "resource", NULL));
	xmlFreeDoc(ps.rlmi);
	assert_int_equal(spr_rlmi_build(&SPR_STR_NULL, 0, true, NULL, 0, 1, out, sizeof(out), &o),
			 -EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_three_resources),	 cmocka_unit_test(test_versions),
		cmocka_unit_test(test_hostile_uris),	 cmocka_unit_test(test_cap),
		cmocka_unit_test(test_boundary_redrawn), cmocka_unit_test(test_empty_list),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
