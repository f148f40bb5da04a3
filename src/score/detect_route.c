/* detect_route.c - which scored flows join incidents (detect_route.h). */
#include "score/detect_route.h"

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
