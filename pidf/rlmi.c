/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * RFC 4662 list notification bodies over libxml2 (contract in rlmi.h).
 * The body is sized before it is written: the RLMI document is serialised,
 * the parts' lengths are summed, and parts are left out from the end until
 * the whole fits; then a boundary absent from every part is drawn.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "rlmi.h"

#define BC (const xmlChar *)
#define BOUNDARY_LEN 24u
#define TOKEN_LEN 16u
#define CID_DOMAIN "@sprd"
#define DRAWS_MAX 8u
#define URI_MAX 4096u /* bytes of a URI once escaped */

static const char hexd[] = "0123456789abcdef";

static pthread_once_t rlmi_once = PTHREAD_ONCE_INIT;

static void
rlmi_init_once(void)
{
	xmlInitParser();
}

static void
hex(char *out, uint64_t v, uint32_t digits)
{
	for (uint32_t i = digits; i > 0; i--, v >>= 4)
		out[i - 1] = hexd[v & 0xf];
}

/*
 * uri with every byte outside printable ASCII (and '%' kept as is)
 * percent-encoded, NUL-terminated into out[URI_MAX]. -E2BIG when longer.
 */
static int
uri_escape(const struct spr_str *uri, char *out)
{
	uint32_t o = 0;

	for (uint32_t i = 0; i < uri->len; i++) {
		unsigned char c = (unsigned char)uri->p[i];

		if (c > 0x20 && c < 0x7f) {
			if (o + 2 > URI_MAX)
				return -E2BIG;
			out[o++] = (char)c;
		} else {
			if (o + 4 > URI_MAX)
				return -E2BIG;
			out[o++] = '%';
			out[o++] = "0123456789ABCDEF"[c >> 4];
			out[o++] = "0123456789ABCDEF"[c & 0xf];
		}
	}
	out[o] = '\0';
	return 0;
}

/* A resource's cid (no angle brackets): "<token>.<i>@sprd". */
static uint32_t
cid_write(char *out, const char *token, uint32_t i)
{
	return (uint32_t)snprintf(out, 48, "%.*s.%u" CID_DOMAIN, (int)TOKEN_LEN, token, i);
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

static const char ct_rlmi[] = "application/rlmi+xml;charset=\"UTF-8\"";
static const char ct_pidf[] = "application/pidf+xml;charset=\"UTF-8\"";

/* The RLMI document with an instance for each inc[i]; NULL on allocation failure. */
static xmlChar *
rlmi_doc(const struct spr_str *list_uri, uint32_t version, bool full_state,
	 const struct spr_rlmi_resource *res, const uint8_t *inc, uint32_t n, const char *token,
	 int *len)
{
	xmlDocPtr doc = xmlNewDoc(BC "1.0");
	xmlNodePtr root, rn, in;
	xmlNsPtr ns;
	xmlChar *mem = NULL;
	char buf[URI_MAX], num[16], id[17], cid[48];
	bool oom = false;

	*len = 0;
	if (doc == NULL)
		return NULL;
	if ((root = xmlNewDocNode(doc, NULL, BC "list", NULL)) == NULL)
		goto out;
	xmlDocSetRootElement(doc, root);
	if ((ns = xmlNewNs(root, BC SPR_RLMI_NS, NULL)) == NULL)
		goto out;
	xmlSetNs(root, ns);
	snprintf(num, sizeof(num), "%u", version);
	oom |= uri_escape(list_uri, buf) != 0 || xmlNewProp(root, BC "uri", BC buf) == NULL ||
	       xmlNewProp(root, BC "version", BC num) == NULL ||
	       xmlNewProp(root, BC "fullState", BC(full_state ? "true" : "false")) == NULL;
	for (uint32_t i = 0; i < n && !oom; i++) {
		if ((rn = xmlNewChild(root, ns, BC "resource", NULL)) == NULL ||
		    uri_escape(&res[i].uri, buf) != 0 || xmlNewProp(rn, BC "uri", BC buf) == NULL) {
			oom = true;
			break;
		}
		if (!inc[i])
			continue;
		hex(id, res[i].id, 16);
		id[16] = '\0';
		cid_write(cid, token, i + 1);
		oom |= (in = xmlNewChild(rn, ns, BC "instance", NULL)) == NULL ||
		       xmlNewProp(in, BC "id", BC id) == NULL ||
		       xmlNewProp(in, BC "state", BC "active") == NULL ||
		       xmlNewProp(in, BC "cid", BC cid) == NULL;
	}
	if (!oom)
		xmlDocDumpMemoryEnc(doc, &mem, len, "UTF-8");
out:
	xmlFreeDoc(doc);
	if (mem != NULL && *len <= 0) {
		xmlFree(mem);
		mem = NULL;
	}
	return mem;
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
	char token[TOKEN_LEN], boundary[BOUNDARY_LEN], cid[48], start[48];
	uint64_t k[2] = {seed, version};
	uint8_t *inc;
	xmlChar *mem = NULL;
	uint32_t start_len, off = 0, d, dropped;
	uint64_t total = 0;
	int len = 0, rc = -ENOMEM;

	memset(o, 0, sizeof(*o));
	if (list_uri == NULL || list_uri->len == 0)
		return -EINVAL;
	pthread_once(&rlmi_once, rlmi_init_once);
	if ((inc = calloc(n != 0 ? n : 1, 1)) == NULL)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++)
		inc[i] = res[i].doc.len != 0;
	hex(token, spr_hash64(k, sizeof(k), 0x726c6d69u), TOKEN_LEN);
	start_len =
		(uint32_t)snprintf(start, sizeof(start), "%.*s" CID_DOMAIN, (int)TOKEN_LEN, token);
	/* size: the RLMI document, then the parts; leave parts out from the end until it fits */
	for (;;) {
		uint64_t excess;

		mem = rlmi_doc(list_uri, version, full_state, res, inc, n, token, &len);
		if (mem == NULL)
			goto out;
		total = part_len(start_len, sizeof(ct_rlmi) - 1, (uint32_t)len) + 2 + BOUNDARY_LEN +
			4 /* --B-- CRLF */;
		for (uint32_t i = 0; i < n; i++)
			if (inc[i])
				total += part_len(cid_write(cid, token, i + 1), sizeof(ct_pidf) - 1,
						  res[i].doc.len);
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
			excess = excess > pl ? excess - pl : 0;
		}
		if (dropped == 0) {
			rc = -ENOSPC; /* no part left and the RLMI document alone is too big */
			goto out;
		}
		o->omitted += dropped;
		xmlFree(mem);
		mem = NULL;
	}
	/* a boundary that no part contains (RFC 2046 §5.1.1) */
	for (d = 0; d < DRAWS_MAX; d++) {
		uint64_t b[3] = {seed, version, d};
		bool clash;

		hex(boundary, spr_hash64(b, sizeof(b), 0x626f756eu), 16);
		hex(boundary + 16, spr_hash64(b, sizeof(b), 0x64617279u), 8);
		clash = occurs((const char *)mem, (uint32_t)len, boundary, BOUNDARY_LEN);
		for (uint32_t i = 0; i < n && !clash; i++)
			clash = inc[i] &&
				occurs(res[i].doc.p, res[i].doc.len, boundary, BOUNDARY_LEN);
		if (!clash)
			break;
		o->redraws++;
	}
	if (d == DRAWS_MAX) {
		rc = -EEXIST;
		goto out;
	}
	put_part(out, &off, boundary, start, start_len, ct_rlmi, sizeof(ct_rlmi) - 1, mem,
		 (uint32_t)len);
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
	xmlFree(mem);
	free(inc);
	return rc;
}
