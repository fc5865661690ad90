/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Packet I/O: two backends (dpdk, socket) behind one burst interface
 * (DESIGN §3). A worker owns one struct spr_io; nothing in it is shared.
 *
 * Every datagram received is handed to the caller as a struct spr_pkt that
 * owns an mbuf; the caller gives each one back exactly once, with
 * spr_io_reply() (answer to its source) or spr_io_drop(). Replies are queued
 * and leave at spr_io_flush() or when the queue is full.
 *
 * Context: the worker that owns the io, except where a function says so.
 * No function here blocks, locks, logs or makes a syscall on the dpdk
 * backend; the socket backend's syscalls are recvmmsg/sendmmsg per burst.
 */
#ifndef SPR_IO_H
#define SPR_IO_H

#include <stdint.h>

#include "sip_reply.h"

struct rte_mbuf;
struct rte_mempool;

#define SPR_BURST 32u

/* Counted outcomes of packet I/O, per io (one writer). */
#define SPR_FOREACH_IO_COUNTER(X)                                                                  \
	X(rx_pkts)                                                                                 \
	X(rx_sip)          /* UDP datagrams to one of our SIP ports, handed up */                   \
	X(tx_pkts)                                                                                 \
	X(tx_drop)         /* the NIC/socket refused them: freed, counted */                       \
	X(drop_short)      /* truncated frame or header */                                         \
	X(drop_l2)         /* not for our MAC, unknown ethertype */                                \
	X(drop_ip_csum)                                                                            \
	X(drop_ip_other)   /* bad version/length, options we do not take, not ours */             \
	X(drop_udp_csum)                                                                           \
	X(drop_not_udp)                                                                            \
	X(drop_port)       /* UDP to a port we do not serve */                                     \
	X(drop_frag)       /* IP fragments: reassembled when enabled, else dropped */              \
	X(rx_frags)        /* IPv4 fragments taken into reassembly (dpdk) */                       \
	X(drop_icmp)       /* ICMP/ICMPv6 we do not answer, or malformed */                        \
	X(drop_no_neigh)   /* send(): no link-layer address known for the peer (dpdk) */           \
	X(drop_no_mbuf)    /* send(): mbuf pool empty */                                           \
	X(drop_oversize)   /* datagram larger than the SIP maximum or the mbuf */                  \
	X(drop_reply_size) /* reply did not fit in one datagram */                                 \
	X(tx_relayed)      /* frames of a relay io (control's) sent on this io's queue (dpdk) */  \
	X(tx_frags)        /* fragments of datagrams we sent larger than the MTU (dpdk) */        \
	X(wakeups)         /* sleeps ended early by control: ring work for this worker (socket) */ \
	X(arp_replies)                                                                             \
	X(nd_replies)                                                                              \
	X(icmp_echo_replies)

struct spr_io_counters {
#define X(n) uint64_t n;
	SPR_FOREACH_IO_COUNTER(X)
#undef X
} __attribute__((aligned(64)));

/*
 * The link-layer next hop of a peer (dpdk backend): the Ethernet address,
 * and 802.1Q tag, a frame to it goes to. Learned from a frame the peer sent
 * (its source MAC: the peer's own, or its router's when it is off-link).
 */
struct spr_l2_hop {
	uint8_t mac[6];
	uint16_t vlan_tci; /* host order; meaningful when vlan */
	uint8_t valid;	   /* 0: unknown (socket backend) */
	uint8_t vlan;
};

/* One received SIP datagram. */
struct spr_pkt {
	struct rte_mbuf *m;
	const char *data; /* UDP payload, inside m */
	uint32_t len;
	struct spr_peer src; /* where it came from: the reply goes there */
	struct spr_peer dst; /* our address and port it was sent to */
	struct spr_l2_hop hop; /* where a datagram back to src goes (dpdk); valid 0 otherwise */
	uint16_t l3_off;     /* backend's own: where IP starts in m (dpdk) */
	uint16_t queue;      /* backend's own */
};

struct spr_io;

struct spr_io_ops {
	uint16_t (*rx)(struct spr_io *io, struct spr_pkt *pkts, uint16_t max);
	void (*reply)(struct spr_io *io, struct spr_pkt *pkt, const char *payload, uint32_t len);
	void (*drop)(struct spr_io *io, struct spr_pkt *pkt);
	int (*send)(struct spr_io *io, const struct spr_peer *from, const struct spr_peer *to,
		    const struct spr_l2_hop *hop, const char *payload, uint32_t len);
	void (*flush)(struct spr_io *io);
	void (*destroy)(struct spr_io *io);
	/*
	 * Optional: sleep until a datagram may be there or timeout_ms passes.
	 * Only backends whose rx is a syscall anyway (socket) have it; a dpdk
	 * worker spins.
	 */
	void (*wait)(struct spr_io *io, int timeout_ms);
	/*
	 * Optional, with wait: from another thread, end the wait in progress (or
	 * the next one) early.
	 */
	void (*wake)(struct spr_io *io);
};

struct spr_io {
	const struct spr_io_ops *ops;
	struct spr_io_counters cnt;
};

/* Receive up to max SIP datagrams (the rest of a burst — ARP, ICMP … — is handled inside). */
static inline uint16_t
spr_io_rx(struct spr_io *io, struct spr_pkt *pkts, uint16_t max)
{
	return io->ops->rx(io, pkts, max);
}

/* Answer pkt: payload goes to pkt->src from pkt->dst; pkt is consumed (in place when it fits). */
static inline void
spr_io_reply(struct spr_io *io, struct spr_pkt *pkt, const char *payload, uint32_t len)
{
	io->ops->reply(io, pkt, payload, len);
}

/* Give pkt back without an answer. */
static inline void
spr_io_drop(struct spr_io *io, struct spr_pkt *pkt)
{
	io->ops->drop(io, pkt);
}

/*
 * A datagram of our own (NOTIFY, …) from one of our addresses; 0 or -errno.
 * hop (may be NULL) is to's link-layer next hop as a received frame showed
 * it (spr_pkt.hop); without a valid one the dpdk backend looks in its
 * neighbour cache. The socket backend ignores it.
 */
static inline int
spr_io_send(struct spr_io *io, const struct spr_peer *from, const struct spr_peer *to,
	    const struct spr_l2_hop *hop, const char *payload, uint32_t len)
{
	return io->ops->send(io, from, to, hop, payload, len);
}

/* Push queued transmissions out. */
static inline void
spr_io_flush(struct spr_io *io)
{
	io->ops->flush(io);
}

static inline void
spr_io_destroy(struct spr_io *io)
{
	io->ops->destroy(io);
}

/* The addresses (IPv4/IPv6 + UDP port) a server answers on. */
#define SPR_IO_ADDRS_MAX 8u
struct spr_io_addrs {
	uint16_t n;
	struct spr_peer a[SPR_IO_ADDRS_MAX];
};

#endif /* SPR_IO_H */
