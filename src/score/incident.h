/* incident.h - roll anomalous flows up into incidents.
 *
 * A port scan is a thousand anomalous flows but one thing that happened, so
 * people (and alerts) see incidents, not flows. Anomalies that share a host
 * and a category within a time window join one incident: the host is the
 * flow's initiator ("attacker"), except for floods and reflection attacks,
 * whose initiators are many (often spoofed) sources, where it is the
 * responder ("victim"). Patterns that only a set of flows shows (a slow
 * sweep, password guessing, a random-address flood: evidence.h) make
 * incidents too, from flows that are ordinary one by one; a random-address
 * flood belongs to the network its addresses share ("network"). Host
 * discovery by ARP (arp_sweep.h) and ARP spoofing (arp_spoof.h), which no
 * flow carries, make incidents of their own. The table is bounded; time is packet time.
 */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "flow/flow_meter.h"
#include "score/arp_spoof.h"
#include "score/arp_sweep.h"
#include "score/evidence.h"
#include "sink/records.h"

struct incident_table;

struct incident_options {
	uint64_t window_us;        /* an incident closes after this much quiet */
	size_t max_open;           /* open incidents kept; the stalest closes first when full */
	double level_thresholds[5];/* score at which each rec_level starts (index 1..4 used) */
};

typedef void (*incident_emit_fn)(const struct rec_incident *inc, void *user);

/* Create a table; events go to emit(). Returns NULL when out of memory. */
struct incident_table *incident_table_new(const struct incident_options *opt, incident_emit_fn emit, void *user);

/* Add one anomalous or suspicious flow (a->score may be below level low).
 * Writes the incident's uid into a->incident_uid. An incident is shown --
 * OPENED emitted -- once its score (docs/scoring.md) reaches level low; a
 * few suspicious flows alone stay silent. After that, UPDATED when its
 * level rises or its flow count reaches a power of two (so a scan of 1000
 * ports gives about ten updates, not a thousand). Closes incidents that have
 * been quiet for the window as of a->last_ts_us first. */
void incident_table_add(struct incident_table *t, struct rec_anomaly *a);

/* Account one scored flow -- every flow, ordinary ones included -- toward
 * the patterns that only show across flows (evidence.h). True when the flow
 * completes or continues one: *ret says which, for incident_table_add_evidence. */
bool incident_table_observe(struct incident_table *t, const struct flow_record *rec,
			    struct evidence_finding *ret);

/* Account one decoded ARP packet toward host discovery by ARP
 * (arp_sweep.h) and ARP spoofing (arp_spoof.h). Returns how many of the
 * two it completes or continues (0..2), described in ret[0..n-1] for
 * incident_table_add_evidence (detect_route_arp). */
unsigned incident_table_observe_arp(struct incident_table *t, const struct dec_packet *p,
				    struct arp_finding ret[2]);

/* Add flow a as part of the pattern ev (from incident_table_observe): it
 * joins the incident of (ev->host, ev->category), a->category becomes the
 * pattern's, and the incident's score is at least level medium at the
 * pattern's minimum, 3 points more per doubling beyond (docs/scoring.md).
 * Events and a->incident_uid as for incident_table_add. */
void incident_table_add_evidence(struct incident_table *t, struct rec_anomaly *a, const struct evidence_finding *ev);

/* Close every incident quiet since before now_us - window (packet time). */
void incident_table_tick(struct incident_table *t, uint64_t now_us);

/* Close every open incident (end of input, shutdown). */
void incident_table_close_all(struct incident_table *t);

/* Counters: incidents opened so far, by level reached (index = rec_level). */
void incident_table_counts(const struct incident_table *t, uint64_t ret_by_level[5]);

/* Level of a score under the thresholds. */
enum rec_level incident_level_of(const double thresholds[5], double score);

void incident_table_free(struct incident_table *t);
