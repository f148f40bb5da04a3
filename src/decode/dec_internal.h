/* dec_internal.h - how the per-protocol decoders hand a frame to each other.
 *
 * Each decoder takes a cursor positioned at its header, fills its part of
 * struct dec_packet and returns DEC_OK or a reason. The transport decoders
 * get two views of their bytes: a cursor over what was captured AND lies
 * inside the IP length (so Ethernet padding is never read as payload), and
 * the length the IP headers claim. Running out of the cursor while the IP
 * length says more is there means "cut by snaplen" (a TRUNC_* reason);
 * the IP length itself being too small means "invalid" (a BAD_* reason).
 */
#pragma once
#include "common/cursor.h"
#include "decode/decode.h"

/* Ethertypes we act on (IEEE 802 numbers registry). */
#define DEC_ETH_IPV4   0x0800
#define DEC_ETH_ARP    0x0806
#define DEC_ETH_IPV6   0x86dd
#define DEC_ETH_VLAN   0x8100 /* 802.1Q C-tag */
#define DEC_ETH_QINQ   0x88a8 /* 802.1ad S-tag */
#define DEC_ETH_QINQ_OLD 0x9100 /* pre-standard S-tag, still sent by some switches */
#define DEC_ETH_PPPOE  0x8864 /* PPPoE session stage, common on the WAN side */

/* IP protocol numbers (IANA). */
#define DEC_IPPROTO_HOPOPTS 0
#define DEC_IPPROTO_ICMP    1
#define DEC_IPPROTO_TCP     6
#define DEC_IPPROTO_UDP     17
#define DEC_IPPROTO_ROUTING 43
#define DEC_IPPROTO_FRAGMENT 44
#define DEC_IPPROTO_ESP     50
#define DEC_IPPROTO_AH      51
#define DEC_IPPROTO_ICMPV6  58
#define DEC_IPPROTO_NONE    59
#define DEC_IPPROTO_DSTOPTS 60
#define DEC_IPPROTO_MOBILITY 135
#define DEC_IPPROTO_HIP     139
#define DEC_IPPROTO_SHIM6   140

/* The bytes a transport decoder may look at. */
struct dec_l4 {
	struct cursor c;     /* captured bytes, never past the IP length */
	uint32_t len;        /* transport bytes by the IP header lengths */
};

/* True when the capture holds every byte the IP length promises. */
static inline bool dec_l4_whole(const struct dec_l4 *l4) { return l4->c.left >= l4->len; }

/* Link layer: strip the link header (and any VLAN/PPPoE shims) and say
 * which ethertype follows. Raw-IP link types report IPv4 or IPv6 from the
 * version nibble. */
enum dec_reason dec_link(int linktype, struct cursor *c, struct dec_packet *pkt, uint16_t *ret_ethertype);

enum dec_reason dec_ipv4(struct cursor *c, struct dec_packet *pkt);
enum dec_reason dec_ipv6(struct cursor *c, struct dec_packet *pkt);
enum dec_reason dec_arp(struct cursor *c, struct dec_packet *pkt);

/* Transport dispatch on pkt->ip_proto; called by the IP decoders for
 * unfragmented packets and first fragments. */
enum dec_reason dec_transport(struct dec_l4 *l4, struct dec_packet *pkt);

enum dec_reason dec_tcp(struct dec_l4 *l4, struct dec_packet *pkt);
enum dec_reason dec_udp(struct dec_l4 *l4, struct dec_packet *pkt);
enum dec_reason dec_icmp(struct dec_l4 *l4, struct dec_packet *pkt);

/* True for the ports DNS is decoded on: 53 (RFC 1035) and 5353 (mDNS, RFC 6762). */
bool dec_dns_port(uint16_t sport, uint16_t dport);

/* Decode a DNS message (no TCP length prefix) into pkt->dns. Returns
 * DEC_OK, DEC_BAD_DNS or DEC_TRUNC_DNS; the two are "soft": the caller
 * keeps the packet. `whole` says the capture holds the full message, so
 * running out of bytes is malformed rather than cut by snaplen. */
enum dec_reason dec_dns(struct cursor *c, bool whole, struct dec_dns *dns);

/* True when a TCP payload may start an HTTP request (its first byte is the
 * first letter of a method): the cheap test before dec_http(). */
bool dec_http_maybe(const struct cursor *c);

/* Decode the start of an HTTP/1.x request from a TCP payload into *h.
 * Returns DEC_OK (h->method is 0 when the payload is not a request),
 * DEC_BAD_HTTP or DEC_TRUNC_HTTP, both soft. `whole`: the capture holds
 * the full payload, so a request line without its end is not snaplen. */
enum dec_reason dec_http(const struct cursor *payload, bool whole, struct dec_http *h);
