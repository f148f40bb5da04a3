/* detect_route.h - which scored flows join incidents: one rule for `nad
 * detect`, `nad eval` and the service, so that what is measured is what runs.
 *
 * A flow with a category joins its host's incident: an anomaly (level low or
 * above) and a suspicious flow (p <= 1e-2, below low) alike; the suspicious
 * one only counts toward the incident, which stays hidden until its own
 * score reaches low (docs/scoring.md, Incidents). Every flow, ordinary ones
 * included, is also counted toward the patterns only a set of flows shows
 * (evidence.h); a flow that belongs to one past its minimum joins the
 * pattern's incident, with or without a category of its own. Any other
 * flow without a category joins nothing. ARP packets, which make no flow,
 * go to detect_route_arp().
 */
#pragma once
#include "flow/flow_meter.h"
#include "score/incident.h"
#include "score/score.h"
#include "sink/records.h"

enum detect_route {
	DETECT_ROUTE_NONE,        /* ordinary flow: no incident */
	DETECT_ROUTE_SUSPICIOUS,  /* joined an incident, not reported on its own */
	DETECT_ROUTE_ANOMALY,     /* joined an incident and is an anomaly to report */
};

/* Route one scored flow into the incident table t. For SUSPICIOUS and
 * ANOMALY, ret holds the flow's anomaly record with the uid of the incident
 * it joined (ret->incident_uid); for NONE ret is untouched. */
enum detect_route detect_route_flow(struct incident_table *t, const struct flow_record *rec,
				    const struct scored_flow *s, struct rec_anomaly *ret);

/* Account one decoded ARP packet toward host discovery by ARP
 * (arp_sweep.h) and ARP spoofing (arp_spoof.h); a packet of a pattern past
 * its minimum joins the pattern's incident (the sender's sweep, the
 * spoofer's arp_spoof). ARP is not scored by the model, so no anomaly is
 * reported for it. True when it joined an incident. */
bool detect_route_arp(struct incident_table *t, const struct dec_packet *p);
