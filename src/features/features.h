/* features.h - the feature registry: the single source of truth for what
 * nad measures about a flow.
 *
 * The table (features/registry.c) gives each feature its name, unit and
 * description. The CSV header and JSONL keys of `nad flows`,
 * docs/features.md, the input order of a model trained by `nad train`, and
 * the words in an anomaly's explanation all come from it; nothing else
 * lists features.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* How `nad train` should bring a feature to a common scale before
 * normalising: counts, byte totals, rates and durations are heavy-tailed
 * and are log1p-transformed; ratios, classes and small codes stay linear. */
enum feat_scale {
	FEAT_SCALE_LINEAR = 0,
	FEAT_SCALE_LOG1P = 1,
};

struct feat_def {
	const char *name;         /* CSV column / JSON key, snake_case, unique */
	const char *unit;         /* "packets", "bytes", "s", "bytes/s", "ratio", "bits", "class", ... */
	const char *description;  /* one sentence a person understands; used in explanations */
	enum feat_scale scale;
	bool model_input;         /* part of the model's input vector */
};

extern const struct feat_def feat_registry[];
extern const size_t feat_count;

/* Index of a feature by name, or -1. */
int feat_index(const char *name);

/* Number of features with model_input set, and the registry index of the
 * i-th of them (the model's input order). */
size_t feat_model_count(void);
int feat_model_index(size_t i);

/* Registry indices. registry.c fills feat_registry[] with designated
 * initialisers on these, so an id and its row can never drift apart, and
 * code that computes a feature names it by id rather than by position. */
enum feat_id {
	/* the 17 core per-flow features */
	FEAT_DURATION,
	FEAT_PACKETS_FWD,
	FEAT_PACKETS_BWD,
	FEAT_BYTES_FWD,
	FEAT_BYTES_BWD,
	FEAT_PKT_LEN_MEAN_FWD,
	FEAT_PKT_LEN_MEAN_BWD,
	FEAT_PKT_LEN_STD,
	FEAT_IAT_MEAN,
	FEAT_IAT_STD,
	FEAT_SYN_COUNT,
	FEAT_FIN_COUNT,
	FEAT_RST_COUNT,
	FEAT_PSH_COUNT,
	FEAT_ACK_COUNT,
	FEAT_BYTES_PER_S,
	FEAT_PACKETS_PER_S,
	/* per-direction size and timing */
	FEAT_PKT_LEN_MIN_FWD,
	FEAT_PKT_LEN_MAX_FWD,
	FEAT_PKT_LEN_STD_FWD,
	FEAT_PKT_LEN_MIN_BWD,
	FEAT_PKT_LEN_MAX_BWD,
	FEAT_PKT_LEN_STD_BWD,
	FEAT_IAT_MEAN_FWD,
	FEAT_IAT_STD_FWD,
	FEAT_IAT_MIN_FWD,
	FEAT_IAT_MAX_FWD,
	FEAT_IAT_MEAN_BWD,
	FEAT_IAT_STD_BWD,
	FEAT_IAT_MIN_BWD,
	FEAT_IAT_MAX_BWD,
	FEAT_PAYLOAD_BYTES_FWD,
	FEAT_PAYLOAD_BYTES_BWD,
	/* TCP handshake */
	FEAT_TCP_SYNACK_RTT,
	FEAT_TCP_ACK_RTT,
	FEAT_TCP_INIT_WIN_FWD,
	FEAT_TCP_INIT_WIN_BWD,
	/* the first packets, signed: + from the initiator, - from the responder */
	FEAT_FIRST_LEN_1,
	FEAT_FIRST_LEN_2,
	FEAT_FIRST_LEN_3,
	FEAT_FIRST_LEN_4,
	/* DNS */
	FEAT_DNS_QUERY_LEN,
	FEAT_DNS_LABELS,
	FEAT_DNS_LONGEST_LABEL,
	FEAT_DNS_LABEL_ENTROPY,
	FEAT_DNS_QTYPE,
	FEAT_DNS_RCODE,
	FEAT_DNS_ANSWERS,
	FEAT_DNS_QUERIES,
	FEAT_DNS_QUERY_LEN_MAX,
	FEAT_DNS_QTYPE_ADDR,
	FEAT_DNS_QTYPE_PTR,
	FEAT_DNS_QTYPE_OTHER,
	FEAT_DNS_LONGEST_LABEL_MAX,
	FEAT_DNS_DATA_QNAME_CHARS,
	/* the initiator's first HTTP request */
	FEAT_HTTP_REQUEST,
	FEAT_HTTP_HOST_IP,
	FEAT_HTTP_BARE_IP_PAYLOAD_FWD,
	/* protocol, ports and addresses */
	FEAT_PROTO,
	FEAT_PROTO_TCP,
	FEAT_PROTO_UDP,
	FEAT_PROTO_ICMP,
	FEAT_PROTO_OTHER,
	FEAT_IPV6,
	FEAT_RESP_PORT_CLASS,
	FEAT_RESP_PORT_WELL_KNOWN,
	FEAT_RESP_PORT_REGISTERED,
	FEAT_RESP_PORT_DYNAMIC,
	FEAT_RESP_PORT_LOGIN,
	FEAT_SRC_ADDR_CLASS,
	FEAT_DST_ADDR_CLASS,
	FEAT_SRC_LOCAL,
	FEAT_DST_LOCAL,
	FEAT_DST_MULTICAST,
	/* host context of the initiator at flow end */
	FEAT_HOST_FLOW_RATE_10S,
	FEAT_HOST_FLOW_RATE_300S,
	FEAT_HOST_DST_ADDRS_10S,
	FEAT_HOST_DST_ADDRS_300S,
	FEAT_HOST_DST_PORTS_10S,
	FEAT_HOST_DST_PORTS_300S,
	FEAT_HOST_FAILED_RATIO_300S,
	FEAT_HOST_BYTES_RATE_10S,
	FEAT_HOST_BYTES_RATE_300S,
	/* the responder's side: who has been contacting it lately */
	FEAT_DST_FLOW_RATE_10S,
	FEAT_DST_SRC_ADDRS_10S,
	FEAT_DST_SRC_ADDRS_300S,
	/* this initiator with this responder and service */
	FEAT_PAIR_FLOWS_10S,
	FEAT_PAIR_FLOWS_300S,
	FEAT_COUNT
};

/* Number of signed first-packet sizes kept (FEAT_FIRST_LEN_1..4). */
#define FEAT_FIRST_N 4

/* Write the registry as the Markdown document docs/features.md. */
int feat_write_markdown(FILE *out);
