/* dec_udp.c - UDP (RFC 768): ports and length; DNS on its ports. */
#include "decode/dec_internal.h"

/*    0                   16                  31
 *   +---------------------+---------------------+
 *   |    source port      |  destination port   |
 *   +---------------------+---------------------+
 *   |      length         |      checksum       |
 *   +---------------------+---------------------+
 *
 * length covers header and data. It may exceed what this packet carries
 * only in a first fragment; anywhere else that, or a value below 8, is
 * DEC_BAD_UDP_LEN. l4_payload_len still comes from the IP length (as for
 * every transport), so it is the bytes this packet actually carried. */
enum dec_reason dec_udp(struct dec_l4 *l4, struct dec_packet *pkt)
{
	uint16_t sport, dport, ulen;

	if (l4->len < 8)
		return DEC_BAD_UDP_LEN;
	if (!cursor_be16(&l4->c, &sport) || !cursor_be16(&l4->c, &dport) ||
	    !cursor_be16(&l4->c, &ulen) || !cursor_skip(&l4->c, 2))
		return DEC_TRUNC_UDP;
	if (ulen < 8 || (ulen > l4->len && !pkt->more_fragments))
		return DEC_BAD_UDP_LEN;

	pkt->has_ports = true;
	pkt->sport = sport;
	pkt->dport = dport;
	l4->len -= 8;
	pkt->l4_payload_len = l4->len;

	/* An empty datagram (a UDP port scan probe) carries no DNS at all. */
	if (!dec_dns_port(sport, dport) || !l4->len)
		return DEC_OK;
	/* The DNS message is what the UDP length says, when that is shorter
	 * than the IP payload (trailing bytes are not DNS). */
	if (ulen - 8u < l4->len) {
		l4->len = ulen - 8u;
		if (l4->c.left > l4->len)
			l4->c.left = l4->len;
	}
	return dec_dns(&l4->c, dec_l4_whole(l4) && !pkt->more_fragments, &pkt->dns);
}
