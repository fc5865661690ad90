/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The dpdk backend of io.h (contract in io_dpdk.h). Hot path: no locks, no
 * syscalls, no logging, no allocation but mbufs; every frame that does not
 * go up or out is counted and freed before rx returns (or held, bounded, by
 * the reassembly table).
 */
/* rte_ip_frag_table_del_expired_entries: without it held fragments age only on collisions */
#define ALLOW_EXPERIMENTAL_API

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <sys/socket.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_ip_frag.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>
#include <rte_ring.h>

#include "io_dpdk.h"
#include "net.h"

#define RX_DESC 1024
#define TX_DESC 1024
#define TXQ_LEN (2 * SPR_BURST)
#define FRAG_BUCKET_ENTRIES 4 /* associativity, a power of two */
#define FRAG_BUCKETS (2 * SPR_IO_DPDK_FRAG_MAX / FRAG_BUCKET_ENTRIES)
#define NEIGH_SLOTS_LOG2 8

_Static_assert(SPR_IO_DPDK_NEIGH_SLOTS == 1u << NEIGH_SLOTS_LOG2, "neighbour slots");
_Static_assert(SPR_BURST <= RTE_IP_FRAG_DEATH_ROW_LEN, "a burst's fragments fit the death row");

struct neigh {
	uint8_t family; /* 0: empty */
	uint8_t vlan;
	uint16_t vlan_tci;
	uint8_t mac[6];
	uint8_t addr[16];
};

struct spr_io_dpdk {
	struct spr_io io;
	uint16_t port;
	uint16_t rxq;
	uint16_t txq;
	uint16_t mtu;
	uint16_t n_tx;
	uint16_t ip_id;
	uint32_t frag_id; /* IPv6 Fragment header identification */
	struct rte_mempool *pool;
	struct spr_net_local local;
	struct rte_ip_frag_tbl *frag;
	struct rte_ring *relay_out; /* a relay io: its frames go to via over this ring */
	struct rte_ring *relay_in;  /* frames of a relay io to send on this io's queue */
	struct spr_io_dpdk *via;    /* a relay io: the io whose queue sends its frames */
	struct rte_mbuf *tx[TXQ_LEN];
	struct rte_ip_frag_death_row dr;
	struct neigh neigh[SPR_IO_DPDK_NEIGH_SLOTS];
};

static inline struct spr_io_dpdk *
dpdk_of(struct spr_io *io)
{
	return (struct spr_io_dpdk *)io;
}

static inline uint32_t
addr_len(uint8_t family)
{
	return family == AF_INET6 ? 16 : 4;
}

static inline struct neigh *
neigh_slot(struct spr_io_dpdk *d, uint8_t family, const uint8_t *addr)
{
	uint32_t h = 0, w;

	for (uint32_t i = 0; i < addr_len(family); i += 4) {
		memcpy(&w, addr + i, 4);
		h ^= w;
	}
	return &d->neigh[(h * 0x9e3779b1u) >> (32 - NEIGH_SLOTS_LOG2)];
}

static void
neigh_write(struct spr_io_dpdk *d, uint8_t family, const uint8_t *addr, const uint8_t *mac,
	    bool vlan, uint16_t vlan_tci)
{
	struct neigh *e = neigh_slot(d, family, addr);

	if (likely(e->family == family && e->vlan == vlan && e->vlan_tci == vlan_tci &&
		   memcmp(e->mac, mac, 6) == 0 && memcmp(e->addr, addr, addr_len(family)) == 0))
		return;
	memset(e, 0, sizeof(*e));
	e->family = family;
	e->vlan = vlan;
	e->vlan_tci = vlan_tci;
	memcpy(e->mac, mac, 6);
	memcpy(e->addr, addr, addr_len(family));
}

static const struct neigh *
neigh_find(struct spr_io_dpdk *d, const struct spr_peer *p)
{
	const struct neigh *e = neigh_slot(d, p->family, p->addr);

	if (e->family != p->family || memcmp(e->addr, p->addr, addr_len(p->family)) != 0)
		return NULL;
	return e;
}

void
spr_io_dpdk_neigh_set(struct spr_io *io, const struct spr_peer *peer,
		      const struct rte_ether_addr *mac, int32_t vlan_tci)
{
	if (peer->family != AF_INET && peer->family != AF_INET6)
		return;
	neigh_write(dpdk_of(io), peer->family, peer->addr, mac->addr_bytes, vlan_tci >= 0,
		    vlan_tci >= 0 ? (uint16_t)vlan_tci : 0);
}

/* A relay io's frames go to its via over the ring; a full ring drops them (counted). */
static void
relay_flush(struct spr_io_dpdk *d)
{
	unsigned q = rte_ring_sp_enqueue_burst(d->relay_out, (void **)d->tx, d->n_tx, NULL);

	d->io.cnt.tx_pkts += q;
	if (unlikely(q < d->n_tx)) {
		d->io.cnt.tx_drop += d->n_tx - q;
		rte_pktmbuf_free_bulk(d->tx + q, d->n_tx - q);
	}
	d->n_tx = 0;
}

static void
dpdk_flush(struct spr_io *io)
{
	struct spr_io_dpdk *d = dpdk_of(io);
	uint16_t sent;

	if (d->relay_in != NULL && d->n_tx < TXQ_LEN) {
		/* bounded: what fits this burst; the rest waits for the next flush */
		unsigned got = rte_ring_sc_dequeue_burst(d->relay_in, (void **)(d->tx + d->n_tx),
							 TXQ_LEN - d->n_tx, NULL);

		io->cnt.tx_relayed += got;
		d->n_tx = (uint16_t)(d->n_tx + got);
	}
	if (d->n_tx == 0)
		return;
	if (unlikely(d->relay_out != NULL)) {
		relay_flush(d);
		return;
	}
	sent = rte_eth_tx_burst(d->port, d->txq, d->tx, d->n_tx);
	io->cnt.tx_pkts += sent;
	if (unlikely(sent < d->n_tx)) {
		io->cnt.tx_drop += d->n_tx - sent;
		rte_pktmbuf_free_bulk(d->tx + sent, d->n_tx - sent);
	}
	d->n_tx = 0;
}

/* Queue m, a frame of len bytes whose IP part starts at l3_off; bigger than the MTU: dropped. */
static inline void
tx_put(struct spr_io_dpdk *d, struct rte_mbuf *m, uint32_t len, uint32_t l3_off)
{
	if (unlikely(len - l3_off > d->mtu)) {
		d->io.cnt.drop_reply_size++;
		rte_pktmbuf_free(m);
		return;
	}
	m->data_len = (uint16_t)len;
	m->pkt_len = len;
	m->ol_flags = 0;
	if (unlikely(d->n_tx == TXQ_LEN))
		dpdk_flush(&d->io);
	d->tx[d->n_tx++] = m;
}

static inline enum spr_net_result
classify(struct spr_io_dpdk *d, struct rte_mbuf *m, struct spr_net_info *in)
{
	return spr_net_classify(rte_pktmbuf_mtod(m, uint8_t *), m->data_len,
				(uint32_t)m->data_len + rte_pktmbuf_tailroom(m), &d->local, in);
}

/*
 * RFC 791 reassembly of an IPv4 fragment for us (DPDK ip_frag). Returns the
 * whole datagram in one segment with a valid header checksum, or NULL: held,
 * on the death row, or too big for one segment (counted, freed).
 */
static struct rte_mbuf *
reassemble(struct spr_io_dpdk *d, struct rte_mbuf *m, const struct spr_net_info *in, uint64_t tsc)
{
	struct rte_mbuf *r;

	rte_pktmbuf_trim(m, (uint16_t)(m->data_len - in->frame_len)); /* Ethernet padding */
	m->l2_len = in->l3_off;
	m->l3_len = in->l3_hdr_len;
	r = rte_ipv4_frag_reassemble_packet(
		d->frag, &d->dr, m, tsc,
		rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, in->l3_off));
	if (r == NULL)
		return NULL;
	if (rte_pktmbuf_linearize(r) != 0) {
		d->io.cnt.drop_oversize++;
		rte_pktmbuf_free(r);
		return NULL;
	}
	spr_net_ipv4_csum_set(rte_pktmbuf_mtod_offset(r, uint8_t *, r->l2_len));
	return r;
}

/* One received frame: 1 when it became *pkt, else 0 (answered, held or dropped). */
static uint16_t
rx_one(struct spr_io_dpdk *d, struct rte_mbuf *m, struct spr_pkt *pkt, uint64_t tsc)
{
	struct spr_net_info in;
	enum spr_net_result r;

	if (unlikely(m->nb_segs != 1)) {
		d->io.cnt.drop_oversize++;
		rte_pktmbuf_free(m);
		return 0;
	}
	r = classify(d, m, &in);
	if (unlikely(r == SPR_NET_FRAG4)) {
		d->io.cnt.rx_frags++;
		if ((m = reassemble(d, m, &in, tsc)) == NULL)
			return 0;
		r = classify(d, m, &in);
		if (r == SPR_NET_FRAG4)
			r = SPR_NET_DROP_FRAG;
	}
	if (in.learn)
		neigh_write(d, in.src.family, in.src.addr, in.src_mac, in.vlan, in.vlan_tci);
	switch (r) {
	case SPR_NET_SIP:
		d->io.cnt.rx_sip++;
		pkt->m = m;
		pkt->data = rte_pktmbuf_mtod_offset(m, const char *, in.payload_off);
		pkt->len = in.payload_len;
		pkt->src = in.src;
		pkt->dst = in.dst;
		memcpy(pkt->hop.mac, in.src_mac, 6);
		pkt->hop.vlan_tci = in.vlan_tci;
		pkt->hop.vlan = in.vlan;
		pkt->hop.valid = in.learn;
		pkt->l3_off = in.l3_off;
		pkt->queue = d->rxq;
		return 1;
	case SPR_NET_ARP_REPLY:
	case SPR_NET_ND_REPLY:
	case SPR_NET_ECHO_REPLY:
		spr_net_count(&d->io.cnt, r);
		tx_put(d, m, in.frame_len, in.l3_off);
		return 0;
	default:
		spr_net_count(&d->io.cnt, r);
		rte_pktmbuf_free(m);
		return 0;
	}
}

/* Fragments timed out, refused or overlapping: freed, counted as drop_frag. */
static inline void
frag_reap(struct spr_io_dpdk *d, uint64_t tsc)
{
	rte_ip_frag_table_del_expired_entries(d->frag, &d->dr, tsc);
	if (d->dr.cnt != 0) {
		d->io.cnt.drop_frag += d->dr.cnt;
		rte_ip_frag_free_death_row(&d->dr, 0);
	}
}

static uint16_t
dpdk_rx(struct spr_io *io, struct spr_pkt *pkts, uint16_t max)
{
	struct spr_io_dpdk *d = dpdk_of(io);
	struct rte_mbuf *m[SPR_BURST];
	uint64_t tsc;
	uint16_t n, out = 0;

	if (unlikely(d->rxq == SPR_IO_DPDK_NO_RX))
		return 0;
	n = rte_eth_rx_burst(d->port, d->rxq, m, RTE_MIN(max, SPR_BURST));
	tsc = rte_rdtsc();
	if (n != 0) {
		io->cnt.rx_pkts += n;
		for (uint16_t i = 0; i < n; i++)
			rte_prefetch0(rte_pktmbuf_mtod(m[i], void *));
		for (uint16_t i = 0; i < n; i++)
			out += rx_one(d, m[i], &pkts[out], tsc);
	}
	frag_reap(d, tsc);
	return out;
}

static void
dpdk_reply(struct spr_io *io, struct spr_pkt *pkt, const char *payload, uint32_t len)
{
	struct spr_io_dpdk *d = dpdk_of(io);
	struct rte_mbuf *m = pkt->m;
	int r;

	r = spr_net_udp_reply(rte_pktmbuf_mtod(m, uint8_t *),
			      (uint32_t)m->data_len + rte_pktmbuf_tailroom(m), pkt->l3_off,
			      &pkt->src, &pkt->dst, d->ip_id++, payload, len);
	if (unlikely(r < 0)) {
		io->cnt.drop_reply_size++;
		rte_pktmbuf_free(m);
		return;
	}
	tx_put(d, m, (uint32_t)r, pkt->l3_off);
}

static void
dpdk_drop(struct spr_io *io, struct spr_pkt *pkt)
{
	rte_pktmbuf_free(pkt->m);
}

/*
 * A datagram larger than the MTU leaves in fragments (IPv4: RFC 791 §3.2;
 * IPv6: RFC 8200 §4.5), all or none: a NOTIFY with several devices' PIDF
 * tuples or a buddy list passes 1,500 bytes.
 */
static int
send_frags(struct spr_io_dpdk *d, const struct spr_net_l2 *l2, const struct spr_peer *from,
	   const struct spr_peer *to, const char *payload, uint32_t len)
{
	struct rte_mbuf *m[SPR_IO_DPDK_FRAGS_OUT_MAX];
	uint32_t n = spr_net_udp_frag_count(from->family, len, d->mtu);
	uint32_t id;
	uint16_t csum;

	if (n > SPR_IO_DPDK_FRAGS_OUT_MAX) {
		d->io.cnt.drop_reply_size++;
		return -EMSGSIZE;
	}
	if (rte_pktmbuf_alloc_bulk(d->pool, m, n) != 0) {
		d->io.cnt.drop_no_mbuf++;
		return -ENOBUFS;
	}
	csum = spr_net_udp_csum(from, to, payload, len);
	id = from->family == AF_INET6 ? d->frag_id++ : d->ip_id++;
	for (uint32_t k = 0; k < n; k++) {
		int r = spr_net_udp_frag_build(rte_pktmbuf_mtod(m[k], uint8_t *),
					       rte_pktmbuf_tailroom(m[k]), l2, from, to, id, d->mtu,
					       csum, payload, len, k);

		if (r < 0) {
			d->io.cnt.drop_reply_size++;
			rte_pktmbuf_free_bulk(m, n);
			return r;
		}
		m[k]->data_len = (uint16_t)r;
		m[k]->pkt_len = (uint32_t)r;
	}
	for (uint32_t k = 0; k < n; k++)
		tx_put(d, m[k], m[k]->pkt_len, SPR_NET_ETHER_LEN + (l2->vlan ? SPR_NET_VLAN_LEN : 0));
	d->io.cnt.tx_frags += n;
	return 0;
}

static int
dpdk_send(struct spr_io *io, const struct spr_peer *from, const struct spr_peer *to,
	  const struct spr_l2_hop *hop, const char *payload, uint32_t len)
{
	struct spr_io_dpdk *d = dpdk_of(io);
	struct spr_net_l2 l2;
	struct rte_mbuf *m;
	int r;

	if (hop != NULL && hop->valid) {
		memcpy(l2.dst, hop->mac, 6);
		l2.vlan = hop->vlan;
		l2.vlan_tci = hop->vlan_tci;
	} else {
		const struct neigh *e = neigh_find(d, to);

		if (e == NULL) {
			io->cnt.drop_no_neigh++;
			return -EHOSTUNREACH;
		}
		memcpy(l2.dst, e->mac, 6);
		l2.vlan = e->vlan;
		l2.vlan_tci = e->vlan_tci;
	}
	memcpy(l2.src, d->local.mac, 6);
	if (from->family == to->family && spr_net_udp_frag_count(from->family, len, d->mtu) > 1)
		return send_frags(d, &l2, from, to, payload, len);
	if ((m = rte_pktmbuf_alloc(d->pool)) == NULL) {
		io->cnt.drop_no_mbuf++;
		return -ENOBUFS;
	}
	r = spr_net_udp_build(rte_pktmbuf_mtod(m, uint8_t *), rte_pktmbuf_tailroom(m), &l2, from,
			      to, d->ip_id++, payload, len);
	if (r < 0) {
		if (r == -EMSGSIZE)
			io->cnt.drop_reply_size++;
		rte_pktmbuf_free(m);
		return r;
	}
	if ((uint32_t)r - (SPR_NET_ETHER_LEN + (l2.vlan ? SPR_NET_VLAN_LEN : 0)) > d->mtu) {
		io->cnt.drop_reply_size++;
		rte_pktmbuf_free(m);
		return -EMSGSIZE;
	}
	tx_put(d, m, (uint32_t)r, 0);
	return 0;
}

static void
dpdk_destroy(struct spr_io *io)
{
	struct spr_io_dpdk *d = dpdk_of(io);

	dpdk_flush(io);
	if (d->relay_out != NULL) {
		struct rte_mbuf *m;

		while (rte_ring_sc_dequeue(d->relay_out, (void **)&m) == 0)
			rte_pktmbuf_free(m);
		d->via->relay_in = NULL;
		rte_ring_free(d->relay_out);
	}
	if (d->frag != NULL) {
		rte_ip_frag_free_death_row(&d->dr, 0);
		rte_ip_frag_table_destroy(d->frag);
	}
	rte_free(d);
}

static const struct spr_io_ops dpdk_ops = {
	.rx = dpdk_rx,
	.reply = dpdk_reply,
	.drop = dpdk_drop,
	.send = dpdk_send,
	.flush = dpdk_flush,
	.destroy = dpdk_destroy,
};

struct spr_io *
spr_io_dpdk_create(uint16_t port_id, uint16_t rx_queue, uint16_t tx_queue, struct rte_mempool *pool,
		   const struct spr_io_addrs *ours, const struct rte_ether_addr *mac)
{
	int socket = rte_eth_dev_socket_id(port_id);
	struct spr_io_dpdk *d;
	uint16_t mtu;

	if (!rte_eth_dev_is_valid_port(port_id) || pool == NULL || ours == NULL || mac == NULL ||
	    ours->n > SPR_IO_ADDRS_MAX) {
		rte_errno = EINVAL;
		return NULL;
	}
	if (rte_eth_dev_get_mtu(port_id, &mtu) != 0)
		mtu = RTE_ETHER_MTU;
	d = rte_zmalloc_socket("spr_io_dpdk", sizeof(*d), RTE_CACHE_LINE_SIZE, socket);
	if (d == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	if (rx_queue != SPR_IO_DPDK_NO_RX) {
		d->frag = rte_ip_frag_table_create(
			FRAG_BUCKETS, FRAG_BUCKET_ENTRIES, SPR_IO_DPDK_FRAG_MAX,
			rte_get_tsc_hz() / 1000 * SPR_IO_DPDK_FRAG_TTL_MS, socket);
		if (d->frag == NULL) {
			rte_errno = ENOMEM;
			goto err_free;
		}
	}
	d->io.ops = &dpdk_ops;
	d->port = port_id;
	d->rxq = rx_queue;
	d->txq = tx_queue;
	d->mtu = mtu;
	d->pool = pool;
	memcpy(d->local.mac, mac->addr_bytes, 6);
	d->local.addrs = *ours;
	return &d->io;

err_free:
	rte_free(d);
	return NULL;
}

struct spr_io *
spr_io_dpdk_create_relay(struct spr_io *via, uint32_t size)
{
	struct spr_io_dpdk *v = dpdk_of(via), *d;
	char name[RTE_RING_NAMESIZE];

	if (v->relay_in != NULL || v->relay_out != NULL || size == 0) {
		rte_errno = EINVAL;
		return NULL;
	}
	d = rte_zmalloc_socket("spr_io_dpdk", sizeof(*d), RTE_CACHE_LINE_SIZE,
			       rte_eth_dev_socket_id(v->port));
	if (d == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	snprintf(name, sizeof(name), "spr_relay_%u_%u", v->port, v->txq);
	d->relay_out = rte_ring_create(name, rte_align32pow2(size), rte_eth_dev_socket_id(v->port),
				       RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (d->relay_out == NULL) {
		rte_free(d);
		return NULL; /* rte_errno set */
	}
	d->io.ops = &dpdk_ops;
	d->port = v->port;
	d->rxq = SPR_IO_DPDK_NO_RX;
	d->txq = v->txq;
	d->mtu = v->mtu;
	d->pool = v->pool;
	d->local = v->local;
	d->via = v;
	v->relay_in = d->relay_out;
	return &d->io;
}

/* The solicited-node groups of our IPv6 addresses, as Ethernet multicast addresses (RFC 2464 §7).
 */
static uint32_t
solicited_node_macs(const struct spr_io_addrs *ours, struct rte_ether_addr *out)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < ours->n && i < SPR_IO_ADDRS_MAX; i++) {
		const uint8_t *a = ours->a[i].addr;
		const uint8_t mac[6] = {0x33, 0x33, 0xff, a[13], a[14], a[15]};
		bool dup = false;

		if (ours->a[i].family != AF_INET6)
			continue;
		for (uint32_t j = 0; j < n; j++)
			dup = dup || memcmp(out[j].addr_bytes, mac, 6) == 0;
		if (!dup)
			memcpy(out[n++].addr_bytes, mac, 6);
	}
	return n;
}

int
spr_dpdk_port_setup(uint16_t port_id, uint16_t n_rx_queues, uint16_t n_tx_queues,
		    struct rte_mempool *pool, const struct spr_io_addrs *ours)
{
	struct rte_ether_addr mc[SPR_IO_ADDRS_MAX];
	struct rte_eth_conf conf;
	struct rte_eth_dev_info info;
	uint16_t nb_rxd = RX_DESC, nb_txd = TX_DESC;
	uint32_t n_mc;
	int socket, rc;

	if (!rte_eth_dev_is_valid_port(port_id) || n_rx_queues == 0 || n_tx_queues == 0 ||
	    pool == NULL || ours == NULL)
		return -EINVAL;
	if ((rc = rte_eth_dev_info_get(port_id, &info)) != 0)
		return rc;
	if (n_rx_queues > info.max_rx_queues || n_tx_queues > info.max_tx_queues)
		return -EINVAL;
	memset(&conf, 0, sizeof(conf));
	if (n_rx_queues > 1) {
		uint64_t hf = (RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP) & info.flow_type_rss_offloads;

		if (hf == 0)
			return -ENOTSUP;
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf = hf;
	}
	if ((rc = rte_eth_dev_configure(port_id, n_rx_queues, n_tx_queues, &conf)) != 0)
		return rc;
	if ((rc = rte_eth_dev_adjust_nb_rx_tx_desc(port_id, &nb_rxd, &nb_txd)) != 0)
		return rc;
	socket = rte_eth_dev_socket_id(port_id);
	for (uint16_t q = 0; q < n_rx_queues; q++)
		if ((rc = rte_eth_rx_queue_setup(port_id, q, nb_rxd, socket, NULL, pool)) != 0)
			return rc;
	for (uint16_t q = 0; q < n_tx_queues; q++)
		if ((rc = rte_eth_tx_queue_setup(port_id, q, nb_txd, socket, NULL)) != 0)
			return rc;
	if ((rc = rte_eth_promiscuous_disable(port_id)) != 0 && rc != -ENOTSUP)
		return rc;
	n_mc = solicited_node_macs(ours, mc);
	if (n_mc != 0) {
		rc = rte_eth_dev_set_mc_addr_list(port_id, mc, n_mc);
		if (rc == -ENOTSUP)
			rc = rte_eth_allmulticast_enable(port_id);
		if (rc != 0 && rc != -ENOTSUP)
			return rc;
	}
	return rte_eth_dev_start(port_id);
}
