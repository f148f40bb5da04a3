/* dec_link.c - link layers: Ethernet II (with 802.3/SNAP, 802.1Q, 802.1ad
 * QinQ, PPPoE), Linux cooked v1 and v2, raw IP, BSD/OpenBSD loopback. */
#include "decode/dec_internal.h"

#include <string.h>

bool dec_link_supported(int linktype)
{
	switch (linktype) {
	case DEC_LINK_NULL:
	case DEC_LINK_ETHERNET:
	case DEC_LINK_RAW:
	case DEC_LINK_LOOP:
	case DEC_LINK_LINUX_SLL:
	case DEC_LINK_IPV4:
	case DEC_LINK_IPV6:
	case DEC_LINK_LINUX_SLL2:
	case DEC_LINK_DLT_RAW12:
	case DEC_LINK_DLT_RAW14:
		return true;
	default:
		return false;
	}
}

/* An 802.2 LLC header, possibly with a SNAP extension (RFC 1042):
 *
 *   +------+------+---------+-----------------+-----------+
 *   | DSAP | SSAP | control | OUI (3 bytes)   | type (2)  |
 *   | 0xAA | 0xAA |  0x03   | 00-00-00        | ethertype |
 *   +------+------+---------+-----------------+-----------+
 *
 * Only SNAP with the zero OUI carries an ethertype; every other LLC frame
 * (STP, NetBIOS, IPX ...) is not IP. */
static enum dec_reason link_llc(struct cursor *c, uint16_t *ret_type)
{
	uint8_t h[6];
	uint16_t type;

	if (!cursor_bytes(c, h, sizeof h))
		return DEC_NOT_IP; /* too short for SNAP: plain LLC, not ours */
	if (h[0] != 0xaa || h[1] != 0xaa || h[2] != 0x03 || h[3] || h[4] || h[5])
		return DEC_NOT_IP;
	if (!cursor_be16(c, &type))
		return DEC_TRUNC_LINK;
	*ret_type = type;
	return DEC_OK;
}

/* PPPoE session stage (RFC 2516) followed by the PPP protocol (RFC 1661):
 *
 *   +-----+------+------+------------+--------+--------------+
 *   | ver | type | code | session id | length | PPP protocol |
 *   |  4b |  4b  |  8b  |    16b     |  16b   |     16b      |
 *   +-----+------+------+------------+--------+--------------+
 */
static enum dec_reason link_pppoe(struct cursor *c, uint16_t *ret_type)
{
	uint8_t vt, code;
	uint16_t sid, len, proto;

	if (!cursor_u8(c, &vt) || !cursor_u8(c, &code) || !cursor_be16(c, &sid) ||
	    !cursor_be16(c, &len) || !cursor_be16(c, &proto))
		return DEC_TRUNC_LINK;
	if (vt != 0x11 || code != 0)
		return DEC_NOT_IP;
	switch (proto) {
	case 0x0021: *ret_type = DEC_ETH_IPV4; return DEC_OK;
	case 0x0057: *ret_type = DEC_ETH_IPV6; return DEC_OK;
	default: return DEC_NOT_IP; /* LCP, IPCP and friends */
	}
}

/* What follows an ethertype field: VLAN tags (IEEE 802.1Q), each
 *
 *   +-----+-----+--------------+-----------------+
 *   | PCP | DEI | VID (12 bit) | next ethertype  |
 *   +-----+-----+--------------+-----------------+
 *
 * stacked for QinQ (802.1ad S-tag outside, C-tag inside), then optionally
 * PPPoE. The outermost VID is the one the flow key uses. */
static enum dec_reason link_shims(struct cursor *c, struct dec_packet *pkt, uint16_t type,
				  uint16_t *ret_type)
{
	while (type == DEC_ETH_VLAN || type == DEC_ETH_QINQ || type == DEC_ETH_QINQ_OLD) {
		uint16_t tci;

		if (pkt->vlan_count >= DEC_VLAN_MAX)
			return DEC_VLAN_TOO_DEEP;
		if (!cursor_be16(c, &tci) || !cursor_be16(c, &type))
			return DEC_TRUNC_VLAN;
		if (pkt->vlan_count == 0)
			pkt->vlan = tci & 0x0fff;
		pkt->vlan_count++;
	}
	if (type == DEC_ETH_PPPOE)
		return link_pppoe(c, ret_type);
	*ret_type = type;
	return DEC_OK;
}

/* Ethernet II / IEEE 802.3:
 *
 *   +-----------------+-----------------+--------------------+
 *   | destination (6) | source (6)      | ethertype/length(2)|
 *   +-----------------+-----------------+--------------------+
 *
 * A value up to 1500 is an 802.3 length and an LLC header follows. */
static enum dec_reason link_ether(struct cursor *c, struct dec_packet *pkt, uint16_t *ret_type)
{
	uint16_t type;

	if (!cursor_bytes(c, pkt->dst_mac, 6) || !cursor_bytes(c, pkt->src_mac, 6) ||
	    !cursor_be16(c, &type)) {
		memset(pkt->dst_mac, 0, 6);
		memset(pkt->src_mac, 0, 6);
		return DEC_TRUNC_LINK;
	}
	pkt->has_mac = true;
	if (type <= 1500) {
		enum dec_reason r = link_llc(c, &type);
		if (r != DEC_OK)
			return r;
	} else if (type < 0x0600) {
		return DEC_NOT_IP; /* 1501..1535: neither a length nor a type */
	}
	return link_shims(c, pkt, type, ret_type);
}

/* The protocol field of both cooked headers is an ethertype, except for
 * small values that name 802.2 framing (Linux if_ether.h ETH_P_802_2 = 4)
 * or other non-IP encapsulations. */
static enum dec_reason link_cooked_proto(struct cursor *c, struct dec_packet *pkt, uint16_t proto,
					 uint16_t *ret_type)
{
	if (proto == 0x0004) {
		enum dec_reason r = link_llc(c, &proto);
		if (r != DEC_OK)
			return r;
	} else if (proto < 0x0600) {
		return DEC_NOT_IP;
	}
	return link_shims(c, pkt, proto, ret_type);
}

/* Linux cooked v1 (LINKTYPE_LINUX_SLL), all fields big-endian:
 *
 *   +-------------+-------------+----------------+-------------+----------+
 *   | pkt type(2) | ARPHRD (2)  | addr length(2) | address (8) | proto(2) |
 *   +-------------+-------------+----------------+-------------+----------+
 */
static enum dec_reason link_sll(struct cursor *c, struct dec_packet *pkt, uint16_t *ret_type)
{
	uint16_t pkttype, hatype, halen, proto;

	if (!cursor_be16(c, &pkttype) || !cursor_be16(c, &hatype) || !cursor_be16(c, &halen) ||
	    !cursor_skip(c, 8) || !cursor_be16(c, &proto))
		return DEC_TRUNC_LINK;
	return link_cooked_proto(c, pkt, proto, ret_type);
}

/* Linux cooked v2 (LINKTYPE_LINUX_SLL2), all fields big-endian:
 *
 *   +----------+-------------+---------------------+
 *   | proto(2) | reserved(2) | interface index (4) |
 *   +----------+-------+-----+------+--------------+
 *   | ARPHRD (2)       | pkt type(1)| addr len (1) |
 *   +------------------+------------+--------------+
 *   | address (8)                                  |
 *   +----------------------------------------------+
 */
static enum dec_reason link_sll2(struct cursor *c, struct dec_packet *pkt, uint16_t *ret_type)
{
	uint16_t proto;

	if (!cursor_be16(c, &proto) || !cursor_skip(c, 2 + 4 + 2 + 1 + 1 + 8))
		return DEC_TRUNC_LINK;
	return link_cooked_proto(c, pkt, proto, ret_type);
}

/* BSD loopback: a 4-byte address family, in the capturing host's byte
 * order for DLT_NULL and big-endian for DLT_LOOP (but files from the wrong
 * host exist, so both orders are accepted: a family fits in 16 bits).
 * AF_INET is 2 everywhere; AF_INET6 is 10 (Linux), 24 (NetBSD, OpenBSD),
 * 28 (FreeBSD) or 30 (macOS). */
static enum dec_reason link_loop(struct cursor *c, uint16_t *ret_type)
{
	uint32_t af;

	if (!cursor_be32(c, &af))
		return DEC_TRUNC_LINK;
	if (af > 0xffff)
		af = (af >> 24) | ((af >> 8) & 0xff00) | ((af << 8) & 0xff0000) | (af << 24);
	switch (af) {
	case 2:
		*ret_type = DEC_ETH_IPV4;
		return DEC_OK;
	case 10: case 24: case 28: case 30:
		*ret_type = DEC_ETH_IPV6;
		return DEC_OK;
	default:
		return DEC_NOT_IP;
	}
}

/* Raw IP: the version nibble says which. Anything but 6 goes to the IPv4
 * decoder, which names a bad version. */
static enum dec_reason link_raw(struct cursor *c, uint16_t *ret_type)
{
	uint8_t b;

	if (!cursor_peek_u8(c, 0, &b))
		return DEC_TRUNC_LINK;
	*ret_type = (b >> 4) == 6 ? DEC_ETH_IPV6 : DEC_ETH_IPV4;
	return DEC_OK;
}

enum dec_reason dec_link(int linktype, struct cursor *c, struct dec_packet *pkt, uint16_t *ret_ethertype)
{
	switch (linktype) {
	case DEC_LINK_ETHERNET:
		return link_ether(c, pkt, ret_ethertype);
	case DEC_LINK_LINUX_SLL:
		return link_sll(c, pkt, ret_ethertype);
	case DEC_LINK_LINUX_SLL2:
		return link_sll2(c, pkt, ret_ethertype);
	case DEC_LINK_NULL:
	case DEC_LINK_LOOP:
		return link_loop(c, ret_ethertype);
	case DEC_LINK_RAW:
	case DEC_LINK_DLT_RAW12:
	case DEC_LINK_DLT_RAW14:
		return link_raw(c, ret_ethertype);
	case DEC_LINK_IPV4:
		if (!c->left)
			return DEC_TRUNC_LINK;
		*ret_ethertype = DEC_ETH_IPV4;
		return DEC_OK;
	case DEC_LINK_IPV6:
		if (!c->left)
			return DEC_TRUNC_LINK;
		*ret_ethertype = DEC_ETH_IPV6;
		return DEC_OK;
	default:
		return DEC_BAD_LINKTYPE;
	}
}
