/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The dpdk backend on net_ring ports made from rings (rte_eth_from_rings):
 * frames enqueued on the RX ring come out of spr_io_rx, what the port
 * transmits is dequeued from the TX ring. Frames are built and checked with
 * DPDK's own header structs and checksum helpers. After every test the
 * mempool holds as many mbufs as before it: nothing leaks.
 */
#include <errno.h>
#include <stdbool.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>

#include <rte_arp.h>
#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_udp.h>

#include <time.h>

#include <rte_ring_elem.h>
#include <urcu-qsbr.h>

#include "io_dpdk.h"
#include "lcore.h"

#define SIP_PORT 5060
#define PEER_PORT 5062
#define NB_MBUF 4095

static struct rte_mempool *pool;
static struct rte_ring *rx_ring, *tx_ring;
static uint16_t port, port2;
static struct rte_ether_addr our_mac;
static const struct rte_ether_addr peer_mac = {{0x02, 0, 0, 0, 0, 0x99}};
static const struct rte_ether_addr other_mac = {{0x02, 0, 0, 0, 0, 0x55}};
static const uint8_t our4[4] = {192, 0, 2, 1};
static const uint8_t peer4[4] = {198, 51, 100, 7};
static const uint8_t our6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
static const uint8_t peer6[16] = {0x20, 0x01, 0x0d, 0xb8, [12] = 0xab, [13] = 0xcd, [15] = 7};
static struct spr_io_addrs ours;

static struct spr_io *io;
static unsigned int avail0;

static const char request[] = "REGISTER sip:example.com SIP/2.0\r\n"
			      "Via: SIP/2.0/UDP 198.51.100.7:5062;branch=z9hG4bK1;rport\r\n"
			      "Content-Length: 0\r\n\r\n";
static const char response[] = "SIP/2.0 200 OK\r\n"
			       "Via: SIP/2.0/UDP 198.51.100.7:5062;branch=z9hG4bK1;rport=5062"
			       ";received=198.51.100.7\r\nContent-Length: 0\r\n\r\n";

/* ---- frames ---- */

static uint32_t
be32_of(const uint8_t *a)
{
	uint32_t v;

	memcpy(&v, a, 4);
	return v;
}

/* An IPv4 header for l4len bytes of payload, checksum set. */
static void
ip4_hdr(struct rte_ipv4_hdr *ip, const uint8_t *src, const uint8_t *dst, uint8_t proto,
	uint32_t l4len, uint16_t id, uint16_t frag)
{
	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(sizeof(*ip) + l4len));
	ip->packet_id = rte_cpu_to_be_16(id);
	ip->fragment_offset = rte_cpu_to_be_16(frag);
	ip->time_to_live = 61;
	ip->next_proto_id = proto;
	ip->src_addr = be32_of(src);
	ip->dst_addr = be32_of(dst);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
}

static uint32_t
eth_hdr(uint8_t *f, const struct rte_ether_addr *dst, const struct rte_ether_addr *src,
	uint16_t type)
{
	struct rte_ether_hdr *eh = (struct rte_ether_hdr *)f;

	eh->dst_addr = *dst;
	eh->src_addr = *src;
	eh->ether_type = rte_cpu_to_be_16(type);
	return sizeof(*eh);
}

static uint32_t
udp4_frame(uint8_t *f, const struct rte_ether_addr *dmac, const uint8_t *dst, uint16_t dport,
	   const void *pl, uint32_t n)
{
	uint32_t l3 = eth_hdr(f, dmac, &peer_mac, RTE_ETHER_TYPE_IPV4);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(f + l3);
	struct rte_udp_hdr *u = (struct rte_udp_hdr *)(ip + 1);

	ip4_hdr(ip, peer4, dst, IPPROTO_UDP, sizeof(*u) + n, 7, 0);
	u->src_port = rte_cpu_to_be_16(PEER_PORT);
	u->dst_port = rte_cpu_to_be_16(dport);
	u->dgram_len = rte_cpu_to_be_16((uint16_t)(sizeof(*u) + n));
	u->dgram_cksum = 0;
	memcpy(u + 1, pl, n);
	u->dgram_cksum = rte_ipv4_udptcp_cksum(ip, u);
	return l3 + sizeof(*ip) + sizeof(*u) + n;
}

static uint32_t
udp6_frame(uint8_t *f, const void *pl, uint32_t n)
{
	uint32_t l3 = eth_hdr(f, &our_mac, &peer_mac, RTE_ETHER_TYPE_IPV6);
	struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)(f + l3);
	struct rte_udp_hdr *u = (struct rte_udp_hdr *)(ip + 1);

	memset(ip, 0, sizeof(*ip));
	ip->vtc_flow = rte_cpu_to_be_32(6u << 28);
	ip->payload_len = rte_cpu_to_be_16((uint16_t)(sizeof(*u) + n));
	ip->proto = IPPROTO_UDP;
	ip->hop_limits = 64;
	memcpy(ip->src_addr, peer6, 16);
	memcpy(ip->dst_addr, our6, 16);
	u->src_port = rte_cpu_to_be_16(PEER_PORT);
	u->dst_port = rte_cpu_to_be_16(SIP_PORT);
	u->dgram_len = ip->payload_len;
	u->dgram_cksum = 0;
	memcpy(u + 1, pl, n);
	u->dgram_cksum = rte_ipv6_udptcp_cksum(ip, u);
	return l3 + sizeof(*ip) + sizeof(*u) + n;
}

/* The UDP checksum recomputed by DPDK equals the one in the datagram. */
static bool
udp4_csum_ok(const struct rte_ipv4_hdr *ip, struct rte_udp_hdr *u)
{
	uint16_t c = u->dgram_cksum;
	bool ok;

	u->dgram_cksum = 0;
	ok = rte_ipv4_udptcp_cksum(ip, u) == c;
	u->dgram_cksum = c;
	return ok;
}

static bool
udp6_csum_ok(const struct rte_ipv6_hdr *ip, struct rte_udp_hdr *u)
{
	uint16_t c = u->dgram_cksum;
	bool ok;

	u->dgram_cksum = 0;
	ok = rte_ipv6_udptcp_cksum(ip, u) == c;
	u->dgram_cksum = c;
	return ok;
}

static void
inject(const uint8_t *f, uint32_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);

	assert_non_null(m);
	memcpy(rte_pktmbuf_append(m, (uint16_t)len), f, len);
	assert_int_equal(rte_ring_enqueue(rx_ring, m), 0);
}

/* The one frame the port transmitted (flushed first). */
static struct rte_mbuf *
sent_one(void)
{
	struct rte_mbuf *m[4];

	spr_io_flush(io);
	assert_int_equal(rte_ring_dequeue_burst(tx_ring, (void **)m, 4, NULL), 1);
	return m[0];
}

static void
nothing_sent(void)
{
	spr_io_flush(io);
	assert_int_equal(rte_ring_count(tx_ring), 0);
}

/* ---- fixtures ---- */

static int
fail_setup(const char *what)
{
	print_error("%s: %s\n", what, rte_strerror(rte_errno));
	return -1;
}

static int
group_setup(void **state)
{
	/* a prefix of this test's own, no shared config: runs side by side with itself */
	char *argv[] = {"test_io_dpdk",
			"--no-huge",
			"--no-pci",
			"-m",
			"512",
			"-l",
			"0",
			"--file-prefix=spr_test_io_dpdk",
			"--no-shconf",
			"--no-telemetry",
			"--log-level=*:error"};
	struct rte_ring *rx2[2], *tx3[3];
	int rc;

	if (rte_eal_init((int)(sizeof(argv) / sizeof(argv[0])), argv) < 0)
		return fail_setup("rte_eal_init");
	pool = rte_pktmbuf_pool_create("dp_io", NB_MBUF, 32, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				       SOCKET_ID_ANY);
	rx_ring = rte_ring_create("dp_io_rx", 1024, SOCKET_ID_ANY, 0);
	tx_ring = rte_ring_create("dp_io_tx", 1024, SOCKET_ID_ANY, 0);
	if (pool == NULL || rx_ring == NULL || tx_ring == NULL)
		return fail_setup("mempool/rings");
	rc = rte_eth_from_rings("dp_io0", &rx_ring, 1, &tx_ring, 1, SOCKET_ID_ANY);
	if (rc < 0)
		return fail_setup("rte_eth_from_rings");
	port = (uint16_t)rc;

	ours.n = 2;
	ours.a[0].family = AF_INET;
	ours.a[0].port = SIP_PORT;
	memcpy(ours.a[0].addr, our4, 4);
	ours.a[1].family = AF_INET6;
	ours.a[1].port = SIP_PORT;
	memcpy(ours.a[1].addr, our6, 16);
	if (spr_dpdk_port_setup(port, 1, 1, pool, &ours) != 0)
		return fail_setup("spr_dpdk_port_setup");
	if (rte_eth_macaddr_get(port, &our_mac) != 0)
		return fail_setup("rte_eth_macaddr_get");

	/* the rings of a second port, for queue counts */
	for (int i = 0; i < 2; i++) {
		char name[32];

		snprintf(name, sizeof(name), "dp_io_rx2_%d", i);
		rx2[i] = rte_ring_create(name, 64, SOCKET_ID_ANY, 0);
	}
	for (int i = 0; i < 3; i++) {
		char name[32];

		snprintf(name, sizeof(name), "dp_io_tx3_%d", i);
		tx3[i] = rte_ring_create(name, 64, SOCKET_ID_ANY, 0);
	}
	rc = rte_eth_from_rings("dp_io1", rx2, 2, tx3, 3, SOCKET_ID_ANY);
	if (rc < 0)
		return fail_setup("rte_eth_from_rings (second port)");
	port2 = (uint16_t)rc;
	return 0;
}

static int
group_teardown(void **state)
{
	uint16_t p;

	RTE_ETH_FOREACH_DEV(p)
	{
		rte_eth_dev_stop(p);
		rte_eth_dev_close(p);
	}
	rte_eal_cleanup();
	return 0;
}

static int
setup(void **state)
{
	io = spr_io_dpdk_create(port, 0, 0, pool, &ours, &our_mac);
	assert_non_null(io);
	avail0 = rte_mempool_avail_count(pool);
	return 0;
}

static int
teardown(void **state)
{
	struct rte_mbuf *m;

	spr_io_destroy(io);
	while (rte_ring_dequeue(tx_ring, (void **)&m) == 0)
		rte_pktmbuf_free(m);
	assert_int_equal(rte_mempool_avail_count(pool), avail0);
	return 0;
}

/* ---- tests ---- */

static void
check_udp4_reply(struct rte_mbuf *m, uint16_t dport, const void *pl, uint32_t n)
{
	struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eh + 1);
	struct rte_udp_hdr *u = (struct rte_udp_hdr *)(ip + 1);

	assert_int_equal(m->nb_segs, 1);
	assert_int_equal(m->pkt_len, sizeof(*eh) + sizeof(*ip) + sizeof(*u) + n);
	assert_memory_equal(&eh->dst_addr, &peer_mac, 6);
	assert_memory_equal(&eh->src_addr, &our_mac, 6);
	assert_int_equal(rte_be_to_cpu_16(eh->ether_type), RTE_ETHER_TYPE_IPV4);
	assert_int_equal(ip->version_ihl, RTE_IPV4_VHL_DEF);
	assert_int_equal(rte_raw_cksum(ip, sizeof(*ip)), 0xffff);
	assert_int_equal(ip->time_to_live, 64);
	assert_int_equal(ip->src_addr, be32_of(our4));
	assert_int_equal(ip->dst_addr, be32_of(peer4));
	assert_int_equal(rte_be_to_cpu_16(ip->total_length), sizeof(*ip) + sizeof(*u) + n);
	assert_int_equal(rte_be_to_cpu_16(u->src_port), SIP_PORT);
	assert_int_equal(rte_be_to_cpu_16(u->dst_port), dport);
	assert_int_equal(rte_be_to_cpu_16(u->dgram_len), sizeof(*u) + n);
	assert_int_not_equal(u->dgram_cksum, 0);
	assert_true(udp4_csum_ok(ip, u));
	assert_memory_equal(u + 1, pl, n);
}

static void
test_sip_ipv4(void **state)
{
	uint8_t f[2048];
	struct spr_pkt pkts[SPR_BURST];
	char payload[sizeof(response)];

	inject(f, udp4_frame(f, &our_mac, our4, SIP_PORT, request, sizeof(request) - 1));
	assert_int_equal(spr_io_rx(io, pkts, SPR_BURST), 1);
	assert_int_equal(pkts[0].len, sizeof(request) - 1);
	assert_memory_equal(pkts[0].data, request, pkts[0].len);
	assert_int_equal(pkts[0].src.family, AF_INET);
	assert_int_equal(pkts[0].src.port, PEER_PORT);
	assert_memory_equal(pkts[0].src.addr, peer4, 4);
	assert_int_equal(pkts[0].dst.family, AF_INET);
	assert_int_equal(pkts[0].dst.port, SIP_PORT);
	assert_memory_equal(pkts[0].dst.addr, our4, 4);
	assert_int_equal(io->cnt.rx_pkts, 1);
	assert_int_equal(io->cnt.rx_sip, 1);

	/* the reply is longer than the request; built in separate memory */
	memcpy(payload, response, sizeof(response));
	spr_io_reply(io, &pkts[0], payload, sizeof(response) - 1);
	{
		struct rte_mbuf *m = sent_one();

		check_udp4_reply(m, PEER_PORT, response, sizeof(response) - 1);
		rte_pktmbuf_free(m);
	}
	assert_int_equal(io->cnt.tx_pkts, 1);
}

static void
test_sip_ipv6(void **state)
{
	uint8_t f[2048];
	struct spr_pkt pkts[SPR_BURST];
	struct rte_mbuf *m;
	struct rte_ipv6_hdr *ip;
	struct rte_udp_hdr *u;

	inject(f, udp6_frame(f, request, sizeof(request) - 1));
	assert_int_equal(spr_io_rx(io, pkts, SPR_BURST), 1);
	assert_int_equal(pkts[0].src.family, AF_INET6);
	assert_memory_equal(pkts[0].src.addr, peer6, 16);
	assert_memory_equal(pkts[0].dst.addr, our6, 16);
	assert_memory_equal(pkts[0].data, request, sizeof(request) - 1);

	spr_io_reply(io, &pkts[0], response, 10);
	m = sent_one();
	ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv6_hdr *, sizeof(struct rte_ether_hdr));
	u = (struct rte_udp_hdr *)(ip + 1);
	assert_int_equal(m->pkt_len, 14 + 40 + 8 + 10);
	assert_memory_equal(ip->src_addr, our6, 16);
	assert_memory_equal(ip->dst_addr, peer6, 16);
	assert_int_equal(ip->hop_limits, 64);
	assert_int_equal(rte_be_to_cpu_16(ip->payload_len), 8 + 10);
	assert_int_equal(rte_be_to_cpu_16(u->dst_port), PEER_PORT);
	assert_true(udp6_csum_ok(ip, u));
	assert_memory_equal(u + 1, response, 10);
	rte_pktmbuf_free(m);
}

static void
test_arp(void **state)
{
	uint8_t f[128] = {0};
	struct spr_pkt pkts[SPR_BURST];
	struct rte_ether_addr bcast;
	struct rte_arp_hdr *a;
	struct rte_mbuf *m;
	uint32_t l3;

	memset(&bcast, 0xff, sizeof(bcast));
	l3 = eth_hdr(f, &bcast, &peer_mac, RTE_ETHER_TYPE_ARP);
	a = (struct rte_arp_hdr *)(f + l3);
	a->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
	a->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	a->arp_hlen = 6;
	a->arp_plen = 4;
	a->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REQUEST);
	a->arp_data.arp_sha = peer_mac;
	a->arp_data.arp_sip = be32_of(peer4);
	a->arp_data.arp_tip = be32_of(our4);
	inject(f, 60); /* padded to the Ethernet minimum */

	assert_int_equal(spr_io_rx(io, pkts, SPR_BURST), 0);
	assert_int_equal(io->cnt.arp_replies, 1);
	m = sent_one();
	assert_int_equal(m->pkt_len, 14 + 28);
	a = rte_pktmbuf_mtod_offset(m, struct rte_arp_hdr *, 14);
	assert_memory_equal(rte_pktmbuf_mtod(m, uint8_t *), &peer_mac, 6);
	assert_memory_equal(rte_pktmbuf_mtod(m, uint8_t *) + 6, &our_mac, 6);
	assert_int_equal(rte_be_to_cpu_16(a->arp_opcode), RTE_ARP_OP_REPLY);
	assert_memory_equal(&a->arp_data.arp_sha, &our_mac, 6);
	assert_int_equal(a->arp_data.arp_sip, be32_of(our4));
	assert_memory_equal(&a->arp_data.arp_tha, &peer_mac, 6);
	assert_int_equal(a->arp_data.arp_tip, be32_of(peer4));
	rte_pktmbuf_free(m);
}

static void
test_icmp_echo(void **state)
{
	uint8_t f[256] = {0};
	struct spr_pkt pkts[SPR_BURST];
	uint32_t l3 = eth_hdr(f, &our_mac, &peer_mac, RTE_ETHER_TYPE_IPV4);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(f + l3);
	struct rte_icmp_hdr *ic = (struct rte_icmp_hdr *)(ip + 1);
	struct rte_mbuf *m;

	ic->icmp_type = RTE_IP_ICMP_ECHO_REQUEST;
	ic->icmp_ident = rte_cpu_to_be_16(0x77);
	ic->icmp_seq_nb = rte_cpu_to_be_16(3);
	memcpy(ic + 1, "0123456789abcdef", 16);
	ic->icmp_cksum = (uint16_t)~rte_raw_cksum(ic, sizeof(*ic) + 16);
	ip4_hdr(ip, peer4, our4, IPPROTO_ICMP, sizeof(*ic) + 16, 9, 0);
	inject(f, l3 + sizeof(*ip) + sizeof(*ic) + 16);

	assert_int_equal(spr_io_rx(io, pkts, SPR_BURST), 0);
	assert_int_equal(io->cnt.icmp_echo_replies, 1);
	m = sent_one();
	ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, 14);
	ic = (struct rte_icmp_hdr *)(ip + 1);
	assert_int_equal(m->pkt_len, 14 + 20 + 8 + 16);
	assert_memory_equal(rte_pktmbuf_mtod(m, uint8_t *), &peer_mac, 6);
	assert_int_equal(ip->src_addr, be32_of(our4));
	assert_int_equal(ip->dst_addr, be32_of(peer4));
	assert_int_equal(rte_raw_cksum(ip, sizeof(*ip)), 0xffff);
	assert_int_equal(ic->icmp_type, RTE_IP_ICMP_ECHO_REPLY);
	assert_int_equal(rte_be_to_cpu_16(ic->icmp_ident), 0x77);
	assert_int_equal(rte_raw_cksum(ic, sizeof(*ic) + 16), 0xffff);
	assert_memory_equal(ic + 1, "0123456789abcdef", 16);
	rte_pktmbuf_free(m);
}

static void
test_garbage(void **state)
{
	uint8_t f[2048];
	struct spr_pkt pkts[SPR_BURST];
	uint32_t len;

	srand(1);
	for (int i = 0; i < 8; i++) {
		len = 60 + (uint32_t)(rand() % 200);
		for (uint32_t j = 0; j < len; j++)
			f[j] = (uint8_t)rand();
		f[0] = 0x02; /* unicast, not ours */
		inject(f, len);
	}
	inject(f, 10);
	len = udp4_frame(f, &other_mac, our4, SIP_PORT, request, 20);
	inject(f, len);
	len = udp4_frame(f, &our_mac, our4, SIP_PORT, request, 20);
	f[14 + 10] ^= 0xff;
	inject(f, len);
	len = udp4_frame(f, &our_mac, our4, SIP_PORT, request, 20);
	f[len - 1] ^= 0xff;
	inject(f, len);
	len = udp4_frame(f, &our_mac, our4, 5999, request, 20);
	inject(f, len);

	assert_int_equal(spr_io_rx(io, pkts, SPR_BURST), 0);
	assert_int_equal(io->cnt.rx_pkts, 13);
	assert_int_equal(io->cnt.drop_l2, 9);
	assert_int_equal(io->cnt.drop_short, 1);
	assert_int_equal(io->cnt.drop_ip_csum, 1);
	assert_int_equal(io->cnt.drop_udp_csum, 1);
	assert_int_equal(io->cnt.drop_port, 1);
	nothing_sent();
}

static void
test_reply_too_big(void **state)
{
	static char big[4096];
	uint8_t f[2048];
	struct spr_pkt pkts[SPR_BURST];

	memset(big, 'x', sizeof(big));
	inject(f, udp4_frame(f, &our_mac, our4, SIP_PORT, request, sizeof(request) - 1));
	inject(f, udp4_frame(f, &our_mac, our4, SIP_PORT, request, sizeof(request) - 1));
	inject(f, udp4_frame(f, &our_mac, our4, SIP_PORT, request, sizeof(request) - 1));
	assert_int_equal(spr_io_rx(io, pkts, SPR_BURST), 3);
	spr_io_reply(io, &pkts[0], big, sizeof(big));	/* beyond the mbuf */
	spr_io_reply(io, &pkts[1], big, 1500 - 28 + 1); /* beyond the MTU */
	spr_io_reply(io, &pkts[2], big, 1500 - 28);	/* exactly the MTU */
	assert_int_equal(io->cnt.drop_reply_size, 2);
	{
		struct rte_mbuf *m = sent_one();

		check_udp4_reply(m, PEER_PORT, big, 1500 - 28);
		rte_pktmbuf_free(m);
	}
	nothing_sent();
}

static void
test_send(void **state)
{
	static const char notify[] = "NOTIFY sip:bob@198.51.100.7:5062 SIP/2.0\r\n\r\n";
	uint8_t f[2048];
	struct spr_pkt pkts[SPR_BURST];
	struct spr_peer to = {.family = AF_INET, .port = 5080};
	struct spr_peer to6 = {.family = AF_INET6, .port = 5080};
	struct rte_mbuf *m;

	memcpy(to.addr, peer4, 4);
	memcpy(to6.addr, peer6, 16);
	assert_int_equal(spr_io_send(io, &ours.a[0], &to, NULL, notify, sizeof(notify) - 1),
			 -EHOSTUNREACH);
	assert_int_equal(io->cnt.drop_no_neigh, 1);

	/* learned from a datagram the peer sent */
	inject(f, udp4_frame(f, &our_mac, our4, SIP_PORT, request, sizeof(request) - 1));
	assert_int_equal(spr_io_rx(io, pkts, SPR_BURST), 1);
	spr_io_drop(io, &pkts[0]);
	assert_int_equal(spr_io_send(io, &ours.a[0], &to, NULL, notify, sizeof(notify) - 1), 0);
	m = sent_one();
	check_udp4_reply(m, 5080, notify, sizeof(notify) - 1);
	rte_pktmbuf_free(m);

	/* set by hand, behind a VLAN */
	spr_io_dpdk_neigh_set(io, &to6, &other_mac, 42);
	assert_int_equal(spr_io_send(io, &ours.a[1], &to6, NULL, notify, sizeof(notify) - 1), 0);
	m = sent_one();
	{
		uint8_t *b = rte_pktmbuf_mtod(m, uint8_t *);
		struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)(b + 18);

		assert_memory_equal(b, &other_mac, 6);
		assert_int_equal(b[12] << 8 | b[13], RTE_ETHER_TYPE_VLAN);
		assert_int_equal(b[14] << 8 | b[15], 42);
		assert_int_equal(b[16] << 8 | b[17], RTE_ETHER_TYPE_IPV6);
		assert_memory_equal(ip->dst_addr, peer6, 16);
		assert_true(udp6_csum_ok(ip, (struct rte_udp_hdr *)(ip + 1)));
	}
	rte_pktmbuf_free(m);
}

/*
 * The next hop a received datagram carries goes where its frame came from;
 * an io that received nothing (control's) sends with it, and it wins over
 * the neighbour cache.
 */
static void
test_send_hop(void **state)
{
	static const char notify[] = "NOTIFY sip:bob@198.51.100.7:5062 SIP/2.0\r\n\r\n";
	uint8_t f[2048];
	struct spr_pkt pkts[SPR_BURST];
	struct spr_peer to = {.family = AF_INET, .port = 5080};
	struct spr_l2_hop hop, none = {.valid = 0};
	struct spr_io *ctl;
	struct rte_mbuf *m = NULL;

	memcpy(to.addr, peer4, 4);
	inject(f, udp4_frame(f, &our_mac, our4, SIP_PORT, request, sizeof(request) - 1));
	assert_int_equal(spr_io_rx(io, pkts, SPR_BURST), 1);
	hop = pkts[0].hop;
	spr_io_drop(io, &pkts[0]);
	assert_true(hop.valid);
	assert_false(hop.vlan);
	assert_memory_equal(hop.mac, &peer_mac, 6);

	ctl = spr_io_dpdk_create(port, SPR_IO_DPDK_NO_RX, 0, pool, &ours, &our_mac);
	assert_non_null(ctl);
	assert_int_equal(spr_io_send(ctl, &ours.a[0], &to, &none, notify, sizeof(notify) - 1),
			 -EHOSTUNREACH);
	assert_int_equal(ctl->cnt.drop_no_neigh, 1);
	assert_int_equal(spr_io_send(ctl, &ours.a[0], &to, &hop, notify, sizeof(notify) - 1), 0);
	spr_io_flush(ctl);
	assert_int_equal(rte_ring_dequeue(tx_ring, (void **)&m), 0);
	check_udp4_reply(m, 5080, notify, sizeof(notify) - 1);
	rte_pktmbuf_free(m);

	/* a hop behind a VLAN, though the cache says otherwise */
	spr_io_dpdk_neigh_set(ctl, &to, &other_mac, -1);
	hop.vlan = 1;
	hop.vlan_tci = 7;
	assert_int_equal(spr_io_send(ctl, &ours.a[0], &to, &hop, notify, sizeof(notify) - 1), 0);
	spr_io_flush(ctl);
	assert_int_equal(rte_ring_dequeue(tx_ring, (void **)&m), 0);
	{
		uint8_t *b = rte_pktmbuf_mtod(m, uint8_t *);
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(b + 18);

		assert_memory_equal(b, &peer_mac, 6);
		assert_int_equal(b[12] << 8 | b[13], RTE_ETHER_TYPE_VLAN);
		assert_int_equal(b[14] << 8 | b[15], 7);
		assert_int_equal(b[16] << 8 | b[17], RTE_ETHER_TYPE_IPV4);
		assert_true(udp4_csum_ok(ip, (struct rte_udp_hdr *)(ip + 1)));
	}
	rte_pktmbuf_free(m);
	assert_int_equal(ctl->cnt.tx_pkts, 2);
	spr_io_destroy(ctl);
}

/*
 * A datagram larger than the MTU leaves as IPv4 or IPv6 fragments that put
 * back together give it whole with a valid UDP checksum.
 */
static void
test_send_fragments(void **state)
{
	static char big[3000];
	static uint8_t whole[20 + 8 + sizeof(big)];
	struct spr_peer to = {.family = AF_INET, .port = 5080};
	struct spr_peer to6 = {.family = AF_INET6, .port = 5080};
	struct spr_l2_hop hop = {.valid = 1};
	struct rte_mbuf *m[8];
	uint32_t got = 0;
	unsigned n;

	for (uint32_t i = 0; i < sizeof(big); i++)
		big[i] = (char)('A' + i % 26);
	memcpy(to.addr, peer4, 4);
	memcpy(to6.addr, peer6, 16);
	memcpy(hop.mac, &peer_mac, 6);
	assert_int_equal(spr_io_send(io, &ours.a[0], &to, &hop, big, sizeof(big)), 0);
	spr_io_flush(io);
	n = rte_ring_dequeue_burst(tx_ring, (void **)m, 8, NULL);
	assert_int_equal(n, 3);
	assert_int_equal(io->cnt.tx_frags, 3);
	for (unsigned k = 0; k < n; k++) {
		struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m[k], struct rte_ether_hdr *);
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eh + 1);
		uint16_t fo = rte_be_to_cpu_16(ip->fragment_offset);
		uint32_t plen = rte_be_to_cpu_16(ip->total_length) - 20u;

		assert_memory_equal(&eh->dst_addr, &peer_mac, 6);
		assert_true(m[k]->pkt_len <= 14 + 1500);
		assert_int_equal(rte_raw_cksum(ip, sizeof(*ip)), 0xffff);
		assert_int_equal((fo & RTE_IPV4_HDR_MF_FLAG) != 0, k + 1 < n);
		assert_int_equal((uint32_t)(fo & RTE_IPV4_HDR_OFFSET_MASK) * 8, got);
		if (k == 0)
			memcpy(whole, ip, 20);
		memcpy(whole + 20 + got, ip + 1, plen);
		got += plen;
	}
	rte_pktmbuf_free_bulk(m, n);
	assert_int_equal(got, 8 + sizeof(big));
	{
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)whole;

		ip->total_length = rte_cpu_to_be_16((uint16_t)sizeof(whole));
		ip->fragment_offset = 0;
		assert_true(udp4_csum_ok(ip, (struct rte_udp_hdr *)(ip + 1)));
		assert_memory_equal(whole + 28, big, sizeof(big));
	}
	/* IPv6: a Fragment header in each, the UDP checksum over the whole datagram */
	got = 0;
	assert_int_equal(spr_io_send(io, &ours.a[1], &to6, &hop, big, sizeof(big)), 0);
	spr_io_flush(io);
	n = rte_ring_dequeue_burst(tx_ring, (void **)m, 8, NULL);
	assert_int_equal(n, 3);
	assert_int_equal(io->cnt.tx_frags, 6);
	{
		static uint8_t whole6[40 + 8 + sizeof(big)];
		struct rte_ipv6_hdr *ip6 = (struct rte_ipv6_hdr *)whole6;

		for (unsigned k = 0; k < n; k++) {
			uint8_t *b = rte_pktmbuf_mtod(m[k], uint8_t *);
			struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)(b + 14);
			const uint8_t *fh = (const uint8_t *)(ip + 1);
			uint32_t plen = rte_be_to_cpu_16(ip->payload_len) - 8u;

			assert_int_equal(b[12] << 8 | b[13], RTE_ETHER_TYPE_IPV6);
			assert_true(m[k]->pkt_len <= 14 + 1500);
			assert_int_equal(ip->proto, 44);
			assert_int_equal(fh[0], IPPROTO_UDP);
			assert_int_equal((fh[3] & 1) != 0, k + 1 < n);
			assert_int_equal((uint32_t)((fh[2] << 8 | fh[3]) & 0xfff8), got);
			if (k == 0)
				memcpy(whole6, ip, 40);
			memcpy(whole6 + 40 + got, fh + 8, plen);
			got += plen;
		}
		assert_int_equal(got, 8 + sizeof(big));
		ip6->proto = IPPROTO_UDP;
		ip6->payload_len = rte_cpu_to_be_16((uint16_t)(8 + sizeof(big)));
		assert_true(udp6_csum_ok(ip6, (struct rte_udp_hdr *)(ip6 + 1)));
		assert_memory_equal(whole6 + 48, big, sizeof(big));
	}
	rte_pktmbuf_free_bulk(m, n);
	nothing_sent();
}

/*
 * A relay io (control's on a device with no queue to spare) hands its
 * frames to the worker's io, which sends them at its flush; a full relay
 * ring drops and counts; destroying the relay frees what it still holds.
 */
static void
test_relay(void **state)
{
	static const char notify[] = "NOTIFY sip:bob@198.51.100.7:5062 SIP/2.0\r\n\r\n";
	uint8_t f[2048];
	struct spr_pkt pkts[SPR_BURST];
	struct spr_peer to = {.family = AF_INET, .port = 5080};
	struct spr_l2_hop hop;
	struct spr_io *relay, *again;
	struct rte_mbuf *m = NULL;

	memcpy(to.addr, peer4, 4);
	inject(f, udp4_frame(f, &our_mac, our4, SIP_PORT, request, sizeof(request) - 1));
	assert_int_equal(spr_io_rx(io, pkts, SPR_BURST), 1);
	hop = pkts[0].hop;
	spr_io_drop(io, &pkts[0]);

	relay = spr_io_dpdk_create_relay(io, 4);
	assert_non_null(relay);
	assert_null(spr_io_dpdk_create_relay(io, 4)); /* one relay per io */
	assert_int_equal(spr_io_rx(relay, pkts, SPR_BURST), 0);
	assert_int_equal(spr_io_send(relay, &ours.a[0], &to, &hop, notify, sizeof(notify) - 1), 0);
	spr_io_flush(relay);
	assert_int_equal(relay->cnt.tx_pkts, 1);
	assert_int_equal(rte_ring_count(tx_ring), 0); /* not out before the worker's flush */
	m = sent_one();
	check_udp4_reply(m, 5080, notify, sizeof(notify) - 1);
	rte_pktmbuf_free(m);
	assert_int_equal(io->cnt.tx_relayed, 1);
	assert_int_equal(io->cnt.tx_pkts, 1);

	/* the ring holds 3 (size 4): the rest of a burst of 6 is dropped */
	for (int i = 0; i < 6; i++)
		assert_int_equal(
			spr_io_send(relay, &ours.a[0], &to, &hop, notify, sizeof(notify) - 1), 0);
	spr_io_flush(relay);
	assert_int_equal(relay->cnt.tx_pkts, 4);
	assert_int_equal(relay->cnt.tx_drop, 3);
	spr_io_flush(io);
	assert_int_equal(io->cnt.tx_relayed, 4);
	while (rte_ring_dequeue(tx_ring, (void **)&m) == 0)
		rte_pktmbuf_free(m);

	/* frames still in the ring when the relay goes are freed; the io takes a new relay */
	assert_int_equal(spr_io_send(relay, &ours.a[0], &to, &hop, notify, sizeof(notify) - 1), 0);
	spr_io_flush(relay);
	spr_io_destroy(relay);
	nothing_sent();
	again = spr_io_dpdk_create_relay(io, 4);
	assert_non_null(again);
	spr_io_destroy(again);
}

/*
 * The worker passes the next hop of a SUBSCRIBE's frame to control with
 * SUB_CREATED (the NOTIFYs go back to that MAC from control's io, which
 * learns no neighbours): the real rx, pipeline and flush of one worker.
 */
static void
test_worker_sub_hop(void **state)
{
	static const char sub[] = "SUBSCRIBE sip:bob@example.com SIP/2.0\r\n"
				  "Via: SIP/2.0/UDP 198.51.100.7:5062;branch=z9hG4bKs1;rport\r\n"
				  "Max-Forwards: 70\r\nFrom: <sip:al@example.com>;tag=a1\r\n"
				  "To: <sip:bob@example.com>\r\nCall-ID: hop-1@test\r\n"
				  "CSeq: 1 SUBSCRIBE\r\nContact: <sip:al@198.51.100.7:5062>\r\n"
				  "Event: presence\r\nExpires: 600\r\nContent-Length: 0\r\n\r\n";
	static struct spr_worker w;
	static struct spr_proc_ctx proc;
	static struct spr_reg_cfg reg;
	static struct spr_pres_cfg pres;
	static struct spr_subs_cfg subs;
	static uint32_t clock_sec;
	struct spr_ring_msg msgs[8];
	struct spr_pkt pkts[SPR_BURST];
	uint8_t f[2048];
	struct rte_mbuf *m = NULL;
	unsigned n;
	int created = 0;

	urcu_qsbr_register_thread();
	spr_reg_cfg_default(&reg);
	spr_pres_cfg_default(&pres);
	spr_subs_cfg_default(&subs);
	spr_sip_limits_default(&proc.lim);
	proc.reg_cfg = &reg;
	proc.pres_cfg = &pres;
	proc.subs_cfg = &subs;
	proc.shard = spr_loc_shard_create(0, 16);
	assert_non_null(proc.shard);
	clock_sec = (uint32_t)time(NULL);
	w.n_workers = 1;
	w.clock_sec = &clock_sec;
	w.io = io;
	w.proc = &proc;
	w.to_ctl = rte_ring_create_elem("dp_io_toctl", sizeof(struct spr_ring_msg), 64,
					SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
	w.from_ctl = rte_ring_create_elem("dp_io_fromctl", sizeof(struct spr_ring_msg), 64,
					  SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
	assert_non_null(w.to_ctl);
	assert_non_null(w.from_ctl);
	spr_now_set(&w.now, clock_sec);

	inject(f, udp4_frame(f, &our_mac, our4, SIP_PORT, sub, sizeof(sub) - 1));
	assert_int_equal(spr_io_rx(io, pkts, SPR_BURST), 1);
	spr_worker_process(&w, pkts, 1);
	spr_worker_flush(&w);
	assert_int_equal(rte_ring_dequeue(tx_ring, (void **)&m), 0);
	assert_memory_equal(rte_pktmbuf_mtod_offset(m, char *, 42), "SIP/2.0 200", 11);
	rte_pktmbuf_free(m);
	n = rte_ring_sc_dequeue_burst_elem(w.to_ctl, msgs, sizeof(msgs[0]), 8, NULL);
	for (unsigned i = 0; i < n; i++) {
		if (msgs[i].type != SPR_MSG_SUB_CREATED)
			continue;
		created++;
		assert_int_equal(msgs[i].kind, SPR_MSG_HOP_VALID);
		assert_memory_equal(msgs[i].hop.mac, &peer_mac, 6);
		assert_int_not_equal(msgs[i].sub_id, 0);
	}
	assert_int_equal(created, 1);

	rte_ring_free(w.to_ctl);
	rte_ring_free(w.from_ctl);
	urcu_qsbr_thread_offline();
	spr_loc_shard_destroy(proc.shard);
	urcu_qsbr_unregister_thread();
}

/* Two IPv4 fragments of one datagram carrying payload; returns the frames' lengths. */
static void
udp4_fragments(uint8_t *f1, uint32_t *len1, uint8_t *f2, uint32_t *len2, const void *pl, uint32_t n)
{
	uint8_t whole[4096];
	uint32_t l3 = 14, first = 1480;
	uint32_t ip_payload = 8 + n;

	udp4_frame(whole, &our_mac, our4, SIP_PORT, pl, n);
	memcpy(f1, whole, l3);
	ip4_hdr((struct rte_ipv4_hdr *)(f1 + l3), peer4, our4, IPPROTO_UDP, first, 0x4321,
		RTE_IPV4_HDR_MF_FLAG);
	memcpy(f1 + l3 + 20, whole + l3 + 20, first);
	*len1 = l3 + 20 + first;
	memcpy(f2, whole, l3);
	ip4_hdr((struct rte_ipv4_hdr *)(f2 + l3), peer4, our4, IPPROTO_UDP, ip_payload - first,
		0x4321, (uint16_t)(first / 8));
	memcpy(f2 + l3 + 20, whole + l3 + 20 + first, ip_payload - first);
	*len2 = l3 + 20 + ip_payload - first;
}

static void
test_fragments(void **state)
{
	static char big[1800];
	uint8_t f1[2048], f2[2048];
	uint32_t len1, len2;
	struct spr_pkt pkts[SPR_BURST];

	for (uint32_t i = 0; i < sizeof(big); i++)
		big[i] = (char)('a' + i % 26);
	udp4_fragments(f1, &len1, f2, &len2, big, sizeof(big));

	/* in order, in one burst */
	inject(f1, len1);
	inject(f2, len2);
	assert_int_equal(spr_io_rx(io, pkts, SPR_BURST), 1);
	assert_int_equal(io->cnt.rx_frags, 2);
	assert_int_equal(pkts[0].len, sizeof(big));
	assert_memory_equal(pkts[0].data, big, sizeof(big));
	assert_memory_equal(pkts[0].src.addr, peer4, 4);
	spr_io_reply(io, &pkts[0], response, sizeof(response) - 1);
	{
		struct rte_mbuf *m = sent_one();

		check_udp4_reply(m, PEER_PORT, response, sizeof(response) - 1);
		rte_pktmbuf_free(m);
	}

	/* out of order, across bursts */
	inject(f2, len2);
	assert_int_equal(spr_io_rx(io, pkts, SPR_BURST), 0);
	inject(f1, len1);
	assert_int_equal(spr_io_rx(io, pkts, SPR_BURST), 1);
	assert_memory_equal(pkts[0].data, big, sizeof(big));
	spr_io_drop(io, &pkts[0]);

	/* a fragment whose rest never comes is held, then freed with the io (teardown) */
	inject(f1, len1);
	assert_int_equal(spr_io_rx(io, pkts, SPR_BURST), 0);
	assert_int_equal(io->cnt.rx_frags, 5);
	nothing_sent();
}

static void
test_port_setup(void **state)
{
	uint16_t p2 = port2;
	struct spr_io *ctl;
	struct rte_mbuf *m = NULL;
	struct rte_ring *tx2 = rte_ring_lookup("dp_io_tx3_2");
	struct spr_peer to = {.family = AF_INET, .port = 5080};
	struct spr_pkt pkts[1];

	/* net_ring has no RSS: one RX queue only */
	assert_int_equal(spr_dpdk_port_setup(p2, 2, 3, pool, &ours), -ENOTSUP);
	assert_int_equal(spr_dpdk_port_setup(p2, 1, 4, pool, &ours), -EINVAL);
	assert_int_equal(spr_dpdk_port_setup(p2, 0, 1, pool, &ours), -EINVAL);
	assert_int_equal(spr_dpdk_port_setup(p2, 1, 3, pool, &ours), 0);

	/* the control thread's io: TX queue 2, no RX */
	ctl = spr_io_dpdk_create(p2, SPR_IO_DPDK_NO_RX, 2, pool, &ours, &our_mac);
	assert_non_null(ctl);
	assert_int_equal(spr_io_rx(ctl, pkts, 1), 0);
	memcpy(to.addr, peer4, 4);
	spr_io_dpdk_neigh_set(ctl, &to, &peer_mac, -1);
	assert_int_equal(spr_io_send(ctl, &ours.a[0], &to, NULL, "x", 1), 0);
	spr_io_flush(ctl);
	assert_int_equal(ctl->cnt.tx_pkts, 1);
	assert_int_equal(rte_ring_dequeue(tx2, (void **)&m), 0);
	check_udp4_reply(m, 5080, "x", 1);
	rte_pktmbuf_free(m);
	spr_io_destroy(ctl);
	assert_int_equal(rte_eth_dev_stop(p2), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sip_ipv4, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sip_ipv6, setup, teardown),
		cmocka_unit_test_setup_teardown(test_arp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_icmp_echo, setup, teardown),
		cmocka_unit_test_setup_teardown(test_garbage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reply_too_big, setup, teardown),
		cmocka_unit_test_setup_teardown(test_send, setup, teardown),
		cmocka_unit_test_setup_teardown(test_send_hop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_relay, setup, teardown),
		cmocka_unit_test_setup_teardown(test_send_fragments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_worker_sub_hop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fragments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_port_setup, setup, teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
