/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Frame decode and in-place answers for the dpdk backend: pure functions on
 * bytes, no EAL, no allocation, no global state. Lengths are checked before
 * every read; nothing is read at or past frame + len, nothing written at or
 * past frame + cap.
 *
 * Decode rules (first failing rule decides the result):
 *  - Ethernet II, at most one 802.1Q tag (0x8100); QinQ and other types: L2.
 *    Unicast frames must be for our MAC; broadcast is taken for ARP only,
 *    multicast for IPv6 only (neighbour solicitation to a solicited-node group).
 *  - ARP (RFC 826): Ethernet/IPv4 requests for one of our IPv4 addresses are
 *    turned into the reply in place; the rest is dropped (IP_OTHER).
 *  - IPv4 (RFC 791): version 4, IHL >= 5, IHL <= total length <= frame
 *    (shorter frame: SHORT), header checksum (IP_CSUM), destination one of our
 *    addresses, source not multicast/broadcast (IP_OTHER). Options are skipped.
 *    MF set or offset != 0: FRAG4 (the caller reassembles or drops).
 *  - IPv6 (RFC 8200): version 6, payload length <= frame, destination one of
 *    our addresses (or, for ND, a solicited-node group), source not multicast.
 *    No extension header is walked: Fragment is DROP_FRAG, any other
 *    extension header IP_OTHER.
 *  - UDP (RFC 768): 8 <= length <= IP payload; checksum verified when
 *    non-zero over IPv4 and always over IPv6, where zero is invalid
 *    (RFC 8200 §8.1); a source port of 0 cannot be answered (PORT).
 *    Destination (address, port) one of ours: SIP; our address, other port: PORT.
 *  - ICMP echo request (RFC 792), ICMPv6 echo request (RFC 4443 §4.1) to our
 *    unicast address: echo reply in place. Neighbour solicitation for one of
 *    our IPv6 addresses, validated per RFC 4861 §7.1.1: neighbour
 *    advertisement in place (§7.2.4). Other ICMP: ICMP.
 *  - Other IP protocols: NOT_UDP.
 */
#ifndef SPR_NET_H
#define SPR_NET_H

#include <stdbool.h>
#include <stdint.h>

#include "io.h"

#define SPR_NET_ETHER_LEN 14u
#define SPR_NET_VLAN_LEN 4u
#define SPR_NET_IPV4_LEN 20u
#define SPR_NET_IPV6_LEN 40u
#define SPR_NET_UDP_LEN 8u

/* What a server answers as: its MAC and its (address, port) pairs. */
struct spr_net_local {
	uint8_t mac[6];
	struct spr_io_addrs addrs;
};

/* Result of spr_net_classify, and the io counter each one is counted in. */
#define SPR_FOREACH_NET_RESULT(X)                                                                  \
	X(SIP, rx_sip)			 /* hand up */                                             \
	X(ARP_REPLY, arp_replies)	 /* reply written in place: transmit it */                 \
	X(ND_REPLY, nd_replies)		 /* reply written in place: transmit it */                 \
	X(ECHO_REPLY, icmp_echo_replies) /* reply written in place: transmit it */                 \
	X(FRAG4, rx_frags)		 /* IPv4 fragment for us: reassemble or drop */            \
	X(SHORT, drop_short)                                                                       \
	X(L2, drop_l2)                                                                             \
	X(IP_CSUM, drop_ip_csum)                                                                   \
	X(IP_OTHER, drop_ip_other)                                                                 \
	X(UDP_CSUM, drop_udp_csum)                                                                 \
	X(NOT_UDP, drop_not_udp)                                                                   \
	X(PORT, drop_port)                                                                         \
	X(DROP_FRAG, drop_frag)                                                                    \
	X(ICMP, drop_icmp)

enum spr_net_result {
#define X(r, c) SPR_NET_##r,
	SPR_FOREACH_NET_RESULT(X)
#undef X
};

/* Count result r in c. */
static inline void
spr_net_count(struct spr_io_counters *c, enum spr_net_result r)
{
	switch (r) {
#define X(r, cnt)                                                                                  \
	case SPR_NET_##r:                                                                          \
		c->cnt++;                                                                          \
		break;
		SPR_FOREACH_NET_RESULT(X)
#undef X
	}
}

/* What spr_net_classify found; which fields are set depends on the result. */
struct spr_net_info {
	struct spr_peer src;  /* SIP: datagram source; FRAG4: IP addresses only */
	struct spr_peer dst;  /* SIP: our address and port */
	uint16_t l3_off;      /* SIP, FRAG4, replies: IP (or ARP) header */
	uint16_t l3_hdr_len;  /* SIP, FRAG4: IP header length with options */
	uint32_t payload_off; /* SIP: UDP payload */
	uint32_t payload_len;
	uint32_t frame_len; /* SIP, FRAG4: l3_off + IP length (Ethernet padding cut);
			       replies: length of the reply frame written in place */
	bool learn;	    /* src.addr was seen behind src_mac (and VLAN tag) */
	bool vlan;	    /* the frame carries an 802.1Q tag */
	uint16_t vlan_tci;  /* host order */
	uint8_t src_mac[6];
};

/*
 * Decode the frame's len bytes and classify it (rules above). For *_REPLY
 * results the reply has been written over the frame within cap bytes
 * (cap >= len) and info->frame_len is its length.
 */
enum spr_net_result spr_net_classify(uint8_t *frame, uint32_t len, uint32_t cap,
				     const struct spr_net_local *local, struct spr_net_info *info);

/*
 * Turn a SIP request frame classified as SIP into the reply carrying
 * payload: Ethernet addresses swapped (802.1Q tag kept), a fresh IPv4 header
 * without options (or IPv6 header), req_dst -> req_src, UDP ports swapped,
 * TTL/hop limit 64, IPv4 header and UDP checksums set. payload is separate
 * memory (not inside frame). Returns the reply frame length, or -EMSGSIZE
 * when it would not fit in cap bytes or in one IP datagram.
 */
int spr_net_udp_reply(uint8_t *frame, uint32_t cap, uint16_t l3_off, const struct spr_peer *req_src,
		      const struct spr_peer *req_dst, uint16_t ip_id, const void *payload,
		      uint32_t len);

/* The link-layer header of a frame we originate. */
struct spr_net_l2 {
	uint8_t dst[6];
	uint8_t src[6];
	bool vlan;
	uint16_t vlan_tci; /* host order */
};

/*
 * Write a UDP datagram from -> to (same family) carrying payload into frame,
 * headers as spr_net_udp_reply writes them. Returns the frame length, or
 * -EMSGSIZE (does not fit cap or one IP datagram), -EAFNOSUPPORT (families).
 */
int spr_net_udp_build(uint8_t *frame, uint32_t cap, const struct spr_net_l2 *l2,
		      const struct spr_peer *from, const struct spr_peer *to, uint16_t ip_id,
		      const void *payload, uint32_t len);

/*
 * Source fragmentation of a UDP datagram that does not fit the link (IPv4:
 * RFC 791 §3.2; IPv6: RFC 8200 §4.5, a Fragment header in each fragment):
 * spr_net_udp_frag_count() says how many fragments (1: it fits, send it
 * whole), spr_net_udp_csum() computes the whole datagram's UDP checksum
 * once, and spr_net_udp_frag_build() writes fragment k into frame:
 * Ethernet (and 802.1Q tag) as spr_net_udp_build, the IP header with the
 * identification ident (IPv4: its low 16 bits), more-fragments on all but
 * the last, the offset in 8-byte units, TTL/hop limit 64; fragment 0
 * carries the UDP header with csum. Each fragment's IP packet is at most
 * mtu bytes. Returns the frame length, or -EMSGSIZE (cap or mtu too small,
 * datagram too large, k past the last), -EAFNOSUPPORT (families).
 */
uint32_t spr_net_udp_frag_count(uint8_t family, uint32_t len, uint16_t mtu);
uint16_t spr_net_udp_csum(const struct spr_peer *from, const struct spr_peer *to,
			  const void *payload, uint32_t len);
int spr_net_udp_frag_build(uint8_t *frame, uint32_t cap, const struct spr_net_l2 *l2,
			   const struct spr_peer *from, const struct spr_peer *to, uint32_t ident,
			   uint16_t mtu, uint16_t csum, const void *payload, uint32_t len,
			   uint32_t k);

/* Set the IPv4 header checksum of the header at ip (IHL taken from it). */
void spr_net_ipv4_csum_set(uint8_t *ip);

#endif /* SPR_NET_H */
