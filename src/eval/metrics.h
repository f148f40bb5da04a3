/* metrics.h - how well a score separates attack flows from benign ones.
 *
 * Every function sees the same thing: n scores (higher = more anomalous)
 * and, for each, whether the flow is an attack. Flows with equal scores are
 * one threshold step: the ROC curve moves diagonally across a tie, which
 * makes ROC-AUC the Mann-Whitney statistic with average ranks (a tie
 * between an attack and a benign flow counts one half). NaN scores rank
 * below every number. docs/eval.md gives the definitions with examples.
 */
#pragma once
#include <stddef.h>
#include <stdint.h>

/* One point of the ROC / precision-recall curve: the flows scoring at or
 * above threshold are flagged. */
struct eval_point {
	double threshold;
	uint64_t tp, fp;           /* attack / benign flows flagged */
};

struct eval_curve {
	uint64_t pos, neg;         /* attack and benign flows */
	size_t n;                  /* points, one per distinct score, highest first */
	struct eval_point *pt;
};

/* Build the curve; 0, -EINVAL (n and no arrays) or -ENOMEM. The caller
 * owns ret (eval_curve_release). */
int eval_curve_build(const double *score, const uint8_t *attack, size_t n, struct eval_curve *ret);
void eval_curve_release(struct eval_curve *c);

/* Area under the ROC curve (trapezoids, so ties count one half); NaN when
 * there are no attack or no benign flows. */
double eval_roc_auc(const struct eval_curve *c);

/* Area under the precision-recall curve as average precision: the sum over
 * thresholds of (recall gained) x (precision there), the definition of
 * scikit-learn's average_precision_score; NaN without attack flows. */
double eval_pr_auc(const struct eval_curve *c);

/* Highest true-positive rate at a threshold whose false-positive rate is at
 * most max_fpr (flagging nothing is such a threshold: TPR 0). NaN when
 * there are no attack or no benign flows. */
double eval_tpr_at_fpr(const struct eval_curve *c, double max_fpr);

/* The usual three at once. */
struct eval_metrics {
	uint64_t pos, neg;
	double roc_auc, pr_auc;
	double tpr_at_fpr_0_1pct, tpr_at_fpr_1pct;
};

/* 0, -EINVAL or -ENOMEM. */
int eval_metrics_compute(const double *score, const uint8_t *attack, size_t n, struct eval_metrics *ret);
