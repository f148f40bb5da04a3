/* flow_meter.h - the reusable pipeline: captured frame -> decode -> flow
 * table -> features -> one record per flow.
 *
 * `nad flows`, the detector and the service all drive the same meter: feed
 * it every frame in capture order, flush it at the end, and it calls
 * on_record once per record (complete flows, partial records of long flows,
 * and everything still active at the flush). It allocates only in
 * flow_meter_new(); feeding packets never allocates.
 */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "capture/capture.h"
#include "decode/decode.h"
#include "features/features.h"
#include "flow/flow_table.h"

struct flow_record {
	uint64_t first_us, last_us;
	uint8_t family;            /* 4 or 6 */
	uint8_t proto;
	uint16_t vlan;
	uint8_t src[16], dst[16];  /* initiator, responder (IPv4 in bytes 0..3) */
	uint16_t sport, dport;     /* ICMP: see docs/internals/flow.md */
	enum flow_end end;
	uint64_t packets[2];       /* [0] initiator to responder */
	uint64_t bytes[2];         /* IP-layer bytes */
	double feat[FEAT_COUNT];   /* registry order */
};

/* The record is valid only during the call. */
typedef void (*flow_record_fn)(const struct flow_record *rec, void *user);

/* A decoded ARP packet (pkt->l3 == DEC_L3_ARP), valid only during the call.
 * ARP makes no flow; this is how the detector still sees it (arp_sweep.h). */
typedef void (*flow_arp_fn)(const struct dec_packet *pkt, void *user);

struct flow_meter_options {
	struct flow_table_options table;
	uint32_t max_hosts;        /* host-context table size */
	uint32_t frag_slots;       /* first-fragment cache size */
	/* Packets decoded ahead of the one being accounted (0..FLOW_METER_LOOKAHEAD_MAX),
	 * so the flow entries of later packets are already on their way from
	 * memory when they are needed. Records are the same; they come out
	 * up to this many packets later, and flow_meter_drain() catches up.
	 * 0 (the default) accounts every packet before flow_meter_feed() returns. */
	uint32_t lookahead;
	uint64_t seed;             /* hash key; output does not depend on it */
	flow_record_fn on_record;
	/* NULL: ARP packets are only counted. Called when the packet is
	 * decoded, so with a lookahead before earlier IP packets are
	 * accounted (ARP and flows share nothing). */
	flow_arp_fn on_arp;
	void *user;              /* for on_record and on_arp */
};

#define FLOW_METER_MAX_HOSTS_DEFAULT 4096u
#define FLOW_METER_FRAG_SLOTS_DEFAULT 1024u
#define FLOW_METER_LOOKAHEAD_MAX 32u
/* What an offline reader should use: enough to cover a cache miss or two,
 * little enough for the waiting packets to stay in the L1 cache. */
#define FLOW_METER_LOOKAHEAD_FILE 8u

void flow_meter_options_default(struct flow_meter_options *ret);

struct flow_meter_stats {
	struct dec_stats dec;        /* frames and decode outcomes by reason */
	uint64_t ip_packets;         /* packets that went into flows */
	uint64_t arp_packets;        /* ARP: counted, no flow */
	uint64_t fragments;          /* IP fragments, first ones included */
	uint64_t frag_matched;       /* later fragments given their first fragment's ports */
	uint64_t frag_unmatched;     /* later fragments put in the port-0 flow */
	uint64_t hosts_replaced;     /* host-context entries pushed out */
	struct flow_table_stats flows;
};

struct flow_meter;

/* 0 or -EINVAL/-ENOMEM; *ret set only on success. */
int flow_meter_new(const struct flow_meter_options *opt, struct flow_meter **ret);

/* One captured frame. */
void flow_meter_feed(struct flow_meter *m, const struct cap_packet *p, int linktype);

/* One decoded packet (dec_decode said DEC_OK); what flow_meter_feed() does
 * after decoding, without lookahead (packets waiting from
 * flow_meter_feed() are accounted first). */
void flow_meter_feed_decoded(struct flow_meter *m, const struct dec_packet *p);

/* Account every packet still waiting in the lookahead (a live capture
 * calls this when no packet came for a while). */
void flow_meter_drain(struct flow_meter *m);

/* End of input: every active flow is written (end_of_input, or fin/rst for closed ones). */
void flow_meter_flush(struct flow_meter *m);

/* With a lookahead, the flow table's counters lag the packet counters by
 * the packets still waiting (none after flow_meter_drain/flush). */
void flow_meter_get_stats(const struct flow_meter *m, struct flow_meter_stats *ret);

/* Bytes each flow table entry takes (struct flow + feature accumulators). */
size_t flow_meter_bytes_per_flow(const struct flow_meter *m);

/* Free everything; accepts NULL. Does not flush. */
void flow_meter_free(struct flow_meter *m);
