/* arp_packet.h - a decoded ARP packet for unit tests of the ARP patterns
 * (score/arp_sweep.h, score/arp_spoof.h): what dec_decode() gives for
 * "op 1: who-has tpa, tell spa" or "op 2: spa is-at sha" at time t. */
#pragma once
#include <stdio.h>
#include <string.h>

#include "decode/decode.h"

static inline struct dec_packet test_arp(uint16_t op, const uint8_t sha[6], const char *spa, const char *tpa,
					 uint64_t t)
{
	struct dec_packet p;
	unsigned a[4], b[4];

	memset(&p, 0, sizeof p);
	sscanf(spa, "%u.%u.%u.%u", &a[0], &a[1], &a[2], &a[3]);
	sscanf(tpa, "%u.%u.%u.%u", &b[0], &b[1], &b[2], &b[3]);
	p.ts_us = t;
	p.l3 = DEC_L3_ARP;
	p.arp.op = op;
	memcpy(p.arp.sha, sha, 6);
	for (int i = 0; i < 4; i++) {
		p.arp.spa[i] = (uint8_t)a[i];
		p.arp.tpa[i] = (uint8_t)b[i];
	}
	return p;
}
