/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Response building: bounded writes into a caller's buffer (the request's
 * mbuf on the DPDK backend). A write that does not fit sets overflow and
 * leaves the buffer as it was before that write; callers check overflow once
 * at the end and answer 500 or drop.
 */
#ifndef SPR_SIP_REPLY_H
#define SPR_SIP_REPLY_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <spr/sip_msg.h>
#include <spr/str.h>

struct spr_wbuf {
	char *p;
	uint32_t len;
	uint32_t cap;
	uint8_t overflow;
};

static inline void
spr_wbuf_init(struct spr_wbuf *w, char *p, uint32_t cap)
{
	w->p = p;
	w->len = 0;
	w->cap = cap;
	w->overflow = 0;
}

static inline void
spr_wbuf_put(struct spr_wbuf *w, const void *src, uint32_t n)
{
	if (unlikely(n > w->cap - w->len)) {
		w->overflow = 1;
		return;
	}
	memcpy(w->p + w->len, src, n);
	w->len += n;
}

#define SPR_WBUF_LIT(w, lit) spr_wbuf_put((w), (lit), sizeof(lit) - 1)

static inline void
spr_wbuf_str(struct spr_wbuf *w, const struct spr_str *s)
{
	spr_wbuf_put(w, s->p, s->len);
}

/* Decimal unsigned. */
void spr_wbuf_u32(struct spr_wbuf *w, uint32_t v);

/* A whole header line "Name: value\r\n"; name is a string literal. */
#define SPR_WBUF_HDR_U32(w, name, v)                                                               \
	do {                                                                                       \
		SPR_WBUF_LIT((w), name ": ");                                                      \
		spr_wbuf_u32((w), (v));                                                            \
		SPR_WBUF_LIT((w), "\r\n");                                                         \
	} while (0)
#define SPR_WBUF_HDR_STR(w, name, s)                                                               \
	do {                                                                                       \
		SPR_WBUF_LIT((w), name ": ");                                                      \
		spr_wbuf_str((w), (s));                                                            \
		SPR_WBUF_LIT((w), "\r\n");                                                         \
	} while (0)

/* A qvalue in thousandths as RFC 3261 writes it: "1", "0.5", "0.125". */
void spr_wbuf_q(struct spr_wbuf *w, uint16_t q);

/* A header value, with folded lines (CRLF + WSP) written as one SP. */
void spr_wbuf_value(struct spr_wbuf *w, const struct spr_str *v);

/* Where a request came from: the reply goes back there (RFC 3581). */
struct spr_peer {
	uint8_t family; /* AF_INET, AF_INET6 */
	uint16_t port;  /* host order */
	uint8_t addr[16];
};

/* Textual address of a peer ("192.0.2.1", "2001:db8::1"); bytes written. */
uint32_t spr_peer_format(const struct spr_peer *p, char *out, uint32_t cap);

/* Wall-clock second and its cached Date header value (RFC 3261 §20.17). */
struct spr_now {
	uint32_t sec; /* unix seconds */
	uint8_t date_len;
	char date[40];
};

/* Set the clock to unix second sec; the Date text is rebuilt only when sec changes. */
void spr_now_set(struct spr_now *now, uint32_t sec);

/* What every reply of this server carries. */
struct spr_reply_cfg {
	struct spr_str server; /* Server header value; empty: none */
};

/*
 * Status line and the headers copied from the request (RFC 3261 §8.2.6.2):
 * every Via (received= and rport= set on the top one, RFC 3581), From, To
 * (with to_tag added when the request's To has none and code > 100),
 * Call-ID, CSeq. Headers the request lacked are left out, so this also
 * answers a request whose parse failed part-way.
 */
void spr_sip_reply_head(struct spr_wbuf *w, const struct spr_sip_msg *m, const struct spr_peer *src,
			uint16_t code, const char *reason, const struct spr_str *to_tag);

/* Server, Date, Content-Length and the end of the header section; body may be NULL. */
void spr_sip_reply_tail(struct spr_wbuf *w, const struct spr_reply_cfg *cfg,
			const struct spr_now *now, const struct spr_str *body);

/*
 * When the reply written since start overflowed its buffer, write instead a
 * short "500 <reason>" with only the copied headers; returns whether it did.
 * Whatever the request changed stays changed: the 500 says the answer, not
 * the change, was lost.
 */
bool spr_sip_reply_fallback(struct spr_wbuf *w, uint32_t start, const struct spr_sip_msg *m,
			    const struct spr_peer *src, const struct spr_str *to_tag,
			    const struct spr_reply_cfg *cfg, const struct spr_now *now,
			    const char *reason);

/*
 * The To-tag this server gives a request: a stable function of Call-ID and
 * From-tag, so a retransmission gets the same tag. Writes 16 hex digits.
 */
void spr_sip_to_tag(const struct spr_sip_msg *m, char out[16]);

#endif /* SPR_SIP_REPLY_H */
