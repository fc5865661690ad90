/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * PIDF/RPID parse, compose, state mapping and build over libxml2. Contracts
 * are in pidf.h; this file says how the hostile-input guarantees are kept.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <libxml/SAX2.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#include "pidf.h"

#define BC (const xmlChar *)

static const struct {
	uint16_t code;
	const char *reason;
	const char *name;
} pidf_faults[SPR_PIDF__COUNT] = {
#define X(n, c, r) [SPR_PIDF_##n] = {c, r, #n},
	SPR_FOREACH_PIDF_FAULT(X)
#undef X
};

static const char *const state_names[SPR_PRESENCE__COUNT] = {
#define X(n, t) [SPR_PRESENCE_##n] = t,
	SPR_FOREACH_PRESENCE_STATE(X)
#undef X
};

static const struct {
	const char *elem;
	uint8_t elem_len;
	uint8_t state; /* enum spr_presence_state */
} activities[SPR_RPID__COUNT] = {
#define X(n, e, s) [SPR_RPID_##n] = {e, sizeof(e) - 1, SPR_PRESENCE_##s},
	SPR_FOREACH_RPID_ACTIVITY(X)
#undef X
};

/* Precedence of the states an activity set can give (pidf-t.h); higher wins. */
static const uint8_t state_rank[SPR_PRESENCE__COUNT] = {
	[SPR_PRESENCE_AVAILABLE] = 0, [SPR_PRESENCE_CUSTOM] = 1, [SPR_PRESENCE_AWAY] = 2,
	[SPR_PRESENCE_BUSY] = 3,      [SPR_PRESENCE_DND] = 4,	 [SPR_PRESENCE_IN_CALL] = 5,
	[SPR_PRESENCE_OFFLINE] = 6,
};

#define DND_TEXT "do-not-disturb"
#define DEFAULT_TUPLE_ID "sprd"

uint16_t
spr_pidf_fault_code(enum spr_pidf_fault f)
{
	return f < SPR_PIDF__COUNT ? pidf_faults[f].code : 500;
}

const char *
spr_pidf_fault_reason(enum spr_pidf_fault f)
{
	return f < SPR_PIDF__COUNT ? pidf_faults[f].reason : "Server Internal Error";
}

const char *
spr_pidf_fault_name(enum spr_pidf_fault f)
{
	return f < SPR_PIDF__COUNT ? pidf_faults[f].name : "UNKNOWN";
}

const char *
spr_presence_state_name(enum spr_presence_state s)
{
	return s < SPR_PRESENCE__COUNT ? state_names[s] : "unknown";
}

enum spr_presence_state
spr_presence_state_from_name(const struct spr_str *name)
{
	for (int s = 0; s < SPR_PRESENCE__COUNT; s++)
		if (spr_str_caseeq_lit(name, state_names[s], (uint32_t)strlen(state_names[s])))
			return (enum spr_presence_state)s;
	return SPR_PRESENCE__COUNT;
}

const char *
spr_rpid_activity_name(enum spr_rpid_activity a)
{
	return a < SPR_RPID__COUNT ? activities[a].elem : "unknown";
}

void
spr_pidf_limits_default(struct spr_pidf_limits *lim)
{
	lim->max_bytes = 64u * 1024u;
	lim->max_depth = 32;
	lim->max_tuples = SPR_PIDF_TUPLES_MAX;
}

void
spr_pidf_status_init(struct spr_pidf_status *st)
{
	memset(st, 0, offsetof(struct spr_pidf_status, text));
}

static pthread_once_t pidf_once = PTHREAD_ONCE_INIT;

static void
pidf_init_once(void)
{
	xmlInitParser();
}

static void
pidf_init(void)
{
	pthread_once(&pidf_once, pidf_init_once);
}

/*
 * Text: UTF-8 that XML 1.0 can carry (RFC 3629 shapes, no surrogates, no
 * C0 control but tab, LF, CR, no U+FFFE/U+FFFF). libxml2 already enforces
 * this on what it parses; builds check what callers hand in.
 */
static bool
xml_text_ok(const char *s, uint32_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;

	while (p < end) {
		unsigned c = *p;
		uint32_t cp, n;

		if (c < 0x80) {
			if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
				return false;
			p++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			n = 1, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			n = 2, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 3, cp = c & 0x07;
		else
			return false;
		if ((uint32_t)(end - p) <= n)
			return false;
		for (uint32_t i = 1; i <= n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp == 0xfffe || cp == 0xffff)
			return false;
		p += n + 1;
	}
	return true;
}

/* Append len bytes to st's text; 0, or -E2BIG (field or arena full). */
static int
text_put(struct spr_pidf_status *st, const char *s, size_t len, struct spr_pidf_ref *r)
{
	if (len > SPR_PIDF_FIELD_MAX || len > SPR_PIDF_TEXT_MAX - st->text_used)
		return -E2BIG;
	memcpy(st->text + st->text_used, s, len);
	r->off = (uint16_t)st->text_used;
	r->len = (uint16_t)len;
	st->text_used += (uint32_t)len;
	return 0;
}

static int
text_copy(struct spr_pidf_status *dst, const struct spr_pidf_status *src, struct spr_pidf_ref r,
	  struct spr_pidf_ref *out)
{
	*out = (struct spr_pidf_ref){0, 0};
	return r.len == 0 ? 0 : text_put(dst, src->text + r.off, r.len, out);
}

static bool
ref_eq(const struct spr_pidf_status *a, struct spr_pidf_ref ra, const struct spr_pidf_status *b,
       struct spr_pidf_ref rb)
{
	return ra.len == rb.len && memcmp(a->text + ra.off, b->text + rb.off, ra.len) == 0;
}

/* ---- timestamps: RFC 3339 / xs:dateTime ---- */

static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	const int64_t era = (y >= 0 ? y : y - 399) / 400;
	const unsigned yoe = (unsigned)(y - era * 400);
	const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + (int64_t)doe - 719468;
}

static bool
digits(const char *s, uint32_t n, unsigned *v)
{
	*v = 0;
	for (uint32_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		*v = *v * 10 + (unsigned)(s[i] - '0');
	}
	return true;
}

/*
 * YYYY-MM-DDTHH:MM:SS[.frac][Z|+HH:MM|-HH:MM]; no zone is read as UTC.
 * Returns ms since the epoch through *ms.
 */
static bool
parse_timestamp(const char *s, uint32_t len, int64_t *ms)
{
	static const uint8_t mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	unsigned y, mo, d, h, mi, sec, frac = 0, zh = 0, zm = 0;
	uint32_t i = 19;
	int zsign = 0;
	int64_t secs;

	if (len < 19 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) || s[7] != '-' ||
	    !digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't') || !digits(s + 11, 2, &h) ||
	    s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' || !digits(s + 17, 2, &sec))
		return false;
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || sec > 60)
		return false;
	if (mo == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		return false;
	if (i < len && s[i] == '.') {
		uint32_t nd = 0;

		for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++, nd++)
			if (nd < 3)
				frac = frac * 10 + (unsigned)(s[i] - '0');
		if (nd == 0)
			return false;
		for (; nd < 3; nd++)
			frac *= 10;
	}
	if (i < len && (s[i] == 'Z' || s[i] == 'z')) {
		i++;
	} else if (i < len && (s[i] == '+' || s[i] == '-')) {
		zsign = s[i] == '-' ? -1 : 1;
		if (len - i != 6 || !digits(s + i + 1, 2, &zh) || s[i + 3] != ':' ||
		    !digits(s + i + 4, 2, &zm) || zh > 23 || zm > 59)
			return false;
		i += 6;
	}
	if (i != len)
		return false;
	secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
	secs -= zsign * (int64_t)(zh * 3600 + zm * 60);
	*ms = secs * 1000 + frac;
	return true;
}

/* RFC 3339 UTC with milliseconds: 24 bytes. */
static uint32_t
format_timestamp(uint64_t ms, char *out, size_t cap)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	return (uint32_t)snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ",
				  tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
				  tm.tm_min, tm.tm_sec, (unsigned)(ms % 1000));
}

/* RFC 3863 §4.1.5 priority: a qvalue, 0..1 with up to 3 decimals, in thousandths. */
static bool
parse_priority(const char *s, uint32_t len, uint16_t *out)
{
	unsigned v = 0, nd = 0;

	if (len == 0 || (s[0] != '0' && s[0] != '1') || (len > 1 && s[1] != '.') || len == 2 ||
	    len > 5)
		return false;
	for (uint32_t i = 2; i < len; i++, nd++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	for (; nd < 3; nd++)
		v *= 10;
	if (s[0] == '1' && v != 0)
		return false;
	*out = (uint16_t)(s[0] == '1' ? 1000 : v);
	return true;
}

/* ---- parsing ---- */

struct parse {
	struct spr_pidf_status *st;
	const struct spr_pidf_limits *lim;
	char *why;
	uint32_t whylen;
	uint32_t depth;
	enum spr_pidf_fault stop; /* set by a SAX hook that halted the parser */
	bool have_error;	  /* why holds libxml2's first error */
	startElementNsSAX2Func start;
	endElementNsSAX2Func end;
};

/* why must not carry control characters: it may end up in a log line or a Warning header. */
static void
why_sanitise(char *why)
{
	for (; *why != '\0'; why++)
		if ((unsigned char)*why < 0x20 || *why == 0x7f)
			*why = ' ';
}

static enum spr_pidf_fault __attribute__((format(printf, 4, 5)))
fail(struct parse *p, enum spr_pidf_fault f, const xmlNode *n, const char *fmt, ...)
{
	va_list ap;
	int k = 0;

	if (p->whylen == 0)
		return f;
	if (n != NULL)
		k = snprintf(p->why, p->whylen, "line %ld: ", xmlGetLineNo(n));
	if (k >= 0 && (uint32_t)k < p->whylen) {
		va_start(ap, fmt);
		vsnprintf(p->why + k, p->whylen - (uint32_t)k, fmt, ap);
		va_end(ap);
	}
	why_sanitise(p->why);
	return f;
}

/* At most this much of a document's own text is quoted in why. */
#define QUOTE(r) (int)((r).len < 40 ? (r).len : 40), p->st->text + (r).off

static struct parse *
parse_of(void *ctx)
{
	return ((xmlParserCtxtPtr)ctx)->_private;
}

static void
halt(void *ctx, enum spr_pidf_fault f, const char *what)
{
	xmlParserCtxtPtr ctxt = ctx;
	struct parse *p = parse_of(ctx);

	if (p->stop != SPR_PIDF_OK)
		return;
	p->stop = f;
	if (p->whylen != 0) {
		snprintf(p->why, p->whylen, "line %d: %s", ctxt->input ? ctxt->input->line : 0,
			 what);
		why_sanitise(p->why);
	}
	xmlStopParser(ctxt);
}

/*
 * A DOCTYPE is refused where it starts: the internal subset is never read,
 * so no entity is declared, and no external subset or entity is loaded.
 */
static void
on_internal_subset(void *ctx, const xmlChar *name, const xmlChar *eid, const xmlChar *sid)
{
	halt(ctx, SPR_PIDF_DTD, "DOCTYPE declarations are not accepted");
}

static void
on_entity_decl(void *ctx, const xmlChar *name, int type, const xmlChar *pid, const xmlChar *sid,
	       xmlChar *content)
{
	halt(ctx, SPR_PIDF_DTD, "entity declarations are not accepted");
}

static void
on_start(void *ctx, const xmlChar *local, const xmlChar *prefix, const xmlChar *uri, int nns,
	 const xmlChar **nss, int nattr, int ndef, const xmlChar **attrs)
{
	struct parse *p = parse_of(ctx);
	char what[64];

	if (++p->depth > p->lim->max_depth) {
		snprintf(what, sizeof(what), "elements nested deeper than %u", p->lim->max_depth);
		halt(ctx, SPR_PIDF_TOO_DEEP, what);
		return;
	}
	p->start(ctx, local, prefix, uri, nns, nss, nattr, ndef, attrs);
}

static void
on_end(void *ctx, const xmlChar *local, const xmlChar *prefix, const xmlChar *uri)
{
	struct parse *p = parse_of(ctx);

	p->depth--;
	p->end(ctx, local, prefix, uri);
}

/* libxml2's errors come here instead of stderr; the first error is the why. */
static void
on_error(void *ctx, xmlErrorPtr e)
{
	struct parse *p = parse_of(ctx);
	size_t n;

	if (e == NULL || e->level < XML_ERR_ERROR || p->have_error || p->whylen == 0)
		return;
	p->have_error = true;
	snprintf(p->why, p->whylen, "line %d col %d: %s", e->line, e->int2,
		 e->message != NULL ? e->message : "error");
	n = strlen(p->why);
	while (n > 0 && (p->why[n - 1] == '\n' || p->why[n - 1] == ' '))
		p->why[--n] = '\0';
	why_sanitise(p->why);
}

static bool
is_elem(const xmlNode *n, const char *ns, const char *name)
{
	return n->type == XML_ELEMENT_NODE && n->ns != NULL && n->ns->href != NULL &&
	       strcmp((const char *)n->ns->href, ns) == 0 &&
	       strcmp((const char *)n->name, name) == 0;
}

static bool
in_ns(const xmlNode *n, const char *ns)
{
	return n->type == XML_ELEMENT_NODE && n->ns != NULL && n->ns->href != NULL &&
	       strcmp((const char *)n->ns->href, ns) == 0;
}

static bool
is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/*
 * The text children of an element or attribute (first = its first child),
 * concatenated and trimmed of XML white space, copied into the status.
 */
static enum spr_pidf_fault
take_text(struct parse *p, const xmlNode *at, const xmlNode *first, struct spr_pidf_ref *r)
{
	struct spr_pidf_status *st = p->st;
	uint32_t start = st->text_used, a, b;

	for (const xmlNode *c = first; c != NULL; c = c->next) {
		size_t l;

		if ((c->type != XML_TEXT_NODE && c->type != XML_CDATA_SECTION_NODE) ||
		    c->content == NULL)
			continue;
		l = strlen((const char *)c->content);
		if (l > SPR_PIDF_TEXT_MAX - st->text_used)
			return fail(p, SPR_PIDF_TEXT_TOO_LONG, at,
				    "the document's text exceeds %u bytes", SPR_PIDF_TEXT_MAX);
		memcpy(st->text + st->text_used, c->content, l);
		st->text_used += (uint32_t)l;
	}
	a = start;
	b = st->text_used;
	while (a < b && is_ws(st->text[a]))
		a++;
	while (b > a && is_ws(st->text[b - 1]))
		b--;
	if (b - a > SPR_PIDF_FIELD_MAX)
		return fail(p, SPR_PIDF_TEXT_TOO_LONG, at, "<%s> text of %u bytes exceeds %u",
			    (const char *)at->name, b - a, SPR_PIDF_FIELD_MAX);
	memmove(st->text + start, st->text + a, b - a);
	*r = (struct spr_pidf_ref){(uint16_t)start, (uint16_t)(b - a)};
	st->text_used = start + (b - a);
	if (r->len == 0)
		r->off = 0;
	return SPR_PIDF_OK;
}

static enum spr_pidf_fault
take_attr(struct parse *p, const xmlNode *n, const char *name, struct spr_pidf_ref *r)
{
	const xmlAttr *a = xmlHasNsProp(n, BC name, NULL);

	*r = (struct spr_pidf_ref){0, 0};
	return a == NULL ? SPR_PIDF_OK : take_text(p, n, a->children, r);
}

static bool
text_is(const struct spr_pidf_status *st, struct spr_pidf_ref r, const char *lit)
{
	size_t l = strlen(lit);

	return r.len == l && memcmp(st->text + r.off, lit, l) == 0;
}

static enum spr_pidf_fault
take_timestamp(struct parse *p, const xmlNode *n, struct spr_pidf_ref *r, int64_t *ms)
{
	enum spr_pidf_fault f = take_text(p, n, n->children, r);

	if (f != SPR_PIDF_OK)
		return f;
	if (!parse_timestamp(p->st->text + r->off, r->len, ms))
		return fail(p, SPR_PIDF_BAD_TIMESTAMP, n, "timestamp \"%.*s\" is not RFC 3339",
			    QUOTE(*r));
	return SPR_PIDF_OK;
}

/* RFC 5196 §3: <servcaps> with xs:boolean children; other values leave a cap unstated. */
static enum spr_pidf_fault
parse_servcaps(struct parse *p, const xmlNode *sc, struct spr_pidf_tuple *t)
{
	static const struct {
		const char *name;
		uint8_t bit;
	} caps[] = {{"audio", SPR_PIDF_CAP_AUDIO},
		    {"video", SPR_PIDF_CAP_VIDEO},
		    {"text", SPR_PIDF_CAP_TEXT},
		    {"message", SPR_PIDF_CAP_MESSAGE}};
	uint32_t mark = p->st->text_used;

	for (const xmlNode *c = sc->children; c != NULL; c = c->next) {
		struct spr_pidf_ref v;
		enum spr_pidf_fault f;

		if (!in_ns(c, SPR_PIDF_NS_CAPS))
			continue;
		for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
			if (strcmp((const char *)c->name, caps[i].name) != 0)
				continue;
			if ((f = take_text(p, c, c->children, &v)) != SPR_PIDF_OK)
				return f;
			if (text_is(p->st, v, "true") || text_is(p->st, v, "1")) {
				t->caps |= caps[i].bit;
				t->caps_stated |= caps[i].bit;
			} else if (text_is(p->st, v, "false") || text_is(p->st, v, "0")) {
				t->caps &= (uint8_t)~caps[i].bit;
				t->caps_stated |= caps[i].bit;
			}
			p->st->text_used = mark; /* the value is not kept */
		}
	}
	return SPR_PIDF_OK;
}

static enum spr_pidf_fault
parse_status(struct parse *p, const xmlNode *sn, struct spr_pidf_tuple *t)
{
	enum spr_pidf_fault f;
	uint32_t mark = p->st->text_used;

	for (const xmlNode *c = sn->children; c != NULL; c = c->next) {
		struct spr_pidf_ref v;

		if (!is_elem(c, SPR_PIDF_NS, "basic") || t->basic != SPR_PIDF_BASIC_NONE)
			continue;
		if ((f = take_text(p, c, c->children, &v)) != SPR_PIDF_OK)
			return f;
		if (text_is(p->st, v, "open"))
			t->basic = SPR_PIDF_BASIC_OPEN;
		else if (text_is(p->st, v, "closed"))
			t->basic = SPR_PIDF_BASIC_CLOSED;
		else
			return fail(p, SPR_PIDF_BAD_BASIC, c,
				    "basic \"%.*s\" is neither open nor closed", QUOTE(v));
		p->st->text_used = mark;
	}
	return SPR_PIDF_OK;
}

/* RFC 3863 §4.1.2 tuple: id, status (required), contact, note, timestamp; plus extensions. */
static enum spr_pidf_fault
parse_tuple(struct parse *p, const xmlNode *tn)
{
	struct spr_pidf_status *st = p->st;
	struct spr_pidf_tuple *t;
	enum spr_pidf_fault f;
	bool have_status = false;

	if (st->n_tuples >= p->lim->max_tuples)
		return fail(p, SPR_PIDF_TOO_MANY_TUPLES, tn, "more than %u tuples",
			    p->lim->max_tuples);
	t = &st->tuples[st->n_tuples];
	memset(t, 0, sizeof(*t));
	t->priority = SPR_PIDF_PRIORITY_NONE;
	if ((f = take_attr(p, tn, "id", &t->id)) != SPR_PIDF_OK)
		return f;
	if (t->id.len == 0)
		return fail(p, SPR_PIDF_TUPLE_NO_ID, tn, "tuple without id");
	for (uint16_t i = 0; i < st->n_tuples; i++)
		if (ref_eq(st, st->tuples[i].id, st, t->id))
			return fail(p, SPR_PIDF_DUP_TUPLE_ID, tn, "tuple id \"%.*s\" used twice",
				    QUOTE(t->id));
	for (const xmlNode *c = tn->children; c != NULL; c = c->next) {
		f = SPR_PIDF_OK;
		if (is_elem(c, SPR_PIDF_NS, "status") && !have_status) {
			have_status = true;
			f = parse_status(p, c, t);
		} else if (is_elem(c, SPR_PIDF_NS, "contact") && t->contact.len == 0) {
			struct spr_pidf_ref pr;

			if ((f = take_text(p, c, c->children, &t->contact)) != SPR_PIDF_OK)
				return f;
			if ((f = take_attr(p, c, "priority", &pr)) != SPR_PIDF_OK)
				return f;
			if (pr.len != 0) {
				if (!parse_priority(st->text + pr.off, pr.len, &t->priority))
					return fail(p, SPR_PIDF_BAD_PRIORITY, c,
						    "contact priority \"%.*s\" is not 0..1",
						    QUOTE(pr));
				st->text_used = pr.off;
			}
		} else if (is_elem(c, SPR_PIDF_NS, "note") && t->note.len == 0) {
			f = take_text(p, c, c->children, &t->note);
		} else if (is_elem(c, SPR_PIDF_NS, "timestamp") && t->timestamp.len == 0) {
			f = take_timestamp(p, c, &t->timestamp, &t->ts_ms);
		} else if (is_elem(c, SPR_PIDF_NS_DM, "deviceID") && t->device.len == 0) {
			f = take_text(p, c, c->children, &t->device);
		} else if (is_elem(c, SPR_PIDF_NS_CAPS, "servcaps")) {
			f = parse_servcaps(p, c, t);
		}
		if (f != SPR_PIDF_OK)
			return f;
	}
	if (!have_status)
		return fail(p, SPR_PIDF_TUPLE_NO_STATUS, tn, "tuple \"%.*s\" has no status",
			    QUOTE(t->id));
	st->n_tuples++;
	return SPR_PIDF_OK;
}

static enum spr_pidf_fault
parse_activities(struct parse *p, const xmlNode *an)
{
	struct spr_pidf_person *pe = &p->st->person;

	for (const xmlNode *c = an->children; c != NULL; c = c->next) {
		if (!in_ns(c, SPR_PIDF_NS_RPID))
			continue;
		for (int a = 0; a < SPR_RPID__COUNT; a++) {
			if (strcmp((const char *)c->name, activities[a].elem) != 0)
				continue;
			pe->activities |= UINT32_C(1) << a;
			if (a == SPR_RPID_OTHER && pe->other.len == 0) {
				enum spr_pidf_fault f = take_text(p, c, c->children, &pe->other);

				if (f != SPR_PIDF_OK)
					return f;
			}
			break;
		}
	}
	return SPR_PIDF_OK;
}

/* RFC 4479 §4.4 person: RFC 4480 activities, note, timestamp. */
static enum spr_pidf_fault
parse_person(struct parse *p, const xmlNode *pn)
{
	struct spr_pidf_person *pe = &p->st->person;
	enum spr_pidf_fault f;

	if ((f = take_attr(p, pn, "id", &pe->id)) != SPR_PIDF_OK)
		return f;
	for (const xmlNode *c = pn->children; c != NULL; c = c->next) {
		f = SPR_PIDF_OK;
		if (is_elem(c, SPR_PIDF_NS_RPID, "activities"))
			f = parse_activities(p, c);
		else if (is_elem(c, SPR_PIDF_NS_DM, "note") && pe->note.len == 0)
			f = take_text(p, c, c->children, &pe->note);
		else if (is_elem(c, SPR_PIDF_NS_DM, "timestamp") && pe->timestamp.len == 0)
			f = take_timestamp(p, c, &pe->timestamp, &pe->ts_ms);
		if (f != SPR_PIDF_OK)
			return f;
	}
	return SPR_PIDF_OK;
}

static enum spr_pidf_fault
parse_presence(struct parse *p, const xmlNode *root)
{
	struct spr_pidf_status *st = p->st;
	struct spr_pidf_ref doc_note = {0, 0};
	enum spr_pidf_fault f;
	bool person_seen = false;

	if (root == NULL)
		return fail(p, SPR_PIDF_NOT_WELL_FORMED, NULL, "no root element");
	if (strcmp((const char *)root->name, "presence") != 0)
		return fail(p, SPR_PIDF_WRONG_ROOT, root, "root element is <%s>, not <presence>",
			    (const char *)root->name);
	if (!in_ns(root, SPR_PIDF_NS))
		return fail(p, SPR_PIDF_WRONG_NAMESPACE, root,
			    "<presence> in namespace \"%s\", not " SPR_PIDF_NS,
			    root->ns != NULL && root->ns->href != NULL
				    ? (const char *)root->ns->href
				    : "(none)");
	if ((f = take_attr(p, root, "entity", &st->entity)) != SPR_PIDF_OK)
		return f;
	if (st->entity.len == 0)
		return fail(p, SPR_PIDF_MISSING_ENTITY, root, "<presence> without entity");
	for (const xmlNode *c = root->children; c != NULL; c = c->next) {
		f = SPR_PIDF_OK;
		if (is_elem(c, SPR_PIDF_NS, "tuple")) {
			f = parse_tuple(p, c);
		} else if (is_elem(c, SPR_PIDF_NS_DM, "person") && !person_seen) {
			person_seen = true;
			f = parse_person(p, c);
		} else if (is_elem(c, SPR_PIDF_NS, "note") && doc_note.len == 0) {
			f = take_text(p, c, c->children, &doc_note);
		}
		if (f != SPR_PIDF_OK)
			return f;
	}
	/* a document-level note is about the presentity: the person's note */
	if (st->person.note.len == 0)
		st->person.note = doc_note;
	st->has_person = person_seen || doc_note.len != 0;
	return SPR_PIDF_OK;
}

#define PARSE_OPTIONS                                                                              \
	(XML_PARSE_NONET | XML_PARSE_NOBLANKS | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |          \
	 XML_PARSE_NOCDATA | XML_PARSE_COMPACT)

enum spr_pidf_fault
spr_pidf_parse(const char *doc, uint32_t len, const struct spr_pidf_limits *lim,
	       struct spr_pidf_status *out, char *why, uint32_t whylen)
{
	struct spr_pidf_limits dl;
	struct parse p = {.st = out, .why = why, .whylen = whylen};
	xmlParserCtxtPtr ctxt;
	xmlDocPtr d;
	enum spr_pidf_fault f;

	if (whylen != 0)
		why[0] = '\0';
	if (lim == NULL) {
		spr_pidf_limits_default(&dl);
		lim = &dl;
	}
	p.lim = lim;
	spr_pidf_status_init(out);
	if (len > lim->max_bytes || len > INT_MAX)
		return fail(&p, SPR_PIDF_TOO_LARGE, NULL, "%u bytes, limit %u", len,
			    lim->max_bytes);
	if (len == 0)
		return fail(&p, SPR_PIDF_NOT_WELL_FORMED, NULL, "empty document");
	if (lim->max_tuples > SPR_PIDF_TUPLES_MAX) {
		dl = *lim;
		dl.max_tuples = SPR_PIDF_TUPLES_MAX;
		p.lim = &dl;
	}
	pidf_init();
	if ((ctxt = xmlCreateMemoryParserCtxt(doc, (int)len)) == NULL)
		return fail(&p, SPR_PIDF_NO_MEMORY, NULL, "no parser context");
	xmlCtxtUseOptions(ctxt, PARSE_OPTIONS);
	ctxt->_private = &p;
	p.start = ctxt->sax->startElementNs;
	p.end = ctxt->sax->endElementNs;
	ctxt->sax->startElementNs = on_start;
	ctxt->sax->endElementNs = on_end;
	ctxt->sax->internalSubset = on_internal_subset;
	ctxt->sax->externalSubset = on_internal_subset;
	ctxt->sax->entityDecl = on_entity_decl;
	ctxt->sax->serror = on_error;

	xmlParseDocument(ctxt);
	d = ctxt->myDoc;
	ctxt->myDoc = NULL;
	if (p.stop != SPR_PIDF_OK)
		f = p.stop;
	else if (ctxt->errNo == XML_ERR_NO_MEMORY)
		f = fail(&p, SPR_PIDF_NO_MEMORY, NULL, "libxml2 out of memory");
	else if (!ctxt->wellFormed || !ctxt->nsWellFormed || d == NULL)
		f = p.have_error ? SPR_PIDF_NOT_WELL_FORMED
				 : fail(&p, SPR_PIDF_NOT_WELL_FORMED, NULL, "not well-formed");
	else if (d->intSubset != NULL || d->extSubset != NULL)
		f = fail(&p, SPR_PIDF_DTD, NULL, "DOCTYPE declarations are not accepted");
	else
		f = parse_presence(&p, xmlDocGetRootElement(d));
	if (f == SPR_PIDF_OK && whylen != 0)
		why[0] = '\0'; /* a recoverable libxml2 error may have written it */
	xmlFreeDoc(d);
	xmlFreeParserCtxt(ctxt);
	return f;
}

/* ---- composition and the state model ---- */

static bool
id_taken(const struct spr_pidf_status *st, const char *id, size_t len)
{
	for (uint16_t i = 0; i < st->n_tuples; i++)
		if (st->tuples[i].id.len == len &&
		    memcmp(st->text + st->tuples[i].id.off, id, len) == 0)
			return true;
	return false;
}

static int
compose_tuple(struct spr_pidf_status *out, const struct spr_pidf_status *src,
	      const struct spr_pidf_tuple *t)
{
	struct spr_pidf_tuple *d = &out->tuples[out->n_tuples];
	const char *id = src->text + t->id.off;
	char buf[SPR_PIDF_FIELD_MAX + 16];
	size_t len = t->id.len;
	int rc;

	*d = *t;
	for (unsigned k = 2; id_taken(out, id, len); k++) {
		if (t->id.len > SPR_PIDF_FIELD_MAX - 12)
			return -E2BIG;
		len = (size_t)snprintf(buf, sizeof(buf), "%.*s-%u", (int)t->id.len,
				       src->text + t->id.off, k);
		id = buf;
	}
	if ((rc = text_put(out, id, len, &d->id)) < 0 ||
	    (rc = text_copy(out, src, t->contact, &d->contact)) < 0 ||
	    (rc = text_copy(out, src, t->note, &d->note)) < 0 ||
	    (rc = text_copy(out, src, t->timestamp, &d->timestamp)) < 0 ||
	    (rc = text_copy(out, src, t->device, &d->device)) < 0)
		return rc;
	out->n_tuples++;
	return 0;
}

int
spr_pidf_compose(const struct spr_pidf_status *const *pubs, uint32_t n, struct spr_pidf_status *out)
{
	const struct spr_pidf_status *who = NULL, *ent = NULL;
	const struct spr_pidf_person *pe;
	uint32_t total = 0;
	int rc;

	spr_pidf_status_init(out);
	for (uint32_t i = 0; i < n; i++) {
		total += pubs[i]->n_tuples;
		if (pubs[i]->entity.len != 0)
			ent = pubs[i];
		if (!pubs[i]->has_person)
			continue;
		if (who != NULL && who->person.timestamp.len != 0 &&
		    pubs[i]->person.timestamp.len != 0 && pubs[i]->person.ts_ms < who->person.ts_ms)
			continue;
		who = pubs[i];
	}
	if (total > SPR_PIDF_TUPLES_MAX)
		return -E2BIG;
	for (int open = 1; open >= 0; open--)
		for (uint32_t i = 0; i < n; i++)
			for (uint16_t k = 0; k < pubs[i]->n_tuples; k++) {
				const struct spr_pidf_tuple *t = &pubs[i]->tuples[k];

				if ((t->basic == SPR_PIDF_BASIC_OPEN) != (open == 1))
					continue;
				if ((rc = compose_tuple(out, pubs[i], t)) < 0)
					return rc;
			}
	if (ent != NULL && (rc = text_copy(out, ent, ent->entity, &out->entity)) < 0)
		return rc;
	if (who == NULL)
		return 0;
	pe = &who->person;
	out->has_person = true;
	out->person = *pe;
	if ((rc = text_copy(out, who, pe->id, &out->person.id)) < 0 ||
	    (rc = text_copy(out, who, pe->note, &out->person.note)) < 0 ||
	    (rc = text_copy(out, who, pe->timestamp, &out->person.timestamp)) < 0 ||
	    (rc = text_copy(out, who, pe->other, &out->person.other)) < 0)
		return rc;
	return 0;
}

static bool
is_dnd_text(const struct spr_str *s)
{
	return spr_str_caseeq_lit(s, "dnd", 3) ||
	       spr_str_caseeq_lit(s, DND_TEXT, sizeof(DND_TEXT) - 1);
}

void
spr_pidf_status_to_state(const struct spr_pidf_status *st, struct spr_pidf_state *out)
{
	const struct spr_pidf_tuple *first_open = NULL;
	enum spr_presence_state best = SPR_PRESENCE_AVAILABLE;
	uint32_t acts = st->has_person ? st->person.activities : 0;

	memset(out, 0, sizeof(*out));
	for (uint16_t i = 0; i < st->n_tuples; i++) {
		const struct spr_pidf_tuple *t = &st->tuples[i];

		if (t->basic != SPR_PIDF_BASIC_OPEN)
			continue;
		if (first_open == NULL)
			first_open = t;
		if (t->caps & SPR_PIDF_CAP_AUDIO)
			out->caps |= SPR_PRESENCE_CAP_AUDIO;
		if (t->caps & SPR_PIDF_CAP_VIDEO)
			out->caps |= SPR_PRESENCE_CAP_VIDEO;
		if (t->caps & (SPR_PIDF_CAP_TEXT | SPR_PIDF_CAP_MESSAGE))
			out->caps |= SPR_PRESENCE_CAP_CHAT;
	}
	if (st->has_person && st->person.note.len != 0)
		out->note = spr_pidf_str(st, st->person.note);
	else if (first_open != NULL)
		out->note = spr_pidf_str(st, first_open->note);
	else if (st->n_tuples != 0)
		out->note = spr_pidf_str(st, st->tuples[0].note);
	if (first_open != NULL)
		out->device = spr_pidf_str(st, first_open->device);
	if (first_open == NULL) {
		out->state = SPR_PRESENCE_OFFLINE;
		return;
	}
	for (int a = 0; a < SPR_RPID__COUNT; a++) {
		enum spr_presence_state s = (enum spr_presence_state)activities[a].state;

		if (!(acts & (UINT32_C(1) << a)))
			continue;
		if (a == SPR_RPID_OTHER) {
			out->custom = spr_pidf_str(st, st->person.other);
			if (out->custom.len == 0)
				continue;
			if (is_dnd_text(&out->custom))
				s = SPR_PRESENCE_DND;
		}
		if (state_rank[s] > state_rank[best])
			best = s;
	}
	if (best != SPR_PRESENCE_CUSTOM)
		out->custom = SPR_STR_NULL;
	out->state = best;
}

static int
put_view(struct spr_pidf_status *st, const struct spr_str *s, struct spr_pidf_ref *r)
{
	*r = (struct spr_pidf_ref){0, 0};
	if (s == NULL || s->len == 0)
		return 0;
	if (!xml_text_ok(s->p, s->len))
		return -EINVAL;
	return text_put(st, s->p, s->len, r);
}

int
spr_pidf_from_state(const struct spr_pidf_state *s, const struct spr_str *tuple_id,
		    const struct spr_str *contact, uint64_t now_ms, struct spr_pidf_status *out)
{
	static const uint32_t acts[SPR_PRESENCE__COUNT] = {
		[SPR_PRESENCE_BUSY] = SPR_RPID_BIT(BUSY),
		[SPR_PRESENCE_AWAY] = SPR_RPID_BIT(AWAY),
		[SPR_PRESENCE_DND] = SPR_RPID_BIT(BUSY) | SPR_RPID_BIT(OTHER),
		[SPR_PRESENCE_IN_CALL] = SPR_RPID_BIT(ON_THE_PHONE),
		[SPR_PRESENCE_CUSTOM] = SPR_RPID_BIT(OTHER),
	};
	static const struct spr_str dnd = SPR_STR(DND_TEXT), dflt = SPR_STR(DEFAULT_TUPLE_ID);
	struct spr_pidf_tuple *t = &out->tuples[0];
	struct spr_pidf_person *pe = &out->person;
	const struct spr_str *id = tuple_id != NULL && tuple_id->len != 0 ? tuple_id : &dflt;
	char buf[SPR_PIDF_FIELD_MAX + 8];
	struct spr_str pid;
	int rc;

	if ((unsigned)s->state >= SPR_PRESENCE__COUNT ||
	    (s->state == SPR_PRESENCE_CUSTOM && s->custom.len == 0) || id->len > SPR_PIDF_FIELD_MAX)
		return -EINVAL;
	spr_pidf_status_init(out);
	out->n_tuples = 1;
	out->has_person = true;
	t->priority = SPR_PIDF_PRIORITY_NONE;
	t->basic = s->state == SPR_PRESENCE_OFFLINE ? SPR_PIDF_BASIC_CLOSED : SPR_PIDF_BASIC_OPEN;
	if (s->caps != 0) {
		t->caps_stated = SPR_PIDF_CAP_AUDIO | SPR_PIDF_CAP_VIDEO | SPR_PIDF_CAP_MESSAGE;
		t->caps = (uint8_t)(((s->caps & SPR_PRESENCE_CAP_AUDIO) ? SPR_PIDF_CAP_AUDIO : 0) |
				    ((s->caps & SPR_PRESENCE_CAP_VIDEO) ? SPR_PIDF_CAP_VIDEO : 0) |
				    ((s->caps & SPR_PRESENCE_CAP_CHAT) ? SPR_PIDF_CAP_MESSAGE : 0));
	}
	pe->activities = acts[s->state];
	pid.len = (uint32_t)snprintf(buf, sizeof(buf), "p-%.*s", (int)id->len, id->p);
	pid.p = buf;
	if ((rc = put_view(out, id, &t->id)) < 0 || (rc = put_view(out, &pid, &pe->id)) < 0 ||
	    (rc = put_view(out, contact, &t->contact)) < 0 ||
	    (rc = put_view(out, &s->note, &t->note)) < 0 ||
	    (rc = put_view(out, &s->device, &t->device)) < 0)
		return rc;
	pe->note = t->note;
	if (s->state == SPR_PRESENCE_DND)
		rc = put_view(out, &dnd, &pe->other);
	else if (s->state == SPR_PRESENCE_CUSTOM)
		rc = put_view(out, &s->custom, &pe->other);
	if (rc < 0)
		return rc;
	if (now_ms != 0) {
		struct spr_str ts = {buf, 0};

		ts.len = format_timestamp(now_ms, buf, sizeof(buf));
		if ((rc = put_view(out, &ts, &t->timestamp)) < 0)
			return rc;
		pe->timestamp = t->timestamp;
		t->ts_ms = pe->ts_ms = (int64_t)now_ms;
	}
	return 0;
}

/* ---- building ---- */

struct build {
	xmlDocPtr doc;
	const struct spr_pidf_status *st;
	bool oom;
};

/* <name> under parent, holding len bytes of s as text; NULL (and b->oom) on failure. */
static xmlNodePtr
add_text(struct build *b, xmlNodePtr parent, xmlNsPtr ns, const char *name, const char *s,
	 uint32_t len)
{
	xmlNodePtr el = xmlNewChild(parent, ns, BC name, NULL), tx;

	if (el == NULL) {
		b->oom = true;
		return NULL;
	}
	if (len != 0) {
		if ((tx = xmlNewDocTextLen(b->doc, BC s, (int)len)) == NULL) {
			b->oom = true;
			return NULL;
		}
		xmlAddChild(el, tx);
	}
	return el;
}

static void
add_ref(struct build *b, xmlNodePtr parent, xmlNsPtr ns, const char *name, struct spr_pidf_ref r)
{
	if (r.len != 0)
		add_text(b, parent, ns, name, b->st->text + r.off, r.len);
}

static void
add_attr(struct build *b, xmlNodePtr el, const char *name, const char *s, uint32_t len)
{
	char z[SPR_PIDF_FIELD_MAX + 1];

	if (el == NULL)
		return;
	memcpy(z, s, len);
	z[len] = '\0';
	if (xmlNewProp(el, BC name, BC z) == NULL)
		b->oom = true;
}

static bool
status_text_ok(const struct spr_pidf_status *st)
{
	const struct spr_pidf_ref *refs[] = {&st->person.id, &st->person.note,
					     &st->person.timestamp, &st->person.other};

	if (st->n_tuples > SPR_PIDF_TUPLES_MAX || st->text_used > SPR_PIDF_TEXT_MAX)
		return false;
	for (size_t i = 0; i < sizeof(refs) / sizeof(refs[0]); i++)
		if ((uint32_t)refs[i]->off + refs[i]->len > st->text_used ||
		    refs[i]->len > SPR_PIDF_FIELD_MAX ||
		    !xml_text_ok(st->text + refs[i]->off, refs[i]->len))
			return false;
	for (uint16_t k = 0; k < st->n_tuples; k++) {
		const struct spr_pidf_tuple *t = &st->tuples[k];
		const struct spr_pidf_ref tr[] = {t->id, t->contact, t->note, t->timestamp,
						  t->device};

		for (size_t i = 0; i < sizeof(tr) / sizeof(tr[0]); i++)
			if ((uint32_t)tr[i].off + tr[i].len > st->text_used ||
			    tr[i].len > SPR_PIDF_FIELD_MAX ||
			    !xml_text_ok(st->text + tr[i].off, tr[i].len))
				return false;
	}
	return true;
}

static void
build_tuple(struct build *b, xmlNodePtr root, xmlNsPtr ns, xmlNsPtr dm, xmlNsPtr caps,
	    const struct spr_pidf_tuple *t)
{
	static const struct {
		const char *name;
		uint8_t bit;
	} capn[] = {{"audio", SPR_PIDF_CAP_AUDIO},
		    {"video", SPR_PIDF_CAP_VIDEO},
		    {"text", SPR_PIDF_CAP_TEXT},
		    {"message", SPR_PIDF_CAP_MESSAGE}};
	const char *text = b->st->text;
	xmlNodePtr tn, status, el;

	if ((tn = add_text(b, root, ns, "tuple", NULL, 0)) == NULL)
		return;
	add_attr(b, tn, "id", text + t->id.off, t->id.len);
	if ((status = add_text(b, tn, ns, "status", NULL, 0)) == NULL)
		return;
	if (t->basic == SPR_PIDF_BASIC_OPEN)
		add_text(b, status, ns, "basic", "open", 4);
	else if (t->basic == SPR_PIDF_BASIC_CLOSED)
		add_text(b, status, ns, "basic", "closed", 6);
	if (t->caps_stated != 0 && (el = add_text(b, tn, caps, "servcaps", NULL, 0)) != NULL) {
		for (size_t i = 0; i < sizeof(capn) / sizeof(capn[0]); i++) {
			if (!(t->caps_stated & capn[i].bit))
				continue;
			if (t->caps & capn[i].bit)
				add_text(b, el, caps, capn[i].name, "true", 4);
			else
				add_text(b, el, caps, capn[i].name, "false", 5);
		}
	}
	add_ref(b, tn, dm, "deviceID", t->device);
	if (t->contact.len != 0 &&
	    (el = add_text(b, tn, ns, "contact", text + t->contact.off, t->contact.len)) != NULL &&
	    t->priority <= 1000) {
		char q[8];
		int n = t->priority == 1000 ? snprintf(q, sizeof(q), "1")
					    : snprintf(q, sizeof(q), "0.%03u", t->priority);

		while (n > 3 && q[n - 1] == '0')
			n--;
		add_attr(b, el, "priority", q, (uint32_t)n);
	}
	add_ref(b, tn, ns, "note", t->note);
	add_ref(b, tn, ns, "timestamp", t->timestamp);
}

static void
build_person(struct build *b, xmlNodePtr root, xmlNsPtr dm, xmlNsPtr rpid)
{
	const struct spr_pidf_person *pe = &b->st->person;
	xmlNodePtr pn, acts;

	if ((pn = add_text(b, root, dm, "person", NULL, 0)) == NULL)
		return;
	if (pe->id.len != 0)
		add_attr(b, pn, "id", b->st->text + pe->id.off, pe->id.len);
	else
		add_attr(b, pn, "id", "p", 1);
	if (pe->activities != 0 && (acts = add_text(b, pn, rpid, "activities", NULL, 0)) != NULL) {
		for (int a = 0; a < SPR_RPID__COUNT; a++) {
			if (!(pe->activities & (UINT32_C(1) << a)))
				continue;
			if (a == SPR_RPID_OTHER)
				add_text(b, acts, rpid, "other", b->st->text + pe->other.off,
					 pe->other.len);
			else
				add_text(b, acts, rpid, activities[a].elem, NULL, 0);
		}
	}
	add_ref(b, pn, dm, "note", pe->note);
	add_ref(b, pn, dm, "timestamp", pe->timestamp);
}

int
spr_pidf_build(const struct spr_pidf_status *st, const struct spr_str *entity, char *out,
	       uint32_t cap)
{
	struct build b = {.st = st};
	xmlNodePtr root;
	xmlNsPtr ns, dm = NULL, rpid = NULL, caps = NULL;
	xmlChar *mem = NULL;
	bool need_dm = st->has_person, need_caps = false;
	int size = 0, rc;

	if (entity == NULL || entity->len == 0 || entity->len > SPR_PIDF_FIELD_MAX ||
	    !xml_text_ok(entity->p, entity->len) || !status_text_ok(st))
		return -EINVAL;
	for (uint16_t k = 0; k < st->n_tuples; k++) {
		need_dm |= st->tuples[k].device.len != 0;
		need_caps |= st->tuples[k].caps_stated != 0;
	}
	pidf_init();
	if ((b.doc = xmlNewDoc(BC "1.0")) == NULL)
		return -ENOMEM;
	if ((root = xmlNewDocNode(b.doc, NULL, BC "presence", NULL)) == NULL)
		goto err_free_doc;
	xmlDocSetRootElement(b.doc, root);
	if ((ns = xmlNewNs(root, BC SPR_PIDF_NS, NULL)) == NULL)
		goto err_free_doc;
	xmlSetNs(root, ns);
	if ((need_dm && (dm = xmlNewNs(root, BC SPR_PIDF_NS_DM, BC "dm")) == NULL) ||
	    (st->has_person && st->person.activities != 0 &&
	     (rpid = xmlNewNs(root, BC SPR_PIDF_NS_RPID, BC "rpid")) == NULL) ||
	    (need_caps && (caps = xmlNewNs(root, BC SPR_PIDF_NS_CAPS, BC "c")) == NULL))
		goto err_free_doc;
	add_attr(&b, root, "entity", entity->p, entity->len);
	for (uint16_t k = 0; k < st->n_tuples && !b.oom; k++)
		build_tuple(&b, root, ns, dm, caps, &st->tuples[k]);
	if (st->has_person && !b.oom)
		build_person(&b, root, dm, rpid);
	if (b.oom)
		goto err_free_doc;
	xmlDocDumpMemoryEnc(b.doc, &mem, &size, "UTF-8");
	if (mem == NULL || size <= 0)
		goto err_free_doc;
	rc = (uint32_t)size <= cap ? size : -ENOSPC;
	if (rc > 0)
		memcpy(out, mem, (size_t)size);
	xmlFree(mem);
	xmlFreeDoc(b.doc);
	return rc;

err_free_doc:
	xmlFreeDoc(b.doc);
	return -ENOMEM;
}

int
spr_pidf_build_closed(const struct spr_str *entity, char *out, uint32_t cap)
{
	struct spr_pidf_status st;

	spr_pidf_status_init(&st);
	st.n_tuples = 1;
	st.tuples[0].priority = SPR_PIDF_PRIORITY_NONE;
	st.tuples[0].basic = SPR_PIDF_BASIC_CLOSED;
	text_put(&st, DEFAULT_TUPLE_ID, sizeof(DEFAULT_TUPLE_ID) - 1, &st.tuples[0].id);
	return spr_pidf_build(&st, entity, out, cap);
}
