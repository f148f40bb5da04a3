/* detect_route.c - which scored flows join incidents (detect_route.h). */
#include "score/detect_route.h"

#include <stdio.h>
#include <string.h>

enum detect_route detect_route_flow(struct incident_table *t, const struct flow_record *rec,
				    const struct scored_flow *s, struct rec_anomaly *ret)
{
	struct evidence_finding ev;
	bool pattern = incident_table_observe(t, rec, &ev);

	if (!s->category && !pattern)
		return DETECT_ROUTE_NONE;
	score_fill_anomaly(rec, s, ret);
	/* a pattern across flows says more than the flow's own category */
	if (pattern)
		incident_table_add_evidence(t, ret, &ev);
	else
		incident_table_add(t, ret);
	return s->level == REC_LEVEL_NONE ? DETECT_ROUTE_SUSPICIOUS : DETECT_ROUTE_ANOMALY;
}

bool detect_route_arp(struct incident_table *t, const struct dec_packet *p)
{
	struct arp_finding f[2];
	struct rec_anomaly a;
	unsigned n = incident_table_observe_arp(t, p, f);

	for (unsigned i = 0; i < n; i++) {
		/* the packet as the incident's member: from the host, about target */
		memset(&a, 0, sizeof a);
		a.first_ts_us = f[i].first_us;
		a.last_ts_us = p->ts_us;
		snprintf(a.src, sizeof a.src, "%s", f[i].ev.host);
		snprintf(a.dst, sizeof a.dst, "%s", f[i].target);
		a.vlan = p->vlan;
		a.packets_fwd = 1;
		snprintf(a.end_reason, sizeof a.end_reason, "arp");
		snprintf(a.explanation, sizeof a.explanation,
			 "ARP makes no IP flow, so the model never scores it; the pattern of ARP packets is the "
			 "evidence");
		incident_table_add_evidence(t, &a, &f[i].ev);
	}
	return n > 0;
}
