/* test_eval_metrics.c - ROC-AUC, average precision and TPR at a fixed FPR
 * against values worked out by hand (comments show the working), ties
 * included. */
#include <math.h>
#include <stdint.h>

#include "check.h"
#include "eval/metrics.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static struct eval_metrics metrics(const double *s, const uint8_t *a, size_t n)
{
	struct eval_metrics m = { 0 };

	CHECK_EQ_INT(eval_metrics_compute(s, a, n, &m), 0);
	return m;
}

int main(void)
{
	/* No ties, in a shuffled order: A = attack 0.9, 0.7, 0.5; B = benign
	 * 0.8, 0.6. Pairs won by the attack: 0.9 beats both B (2), 0.7 beats
	 * 0.6 (1), 0.5 none: AUC = 3/6. AP: recall steps of 1/3 at precision
	 * 1/1, 2/3, 3/5: (1 + 2/3 + 3/5) / 3 = 34/45. */
	{
		double s[] = { 0.5, 0.8, 0.9, 0.6, 0.7 };
		uint8_t a[] = { 1, 0, 1, 0, 1 };
		struct eval_metrics m = metrics(s, a, N(s));
		struct eval_curve c;

		CHECK_EQ_INT(m.pos, 3);
		CHECK_EQ_INT(m.neg, 2);
		CHECK_NEAR(m.roc_auc, 0.5, 1e-12);
		CHECK_NEAR(m.pr_auc, 34.0 / 45.0, 1e-12);
		CHECK_EQ_INT(eval_curve_build(s, a, N(s), &c), 0);
		CHECK_EQ_INT(c.n, 5);
		/* FPR 0 allows the first point only: TPR 1/3; FPR 1/2 allows
		 * one benign flow: 0.9 and 0.7 flagged, TPR 2/3. */
		CHECK_NEAR(eval_tpr_at_fpr(&c, 0.0), 1.0 / 3.0, 1e-12);
		CHECK_NEAR(eval_tpr_at_fpr(&c, 0.5), 2.0 / 3.0, 1e-12);
		CHECK_NEAR(eval_tpr_at_fpr(&c, 0.49), 1.0 / 3.0, 1e-12);
		CHECK_NEAR(eval_tpr_at_fpr(&c, 1.0), 1.0, 1e-12);
		eval_curve_release(&c);
	}
	/* Ties: A 0.9, 0.8, 0.5; B 0.8, 0.5, 0.5, 0.1. Mann-Whitney with
	 * average ranks: 0.9 beats 4; 0.8 beats 3 and ties 1 (3.5); 0.5
	 * beats 1 and ties 2 (2): AUC = 9.5/12. Curve points (tp, fp):
	 * (1,0) (2,1) (3,3) (3,4). AP = 1/3 (1/1 + 2/3 + 3/6) = 13/18. */
	{
		double s[] = { 0.8, 0.5, 0.9, 0.1, 0.5, 0.8, 0.5 };
		uint8_t a[] = { 0, 1, 1, 0, 0, 1, 0 };
		struct eval_metrics m = metrics(s, a, N(s));
		struct eval_curve c;

		CHECK_NEAR(m.roc_auc, 9.5 / 12.0, 1e-12);
		CHECK_NEAR(m.pr_auc, 13.0 / 18.0, 1e-12);
		CHECK_NEAR(m.tpr_at_fpr_0_1pct, 1.0 / 3.0, 1e-12);
		CHECK_NEAR(m.tpr_at_fpr_1pct, 1.0 / 3.0, 1e-12);
		CHECK_EQ_INT(eval_curve_build(s, a, N(s), &c), 0);
		CHECK_EQ_INT(c.n, 4);
		CHECK_EQ_INT(c.pt[2].tp, 3);
		CHECK_EQ_INT(c.pt[2].fp, 3);
		CHECK_NEAR(c.pt[2].threshold, 0.5, 0);
		CHECK_NEAR(eval_tpr_at_fpr(&c, 0.25), 2.0 / 3.0, 1e-12);
		/* 3 benign of 4 flagged at 0.5: FPR 0.75 reaches TPR 1 */
		CHECK_NEAR(eval_tpr_at_fpr(&c, 0.74), 2.0 / 3.0, 1e-12);
		CHECK_NEAR(eval_tpr_at_fpr(&c, 0.75), 1.0, 1e-12);
		eval_curve_release(&c);
	}
	/* Everything tied: one step from (0,0) to (1,1), AUC 1/2; AP = one
	 * recall step of 1 at precision 2/4. */
	{
		double s[] = { 3, 3, 3, 3 };
		uint8_t a[] = { 1, 0, 0, 1 };
		struct eval_metrics m = metrics(s, a, N(s));

		CHECK_NEAR(m.roc_auc, 0.5, 1e-12);
		CHECK_NEAR(m.pr_auc, 0.5, 1e-12);
		CHECK_NEAR(m.tpr_at_fpr_1pct, 0.0, 1e-12);
	}
	/* Perfect and reversed separation; 1 % of 200 benign flows is 2. */
	{
		double s[300];
		uint8_t a[300];

		for (int i = 0; i < 300; i++) {
			a[i] = i < 100;
			s[i] = a[i] ? 1000 + i : i;
		}
		struct eval_metrics m = metrics(s, a, 300);
		CHECK_EQ_INT(m.pos, 100);
		CHECK_EQ_INT(m.neg, 200);
		CHECK_NEAR(m.roc_auc, 1.0, 1e-12);
		CHECK_NEAR(m.pr_auc, 1.0, 1e-12);
		CHECK_NEAR(m.tpr_at_fpr_0_1pct, 1.0, 1e-12);
		for (int i = 0; i < 300; i++)
			s[i] = -s[i];
		m = metrics(s, a, 300);
		CHECK_NEAR(m.roc_auc, 0.0, 1e-12);
		CHECK_NEAR(m.tpr_at_fpr_1pct, 0.0, 1e-12);
		/* two benign flows above every attack: 1 % FPR still catches all */
		for (int i = 0; i < 300; i++)
			s[i] = a[i] ? 10 : 0;
		s[150] = s[151] = 20;
		m = metrics(s, a, 300);
		CHECK_NEAR(m.tpr_at_fpr_1pct, 1.0, 1e-12);
		CHECK_NEAR(m.tpr_at_fpr_0_1pct, 0.0, 1e-12);
		CHECK_NEAR(m.roc_auc, 198.0 / 200.0, 1e-12);
	}
	/* One class missing: no AUC and no TPR@FPR, said with NaN; AP needs
	 * attacks only. NaN scores rank lowest. */
	{
		double s[] = { 0.1, 0.2, NAN, 0.3 };
		uint8_t none[] = { 0, 0, 0, 0 }, all[] = { 1, 1, 1, 1 }, some[] = { 1, 0, 1, 0 };
		struct eval_metrics m = metrics(s, none, N(s));

		CHECK(isnan(m.roc_auc) && isnan(m.pr_auc) && isnan(m.tpr_at_fpr_1pct));
		m = metrics(s, all, N(s));
		CHECK(isnan(m.roc_auc));
		CHECK_NEAR(m.pr_auc, 1.0, 1e-12);
		/* A 0.1 and A NaN vs B 0.2 and B 0.3: every attack below every benign */
		m = metrics(s, some, N(s));
		CHECK_NEAR(m.roc_auc, 0.0, 1e-12);
		m = metrics(NULL, NULL, 0);
		CHECK_EQ_INT(m.pos + m.neg, 0);
		CHECK_EQ_INT(eval_metrics_compute(NULL, NULL, 3, &m), -22);
	}
	return check_exit();
}
