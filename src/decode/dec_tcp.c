/* dec_tcp.c - TCP (RFC 9293): ports, sequence numbers, flags, window, options; DNS and HTTP requests on top. */
#include "decode/dec_internal.h"

/* Options (RFC 9293 section 3.2, RFC 7323 window scale and timestamps,
 * RFC 2018 SACK). Like IPv4 options, a malformed list is flagged, not
 * fatal: odd option lists are what scanners send. */
static void tcp_options(struct cursor c, struct dec_packet *pkt)
{
	while (c.left) {
		uint8_t kind, len;
		struct cursor v;

		cursor_u8(&c, &kind);
		if (kind == 0) /* end of option list */
			break;
		if (kind == 1) /* no-operation */
			continue;
		if (!cursor_u8(&c, &len) || len < 2 || !cursor_sub(&c, len - 2u, &v)) {
			pkt->tcp_opts |= DEC_TCPOPT_BAD;
			return;
		}
		switch (kind) {
		case 2:
			if (len != 4 || !cursor_be16(&v, &pkt->tcp_mss))
				pkt->tcp_opts |= DEC_TCPOPT_BAD;
			else
				pkt->tcp_opts |= DEC_TCPOPT_MSS;
			break;
		case 3:
			if (len != 3 || !cursor_u8(&v, &pkt->tcp_wscale))
				pkt->tcp_opts |= DEC_TCPOPT_BAD;
			else
				pkt->tcp_opts |= DEC_TCPOPT_WSCALE;
			break;
		case 4: pkt->tcp_opts |= len == 2 ? DEC_TCPOPT_SACKOK : DEC_TCPOPT_BAD; break;
		case 5: pkt->tcp_opts |= DEC_TCPOPT_SACK; break;
		case 8: pkt->tcp_opts |= len == 10 ? DEC_TCPOPT_TS : DEC_TCPOPT_BAD; break;
		default: pkt->tcp_opts |= DEC_TCPOPT_OTHER; break;
		}
	}
}

/* DNS over TCP (RFC 1035 section 4.2.2, RFC 7766) puts a 2-byte message
 * length in front of each message. Only a segment that starts with that
 * prefix can be read; segments without payload (handshake, bare ACKs)
 * carry no DNS and are not malformed. A continuation segment of a long
 * message looks malformed; that is rare enough (zone transfers) to count. */
static enum dec_reason tcp_dns(struct dec_l4 *l4, struct dec_packet *pkt)
{
	uint16_t mlen;
	struct cursor m = l4->c;
	bool whole = dec_l4_whole(l4);

	if (!l4->len)
		return DEC_OK;
	if (!cursor_be16(&m, &mlen))
		return whole ? DEC_BAD_DNS : DEC_TRUNC_DNS;
	if (mlen > l4->len - 2)
		whole = false; /* the message continues in later segments */
	else if (m.left > mlen)
		m.left = mlen;
	return dec_dns(&m, whole && m.left >= mlen, &pkt->dns);
}

/*    0                   16                                  31
 *   +---------------------+-----------------------------------+
 *   |    source port      |        destination port           |
 *   +---------------------+-----------------------------------+
 *   |                   sequence number                       |
 *   |                acknowledgment number                    |
 *   +------+-----+-+------+-----------------------------------+
 *   | doff | res |A|flags |            window                 |
 *   +------+-----+-+------+-----------------------------------+
 *   |     checksum        |        urgent pointer             |
 *   +---------------------+-----------------------------------+
 *   |            options (doff*4 - 20 bytes)                  |
 *   +---------------------------------------------------------+
 *
 * flags: CWR ECE URG ACK PSH RST SYN FIN (high to low). The whole header,
 * options included, must be captured; otherwise the frame is DEC_TRUNC_TCP
 * (a 96-byte snaplen still holds any TCP/IP header). */
enum dec_reason dec_tcp(struct dec_l4 *l4, struct dec_packet *pkt)
{
	uint8_t doff, flags;
	uint16_t sport, dport, win;
	uint32_t seq, ack;
	unsigned hlen;
	struct cursor opts;

	if (l4->len < 20)
		return DEC_BAD_TCP_HDRLEN;
	if (!cursor_has(&l4->c, 20))
		return DEC_TRUNC_TCP;
	cursor_be16(&l4->c, &sport);
	cursor_be16(&l4->c, &dport);
	cursor_be32(&l4->c, &seq);
	cursor_be32(&l4->c, &ack);
	cursor_u8(&l4->c, &doff);
	cursor_u8(&l4->c, &flags);
	cursor_be16(&l4->c, &win);
	cursor_skip(&l4->c, 4); /* checksum, urgent pointer */
	hlen = (doff >> 4) * 4u;
	if (hlen < 20 || hlen > l4->len)
		return DEC_BAD_TCP_HDRLEN;
	if (!cursor_sub(&l4->c, hlen - 20, &opts))
		return DEC_TRUNC_TCP;

	pkt->has_ports = true;
	pkt->sport = sport;
	pkt->dport = dport;
	pkt->tcp_seq = seq;
	pkt->tcp_ack = ack;
	pkt->tcp_flags = flags;
	pkt->tcp_window = win;
	pkt->tcp_hdr_len = (uint8_t)hlen;
	tcp_options(opts, pkt);
	l4->len -= hlen;
	pkt->l4_payload_len = l4->len;

	if (dec_dns_port(sport, dport))
		return tcp_dns(l4, pkt);
	/* Any port: HTTP on 7080 or 8000 is still HTTP. Only a segment whose
	 * first byte could start a method is parsed; the features use the
	 * initiator's first payload segment. */
	if (l4->len && dec_http_maybe(&l4->c))
		return dec_http(&l4->c, dec_l4_whole(l4), &pkt->http);
	return DEC_OK;
}
