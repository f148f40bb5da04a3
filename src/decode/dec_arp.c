/* dec_arp.c - ARP (RFC 826) for IPv4 over Ethernet-sized addresses. */
#include "decode/dec_internal.h"

/*   +-----------------+-----------------+
 *   | hardware type   | protocol type   |
 *   +--------+--------+-----------------+
 *   | hlen   | plen   |   operation     |
 *   +--------+--------+-----------------+
 *   | sender hw (hlen) | sender proto (plen) |
 *   | target hw (hlen) | target proto (plen) |
 *
 * Only protocol IPv4 with 6-byte hardware and 4-byte protocol addresses
 * fits struct dec_arp; any other sizes are DEC_BAD_ARP (nothing on a home
 * LAN sends them). The hardware type is not checked: 1 (Ethernet) and 6
 * (IEEE 802) are both seen. Any operation is kept (RARP, InARP too). */
enum dec_reason dec_arp(struct cursor *c, struct dec_packet *pkt)
{
	uint16_t htype, ptype, op;
	uint8_t hlen, plen;

	if (!cursor_be16(c, &htype) || !cursor_be16(c, &ptype) || !cursor_u8(c, &hlen) ||
	    !cursor_u8(c, &plen) || !cursor_be16(c, &op))
		return DEC_TRUNC_ARP;
	if (ptype != DEC_ETH_IPV4 || hlen != 6 || plen != 4)
		return DEC_BAD_ARP;
	if (!cursor_has(c, 20))
		return DEC_TRUNC_ARP;
	cursor_bytes(c, pkt->arp.sha, 6);
	cursor_bytes(c, pkt->arp.spa, 4);
	cursor_bytes(c, pkt->arp.tha, 6);
	cursor_bytes(c, pkt->arp.tpa, 4);
	pkt->arp.op = op;
	pkt->l3 = DEC_L3_ARP;
	return DEC_OK;
}
