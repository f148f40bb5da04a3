/* fuzz_decode.c - dec_decode() on arbitrary frames.
 *
 * The first byte picks the link type (modulo the supported ones), the rest
 * is the frame. Besides "no crash, no out-of-bounds read" the target checks
 * the decoder's promises, and aborts when one is broken: one reason counted
 * per frame, the DNS name and its length agree, later fragments carry no
 * ports, transport payload never exceeds the IP length, an HTTP request is
 * only reported on TCP with a known method and flags. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decode/decode.h"

static const int link_types[] = {
	DEC_LINK_ETHERNET, DEC_LINK_LINUX_SLL, DEC_LINK_LINUX_SLL2, DEC_LINK_RAW,
	DEC_LINK_NULL, DEC_LINK_LOOP, DEC_LINK_IPV4, DEC_LINK_IPV6,
	DEC_LINK_DLT_RAW12, DEC_LINK_DLT_RAW14,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dec_stats st = { 0 };
	struct dec_packet pkt;
	enum dec_reason r;
	uint64_t sum = 0;
	int lt;

	if (size < 1)
		return 0;
	lt = link_types[data[0] % (sizeof link_types / sizeof link_types[0])];
	r = dec_decode(lt, data + 1, (uint32_t)(size - 1), (uint32_t)(size - 1), 1, &pkt, &st);

	for (int i = 0; i < DEC_REASON_MAX; i++)
		sum += st.by_reason[i];
	if (st.frames != 1 || sum != 1 || (unsigned)r >= DEC_REASON_MAX)
		abort();
	if (r == DEC_OK) {
		if (pkt.frag_offset && pkt.has_ports)
			abort();
		if (pkt.l3 != DEC_L3_ARP && pkt.l4_payload_len > pkt.ip_len)
			abort();
		if (pkt.dns.present && strlen(pkt.dns.qname) != pkt.dns.qname_len)
			abort();
		if (pkt.dns.qname_len > 253 || pkt.dns.label_entropy < 0 || pkt.dns.label_entropy > 8)
			abort();
		if (pkt.http.method > DEC_HTTP_TRACE || (pkt.http.flags & 0x80) ||
		    (pkt.http.method && pkt.ip_proto != 6) ||
		    (!pkt.http.method && (pkt.http.flags || pkt.http.uri_len || pkt.http.headers)) ||
		    ((pkt.http.flags & (DEC_HTTP_HOST_IP | DEC_HTTP_HOST_PORT)) && !(pkt.http.flags & DEC_HTTP_HOST)))
			abort();
	}
	return 0;
}
