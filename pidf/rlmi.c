/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * RFC 4662 list notification bodies (contract in rlmi.h).
 *
 * The RLMI document is written directly, not through a libxml2 tree: its
 * shape is fixed (one element per resource, attributes only) and every
 * value is either ours (digits, hex, "active") or a URI that is first
 * %-encoded to printable ASCII and then XML-escaped (& < > "), so the
 * output is well-formed by construction; the unit test parses it back with
 * libxml2. Built as a libxml2 tree and serialised, a 10-member body cost
 * 188,000 instructions; written directly 25,000, most of it copying and
 * scanning the members' parts (docs/benchmarks.md).
 *
 * The body is sized before it is written: the RLMI document is written to a
 * scratch, the parts' lengths are summed, and parts are left out from the
 * end until the whole fits; then a boundary absent from every part is drawn.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rlmi.h"

#define BOUNDARY_LEN 24u
#define TOKEN_LEN 16u
#define CID_DOMAIN "@sprd"
#define CID_MAX (TOKEN_LEN + 12u + sizeof(CID_DOMAIN)) /* token '.' u32 "@sprd" */
#define DRAWS_MAX 8u
#define ESC_MAX 6u /* bytes one URI byte can become (&quot;) */

static const char hexd[] = "0123456789abcdef";

static void
hex(char *out, uint64_t v, uint32_t digits)
{
	for (uint32_t i = digits; i > 0; i--, v >>= 4)
		out[i - 1] = hexd[v & 0xf];
}

static uint32_t
u32_write(char *out, uint32_t v)
{
	char tmp[10];
	uint32_t n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	for (uint32_t i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	return n;
}

/* A resource's cid (no angle brackets): "<token>.<i>@sprd". */
static uint32_t
cid_write(char *out, const char *token, uint32_t i)
{
	uint32_t n = TOKEN_LEN;

	memcpy(out, token, TOKEN_LEN);
	out[n++] = '.';
	n += u32_write(out + n, i);
	memcpy(out + n, CID_DOMAIN, sizeof(CID_DOMAIN) - 1);
	return n + (uint32_t)sizeof(CID_DOMAIN) - 1;
}

/* A growing scratch for the RLMI document. */
struct doc {
	char *p;
	uint32_t len, cap;
	bool oom;
};

static void
doc_put(struct doc *d, const char *s, uint32_t n)
{
	if (d->oom)
		return;
	if (d->len + n > d->cap) {
		uint32_t cap = d->cap != 0 ? d->cap : 4096;
		char *p;

		while (cap < d->len + n)
			cap *= 2;
		if ((p = realloc(d->p, cap)) == NULL) {
			d->oom = true;
			return;
		}
		d->p = p;
		d->cap = cap;
	}
	memcpy(d->p + d->len, s, n);
	d->len += n;
}

#define DOC_LIT(d, lit) doc_put((d), (lit), sizeof(lit) - 1)

/*
 * An attribute value from a URI: bytes outside printable ASCII %-encoded
 * (so the value is ASCII, hence UTF-8 an XML parser takes), then the XML
 * specials escaped. Between double quotes, so ' stays.
 */
static void
doc_uri(struct doc *d, const struct spr_str *uri)
{
	char buf[256];
	uint32_t o = 0;

	for (uint32_t i = 0; i < uri->len; i++) {
		unsigned char c = (unsigned char)uri->p[i];
		const char *e = NULL;

		if (o + ESC_MAX > sizeof(buf)) {
			doc_put(d, buf, o);
			o = 0;
		}
		if (c == '&')
			e = "&amp;";
		else if (c == '<')
			e = "&lt;";
		else if (c == '>')
			e = "&gt;";
		else if (c == '"')
			e = "&quot;";
		if (e != NULL) {
			memcpy(buf + o, e, strlen(e));
			o += (uint32_t)strlen(e);
		} else if (c > 0x20 && c < 0x7f) {
			buf[o++] = (char)c;
		} else {
			buf[o++] = '%';
			buf[o++] = "0123456789ABCDEF"[c >> 4];
			buf[o++] = "0123456789ABCDEF"[c & 0xf];
		}
	}
	doc_put(d, buf, o);
}

static const char ct_rlmi[] = "application/rlmi+xml;charset=\"UTF-8\"";
static const char ct_pidf[] = "application/pidf+xml;charset=\"UTF-8\"";

/* The RLMI document with an instance for each inc[i], into d (d->len reset). */
static void
rlmi_doc(struct doc *d, const struct spr_str *list_uri, uint32_t version, bool full_state,
	 const struct spr_rlmi_resource *res, const uint8_t *inc, uint32_t n, const char *token)
{
	char num[10], id[16], cid[CID_MAX];

	d->len = 0;
	DOC_LIT(d, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<list xmlns=\"" SPR_RLMI_NS
		   "\" uri=\"");
	doc_uri(d, list_uri);
	DOC_LIT(d, "\" version=\"");
	doc_put(d, num, u32_write(num, version));
	if (full_state)
		DOC_LIT(d, "\" fullState=\"true\">");
	else
		DOC_LIT(d, "\" fullState=\"false\">");
	for (uint32_t i = 0; i < n; i++) {
		DOC_LIT(d, "<resource uri=\"");
		doc_uri(d, &res[i].uri);
		if (!inc[i]) {
			DOC_LIT(d, "\"/>");
			continue;
		}
		hex(id, res[i].id, 16);
		DOC_LIT(d, "\"><instance id=\"");
		doc_put(d, id, 16);
		DOC_LIT(d, "\" state=\"active\" cid=\"");
		doc_put(d, cid, cid_write(cid, token, i + 1));
		DOC_LIT(d, "\"/></resource>");
	}
	DOC_LIT(d, "</list>\n");
}

/* Bytes of one part with content_len bytes under the given Content-Type and cid. */
static uint64_t
part_len(uint32_t cid_len, uint32_t ctype_len, uint32_t content_len)
{
	return 2 + BOUNDARY_LEN + 2 /* --B CRLF */ +
	       sizeof("Content-Transfer-Encoding: binary\r\n") - 1 + sizeof("Content-ID: <>\r\n") -
	       1 + cid_len + sizeof("Content-Type: \r\n") - 1 + ctype_len + 2 /* blank line */ +
	       content_len + 2 /* CRLF of the next delimiter */;
}

static bool
occurs(const char *hay, uint32_t len, const char *needle, uint32_t nlen)
{
	return memmem(hay, len, needle, nlen) != NULL;
}

static void
put(char *out, uint32_t *off, const void *p, uint32_t len)
{
	memcpy(out + *off, p, len);
	*off += len;
}

#define PUT_LIT(out, off, lit) put((out), (off), (lit), sizeof(lit) - 1)

static void
put_part(char *out, uint32_t *off, const char *boundary, const char *cid, uint32_t cid_len,
	 const char *ctype, uint32_t ctype_len, const void *content, uint32_t content_len)
{
	PUT_LIT(out, off, "--");
	put(out, off, boundary, BOUNDARY_LEN);
	PUT_LIT(out, off, "\r\nContent-Transfer-Encoding: binary\r\nContent-ID: <");
	put(out, off, cid, cid_len);
	PUT_LIT(out, off, ">\r\nContent-Type: ");
	put(out, off, ctype, ctype_len);
	PUT_LIT(out, off, "\r\n\r\n");
	put(out, off, content, content_len);
	PUT_LIT(out, off, "\r\n");
}

int
spr_rlmi_build(const struct spr_str *list_uri, uint32_t version, bool full_state,
	       const struct spr_rlmi_resource *res, uint32_t n, uint64_t seed, char *out,
	       uint32_t cap, struct spr_rlmi_out *o)
{
	char token[TOKEN_LEN], boundary[BOUNDARY_LEN], cid[CID_MAX], start[CID_MAX];
	uint64_t k[2] = {seed, version}, parts = 0;
	struct doc d = {NULL, 0, 0, false};
	uint32_t start_len, off = 0, dr, dropped;
	uint8_t *inc;
	int rc = -ENOMEM;

	memset(o, 0, sizeof(*o));
	if (list_uri == NULL || list_uri->len == 0)
		return -EINVAL;
	if ((inc = calloc(n != 0 ? n : 1, 1)) == NULL)
		return -ENOMEM;
	hex(token, spr_hash64(k, sizeof(k), 0x726c6d69u), TOKEN_LEN);
	memcpy(start, token, TOKEN_LEN);
	memcpy(start + TOKEN_LEN, CID_DOMAIN, sizeof(CID_DOMAIN) - 1);
	start_len = TOKEN_LEN + (uint32_t)sizeof(CID_DOMAIN) - 1;
	for (uint32_t i = 0; i < n; i++) {
		inc[i] = res[i].doc.len != 0;
		if (inc[i])
			parts += part_len(cid_write(cid, token, i + 1), sizeof(ct_pidf) - 1,
					  res[i].doc.len);
	}
	/* size: the RLMI document, then the parts; leave parts out from the end until it fits */
	for (;;) {
		uint64_t total, excess;

		rlmi_doc(&d, list_uri, version, full_state, res, inc, n, token);
		if (d.oom)
			goto out;
		total = part_len(start_len, sizeof(ct_rlmi) - 1, d.len) + parts + 2 + BOUNDARY_LEN +
			4 /* --B-- CRLF */;
		if (total <= cap)
			break;
		excess = total - cap;
		dropped = 0;
		for (uint32_t i = n; i > 0 && excess != 0; i--) {
			uint64_t pl;

			if (!inc[i - 1])
				continue;
			inc[i - 1] = 0;
			dropped++;
			pl = part_len(cid_write(cid, token, i), sizeof(ct_pidf) - 1,
				      res[i - 1].doc.len);
			parts -= pl;
			excess = excess > pl ? excess - pl : 0;
		}
		if (dropped == 0) {
			rc = -ENOSPC; /* no part left and the RLMI document alone is too big */
			goto out;
		}
		o->omitted += dropped;
	}
	/* a boundary that no part contains (RFC 2046 §5.1.1) */
	for (dr = 0; dr < DRAWS_MAX; dr++) {
		uint64_t b[3] = {seed, version, dr};
		bool clash;

		hex(boundary, spr_hash64(b, sizeof(b), 0x626f756eu), 16);
		hex(boundary + 16, spr_hash64(b, sizeof(b), 0x64617279u), 8);
		clash = occurs(d.p, d.len, boundary, BOUNDARY_LEN);
		for (uint32_t i = 0; i < n && !clash; i++)
			clash = inc[i] &&
				occurs(res[i].doc.p, res[i].doc.len, boundary, BOUNDARY_LEN);
		if (!clash)
			break;
		o->redraws++;
	}
	if (dr == DRAWS_MAX) {
		rc = -EEXIST;
		goto out;
	}
	put_part(out, &off, boundary, start, start_len, ct_rlmi, sizeof(ct_rlmi) - 1, d.p, d.len);
	for (uint32_t i = 0; i < n; i++) {
		if (!inc[i])
			continue;
		put_part(out, &off, boundary, cid, cid_write(cid, token, i + 1), ct_pidf,
			 sizeof(ct_pidf) - 1, res[i].doc.p, res[i].doc.len);
		o->included++;
	}
	PUT_LIT(out, &off, "--");
	put(out, &off, boundary, BOUNDARY_LEN);
	PUT_LIT(out, &off, "--\r\n");
	o->content_type_len =
		(uint32_t)snprintf(o->content_type, sizeof(o->content_type),
				   "multipart/related;type=\"application/"
				   "rlmi+xml\";start=\"<%.*s>\";boundary=\"%.*s\"",
				   (int)start_len, start, (int)BOUNDARY_LEN, boundary);
	rc = (int)off;
out:
	free(d.p);
	free(inc);
	return rc;
}
