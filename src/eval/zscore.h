/* zscore.h - the simplest baseline: how many standard deviations a flow's
 * most unusual feature is from the training flows' mean.
 *
 * Fitted on the training flows' feature vectors (the model's inputs after
 * its log1p/linear transforms, before its own normalisation); a flow's
 * score is max over features of |x - mean| / sd. A feature that never
 * varied in training gets sd = EVAL_ZSCORE_SD_FLOOR, so any change in it
 * still scores high but finitely.
 */
#pragma once
#include <stddef.h>

#define EVAL_ZSCORE_SD_FLOOR 0.01

struct eval_zscore {
	size_t n_feat;
	double *mean, *sd;
};

/* Fit on rows x n_feat values (row-major). 0, -EINVAL (no rows) or -ENOMEM. */
int eval_zscore_fit(const float *x, size_t rows, size_t n_feat, struct eval_zscore *ret);

/* Score one row of n_feat values. */
double eval_zscore_score(const struct eval_zscore *z, const float *row);

void eval_zscore_release(struct eval_zscore *z);
