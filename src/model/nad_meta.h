/* nad_meta.h - nad's own description of a model, stored in the .tflite.
 *
 * A model written by `nad train` carries, in Model.metadata under the name
 * "nad", one JSON document (UTF-8, no terminator) that says how to feed the
 * model and how to read its answer:
 *
 *   - the input features by name, in input order, each with its transform
 *     (log1p or linear) and robust normalisation (median, IQR-based scale):
 *       model_input[i] = clip((transform(x) - center) / scale, +-clip)
 *   - the score: reconstruction error = mean over inputs of the squared
 *     difference in normalised units, each divided by that input's mean
 *     squared error on held-out baseline rows (floored); its distribution on held-out baseline
 *     rows as empirical quantiles plus a generalised Pareto tail, so any
 *     error maps to P(error >= e); per-feature error statistics for
 *     explanations;
 *   - how it was trained (seed, epochs, rows, layers, data dates, version).
 *
 * docs/internals/training.md gives the full schema with an example.
 * Parsing is strict: unknown format versions and missing fields are errors.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Name of the Model.metadata entry that holds the JSON document. */
#define NAD_META_NAME "nad"
#define NAD_META_FORMAT "nad-model"
/* Version 2 changed how the reconstruction error is aggregated (see
 * enum nad_error); version 1 models still load and keep their mean. */
#define NAD_META_FORMAT_VERSION 2
#define NAD_META_FORMAT_VERSION_MIN 1

enum nad_transform {
	NAD_TRANSFORM_LINEAR = 0,
	NAD_TRANSFORM_LOG1P = 1,   /* sign(x) * log(1 + |x|) */
};

/* How per-input relative squared errors r_i become one error. */
enum nad_error {
	NAD_ERROR_MEAN = 0,        /* mean r_i (format_version 1) */
	NAD_ERROR_CUBIC_MEAN = 1,  /* (mean r_i^3)^(1/3) (format_version 2) */
};

struct nad_meta_feature {
	char *name;
	enum nad_transform transform;
	double center, scale;      /* after transform; scale > 0 */
	double err_mean;           /* mean squared error on held-out rows */
	double err_p99;            /* its 99th percentile */
	/* Where the middle 80% of baseline rows lie (10th and 90th
	 * percentiles, after the transform): the "typical" range that
	 * explanations print. Models trained before it was stored lack it: then
	 * has_typical is false and center +- scale stands in. */
	bool has_typical;
	double typical_lo, typical_hi;
};

struct nad_meta_quantile {
	double p, value;           /* P(error <= value) = p on held-out rows */
};

struct nad_meta_train {
	uint64_t seed;
	unsigned epochs_max, epochs_run, best_epoch, batch;
	double lr;
	size_t rows_train, rows_val, rows_calib;
	double loss, val_loss;
	size_t n_layers;           /* dense layers; sizes has n_layers + 1 entries */
	uint32_t sizes[9];
	char *data_first;          /* ISO 8601 UTC of the earliest/latest flow, or NULL */
	char *data_last;
	char *nad_version;
	bool int8;
	bool per_channel;
};

struct nad_meta {
	int format_version;
	size_t n_features;
	struct nad_meta_feature *features;
	double clip;

	/* score calibration */
	enum nad_error error_kind;
	size_t n_quantiles;        /* sorted by p, first p = 0, last p = 1 */
	struct nad_meta_quantile *quantiles;
	double tail_threshold;     /* u: the tail model applies at and above it */
	double tail_fraction;      /* P(error > u) on held-out rows */
	double gpd_xi, gpd_sigma;  /* generalised Pareto fit of error - u */

	struct nad_meta_train train;

	/* optional binding of inputs to the caller's value array (see
	 * nad_meta_bind); NULL means values arrive in model order */
	int *src_index;
};

/* Allocate features (names NULL, scale 1) and quantile slots; 0 or -ENOMEM. */
int nad_meta_init(struct nad_meta *m, size_t n_features, size_t n_quantiles);
void nad_meta_release(struct nad_meta *m);
void nad_meta_free(struct nad_meta *m);

/* Serialise to JSON; the caller owns *ret_json (free()). Returns 0,
 * -EINVAL (incomplete meta), -ENOMEM or -ENOTSUP (built without jansson). */
int nad_meta_to_json(const struct nad_meta *m, char **ret_json, size_t *ret_len);

/* Parse a JSON document of len bytes; on success the caller owns *ret
 * (nad_meta_free). On -EINVAL, err (if not NULL, errlen bytes) says which
 * field is missing or wrong. -ENOTSUP without jansson. */
int nad_meta_parse(const char *json, size_t len, struct nad_meta **ret, char *err, size_t errlen);

/* Map each model input to names[] (e.g. the feature registry's names):
 * afterwards nad_meta_normalise reads values[position of the name].
 * Returns 0, -ENOENT naming the first missing feature in *ret_missing, or
 * -ENOMEM. */
int nad_meta_bind(struct nad_meta *m, const char *const *names, size_t n, const char **ret_missing);

/* The transform alone (shared by training and detection). */
double nad_meta_transform(enum nad_transform t, double x);

/* Raw feature values -> the model's input vector (n_features floats).
 * values is in model order, or in the bound order after nad_meta_bind. A
 * non-finite value is treated as the feature's center (input 0). */
void nad_meta_normalise(const struct nad_meta *m, const double *values, float *ret_model_input);

/* Smallest per-input baseline error nad_meta_error divides by. */
#define NAD_META_ERR_FLOOR 0.05

/* Reconstruction error as calibrated. With r_i = (in_i - out_i)^2 /
 * max(err_mean_i, NAD_META_ERR_FLOOR), each input's squared error relative
 * to its typical error on held-out baseline flows: the cubic mean
 * (mean r_i^3)^(1/3) (error_kind NAD_ERROR_CUBIC_MEAN, what nad train
 * writes) or the plain mean of r_i (older models). */
double nad_meta_error(const struct nad_meta *m, const float *in, const float *out);

/* P(error >= e) under the held-out error distribution: interpolated
 * empirical quantiles below the tail threshold, the Pareto tail above it.
 * Non-increasing in e, 1 for e at or below the smallest error seen. */
double nad_meta_tail_probability(const struct nad_meta *m, double e);
