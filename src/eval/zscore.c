/* zscore.c - per-feature z-score threshold baseline (zscore.h). */
#include "eval/zscore.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int eval_zscore_fit(const float *x, size_t rows, size_t n_feat, struct eval_zscore *ret)
{
	struct eval_zscore z = { .n_feat = n_feat };

	if (!rows || !n_feat)
		return -EINVAL;
	z.mean = calloc(n_feat, sizeof *z.mean);
	z.sd = calloc(n_feat, sizeof *z.sd);
	if (!z.mean || !z.sd) {
		eval_zscore_release(&z);
		return -ENOMEM;
	}
	/* Two passes: the mean first, then squared deviations from it, which
	 * stays accurate where the one-pass sum of squares would cancel. */
	for (size_t r = 0; r < rows; r++)
		for (size_t i = 0; i < n_feat; i++)
			z.mean[i] += x[r * n_feat + i];
	for (size_t i = 0; i < n_feat; i++)
		z.mean[i] /= (double)rows;
	for (size_t r = 0; r < rows; r++)
		for (size_t i = 0; i < n_feat; i++) {
			double d = x[r * n_feat + i] - z.mean[i];
			z.sd[i] += d * d;
		}
	for (size_t i = 0; i < n_feat; i++) {
		z.sd[i] = sqrt(z.sd[i] / (double)rows);
		if (!(z.sd[i] >= EVAL_ZSCORE_SD_FLOOR))
			z.sd[i] = EVAL_ZSCORE_SD_FLOOR;
	}
	*ret = z;
	return 0;
}

double eval_zscore_score(const struct eval_zscore *z, const float *row)
{
	double best = 0;

	for (size_t i = 0; i < z->n_feat; i++) {
		double v = fabs(row[i] - z->mean[i]) / z->sd[i];
		if (v > best)
			best = v;
	}
	return best;
}

void eval_zscore_release(struct eval_zscore *z)
{
	free(z->mean);
	free(z->sd);
	memset(z, 0, sizeof *z);
}
