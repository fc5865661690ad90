/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sprblast: a UDP SIP load generator for sprd (issue 6).
 *
 * Threads own disjoint user ranges and their own sockets; each keeps a window
 * of requests in flight (closed loop) or sends at a token-bucket rate never
 * exceeding that window. A request is matched to its answer by the 64-bit id in
 * its Via branch (z9hG4bK-sb-<16 hex>: thread, sequence, slot), which indexes
 * the thread's in-flight table directly. Counters and the latency histogram are
 * per thread and summed at the end. --pcap-out writes the same requests as a
 * classic pcap instead of sending them. `sprblast --help` lists the options;
 * the scenarios are described in usage() below.
 *
 * Requests have the shape of perf/bench_sip.c's softphone REGISTER (7-digit
 * user numbers u0000000.., 10-digit CSeq) so figures compare.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/random.h>
#include <sys/socket.h>

#include <jansson.h>

#include <spr/str.h>

#define SB_MAX_USERS 10000000u /* user numbers have 7 digits */
#define SB_MAX_THREADS 64u
#define SB_MAX_SOCKETS 1024u
#define SB_MAX_WINDOW 65536u /* the slot is the low 16 bits of the id */
#define SB_MAX_TOKEN 1024u
#define SB_BURST 64u
#define SB_BUF 4096u	       /* one request: the longest (PUBLISH + 1 KiB token) is < 2.5 KiB */
#define SB_RX_BUF 16384u       /* longer datagrams are read truncated: headers are enough */
#define SB_TAG_MAX 62u	       /* longest ETag / To-tag kept */
#define SB_SCAN_NS 10000000ull /* timeout / retransmission scan period */
#define SB_T1_NS 500000000ull  /* RFC 3261 T1, first retransmission */
#define SB_T2_NS 4000000000ull /* RFC 3261 T2, retransmission interval cap */
#define NS 1000000000ull

#define SB_FOREACH_METHOD(X) X(REGISTER) X(PUBLISH) X(SUBSCRIBE)
enum sb_method {
#define X(m) SB_##m,
	SB_FOREACH_METHOD(X)
#undef X
		SB_METHODS
};
static const char *const sb_method_name[] = {
#define X(m) #m,
	SB_FOREACH_METHOD(X)
#undef X
};

#define SB_FOREACH_SCENARIO(X) X(register) X(refresh) X(publish) X(subscribe) X(mix)
enum sb_scenario {
#define X(s) SB_SC_##s,
	SB_FOREACH_SCENARIO(X)
#undef X
};
static const char *const sb_scenario_name[] = {
#define X(s) #s,
	SB_FOREACH_SCENARIO(X)
#undef X
};

struct sb_opts {
	struct sockaddr_in target;
	struct in_addr bind;
	bool have_target;
	bool have_bind;
	bool retransmit;
	bool json;
	bool pcap_per_socket;
	enum sb_scenario scenario;
	uint32_t users;
	uint32_t user_base;
	double rate;
	uint32_t window; /* per thread */
	uint32_t duration_s;
	uint32_t sockets;
	uint32_t threads;
	uint32_t timeout_ms;
	uint32_t expires;
	uint32_t sub_expires;
	uint32_t mix[SB_METHODS]; /* weights */
	const char *domain;
	uint32_t domain_len;
	const char *netns;
	const char *token_file;
	char **tokens;
	uint32_t *token_len;
	uint32_t n_tokens;
	const char *pcap_out;
	uint32_t pcap_rounds;
	uint32_t pcap_net;    /* host order */
	uint32_t pcap_prefix; /* bits */
	uint16_t pcap_sport;
	struct sockaddr_in pcap_dst;
	bool have_pcap_dst;
	uint8_t pcap_dmac[6];
	uint32_t run_id; /* in Call-IDs and tags, so runs against one sprd never collide */
};

/* Latency histogram, log-linear on nanoseconds: exact below 128 ns, then 64 buckets per power
 * of two (<= 1.6% wide) up to 2^41 ns. */
#define SB_HIST_BUCKETS (35u * 64u + 128u)
struct sb_hist {
	uint64_t n, min, max, sum;
	uint64_t b[SB_HIST_BUCKETS];
};

struct sb_mstats {
	uint64_t sent, answered, timeouts, retransmits, provisional;
	uint64_t by_status[600]; /* 100..699 */
};

struct sb_stats {
	struct sb_mstats m[SB_METHODS];
	uint64_t late;	       /* answers to no request in flight (after a timeout, duplicates) */
	uint64_t unmatched;    /* responses without our branch, unparseable datagrams */
	uint64_t send_blocked; /* requests put back: socket buffer full or an ICMP error pending */
	uint64_t send_errors;
	uint64_t icmp_refused;
	uint64_t notify_in, notify_replied, other_requests_in;
	uint64_t t_start, t_end;
	struct sb_hist h;
};

struct sb_user {
	uint32_t cseq[SB_METHODS]; /* last CSeq sent on the method's Call-ID */
	uint16_t gen[SB_METHODS];  /* Call-ID generation: a new dialog takes a new Call-ID */
	uint8_t busy;		   /* a request of this user is in flight */
	uint8_t done;		   /* once-mode: answered or timed out */
};

/* Presence state of a user: the ETag of its publication, the To-tag of its subscription. */
struct sb_pres {
	uint8_t etag_len, totag_len;
	char etag[SB_TAG_MAX];
	char totag[SB_TAG_MAX];
};

struct sb_local {
	char host[INET_ADDRSTRLEN];
	char hp[INET_ADDRSTRLEN + 6];
	uint8_t host_len, hp_len;
};

struct sb_sock {
	int fd;
	struct sb_local l;
	uint32_t n_users; /* the thread's users j with j % n_socks == this socket's index */
	uint32_t cursor;
	uint32_t idle; /* users not busy and not done */
};

struct sb_slot {
	uint64_t id; /* 0: free */
	uint64_t t_sent;
	uint64_t t_retx;
	uint64_t retx_ivl;
	uint32_t user; /* thread-local index */
	uint32_t cseq;
	uint8_t method;
};

struct sb_req {
	uint32_t user; /* global user number */
	uint32_t cseq;
	uint16_t gen;
	enum sb_method m;
	uint64_t branch;
	const struct sb_pres *ps; /* NULL or no tag: an initial request */
	const char *token;
	uint32_t token_len;
};

struct sb_thread {
	const struct sb_opts *o;
	pthread_t tid;
	pthread_barrier_t *barrier;
	uint32_t idx;
	struct sb_sock *socks;
	uint32_t n_socks;
	struct pollfd *pfd;
	struct sb_user *users;
	struct sb_pres *pres; /* NULL unless the scenario publishes or subscribes */
	uint32_t n_users;
	uint32_t first_user; /* global index of users[0] */
	bool once;	     /* every user gets one request (register, setup) */
	bool closed_loop;
	uint32_t todo; /* once-mode: users not done */
	struct sb_slot *slots;
	uint32_t *free_slots;
	uint32_t n_free;
	uint32_t window;
	uint64_t seq;
	uint64_t last_answer;
	double rate, tokens, burst;
	uint64_t t_tokens;
	uint64_t rng;
	uint32_t next_sock;
	struct sb_stats setup, run;
	struct sb_stats *cur;
	struct mmsghdr tx_msg[SB_BURST];
	struct iovec tx_iov[SB_BURST];
	uint32_t tx_slot[SB_BURST];
	char *tx_buf;
	struct mmsghdr rx_msg[SB_BURST];
	struct iovec rx_iov[SB_BURST];
	char *rx_buf;
	char *reply;
};

static volatile sig_atomic_t sb_stop;

static void
sb_on_signal(int sig)
{
	(void)sig;
	sb_stop = 1;
}

static inline uint64_t
sb_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS + (uint64_t)ts.tv_nsec;
}

static inline uint64_t
sb_rand(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1Dull;
}

/* --- histogram --- */

static inline uint32_t
sb_hist_idx(uint64_t v)
{
	int shift;

	if (v < 128)
		return (uint32_t)v;
	if (v >= (1ull << 41))
		v = (1ull << 41) - 1;
	shift = 63 - __builtin_clzll(v) - 6;
	return (uint32_t)shift * 64 + (uint32_t)(v >> shift);
}

static uint64_t
sb_hist_mid(uint32_t idx)
{
	uint32_t shift;

	if (idx < 128)
		return idx;
	shift = idx / 64 - 1;
	return ((uint64_t)(idx % 64 + 64) << shift) + ((1ull << shift) >> 1);
}

static inline void
sb_hist_add(struct sb_hist *h, uint64_t v)
{
	h->b[sb_hist_idx(v)]++;
	if (h->n == 0 || v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
	h->n++;
	h->sum += v;
}

static void
sb_hist_merge(struct sb_hist *d, const struct sb_hist *s)
{
	if (s->n == 0)
		return;
	if (d->n == 0 || s->min < d->min)
		d->min = s->min;
	if (s->max > d->max)
		d->max = s->max;
	d->n += s->n;
	d->sum += s->sum;
	for (uint32_t i = 0; i < SB_HIST_BUCKETS; i++)
		d->b[i] += s->b[i];
}

/* Value at percentile p (0..100] in ns: the middle of the bucket holding that rank, within
 * [min, max]. */
static uint64_t
sb_hist_pct(const struct sb_hist *h, double p)
{
	uint64_t rank, c = 0;

	if (h->n == 0)
		return 0;
	rank = (uint64_t)(p / 100.0 * (double)h->n);
	if ((double)rank < p / 100.0 * (double)h->n)
		rank++; /* ceil */
	if (rank == 0)
		rank = 1;
	for (uint32_t i = 0; i < SB_HIST_BUCKETS; i++) {
		c += h->b[i];
		if (c >= rank) {
			uint64_t v = sb_hist_mid(i);

			return v < h->min ? h->min : v > h->max ? h->max : v;
		}
	}
	return h->max;
}

static void
sb_stats_merge(struct sb_stats *d, const struct sb_stats *s)
{
	for (int m = 0; m < SB_METHODS; m++) {
		d->m[m].sent += s->m[m].sent;
		d->m[m].answered += s->m[m].answered;
		d->m[m].timeouts += s->m[m].timeouts;
		d->m[m].retransmits += s->m[m].retransmits;
		d->m[m].provisional += s->m[m].provisional;
		for (int c = 0; c < 600; c++)
			d->m[m].by_status[c] += s->m[m].by_status[c];
	}
	d->late += s->late;
	d->unmatched += s->unmatched;
	d->send_blocked += s->send_blocked;
	d->send_errors += s->send_errors;
	d->icmp_refused += s->icmp_refused;
	d->notify_in += s->notify_in;
	d->notify_replied += s->notify_replied;
	d->other_requests_in += s->other_requests_in;
	if (s->t_start != 0 && (d->t_start == 0 || s->t_start < d->t_start))
		d->t_start = s->t_start;
	if (s->t_end > d->t_end)
		d->t_end = s->t_end;
	sb_hist_merge(&d->h, &s->h);
}

/* --- request building: bounded appends into a buffer of SB_BUF bytes --- */

struct sb_w {
	char *p;
};

static inline void
w_mem(struct sb_w *w, const void *s, size_t n)
{
	memcpy(w->p, s, n);
	w->p += n;
}

#define W_LIT(w, s) w_mem((w), (s), sizeof(s) - 1)

static inline void
w_dec(struct sb_w *w, uint32_t v, int width)
{
	for (int i = width - 1; i >= 0; i--) {
		w->p[i] = (char)('0' + v % 10);
		v /= 10;
	}
	w->p += width;
}

static inline void
w_u32(struct sb_w *w, uint32_t v)
{
	char t[10];
	int n = 0;

	do {
		t[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	while (n > 0)
		*w->p++ = t[--n];
}

static inline void
w_hex(struct sb_w *w, uint64_t v, int width)
{
	static const char hex[] = "0123456789abcdef";

	for (int i = width - 1; i >= 0; i--) {
		w->p[i] = hex[v & 15];
		v >>= 4;
	}
	w->p += width;
}

static inline void
w_user(struct sb_w *w, uint32_t user)
{
	*w->p++ = 'u';
	w_dec(w, user, 7);
}

static inline void
w_aor(struct sb_w *w, const struct sb_opts *o, uint32_t user)
{
	W_LIT(w, "<sip:");
	w_user(w, user);
	*w->p++ = '@';
	w_mem(w, o->domain, o->domain_len);
	*w->p++ = '>';
}

static const char sb_pidf_1[] = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n"
				"<presence xmlns=\"urn:ietf:params:xml:ns:pidf\" entity=\"sip:";
static const char sb_pidf_2[] = "\">\r\n"
				"<tuple id=\"sb\"><status><basic>open</basic></status></tuple>\r\n"
				"</presence>\r\n";

/* The request r from local address l, into buf (SB_BUF bytes); returns its length. */
static uint32_t
sb_build(char *buf, const struct sb_opts *o, const struct sb_local *l, const struct sb_req *r)
{
	struct sb_w w = {buf};
	const char *mn = sb_method_name[r->m];
	uint32_t mlen = (uint32_t)strlen(mn), peer = r->user;
	uint64_t ftag = ((uint64_t)o->run_id << 16 ^ (uint64_t)r->user * 2654435761u) + r->m;
	bool in_dialog = false;

	/* a watcher subscribes to the next user's presence */
	if (r->m == SB_SUBSCRIBE)
		peer = r->user + 1 < o->user_base + o->users ? r->user + 1 : o->user_base;
	w_mem(&w, mn, mlen);
	W_LIT(&w, " sip:");
	if (r->m != SB_REGISTER) {
		w_user(&w, peer);
		*w.p++ = '@';
	}
	w_mem(&w, o->domain, o->domain_len);
	W_LIT(&w, " SIP/2.0\r\nVia: SIP/2.0/UDP ");
	w_mem(&w, l->hp, l->hp_len);
	W_LIT(&w, ";branch=z9hG4bK-sb-");
	w_hex(&w, r->branch, 16);
	W_LIT(&w, ";rport\r\nMax-Forwards: 70\r\n");
	if (r->m != SB_PUBLISH) {
		W_LIT(&w, "Contact: <sip:");
		w_user(&w, r->user);
		*w.p++ = '@';
		w_mem(&w, l->hp, l->hp_len);
		W_LIT(&w, ";transport=udp>");
		if (r->m == SB_REGISTER) {
			W_LIT(&w, ";expires=");
			w_u32(&w, o->expires);
		}
		W_LIT(&w, "\r\n");
	}
	W_LIT(&w, "To: ");
	w_aor(&w, o, peer);
	if (r->m == SB_SUBSCRIBE && r->ps != NULL && r->ps->totag_len != 0) {
		W_LIT(&w, ";tag=");
		w_mem(&w, r->ps->totag, r->ps->totag_len);
		in_dialog = true;
	}
	W_LIT(&w, "\r\nFrom: ");
	w_aor(&w, o, r->user);
	W_LIT(&w, ";tag=");
	w_hex(&w, ftag, 12);
	W_LIT(&w, "\r\nCall-ID: ");
	w_user(&w, r->user);
	*w.p++ = '-';
	w_hex(&w, (uint64_t)o->run_id << 32 | (uint64_t)r->m << 28 | r->gen, 16);
	*w.p++ = '@';
	w_mem(&w, l->host, l->host_len);
	W_LIT(&w, "\r\nCSeq: ");
	w_dec(&w, r->cseq, 10);
	*w.p++ = ' ';
	w_mem(&w, mn, mlen);
	W_LIT(&w, "\r\n");
	if (r->m != SB_REGISTER)
		W_LIT(&w, "Event: presence\r\n");
	if (r->m == SB_SUBSCRIBE)
		W_LIT(&w, "Accept: application/pidf+xml\r\n");
	W_LIT(&w, "Expires: ");
	w_u32(&w, r->m == SB_SUBSCRIBE ? o->sub_expires : o->expires);
	W_LIT(&w, "\r\n");
	if (r->m == SB_PUBLISH && r->ps != NULL && r->ps->etag_len != 0) {
		W_LIT(&w, "SIP-If-Match: ");
		w_mem(&w, r->ps->etag, r->ps->etag_len);
		W_LIT(&w, "\r\n");
		in_dialog = true; /* a refresh: no body (RFC 3903 s4.2) */
	}
	if (r->m == SB_REGISTER)
		W_LIT(&w, "Allow: INVITE, ACK, CANCEL, BYE, NOTIFY, REFER, MESSAGE, OPTIONS, INFO, "
			  "SUBSCRIBE\r\nSupported: replaces, path, gruu\r\n");
	W_LIT(&w, "User-Agent: sprblast/0.1 SIP-T46S 66.86\r\n");
	if (r->token != NULL) {
		W_LIT(&w, "Authorization: Bearer ");
		w_mem(&w, r->token, r->token_len);
		W_LIT(&w, "\r\n");
	}
	if (r->m == SB_PUBLISH && !in_dialog) {
		uint32_t blen = (uint32_t)(sizeof(sb_pidf_1) - 1 + 9 + o->domain_len +
					   sizeof(sb_pidf_2) - 1);

		W_LIT(&w, "Content-Type: application/pidf+xml\r\nContent-Length: ");
		w_u32(&w, blen);
		W_LIT(&w, "\r\n\r\n");
		W_LIT(&w, sb_pidf_1);
		w_user(&w, r->user);
		*w.p++ = '@';
		w_mem(&w, o->domain, o->domain_len);
		W_LIT(&w, sb_pidf_2);
	} else {
		W_LIT(&w, "Content-Length: 0\r\n\r\n");
	}
	return (uint32_t)(w.p - buf);
}

/* --- response parsing (views into the datagram, nothing copied) --- */

/* Value of header name (or its compact form c, may be NULL), first occurrence; false if none. */
static bool
sb_hdr(const char *buf, uint32_t len, const char *name, const char *c, const char **v, uint32_t *vl)
{
	const char *p = buf, *end = buf + len;
	size_t nl = strlen(name), cl = c != NULL ? strlen(c) : 0;

	p = memchr(p, '\n', len);
	while (p != NULL && ++p < end && *p != '\r' && *p != '\n') {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *le = eol != NULL ? eol : end, *colon = memchr(p, ':', (size_t)(le - p));

		if (colon != NULL) {
			const char *ne = colon;

			while (ne > p && (ne[-1] == ' ' || ne[-1] == '\t'))
				ne--;
			if (((size_t)(ne - p) == nl && strncasecmp(p, name, nl) == 0) ||
			    (cl != 0 && (size_t)(ne - p) == cl && strncasecmp(p, c, cl) == 0)) {
				const char *vs = colon + 1, *ve = le;

				while (vs < ve && (*vs == ' ' || *vs == '\t'))
					vs++;
				while (ve > vs &&
				       (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t'))
					ve--;
				*v = vs;
				*vl = (uint32_t)(ve - vs);
				return true;
			}
		}
		p = eol;
	}
	return false;
}

/* --- the in-flight table --- */

static inline uint64_t
sb_id(const struct sb_thread *t, uint32_t slot)
{
	return (uint64_t)t->idx << 56 | (t->seq & 0xffffffffffull) << 16 | slot;
}

static inline struct sb_sock *
sb_user_sock(struct sb_thread *t, uint32_t j)
{
	return &t->socks[j % t->n_socks];
}

static inline uint32_t
sb_inflight(const struct sb_thread *t)
{
	return t->window - t->n_free;
}

/* The request a slot stands for, as built (again, for a retransmission). */
static void
sb_slot_req(const struct sb_thread *t, const struct sb_slot *sl, struct sb_req *r)
{
	const struct sb_opts *o = t->o;
	uint32_t g = t->first_user + sl->user;

	r->user = o->user_base + g;
	r->cseq = sl->cseq;
	r->m = (enum sb_method)sl->method;
	r->gen = t->users[sl->user].gen[sl->method];
	r->branch = sl->id;
	r->ps = t->pres != NULL ? &t->pres[sl->user] : NULL;
	r->token = o->n_tokens != 0 ? o->tokens[g % o->n_tokens] : NULL;
	r->token_len = o->n_tokens != 0 ? o->token_len[g % o->n_tokens] : 0;
}

/* Frees a slot. answered/timed out: a final outcome (once-mode marks the user done);
 * otherwise the request was never sent and the user is eligible again. */
static void
sb_release(struct sb_thread *t, uint32_t slot, bool final)
{
	struct sb_slot *sl = &t->slots[slot];
	struct sb_user *u = &t->users[sl->user];

	u->busy = 0;
	if (final && t->once) {
		u->done = 1;
		t->todo--;
	} else {
		sb_user_sock(t, sl->user)->idle++;
	}
	sl->id = 0;
	t->free_slots[t->n_free++] = slot;
}

/* A request got no final answer: its dialog state is dropped, so the next is initial. */
static void
sb_forget(struct sb_thread *t, const struct sb_slot *sl)
{
	if (t->pres == NULL)
		return;
	if (sl->method == SB_PUBLISH)
		t->pres[sl->user].etag_len = 0;
	if (sl->method == SB_SUBSCRIBE) {
		t->pres[sl->user].totag_len = 0;
		t->users[sl->user].gen[SB_SUBSCRIBE]++;
	}
}

static uint32_t
sb_pick(struct sb_thread *t, struct sb_sock *s, uint32_t si)
{
	if (s->idle == 0)
		return UINT32_MAX;
	for (uint32_t k = 0; k < s->n_users; k++) {
		uint32_t j = si + s->cursor * t->n_socks;
		struct sb_user *u = &t->users[j];

		if (++s->cursor == s->n_users)
			s->cursor = 0;
		if (!u->busy && !u->done) {
			u->busy = 1;
			s->idle--;
			return j;
		}
	}
	return UINT32_MAX;
}

static enum sb_method
sb_choose(const struct sb_opts *o, uint64_t *rng, bool once)
{
	uint32_t r;

	if (once)
		return SB_REGISTER;
	switch (o->scenario) {
	case SB_SC_publish:
		return SB_PUBLISH;
	case SB_SC_subscribe:
		return SB_SUBSCRIBE;
	case SB_SC_mix:
		r = (uint32_t)(sb_rand(rng) % (o->mix[0] + o->mix[1] + o->mix[2]));
		if (r < o->mix[SB_REGISTER])
			return SB_REGISTER;
		return r < o->mix[SB_REGISTER] + o->mix[SB_PUBLISH] ? SB_PUBLISH : SB_SUBSCRIBE;
	default:
		return SB_REGISTER;
	}
}

/* Builds up to max requests for socket si's users and sends them with one sendmmsg; requests
 * the kernel did not take are put back. Returns the number sent. */
static uint32_t
sb_send_burst(struct sb_thread *t, uint32_t si, uint32_t max, uint64_t now)
{
	struct sb_sock *s = &t->socks[si];
	uint32_t n = 0, sent;
	int rc;

	while (n < max && t->n_free != 0) {
		uint32_t j = sb_pick(t, s, si), slot;
		struct sb_slot *sl;
		struct sb_req r;

		if (j == UINT32_MAX)
			break;
		slot = t->free_slots[--t->n_free];
		sl = &t->slots[slot];
		t->seq++;
		sl->id = sb_id(t, slot);
		sl->user = j;
		sl->method = (uint8_t)sb_choose(t->o, &t->rng, t->once);
		sl->cseq = t->users[j].cseq[sl->method] + 1;
		sb_slot_req(t, sl, &r);
		t->tx_iov[n].iov_len = sb_build(t->tx_buf + (size_t)n * SB_BUF, t->o, &s->l, &r);
		t->tx_slot[n] = slot;
		n++;
	}
	if (n == 0)
		return 0;
	rc = sendmmsg(s->fd, t->tx_msg, n, MSG_DONTWAIT);
	if (rc < 0) {
		if (errno == ECONNREFUSED)
			t->cur->icmp_refused++;
		else if (errno != EAGAIN && errno != ENOBUFS)
			t->cur->send_errors++;
		sent = 0;
	} else {
		sent = (uint32_t)rc;
	}
	for (uint32_t i = 0; i < n; i++) {
		struct sb_slot *sl = &t->slots[t->tx_slot[i]];

		if (i < sent) {
			t->users[sl->user].cseq[sl->method] = sl->cseq;
			sl->t_sent = now;
			sl->retx_ivl = SB_T1_NS;
			sl->t_retx = now + SB_T1_NS;
			t->cur->m[sl->method].sent++;
		} else {
			t->cur->send_blocked++;
			sb_release(t, t->tx_slot[i], false);
		}
	}
	return sent;
}

static void
sb_fill(struct sb_thread *t, uint64_t now)
{
	uint32_t budget = t->n_free;
	bool progress = true;

	if (!t->closed_loop) {
		t->tokens += (double)(now - t->t_tokens) * t->rate / 1e9;
		if (t->tokens > t->burst)
			t->tokens = t->burst;
		t->t_tokens = now;
		if (t->tokens < (double)budget)
			budget = (uint32_t)t->tokens;
	}
	while (budget != 0 && progress) {
		progress = false;
		for (uint32_t k = 0; k < t->n_socks && budget != 0; k++) {
			uint32_t si = (t->next_sock + k) % t->n_socks, sent;

			sent = sb_send_burst(t, si, budget < SB_BURST ? budget : SB_BURST, now);
			budget -= sent;
			if (!t->closed_loop)
				t->tokens -= sent;
			progress |= sent != 0;
		}
		t->next_sock = (t->next_sock + 1) % t->n_socks;
	}
}

/* Timeouts and, with --retransmit, retransmissions (T1 doubling up to T2). */
static void
sb_scan(struct sb_thread *t, uint64_t now, bool all)
{
	uint64_t tmo = (uint64_t)t->o->timeout_ms * 1000000ull;

	for (uint32_t i = 0; i < t->window; i++) {
		struct sb_slot *sl = &t->slots[i];

		if (sl->id == 0)
			continue;
		if (all || now - sl->t_sent >= tmo) {
			t->cur->m[sl->method].timeouts++;
			sb_forget(t, sl);
			sb_release(t, i, true);
		} else if (t->o->retransmit && now >= sl->t_retx) {
			struct sb_sock *s = sb_user_sock(t, sl->user);
			struct sb_req r;
			uint32_t len;

			sb_slot_req(t, sl, &r);
			len = sb_build(t->tx_buf, t->o, &s->l, &r);
			if (send(s->fd, t->tx_buf, len, MSG_DONTWAIT) == (ssize_t)len)
				t->cur->m[sl->method].retransmits++;
			sl->retx_ivl = sl->retx_ivl * 2 < SB_T2_NS ? sl->retx_ivl * 2 : SB_T2_NS;
			sl->t_retx = now + sl->retx_ivl;
		}
	}
}

static void
sb_keep_tag(char *dst, uint8_t *dlen, const char *v, uint32_t vl)
{
	if (vl == 0 || vl > SB_TAG_MAX) {
		*dlen = 0;
		return;
	}
	memcpy(dst, v, vl);
	*dlen = (uint8_t)vl;
}

static void
sb_response(struct sb_thread *t, const char *buf, uint32_t len, uint64_t now)
{
	static const char br[] = "branch=z9hG4bK-sb-";
	const char *p, *eoh = memmem(buf, len, "\r\n\r\n", 4);
	uint32_t hl = eoh != NULL ? (uint32_t)(eoh - buf) : len, code, slot;
	uint64_t id = 0;
	struct sb_slot *sl;

	if (hl < 12 || buf[8] < '1' || buf[8] > '6' || buf[9] < '0' || buf[9] > '9' ||
	    buf[10] < '0' || buf[10] > '9') {
		t->cur->unmatched++;
		return;
	}
	code = (uint32_t)((buf[8] - '0') * 100 + (buf[9] - '0') * 10 + (buf[10] - '0'));
	p = memmem(buf, hl, br, sizeof(br) - 1);
	if (p == NULL || (uint32_t)(p - buf) + sizeof(br) - 1 + 16 > hl) {
		t->cur->unmatched++;
		return;
	}
	p += sizeof(br) - 1;
	for (int i = 0; i < 16; i++) {
		int h = spr_hexval(p[i]);

		if (h < 0) {
			t->cur->unmatched++;
			return;
		}
		id = id << 4 | (uint64_t)h;
	}
	slot = (uint32_t)(id & 0xffff);
	if (id >> 56 != t->idx || slot >= t->window || t->slots[slot].id != id) {
		t->cur->late++;
		return;
	}
	sl = &t->slots[slot];
	if (code < 200) {
		t->cur->m[sl->method].provisional++;
		return;
	}
	t->cur->m[sl->method].answered++;
	t->cur->m[sl->method].by_status[code - 100]++;
	sb_hist_add(&t->cur->h, now - sl->t_sent);
	t->last_answer = now;
	if (t->pres != NULL && sl->method != SB_REGISTER) {
		struct sb_pres *ps = &t->pres[sl->user];
		const char *v;
		uint32_t vl;

		if (code >= 300)
			sb_forget(t, sl);
		else if (sl->method == SB_PUBLISH && sb_hdr(buf, hl, "SIP-ETag", NULL, &v, &vl))
			sb_keep_tag(ps->etag, &ps->etag_len, v, vl);
		else if (sl->method == SB_PUBLISH)
			ps->etag_len = 0;
		else if (ps->totag_len == 0 && sb_hdr(buf, hl, "To", "t", &v, &vl) &&
			 (p = memmem(v, vl, ";tag=", 5)) != NULL) {
			const char *e = p + 5;

			while (e < v + vl && *e != ';' && *e != '>' && *e != ' ')
				e++;
			sb_keep_tag(ps->totag, &ps->totag_len, p + 5, (uint32_t)(e - p - 5));
		}
	}
	sb_release(t, slot, true);
}

/* An incoming request: NOTIFY gets 200 with its Via, From, To, Call-ID and CSeq (RFC 6665
 * s4.1.3); anything else is counted and ignored. */
static void
sb_request_in(struct sb_thread *t, struct sb_sock *s, const char *buf, uint32_t len)
{
	static const char *const copy[] = {"via", "v",	     "from", "f",   "to",
					   "t",	  "call-id", "i",    "cseq"};
	const char *p = buf, *end = buf + len;
	struct sb_w w = {t->reply};

	if (len < 7 || memcmp(buf, "NOTIFY ", 7) != 0) {
		t->cur->other_requests_in++;
		return;
	}
	t->cur->notify_in++;
	W_LIT(&w, "SIP/2.0 200 OK\r\n");
	p = memchr(p, '\n', len);
	while (p != NULL && ++p < end && *p != '\r' && *p != '\n') {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *le = eol != NULL ? eol + 1 : end, *ne = p;

		while (ne < le && *ne != ':' && *ne != ' ' && *ne != '\t')
			ne++;
		for (size_t k = 0; k < sizeof(copy) / sizeof(copy[0]); k++) {
			if (strlen(copy[k]) == (size_t)(ne - p) &&
			    strncasecmp(p, copy[k], (size_t)(ne - p)) == 0) {
				w_mem(&w, p, (size_t)(le - p));
				if (eol == NULL)
					W_LIT(&w, "\r\n");
				break;
			}
		}
		p = eol;
	}
	W_LIT(&w, "Content-Length: 0\r\n\r\n");
	if (send(s->fd, t->reply, (size_t)(w.p - t->reply), MSG_DONTWAIT) > 0)
		t->cur->notify_replied++;
}

static void
sb_rx(struct sb_thread *t, struct sb_sock *s)
{
	for (int k = 0; k < 8; k++) {
		int n = recvmmsg(s->fd, t->rx_msg, SB_BURST, MSG_DONTWAIT, NULL);
		uint64_t now;

		if (n < 0) {
			if (errno == ECONNREFUSED) {
				t->cur->icmp_refused++;
				continue;
			}
			return;
		}
		now = sb_now();
		for (int i = 0; i < n; i++) {
			const char *b = t->rx_buf + (size_t)i * SB_RX_BUF;
			uint32_t len = t->rx_msg[i].msg_len;

			if (len > SB_RX_BUF)
				len = SB_RX_BUF;
			if (len >= 8 && memcmp(b, "SIP/2.0 ", 8) == 0)
				sb_response(t, b, len, now);
			else
				sb_request_in(t, s, b, len);
		}
		if ((uint32_t)n < SB_BURST)
			return;
	}
}

static bool
sb_idle(const struct sb_thread *t)
{
	for (uint32_t i = 0; i < t->n_socks; i++)
		if (t->socks[i].idle != 0)
			return true;
	return false;
}

/* One phase: send until the deadline (or, once-mode, until every user is done), then wait for
 * what is in flight; bounded by deadline + timeout + 1 s. */
static void
sb_phase(struct sb_thread *t, uint64_t deadline)
{
	uint64_t tmo = (uint64_t)t->o->timeout_ms * 1000000ull;
	uint64_t now = sb_now(), hard = deadline + tmo + NS, next_scan = now + SB_SCAN_NS;
	uint64_t stopped = 0;
	bool sending = true;

	t->cur->t_start = now;
	t->last_answer = 0;
	t->t_tokens = now;
	t->tokens = 1;
	for (;;) {
		struct timespec ts;
		uint64_t wait;
		int rc;

		now = sb_now();
		if (sending && (now >= deadline || sb_stop || (t->once && t->todo == 0))) {
			sending = false;
			stopped = now;
		}
		if ((!sending && sb_inflight(t) == 0) || now >= hard)
			break;
		if (sending)
			sb_fill(t, now);
		if (sb_inflight(t) != 0 && now >= next_scan) {
			sb_scan(t, now, false);
			next_scan = now + SB_SCAN_NS;
		}
		wait = next_scan > now ? next_scan - now : 0;
		if (sending && t->n_free != 0 && sb_idle(t)) {
			if (t->closed_loop || t->tokens >= 1)
				wait = 0;
			else if ((uint64_t)((1 - t->tokens) * 1e9 / t->rate) < wait)
				wait = (uint64_t)((1 - t->tokens) * 1e9 / t->rate);
			if (deadline - now < wait)
				wait = deadline > now ? deadline - now : 0;
		}
		ts.tv_sec = (time_t)(wait / NS);
		ts.tv_nsec = (long)(wait % NS);
		rc = ppoll(t->pfd, t->n_socks, &ts, NULL);
		if (rc <= 0)
			continue;
		for (uint32_t i = 0; i < t->n_socks; i++)
			if (t->pfd[i].revents != 0)
				sb_rx(t, &t->socks[i]);
	}
	sb_scan(t, now, true); /* past the hard limit: what is left counts as timed out */
	t->cur->t_end = t->last_answer > stopped ? t->last_answer : stopped;
	if (t->cur->t_end == 0)
		t->cur->t_end = now;
}

static void
sb_reset_users(struct sb_thread *t)
{
	for (uint32_t j = 0; j < t->n_users; j++)
		t->users[j].done = 0;
	for (uint32_t s = 0; s < t->n_socks; s++)
		t->socks[s].idle = t->socks[s].n_users;
	t->todo = t->n_users;
}

static bool
sb_needs_setup(const struct sb_opts *o)
{
	return o->scenario == SB_SC_refresh || (o->scenario == SB_SC_mix && o->mix[SB_REGISTER]);
}

static void *
sb_thread_main(void *arg)
{
	struct sb_thread *t = arg;
	const struct sb_opts *o = t->o;

	if (sb_needs_setup(o)) {
		/* every user registered once, closed loop, measured apart */
		t->cur = &t->setup;
		t->once = true;
		t->closed_loop = true;
		sb_phase(t, sb_now() + (uint64_t)o->duration_s * NS);
		pthread_barrier_wait(t->barrier);
		sb_reset_users(t);
	}
	t->cur = &t->run;
	t->once = o->scenario == SB_SC_register;
	t->closed_loop = t->rate <= 0;
	sb_phase(t, sb_now() + (uint64_t)o->duration_s * NS);
	return NULL;
}

/* --- setup --- */

static int
sb_local_of(struct sb_local *l, const struct sockaddr_in *a)
{
	if (inet_ntop(AF_INET, &a->sin_addr, l->host, sizeof(l->host)) == NULL)
		return -errno;
	l->host_len = (uint8_t)strlen(l->host);
	l->hp_len = (uint8_t)snprintf(l->hp, sizeof(l->hp), "%s:%u", l->host, ntohs(a->sin_port));
	return 0;
}

static int
sb_open_socket(const struct sb_opts *o, struct sb_sock *s)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t al = sizeof(a);
	int buf = 8 << 20;

	s->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0)
		return -errno;
	if (setsockopt(s->fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf)) != 0)
		setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	if (setsockopt(s->fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof(buf)) != 0)
		setsockopt(s->fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	if (o->have_bind)
		a.sin_addr = o->bind;
	if (bind(s->fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    connect(s->fd, (const struct sockaddr *)&o->target, sizeof(o->target)) != 0 ||
	    getsockname(s->fd, (struct sockaddr *)&a, &al) != 0)
		return -errno;
	return sb_local_of(&s->l, &a);
}

static int
sb_thread_init(struct sb_thread *t, const struct sb_opts *o, uint32_t idx, uint32_t n_socks)
{
	uint32_t users = o->users / o->threads + (idx < o->users % o->threads);
	int rc;

	t->o = o;
	t->idx = idx;
	t->first_user = idx * (o->users / o->threads) +
			(idx < o->users % o->threads ? idx : o->users % o->threads);
	t->n_users = users;
	t->n_socks = n_socks < users ? n_socks : users;
	t->window = o->window < users ? o->window : users;
	t->rate = o->rate / o->threads;
	/* 50 ms of credit rides out scheduling stalls; the window still caps what is in flight */
	t->burst = t->rate * 0.05 > 1 ? t->rate * 0.05 : 1;
	t->rng = 0x9E3779B97F4A7C15ull * (idx + 1) ^ o->run_id;
	t->socks = calloc(t->n_socks, sizeof(*t->socks));
	for (uint32_t i = 0; t->socks != NULL && i < t->n_socks; i++)
		t->socks[i].fd = -1;
	t->pfd = calloc(t->n_socks, sizeof(*t->pfd));
	t->users = calloc(users, sizeof(*t->users));
	t->slots = calloc(t->window, sizeof(*t->slots));
	t->free_slots = calloc(t->window, sizeof(*t->free_slots));
	t->tx_buf = malloc((size_t)SB_BURST * SB_BUF);
	t->rx_buf = malloc((size_t)SB_BURST * SB_RX_BUF);
	t->reply = malloc(SB_RX_BUF + 64);
	if (o->scenario == SB_SC_publish || o->scenario == SB_SC_subscribe ||
	    o->scenario == SB_SC_mix)
		t->pres = calloc(users, sizeof(*t->pres));
	if (t->socks == NULL || t->pfd == NULL || t->users == NULL || t->slots == NULL ||
	    t->free_slots == NULL || t->tx_buf == NULL || t->rx_buf == NULL || t->reply == NULL ||
	    (t->pres == NULL && o->scenario >= SB_SC_publish))
		return -ENOMEM;
	for (uint32_t i = 0; i < t->window; i++)
		t->free_slots[i] = t->window - 1 - i;
	t->n_free = t->window;
	for (uint32_t i = 0; i < t->n_socks; i++) {
		if ((rc = sb_open_socket(o, &t->socks[i])) != 0)
			return rc;
		t->socks[i].n_users = users / t->n_socks + (i < users % t->n_socks);
		t->pfd[i] = (struct pollfd){.fd = t->socks[i].fd, .events = POLLIN};
	}
	for (uint32_t i = 0; i < SB_BURST; i++) {
		t->tx_iov[i].iov_base = t->tx_buf + (size_t)i * SB_BUF;
		t->tx_msg[i].msg_hdr = (struct msghdr){.msg_iov = &t->tx_iov[i], .msg_iovlen = 1};
		t->rx_iov[i] = (struct iovec){t->rx_buf + (size_t)i * SB_RX_BUF, SB_RX_BUF};
		t->rx_msg[i].msg_hdr = (struct msghdr){.msg_iov = &t->rx_iov[i], .msg_iovlen = 1};
	}
	sb_reset_users(t);
	return 0;
}

static void
sb_thread_free(struct sb_thread *t)
{
	for (uint32_t i = 0; t->socks != NULL && i < t->n_socks; i++)
		if (t->socks[i].fd >= 0)
			close(t->socks[i].fd);
	free(t->socks);
	free(t->pfd);
	free(t->users);
	free(t->pres);
	free(t->slots);
	free(t->free_slots);
	free(t->tx_buf);
	free(t->rx_buf);
	free(t->reply);
}

static int
sb_enter_netns(const char *name)
{
	char path[256];
	int fd;

	if (strchr(name, '/') != NULL)
		snprintf(path, sizeof(path), "%s", name);
	else
		snprintf(path, sizeof(path), "/var/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "sprblast: --netns %s: cannot open %s: %s\n", name, path,
			strerror(errno));
		return -1;
	}
	if (setns(fd, CLONE_NEWNET) != 0) {
		int e = errno;

		fprintf(stderr, "sprblast: --netns %s: setns: %s%s\n", name, strerror(e),
			e == EPERM ? " (needs root or CAP_SYS_ADMIN)" : "");
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static int
sb_read_tokens(struct sb_opts *o)
{
	FILE *f = fopen(o->token_file, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	uint32_t lineno = 0;

	if (f == NULL) {
		fprintf(stderr, "sprblast: --token-file %s: %s\n", o->token_file, strerror(errno));
		return -1;
	}
	while ((n = getline(&line, &cap, f)) >= 0) {
		char **tk;
		uint32_t *tl;

		lineno++;
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' '))
			line[--n] = '\0';
		if (n == 0)
			continue;
		if ((size_t)n > SB_MAX_TOKEN || strpbrk(line, " \t") != NULL) {
			fprintf(stderr,
				"sprblast: %s:%u: a token is one word of at most %u bytes\n",
				o->token_file, lineno, SB_MAX_TOKEN);
			goto err;
		}
		tk = realloc(o->tokens, (o->n_tokens + 1) * sizeof(*tk));
		if (tk == NULL)
			goto err;
		o->tokens = tk;
		tl = realloc(o->token_len, (o->n_tokens + 1) * sizeof(*tl));
		if (tl == NULL)
			goto err;
		o->token_len = tl;
		if ((o->tokens[o->n_tokens] = strdup(line)) == NULL)
			goto err;
		o->token_len[o->n_tokens++] = (uint32_t)n;
	}
	free(line);
	fclose(f);
	if (o->n_tokens == 0) {
		fprintf(stderr, "sprblast: --token-file %s has no token\n", o->token_file);
		return -1;
	}
	return 0;
err:
	free(line);
	fclose(f);
	return -1;
}

/* --- pcap --- */

static uint32_t
sb_csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	return sum;
}

static uint16_t
sb_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void
sb_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
sb_put32(uint8_t *p, uint32_t v)
{
	sb_put16(p, (uint16_t)(v >> 16));
	sb_put16(p + 2, (uint16_t)v);
}

/* The requests a run would send, as Ethernet/IPv4/UDP frames with valid checksums: for each of
 * --pcap-rounds rounds, one request per user (round r carries CSeq r + 1 on the user's Call-ID),
 * users' source addresses taken in order from --pcap-src. Sends nothing. */
static int
sb_pcap_write(const struct sb_opts *o)
{
	const struct sockaddr_in *dst = o->have_pcap_dst ? &o->pcap_dst : &o->target;
	uint32_t hosts = o->pcap_prefix >= 31 ? 1u : (1u << (32 - o->pcap_prefix)) - 2;
	uint32_t first = o->pcap_prefix >= 31 ? o->pcap_net : o->pcap_net + 1;
	uint8_t frame[42 + SB_BUF], hdr[24] = {0};
	uint64_t rng = o->run_id | 1, k = 0;
	FILE *f = fopen(o->pcap_out, "wb");

	if (f == NULL) {
		fprintf(stderr, "sprblast: --pcap-out %s: %s\n", o->pcap_out, strerror(errno));
		return -1;
	}
	/* little-endian classic header, microseconds, DLT_EN10MB */
	memcpy(hdr, "\xd4\xc3\xb2\xa1\x02\x00\x04\x00", 8);
	memcpy(hdr + 16, "\xff\xff\x00\x00\x01\x00\x00\x00", 8);
	fwrite(hdr, 1, sizeof(hdr), f);
	for (uint32_t round = 0; round < o->pcap_rounds; round++) {
		for (uint32_t i = 0; i < o->users; i++, k++) {
			uint32_t a = o->pcap_per_socket ? i % o->sockets : i;
			uint32_t sip = first + a % hosts, len, sum;
			uint16_t sport = (uint16_t)(o->pcap_sport + a / hosts);
			struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(sport)};
			struct sb_local l;
			struct sb_req r = {
				.user = o->user_base + i, .cseq = round + 1, .branch = k << 16 | 1};
			uint8_t *ip = frame + 14, *udp = frame + 34, rec[16];
			uint64_t us = o->rate > 0 ? (uint64_t)((double)k * 1e6 / o->rate) : k;

			sa.sin_addr.s_addr = htonl(sip);
			sb_local_of(&l, &sa);
			r.m = sb_choose(o, &rng,
					o->scenario == SB_SC_register ||
						o->scenario == SB_SC_refresh);
			if (o->n_tokens != 0) {
				r.token = o->tokens[i % o->n_tokens];
				r.token_len = o->token_len[i % o->n_tokens];
			}
			len = sb_build((char *)frame + 42, o, &l, &r);
			memcpy(frame, o->pcap_dmac, 6);
			frame[6] = 0x02;
			frame[7] = 0x00;
			sb_put32(frame + 8, sip);
			sb_put16(frame + 12, 0x0800);
			ip[0] = 0x45;
			ip[1] = 0;
			sb_put16(ip + 2, (uint16_t)(20 + 8 + len));
			sb_put16(ip + 4, (uint16_t)k);
			sb_put16(ip + 6, 0x4000);
			ip[8] = 64;
			ip[9] = 17;
			sb_put16(ip + 10, 0);
			sb_put32(ip + 12, sip);
			memcpy(ip + 16, &dst->sin_addr.s_addr, 4);
			sb_put16(ip + 10, sb_csum_fold(sb_csum_add(0, ip, 20)));
			sb_put16(udp, sport);
			memcpy(udp + 2, &dst->sin_port, 2);
			sb_put16(udp + 4, (uint16_t)(8 + len));
			sb_put16(udp + 6, 0);
			sum = sb_csum_add(0, ip + 12, 8) + 17 + 8 + len;
			sum = sb_csum_add(sum, udp, 8 + len);
			sb_put16(udp + 6, sb_csum_fold(sum) == 0 ? 0xffff : sb_csum_fold(sum));
			/* record header, little-endian */
			for (int b = 0; b < 4; b++) {
				rec[b] = (uint8_t)((us / 1000000) >> (8 * b));
				rec[4 + b] = (uint8_t)((us % 1000000) >> (8 * b));
				rec[8 + b] = rec[12 + b] = (uint8_t)((42 + len) >> (8 * b));
			}
			fwrite(rec, 1, sizeof(rec), f);
			fwrite(frame, 1, 42 + len, f);
		}
	}
	if (ferror(f) || fclose(f) != 0) {
		fprintf(stderr, "sprblast: --pcap-out %s: write failed\n", o->pcap_out);
		return -1;
	}
	return 0;
}

/* --- output --- */

/* x rounded to a multiple of 1/scale (x >= 0) */
static double
sb_round(double x, double scale)
{
	return (double)(uint64_t)(x * scale + 0.5) / scale;
}

static double
sb_us(uint64_t ns)
{
	return sb_round((double)ns / 1000.0, 10);
}

static json_t *
sb_json_by_status(const uint64_t *by)
{
	json_t *o = json_object();
	char code[4];

	for (int c = 0; c < 600; c++) {
		if (by[c] == 0)
			continue;
		snprintf(code, sizeof(code), "%d", c + 100);
		json_object_set_new(o, code, json_integer((json_int_t)by[c]));
	}
	return o;
}

struct sb_totals {
	uint64_t sent, answered, timeouts, retransmits, provisional;
	uint64_t by_status[600];
	double secs;
};

static void
sb_totals(const struct sb_stats *s, struct sb_totals *t)
{
	memset(t, 0, sizeof(*t));
	for (int m = 0; m < SB_METHODS; m++) {
		t->sent += s->m[m].sent;
		t->answered += s->m[m].answered;
		t->timeouts += s->m[m].timeouts;
		t->retransmits += s->m[m].retransmits;
		t->provisional += s->m[m].provisional;
		for (int c = 0; c < 600; c++)
			t->by_status[c] += s->m[m].by_status[c];
	}
	t->secs = s->t_end > s->t_start ? (double)(s->t_end - s->t_start) / 1e9 : 0;
}

static json_t *
sb_json_stats(const struct sb_stats *s, bool run)
{
	struct sb_totals tt;
	json_t *j = json_object(), *ms = json_object(), *lat = json_object();

	sb_totals(s, &tt);
	json_object_set_new(j, "sent", json_integer((json_int_t)tt.sent));
	json_object_set_new(j, "answered", json_integer((json_int_t)tt.answered));
	json_object_set_new(j, "timeouts", json_integer((json_int_t)tt.timeouts));
	json_object_set_new(j, "retransmits", json_integer((json_int_t)tt.retransmits));
	json_object_set_new(j, "provisional", json_integer((json_int_t)tt.provisional));
	json_object_set_new(j, "seconds", json_real(sb_round(tt.secs, 1000)));
	json_object_set_new(
		j, "rate_achieved",
		json_real(tt.secs > 0 ? sb_round((double)tt.answered / tt.secs, 1) : 0));
	json_object_set_new(j, "by_status", sb_json_by_status(tt.by_status));
	for (int m = 0; m < SB_METHODS; m++) {
		json_t *mj;

		if (s->m[m].sent == 0)
			continue;
		mj = json_object();
		json_object_set_new(mj, "sent", json_integer((json_int_t)s->m[m].sent));
		json_object_set_new(mj, "answered", json_integer((json_int_t)s->m[m].answered));
		json_object_set_new(mj, "timeouts", json_integer((json_int_t)s->m[m].timeouts));
		json_object_set_new(mj, "by_status", sb_json_by_status(s->m[m].by_status));
		json_object_set_new(ms, sb_method_name[m], mj);
	}
	json_object_set_new(j, "methods", ms);
	json_object_set_new(lat, "min", json_real(sb_us(s->h.min)));
	json_object_set_new(lat, "mean", json_real(s->h.n ? sb_us(s->h.sum / s->h.n) : 0));
	json_object_set_new(lat, "p50", json_real(sb_us(sb_hist_pct(&s->h, 50))));
	json_object_set_new(lat, "p90", json_real(sb_us(sb_hist_pct(&s->h, 90))));
	json_object_set_new(lat, "p99", json_real(sb_us(sb_hist_pct(&s->h, 99))));
	json_object_set_new(lat, "p99.9", json_real(sb_us(sb_hist_pct(&s->h, 99.9))));
	json_object_set_new(lat, "max", json_real(sb_us(s->h.max)));
	json_object_set_new(j, "latency_us", lat);
	if (run) {
		json_object_set_new(j, "late", json_integer((json_int_t)s->late));
		json_object_set_new(j, "unmatched", json_integer((json_int_t)s->unmatched));
		json_object_set_new(j, "send_blocked", json_integer((json_int_t)s->send_blocked));
		json_object_set_new(j, "send_errors", json_integer((json_int_t)s->send_errors));
		json_object_set_new(j, "icmp_refused", json_integer((json_int_t)s->icmp_refused));
		json_object_set_new(j, "notify_received", json_integer((json_int_t)s->notify_in));
		json_object_set_new(j, "notify_answered",
				    json_integer((json_int_t)s->notify_replied));
		json_object_set_new(j, "other_requests_received",
				    json_integer((json_int_t)s->other_requests_in));
	}
	return j;
}

static void
sb_print_json(const struct sb_opts *o, const struct sb_stats *setup, const struct sb_stats *run,
	      uint32_t sockets)
{
	json_t *j = sb_json_stats(run, true);
	char target[INET_ADDRSTRLEN + 8], ip[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &o->target.sin_addr, ip, sizeof(ip));
	snprintf(target, sizeof(target), "%s:%u", ip, ntohs(o->target.sin_port));
	json_object_set_new(j, "scenario", json_string(sb_scenario_name[o->scenario]));
	json_object_set_new(j, "target", json_string(target));
	json_object_set_new(j, "users", json_integer(o->users));
	json_object_set_new(j, "threads", json_integer(o->threads));
	json_object_set_new(j, "sockets", json_integer(sockets));
	json_object_set_new(j, "window", json_integer(o->window));
	json_object_set_new(j, "rate", json_real(o->rate));
	json_object_set_new(j, "duration", json_integer(o->duration_s));
	if (sb_needs_setup(o))
		json_object_set_new(j, "setup", sb_json_stats(setup, false));
	json_dumpf(j, stdout, JSON_COMPACT | JSON_REAL_PRECISION(12));
	fputc('\n', stdout);
	json_decref(j);
}

static void
sb_print_codes(const uint64_t *by)
{
	for (int c = 0; c < 600; c++)
		if (by[c] != 0)
			printf(" %d x%" PRIu64, c + 100, by[c]);
}

static void
sb_print_human(const struct sb_opts *o, const struct sb_stats *setup, const struct sb_stats *run,
	       uint32_t sockets)
{
	struct sb_totals tt;
	char ip[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &o->target.sin_addr, ip, sizeof(ip));
	printf("sprblast: %s against %s:%u, %u users, %u thread(s), %u socket(s), window "
	       "%u/thread, "
	       "rate %s\n",
	       sb_scenario_name[o->scenario], ip, ntohs(o->target.sin_port), o->users, o->threads,
	       sockets, o->window, o->rate > 0 ? "limited" : "unlimited (closed loop)");
	if (sb_needs_setup(o)) {
		sb_totals(setup, &tt);
		printf("setup:   REGISTER sent %" PRIu64 ", answered %" PRIu64 ", timeouts %" PRIu64
		       " in %.2f s (%.0f/s):",
		       tt.sent, tt.answered, tt.timeouts, tt.secs,
		       tt.secs > 0 ? (double)tt.answered / tt.secs : 0);
		sb_print_codes(tt.by_status);
		printf("\n");
	}
	sb_totals(run, &tt);
	printf("run:     %.2f s, sent %" PRIu64 ", answered %" PRIu64 " (%.0f/s), timeouts %" PRIu64
	       ", retransmits %" PRIu64 ", late %" PRIu64 ", send blocked %" PRIu64
	       ", errors %" PRIu64 "\n",
	       tt.secs, tt.sent, tt.answered, tt.secs > 0 ? (double)tt.answered / tt.secs : 0,
	       tt.timeouts, tt.retransmits, run->late, run->send_blocked,
	       run->send_errors + run->icmp_refused);
	for (int m = 0; m < SB_METHODS; m++) {
		if (run->m[m].sent == 0)
			continue;
		printf("  %-9s sent %" PRIu64 ", answered %" PRIu64 ", timeouts %" PRIu64 ":",
		       sb_method_name[m], run->m[m].sent, run->m[m].answered, run->m[m].timeouts);
		sb_print_codes(run->m[m].by_status);
		printf("\n");
	}
	if (run->notify_in != 0 || run->other_requests_in != 0)
		printf("  NOTIFY received %" PRIu64 ", answered 200 %" PRIu64
		       "; other requests %" PRIu64 "\n",
		       run->notify_in, run->notify_replied, run->other_requests_in);
	printf("latency (us): min %.1f p50 %.1f p90 %.1f p99 %.1f p99.9 %.1f max %.1f\n",
	       sb_us(run->h.min), sb_us(sb_hist_pct(&run->h, 50)), sb_us(sb_hist_pct(&run->h, 90)),
	       sb_us(sb_hist_pct(&run->h, 99)), sb_us(sb_hist_pct(&run->h, 99.9)),
	       sb_us(run->h.max));
}

/* --- options --- */

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: sprblast --target IP:PORT [options]\n"
		"       sprblast --pcap-out FILE [--pcap-dst IP:PORT | --target IP:PORT] "
		"[options]\n"
		"\n"
		"  --scenario S     register (default): one REGISTER per user (CSeq 1); the run "
		"ends\n"
		"                   when every user is answered or timed out, or at --duration.\n"
		"                   refresh: setup registers every user once (closed loop, "
		"reported\n"
		"                   apart), then REGISTER refreshes round-robin on the same "
		"Call-ID\n"
		"                   with rising CSeq until --duration.\n"
		"                   publish: PUBLISH Event: presence; the first (and any after a\n"
		"                   non-2xx or timeout) carries a PIDF body, the next ones "
		"refresh\n"
		"                   with SIP-If-Match: <SIP-ETag of the 2xx> and no body.\n"
		"                   subscribe: user i SUBSCRIBEs to user i+1's presence (Expires\n"
		"                   --sub-expires); after a 2xx, refreshes in the dialog (To-tag, "
		"CSeq+1);\n"
		"                   incoming NOTIFYs get 200 (Via/From/To/Call-ID/CSeq copied).\n"
		"                   mix: setup as refresh, then each request is REGISTER, PUBLISH "
		"or\n"
		"                   SUBSCRIBE as above, drawn with the --mix weights.\n"
		"  --users N        users u<base>..u<base+N-1> (default 1000; numbers < 10^7)\n"
		"  --user-base B    first user number (default 0)\n"
		"  --domain D       domain of the AORs (default example.com)\n"
		"  --rate R         requests/s over all threads (token bucket); 0 (default):\n"
		"                   as fast as answers allow, limited by --window\n"
		"  --window W       requests in flight per thread (default 64, max 65536)\n"
		"  --duration S     seconds of sending (default 10, max 3600); the setup phase "
		"has\n"
		"                   its own limit of S seconds\n"
		"  --threads T      sending threads (default 1); users split evenly\n"
		"  --sockets K      UDP sockets, i.e. source ports, over all threads (default T)\n"
		"  --bind IP        local address of the sockets (default: the kernel's choice)\n"
		"  --timeout MS     a request unanswered for MS ms is a timeout (default 2000)\n"
		"  --retransmit     retransmit unanswered requests (T1 500 ms doubling to T2 4 s)\n"
		"  --expires E      Expires of REGISTER and PUBLISH (default 3600)\n"
		"  --sub-expires E  Expires of SUBSCRIBE (default 600)\n"
		"  --mix R,P,S      weights of REGISTER, PUBLISH, SUBSCRIBE in mix (default "
		"70,20,10)\n"
		"  --token-file F   one token per line; user i sends Authorization: Bearer <line i "
		"mod n>\n"
		"  --netns NAME     run in network namespace /var/run/netns/NAME (needs root)\n"
		"  --json           print one JSON object instead of the summary\n"
		"  --pcap-out FILE  write the requests as a pcap (Ethernet/IPv4/UDP) and send "
		"nothing\n"
		"  --pcap-rounds R  requests per user in the pcap (default 1; round r has CSeq "
		"r+1)\n"
		"  --pcap-src CIDR  source addresses, one per user in order (default "
		"198.18.0.0/15)\n"
		"  --pcap-sport P   source port (default 5060; +1 each time the addresses run "
		"out)\n"
		"  --pcap-per-socket  one source address per socket (user i -> i mod K), not per "
		"user\n"
		"  --pcap-dmac MAC  destination MAC (default 02:00:00:00:00:01); source MAC is\n"
		"                   02:00 + the source IPv4 address\n"
		"\n"
		"Exit status: 0 every request got a final answer (any status code); 1 some timed "
		"out\n"
		"or could not be sent; 2 usage; 3 setup failed (sockets, namespace, files).\n");
}

static int
sb_parse_u32(const char *opt, const char *s, uint32_t lo, uint32_t hi, uint32_t *v)
{
	char *end;
	unsigned long x;

	errno = 0;
	x = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || x < lo || x > hi || s[0] == '-') {
		fprintf(stderr, "sprblast: --%s %s: expected an integer in %u..%u\n", opt, s, lo,
			hi);
		return -1;
	}
	*v = (uint32_t)x;
	return 0;
}

static int
sb_parse_addr(const char *opt, const char *s, struct sockaddr_in *a)
{
	char host[INET_ADDRSTRLEN];
	const char *colon = strrchr(s, ':');
	uint32_t port;

	if (colon == NULL || (size_t)(colon - s) >= sizeof(host))
		goto bad;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	*a = (struct sockaddr_in){.sin_family = AF_INET};
	if (inet_pton(AF_INET, host, &a->sin_addr) != 1 ||
	    sb_parse_u32(opt, colon + 1, 1, 65535, &port) != 0)
		goto bad;
	a->sin_port = htons((uint16_t)port);
	return 0;
bad:
	fprintf(stderr, "sprblast: --%s %s: expected IPv4:PORT\n", opt, s);
	return -1;
}

enum {
	OPT_TARGET = 256,
	OPT_SCENARIO,
	OPT_USERS,
	OPT_USER_BASE,
	OPT_DOMAIN,
	OPT_RATE,
	OPT_WINDOW,
	OPT_DURATION,
	OPT_THREADS,
	OPT_SOCKETS,
	OPT_BIND,
	OPT_TIMEOUT,
	OPT_RETRANSMIT,
	OPT_EXPIRES,
	OPT_SUB_EXPIRES,
	OPT_MIX,
	OPT_TOKEN_FILE,
	OPT_NETNS,
	OPT_JSON,
	OPT_PCAP_OUT,
	OPT_PCAP_ROUNDS,
	OPT_PCAP_SRC,
	OPT_PCAP_SPORT,
	OPT_PCAP_PER_SOCKET,
	OPT_PCAP_DMAC,
	OPT_PCAP_DST,
	OPT_HELP,
};

static const struct option sb_longopts[] = {
	{"target", required_argument, NULL, OPT_TARGET},
	{"scenario", required_argument, NULL, OPT_SCENARIO},
	{"users", required_argument, NULL, OPT_USERS},
	{"user-base", required_argument, NULL, OPT_USER_BASE},
	{"domain", required_argument, NULL, OPT_DOMAIN},
	{"rate", required_argument, NULL, OPT_RATE},
	{"window", required_argument, NULL, OPT_WINDOW},
	{"duration", required_argument, NULL, OPT_DURATION},
	{"threads", required_argument, NULL, OPT_THREADS},
	{"sockets", required_argument, NULL, OPT_SOCKETS},
	{"bind", required_argument, NULL, OPT_BIND},
	{"timeout", required_argument, NULL, OPT_TIMEOUT},
	{"retransmit", no_argument, NULL, OPT_RETRANSMIT},
	{"expires", required_argument, NULL, OPT_EXPIRES},
	{"sub-expires", required_argument, NULL, OPT_SUB_EXPIRES},
	{"mix", required_argument, NULL, OPT_MIX},
	{"token-file", required_argument, NULL, OPT_TOKEN_FILE},
	{"netns", required_argument, NULL, OPT_NETNS},
	{"json", no_argument, NULL, OPT_JSON},
	{"pcap-out", required_argument, NULL, OPT_PCAP_OUT},
	{"pcap-rounds", required_argument, NULL, OPT_PCAP_ROUNDS},
	{"pcap-src", required_argument, NULL, OPT_PCAP_SRC},
	{"pcap-sport", required_argument, NULL, OPT_PCAP_SPORT},
	{"pcap-per-socket", no_argument, NULL, OPT_PCAP_PER_SOCKET},
	{"pcap-dmac", required_argument, NULL, OPT_PCAP_DMAC},
	{"pcap-dst", required_argument, NULL, OPT_PCAP_DST},
	{"help", no_argument, NULL, OPT_HELP},
	{NULL, 0, NULL, 0},
};

static int
sb_parse_opts(struct sb_opts *o, int argc, char **argv)
{
	uint32_t v;
	int c;

	*o = (struct sb_opts){
		.scenario = SB_SC_register,
		.users = 1000,
		.window = 64,
		.duration_s = 10,
		.threads = 1,
		.timeout_ms = 2000,
		.expires = 3600,
		.sub_expires = 600,
		.mix = {70, 20, 10},
		.domain = "example.com",
		.pcap_rounds = 1,
		.pcap_net = 198u << 24 | 18u << 16,
		.pcap_prefix = 15,
		.pcap_sport = 5060,
		.pcap_dmac = {2, 0, 0, 0, 0, 1},
	};
	while ((c = getopt_long(argc, argv, "h", sb_longopts, NULL)) != -1) {
		switch (c) {
		case OPT_TARGET:
			if (sb_parse_addr("target", optarg, &o->target) != 0)
				return -1;
			o->have_target = true;
			break;
		case OPT_SCENARIO:
			for (v = 0; v <= SB_SC_mix; v++)
				if (strcmp(optarg, sb_scenario_name[v]) == 0)
					break;
			if (v > SB_SC_mix) {
				fprintf(stderr,
					"sprblast: --scenario %s: expected register, refresh, "
					"publish, subscribe or mix\n",
					optarg);
				return -1;
			}
			o->scenario = (enum sb_scenario)v;
			break;
		case OPT_USERS:
			if (sb_parse_u32("users", optarg, 1, SB_MAX_USERS, &o->users) != 0)
				return -1;
			break;
		case OPT_USER_BASE:
			if (sb_parse_u32("user-base", optarg, 0, SB_MAX_USERS - 1, &o->user_base))
				return -1;
			break;
		case OPT_DOMAIN:
			o->domain = optarg;
			if (strlen(optarg) == 0 || strlen(optarg) > 253 ||
			    strpbrk(optarg, " \r\n;<>@:")) {
				fprintf(stderr, "sprblast: --domain %s: not a host name\n", optarg);
				return -1;
			}
			break;
		case OPT_RATE: {
			char *end;

			o->rate = strtod(optarg, &end);
			if (end == optarg || *end != '\0' || !(o->rate >= 0) || o->rate > 1e8) {
				fprintf(stderr, "sprblast: --rate %s: expected 0..1e8\n", optarg);
				return -1;
			}
			break;
		}
		case OPT_WINDOW:
			if (sb_parse_u32("window", optarg, 1, SB_MAX_WINDOW, &o->window) != 0)
				return -1;
			break;
		case OPT_DURATION:
			if (sb_parse_u32("duration", optarg, 1, 3600, &o->duration_s) != 0)
				return -1;
			break;
		case OPT_THREADS:
			if (sb_parse_u32("threads", optarg, 1, SB_MAX_THREADS, &o->threads) != 0)
				return -1;
			break;
		case OPT_SOCKETS:
			if (sb_parse_u32("sockets", optarg, 1, SB_MAX_SOCKETS, &o->sockets) != 0)
				return -1;
			break;
		case OPT_BIND:
			if (inet_pton(AF_INET, optarg, &o->bind) != 1) {
				fprintf(stderr, "sprblast: --bind %s: expected an IPv4 address\n",
					optarg);
				return -1;
			}
			o->have_bind = true;
			break;
		case OPT_TIMEOUT:
			if (sb_parse_u32("timeout", optarg, 1, 60000, &o->timeout_ms) != 0)
				return -1;
			break;
		case OPT_RETRANSMIT:
			o->retransmit = true;
			break;
		case OPT_EXPIRES:
			if (sb_parse_u32("expires", optarg, 0, 1u << 31, &o->expires) != 0)
				return -1;
			break;
		case OPT_SUB_EXPIRES:
			if (sb_parse_u32("sub-expires", optarg, 0, 1u << 31, &o->sub_expires) != 0)
				return -1;
			break;
		case OPT_MIX:
			if (sscanf(optarg, "%u,%u,%u%n", &o->mix[0], &o->mix[1], &o->mix[2], &c) !=
				    3 ||
			    optarg[c] != '\0' || o->mix[0] + o->mix[1] + o->mix[2] == 0 ||
			    o->mix[0] > 1000000 || o->mix[1] > 1000000 || o->mix[2] > 1000000) {
				fprintf(stderr, "sprblast: --mix %s: expected R,P,S weights\n",
					optarg);
				return -1;
			}
			break;
		case OPT_TOKEN_FILE:
			o->token_file = optarg;
			break;
		case OPT_NETNS:
			o->netns = optarg;
			break;
		case OPT_JSON:
			o->json = true;
			break;
		case OPT_PCAP_OUT:
			o->pcap_out = optarg;
			break;
		case OPT_PCAP_ROUNDS:
			if (sb_parse_u32("pcap-rounds", optarg, 1, 1000000, &o->pcap_rounds) != 0)
				return -1;
			break;
		case OPT_PCAP_SRC: {
			char net[INET_ADDRSTRLEN];
			const char *slash = strchr(optarg, '/');
			struct in_addr a;

			if (slash == NULL || (size_t)(slash - optarg) >= sizeof(net))
				goto bad_cidr;
			memcpy(net, optarg, (size_t)(slash - optarg));
			net[slash - optarg] = '\0';
			if (inet_pton(AF_INET, net, &a) != 1 ||
			    sb_parse_u32("pcap-src", slash + 1, 1, 32, &o->pcap_prefix) != 0)
				goto bad_cidr;
			o->pcap_net = ntohl(a.s_addr) &
				      (o->pcap_prefix == 32 ? ~0u : ~(~0u >> o->pcap_prefix));
			break;
		bad_cidr:
			fprintf(stderr, "sprblast: --pcap-src %s: expected IPv4/PREFIX\n", optarg);
			return -1;
		}
		case OPT_PCAP_SPORT:
			if (sb_parse_u32("pcap-sport", optarg, 1, 65535, &v) != 0)
				return -1;
			o->pcap_sport = (uint16_t)v;
			break;
		case OPT_PCAP_PER_SOCKET:
			o->pcap_per_socket = true;
			break;
		case OPT_PCAP_DMAC: {
			unsigned int m[6];
			int n = 0;

			if (sscanf(optarg, "%x:%x:%x:%x:%x:%x%n", &m[0], &m[1], &m[2], &m[3], &m[4],
				   &m[5], &n) != 6 ||
			    optarg[n] != '\0') {
				fprintf(stderr, "sprblast: --pcap-dmac %s: expected a MAC\n",
					optarg);
				return -1;
			}
			for (int i = 0; i < 6; i++)
				o->pcap_dmac[i] = (uint8_t)m[i];
			break;
		}
		case OPT_PCAP_DST:
			if (sb_parse_addr("pcap-dst", optarg, &o->pcap_dst) != 0)
				return -1;
			o->have_pcap_dst = true;
			break;
		case OPT_HELP:
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "sprblast: unexpected argument %s\n", argv[optind]);
		return -1;
	}
	if (!o->have_target && !(o->pcap_out != NULL && o->have_pcap_dst)) {
		fprintf(stderr, "sprblast: --target IP:PORT is required\n");
		return -1;
	}
	if (o->user_base + o->users > SB_MAX_USERS) {
		fprintf(stderr, "sprblast: --user-base + --users must be at most %u\n",
			SB_MAX_USERS);
		return -1;
	}
	if (o->threads > o->users) {
		fprintf(stderr, "sprblast: --threads %u is more than --users %u\n", o->threads,
			o->users);
		return -1;
	}
	if (o->sockets == 0)
		o->sockets = o->threads;
	if (o->sockets < o->threads) {
		fprintf(stderr, "sprblast: --sockets must be at least --threads\n");
		return -1;
	}
	o->domain_len = (uint32_t)strlen(o->domain);
	return 0;
}

int
main(int argc, char **argv)
{
	struct sb_opts o;
	struct sb_thread *th = NULL;
	struct sb_stats *setup = NULL, *run = NULL;
	struct sb_totals tt;
	pthread_barrier_t barrier;
	uint32_t sockets = 0, started = 0;
	int rc, status = 3;

	if (sb_parse_opts(&o, argc, argv) != 0)
		return 2;
	if (getrandom(&o.run_id, sizeof(o.run_id), 0) != sizeof(o.run_id))
		o.run_id = (uint32_t)sb_now() ^ (uint32_t)getpid() << 16;
	if (o.token_file != NULL && sb_read_tokens(&o) != 0)
		return 3;
	if (o.pcap_out != NULL) {
		if (sb_pcap_write(&o) != 0)
			return 3;
		if (!o.json)
			printf("sprblast: wrote %" PRIu64 " %s requests to %s\n",
			       (uint64_t)o.users * o.pcap_rounds, sb_scenario_name[o.scenario],
			       o.pcap_out);
		else
			printf("{\"pcap\":\"%s\",\"records\":%" PRIu64 "}\n", o.pcap_out,
			       (uint64_t)o.users * o.pcap_rounds);
		return 0;
	}
	if (o.netns != NULL && sb_enter_netns(o.netns) != 0)
		return 3;
	signal(SIGINT, sb_on_signal);
	signal(SIGTERM, sb_on_signal);
	th = calloc(o.threads, sizeof(*th));
	setup = calloc(1, sizeof(*setup));
	run = calloc(1, sizeof(*run));
	if (th == NULL || setup == NULL || run == NULL ||
	    pthread_barrier_init(&barrier, NULL, o.threads) != 0)
		goto out;
	for (uint32_t i = 0; i < o.threads; i++) {
		uint32_t k = o.sockets / o.threads + (i < o.sockets % o.threads);

		th[i].barrier = &barrier;
		if ((rc = sb_thread_init(&th[i], &o, i, k)) != 0) {
			fprintf(stderr, "sprblast: thread %u: %s\n", i, strerror(-rc));
			goto out_threads;
		}
		sockets += th[i].n_socks;
	}
	for (; started < o.threads; started++) {
		if (pthread_create(&th[started].tid, NULL, sb_thread_main, &th[started]) != 0) {
			/* the started ones may wait at the setup barrier for it: no clean way back
			 */
			fprintf(stderr, "sprblast: cannot start thread %u\n", started);
			exit(3);
		}
	}
	for (uint32_t i = 0; i < started; i++) {
		pthread_join(th[i].tid, NULL);
		sb_stats_merge(setup, &th[i].setup);
		sb_stats_merge(run, &th[i].run);
	}
	if (o.json)
		sb_print_json(&o, setup, run, sockets);
	else
		sb_print_human(&o, setup, run, sockets);
	sb_totals(run, &tt);
	status = tt.timeouts != 0 || run->send_errors != 0 || tt.sent == 0 ? 1 : 0;
out_threads:
	for (uint32_t i = 0; i < o.threads; i++)
		sb_thread_free(&th[i]);
	pthread_barrier_destroy(&barrier);
out:
	free(th);
	free(setup);
	free(run);
	for (uint32_t i = 0; i < o.n_tokens; i++)
		free(o.tokens[i]);
	free(o.tokens);
	free(o.token_len);
	return status;
}
