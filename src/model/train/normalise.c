/* normalise.c - robust per-feature centering and scaling.
 *
 * Flow features are heavy-tailed even after log1p, and a baseline always
 * holds some odd flows: a mean and standard deviation would be dragged by
 * them. The median and the interquartile range are not. IQR / 1.349 equals
 * the standard deviation for normal data, so normalised values read like
 * z-scores. Many features (flag counts, DNS fields) are constant for most
 * flows, making the IQR zero: then the MAD, then the standard deviation
 * take over, and for such a feature the scale is at least
 * TRAIN_NORM_MIN_RARE_SCALE (one unit of the transformed value: a boolean
 * flipping, a count growing 2.7-fold). Without that floor a trait seen in 1
 * flow of 500 gets a scale of 0.04, so the next flow with it sits at the
 * clip, 10 "standard deviations" out, however ordinary it is: on the shared
 * benign captures, each held out of training in turn, that made 14 of 18
 * false incidents (a P2P client's dynamic ports, one capture's IPv6).
 */
#include "model/train/train.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>

static int cmp_float(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;

	return (x > y) - (x < y);
}

/* Quantile of sorted v[0..n) with linear interpolation. */
static double sorted_quantile(const float *v, size_t n, double p)
{
	double h = p * (double)(n - 1);
	size_t lo = (size_t)h;

	if (lo + 1 >= n)
		return v[n - 1];
	return v[lo] + (h - (double)lo) * ((double)v[lo + 1] - v[lo]);
}

int train_norm_fit(const struct train_data *d, size_t max_rows, struct nad_meta *meta)
{
	size_t n = d->rows < max_rows ? d->rows : max_rows;
	float *v = malloc((n ? n : 1) * sizeof *v);

	if (!v)
		return -ENOMEM;
	for (size_t c = 0; c < d->cols && n; c++) {
		struct nad_meta_feature *f = &meta->features[c];
		double med, scale, mean = 0.0, var = 0.0;
		bool rare;

		/* evenly spaced rows: deterministic, and CSVs are time ordered,
		 * so the sample spans the whole period */
		for (size_t i = 0; i < n; i++) {
			v[i] = d->x[(i * d->rows / n) * d->cols + c];
			mean += v[i];
		}
		mean /= (double)n;
		for (size_t i = 0; i < n; i++)
			var += ((double)v[i] - mean) * ((double)v[i] - mean);
		qsort(v, n, sizeof *v, cmp_float);
		f->typical_lo = sorted_quantile(v, n, 0.10);
		f->typical_hi = sorted_quantile(v, n, 0.90);
		f->has_typical = true;
		med = sorted_quantile(v, n, 0.5);
		scale = (sorted_quantile(v, n, 0.75) - sorted_quantile(v, n, 0.25)) / 1.349;
		rare = !(scale > 1e-9);
		if (rare) {
			for (size_t i = 0; i < n; i++)
				v[i] = fabsf(v[i] - (float)med);
			qsort(v, n, sizeof *v, cmp_float);
			scale = sorted_quantile(v, n, 0.5) * 1.4826;
		}
		if (!(scale > 1e-9))
			scale = n > 1 ? sqrt(var / (double)(n - 1)) : 0.0;
		if (rare && !(scale >= TRAIN_NORM_MIN_RARE_SCALE))
			scale = TRAIN_NORM_MIN_RARE_SCALE;
		f->center = med;
		f->scale = scale;
	}
	free(v);
	return 0;
}

void train_norm_apply(const struct nad_meta *meta, struct train_data *d)
{
	for (size_t c = 0; c < d->cols; c++) {
		double center = meta->features[c].center, scale = meta->features[c].scale;

		for (size_t r = 0; r < d->rows; r++) {
			float *x = &d->x[r * d->cols + c];
			double z = ((double)*x - center) / scale;

			*x = (float)(z > meta->clip ? meta->clip : z < -meta->clip ? -meta->clip : z);
		}
	}
}
