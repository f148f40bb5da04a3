/* feat_compute.h - per-flow feature accumulators and their final values.
 *
 * A struct feat_flow lives inside each flow table entry. It is updated once
 * per packet in O(1) with no allocation (running sums, Welford's mean and
 * variance, minima and maxima, a few first-seen values) and turned into the
 * registry's values when the flow's record is written.
 */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "decode/decode.h"
#include "features/features.h"

struct feat_dir {
	double len_mean, len_m2;     /* Welford over IP lengths */
	double iat_mean, iat_m2;     /* Welford over gaps, seconds */
	double iat_min, iat_max;
	uint64_t last_us;
	uint64_t payload;
	uint32_t n;
	uint32_t len_min, len_max;
	uint16_t init_win;
	bool seen_tcp;
};

struct feat_flow {
	struct feat_dir dir[2];      /* [0] initiator to responder */
	double iat_mean, iat_m2;     /* both directions together */
	uint64_t last_us;
	uint64_t syn_us, synack_us, ack_us;
	uint32_t flags[5];           /* SYN FIN RST PSH ACK */
	int32_t first_len[FEAT_FIRST_N];
	float dns_entropy;
	uint16_t dns_queries;        /* saturating: 16 bits keep the per-flow state small */
	uint16_t dns_qclass[3];      /* questions seen: address, PTR, other types (saturating) */
	uint16_t dns_qtype, dns_answers;
	uint16_t dns_data_qname_chars; /* saturating */
	uint8_t dns_qlen, dns_qlen_max; /* a dotted name is at most 253 characters */
	uint8_t dns_labels, dns_longest, dns_longest_max, dns_rcode;
	bool dns_query, dns_response;
	uint8_t http;                /* the initiator's first payload segment: enum feat_http */
	bool bwd_rst;                /* the responder sent a RST */
};

/* What the initiator's first payload segment opened with (feat_flow.http):
 * one byte, all the HTTP features need, keeps the flow entry's size. */
enum feat_http {
	FEAT_HTTP_NONE = 0,
	FEAT_HTTP_BY_NAME = 1,       /* an HTTP request whose Host is a name, or that has no Host */
	FEAT_HTTP_BY_IP = 2,         /* an HTTP request whose Host is a bare IP address */
};

/* What the table knows about a flow, needed for its features. */
struct feat_flow_id {
	uint64_t first_us, last_us;
	uint8_t family;              /* 4 or 6 */
	uint8_t proto;
	const uint8_t *src, *dst;    /* initiator, responder addresses (4 or 16 bytes) */
	uint16_t sport, dport;
	uint64_t packets[2], bytes[2];
};

/* Add one packet; dir 0 = from the initiator. The accumulator starts zeroed. */
void feat_flow_add(struct feat_flow *a, const struct dec_packet *p, int dir);

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
