/* SPDX-License-Identifier: BSD-3-Clause */
/* Strict, bounded JSON reader for JOSE headers and JWT claims (contract in json_scan.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <spr/str.h>

#include "json_scan.h"

struct jp {
	const uint8_t *p, *end;
	struct spr_json_scratch *sc;
	uint32_t depth;
	const char *const *names; /* top-level names asked for, and their lengths */
	const uint32_t *name_len;
	uint32_t n_names;
};

/* Bytes a string may hold as they are: 0x20..0x7f but '"' and '\\'. */
static const uint8_t plain[256] = {
	[0x20] = 1, [0x21] = 1, [0x23] = 1, [0x24] = 1, [0x25] = 1, [0x26] = 1, [0x27] = 1,
	[0x28] = 1, [0x29] = 1, [0x2a] = 1, [0x2b] = 1, [0x2c] = 1, [0x2d] = 1, [0x2e] = 1,
	[0x2f] = 1, [0x30] = 1, [0x31] = 1, [0x32] = 1, [0x33] = 1, [0x34] = 1, [0x35] = 1,
	[0x36] = 1, [0x37] = 1, [0x38] = 1, [0x39] = 1, [0x3a] = 1, [0x3b] = 1, [0x3c] = 1,
	[0x3d] = 1, [0x3e] = 1, [0x3f] = 1, [0x40] = 1, [0x41] = 1, [0x42] = 1, [0x43] = 1,
	[0x44] = 1, [0x45] = 1, [0x46] = 1, [0x47] = 1, [0x48] = 1, [0x49] = 1, [0x4a] = 1,
	[0x4b] = 1, [0x4c] = 1, [0x4d] = 1, [0x4e] = 1, [0x4f] = 1, [0x50] = 1, [0x51] = 1,
	[0x52] = 1, [0x53] = 1, [0x54] = 1, [0x55] = 1, [0x56] = 1, [0x57] = 1, [0x58] = 1,
	[0x59] = 1, [0x5a] = 1, [0x5b] = 1, [0x5d] = 1, [0x5e] = 1, [0x5f] = 1, [0x60] = 1,
	[0x61] = 1, [0x62] = 1, [0x63] = 1, [0x64] = 1, [0x65] = 1, [0x66] = 1, [0x67] = 1,
	[0x68] = 1, [0x69] = 1, [0x6a] = 1, [0x6b] = 1, [0x6c] = 1, [0x6d] = 1, [0x6e] = 1,
	[0x6f] = 1, [0x70] = 1, [0x71] = 1, [0x72] = 1, [0x73] = 1, [0x74] = 1, [0x75] = 1,
	[0x76] = 1, [0x77] = 1, [0x78] = 1, [0x79] = 1, [0x7a] = 1, [0x7b] = 1, [0x7c] = 1,
	[0x7d] = 1, [0x7e] = 1, [0x7f] = 1,
};

/* A member name of the object being read: decoded bytes and a hash to compare quickly. */
struct name {
	const char *s;
	uint32_t len;
	uint32_t h;
};

static inline void
ws(struct jp *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

/* Four hex digits at p (p + 4 <= end checked by the caller): the value, or -1. */
static int
hex4(const uint8_t *p)
{
	int v = 0;

	for (int i = 0; i < 4; i++) {
		int h = spr_hexval(p[i]);

		if (h < 0)
			return -1;
		v = v << 4 | h;
	}
	return v;
}

/* One UTF-8 sequence at p: its length, or 0 when it is not valid (RFC 3629). */
static uint32_t
utf8_seq(const uint8_t *p, const uint8_t *end)
{
	uint32_t n, cp;
	uint8_t c = p[0];

	if (c < 0x80)
		return 1;
	if (c < 0xc2)
		return 0; /* continuation byte, or an overlong 2-byte lead */
	if (c < 0xe0) {
		n = 2;
		cp = c & 0x1f;
	} else if (c < 0xf0) {
		n = 3;
		cp = c & 0x0f;
	} else if (c < 0xf5) {
		n = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if ((size_t)(end - p) < n)
		return 0;
	for (uint32_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

static uint32_t
put_utf8(uint8_t *o, uint32_t cp)
{
	if (cp < 0x80) {
		o[0] = (uint8_t)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (uint8_t)(0xc0 | cp >> 6);
		o[1] = (uint8_t)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (uint8_t)(0xe0 | cp >> 12);
		o[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (uint8_t)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (uint8_t)(0xf0 | cp >> 18);
	o[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (uint8_t)(0x80 | (cp & 0x3f));
	return 4;
}

/*
 * The string at j->p (its opening quote). Checked whole; with want, its
 * decoded bytes in *s and *slen: the text itself when it has no escape, else a
 * copy in the scratch (a decoded string is never longer than its text).
 */
static int
string(struct jp *j, bool want, const char **s, uint32_t *slen)
{
	const uint8_t *start = ++j->p, *p = start;
	bool escaped = false;
	uint8_t *o = NULL;

	/* pass 1: check, and find the closing quote */
	for (;;) {
		uint32_t n;

		while (p < j->end && plain[*p])
			p++;
		if (p >= j->end)
			return -EBADMSG;
		if (*p == '"')
			break;
		if (*p < 0x20)
			return -EBADMSG;
		if (*p == '\\') {
			escaped = true;
			if (p + 1 >= j->end)
				return -EBADMSG;
			switch (p[1]) {
			case '"':
			case '\\':
			case '/':
			case 'b':
			case 'f':
			case 'n':
			case 'r':
			case 't':
				p += 2;
				continue;
			case 'u':
				break;
			default:
				return -EBADMSG;
			}
			int v, w;

			if (j->end - p < 6 || (v = hex4(p + 2)) < 0 || v == 0)
				return -EBADMSG; /* \u0000: no NUL inside a string */
			p += 6;
			if (v >= 0xdc00 && v <= 0xdfff)
				return -EBADMSG; /* a low surrogate alone */
			if (v >= 0xd800 && v <= 0xdbff) {
				if (j->end - p < 6 || p[0] != '\\' || p[1] != 'u' ||
				    (w = hex4(p + 2)) < 0xdc00 || w > 0xdfff)
					return -EBADMSG; /* a high surrogate not followed by a low one */
				p += 6;
			}
			continue;
		}
		if ((n = utf8_seq(p, j->end)) == 0)
			return -EBADMSG;
		p += n;
	}
	j->p = p + 1;
	if (!want)
		return 0;
	if (!escaped) {
		*s = (const char *)start;
		*slen = (uint32_t)(p - start);
		return 0;
	}
	/* pass 2: decode (all checked above) */
	if (j->sc == NULL || j->sc->cap - j->sc->used < (uint32_t)(p - start))
		return -EBADMSG;
	o = j->sc->p + j->sc->used;
	*s = (const char *)o;
	for (const uint8_t *q = start; q < p;) {
		if (*q != '\\') {
			*o++ = *q++;
			continue;
		}
		switch (q[1]) {
		case 'b':
			*o++ = '\b';
			break;
		case 'f':
			*o++ = '\f';
			break;
		case 'n':
			*o++ = '\n';
			break;
		case 'r':
			*o++ = '\r';
			break;
		case 't':
			*o++ = '\t';
			break;
		case 'u': {
			uint32_t cp = (uint32_t)hex4(q + 2);

			if (cp >= 0xd800 && cp <= 0xdbff) {
				cp = 0x10000 + ((cp - 0xd800) << 10) + ((uint32_t)hex4(q + 8) - 0xdc00);
				q += 6;
			}
			o += put_utf8(o, cp);
			q += 6;
			continue;
		}
		default: /* " \ / */
			*o++ = q[1];
			break;
		}
		q += 2;
	}
	*slen = (uint32_t)(o - (const uint8_t *)*s);
	j->sc->used += *slen;
	return 0;
}

static inline bool
digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

/* A number (RFC 8259 §6) at j->p into v. */
static int
number(struct jp *j, struct spr_json_val *v)
{
	const uint8_t *s = j->p, *p = s;
	bool real = false, neg = false;
	char buf[SPR_JSON_NUMBER_MAX + 1];

	if (p < j->end && *p == '-') {
		neg = true;
		p++;
	}
	if (p >= j->end || !digit(*p))
		return -EBADMSG;
	if (*p == '0')
		p++;
	else
		while (p < j->end && digit(*p))
			p++;
	if (p < j->end && *p == '.') {
		real = true;
		if (++p >= j->end || !digit(*p))
			return -EBADMSG;
		while (p < j->end && digit(*p))
			p++;
	}
	if (p < j->end && (*p == 'e' || *p == 'E')) {
		real = true;
		p++;
		if (p < j->end && (*p == '+' || *p == '-'))
			p++;
		if (p >= j->end || !digit(*p))
			return -EBADMSG;
		while (p < j->end && digit(*p))
			p++;
	}
	j->p = p;
	if ((size_t)(p - s) > SPR_JSON_NUMBER_MAX)
		return -EBADMSG;
	if (!real) {
		/* int64, with the one more negative value */
		uint64_t m = 0, lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;

		for (const uint8_t *q = s + neg; q < p; q++) {
			uint64_t d = (uint64_t)(*q - '0');

			if (m > (lim - d) / 10)
				return -EBADMSG;
			m = m * 10 + d;
		}
		v->type = SPR_JSON_INT;
		v->i = neg ? (int64_t)(0 - m) : (int64_t)m;
		return 0;
	}
	memcpy(buf, s, (size_t)(p - s));
	buf[p - s] = '\0';
	errno = 0;
	v->d = strtod(buf, NULL);
	if (errno == ERANGE && (v->d > 1.0 || v->d < -1.0))
		return -EBADMSG; /* overflow; underflow to 0 or a subnormal is a number */
	v->type = SPR_JSON_REAL;
	return 0;
}

static bool
lit(struct jp *j, const char *w, uint32_t n)
{
	if ((size_t)(j->end - j->p) < n || memcmp(j->p, w, n) != 0)
		return false;
	j->p += n;
	return true;
}

static int value(struct jp *j, struct spr_json_val *v);

static uint32_t
name_hash(const char *s, uint32_t len)
{
	uint32_t h = 2166136261u ^ len;

	for (uint32_t i = 0; i < len; i++)
		h = (h ^ (uint8_t)s[i]) * 16777619u;
	return h;
}

/*
 * The object at j->p ('{'). With names (top level only), out[k] gets the
 * member named names[k].
 */
static int
object(struct jp *j, struct spr_json_val *out)
{
	struct name seen[SPR_JSON_MEMBERS_MAX];
	uint32_t count = 0;
	int rc;

	if (++j->depth > SPR_JSON_DEPTH_MAX)
		return -EBADMSG;
	j->p++;
	ws(j);
	if (j->p < j->end && *j->p == '}') {
		j->p++;
		j->depth--;
		return 0;
	}
	for (;;) {
		struct spr_json_val v = {0};
		struct name *nm;

		if (j->p >= j->end || *j->p != '"' || count == SPR_JSON_MEMBERS_MAX)
			return -EBADMSG;
		nm = &seen[count];
		if ((rc = string(j, true, &nm->s, &nm->len)) != 0)
			return rc;
		nm->h = name_hash(nm->s, nm->len);
		for (uint32_t i = 0; i < count; i++)
			if (seen[i].h == nm->h && seen[i].len == nm->len &&
			    memcmp(seen[i].s, nm->s, nm->len) == 0)
				return -EBADMSG; /* duplicate name */
		count++;
		ws(j);
		if (j->p >= j->end || *j->p != ':')
			return -EBADMSG;
		j->p++;
		ws(j);
		if ((rc = value(j, &v)) != 0)
			return rc;
		for (uint32_t k = 0; out != NULL && k < j->n_names; k++)
			if (j->name_len[k] == nm->len && memcmp(j->names[k], nm->s, nm->len) == 0)
				out[k] = v;
		ws(j);
		if (j->p < j->end && *j->p == ',') {
			j->p++;
			ws(j);
			continue;
		}
		if (j->p < j->end && *j->p == '}') {
			j->p++;
			j->depth--;
			return 0;
		}
		return -EBADMSG;
	}
}

static int
array(struct jp *j)
{
	int rc;

	if (++j->depth > SPR_JSON_DEPTH_MAX)
		return -EBADMSG;
	j->p++;
	ws(j);
	if (j->p < j->end && *j->p == ']') {
		j->p++;
		j->depth--;
		return 0;
	}
	for (;;) {
		struct spr_json_val v;

		if ((rc = value(j, &v)) != 0)
			return rc;
		ws(j);
		if (j->p < j->end && *j->p == ',') {
			j->p++;
			ws(j);
			continue;
		}
		if (j->p < j->end && *j->p == ']') {
			j->p++;
			j->depth--;
			return 0;
		}
		return -EBADMSG;
	}
}

/* The value at j->p (white space skipped) into *v; strings decoded only at the top level. */
static int
value(struct jp *j, struct spr_json_val *v)
{
	const uint8_t *start = j->p;
	int rc = 0;

	if (j->p >= j->end)
		return -EBADMSG;
	memset(v, 0, sizeof(*v));
	switch (*j->p) {
	case '"':
		v->type = SPR_JSON_STRING;
		/* a member's string value is decoded only when it may be asked for */
		rc = string(j, j->depth <= 1, &v->s, &v->slen);
		break;
	case '{':
		v->type = SPR_JSON_OBJECT;
		rc = object(j, NULL);
		break;
	case '[':
		v->type = SPR_JSON_ARRAY;
		rc = array(j);
		break;
	case 't':
		v->type = SPR_JSON_TRUE;
		rc = lit(j, "true", 4) ? 0 : -EBADMSG;
		break;
	case 'f':
		v->type = SPR_JSON_FALSE;
		rc = lit(j, "false", 5) ? 0 : -EBADMSG;
		break;
	case 'n':
		v->type = SPR_JSON_NULL;
		rc = lit(j, "null", 4) ? 0 : -EBADMSG;
		break;
	default:
		rc = number(j, v);
		break;
	}
	v->raw = start;
	v->raw_len = (uint32_t)(j->p - start);
	return rc;
}

int
spr_json_object_scan(const uint8_t *in, uint32_t len, const char *const *names, uint32_t n,
		     struct spr_json_val *out, struct spr_json_scratch *sc)
{
	uint32_t name_len[SPR_JSON_NAMES_MAX];
	struct jp j = {in, in + len, sc, 0, names, name_len, n};
	int rc;

	if (n > SPR_JSON_NAMES_MAX)
		return -EINVAL;
	for (uint32_t k = 0; k < n; k++) {
		memset(&out[k], 0, sizeof(out[k]));
		name_len[k] = (uint32_t)strlen(names[k]);
	}
	ws(&j);
	if (j.p >= j.end || *j.p != '{')
		return -EBADMSG;
	if ((rc = object(&j, out)) != 0)
		return rc;
	ws(&j);
	return j.p == j.end ? 0 : -EBADMSG;
}

int
spr_json_array_next(const struct spr_json_val *arr, uint32_t *pos, struct spr_json_val *v,
		    struct spr_json_scratch *sc)
{
	/* depth 1: the elements' strings are decoded; the array was checked whole already */
	struct jp j = {arr->raw + (*pos ? *pos : 1), arr->raw + arr->raw_len, sc, 1, NULL, NULL, 0};

	ws(&j);
	if (j.p < j.end && *j.p == ',') {
		j.p++;
		ws(&j);
	}
	if (j.p >= j.end || *j.p == ']')
		return 0;
	if (value(&j, v) != 0)
		return 0;
	*pos = (uint32_t)(j.p - arr->raw);
	return 1;
}
