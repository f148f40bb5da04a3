/* dec_ipv6.c - IPv6 (RFC 8200): fixed header and the extension header chain. */
#include "decode/dec_internal.h"

/* Extension headers share a two-byte prefix (RFC 8200 section 4 and
 * RFC 6564):
 *
 *   +-------------+-------------+---------------------------+
 *   | next header | hdr ext len | ...                       |
 *   +-------------+-------------+---------------------------+
 *
 * Hop-by-hop, routing, destination options and the RFC 6564 ones count
 * length in 8-byte units not including the first 8; AH (RFC 4302) counts
 * 4-byte units not including the first 8. The fragment header is a fixed
 * 8 bytes:
 *
 *   +-------------+----------+--------------------+-----+---+
 *   | next header | reserved | offset (13 bit, x8)| res | M |
 *   +-------------+----------+--------------------+-----+---+
 *   |                    identification (32)                |
 *   +-------------------------------------------------------+
 */
static uint8_t ext_bit(uint8_t nh)
{
	switch (nh) {
	case DEC_IPPROTO_HOPOPTS: return DEC_IP6EXT_HBH;
	case DEC_IPPROTO_ROUTING: return DEC_IP6EXT_ROUTING;
	case DEC_IPPROTO_FRAGMENT: return DEC_IP6EXT_FRAG;
	case DEC_IPPROTO_DSTOPTS: return DEC_IP6EXT_DSTOPTS;
	case DEC_IPPROTO_AH: return DEC_IP6EXT_AH;
	case DEC_IPPROTO_MOBILITY:
	case DEC_IPPROTO_HIP:
	case DEC_IPPROTO_SHIM6: return DEC_IP6EXT_OTHER;
	default: return 0; /* a transport, ESP or "no next header": the chain ends */
	}
}

/* Running out of bytes inside the chain: cut by snaplen when the payload
 * length says more was sent, invalid when the payload length itself ends
 * inside the header. */
static enum dec_reason ext_short(const struct dec_l4 *l4, uint32_t need)
{
	return l4->len < need ? DEC_BAD_IPV6_EXT : DEC_TRUNC_IPV6_EXT;
}

/* Walk the chain in l4 (positioned after the fixed header) and leave l4
 * at the transport header with l4->len the bytes left by payload length. */
static enum dec_reason ipv6_exts(struct dec_l4 *l4, struct dec_packet *pkt, uint8_t nh)
{
	uint8_t bit;

	while ((bit = ext_bit(nh))) {
		uint8_t next, len;
		uint32_t size;

		if (pkt->ip6_ext_count >= DEC_IPV6_EXT_MAX)
			return DEC_IPV6_EXT_TOO_DEEP;
		if (!cursor_peek_u8(&l4->c, 0, &next) || !cursor_peek_u8(&l4->c, 1, &len))
			return ext_short(l4, 2);
		if (nh == DEC_IPPROTO_FRAGMENT)
			size = 8;
		else if (nh == DEC_IPPROTO_AH)
			size = (len + 2u) * 4u;
		else
			size = (len + 1u) * 8u;
		if (l4->len < size || l4->c.left < size)
			return ext_short(l4, size);

		if (nh == DEC_IPPROTO_FRAGMENT) {
			uint16_t off;
			uint32_t id;
			struct cursor f = l4->c;

			cursor_skip(&f, 2);
			cursor_be16(&f, &off);
			cursor_be32(&f, &id);
			pkt->frag_offset = off & 0xfff8;
			pkt->more_fragments = off & 1;
			/* An atomic fragment (offset 0, M clear, RFC 6946) is a
			 * whole packet: not marked as a fragment. */
			pkt->is_fragment = pkt->more_fragments || pkt->frag_offset;
			pkt->frag_id = id;
		}
		cursor_skip(&l4->c, size);
		l4->len -= size;
		pkt->ip_hdr_len = (uint16_t)(pkt->ip_hdr_len + size);
		pkt->ip6_exts |= bit;
		pkt->ip6_ext_count++;
		nh = next;
		/* Past a later fragment's header the bytes are the middle of
		 * some other header or payload: stop reading them. */
		if (pkt->frag_offset)
			break;
	}
	if (nh == DEC_IPPROTO_ESP)
		pkt->ip6_exts |= DEC_IP6EXT_ESP;
	pkt->ip_proto = nh;
	return DEC_OK;
}

/*    0       4               12                                    31
 *   +-------+---------------+---------------------------------------+
 *   |version| traffic class |              flow label               |
 *   +-------+---------------+-------+---------------+---------------+
 *   |        payload length         |  next header  |   hop limit   |
 *   +-------------------------------+---------------+---------------+
 *   |                   source address (128)                        |
 *   |                 destination address (128)                     |
 *   +---------------------------------------------------------------+
 *
 * The payload length bounds the chain and the transport; a capture shorter
 * than it is snaplen, a longer one is link padding. Jumbograms (RFC 2675,
 * payload length 0) are not supported: they cannot cross an Ethernet. */
enum dec_reason dec_ipv6(struct cursor *c, struct dec_packet *pkt)
{
	uint32_t vtf;
	uint16_t plen;
	uint8_t b0, nh, hop;
	enum dec_reason r;

	if (!cursor_peek_u8(c, 0, &b0))
		return DEC_TRUNC_IPV6;
	if (b0 >> 4 != 6)
		return DEC_BAD_IPV6_VERSION;
	if (!cursor_has(c, 40))
		return DEC_TRUNC_IPV6;

	cursor_be32(c, &vtf);
	cursor_be16(c, &plen);
	cursor_u8(c, &nh);
	cursor_u8(c, &hop);
	pkt->l3 = DEC_L3_IPV6;
	pkt->src.family = 6;
	cursor_bytes(c, pkt->src.a, 16);
	pkt->dst.family = 6;
	cursor_bytes(c, pkt->dst.a, 16);
	pkt->ip_tos = (uint8_t)(vtf >> 20);
	pkt->ttl = hop;
	pkt->ip_len = plen + 40u;
	pkt->ip_hdr_len = 40;
	pkt->ip_proto = nh;

	struct dec_l4 l4;
	l4.len = plen;
	l4.c = *c;
	if (l4.c.left > l4.len)
		l4.c.left = l4.len;

	r = ipv6_exts(&l4, pkt, nh);
	if (r != DEC_OK)
		return r;
	if (pkt->frag_offset || pkt->ip_proto == DEC_IPPROTO_ESP || pkt->ip_proto == DEC_IPPROTO_NONE) {
		pkt->l4_payload_len = l4.len;
		return DEC_OK;
	}
	return dec_transport(&l4, pkt);
}
