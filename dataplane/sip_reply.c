/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
#include <sys/socket.h>
#include <time.h>

#include "sip_reply.h"

const char spr_digits2[200] = "0001020304050607080910111213141516171819"
			      "2021222324252627282930313233343536373839"
			      "4041424344454647484950515253545556575859"
			      "6061626364656667686970717273747576777879"
			      "8081828384858687888990919293949596979899";

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
spr_wbuf_value_folded(struct spr_wbuf *w, const struct spr_str *v)
{
	const char *p = v->p, *end = v->p + v->len;
	const char *cr = spr_find_byte(p, v->len, '\r');

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
		cr = spr_find_byte(p, (uint32_t)(end - p), '\r');
	}
	spr_wbuf_put(w, p, (uint32_t)(end - p));
}

void
spr_wbuf_hdr_value_slow(struct spr_wbuf *w, const char *name, uint32_t nlen,
			const struct spr_str *v)
{
	char *o;

	if (spr_has_cr(v->p, v->len)) {
		spr_wbuf_put(w, name, nlen);
		spr_wbuf_value_folded(w, v);
		spr_wbuf_put(w, "\r\n", 2);
		return;
	}
	if ((o = spr_wbuf_room(w, nlen + v->len + 2)) == NULL)
		return;
	memcpy(o, name, nlen);
	memcpy(o + nlen, v->p, v->len);
	memcpy(o + nlen + v->len, "\r\n", 2);
	w->len += nlen + v->len + 2;
}

/* Each byte value as it starts a dotted quad: its digits, then '.', zero-padded to 4. */
#define IPV4_C0(b) ((b) < 10 ? '0' + (b) : (b) < 100 ? '0' + (b) / 10 : '0' + (b) / 100)
#define IPV4_C1(b) ((b) < 10 ? '.' : (b) < 100 ? '0' + (b) % 10 : '0' + (b) / 10 % 10)
#define IPV4_C2(b) ((b) < 10 ? 0 : (b) < 100 ? '.' : '0' + (b) % 10)
#define IPV4_C3(b) ((b) < 100 ? 0 : '.')
#define IPV4_OCT(b)                                                                                \
	{                                                                                          \
		(char)IPV4_C0(b), (char)IPV4_C1(b), (char)IPV4_C2(b), (char)IPV4_C3(b)             \
	}
#define IPV4_LEN(b) (2 + ((b) >= 10) + ((b) >= 100))
#define IPV4_X4(M, b) M(b), M((b) + 1), M((b) + 2), M((b) + 3)
#define IPV4_X16(M, b) IPV4_X4(M, b), IPV4_X4(M, (b) + 4), IPV4_X4(M, (b) + 8), IPV4_X4(M, (b) + 12)
#define IPV4_X64(M, b)                                                                             \
	IPV4_X16(M, b), IPV4_X16(M, (b) + 16), IPV4_X16(M, (b) + 32), IPV4_X16(M, (b) + 48)
#define IPV4_X256(M) IPV4_X64(M, 0), IPV4_X64(M, 64), IPV4_X64(M, 128), IPV4_X64(M, 192)

static const char ipv4_oct[256][4] = {IPV4_X256(IPV4_OCT)};
static const uint8_t ipv4_len[256] = {IPV4_X256(IPV4_LEN)}; /* its bytes with the '.' */

/*
 * Dotted quad into o, a table entry per byte (this runs for every reply).
 * Writes up to 16 bytes (the last entry's padding); returns the length, at most 15.
 */
static inline uint32_t
ipv4_format(const uint8_t a[4], char *o)
{
	uint32_t n = 0;

	for (int i = 0; i < 4; i++) {
		uint32_t b = a[i];

		memcpy(o + n, ipv4_oct[b], 4);
		n += ipv4_len[b];
	}
	return n - 1;
}

uint32_t
spr_peer_format(const struct spr_peer *pe, char *out, uint32_t cap)
{
	char tmp[INET6_ADDRSTRLEN];
	uint32_t n = 0;

	if (pe->family == AF_INET) {
		/* dotted quad by hand: this runs for every reply */
		if (likely(cap >= 16))
			return ipv4_format(pe->addr, out);
		n = ipv4_format(pe->addr, tmp);
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

/* The 16 lower-case hex digits of h into out, a nibble per byte (no table). */
static inline void
tag_hex16(uint64_t h, char out[16])
{
#ifdef __SSE2__
	const __m128i lo4 = _mm_set1_epi8(0x0f);
	__m128i v = _mm_cvtsi64_si128((long long)h);
	__m128i nib =
		_mm_unpacklo_epi8(_mm_and_si128(_mm_srli_epi64(v, 4), lo4), _mm_and_si128(v, lo4));
	__m128i gt9 = _mm_cmpgt_epi8(nib, _mm_set1_epi8(9));

	nib = _mm_add_epi8(nib, _mm_set1_epi8('0'));
	nib = _mm_add_epi8(nib, _mm_and_si128(gt9, _mm_set1_epi8('a' - '0' - 10)));
	_mm_storeu_si128((__m128i *)(void *)out, nib);
#else
	for (int i = 0; i < 8; i++) {
		uint32_t b = (uint32_t)(h >> (8 * i)) & 0xff;

		out[2 * i] = "0123456789abcdef"[b >> 4];
		out[2 * i + 1] = "0123456789abcdef"[b & 0xf];
	}
#endif
}

void
spr_sip_to_tag(const struct spr_sip_msg *m, char out[16])
{
	uint64_t h = spr_str_hash_words(spr_str_hash_words(0x5350524454414701ULL, &m->call_id), &m->from.tag);

	/* murmur3's finaliser: every input bit reaches every digit */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	tag_hex16(h, out);
}

/* Whether the via-param at p (up to end) is name (lower case), then WSP, then '=' or its end. */
static inline bool
via_param_is(const char *p, const char *end, const char *name, uint32_t n)
{
	if ((size_t)(end - p) < n)
		return false;
	for (uint32_t i = 0; i < n; i++)
		if (spr_ascii_lower(p[i]) != name[i])
			return false;
	for (p += n; p < end && (*p == ' ' || *p == '\t'); p++)
		;
	return p == end || *p == '=' || *p == ';';
}

#define VIA_SEMIS_MAX 16u

/*
 * One 16-byte block of top_via_copy() at p + at: copied to o + at, its CRs
 * into *acc, its ';'s past the first skip bytes (seen in the block before)
 * onto semi. False when there are more than VIA_SEMIS_MAX.
 */
static inline bool
via_block(char *o, const char *p, uint32_t at, uint32_t skip, __m128i *acc, uint16_t *semi,
	  uint32_t *ns)
{
	const __m128i b = _mm_loadu_si128((const __m128i *)(const void *)(p + at));
	uint32_t mask = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(b, _mm_set1_epi8(';'))) >> skip;

	_mm_storeu_si128((__m128i *)(void *)(o + at), b);
	*acc = _mm_or_si128(*acc, _mm_cmpeq_epi8(b, _mm_set1_epi8('\r')));
	for (; mask != 0; mask &= mask - 1) {
		if (*ns == VIA_SEMIS_MAX)
			return false;
		semi[(*ns)++] = (uint16_t)(at + skip + (uint32_t)__builtin_ctz(mask));
	}
	return true;
}

/*
 * The via-parm at p (n >= 16 bytes, room for it at o) copied whole in one
 * pass that also finds its CRs and ';'s; then the received and rport
 * parameters cut out of the copy, as write_top_via() does. Returns the
 * bytes kept, or 0 (o scribbled, nothing counted) when the general way must
 * do it: a CR (a folded line) or more than VIA_SEMIS_MAX parameters.
 */
static inline uint32_t
top_via_copy(char *o, const char *p, uint32_t n)
{
	__m128i acc = _mm_setzero_si128();
	uint16_t semi[VIA_SEMIS_MAX + 1];
	uint32_t ns = 0, wr = 0, run = 0, i;

	for (i = 0; i + 16 <= n; i += 16)
		if (!via_block(o, p, i, 0, &acc, semi, &ns))
			return 0;
	/* the last block overlaps: the bytes before i were seen */
	if (i < n && !via_block(o, p, n - 16, i - (n - 16), &acc, semi, &ns))
		return 0;
	if (_mm_movemask_epi8(acc) != 0)
		return 0;
	semi[ns] = (uint16_t)n;
	for (uint32_t k = 0; k < ns; k++) {
		const char *name = p + semi[k] + 1, *next = p + semi[k + 1];

		while (name < next && (*name == ' ' || *name == '\t'))
			name++;
		/* both names start with r or R: one test turns the others (branch) away */
		if (name < next && (*name | 0x20) == 'r' &&
		    (via_param_is(name, next, "received", 8) ||
		     via_param_is(name, next, "rport", 5))) {
			/* the run before it stays: moved down over what was cut */
			if (wr != run)
				memmove(o + wr, o + run, semi[k] - run);
			wr += semi[k] - run;
			run = semi[k + 1];
		}
	}
	if (wr != run && run != n)
		memmove(o + wr, o + run, n - run);
	return wr + n - run;
}

/*
 * The top via-parm with received= and rport= set (RFC 3261 §18.2.1,
 * RFC 3581 §4): an existing received or rport is dropped, the rest is
 * copied as written in runs between dropped parameters, and ours are
 * appended: received= always, rport= when the request asked for it.
 */
static void
write_top_via(struct spr_wbuf *w, const struct spr_sip_via *via, const struct spr_peer *src)
{
	const char *p = via->raw.p, *end = via->raw.p + via->raw.len, *run = p;
	const char *semi;
	uint32_t alen, kept;
	char *o;

	/* ";received=[" IPv6 "]" ";rport=" port: at most 10 + 47 + 7 + 5 */
#ifdef __SSE2__
	if (likely(via->raw.len >= 16 && via->raw.len <= UINT16_MAX &&
		   w->cap - w->len >= via->raw.len + 70) &&
	    (kept = top_via_copy(w->p + w->len, p, via->raw.len)) != 0) {
		w->len += kept;
		goto append;
	}
#endif
	semi = spr_find_byte(p, via->raw.len, ';');
	while (semi != NULL) {
		const char *name = semi + 1, *next;

		next = spr_find_byte(name, (uint32_t)(end - name), ';');
		if (next == NULL)
			next = end;
		while (name < next && (*name == ' ' || *name == '\t'))
			name++;
		if (via_param_is(name, next, "received", 8) ||
		    via_param_is(name, next, "rport", 5)) {
			spr_wbuf_value(w, &(struct spr_str){run, (uint32_t)(semi - run)});
			run = next;
		}
		semi = next != end ? next : NULL;
	}
	spr_wbuf_value(w, &(struct spr_str){run, (uint32_t)(end - run)});
	if (unlikely(w->cap - w->len < 70)) {
		w->overflow = 1;
		return;
	}
#ifdef __SSE2__
append:
#endif
	o = w->p + w->len;
	if (src->family == AF_INET) {
		memcpy(o, ";received=", 10);
		o += 10 + ipv4_format(src->addr, o + 10);
	} else if (src->family == AF_INET6 &&
		   (alen = spr_peer_format(src, o + 11, INET6_ADDRSTRLEN)) != 0) {
		memcpy(o, ";received=[", 11);
		o += 11 + alen;
		*o++ = ']';
	}
	if (via->has_rport) {
		memcpy(o, ";rport=", 7);
		o += 7 + spr_u32_write(o + 7, src->port);
	}
	w->len = (uint32_t)(o - w->p);
}

/*
 * The headers of spr_sip_reply_head() into w, a local copy of the caller's
 * buffer: its length stays in a register across the many small writes.
 */
static inline void
reply_head(struct spr_wbuf *w, const struct spr_sip_msg *m, const struct spr_peer *src,
	   uint16_t code, const char *reason, uint32_t rlen, const struct spr_str *to_tag)
{
	char *o;

	/* status line */
	if (likely(code >= 100 && code <= 999) && (o = spr_wbuf_room(w, 14 + rlen)) != NULL) {
		memcpy(o, "SIP/2.0 ", 8);
		o[8] = (char)('0' + code / 100);
		memcpy(o + 9, &spr_digits2[code % 100 * 2], 2);
		o[11] = ' ';
		spr_copy(o + 12, reason, rlen);
		memcpy(o + 12 + rlen, "\r\n", 2);
		w->len += 14 + rlen;
	} else {
		SPR_WBUF_LIT(w, "SIP/2.0 ");
		spr_wbuf_u32(w, code);
		SPR_WBUF_LIT(w, " ");
		spr_wbuf_put(w, reason, rlen);
		SPR_WBUF_LIT(w, "\r\n");
	}

	for (uint32_t i = 0; i < m->n_via_fields; i++) {
		const struct spr_str *f = &m->via_fields[i];

		if (i == 0 && m->via.raw.len != 0 && m->via.raw.p >= f->p &&
		    m->via.raw.p + m->via.raw.len <= f->p + f->len) {
			const char *after = m->via.raw.p + m->via.raw.len;

			SPR_WBUF_LIT(w, "Via: ");
			if (unlikely(m->via.raw.p != f->p))
				spr_wbuf_value(w, &(struct spr_str){
							  f->p, (uint32_t)(m->via.raw.p - f->p)});
			write_top_via(w, &m->via, src);
			if (unlikely(after != f->p + f->len))
				spr_wbuf_value(
					w, &(struct spr_str){after,
							     (uint32_t)(f->p + f->len - after)});
			SPR_WBUF_LIT(w, "\r\n");
		} else {
			SPR_WBUF_HDR_VALUE(w, "Via", f);
		}
	}
	if (m->from.raw.len != 0)
		SPR_WBUF_HDR_VALUE(w, "From", &m->from.raw);
	if (m->to.raw.len != 0) {
		const struct spr_str *v = &m->to.raw;
		bool tagged = !m->to.has_tag && code > 100 && (to_tag == NULL || to_tag->len != 0);
		uint32_t tlen = !tagged ? 0 : to_tag == NULL ? 16 : to_tag->len;

		o = w->p + w->len;
		if (likely(4 + v->len + 5 + tlen + 2 <= w->cap - w->len) &&
		    likely(!spr_copy_has_cr(o + 4, v->p, v->len))) {
			/* copied and checked for folds in one pass */
			memcpy(o, "To: ", 4);
			w->len += 4 + v->len;
			o += 4 + v->len;
		} else if (spr_has_cr(v->p, v->len)) {
			SPR_WBUF_LIT(w, "To: ");
			spr_wbuf_value_folded(w, v);
			o = spr_wbuf_room(w, 5 + tlen + 2);
		} else {
			o = spr_wbuf_room(w, 4 + v->len + 5 + tlen + 2); /* NULL: overflow */
		}
		if (o != NULL) {
			if (tagged) {
				memcpy(o, ";tag=", 5);
				if (to_tag == NULL)
					spr_sip_to_tag(m, o + 5);
				else
					memcpy(o + 5, to_tag->p, tlen);
				o += 5 + tlen;
				w->len += 5 + tlen;
			}
			memcpy(o, "\r\n", 2);
			w->len += 2;
		}
	}
	if (m->call_id.len != 0)
		SPR_WBUF_HDR_VALUE(w, "Call-ID", &m->call_id);
	if (m->cseq_method.len != 0 &&
	    (o = spr_wbuf_room(w, 6 + 10 + 1 + m->cseq_method.len + 2)) != NULL) {
		uint32_t n;

		memcpy(o, "CSeq: ", 6);
		n = 6 + spr_u32_write(o + 6, m->cseq);
		o[n++] = ' ';
		spr_copy(o + n, m->cseq_method.p, m->cseq_method.len);
		n += m->cseq_method.len;
		memcpy(o + n, "\r\n", 2);
		w->len += n + 2;
	}
}

void
spr_sip_reply_head_n(struct spr_wbuf *w, const struct spr_sip_msg *m, const struct spr_peer *src,
		     uint16_t code, const char *reason, uint32_t reason_len,
		     const struct spr_str *to_tag)
{
	struct spr_wbuf lw = *w;

	reply_head(&lw, m, src, code, reason, reason_len, to_tag);
	*w = lw;
}

void
spr_sip_reply_tail(struct spr_wbuf *w, const struct spr_reply_cfg *cfg, const struct spr_now *now,
		   const struct spr_str *body)
{
	uint32_t blen = body ? body->len : 0;
	uint32_t slen = cfg->server.len, dlen = now != NULL ? now->date_len : 0;
	/* "Server: " s CRLF "Date: " d CRLF "Content-Length: " n CRLF CRLF body */
	char *o = spr_wbuf_room(w, 8 + slen + 2 + 6 + dlen + 2 + 16 + 10 + 4 + blen);
	char *start = o;

	if (o == NULL)
		return;
	if (slen != 0) {
		memcpy(o, "Server: ", 8);
		spr_copy(o + 8, cfg->server.p, slen);
		memcpy(o + 8 + slen, "\r\n", 2);
		o += 8 + slen + 2;
	}
	if (dlen != 0) {
		memcpy(o, "Date: ", 6);
		spr_copy(o + 6, now->date, dlen);
		memcpy(o + 6 + dlen, "\r\n", 2);
		o += 6 + dlen + 2;
	}
	memcpy(o, "Content-Length: ", 16);
	if (blen == 0) {
		memcpy(o + 16, "0\r\n\r\n", 5);
		o += 21;
	} else {
		o += 16 + spr_u32_write(o + 16, blen);
		memcpy(o, "\r\n\r\n", 4);
		memcpy(o + 4, body->p, blen);
		o += 4 + blen;
	}
	w->len += (uint32_t)(o - start);
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
