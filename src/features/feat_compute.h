/* feat_compute.h - per-flow feature accumulators and their final values.
 *
 * A struct feat_flow lives inside each flow table entry. It is updated once
 * per packet in O(1) with no allocation (running sums, Welford's mean and
 * variance, minima and maxima, a few first-seen values) and turned into the
 * registry's values when the flow's record is written.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decode/decode.h"
#include "features/features.h"

/* The accumulators are laid out by cache line, because a packet's cost is
 * mostly the lines of its flow entry it misses on (at 100k flows nearly
 * all of them). flow_meter places struct feat_flow 16 bytes before a line
 * boundary of its entry (it checks this at compile time), so:
 *   hot_a      16 bytes: the tail of the line holding the table's counters
 *   dir[0..1]  one whole line each
 *   hot        one line: everything else most packets update
 *   cold       one line: what the handshake, the first TCP segment each
 *              way, DNS and a responder's RST write
 * and a packet touches its direction's line and the hot line, never the
 * other direction's and (past its flow's first packets) rarely the cold
 * one. The packet counts are the table's (struct feat_flow_id, and
 * feat_flow_add's `packets`), not kept again here. */
struct feat_dir {
	double len_mean, len_m2;     /* Welford over IP lengths */
	double iat_mean, iat_m2;     /* Welford over gaps, seconds */
	double iat_min, iat_max;
	uint64_t last_us;
	uint64_t payload;
};

/* tcp_seen bits: the first TCP segment of a direction was seen (its
 * window is in cold.init_win); a handshake time is set and not zero. */
enum {
	FEAT_SEEN_TCP_FWD = 1,
	FEAT_SEEN_TCP_BWD = 2,
	FEAT_HAVE_SYN = 4,
	FEAT_HAVE_SYNACK = 8,
	FEAT_HAVE_ACK = 16,
};

struct feat_flow {
	double iat_mean, iat_m2;     /* both directions together */
	struct feat_dir dir[2];      /* [0] initiator to responder */
	struct {
		uint64_t last_us;
		uint32_t len_min[2], len_max[2];
		uint32_t flags[5];           /* SYN FIN RST PSH ACK */
		int32_t first_len[FEAT_FIRST_N];
		uint8_t tcp_seen;            /* FEAT_SEEN_TCP_... | FEAT_HAVE_... */
	} hot;
	struct {
		uint64_t syn_us, synack_us, ack_us;
		uint16_t init_win[2];
		float dns_entropy;
		uint16_t dns_queries;        /* saturating: 16 bits keep the per-flow state small */
		uint16_t dns_qclass[3];      /* questions seen: address, PTR, other types (saturating) */
		uint16_t dns_qtype, dns_answers;
		uint16_t dns_data_qname_chars; /* saturating */
		uint8_t dns_qlen, dns_qlen_max; /* a dotted name is at most 253 characters */
		uint8_t dns_labels, dns_longest, dns_longest_max, dns_rcode;
		bool dns_query, dns_response;
		bool bwd_rst;                /* the responder sent a RST */
	} cold;
	/* pads the cold block to a whole line, so the entry stays six lines */
	unsigned char pad_[8];
};

_Static_assert(sizeof(struct feat_dir) == 64, "a direction's accumulators fill one cache line");
_Static_assert(offsetof(struct feat_flow, dir) == 16, "dir[0] starts 16 bytes in");
_Static_assert(offsetof(struct feat_flow, hot) == 144 && sizeof(((struct feat_flow *)0)->hot) <= 64,
	       "the hot block is the line after dir[1]");
_Static_assert(offsetof(struct feat_flow, cold) == 208 && sizeof(struct feat_flow) == 272,
	       "the cold block is the last line");

/* What the table knows about a flow, needed for its features. */
struct feat_flow_id {
	uint64_t first_us, last_us;
	uint8_t family;              /* 4 or 6 */
	uint8_t proto;
	const uint8_t *src, *dst;    /* initiator, responder addresses (4 or 16 bytes) */
	uint16_t sport, dport;
	uint64_t packets[2], bytes[2];
};

/* Add one packet; dir 0 = from the initiator. packets: the record's packets
 * in each direction, this one included (the table counts them). The
 * accumulator starts zeroed. */
void feat_flow_add(struct feat_flow *a, const struct dec_packet *p, int dir, const uint64_t packets[2]);

/* True if the flow got no reply, or was refused by a RST before its handshake completed. */
bool feat_flow_failed(const struct feat_flow *a, const struct feat_flow_id *id);

/* Fill out[] with every per-flow feature (host context entries are left
 * untouched; feat_hosts_context() fills them). */
void feat_flow_compute(const struct feat_flow *a, const struct feat_flow_id *id, double out[FEAT_COUNT]);

/* Address classes of src_addr_class / dst_addr_class. */
enum feat_addr_class {
	FEAT_ADDR_PUBLIC = 0,
	FEAT_ADDR_PRIVATE = 1,
	FEAT_ADDR_LINK_LOCAL = 2,
	FEAT_ADDR_MULTICAST = 3,
	FEAT_ADDR_LOOPBACK = 4,
	FEAT_ADDR_UNSPECIFIED = 5,
};

enum feat_addr_class feat_addr_class(uint8_t family, const uint8_t *a);

/* True for TCP ports of services that take passwords (resp_port_login). */
bool feat_login_port(uint16_t port);
