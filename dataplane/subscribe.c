/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stddef.h>

#include <spr/buddies.h>
#include <spr/results.h>

#include "subscribe.h"

static const struct spr_result_desc subs_results[SPR_SUBS__COUNT] = {
#define X(n, c, r) SPR_RESULT_ROW(SPR_SUBS_, n, c, r)
	SPR_FOREACH_SUBS_RESULT(X)
#undef X
};

SPR_RESULT_ACCESSORS(spr_subs_result, enum spr_subs_result, subs_results, SPR_SUBS__COUNT)

void
spr_subs_cfg_default(struct spr_subs_cfg *cfg)
{
	cfg->policy = SPR_SUBS_POLICY_SAME_DOMAIN;
	cfg->default_expires = 3600;
	cfg->max_watchers = 1000;
	cfg->contact = (struct spr_str){NULL, 0};
}

int
spr_subs_aor(const struct spr_sip_msg *m, char *out, uint32_t cap)
{
	return spr_sip_aor_normalize(m->to.has_tag ? &m->to.uri : &m->ruri, out, cap);
}

static const char hexd[] = "0123456789abcdef";

void
spr_notify_branch_write(char *out, uint64_t id, uint32_t check)
{
	uint32_t n = sizeof(SPR_NOTIFY_BRANCH_PREFIX) - 1;

	memcpy(out, SPR_NOTIFY_BRANCH_PREFIX, n);
	for (int i = 15; i >= 0; i--, id >>= 4)
		out[n + (uint32_t)i] = hexd[id & 0xf];
	for (int i = 7; i >= 0; i--, check >>= 4)
		out[n + 16 + (uint32_t)i] = hexd[check & 0xf];
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

bool
spr_notify_branch_parse(const struct spr_str *b, uint64_t *id, uint32_t *check)
{
	uint32_t n = sizeof(SPR_NOTIFY_BRANCH_PREFIX) - 1;
	uint64_t v = 0;

	if (b->len != SPR_NOTIFY_BRANCH_LEN || memcmp(b->p, SPR_NOTIFY_BRANCH_PREFIX, n) != 0)
		return false;
	for (uint32_t i = 0; i < 24; i++) {
		int h = hexval(b->p[n + i]);

		if (h < 0)
			return false;
		v = (v << 4) | (uint64_t)h;
		if (i == 15) {
			*id = v;
			v = 0;
		}
	}
	*check = (uint32_t)v;
	return true;
}

/*
 * RFC 6665 §4.2.1.1 / RFC 3856 §6.6: an Accept header, when present, must
 * allow the body we send: application/pidf+xml, or for a list (RFC 4662
 * §4.3) multipart/related; or a range covering it.
 */
static bool
accepts(const struct spr_sip_hlist *accept, bool list)
{
	if (accept->n == 0)
		return true;
	for (uint32_t i = 0; i < accept->n; i++) {
		const char *p = accept->v[i].p, *end = p + accept->v[i].len;

		while (p < end) {
			const char *comma = memchr(p, ',', (size_t)(end - p));
			const char *e = comma != NULL ? comma : end;
			const char *semi = memchr(p, ';', (size_t)(e - p));
			struct spr_str t;

			if (semi != NULL)
				e = semi;
			while (p < e && (*p == ' ' || *p == '\t'))
				p++;
			while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
				e--;
			t = (struct spr_str){p, (uint32_t)(e - p)};
			if (SPR_STR_CASEEQ_LIT(&t, "*/*") ||
			    (!list && (SPR_STR_CASEEQ_LIT(&t, "application/pidf+xml") ||
				       SPR_STR_CASEEQ_LIT(&t, "application/*"))) ||
			    (list && (SPR_STR_CASEEQ_LIT(&t, "multipart/related") ||
				      SPR_STR_CASEEQ_LIT(&t, "multipart/*"))))
				return true;
			p = comma != NULL ? comma + 1 : end;
		}
	}
	return false;
}

/*
 * --presence-policy registered: whether the watcher's From AOR has a live
 * binding. Its record is in the shard hash % n_shards, read-only under QSBR
 * (DESIGN §2: readers anywhere; only the owner writes).
 */
static bool
watcher_registered(const struct spr_subs_ctx *ctx, const struct spr_sip_msg *m, uint32_t now)
{
	char aor[SPR_REG_AOR_MAX];
	int alen = spr_sip_aor_normalize(&m->from.uri, aor, sizeof(aor));
	const struct spr_loc_shard *shard = ctx->shard;
	const struct spr_record *r;
	struct spr_str a;
	uint64_t h;

	if (alen <= 0)
		return false;
	a = (struct spr_str){aor, (uint32_t)alen};
	h = spr_loc_hash(&a);
	if (ctx->n_shards != 0)
		shard = ctx->shards[h % ctx->n_shards];
	r = spr_loc_lookup(shard, &a, h);
	for (uint32_t i = 0; r != NULL && i < r->n; i++)
		if (spr_binding_alive(&r->b[i], now))
			return true;
	return false;
}

/* RFC 3856 §6.6: may the From of a new subscription watch the presentity (Request-URI)? */
static enum spr_subs_result
authorise(const struct spr_subs_ctx *ctx, const struct spr_sip_msg *m, uint32_t now)
{
	bool sip = m->from.uri.scheme_id == SPR_URI_SIP || m->from.uri.scheme_id == SPR_URI_SIPS;

	switch (ctx->cfg->policy) {
	case SPR_SUBS_POLICY_OPEN:
		return SPR_SUBS_OK;
	case SPR_SUBS_POLICY_REGISTERED:
		return sip && watcher_registered(ctx, m, now) ? SPR_SUBS_OK
							       : SPR_SUBS_WATCHER_NOT_REGISTERED;
	default:
		return sip && m->from.uri.host.len != 0 &&
				       spr_str_caseeq(&m->from.uri.host, &m->ruri.host)
			       ? SPR_SUBS_OK
			       : SPR_SUBS_WATCHER_DOMAIN;
	}
}

/* RFC 4662 §4.4: a resource list subscription. Its AOR is SPR_BUDDIES_USER@DOMAIN. */
static bool
is_list_aor(const struct spr_str *aor)
{
	static const struct spr_str list_user = SPR_STR(SPR_BUDDIES_USER);
	struct spr_str user, domain;

	return spr_aor_split(aor, &user, &domain) && domain.len != 0 &&
	       spr_str_eq(&user, &list_user);
}

/* A watcher of the record being built: its fixed part and its strings (old record or request). */
struct pend_w {
	struct spr_watcher w;
	struct spr_str s[SPR_WS__COUNT];
};

struct subs_txn {
	const struct spr_subs_ctx *ctx;
	const struct spr_sip_msg *m;
	const struct spr_peer *src;
	const struct spr_now *now;
	const struct spr_record *old; /* the page being rewritten, NULL for a new page */
	uint32_t page;		      /* its number */
	struct spr_str aor;
	uint64_t hash;
	uint32_t n_pages; /* the presentity's pages, in no order */
	const struct spr_record *pages[SPR_SUBS_RECS_MAX];
	uint32_t n;
	struct pend_w p[SPR_SUBS_PAGE_MAX + 1];
	uint32_t expires; /* the 200's Expires */
	bool list;	  /* a resource list (RFC 4662) */
};

static void
emit(const struct spr_subs_ctx *ctx, uint64_t hash, const struct spr_watcher *w, uint8_t type,
     uint8_t reason)
{
	struct spr_subs_out *o = ctx->out;

	if (o == NULL || o->n >= sizeof(o->ev) / sizeof(o->ev[0]))
		return;
	o->ev[o->n++] = (struct spr_subs_event){hash, w->id, w->expires_at, type, reason};
}

/* Final response: status, copied headers, what the outcome adds, tail. */
static enum spr_subs_result
reply(struct subs_txn *t, enum spr_subs_result res, const struct spr_str *unsupported,
      struct spr_wbuf *w)
{
	const struct spr_sip_msg *m = t->m;
	char tag[SPR_WATCHER_TAG_LEN];
	struct spr_str to_tag = {tag, sizeof(tag)};
	uint32_t start = w->len;

	spr_sip_to_tag(m, tag);
	spr_sip_reply_head(w, m, t->src, spr_subs_result_code(res), spr_subs_result_reason(res),
			   &to_tag);
	switch (res) {
	case SPR_SUBS_OK:
		SPR_WBUF_HDR_U32(w, "Expires", t->expires);
		if (t->ctx->cfg->contact.len != 0) {
			SPR_WBUF_HDR_STR(w, "Contact", &t->ctx->cfg->contact);
		}
		if (t->list)
			SPR_WBUF_LIT(w, "Require: eventlist\r\n"); /* RFC 4662 §4.4 */
		break;
	case SPR_SUBS_EXTENSION_REQUIRED:
		SPR_WBUF_LIT(w, "Require: eventlist\r\n");
		break;
	case SPR_SUBS_TOO_BRIEF:
		SPR_WBUF_HDR_U32(w, "Min-Expires", t->ctx->reg->min_expires);
		break;
	case SPR_SUBS_BAD_EVENT:
		SPR_WBUF_LIT(w, "Allow-Events: presence\r\n");
		break;
	case SPR_SUBS_NOT_ACCEPTABLE:
		if (t->list)
			SPR_WBUF_LIT(w, "Accept: multipart/related, application/rlmi+xml, "
					"application/pidf+xml\r\n");
		else
			SPR_WBUF_LIT(w, "Accept: application/pidf+xml\r\n");
		break;
	case SPR_SUBS_UNSUPPORTED:
		SPR_WBUF_HDR_STR(w, "Unsupported", unsupported);
		break;
	default:
		break;
	}
	spr_sip_reply_tail(w, t->ctx->reply, t->now, NULL);
	if (res != SPR_SUBS_REPLY_TOO_LARGE &&
	    spr_sip_reply_fallback(w, start, m, t->src, &to_tag, t->ctx->reply, t->now,
				   spr_subs_result_reason(SPR_SUBS_REPLY_TOO_LARGE)))
		res = SPR_SUBS_REPLY_TOO_LARGE;
	t->ctx->cnt->result[res]++;
	return res;
}

/*
 * The live watchers of t->old into t->p (the one with id skip left out);
 * those expired at now get an ENDED timeout event. Returns how many expired.
 */
static uint32_t
keep_live(struct subs_txn *t, uint64_t skip)
{
	const struct spr_watcher *ws;
	uint32_t expired = 0;

	t->n = 0;
	if (t->old == NULL)
		return 0;
	ws = spr_rec_watchers(t->old);
	for (uint32_t i = 0; i < t->old->n && t->n < SPR_SUBS_PAGE_MAX; i++) {
		struct pend_w *p;

		if (ws[i].expires_at <= t->now->sec) {
			/* a fetch's NOTIFY is already final: nothing more to tell control */
			if (!(ws[i].flags & SPR_WATCHER_FETCH))
				emit(t->ctx, t->hash, &ws[i], SPR_SUBS_EV_ENDED,
				     SPR_SUBS_END_TIMEOUT);
			expired++;
			continue;
		}
		if (ws[i].id == skip)
			continue;
		p = &t->p[t->n++];
		p->w = ws[i];
		for (uint32_t k = 0; k < SPR_WS__COUNT; k++)
			p->s[k] = spr_rec_str(t->old, ws[i].s[k]);
	}
	return expired;
}

/* Publish t->p as page t->page of the presentity (none when empty). 0 / -E2BIG / -ENOMEM /
 * store's. */
static int
commit(struct subs_txn *t)
{
	struct spr_loc_shard *s = t->ctx->shard;
	uint32_t fixed = (uint32_t)sizeof(struct spr_subs_page) +
			 t->n * (uint32_t)sizeof(struct spr_watcher);
	uint32_t start = (uint32_t)sizeof(struct spr_record) + fixed, off = start + t->aor.len;
	uint32_t first = UINT32_MAX;
	struct spr_watcher *ws;
	struct spr_record *r;
	int rc;

	if (t->n == 0)
		return t->old != NULL ? spr_loc_publish(s, t->old, NULL) : 0;
	for (uint32_t i = 0; i < t->n; i++)
		for (uint32_t k = 0; k < SPR_WS__COUNT; k++)
			off += t->p[i].s[k].len;
	if (off > SPR_RECORD_MAX)
		return -E2BIG;
	r = spr_loc_alloc(s, SPR_REC_SUBS, (uint16_t)t->n, fixed, off - start);
	if (r == NULL)
		return -ENOMEM;
	r->hash = t->hash;
	r->aor = (struct spr_ref){(uint16_t)start, (uint16_t)t->aor.len};
	memcpy((char *)r + start, t->aor.p, t->aor.len);
	off = start + t->aor.len;
	((struct spr_subs_page *)(void *)r->b)->page = t->page;
	ws = (struct spr_watcher *)(void *)((char *)r->b + sizeof(struct spr_subs_page));
	for (uint32_t i = 0; i < t->n; i++) {
		ws[i] = t->p[i].w;
		for (uint32_t k = 0; k < SPR_WS__COUNT; k++) {
			if (t->p[i].s[k].len != 0) /* an absent string may have no pointer */
				memcpy((char *)r + off, t->p[i].s[k].p, t->p[i].s[k].len);
			ws[i].s[k] = (struct spr_ref){(uint16_t)off, (uint16_t)t->p[i].s[k].len};
			off += t->p[i].s[k].len;
		}
		if (ws[i].expires_at < first)
			first = ws[i].expires_at;
	}
	spr_rec_arm(t->ctx->arm, t->old, r, first, t->now->sec);
	rc = spr_loc_publish(s, t->old, r);
	if (rc != 0)
		spr_loc_record_free(s, r);
	return rc;
}

static enum spr_subs_result
commit_result(int rc)
{
	switch (rc) {
	case 0:
		return SPR_SUBS_OK;
	case -E2BIG:
		return SPR_SUBS_TOO_LARGE;
	case -ENOMEM:
		return SPR_SUBS_NO_MEMORY;
	default:
		return SPR_SUBS_STORE_CONFLICT;
	}
}

static uint32_t
expires_at(uint32_t now, uint32_t e)
{
	return e > UINT32_MAX - now ? UINT32_MAX : now + e;
}

/* A watcher found in a page: the page record and the watcher in it. */
struct wref {
	const struct spr_record *r;
	const struct spr_watcher *w;
};

/* What one pass over the presentity's watchers found for m (scan()). */
struct found {
	struct wref idx;   /* the subscription: its dialog and Event id */
	struct wref dlg;   /* a subscription of its dialog, any Event id */
	struct wref fetch; /* a fetch's kept dialog with its Event id */
	uint32_t live;	   /* live watchers; counted whole only when idx is not found */
};

/*
 * One pass over every page (bounded by max_watchers): m's subscription
 * among the live watchers — its dialog (RFC 6665 §4.1.2.1: Call-ID and both
 * tags) and its Event id (§4.1.2: same dialog, another id is another
 * subscription) — a subscription of the same dialog with any id, a fetch's
 * kept dialog, and how many watchers are live (for the cap). Stops once
 * the subscription is found: then nothing else is needed.
 */
static void
scan(const struct subs_txn *t, const struct spr_str *to_tag, struct found *f)
{
	bool tag_ok = to_tag->len == SPR_WATCHER_TAG_LEN;
	uint64_t tag8 = 0;

	*f = (struct found){0};
	if (tag_ok)
		memcpy(&tag8, to_tag->p, sizeof(tag8));
	for (uint32_t k = 0; k < t->n_pages; k++) {
		const struct spr_record *r = t->pages[k];
		const struct spr_watcher *ws = spr_rec_watchers(r);

		for (uint32_t i = 0; i < r->n; i++) {
			struct spr_str cid, ftag, eid;
			uint64_t w8;

			if (ws[i].expires_at <= t->now->sec)
				continue;
			f->live++;
			if (!tag_ok)
				continue;
			memcpy(&w8, ws[i].to_tag, sizeof(w8)); /* most differ in the first 8 */
			if (w8 != tag8 || memcmp(ws[i].to_tag, to_tag->p, SPR_WATCHER_TAG_LEN) != 0)
				continue;
			cid = spr_rec_str(r, ws[i].s[SPR_WS_CALL_ID]);
			ftag = spr_rec_str(r, ws[i].s[SPR_WS_FROM_TAG]);
			if (!spr_str_eq(&cid, &t->m->call_id) || !spr_str_eq(&ftag, &t->m->from.tag))
				continue;
			eid = spr_rec_str(r, ws[i].s[SPR_WS_EVENT_ID]);
			if (ws[i].flags & SPR_WATCHER_FETCH) {
				if (f->fetch.r == NULL && spr_str_eq(&eid, &t->m->event_id))
					f->fetch = (struct wref){r, &ws[i]};
				continue;
			}
			if (f->dlg.r == NULL)
				f->dlg = (struct wref){r, &ws[i]};
			if (spr_str_eq(&eid, &t->m->event_id)) {
				f->idx = (struct wref){r, &ws[i]};
				f->dlg = (struct wref){NULL, NULL};
				return;
			}
		}
	}
}

/*
 * The pages of the presentity t->aor (hash t->hash) into t->pages: records
 * of the hash whose AOR is t->aor (another AOR of the same hash is left
 * out). Context: QSBR online.
 */
static void
load_pages(struct subs_txn *t)
{
	uint32_t nr = spr_loc_lookup_hash_kind(t->ctx->shard, SPR_REC_SUBS, t->hash, t->pages,
					       SPR_SUBS_RECS_MAX);

	t->n_pages = 0;
	for (uint32_t k = 0; k < nr; k++) {
		struct spr_str a = spr_rec_str(t->pages[k], t->pages[k]->aor);

		if (spr_str_eq(&a, &t->aor))
			t->pages[t->n_pages++] = t->pages[k];
	}
}

/*
 * Where a new watcher goes: the fullest page with room (fewer pages to
 * scan later), else a new page numbered with the lowest free number.
 * Sets t->old and t->page; false when every page number is taken.
 */
static bool
pick_page(struct subs_txn *t)
{
	static __thread uint8_t used[SPR_SUBS_RECS_MAX];
	const struct spr_record *best = NULL;

	for (uint32_t k = 0; k < t->n_pages; k++)
		if (t->pages[k]->n < SPR_SUBS_PAGE_MAX &&
		    (best == NULL || t->pages[k]->n > best->n))
			best = t->pages[k];
	if (best != NULL) {
		t->old = best;
		t->page = spr_rec_page(best);
		return true;
	}
	memset(used, 0, sizeof(used));
	for (uint32_t k = 0; k < t->n_pages; k++)
		if (spr_rec_page(t->pages[k]) < SPR_SUBS_RECS_MAX)
			used[spr_rec_page(t->pages[k])] = 1;
	for (uint32_t pg = 0; pg < SPR_SUBS_RECS_MAX; pg++) {
		if (!used[pg]) {
			t->old = NULL;
			t->page = pg;
			return true;
		}
	}
	return false;
}

/* What a SUBSCRIBE says about the dialog: target, source, route set (new dialogs only). */
static void
fill_from_request(struct subs_txn *t, struct pend_w *p, const struct spr_str *route)
{
	const struct spr_sip_msg *m = t->m;

	p->w.src_family = t->src->family;
	p->w.src_port = t->src->port;
	memcpy(p->w.src_addr, t->src->addr, sizeof(p->w.src_addr));
	p->w.cseq = m->cseq;
	p->s[SPR_WS_TARGET] = m->contacts[0].na.uri.raw;
	if (route == NULL)
		return;
	p->s[SPR_WS_EVENT_ID] = m->event_id;
	p->s[SPR_WS_CALL_ID] = m->call_id;
	p->s[SPR_WS_FROM_TAG] = m->from.tag;
	p->s[SPR_WS_REMOTE] = m->from.raw;
	p->s[SPR_WS_LOCAL] = m->to.raw;
	p->s[SPR_WS_ROUTE] = *route;
	p->s[SPR_WS_WATCHER] = m->from.uri.raw;
}

/* RFC 3261 §12.1.1: the UAS's route set is the Record-Route list in order. */
static int
route_set(const struct spr_sip_msg *m, char *buf, uint32_t cap, struct spr_str *out)
{
	struct spr_wbuf w;

	spr_wbuf_init(&w, buf, cap);
	for (uint32_t i = 0; i < m->record_route.n; i++) {
		if (i != 0)
			SPR_WBUF_LIT(&w, ", ");
		spr_wbuf_value(&w, &m->record_route.v[i]);
	}
	*out = (struct spr_str){buf, w.len};
	return w.overflow ? -ENOSPC : 0;
}

enum spr_subs_result
spr_subs_handle(const struct spr_subs_ctx *ctx, const struct spr_sip_msg *m,
		const struct spr_peer *src, const struct spr_now *now, struct spr_wbuf *out)
{
	const struct spr_reg_cfg *reg = ctx->reg;
	char aor[SPR_REG_AOR_MAX], tag[SPR_WATCHER_TAG_LEN], rbuf[SPR_SUBS_ROUTE_MAX];
	struct spr_str unknown, to_tag, route;
	static __thread struct subs_txn t; /* ~25 KiB: not on the lcore's stack */
	static const struct spr_str eventlist = SPR_STR("eventlist");
	uint32_t e, live, max;
	struct wref idx, dlg;
	struct found fd;
	int alen, rc;

	t.ctx = ctx;
	t.m = m;
	t.src = src;
	t.now = now;
	t.old = NULL;
	t.page = 0;
	t.n_pages = 0;
	t.n = 0;
	t.expires = 0;
	t.list = false;

	/* RFC 3856 §6.1: a new subscription's Request-URI is the presentity, in a domain we serve
	 */
	if (!m->to.has_tag) {
		if (m->ruri.scheme_id != SPR_URI_SIP && m->ruri.scheme_id != SPR_URI_SIPS)
			return reply(&t, SPR_SUBS_RURI_SCHEME, NULL, out);
		if (!spr_reg_domain_served(reg, &m->ruri.host))
			return reply(&t, SPR_SUBS_DOMAIN_NOT_SERVED, NULL, out);
	}
	if (spr_sip_hlist_first_unknown(&m->require, &eventlist, 1, &unknown))
		return reply(&t, SPR_SUBS_UNSUPPORTED, &unknown, out);
	alen = spr_subs_aor(m, aor, sizeof(aor));
	if (alen == -ENOSPC)
		return reply(&t, SPR_SUBS_AOR_TOO_LONG, NULL, out);
	if (alen < 0)
		return reply(&t, SPR_SUBS_NOT_PRESENTITY, NULL, out);
	t.aor = (struct spr_str){aor, (uint32_t)alen};
	t.list = is_list_aor(&t.aor);
	if (!t.list && m->require.n != 0)
		return reply(&t, SPR_SUBS_UNSUPPORTED, &eventlist, out); /* only a list has it */
	/* RFC 6665 §4.2.1: the event package; RFC 3856 §6.6: the body we can send */
	if (!SPR_STR_CASEEQ_LIT(&m->event, "presence"))
		return reply(&t, SPR_SUBS_BAD_EVENT, NULL, out);
	/* RFC 4662 §4.4: a list subscription needs the subscriber to support eventlist */
	if (t.list && !m->to.has_tag && !spr_sip_hlist_has(&m->supported, "eventlist", 9) &&
	    !spr_sip_hlist_has(&m->require, "eventlist", 9))
		return reply(&t, SPR_SUBS_EXTENSION_REQUIRED, NULL, out);
	if (!accepts(&m->accept, t.list))
		return reply(&t, SPR_SUBS_NOT_ACCEPTABLE, NULL, out);
	/* who may watch (--presence-policy): new subscriptions; a dialog was authorised already */
	if (!m->to.has_tag) {
		enum spr_subs_result a = authorise(ctx, m, now->sec);

		if (a != SPR_SUBS_OK)
			return reply(&t, a, NULL, out);
	}
	/* RFC 6665 §4.2.1.1: expiry, with the registrar's limits */
	e = m->has_expires ? m->expires : ctx->cfg->default_expires;
	if (e != 0 && e < reg->min_expires)
		return reply(&t, SPR_SUBS_TOO_BRIEF, NULL, out);
	if (e > reg->max_expires)
		e = reg->max_expires;
	t.expires = e;

	t.hash = spr_loc_hash(&t.aor);
	load_pages(&t);
	/* the dialog: the request's To-tag, or the one we give (a retransmitted initial SUBSCRIBE)
	 */
	if (m->to.has_tag) {
		to_tag = m->to.tag;
	} else {
		spr_sip_to_tag(m, tag);
		to_tag = (struct spr_str){tag, sizeof(tag)};
	}
	scan(&t, &to_tag, &fd);
	idx = fd.idx;
	/* another subscription of this dialog, when m makes a new one: its dialog is shared */
	dlg = fd.dlg;
	if (idx.r == NULL && m->to.has_tag && (dlg.r == NULL || e == 0))
		return reply(&t, SPR_SUBS_NO_DIALOG, NULL, out);
	if (idx.r == NULL && fd.fetch.r != NULL && fd.fetch.w->cseq == m->cseq) {
		/* a retransmitted fetch: answered as before, its NOTIFY is on its way */
		ctx->cnt->retransmissions++;
		t.expires = 0;
		return reply(&t, SPR_SUBS_OK, NULL, out);
	}

	if (idx.r != NULL) {
		const struct spr_watcher *old_w = idx.w;
		struct pend_w *p;
		uint64_t id = old_w->id;

		t.old = idx.r; /* its page is the one rewritten */
		t.page = spr_rec_page(idx.r);
		if (m->cseq < old_w->cseq)
			return reply(&t, SPR_SUBS_CSEQ_ORDER, NULL, out);
		if (m->cseq == old_w->cseq) {
			/* a retransmission: answered with what is stored */
			ctx->cnt->retransmissions++;
			t.expires = old_w->expires_at - now->sec;
			return reply(&t, SPR_SUBS_OK, NULL, out);
		}
		if (e != 0 && m->n_contacts == 0)
			return reply(&t, SPR_SUBS_NO_CONTACT, NULL, out);
		keep_live(&t, e == 0 ? id : UINT64_MAX);
		if (e == 0) {
			/* RFC 6665 §4.2.1.4: unsubscribe; control sends the final NOTIFY */
			rc = commit(&t);
			if (rc != 0)
				return reply(&t, commit_result(rc), NULL, out);
			ctx->cnt->unsubscribed++;
			emit(ctx, t.hash, old_w, SPR_SUBS_EV_ENDED, SPR_SUBS_END_UNSUBSCRIBED);
			return reply(&t, SPR_SUBS_OK, NULL, out);
		}
		/* RFC 6665 §4.2.1.2: refresh; a new Contact is a target refresh */
		for (p = &t.p[0]; p < &t.p[t.n] && p->w.id != id; p++)
			;
		if (p == &t.p[t.n])
			return reply(&t, SPR_SUBS_NO_DIALOG, NULL, out); /* expired meanwhile */
		fill_from_request(&t, p, NULL);
		p->w.expires_at = expires_at(now->sec, e);
		rc = commit(&t);
		if (rc != 0)
			return reply(&t, commit_result(rc), NULL, out);
		ctx->cnt->refreshed++;
		emit(ctx, t.hash, &p->w, SPR_SUBS_EV_REFRESHED, 0);
		return reply(&t, SPR_SUBS_OK, NULL, out);
	}

	/*
	 * A new subscription, or a fetch (e == 0, RFC 6665 §4.4.3): no
	 * subscription, but the dialog is stored like one (SPR_WATCHER_FETCH)
	 * so control can send the one NOTIFY of the current state, terminated;
	 * control then removes it (SUB_REMOVE), or it lapses after
	 * SPR_SUBS_FETCH_TTL. In an existing dialog (another Event id, RFC 6665
	 * §4.1.2) the dialog's route set and identity are the stored ones.
	 */
	if (m->n_contacts == 0)
		return reply(&t, SPR_SUBS_NO_CONTACT, NULL, out);
	if (dlg.r == NULL && route_set(m, rbuf, sizeof(rbuf), &route) != 0)
		return reply(&t, SPR_SUBS_ROUTE_TOO_LONG, NULL, out);
	live = fd.live;
	max = ctx->cfg->max_watchers < SPR_SUBS_WATCHERS_MAX ? ctx->cfg->max_watchers
							     : SPR_SUBS_WATCHERS_MAX;
	if (live >= max || !pick_page(&t))
		return reply(&t, SPR_SUBS_TOO_MANY_WATCHERS, NULL, out);
	keep_live(&t, UINT64_MAX); /* the page it goes into */
	{
		struct pend_w *p = &t.p[t.n++];

		memset(&p->w, 0, sizeof(p->w));
		p->w.id = ++*ctx->seq;
		p->w.expires_at = expires_at(now->sec, e != 0 ? e : SPR_SUBS_FETCH_TTL);
		p->w.flags = (e != 0 ? 0 : SPR_WATCHER_FETCH) | (t.list ? SPR_WATCHER_LIST : 0);
		memcpy(p->w.to_tag, to_tag.p, SPR_WATCHER_TAG_LEN);
		if (dlg.r == NULL) {
			fill_from_request(&t, p, &route);
		} else {
			/* the sibling may be in another page: its strings stay valid (QSBR) */
			for (uint32_t k = 0; k < SPR_WS__COUNT; k++)
				p->s[k] = spr_rec_str(dlg.r, dlg.w->s[k]);
			fill_from_request(&t, p, NULL);
			p->s[SPR_WS_EVENT_ID] = m->event_id;
			p->w.flags |= SPR_WATCHER_SHARED;
		}
		rc = commit(&t);
		if (rc != 0)
			return reply(&t, commit_result(rc), NULL, out);
		if (e != 0)
			ctx->cnt->created++;
		else
			ctx->cnt->fetches++;
		ctx->cnt->list_created += t.list && e != 0;
		emit(ctx, t.hash, &p->w, SPR_SUBS_EV_CREATED, 0);
	}
	return reply(&t, SPR_SUBS_OK, NULL, out);
}

/*
 * Control keeps one timer per (SUBS, hash) for all the presentity's pages
 * and it has just fired: every page is looked at, and the next timer is
 * asked for at the earliest expiry left. Each page's timer_at (the owner's
 * field, written in place as the registrar's in-place refresh does) is set
 * to that time, so a later write of a page never trusts a timer that has
 * already fired.
 */
uint32_t
spr_subs_expire(const struct spr_subs_ctx *ctx, uint64_t hash, uint32_t now)
{
	static __thread struct subs_txn t;
	struct spr_now n = {.sec = now};
	uint32_t nrecs = spr_loc_lookup_hash_kind(ctx->shard, SPR_REC_SUBS, hash, t.pages,
						  SPR_SUBS_RECS_MAX);
	uint32_t removed = 0, at = UINT32_MAX, kept = 0, armed = UINT32_MAX;

	t.ctx = ctx;
	t.now = &n;
	t.hash = hash;
	t.n_pages = nrecs;
	for (uint32_t k = 0; k < nrecs; k++) {
		struct spr_record *pg = (struct spr_record *)t.pages[k]; /* owner: timer_at only */
		uint32_t expired, first = UINT32_MAX;
		uint32_t mark = ctx->out != NULL ? ctx->out->n : 0;

		/* the earliest timer still ahead that a page says is armed */
		if (pg->timer_at > now && pg->timer_at < armed)
			armed = pg->timer_at;

		if (ctx->out != NULL &&
		    mark + pg->n > sizeof(ctx->out->ev) / sizeof(ctx->out->ev[0])) {
			/* its events would not fit: the next timer comes at once */
			at = now;
			t.pages[kept++] = pg;
			continue;
		}
		t.old = pg;
		t.page = spr_rec_page(pg);
		t.aor = spr_rec_str(pg, pg->aor);
		expired = keep_live(&t, UINT64_MAX);
		for (uint32_t i = 0; i < t.n; i++)
			if (t.p[i].w.expires_at < first)
				first = t.p[i].w.expires_at;
		if (expired != 0) {
			pg->timer_at = 0; /* fired: commit must not keep it */
			if (commit(&t) != 0) {
				/* out of memory: the events are not true yet; again in a second */
				if (ctx->out != NULL)
					ctx->out->n = mark;
				first = now + 1;
				t.pages[kept++] = pg;
			} else {
				removed += expired;
			}
		} else {
			t.pages[kept++] = pg;
		}
		if (first < at)
			at = first;
	}
	if (ctx->arm != NULL)
		ctx->arm->at = 0; /* commits' requests: replaced by the one below */
	/*
	 * a timer still ahead and no later than at covers it: this EXPIRE was
	 * one left behind (control keeps no map to move timers), nothing to ask
	 */
	if (at != UINT32_MAX && armed > at) {
		/* pages left as they were; a rewritten page's timer_at is its own first (>= at) */
		for (uint32_t k = 0; k < kept; k++)
			((struct spr_record *)t.pages[k])->timer_at = at;
		if (ctx->arm != NULL) {
			ctx->arm->kind = SPR_REC_SUBS;
			ctx->arm->hash = hash;
			ctx->arm->at = at;
		}
	}
	ctx->cnt->expired += removed;
	return removed;
}

int
spr_subs_remove(const struct spr_subs_ctx *ctx, uint64_t hash, uint64_t id, uint32_t now)
{
	static __thread struct subs_txn t;
	struct spr_now n = {.sec = now};
	uint32_t nrecs = spr_loc_lookup_hash_kind(ctx->shard, SPR_REC_SUBS, hash, t.pages,
						  SPR_SUBS_RECS_MAX);

	t.ctx = ctx;
	t.now = &n;
	t.hash = hash;
	for (uint32_t k = 0; k < nrecs; k++) {
		const struct spr_record *pg = t.pages[k];
		const struct spr_watcher *ws = spr_rec_watchers(pg);
		uint32_t i;
		int rc;

		for (i = 0; i < pg->n && ws[i].id != id; i++)
			;
		if (i == pg->n)
			continue;
		t.old = pg;
		t.page = spr_rec_page(pg);
		t.aor = spr_rec_str(pg, pg->aor);
		keep_live(&t, id);
		rc = commit(&t);
		if (rc == 0 && (ws[i].flags & SPR_WATCHER_FETCH))
			ctx->cnt->fetches_done++;
		else if (rc == 0)
			ctx->cnt->removed++;
		return rc;
	}
	return -ENOENT;
}
