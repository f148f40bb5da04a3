/* features.h - the feature registry: the single source of truth for what
 * nad measures about a flow.
 *
 * The table (features/registry.c) gives each feature its name, unit and
 * description. The CSV header and JSONL keys of `nad flows`,
 * docs/features.md, the input order of a model trained by `nad train`, and
 * the words in an anomaly's explanation all come from it; nothing else
 * lists features.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>

/* How `nad train` should bring a feature to a common scale before
 * normalising: counts, byte totals, rates and durations are heavy-tailed
 * and are log1p-transformed; ratios, classes and small codes stay linear. */
enum feat_scale {
	FEAT_SCALE_LINEAR = 0,
	FEAT_SCALE_LOG1P = 1,
};

struct feat_def {
	const char *name;         /* CSV column / JSON key, snake_case, unique */
	const char *unit;         /* "packets", "bytes", "s", "bytes/s", "ratio", "bits", "class", ... */
	const char *description;  /* one sentence a person understands; used in explanations */
	enum feat_scale scale;
	bool model_input;         /* part of the model's input vector */
};

extern const struct feat_def feat_registry[];
extern const size_t feat_count;

/* Index of a feature by name, or -1. */
int feat_index(const char *name);

/* Number of features with model_input set, and the registry index of the
 * i-th of them (the model's input order). */
size_t feat_model_count(void);
int feat_model_index(size_t i);
