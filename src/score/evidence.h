/* evidence.h - attacks that only show across flows.
 *
 * The model judges one flow at a time, and some attacks are made of flows
 * that are each ordinary: a slow sweep (one empty probe per host), password
 * guessing (each attempt is a normal login session), a random-address flood
 * such as macof (one SYN from a made-up source to a made-up destination).
 * What gives them away is the structure of the set: how many hosts of one
 * subnet were probed on one port without a reply, how many near-identical
 * sessions one client opened to one login service, how many flows in a
 * burst came from sources never seen before to destinations never seen
 * before. This module watches every scored flow (anomalous or not) for
 * those three patterns, counting over the incident (until the pattern has
 * been quiet for the incident window) rather than over a decayed window, so
 * a slow sweep adds up as well as a fast one. docs/scoring.md ("Evidence
 * across flows") gives the rules and why their thresholds are where they
 * are. Fixed memory: set-associative tables, stale entries reused.
 */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "flow/flow_meter.h"
#include "sink/records.h"

/* The fewest flows that make each pattern (see docs/scoring.md). */
#define EVIDENCE_SWEEP_MIN_HOSTS 32     /* silent hosts of one /24 (IPv6: /120) on one port */
#define EVIDENCE_LOGIN_MIN_SESSIONS 20  /* near-identical sessions to one login service */
#define EVIDENCE_LONE_MIN_FLOWS 50      /* unanswered flows between never-seen addresses */

struct evidence_finding {
	const char *category;        /* "sweep", "brute_force" or "flood" */
	const char *role;            /* "attacker" (the initiator) or "network" */
	char host[REC_ADDR_MAX];     /* the initiator, or the network as a prefix ("0.0.0.0/0") */
	uint64_t flows;              /* flows that make up the pattern so far */
	double strength;             /* flows / the pattern's minimum: >= 1 */
	char what[224];              /* what was seen, in words */
};

struct evidence;

/* window_us: a pattern quiet for this long starts again from zero (the
 * incident window). max_keys: sweep and login patterns tracked at once,
 * each (rounded up to a multiple of the set size). NULL when out of memory. */
struct evidence *evidence_new(uint64_t window_us, uint32_t max_keys);

/* Account one scored flow. True when the flow belongs to a pattern that has
 * reached its minimum: *ret describes it (ret is untouched otherwise). */
bool evidence_observe(struct evidence *e, const struct flow_record *rec, struct evidence_finding *ret);

void evidence_free(struct evidence *e);
