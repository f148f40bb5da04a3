/* arp_spoof.h - ARP spoofing given away by the spoofer: one MAC address that
 * claims an IPv4 address in ARP and also asks who-has for it.
 *
 * A host never asks ARP for an address it holds. A spoofer (ettercap,
 * arpspoof, bettercap) claims the gateway's address to its victims -- as
 * the sender of forged replies or requests -- and, to forward what it
 * steals, asks who-has for the same address from its own, so the one MAC
 * address shows both. Within the window (either order, any VLAN as its
 * own) that is a finding of category "arp_spoof" on the asking IP, the
 * spoofer's own address. Not counted as asking: ARP probes (sender
 * 0.0.0.0, RFC 5227) and gratuitous ARP (target == sender), which a DHCP
 * client sends for the address it is about to take. Two MACs taking turns
 * at one address is not used: a host back from sleep with an expired
 * lease does the same once. docs/scoring.md ("Evidence across flows")
 * gives the reasons. Fixed memory; nothing is allocated per packet.
 */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "decode/decode.h"
#include "score/arp_sweep.h"

struct arp_spoof;

/* window_us: how long a claim or a request is remembered (the incident
 * window). max_addrs: IPv4 addresses tracked at once (rounded up to a
 * multiple of the set size). NULL when out of memory. */
struct arp_spoof *arp_spoof_new(uint64_t window_us, uint32_t max_addrs);

/* Account one decoded ARP packet (anything else is ignored). True when the
 * packet completes a spoof -- a MAC that claimed an address asks for it,
 * or one that asked claims it -- and, after that, for every further packet
 * of that MAC's claim: *ret describes it (category "arp_spoof", host the
 * spoofer's own IP; ret is untouched otherwise). */
bool arp_spoof_observe(struct arp_spoof *s, const struct dec_packet *p, struct arp_finding *ret);

void arp_spoof_free(struct arp_spoof *s);
