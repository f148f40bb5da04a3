/* score.h - from finished flows to scored flows: model, score, level,
 * category and explanation.
 *
 * Flows are batched through the model (the interpreter runs N vectors per
 * call). For each flow: features -> nad_meta_normalise -> model ->
 * reconstruction error -> tail probability P(error >= e) under the
 * calibration stored in the model -> score = 100 * -log10(p) / 6 (so p =
 * 1e-3 scores 50 and p <= 1e-6 scores 100) -> level by thresholds. Flows at
 * level low or above are anomalies: they get a category (category.h) and an
 * explanation naming the features whose reconstruction is worst relative to
 * the baseline, with their value and the baseline's typical range.
 * docs/scoring.md documents all of it.
 */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "flow/flow_meter.h"
#include "sink/records.h"

#define SCORE_BATCH_DEFAULT 256

/* A flow below level low but at p <= 1e-2 is "suspicious": not an anomaly
 * on its own, but it joins (and counts toward) its host's incident, so a
 * host that sends hundreds of individually borderline flows -- a brute
 * force, a slow sweep -- adds up to an incident (docs/scoring.md). */
#define SCORE_SUSPICIOUS_DEFAULT (100.0 / 3.0)

struct score_options {
	double thresholds[5];     /* index 1..4: score at which levels low..critical start;
				     index 0: score at which a flow is suspicious */
	unsigned batch;           /* flows per model call, 1..4096 */
	uint64_t fanin_window_us; /* how long a victim's anomalous sources are remembered */
};

void score_options_default(struct score_options *ret);

struct scored_flow {
	double error;             /* mean squared reconstruction error, normalised units */
	double tail_prob;
	double score;             /* 0..100 */
	enum rec_level level;
	const char *category;     /* NULL for a flow neither anomalous nor suspicious */
	unsigned fan_in;          /* distinct anomalous sources seen at the responder */
	struct rec_contrib top[REC_TOP_FEATURES];
	uint8_t ntop;
	char explanation[512];
};

/* Called once per flow, in the order flows were added; both pointers are
 * valid only during the call. A flow with a category belongs in an
 * incident (incident_table_add); only one at level low or above is an
 * anomaly to report on its own. */
typedef void (*score_fn)(const struct flow_record *rec, const struct scored_flow *s, void *user);

struct scorer;

/* Load MODEL (a .tflite with nad metadata; bad or hostile files are refused
 * with a message in err naming the file). 0, -EINVAL, -ENOENT or -ENOMEM. */
int scorer_new(const char *model_path, const struct score_options *opt, score_fn cb, void *user,
	       struct scorer **ret, char *err, size_t errlen);

/* Queue a flow; scores the batch when it is full. */
void scorer_add(struct scorer *s, const struct flow_record *rec);

/* Score whatever is queued. */
void scorer_flush(struct scorer *s);

/* The model's metadata (feature names, calibration, training facts). */
const struct nad_meta *scorer_meta(const struct scorer *s);

/* Fill a sink record from a scored anomaly (identity, score, explanation, features). */
void score_fill_anomaly(const struct flow_record *rec, const struct scored_flow *s, struct rec_anomaly *ret);

void scorer_free(struct scorer *s);
