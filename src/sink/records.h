/* records.h - what the detector hands to its outputs.
 *
 * Plain, self-contained values (no pointers into the flow table or the
 * model) so a record can be copied into a bounded queue and written by the
 * writer thread while capture goes on. The same two records feed the JSON
 * lines log, the SQLite history, metrics and alerts.
 */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#define REC_ADDR_MAX 48          /* textual IPv4/IPv6 address */
#define REC_TOP_FEATURES 3       /* features named in an explanation */
#define REC_FEATURES_MAX 128     /* >= feat_count */

enum rec_level {
	REC_LEVEL_NONE = 0,      /* scored, not anomalous */
	REC_LEVEL_LOW,
	REC_LEVEL_MEDIUM,
	REC_LEVEL_HIGH,
	REC_LEVEL_CRITICAL,
};

/* One feature that stands out in an anomalous flow. */
struct rec_contrib {
	char feature[48];        /* registry name */
	double value;            /* the flow's value, in the feature's unit */
	double typical_lo;       /* baseline's typical range (e.g. 5th..95th percentile) */
	double typical_hi;
	double share;            /* share of the reconstruction error, 0..1 */
};

/* One scored flow that crossed the anomaly threshold. */
struct rec_anomaly {
	uint64_t first_ts_us, last_ts_us;
	char src[REC_ADDR_MAX], dst[REC_ADDR_MAX];   /* src = initiator */
	uint16_t sport, dport;
	uint8_t proto;
	uint16_t vlan;
	char end_reason[16];
	uint64_t packets_fwd, packets_bwd, bytes_fwd, bytes_bwd;

	double error;            /* reconstruction error (mean squared, normalised space) */
	double tail_prob;        /* P(error >= this) under the baseline calibration */
	double score;            /* 0..100 */
	uint8_t level;           /* enum rec_level */
	char category[20];       /* scan, sweep, flood, brute_force, dns_tunnel, exfiltration, beaconing,
				    p2p, dns, unknown */
	struct rec_contrib top[REC_TOP_FEATURES];
	uint8_t ntop;
	char explanation[512];   /* one or two sentences, from top[] */
	char incident_uid[40];   /* the incident this anomaly rolled into */

	uint16_t nfeat;          /* == feat_count; values in registry order */
	double feat[REC_FEATURES_MAX];
};

enum rec_incident_event {
	REC_INCIDENT_OPENED = 0, /* first anomaly of a new incident */
	REC_INCIDENT_UPDATED,    /* more anomalies, or its level rose */
	REC_INCIDENT_CLOSED,     /* quiet for the incident window */
};

/* An incident: anomalous flows of one host (the initiator, or the victim of
 * a flood from spoofed sources) and one category within a time window. */
struct rec_incident {
	char uid[40];            /* stable across updates: also the alert's idempotency key */
	uint8_t event;           /* enum rec_incident_event */
	char host[REC_ADDR_MAX];
	char role[10];           /* "attacker", "victim" or "network" (host is then a prefix) */
	char category[20];
	uint8_t level;           /* enum rec_level */
	double score;            /* 0..100, grows with count and anomaly scores */
	double max_anomaly_score;
	uint64_t anomalies;      /* flows rolled into it */
	uint32_t distinct_peers;
	uint32_t distinct_ports;
	uint64_t first_ts_us, last_ts_us;
	char summary[256];       /* e.g. "192.168.1.10 scanned 998 ports on 192.168.1.25" */
	char explanation[512];   /* why: the features that stand out, with baseline ranges */
};

const char *rec_level_name(enum rec_level l);
/* Parse "low", "medium", "high", "critical" (and "none"); -1 if unknown. */
int rec_level_parse(const char *s);
