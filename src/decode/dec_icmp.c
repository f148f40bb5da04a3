/* dec_icmp.c - ICMP (RFC 792) and ICMPv6 (RFC 4443): type, code, echo id. */
#include "decode/dec_internal.h"

#define ICMP_ECHO_REPLY     0
#define ICMP_ECHO_REQUEST   8
#define ICMPV6_ECHO_REQUEST 128
#define ICMPV6_ECHO_REPLY   129

/* Both versions share the first 8 bytes:
 *
 *   +--------+--------+------------------+
 *   |  type  |  code  |     checksum     |
 *   +--------+--------+------------------+
 *   |   identifier    | sequence number  |   (echo; other types: their own 4 bytes)
 *   +-----------------+------------------+
 *
 * Every message has all 8, so fewer is DEC_BAD_ICMP (by IP length) or
 * DEC_TRUNC_ICMP (by snaplen). The echo identifier matters to the flow
 * stage, which keys ICMP echo flows on it. */
enum dec_reason dec_icmp(struct dec_l4 *l4, struct dec_packet *pkt)
{
	uint8_t type, code;
	uint16_t id;
	bool v6 = pkt->ip_proto == DEC_IPPROTO_ICMPV6;

	if (l4->len < 8)
		return DEC_BAD_ICMP;
	if (!cursor_u8(&l4->c, &type) || !cursor_u8(&l4->c, &code) || !cursor_skip(&l4->c, 2) ||
	    !cursor_be16(&l4->c, &id) || !cursor_skip(&l4->c, 2))
		return DEC_TRUNC_ICMP;
	pkt->has_icmp = true;
	pkt->icmp_type = type;
	pkt->icmp_code = code;
	if (v6 ? (type == ICMPV6_ECHO_REQUEST || type == ICMPV6_ECHO_REPLY)
	       : (type == ICMP_ECHO_REQUEST || type == ICMP_ECHO_REPLY))
		pkt->icmp_id = id;
	pkt->l4_payload_len = l4->len - 8;
	return DEC_OK;
}
