/* train.h - what `nad train` is made of: reading flows CSV, robust
 * normalisation, the dense autoencoder and its Adam optimiser, the
 * calibration of reconstruction error into a tail probability, and the
 * whole job put together (train_model_from_csv).
 *
 * The pieces neither log nor know the feature registry: the caller passes
 * feature names and transforms in, and receives errors with enough context
 * (file, line, column) to print one good message. Only the job (job.c)
 * takes the registry's model features and writes progress to a FILE it is
 * given. docs/internals/training.md explains the choices.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "model/nad_meta.h"
#include "model/tfl_writer.h"

/* ---- deterministic random numbers (splitmix64) ------------------------- */

struct train_rng {
	uint64_t state;
};

static inline uint64_t train_rng_next(struct train_rng *r)
{
	uint64_t z = (r->state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in [0, 1) with 53 random bits. */
static inline double train_rng_uniform(struct train_rng *r)
{
	return (double)(train_rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

/* Uniform integer in [0, n), n > 0 (Lemire's multiply-shift; the bias for
 * n far below 2^64 is negligible and, above all, deterministic). */
static inline size_t train_rng_below(struct train_rng *r, size_t n)
{
	return (size_t)(((unsigned __int128)train_rng_next(r) * n) >> 64);
}

/* Fisher-Yates shuffle of idx[0..n). */
void train_shuffle(struct train_rng *r, uint32_t *idx, size_t n);

/* ---- a growable row-major matrix of float features --------------------- */

struct train_data {
	size_t rows, cols, cap_rows;
	float *x;              /* rows * cols, already transformed (log1p ...) */
};

void train_data_init(struct train_data *d, size_t cols);
void train_data_release(struct train_data *d);

/* Put the rows in a random order (in place, so a million rows need no
 * second copy); 0 or -ENOMEM. */
int train_data_shuffle_rows(struct train_data *d, struct train_rng *r);

/* ---- flows CSV input ---------------------------------------------------- */

/* Where and why reading stopped; filled when a reader returns -EINVAL. */
struct train_csv_error {
	char file[256];
	size_t line;           /* 1-based; 0 = not about a line */
	size_t column;         /* 1-based CSV column; 0 = not about a column */
	char field[64];        /* the column's name, if known */
	char what[160];        /* what was expected / found */
};

/* What was seen besides the features: the span of first_ts (when numeric,
 * seconds since the epoch), so the model records the data's dates. */
struct train_csv_info {
	double ts_min, ts_max;
	bool have_ts;
	size_t files;
};

/* Append the rows of one `nad flows` CSV (header line first) to d. The
 * columns named names[0..d->cols) are taken wherever they are in the
 * header and transformed with transforms[]; other columns are ignored.
 * Returns 0; -EINVAL with *err filled for a missing column, a value that is
 * not a finite number, a short row or an over-long line; -ENOMEM; -EIO. */
int train_csv_read(FILE *f, const char *fname, const char *const *names,
		   const enum nad_transform *transforms, struct train_data *d,
		   struct train_csv_info *info, struct train_csv_error *err);

/* ---- robust normalisation ---------------------------------------------- */

/* Smallest scale of a feature whose IQR is 0 (constant in at least half
 * the baseline); see normalise.c. */
#define TRAIN_NORM_MIN_RARE_SCALE 1.0

/* Fit center (median) and scale (IQR / 1.349; when that is 0, MAD * 1.4826
 * or else the standard deviation, but at least TRAIN_NORM_MIN_RARE_SCALE)
 * of every column of d, storing them
 * in meta->features[i].center / .scale. Looks at no more than max_rows rows
 * (evenly spaced) so that a million rows cost no more than 200k.
 * Returns 0 or -ENOMEM. */
int train_norm_fit(const struct train_data *d, size_t max_rows, struct nad_meta *meta);

/* Normalise d in place with meta's parameters, clipping to +-meta->clip. */
void train_norm_apply(const struct nad_meta *meta, struct train_data *d);

/* ---- the autoencoder ---------------------------------------------------- */

#define TRAIN_MAX_LAYERS 8

struct train_ae {
	size_t n_layers;
	uint32_t size[TRAIN_MAX_LAYERS + 1];   /* size[0] = inputs = outputs */
	uint32_t pad[TRAIN_MAX_LAYERS + 1];    /* size rounded up to 8 */
	enum tfl_act act[TRAIN_MAX_LAYERS];
	float *wt[TRAIN_MAX_LAYERS];   /* [pad in][pad out], transposed, zero padded */
	float *w[TRAIN_MAX_LAYERS];    /* [out][in] exact, for export */
	float *b[TRAIN_MAX_LAYERS];    /* [pad out] */
};

/* Layers size[0] -> size[1] -> ... -> size[n_layers] (= size[0] for an
 * autoencoder); ReLU on hidden layers, linear output; weights drawn from
 * He / Glorot uniform with the given seed. Returns 0, -EINVAL, -ENOMEM. */
int train_ae_init(struct train_ae *ae, size_t n_layers, const uint32_t *size, uint64_t seed);
void train_ae_release(struct train_ae *ae);

/* Forward pass over rows x size[0] inputs into out (rows x size[n]). */
int train_ae_forward(const struct train_ae *ae, const float *x, size_t rows, float *out);

/* View the trained network as the writer wants it (pointers into ae). */
void train_ae_net(const struct train_ae *ae, struct tfl_dense_layer *layers, struct tfl_dense_net *ret);

struct train_progress {
	unsigned epoch, epochs;
	double loss, val_loss, best_val_loss;
	double elapsed_s, eta_s;
	size_t samples;
};

struct train_opts {
	uint64_t seed;
	unsigned epochs;           /* upper bound; early stopping may end sooner */
	unsigned batch;
	double lr;
	unsigned patience;         /* epochs without validation gain before stopping */
	void (*progress)(const struct train_progress *p, void *ctx);
	void *ctx;
};

/* Epochs when the user gives none: about TRAIN_SAMPLE_BUDGET samples in
 * all (a million flows get a dozen passes, a few thousand get 100), so
 * training time stays bounded on a Pi; early stopping may end sooner. */
#define TRAIN_SAMPLE_BUDGET 12000000.0
unsigned train_default_epochs(size_t n_train);

struct train_result {
	unsigned epochs_run, best_epoch;
	double loss, val_loss;     /* at the best epoch */
	double seconds;
	size_t samples;            /* samples processed, all epochs */
};

/* Train ae on train_x (n_train rows) with mini-batch Adam on the mean
 * squared reconstruction error, evaluating val_x (n_val rows) after every
 * epoch and keeping the weights of the best one. Same inputs and seed give
 * the same weights bit for bit. Returns 0, -EINVAL or -ENOMEM. */
int train_ae_fit(struct train_ae *ae, const float *train_x, size_t n_train, const float *val_x,
		 size_t n_val, const struct train_opts *opts, struct train_result *ret);

/* ---- calibration -------------------------------------------------------- */

/* Computes one reconstruction (rows x n) of the given normalised rows. */
typedef int (*train_recon_fn)(void *ctx, const float *x, size_t rows, float *ret_out);

/* Fill meta's score calibration from the reconstruction errors of the
 * held-out rows x (rows x meta->n_features, normalised): empirical
 * quantiles, a generalised Pareto tail above the 0.9 quantile, and each
 * feature's mean and 99th percentile squared error. Returns 0, -EINVAL
 * (fewer than 2 rows), -ENOMEM or the recon function's error. */
int train_calibrate(struct nad_meta *meta, const float *x, size_t rows, train_recon_fn recon, void *ctx);

/* Fit a generalised Pareto distribution to exceedances y[0..n) (sorted
 * ascending, all >= 0) by probability-weighted moments; xi is clamped to
 * [0, 0.95]. Exposed for tests. */
void train_fit_gpd(const double *y, size_t n, double *ret_xi, double *ret_sigma);

/* ---- the whole job: flows CSV in, model file out ------------------------- */

#define TRAIN_JOB_MAX_INPUTS 64
/* Fewer baseline rows than this are refused: too few to learn from (the
 * service's learning period waits for at least this many). */
#define TRAIN_MIN_ROWS 50

/* What `nad train` is asked to do; train_job_default() gives its defaults.
 * The same job and data give the same file byte for byte, whoever runs it
 * (the command, `nad run`'s learning period, `nad eval`). */
struct train_job {
	const char *inputs[TRAIN_JOB_MAX_INPUTS]; /* `nad flows` CSV files; "-" is stdin */
	size_t n_inputs;
	const char *out;           /* model to write (replaced atomically) */
	bool int8, per_channel;
	uint64_t seed;
	uint32_t hidden[TRAIN_MAX_LAYERS]; /* hidden layer sizes; n_hidden 0: n/2,n/4,n/2 */
	size_t n_hidden;
	unsigned epochs;           /* 0: train_default_epochs() */
	unsigned batch, patience;
	double lr, val_frac;
	FILE *log;                 /* progress and a summary go here; NULL: quiet */
};

void train_job_default(struct train_job *job);

/* Read the inputs, normalise the registry's model features, train,
 * calibrate, and write job->out atomically. Returns 0; -EINVAL when the
 * input is at fault (cannot be opened, malformed, too few rows); another
 * negative errno (-EDOM: training refused) when reading, training or
 * writing fails. On failure err holds one line naming what failed (file,
 * line, column where known). */
int train_model_from_csv(const struct train_job *job, char *err, size_t errlen);
