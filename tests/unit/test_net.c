/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * net.c on hand-made frames: classification of every kind the decoder
 * knows, exact bytes of every reply it writes, and every good frame cut at
 * every length flush against a guard page. Checksums are recomputed here
 * with a byte-wise RFC 1071 sum independent of net.c's.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "net.h"
#include "testutil.h"

static const uint8_t our_mac[6] = {0x02, 0, 0, 0, 0, 0x01};
static const uint8_t peer_mac[6] = {0x02, 0, 0, 0, 0, 0x99};
static const uint8_t other_mac[6] = {0x02, 0, 0, 0, 0, 0x55};
static const uint8_t bcast_mac[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static const uint8_t our4[4] = {192, 0, 2, 1};
static const uint8_t peer4[4] = {198, 51, 100, 7};
static const uint8_t other4[4] = {192, 0, 2, 200};
static const uint8_t our6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
static const uint8_t peer6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0xab, 0xcd, 0, 7};
static const uint8_t unspec6[16];
static const uint8_t all_nodes6[16] = {0xff, 0x02, [15] = 1};
/* ff02::1:ff00:1, the solicited-node group of our6 */
static const uint8_t sn6[16] = {0xff, 0x02, [11] = 1, [12] = 0xff, [15] = 1};
static const uint8_t sn_mac[6] = {0x33, 0x33, 0xff, 0, 0, 1};

#define SIP_PORT 5060
#define PEER_PORT 5062
static const char sip_payload[] = "OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 0\r\n\r\n";

static struct spr_net_local local;

static int
setup(void **state)
{
	memset(&local, 0, sizeof(local));
	memcpy(local.mac, our_mac, 6);
	local.addrs.n = 2;
	local.addrs.a[0].family = AF_INET;
	local.addrs.a[0].port = SIP_PORT;
	memcpy(local.addrs.a[0].addr, our4, 4);
	local.addrs.a[1].family = AF_INET6;
	local.addrs.a[1].port = SIP_PORT;
	memcpy(local.addrs.a[1].addr, our6, 16);
	return 0;
}

/* ---- reference builders ---- */

static uint32_t
ref_sum(uint32_t acc, const uint8_t *p, uint32_t n)
{
	for (uint32_t i = 0; i + 1 < n; i += 2)
		acc += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		acc += (uint32_t)p[n - 1] << 8;
	return acc;
}

static uint16_t
ref_fold(uint32_t acc)
{
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)acc;
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
ref_pseudo(bool v6, const uint8_t *src, const uint8_t *dst, uint32_t len, uint8_t proto)
{
	uint32_t alen = v6 ? 16 : 4;

	return ref_sum(ref_sum(0, src, alen), dst, alen) + len + proto;
}

/* Ethernet header, tci < 0: untagged. Returns the L3 offset. */
static uint32_t
eth(uint8_t *f, const uint8_t *dst, const uint8_t *src, int tci, uint16_t type)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	if (tci >= 0) {
		put16(f + 12, 0x8100);
		put16(f + 14, (uint16_t)tci);
		put16(f + 16, type);
		return 18;
	}
	put16(f + 12, type);
	return 14;
}

struct v4opt {
	uint8_t ttl;
	uint16_t id;
	uint16_t frag;
	uint8_t tos;
	uint8_t optlen; /* bytes of IP options (multiple of 4) */
};

static uint32_t
ipv4(uint8_t *ip, const uint8_t *src, const uint8_t *dst, uint8_t proto, const struct v4opt *o,
     const uint8_t *l4, uint32_t l4len)
{
	uint32_t hl = 20 + o->optlen;

	memset(ip, 0, hl);
	ip[0] = (uint8_t)(0x40 | hl / 4);
	ip[1] = o->tos;
	put16(ip + 2, (uint16_t)(hl + l4len));
	put16(ip + 4, o->id);
	put16(ip + 6, o->frag);
	ip[8] = o->ttl;
	ip[9] = proto;
	memcpy(ip + 12, src, 4);
	memcpy(ip + 16, dst, 4);
	for (uint32_t i = 20; i < hl; i++)
		ip[i] = 1; /* NOP options */
	put16(ip + 10, (uint16_t)~ref_fold(ref_sum(0, ip, hl)));
	memcpy(ip + hl, l4, l4len);
	return hl + l4len;
}

static uint32_t
ipv6(uint8_t *ip, const uint8_t *src, const uint8_t *dst, uint8_t nh, uint8_t hop,
     const uint8_t *l4, uint32_t l4len)
{
	memset(ip, 0, 40);
	ip[0] = 0x60;
	put16(ip + 4, (uint16_t)l4len);
	ip[6] = nh;
	ip[7] = hop;
	memcpy(ip + 8, src, 16);
	memcpy(ip + 24, dst, 16);
	memcpy(ip + 40, l4, l4len);
	return 40 + l4len;
}

/* UDP header and payload with a correct checksum (zero_csum: leave it 0). */
static uint32_t
udp(uint8_t *u, bool v6, const uint8_t *src, const uint8_t *dst, uint16_t sport, uint16_t dport,
    const void *pl, uint32_t n, bool zero_csum)
{
	uint16_t c;

	put16(u, sport);
	put16(u + 2, dport);
	put16(u + 4, (uint16_t)(8 + n));
	put16(u + 6, 0);
	memcpy(u + 8, pl, n);
	if (zero_csum)
		return 8 + n;
	c = (uint16_t)~ref_fold(ref_pseudo(v6, src, dst, 8 + n, 17) + ref_sum(0, u, 8 + n));
	put16(u + 6, c == 0 ? 0xffff : c);
	return 8 + n;
}

/* ICMP (v6: with the pseudo-header) message with a correct checksum. */
static uint32_t
icmp(uint8_t *m, bool v6, const uint8_t *src, const uint8_t *dst, uint8_t type, uint8_t code,
     const uint8_t *body, uint32_t n)
{
	uint32_t acc;

	m[0] = type;
	m[1] = code;
	m[2] = m[3] = 0;
	memcpy(m + 4, body, n);
	acc = ref_sum(0, m, 4 + n);
	if (v6)
		acc += ref_pseudo(true, src, dst, 4 + n, 58);
	put16(m + 2, (uint16_t)~ref_fold(acc));
	return 4 + n;
}

static const struct v4opt v4def = {.ttl = 57, .id = 0x1234, .tos = 0x10};

static uint32_t
sip4_frame(uint8_t *f, int tci, const struct v4opt *o, uint16_t dport, bool zero_csum)
{
	uint8_t l4[1500];
	uint32_t l3 = eth(f, our_mac, peer_mac, tci, 0x0800);
	uint32_t n = udp(l4, false, peer4, our4, PEER_PORT, dport, sip_payload,
			 sizeof(sip_payload) - 1, zero_csum);

	return l3 + ipv4(f + l3, peer4, our4, 17, o, l4, n);
}

static uint32_t
sip6_frame(uint8_t *f, int tci, bool zero_csum)
{
	uint8_t l4[1500];
	uint32_t l3 = eth(f, our_mac, peer_mac, tci, 0x86dd);
	uint32_t n = udp(l4, true, peer6, our6, PEER_PORT, SIP_PORT, sip_payload,
			 sizeof(sip_payload) - 1, zero_csum);

	return l3 + ipv6(f + l3, peer6, our6, 17, 64, l4, n);
}

static uint32_t
arp_frame(uint8_t *f, const uint8_t *eth_dst, uint16_t op, const uint8_t *sha, const uint8_t *spa,
	  const uint8_t *tha, const uint8_t *tpa)
{
	uint32_t l3 = eth(f, eth_dst, sha, -1, 0x0806);
	uint8_t *a = f + l3;

	put16(a, 1);
	put16(a + 2, 0x0800);
	a[4] = 6;
	a[5] = 4;
	put16(a + 6, op);
	memcpy(a + 8, sha, 6);
	memcpy(a + 14, spa, 4);
	memcpy(a + 18, tha, 6);
	memcpy(a + 24, tpa, 4);
	return l3 + 28;
}

/* NS for target from src to dst; with a source link-layer address option unless sllao is NULL. */
static uint32_t
ns_frame(uint8_t *f, const uint8_t *eth_dst, const uint8_t *src, const uint8_t *dst,
	 const uint8_t *target, const uint8_t *sllao, uint8_t hop)
{
	uint8_t body[4 + 16 + 8] = {0};
	uint8_t m[64];
	uint32_t l3 = eth(f, eth_dst, peer_mac, -1, 0x86dd);
	uint32_t bn = 20;

	memcpy(body + 4, target, 16);
	if (sllao != NULL) {
		body[20] = 1;
		body[21] = 1;
		memcpy(body + 22, sllao, 6);
		bn += 8;
	}
	return l3 + ipv6(f + l3, src, dst, 58, hop, m, icmp(m, true, src, dst, 135, 0, body, bn));
}

static const uint8_t echo_body[] = {0x12, 0x34, 0, 1, 'p', 'i', 'n', 'g', '!'};

static uint32_t
echo4_frame(uint8_t *f, uint8_t type, const uint8_t *src, const uint8_t *dst, const uint8_t *dmac,
	    const uint8_t *smac, uint8_t ttl)
{
	uint8_t m[64];
	struct v4opt o = v4def;
	uint32_t l3 = eth(f, dmac, smac, -1, 0x0800);

	o.ttl = ttl;
	return l3 + ipv4(f + l3, src, dst, 1, &o, m,
			 icmp(m, false, NULL, NULL, type, 0, echo_body, sizeof(echo_body)));
}

static uint32_t
echo6_frame(uint8_t *f, uint8_t type, const uint8_t *src, const uint8_t *dst, const uint8_t *dmac,
	    const uint8_t *smac, uint8_t hop)
{
	uint8_t m[64];
	uint32_t l3 = eth(f, dmac, smac, -1, 0x86dd);

	return l3 + ipv6(f + l3, src, dst, 58, hop, m,
			 icmp(m, true, src, dst, type, 0, echo_body, sizeof(echo_body)));
}

static enum spr_net_result
classify(uint8_t *f, uint32_t len, struct spr_net_info *in)
{
	return spr_net_classify(f, len, 2048, &local, in);
}

/* ---- SIP datagrams ---- */

static void
check_sip(uint8_t *f, uint32_t len, uint8_t family, uint16_t l3_off)
{
	struct spr_net_info in;

	assert_int_equal(classify(f, len, &in), SPR_NET_SIP);
	assert_int_equal(in.l3_off, l3_off);
	assert_int_equal(in.frame_len, len);
	assert_int_equal(in.payload_len, sizeof(sip_payload) - 1);
	assert_memory_equal(f + in.payload_off, sip_payload, in.payload_len);
	assert_int_equal(in.payload_off + in.payload_len, len);
	assert_int_equal(in.src.family, family);
	assert_int_equal(in.src.port, PEER_PORT);
	assert_int_equal(in.dst.family, family);
	assert_int_equal(in.dst.port, SIP_PORT);
	assert_memory_equal(in.src.addr, family == AF_INET ? peer4 : peer6,
			    family == AF_INET ? 4 : 16);
	assert_memory_equal(in.dst.addr, family == AF_INET ? our4 : our6,
			    family == AF_INET ? 4 : 16);
	assert_true(in.learn);
	assert_memory_equal(in.src_mac, peer_mac, 6);
}

static void
test_sip_ipv4(void **state)
{
	uint8_t f[2048];
	struct spr_net_info in;
	struct v4opt o = v4def;
	uint32_t len = sip4_frame(f, -1, &v4def, SIP_PORT, false);

	check_sip(f, len, AF_INET, 14);

	/* Ethernet padding after the datagram is not payload */
	memset(f + len, 0, 8);
	check_sip(f, len, AF_INET, 14);
	assert_int_equal(classify(f, len + 8, &in), SPR_NET_SIP);
	assert_int_equal(in.frame_len, len);
	assert_int_equal(in.payload_len, sizeof(sip_payload) - 1);

	/* zero UDP checksum: none computed, allowed over IPv4 */
	len = sip4_frame(f, -1, &v4def, SIP_PORT, true);
	check_sip(f, len, AF_INET, 14);

	/* options are skipped */
	o.optlen = 8;
	len = sip4_frame(f, -1, &o, SIP_PORT, false);
	check_sip(f, len, AF_INET, 14);
	assert_int_equal(classify(f, len, &in), SPR_NET_SIP);
	assert_int_equal(in.l3_hdr_len, 28);

	/* DF alone is not a fragment */
	o = v4def;
	o.frag = 0x4000;
	len = sip4_frame(f, -1, &o, SIP_PORT, false);
	check_sip(f, len, AF_INET, 14);
}

static void
test_sip_vlan(void **state)
{
	uint8_t f[2048];
	struct spr_net_info in;
	uint32_t len = sip4_frame(f, 0x2064, &v4def, SIP_PORT, false);

	check_sip(f, len, AF_INET, 18);
	classify(f, len, &in);
	assert_true(in.vlan);
	assert_int_equal(in.vlan_tci, 0x2064);

	len = sip6_frame(f, 7, false);
	check_sip(f, len, AF_INET6, 18);

	/* QinQ is not taken */
	len = sip4_frame(f, 0x2064, &v4def, SIP_PORT, false);
	put16(f + 16, 0x8100);
	assert_int_equal(classify(f, len, &in), SPR_NET_L2);
	put16(f + 12, 0x88a8);
	assert_int_equal(classify(f, len, &in), SPR_NET_L2);
}

static void
test_sip_ipv6(void **state)
{
	uint8_t f[2048];
	struct spr_net_info in;
	uint32_t len = sip6_frame(f, -1, false);

	check_sip(f, len, AF_INET6, 14);

	/* RFC 8200 §8.1: a zero UDP checksum over IPv6 is invalid */
	len = sip6_frame(f, -1, true);
	assert_int_equal(classify(f, len, &in), SPR_NET_UDP_CSUM);
}

/* ---- drops ---- */

static void
test_bad_checksums(void **state)
{
	uint8_t f[2048];
	struct spr_net_info in;
	uint32_t len;

	len = sip4_frame(f, -1, &v4def, SIP_PORT, false);
	f[14 + 10] ^= 0x01;
	assert_int_equal(classify(f, len, &in), SPR_NET_IP_CSUM);

	len = sip4_frame(f, -1, &v4def, SIP_PORT, false);
	f[14 + 20 + 6] ^= 0x40;
	assert_int_equal(classify(f, len, &in), SPR_NET_UDP_CSUM);

	len = sip4_frame(f, -1, &v4def, SIP_PORT, false);
	f[len - 1] ^= 0x20; /* payload byte: UDP checksum catches it */
	assert_int_equal(classify(f, len, &in), SPR_NET_UDP_CSUM);

	len = sip6_frame(f, -1, false);
	f[len - 3] ^= 0x01;
	assert_int_equal(classify(f, len, &in), SPR_NET_UDP_CSUM);

	len = echo4_frame(f, 8, peer4, our4, our_mac, peer_mac, 64);
	f[len - 1] ^= 1;
	assert_int_equal(classify(f, len, &in), SPR_NET_ICMP);

	len = echo6_frame(f, 128, peer6, our6, our_mac, peer_mac, 64);
	f[len - 1] ^= 1;
	assert_int_equal(classify(f, len, &in), SPR_NET_ICMP);
}

static void
test_not_ours(void **state)
{
	uint8_t f[2048];
	struct spr_net_info in;
	uint8_t l4[256];
	uint32_t len, l3, n;

	/* wrong port */
	len = sip4_frame(f, -1, &v4def, 5070, false);
	assert_int_equal(classify(f, len, &in), SPR_NET_PORT);

	/* source port 0 cannot be answered */
	l3 = eth(f, our_mac, peer_mac, -1, 0x0800);
	n = udp(l4, false, peer4, our4, 0, SIP_PORT, "x", 1, false);
	len = l3 + ipv4(f + l3, peer4, our4, 17, &v4def, l4, n);
	assert_int_equal(classify(f, len, &in), SPR_NET_PORT);

	/* not our IP */
	l3 = eth(f, our_mac, peer_mac, -1, 0x0800);
	n = udp(l4, false, peer4, other4, PEER_PORT, SIP_PORT, "x", 1, false);
	len = l3 + ipv4(f + l3, peer4, other4, 17, &v4def, l4, n);
	assert_int_equal(classify(f, len, &in), SPR_NET_IP_OTHER);

	l3 = eth(f, our_mac, peer_mac, -1, 0x86dd);
	n = udp(l4, true, peer6, peer6, PEER_PORT, SIP_PORT, "x", 1, false);
	len = l3 + ipv6(f + l3, peer6, peer6, 17, 64, l4, n);
	assert_int_equal(classify(f, len, &in), SPR_NET_IP_OTHER);

	/* multicast source */
	{
		static const uint8_t mc4[4] = {224, 0, 0, 5};

		l3 = eth(f, our_mac, peer_mac, -1, 0x0800);
		n = udp(l4, false, mc4, our4, PEER_PORT, SIP_PORT, "x", 1, false);
		len = l3 + ipv4(f + l3, mc4, our4, 17, &v4def, l4, n);
		assert_int_equal(classify(f, len, &in), SPR_NET_IP_OTHER);
	}

	/* not our MAC; broadcast or multicast IPv4 */
	len = sip4_frame(f, -1, &v4def, SIP_PORT, false);
	memcpy(f, other_mac, 6);
	assert_int_equal(classify(f, len, &in), SPR_NET_L2);
	memcpy(f, bcast_mac, 6);
	assert_int_equal(classify(f, len, &in), SPR_NET_L2);
	memcpy(f, sn_mac, 6);
	assert_int_equal(classify(f, len, &in), SPR_NET_L2);

	/* unknown ethertype */
	len = sip4_frame(f, -1, &v4def, SIP_PORT, false);
	put16(f + 12, 0x88cc);
	assert_int_equal(classify(f, len, &in), SPR_NET_L2);

	/* not UDP: TCP, and over IPv6 */
	l3 = eth(f, our_mac, peer_mac, -1, 0x0800);
	len = l3 + ipv4(f + l3, peer4, our4, 6, &v4def, l4, 20);
	assert_int_equal(classify(f, len, &in), SPR_NET_NOT_UDP);
	l3 = eth(f, our_mac, peer_mac, -1, 0x86dd);
	len = l3 + ipv6(f + l3, peer6, our6, 6, 64, l4, 20);
	assert_int_equal(classify(f, len, &in), SPR_NET_NOT_UDP);

	/* IPv6 extension headers are not walked */
	len = l3 + ipv6(f + l3, peer6, our6, 0, 64, l4, 16);
	assert_int_equal(classify(f, len, &in), SPR_NET_IP_OTHER);

	/* bad version, IHL below 5, total length below IHL */
	len = sip4_frame(f, -1, &v4def, SIP_PORT, false);
	f[14] = 0x55;
	assert_int_equal(classify(f, len, &in), SPR_NET_IP_OTHER);
	f[14] = 0x44;
	assert_int_equal(classify(f, len, &in), SPR_NET_IP_OTHER);
	len = sip4_frame(f, -1, &v4def, SIP_PORT, false);
	put16(f + 16, 16);
	assert_int_equal(classify(f, len, &in), SPR_NET_IP_OTHER);

	/* UDP length beyond the IP payload */
	len = sip4_frame(f, -1, &v4def, SIP_PORT, false);
	put16(f + 14 + 20 + 4, (uint16_t)(len - 14 - 20 + 1));
	assert_int_equal(classify(f, len, &in), SPR_NET_IP_OTHER);

	/* ICMP other than echo request */
	len = echo4_frame(f, 0, peer4, our4, our_mac, peer_mac, 64);
	assert_int_equal(classify(f, len, &in), SPR_NET_ICMP);
	len = echo6_frame(f, 129, peer6, our6, our_mac, peer_mac, 64);
	assert_int_equal(classify(f, len, &in), SPR_NET_ICMP);

	/* echo to an address that is not ours */
	len = echo4_frame(f, 8, peer4, other4, our_mac, peer_mac, 64);
	assert_int_equal(classify(f, len, &in), SPR_NET_IP_OTHER);
}

static void
test_fragments(void **state)
{
	uint8_t f[2048];
	uint8_t l4[64] = {0};
	struct spr_net_info in;
	struct v4opt o = v4def;
	uint32_t len, l3;

	o.frag = 0x2000; /* MF, offset 0 */
	len = sip4_frame(f, -1, &o, SIP_PORT, false);
	assert_int_equal(classify(f, len, &in), SPR_NET_FRAG4);
	assert_int_equal(in.l3_off, 14);
	assert_int_equal(in.l3_hdr_len, 20);
	assert_int_equal(in.frame_len, len);
	assert_memory_equal(in.src.addr, peer4, 4);

	o.frag = 185; /* offset 1480, last fragment */
	l3 = eth(f, our_mac, peer_mac, -1, 0x0800);
	len = l3 + ipv4(f + l3, peer4, our4, 17, &o, l4, 40);
	assert_int_equal(classify(f, len, &in), SPR_NET_FRAG4);

	/* a fragment for someone else is not ours */
	len = l3 + ipv4(f + l3, peer4, other4, 17, &o, l4, 40);
	assert_int_equal(classify(f, len, &in), SPR_NET_IP_OTHER);

	/* IPv6 Fragment header */
	l3 = eth(f, our_mac, peer_mac, -1, 0x86dd);
	l4[0] = 17;
	put16(l4 + 2, 1); /* offset 0, M */
	len = l3 + ipv6(f + l3, peer6, our6, 44, 64, l4, 40);
	assert_int_equal(classify(f, len, &in), SPR_NET_DROP_FRAG);
}

/* Every good frame cut at every length is SHORT, read flush against a guard page. */
static void
test_truncated(void **state)
{
	uint8_t frames[8][2048];
	uint32_t lens[8];
	uint32_t n = 0;
	struct spr_net_info in;

	lens[n] = sip4_frame(frames[n], -1, &v4def, SIP_PORT, false), n++;
	lens[n] = sip4_frame(frames[n], 5, &v4def, SIP_PORT, false), n++;
	lens[n] = sip6_frame(frames[n], -1, false), n++;
	lens[n] = arp_frame(frames[n], bcast_mac, 1, peer_mac, peer4, (uint8_t[6]){0}, our4), n++;
	lens[n] = ns_frame(frames[n], sn_mac, peer6, sn6, our6, peer_mac, 255), n++;
	lens[n] = echo4_frame(frames[n], 8, peer4, our4, our_mac, peer_mac, 64), n++;
	lens[n] = echo6_frame(frames[n], 128, peer6, our6, our_mac, peer_mac, 64), n++;

	for (uint32_t i = 0; i < n; i++) {
		for (uint32_t cut = 0; cut < lens[i]; cut++) {
			uint8_t *g = (uint8_t *)spr_test_guard_copy(frames[i], cut);
			enum spr_net_result r = spr_net_classify(g, cut, cut, &local, &in);

			if (r != SPR_NET_SHORT)
				fail_msg("frame %u cut at %u: result %d", i, cut, r);
			spr_test_guard_free((char *)g, cut);
		}
	}
}

/* ---- in-place answers ---- */

static void
test_arp(void **state)
{
	uint8_t f[128], want[128];
	static const uint8_t zero[6];
	struct spr_net_info in;
	uint32_t len, wlen;

	len = arp_frame(f, bcast_mac, 1, peer_mac, peer4, zero, our4);
	memset(f + len, 0, 18); /* padded to 60 bytes on the wire */
	assert_int_equal(classify(f, len + 18, &in), SPR_NET_ARP_REPLY);
	wlen = arp_frame(want, peer_mac, 2, our_mac, our4, peer_mac, peer4);
	assert_int_equal(in.frame_len, wlen);
	assert_memory_equal(f, want, wlen);
	assert_true(in.learn);
	assert_memory_equal(in.src_mac, peer_mac, 6);
	assert_memory_equal(in.src.addr, peer4, 4);

	/* unicast request (RFC 1122 §2.3.2.1 refresh) */
	len = arp_frame(f, our_mac, 1, peer_mac, peer4, our_mac, our4);
	assert_int_equal(classify(f, len, &in), SPR_NET_ARP_REPLY);
	assert_memory_equal(f, want, wlen);

	/* for another address: not ours, nothing learned */
	len = arp_frame(f, bcast_mac, 1, peer_mac, peer4, zero, other4);
	assert_int_equal(classify(f, len, &in), SPR_NET_IP_OTHER);
	assert_false(in.learn);

	/* a reply to us teaches the neighbour but is not answered */
	len = arp_frame(f, our_mac, 2, peer_mac, peer4, our_mac, our4);
	assert_int_equal(classify(f, len, &in), SPR_NET_IP_OTHER);
	assert_true(in.learn);

	/* not Ethernet/IPv4 */
	len = arp_frame(f, bcast_mac, 1, peer_mac, peer4, zero, our4);
	f[14 + 5] = 16;
	assert_int_equal(classify(f, len, &in), SPR_NET_IP_OTHER);

	/* ARP to a multicast MAC */
	len = arp_frame(f, sn_mac, 1, peer_mac, peer4, zero, our4);
	assert_int_equal(classify(f, len, &in), SPR_NET_L2);
}

static void
expect_na(const uint8_t *f, const struct spr_net_info *in, const uint8_t *eth_dst,
	  const uint8_t *ip_dst, uint8_t flags)
{
	uint8_t want[128], m[64], body[28] = {0};
	uint32_t l3 = eth(want, eth_dst, our_mac, -1, 0x86dd);
	uint32_t wlen;

	body[0] = flags;
	memcpy(body + 4, our6, 16);
	body[20] = 2;
	body[21] = 1;
	memcpy(body + 22, our_mac, 6);
	wlen = l3 + ipv6(want + l3, our6, ip_dst, 58, 255, m,
			 icmp(m, true, our6, ip_dst, 136, 0, body, sizeof(body)));
	assert_int_equal(in->frame_len, wlen);
	assert_memory_equal(f, want, wlen);
	assert_int_equal(
		ref_fold(ref_pseudo(true, f + 22, f + 38, 32, 58) + ref_sum(0, f + 54, 32)),
		0xffff);
}

static void
test_nd(void **state)
{
	uint8_t f[256];
	struct spr_net_info in;
	uint32_t len;

	/* address resolution: to the solicited-node group, with SLLAO */
	len = ns_frame(f, sn_mac, peer6, sn6, our6, peer_mac, 255);
	assert_int_equal(classify(f, len, &in), SPR_NET_ND_REPLY);
	expect_na(f, &in, peer_mac, peer6, 0x60);
	assert_true(in.learn);
	assert_memory_equal(in.src.addr, peer6, 16);

	/* unreachability detection: unicast, no SLLAO; the NA grows past the NS */
	len = ns_frame(f, our_mac, peer6, our6, our6, NULL, 255);
	assert_int_equal(classify(f, len, &in), SPR_NET_ND_REPLY);
	expect_na(f, &in, peer_mac, peer6, 0x60);
	/* ... but not past cap */
	len = ns_frame(f, our_mac, peer6, our6, our6, NULL, 255);
	assert_int_equal(spr_net_classify(f, len, len, &local, &in), SPR_NET_SHORT);

	/* duplicate address detection: answered to all-nodes, not solicited */
	len = ns_frame(f, sn_mac, unspec6, sn6, our6, NULL, 255);
	assert_int_equal(classify(f, len, &in), SPR_NET_ND_REPLY);
	expect_na(f, &in, (const uint8_t[6]){0x33, 0x33, 0, 0, 0, 1}, all_nodes6, 0x20);
	assert_false(in.learn);

	/* RFC 4861 §7.1.1: hop limit 255, no SLLAO from the unspecified address */
	len = ns_frame(f, sn_mac, peer6, sn6, our6, peer_mac, 64);
	assert_int_equal(classify(f, len, &in), SPR_NET_ICMP);
	len = ns_frame(f, sn_mac, unspec6, sn6, our6, peer_mac, 255);
	assert_int_equal(classify(f, len, &in), SPR_NET_ICMP);

	/* for an address that is not ours */
	len = ns_frame(f, sn_mac, peer6, sn6, peer6, peer_mac, 255);
	assert_int_equal(classify(f, len, &in), SPR_NET_IP_OTHER);

	/* an option of length zero */
	len = ns_frame(f, sn_mac, peer6, sn6, our6, peer_mac, 255);
	f[54 + 25] = 0;
	f[54 + 2] = f[54 + 3] = 0;
	put16(f + 54 + 2, (uint16_t)~ref_fold(ref_pseudo(true, f + 22, f + 38, len - 54, 58) +
					      ref_sum(0, f + 54, len - 54)));
	assert_int_equal(classify(f, len, &in), SPR_NET_ICMP);
}

static void
test_echo(void **state)
{
	uint8_t f[256], want[256];
	struct spr_net_info in;
	uint32_t len, wlen;

	len = echo4_frame(f, 8, peer4, our4, our_mac, peer_mac, 50);
	memset(f + len, 0, 8);
	assert_int_equal(classify(f, len + 8, &in), SPR_NET_ECHO_REPLY);
	wlen = echo4_frame(want, 0, our4, peer4, peer_mac, our_mac, 64);
	assert_int_equal(in.frame_len, wlen);
	assert_memory_equal(f, want, wlen);
	assert_true(in.learn);

	len = echo6_frame(f, 128, peer6, our6, our_mac, peer_mac, 50);
	assert_int_equal(classify(f, len, &in), SPR_NET_ECHO_REPLY);
	wlen = echo6_frame(want, 129, our6, peer6, peer_mac, our_mac, 64);
	assert_int_equal(in.frame_len, wlen);
	assert_memory_equal(f, want, wlen);

	/* ICMPv6 echo to a multicast group is not answered */
	len = echo6_frame(f, 128, peer6, all_nodes6, (const uint8_t[6]){0x33, 0x33, 0, 0, 0, 1},
			  peer_mac, 1);
	assert_int_equal(classify(f, len, &in), SPR_NET_IP_OTHER);
}

/* ---- UDP replies ---- */

static void
verify_udp_frame(const uint8_t *f, uint32_t len, uint32_t l3, bool v6, const void *pl, uint32_t n)
{
	const uint8_t *ip = f + l3;
	const uint8_t *u = ip + (v6 ? 40 : 20);

	assert_int_equal(len, l3 + (v6 ? 40 : 20) + 8 + n);
	if (v6) {
		assert_int_equal(ip[0] >> 4, 6);
		assert_int_equal(get16(ip + 4), 8 + n);
		assert_int_equal(ip[6], 17);
		assert_int_equal(ip[7], 64);
		assert_int_equal(ref_fold(ref_pseudo(true, ip + 8, ip + 24, 8 + n, 17) +
					  ref_sum(0, u, 8 + n)),
				 0xffff);
	} else {
		assert_int_equal(ip[0], 0x45);
		assert_int_equal(get16(ip + 2), 28 + n);
		assert_int_equal(get16(ip + 6), 0);
		assert_int_equal(ip[8], 64);
		assert_int_equal(ip[9], 17);
		assert_int_equal(ref_fold(ref_sum(0, ip, 20)), 0xffff);
		assert_int_equal(ref_fold(ref_pseudo(false, ip + 12, ip + 16, 8 + n, 17) +
					  ref_sum(0, u, 8 + n)),
				 0xffff);
	}
	assert_int_not_equal(get16(u + 6), 0);
	assert_int_equal(get16(u + 4), 8 + n);
	assert_memory_equal(u + 8, pl, n);
}

static void
test_udp_reply(void **state)
{
	static const char reply[] = "SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n";
	uint32_t rn = sizeof(reply) - 1;
	uint8_t f[2048];
	char big[1400];
	struct spr_net_info in;
	struct v4opt o = v4def;
	uint32_t len;
	int r;

	/* IPv4 with options and a VLAN tag: options dropped, tag kept */
	o.optlen = 12;
	len = sip4_frame(f, 0x0123, &o, SIP_PORT, false);
	assert_int_equal(classify(f, len, &in), SPR_NET_SIP);
	r = spr_net_udp_reply(f, sizeof(f), in.l3_off, &in.src, &in.dst, 0x4242, reply, rn);
	verify_udp_frame(f, (uint32_t)r, 18, false, reply, rn);
	assert_memory_equal(f, peer_mac, 6);
	assert_memory_equal(f + 6, our_mac, 6);
	assert_int_equal(get16(f + 12), 0x8100);
	assert_int_equal(get16(f + 14), 0x0123);
	assert_int_equal(get16(f + 16), 0x0800);
	assert_int_equal(f[18 + 1], 0x10); /* TOS kept */
	assert_int_equal(get16(f + 18 + 4), 0x4242);
	assert_memory_equal(f + 18 + 12, our4, 4);
	assert_memory_equal(f + 18 + 16, peer4, 4);
	assert_int_equal(get16(f + 38), SIP_PORT);
	assert_int_equal(get16(f + 40), PEER_PORT);

	/* the reply is itself a datagram the decoder takes, seen from the peer */
	{
		struct spr_net_local peer = {0};
		struct spr_net_info pin;

		memcpy(peer.mac, peer_mac, 6);
		peer.addrs.n = 1;
		peer.addrs.a[0] = in.src;
		assert_int_equal(spr_net_classify(f, (uint32_t)r, (uint32_t)r, &peer, &pin),
				 SPR_NET_SIP);
		assert_int_equal(pin.payload_len, rn);
	}

	/* IPv6, a payload longer than the request's */
	memset(big, 'x', sizeof(big));
	len = sip6_frame(f, -1, false);
	assert_int_equal(classify(f, len, &in), SPR_NET_SIP);
	r = spr_net_udp_reply(f, sizeof(f), in.l3_off, &in.src, &in.dst, 0, big, sizeof(big));
	verify_udp_frame(f, (uint32_t)r, 14, true, big, sizeof(big));
	assert_memory_equal(f, peer_mac, 6);
	assert_memory_equal(f + 14 + 8, our6, 16);
	assert_memory_equal(f + 14 + 24, peer6, 16);

	/* does not fit the buffer */
	len = sip4_frame(f, -1, &v4def, SIP_PORT, false);
	assert_int_equal(classify(f, len, &in), SPR_NET_SIP);
	assert_int_equal(
		spr_net_udp_reply(f, 14 + 28 + rn - 1, in.l3_off, &in.src, &in.dst, 0, reply, rn),
		-EMSGSIZE);
	assert_int_equal(
		spr_net_udp_reply(f, 14 + 28 + rn, in.l3_off, &in.src, &in.dst, 0, reply, rn),
		(int)(14 + 28 + rn));
}

static void
test_udp_build(void **state)
{
	static const char notify[] = "NOTIFY sip:a@192.0.2.9 SIP/2.0\r\n\r\n";
	uint32_t n = sizeof(notify) - 1;
	uint8_t f[2048];
	struct spr_net_l2 l2 = {.vlan = true, .vlan_tci = 9};
	struct spr_peer from = local.addrs.a[0], to = {.family = AF_INET, .port = 5080};
	struct spr_peer to6 = {.family = AF_INET6, .port = 5080};
	int r;

	memcpy(l2.dst, peer_mac, 6);
	memcpy(l2.src, our_mac, 6);
	memcpy(to.addr, peer4, 4);
	memcpy(to6.addr, peer6, 16);

	r = spr_net_udp_build(f, sizeof(f), &l2, &from, &to, 77, notify, n);
	verify_udp_frame(f, (uint32_t)r, 18, false, notify, n);
	assert_memory_equal(f, peer_mac, 6);
	assert_int_equal(get16(f + 12), 0x8100);
	assert_int_equal(get16(f + 14), 9);
	assert_int_equal(get16(f + 16), 0x0800);
	assert_int_equal(get16(f + 18 + 4), 77);
	assert_int_equal(get16(f + 38), SIP_PORT);
	assert_int_equal(get16(f + 40), 5080);

	l2.vlan = false;
	r = spr_net_udp_build(f, sizeof(f), &l2, &local.addrs.a[1], &to6, 0, notify, n);
	verify_udp_frame(f, (uint32_t)r, 14, true, notify, n);
	assert_int_equal(get16(f + 12), 0x86dd);

	assert_int_equal(spr_net_udp_build(f, sizeof(f), &l2, &from, &to6, 0, notify, n),
			 -EAFNOSUPPORT);
	assert_int_equal(spr_net_udp_build(f, 14 + 28 + n - 1, &l2, &from, &to, 0, notify, n),
			 -EMSGSIZE);
	assert_int_equal(spr_net_udp_build(f, sizeof(f), &l2, &from, &to, 0, notify, 0xffff - 27),
			 -EMSGSIZE);
}

/*
 * The UDP checksum against the byte-at-a-time reference for every payload
 * length 0..300 and some long ones, odd and even, over bytes that make
 * every carry path run (all 0xff: each 64-bit add overflows) and over mixed ones.
 */
static void
test_udp_csum_lengths(void **state)
{
	static uint8_t pl[1500], f[2048];
	static const uint32_t longs[] = {1000, 1001, 1023, 1024, 1025, 1399, 1400, 1472};
	struct spr_net_l2 l2 = {.vlan = false};
	struct spr_peer from = local.addrs.a[0], to = {.family = AF_INET, .port = 5080};
	struct spr_peer to6 = {.family = AF_INET6, .port = 5080};

	memcpy(l2.dst, peer_mac, 6);
	memcpy(l2.src, our_mac, 6);
	memcpy(to.addr, peer4, 4);
	memcpy(to6.addr, peer6, 16);
	for (int pattern = 0; pattern < 3; pattern++) {
		for (uint32_t i = 0; i < sizeof(pl); i++)
			pl[i] = pattern == 0 ? 0xff : pattern == 1 ? (uint8_t)(i * 131 + 7) : 0;
		for (uint32_t k = 0; k < 301 + sizeof(longs) / sizeof(longs[0]); k++) {
			uint32_t n = k < 301 ? k : longs[k - 301];
			int r = spr_net_udp_build(f, sizeof(f), &l2, &from, &to, 1, pl, n);

			verify_udp_frame(f, (uint32_t)r, 14, false, pl, n);
			r = spr_net_udp_build(f, sizeof(f), &l2, &local.addrs.a[1], &to6, 1, pl, n);
			verify_udp_frame(f, (uint32_t)r, 14, true, pl, n);
		}
	}
}

/*
 * Source fragmentation, IPv4 and IPv6: the fragments of datagrams just
 * over, well over and far over the MTU, with and without a VLAN tag, put
 * back together by their offsets, give the datagram with a valid UDP
 * checksum; every header is valid, the identification is shared and
 * more-fragments is set on all but the last.
 */
static void
test_udp_fragments(void **state)
{
	static uint8_t pl[9000], whole[9100], f[2048];
	static const uint32_t lens[] = {1440, 1441, 1472, 1473, 1480, 2961, 3000, 8972};
	struct spr_peer from = local.addrs.a[0], to = {.family = AF_INET, .port = 5080};
	struct spr_peer to6 = {.family = AF_INET6, .port = 5080};
	struct spr_net_l2 l2 = {.vlan = false};

	memcpy(l2.dst, peer_mac, 6);
	memcpy(l2.src, our_mac, 6);
	memcpy(to.addr, peer4, 4);
	memcpy(to6.addr, peer6, 16);
	for (uint32_t i = 0; i < sizeof(pl); i++)
		pl[i] = (uint8_t)(i * 7 + 3);
	assert_int_equal(spr_net_udp_frag_count(AF_INET, 1472, 1500), 1);
	assert_int_equal(spr_net_udp_frag_count(AF_INET, 1473, 1500), 2);
	assert_int_equal(spr_net_udp_frag_count(AF_INET, 3000, 1500), 3);
	assert_int_equal(spr_net_udp_frag_count(AF_INET6, 1452, 1500), 1);
	assert_int_equal(spr_net_udp_frag_count(AF_INET6, 1453, 1500), 2);
	for (int v6 = 0; v6 < 2; v6++) {
		const struct spr_peer *src = v6 ? &local.addrs.a[1] : &from, *dst = v6 ? &to6 : &to;

		for (int vlan = 0; vlan < 2; vlan++) {
			uint32_t l3 = vlan ? 18 : 14, ih = v6 ? 48 : 20;

			l2.vlan = vlan;
			l2.vlan_tci = 5;
			for (uint32_t t = 0; t < sizeof(lens) / sizeof(lens[0]); t++) {
				uint32_t len = lens[t], got = 0;
				uint32_t n = spr_net_udp_frag_count(src->family, len, 1500);
				uint16_t c = spr_net_udp_csum(src, dst, pl, len);

				if (n == 1)
					continue;
				for (uint32_t k = 0; k < n; k++) {
					int r = spr_net_udp_frag_build(f, sizeof(f), &l2, src, dst,
								       0x12345699, 1500, c, pl, len,
								       k);
					const uint8_t *ip = f + l3;
					uint32_t plen, off;
					bool more;

					assert_true(r > 0);
					assert_true((uint32_t)r - l3 <= 1500);
					if (v6) {
						const uint8_t *fh = ip + 40;

						assert_int_equal(get16(f + l3 - 2), 0x86dd);
						assert_int_equal(ip[0] >> 4, 6);
						assert_int_equal(ip[6], 44);
						assert_int_equal(get16(ip + 4), (uint32_t)r - l3 - 40);
						assert_int_equal(fh[0], 17);
						assert_int_equal(get16(fh + 4), 0x1234);
						assert_int_equal(get16(fh + 6), 0x5699);
						off = get16(fh + 2) & 0xfff8u;
						more = get16(fh + 2) & 1;
						plen = get16(ip + 4) - 8u;
					} else {
						assert_int_equal(get16(f + l3 - 2), 0x0800);
						assert_int_equal(ref_fold(ref_sum(0, ip, 20)), 0xffff);
						assert_int_equal(get16(ip + 2), (uint32_t)r - l3);
						assert_int_equal(get16(ip + 4), 0x5699);
						assert_int_equal(ip[9], 17);
						off = (get16(ip + 6) & 0x1fff) * 8u;
						more = (get16(ip + 6) & 0x2000) != 0;
						plen = get16(ip + 2) - 20u;
					}
					assert_int_equal(more, k + 1 < n);
					assert_int_equal(off, got);
					assert_true(k + 1 == n || plen % 8 == 0);
					memcpy(whole + off, ip + ih, plen);
					got += plen;
				}
				assert_int_equal(spr_net_udp_frag_build(f, sizeof(f), &l2, src, dst, 1,
									1500, c, pl, len, n),
						 -EMSGSIZE);
				assert_int_equal(got, 8 + len);
				assert_int_equal(get16(whole + 4), 8 + len);
				assert_int_equal(get16(whole + 2), 5080);
				assert_memory_equal(whole + 8, pl, len);
				assert_int_equal(ref_fold(ref_pseudo(v6, src->addr, dst->addr, 8 + len,
								     17) +
							  ref_sum(0, whole, 8 + len)),
						 0xffff);
			}
		}
	}
	assert_int_equal(
		spr_net_udp_frag_build(f, 100, &l2, &from, &to, 1, 1500, 0, pl, 3000, 0), -EMSGSIZE);
	assert_int_equal(spr_net_udp_frag_build(f, sizeof(f), &l2, &from, &to6, 1, 1500, 0, pl,
						3000, 0),
			 -EAFNOSUPPORT);
}

static void
test_counters(void **state)
{
	struct spr_io_counters c = {0};

	spr_net_count(&c, SPR_NET_SIP);
	spr_net_count(&c, SPR_NET_FRAG4);
	spr_net_count(&c, SPR_NET_ICMP);
	spr_net_count(&c, SPR_NET_ICMP);
	assert_int_equal(c.rx_sip, 1);
	assert_int_equal(c.rx_frags, 1);
	assert_int_equal(c.drop_icmp, 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_sip_ipv4, setup),
		cmocka_unit_test_setup(test_sip_vlan, setup),
		cmocka_unit_test_setup(test_sip_ipv6, setup),
		cmocka_unit_test_setup(test_bad_checksums, setup),
		cmocka_unit_test_setup(test_not_ours, setup),
		cmocka_unit_test_setup(test_fragments, setup),
		cmocka_unit_test_setup(test_truncated, setup),
		cmocka_unit_test_setup(test_arp, setup),
		cmocka_unit_test_setup(test_nd, setup),
		cmocka_unit_test_setup(test_echo, setup),
		cmocka_unit_test_setup(test_udp_reply, setup),
		cmocka_unit_test_setup(test_udp_build, setup),
		cmocka_unit_test_setup(test_udp_csum_lengths, setup),
		cmocka_unit_test_setup(test_udp_fragments, setup),
		cmocka_unit_test_setup(test_counters, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
