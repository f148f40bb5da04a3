/* host_context.h - what the initiator of a flow has been doing lately.
 *
 * In the spirit of Kitsune's damped windows: for each recently active host
 * the table keeps exponentially decayed counters (new flows, ended flows,
 * failed flows, bytes sent) and two small timestamped bitmaps that estimate
 * how many distinct peer addresses and peer ports it contacted in the last
 * 10 s and 300 s (linear counting). Memory is bounded: a fixed number of
 * hosts in a 4-way set-associative table, the least recently touched way
 * of a set replaced when a new host needs room. Nothing allocates after
 * feat_hosts_init(). Time comes from packet timestamps only.
 */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "features/features.h"

#define FEAT_HOST_SLOTS 64     /* slots per sketch: within ~10% to ~60 peers, saturates at 311 */
#define FEAT_HOST_WAYS 4

struct feat_decay {
	double v;
	uint64_t t_us;
};

struct feat_host {
	uint8_t family;               /* 0 = empty way */
	uint8_t addr[16];
	uint64_t touch_us;
	struct feat_decay flows[2];   /* new flows, time constants 10 s and 300 s */
	struct feat_decay bytes[2];   /* bytes sent in ended flows */
	struct feat_decay ended, failed; /* 300 s */
	uint32_t addr_seen[FEAT_HOST_SLOTS]; /* deciseconds since the table's base + 1; 0 = never */
	uint32_t port_seen[FEAT_HOST_SLOTS];
};

struct feat_hosts {
	struct feat_host *hosts;      /* nsets * FEAT_HOST_WAYS */
	uint32_t nsets;               /* power of two */
	uint64_t base_us;             /* time origin of the *_seen stamps */
	bool have_base;
	uint64_t replaced;            /* hosts pushed out to make room */
};

/* Room for at least max_hosts hosts (rounded up to a power of two). 0 or -ENOMEM/-EINVAL. */
int feat_hosts_init(struct feat_hosts *h, uint32_t max_hosts);
void feat_hosts_release(struct feat_hosts *h);

/* A flow from src to (dst, dport) started at ts_us. */
void feat_hosts_flow_start(struct feat_hosts *h, uint8_t family, const uint8_t *src, const uint8_t *dst,
			   uint16_t dport, uint64_t ts_us);

/* A flow started by src ended at ts_us having sent bytes_sent; failed as feat_flow_failed(). */
void feat_hosts_flow_end(struct feat_hosts *h, uint8_t family, const uint8_t *src, uint64_t bytes_sent,
			 bool failed, uint64_t ts_us);

/* Write the FEAT_HOST_* entries of out[] for src as of ts_us (zeros for an unknown host). */
void feat_hosts_context(const struct feat_hosts *h, uint8_t family, const uint8_t *src, uint64_t ts_us,
			double out[FEAT_COUNT]);
