/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <jansson.h>

#include <spr/location.h>
#include <spr/sip_msg.h>

#include "registrar.h"
#include "ul_json.h"

/* Length of the well-formed UTF-8 sequence at p (RFC 3629 §4), 0 if there is none. */
static uint32_t
utf8_seq(const unsigned char *p, uint32_t n)
{
	unsigned char c = p[0];
	uint32_t len;
	unsigned char lo = 0x80, hi = 0xbf;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		if (c == 0xe0)
			lo = 0xa0; /* overlong */
		else if (c == 0xed)
			hi = 0x9f; /* surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		if (c == 0xf0)
			lo = 0x90; /* overlong */
		else if (c == 0xf4)
			hi = 0x8f; /* above U+10FFFF */
	} else {
		return 0;
	}
	if (n < len || p[1] < lo || p[1] > hi)
		return 0;
	for (uint32_t i = 2; i < len; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return len;
}

json_t *
spr_ul_json_string(const char *p, uint32_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *u = (const unsigned char *)p;
	uint32_t bad = 0, i, o = 0;
	char *esc;
	json_t *s;

	for (i = 0; i < len;) {
		uint32_t k = utf8_seq(u + i, len - i);

		if (k == 0) {
			bad++;
			k = 1;
		}
		i += k;
	}
	if (bad == 0)
		return json_stringn(p, len);
	esc = malloc((size_t)len + 2 * (size_t)bad);
	if (esc == NULL)
		return NULL;
	for (i = 0; i < len;) {
		uint32_t k = utf8_seq(u + i, len - i);

		if (k == 0) {
			esc[o++] = '%';
			esc[o++] = hex[u[i] >> 4];
			esc[o++] = hex[u[i] & 0xf];
			i++;
			continue;
		}
		memcpy(esc + o, p + i, k);
		o += k;
		i += k;
	}
	s = json_stringn(esc, o);
	free(esc);
	return s;
}

static json_t *
ref_json(const struct spr_record *r, struct spr_ref ref)
{
	struct spr_str s = spr_rec_str(r, ref);

	return spr_ul_json_string(s.p, s.len);
}

static json_t *
ref_json_or_null(const struct spr_record *r, struct spr_ref ref)
{
	return ref.len != 0 ? ref_json(r, ref) : json_null();
}

static json_t *
received_json(const struct spr_binding *b)
{
	char ip[INET6_ADDRSTRLEN], out[INET6_ADDRSTRLEN + 16];
	int af = b->src_family;

	if ((af != AF_INET && af != AF_INET6) || inet_ntop(af, b->src_addr, ip, sizeof(ip)) == NULL)
		return json_null();
	snprintf(out, sizeof(out), af == AF_INET6 ? "[%s]:%u" : "%s:%u", ip, b->src_port);
	return json_string(out);
}

/* Steal v into o under key; false (and o unchanged) when v is NULL or o is full. */
static bool
put(json_t *o, const char *key, json_t *v)
{
	return v != NULL && json_object_set_new(o, key, v) == 0;
}

static json_t *
binding_json(const struct spr_record *r, const struct spr_binding *b, uint32_t now, bool brief)
{
	json_t *o = json_object();
	uint32_t exp = spr_binding_expires_at(b); /* one load: it may change in place */

	if (o == NULL)
		return NULL;
	if (!put(o, "contact", ref_json(r, b->contact)) ||
	    !put(o, "expires", json_integer(exp > now ? exp - now : 0)))
		goto err;
	if (brief)
		return o;
	if (!put(o, "q", b->q == SPR_SIP_Q_NONE ? json_null() : json_real(b->q / 1000.0)) ||
	    !put(o, "call_id", ref_json(r, b->call_id)) || !put(o, "cseq", json_integer(spr_binding_cseq(b))) ||
	    !put(o, "received", received_json(b)) ||
	    !put(o, "user_agent", ref_json_or_null(r, b->user_agent)) ||
	    !put(o, "path", ref_json_or_null(r, b->path)) ||
	    !put(o, "instance", ref_json_or_null(r, b->instance)) ||
	    !put(o, "reg_id",
		 (b->flags & SPR_BINDING_HAS_REG_ID) ? json_integer(b->reg_id) : json_null()))
		goto err;
	return o;

err:
	json_decref(o);
	return NULL;
}

json_t *
spr_ul_record_json(const struct spr_record *r, uint32_t now, bool brief)
{
	json_t *o = json_object(), *arr = json_array();

	if (o == NULL || arr == NULL)
		goto err;
	for (uint16_t i = 0; i < r->n; i++) {
		const struct spr_binding *b = &r->b[i];

		if (spr_binding_alive(b, now) &&
		    json_array_append_new(arr, binding_json(r, b, now, brief)) != 0)
			goto err;
	}
	if (!put(o, "aor", ref_json(r, r->aor)))
		goto err;
	if (json_object_set_new(o, "bindings", arr) != 0) {
		arr = NULL;
		goto err;
	}
	return o;

err:
	json_decref(arr);
	json_decref(o);
	return NULL;
}
