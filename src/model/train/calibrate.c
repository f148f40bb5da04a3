/* calibrate.c - turn held-out reconstruction errors into a tail probability.
 *
 * The score of a flow is how unusual its reconstruction error is among
 * baseline flows the network never trained on. Below the 0.9 quantile the
 * empirical distribution itself answers (stored as quantiles, interpolated
 * linearly). Above it there are few points and the interesting errors lie
 * beyond the largest one seen, so a generalised Pareto distribution (the
 * limit law of exceedances over a high threshold, Pickands-Balkema-de Haan)
 * is fitted to error - u by probability-weighted moments (Hosking & Wallis
 * 1987): closed form, no iterations, stable for small samples. The shape xi
 * is clamped to [0, 0.95]: a negative xi would bound the tail and call
 * every error beyond the largest seen impossible, which is the one thing an
 * anomaly detector must not conclude from a small sample.
 */
#include "model/train/train.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The stored grid of probabilities: dense enough for interpolation in the
 * body, and the usual alerting levels in the tail. */
static const double quantile_grid[] = {
	0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7,
	0.75, 0.8, 0.85, 0.9, 0.95, 0.975, 0.99, 0.995, 0.999, 1.0,
};
#define TAIL_P 0.9
#define TAIL_FRACTION 0.1   /* 1 - TAIL_P, written exactly */
#define MIN_EXCEEDANCES 5

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double quantile_sorted(const double *v, size_t n, double p)
{
	double h = p * (double)(n - 1);
	size_t lo = (size_t)h;

	if (lo + 1 >= n)
		return v[n - 1];
	return v[lo] + (h - (double)lo) * (v[lo + 1] - v[lo]);
}

void train_fit_gpd(const double *y, size_t n, double *ret_xi, double *ret_sigma)
{
	double a0 = 0.0, a1 = 0.0, xi, sigma;

	if (n < 2) {
		*ret_xi = 0.0;
		*ret_sigma = n ? y[0] : 0.0;
		return;
	}
	/* a_s = E[Y (1 - F(Y))^s], estimated from the order statistics */
	for (size_t j = 0; j < n; j++) {
		a0 += y[j];
		a1 += y[j] * (double)(n - 1 - j) / (double)(n - 1);
	}
	a0 /= (double)n;
	a1 /= (double)n;
	if (a0 - 2.0 * a1 <= 0.0) {
		xi = 0.95;
	} else {
		/* Hosking & Wallis' k is -xi */
		xi = -(a0 / (a0 - 2.0 * a1) - 2.0);
	}
	if (xi < 0.0 || !isfinite(xi))
		xi = 0.0;
	if (xi > 0.95)
		xi = 0.95;
	/* with xi fixed, the mean exceedance sigma / (1 - xi) gives sigma */
	sigma = a0 * (1.0 - xi);
	*ret_xi = xi;
	*ret_sigma = sigma > 0.0 ? sigma : 0.0;
}

static int fill_feature_errors(struct nad_meta *meta, const float *x, const float *y, size_t rows,
			       double *scratch)
{
	size_t n = meta->n_features;

	for (size_t c = 0; c < n; c++) {
		double sum = 0.0;

		for (size_t r = 0; r < rows; r++) {
			double d = (double)x[r * n + c] - y[r * n + c];

			scratch[r] = d * d;
			sum += scratch[r];
		}
		qsort(scratch, rows, sizeof *scratch, cmp_double);
		meta->features[c].err_mean = sum / (double)rows;
		meta->features[c].err_p99 = quantile_sorted(scratch, rows, 0.99);
	}
	return 0;
}

int train_calibrate(struct nad_meta *meta, const float *x, size_t rows, train_recon_fn recon, void *ctx)
{
	size_t n = meta->n_features, ng = sizeof quantile_grid / sizeof quantile_grid[0];
	float *y = NULL;
	double *err = NULL, *scratch = NULL, u;
	size_t first_tail, nex;
	int r;

	if (rows < 2 || !n)
		return -EINVAL;
	if (meta->n_quantiles != ng) {
		struct nad_meta_quantile *q = realloc(meta->quantiles, ng * sizeof *q);

		if (!q)
			return -ENOMEM;
		meta->quantiles = q;
		meta->n_quantiles = ng;
	}
	y = malloc(rows * n * sizeof *y);
	err = malloc(rows * sizeof *err);
	scratch = malloc(rows * sizeof *scratch);
	if (!y || !err || !scratch) {
		r = -ENOMEM;
		goto out;
	}
	r = recon(ctx, x, rows, y);
	if (r < 0)
		goto out;
	/* Per-input errors first: nad_meta_error weighs each input by them. */
	fill_feature_errors(meta, x, y, rows, scratch);
	for (size_t i = 0; i < rows; i++)
		err[i] = nad_meta_error(meta, x + i * n, y + i * n);
	qsort(err, rows, sizeof *err, cmp_double);
	for (size_t g = 0; g < ng; g++) {
		meta->quantiles[g].p = quantile_grid[g];
		meta->quantiles[g].value = quantile_sorted(err, rows, quantile_grid[g]);
	}
	u = quantile_sorted(err, rows, TAIL_P);
	for (first_tail = 0; first_tail < rows && err[first_tail] <= u; first_tail++)
		;
	nex = rows - first_tail;
	meta->tail_threshold = u;
	meta->tail_fraction = TAIL_FRACTION;
	if (nex >= MIN_EXCEEDANCES) {
		for (size_t i = 0; i < nex; i++)
			scratch[i] = err[first_tail + i] - u;
		train_fit_gpd(scratch, nex, &meta->gpd_xi, &meta->gpd_sigma);
	} else {
		/* too few points for a shape: an exponential tail with the
		 * spread of the body */
		meta->gpd_xi = 0.0;
		meta->gpd_sigma = u - err[0] > 0.0 ? (u - err[0]) / 2.0 : (u > 0.0 ? u : 1e-6);
	}
	if (meta->gpd_sigma <= 0.0)
		meta->gpd_sigma = u > 0.0 ? u * 1e-3 : 1e-9;
	meta->train.rows_calib = rows;
	r = 0;
out:
	free(y);
	free(err);
	free(scratch);
	return r;
}
