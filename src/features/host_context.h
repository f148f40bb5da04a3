/* host_context.h - what the initiator of a flow has been doing lately,
 * who has been contacting its responder, and how often this initiator
 * used this responder's service.
 *
 * In the spirit of Kitsune's damped windows: for each recently active host
 * the table keeps exponentially decayed counters (new flows, ended flows,
 * failed flows, bytes sent; flows received) and small timestamped bitmaps
 * that estimate how many distinct peer addresses and peer ports it
 * contacted, and how many distinct initiators contacted it, in the last
 * 10 s and 300 s (linear counting). The initiator's view finds scans and
 * sweeps; the responder's view finds floods from many (spoofed) sources,
 * whose every source sends one flow. A separate count-min sketch of decayed
 * counters keyed by (initiator, responder, protocol, port) counts repeated
 * use of one service: password guessing, beacons. Memory is bounded: a
 * fixed number of hosts in a 4-way set-associative table, the least
 * recently touched way of a set replaced when a new host needs room, and a
 * fixed-size pair sketch. Nothing allocates after feat_hosts_init(). Time
 * comes from packet timestamps only.
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

/* A distinct-peer sketch: slot i holds when a peer hashing to it was last
 * seen, in deciseconds since the table's base + 1, if bit i of `stamped`
 * is set; a slot whose bit is clear was never stamped, whatever it holds. */
struct feat_sketch {
	uint32_t slot[FEAT_HOST_SLOTS];
};

enum { FEAT_SEEN_ADDR, FEAT_SEEN_PORT, FEAT_SEEN_SRC, FEAT_SEEN_N };

/* The counters come first and the sketches after them: a host that takes
 * over a way clears only the first lines (the counters and the `stamped`
 * bits), not the 768 bytes of sketch slots. */
struct feat_host {
	_Alignas(64) uint8_t family;  /* 0 = empty way */
	uint8_t addr[16];
	uint64_t touch_us;
	uint64_t stamped[FEAT_SEEN_N]; /* which slots of seen[] hold a stamp */
	struct feat_decay flows[2];   /* new flows, time constants 10 s and 300 s */
	struct feat_decay bytes[2];   /* bytes sent in ended flows */
	struct feat_decay ended, failed; /* 300 s; always decayed to the same time */
	struct feat_decay in_flows;   /* flows received as responder, 10 s */
	/* peer addresses and peer ports it contacted, initiators that contacted it */
	struct feat_sketch seen[FEAT_SEEN_N];
};

/* One cell of the pair sketch: decayed flow counts, 10 s and 300 s. */
struct feat_pair_cell {
	struct feat_decay flows[2];
};

#define FEAT_PAIR_ROWS 2

struct feat_hosts {
	struct feat_host *hosts;      /* nsets * FEAT_HOST_WAYS, cache-line aligned in hosts_mem */
	void *hosts_mem;
	uint32_t nsets;               /* power of two */
	uint64_t base_us;             /* time origin of the *_seen stamps */
	bool have_base;
	uint64_t replaced;            /* hosts pushed out to make room */
	struct feat_pair_cell *pairs; /* FEAT_PAIR_ROWS rows of npairs cells */
	uint32_t npairs;              /* power of two */
	/* linear counting's estimate for each number of stamped slots in a window */
	double distinct[FEAT_HOST_SLOTS + 1];
};

/* Room for at least max_hosts hosts (rounded up to a power of two). 0 or -ENOMEM/-EINVAL. */
int feat_hosts_init(struct feat_hosts *h, uint32_t max_hosts);
void feat_hosts_release(struct feat_hosts *h);

/* A hint: start loading the ways feat_hosts_flow_start() will search for
 * src and dst and the pair cells it will count in (the flow meter calls
 * it a few packets ahead). Arguments as for feat_hosts_flow_start(). */
void feat_hosts_prefetch(const struct feat_hosts *h, uint8_t family, uint8_t proto, const uint8_t *src,
			 const uint8_t *dst, uint16_t dport);
/* The second step, once the ways from feat_hosts_prefetch() are in the
 * cache: start loading the lines of the hosts' entries that
 * feat_hosts_flow_start() (feat_hosts_prefetch_start) or
 * feat_hosts_flow_end() and feat_hosts_context() (feat_hosts_prefetch_end)
 * will read or write. Hints only: nothing changes. */
void feat_hosts_prefetch_start(const struct feat_hosts *h, uint8_t family, uint8_t proto, const uint8_t *src,
			       const uint8_t *dst, uint16_t dport);
void feat_hosts_prefetch_end(const struct feat_hosts *h, uint8_t family, const uint8_t *src, const uint8_t *dst);

/* A flow of IP protocol proto from src to (dst, dport) started at ts_us.
 * Ports count only for TCP and UDP (an ICMP flow's key holds an echo
 * identifier or a type, not a service). */
void feat_hosts_flow_start(struct feat_hosts *h, uint8_t family, uint8_t proto, const uint8_t *src,
			   const uint8_t *dst, uint16_t dport, uint64_t ts_us);

/* A flow started by src ended at ts_us having sent bytes_sent; failed as feat_flow_failed(). */
void feat_hosts_flow_end(struct feat_hosts *h, uint8_t family, const uint8_t *src, uint64_t bytes_sent,
			 bool failed, uint64_t ts_us);

/* Write the context entries of out[] (FEAT_HOST_*, FEAT_DST_*, FEAT_PAIR_*)
 * for the flow id as of ts_us (zeros for unknown hosts). */
struct feat_flow_id;
void feat_hosts_context(const struct feat_hosts *h, const struct feat_flow_id *id, uint64_t ts_us,
			double out[FEAT_COUNT]);
