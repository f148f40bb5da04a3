/* test_train.c - the training library: flows CSV parsing and its refusals,
 * robust normalisation, and the autoencoder (learns structure, same seed
 * gives the same weights bit for bit). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "model/train/train.h"

static const char *const names[3] = { "bytes_fwd", "syn_ratio", "duration" };
static const enum nad_transform tr[3] = { NAD_TRANSFORM_LOG1P, NAD_TRANSFORM_LINEAR, NAD_TRANSFORM_LOG1P };

static int read_text(const char *text, struct train_data *d, struct train_csv_info *info,
		     struct train_csv_error *err)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	int r;

	train_data_init(d, 3);
	memset(info, 0, sizeof *info);
	memset(err, 0, sizeof *err);
	r = train_csv_read(f, "t.csv", names, tr, d, info, err);
	fclose(f);
	return r;
}

static void test_csv(void)
{
	struct train_data d;
	struct train_csv_info info;
	struct train_csv_error err;

	/* columns by name in any order, others ignored, quotes, CRLF */
	CHECK_EQ_INT(read_text("first_ts,duration,src_addr,syn_ratio,bytes_fwd\r\n"
			       "1700000100.5,0,\"a,b\",0.25,9\r\n"
			       "1700000000,1.5,x,1,0\r\n\r\n", &d, &info, &err), 0);
	CHECK_EQ_INT(d.rows, 2);
	CHECK_NEAR(d.x[0], log(10.0), 1e-6);      /* bytes_fwd, log1p */
	CHECK_NEAR(d.x[1], 0.25, 0);              /* syn_ratio, linear */
	CHECK_NEAR(d.x[2], 0.0, 0);
	CHECK_NEAR(d.x[5], log(2.5), 1e-6);
	CHECK(info.have_ts);
	CHECK_NEAR(info.ts_min, 1700000000, 0);
	CHECK_NEAR(info.ts_max, 1700000100.5, 0);
	train_data_release(&d);

	CHECK_EQ_INT(read_text("duration,bytes_fwd\n1,2\n", &d, &info, &err), -EINVAL);
	CHECK(!strcmp(err.field, "syn_ratio") && strstr(err.what, "no column 'syn_ratio'"));
	train_data_release(&d);

	CHECK_EQ_INT(read_text("duration,syn_ratio,bytes_fwd\n1,2,3\n1,nan,3\n", &d, &info, &err), -EINVAL);
	CHECK_EQ_INT(err.line, 3);
	CHECK_EQ_INT(err.column, 2);
	CHECK(!strcmp(err.field, "syn_ratio"));
	train_data_release(&d);

	CHECK_EQ_INT(read_text("duration,syn_ratio,bytes_fwd\n1,2\n", &d, &info, &err), -EINVAL);
	CHECK_EQ_INT(err.line, 2);
	train_data_release(&d);
	CHECK_EQ_INT(read_text("duration,syn_ratio,bytes_fwd\n1,2,3,4\n", &d, &info, &err), -EINVAL);
	train_data_release(&d);
	CHECK_EQ_INT(read_text("duration,syn_ratio,bytes_fwd\n1,2,1e999\n", &d, &info, &err), -EINVAL);
	train_data_release(&d);
	CHECK_EQ_INT(read_text("", &d, &info, &err), -EINVAL);
	CHECK(strstr(err.what, "empty"));
	train_data_release(&d);
}

static void test_normalise(void)
{
	struct train_data d;
	struct nad_meta m;
	float col[4][9] = {
		{ 1, 2, 3, 4, 5, 6, 7, 8, 1000 },  /* outlier: median/IQR shrug */
		{ 0, 0, 0, 0, 0, 0, 0, 0, 3 },     /* IQR and MAD 0: std */
		{ 5, 5, 5, 5, 5, 5, 5, 5, 5 },     /* constant: scale 1 */
		{ 0, 0, 0, 0, 0, 0, 0, 0, 1 },     /* rare trait: std 1/3, floored to 1 */
	};

	train_data_init(&d, 4);
	d.rows = d.cap_rows = 9;
	d.x = malloc(36 * sizeof *d.x);
	for (int r = 0; r < 9; r++)
		for (int c = 0; c < 4; c++)
			d.x[r * 4 + c] = col[c][r];
	CHECK_EQ_INT(nad_meta_init(&m, 4, 0), 0);
	m.clip = 3.0;
	CHECK_EQ_INT(train_norm_fit(&d, 1000, &m), 0);
	CHECK_NEAR(m.features[0].center, 5.0, 0);
	CHECK_NEAR(m.features[0].scale, 4.0 / 1.349, 1e-9);
	CHECK_NEAR(m.features[1].center, 0.0, 0);
	CHECK_NEAR(m.features[1].scale, 1.0, 1e-9);   /* sample std of eight 0s and a 3 */
	CHECK_NEAR(m.features[2].scale, 1.0, 0);
	CHECK_NEAR(m.features[3].scale, TRAIN_NORM_MIN_RARE_SCALE, 0);
	/* the typical range is the 10th..90th percentile: a feature that is
	 * 0 in eight flows of nine is typically 0, not 0 +- its floored scale */
	CHECK(m.features[0].has_typical && m.features[3].has_typical);
	CHECK_NEAR(m.features[0].typical_lo, 1.8, 1e-6);
	CHECK_NEAR(m.features[0].typical_hi, 8.0 + 0.2 * 992, 1e-3);
	CHECK_NEAR(m.features[3].typical_lo, 0.0, 0);
	CHECK_NEAR(m.features[3].typical_hi, 0.2, 1e-6);
	CHECK_NEAR(m.features[2].typical_lo, 5.0, 0);
	CHECK_NEAR(m.features[2].typical_hi, 5.0, 0);
	train_norm_apply(&m, &d);
	CHECK_NEAR(d.x[8 * 4 + 0], 3.0, 0);           /* clipped */
	CHECK_NEAR(d.x[0], -4.0 * 1.349 / 4.0, 1e-6);
	CHECK_NEAR(d.x[2], 0.0, 0);
	CHECK_NEAR(d.x[8 * 4 + 3], 1.0, 0);           /* the rare trait: 1, not 3 "sigmas" */
	nad_meta_release(&m);
	train_data_release(&d);
	CHECK_EQ_INT(train_default_epochs(1000), 100);
	CHECK_EQ_INT(train_default_epochs(1000000), 12);
	CHECK_EQ_INT(train_default_epochs(100000000), 5);
}

enum { N = 10, ROWS = 3000, VAL = 500 };

static float *structured_rows(size_t rows, uint64_t seed)
{
	struct train_rng rng = { seed };
	float *x = malloc(rows * N * sizeof *x);

	/* two factors explain ten features */
	for (size_t r = 0; r < rows; r++) {
		float a = (float)(2 * train_rng_uniform(&rng) - 1), b = (float)(2 * train_rng_uniform(&rng) - 1);

		for (size_t i = 0; i < N; i++)
			x[r * N + i] = (float)(i % 3) * a - (float)(i % 2) * b + (i == 4 ? a * b : 0.0f) +
				       0.02f * (float)(train_rng_uniform(&rng) - 0.5);
	}
	return x;
}

static double mse(const struct train_ae *ae, const float *x, size_t rows)
{
	float *y = malloc(rows * N * sizeof *y);
	double s = 0;

	CHECK_EQ_INT(train_ae_forward(ae, x, rows, y), 0);
	for (size_t i = 0; i < rows * N; i++)
		s += ((double)x[i] - y[i]) * ((double)x[i] - y[i]);
	free(y);
	return s / (rows * N);
}

static int train_once(uint64_t seed, const float *x, struct train_ae *ae, struct train_result *res)
{
	uint32_t sizes[5] = { N, 8, 3, 8, N };
	struct train_opts o = { .seed = seed, .epochs = 25, .batch = 32, .lr = 3e-3, .patience = 4 };

	if (train_ae_init(ae, 4, sizes, seed) < 0)
		return -1;
	return train_ae_fit(ae, x, ROWS, x + ROWS * N, VAL, &o, res);
}

static void test_autoencoder(void)
{
	float *x = structured_rows(ROWS + VAL, 1);
	struct train_ae a, b, c;
	struct train_result ra, rb, rc;
	uint32_t bad[3] = { N, 0, N };
	double before;
	int same = 1;

	CHECK_EQ_INT(train_ae_init(&a, 2, bad, 1), -EINVAL);
	CHECK_EQ_INT(train_ae_init(&a, 4, (uint32_t[]){ N, 8, 3, 8, N }, 9), 0);
	before = mse(&a, x + ROWS * N, VAL);
	train_ae_release(&a);

	CHECK_EQ_INT(train_once(9, x, &a, &ra), 0);
	CHECK_EQ_INT(train_once(9, x, &b, &rb), 0);
	CHECK_EQ_INT(train_once(10, x, &c, &rc), 0);
	/* it learns: held-out error falls far below where it started and
	 * below the data's variance */
	CHECK(ra.val_loss < 0.1 * before);
	CHECK(ra.val_loss < 0.05);
	CHECK_NEAR(mse(&a, x + ROWS * N, VAL), ra.val_loss, 1e-6);
	CHECK(ra.best_epoch >= 1 && ra.best_epoch <= ra.epochs_run);
	/* same seed, same bits; another seed, other weights */
	for (size_t l = 0; l < a.n_layers; l++) {
		size_t nw = (size_t)a.size[l] * a.size[l + 1] * sizeof(float);

		same &= !memcmp(a.w[l], b.w[l], nw) && !memcmp(a.b[l], b.b[l], a.size[l + 1] * sizeof(float));
		CHECK(memcmp(a.w[l], c.w[l], nw) != 0);
	}
	CHECK(same);
	CHECK_EQ_INT(ra.epochs_run, rb.epochs_run);
	train_ae_release(&a);
	train_ae_release(&b);
	train_ae_release(&c);
	free(x);
}

int main(void)
{
	test_csv();
	test_normalise();
	test_autoencoder();
	return check_exit();
}
