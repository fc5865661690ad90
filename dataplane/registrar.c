/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>

#include <spr/buddies.h>
#include <spr/results.h>

#include "registrar.h"

static const struct spr_result_desc reg_results[SPR_REG__COUNT] = {
#define X(n, c, r) SPR_RESULT_ROW(SPR_REG_, n, c, r)
	SPR_FOREACH_REG_RESULT(X)
#undef X
};

SPR_RESULT_ACCESSORS(spr_reg_result, enum spr_reg_result, reg_results, SPR_REG__COUNT)

void
spr_reg_cfg_default(struct spr_reg_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->min_expires = 60;
	cfg->max_expires = 7200;
	cfg->default_expires = 3600;
	cfg->max_contacts = 10;
}

/* User-Agent is informational: longer values are stored cut to this. */
#define REG_UA_MAX 128u
/* Option tags a REGISTER may Require of us (RFC 3261 §8.2.2.3). */
static const struct spr_str reg_supported[] = {SPR_STR("path")};

int
spr_reg_aor(const struct spr_sip_msg *m, char *out, uint32_t cap)
{
	return spr_sip_aor_normalize(&m->to.uri, out, cap);
}

bool
spr_reg_domain_served(const struct spr_reg_cfg *cfg, const struct spr_str *host)
{
	if (cfg->n_domains == 0)
		return true;
	for (uint32_t i = 0; i < cfg->n_domains; i++)
		if (spr_str_caseeq(&cfg->domains[i], host))
			return true;
	return false;
}

/*
 * Byte equality of two spans of n bytes, inline: a refresh compares a
 * binding's Contact, Call-ID and User-Agent (tens of bytes each) with the
 * request's, where memcmp calls cost more than the compare. Reads only
 * inside the spans (overlapping last block or word).
 */
static inline bool
bytes_eq(const char *a, const char *b, uint32_t n)
{
	uint64_t x, y, u, v;

#ifdef __SSE2__
	if (n >= 16) {
		__m128i eq = _mm_cmpeq_epi8(
			_mm_loadu_si128((const __m128i *)(const void *)(a + n - 16)),
			_mm_loadu_si128((const __m128i *)(const void *)(b + n - 16)));

		for (uint32_t i = 0; i + 16 < n; i += 16)
			eq = _mm_and_si128(
				eq,
				_mm_cmpeq_epi8(
					_mm_loadu_si128((const __m128i *)(const void *)(a + i)),
					_mm_loadu_si128((const __m128i *)(const void *)(b + i))));
		return _mm_movemask_epi8(eq) == 0xffff;
	}
#else
	if (n >= 16)
		return memcmp(a, b, n) == 0;
#endif
	if (n >= 8) {
		memcpy(&x, a, 8);
		memcpy(&y, b, 8);
		memcpy(&u, a + n - 8, 8);
		memcpy(&v, b + n - 8, 8);
		return ((x ^ y) | (u ^ v)) == 0;
	}
	for (uint32_t i = 0; i < n; i++)
		if (a[i] != b[i])
			return false;
	return true;
}

static inline bool
span_eq(const struct spr_str *a, const struct spr_str *b)
{
	return a->len == b->len && bytes_eq(a->p, b->p, a->len);
}

/* A binding of the record being built: kept from the old record, or from the request. */
struct pend {
	const struct spr_binding *old; /* NULL: a new binding */
	const struct spr_sip_contact *c; /* NULL: kept as it was */
	uint32_t expires_at;
	uint8_t removed;
	uint8_t same; /* c's URI and the request's Call-ID are old's bytes (compared already) */
};

#define REG_PEND_MAX (SPR_SIP_CONTACT_MAX + SPR_REG_CONTACTS_MAX)

struct reg_txn {
	const struct spr_reg_ctx *ctx;
	const struct spr_sip_msg *m;
	const struct spr_peer *src;
	const struct spr_now *now;
	const struct spr_record *old;
	struct spr_str aor;
	uint64_t hash;
	uint32_t n;
	struct pend p[REG_PEND_MAX];
	struct spr_str path; /* request Path values as they will be stored */
	uint8_t too_large;   /* the record would pass SPR_RECORD_MAX */
	char path_buf[1024];
};

/*
 * RFC 3261 §10.3 step 7: whether a request contact refers to binding b: 0
 * no, 1 yes, 2 yes and its URI is b's byte for byte.
 */
static int
binding_matches(const struct spr_record *r, const struct spr_binding *b,
		const struct spr_sip_contact *c)
{
	struct spr_str inst = spr_rec_str(r, b->instance);
	struct spr_str uri = spr_rec_str(r, b->contact);
	struct spr_sip_uri bu;

	/* RFC 5626 §6: with +sip.instance the instance (and reg-id) names the binding */
	if (c->instance.len != 0 || inst.len != 0) {
		bool c_reg = c->flags & SPR_CONTACT_HAS_REG_ID;
		bool b_reg = b->flags & SPR_BINDING_HAS_REG_ID;

		return span_eq(&inst, &c->instance) && c_reg == b_reg &&
		       (!c_reg || c->reg_id == b->reg_id);
	}
	if (span_eq(&uri, &c->na.uri.raw))
		return 2;
	if (spr_sip_uri_parse(uri.p, uri.len, &bu) != 0)
		return 0;
	return spr_sip_uri_eq(&bu, &c->na.uri);
}

static bool
contacts_same(const struct spr_sip_contact *a, const struct spr_sip_contact *b)
{
	if (a->instance.len != 0 || b->instance.len != 0)
		return spr_str_eq(&a->instance, &b->instance) &&
		       (a->flags & SPR_CONTACT_HAS_REG_ID) == (b->flags & SPR_CONTACT_HAS_REG_ID) &&
		       a->reg_id == b->reg_id;
	return spr_sip_uri_eq(&a->na.uri, &b->na.uri);
}

static uint32_t
expires_at(uint32_t now, uint32_t e)
{
	return e > UINT32_MAX - now ? UINT32_MAX : now + e;
}

/* Whether r has a binding alive at now. */
static bool
any_alive(const struct spr_record *r, uint32_t now)
{
	for (uint32_t i = 0; r != NULL && i < r->n; i++)
		if (spr_binding_alive(&r->b[i], now))
			return true;
	return false;
}

/*
 * Tell the caller (automatic presence) that the AOR of hash went from no
 * binding to some or back: was, whether old (the record before) had a
 * binding alive at now; nrec the one published (only alive bindings; NULL:
 * none). A record that goes away is reported even when its bindings had
 * lapsed already: its expiry is when watchers hear of it.
 */
static void
report_change(const struct spr_reg_ctx *ctx, uint64_t hash, bool was,
	      const struct spr_record *old, const struct spr_record *nrec)
{
	bool is = nrec != NULL;
	const struct spr_record *r = nrec != NULL ? nrec : old;
	struct spr_str aor, domain;

	if (ctx->changed == NULL || (was == is && (old != NULL) == is))
		return;
	aor = spr_rec_str(r, r->aor);
	domain = spr_aor_domain(&aor);
	*ctx->changed = (struct spr_reg_change){hash, spr_domain_hash(&domain), is, 1};
}

/* Expiry a contact asks for (RFC 3261 §10.2.1.1), before the min/max policy. */
static uint32_t
contact_expires(const struct spr_reg_cfg *cfg, const struct spr_sip_msg *m,
		const struct spr_sip_contact *c)
{
	if (c->flags & SPR_CONTACT_HAS_EXPIRES)
		return c->expires;
	if (m->has_expires)
		return m->expires;
	return cfg->default_expires;
}

static uint32_t
ua_len(const struct spr_sip_msg *m)
{
	return m->user_agent.len > REG_UA_MAX ? REG_UA_MAX : m->user_agent.len;
}

static struct spr_ref
put_str(struct spr_record *r, uint32_t *off, const char *p, uint32_t len)
{
	struct spr_ref ref = {(uint16_t)*off, (uint16_t)len}; /* the record fits SPR_RECORD_MAX */

	if (len != 0)
		memcpy((char *)r + *off, p, len);
	*off += len;
	return ref;
}

/* Write the new record of the AOR from the pending bindings. NULL when out of memory. */
static struct spr_record *
build_record(struct reg_txn *t, uint32_t live)
{
	const struct spr_sip_msg *m = t->m;
	struct spr_loc_shard *s = t->ctx->shard;
	uint32_t blob = t->aor.len, off, k = 0;
	struct spr_record *r;

	for (uint32_t i = 0; i < t->n; i++) {
		const struct pend *pd = &t->p[i];

		if (pd->removed)
			continue;
		if (pd->c == NULL) {
			const struct spr_binding *b = pd->old;

			blob += b->contact.len + b->call_id.len + b->path.len + b->instance.len +
				b->user_agent.len;
		} else {
			blob += pd->c->na.uri.raw.len + m->call_id.len + t->path.len +
				pd->c->instance.len + ua_len(m);
		}
	}
	if (sizeof(*r) + live * sizeof(struct spr_binding) + blob > SPR_RECORD_MAX) {
		t->too_large = 1;
		return NULL;
	}
	r = spr_loc_record_alloc(s, (uint16_t)live, blob);
	if (r == NULL)
		return NULL;
	r->hash = t->hash;
	off = (uint32_t)(sizeof(*r) + live * sizeof(struct spr_binding));
	r->aor = put_str(r, &off, t->aor.p, t->aor.len);
	/* kept bindings first, then those this request wrote: oldest update first */
	for (int pass = 0; pass < 2; pass++) {
		for (uint32_t i = 0; i < t->n; i++) {
			const struct pend *pd = &t->p[i];
			struct spr_binding *b = &r->b[k];

			if (pd->removed || (pass == 0) != (pd->c == NULL))
				continue;
			k++;
			if (pd->c == NULL) {
				const struct spr_binding *ob = pd->old;
				struct spr_str cs = spr_rec_str(t->old, ob->contact);
				struct spr_str ci = spr_rec_str(t->old, ob->call_id);
				struct spr_str pa = spr_rec_str(t->old, ob->path);
				struct spr_str in = spr_rec_str(t->old, ob->instance);
				struct spr_str ua = spr_rec_str(t->old, ob->user_agent);

				*b = *ob;
				b->contact = put_str(r, &off, cs.p, cs.len);
				b->call_id = put_str(r, &off, ci.p, ci.len);
				b->path = put_str(r, &off, pa.p, pa.len);
				b->instance = put_str(r, &off, in.p, in.len);
				b->user_agent = put_str(r, &off, ua.p, ua.len);
				continue;
			}
			b->expires_at = pd->expires_at;
			b->cseq = m->cseq;
			b->generation = spr_loc_next_generation(s);
			b->q = pd->c->q;
			b->flags = 0;
			if (pd->c->flags & SPR_CONTACT_HAS_REG_ID) {
				b->flags |= SPR_BINDING_HAS_REG_ID;
				b->reg_id = pd->c->reg_id;
			}
			b->src_family = t->src->family;
			b->src_port = t->src->port;
			memcpy(b->src_addr, t->src->addr, sizeof(b->src_addr));
			b->contact = put_str(r, &off, pd->c->na.uri.raw.p, pd->c->na.uri.raw.len);
			b->call_id = put_str(r, &off, m->call_id.p, m->call_id.len);
			b->path = put_str(r, &off, t->path.p, t->path.len);
			b->instance = put_str(r, &off, pd->c->instance.p, pd->c->instance.len);
			b->user_agent = put_str(r, &off, m->user_agent.p, ua_len(m));
		}
	}
	return r;
}

/*
 * Set the record's timer before it is published: keep the armed one when it
 * is still ahead and no later than the first expiry, else ask for a new one.
 */
static void
arm_timer(const struct spr_reg_ctx *ctx, const struct spr_record *old, struct spr_record *nrec,
	  uint32_t now)
{
	uint32_t first = UINT32_MAX;

	for (uint32_t i = 0; i < nrec->n; i++)
		if (nrec->b[i].expires_at < first)
			first = nrec->b[i].expires_at;
	spr_rec_arm(ctx->arm, old, nrec, first, now);
}

static void
reply_contacts(struct spr_wbuf *w, const struct spr_record *r, uint32_t now)
{
	if (r == NULL)
		return;
	for (uint32_t i = 0; i < r->n; i++) {
		const struct spr_binding *b = &r->b[i];
		struct spr_str uri, inst;
		char *o;

		if (!spr_binding_alive(b, now))
			continue;
		uri = spr_rec_str(r, b->contact);
		inst = spr_rec_str(r, b->instance);
		/* "Contact: <" uri ">;expires=" seconds, with one bounds check */
		o = spr_wbuf_room(w, 20 + uri.len + 10);
		if (o == NULL)
			return;
		memcpy(o, "Contact: <", 10);
		spr_copy(o + 10, uri.p, uri.len);
		memcpy(o + 10 + uri.len, ">;expires=", 10);
		w->len += 20 + uri.len + spr_u32_write(o + 20 + uri.len, b->expires_at - now);
		if (b->q != SPR_SIP_Q_NONE) {
			SPR_WBUF_LIT(w, ";q=");
			spr_wbuf_q(w, b->q);
		}
		if (inst.len != 0) {
			SPR_WBUF_LIT(w, ";+sip.instance=");
			spr_wbuf_str(w, &inst);
		}
		if (b->flags & SPR_BINDING_HAS_REG_ID) {
			SPR_WBUF_LIT(w, ";reg-id=");
			spr_wbuf_u32(w, b->reg_id);
		}
		SPR_WBUF_LIT(w, "\r\n");
	}
}

/* Final response: status, copied headers, what the outcome adds, tail. */
static enum spr_reg_result
reply(struct reg_txn *t, enum spr_reg_result res, const struct spr_record *r,
      const struct spr_str *unsupported, struct spr_wbuf *w)
{
	const struct spr_sip_msg *m = t->m;
	uint32_t start = w->len;

	if (res == SPR_REG_OK) /* the row of OK in SPR_FOREACH_REG_RESULT, its length folded */
		spr_sip_reply_head(w, m, t->src, 200, "OK", NULL);
	else
		spr_sip_reply_head(w, m, t->src, spr_reg_result_code(res),
				   spr_reg_result_reason(res), NULL);
	switch (res) {
	case SPR_REG_OK:
		reply_contacts(w, r, t->now->sec);
		if (m->path.n != 0 && spr_sip_hlist_has(&m->supported, "path", 4)) {
			/* RFC 3327 §5.3: echo the Path stored for this registration */
			for (uint32_t i = 0; i < m->path.n; i++) {
				SPR_WBUF_LIT(w, "Path: ");
				spr_wbuf_value(w, &m->path.v[i]);
				SPR_WBUF_LIT(w, "\r\n");
			}
		}
		break;
	case SPR_REG_TOO_BRIEF:
		SPR_WBUF_HDR_U32(w, "Min-Expires", t->ctx->cfg->min_expires);
		break;
	case SPR_REG_UNSUPPORTED:
		SPR_WBUF_HDR_STR(w, "Unsupported", unsupported);
		break;
	default:
		break;
	}
	spr_sip_reply_tail(w, t->ctx->reply, t->now, NULL);
	if (unlikely(w->overflow) && res != SPR_REG_REPLY_TOO_LARGE &&
	    spr_sip_reply_fallback(w, start, m, t->src, NULL, t->ctx->reply, t->now,
				   spr_reg_result_reason(SPR_REG_REPLY_TOO_LARGE)))
		res = SPR_REG_REPLY_TOO_LARGE;
	t->ctx->cnt->result[res]++;
	return res;
}

/* RFC 3261 §10.3 step 6: Contact: * removes every binding, if CSeq allows. */
static enum spr_reg_result
unregister_all(struct reg_txn *t, struct spr_wbuf *w)
{
	const struct spr_sip_msg *m = t->m;
	const struct spr_record *r = t->old;
	uint32_t alive = 0;

	if (m->n_contacts != 0)
		return reply(t, SPR_REG_STAR_WITH_CONTACTS, NULL, NULL, w);
	if (!m->has_expires || m->expires != 0)
		return reply(t, SPR_REG_STAR_EXPIRES, NULL, NULL, w);
	if (r == NULL)
		return reply(t, SPR_REG_OK, NULL, NULL, w);
	for (uint32_t i = 0; i < r->n; i++) {
		struct spr_str ci = spr_rec_str(r, r->b[i].call_id);

		if (spr_str_eq(&ci, &m->call_id) && m->cseq <= r->b[i].cseq)
			return reply(t, SPR_REG_CSEQ_ORDER, NULL, NULL, w);
		alive += spr_binding_alive(&r->b[i], t->now->sec);
	}
	if (spr_loc_publish(t->ctx->shard, r, NULL) == 0)
		report_change(t->ctx, t->hash, any_alive(r, t->now->sec), r, NULL);
	t->ctx->cnt->bindings_removed += alive;
	return reply(t, SPR_REG_OK, NULL, NULL, w);
}

/* Request Path fields joined as they are stored with each binding. */
static bool
join_path(struct reg_txn *t)
{
	struct spr_wbuf pw;

	t->path = SPR_STR_NULL;
	if (t->m->path.n == 0)
		return true;
	spr_wbuf_init(&pw, t->path_buf, sizeof(t->path_buf));
	for (uint32_t i = 0; i < t->m->path.n; i++) {
		if (i != 0)
			SPR_WBUF_LIT(&pw, ",");
		spr_wbuf_value(&pw, &t->m->path.v[i]);
	}
	t->path = (struct spr_str){t->path_buf, pw.len};
	return !pw.overflow;
}

/* Whether rebuilding pd's binding from its contact would change nothing but expiry and CSeq. */
static bool
binding_same(const struct reg_txn *t, const struct pend *pd)
{
	const struct spr_binding *b = pd->old;
	const struct spr_sip_contact *c = pd->c;
	const struct spr_record *r = t->old;
	const struct spr_sip_msg *m = t->m;
	struct spr_str s;
	uint16_t flags = (c->flags & SPR_CONTACT_HAS_REG_ID) ? SPR_BINDING_HAS_REG_ID : 0;

	uint64_t a0, a1, s0, s1;

	memcpy(&a0, b->src_addr, 8);
	memcpy(&a1, b->src_addr + 8, 8);
	memcpy(&s0, t->src->addr, 8);
	memcpy(&s1, t->src->addr + 8, 8);
	if (b->q != c->q || b->flags != flags || (flags && b->reg_id != c->reg_id) ||
	    b->src_family != t->src->family || b->src_port != t->src->port ||
	    ((a0 ^ s0) | (a1 ^ s1)) != 0)
		return false;
	if (!pd->same) {
		s = spr_rec_str(r, b->contact);
		if (!span_eq(&s, &c->na.uri.raw))
			return false;
		s = spr_rec_str(r, b->call_id);
		if (!span_eq(&s, &m->call_id))
			return false;
	}
	s = spr_rec_str(r, b->path);
	if (!span_eq(&s, &t->path))
		return false;
	s = spr_rec_str(r, b->instance);
	if (!span_eq(&s, &c->instance))
		return false;
	s = spr_rec_str(r, b->user_agent);
	return s.len == ua_len(m) && bytes_eq(s.p, m->user_agent.p, s.len);
}

/*
 * The in-place refresh (location.h): when every binding of the old record
 * stays and the refreshed ones are the last ones (where build_record() would
 * put them: least recently updated first) and would be rebuilt byte for byte
 * but for expiry and CSeq, store those in the published record instead of
 * copying it. Returns whether it did. Context: shard owner.
 */
static bool
refresh_in_place(struct reg_txn *t)
{
	struct spr_record *r = (struct spr_record *)t->old; /* the owner's, see location.h */
	uint32_t first = t->n;

	if (t->n != r->n)
		return false; /* a binding expired or was dropped */
	for (uint32_t i = 0; i < t->n; i++) {
		const struct pend *pd = &t->p[i];

		if (pd->removed || pd->old != &r->b[i])
			return false;
		if (pd->c == NULL) {
			if (first != t->n)
				return false; /* a kept binding after a refreshed one */
			continue;
		}
		if (first == t->n)
			first = i;
		if (!binding_same(t, pd))
			return false;
	}
	for (uint32_t i = first; i < t->n; i++) {
		struct spr_binding *b = &r->b[i];

		__atomic_store_n(&b->expires_at, t->p[i].expires_at, __ATOMIC_RELAXED);
		__atomic_store_n(&b->cseq, t->m->cseq, __ATOMIC_RELAXED);
		__atomic_store_n(&b->generation, spr_loc_next_generation(t->ctx->shard),
				 __ATOMIC_RELAXED);
	}
	arm_timer(t->ctx, r, r, t->now->sec);
	return true;
}

/* Drop kept bindings, least recently updated first, until live fits. */
static uint32_t
drop_oldest(struct reg_txn *t, uint32_t live, uint32_t max)
{
	for (uint32_t i = 0; i < t->n && live > max; i++) {
		if (t->p[i].removed || t->p[i].c != NULL)
			continue;
		t->p[i].removed = 1;
		live--;
		t->ctx->cnt->bindings_dropped_oldest++;
	}
	return live;
}

enum spr_reg_result
spr_reg_handle(const struct spr_reg_ctx *ctx, const struct spr_sip_msg *m,
	       const struct spr_peer *src, const struct spr_now *now, struct spr_wbuf *out)
{
	const struct spr_reg_cfg *cfg = ctx->cfg;
	char aor[SPR_REG_AOR_MAX];
	struct spr_str unknown;
	struct reg_txn t;
	uint32_t live = 0, changed = 0, added = 0, refreshed = 0, removed = 0, max, old_alive;
	struct spr_record *nrec;
	int alen;

	t.ctx = ctx;
	t.m = m;
	t.src = src;
	t.now = now;
	t.old = NULL;
	t.n = 0;

	/* step 1: the Request-URI names a domain we serve */
	if (m->ruri.scheme_id != SPR_URI_SIP && m->ruri.scheme_id != SPR_URI_SIPS)
		return reply(&t, SPR_REG_RURI_SCHEME, NULL, NULL, out);
	if (cfg->n_domains != 0 && !spr_reg_domain_served(cfg, &m->ruri.host))
		return reply(&t, SPR_REG_DOMAIN_NOT_SERVED, NULL, NULL, out);
	/* step 2: every extension the client Requires */
	if (m->require.n != 0 &&
	    spr_sip_hlist_first_unknown(&m->require, reg_supported,
					sizeof(reg_supported) / sizeof(reg_supported[0]), &unknown))
		return reply(&t, SPR_REG_UNSUPPORTED, NULL, &unknown, out);
	/* step 5: the canonical AOR, in a domain we serve (the worker may have it already) */
	if (ctx->key != NULL) {
		t.aor = (struct spr_str){ctx->key->aor, ctx->key->len};
		t.hash = ctx->key->hash;
	} else {
		alen = spr_reg_aor(m, aor, sizeof(aor));
		if (alen == -ENOSPC)
			return reply(&t, SPR_REG_AOR_TOO_LONG, NULL, NULL, out);
		if (alen < 0)
			return reply(&t,
				     m->to.uri.scheme_id == SPR_URI_SIP ||
						     m->to.uri.scheme_id == SPR_URI_SIPS
					     ? SPR_REG_BAD_AOR
					     : SPR_REG_AOR_SCHEME,
				     NULL, NULL, out);
		t.aor = (struct spr_str){aor, (uint32_t)alen};
		t.hash = spr_loc_hash(&t.aor);
	}
	if (cfg->n_domains != 0 && !spr_reg_domain_served(cfg, &m->to.uri.host))
		return reply(&t, SPR_REG_DOMAIN_NOT_SERVED, NULL, NULL, out);
	t.old = spr_loc_lookup(ctx->shard, &t.aor, t.hash);

	/* step 6 */
	if (m->contact_star)
		return unregister_all(&t, out);
	if (m->n_contacts == 0) {
		ctx->cnt->fetches++;
		return reply(&t, SPR_REG_OK, t.old, NULL, out);
	}

	/* step 7: each contact against the bindings, applied only if all succeed */
	for (uint32_t i = 0; i < m->n_contacts; i++)
		for (uint32_t j = 0; j < i; j++)
			if (contacts_same(&m->contacts[i], &m->contacts[j]))
				return reply(&t, SPR_REG_DUP_CONTACT, NULL, NULL, out);
	if (!join_path(&t))
		return reply(&t, SPR_REG_REPLY_TOO_LARGE, NULL, NULL, out);
	if (t.old != NULL) {
		/* a record never holds more than SPR_REG_CONTACTS_MAX bindings */
		for (uint32_t i = 0; i < t.old->n && t.n < SPR_REG_CONTACTS_MAX; i++) {
			if (!spr_binding_alive(&t.old->b[i], now->sec)) {
				changed = 1;
				continue;
			}
			t.p[t.n++] = (struct pend){.old = &t.old->b[i]};
		}
	}
	old_alive = t.n;
	for (uint32_t i = 0; i < m->n_contacts; i++) {
		const struct spr_sip_contact *c = &m->contacts[i];
		uint32_t e = contact_expires(cfg, m, c);
		struct pend *pd = NULL;
		int how = 0;

		if (e != 0 && e < cfg->min_expires)
			return reply(&t, SPR_REG_TOO_BRIEF, NULL, NULL, out);
		if (e > cfg->max_expires)
			e = cfg->max_expires;
		for (uint32_t j = 0; j < t.n; j++) {
			if (t.p[j].old != NULL && t.p[j].c == NULL && !t.p[j].removed &&
			    (how = binding_matches(t.old, t.p[j].old, c)) != 0) {
				pd = &t.p[j];
				break;
			}
		}
		if (pd != NULL) {
			struct spr_str ci = spr_rec_str(t.old, pd->old->call_id);
			bool same_call = span_eq(&ci, &m->call_id);

			if (same_call) {
				if (m->cseq < pd->old->cseq)
					return reply(&t, SPR_REG_CSEQ_ORDER, NULL, NULL, out);
				if (m->cseq == pd->old->cseq) {
					/* a retransmission: answer with what is stored */
					ctx->cnt->retransmissions++;
					continue;
				}
			}
			changed = 1;
			if (e == 0) {
				pd->removed = 1;
				removed++;
			} else {
				pd->c = c;
				pd->expires_at = expires_at(now->sec, e);
				pd->same = how == 2 && same_call;
				refreshed++;
			}
		} else if (e != 0) {
			t.p[t.n++] = (struct pend){.c = c, .expires_at = expires_at(now->sec, e)};
			changed = 1;
			added++;
		}
	}
	for (uint32_t i = 0; i < t.n; i++)
		live += !t.p[i].removed;
	max = cfg->max_contacts < SPR_REG_CONTACTS_MAX ? cfg->max_contacts : SPR_REG_CONTACTS_MAX;
	if (live > max && cfg->drop_oldest)
		live = drop_oldest(&t, live, max);
	if (live > max)
		return reply(&t, SPR_REG_TOO_MANY_CONTACTS, NULL, NULL, out);
	if (!changed)
		return reply(&t, SPR_REG_OK, t.old, NULL, out);
	if (added == 0 && removed == 0 && t.old != NULL && refresh_in_place(&t)) {
		/* every binding stays alive: nothing for report_change() to say */
		ctx->cnt->bindings_refreshed += refreshed;
		ctx->cnt->refreshed_in_place += refreshed;
		return reply(&t, SPR_REG_OK, t.old, NULL, out);
	}

	nrec = NULL;
	if (live != 0) {
		t.too_large = 0;
		if ((nrec = build_record(&t, live)) == NULL)
			return reply(&t, t.too_large ? SPR_REG_RECORD_TOO_LARGE : SPR_REG_NO_MEMORY,
				     NULL, NULL, out);
		arm_timer(ctx, t.old, nrec, now->sec);
	}
	if ((t.old != NULL || nrec != NULL) && spr_loc_publish(ctx->shard, t.old, nrec) != 0) {
		/* only a second writer could get here: refuse rather than lose a binding */
		if (nrec != NULL)
			spr_loc_record_free(ctx->shard, nrec);
		return reply(&t, SPR_REG_STORE_CONFLICT, NULL, NULL, out);
	}
	report_change(ctx, t.hash, old_alive != 0, t.old, nrec);
	ctx->cnt->bindings_added += added;
	ctx->cnt->bindings_refreshed += refreshed;
	ctx->cnt->bindings_removed += removed;
	return reply(&t, SPR_REG_OK, nrec, NULL, out);
}

/*
 * Publish old's AOR with only the bindings keep[] marks (none kept: removed).
 * Context: shard owner; the scratch lives on the worker's stack, like a REGISTER's.
 */
static int
republish(const struct spr_reg_ctx *ctx, const struct spr_record *old, const uint8_t *keep,
	  uint32_t now)
{
	struct reg_txn t;
	struct spr_record *nrec = NULL;
	int rc;

	t.ctx = ctx;
	t.m = NULL;
	t.src = NULL;
	t.now = NULL;
	t.old = old;
	t.aor = spr_rec_str(old, old->aor);
	t.hash = old->hash;
	t.n = 0;
	t.path = SPR_STR_NULL;
	t.too_large = 0;
	for (uint32_t i = 0; i < old->n && t.n < SPR_REG_CONTACTS_MAX; i++)
		if (keep[i])
			t.p[t.n++] = (struct pend){.old = &old->b[i]};
	if (t.n != 0) {
		/* a subset of a record that fitted fits */
		nrec = build_record(&t, t.n);
		if (nrec == NULL)
			return -ENOMEM;
		arm_timer(ctx, old, nrec, now);
	}
	rc = spr_loc_publish(ctx->shard, old, nrec);
	if (rc != 0 && nrec != NULL)
		spr_loc_record_free(ctx->shard, nrec);
	else if (rc == 0)
		report_change(ctx, old->hash, any_alive(old, now), old, nrec);
	return rc;
}

uint32_t
spr_reg_expire(const struct spr_reg_ctx *ctx, uint64_t hash, uint32_t now)
{
	const struct spr_record *recs[4];
	uint32_t n = spr_loc_lookup_hash(ctx->shard, hash, recs, 4), removed = 0;

	for (uint32_t k = 0; k < n; k++) {
		const struct spr_record *r = recs[k];
		uint8_t keep[SPR_REG_CONTACTS_MAX];
		uint32_t expired = 0, first = UINT32_MAX;

		for (uint32_t i = 0; i < r->n && i < SPR_REG_CONTACTS_MAX; i++) {
			keep[i] = spr_binding_alive(&r->b[i], now);
			expired += !keep[i];
			if (keep[i] && r->b[i].expires_at < first)
				first = r->b[i].expires_at;
		}
		if (expired == 0) {
			/*
			 * refreshed since the timer was armed: arm for the first expiry
			 * now; or a timer left behind, the record's own still ahead
			 */
			if (first != UINT32_MAX)
				spr_rec_rearm(ctx->arm, r, first, now);
			continue;
		}
		if (republish(ctx, r, keep, now) != 0) {
			/* out of memory: try again in a second rather than keep them forever */
			spr_rec_rearm(ctx->arm, r, now + 1, now);
			continue;
		}
		removed += expired;
	}
	ctx->cnt->bindings_expired += removed;
	return removed;
}

int
spr_reg_remove(const struct spr_reg_ctx *ctx, const struct spr_str *aor,
	       const struct spr_str *contact, uint32_t now)
{
	const struct spr_record *r = spr_loc_lookup(ctx->shard, aor, spr_loc_hash(aor));
	uint8_t keep[SPR_REG_CONTACTS_MAX];
	struct spr_sip_uri want;
	uint32_t removed = 0;
	int rc;

	if (r == NULL)
		return -ENOENT;
	if (contact->len != 0 && spr_sip_uri_parse(contact->p, contact->len, &want) != 0)
		return -EINVAL;
	for (uint32_t i = 0; i < r->n && i < SPR_REG_CONTACTS_MAX; i++) {
		struct spr_str uri = spr_rec_str(r, r->b[i].contact);
		struct spr_sip_uri bu;
		bool match = contact->len == 0 || spr_str_eq(&uri, contact) ||
			     (spr_sip_uri_parse(uri.p, uri.len, &bu) == 0 && spr_sip_uri_eq(&bu, &want));

		keep[i] = !match;
		removed += match && spr_binding_alive(&r->b[i], now);
	}
	if (removed == 0)
		return -ENOENT;
	rc = republish(ctx, r, keep, now);
	if (rc != 0)
		return rc;
	ctx->cnt->bindings_removed_by_operator += removed;
	return (int)removed;
}
