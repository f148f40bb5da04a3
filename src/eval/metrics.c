/* metrics.c - ROC-AUC, average precision and TPR at a fixed FPR over tied scores. */
#include "eval/metrics.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct pair {
	double score;
	uint8_t attack;
};

/* Highest score first; NaN sorts after every number (and equal to NaN). */
static int cmp_desc(const void *a, const void *b)
{
	double x = ((const struct pair *)a)->score, y = ((const struct pair *)b)->score;

	if (isnan(x) || isnan(y))
		return isnan(x) - isnan(y);
	return (x < y) - (x > y);
}

static int same_score(double x, double y)
{
	return x == y || (isnan(x) && isnan(y));
}

int eval_curve_build(const double *score, const uint8_t *attack, size_t n, struct eval_curve *ret)
{
	struct pair *p;
	struct eval_curve c = { 0 };

	if (n && (!score || !attack))
		return -EINVAL;
	p = malloc((n ? n : 1) * sizeof *p);
	c.pt = malloc((n ? n : 1) * sizeof *c.pt);
	if (!p || !c.pt) {
		free(p);
		free(c.pt);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		p[i].score = score[i];
		p[i].attack = attack[i] ? 1 : 0;
	}
	qsort(p, n, sizeof *p, cmp_desc);
	/* One point at the end of every run of equal scores. */
	for (size_t i = 0; i < n; i++) {
		if (p[i].attack)
			c.pos++;
		else
			c.neg++;
		if (i + 1 == n || !same_score(p[i].score, p[i + 1].score)) {
			c.pt[c.n].threshold = p[i].score;
			c.pt[c.n].tp = c.pos;
			c.pt[c.n].fp = c.neg;
			c.n++;
		}
	}
	free(p);
	*ret = c;
	return 0;
}

void eval_curve_release(struct eval_curve *c)
{
	free(c->pt);
	memset(c, 0, sizeof *c);
}

double eval_roc_auc(const struct eval_curve *c)
{
	double area = 0; /* in units of (attack flows x benign flows) */
	uint64_t tp = 0, fp = 0;

	if (!c->pos || !c->neg)
		return NAN;
	for (size_t i = 0; i < c->n; i++) {
		/* trapezoid between the previous point and this one */
		area += (double)(c->pt[i].fp - fp) * ((double)tp + (double)(c->pt[i].tp - tp) / 2.0);
		tp = c->pt[i].tp;
		fp = c->pt[i].fp;
	}
	return area / ((double)c->pos * (double)c->neg);
}

double eval_pr_auc(const struct eval_curve *c)
{
	double ap = 0;
	uint64_t tp = 0;

	if (!c->pos)
		return NAN;
	for (size_t i = 0; i < c->n; i++) {
		const struct eval_point *q = &c->pt[i];

		if (q->tp > tp)
			ap += (double)(q->tp - tp) / (double)c->pos * (double)q->tp / (double)(q->tp + q->fp);
		tp = q->tp;
	}
	return ap;
}

double eval_tpr_at_fpr(const struct eval_curve *c, double max_fpr)
{
	uint64_t best = 0;

	if (!c->pos || !c->neg)
		return NAN;
	for (size_t i = 0; i < c->n; i++) {
		/* compare in counts so that 1 % of 100 benign flows allows exactly 1 */
		if ((double)c->pt[i].fp > max_fpr * (double)c->neg * (1 + 1e-12))
			break; /* fp only grows along the curve */
		if (c->pt[i].tp > best)
			best = c->pt[i].tp;
	}
	return (double)best / (double)c->pos;
}

int eval_metrics_compute(const double *score, const uint8_t *attack, size_t n, struct eval_metrics *ret)
{
	struct eval_curve c;
	int r = eval_curve_build(score, attack, n, &c);

	if (r < 0)
		return r;
	ret->pos = c.pos;
	ret->neg = c.neg;
	ret->roc_auc = eval_roc_auc(&c);
	ret->pr_auc = eval_pr_auc(&c);
	ret->tpr_at_fpr_0_1pct = eval_tpr_at_fpr(&c, 0.001);
	ret->tpr_at_fpr_1pct = eval_tpr_at_fpr(&c, 0.01);
	eval_curve_release(&c);
	return 0;
}
