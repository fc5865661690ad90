/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
#include <sys/socket.h>
#include <time.h>

#include "sip_reply.h"

void
spr_wbuf_u32(struct spr_wbuf *w, uint32_t v)
{
	char tmp[10];
	uint32_t i = sizeof(tmp);

	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	spr_wbuf_put(w, tmp + i, sizeof(tmp) - i);
}

void
spr_wbuf_q(struct spr_wbuf *w, uint16_t q)
{
	char tmp[5];
	uint32_t n = 1;

	if (q >= 1000) {
		SPR_WBUF_LIT(w, "1");
		return;
	}
	tmp[0] = '0';
	if (q != 0) {
		tmp[1] = '.';
		tmp[2] = (char)('0' + q / 100);
		tmp[3] = (char)('0' + q / 10 % 10);
		tmp[4] = (char)('0' + q % 10);
		n = 5;
		while (tmp[n - 1] == '0')
			n--;
	}
	spr_wbuf_put(w, tmp, n);
}

void
spr_wbuf_value(struct spr_wbuf *w, const struct spr_str *v)
{
	const char *p = v->p, *end = v->p + v->len;
	const char *cr;

	if (likely(v->len == 0 || (cr = memchr(p, '\r', v->len)) == NULL)) {
		spr_wbuf_str(w, v);
		return;
	}
	/* RFC 3261 §7.3.1: a folded line is equivalent to one SP. */
	while (cr != NULL) {
		const char *q = cr;

		spr_wbuf_put(w, p, (uint32_t)(cr - p));
		while (q < end && (*q == '\r' || *q == '\n' || *q == ' ' || *q == '\t'))
			q++;
		/* the value was trimmed, so whitespace before CR belongs to the fold */
		while (w->len > 0 && (w->p[w->len - 1] == ' ' || w->p[w->len - 1] == '\t'))
			w->len--;
		SPR_WBUF_LIT(w, " ");
		p = q;
		cr = memchr(p, '\r', (size_t)(end - p));
	}
	spr_wbuf_put(w, p, (uint32_t)(end - p));
}

uint32_t
spr_peer_format(const struct spr_peer *pe, char *out, uint32_t cap)
{
	char tmp[INET6_ADDRSTRLEN];
	uint32_t n = 0;

	if (pe->family == AF_INET) {
		/* dotted quad by hand: this runs for every reply */
		for (int i = 0; i < 4; i++) {
			uint8_t b = pe->addr[i];

			if (b >= 100)
				tmp[n++] = (char)('0' + b / 100);
			if (b >= 10)
				tmp[n++] = (char)('0' + b / 10 % 10);
			tmp[n++] = (char)('0' + b % 10);
			tmp[n++] = '.';
		}
		n--;
	} else if (pe->family == AF_INET6) {
		if (inet_ntop(AF_INET6, pe->addr, tmp, sizeof(tmp)) == NULL)
			return 0;
		n = (uint32_t)strlen(tmp);
	}
	if (n == 0 || n > cap)
		return 0;
	memcpy(out, tmp, n);
	return n;
}

void
spr_now_set(struct spr_now *now, uint32_t sec)
{
	struct tm tm;
	time_t t = (time_t)sec;

	if (now->date_len != 0 && now->sec == sec)
		return;
	now->sec = sec;
	gmtime_r(&t, &tm);
	now->date_len = (uint8_t)strftime(now->date, sizeof(now->date), "%a, %d %b %Y %H:%M:%S GMT",
					  &tm);
}

void
spr_sip_to_tag(const struct spr_sip_msg *m, char out[16])
{
	static const char hex[] = "0123456789abcdef";
	uint64_t h = spr_hash64(m->call_id.p, m->call_id.len, 0x5350524454414701ULL);

	h = spr_hash64(m->from.tag.p, m->from.tag.len, h);
	for (int i = 15; i >= 0; i--) {
		out[i] = hex[h & 0xf];
		h >>= 4;
	}
}

/*
 * The top via-parm with received= and rport= set (RFC 3261 §18.2.1,
 * RFC 3581 §4): an existing received is replaced, a bare rport gets the
 * source port, other parameters are kept as written.
 */
static void
write_top_via(struct spr_wbuf *w, const struct spr_sip_via *via, const struct spr_peer *src)
{
	const char *p = via->raw.p, *end = via->raw.p + via->raw.len;
	const char *semi = memchr(p, ';', via->raw.len);
	char addr[INET6_ADDRSTRLEN];
	uint32_t alen;

	if (semi == NULL)
		semi = end;
	spr_wbuf_value(w, &(struct spr_str){p, (uint32_t)(semi - p)});
	for (p = semi; p < end;) {
		const char *next = memchr(p + 1, ';', (size_t)(end - p - 1));
		struct spr_str prm, name;
		const char *eq;

		if (next == NULL)
			next = end;
		prm = (struct spr_str){p + 1, (uint32_t)(next - p - 1)};
		eq = memchr(prm.p, '=', prm.len);
		name = (struct spr_str){prm.p, eq ? (uint32_t)(eq - prm.p) : prm.len};
		while (name.len && (name.p[name.len - 1] == ' ' || name.p[name.len - 1] == '\t'))
			name.len--;
		while (name.len && (name.p[0] == ' ' || name.p[0] == '\t')) {
			name.p++;
			name.len--;
		}
		if (!SPR_STR_CASEEQ_LIT(&name, "received") && !SPR_STR_CASEEQ_LIT(&name, "rport")) {
			SPR_WBUF_LIT(w, ";");
			spr_wbuf_value(w, &prm);
		}
		p = next;
	}
	alen = spr_peer_format(src, addr, sizeof(addr));
	if (alen != 0) {
		SPR_WBUF_LIT(w, ";received=");
		if (src->family == AF_INET6)
			SPR_WBUF_LIT(w, "[");
		spr_wbuf_put(w, addr, alen);
		if (src->family == AF_INET6)
			SPR_WBUF_LIT(w, "]");
	}
	if (via->has_rport) {
		SPR_WBUF_LIT(w, ";rport=");
		spr_wbuf_u32(w, src->port);
	}
}

void
spr_sip_reply_head(struct spr_wbuf *w, const struct spr_sip_msg *m, const struct spr_peer *src,
		   uint16_t code, const char *reason, const struct spr_str *to_tag)
{
	SPR_WBUF_LIT(w, "SIP/2.0 ");
	spr_wbuf_u32(w, code);
	SPR_WBUF_LIT(w, " ");
	spr_wbuf_put(w, reason, (uint32_t)strlen(reason));
	SPR_WBUF_LIT(w, "\r\n");

	for (uint32_t i = 0; i < m->n_via_fields; i++) {
		const struct spr_str *f = &m->via_fields[i];

		SPR_WBUF_LIT(w, "Via: ");
		if (i == 0 && m->via.raw.len != 0 && m->via.raw.p >= f->p &&
		    m->via.raw.p + m->via.raw.len <= f->p + f->len) {
			const char *after = m->via.raw.p + m->via.raw.len;

			spr_wbuf_value(w, &(struct spr_str){f->p, (uint32_t)(m->via.raw.p - f->p)});
			write_top_via(w, &m->via, src);
			spr_wbuf_value(w, &(struct spr_str){after, (uint32_t)(f->p + f->len - after)});
		} else {
			spr_wbuf_value(w, f);
		}
		SPR_WBUF_LIT(w, "\r\n");
	}
	if (m->from.raw.len != 0) {
		SPR_WBUF_LIT(w, "From: ");
		spr_wbuf_value(w, &m->from.raw);
		SPR_WBUF_LIT(w, "\r\n");
	}
	if (m->to.raw.len != 0) {
		SPR_WBUF_LIT(w, "To: ");
		spr_wbuf_value(w, &m->to.raw);
		if (!m->to.has_tag && code > 100 && to_tag != NULL && to_tag->len != 0) {
			SPR_WBUF_LIT(w, ";tag=");
			spr_wbuf_str(w, to_tag);
		}
		SPR_WBUF_LIT(w, "\r\n");
	}
	if (m->call_id.len != 0) {
		SPR_WBUF_LIT(w, "Call-ID: ");
		spr_wbuf_value(w, &m->call_id);
		SPR_WBUF_LIT(w, "\r\n");
	}
	if (m->cseq_method.len != 0) {
		SPR_WBUF_LIT(w, "CSeq: ");
		spr_wbuf_u32(w, m->cseq);
		SPR_WBUF_LIT(w, " ");
		spr_wbuf_str(w, &m->cseq_method);
		SPR_WBUF_LIT(w, "\r\n");
	}
}

void
spr_sip_reply_tail(struct spr_wbuf *w, const struct spr_reply_cfg *cfg, const struct spr_now *now,
		   const struct spr_str *body)
{
	uint32_t blen = body ? body->len : 0;

	if (cfg->server.len != 0) {
		SPR_WBUF_LIT(w, "Server: ");
		spr_wbuf_str(w, &cfg->server);
		SPR_WBUF_LIT(w, "\r\n");
	}
	if (now != NULL && now->date_len != 0) {
		SPR_WBUF_LIT(w, "Date: ");
		spr_wbuf_put(w, now->date, now->date_len);
		SPR_WBUF_LIT(w, "\r\n");
	}
	SPR_WBUF_LIT(w, "Content-Length: ");
	spr_wbuf_u32(w, blen);
	SPR_WBUF_LIT(w, "\r\n\r\n");
	if (blen != 0)
		spr_wbuf_str(w, body);
}

bool
spr_sip_reply_fallback(struct spr_wbuf *w, uint32_t start, const struct spr_sip_msg *m,
		       const struct spr_peer *src, const struct spr_str *to_tag,
		       const struct spr_reply_cfg *cfg, const struct spr_now *now, const char *reason)
{
	if (likely(!w->overflow))
		return false;
	w->len = start;
	w->overflow = 0;
	spr_sip_reply_head(w, m, src, 500, reason, to_tag);
	spr_sip_reply_tail(w, cfg, now, NULL);
	return true;
}
