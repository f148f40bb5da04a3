/* collect.h - run the detector on one capture and keep what evaluation
 * needs: every flow with its score, the incident it joined and (optionally)
 * its model features, and every incident with the time it first reached
 * each level.
 *
 * The path is `nad detect`'s: capture -> flow meter -> scorer (batches of
 * score_options.batch) -> incident table, through the same rule
 * (detect_route_flow, score/detect_route.h). Time is packet time: a flow's
 * emit time is the timestamp of the packet during which the flow meter
 * released it (its idle timeout, a FIN, or the end of the capture), which is
 * when the service could first score it.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "score/incident.h"
#include "score/score.h"
#include "sink/records.h"

#define EVAL_NO_TIME UINT64_MAX

struct eval_flow {
	uint64_t first_us, last_us, emit_us;
	uint8_t family, proto;
	uint8_t src[16], dst[16];  /* initiator, responder */
	uint16_t sport, dport;
	double score, error;
	uint8_t level;             /* enum rec_level */
	int32_t incident;          /* index in eval_capture.inc, or -1 */
	int32_t label;             /* set by the caller: label row, or -1 for benign */
};

struct eval_incident {
	char uid[40];
	char host[REC_ADDR_MAX];
	char category[20];
	uint8_t level;             /* highest reached; NONE while it never showed */
	double score;
	uint64_t flows;            /* flows that joined it */
	uint64_t first_us, last_us;
	uint64_t reached_us[5];    /* emit time of the flow that first lifted it to each level */
};

struct eval_capture {
	char *path;
	uint64_t packets;
	uint64_t first_pkt_us, last_pkt_us;
	size_t n, cap;
	struct eval_flow *flow;
	size_t n_feat;             /* features kept per flow (0 = none) */
	char **feat_name;          /* their names, the model's input order */
	float *feat;               /* n x n_feat, transformed as the model's inputs */
	size_t n_inc, cap_inc;
	struct eval_incident *inc;
};

struct eval_run_options {
	struct score_options score;
	struct incident_options incident;
	uint32_t max_flows;        /* flow table size; 0 = default */
	bool keep_features;        /* fill feat with the model's input features */
	size_t max_records;        /* refuse captures with more flow records than this */
};

void eval_run_options_default(struct eval_run_options *ret);

/* Score capture path with model. 0; -EINVAL/-ENOENT with err naming the
 * model or the capture; -E2BIG (more than max_records flows); -ENOMEM. The
 * caller owns ret (eval_capture_release) on success. */
int eval_capture_run(const char *path, const char *model, const struct eval_run_options *opt,
		     struct eval_capture *ret, char *err, size_t errlen);

void eval_capture_release(struct eval_capture *c);
