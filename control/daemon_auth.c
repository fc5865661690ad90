/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The auth worker (DESIGN §6): see daemon_auth.h. Verification costs tens of
 * microseconds (RSA, ECDSA) and allocates (jansson, OpenSSL), so it runs
 * here and never on a worker; a worker only hashes the token and reads the
 * cache. The decision for the request (scope, user) is made here too, with
 * the same function the worker uses on a hit (spr_auth_sip_decide), so an
 * AUTH_RESULT is final even when its entry was not cached (exp inside the
 * clock-skew grace) or was evicted before the worker read it: no loop.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>
#include <urcu-qsbr.h>

#include "ctl.h"
#include "daemon.h"
#include "daemon_auth.h"
#include "jwks.h"
#include "jwt_verify.h"
#include "sip_auth.h"
#include "token_cache.h"

#define SPR_FOREACH_AUTH_CTL_COUNTER(X)                                                            \
	X(verified)         /* tokens verified for the workers */                                 \
	X(coalesced)        /* misses answered from the cache: verified while this one queued */ \
	X(key_errors)       /* the hasher failed: verdict not cached */                           \
	X(result_ring_full) /* the owner's ring was full: dropped, the client retransmits */     \
	X(reloads)          /* JWK Set reloads that took effect (cache flushed) */                \
	X(reload_failures)  /* reloads refused: the old set stays */

struct spr_daemon_auth {
	struct spr_jwt_keys *keys;
	struct spr_token_cache *cache;
	struct spr_token_hasher *hasher;		     /* control's */
	struct spr_token_hasher *w_hasher[SPR_WORKERS_MAX]; /* one per worker */
	struct spr_sip_limits lim;
	struct spr_sip_msg msg; /* the request of the token being verified */
	struct {
#define X(n) uint64_t n;
		SPR_FOREACH_AUTH_CTL_COUNTER(X)
#undef X
		uint64_t verdict[SPR_JWT__COUNT];
		uint64_t result[SPR_AUTH__COUNT];
	} cnt;
};

/*
 * An out-of-line user the cache stopped pointing to: workers (QSBR readers)
 * may be copying it, so it is freed after a grace period.
 */
_Static_assert(sizeof(struct rcu_head) <= sizeof(((struct spr_token_ext *)0)->reclaim),
	       "an ext's reclaim room holds an rcu_head");

static void
token_ext_free_cb(struct rcu_head *head)
{
	spr_token_ext_free((struct spr_token_ext *)((char *)head -
						      offsetof(struct spr_token_ext, reclaim)));
}

static void
token_ext_retire(struct spr_token_ext *t)
{
	urcu_qsbr_call_rcu((struct rcu_head *)(void *)t->reclaim, token_ext_free_cb);
}

int
spr_daemon_auth_load(struct sprd *d, char *err, size_t errlen)
{
	const struct spr_auth_cfg *cfg = &d->cfg.auth;
	char why[256];
	int rc;

	if (!cfg->enabled)
		return 0;
	d->auth = calloc(1, sizeof(*d->auth));
	if (d->auth == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	rc = spr_jwks_load(cfg->jwks_path, cfg->allow_hmac, &d->auth->keys, why, sizeof(why));
	if (rc != 0) {
		snprintf(err, errlen, "--jwks %s: %s", cfg->jwks_path, why);
		return rc;
	}
	if (spr_jwks_count(d->auth->keys) == 0) {
		snprintf(err, errlen, "--jwks %s: no usable key", cfg->jwks_path);
		return -EINVAL;
	}
	return 0;
}

int
spr_daemon_auth_start(struct sprd *d, char *err, size_t errlen)
{
	struct spr_daemon_auth *a = d->auth;
	const struct spr_auth_cfg *cfg = &d->cfg.auth;

	if (a == NULL)
		return 0;
	spr_sip_limits_default(&a->lim);
	a->cache = spr_token_cache_new(cfg->token_cache_size, cfg->neg_ttl, cfg->pos_ttl,
				       token_ext_retire);
	a->hasher = spr_token_hasher_new();
	if (a->cache == NULL || a->hasher == NULL)
		goto nomem;
	for (uint16_t i = 0; i < d->n_workers; i++) {
		struct spr_proc_ctx *c = d->w[i]->proc;

		a->w_hasher[i] = spr_token_hasher_new();
		if (a->w_hasher[i] == NULL)
			goto nomem;
		c->auth_hooks = spr_token_cache_hooks(a->cache, a->w_hasher[i]);
		c->auth_cfg = cfg;
	}
	return 0;
nomem:
	snprintf(err, errlen, "out of memory creating the token cache of %u entries",
		 cfg->token_cache_size);
	return -ENOMEM;
}

void
spr_daemon_auth_needed(struct sprd *d, const struct spr_ring_msg *req)
{
	struct spr_daemon_auth *a = d->auth;
	const struct spr_auth_cfg *cfg = &d->cfg.auth;
	struct rte_mbuf *mb = req->ptr;
	const struct spr_pkt *p = rte_mbuf_to_priv(mb);
	const char *tok = p->data + req->body.off;
	struct spr_ring_msg res = {.type = SPR_MSG_AUTH_RESULT, .worker = req->worker, .ptr = mb};
	struct spr_token_hit hit = {0};
	int64_t now = d->clock_sec;
	enum spr_auth_result r;
	int v;

	/*
	 * A burst of one token (a flood of a bad one, or a client's retransmissions)
	 * misses on the workers until the first verdict is cached; those queued
	 * behind it are answered from the cache here, so it is verified once.
	 */
	if (spr_token_cache_get(a->cache, a->hasher, tok, req->body.len, now, &hit) == 0) {
		a->cnt.coalesced++;
	} else {
		memset(&hit, 0, sizeof(hit));
		v = spr_jwt_verify(a->keys, cfg, tok, req->body.len, now, &hit.claims);
		hit.verdict = (uint8_t)v;
		a->cnt.verified++;
		a->cnt.verdict[(unsigned)v < SPR_JWT__COUNT ? v : SPR_JWT_INTERNAL]++;
		/* the server's own faults are not the token's: never remembered */
		if (v != SPR_JWT_NO_KEYS && v != SPR_JWT_INTERNAL) {
			if (spr_token_cache_put(a->cache, a->hasher, tok, req->body.len, v,
						&hit.claims, now) == -EIO)
				a->cnt.key_errors++;
		}
	}
	/* the worker parsed this datagram already: it parses again the same way */
	if (spr_sip_parse(p->data, p->len, &a->lim, &a->msg) < 0)
		r = SPR_AUTH_ERROR;
	else
		r = spr_auth_sip_decide(cfg, &a->msg, &hit);
	a->cnt.result[r]++;
	res.at = spr_auth_result_pack(r, hit.verdict);
	if (rte_ring_sp_enqueue_elem(d->w[req->worker]->from_ctl, &res, sizeof(res)) != 0) {
		a->cnt.result_ring_full++;
		rte_pktmbuf_free(mb);
	}
}

int
spr_daemon_auth_reload(struct sprd *d, char *why, size_t whylen)
{
	struct spr_daemon_auth *a = d->auth;
	const struct spr_auth_cfg *cfg = &d->cfg.auth;
	int rc;

	if (a == NULL) {
		snprintf(why, whylen, "authentication is off (--auth none)");
		return -ENOTSUP;
	}
	rc = spr_jwks_reload(&a->keys, cfg->jwks_path, cfg->allow_hmac, why, whylen);
	if (rc != 0) {
		a->cnt.reload_failures++;
		return rc;
	}
	/* a key that left the set must not keep its tokens valid */
	spr_token_cache_flush(a->cache);
	a->cnt.reloads++;
	return 0;
}

static void
put(json_t *o, const char *name, uint64_t v)
{
	json_object_set_new(o, name, json_integer((json_int_t)v));
}

static json_t *
m_auth_stats(void *arg, json_t *params, struct spr_ctl_error *err)
{
	struct sprd *d = arg;
	struct spr_daemon_auth *a = d->auth;
	struct spr_token_cache_stats cs;
	json_t *wk = json_object(), *wres = json_object(), *wfail = json_object();
	json_t *ctl = json_object(), *cres = json_object(), *cver = json_object();
	json_t *cache = json_object();

#define SUM(field)                                                                                 \
	({                                                                                         \
		uint64_t s_ = 0;                                                                   \
		for (uint16_t i_ = 0; i_ < d->n_workers; i_++)                                     \
			s_ += d->w[i_]->proc->cnt.auth.field;                                      \
		s_;                                                                                \
	})
	put(wk, "hits", SUM(hits));
	put(wk, "hits_negative", SUM(hits_negative));
	put(wk, "misses", SUM(misses));
	put(wk, "key_errors", SUM(key_errors));
	put(wk, "results_applied", SUM(results));
	put(wk, "ring_full", SUM(ring_full));
	for (int r = 0; r < SPR_AUTH__COUNT; r++)
		put(wres, spr_auth_result_name((enum spr_auth_result)r), SUM(result[r]));
	for (int v = 1; v < SPR_JWT__COUNT; v++) {
		uint64_t n = SUM(verdict[v]);

		if (n != 0)
			put(wfail, spr_jwt_verdict_name(v), n);
	}
#undef SUM
	json_object_set_new(wk, "results", wres);
	json_object_set_new(wk, "failures", wfail);
	if (a != NULL) {
#define X(n) put(ctl, #n, a->cnt.n);
		SPR_FOREACH_AUTH_CTL_COUNTER(X)
#undef X
		for (int r = 0; r < SPR_AUTH__COUNT; r++)
			put(cres, spr_auth_result_name((enum spr_auth_result)r), a->cnt.result[r]);
		for (int v = 0; v < SPR_JWT__COUNT; v++)
			put(cver, spr_jwt_verdict_name(v), a->cnt.verdict[v]);
		spr_token_cache_stats(a->cache, &cs);
		put(cache, "capacity", spr_token_cache_capacity(a->cache));
		put(cache, "inserts", cs.inserts);
		put(cache, "replaced", cs.replaced);
		put(cache, "evicted", cs.evicted);
		put(cache, "dropped_negative", cs.dropped_negative);
		put(cache, "not_cached", cs.not_cached);
		put(cache, "flushes", cs.flushes);
		put(cache, "ext_bytes", cs.ext_bytes);
	}
	json_object_set_new(ctl, "results", cres);
	json_object_set_new(ctl, "verdicts", cver);
	return json_pack("{s:s,s:I,s:o,s:o,s:o}", "auth", a != NULL ? "bearer" : "none", "keys",
			 a != NULL ? (json_int_t)spr_jwks_count(a->keys) : 0, "workers", wk,
			 "control", ctl, "cache", cache);
}

static json_t *
m_auth_reload(void *arg, json_t *params, struct spr_ctl_error *err)
{
	struct sprd *d = arg;
	char why[256];
	int rc = spr_daemon_auth_reload(d, why, sizeof(why));

	if (rc != 0) {
		spr_log(d, 0, "auth.reload: %s: %s", d->cfg.auth.jwks_path ? d->cfg.auth.jwks_path
									 : "-", why);
		spr_ctl_error_set(err, SPR_CTL_SERVER_ERROR, "%s", why);
		return NULL;
	}
	spr_log(d, 2, "auth.reload: %u key(s) from %s, token cache flushed",
		spr_jwks_count(d->auth->keys), d->cfg.auth.jwks_path);
	return json_pack("{s:I}", "keys", (json_int_t)spr_jwks_count(d->auth->keys));
}

int
spr_daemon_auth_ctl_register(struct sprd *d, struct spr_ctl *ctl)
{
	if (spr_ctl_register(ctl, "auth.stats", m_auth_stats, d) != 0 ||
	    spr_ctl_register(ctl, "auth.reload", m_auth_reload, d) != 0)
		return -ENOMEM;
	return 0;
}

void
spr_daemon_auth_free(struct sprd *d)
{
	struct spr_daemon_auth *a = d->auth;

	if (a == NULL)
		return;
	for (uint16_t i = 0; i < SPR_WORKERS_MAX; i++)
		spr_token_hasher_free(a->w_hasher[i]);
	spr_token_hasher_free(a->hasher);
	spr_token_cache_free(a->cache);
	spr_jwks_free(a->keys);
	free(a);
	d->auth = NULL;
}
