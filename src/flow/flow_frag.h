/* flow_frag.h - give non-first IP fragments the ports of their first fragment.
 *
 * Only the first fragment of a datagram carries the transport header, so a
 * later fragment alone cannot say which flow it belongs to. A small
 * direct-mapped cache remembers, for each recent first fragment, its
 * (family, protocol, source, destination, identification) and the ports it
 * carried; later fragments of the same datagram take those ports. A
 * fragment that arrives before its first fragment, or whose entry was
 * overwritten or is older than FLOW_FRAG_TTL_US, keeps ports 0 and goes to
 * the port-0 flow of its address pair. Fixed size, no allocation after init.
 */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#define FLOW_FRAG_TTL_US 30000000ull /* Linux's default IPv4 reassembly timeout */

struct flow_frag_entry {
	uint64_t ts_us;
	uint32_t id;
	uint8_t family, proto;
	uint16_t port[2];
	uint8_t src[16], dst[16];
};

struct flow_frag {
	struct flow_frag_entry *slots;
	uint32_t nslots;              /* power of two */
	uint64_t matched, unmatched;  /* non-first fragments */
};

int flow_frag_init(struct flow_frag *c, uint32_t slots);
void flow_frag_release(struct flow_frag *c);

/* A first fragment (offset 0) of datagram id from src to dst carried these ports. */
void flow_frag_remember(struct flow_frag *c, uint8_t family, uint8_t proto, const uint8_t *src,
			const uint8_t *dst, uint32_t id, uint16_t sport, uint16_t dport, uint64_t ts_us);

/* Ports for a later fragment: true and the ports set if its first fragment was seen. */
bool flow_frag_lookup(struct flow_frag *c, uint8_t family, uint8_t proto, const uint8_t *src,
		      const uint8_t *dst, uint32_t id, uint64_t ts_us, uint16_t *ret_sport, uint16_t *ret_dport);
