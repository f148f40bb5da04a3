/* dec_dns.c - DNS (RFC 1035) header and first question, with name statistics. */
#include "decode/dec_internal.h"

#include <math.h>
#include <string.h>

/* A real compressor points once per name (at a suffix); a few chained
 * pointers are tolerable, more is an attack on parsers. */
#define DNS_MAX_JUMPS 16
/* RFC 1035 section 2.3.4: a name is at most 255 bytes on the wire
 * (uncompressed), a label at most 63. */
#define DNS_WIRE_MAX 255
#define DNS_LABEL_MAX 63

bool dec_dns_port(uint16_t sport, uint16_t dport)
{
	return sport == 53 || dport == 53 || sport == 5353 || dport == 5353;
}

/* Shannon entropy in bits per character of the label bytes, case-folded
 * because DNS names are case-insensitive and resolvers randomise case
 * (draft-vixie-dnsext-dns0x20) which would otherwise look like tunnelling. */
static float name_entropy(const uint32_t hist[256], uint32_t n)
{
	double h = 0;

	if (!n)
		return 0;
	for (int i = 0; i < 256; i++) {
		if (hist[i]) {
			double p = (double)hist[i] / n;
			h -= p * log2(p);
		}
	}
	return (float)h;
}

/* A name is a sequence of labels, each a length byte and that many bytes,
 * ended by a zero length or replaced (from some point on) by a pointer:
 *
 *   +--+--+-----------------------------+
 *   | 1| 1|  offset from message start  |   (two bytes)
 *   +--+--+-----------------------------+
 *
 * RFC 1035 section 4.1.4 wants pointers to point at a prior occurrence,
 * but scanners (masscan's version.bind probe) point forward and resolvers
 * answer them, so any target inside the message is followed. What bounds
 * the walk is the count: more than DNS_MAX_JUMPS pointers is a loop. The
 * uncompressed name may not pass 255 bytes either.
 * `c` is left after the name as it sits in the question (after the first
 * pointer, if any). `short_reason` is what running out of bytes means. */
static enum dec_reason dns_name(struct cursor msg, struct cursor *c, enum dec_reason short_reason,
				struct dec_dns *dns)
{
	struct cursor at = *c;
	bool jumped = false;
	unsigned jumps = 0, wire = 0, out = 0;
	uint32_t hist[256] = { 0 }, nchars = 0;

	for (;;) {
		uint8_t len, label[DNS_LABEL_MAX];

		if (!cursor_u8(&at, &len))
			return short_reason;
		if ((len & 0xc0) == 0xc0) {
			uint8_t lo;
			size_t target;

			if (!cursor_u8(&at, &lo))
				return short_reason;
			target = ((size_t)(len & 0x3f) << 8) | lo;
			if (!jumped) {
				*c = at;
				jumped = true;
			}
			if (++jumps > DNS_MAX_JUMPS)
				return DEC_BAD_DNS;
			at = msg;
			if (!cursor_skip(&at, target))
				return short_reason;
			continue;
		}
		if (len & 0xc0) /* 0x40 extended (RFC 6891 retired it), 0x80 reserved */
			return DEC_BAD_DNS;
		wire += len + 1u;
		if (wire > DNS_WIRE_MAX)
			return DEC_BAD_DNS;
		if (!len)
			break;
		if (!cursor_bytes(&at, label, len))
			return short_reason;
		if (out)
			dns->qname[out++] = '.';
		for (unsigned i = 0; i < len; i++) {
			uint8_t ch = label[i];
			dns->qname[out++] = ch > 0x20 && ch < 0x7f ? (char)ch : '?';
			if (ch >= 'A' && ch <= 'Z')
				ch = (uint8_t)(ch - 'A' + 'a');
			hist[ch]++;
			nchars++;
		}
		dns->qname_labels++;
		if (len > dns->longest_label)
			dns->longest_label = len;
	}
	if (!jumped)
		*c = at;
	/* wire <= 255 keeps out <= 253, inside qname[256]. */
	dns->qname[out] = '\0';
	dns->qname_len = (uint16_t)out;
	dns->label_entropy = name_entropy(hist, nchars);
	return DEC_OK;
}

/*   +-------------------------------+
 *   |              id               |
 *   +--+------+--+--+--+--+--+--+--+------+
 *   |QR|opcode|AA|TC|RD|RA| Z|AD|CD| rcode|
 *   +--+------+--+--+--+--+--+--+--+------+
 *   | qdcount | ancount | nscount | arcount |
 *   +---------------------------------------+
 *   | question: qname, qtype (16), qclass (16)
 *
 * Only the first question is read: that is the one every real query has,
 * and the features want its name. For mDNS the top qclass bit is the
 * unicast-response flag (RFC 6762 section 5.4); qclass is kept raw. */
enum dec_reason dec_dns(struct cursor *c, bool whole, struct dec_dns *dns)
{
	enum dec_reason short_reason = whole ? DEC_BAD_DNS : DEC_TRUNC_DNS;
	struct cursor msg = *c;
	uint16_t flags;
	enum dec_reason r;

	memset(dns, 0, sizeof *dns);
	if (!cursor_has(c, 12))
		return short_reason;
	cursor_be16(c, &dns->id);
	cursor_be16(c, &flags);
	cursor_be16(c, &dns->qdcount);
	cursor_be16(c, &dns->ancount);
	cursor_be16(c, &dns->nscount);
	cursor_be16(c, &dns->arcount);
	dns->is_response = (flags & 0x8000) != 0;
	dns->opcode = (flags >> 11) & 0x0f;
	dns->rcode = flags & 0x0f;

	if (dns->qdcount) {
		r = dns_name(msg, c, short_reason, dns);
		if (r == DEC_OK && (!cursor_be16(c, &dns->qtype) || !cursor_be16(c, &dns->qclass)))
			r = short_reason;
		if (r != DEC_OK) {
			memset(dns, 0, sizeof *dns);
			return r;
		}
		dns->has_question = true;
	}
	dns->present = true;
	return DEC_OK;
}
