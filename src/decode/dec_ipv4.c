/* dec_ipv4.c - IPv4 (RFC 791): header, options, fragments. */
#include "decode/dec_internal.h"

/* Option types (RFC 791 section 3.1, RFC 2113 for router alert); the copy
 * bit is part of the number. */
#define OPT_EOL  0
#define OPT_NOP  1
#define OPT_RR   7
#define OPT_TS   68
#define OPT_LSRR 131
#define OPT_SSRR 137
#define OPT_RA   148

/* Options are type-length-value except EOL and NOP, which are one byte.
 * A length below 2 or past the header end makes the whole list untrusted
 * (DEC_IPOPT_BAD) but not the packet: hosts on the path may still forward
 * it, and that oddity is exactly what the detector wants to see. */
static uint8_t ipv4_options(struct cursor c)
{
	uint8_t seen = 0;

	while (c.left) {
		uint8_t type, len;

		cursor_u8(&c, &type);
		if (type == OPT_EOL)
			break;
		if (type == OPT_NOP)
			continue;
		if (!cursor_u8(&c, &len) || len < 2 || !cursor_skip(&c, len - 2u))
			return seen | DEC_IPOPT_BAD;
		switch (type) {
		case OPT_RR: seen |= DEC_IPOPT_RR; break;
		case OPT_TS: seen |= DEC_IPOPT_TS; break;
		case OPT_LSRR:
		case OPT_SSRR: seen |= DEC_IPOPT_SRCROUTE; break;
		case OPT_RA: seen |= DEC_IPOPT_RA; break;
		default: seen |= DEC_IPOPT_OTHER; break;
		}
	}
	return seen;
}

/*    0       4       8              16    19                     31
 *   +-------+-------+---------------+-----+-------------------------+
 *   |version|  IHL  |      TOS      |       total length            |
 *   +-------+-------+---------------+-----+-------------------------+
 *   |        identification         |flags| fragment offset (x8)    |
 *   +---------------+---------------+-----+-------------------------+
 *   |      TTL      |   protocol    |       header checksum         |
 *   +---------------+---------------+-------------------------------+
 *   |                        source address                         |
 *   |                     destination address                       |
 *   |              options (IHL*4 - 20 bytes)                       |
 *   +---------------------------------------------------------------+
 *
 * IHL counts 32-bit words (5..15). The total length, not the capture,
 * bounds the payload: a shorter capture is snaplen, a longer one is link
 * padding. A total length below the header length is invalid. */
enum dec_reason dec_ipv4(struct cursor *c, struct dec_packet *pkt)
{
	uint8_t vihl, tos, ttl, proto;
	uint16_t totlen, id, frag;
	struct cursor opts;
	unsigned hlen;

	if (!cursor_peek_u8(c, 0, &vihl))
		return DEC_TRUNC_IPV4;
	if (vihl >> 4 != 4)
		return DEC_BAD_IPV4_VERSION;
	hlen = (vihl & 0x0fu) * 4u;
	if (hlen < 20)
		return DEC_BAD_IPV4_HDRLEN;
	if (!cursor_has(c, hlen))
		return DEC_TRUNC_IPV4;

	cursor_skip(c, 1);
	cursor_u8(c, &tos);
	cursor_be16(c, &totlen);
	if (totlen < hlen)
		return DEC_BAD_IPV4_TOTLEN;
	cursor_be16(c, &id);
	cursor_be16(c, &frag);
	cursor_u8(c, &ttl);
	cursor_u8(c, &proto);
	cursor_skip(c, 2); /* checksum: a sensor does not drop on it */
	pkt->l3 = DEC_L3_IPV4;
	pkt->src.family = 4;
	cursor_bytes(c, pkt->src.a, 4);
	pkt->dst.family = 4;
	cursor_bytes(c, pkt->dst.a, 4);
	if (!cursor_sub(c, hlen - 20, &opts))
		return DEC_TRUNC_IPV4; /* cannot happen: hlen bytes were checked */

	pkt->ip_len = totlen;
	pkt->ip_hdr_len = (uint16_t)hlen;
	pkt->ip_tos = tos;
	pkt->ttl = ttl;
	pkt->ip_proto = proto;
	pkt->ip_opts = ipv4_options(opts);
	pkt->ip_df = (frag & 0x4000) != 0;
	pkt->more_fragments = (frag & 0x2000) != 0;
	pkt->frag_offset = (uint16_t)((frag & 0x1fff) * 8u);
	pkt->is_fragment = pkt->more_fragments || pkt->frag_offset;
	pkt->frag_id = id;

	struct dec_l4 l4;
	l4.len = totlen - hlen;
	l4.c = *c;
	if (l4.c.left > l4.len)
		l4.c.left = l4.len;

	/* A later fragment has no transport header: its bytes are payload
	 * and the flow stage attributes it by (src, dst, proto, id). */
	if (pkt->frag_offset) {
		pkt->l4_payload_len = l4.len;
		return DEC_OK;
	}
	return dec_transport(&l4, pkt);
}
