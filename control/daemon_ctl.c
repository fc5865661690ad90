/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The JSON-RPC methods sprctl calls: ul.lookup, ul.dump, ul.rm,
 * presence.show, presence.watchers, presence.buddies, stats.
 * Context: the control thread, a registered QSBR reader, online while a
 * method runs (records read here are valid until it returns).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <jemalloc/jemalloc.h>

#include "buddies.h"
#include "ctl.h"
#include "daemon.h"
#include "notify.h"
#include "pidf.h"
#include "ul_json.h"

/*
 * An operator's AOR ("alice@example.com", "sip:alice@example.com", …)
 * normalised as the registrar does. Bytes written, or -1.
 */
static int
aor_from_text(const char *text, char *out, uint32_t cap)
{
	char uri[512];
	struct spr_sip_uri u;
	int n;

	if (strncmp(text, "sip:", 4) == 0 || strncmp(text, "sips:", 5) == 0)
		n = snprintf(uri, sizeof(uri), "%s", text);
	else
		n = snprintf(uri, sizeof(uri), "sip:%s", text);
	if (n <= 0 || (size_t)n >= sizeof(uri) || spr_sip_uri_parse(uri, (uint32_t)n, &u) != 0)
		return -1;
	return spr_sip_aor_normalize(&u, out, cap);
}

static json_t *
invalid(struct spr_ctl_error *err, const char *msg)
{
	err->code = SPR_CTL_INVALID_PARAMS;
	snprintf(err->message, sizeof(err->message), "%s", msg);
	return NULL;
}

static json_t *
m_ul_lookup(void *arg, json_t *params, struct spr_ctl_error *err)
{
	struct sprd *d = arg;
	const char *text = json_string_value(json_object_get(params, "aor"));
	char aor[SPR_REG_AOR_MAX];
	struct spr_str a;
	const struct spr_record *r;
	uint64_t h;
	int n;

	if (text == NULL)
		return invalid(err, "params.aor (string) is required");
	if ((n = aor_from_text(text, aor, sizeof(aor))) <= 0)
		return invalid(err, "params.aor is not a SIP address-of-record (user@domain)");
	a = (struct spr_str){aor, (uint32_t)n};
	h = spr_loc_hash(&a);
	r = spr_loc_lookup(d->shard[spr_worker_owner(h, d->n_workers)], &a, h);
	if (r == NULL)
		return json_pack("{s:s%,s:[]}", "aor", aor, (size_t)n, "bindings");
	return spr_ul_record_json(r, d->clock_sec, false);
}

struct dump_ctx {
	json_t *list;
	uint32_t now;
	bool brief;
};

static void
dump_one(const struct spr_record *r, void *arg)
{
	struct dump_ctx *dc = arg;

	json_array_append_new(dc->list, spr_ul_record_json(r, dc->now, dc->brief));
}

static json_t *
m_ul_dump(void *arg, json_t *params, struct spr_ctl_error *err)
{
	struct sprd *d = arg;
	struct dump_ctx dc = {json_array(), d->clock_sec,
			      json_is_true(json_object_get(params, "brief"))};

	for (uint16_t i = 0; i < d->n_workers; i++)
		spr_loc_walk(d->shard[i], dump_one, &dc);
	return json_pack("{s:I,s:o}", "aors", (json_int_t)json_array_size(dc.list), "records",
			 dc.list);
}

static json_t *
m_ul_rm(void *arg, json_t *params, struct spr_ctl_error *err)
{
	struct sprd *d = arg;
	const char *text = json_string_value(json_object_get(params, "aor"));
	const char *contact = json_string_value(json_object_get(params, "contact"));
	struct spr_ul_req req;
	struct spr_str a;
	int n, rc;

	if (text == NULL)
		return invalid(err, "params.aor (string) is required");
	if ((n = aor_from_text(text, req.aor, sizeof(req.aor))) <= 0)
		return invalid(err, "params.aor is not a SIP address-of-record (user@domain)");
	req.aor_len = (uint32_t)n;
	req.contact_len = 0;
	if (contact != NULL) {
		size_t cl = strlen(contact);

		if (cl >= sizeof(req.contact))
			return invalid(err, "params.contact is too long");
		memcpy(req.contact, contact, cl);
		req.contact_len = (uint32_t)cl;
	}
	a = (struct spr_str){req.aor, req.aor_len};
	rc = spr_daemon_run_ul_req(d, &req, spr_loc_hash(&a));
	if (rc == 0 && req.result >= 0)
		return json_pack("{s:s%,s:i}", "aor", req.aor, (size_t)req.aor_len, "removed",
				 req.result);
	err->code = SPR_CTL_SERVER_ERROR;
	if (rc != 0)
		snprintf(err->message, sizeof(err->message), "the owner worker did not answer: %s",
			 strerror(-rc));
	else if (req.result == -ENOENT)
		spr_ctl_error_set(err, SPR_CTL_NOT_FOUND, "no such binding");
	else if (req.result == -EINVAL)
		snprintf(err->message, sizeof(err->message), "params.contact is not a URI");
	else
		snprintf(err->message, sizeof(err->message), "%s", strerror(-req.result));
	return NULL;
}

static json_t *subs_stats(const struct sprd *d);

/* --- presence.show: a presentity's publications, composed state and document --- */

static json_t *
pidf_json_str(const struct spr_pidf_status *st, struct spr_pidf_ref r)
{
	return r.len != 0 ? spr_ul_json_string(st->text + r.off, r.len) : json_null();
}

static json_t *
pidf_status_json(const struct spr_pidf_status *st)
{
	static const char *const basic[] = {"none", "open", "closed"};
	struct spr_pidf_state ps;
	json_t *tuples = json_array();

	spr_pidf_status_to_state(st, &ps);
	for (uint32_t i = 0; i < st->n_tuples; i++) {
		const struct spr_pidf_tuple *t = &st->tuples[i];

		json_array_append_new(tuples, json_pack("{s:o,s:s,s:o,s:o,s:o}", "id",
							pidf_json_str(st, t->id), "basic",
							basic[t->basic <= 2 ? t->basic : 0],
							"contact", pidf_json_str(st, t->contact),
							"note", pidf_json_str(st, t->note),
							"device", pidf_json_str(st, t->device)));
	}
	return json_pack("{s:s,s:o,s:o}", "state", spr_presence_state_name(ps.state), "note",
			 ps.note.len != 0 ? spr_ul_json_string(ps.note.p, ps.note.len)
					  : json_null(),
			 "tuples", tuples);
}

/*
 * Nothing published: in b2bua mode the state comes from registrations
 * (automatic presence): available with a live binding, else offline.
 */
static json_t *
auto_state(const struct sprd *d, json_t *out, const struct spr_str *aor, uint64_t h)
{
	const struct spr_record *b;
	bool reg = false;

	if (d->cfg.pres.mode != SPR_PRES_MODE_B2BUA)
		return out;
	b = spr_loc_lookup(d->shard[spr_worker_owner(h, d->n_workers)], aor, h);
	for (uint32_t i = 0; b != NULL && i < b->n; i++)
		reg |= spr_binding_alive(&b->b[i], d->clock_sec);
	json_object_set_new(out, "state", json_string(reg ? "available" : "offline"));
	json_object_set_new(out, "automatic", json_true());
	return out;
}

static json_t *
m_presence_show(void *arg, json_t *params, struct spr_ctl_error *err)
{
	struct sprd *d = arg;
	const char *text = json_string_value(json_object_get(params, "aor"));
	const struct spr_pidf_status *pubs[SPR_PRES_PUBS_MAX];
	const struct spr_presentity *pr;
	const struct spr_record *r;
	struct spr_pidf_status *all = NULL;
	char aor[SPR_REG_AOR_MAX], entity[SPR_REG_AOR_MAX + 4], *doc = NULL;
	json_t *list, *out = NULL;
	struct spr_str a;
	uint32_t now = d->clock_sec, n = 0;
	uint64_t h;
	int len;

	if (text == NULL)
		return invalid(err, "params.aor (string) is required");
	if ((len = aor_from_text(text, aor, sizeof(aor))) <= 0)
		return invalid(err, "params.aor is not a SIP address-of-record (user@domain)");
	a = (struct spr_str){aor, (uint32_t)len};
	h = spr_loc_hash(&a);
	r = spr_loc_lookup_kind(d->shard[spr_worker_owner(h, d->n_workers)], SPR_REC_PRESENTITY, &a,
				h);
	list = json_array();
	if (r == NULL)
		return auto_state(d, json_pack("{s:s%,s:o}", "aor", aor, (size_t)len, "publications",
					       list),
				  &a, h);
	pr = spr_rec_presentity(r);
	for (uint32_t i = 0; i < r->n; i++) {
		const struct spr_publication *p = &pr->p[i];
		const struct spr_pidf_status *st = spr_rec_status(r, p);
		json_t *pj;

		if (p->expires_at <= now)
			continue; /* expired: hidden at once, removed by the owner's timer */
		pubs[n++] = st;
		pj = pidf_status_json(st);
		json_object_set_new(pj, "etag", json_stringn(p->etag, SPR_ETAG_LEN));
		json_object_set_new(pj, "expires", json_integer(p->expires_at - now));
		json_array_append_new(list, pj);
	}
	out = json_pack("{s:s%,s:I,s:o}", "aor", aor, (size_t)len, "version",
			(json_int_t)pr->version, "publications", list);
	if (n == 0)
		return auto_state(d, out, &a, h);
	/* what a watcher will be sent: the composed view as one document (DESIGN §5) */
	all = malloc(sizeof(*all));
	doc = malloc(SPR_PIDF_TEXT_MAX * 4);
	snprintf(entity, sizeof(entity), "sip:%.*s", len, aor);
	if (all != NULL && doc != NULL && spr_pidf_compose(pubs, n, all) == 0) {
		json_t *composed = pidf_status_json(all);
		struct spr_str ent = {entity, (uint32_t)strlen(entity)};
		int dl = spr_pidf_build(all, &ent, doc, SPR_PIDF_TEXT_MAX * 4);

		json_object_set_new(out, "state", json_incref(json_object_get(composed, "state")));
		json_object_set_new(out, "note", json_incref(json_object_get(composed, "note")));
		json_decref(composed);
		if (dl > 0)
			json_object_set_new(out, "document", json_stringn(doc, (size_t)dl));
	}
	free(all);
	free(doc);
	return out;
}

/* --- stats: per-worker counters summed on read (one writer each) --- */

static void
put(json_t *o, const char *name, uint64_t v)
{
	json_object_set_new(o, name, json_integer((json_int_t)v));
}

static json_t *
m_stats(void *arg, json_t *params, struct spr_ctl_error *err)
{
	struct sprd *d = arg;
	json_t *sip = json_object(), *faults = json_object(), *reg = json_object();
	json_t *results = json_object(), *io = json_object(), *wk = json_object();
	json_t *loc = json_object(), *ctl = json_object(), *ctl_io = json_object();
	json_t *pres = json_object(), *pres_results = json_object(), *pidf = json_object();
	struct spr_loc_stats tot = {0};

#define SUM(expr)                                                                                  \
	({                                                                                         \
		uint64_t s_ = 0;                                                                   \
		for (uint16_t i_ = 0; i_ < d->n_workers; i_++) {                                   \
			const struct spr_worker *w = d->w[i_];                                     \
			s_ += (expr);                                                              \
		}                                                                                  \
		s_;                                                                                \
	})
#define X(n) put(sip, #n, SUM(w->proc->cnt.n));
	SPR_FOREACH_PROC_COUNTER(X)
#undef X
	for (int e = 1; e < SPR_SIP_ERR__COUNT; e++) {
		uint64_t v = SUM(w->proc->cnt.parse_err[e]);

		if (v != 0)
			put(faults, spr_sip_err_name((enum spr_sip_err)e), v);
	}
	for (int r = 0; r < SPR_REG__COUNT; r++)
		put(results, spr_reg_result_name((enum spr_reg_result)r),
		    SUM(w->proc->cnt.reg.result[r]));
	put(reg, "bindings_added", SUM(w->proc->cnt.reg.bindings_added));
	put(reg, "bindings_refreshed", SUM(w->proc->cnt.reg.bindings_refreshed));
	put(reg, "refreshed_in_place", SUM(w->proc->cnt.reg.refreshed_in_place));
	put(reg, "bindings_removed", SUM(w->proc->cnt.reg.bindings_removed));
	put(reg, "bindings_expired", SUM(w->proc->cnt.reg.bindings_expired));
	put(reg, "bindings_dropped_oldest", SUM(w->proc->cnt.reg.bindings_dropped_oldest));
	put(reg, "bindings_removed_by_operator",
	    SUM(w->proc->cnt.reg.bindings_removed_by_operator));
	put(reg, "retransmissions", SUM(w->proc->cnt.reg.retransmissions));
	put(reg, "fetches", SUM(w->proc->cnt.reg.fetches));
	json_object_set_new(reg, "results", results);
	for (int r = 0; r < SPR_PRES__COUNT; r++)
		put(pres_results, spr_pres_result_name((enum spr_pres_result)r),
		    SUM(w->proc->cnt.pres.result[r]));
	for (int f = 1; f < SPR_PIDF__COUNT; f++) {
		uint64_t v = SUM(w->proc->cnt.pres.pidf_fault[f]);

		if (v != 0)
			put(pidf, spr_pidf_fault_name((enum spr_pidf_fault)f), v);
	}
	put(pres, "publications_added", SUM(w->proc->cnt.pres.pubs_added));
	put(pres, "publications_refreshed", SUM(w->proc->cnt.pres.pubs_refreshed));
	put(pres, "publications_modified", SUM(w->proc->cnt.pres.pubs_modified));
	put(pres, "publications_removed", SUM(w->proc->cnt.pres.pubs_removed));
	put(pres, "publications_expired", SUM(w->proc->cnt.pres.pubs_expired));
	put(pres, "publications_dropped_oldest", SUM(w->proc->cnt.pres.pubs_dropped_oldest));
	put(pres, "auto_open", SUM(w->proc->cnt.pres.auto_open));
	put(pres, "auto_closed", SUM(w->proc->cnt.pres.auto_closed));
	put(pres, "auto_masked", SUM(w->proc->cnt.pres.auto_masked));
	json_object_set_new(pres, "results", pres_results);
	json_object_set_new(pres, "pidf_faults", pidf);
#define X(n) put(io, #n, SUM(w->io->cnt.n));
	SPR_FOREACH_IO_COUNTER(X)
#undef X
#define X(n) put(wk, #n, SUM(w->cnt.n));
	SPR_FOREACH_WORKER_COUNTER(X)
#undef X
	/* the io NOTIFYs leave by: this thread's own, read here */
#define X(n) put(ctl_io, #n, d->ctl_io != NULL ? d->ctl_io->cnt.n : 0);
	SPR_FOREACH_IO_COUNTER(X)
#undef X
#undef SUM
#define X(n) put(ctl, #n, d->cnt.n);
	SPR_FOREACH_CONTROL_COUNTER(X)
#undef X
	for (uint16_t i = 0; i < d->n_workers; i++) {
		struct spr_loc_stats st;

		spr_loc_stats_get(d->shard[i], &st);
		tot.aors += st.aors;
		tot.bindings += st.bindings;
		tot.bytes += st.bytes;
		tot.presentities += st.presentities;
		tot.publications += st.publications;
		tot.presence_bytes += st.presence_bytes;
		tot.frees_deferred += st.frees_deferred;
		tot.frees += st.frees;
		tot.cached_bytes += st.cached_bytes;
		tot.batches += st.batches;
	}
	put(loc, "aors", tot.aors);
	put(loc, "bindings", tot.bindings);
	put(loc, "record_bytes", tot.bytes);
	put(loc, "records_retired", tot.frees_deferred);
	put(loc, "records_freed", tot.frees);
	put(loc, "retire_batches", tot.batches);
	put(loc, "cached_bytes", tot.cached_bytes);
	put(pres, "presentities", tot.presentities);
	put(pres, "publications", tot.publications);
	put(pres, "record_bytes", tot.presence_bytes);
	put(ctl, "timers_pending", spr_exp_count(&d->exp));
	put(ctl, "timers_lost", d->exp.lost);
	return json_pack("{s:i,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "workers", d->n_workers,
			 "sip", sip, "parse_faults", faults, "registrar", reg, "location", loc,
			 "presence", pres, "subscriptions", subs_stats(d), "io", io, "workers_loop",
			 wk, "control", ctl, "control_io", ctl_io);
}

/*
 * --- mem.stats: where the memory goes (docs/benchmarks.md "Memory per binding"):
 * jemalloc's totals, per shard its records, hint array and arena (bytes per
 * size class), and the expiry calendar ---
 */

static uint64_t
je_size(const char *name)
{
	size_t v = 0, sz = sizeof(v);

	return mallctl(name, &v, &sz, NULL, 0) == 0 ? (uint64_t)v : 0;
}

static json_t *
arena_stats(unsigned arena)
{
	json_t *o = json_object(), *classes = json_array();
	unsigned nbins = 0;
	size_t sz = sizeof(nbins);
	char name[96];

	snprintf(name, sizeof(name), "stats.arenas.%u.small.allocated", arena);
	put(o, "small_allocated", je_size(name));
	snprintf(name, sizeof(name), "stats.arenas.%u.large.allocated", arena);
	put(o, "large_allocated", je_size(name));
	snprintf(name, sizeof(name), "stats.arenas.%u.pactive", arena);
	put(o, "active", je_size(name) * je_size("arenas.page"));
	/* the small size classes in use: class size, regions live, bytes */
	mallctl("arenas.nbins", &nbins, &sz, NULL, 0);
	for (unsigned b = 0; b < nbins; b++) {
		uint64_t size, regs;

		snprintf(name, sizeof(name), "stats.arenas.%u.bins.%u.curregs", arena, b);
		regs = je_size(name);
		if (regs == 0)
			continue;
		snprintf(name, sizeof(name), "arenas.bin.%u.size", b);
		size = je_size(name);
		json_array_append_new(classes, json_pack("{s:I,s:I,s:I}", "size", (json_int_t)size,
							 "regions", (json_int_t)regs, "bytes",
							 (json_int_t)(size * regs)));
	}
	json_object_set_new(o, "classes", classes);
	return o;
}

static json_t *
m_mem_stats(void *arg, json_t *params, struct spr_ctl_error *err)
{
	struct sprd *d = arg;
	json_t *je = json_object(), *shards = json_array(), *exp = json_object();
	uint64_t epoch = 1;
	size_t esz = sizeof(epoch);

	(void)params;
	(void)err;
	/* jemalloc's statistics are a snapshot taken at the last epoch */
	mallctl("epoch", &epoch, &esz, &epoch, esz);
	put(je, "allocated", je_size("stats.allocated"));
	put(je, "active", je_size("stats.active"));
	put(je, "metadata", je_size("stats.metadata"));
	put(je, "resident", je_size("stats.resident"));
	put(je, "mapped", je_size("stats.mapped"));
	put(je, "retained", je_size("stats.retained"));
	for (uint16_t i = 0; i < d->n_workers; i++) {
		struct spr_loc_stats st;
		json_t *o = json_object();

		spr_loc_stats_get(d->shard[i], &st);
		put(o, "aors", st.aors);
		put(o, "bindings", st.bindings);
		put(o, "record_bytes", st.bytes);
		put(o, "presence_bytes", st.presence_bytes);
		put(o, "subs_bytes", st.subs_bytes);
		put(o, "cached_bytes", st.cached_bytes);
		put(o, "hint_bytes", st.hint_bytes);
		json_object_set_new(o, "arena", arena_stats(st.arena));
		json_array_append_new(shards, o);
	}
	put(exp, "entries", spr_exp_count(&d->exp));
	put(exp, "blocks", d->exp.blocks);
	put(exp, "bytes", d->exp.blocks * sizeof(struct spr_exp_block) +
				  SPR_EXP_KINDS * SPR_EXP_SLOTS * sizeof(struct spr_exp_block *));
	return json_pack("{s:o,s:o,s:o}", "jemalloc", je, "shards", shards, "expiry", exp);
}

/* --- presence.watchers: a presentity's subscriptions as the NOTIFY engine holds them --- */

static json_t *
m_presence_watchers(void *arg, json_t *params, struct spr_ctl_error *err)
{
	struct sprd *d = arg;
	const char *text = json_string_value(json_object_get(params, "aor"));
	char aor[SPR_REG_AOR_MAX];
	struct spr_str a;
	int len;

	if (text == NULL)
		return invalid(err, "params.aor (string) is required");
	if ((len = aor_from_text(text, aor, sizeof(aor))) <= 0)
		return invalid(err, "params.aor is not a SIP address-of-record (user@domain)");
	a = (struct spr_str){aor, (uint32_t)len};
	return json_pack("{s:s%,s:o}", "aor", aor, (size_t)len, "watchers",
			 spr_notify_watchers_json(d->notify, spr_loc_hash(&a), d->clock_sec));
}

/*
 * --- presence.buddies: the registered users of an AOR's domain with their
 * state (docs/operations.md). At most params.limit of them (default and
 * ceiling below); "truncated" says when there are more. The walk visits
 * every bindings record, like ul.dump.
 */
#define BUDDIES_LIMIT_DEFAULT 100u
#define BUDDIES_LIMIT_MAX 10000u

/* Automatic presence (--mode b2bua): registered and nothing published shows available. */
static bool
automatic_presence(const struct sprd *d)
{
	return d->cfg.pres.mode == SPR_PRES_MODE_B2BUA;
}

static json_t *
buddy_json(const struct sprd *d, const struct spr_buddy *b, struct spr_pidf_status *scratch)
{
	struct spr_str aor = {b->aor, b->aor_len};
	struct spr_pidf_state ps;
	enum spr_buddy_source src =
		spr_buddy_state(d->shard[spr_worker_owner(b->hash, d->n_workers)], &aor, b->hash,
				d->clock_sec, automatic_presence(d), scratch, &ps);

	return json_pack("{s:o,s:s,s:o,s:o,s:s,s:i}", "aor", spr_ul_json_string(b->aor, b->aor_len),
			 "state", spr_presence_state_name(ps.state), "note",
			 ps.note.len != 0 ? spr_ul_json_string(ps.note.p, ps.note.len)
					  : json_null(),
			 "custom",
			 ps.state == SPR_PRESENCE_CUSTOM && ps.custom.len != 0
				 ? spr_ul_json_string(ps.custom.p, ps.custom.len)
				 : json_null(),
			 "source", spr_buddy_source_name(src), "bindings", (int)b->bindings);
}

static json_t *
m_presence_buddies(void *arg, json_t *params, struct spr_ctl_error *err)
{
	struct sprd *d = arg;
	const char *text = json_string_value(json_object_get(params, "aor"));
	json_t *lim = json_object_get(params, "limit"), *list, *out;
	struct spr_pidf_status *scratch;
	struct spr_buddy *b;
	char aor[SPR_REG_AOR_MAX];
	struct spr_str a, domain;
	uint32_t limit = BUDDIES_LIMIT_DEFAULT, total;
	int len;

	if (text == NULL)
		return invalid(err, "params.aor (string) is required");
	if ((len = aor_from_text(text, aor, sizeof(aor))) <= 0)
		return invalid(err, "params.aor is not a SIP address-of-record (user@domain)");
	if (lim != NULL) {
		if (!json_is_integer(lim) || json_integer_value(lim) < 1 ||
		    json_integer_value(lim) > BUDDIES_LIMIT_MAX)
			return invalid(err, "params.limit must be an integer from 1 to 10000");
		limit = (uint32_t)json_integer_value(lim);
	}
	a = (struct spr_str){aor, (uint32_t)len};
	domain = spr_aor_domain(&a);
	b = malloc(limit * sizeof(*b));
	scratch = malloc(sizeof(*scratch));
	if (b == NULL || scratch == NULL) {
		free(b);
		free(scratch);
		spr_ctl_error_set(err, SPR_CTL_SERVER_ERROR, "out of memory");
		return NULL;
	}
	total = spr_buddies_list(d->shard, d->n_workers, &domain, d->clock_sec, b, limit);
	list = json_array();
	for (uint32_t i = 0; i < total && i < limit; i++)
		json_array_append_new(list, buddy_json(d, &b[i], scratch));
	out = json_pack("{s:s%,s:o,s:I,s:I,s:b,s:o}", "aor", aor, (size_t)len, "domain",
			spr_ul_json_string(domain.p, domain.len), "registered", (json_int_t)total,
			"limit", (json_int_t)limit, "truncated", total > limit, "buddies", list);
	free(b);
	free(scratch);
	return out;
}

/* Subscription and NOTIFY counters (stats.subscriptions). */
static json_t *
subs_stats(const struct sprd *d)
{
	json_t *o = json_object(), *results = json_object();
	const struct spr_notify_counters *nc = spr_notify_counters(d->notify);
	uint64_t subs, in_flight;

#define SUM(f)                                                                                     \
	({                                                                                         \
		uint64_t s_ = 0;                                                                   \
		for (uint16_t i_ = 0; i_ < d->n_workers; i_++)                                     \
			s_ += d->w[i_]->proc->cnt.subs.f;                                          \
		s_;                                                                                \
	})
	for (int r = 0; r < SPR_SUBS__COUNT; r++)
		json_object_set_new(results, spr_subs_result_name((enum spr_subs_result)r),
				    json_integer((json_int_t)SUM(result[r])));
	json_object_set_new(o, "results", results);
	json_object_set_new(o, "created", json_integer((json_int_t)SUM(created)));
	json_object_set_new(o, "list_created", json_integer((json_int_t)SUM(list_created)));
	json_object_set_new(o, "refreshed", json_integer((json_int_t)SUM(refreshed)));
	json_object_set_new(o, "retransmissions", json_integer((json_int_t)SUM(retransmissions)));
	json_object_set_new(o, "unsubscribed", json_integer((json_int_t)SUM(unsubscribed)));
	json_object_set_new(o, "fetches", json_integer((json_int_t)SUM(fetches)));
	json_object_set_new(o, "fetches_done", json_integer((json_int_t)SUM(fetches_done)));
	json_object_set_new(o, "expired", json_integer((json_int_t)SUM(expired)));
	json_object_set_new(o, "removed", json_integer((json_int_t)SUM(removed)));
#undef SUM
	{
		uint64_t watched = 0, watchers = 0, bytes = 0;

		for (uint16_t i = 0; i < d->n_workers; i++) {
			struct spr_loc_stats st;

			spr_loc_stats_get(d->shard[i], &st);
			watched += st.watched;
			watchers += st.watchers;
			bytes += st.subs_bytes;
		}
		/* pages of up to SPR_SUBS_PAGE_MAX watchers: a watched presentity has one or more */
		json_object_set_new(o, "watcher_pages", json_integer((json_int_t)watched));
		json_object_set_new(o, "watchers", json_integer((json_int_t)watchers));
		json_object_set_new(o, "record_bytes", json_integer((json_int_t)bytes));
	}
	spr_notify_totals(d->notify, &subs, &in_flight);
	json_object_set_new(o, "engine_subscriptions", json_integer((json_int_t)subs));
	json_object_set_new(o, "notify_in_flight", json_integer((json_int_t)in_flight));
	spr_notify_list_totals(d->notify, &subs, &in_flight);
	json_object_set_new(o, "lists", json_integer((json_int_t)subs));
	json_object_set_new(o, "list_members", json_integer((json_int_t)in_flight));
#define X(n) json_object_set_new(o, #n, json_integer((json_int_t)nc->n));
	SPR_FOREACH_NOTIFY_COUNTER(X)
#undef X
	return o;
}

struct spr_ctl *
spr_daemon_ctl_open(struct sprd *d, char *err, size_t errlen)
{
	int e = 0;
	struct spr_ctl *ctl = spr_ctl_open(d->cfg.ctl_path, &e);

	if (ctl == NULL) {
		snprintf(err, errlen, "control socket %s: %s%s", d->cfg.ctl_path, strerror(-e),
			 e == -EADDRINUSE ? " (another sprd serves it; use --ctl PATH)" : "");
		return NULL;
	}
	if (spr_ctl_register(ctl, "ul.lookup", m_ul_lookup, d) != 0 ||
	    spr_ctl_register(ctl, "ul.dump", m_ul_dump, d) != 0 ||
	    spr_ctl_register(ctl, "ul.rm", m_ul_rm, d) != 0 ||
	    spr_ctl_register(ctl, "presence.show", m_presence_show, d) != 0 ||
	    spr_ctl_register(ctl, "presence.watchers", m_presence_watchers, d) != 0 ||
	    spr_ctl_register(ctl, "presence.buddies", m_presence_buddies, d) != 0 ||
	    spr_ctl_register(ctl, "stats", m_stats, d) != 0 ||
	    spr_ctl_register(ctl, "mem.stats", m_mem_stats, d) != 0) {
		snprintf(err, errlen, "cannot register control methods");
		spr_ctl_close(ctl);
		return NULL;
	}
	return ctl;
}
