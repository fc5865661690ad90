/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdlib.h>
#include <string.h>

#include "buddies.h"
#include "presence.h"

bool
spr_buddies_member(const struct spr_record *r, const struct spr_str *domain, uint32_t now)
{
	struct spr_str aor = spr_rec_str(r, r->aor), d = spr_aor_domain(&aor);

	if (!spr_str_eq(&d, domain))
		return false;
	for (uint32_t i = 0; i < r->n; i++)
		if (spr_binding_alive(&r->b[i], now))
			return true;
	return false;
}

struct walk_ctx {
	const struct spr_str *domain;
	uint32_t now;
	spr_loc_visit_fn fn;
	void *arg;
};

static void
walk_one(const struct spr_record *r, void *arg)
{
	struct walk_ctx *w = arg;

	if (spr_buddies_member(r, w->domain, w->now))
		w->fn(r, w->arg);
}

uint64_t
spr_buddies_walk(struct spr_loc_shard *const *shards, uint16_t n, const struct spr_str *domain,
		 uint32_t now, spr_loc_visit_fn fn, void *arg)
{
	struct walk_ctx w = {domain, now, fn, arg};
	uint64_t visited = 0;

	for (uint16_t i = 0; i < n; i++)
		visited += spr_loc_walk_kind(shards[i], SPR_REC_BINDINGS, walk_one, &w);
	return visited;
}

struct list_ctx {
	struct spr_buddy *out;
	uint32_t max, n, total, now;
};

static void
list_one(const struct spr_record *r, void *arg)
{
	struct list_ctx *l = arg;
	struct spr_str aor = spr_rec_str(r, r->aor);
	struct spr_buddy *b;

	l->total++;
	if (l->n >= l->max || aor.len > sizeof(b->aor))
		return;
	b = &l->out[l->n++];
	b->hash = r->hash;
	b->aor_len = (uint16_t)aor.len;
	memcpy(b->aor, aor.p, aor.len);
	b->bindings = 0;
	for (uint32_t i = 0; i < r->n; i++)
		b->bindings += spr_binding_alive(&r->b[i], l->now);
}

static int
buddy_cmp(const void *a, const void *b)
{
	const struct spr_buddy *x = a, *y = b;
	uint32_t n = x->aor_len < y->aor_len ? x->aor_len : y->aor_len;
	int c = memcmp(x->aor, y->aor, n);

	return c != 0 ? c : (int)x->aor_len - (int)y->aor_len;
}

uint32_t
spr_buddies_list(struct spr_loc_shard *const *shards, uint16_t n, const struct spr_str *domain,
		 uint32_t now, struct spr_buddy *out, uint32_t max)
{
	struct list_ctx l = {out, max, 0, 0, now};

	spr_buddies_walk(shards, n, domain, now, list_one, &l);
	qsort(out, l.n, sizeof(*out), buddy_cmp);
	return l.total;
}

const char *
spr_buddy_source_name(enum spr_buddy_source s)
{
	static const char *const names[] = {"none", "automatic", "published"};

	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "none";
}

enum spr_buddy_source
spr_buddy_state(const struct spr_loc_shard *owner, const struct spr_str *aor, uint64_t hash,
		uint32_t now, bool automatic, struct spr_pidf_status *scratch,
		struct spr_pidf_state *out)
{
	const struct spr_pidf_status *pubs[SPR_PRES_PUBS_MAX];
	const struct spr_record *r = spr_loc_lookup_kind(owner, SPR_REC_PRESENTITY, aor, hash);
	uint32_t np = 0;

	if (r != NULL) {
		const struct spr_presentity *pr = spr_rec_presentity(r);

		for (uint32_t i = 0; i < r->n && np < SPR_PRES_PUBS_MAX; i++)
			if (pr->p[i].expires_at > now)
				pubs[np++] = spr_rec_status(r, &pr->p[i]);
	}
	if (np != 0 && spr_pidf_compose(pubs, np, scratch) == 0) {
		spr_pidf_status_to_state(scratch, out);
		return SPR_BUDDY_PUBLISHED;
	}
	memset(out, 0, sizeof(*out));
	out->state = automatic ? SPR_PRESENCE_AVAILABLE : SPR_PRESENCE_OFFLINE;
	return automatic ? SPR_BUDDY_AUTOMATIC : SPR_BUDDY_NONE;
}
