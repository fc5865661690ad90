/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SIP and SIPS URIs: parsing (RFC 3261 §19.1.1, §25.1), equality (§19.1.4) and the
 * canonical address-of-record (§10.3 step 5). Views into the caller's bytes only.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include <spr/sip_msg.h>

/* Character classes of the SIP-URI grammar (RFC 3261 §25.1). */
enum {
	U_UNRES = 1u << 0,  /* unreserved = alphanum / mark */
	U_USER = 1u << 1,   /* user-unreserved */
	U_PASS = 1u << 2,   /* password: "&" / "=" / "+" / "$" / "," */
	U_PARAM = 1u << 3,  /* param-unreserved */
	U_HNV = 1u << 4,    /* hnv-unreserved */
	U_HOST = 1u << 5,   /* hostname: alphanum / "-" / "." */
	U_SCHEME = 1u << 6, /* scheme: ALPHA / DIGIT / "+" / "-" / "." */
	U_HEX = 1u << 7,
};

#define U_ALNUM (U_UNRES | U_HOST | U_SCHEME)

static const uint8_t uri_cc[256] = {
	['0' ... '9'] = U_ALNUM | U_HEX,
	['A' ... 'F'] = U_ALNUM | U_HEX,
	['G' ... 'Z'] = U_ALNUM,
	['a' ... 'f'] = U_ALNUM | U_HEX,
	['g' ... 'z'] = U_ALNUM,
	['-'] = U_UNRES | U_HOST | U_SCHEME,
	['.'] = U_UNRES | U_HOST | U_SCHEME,
	['_'] = U_UNRES,
	['!'] = U_UNRES,
	['~'] = U_UNRES,
	['*'] = U_UNRES,
	['\''] = U_UNRES,
	['('] = U_UNRES,
	[')'] = U_UNRES,
	['&'] = U_USER | U_PASS | U_PARAM,
	['='] = U_USER | U_PASS,
	['+'] = U_USER | U_PASS | U_PARAM | U_HNV | U_SCHEME,
	['$'] = U_USER | U_PASS | U_PARAM | U_HNV,
	[','] = U_USER | U_PASS,
	[';'] = U_USER,
	['?'] = U_USER | U_HNV,
	['/'] = U_USER | U_PARAM | U_HNV,
	['['] = U_PARAM | U_HNV,
	[']'] = U_PARAM | U_HNV,
	[':'] = U_PARAM | U_HNV,
};

static inline unsigned
uri_class(char c)
{
	return uri_cc[(unsigned char)c];
}

static inline unsigned
hexval(char c)
{
	unsigned char u = (unsigned char)c;
	return u <= '9' ? u - '0' : (u | 0x20) - 'a' + 10;
}

/* End of the run of class mask at p; four octets per bound check. */
static inline const char *
uri_skip(const char *p, const char *e, unsigned mask)
{
	if (e - p >= 4) {
		const char *e4 = e - 4;
		do {
			if (!(uri_class(p[0]) & mask))
				return p;
			if (!(uri_class(p[1]) & mask))
				return p + 1;
			if (!(uri_class(p[2]) & mask))
				return p + 2;
			if (!(uri_class(p[3]) & mask))
				return p + 3;
			p += 4;
		} while (p <= e4);
	}
	while (p < e && (uri_class(*p) & mask))
		p++;
	return p;
}

/*
 * Length of the run at p[0..e) made of characters in class mask or escaped
 * octets ("%" HEXDIG HEXDIG); -1 on a malformed escape.
 */
static int32_t
uri_run(const char *p, const char *e, unsigned mask)
{
	const char *s = p;

	for (p = uri_skip(p, e, mask); p < e && *p == '%'; p = uri_skip(p + 3, e, mask))
		if (e - p < 3 || !(uri_class(p[1]) & U_HEX) || !(uri_class(p[2]) & U_HEX))
			return -1;
	return (int32_t)(p - s);
}

/* host = hostname / IPv4address / IPv6reference; returns its end or NULL. */
static const char *
uri_host(const char *p, const char *e)
{
	const char *s = p;

	if (p < e && *p == '[') {
		for (p++; p < e && *p != ']'; p++)
			if (!(uri_class(*p) & U_HEX) && *p != ':' && *p != '.')
				return NULL;
		return (p < e && p - s > 1) ? p + 1 : NULL;
	}
	p = uri_skip(p, e, U_HOST);
	return p > s ? p : NULL;
}

/* *( ";" uri-parameter ), uri-parameter = pname [ "=" pvalue ], from just after a ';'. */
static const char *
uri_params(const char *p, const char *e)
{
	for (;;) {
		int32_t n = uri_run(p, e, U_UNRES | U_PARAM);
		if (n <= 0)
			return NULL;
		p += n;
		if (p < e && *p == '=') {
			n = uri_run(++p, e, U_UNRES | U_PARAM);
			if (n <= 0)
				return NULL;
			p += n;
		}
		if (p == e || *p != ';')
			return p;
		p++;
	}
}

/* headers = header *( "&" header ), header = hname "=" hvalue, from just after '?'. */
static const char *
uri_headers(const char *p, const char *e)
{
	for (;;) {
		int32_t n = uri_run(p, e, U_UNRES | U_HNV);
		if (n <= 0)
			return NULL;
		p += n;
		if (p == e || *p != '=')
			return NULL;
		n = uri_run(++p, e, U_UNRES | U_HNV);
		if (n < 0)
			return NULL;
		p += n;
		if (p == e || *p != '&')
			return p;
		p++;
	}
}

/*
 * userinfo = ( user / telephone-subscriber ) [ ":" password ] "@", present
 * when the URI holds an '@'. Neither the host part nor anything after it
 * admits an '@', and user and password stop before the first one, so the
 * userinfo is what the user and password runs reach when they end at an
 * '@'; otherwise there is none (and an '@' further on fails the host part).
 * Returns where the host starts, or NULL on a malformed escape.
 */
static const char *
uri_userinfo(const char *p, const char *e, struct spr_sip_uri *u)
{
	int32_t n = uri_run(p, e, U_UNRES | U_USER), pn;
	const char *q = p + n;

	if (n < 0)
		return NULL;
	if (q < e && *q == '@') {
		u->user = (struct spr_str){p, (uint32_t)n};
		u->has_user = 1;
		return q + 1;
	}
	if (q < e && *q == ':') {
		pn = uri_run(q + 1, e, U_UNRES | U_PASS);
		if (pn < 0)
			return NULL;
		if (q + 1 + pn < e && q[1 + pn] == '@') {
			u->user = (struct spr_str){p, (uint32_t)n};
			u->password = (struct spr_str){q + 1, (uint32_t)pn};
			u->has_user = 1;
			return q + 2 + pn;
		}
	}
	return p;
}

static int
uri_parse_sip(const char *p, const char *e, struct spr_sip_uri *u)
{
	const char *h;

	p = uri_userinfo(p, e, u);
	if (p == NULL)
		return -EBADMSG;
	h = uri_host(p, e);
	if (h == NULL)
		return -EBADMSG;
	u->host = (struct spr_str){p, (uint32_t)(h - p)};
	p = h;
	if (p < e && *p == ':') {
		uint32_t port = 0, nd = 0;
		for (p++; p < e && *p >= '0' && *p <= '9' && nd < 6; p++, nd++)
			port = port * 10 + (uint32_t)(*p - '0');
		if (nd == 0 || port > 65535)
			return -EBADMSG;
		u->port = (uint16_t)port;
	}
	if (p < e && *p == ';') {
		const char *q = uri_params(p + 1, e);
		if (q == NULL)
			return -EBADMSG;
		u->params = (struct spr_str){p + 1, (uint32_t)(q - p - 1)};
		p = q;
	}
	if (p < e && *p == '?') {
		const char *q = uri_headers(p + 1, e);
		if (q == NULL)
			return -EBADMSG;
		u->headers = (struct spr_str){p + 1, (uint32_t)(q - p - 1)};
		p = q;
	}
	return p == e ? 0 : -EBADMSG;
}

/* sip, sips, tel, case-insensitively; c | 0x20 lower-cases the letters of a scheme exactly. */
static uint8_t
scheme_id(const char *p, const char *e)
{
	if (e - p == 3 && (p[0] | 0x20) == 's' && (p[1] | 0x20) == 'i' && (p[2] | 0x20) == 'p')
		return SPR_URI_SIP;
	if (e - p == 4 && (p[0] | 0x20) == 's' && (p[1] | 0x20) == 'i' && (p[2] | 0x20) == 'p' &&
	    (p[3] | 0x20) == 's')
		return SPR_URI_SIPS;
	if (e - p == 3 && (p[0] | 0x20) == 't' && (p[1] | 0x20) == 'e' && (p[2] | 0x20) == 'l')
		return SPR_URI_TEL;
	return SPR_URI_OTHER;
}

int
spr_sip_uri_parse(const char *p, uint32_t len, struct spr_sip_uri *u)
{
	const char *e = p + len;
	const char *c = p;

	memset(u, 0, sizeof(*u));
	u->raw = (struct spr_str){p, len};
	if (len > 4 && (spr_ld32(p) | 0x00202020u) == spr_ld32("sip:")) {
		u->scheme = (struct spr_str){p, 3};
		u->scheme_id = SPR_URI_SIP;
		return uri_parse_sip(p + 4, e, u);
	}
	/*
	 * scheme ":" — sip/sips/tel by name; any other token-like scheme is kept
	 * as an opaque absoluteURI (RFC 3261 §19.1.1: unknown schemes are legal).
	 */
	while (c < e && (uri_class(*c) & U_SCHEME))
		c++;
	if (c == p || c == e || *c != ':') {
		/* not a plain scheme: tolerate other token characters before ':' */
		while (c < e && *c != ':' && (unsigned char)*c > 0x20 && (unsigned char)*c < 0x7f &&
		       *c != '<' && *c != '>' && *c != '"' && *c != '@' && *c != ';' && *c != '/')
			c++;
		if (c == p || c == e || *c != ':')
			return -EBADMSG;
	}
	u->scheme = (struct spr_str){p, (uint32_t)(c - p)};
	u->scheme_id = scheme_id(p, c);
	c++;
	if (u->scheme_id == SPR_URI_SIP || u->scheme_id == SPR_URI_SIPS)
		return uri_parse_sip(c, e, u);
	/* absoluteURI: scheme ":" one or more visible characters */
	if (c == e)
		return -EBADMSG;
	for (; c < e; c++)
		if ((unsigned char)*c <= 0x20 || (unsigned char)*c == 0x7f)
			return -EBADMSG;
	return 0;
}

/*
 * One comparison unit of an escaped string (RFC 3261 §19.1.4): an octet, with
 * "%" HEX HEX decoded unless it encodes a reserved character, which stays
 * distinct from the literal (flagged with 0x100).
 */
static unsigned
uri_unit(const char *p, const char *e, const char **next)
{
	if (*p == '%' && e - p >= 3 && (uri_class(p[1]) & U_HEX) && (uri_class(p[2]) & U_HEX)) {
		unsigned c = hexval(p[1]) << 4 | hexval(p[2]);
		*next = p + 3;
		return strchr(";/?:@&=+$,", (int)c) != NULL && c != 0 ? c | 0x100 : c;
	}
	*next = p + 1;
	return (unsigned char)*p;
}

static unsigned
unit_lower(unsigned c)
{
	return (c >= 'A' && c <= 'Z') ? c | 0x20 : c;
}

/* Equality of two escaped strings, unit by unit, optionally ignoring ASCII case. */
static bool
units_eq(const char *a, uint32_t alen, const char *b, uint32_t blen, bool icase)
{
	const char *ae = a + alen, *be = b + blen;

	while (a < ae && b < be) {
		unsigned x = uri_unit(a, ae, &a);
		unsigned y = uri_unit(b, be, &b);
		if (icase) {
			x = unit_lower(x);
			y = unit_lower(y);
		}
		if (x != y)
			return false;
	}
	return a == ae && b == be;
}

/* One "name[=value]" element of a ';' or '&' separated list. */
struct uri_kv {
	struct spr_str name;
	struct spr_str value;
	bool has_value;
};

static bool
uri_kv_next(const char **pp, const char *e, char sep, struct uri_kv *kv)
{
	const char *p = *pp, *s, *eq = NULL;

	if (p >= e)
		return false;
	for (s = p; p < e && *p != sep; p++)
		if (*p == '=' && eq == NULL)
			eq = p;
	kv->has_value = eq != NULL;
	kv->name = (struct spr_str){s, (uint32_t)((eq ? eq : p) - s)};
	kv->value = eq ? (struct spr_str){eq + 1, (uint32_t)(p - eq - 1)} : SPR_STR_NULL;
	*pp = p < e ? p + 1 : p;
	return true;
}

static bool
kv_name_is(const struct uri_kv *kv, const char *lit)
{
	return units_eq(kv->name.p, kv->name.len, lit, (uint32_t)strlen(lit), true);
}

static bool
kv_find(const struct spr_str *list, char sep, const struct uri_kv *want, struct uri_kv *out)
{
	const char *p = list->p, *e = list->p + list->len;

	while (uri_kv_next(&p, e, sep, out))
		if (units_eq(out->name.p, out->name.len, want->name.p, want->name.len, true))
			return true;
	return false;
}

static bool
kv_value_eq(const struct uri_kv *a, const struct uri_kv *b)
{
	return a->has_value == b->has_value &&
	       units_eq(a->value.p, a->value.len, b->value.p, b->value.len, true);
}

/* user, ttl, method, maddr and transport must match when either URI has them. */
static bool
param_is_strict(const struct uri_kv *kv)
{
	return kv_name_is(kv, "user") || kv_name_is(kv, "ttl") || kv_name_is(kv, "method") ||
	       kv_name_is(kv, "maddr") || kv_name_is(kv, "transport");
}

/* Every parameter of a that b must agree on: the strict ones, and any present in both. */
static bool
params_cover(const struct spr_str *a, const struct spr_str *b)
{
	const char *p = a->p, *e = a->p + a->len;
	struct uri_kv x, y;

	while (uri_kv_next(&p, e, ';', &x)) {
		if (kv_find(b, ';', &x, &y)) {
			if (!kv_value_eq(&x, &y))
				return false;
		} else if (param_is_strict(&x)) {
			return false;
		}
	}
	return true;
}

/* Headers are never ignored: every header of a must be in b with the same value. */
static bool
headers_cover(const struct spr_str *a, const struct spr_str *b)
{
	const char *p = a->p, *e = a->p + a->len;
	struct uri_kv x, y;

	while (uri_kv_next(&p, e, '&', &x))
		if (!kv_find(b, '&', &x, &y) || !kv_value_eq(&x, &y))
			return false;
	return true;
}

bool
spr_sip_uri_eq(const struct spr_sip_uri *a, const struct spr_sip_uri *b)
{
	if (a->scheme_id != b->scheme_id)
		return false;
	if (a->scheme_id != SPR_URI_SIP && a->scheme_id != SPR_URI_SIPS)
		return spr_str_eq(&a->raw, &b->raw);
	/* userinfo is case-sensitive; host case-insensitive; absent port != 5060 */
	return a->has_user == b->has_user &&
	       units_eq(a->user.p, a->user.len, b->user.p, b->user.len, false) &&
	       units_eq(a->password.p, a->password.len, b->password.p, b->password.len, false) &&
	       spr_str_caseeq(&a->host, &b->host) && a->port == b->port &&
	       params_cover(&a->params, &b->params) && params_cover(&b->params, &a->params) &&
	       headers_cover(&a->headers, &b->headers) && headers_cover(&b->headers, &a->headers);
}

/*
 * ASCII letters of the 8 bytes in w made lower case, other bytes as they are:
 * for a byte below 0x80, adding 0x3f sets its top bit from 'A' up and adding
 * 0x25 from '[' up (no carry leaves a byte), so their difference marks A-Z.
 */
static inline uint64_t
ascii_lower8(uint64_t w)
{
	const uint64_t ones = 0x0101010101010101ull;
	uint64_t h = w & (0x7f * ones);
	uint64_t upper = ((h + 0x3f * ones) ^ (h + 0x25 * ones)) & ~w & (0x80 * ones);

	return w | (upper >> 2);
}

/* Whether one of the 8 bytes in w is '%' (a zero byte of w ^ "%%%%%%%%", found exactly). */
static inline bool
has_pct8(uint64_t w)
{
	const uint64_t ones = 0x0101010101010101ull;
	uint64_t x = w ^ (0x25 * ones);

	return ((x - ones) & ~x & (0x80 * ones)) != 0;
}

int
spr_sip_aor_normalize(const struct spr_sip_uri *u, char *out, uint32_t cap)
{
	const char *p = u->user.p, *e = u->user.p + u->user.len;
	uint32_t n = 0, i = 0;
	char port[6];
	uint32_t np = 0;

	if ((u->scheme_id != SPR_URI_SIP && u->scheme_id != SPR_URI_SIPS) || !u->has_user ||
	    u->user.len == 0 || u->host.len == 0)
		return -EINVAL;
	/* user with every escape decoded (a %00 yields a NUL octet); runs without one copied whole */
	if (u->user.len - 8 <= 8) {
		/* 8 to 16 octets: two words that overlap, copied at once when neither holds '%' */
		uint64_t a = spr_ld64(p), b = spr_ld64(e - 8);
		if (!has_pct8(a) && !has_pct8(b)) {
			if (cap < u->user.len)
				return -ENOSPC;
			memcpy(out, &a, 8);
			memcpy(out + u->user.len - 8, &b, 8);
			n = u->user.len;
			p = e;
		}
	}
	while (p < e) {
		const char *pct = memchr(p, '%', (size_t)(e - p));
		uint32_t run = (uint32_t)((pct != NULL ? pct : e) - p);
		char c;

		if (cap - n < run)
			return -ENOSPC;
		memcpy(out + n, p, run);
		n += run;
		p += run;
		if (p == e)
			break;
		if (e - p >= 3 && (uri_class(p[1]) & U_HEX) && (uri_class(p[2]) & U_HEX)) {
			c = (char)(hexval(p[1]) << 4 | hexval(p[2]));
			p += 3;
		} else {
			c = '%';
			p++;
		}
		if (n == cap)
			return -ENOSPC;
		out[n++] = c;
	}
	if (cap - n < 1 + u->host.len)
		return -ENOSPC;
	out[n++] = '@';
	/* the host lower-cased 8 bytes at a time, then the rest */
	for (; i + 8 <= u->host.len; i += 8) {
		uint64_t w;

		memcpy(&w, u->host.p + i, 8);
		w = ascii_lower8(w);
		memcpy(out + n, &w, 8);
		n += 8;
	}
	if (i < u->host.len && u->host.len >= 8) {
		/* the last 8 octets, overlapping some already written (the same again) */
		uint64_t w = ascii_lower8(spr_ld64(u->host.p + u->host.len - 8));
		n += u->host.len - i;
		memcpy(out + n - 8, &w, 8);
		i = u->host.len;
	}
	for (; i < u->host.len; i++)
		out[n++] = spr_ascii_lower(u->host.p[i]);
	if (u->port != 0) {
		for (uint32_t v = u->port; v != 0; v /= 10)
			port[np++] = (char)('0' + v % 10);
		if (cap - n < 1 + np)
			return -ENOSPC;
		out[n++] = ':';
		while (np != 0)
			out[n++] = port[--np];
	}
	return (int)n;
}
