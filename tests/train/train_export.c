/* train_export.c - test helper: train a small autoencoder with nad's own
 * training code, write it as float32 and int8 (per channel, per tensor)
 * .tflite files, and print what nad's own arithmetic says the models
 * output, so armnn_check.py can hold an independent engine against it.
 *
 * usage: train_export OUTDIR
 * writes OUTDIR/{float,int8_pc,int8_pt,int8_1l}.tflite (int8_1l: the first
 * layer alone) and, one vector per line,
 * inputs.txt (float), float_out.txt, <model>_in.txt (raw int8) and
 * <model>_out.txt (raw int8).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/tfl_writer.h"
#include "model/train/train.h"

#define N 12
#define ROWS 2000
#define TEST_ROWS 64

static void write_vectors_f(const char *dir, const char *name, const float *v, size_t rows, size_t n)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f) {
		perror(path);
		exit(1);
	}
	for (size_t r = 0; r < rows; r++)
		for (size_t i = 0; i < n; i++)
			fprintf(f, "%.9g%c", v[r * n + i], i + 1 == n ? '\n' : ' ');
	fclose(f);
}

/* int8 vectors print as the same integers through "%.9g" */
static void write_vectors_q(const char *dir, const char *name, const int8_t *v, size_t rows, size_t n)
{
	float f[TEST_ROWS * N];

	for (size_t i = 0; i < rows * n; i++)
		f[i] = v[i];
	write_vectors_f(dir, name, f, rows, n);
}

static void save(const char *dir, const char *name, const uint8_t *data, size_t len)
{
	char path[512];

	snprintf(path, sizeof path, "%s/%s", dir, name);
	if (tfl_write_file(path, data, len) < 0) {
		fprintf(stderr, "cannot write %s\n", path);
		exit(1);
	}
}

static void export_int8(const char *dir, const char *tag, const struct tfl_dense_net *net,
			const float *x, const float *test, bool per_channel)
{
	uint32_t n_out = net->layers[net->n_layers - 1].n_out;
	struct tfl_quant q;
	int8_t in[TEST_ROWS * N], out[TEST_ROWS * N], scratch[2 * 64];
	uint8_t *data;
	size_t len;
	char name[64];

	if (tfl_quant_init(net, x, ROWS, per_channel, &q) < 0 || q.max_width > 64 ||
	    tfl_write_dense(net, &q, NULL, &data, &len) < 0) {
		fprintf(stderr, "int8 export failed\n");
		exit(1);
	}
	snprintf(name, sizeof name, "%s.tflite", tag);
	save(dir, name, data, len);
	for (size_t i = 0; i < TEST_ROWS * N; i++)
		in[i] = tfl_quantise(test[i], q.layers[0].in_scale, q.layers[0].in_zp);
	for (size_t r = 0; r < TEST_ROWS; r++)
		tfl_quant_run(&q, in + r * N, out + r * n_out, scratch);
	snprintf(name, sizeof name, "%s_in.txt", tag);
	write_vectors_q(dir, name, in, TEST_ROWS, N);
	snprintf(name, sizeof name, "%s_out.txt", tag);
	write_vectors_q(dir, name, out, TEST_ROWS, n_out);
	free(data);
	tfl_quant_release(&q);
}

int main(int argc, char **argv)
{
	static float x[ROWS * N], test[TEST_ROWS * N], out[TEST_ROWS * N];
	struct train_rng rng = { 42 };
	uint32_t sizes[] = { N, 8, 4, 8, N };
	struct train_ae ae;
	struct train_opts o = { .seed = 3, .epochs = 30, .batch = 64, .lr = 3e-3, .patience = 0 };
	struct train_result res;
	struct tfl_dense_layer layers[TRAIN_MAX_LAYERS];
	struct tfl_dense_net net;
	struct tfl_meta_entry meta = { "nad", "{\"test\": true}", 14 };
	struct tfl_write_opts wo = { "train_export test model", &meta, 1 };
	uint8_t *data;
	size_t len;

	if (argc != 2) {
		fprintf(stderr, "usage: train_export OUTDIR\n");
		return 2;
	}
	/* rows on a 2-d manifold in 12-d, plus noise */
	for (size_t r = 0; r < ROWS + TEST_ROWS; r++) {
		float a = (float)(2 * train_rng_uniform(&rng) - 1), b = (float)(2 * train_rng_uniform(&rng) - 1);
		float *row = r < ROWS ? x + r * N : test + (r - ROWS) * N;

		for (size_t i = 0; i < N; i++)
			row[i] = a * (float)(i % 3) - b * (float)(i % 4) * 0.5f + (float)(i % 5 == 0 ? a * b : 0) +
				 0.05f * (float)(train_rng_uniform(&rng) - 0.5);
	}
	if (train_ae_init(&ae, 4, sizes, 5) < 0 || train_ae_fit(&ae, x, ROWS, NULL, 0, &o, &res) < 0) {
		fprintf(stderr, "training failed\n");
		return 1;
	}
	train_ae_net(&ae, layers, &net);
	if (tfl_write_dense(&net, NULL, &wo, &data, &len) < 0)
		return 1;
	save(argv[1], "float.tflite", data, len);
	free(data);
	train_ae_forward(&ae, test, TEST_ROWS, out);
	write_vectors_f(argv[1], "inputs.txt", test, TEST_ROWS, N);
	write_vectors_f(argv[1], "float_out.txt", out, TEST_ROWS, N);
	export_int8(argv[1], "int8_pc", &net, x, test, true);
	export_int8(argv[1], "int8_pt", &net, x, test, false);
	/* one layer alone: here ArmNN and TFLite can differ by at most one
	 * step, before differences propagate through later layers */
	net.n_layers = 1;
	export_int8(argv[1], "int8_1l", &net, x, test, false);
	printf("trained %u epochs, loss %.5f\n", res.epochs_run, res.loss);
	train_ae_release(&ae);
	return 0;
}
