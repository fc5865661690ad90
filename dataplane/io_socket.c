/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <rte_mbuf.h>

#include "io_socket.h"

struct sock_io {
	struct spr_io io; /* first: the generic view */
	struct rte_mempool *pool;
	uint16_t n_fds;
	int fds[SPR_IO_ADDRS_MAX];
	struct spr_peer local[SPR_IO_ADDRS_MAX];
	uint16_t next_fd; /* where the next rx burst starts, for fairness */
	int wake_fd;      /* eventfd: another thread ends our wait (spr_io_ops.wake) */

	/* rx scratch */
	struct mmsghdr rx_msg[SPR_BURST];
	struct iovec rx_iov[SPR_BURST];
	struct sockaddr_storage rx_addr[SPR_BURST];

	/* tx queue: mbufs whose data is the payload to send */
	uint16_t n_tx;
	struct rte_mbuf *tx_m[SPR_BURST];
	uint16_t tx_fd[SPR_BURST];
	struct sockaddr_storage tx_addr[SPR_BURST];
};

static void
peer_from_sa(struct spr_peer *p, const struct sockaddr_storage *ss)
{
	memset(p, 0, sizeof(*p));
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;

		p->family = AF_INET;
		p->port = ntohs(s4->sin_port);
		memcpy(p->addr, &s4->sin_addr, 4);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;

		p->family = AF_INET6;
		p->port = ntohs(s6->sin6_port);
		memcpy(p->addr, &s6->sin6_addr, 16);
	}
}

static socklen_t
sa_from_peer(struct sockaddr_storage *ss, const struct spr_peer *p)
{
	memset(ss, 0, sizeof(*ss));
	if (p->family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(p->port);
		memcpy(&s6->sin6_addr, p->addr, 16);
		return sizeof(*s6);
	}
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

	s4->sin_family = AF_INET;
	s4->sin_port = htons(p->port);
	memcpy(&s4->sin_addr, p->addr, 4);
	return sizeof(*s4);
}

static void
sock_flush(struct spr_io *io)
{
	struct sock_io *s = (struct sock_io *)io;
	struct mmsghdr msg[SPR_BURST];
	struct iovec iov[SPR_BURST];

	if (s->n_tx == 0)
		return;
	/* one sendmmsg per socket, in queue order within each */
	for (uint16_t f = 0; f < s->n_fds; f++) {
		uint16_t n = 0, sent = 0;
		int rc;

		for (uint16_t i = 0; i < s->n_tx; i++) {
			if (s->tx_fd[i] != f)
				continue;
			iov[n].iov_base = rte_pktmbuf_mtod(s->tx_m[i], void *);
			iov[n].iov_len = rte_pktmbuf_data_len(s->tx_m[i]);
			memset(&msg[n].msg_hdr, 0, sizeof(msg[n].msg_hdr));
			msg[n].msg_hdr.msg_iov = &iov[n];
			msg[n].msg_hdr.msg_iovlen = 1;
			msg[n].msg_hdr.msg_name = &s->tx_addr[i];
			msg[n].msg_hdr.msg_namelen = s->tx_addr[i].ss_family == AF_INET6
							     ? sizeof(struct sockaddr_in6)
							     : sizeof(struct sockaddr_in);
			n++;
		}
		while (sent < n) {
			rc = sendmmsg(s->fds[f], msg + sent, n - sent, MSG_DONTWAIT);
			if (rc <= 0) {
				/* full socket buffer or an unreachable peer: drop the rest, counted */
				io->cnt.tx_drop += n - sent;
				break;
			}
			io->cnt.tx_pkts += (uint64_t)rc;
			sent += (uint16_t)rc;
		}
	}
	for (uint16_t i = 0; i < s->n_tx; i++)
		rte_pktmbuf_free(s->tx_m[i]);
	s->n_tx = 0;
}

static void
queue_tx(struct sock_io *s, struct rte_mbuf *m, uint16_t fd, const struct spr_peer *to)
{
	if (s->n_tx == SPR_BURST)
		sock_flush(&s->io);
	s->tx_m[s->n_tx] = m;
	s->tx_fd[s->n_tx] = fd;
	sa_from_peer(&s->tx_addr[s->n_tx], to);
	s->n_tx++;
}

static uint16_t
sock_rx(struct spr_io *io, struct spr_pkt *pkts, uint16_t max)
{
	struct sock_io *s = (struct sock_io *)io;
	struct rte_mbuf *m[SPR_BURST];
	uint16_t got = 0;

	if (max > SPR_BURST)
		max = SPR_BURST;
	if (rte_pktmbuf_alloc_bulk(s->pool, m, max) != 0)
		return 0;
	for (uint16_t k = 0; k < s->n_fds && got < max; k++) {
		uint16_t f = (uint16_t)((s->next_fd + k) % s->n_fds);
		uint16_t want = max - got;
		int rc;

		for (uint16_t i = 0; i < want; i++) {
			struct rte_mbuf *mb = m[got + i];

			s->rx_iov[i].iov_base = rte_pktmbuf_mtod(mb, void *);
			s->rx_iov[i].iov_len = rte_pktmbuf_tailroom(mb);
			memset(&s->rx_msg[i].msg_hdr, 0, sizeof(s->rx_msg[i].msg_hdr));
			s->rx_msg[i].msg_hdr.msg_iov = &s->rx_iov[i];
			s->rx_msg[i].msg_hdr.msg_iovlen = 1;
			s->rx_msg[i].msg_hdr.msg_name = &s->rx_addr[i];
			s->rx_msg[i].msg_hdr.msg_namelen = sizeof(s->rx_addr[i]);
		}
		rc = recvmmsg(s->fds[f], s->rx_msg, want, MSG_DONTWAIT, NULL);
		if (rc <= 0)
			continue;
		for (int i = 0, base = got; i < rc; i++) {
			struct rte_mbuf *mb = m[base + i];
			struct spr_pkt *p = &pkts[got];
			uint32_t len = s->rx_msg[i].msg_len;

			io->cnt.rx_pkts++;
			if (s->rx_msg[i].msg_hdr.msg_flags & MSG_TRUNC) {
				/* larger than an mbuf: the rest is lost, so is the message */
				io->cnt.drop_oversize++;
				continue;
			}
			/* keep the used mbufs first; unused ones are freed below */
			m[base + i] = m[got];
			m[got] = mb;
			rte_pktmbuf_data_len(mb) = (uint16_t)len;
			rte_pktmbuf_pkt_len(mb) = len;
			p->m = mb;
			p->data = rte_pktmbuf_mtod(mb, const char *);
			p->len = len;
			peer_from_sa(&p->src, &s->rx_addr[i]);
			p->dst = s->local[f];
			p->queue = f;
			p->l3_off = 0;
			p->hop.valid = 0;
			io->cnt.rx_sip++;
			got++;
		}
	}
	s->next_fd = (uint16_t)((s->next_fd + 1) % s->n_fds);
	if (got < max)
		rte_pktmbuf_free_bulk(m + got, max - got);
	return got;
}

static void
sock_reply(struct spr_io *io, struct spr_pkt *pkt, const char *payload, uint32_t len)
{
	struct sock_io *s = (struct sock_io *)io;
	struct rte_mbuf *m = pkt->m;

	rte_pktmbuf_reset(m);
	if (len > rte_pktmbuf_tailroom(m)) {
		io->cnt.drop_reply_size++;
		rte_pktmbuf_free(m);
		return;
	}
	memcpy(rte_pktmbuf_mtod(m, char *), payload, len);
	rte_pktmbuf_data_len(m) = (uint16_t)len;
	rte_pktmbuf_pkt_len(m) = len;
	queue_tx(s, m, pkt->queue < s->n_fds ? pkt->queue : 0, &pkt->src);
}

static void
sock_drop(struct spr_io *io, struct spr_pkt *pkt)
{
	rte_pktmbuf_free(pkt->m);
}

static int
sock_send(struct spr_io *io, const struct spr_peer *from, const struct spr_peer *to,
	  const struct spr_l2_hop *hop, const char *payload, uint32_t len)
{
	struct sock_io *s = (struct sock_io *)io;
	struct rte_mbuf *m;
	uint16_t fd = 0;

	for (uint16_t i = 0; i < s->n_fds; i++) {
		if (from != NULL && s->local[i].family == from->family &&
		    s->local[i].port == from->port &&
		    memcmp(s->local[i].addr, from->addr, sizeof(from->addr)) == 0) {
			fd = i;
			break;
		}
	}
	m = rte_pktmbuf_alloc(s->pool);
	if (m == NULL)
		return -ENOBUFS;
	if (len > rte_pktmbuf_tailroom(m)) {
		rte_pktmbuf_free(m);
		io->cnt.drop_reply_size++;
		return -EMSGSIZE;
	}
	memcpy(rte_pktmbuf_mtod(m, char *), payload, len);
	rte_pktmbuf_data_len(m) = (uint16_t)len;
	rte_pktmbuf_pkt_len(m) = len;
	queue_tx(s, m, fd, to);
	return 0;
}

static void
sock_destroy(struct spr_io *io)
{
	struct sock_io *s = (struct sock_io *)io;

	sock_flush(io);
	for (uint16_t i = 0; i < s->n_fds; i++)
		close(s->fds[i]);
	if (s->wake_fd >= 0)
		close(s->wake_fd);
	free(s);
}

static void
sock_wait(struct spr_io *io, int timeout_ms)
{
	struct sock_io *s = (struct sock_io *)io;
	struct pollfd pfd[SPR_IO_ADDRS_MAX + 1];
	nfds_t n = 0;
	uint64_t v;

	for (uint16_t i = 0; i < s->n_fds; i++)
		pfd[n++] = (struct pollfd){.fd = s->fds[i], .events = POLLIN};
	if (s->wake_fd >= 0)
		pfd[n++] = (struct pollfd){.fd = s->wake_fd, .events = POLLIN};
	poll(pfd, n, timeout_ms);
	/* non-blocking: clears a wake-up that came (before or during the poll) */
	if (s->wake_fd >= 0 && read(s->wake_fd, &v, sizeof(v)) == (ssize_t)sizeof(v))
		s->io.cnt.wakeups++;
}

static void
sock_wake(struct spr_io *io)
{
	struct sock_io *s = (struct sock_io *)io;
	uint64_t one = 1;

	if (s->wake_fd >= 0 && write(s->wake_fd, &one, sizeof(one)) != (ssize_t)sizeof(one))
		return; /* the counter is full: a wake-up is pending anyway */
}

static const struct spr_io_ops sock_ops = {
	.rx = sock_rx,
	.reply = sock_reply,
	.drop = sock_drop,
	.send = sock_send,
	.flush = sock_flush,
	.destroy = sock_destroy,
	.wake = sock_wake,
	.wait = sock_wait,
};

struct spr_io *
spr_io_socket_create(const struct spr_io_addrs *ours, struct rte_mempool *pool, int *err,
		     char *errbuf, uint32_t errlen)
{
	struct sock_io *s = calloc(1, sizeof(*s));
	int one = 1, bufsz = 4 << 20;

	if (s == NULL) {
		*err = -ENOMEM;
		return NULL;
	}
	s->io.ops = &sock_ops;
	s->pool = pool;
	/* without it a sleeping worker still wakes every IDLE_WAIT_MS; never fatal */
	s->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	for (uint16_t i = 0; i < ours->n; i++) {
		struct sockaddr_storage ss;
		socklen_t sl = sa_from_peer(&ss, &ours->a[i]);
		int fd = socket(ours->a[i].family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

		if (fd < 0)
			goto err_errno;
		s->fds[s->n_fds++] = fd;
		s->local[i] = ours->a[i];
		/*
		 * Port 0 (the control thread's NOTIFY socket): the kernel picks a
		 * free port, and with SO_REUSEPORT it could pick one another
		 * socket of ours listens on and join its group.
		 */
		if (ours->a[i].port != 0 &&
		    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0)
			goto err_errno;
		/* bigger buffers ride out bursts; the kernel caps them at rmem_max */
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof(bufsz));
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bufsz, sizeof(bufsz));
		if (ours->a[i].family == AF_INET6)
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		if (bind(fd, (struct sockaddr *)&ss, sl) != 0) {
			char addr[64];
			uint32_t alen = spr_peer_format(&ours->a[i], addr, sizeof(addr) - 1);

			*err = -errno;
			addr[alen] = '\0';
			snprintf(errbuf, errlen, "bind %s port %u: %s", addr, ours->a[i].port,
				 strerror(-*err));
			goto err_close;
		}
	}
	return &s->io;

err_errno:
	*err = -errno;
	snprintf(errbuf, errlen, "socket: %s", strerror(errno));
err_close:
	for (uint16_t i = 0; i < s->n_fds; i++)
		close(s->fds[i]);
	free(s);
	return NULL;
}
