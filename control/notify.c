/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <rte_ring.h>
#include <rte_ring_elem.h>

#include <spr/location.h>

#include "buddies.h"
#include "lcore.h"
#include "notify.h"
#include "pidf.h"
#include "rlmi.h"
#include "subscribe.h"
#include "timer_wheel.h"

#define NOTIFY_TICK_MS 10u
#define NOTIFY_FIRE_BUDGET 4096u
#define NOTIFY_MAX 65535u /* bytes of one NOTIFY (the io refuses what its mbufs cannot hold) */
#define DOC_MAX 32768u
#define URI_MAX (4u + 3u * SPR_REG_AOR_MAX) /* "sip:" + an AOR with every byte escaped */
#define LIST_PARTIAL_MAX 8u /* members a partial list NOTIFY carries; more changed: full state */

/* --- a small chained hash table of 64-bit keys (control-private, grows by doubling) --- */

struct hnode {
	struct hnode *next;
	uint64_t key;
};

struct htab {
	struct hnode **b;
	uint64_t mask;
	uint64_t n;
};

static inline uint64_t
hmix(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	return k;
}

static int
ht_init(struct htab *t, uint64_t size)
{
	t->b = calloc(size, sizeof(*t->b));
	t->mask = size - 1;
	t->n = 0;
	return t->b != NULL ? 0 : -ENOMEM;
}

static struct hnode *
ht_find(const struct htab *t, uint64_t key)
{
	for (struct hnode *h = t->b[hmix(key) & t->mask]; h != NULL; h = h->next)
		if (h->key == key)
			return h;
	return NULL;
}

static void
ht_add(struct htab *t, struct hnode *node)
{
	struct hnode **slot;

	if (t->n > t->mask) {
		uint64_t size = (t->mask + 1) * 2;
		struct hnode **nb = calloc(size, sizeof(*nb));

		if (nb != NULL) {
			/* rehash: bounded by the table, on the control thread, rare */
			for (uint64_t i = 0; i <= t->mask; i++) {
				for (struct hnode *h = t->b[i], *next; h != NULL; h = next) {
					next = h->next;
					h->next = nb[hmix(h->key) & (size - 1)];
					nb[hmix(h->key) & (size - 1)] = h;
				}
			}
			free(t->b);
			t->b = nb;
			t->mask = size - 1;
		}
	}
	slot = &t->b[hmix(node->key) & t->mask];
	node->next = *slot;
	*slot = node;
	t->n++;
}

static void
ht_del(struct htab *t, struct hnode *node)
{
	for (struct hnode **pp = &t->b[hmix(node->key) & t->mask]; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == node) {
			*pp = node->next;
			t->n--;
			return;
		}
	}
}

/* --- state --- */

struct link {
	struct link *next, *prev;
};

static inline void
link_init(struct link *l)
{
	l->next = l->prev = l;
}

static inline void
link_add_tail(struct link *head, struct link *l)
{
	l->prev = head->prev;
	l->next = head;
	head->prev->next = l;
	head->prev = l;
}

static inline void
link_del(struct link *l)
{
	l->prev->next = l->next;
	l->next->prev = l->prev;
	l->next = l->prev = l;
}

static inline bool
link_linked(const struct link *l)
{
	return l->next != l;
}

#define CONTAINER(p, type, member) ((type *)(void *)((char *)(p)-offsetof(type, member)))

struct nlist;

/*
 * A watched presentity, or a member of a buddy list: its watchers here, its
 * current document and the list it is in. Freed when it has neither.
 */
struct npres {
	struct hnode h; /* key: presentity hash */
	uint16_t owner;
	uint32_t aor_len;
	char aor[SPR_REG_AOR_MAX];
	struct link subs;
	uint32_t n_subs;
	uint8_t doc_ok;
	uint8_t doc_auto; /* the document is automatic presence: registered, nothing published */
	uint32_t doc_version; /* of the presentity record; 0: none (closed document) */
	uint32_t doc_len;
	char *doc;
	struct nlist *list; /* the buddy list it is a member of; NULL: none */
	struct link in_list;
};

/*
 * A buddy list: the registered users of one domain, for the list
 * subscriptions to sip:buddies@DOMAIN (docs/architecture.md "Buddy lists").
 * Members are read from the shards once (a walk) when the first list
 * subscription of the domain arrives, then kept by LIST_MEMBER messages.
 */
struct nlist {
	struct hnode h; /* key: spr_domain_hash of the domain */
	uint32_t domain_len;
	char domain[SPR_REG_AOR_MAX];
	struct link members; /* struct npres, in_list */
	uint32_t n_members;
	struct link subs; /* struct nsub, in_list */
	uint32_t n_subs;
	uint8_t truncated; /* registered users were left out (max_list_members) */
	uint8_t rewalk;	   /* cut, and a member left: read the shards again before the next body */
};

enum { TM_NONE, TM_TX, TM_THROTTLE };

/*
 * A dialog that holds several subscriptions (different Event ids, RFC 6665
 * §4.1.2): their NOTIFYs share one CSeq space (RFC 3261 §12.2.1.1) and go
 * one at a time, so the subscriber never sees the dialog's CSeq go back.
 * Subscriptions alone in their dialog have none.
 */
struct ndialog {
	uint32_t cseq; /* of the last NOTIFY sent in the dialog */
	uint32_t refs;
	uint8_t busy;  /* one of them has a NOTIFY in flight */
};

/* One subscription: the dialog (copied from the owner's record), CSeq and transaction. */
struct nsub {
	struct hnode h; /* key: subscription id */
	struct npres *pres;
	struct link in_pres;
	struct link ready; /* linked: waits in the send queue */
	struct spr_tw_timer t;
	uint8_t timer_mode;
	uint8_t dirty;	    /* a NOTIFY is owed */
	uint8_t urgent;	    /* owed at once (initial, refresh, final): no throttle */
	uint8_t ending;	    /* 0, or 1 + enum spr_subs_reason: the next NOTIFY is the final one */
	uint8_t in_flight;  /* a transaction runs */
	uint8_t final_sent; /* the NOTIFY in flight is the final one */
	uint32_t cseq;	    /* of the last NOTIFY sent */
	uint32_t expires_at;
	uint32_t sent_version, last_version; /* document of the NOTIFY in flight / last one 2xx'd */
	uint64_t last_sent_ms, tx_start_ms;
	uint32_t rto_ms;
	struct spr_peer dst;
	struct spr_l2_hop hop; /* dst's link-layer next hop (dpdk), from the SUBSCRIBE's frame */
	struct ndialog *dlg;   /* shared with the dialog's other subscriptions; NULL: alone */
	char to_tag[SPR_WATCHER_TAG_LEN];
	struct spr_str s[SPR_WS__COUNT]; /* into blob */
	char *blob;
	char *pkt; /* the NOTIFY in flight, for retransmissions */
	uint32_t pkt_len;
	struct nlist *list; /* a list subscription's list; NULL: a presentity's */
	struct link in_list;
	uint32_t rlmi_version; /* RFC 4662 §5.2: of the next list NOTIFY, from 0 */
	uint8_t list_full;     /* the next list NOTIFY is full state */
	uint8_t n_changed;     /* else these members changed since the last one (partial) */
	uint64_t changed[LIST_PARTIAL_MAX];
};

struct spr_notify {
	struct spr_notify_cfg cfg;
	struct spr_io *io;
	struct spr_tw tw;
	struct htab subs, pres, lists;
	uint64_t n_members;	       /* of every list */
	struct spr_rlmi_resource *res; /* list body scratch: [max_list_members] */
	char *uris;		       /* their URIs: [max_list_members][URI_MAX] */
	char *body;		       /* list body scratch: [NOTIFY_MAX] */
	struct link ready;
	uint64_t now_ms;
	uint64_t in_flight;
	struct spr_pidf_status *all; /* compose scratch */
	char *doc;		     /* build scratch */
	char *out;		     /* NOTIFY scratch */
	char via_host[64];	     /* "IP:PORT" ("[v6]:PORT") */
	struct spr_sip_limits lim;
	struct spr_sip_msg msg; /* responses read on our own io */
	uint32_t via_host_len;
	struct spr_notify_counters cnt;
};

struct spr_notify *
spr_notify_create(const struct spr_notify_cfg *cfg, struct spr_io *io, uint64_t now_ms)
{
	struct spr_notify *n = calloc(1, sizeof(*n));
	char a[48];
	uint32_t al;

	if (n == NULL)
		return NULL;
	n->cfg = *cfg;
	n->io = io;
	n->now_ms = now_ms;
	link_init(&n->ready);
	spr_sip_limits_default(&n->lim);
	spr_tw_init(&n->tw, now_ms, NOTIFY_TICK_MS);
	if (n->cfg.max_datagram == 0 || n->cfg.max_datagram > NOTIFY_MAX)
		n->cfg.max_datagram = NOTIFY_MAX;
	n->all = malloc(sizeof(*n->all));
	n->doc = malloc(DOC_MAX);
	n->out = malloc(NOTIFY_MAX);
	n->body = malloc(NOTIFY_MAX);
	n->res = calloc(cfg->max_list_members + 1u, sizeof(*n->res));
	n->uris = malloc(((size_t)cfg->max_list_members + 1u) * URI_MAX);
	if (n->all == NULL || n->doc == NULL || n->out == NULL || n->body == NULL ||
	    n->res == NULL || n->uris == NULL || ht_init(&n->subs, 1024) != 0 ||
	    ht_init(&n->pres, 1024) != 0 || ht_init(&n->lists, 64) != 0) {
		spr_notify_destroy(n);
		return NULL;
	}
	al = spr_peer_format(&cfg->local, a, sizeof(a));
	if (cfg->local.family == AF_INET6)
		n->via_host_len = (uint32_t)snprintf(n->via_host, sizeof(n->via_host), "[%.*s]:%u",
						     (int)al, a, cfg->local.port);
	else
		n->via_host_len = (uint32_t)snprintf(n->via_host, sizeof(n->via_host), "%.*s:%u",
						     (int)al, a, cfg->local.port);
	return n;
}

static void
pres_free(struct spr_notify *n, struct npres *p)
{
	ht_del(&n->pres, &p->h);
	free(p->doc);
	free(p);
}

/* p lost a watcher or its list: free it when it has neither. */
static void
pres_release(struct spr_notify *n, struct npres *p)
{
	if (p->n_subs == 0 && p->list == NULL)
		pres_free(n, p);
}

static void
member_unlink(struct spr_notify *n, struct npres *p)
{
	link_del(&p->in_list);
	p->list->n_members--;
	n->n_members--;
	p->list = NULL;
}

/* The last list subscription of l ended: forget the list and release its members. */
static void
list_free(struct spr_notify *n, struct nlist *l)
{
	while (link_linked(&l->members)) {
		struct npres *p = CONTAINER(l->members.next, struct npres, in_list);

		member_unlink(n, p);
		pres_release(n, p);
	}
	if (n->cfg.lists != NULL)
		spr_list_filter_del(n->cfg.lists, l->h.key);
	ht_del(&n->lists, &l->h);
	free(l);
}

/*
 * s's transaction ended: in a shared dialog the others may send now; those
 * that owe a NOTIFY go back to the send queue (bounded: the presentity's
 * watchers).
 */
static void
tx_done(struct spr_notify *n, struct nsub *s)
{
	s->in_flight = 0;
	n->in_flight--;
	if (s->dlg == NULL)
		return;
	s->dlg->busy = 0;
	for (struct link *l = s->pres->subs.next; l != &s->pres->subs; l = l->next) {
		struct nsub *o = CONTAINER(l, struct nsub, in_pres);

		if (o != s && o->dlg == s->dlg && o->dirty && !link_linked(&o->ready))
			link_add_tail(&n->ready, &o->ready);
	}
}

static void
sub_free(struct spr_notify *n, struct nsub *s)
{
	struct nlist *l = s->list;

	spr_tw_cancel(&n->tw, &s->t);
	if (link_linked(&s->ready))
		link_del(&s->ready);
	if (s->in_flight)
		tx_done(n, s);
	link_del(&s->in_pres);
	if (s->dlg != NULL && --s->dlg->refs == 0)
		free(s->dlg);
	s->pres->n_subs--;
	pres_release(n, s->pres); /* a member of l stays until l goes */
	if (l != NULL) {
		link_del(&s->in_list);
		if (--l->n_subs == 0)
			list_free(n, l);
	}
	ht_del(&n->subs, &s->h);
	free(s->blob);
	free(s->pkt);
	free(s);
}

void
spr_notify_destroy(struct spr_notify *n)
{
	if (n == NULL)
		return;
	for (uint64_t i = 0; n->subs.b != NULL && i <= n->subs.mask; i++)
		while (n->subs.b[i] != NULL)
			sub_free(n, CONTAINER(n->subs.b[i], struct nsub, h));
	free(n->subs.b);
	free(n->pres.b);
	free(n->lists.b);
	free(n->all);
	free(n->doc);
	free(n->out);
	free(n->body);
	free(n->res);
	free(n->uris);
	free(n);
}

const struct spr_notify_counters *
spr_notify_counters(const struct spr_notify *n)
{
	return &n->cnt;
}

void
spr_notify_totals(const struct spr_notify *n, uint64_t *subs, uint64_t *in_flight)
{
	*subs = n->subs.n;
	*in_flight = n->in_flight;
}

void
spr_notify_list_totals(const struct spr_notify *n, uint64_t *lists, uint64_t *members)
{
	*lists = n->lists.n;
	*members = n->n_members;
}

static struct nsub *
sub_find(const struct spr_notify *n, uint64_t id)
{
	struct hnode *h = ht_find(&n->subs, id);

	return h != NULL ? CONTAINER(h, struct nsub, h) : NULL;
}

/*
 * The watcher id of presentity hash in its owner's pages (every page of the
 * hash; bounded by max_watchers). Context: QSBR online.
 */
static const struct spr_watcher *
store_watcher(const struct spr_notify *n, uint64_t hash, uint64_t id, uint16_t owner,
	      const struct spr_record **rec)
{
	const struct spr_record *recs[SPR_SUBS_RECS_MAX];
	uint32_t nr;

	if (owner >= n->cfg.n_workers)
		return NULL;
	nr = spr_loc_lookup_hash_kind(n->cfg.shards[owner], SPR_REC_SUBS, hash, recs,
				      SPR_SUBS_RECS_MAX);
	for (uint32_t k = 0; k < nr; k++) {
		const struct spr_watcher *ws = spr_rec_watchers(recs[k]);

		for (uint32_t i = 0; i < recs[k]->n; i++) {
			if (ws[i].id == id) {
				*rec = recs[k];
				return &ws[i];
			}
		}
	}
	return NULL;
}

/* Copy the dialog of w (in r) into s: a refresh may have changed target and source. */
static int
sub_copy(struct nsub *s, const struct spr_record *r, const struct spr_watcher *w)
{
	uint32_t len = 0, off = 0;
	char *blob;

	for (uint32_t k = 0; k < SPR_WS__COUNT; k++)
		len += w->s[k].len;
	blob = malloc(len + 1);
	if (blob == NULL)
		return -ENOMEM;
	for (uint32_t k = 0; k < SPR_WS__COUNT; k++) {
		struct spr_str v = spr_rec_str(r, w->s[k]);

		memcpy(blob + off, v.p, v.len);
		s->s[k] = (struct spr_str){blob + off, v.len};
		off += v.len;
	}
	free(s->blob);
	s->blob = blob;
	s->expires_at = w->expires_at;
	memcpy(s->to_tag, w->to_tag, sizeof(s->to_tag));
	memset(&s->dst, 0, sizeof(s->dst));
	s->dst.family = w->src_family;
	s->dst.port = w->src_port;
	memcpy(s->dst.addr, w->src_addr, sizeof(s->dst.addr));
	return 0;
}

/* The next hop of the SUBSCRIBE that created or refreshed s (its dst's), when the worker saw it. */
static void
sub_hop(struct nsub *s, const struct spr_ring_msg *msg)
{
	s->hop.valid = (msg->kind & SPR_MSG_HOP_VALID) != 0;
	if (!s->hop.valid)
		return;
	memcpy(s->hop.mac, msg->hop.mac, 6);
	s->hop.vlan_tci = msg->hop.vlan_tci;
	s->hop.vlan = (msg->kind & SPR_MSG_HOP_VLAN) != 0;
}

static void
make_ready(struct spr_notify *n, struct nsub *s)
{
	s->dirty = 1;
	if (!link_linked(&s->ready))
		link_add_tail(&n->ready, &s->ready);
}

/* Ask s's owner to drop the watcher from its store. */
static void
send_remove(struct spr_notify *n, const struct nsub *s)
{
	struct spr_ring_msg msg = {.type = SPR_MSG_SUB_REMOVE,
				   .worker = s->pres->owner,
				   .hash = s->pres->h.key,
				   .sub_id = s->h.key};

	if (rte_ring_sp_enqueue_elem(n->cfg.to_worker[s->pres->owner], &msg, sizeof(msg)) == 0)
		n->cnt.sub_remove_sent++;
	else
		n->cnt.sub_remove_ring_full++;
}

/* The engine's entry for presentity hash (owner, aor), made when missing; NULL: no memory. */
static struct npres *
pres_get(struct spr_notify *n, uint64_t hash, uint16_t owner, const struct spr_str *aor)
{
	struct hnode *ph = ht_find(&n->pres, hash);
	struct npres *p;

	if (ph != NULL)
		return CONTAINER(ph, struct npres, h);
	p = calloc(1, sizeof(*p));
	if (p == NULL || aor->len > sizeof(p->aor)) {
		free(p);
		return NULL;
	}
	p->h.key = hash;
	p->owner = owner;
	memcpy(p->aor, aor->p, aor->len);
	p->aor_len = aor->len;
	link_init(&p->subs);
	link_init(&p->in_list);
	ht_add(&n->pres, &p->h);
	return p;
}

/* --- buddy lists: the registered users of a domain (docs/architecture.md "Buddy lists") --- */

static struct nlist *
list_find(const struct spr_notify *n, uint64_t dh)
{
	struct hnode *h = ht_find(&n->lists, dh);

	return h != NULL ? CONTAINER(h, struct nlist, h) : NULL;
}

/*
 * l's membership changed: every list subscription of l owes a full-state
 * NOTIFY (the throttle applies). Bounded: max_watchers list subscriptions.
 */
static void
list_changed(struct spr_notify *n, struct nlist *l)
{
	for (struct link *k = l->subs.next; k != &l->subs; k = k->next) {
		struct nsub *s = CONTAINER(k, struct nsub, in_list);

		s->list_full = 1;
		make_ready(n, s);
	}
}

/*
 * Member p's presence changed: every list subscription of its list owes a
 * NOTIFY carrying p (partial state, RFC 4662 §5.2), or full state when more
 * than LIST_PARTIAL_MAX members wait.
 */
static void
list_member_changed(struct spr_notify *n, struct npres *p)
{
	struct nlist *l = p->list;

	for (struct link *k = l->subs.next; k != &l->subs; k = k->next) {
		struct nsub *s = CONTAINER(k, struct nsub, in_list);
		uint32_t i;

		for (i = 0; i < s->n_changed && s->changed[i] != p->h.key; i++)
			;
		if (i == s->n_changed) {
			if (s->n_changed < LIST_PARTIAL_MAX)
				s->changed[s->n_changed++] = p->h.key;
			else
				s->list_full = 1;
		}
		make_ready(n, s);
	}
}

/* Make the registered user of record r (a bindings record of l's domain) a member. */
static bool
member_add(struct spr_notify *n, struct nlist *l, const struct spr_record *r)
{
	struct spr_str aor = spr_rec_str(r, r->aor);
	struct hnode *ph = ht_find(&n->pres, r->hash);
	struct npres *p;

	if (ph != NULL && CONTAINER(ph, struct npres, h)->list == l)
		return false;
	if (l->n_members >= n->cfg.max_list_members) {
		l->truncated = 1;
		n->cnt.list_members_cut++;
		return false;
	}
	p = pres_get(n, r->hash, spr_worker_owner(r->hash, n->cfg.n_workers), &aor);
	if (p == NULL || p->list != NULL)
		return false;
	p->list = l;
	link_add_tail(&l->members, &p->in_list);
	l->n_members++;
	n->n_members++;
	n->cnt.list_members_added++;
	return true;
}

static void
walk_one(const struct spr_record *r, void *arg)
{
	struct spr_notify *n = ((void **)arg)[0];

	member_add(n, ((void **)arg)[1], r);
}

/*
 * Read l's members from every shard. Context: QSBR online; holds back grace
 * periods while it runs (every bindings record of every shard is visited).
 */
static void
list_walk(struct spr_notify *n, struct nlist *l)
{
	struct spr_str d = {l->domain, l->domain_len};
	void *arg[2] = {n, l};

	l->truncated = 0;
	l->rewalk = 0;
	spr_buddies_walk(n->cfg.shards, n->cfg.n_workers, &d, (uint32_t)(n->now_ms / 1000u),
			 walk_one, arg);
	n->cnt.list_walks++;
}

/*
 * The list of the domain of p (the list URI buddies@DOMAIN) for a new list
 * subscription, made when missing: the filter bit is set before the walk,
 * so a registration the walk misses is told by its worker (spr/buddies.h).
 */
static struct nlist *
list_get(struct spr_notify *n, const struct npres *p)
{
	struct spr_str aor = {p->aor, p->aor_len}, d = spr_aor_domain(&aor);
	uint64_t dh = spr_domain_hash(&d);
	struct nlist *l = list_find(n, dh);

	if (l != NULL)
		return l;
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return NULL;
	l->h.key = dh;
	memcpy(l->domain, d.p, d.len);
	l->domain_len = d.len;
	link_init(&l->members);
	link_init(&l->subs);
	ht_add(&n->lists, &l->h);
	if (n->cfg.lists != NULL)
		spr_list_filter_add(n->cfg.lists, dh);
	list_walk(n, l);
	return l;
}

/*
 * LIST_MEMBER: AOR hash (owner worker) got its first live binding or lost
 * its last; the store says which, so a late or repeated message does no
 * harm.
 */
static void
list_member(struct spr_notify *n, const struct spr_ring_msg *msg)
{
	struct nlist *l = list_find(n, msg->sub_id);
	const struct spr_record *recs[4];
	struct hnode *ph;
	uint32_t nr;
	bool changed = false, present = false;

	n->cnt.list_member_events++;
	if (l == NULL || msg->worker >= n->cfg.n_workers) {
		n->cnt.list_member_unmatched++;
		return;
	}
	nr = spr_loc_lookup_hash_kind(n->cfg.shards[msg->worker], SPR_REC_BINDINGS, msg->hash, recs,
				      4);
	for (uint32_t k = 0; k < nr; k++) {
		struct spr_str d = {l->domain, l->domain_len};

		if (spr_buddies_member(recs[k], &d, (uint32_t)(n->now_ms / 1000u))) {
			present = true;
			changed |= member_add(n, l, recs[k]);
		}
	}
	if (!present && (ph = ht_find(&n->pres, msg->hash)) != NULL) {
		struct npres *p = CONTAINER(ph, struct npres, h);

		if (p->list == l) {
			member_unlink(n, p);
			pres_release(n, p);
			n->cnt.list_members_removed++;
			l->rewalk = l->truncated;
			changed = true;
		}
	}
	if (changed)
		list_changed(n, l);
}

/*
 * s (not linked yet) was made in a dialog that has another subscription of
 * p: share that dialog's CSeq and its one-at-a-time rule. Without memory for
 * it s goes alone (counted).
 */
static void
dialog_share(struct spr_notify *n, struct npres *p, struct nsub *s)
{
	for (struct link *l = p->subs.next; l != &p->subs; l = l->next) {
		struct nsub *o = CONTAINER(l, struct nsub, in_pres);

		if (memcmp(o->to_tag, s->to_tag, sizeof(s->to_tag)) != 0 ||
		    !spr_str_eq(&o->s[SPR_WS_CALL_ID], &s->s[SPR_WS_CALL_ID]) ||
		    !spr_str_eq(&o->s[SPR_WS_FROM_TAG], &s->s[SPR_WS_FROM_TAG]))
			continue;
		if (o->dlg == NULL) {
			o->dlg = calloc(1, sizeof(*o->dlg));
			if (o->dlg == NULL) {
				n->cnt.dialog_share_failed++;
				return;
			}
			o->dlg->cseq = o->cseq;
			o->dlg->refs = 1;
			o->dlg->busy = o->in_flight;
		}
		s->dlg = o->dlg;
		s->dlg->refs++;
		n->cnt.dialogs_shared++;
		return;
	}
}

static void
sub_created(struct spr_notify *n, const struct spr_ring_msg *msg)
{
	const struct spr_record *r;
	const struct spr_watcher *w = store_watcher(n, msg->hash, msg->sub_id, msg->worker, &r);
	struct spr_str aor;
	struct npres *p;
	struct nsub *s;

	if (w == NULL) {
		n->cnt.sub_missing++; /* ended again before we got here */
		return;
	}
	aor = spr_rec_str(r, r->aor);
	if ((p = pres_get(n, msg->hash, msg->worker, &aor)) == NULL)
		return;
	s = calloc(1, sizeof(*s));
	if (s == NULL || sub_copy(s, r, w) != 0) {
		free(s);
		pres_release(n, p);
		return;
	}
	if ((w->flags & SPR_WATCHER_LIST) && (s->list = list_get(n, p)) == NULL) {
		free(s->blob);
		free(s);
		pres_release(n, p);
		return;
	}
	s->h.key = msg->sub_id;
	sub_hop(s, msg);
	s->pres = p;
	if (w->flags & SPR_WATCHER_SHARED)
		dialog_share(n, p, s);
	link_init(&s->ready);
	link_add_tail(&p->subs, &s->in_pres);
	p->n_subs++;
	if (s->list != NULL) {
		link_add_tail(&s->list->subs, &s->in_list);
		s->list->n_subs++;
		s->list_full = 1; /* RFC 4662 §5.2: the first notification is full state */
		n->cnt.list_subscriptions++;
	}
	ht_add(&n->subs, &s->h);
	/* RFC 6665 §4.2.1: the initial NOTIFY goes at once */
	s->urgent = 1;
	if (w->flags & SPR_WATCHER_FETCH) {
		/*
		 * RFC 6665 §4.4.3: a fetch gets one NOTIFY of the current state that
		 * ends it; the owner's copy of the dialog is no longer needed
		 */
		n->cnt.notify_fetches++;
		s->ending = 1 + SPR_SUBS_END_TIMEOUT;
		s->expires_at = 0;
		send_remove(n, s);
	} else {
		n->cnt.subscriptions++;
	}
	make_ready(n, s);
}

/* --- the document of a presentity's current version (DESIGN §6: one build per version) --- */

/*
 * Automatic presence (--mode b2bua, docs/architecture.md): whether the AOR
 * has a binding alive at now_s in its owner's shard (read under QSBR).
 */
static bool
registered(const struct spr_notify *n, const struct npres *p, uint32_t now_s)
{
	struct spr_str aor = {p->aor, p->aor_len};
	const struct spr_record *r = spr_loc_lookup(n->cfg.shards[p->owner], &aor, p->h.key);

	for (uint32_t i = 0; r != NULL && i < r->n; i++)
		if (r->b[i].expires_at > now_s)
			return true;
	return false;
}

static int
pres_doc(struct spr_notify *n, struct npres *p, uint32_t now_s)
{
	const struct spr_pidf_status *pubs[SPR_PRES_PUBS_MAX];
	struct spr_str aor = {p->aor, p->aor_len};
	const struct spr_record *r =
		spr_loc_lookup_kind(n->cfg.shards[p->owner], SPR_REC_PRESENTITY, &aor, p->h.key);
	uint32_t version = r != NULL ? spr_rec_presentity(r)->version : 0, np = 0;
	char entity[SPR_REG_AOR_MAX + 8];
	struct spr_str ent;
	uint8_t is_auto = 0;
	int len;

	if (r != NULL) {
		const struct spr_presentity *pr = spr_rec_presentity(r);

		for (uint32_t i = 0; i < r->n && np < SPR_PRES_PUBS_MAX; i++)
			if (pr->p[i].expires_at > now_s)
				pubs[np++] = spr_rec_status(r, &pr->p[i]);
	}
	/* real publications always win; without them a registered user is available */
	if (np == 0 && n->cfg.auto_presence)
		is_auto = registered(n, p, now_s);
	if (p->doc_ok && p->doc_version == version && p->doc_auto == is_auto)
		return 0;
	ent = (struct spr_str){entity, (uint32_t)snprintf(entity, sizeof(entity), "sip:%.*s",
							  (int)p->aor_len, p->aor)};
	if (np != 0 && spr_pidf_compose(pubs, np, n->all) == 0) {
		len = spr_pidf_build(n->all, &ent, n->doc, DOC_MAX);
	} else if (is_auto) {
		static const struct spr_pidf_state avail = {.state = SPR_PRESENCE_AVAILABLE};
		const struct spr_str none = SPR_STR_NULL;

		len = spr_pidf_from_state(&avail, &none, &none, 0, n->all);
		if (len == 0)
			len = spr_pidf_build(n->all, &ent, n->doc, DOC_MAX);
		n->cnt.pidf_builds_auto++;
	} else {
		len = spr_pidf_build_closed(&ent, n->doc, DOC_MAX);
	}
	n->cnt.pidf_builds++;
	if (len < 0) {
		n->cnt.pidf_build_errors++;
		return len;
	}
	free(p->doc);
	p->doc = malloc((size_t)len);
	if (p->doc == NULL) {
		p->doc_ok = 0;
		return -ENOMEM;
	}
	memcpy(p->doc, n->doc, (size_t)len);
	p->doc_len = (uint32_t)len;
	p->doc_version = version;
	p->doc_auto = is_auto;
	p->doc_ok = 1;
	return 0;
}

/* --- NOTIFY requests and their transactions --- */

static uint32_t
branch_check(const struct spr_notify *n, uint64_t id, uint32_t cseq)
{
	uint64_t v[2] = {id, cseq};

	return (uint32_t)spr_hash64(v, sizeof(v), n->cfg.secret);
}

static void
arm(struct spr_notify *n, struct nsub *s, uint8_t mode, uint64_t at_ms)
{
	s->timer_mode = mode;
	spr_tw_add(&n->tw, &s->t, at_ms);
}

/*
 * RFC 6665 §4.2.2 / RFC 3856 §6.7: build the NOTIFY of s's current state
 * into n->out with body of type ctype. 0 when it passes the io's datagram.
 */
static uint32_t
build_notify(struct spr_notify *n, struct nsub *s, uint32_t now_s, const struct spr_str *ctype,
	     const char *body, uint32_t body_len)
{
	struct spr_wbuf w;
	char branch[SPR_NOTIFY_BRANCH_LEN];

	spr_notify_branch_write(branch, s->h.key, branch_check(n, s->h.key, s->cseq));
	spr_wbuf_init(&w, n->out, NOTIFY_MAX);
	SPR_WBUF_LIT(&w, "NOTIFY ");
	spr_wbuf_str(&w, &s->s[SPR_WS_TARGET]);
	SPR_WBUF_LIT(&w, " SIP/2.0\r\nVia: SIP/2.0/UDP ");
	spr_wbuf_put(&w, n->via_host, n->via_host_len);
	SPR_WBUF_LIT(&w, ";branch=");
	spr_wbuf_put(&w, branch, sizeof(branch));
	SPR_WBUF_LIT(&w, "\r\nMax-Forwards: 70\r\n");
	if (s->s[SPR_WS_ROUTE].len != 0) {
		SPR_WBUF_LIT(&w, "Route: ");
		spr_wbuf_value(&w, &s->s[SPR_WS_ROUTE]);
		SPR_WBUF_LIT(&w, "\r\n");
	}
	SPR_WBUF_LIT(&w, "From: ");
	spr_wbuf_value(&w, &s->s[SPR_WS_LOCAL]);
	SPR_WBUF_LIT(&w, ";tag=");
	spr_wbuf_put(&w, s->to_tag, sizeof(s->to_tag));
	SPR_WBUF_LIT(&w, "\r\nTo: ");
	spr_wbuf_value(&w, &s->s[SPR_WS_REMOTE]);
	SPR_WBUF_LIT(&w, "\r\nCall-ID: ");
	spr_wbuf_value(&w, &s->s[SPR_WS_CALL_ID]);
	SPR_WBUF_LIT(&w, "\r\nCSeq: ");
	spr_wbuf_u32(&w, s->cseq);
	SPR_WBUF_LIT(&w, " NOTIFY\r\nContact: <sip:");
	spr_wbuf_put(&w, n->via_host, n->via_host_len);
	SPR_WBUF_LIT(&w, ">\r\nEvent: presence");
	if (s->s[SPR_WS_EVENT_ID].len != 0) {
		/* RFC 6665 §8.2.1: the id of the subscription, as the SUBSCRIBE gave it */
		SPR_WBUF_LIT(&w, ";id=");
		spr_wbuf_str(&w, &s->s[SPR_WS_EVENT_ID]);
	}
	SPR_WBUF_LIT(&w, "\r\nSubscription-State: ");
	if (s->ending == 1 + SPR_SUBS_END_TIMEOUT) {
		SPR_WBUF_LIT(&w, "terminated;reason=timeout");
	} else if (s->ending != 0) {
		SPR_WBUF_LIT(&w, "terminated");
	} else {
		SPR_WBUF_LIT(&w, "active;expires=");
		spr_wbuf_u32(&w, s->expires_at > now_s ? s->expires_at - now_s : 0);
	}
	if (s->list != NULL)
		SPR_WBUF_LIT(&w, "\r\nRequire: eventlist"); /* RFC 4662 §5 */
	SPR_WBUF_LIT(&w, "\r\nContent-Type: ");
	spr_wbuf_str(&w, ctype);
	SPR_WBUF_LIT(&w, "\r\nContent-Length: ");
	spr_wbuf_u32(&w, body_len);
	SPR_WBUF_LIT(&w, "\r\n\r\n");
	spr_wbuf_put(&w, body, body_len);
	return w.overflow || w.len > n->cfg.max_datagram ? 0 : w.len;
}

/*
 * A URI for AOR aor: "sip:" + its user part with what a SIP user part may
 * not hold unescaped %-escaped (RFC 3261 §25.1: unreserved, user-unreserved)
 * + "@" + its domain. Bytes written into out[URI_MAX].
 */
static uint32_t
aor_uri(const char *aor, uint32_t len, char *out)
{
	static const char ok[] = "-_.!~*'()&=+$,;?/";
	struct spr_str a = {aor, len}, user, domain;
	uint32_t o = 4;

	memcpy(out, "sip:", 4);
	spr_aor_split(&a, &user, &domain);
	for (uint32_t i = 0; i < user.len; i++) {
		unsigned char c = (unsigned char)user.p[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    (c != 0 && memchr(ok, c, sizeof(ok) - 1) != NULL)) {
			out[o++] = (char)c;
		} else {
			out[o++] = '%';
			out[o++] = "0123456789ABCDEF"[c >> 4];
			out[o++] = "0123456789ABCDEF"[c & 0xf];
		}
	}
	out[o++] = '@';
	memcpy(out + o, domain.p, domain.len);
	return o + domain.len;
}

/* Resource k of a list body: member p with its presentity's cached document. */
static void
list_resource(struct spr_notify *n, struct npres *p, uint32_t k, uint32_t now_s)
{
	char *uri = n->uris + (size_t)k * URI_MAX;

	n->res[k].uri = (struct spr_str){uri, aor_uri(p->aor, p->aor_len, uri)};
	n->res[k].id = p->h.key;
	/* one build per presentity version, the same bytes every watcher gets */
	if (pres_doc(n, p, now_s) == 0)
		n->res[k].doc = (struct spr_str){p->doc, p->doc_len};
	else
		n->res[k].doc = SPR_STR_NULL; /* listed, state unknown */
}

/*
 * RFC 4662 §5: the NOTIFY of list subscription s into n->out, version
 * s->rlmi_version: full state of every member when s->list_full (the first
 * NOTIFY, a refresh, the final one, a membership change, a failed NOTIFY,
 * more than LIST_PARTIAL_MAX changed members), else partial state with the
 * members whose presence changed since the last one. The body is sized to
 * what is left of the datagram after the headers; members whose documents
 * do not fit are listed without an instance. 0 on failure.
 */
static uint32_t
list_notify(struct spr_notify *n, struct nsub *s, uint32_t now_s)
{
	struct nlist *l = s->list;
	struct spr_rlmi_out o;
	struct spr_str ctype, list_uri;
	char luri[URI_MAX];
	uint64_t seed[3] = {n->cfg.secret, s->h.key, s->rlmi_version};
	uint32_t k = 0, hdr;
	int len;

	bool full = s->list_full || s->n_changed == 0 || s->ending;

	if (l->rewalk)
		list_walk(n, l);
	for (uint32_t i = 0; !full && i < s->n_changed; i++) {
		struct hnode *ph = ht_find(&n->pres, s->changed[i]);

		if (ph != NULL && CONTAINER(ph, struct npres, h)->list == l)
			list_resource(n, CONTAINER(ph, struct npres, h), k++, now_s);
	}
	if (k == 0)
		full = true; /* the changed members left: their going is a full-state change */
	for (struct link *m = l->members.next;
	     full && m != &l->members && k < n->cfg.max_list_members; m = m->next)
		list_resource(n, CONTAINER(m, struct npres, in_list), k++, now_s);
	list_uri = (struct spr_str){luri, aor_uri(s->pres->aor, s->pres->aor_len, luri)};
	/* the headers alone, with a Content-Type of the final length, size the body */
	ctype = (struct spr_str){n->body, SPR_RLMI_CTYPE_LEN};
	memset(n->body, 'x', SPR_RLMI_CTYPE_LEN);
	hdr = build_notify(n, s, now_s, &ctype, n->body, 0);
	if (hdr == 0 || hdr + 5 >= n->cfg.max_datagram) {
		n->cnt.list_build_errors++;
		return 0;
	}
	len = spr_rlmi_build(&list_uri, s->rlmi_version, full, n->res, k,
			     spr_hash64(seed, sizeof(seed), 0), n->body,
			     n->cfg.max_datagram - hdr - 5, &o);
	n->cnt.list_boundary_redraws += o.redraws;
	if (len < 0) {
		n->cnt.list_build_errors++;
		return 0;
	}
	n->cnt.list_bodies++;
	n->cnt.list_partial += !full;
	n->cnt.list_parts += o.included;
	s->list_full = 0;
	s->n_changed = 0;
	n->cnt.list_parts_omitted += o.omitted;
	ctype = (struct spr_str){o.content_type, o.content_type_len};
	return build_notify(n, s, now_s, &ctype, n->body, (uint32_t)len);
}

static void
transmit(struct spr_notify *n, struct nsub *s)
{
	int rc;

	if (n->io == NULL) {
		n->cnt.notify_no_io++;
		return;
	}
	rc = spr_io_send(n->io, &n->cfg.local, &s->dst, &s->hop, s->pkt, s->pkt_len);
	if (rc != 0)
		n->cnt.notify_send_error++;
}

/* Tell the owner to drop the subscription (481, 408, Timer F), then forget it. */
static void
sub_end(struct spr_notify *n, struct nsub *s)
{
	if (!s->ending)
		send_remove(n, s);
	sub_free(n, s);
}

/* Send what s owes, if no transaction runs and the throttle allows. */
static void
try_send(struct spr_notify *n, struct nsub *s)
{
	uint32_t now_s = (uint32_t)(n->now_ms / 1000u);
	uint32_t len;

	if (!s->dirty || s->in_flight || (s->dlg != NULL && s->dlg->busy))
		return; /* sent when the transaction (its own or its dialog's) ends */
	if (!s->urgent && !s->ending && n->cfg.min_interval_ms != 0 && s->last_sent_ms != 0 &&
	    n->now_ms < s->last_sent_ms + n->cfg.min_interval_ms) {
		/* coalesce: one NOTIFY when the interval is over, of the state then */
		if (!spr_tw_armed(&s->t)) {
			n->cnt.notify_throttled++;
			arm(n, s, TM_THROTTLE, s->last_sent_ms + n->cfg.min_interval_ms);
		}
		return;
	}
	if (s->list != NULL) {
		s->cseq = s->dlg != NULL ? ++s->dlg->cseq : s->cseq + 1;
		if ((len = list_notify(n, s, now_s)) == 0) {
			n->cnt.notify_too_large++;
			s->dirty = 0;
			return;
		}
		s->rlmi_version++;
	} else {
		static const struct spr_str pidf = SPR_STR("application/pidf+xml");

		if (pres_doc(n, s->pres, now_s) != 0)
			return; /* retried at the next change or refresh */
		s->cseq = s->dlg != NULL ? ++s->dlg->cseq : s->cseq + 1;
		len = build_notify(n, s, now_s, &pidf, s->pres->doc, s->pres->doc_len);
		if (len == 0) {
			n->cnt.notify_too_large++;
			s->dirty = 0;
			return;
		}
	}
	free(s->pkt);
	s->pkt = malloc(len);
	if (s->pkt == NULL)
		return;
	memcpy(s->pkt, n->out, len);
	s->pkt_len = len;
	s->dirty = s->urgent = 0;
	s->final_sent = s->ending != 0;
	s->in_flight = 1;
	n->in_flight++;
	if (s->dlg != NULL)
		s->dlg->busy = 1;
	s->sent_version = s->list != NULL ? s->rlmi_version - 1 : s->pres->doc_version;
	s->last_sent_ms = s->tx_start_ms = n->now_ms;
	s->rto_ms = n->cfg.t1_ms;
	n->cnt.notify_sent++;
	transmit(n, s);
	spr_tw_cancel(&n->tw, &s->t);
	arm(n, s, TM_TX, n->now_ms + s->rto_ms);
}

/* RFC 3261 §17.1.2.2: Timer E retransmits (T1 doubling to T2), Timer F gives up at 64*T1. */
static void
timer_fired(struct spr_tw_timer *t, void *arg)
{
	struct spr_notify *n = arg;
	struct nsub *s = SPR_TW_ENTRY(t, struct nsub, t);
	uint64_t f_at;

	if (s->timer_mode == TM_THROTTLE) {
		s->timer_mode = TM_NONE;
		if (s->dirty && !link_linked(&s->ready))
			link_add_tail(&n->ready, &s->ready);
		return;
	}
	if (!s->in_flight)
		return;
	f_at = s->tx_start_ms + 64ull * n->cfg.t1_ms;
	if (n->now_ms >= f_at) {
		n->cnt.notify_timeout++;
		sub_end(n, s);
		return;
	}
	n->cnt.notify_retransmits++;
	transmit(n, s);
	s->rto_ms = s->rto_ms * 2 < n->cfg.t2_ms ? s->rto_ms * 2 : n->cfg.t2_ms;
	arm(n, s, TM_TX, n->now_ms + s->rto_ms < f_at ? n->now_ms + s->rto_ms : f_at);
}

static void
on_response(struct spr_notify *n, const struct spr_ring_msg *msg)
{
	struct nsub *s = sub_find(n, msg->hash);
	uint16_t status = (uint16_t)msg->at;

	if (s == NULL || !s->in_flight || msg->nresp.cseq != s->cseq) {
		n->cnt.resp_unknown++;
		return;
	}
	if (msg->nresp.check != branch_check(n, s->h.key, s->cseq)) {
		n->cnt.resp_forged++;
		return;
	}
	if (status < 200)
		return; /* provisional: Timer E/F go on */
	spr_tw_cancel(&n->tw, &s->t);
	tx_done(n, s);
	free(s->pkt);
	s->pkt = NULL;
	if (status >= 200 && status < 300) {
		n->cnt.notify_2xx++;
		s->last_version = s->sent_version;
	} else if (status == 481 || status == 408) {
		/* RFC 6665 §4.2.2: the subscription is gone at the subscriber */
		n->cnt.notify_481_408++;
		sub_end(n, s);
		return;
	} else {
		n->cnt.notify_failed++;
		s->list_full = 1; /* a list subscriber missed a version: full state next */
	}
	if (s->final_sent) {
		sub_free(n, s);
		return;
	}
	if (s->dirty && !link_linked(&s->ready))
		link_add_tail(&n->ready, &s->ready);
}

void
spr_notify_on_msg(struct spr_notify *n, const struct spr_ring_msg *msg, uint64_t now_ms)
{
	struct nsub *s;
	struct hnode *ph;

	n->now_ms = now_ms;
	switch (msg->type) {
	case SPR_MSG_SUB_CREATED:
		if ((s = sub_find(n, msg->sub_id)) != NULL)
			sub_free(n, s); /* cannot happen: ids are unique */
		sub_created(n, msg);
		break;
	case SPR_MSG_SUB_REFRESHED: {
		const struct spr_record *r;
		const struct spr_watcher *w;

		if ((s = sub_find(n, msg->sub_id)) == NULL) {
			sub_created(n, msg);
			break;
		}
		w = store_watcher(n, msg->hash, msg->sub_id, msg->worker, &r);
		if (w != NULL && sub_copy(s, r, w) == 0)
			sub_hop(s, msg);
		s->urgent = 1; /* RFC 6665 §4.2.1.2: a refresh is answered with a NOTIFY */
		s->list_full = 1;
		make_ready(n, s);
		break;
	}
	case SPR_MSG_SUB_ENDED:
		if ((s = sub_find(n, msg->sub_id)) == NULL) {
			n->cnt.sub_missing++;
			break;
		}
		s->ending = (uint8_t)(1 + msg->at);
		s->expires_at = 0;
		make_ready(n, s);
		break;
	case SPR_MSG_PRESENCE_CHANGED:
		if ((ph = ht_find(&n->pres, msg->hash)) == NULL)
			break;
		{
			struct npres *p = CONTAINER(ph, struct npres, h);

			/* bounded: max_watchers per presentity */
			for (struct link *l = p->subs.next; l != &p->subs; l = l->next)
				make_ready(n, CONTAINER(l, struct nsub, in_pres));
			if (p->list != NULL)
				list_member_changed(n, p);
		}
		break;
	case SPR_MSG_LIST_MEMBER:
		list_member(n, msg);
		break;
	case SPR_MSG_NOTIFY_RESPONSE:
		on_response(n, msg);
		break;
	default:
		break;
	}
}

/*
 * Datagrams on control's own io: a UA that answers a NOTIFY to its source
 * port (rather than to the Via's) reaches us here. Responses to our
 * NOTIFYs are taken as the workers would pass them on; the rest is dropped.
 */
static void
poll_rx(struct spr_notify *n)
{
	struct spr_pkt pkts[SPR_BURST];
	uint16_t got = spr_io_rx(n->io, pkts, SPR_BURST);

	for (uint16_t i = 0; i < got; i++) {
		struct spr_ring_msg msg = {.type = SPR_MSG_NOTIFY_RESPONSE};

		spr_sip_parse(pkts[i].data, pkts[i].len, &n->lim, &n->msg);
		if (n->msg.start_ok && !n->msg.is_request &&
		    n->msg.cseq_method_id == SPR_SIP_NOTIFY &&
		    spr_notify_branch_parse(&n->msg.via.branch, &msg.hash, &msg.nresp.check)) {
			msg.at = n->msg.status;
			msg.nresp.cseq = n->msg.cseq;
			on_response(n, &msg);
		}
		spr_io_drop(n->io, &pkts[i]);
	}
}

bool
spr_notify_poll(struct spr_notify *n, uint64_t now_ms, uint32_t budget)
{
	n->now_ms = now_ms;
	if (n->io != NULL)
		poll_rx(n);
	spr_tw_advance(&n->tw, now_ms, NOTIFY_FIRE_BUDGET, timer_fired, n);
	while (budget != 0 && link_linked(&n->ready)) {
		struct nsub *s = CONTAINER(n->ready.next, struct nsub, ready);

		link_del(&s->ready);
		try_send(n, s);
		budget--;
	}
	if (n->io != NULL)
		spr_io_flush(n->io);
	return link_linked(&n->ready);
}

json_t *
spr_notify_watchers_json(const struct spr_notify *n, uint64_t hash, uint32_t now_s)
{
	struct hnode *ph = ht_find(&n->pres, hash);
	json_t *list = json_array();
	const struct npres *p;

	if (ph == NULL)
		return list;
	p = CONTAINER(ph, struct npres, h);
	for (const struct link *l = p->subs.next; l != &p->subs; l = l->next) {
		const struct nsub *s = CONTAINER(l, struct nsub, in_pres);
		char id[17], addr[48];
		uint32_t al = spr_peer_format(&s->dst, addr, sizeof(addr));
		const char *state = s->ending	   ? "terminating"
				    : s->in_flight ? "notifying"
						   : "active";

		json_t *o;

		snprintf(id, sizeof(id), "%016llx", (unsigned long long)s->h.key);
		o = json_pack("{s:s,s:s%,s:s%,s:s%,s:s%,s:s%,s:s%,s:s,s:I,s:I,s:I,s:s%,s:i}",
			      "id", id, "watcher", s->s[SPR_WS_WATCHER].p,
			      (size_t)s->s[SPR_WS_WATCHER].len, "call_id",
			      s->s[SPR_WS_CALL_ID].p, (size_t)s->s[SPR_WS_CALL_ID].len,
			      "from_tag", s->s[SPR_WS_FROM_TAG].p,
			      (size_t)s->s[SPR_WS_FROM_TAG].len, "to_tag", s->to_tag,
			      sizeof(s->to_tag), "target", s->s[SPR_WS_TARGET].p,
			      (size_t)s->s[SPR_WS_TARGET].len, "route", s->s[SPR_WS_ROUTE].p,
			      (size_t)s->s[SPR_WS_ROUTE].len, "state", state, "expires",
			      (json_int_t)(s->expires_at > now_s ? s->expires_at - now_s : 0),
			      "last_version_sent", (json_int_t)s->last_version, "notify_cseq",
			      (json_int_t)s->cseq, "address", addr, (size_t)al, "port",
			      (int)s->dst.port);
		if (o == NULL)
			continue;
		json_object_set_new(o, "event_id",
				    s->s[SPR_WS_EVENT_ID].len != 0
					    ? json_stringn(s->s[SPR_WS_EVENT_ID].p,
							   s->s[SPR_WS_EVENT_ID].len)
					    : json_null());
		if (s->list != NULL) {
			/* a list subscription: its RLMI version, the list's size */
			json_object_set_new(o, "list", json_true());
			json_object_set_new(o, "rlmi_version", json_integer(s->rlmi_version));
			json_object_set_new(o, "members", json_integer(s->list->n_members));
			json_object_set_new(o, "truncated", json_boolean(s->list->truncated));
		}
		json_array_append_new(list, o);
	}
	return list;
}
