/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>

#include "sip_process.h"

/* Option tags an OPTIONS may Require of us. */
static const struct spr_str proc_supported[] = {SPR_STR("path")};

static uint32_t
simple_reply(struct spr_proc_ctx *c, const struct spr_sip_msg *m, const struct spr_peer *src,
	     const struct spr_now *now, uint16_t code, const char *reason,
	     const struct spr_str *extra, struct spr_wbuf *w)
{
	spr_sip_reply_head(w, m, src, code, reason, NULL);
	if (extra != NULL)
		spr_wbuf_str(w, extra);
	spr_sip_reply_tail(w, &c->reply, now, NULL);
	return w->len;
}

/*
 * RFC 8898 §2: a request that needs a token is checked before its handler
 * (sip_auth.h). Returns 0 to go on to the handler, 1 when answered or sent
 * to control (c->auth_needed, nothing written). A PUBLISH coming back with
 * control's PIDF verdict (c->verdict) passed this gate before its body was
 * sent, so it is not checked again: an uncached good token cannot loop.
 */
static int
auth_gate(struct spr_proc_ctx *c, const struct spr_sip_msg *m, const struct spr_peer *src,
	  const struct spr_now *now, struct spr_wbuf *w)
{
	struct spr_auth_sip_ctx ac = spr_proc_auth_ctx(c);
	enum spr_auth_result r;
	uint8_t verdict;

	if (c->auth_result & SPR_PROC_AUTH_RESULT_SET) {
		/* control verified the token and decided: authoritative for this request */
		r = spr_auth_result_unpack(c->auth_result & ~SPR_PROC_AUTH_RESULT_SET, &verdict);
		if (r == SPR_AUTH_NEEDED || (unsigned)r >= SPR_AUTH__COUNT)
			r = SPR_AUTH_ERROR;
		c->cnt.auth.results++;
		c->cnt.auth.result[r]++;
		if (verdict != SPR_JWT_OK)
			c->cnt.auth.verdict[verdict < SPR_JWT__COUNT ? verdict : SPR_JWT_INTERNAL]++;
	} else {
		r = spr_auth_sip_check(&ac, m, now->sec, &verdict);
	}
	if (r == SPR_AUTH_PASS)
		return 0;
	if (r == SPR_AUTH_NEEDED) {
		c->auth_needed = 1;
		return 1;
	}
	spr_auth_sip_reply(c->auth_cfg, &c->reply, m, src, now, r, verdict, w);
	return 1;
}

/* RFC 3261 §8.2.1/§8.2.2: methods and headers every request is checked for. */
static uint32_t
dispatch(struct spr_proc_ctx *c, const struct spr_sip_msg *m, const struct spr_peer *src,
	 const struct spr_now *now, struct spr_wbuf *w)
{
	static const struct spr_str allow = SPR_STR("Allow: " SPR_ALLOW "\r\n");
	static const struct spr_str opts = SPR_STR("Allow: " SPR_ALLOW "\r\n"
						   "Supported: path\r\n"
						   "Accept: application/sdp\r\n");
	struct spr_str unknown;
	char ubuf[160];
	struct spr_wbuf uw;

	if (c->auth_cfg != NULL && c->auth_cfg->enabled && c->verdict == NULL &&
	    spr_auth_sip_scope(m->method) != 0 && auth_gate(c, m, src, now, w))
		return w->len;
	switch (m->method) {
	case SPR_SIP_REGISTER: {
		struct spr_reg_ctx rc = spr_proc_reg_ctx(c);

		c->cnt.reg_requests++;
		spr_reg_handle(&rc, m, src, now, w);
		spr_proc_reg_changed(c, now->sec);
		return w->len;
	}
	case SPR_SIP_PUBLISH: {
		struct spr_pres_ctx pc = spr_proc_pres_ctx(c);

		c->cnt.pub_requests++;
		if (spr_pres_handle(&pc, m, src, now, c->verdict, w) == SPR_PRES_PIDF_CHECK)
			c->pidf_check = 1;
		return w->len;
	}
	case SPR_SIP_SUBSCRIBE: {
		struct spr_subs_ctx sc = spr_proc_subs_ctx(c);

		c->cnt.sub_requests++;
		if (c->subs_cfg == NULL) {
			c->cnt.method_not_allowed++;
			return simple_reply(c, m, src, now, 405, "Method Not Allowed", &allow, w);
		}
		spr_subs_handle(&sc, m, src, now, w);
		return w->len;
	}
	case SPR_SIP_OPTIONS:
		if (m->ruri.scheme_id == SPR_URI_OTHER) {
			c->cnt.bad_uri_scheme++;
			return simple_reply(c, m, src, now, 416, "Unsupported URI Scheme", NULL, w);
		}
		if (spr_sip_hlist_first_unknown(&m->require, proc_supported, 1, &unknown)) {
			spr_wbuf_init(&uw, ubuf, sizeof(ubuf));
			SPR_WBUF_LIT(&uw, "Unsupported: ");
			spr_wbuf_str(&uw, &unknown);
			SPR_WBUF_LIT(&uw, "\r\n");
			c->cnt.bad_extension++;
			if (uw.overflow)
				return simple_reply(c, m, src, now, 420, "Bad Extension", NULL, w);
			return simple_reply(c, m, src, now, 420, "Bad Extension",
					    &(struct spr_str){ubuf, uw.len}, w);
		}
		c->cnt.options++;
		return simple_reply(c, m, src, now, 200, "OK", &opts, w);
	case SPR_SIP_CANCEL:
		c->cnt.cancel_no_txn++;
		return simple_reply(c, m, src, now, 481, "Call/Transaction Does Not Exist", NULL, w);
	case SPR_SIP_UNKNOWN:
		c->cnt.not_implemented++;
		return simple_reply(c, m, src, now, 501, "Not Implemented", &allow, w);
	default:
		c->cnt.method_not_allowed++;
		return simple_reply(c, m, src, now, 405, "Method Not Allowed", &allow, w);
	}
}

int
spr_sip_process_parse(struct spr_proc_ctx *c, struct spr_sip_msg *m, const char *pkt,
		      uint32_t len)
{
	c->cnt.rx_msgs++;
	/* with auth on, a Bearer token's check and its fingerprint's first step in one pass */
	c->lim.bearer_scan =
		c->auth_cfg != NULL && c->auth_cfg->enabled && c->auth_hooks.fp_of_poly != NULL
			? c->auth_hooks.scan
			: NULL;
	c->lim.bearer_scan_ctx = c->auth_hooks.cache;
	return spr_sip_parse(pkt, len, &c->lim, m);
}

uint32_t
spr_sip_process_msg(struct spr_proc_ctx *c, const struct spr_sip_msg *m, int rc,
		    const struct spr_peer *src, const struct spr_now *now, char *out, uint32_t cap)
{
	struct spr_wbuf w;
	uint32_t n;

	c->pidf_check = 0;
	c->auth_needed = 0;
	if (!m->start_ok) {
		c->cnt.drop_unparseable++;
		return 0;
	}
	if (!m->is_request) {
		c->cnt.drop_response++;
		return 0;
	}
	c->cnt.rx_requests++;
	if (m->method == SPR_SIP_ACK) {
		c->cnt.drop_ack++;
		return 0;
	}
	spr_wbuf_init(&w, out, cap);
	if (rc < 0) {
		enum spr_sip_err e = rc == -EAGAIN ? SPR_SIP_ERR_TRUNCATED : (enum spr_sip_err)m->err;

		if (m->n_via_fields == 0) {
			c->cnt.drop_no_via++;
			return 0;
		}
		c->cnt.parse_error++;
		c->cnt.parse_err[e]++;
		n = simple_reply(c, m, src, now, spr_sip_err_code(e), spr_sip_err_reason(e), NULL, &w);
	} else {
		n = dispatch(c, m, src, now, &w);
	}
	if (unlikely(w.overflow)) {
		c->cnt.reply_overflow++;
		return 0;
	}
	if (n == 0)
		return 0; /* c->pidf_check or c->auth_needed */
	c->cnt.replies++;
	return n;
}

uint32_t
spr_sip_process(struct spr_proc_ctx *c, const char *pkt, uint32_t len, const struct spr_peer *src,
		const struct spr_now *now, char *out, uint32_t cap)
{
	int rc = spr_sip_process_parse(c, &c->msg, pkt, len);

	return spr_sip_process_msg(c, &c->msg, rc, src, now, out, cap);
}
