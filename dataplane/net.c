/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ethernet/IPv4/IPv6/UDP decode, ARP/ND/echo answers and UDP reply headers
 * (rules in net.h). Every multi-byte field is read and written byte-wise in
 * network order: frames are not aligned (a VLAN tag moves IP by 4 bytes).
 */
#include <errno.h>
#include <string.h>

#include <arpa/inet.h>
#include <sys/socket.h>

#include "net.h"

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_ARP 0x0806
#define ETHERTYPE_VLAN 0x8100
#define ETHERTYPE_IPV6 0x86dd

#define IPPROTO_ICMP_ 1
#define IPPROTO_UDP_ 17
#define IPPROTO_ICMPV6_ 58
#define IPV6_NH_FRAGMENT 44

#define ICMP_ECHO_REPLY 0
#define ICMP_ECHO_REQUEST 8
#define ICMPV6_ECHO_REQUEST 128
#define ICMPV6_ECHO_REPLY 129
#define ND_NEIGHBOR_SOLICIT 135
#define ND_NEIGHBOR_ADVERT 136
#define ND_OPT_SOURCE_LL 1
#define ND_OPT_TARGET_LL 2
#define ND_NA_LEN 32u /* header, target, target link-layer address option */

#define ARP_LEN 28u
#define REPLY_TTL 64
#define ND_HOP_LIMIT 255

static inline uint16_t
rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void
wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/*
 * RFC 1071 one's-complement sum of n bytes starting at an even offset of the
 * checksummed stream. Native-order loads: the folded sum is byte-order
 * independent (RFC 1071 §2(B)), so it is stored back the same way.
 */
static uint64_t
csum_add(uint64_t sum, const uint8_t *p, uint32_t n)
{
	uint64_t acc = 0, w;
	uint32_t w32;
	uint16_t w16;

	/*
	 * 8 bytes at a time with end-around carry (add + adc), folded to 32 bits
	 * before it joins sum: the same one's-complement sum as 16-bit words
	 * (2^16 = 1 modulo 2^16 - 1), at ~1/3 the instructions of 4-byte adds.
	 */
	while (n >= 32) {
		uint64_t a, b, c, d;

		memcpy(&a, p, 8);
		memcpy(&b, p + 8, 8);
		memcpy(&c, p + 16, 8);
		memcpy(&d, p + 24, 8);
		acc += a;
		acc += acc < a;
		acc += b;
		acc += acc < b;
		acc += c;
		acc += acc < c;
		acc += d;
		acc += acc < d;
		p += 32;
		n -= 32;
	}
	while (n >= 8) {
		memcpy(&w, p, 8);
		acc += w;
		acc += acc < w;
		p += 8;
		n -= 8;
	}
	acc = (acc & 0xffffffffu) + (acc >> 32);
	sum += (acc & 0xffffffffu) + (acc >> 32);
	while (n >= 4) {
		memcpy(&w32, p, 4);
		sum += w32;
		p += 4;
		n -= 4;
	}
	if (n >= 2) {
		memcpy(&w16, p, 2);
		sum += w16;
		p += 2;
		n -= 2;
	}
	if (n != 0) {
		w16 = 0;
		memcpy(&w16, p, 1);
		sum += w16;
	}
	return sum;
}

static inline uint16_t
csum_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* A 16-bit value in network order, as csum_add would have loaded it. */
static inline uint64_t
csum_be16(uint16_t v)
{
	return htons(v);
}

/* Store the complement of sum at p, in the order csum_add loaded it. */
static inline void
csum_store(uint8_t *p, uint64_t sum, bool udp)
{
	uint16_t c = (uint16_t)~csum_fold(sum);

	if (udp && c == 0)
		c = 0xffff; /* RFC 768: a computed zero is sent as all ones */
	memcpy(p, &c, 2);
}

/* Pseudo-header of RFC 768 (IPv4) or RFC 8200 §8.1 (IPv6); addresses point into the header. */
static inline uint64_t
csum_pseudo(bool v6, const uint8_t *src, const uint8_t *dst, uint32_t l4_len, uint8_t proto)
{
	uint32_t alen = v6 ? 16 : 4;
	uint64_t sum = csum_add(csum_add(0, src, alen), dst, alen);

	return sum + csum_be16((uint16_t)(l4_len >> 16)) + csum_be16((uint16_t)l4_len) +
	       csum_be16(proto);
}

void
spr_net_ipv4_csum_set(uint8_t *ip)
{
	uint32_t hl = (uint32_t)(ip[0] & 0xf) * 4;

	ip[10] = ip[11] = 0;
	csum_store(ip + 10, csum_add(0, ip, hl), false);
}

static inline bool
mac_is_multicast(const uint8_t *m)
{
	return m[0] & 1;
}

static inline bool
mac_is_broadcast(const uint8_t *m)
{
	static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

	return memcmp(m, bcast, 6) == 0;
}

/* The index of our address (with any port) equal to addr, or -1. */
static int
local_addr(const struct spr_net_local *l, uint8_t family, const uint8_t *addr)
{
	uint32_t alen = family == AF_INET6 ? 16 : 4;

	for (uint32_t i = 0; i < l->addrs.n && i < SPR_IO_ADDRS_MAX; i++) {
		const struct spr_peer *a = &l->addrs.a[i];

		if (a->family == family && memcmp(a->addr, addr, alen) == 0)
			return (int)i;
	}
	return -1;
}

static bool
local_addr_port(const struct spr_net_local *l, const struct spr_peer *p)
{
	uint32_t alen = p->family == AF_INET6 ? 16 : 4;

	for (uint32_t i = 0; i < l->addrs.n && i < SPR_IO_ADDRS_MAX; i++) {
		const struct spr_peer *a = &l->addrs.a[i];

		if (a->family == p->family && a->port == p->port &&
		    memcmp(a->addr, p->addr, alen) == 0)
			return true;
	}
	return false;
}

static void
peer_set(struct spr_peer *p, uint8_t family, const uint8_t *addr, uint16_t port)
{
	memset(p, 0, sizeof(*p));
	p->family = family;
	p->port = port;
	memcpy(p->addr, addr, family == AF_INET6 ? 16 : 4);
}

/* Ethernet addresses of a reply: to dst, from our MAC. */
static inline void
eth_set(uint8_t *frame, const uint8_t *dst, const uint8_t *src)
{
	memmove(frame, dst, 6);
	memmove(frame + 6, src, 6);
}

/* RFC 826 "Packet Reception", for a request whose target protocol address is ours. */
static enum spr_net_result
arp_input(uint8_t *frame, uint32_t len, const struct spr_net_local *l, struct spr_net_info *in)
{
	uint8_t *a = frame + in->l3_off;
	uint8_t sha[6], spa[4];

	if (len - in->l3_off < ARP_LEN)
		return SPR_NET_SHORT;
	if (rd16(a) != 1 || rd16(a + 2) != ETHERTYPE_IPV4 || a[4] != 6 || a[5] != 4)
		return SPR_NET_IP_OTHER;
	if (local_addr(l, AF_INET, a + 24) < 0)
		return SPR_NET_IP_OTHER;
	memcpy(sha, a + 8, 6);
	memcpy(spa, a + 14, 4);
	if (!mac_is_multicast(sha) && (spa[0] | spa[1] | spa[2] | spa[3]) != 0) {
		in->learn = true;
		memcpy(in->src_mac, sha, 6);
		peer_set(&in->src, AF_INET, spa, 0);
	}
	if (rd16(a + 6) != 1)
		return SPR_NET_IP_OTHER;
	wr16(a + 6, 2);
	memcpy(a + 18, sha, 6);
	memmove(a + 14, a + 24, 4); /* target protocol address: ours */
	memcpy(a + 8, l->mac, 6);
	memcpy(a + 24, spa, 4);
	eth_set(frame, sha, l->mac);
	in->frame_len = in->l3_off + ARP_LEN;
	return SPR_NET_ARP_REPLY;
}

/* RFC 792 echo: same data back, addresses swapped. ip_len is the IP total length. */
static enum spr_net_result
icmp4_input(uint8_t *frame, uint32_t ip_len, const struct spr_net_local *l, struct spr_net_info *in)
{
	uint8_t *ip = frame + in->l3_off;
	uint8_t *icmp = ip + in->l3_hdr_len;
	uint32_t n = ip_len - in->l3_hdr_len;
	uint8_t tmp[4];

	if (n < 8)
		return SPR_NET_SHORT;
	if (csum_fold(csum_add(0, icmp, n)) != 0xffff)
		return SPR_NET_ICMP;
	if (icmp[0] != ICMP_ECHO_REQUEST || icmp[1] != 0)
		return SPR_NET_ICMP;
	memcpy(in->src_mac, frame + 6, 6);
	peer_set(&in->src, AF_INET, ip + 12, 0);
	in->learn = true;

	icmp[0] = ICMP_ECHO_REPLY;
	icmp[2] = icmp[3] = 0;
	csum_store(icmp + 2, csum_add(0, icmp, n), false);
	memcpy(tmp, ip + 12, 4);
	memcpy(ip + 12, ip + 16, 4);
	memcpy(ip + 16, tmp, 4);
	ip[8] = REPLY_TTL;
	spr_net_ipv4_csum_set(ip);
	eth_set(frame, frame + 6, l->mac);
	in->frame_len = in->l3_off + ip_len;
	return SPR_NET_ECHO_REPLY;
}

/* Ethernet multicast address of an IPv6 group (RFC 2464 §7). */
static void
mac_of_ipv6_group(uint8_t *mac, const uint8_t *group)
{
	mac[0] = mac[1] = 0x33;
	memcpy(mac + 2, group + 12, 4);
}

static bool
is_solicited_node_of(const uint8_t *dst, const uint8_t *target)
{
	static const uint8_t prefix[13] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff};

	return memcmp(dst, prefix, 13) == 0 && memcmp(dst + 13, target + 13, 3) == 0;
}

/*
 * RFC 4861 §7.1.1 validation of a neighbour solicitation and §7.2.4 answer:
 * a solicited (unless the source is unspecified: then to all-nodes,
 * unsolicited) override advertisement with our link-layer address.
 */
static enum spr_net_result
nd_input(uint8_t *frame, uint32_t cap, const struct spr_net_local *l, struct spr_net_info *in,
	 uint32_t plen, bool l2_mcast)
{
	static const uint8_t all_nodes[16] = {0xff, 0x02, [15] = 1};
	uint8_t *ip = frame + in->l3_off;
	uint8_t *nd = ip + SPR_NET_IPV6_LEN;
	const uint8_t *sllao = NULL;
	uint8_t peer_mac[6], src[16], target[16];
	bool unspec;

	if (plen < 24)
		return SPR_NET_SHORT;
	if (ip[7] != ND_HOP_LIMIT || nd[1] != 0 || nd[8] == 0xff)
		return SPR_NET_ICMP;
	for (uint32_t off = 24; off < plen;) {
		uint32_t olen;

		if (plen - off < 2 || nd[off + 1] == 0)
			return SPR_NET_ICMP;
		olen = (uint32_t)nd[off + 1] * 8;
		if (olen > plen - off)
			return SPR_NET_ICMP;
		if (nd[off] == ND_OPT_SOURCE_LL && olen == 8)
			sllao = nd + off + 2;
		off += olen;
	}
	memcpy(src, ip + 8, 16);
	memcpy(target, nd + 8, 16);
	unspec = true;
	for (int i = 0; i < 16; i++)
		unspec = unspec && src[i] == 0;
	if (unspec && (sllao != NULL || !is_solicited_node_of(ip + 24, target)))
		return SPR_NET_ICMP;
	if (local_addr(l, AF_INET6, target) < 0)
		return SPR_NET_IP_OTHER;
	if (memcmp(ip + 24, target, 16) != 0 && !is_solicited_node_of(ip + 24, target))
		return SPR_NET_IP_OTHER;
	if (l2_mcast != (ip[24] == 0xff))
		return SPR_NET_L2;
	if (in->l3_off + SPR_NET_IPV6_LEN + ND_NA_LEN > cap)
		return SPR_NET_SHORT;

	if (unspec) {
		memcpy(src, all_nodes, 16);
		mac_of_ipv6_group(peer_mac, all_nodes);
	} else {
		memcpy(peer_mac, sllao != NULL ? sllao : frame + 6, 6);
		in->learn = true;
		memcpy(in->src_mac, peer_mac, 6);
		peer_set(&in->src, AF_INET6, src, 0);
	}
	eth_set(frame, peer_mac, l->mac);

	wr16(ip + 4, ND_NA_LEN);
	ip[7] = ND_HOP_LIMIT;
	memcpy(ip + 8, target, 16);
	memcpy(ip + 24, src, 16);
	nd[0] = ND_NEIGHBOR_ADVERT;
	nd[1] = 0;
	nd[2] = nd[3] = 0;
	nd[4] = unspec ? 0x20 : 0x60; /* S (solicited) unless to all-nodes, O (override) */
	nd[5] = nd[6] = nd[7] = 0;
	memcpy(nd + 8, target, 16);
	nd[24] = ND_OPT_TARGET_LL;
	nd[25] = 1;
	memcpy(nd + 26, l->mac, 6);
	csum_store(nd + 2,
		   csum_pseudo(true, ip + 8, ip + 24, ND_NA_LEN, IPPROTO_ICMPV6_) +
			   csum_add(0, nd, ND_NA_LEN),
		   false);
	in->frame_len = in->l3_off + SPR_NET_IPV6_LEN + ND_NA_LEN;
	return SPR_NET_ND_REPLY;
}

/* RFC 4443 §4.1-4.2 echo, RFC 4861 neighbour solicitation; everything else ICMP. */
static enum spr_net_result
icmp6_input(uint8_t *frame, uint32_t cap, const struct spr_net_local *l, struct spr_net_info *in,
	    uint32_t plen, bool l2_mcast)
{
	uint8_t *ip = frame + in->l3_off;
	uint8_t *icmp = ip + SPR_NET_IPV6_LEN;
	uint8_t tmp[16];

	if (plen < 4)
		return SPR_NET_SHORT;
	if (csum_fold(csum_pseudo(true, ip + 8, ip + 24, plen, IPPROTO_ICMPV6_) +
		      csum_add(0, icmp, plen)) != 0xffff)
		return SPR_NET_ICMP;
	if (icmp[0] == ND_NEIGHBOR_SOLICIT)
		return nd_input(frame, cap, l, in, plen, l2_mcast);
	if (l2_mcast || ip[24] == 0xff)
		return SPR_NET_IP_OTHER;
	if (local_addr(l, AF_INET6, ip + 24) < 0)
		return SPR_NET_IP_OTHER;
	if (icmp[0] != ICMPV6_ECHO_REQUEST || icmp[1] != 0)
		return SPR_NET_ICMP;
	if (plen < 8)
		return SPR_NET_SHORT;
	memcpy(in->src_mac, frame + 6, 6);
	peer_set(&in->src, AF_INET6, ip + 8, 0);
	in->learn = true;

	memcpy(tmp, ip + 8, 16);
	memcpy(ip + 8, ip + 24, 16);
	memcpy(ip + 24, tmp, 16);
	ip[7] = REPLY_TTL;
	icmp[0] = ICMPV6_ECHO_REPLY;
	icmp[2] = icmp[3] = 0;
	csum_store(icmp + 2,
		   csum_pseudo(true, ip + 8, ip + 24, plen, IPPROTO_ICMPV6_) +
			   csum_add(0, icmp, plen),
		   false);
	eth_set(frame, frame + 6, l->mac);
	in->frame_len = in->l3_off + SPR_NET_IPV6_LEN + plen;
	return SPR_NET_ECHO_REPLY;
}

/* RFC 768 with the checksum rules of net.h; l4 points at the UDP header, n bytes of IP payload. */
static enum spr_net_result
udp_input(const uint8_t *frame, const struct spr_net_local *l, struct spr_net_info *in, bool v6,
	  uint32_t n)
{
	const uint8_t *ip = frame + in->l3_off;
	const uint8_t *udp = ip + in->l3_hdr_len;
	uint32_t ulen;

	if (n < SPR_NET_UDP_LEN)
		return SPR_NET_SHORT;
	ulen = rd16(udp + 4);
	if (ulen < SPR_NET_UDP_LEN || ulen > n)
		return SPR_NET_IP_OTHER;
	if (v6 || rd16(udp + 6) != 0) {
		if (rd16(udp + 6) == 0)
			return SPR_NET_UDP_CSUM;
		if (csum_fold(csum_pseudo(v6, ip + (v6 ? 8 : 12), ip + (v6 ? 24 : 16), ulen,
					  IPPROTO_UDP_) +
			      csum_add(0, udp, ulen)) != 0xffff)
			return SPR_NET_UDP_CSUM;
	}
	peer_set(&in->dst, v6 ? AF_INET6 : AF_INET, ip + (v6 ? 24 : 16), rd16(udp + 2));
	if (!local_addr_port(l, &in->dst))
		return SPR_NET_PORT;
	if (rd16(udp) == 0)
		return SPR_NET_PORT;
	peer_set(&in->src, v6 ? AF_INET6 : AF_INET, ip + (v6 ? 8 : 12), rd16(udp));
	memcpy(in->src_mac, frame + 6, 6);
	in->learn = true;
	in->payload_off = in->l3_off + in->l3_hdr_len + SPR_NET_UDP_LEN;
	in->payload_len = ulen - SPR_NET_UDP_LEN;
	return SPR_NET_SIP;
}

static enum spr_net_result
ipv4_input(uint8_t *frame, uint32_t len, const struct spr_net_local *l, struct spr_net_info *in)
{
	uint8_t *ip = frame + in->l3_off;
	uint32_t avail = len - in->l3_off;
	uint32_t hl, tot;

	if (avail < SPR_NET_IPV4_LEN)
		return SPR_NET_SHORT;
	hl = (uint32_t)(ip[0] & 0xf) * 4;
	tot = rd16(ip + 2);
	if ((ip[0] >> 4) != 4 || hl < SPR_NET_IPV4_LEN || tot < hl)
		return SPR_NET_IP_OTHER;
	if (tot > avail)
		return SPR_NET_SHORT;
	if (csum_fold(csum_add(0, ip, hl)) != 0xffff)
		return SPR_NET_IP_CSUM;
	if (local_addr(l, AF_INET, ip + 16) < 0)
		return SPR_NET_IP_OTHER;
	if ((ip[12] & 0xf0) == 0xe0 ||
	    (ip[12] == 0xff && ip[13] == 0xff && ip[14] == 0xff && ip[15] == 0xff))
		return SPR_NET_IP_OTHER;
	in->l3_hdr_len = (uint16_t)hl;
	in->frame_len = in->l3_off + tot;
	if ((rd16(ip + 6) & 0x3fff) != 0) {
		peer_set(&in->src, AF_INET, ip + 12, 0);
		peer_set(&in->dst, AF_INET, ip + 16, 0);
		return SPR_NET_FRAG4;
	}
	switch (ip[9]) {
	case IPPROTO_UDP_:
		return udp_input(frame, l, in, false, tot - hl);
	case IPPROTO_ICMP_:
		return icmp4_input(frame, tot, l, in);
	default:
		return SPR_NET_NOT_UDP;
	}
}

static bool
is_ipv6_ext_header(uint8_t nh)
{
	switch (nh) {
	case 0:	  /* hop-by-hop options */
	case 43:  /* routing */
	case 50:  /* ESP */
	case 51:  /* AH */
	case 60:  /* destination options */
	case 135: /* mobility */
	case 139: /* HIP */
	case 140: /* shim6 */
		return true;
	default:
		return false;
	}
}

static enum spr_net_result
ipv6_input(uint8_t *frame, uint32_t len, uint32_t cap, const struct spr_net_local *l,
	   struct spr_net_info *in, bool l2_mcast)
{
	uint8_t *ip = frame + in->l3_off;
	uint32_t avail = len - in->l3_off;
	uint32_t plen;

	if (avail < SPR_NET_IPV6_LEN)
		return SPR_NET_SHORT;
	if ((ip[0] >> 4) != 6)
		return SPR_NET_IP_OTHER;
	plen = rd16(ip + 4);
	if (plen > avail - SPR_NET_IPV6_LEN)
		return SPR_NET_SHORT;
	if (ip[8] == 0xff)
		return SPR_NET_IP_OTHER;
	in->l3_hdr_len = SPR_NET_IPV6_LEN;
	in->frame_len = in->l3_off + SPR_NET_IPV6_LEN + plen;
	if (ip[6] == IPPROTO_ICMPV6_)
		return icmp6_input(frame, cap, l, in, plen, l2_mcast);
	if (l2_mcast || local_addr(l, AF_INET6, ip + 24) < 0)
		return SPR_NET_IP_OTHER;
	if (ip[6] == IPPROTO_UDP_)
		return udp_input(frame, l, in, true, plen);
	if (ip[6] == IPV6_NH_FRAGMENT)
		return SPR_NET_DROP_FRAG;
	if (is_ipv6_ext_header(ip[6]))
		return SPR_NET_IP_OTHER;
	return SPR_NET_NOT_UDP;
}

enum spr_net_result
spr_net_classify(uint8_t *frame, uint32_t len, uint32_t cap, const struct spr_net_local *local,
		 struct spr_net_info *info)
{
	uint16_t type;
	bool mcast, bcast;

	info->learn = false;
	info->vlan = false;
	info->vlan_tci = 0;
	info->frame_len = 0;
	if (len < SPR_NET_ETHER_LEN)
		return SPR_NET_SHORT;
	bcast = mac_is_broadcast(frame);
	mcast = !bcast && mac_is_multicast(frame);
	if (!bcast && !mcast && memcmp(frame, local->mac, 6) != 0)
		return SPR_NET_L2;
	type = rd16(frame + 12);
	info->l3_off = SPR_NET_ETHER_LEN;
	if (type == ETHERTYPE_VLAN) {
		if (len < SPR_NET_ETHER_LEN + SPR_NET_VLAN_LEN)
			return SPR_NET_SHORT;
		info->vlan = true;
		info->vlan_tci = rd16(frame + 14);
		type = rd16(frame + 16);
		info->l3_off = SPR_NET_ETHER_LEN + SPR_NET_VLAN_LEN;
	}
	switch (type) {
	case ETHERTYPE_ARP:
		if (mcast)
			return SPR_NET_L2;
		return arp_input(frame, len, local, info);
	case ETHERTYPE_IPV4:
		if (mcast || bcast)
			return SPR_NET_L2;
		return ipv4_input(frame, len, local, info);
	case ETHERTYPE_IPV6:
		if (bcast)
			return SPR_NET_L2;
		return ipv6_input(frame, len, cap, local, info, mcast);
	default:
		return SPR_NET_L2;
	}
}

/*
 * An IPv4 header without options at ip: tos, total length, identification,
 * the flags + fragment offset field, UDP, from -> to, checksum set.
 */
static inline void
ipv4_hdr_write(uint8_t *ip, uint8_t tos, uint16_t total, uint16_t ip_id, uint16_t frag,
	       const struct spr_peer *from, const struct spr_peer *to)
{
	ip[0] = 0x45;
	ip[1] = tos;
	wr16(ip + 2, total);
	wr16(ip + 4, ip_id);
	wr16(ip + 6, frag);
	ip[8] = REPLY_TTL;
	ip[9] = IPPROTO_UDP_;
	memcpy(ip + 12, from->addr, 4);
	memcpy(ip + 16, to->addr, 4);
	spr_net_ipv4_csum_set(ip);
}

/* An IPv6 header at ip: traffic class tos, payload length plen, next header nh, from -> to. */
static inline void
ipv6_hdr_write(uint8_t *ip, uint8_t tos, uint16_t plen, uint8_t nh, const struct spr_peer *from,
	       const struct spr_peer *to)
{
	ip[0] = (uint8_t)(0x60 | tos >> 4);
	ip[1] = (uint8_t)(tos << 4);
	ip[2] = ip[3] = 0;
	wr16(ip + 4, plen);
	ip[6] = nh;
	ip[7] = REPLY_TTL;
	memcpy(ip + 8, from->addr, 16);
	memcpy(ip + 24, to->addr, 16);
}

/*
 * IP and UDP headers at ip for a datagram from -> to carrying payload
 * (already in place after them); tos is the IPv4 TOS / IPv6 traffic class.
 */
static void
ip_udp_write(uint8_t *ip, const struct spr_peer *from, const struct spr_peer *to, uint8_t tos,
	     uint16_t ip_id, uint32_t len)
{
	bool v6 = from->family == AF_INET6;
	uint32_t ulen = SPR_NET_UDP_LEN + len;
	uint8_t *udp;

	if (v6) {
		ipv6_hdr_write(ip, tos, (uint16_t)ulen, IPPROTO_UDP_, from, to);
		udp = ip + SPR_NET_IPV6_LEN;
	} else {
		ipv4_hdr_write(ip, tos, (uint16_t)(SPR_NET_IPV4_LEN + ulen), ip_id, 0, from, to);
		udp = ip + SPR_NET_IPV4_LEN;
	}
	wr16(udp, from->port);
	wr16(udp + 2, to->port);
	wr16(udp + 4, (uint16_t)ulen);
	udp[6] = udp[7] = 0;
	csum_store(udp + 6,
		   csum_pseudo(v6, ip + (v6 ? 8 : 12), ip + (v6 ? 24 : 16), ulen, IPPROTO_UDP_) +
			   csum_add(0, udp, ulen),
		   true);
}

/* Bytes of IP + UDP headers for family, and whether len fits one datagram. */
static inline bool
udp_fits(uint8_t family, uint32_t len, uint32_t *hdr)
{
	*hdr = (family == AF_INET6 ? SPR_NET_IPV6_LEN : SPR_NET_IPV4_LEN) + SPR_NET_UDP_LEN;
	return len <= 0xffffu - *hdr;
}

int
spr_net_udp_reply(uint8_t *frame, uint32_t cap, uint16_t l3_off, const struct spr_peer *req_src,
		  const struct spr_peer *req_dst, uint16_t ip_id, const void *payload, uint32_t len)
{
	uint8_t *ip = frame + l3_off;
	uint8_t mac[6], tos;
	uint32_t hdr;

	if (!udp_fits(req_src->family, len, &hdr) || l3_off + hdr > cap || len > cap - l3_off - hdr)
		return -EMSGSIZE;
	if (req_src->family == AF_INET6)
		tos = (uint8_t)((ip[0] & 0xf) << 4 | ip[1] >> 4);
	else
		tos = ip[1];
	memcpy(ip + hdr, payload, len);
	ip_udp_write(ip, req_dst, req_src, tos, ip_id, len);
	memcpy(mac, frame, 6);
	memcpy(frame, frame + 6, 6);
	memcpy(frame + 6, mac, 6);
	return (int)(l3_off + hdr + len);
}

/* Ethernet header (and 802.1Q tag) of a frame we originate; returns where IP starts. */
static uint32_t
l2_write(uint8_t *frame, const struct spr_net_l2 *l2, uint16_t type)
{
	uint32_t l3_off = SPR_NET_ETHER_LEN + (l2->vlan ? SPR_NET_VLAN_LEN : 0);

	memcpy(frame, l2->dst, 6);
	memcpy(frame + 6, l2->src, 6);
	if (l2->vlan) {
		wr16(frame + 12, ETHERTYPE_VLAN);
		wr16(frame + 14, l2->vlan_tci);
	}
	wr16(frame + l3_off - 2, type);
	return l3_off;
}

#define IPV6_FRAG_HDR_LEN 8u

/*
 * The bytes of the UDP datagram each fragment carries: the largest multiple
 * of 8 that fits the MTU after the IP header (and IPv6's Fragment header).
 */
static inline uint32_t
frag_chunk(uint8_t family, uint16_t mtu)
{
	uint32_t hdr = family == AF_INET6 ? SPR_NET_IPV6_LEN + IPV6_FRAG_HDR_LEN : SPR_NET_IPV4_LEN;

	return mtu > hdr + 8 ? ((uint32_t)mtu - hdr) & ~7u : 0;
}

uint32_t
spr_net_udp_frag_count(uint8_t family, uint32_t len, uint16_t mtu)
{
	uint32_t total = SPR_NET_UDP_LEN + len, chunk = frag_chunk(family, mtu);
	uint32_t ip_hdr = family == AF_INET6 ? SPR_NET_IPV6_LEN : SPR_NET_IPV4_LEN;

	if (chunk == 0 || ip_hdr + total <= mtu)
		return 1;
	return (total + chunk - 1) / chunk;
}

uint16_t
spr_net_udp_csum(const struct spr_peer *from, const struct spr_peer *to, const void *payload,
		 uint32_t len)
{
	uint8_t hdr[SPR_NET_UDP_LEN];
	uint32_t ulen = SPR_NET_UDP_LEN + len;
	uint16_t c;

	wr16(hdr, from->port);
	wr16(hdr + 2, to->port);
	wr16(hdr + 4, (uint16_t)ulen);
	hdr[6] = hdr[7] = 0;
	/* the header is 8 bytes: the payload starts at an even offset, as csum_add needs */
	c = (uint16_t)~csum_fold(
		csum_pseudo(from->family == AF_INET6, from->addr, to->addr, ulen, IPPROTO_UDP_) +
		csum_add(csum_add(0, hdr, sizeof(hdr)), payload, len));
	return c == 0 ? 0xffff : c; /* RFC 768: a computed zero is sent as all ones */
}

int
spr_net_udp_frag_build(uint8_t *frame, uint32_t cap, const struct spr_net_l2 *l2,
		       const struct spr_peer *from, const struct spr_peer *to, uint32_t ident,
		       uint16_t mtu, uint16_t csum, const void *payload, uint32_t len, uint32_t k)
{
	bool v6 = from->family == AF_INET6;
	uint32_t total = SPR_NET_UDP_LEN + len, chunk = frag_chunk(from->family, mtu);
	uint32_t off = k * chunk, n, l3_off, hdr, hdr_part = 0;
	const uint8_t *pl = payload;
	uint8_t *ip, *data;

	if (from->family != to->family || (from->family != AF_INET && from->family != AF_INET6))
		return -EAFNOSUPPORT;
	if (chunk == 0 || total > 0xffffu - SPR_NET_IPV6_LEN || off >= total)
		return -EMSGSIZE;
	n = total - off < chunk ? total - off : chunk;
	hdr = v6 ? SPR_NET_IPV6_LEN + IPV6_FRAG_HDR_LEN : SPR_NET_IPV4_LEN;
	l3_off = SPR_NET_ETHER_LEN + (l2->vlan ? SPR_NET_VLAN_LEN : 0);
	if (l3_off + hdr + n > cap)
		return -EMSGSIZE;
	l2_write(frame, l2, v6 ? ETHERTYPE_IPV6 : ETHERTYPE_IPV4);
	ip = frame + l3_off;
	if (v6) {
		/* RFC 8200 §4.5: the Fragment header; M unless this is the last one */
		uint8_t *fh = ip + SPR_NET_IPV6_LEN;

		ipv6_hdr_write(ip, 0, (uint16_t)(IPV6_FRAG_HDR_LEN + n), IPV6_NH_FRAGMENT, from,
			       to);
		fh[0] = IPPROTO_UDP_;
		fh[1] = 0;
		wr16(fh + 2, (uint16_t)(off | (off + n < total ? 1u : 0)));
		wr16(fh + 4, (uint16_t)(ident >> 16));
		wr16(fh + 6, (uint16_t)ident);
	} else {
		/* RFC 791 §3.2: MF unless this is the last one; the offset in 8-byte units */
		ipv4_hdr_write(ip, 0, (uint16_t)(SPR_NET_IPV4_LEN + n), (uint16_t)ident,
			       (uint16_t)((off + n < total ? 0x2000u : 0) | off / 8), from, to);
	}
	data = ip + hdr;
	if (off == 0) {
		/* the first fragment starts with the UDP header of the whole datagram */
		wr16(data, from->port);
		wr16(data + 2, to->port);
		wr16(data + 4, (uint16_t)total);
		memcpy(data + 6, &csum, 2); /* as spr_net_udp_csum folded it: native order */
		hdr_part = SPR_NET_UDP_LEN;
	}
	memcpy(data + hdr_part, pl + (off + hdr_part - SPR_NET_UDP_LEN), n - hdr_part);
	return (int)(l3_off + hdr + n);
}

int
spr_net_udp_build(uint8_t *frame, uint32_t cap, const struct spr_net_l2 *l2,
		  const struct spr_peer *from, const struct spr_peer *to, uint16_t ip_id,
		  const void *payload, uint32_t len)
{
	uint32_t l3_off = SPR_NET_ETHER_LEN + (l2->vlan ? SPR_NET_VLAN_LEN : 0);
	uint32_t hdr;

	if (from->family != to->family || (from->family != AF_INET && from->family != AF_INET6))
		return -EAFNOSUPPORT;
	if (!udp_fits(from->family, len, &hdr) || l3_off + hdr > cap || len > cap - l3_off - hdr)
		return -EMSGSIZE;
	memcpy(frame, l2->dst, 6);
	memcpy(frame + 6, l2->src, 6);
	if (l2->vlan) {
		wr16(frame + 12, ETHERTYPE_VLAN);
		wr16(frame + 14, l2->vlan_tci);
	}
	wr16(frame + l3_off - 2, from->family == AF_INET6 ? ETHERTYPE_IPV6 : ETHERTYPE_IPV4);
	memcpy(frame + l3_off + hdr, payload, len);
	ip_udp_write(frame + l3_off, from, to, 0, ip_id, len);
	return (int)(l3_off + hdr + len);
}
