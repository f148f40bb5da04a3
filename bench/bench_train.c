/* bench_train.c - how long `nad train` takes on a million flows.
 *
 * Generates ROWS synthetic normalised vectors (default 1,000,000 x 50, on
 * a low-dimensional manifold like real flow features), then does what
 * `nad train` does after reading the CSV: normalisation statistics, the
 * default autoencoder (n -> n/2 -> n/4 -> n/2 -> n) trained with the
 * default epoch budget and early stopping, and the calibration. Prints
 * each phase's CPU time and training samples/s on one core.
 *
 * usage: bench_train [ROWS [FEATURES [EPOCHS]]]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "model/train/train.h"

/* CPU time of this process: the figure that matters for "one core", and
 * one that other load on the machine does not inflate. */
static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int recon(void *ctx, const float *x, size_t rows, float *out)
{
	return train_ae_forward(ctx, x, rows, out);
}

int main(int argc, char **argv)
{
	size_t rows = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000;
	size_t n = argc > 2 ? strtoul(argv[2], NULL, 10) : 50;
	unsigned epochs = argc > 3 ? (unsigned)strtoul(argv[3], NULL, 10) : 0;
	struct train_rng rng = { 1 };
	struct train_data d;
	struct nad_meta meta;
	struct train_ae ae;
	struct train_result res;
	struct train_opts o = { .seed = 1, .batch = 256, .lr = 1e-3, .patience = 5 };
	uint32_t sizes[5];
	float mix[4][256];
	size_t n_val, n_train;
	double t0, t1, t2, t3;

	if (rows < 100 || n < 4 || n > 256)
		return 2;
	train_data_init(&d, n);
	d.x = malloc(rows * n * sizeof *d.x);
	if (!d.x || nad_meta_init(&meta, n, 0) < 0)
		return 1;
	d.rows = d.cap_rows = rows;
	for (size_t k = 0; k < 4; k++)
		for (size_t i = 0; i < n; i++)
			mix[k][i] = (float)(2 * train_rng_uniform(&rng) - 1);
	for (size_t r = 0; r < rows; r++) {
		float z[4];

		for (size_t k = 0; k < 4; k++)
			z[k] = (float)(2 * train_rng_uniform(&rng) - 1);
		for (size_t i = 0; i < n; i++)
			d.x[r * n + i] = z[0] * mix[0][i] + z[1] * mix[1][i] + z[2] * z[3] * mix[2][i] +
					 0.1f * z[3] * mix[3][i] + 0.02f * (float)(train_rng_uniform(&rng) - 0.5);
	}
	meta.clip = 10.0;
	t0 = now_s();
	train_norm_fit(&d, 200000, &meta);
	train_norm_apply(&meta, &d);
	train_data_shuffle_rows(&d, &rng);
	t1 = now_s();

	n_val = (size_t)ceil(rows * 0.15);
	n_train = rows - n_val;
	sizes[0] = sizes[4] = (uint32_t)n;
	sizes[1] = sizes[3] = (uint32_t)(n / 2 > 8 ? n / 2 : 8);
	sizes[2] = (uint32_t)(n / 4 > 4 ? n / 4 : 4);
	o.epochs = epochs ? epochs : train_default_epochs(n_train);
	if (train_ae_init(&ae, 4, sizes, 1) < 0 ||
	    train_ae_fit(&ae, d.x, n_train, d.x + n_train * n, n_val, &o, &res) < 0)
		return 1;
	t2 = now_s();
	if (train_calibrate(&meta, d.x + n_train * n, n_val < 200000 ? n_val : 200000, recon, &ae) < 0)
		return 1;
	t3 = now_s();

	printf("rows %zu, features %zu, layers %u-%u-%u-%u-%u\n", rows, n, sizes[0], sizes[1], sizes[2],
	       sizes[3], sizes[4]);
	printf("normalise+shuffle  %7.2f s\n", t1 - t0);
	printf("train              %7.2f s  (%u epochs, best %u, val loss %.5f)\n", t2 - t1,
	       res.epochs_run, res.best_epoch, res.val_loss);
	printf("calibrate          %7.2f s\n", t3 - t2);
	printf("total              %7.2f s\n", t3 - t0);
	printf("training throughput %.0f samples/s (forward + backward + Adam)\n",
	       (double)res.samples / (t2 - t1));
	printf("(CPU seconds of one thread; wall clock for training: %.2f s)\n", res.seconds);
	train_ae_release(&ae);
	nad_meta_release(&meta);
	train_data_release(&d);
	return 0;
}
