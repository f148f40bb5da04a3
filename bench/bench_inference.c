/* bench_inference.c - vectors per second through nad's TFLite interpreter.
 *
 * Usage: bench_inference [--features N] [--seconds S] [MODEL.tflite ...]
 *
 * Without files it builds nad's default autoencoder for N features (default
 * 50: N -> N/2 -> N/4 -> N/2 -> N, ReLU hidden, linear output, as `nad
 * train` picks) with random weights, writes it as a real .tflite in memory
 * (float32, and int8 quantised per channel from random representative
 * rows), loads it back through the checked reader and times it. Each file
 * given is timed the same way. Figures: batch 1 and batch 64, one thread,
 * per second of the thread's own CPU time (so a busy machine disturbs them
 * less; caches are still shared).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model/tfl_interp.h"
#include "model/tfl_model.h"
#include "model/tfl_writer.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static uint64_t rng = 88172645463325252u;

static float frand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (float)((rng >> 11) * (1.0 / 9007199254740992.0)) * 2.0f - 1.0f;
}

/* Time model at one batch size; returns vectors per second. */
static double time_batch(const struct tfl_model *m, unsigned batch, double seconds)
{
	struct tfl_error err;
	struct tfl_interp *ip;
	const struct tfl_io *in;
	double t0, t;
	long calls = 0;

	if (tfl_interp_new(m, batch, &err, &ip) < 0) {
		fprintf(stderr, "bench_inference: %s\n", err.msg);
		return 0;
	}
	in = tfl_interp_input(ip, 0);
	for (size_t i = 0; i < in->row * batch; i++) {
		if (in->type == TFL_TYPE_FLOAT32)
			((float *)in->data)[i] = frand();
		else if (in->type == TFL_TYPE_INT8)
			((int8_t *)in->data)[i] = (int8_t)(frand() * 100);
	}
	t0 = now();
	do {
		for (int k = 0; k < 64; k++)
			tfl_interp_invoke(ip, batch);
		calls += 64;
		t = now() - t0;
	} while (t < seconds);
	tfl_interp_free(ip);
	return (double)calls * batch / t;
}

static void report(const char *label, const struct tfl_model *m, double seconds)
{
	double b1 = time_batch(m, 1, seconds), b64 = time_batch(m, 64, seconds);

	printf("%-40s batch 1: %10.0f vectors/s   batch 64: %10.0f vectors/s\n", label, b1, b64);
}

static int build_default(unsigned n, double seconds)
{
	uint32_t size[5] = { n, n / 2 > 8 ? n / 2 : 8, n / 4 > 4 ? n / 4 : 4, 0, n };
	struct tfl_dense_layer layers[4];
	struct tfl_dense_net net = { 4, layers };
	struct tfl_quant q;
	float *w[4], *b[4], *repr;
	size_t rows = 256;
	int ret = 1;

	size[3] = size[1];
	for (int l = 0; l < 4; l++) {
		float scale = sqrtf(6.0f / size[l]);

		w[l] = malloc(sizeof(float) * size[l] * size[l + 1]);
		b[l] = malloc(sizeof(float) * size[l + 1]);
		for (size_t i = 0; i < (size_t)size[l] * size[l + 1]; i++)
			w[l][i] = frand() * scale;
		for (size_t i = 0; i < size[l + 1]; i++)
			b[l][i] = frand() * 0.1f;
		layers[l] = (struct tfl_dense_layer){ size[l], size[l + 1], w[l], b[l],
						      l < 3 ? TFL_ACT_RELU : TFL_ACT_NONE };
	}
	repr = malloc(sizeof(float) * rows * n);
	for (size_t i = 0; i < rows * n; i++)
		repr[i] = frand();
	for (int quant = 0; quant < 2; quant++) {
		uint8_t *buf = NULL;
		size_t len = 0;
		struct tfl_error err;
		struct tfl_model *m = NULL;
		char label[128];

		if (quant && tfl_quant_init(&net, repr, rows, true, &q) < 0) {
			fprintf(stderr, "bench_inference: cannot quantise the model\n");
			goto out;
		}
		if (tfl_write_dense(&net, quant ? &q : NULL, NULL, &buf, &len) < 0 ||
		    tfl_model_load(buf, len, "default autoencoder", &err, &m) < 0) {
			fprintf(stderr, "bench_inference: cannot build the default model%s%s\n",
				m ? "" : ": ", m ? "" : err.msg);
			free(buf);
			if (quant)
				tfl_quant_release(&q);
			goto out;
		}
		snprintf(label, sizeof label, "%u-%u-%u-%u-%u %s (%zu B)", size[0], size[1], size[2], size[3],
			 size[4], quant ? "int8" : "float32", len);
		report(label, m, seconds);
		tfl_model_free(m);
		free(buf);
		if (quant)
			tfl_quant_release(&q);
	}
	ret = 0;
out:
	for (int l = 0; l < 4; l++) {
		free(w[l]);
		free(b[l]);
	}
	free(repr);
	return ret;
}

int main(int argc, char **argv)
{
	unsigned features = 50;
	double seconds = 1.0;
	int files = 0, ret = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--features") && i + 1 < argc) {
			features = (unsigned)atoi(argv[++i]);
			if (features < 2 || features > 4096) {
				fprintf(stderr, "bench_inference: --features must be 2..4096\n");
				return 2;
			}
		} else if (!strcmp(argv[i], "--seconds") && i + 1 < argc) {
			seconds = atof(argv[++i]);
		} else if (argv[i][0] == '-') {
			fprintf(stderr, "usage: bench_inference [--features N] [--seconds S] [MODEL.tflite ...]\n");
			return 2;
		}
	}
	printf("nad TFLite interpreter, one thread, %.1f s per figure\n", seconds);
	for (int i = 1; i < argc; i++) {
		struct tfl_error err;
		struct tfl_model *m;

		if (argv[i][0] == '-') {
			i++;
			continue;
		}
		files++;
		if (tfl_model_load_file(argv[i], &err, &m) < 0) {
			fprintf(stderr, "bench_inference: %s\n", err.msg);
			ret = 1;
			continue;
		}
		report(argv[i], m, seconds);
		tfl_model_free(m);
	}
	if (!files)
		ret = build_default(features, seconds);
	return ret;
}
