/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>

#include <rte_mbuf.h>
#include <rte_pause.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>
#include <urcu-qsbr.h>

#include "lcore.h"

/* Empty polls before a socket worker sleeps in the kernel (a dpdk worker never does). */
#define IDLE_POLLS 4096u
#define IDLE_WAIT_MS 10

enum { CTL_SENT, CTL_HELD, CTL_LOST };

/*
 * Send a message control must not miss (TIMER, PIDF_FREE): held back
 * (bounded, in order) while the ring is full. Returns CTL_SENT, CTL_HELD or
 * CTL_LOST.
 */
static int
send_ctl(struct spr_worker *w, const struct spr_ring_msg *msg)
{
	if (w->n_pend == 0 && rte_ring_sp_enqueue_elem(w->to_ctl, (void *)msg, sizeof(*msg)) == 0)
		return CTL_SENT;
	if (w->n_pend == SPR_TIMER_PEND)
		return CTL_LOST;
	w->pend[w->n_pend++] = *msg;
	return CTL_HELD;
}

/* Send the TIMER the last message asked for. */
static void
send_timer(struct spr_worker *w)
{
	struct spr_reg_arm *arm = &w->proc->arm;
	struct spr_ring_msg msg = {.type = SPR_MSG_TIMER, .kind = arm->kind, .worker = w->id,
				   .at = arm->at, .hash = arm->hash};
	int r = send_ctl(w, &msg);

	arm->at = 0;
	if (r == CTL_SENT) {
		w->cnt.timers_sent++;
		return;
	}
	w->cnt.timer_ring_full++;
	if (r == CTL_LOST)
		w->cnt.timer_lost++;
}

/*
 * Send a PUBLISH's PIDF body to control to be parsed (DESIGN §7: no XML on
 * workers); the verdict comes back as PIDF_RESULT with the mbuf. A full
 * ring drops the request: the client retransmits.
 */
static void
send_pidf_check(struct spr_worker *w, struct spr_pkt *p, const struct spr_sip_msg *m)
{
	struct spr_ring_msg msg = {.type = SPR_MSG_PIDF_CHECK, .worker = w->id, .ptr = p->m};

	msg.body.off = (uint32_t)(m->body.p - p->data);
	msg.body.len = m->body.len;
	*(struct spr_pkt *)rte_mbuf_to_priv(p->m) = *p;
	if (rte_ring_sp_enqueue_elem(w->to_ctl, &msg, sizeof(msg)) != 0) {
		w->cnt.pidf_ring_full++;
		spr_io_drop(w->io, p);
		return;
	}
	w->cnt.pidf_sent++;
}

/*
 * A token the cache does not know goes to control to be verified (DESIGN
 * §4, §6); the decision comes back as AUTH_RESULT with the mbuf. A full
 * ring is answered 503 Retry-After: 1 at once rather than dropped, so a
 * client backs off instead of retransmitting into the same full ring.
 */
static void
send_auth_needed(struct spr_worker *w, struct spr_pkt *p, const struct spr_sip_msg *m)
{
	struct spr_ring_msg msg = {.type = SPR_MSG_AUTH_NEEDED, .worker = w->id, .ptr = p->m};
	struct spr_proc_ctx *c = w->proc;
	struct spr_wbuf out;

	msg.body.off = (uint32_t)(m->bearer.p - p->data);
	msg.body.len = m->bearer.len;
	*(struct spr_pkt *)rte_mbuf_to_priv(p->m) = *p;
	if (rte_ring_sp_enqueue_elem(w->to_ctl, &msg, sizeof(msg)) == 0)
		return;
	c->cnt.auth.ring_full++;
	c->cnt.auth.result[SPR_AUTH_BUSY]++;
	spr_wbuf_init(&out, w->out, sizeof(w->out));
	spr_auth_sip_reply(c->auth_cfg, &c->reply, m, &p->src, &w->now, SPR_AUTH_BUSY, SPR_JWT_OK,
			   &out);
	if (out.overflow) {
		c->cnt.reply_overflow++;
		spr_io_drop(w->io, p);
		return;
	}
	c->cnt.replies++;
	spr_io_reply(w->io, p, w->out, out.len);
}

/*
 * A message control must hear of (SUB_*, PRESENCE_CHANGED). It waits in the
 * hold-back queue until spr_worker_flush(), after the replies of the burst
 * have left: the 200 to a SUBSCRIBE leaves before control can send the
 * NOTIFY it causes (RFC 6665 allows either order; clients and tests like
 * this one). A full queue tries the ring at once.
 */
static void
send_sub_msg(struct spr_worker *w, const struct spr_ring_msg *msg)
{
	if (w->n_pend < SPR_TIMER_PEND) {
		w->pend[w->n_pend++] = *msg;
		w->cnt.sub_msgs++;
	} else if (rte_ring_sp_enqueue_elem(w->to_ctl, (void *)msg, sizeof(*msg)) == 0) {
		w->cnt.sub_msgs++;
	} else {
		w->cnt.sub_msgs_lost++;
	}
}

/*
 * What the last message did to subscriptions and presence state, for the
 * NOTIFY engine: subscription events, and a change of a presentity that has
 * watchers (checked here, so unwatched presentities cost control nothing).
 * hop (NULL when no datagram caused them: expiry) is where the message's
 * frame came from: a new or refreshed subscription's NOTIFYs go back there.
 */
static void
send_sub_events(struct spr_worker *w, const struct spr_l2_hop *hop)
{
	struct spr_proc_ctx *c = w->proc;

	for (uint32_t i = 0; i < c->subs_out.n; i++) {
		const struct spr_subs_event *ev = &c->subs_out.ev[i];
		struct spr_ring_msg msg = {.worker = w->id, .hash = ev->hash, .sub_id = ev->id};

		msg.type = ev->type == SPR_SUBS_EV_CREATED     ? SPR_MSG_SUB_CREATED
			   : ev->type == SPR_SUBS_EV_REFRESHED ? SPR_MSG_SUB_REFRESHED
							       : SPR_MSG_SUB_ENDED;
		msg.at = ev->type == SPR_SUBS_EV_ENDED ? ev->reason : ev->expires_at;
		if (ev->type != SPR_SUBS_EV_ENDED && hop != NULL && hop->valid) {
			msg.kind = SPR_MSG_HOP_VALID | (hop->vlan ? SPR_MSG_HOP_VLAN : 0);
			memcpy(msg.hop.mac, hop->mac, 6);
			msg.hop.vlan_tci = hop->vlan_tci;
		}
		send_sub_msg(w, &msg);
	}
	c->subs_out.n = 0;
	if (c->pres_changed.set) {
		bool watched = spr_subs_watched(c->shard, c->pres_changed.hash);
		bool listed = !watched && spr_list_filter_has(w->lists, c->pres_changed.domain_hash);

		c->pres_changed.set = 0;
		if (watched || listed) {
			struct spr_ring_msg msg = {.type = SPR_MSG_PRESENCE_CHANGED, .worker = w->id,
						   .at = c->pres_changed.version,
						   .hash = c->pres_changed.hash};

			send_sub_msg(w, &msg);
			w->cnt.list_msgs += listed;
		}
	}
}

/*
 * An AOR of a domain with buddy list subscriptions registered (its first
 * binding) or went away (its last): control updates the lists.
 */
static void
send_member_event(struct spr_worker *w)
{
	struct spr_reg_change *ch = &w->proc->member_changed;
	struct spr_ring_msg msg = {.type = SPR_MSG_LIST_MEMBER, .worker = w->id, .hash = ch->hash,
				   .sub_id = ch->domain_hash};

	ch->set = 0;
	if (spr_list_filter_has(w->lists, ch->domain_hash)) {
		send_sub_msg(w, &msg);
		w->cnt.list_msgs++;
	}
}

/*
 * A response to one of control's NOTIFYs (its branch says so): the
 * essentials go to control, which runs the NOTIFY transactions. Anything
 * else that is a response is left to spr_sip_process_msg (drop_response).
 */
static bool
notify_response(struct spr_worker *w, struct spr_pkt *p, const struct spr_sip_msg *m)
{
	struct spr_ring_msg msg = {.type = SPR_MSG_NOTIFY_RESPONSE, .worker = w->id};
	uint64_t id;

	if (!m->start_ok || m->is_request || m->cseq_method_id != SPR_SIP_NOTIFY ||
	    !spr_notify_branch_parse(&m->via.branch, &id, &msg.nresp.check))
		return false;
	msg.at = m->status;
	msg.hash = id;
	msg.nresp.cseq = m->cseq;
	w->proc->cnt.notify_responses++;
	if (rte_ring_sp_enqueue_elem(w->to_ctl, &msg, sizeof(msg)) != 0)
		w->cnt.notify_resp_ring_full++; /* the NOTIFY is retransmitted: the peer answers again */
	spr_io_drop(w->io, p);
	return true;
}

static void
answer(struct spr_worker *w, struct spr_pkt *p, const struct spr_sip_msg *m, int parsed)
{
	uint32_t n;

	if (unlikely(!m->is_request) && notify_response(w, p, m))
		return;
	n = spr_sip_process_msg(w->proc, m, parsed, &p->src, &w->now, w->out, sizeof(w->out));

	if (n != 0)
		spr_io_reply(w->io, p, w->out, n);
	else if (w->proc->pidf_check)
		send_pidf_check(w, p, m);
	else if (w->proc->auth_needed)
		send_auth_needed(w, p, m);
	else
		spr_io_drop(w->io, p);
	if (w->proc->arm.at != 0)
		send_timer(w);
	if (w->proc->subs_out.n != 0 || w->proc->pres_changed.set)
		send_sub_events(w, &p->hop);
	if (unlikely(w->proc->member_changed.set))
		send_member_event(w);
}

/*
 * The worker that owns the request's AOR, and the AOR's hash (0 when the
 * request touches no shard: it is handled here). DESIGN §2:
 * shard = hash(AOR) % workers. REGISTER's AOR is its To URI; PUBLISH's
 * presentity is its Request-URI (RFC 3903 §6 step 2).
 */
static uint16_t
classify(const struct spr_worker *w, const struct spr_sip_msg *m, int parsed, uint64_t *hash,
	 struct spr_reg_aor_key *key)
{
	char *aor = key->aor;
	struct spr_str a;
	int alen;

	*hash = 0;
	key->len = 0;
	if (parsed <= 0 || !m->start_ok || !m->is_request)
		return w->id;
	if (m->method == SPR_SIP_REGISTER)
		alen = spr_reg_aor(m, aor, sizeof(key->aor));
	else if (m->method == SPR_SIP_PUBLISH)
		alen = spr_pres_aor(m, aor, sizeof(key->aor));
	else if (m->method == SPR_SIP_SUBSCRIBE)
		alen = spr_subs_aor(m, aor, sizeof(key->aor));
	else
		return w->id;
	if (alen <= 0)
		return w->id;
	a = (struct spr_str){aor, (uint32_t)alen};
	*hash = spr_loc_hash(&a);
	if (m->method == SPR_SIP_REGISTER) {
		key->hash = *hash;
		key->len = (uint32_t)alen;
	}
	return spr_worker_owner(*hash, w->n_workers);
}

/* Give a parsed request to its owner; the owner parses it again (cheaper than shipping it). */
static void
hand_off(struct spr_worker *w, struct spr_pkt *p, uint16_t owner)
{
	*(struct spr_pkt *)rte_mbuf_to_priv(p->m) = *p;
	if (rte_ring_sp_enqueue(w->handoff_to[owner], p->m) != 0) {
		w->cnt.handoff_full++;
		spr_io_drop(w->io, p);
		return;
	}
	w->cnt.handoff_out++;
}

/*
 * Three stages over the burst (STYLE rule 7): message i is parsed, its AOR
 * hashed and the shard's hint slot prefetched; the record that slot names
 * for message i-1 is prefetched; message i-2 is handled, its record by now
 * in cache. The DRAM misses of a lookup overlap other messages' work.
 */
void
spr_worker_process(struct spr_worker *w, struct spr_pkt *pkts, uint16_t n)
{
	struct {
		int parsed;
		uint64_t hash;
		uint8_t local; /* handled here (not handed off) */
		struct spr_reg_aor_key key; /* a REGISTER's AOR (len 0: none), for the registrar */
		struct spr_auth_pre auth;   /* its Bearer token's fingerprint (tok NULL: none) */
	} st[SPR_WORKER_STAGES];

	for (uint32_t i = 0; i < (uint32_t)n + SPR_WORKER_STAGES - 1; i++) {
		if (i < n) {
			uint32_t k = i % SPR_WORKER_STAGES;
			struct spr_sip_msg *m = &w->msgs[k];
			uint16_t owner;

			st[k].parsed = spr_sip_process_parse(w->proc, m, pkts[i].data, pkts[i].len);
			owner = classify(w, m, st[k].parsed, &st[k].hash, &st[k].key);
			st[k].local = owner == w->id;
			st[k].auth.tok = NULL;
			if (!st[k].local) {
				hand_off(w, &pkts[i], owner);
			} else {
				if (st[k].hash != 0 && w->msgs[k].method == SPR_SIP_REGISTER)
					spr_loc_prefetch_hint(w->proc->shard, st[k].hash);
				spr_proc_auth_prefetch(w->proc, m, &st[k].auth);
			}
		}
		if (i >= 1 && i - 1 < n) {
			uint32_t k = (i - 1) % SPR_WORKER_STAGES;

			if (st[k].local && st[k].hash != 0 &&
			    w->msgs[k].method == SPR_SIP_REGISTER)
				spr_loc_prefetch_record(w->proc->shard, st[k].hash);
			if (st[k].local)
				spr_auth_sip_prefetch_ext(&w->proc->auth_hooks, &st[k].auth);
		}
		if (i >= SPR_WORKER_STAGES - 1) {
			uint32_t j = i - (SPR_WORKER_STAGES - 1);
			uint32_t k = j % SPR_WORKER_STAGES;

			if (st[k].local) {
				w->proc->reg_key = st[k].key.len != 0 ? &st[k].key : NULL;
				w->proc->auth_pre = &st[k].auth;
				answer(w, &pkts[j], &w->msgs[k], st[k].parsed);
				w->proc->reg_key = NULL;
				w->proc->auth_pre = NULL;
			}
		}
	}
}

static void
run_ul_req(struct spr_worker *w, struct spr_ul_req *req)
{
	struct spr_reg_ctx rc = spr_proc_reg_ctx(w->proc);
	struct spr_str aor = {req->aor, req->aor_len};
	struct spr_str contact = {req->contact, req->contact_len};

	req->result = spr_reg_remove(&rc, &aor, &contact, w->now.sec);
	spr_proc_reg_changed(w->proc, w->now.sec);
	if (w->proc->arm.at != 0)
		send_timer(w);
	if (w->proc->pres_changed.set)
		send_sub_events(w, NULL);
	if (w->proc->member_changed.set)
		send_member_event(w);
}

/*
 * Control's verdict on a PUBLISH body: parse the datagram again and answer
 * it with the verdict (presence.h), then give the status back to control.
 */
static void
apply_pidf_result(struct spr_worker *w, const struct spr_ring_msg *msg)
{
	struct rte_mbuf *mb = msg->ptr;
	struct spr_pkt p = *(struct spr_pkt *)rte_mbuf_to_priv(mb);
	struct spr_pres_verdict v = {(enum spr_pidf_fault)msg->at, msg->status};
	int parsed = spr_sip_process_parse(w->proc, &w->msgs[0], p.data, p.len);

	w->proc->verdict = &v;
	answer(w, &p, &w->msgs[0], parsed);
	w->proc->verdict = NULL;
	if (msg->status != NULL) {
		struct spr_ring_msg f = {.type = SPR_MSG_PIDF_FREE, .worker = w->id,
					 .ptr = msg->status};

		if (send_ctl(w, &f) == CTL_LOST)
			w->cnt.pidf_free_lost++;
	}
}

/* Control's decision on a token: parse the datagram again and answer it with that decision. */
static void
apply_auth_result(struct spr_worker *w, const struct spr_ring_msg *msg)
{
	struct rte_mbuf *mb = msg->ptr;
	struct spr_pkt p = *(struct spr_pkt *)rte_mbuf_to_priv(mb);
	int parsed = spr_sip_process_parse(w->proc, &w->msgs[0], p.data, p.len);

	w->proc->auth_result = msg->at | SPR_PROC_AUTH_RESULT_SET;
	answer(w, &p, &w->msgs[0], parsed);
	w->proc->auth_result = 0;
}

void
spr_worker_poll_rings(struct spr_worker *w)
{
	struct spr_ring_msg msgs[SPR_BURST];
	unsigned n;

	for (uint16_t j = 0; j < w->n_workers; j++) {
		struct rte_mbuf *mb[SPR_BURST];

		if (w->handoff_from[j] == NULL)
			continue;
		n = rte_ring_sc_dequeue_burst(w->handoff_from[j], (void **)mb, SPR_BURST, NULL);
		for (unsigned i = 0; i < n; i++) {
			struct spr_pkt p = *(struct spr_pkt *)rte_mbuf_to_priv(mb[i]);
			int parsed = spr_sip_process_parse(w->proc, &w->msgs[0], p.data, p.len);

			w->cnt.handoff_in++;
			answer(w, &p, &w->msgs[0], parsed);
		}
	}
	n = rte_ring_sc_dequeue_burst_elem(w->from_ctl, msgs, sizeof(msgs[0]), SPR_BURST, NULL);
	for (unsigned i = 0; i < n; i++) {
		struct spr_reg_ctx rc = spr_proc_reg_ctx(w->proc);

		switch (msgs[i].type) {
		case SPR_MSG_EXPIRE: {
			/*
			 * control's clock has reached the timer's time: what expires by
			 * then goes, even when this loop read the clock a second before
			 */
			uint32_t due = msgs[i].at > w->now.sec ? msgs[i].at : w->now.sec;

			w->cnt.expire_msgs++;
			if (msgs[i].kind == SPR_REC_PRESENTITY) {
				struct spr_pres_ctx pc = spr_proc_pres_ctx(w->proc);

				spr_pres_expire(&pc, msgs[i].hash, due);
			} else if (msgs[i].kind == SPR_REC_SUBS) {
				struct spr_subs_ctx sc = spr_proc_subs_ctx(w->proc);

				spr_subs_expire(&sc, msgs[i].hash, due);
			} else {
				spr_reg_expire(&rc, msgs[i].hash, due);
				spr_proc_reg_changed(w->proc, w->now.sec);
			}
			if (w->proc->arm.at != 0)
				send_timer(w);
			if (w->proc->subs_out.n != 0 || w->proc->pres_changed.set)
				send_sub_events(w, NULL);
			if (w->proc->member_changed.set)
				send_member_event(w);
			break;
		}
		case SPR_MSG_SUB_REMOVE: {
			struct spr_subs_ctx sc = spr_proc_subs_ctx(w->proc);

			w->cnt.sub_removes++;
			spr_subs_remove(&sc, msgs[i].hash, msgs[i].sub_id, w->now.sec);
			if (w->proc->arm.at != 0)
				send_timer(w);
			break;
		}
		case SPR_MSG_PIDF_RESULT:
			w->cnt.pidf_results++;
			apply_pidf_result(w, &msgs[i]);
			break;
		case SPR_MSG_AUTH_RESULT:
			apply_auth_result(w, &msgs[i]);
			break;
		case SPR_MSG_UL_REQ: {
			struct spr_ring_msg done = {.type = SPR_MSG_UL_DONE, .worker = w->id,
						    .ptr = msgs[i].ptr};

			w->cnt.ul_reqs++;
			run_ul_req(w, msgs[i].ptr);
			/* control waits for this one: it goes ahead of held-back timers */
			while (rte_ring_sp_enqueue_elem(w->to_ctl, &done, sizeof(done)) != 0)
				rte_pause();
			break;
		}
		default:
			break;
		}
	}
}

void
spr_worker_flush(struct spr_worker *w)
{
	spr_io_flush(w->io);
	if (w->proc->shard != NULL)
		spr_loc_flush(w->proc->shard);
	if (w->n_pend != 0) {
		unsigned sent = rte_ring_sp_enqueue_burst_elem(w->to_ctl, w->pend, sizeof(w->pend[0]),
							       w->n_pend, NULL);

		if (sent != 0) {
			for (unsigned k = 0; k < sent; k++)
				w->cnt.timers_sent += w->pend[k].type == SPR_MSG_TIMER;
			memmove(w->pend, w->pend + sent, (w->n_pend - sent) * sizeof(w->pend[0]));
			w->n_pend -= sent;
		}
	}
}

bool
spr_worker_rings_pending(const struct spr_worker *w)
{
	if (rte_ring_count(w->from_ctl) != 0)
		return true;
	for (uint16_t j = 0; j < w->n_workers; j++)
		if (w->handoff_from[j] != NULL && rte_ring_count(w->handoff_from[j]) != 0)
			return true;
	return false;
}

bool
spr_worker_wake_if_pending(struct spr_worker *w)
{
	if (w->io->ops->wake == NULL)
		return false;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!__atomic_load_n(&w->sleeping, __ATOMIC_SEQ_CST) || !spr_worker_rings_pending(w))
		return false;
	w->io->ops->wake(w->io);
	return true;
}

int
spr_worker_run(void *arg)
{
	struct spr_worker *w = arg;
	struct spr_pkt pkts[SPR_BURST];
	uint32_t idle = 0;

	urcu_qsbr_register_thread();
	spr_now_set(&w->now, *w->clock_sec);
	while (likely(!w->stop)) {
		uint16_t n = spr_io_rx(w->io, pkts, SPR_BURST);

		spr_now_set(&w->now, *w->clock_sec);
		if (n != 0)
			spr_worker_process(w, pkts, n);
		spr_worker_poll_rings(w);
		spr_worker_flush(w);
		urcu_qsbr_quiescent_state();
		w->cnt.loops++;
		idle = n != 0 ? 0 : idle + 1;
		if (unlikely(idle >= IDLE_POLLS) && w->io->ops->wait != NULL) {
			/*
			 * socket backend only: sleep offline so grace periods need not
			 * wait. sleeping is set before the rings are looked at, and
			 * control looks at sleeping after its enqueues (both seq_cst),
			 * so work that lands after our look is seen by control's next
			 * loop, which wakes us.
			 */
			urcu_qsbr_thread_offline();
			__atomic_store_n(&w->sleeping, 1, __ATOMIC_SEQ_CST);
			if (!spr_worker_rings_pending(w))
				w->io->ops->wait(w->io, IDLE_WAIT_MS);
			__atomic_store_n(&w->sleeping, 0, __ATOMIC_RELAXED);
			urcu_qsbr_thread_online();
			idle = 0;
		}
	}
	spr_worker_flush(w);
	urcu_qsbr_unregister_thread();
	return 0;
}
