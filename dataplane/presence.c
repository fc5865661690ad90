/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stddef.h>

#include <spr/buddies.h>
#include <spr/results.h>

#include "presence.h"

static const struct spr_result_desc pres_results[SPR_PRES__COUNT] = {
#define X(n, c, r) SPR_RESULT_ROW(SPR_PRES_, n, c, r)
	SPR_FOREACH_PRES_RESULT(X)
#undef X
};

SPR_RESULT_ACCESSORS(spr_pres_result, enum spr_pres_result, pres_results, SPR_PRES__COUNT)

/* The PIDF faults' statuses and reasons, from pidf-t.h's table (pidf.c is not linked here). */
static const struct {
	uint16_t code;
	const char *reason;
} pidf_faults[SPR_PIDF__COUNT] = {
#define X(n, c, r) [SPR_PIDF_##n] = {c, r},
	SPR_FOREACH_PIDF_FAULT(X)
#undef X
};

void
spr_pres_cfg_default(struct spr_pres_cfg *cfg)
{
	cfg->mode = SPR_PRES_MODE_B2BUA;
	cfg->default_expires = 3600;
	cfg->max_publications = 8;
	cfg->etag_secret = 0;
}

int
spr_pres_aor(const struct spr_sip_msg *m, char *out, uint32_t cap)
{
	return spr_sip_aor_normalize(&m->ruri, out, cap);
}

/* Bytes of a status copy: spr_pidf_status_size() of pidf.h, which dataplane does not include. */
static inline uint32_t
status_size(const struct spr_pidf_status *st)
{
	return (uint32_t)offsetof(struct spr_pidf_status, text) + st->text_used;
}

static inline uint32_t
align8(uint32_t v)
{
	return (v + 7u) & ~7u;
}

/* A publication of the record being built: kept from the old record, or from the request. */
struct pend_pub {
	const void *status; /* in the old record or control's verdict */
	uint32_t status_len;
	uint32_t expires_at;
	char etag[SPR_ETAG_LEN];
};

struct pres_txn {
	const struct spr_pres_ctx *ctx;
	const struct spr_sip_msg *m;
	const struct spr_peer *src;
	const struct spr_now *now;
	const struct spr_record *old;
	struct spr_str aor;
	uint64_t hash;
	uint32_t n;
	struct pend_pub p[SPR_PRES_PUBS_MAX + 1];
	const char *etag; /* the 200's SIP-ETag; NULL: none */
	uint32_t expires; /* the 200's Expires */
	enum spr_pidf_fault fault;
};

/*
 * A new entity-tag (RFC 3903 §4.1): 96 bits as 16 base64url characters.
 * The first 64 bits are a bijection of the owner's counter keyed with the
 * process secret, so no two tags of a process are equal; without the secret
 * the next tag cannot be told from the last.
 */
static void
make_etag(const struct spr_pres_ctx *ctx, char out[SPR_ETAG_LEN])
{
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	uint64_t seq = ++*ctx->etag_seq;
	uint64_t a = spr_hash64(&seq, sizeof(seq), ctx->cfg->etag_secret);
	uint64_t b = spr_hash64(&seq, sizeof(seq), ~ctx->cfg->etag_secret);

	for (uint32_t i = 0; i < 11; i++)
		out[i] = b64[(a >> (6 * i)) & 63];
	for (uint32_t i = 11; i < SPR_ETAG_LEN; i++)
		out[i] = b64[(b >> (6 * (i - 11))) & 63];
}

/* Final response: status, copied headers, what the outcome adds, tail. */
static enum spr_pres_result
reply(struct pres_txn *t, enum spr_pres_result res, const struct spr_str *unsupported,
      struct spr_wbuf *w)
{
	const struct spr_sip_msg *m = t->m;
	uint32_t start = w->len;
	uint16_t code = spr_pres_result_code(res);
	const char *reason = spr_pres_result_reason(res);

	if (res == SPR_PRES_PIDF_REJECTED && t->fault < SPR_PIDF__COUNT) {
		code = pidf_faults[t->fault].code;
		reason = pidf_faults[t->fault].reason;
	}
	spr_sip_reply_head(w, m, t->src, code, reason, NULL);
	switch (res) {
	case SPR_PRES_OK:
		if (t->etag != NULL) {
			SPR_WBUF_LIT(w, "SIP-ETag: ");
			spr_wbuf_put(w, t->etag, SPR_ETAG_LEN);
			SPR_WBUF_LIT(w, "\r\n");
		}
		SPR_WBUF_HDR_U32(w, "Expires", t->expires);
		break;
	case SPR_PRES_TOO_BRIEF:
		SPR_WBUF_HDR_U32(w, "Min-Expires", t->ctx->reg->min_expires);
		break;
	case SPR_PRES_BAD_EVENT:
		SPR_WBUF_LIT(w, "Allow-Events: presence\r\n");
		break;
	case SPR_PRES_MEDIA_TYPE:
		SPR_WBUF_LIT(w, "Accept: application/pidf+xml\r\n");
		break;
	case SPR_PRES_UNSUPPORTED:
		SPR_WBUF_HDR_STR(w, "Unsupported", unsupported);
		break;
	default:
		break;
	}
	spr_sip_reply_tail(w, t->ctx->reply, t->now, NULL);
	if (res != SPR_PRES_REPLY_TOO_LARGE &&
	    spr_sip_reply_fallback(w, start, m, t->src, NULL, t->ctx->reply, t->now,
				   spr_pres_result_reason(SPR_PRES_REPLY_TOO_LARGE)))
		res = SPR_PRES_REPLY_TOO_LARGE;
	t->ctx->cnt->result[res]++;
	if (res == SPR_PRES_PIDF_REJECTED && t->fault < SPR_PIDF__COUNT)
		t->ctx->cnt->pidf_fault[t->fault]++;
	return res;
}

/* The live publication of r whose entity-tag is etag, or -1 (RFC 3903 §6 step 4). */
static int
find_pub(const struct spr_record *r, const struct spr_str *etag, uint32_t now)
{
	const struct spr_presentity *pr;

	if (r == NULL || etag->len != SPR_ETAG_LEN)
		return -1;
	pr = spr_rec_presentity(r);
	for (uint32_t i = 0; i < r->n; i++)
		if (pr->p[i].expires_at > now && memcmp(pr->p[i].etag, etag->p, SPR_ETAG_LEN) == 0)
			return (int)i;
	return -1;
}

/*
 * The live publications of t->old, oldest change first, into t->p; the one
 * at old index skip is left out (-1: none). Returns how many expired ones
 * were left out too.
 */
static uint32_t
keep_live(struct pres_txn *t, int skip)
{
	const struct spr_presentity *pr;
	uint32_t expired = 0;

	t->n = 0;
	if (t->old == NULL)
		return 0;
	pr = spr_rec_presentity(t->old);
	for (uint32_t i = 0; i < t->old->n && t->n < SPR_PRES_PUBS_MAX; i++) {
		const struct spr_publication *p = &pr->p[i];

		if (p->expires_at <= t->now->sec) {
			expired++;
			continue;
		}
		if ((int)i == skip)
			continue;
		t->p[t->n] =
			(struct pend_pub){spr_rec_status(t->old, p), p->status.len, p->expires_at};
		memcpy(t->p[t->n].etag, p->etag, SPR_ETAG_LEN);
		t->n++;
	}
	return expired;
}

/* The presentity record of t->p[0..n). NULL: -E2BIG (past SPR_RECORD_MAX) or -ENOMEM in *err. */
static struct spr_record *
build_record(struct pres_txn *t, uint32_t version, int *err)
{
	uint32_t fixed =
		(uint32_t)(sizeof(struct spr_presentity) + t->n * sizeof(struct spr_publication));
	uint32_t start = (uint32_t)sizeof(struct spr_record) + fixed, off = start + t->aor.len;
	struct spr_presentity *pr;
	struct spr_record *r;

	for (uint32_t i = 0; i < t->n; i++)
		off = align8(off) + t->p[i].status_len;
	if (off > SPR_RECORD_MAX) {
		*err = -E2BIG;
		return NULL;
	}
	r = spr_loc_alloc(t->ctx->shard, SPR_REC_PRESENTITY, (uint16_t)t->n, fixed, off - start);
	if (r == NULL) {
		*err = -ENOMEM;
		return NULL;
	}
	r->hash = t->hash;
	r->aor = (struct spr_ref){(uint16_t)start, (uint16_t)t->aor.len};
	memcpy((char *)r + start, t->aor.p, t->aor.len);
	off = start + t->aor.len;
	pr = spr_rec_presentity_w(r);
	pr->version = version;
	for (uint32_t i = 0; i < t->n; i++) {
		struct spr_publication *p = &pr->p[i];

		off = align8(off);
		memcpy((char *)r + off, t->p[i].status, t->p[i].status_len);
		p->expires_at = t->p[i].expires_at;
		memcpy(p->etag, t->p[i].etag, SPR_ETAG_LEN);
		p->status = (struct spr_ref){(uint16_t)off, (uint16_t)t->p[i].status_len};
		off += t->p[i].status_len;
	}
	return r;
}

static uint64_t
domain_hash(const struct pres_txn *t)
{
	struct spr_str d = spr_aor_domain(&t->aor);

	return spr_domain_hash(&d);
}

/*
 * Publish t->p as the presentity's record (none when empty), all or nothing.
 * state_changed: what watchers see changed, so the version moves on.
 * 0, -E2BIG, -ENOMEM or the store's error.
 */
static int
commit(struct pres_txn *t, bool state_changed)
{
	struct spr_loc_shard *s = t->ctx->shard;
	struct spr_record *nrec;
	uint32_t version, first = UINT32_MAX;
	int rc = 0;

	if (t->n == 0) {
		rc = t->old != NULL ? spr_loc_publish(s, t->old, NULL) : 0;
		if (rc == 0 && t->old != NULL && t->ctx->changed != NULL)
			*t->ctx->changed = (struct spr_pres_change){.hash = t->hash,
								    .domain_hash = domain_hash(t),
								    .version = 0,
								    .set = 1};
		return rc;
	}
	version = state_changed || t->old == NULL ? spr_loc_next_generation(s)
						  : spr_rec_presentity(t->old)->version;
	if ((nrec = build_record(t, version, &rc)) == NULL)
		return rc;
	for (uint32_t i = 0; i < t->n; i++)
		if (t->p[i].expires_at < first)
			first = t->p[i].expires_at;
	spr_rec_arm(t->ctx->arm, t->old, nrec, first, t->now->sec);
	rc = spr_loc_publish(s, t->old, nrec);
	if (rc != 0)
		spr_loc_record_free(s, nrec);
	else if (state_changed && t->ctx->changed != NULL)
		*t->ctx->changed = (struct spr_pres_change){.hash = t->hash,
							    .domain_hash = domain_hash(t),
							    .version = version,
							    .set = 1};
	return rc;
}

static enum spr_pres_result
commit_result(int rc)
{
	switch (rc) {
	case 0:
		return SPR_PRES_OK;
	case -E2BIG:
		return SPR_PRES_TOO_LARGE;
	case -ENOMEM:
		return SPR_PRES_NO_MEMORY;
	default:
		/* only a second writer could get here: refuse rather than lose state */
		return SPR_PRES_STORE_CONFLICT;
	}
}

static uint32_t
expires_at(uint32_t now, uint32_t e)
{
	return e > UINT32_MAX - now ? UINT32_MAX : now + e;
}

/*
 * RFC 3903 §6 steps 7-8: store the publication under a new entity-tag.
 * match: the old record's publication the SIP-If-Match named (-1: initial);
 * st: the new status (NULL: a refresh keeps the stored one).
 */
static enum spr_pres_result
apply(struct pres_txn *t, int match, const struct spr_pidf_status *st, struct spr_wbuf *w)
{
	const struct spr_pres_ctx *ctx = t->ctx;
	uint32_t max = ctx->cfg->max_publications < SPR_PRES_PUBS_MAX ? ctx->cfg->max_publications
								      : SPR_PRES_PUBS_MAX;
	uint32_t expired, at = expires_at(t->now->sec, t->expires);
	struct pend_pub *np;
	char etag[SPR_ETAG_LEN];
	int rc;

	if (max == 0)
		max = 1;
	make_etag(ctx, etag);
	if (st == NULL) {
		/* refresh: same status, same place, new tag and expiry */
		const struct spr_presentity *pr = spr_rec_presentity(t->old);

		expired = keep_live(t, -1);
		for (uint32_t i = 0; i < t->n; i++) {
			if (memcmp(t->p[i].etag, pr->p[match].etag, SPR_ETAG_LEN) == 0) {
				t->p[i].expires_at = at;
				memcpy(t->p[i].etag, etag, SPR_ETAG_LEN);
				break;
			}
		}
		rc = commit(t, expired != 0);
		if (rc == 0)
			ctx->cnt->pubs_refreshed++;
	} else {
		/* initial or modify: the newest change goes last (spr_pidf_compose: oldest first)
		 */
		expired = keep_live(t, match);
		while (t->n >= max) {
			memmove(&t->p[0], &t->p[1], (t->n - 1) * sizeof(t->p[0]));
			t->n--;
			ctx->cnt->pubs_dropped_oldest++;
		}
		np = &t->p[t->n++];
		np->status = st;
		np->status_len = status_size(st);
		np->expires_at = at;
		memcpy(np->etag, etag, SPR_ETAG_LEN);
		rc = commit(t, true);
		if (rc == 0 && match < 0)
			ctx->cnt->pubs_added++;
		else if (rc == 0)
			ctx->cnt->pubs_modified++;
	}
	ctx->cnt->pubs_expired += rc == 0 ? expired : 0;
	if (rc != 0)
		return reply(t, commit_result(rc), NULL, w);
	t->etag = etag;
	return reply(t, SPR_PRES_OK, NULL, w);
}

/* RFC 3903 §4.5: Expires 0 with SIP-If-Match removes that publication. */
static enum spr_pres_result
remove_pub(struct pres_txn *t, int match, struct spr_wbuf *w)
{
	uint32_t expired = keep_live(t, match);
	int rc = commit(t, true);

	if (rc != 0)
		return reply(t, commit_result(rc), NULL, w);
	t->ctx->cnt->pubs_removed++;
	t->ctx->cnt->pubs_expired += expired;
	return reply(t, SPR_PRES_OK, NULL, w);
}

enum spr_pres_result
spr_pres_handle(const struct spr_pres_ctx *ctx, const struct spr_sip_msg *m,
		const struct spr_peer *src, const struct spr_now *now,
		const struct spr_pres_verdict *v, struct spr_wbuf *out)
{
	const struct spr_reg_cfg *reg = ctx->reg;
	char aor[SPR_REG_AOR_MAX];
	struct spr_str unknown;
	struct pres_txn t;
	uint32_t e;
	int alen, match = -1;

	t.ctx = ctx;
	t.m = m;
	t.src = src;
	t.now = now;
	t.old = NULL;
	t.n = 0;
	t.etag = NULL;
	t.expires = 0;
	t.fault = SPR_PIDF_OK;

	/* step 2: the Request-URI is a presentity of a domain we serve */
	if (m->ruri.scheme_id != SPR_URI_SIP && m->ruri.scheme_id != SPR_URI_SIPS)
		return reply(&t, SPR_PRES_RURI_SCHEME, NULL, out);
	if (!spr_reg_domain_served(reg, &m->ruri.host))
		return reply(&t, SPR_PRES_DOMAIN_NOT_SERVED, NULL, out);
	/* RFC 3261 §8.2.2.3: PUBLISH supports no extension */
	if (spr_sip_hlist_first_unknown(&m->require, NULL, 0, &unknown))
		return reply(&t, SPR_PRES_UNSUPPORTED, &unknown, out);
	alen = spr_pres_aor(m, aor, sizeof(aor));
	if (alen == -ENOSPC)
		return reply(&t, SPR_PRES_AOR_TOO_LONG, NULL, out);
	if (alen < 0)
		return reply(&t, SPR_PRES_NOT_PRESENTITY, NULL, out);
	/* step 3: the event package (RFC 3903 §4.1, RFC 3856) */
	if (!SPR_STR_CASEEQ_LIT(&m->event, "presence"))
		return reply(&t, SPR_PRES_BAD_EVENT, NULL, out);
	t.aor = (struct spr_str){aor, (uint32_t)alen};
	t.hash = spr_loc_hash(&t.aor);
	t.old = spr_pres_lookup(ctx->shard, &t.aor, t.hash);

	/* step 4: SIP-If-Match names a live publication; without one, a body is needed */
	if (m->sip_if_match.len != 0) {
		match = find_pub(t.old, &m->sip_if_match, now->sec);
		if (match < 0)
			return reply(&t, SPR_PRES_UNKNOWN_ETAG, NULL, out);
	} else if (m->body.len == 0) {
		return reply(&t, SPR_PRES_NO_BODY_NO_MATCH, NULL, out);
	}

	/* step 5: expiry, with the registrar's limits */
	e = m->has_expires ? m->expires : ctx->cfg->default_expires;
	if (e != 0 && e < reg->min_expires)
		return reply(&t, SPR_PRES_TOO_BRIEF, NULL, out);
	if (e > reg->max_expires)
		e = reg->max_expires;
	t.expires = e;
	if (e == 0) {
		/* an initial publication that expires at once stores nothing */
		if (match < 0)
			return reply(&t, SPR_PRES_OK, NULL, out);
		return remove_pub(&t, match, out);
	}

	/* step 6: the body, application/pidf+xml only; its XML is checked on control */
	if (m->body.len != 0) {
		if (!SPR_STR_CASEEQ_LIT(&m->media_type, "application/pidf+xml"))
			return reply(&t, SPR_PRES_MEDIA_TYPE, NULL, out);
		if (v == NULL) {
			ctx->cnt->result[SPR_PRES_PIDF_CHECK]++;
			return SPR_PRES_PIDF_CHECK;
		}
		if (v->fault != SPR_PIDF_OK || v->status == NULL) {
			t.fault = v->fault != SPR_PIDF_OK ? v->fault : SPR_PIDF_NO_MEMORY;
			return reply(&t, SPR_PRES_PIDF_REJECTED, NULL, out);
		}
		return apply(&t, match, v->status, out);
	}
	return apply(&t, match, NULL, out);
}

uint32_t
spr_pres_expire(const struct spr_pres_ctx *ctx, uint64_t hash, uint32_t now)
{
	const struct spr_record *recs[4];
	struct spr_now n = {.sec = now};
	uint32_t nrecs = spr_loc_lookup_hash_kind(ctx->shard, SPR_REC_PRESENTITY, hash, recs, 4);
	uint32_t removed = 0;
	struct pres_txn t = {.ctx = ctx, .now = &n, .hash = hash};

	for (uint32_t k = 0; k < nrecs; k++) {
		uint32_t expired, first = UINT32_MAX, at;

		t.old = recs[k];
		t.aor = spr_rec_str(recs[k], recs[k]->aor);
		expired = keep_live(&t, -1);
		for (uint32_t i = 0; i < t.n; i++)
			if (t.p[i].expires_at < first)
				first = t.p[i].expires_at;
		if (expired == 0) {
			/* refreshed since the timer was armed, or a timer left behind */
			at = first;
		} else if (commit(&t, true) != 0) {
			/* out of memory: try again in a second rather than keep them forever */
			at = now + 1;
		} else {
			removed += expired;
			continue;
		}
		if (at != UINT32_MAX)
			spr_rec_rearm(ctx->arm, recs[k], at, now);
	}
	ctx->cnt->pubs_expired += removed;
	return removed;
}

void
spr_pres_registration_changed(const struct spr_pres_ctx *ctx, const struct spr_reg_change *ch,
			      uint32_t now)
{
	const struct spr_record *recs[4];
	uint32_t n, version = 0;

	if (!ch->set || ctx->cfg->mode != SPR_PRES_MODE_B2BUA)
		return;
	/* by hash, as watchers and control know a presentity; a collision only masks */
	n = spr_loc_lookup_hash_kind(ctx->shard, SPR_REC_PRESENTITY, ch->hash, recs, 4);
	for (uint32_t k = 0; k < n; k++) {
		const struct spr_presentity *pr = spr_rec_presentity(recs[k]);

		version = pr->version;
		for (uint32_t i = 0; i < recs[k]->n; i++) {
			if (pr->p[i].expires_at > now) {
				ctx->cnt->auto_masked++;
				return;
			}
		}
	}
	if (ch->registered)
		ctx->cnt->auto_open++;
	else
		ctx->cnt->auto_closed++;
	if (ctx->changed != NULL)
		*ctx->changed = (struct spr_pres_change){.hash = ch->hash,
							 .domain_hash = ch->domain_hash,
							 .version = version,
							 .set = 1};
}
