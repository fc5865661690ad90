/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The dpdk backend (DESIGN §3): an ethdev port, one RX and one TX queue per
 * worker plus one TX queue for the control thread. Frames are decoded by
 * net.c; ARP, neighbour solicitations and echo requests for our addresses
 * are answered in place from the worker's rx; SIP replies are written into
 * the request's mbuf.
 *
 * IPv4 fragments for us are reassembled per io (DPDK ip_frag: at most
 * SPR_IO_DPDK_FRAG_MAX datagrams pending, each for at most
 * SPR_IO_DPDK_FRAG_TTL_MS, up to 8 fragments) when the whole datagram fits
 * one mbuf segment of the pool (else drop_oversize). IPv6 fragments are
 * dropped (drop_frag).
 *
 * Datagrams we originate (spr_io_send) need the peer's Ethernet address.
 * The caller passes it when it has it: every received datagram carries the
 * next hop its frame came from (spr_pkt.hop: source MAC and 802.1Q tag, so
 * an off-link peer maps to its router's MAC), and the NOTIFY engine keeps
 * the one of each subscription's SUBSCRIBE. Without one, each io looks in
 * a fixed-size, direct-mapped neighbour cache learned the same way from the
 * frames it receives and from spr_io_dpdk_neigh_set(). A peer in neither is
 * -EHOSTUNREACH (drop_no_neigh): nothing is ever resolved on the hot path.
 * A datagram we send that is larger than the port's MTU leaves in IPv4 or
 * IPv6 fragments (tx_frags; at most SPR_IO_DPDK_FRAGS_OUT_MAX). Replies to
 * requests are never fragmented (they fit, or drop_reply_size).
 */
#ifndef SPR_IO_DPDK_H
#define SPR_IO_DPDK_H

#include <stdint.h>

#include <rte_ether.h>

#include "io.h"

/* rx_queue of an io that only transmits (the control thread's). */
#define SPR_IO_DPDK_NO_RX UINT16_MAX

#define SPR_IO_DPDK_FRAG_MAX 64u
#define SPR_IO_DPDK_FRAG_TTL_MS 2000u
#define SPR_IO_DPDK_NEIGH_SLOTS 256u
#define SPR_IO_DPDK_FRAGS_OUT_MAX 48u /* fragments of one datagram we send (64 KiB at MTU 1,400+) */

/*
 * Configure and start port_id: n_rx_queues RX queues filled from pool,
 * n_tx_queues TX queues, promiscuous mode off, the solicited-node multicast
 * groups of our IPv6 addresses joined (all-multicast where the device has
 * no filter list; left as is where it has neither, as vdevs do).
 * More than one RX queue needs RSS: it hashes IPv4/IPv6 and UDP, as far as
 * dev_info.flow_type_rss_offloads allows. A device without RSS (net_ring,
 * net_af_packet, net_null …) takes one RX queue only: asking for more is
 * -ENOTSUP and leaves the port unconfigured, so the caller can retry with 1.
 * Returns 0, -EINVAL (bad port, zero or too many queues) or -errno of ethdev.
 * Context: start-up, before any io of the port is created.
 */
int spr_dpdk_port_setup(uint16_t port_id, uint16_t n_rx_queues, uint16_t n_tx_queues,
			struct rte_mempool *pool, const struct spr_io_addrs *ours);

/*
 * An io on rx_queue (or SPR_IO_DPDK_NO_RX) and tx_queue of a started port,
 * answering as mac on the addresses of ours (concrete addresses: no
 * wildcard). Sent datagrams take mbufs from pool. NULL on failure
 * (rte_errno set). Context: start-up; the io then belongs to one thread.
 */
struct spr_io *spr_io_dpdk_create(uint16_t port_id, uint16_t rx_queue, uint16_t tx_queue,
				  struct rte_mempool *pool, const struct spr_io_addrs *ours,
				  const struct rte_ether_addr *mac);

/*
 * An io that only transmits, for a thread with no TX queue of its own (the
 * control thread on a device with no queue to spare, such as net_af_packet
 * with one qpair per worker): frames are built as on any dpdk io, and its
 * flush hands them to via over an SPSC ring of size mbufs (rounded up to a
 * power of two; a full ring is tx_drop). The owner of via sends them on
 * via's TX queue at its next spr_io_flush(), at most a burst's room at a
 * time (tx_relayed): one ring dequeue per flush, no lock, no syscall.
 * via must be a dpdk io with no relay yet. NULL on failure (rte_errno set).
 * Context: start-up, before via's owner runs; destroy the relay after via's
 * owner has stopped and before via.
 */
struct spr_io *spr_io_dpdk_create_relay(struct spr_io *via, uint32_t size);

/*
 * Set the neighbour entry of peer->addr (port ignored): frames to it go to
 * mac, with an 802.1Q tag vlan_tci when vlan_tci >= 0. Context: the io's owner.
 */
void spr_io_dpdk_neigh_set(struct spr_io *io, const struct spr_peer *peer,
			   const struct rte_ether_addr *mac, int32_t vlan_tci);

#endif /* SPR_IO_DPDK_H */
