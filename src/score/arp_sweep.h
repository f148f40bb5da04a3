/* arp_sweep.h - host discovery by ARP: one sender asking who-has for many
 * addresses of one /24 that never answer.
 *
 * On a LAN the quickest way to map the network is to ask ARP for every
 * address (nmap -sn, arp-scan, netdiscover): no IP packet is sent, so the
 * flow stage and the model never see it. This module watches ARP itself.
 * A sender -- one IP and MAC address on one VLAN -- that asked who-has for
 * at least ARP_SWEEP_MIN_HOSTS addresses of one /24 that did not answer,
 * and for more unanswered addresses than answered ones, is sweeping (an
 * address is judged from the sender's next request on: the one just asked
 * for has had no time to answer yet); the
 * finding has the same shape, category ("sweep") and weight as the flow
 * sweep of evidence.h. An address "answered" when an ARP packet with it as
 * sender address (a reply, or its own request or announcement) was seen
 * within the window. Gratuitous ARP (target == sender) and ARP probes
 * (sender 0.0.0.0, RFC 5227) ask nobody anything and are not counted.
 * Counting is over the incident: a sender quiet for the window starts
 * again from zero. docs/scoring.md ("Evidence across flows") gives the
 * reasons. Fixed memory, chosen in arp_sweep_new(); nothing is allocated
 * per packet.
 */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "decode/decode.h"
#include "score/evidence.h"
#include "sink/records.h"

/* Unanswered addresses of one /24: as many as the flow sweep's silent hosts. */
#define ARP_SWEEP_MIN_HOSTS EVIDENCE_SWEEP_MIN_HOSTS

/* What an ARP pattern found (this one, and arp_spoof.h). */
struct arp_finding {
	struct evidence_finding ev;  /* sweep: category "sweep", role "attacker", host = the sender's IP;
					ev.flows counts its ARP requests */
	uint64_t first_us;           /* the pattern's first packet */
	char target[REC_ADDR_MAX];   /* the address this packet is about */
};

struct arp_sweep;

/* An ARP address that names no host: 0.0.0.0 (an ARP probe's sender,
 * RFC 5227) or the broadcast address. Both ARP stages ignore such senders. */
static inline bool arp_addr_is_none(const uint8_t ip[4])
{
	return !(ip[0] | ip[1] | ip[2] | ip[3]) || (ip[0] & ip[1] & ip[2] & ip[3]) == 0xff;
}

/* window_us: a sender quiet for this long starts again from zero, and an
 * answer counts for this long (the incident window). max_senders: senders
 * and /24s tracked at once (rounded up to a multiple of the set size).
 * NULL when out of memory. */
struct arp_sweep *arp_sweep_new(uint64_t window_us, uint32_t max_senders);

/* Account one decoded ARP packet (p->l3 == DEC_L3_ARP; anything else is
 * ignored). True when it is a request of a sweep that has reached its
 * minimum: *ret describes it (ret is untouched otherwise). */
bool arp_sweep_observe(struct arp_sweep *s, const struct dec_packet *p, struct arp_finding *ret);

void arp_sweep_free(struct arp_sweep *s);
