/* decode.c - one frame in, one struct dec_packet out: dispatch and counters. */
#include "decode/dec_internal.h"

#include <stddef.h>
#include <string.h>

/* Stable names: they are --stats lines and metric labels. */
static const char *const reason_names[DEC_REASON_MAX] = {
	[DEC_OK] = "ok",
	[DEC_NOT_IP] = "not_ip",
	[DEC_TRUNC_LINK] = "trunc_link",
	[DEC_BAD_LINKTYPE] = "bad_linktype",
	[DEC_TRUNC_VLAN] = "trunc_vlan",
	[DEC_VLAN_TOO_DEEP] = "vlan_too_deep",
	[DEC_TRUNC_IPV4] = "trunc_ipv4",
	[DEC_BAD_IPV4_VERSION] = "bad_ipv4_version",
	[DEC_BAD_IPV4_HDRLEN] = "bad_ipv4_hdrlen",
	[DEC_BAD_IPV4_TOTLEN] = "bad_ipv4_totlen",
	[DEC_TRUNC_IPV6] = "trunc_ipv6",
	[DEC_BAD_IPV6_VERSION] = "bad_ipv6_version",
	[DEC_TRUNC_IPV6_EXT] = "trunc_ipv6_ext",
	[DEC_IPV6_EXT_TOO_DEEP] = "ipv6_ext_too_deep",
	[DEC_TRUNC_TCP] = "trunc_tcp",
	[DEC_BAD_TCP_HDRLEN] = "bad_tcp_hdrlen",
	[DEC_TRUNC_UDP] = "trunc_udp",
	[DEC_BAD_UDP_LEN] = "bad_udp_len",
	[DEC_TRUNC_ICMP] = "trunc_icmp",
	[DEC_TRUNC_ARP] = "trunc_arp",
	[DEC_BAD_ARP] = "bad_arp",
	[DEC_BAD_DNS] = "bad_dns",
	[DEC_TRUNC_DNS] = "trunc_dns",
	[DEC_BAD_IPV6_EXT] = "bad_ipv6_ext",
	[DEC_BAD_ICMP] = "bad_icmp",
	[DEC_BAD_HTTP] = "bad_http",
	[DEC_TRUNC_HTTP] = "trunc_http",
};

const char *dec_reason_name(enum dec_reason r)
{
	if ((unsigned)r >= DEC_REASON_MAX || !reason_names[r])
		return "unknown";
	return reason_names[r];
}

enum dec_reason dec_transport(struct dec_l4 *l4, struct dec_packet *pkt)
{
	switch (pkt->ip_proto) {
	case DEC_IPPROTO_TCP:
		return dec_tcp(l4, pkt);
	case DEC_IPPROTO_UDP:
		return dec_udp(l4, pkt);
	case DEC_IPPROTO_ICMP:
		if (pkt->l3 != DEC_L3_IPV4)
			break;
		return dec_icmp(l4, pkt);
	case DEC_IPPROTO_ICMPV6:
		if (pkt->l3 != DEC_L3_IPV6)
			break;
		return dec_icmp(l4, pkt);
	default:
		break;
	}
	/* Other protocols (GRE, ESP, SCTP, IGMP ...) are flows without ports. */
	pkt->l4_payload_len = l4->len;
	return DEC_OK;
}

static enum dec_reason decode_frame(int linktype, struct cursor *c, struct dec_packet *pkt)
{
	uint16_t type = 0;
	enum dec_reason r = dec_link(linktype, c, pkt, &type);

	if (r != DEC_OK)
		return r;
	switch (type) {
	case DEC_ETH_IPV4: return dec_ipv4(c, pkt);
	case DEC_ETH_IPV6: return dec_ipv6(c, pkt);
	case DEC_ETH_ARP: return dec_arp(c, pkt);
	default: return DEC_NOT_IP;
	}
}

/* dec_decode() leaves only dns.qname uncleared: nothing but padding may follow it. */
_Static_assert(offsetof(struct dec_packet, dns.qname) + DEC_DNS_NAME_MAX + 1 + 8 > sizeof(struct dec_packet),
	       "dns.qname must be the last field of struct dec_packet");

enum dec_reason dec_decode(int linktype, const uint8_t *frame, uint32_t caplen, uint32_t wirelen,
			   uint64_t ts_us, struct dec_packet *pkt, struct dec_stats *stats)
{
	struct cursor c = cursor_make(frame, frame ? caplen : 0);
	enum dec_reason r;

	/* Everything but the name buffer, the last and largest field, whose
	 * bytes after the NUL are never read: clearing a whole struct per
	 * packet was a tenth of the flow meter's time. */
	memset(pkt, 0, offsetof(struct dec_packet, dns.qname));
	pkt->dns.qname[0] = '\0';
	pkt->ts_us = ts_us;
	pkt->caplen = caplen;
	pkt->wirelen = wirelen;
	pkt->linktype = linktype;

	r = decode_frame(linktype, &c, pkt);
	if (stats) {
		stats->frames++;
		stats->by_reason[r]++;
	}
	/* DNS or HTTP trouble is counted, but the IP packet under it is still good. */
	if (r == DEC_BAD_DNS || r == DEC_TRUNC_DNS || r == DEC_BAD_HTTP || r == DEC_TRUNC_HTTP)
		r = DEC_OK;
	return r;
}
