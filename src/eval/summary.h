/* summary.h - from scored flows and labels to the numbers `nad eval`
 * reports: which flows are attack flows, whether and when each labelled
 * attack raised an incident, and which incidents are false alarms.
 * docs/eval.md defines each number.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "eval/collect.h"
#include "eval/labels.h"

/* Does label row l describe this capture (its file column is the
 * capture's base name)? */
bool eval_label_is_for(const struct eval_label *l, const char *capture_path);

/* Set every flow's label to the first row for this capture that matches it
 * (labels.h), or -1. Returns the number of attack flows. */
size_t eval_label_flows(struct eval_capture *c, const struct eval_labels *L);

struct eval_attack {
	uint64_t flows;            /* flows the row labels */
	uint64_t suspicious;       /* of them, flows that joined an incident */
	uint64_t anomalous;        /* of them, at level low or above */
	double max_score;
	uint64_t first_us;         /* first packet of its first flow */
	uint8_t level;             /* highest level of an incident holding one of its flows */
	uint64_t detect_us[5];     /* when an incident holding its flows first stood at each
				      level with one of them in it; EVAL_NO_TIME if never */
};

/* The outcome of label row `row` on capture c (after eval_label_flows). */
void eval_attack_outcome(const struct eval_capture *c, size_t row, struct eval_attack *ret);

/* Incidents of c at level >= level that are false alarms: none of their
 * flows is an attack flow and their host is not named (attack or victim
 * column, as an address or prefix) by a row for this capture. */
uint64_t eval_false_incidents(const struct eval_capture *c, const struct eval_labels *L, int level);

/* Seconds from the first to the last packet. */
double eval_capture_seconds(const struct eval_capture *c);
