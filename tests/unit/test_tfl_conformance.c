/* test_tfl_conformance.c - nad's TFLite engine against real converter output.
 *
 * The models and expected numbers are in $NAD_SHARED/data/tflite; every
 * expected number was computed by ArmNN, an independent TFLite engine
 * (EXPECTED.md there). hello_world float and int8 must match as issue 3
 * states; AD01 fp32 per-window MSE within 1e-4 relative.
 *
 * AD01 int8: ArmNN requantises each layer's accumulator through float,
 * TFLite (and nad) through integer multiplier and shift. Layer by layer the
 * two differ by at most 1 (checked below on nad's own intermediate tensors,
 * with ArmNN's float formula recomputed here); across ten layers those few
 * ±1 differences propagate, and on window 0 three of 640 outputs end up 2
 * apart. So the end-to-end check is: every output within ±2, at least 99%
 * within ±1 — see docs/internals/model.md.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "model/tfl_interp.h"
#include "model/tfl_model.h"

static char *shared_path(const char *rel)
{
	static char buf[4][1024];
	static int next;
	const char *root = getenv("NAD_SHARED");
	char *b = buf[next++ % 4];

	snprintf(b, sizeof buf[0], "%s/data/tflite/%s", root ? root : "../shared", rel);
	return b;
}

static struct tfl_model *load(const char *rel)
{
	struct tfl_error err;
	struct tfl_model *m = NULL;

	if (tfl_model_load_file(shared_path(rel), &err, &m) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		CHECK(!"model loads");
		return NULL;
	}
	return m;
}

static struct tfl_interp *prepare(const struct tfl_model *m, unsigned batch)
{
	struct tfl_error err;
	struct tfl_interp *ip = NULL;

	if (tfl_interp_new(m, batch, &err, &ip) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		CHECK(!"model prepares");
		return NULL;
	}
	return ip;
}

static void test_hello_float(void)
{
	static const float in[4] = { 0, 1, 3, 5 };
	static const float want[4] = { 0.02640529f, 0.8630436f, 0.12764603f, -0.95651877f };
	struct tfl_model *m = load("hello_world_float.tflite");
	struct tfl_interp *ip = m ? prepare(m, 4) : NULL;

	if (!ip)
		goto out;
	const struct tfl_io *x = tfl_interp_input(ip, 0), *y = tfl_interp_output(ip, 0);

	CHECK_EQ_INT(x->row, 1);
	CHECK_EQ_INT(y->row, 1);
	CHECK_EQ_INT(x->type, TFL_TYPE_FLOAT32);
	memcpy(x->data, in, sizeof in);
	CHECK_EQ_INT(tfl_interp_invoke(ip, 4), 0);
	for (int i = 0; i < 4; i++)
		CHECK_NEAR(((float *)y->data)[i], want[i], 1e-5);
	/* One row at a time gives the same numbers. */
	for (int i = 0; i < 4; i++) {
		((float *)x->data)[0] = in[i];
		CHECK_EQ_INT(tfl_interp_invoke(ip, 1), 0);
		CHECK_NEAR(((float *)y->data)[0], want[i], 1e-5);
	}
	CHECK(tfl_interp_invoke(ip, 0) < 0);
	CHECK(tfl_interp_invoke(ip, 5) < 0);
out:
	tfl_interp_free(ip);
	tfl_model_free(m);
}

static void test_hello_int8(void)
{
	static const int8_t in[4] = { -96, -63, -34, 0 };
	static const int8_t want[4] = { 89, 125, 93, 4 };
	struct tfl_model *m = load("hello_world_int8.tflite");
	struct tfl_interp *ip = m ? prepare(m, 4) : NULL;

	if (!ip)
		goto out;
	const struct tfl_io *x = tfl_interp_input(ip, 0), *y = tfl_interp_output(ip, 0);

	CHECK_EQ_INT(x->type, TFL_TYPE_INT8);
	CHECK_NEAR(x->scale, 0.024480115622282028, 1e-12);
	CHECK_EQ_INT(x->zero_point, -128);
	CHECK_NEAR(y->scale, 0.008290956728160381, 1e-12);
	CHECK_EQ_INT(y->zero_point, 5);
	memcpy(x->data, in, sizeof in);
	CHECK_EQ_INT(tfl_interp_invoke(ip, 4), 0);
	for (int i = 0; i < 4; i++)
		CHECK_EQ_INT(((int8_t *)y->data)[i], want[i]);

	/* Metadata by name: the converter's runtime version string is there
	 * (16 bytes, NUL padded); nad's own entry is not. */
	const uint8_t *md;
	size_t md_len = 0;

	CHECK_EQ_INT(tfl_model_metadata(m, "min_runtime_version", &md, &md_len), 0);
	CHECK_EQ_INT(md_len, 16);
	CHECK(md_len == 16 && !strcmp((const char *)md, "1.14.0"));
	CHECK_EQ_INT(tfl_model_metadata(m, "nad", &md, &md_len), -ENOENT);
	CHECK(!strcmp(m->description, "MLIR Converted."));
	CHECK_EQ_INT(m->n_operators, 3);
	CHECK_EQ_INT(m->operators[0].builtin, TFL_OP_FULLY_CONNECTED);
	CHECK_EQ_INT(m->operators[0].fused, TFL_FUSED_RELU);
	CHECK_EQ_INT(m->operators[2].fused, TFL_FUSED_NONE);
out:
	tfl_interp_free(ip);
	tfl_model_free(m);
}

#define AD_WINDOWS 40
#define AD_DIM 640

static float *read_windows(void)
{
	FILE *f = fopen(shared_path("mlperf_tiny_ad01/normal_id_01_00000000_hist_librosa.bin"), "rb");
	float *x = malloc(sizeof(float) * AD_WINDOWS * AD_DIM);
	uint8_t b[4];

	CHECK(f != NULL);
	if (!f || !x) {
		if (f)
			fclose(f);
		free(x);
		return NULL;
	}
	for (size_t i = 0; i < AD_WINDOWS * AD_DIM; i++) {
		uint32_t u;

		CHECK_EQ_INT(fread(b, 1, 4, f), 4);
		u = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
		memcpy(&x[i], &u, 4);
	}
	fclose(f);
	return x;
}

/* Column col (0-based) of a TSV with a header line, n rows. */
static int read_tsv(const char *rel, int col, size_t n, double *ret)
{
	FILE *f = fopen(shared_path(rel), "r");
	char line[512];
	size_t row = 0;

	if (!f)
		return -1;
	if (!fgets(line, sizeof line, f)) {
		fclose(f);
		return -1;
	}
	while (row < n && fgets(line, sizeof line, f)) {
		char *p = line;

		for (int c = 0; c < col && p; c++) {
			p = strchr(p, '\t');
			if (p)
				p++;
		}
		if (!p)
			break;
		ret[row++] = strtod(p, NULL);
	}
	fclose(f);
	return row == n ? 0 : -1;
}

static void test_ad01_fp32(void)
{
	struct tfl_model *m = load("mlperf_tiny_ad01/ad01_fp32.tflite");
	struct tfl_interp *ip = m ? prepare(m, AD_WINDOWS) : NULL;
	struct tfl_interp *ip1 = m ? prepare(m, 1) : NULL;
	float *x = read_windows();
	double want[AD_WINDOWS], worst = 0;

	CHECK_EQ_INT(read_tsv("mlperf_tiny_ad01/ad01_window_mse_armnn.tsv", 1, AD_WINDOWS, want), 0);
	if (!ip || !ip1 || !x)
		goto out;
	const struct tfl_io *in = tfl_interp_input(ip, 0), *out = tfl_interp_output(ip, 0);

	CHECK_EQ_INT(in->row, AD_DIM);
	CHECK_EQ_INT(out->row, AD_DIM);
	memcpy(in->data, x, sizeof(float) * AD_WINDOWS * AD_DIM);
	CHECK_EQ_INT(tfl_interp_invoke(ip, AD_WINDOWS), 0);
	for (int w = 0; w < AD_WINDOWS; w++) {
		const float *y = (const float *)out->data + (size_t)w * AD_DIM;
		double se = 0, rel;

		for (int i = 0; i < AD_DIM; i++) {
			double d = (double)x[w * AD_DIM + i] - y[i];
			se += d * d;
		}
		rel = fabs(se / AD_DIM - want[w]) / want[w];
		worst = rel > worst ? rel : worst;
		CHECK(rel <= 1e-4);
	}
	printf("AD01 fp32: worst per-window MSE relative error vs ArmNN %.3g (limit 1e-4)\n", worst);
	/* Batch size changes nothing: window 7 alone gives the same bits. */
	memcpy(tfl_interp_input(ip1, 0)->data, x + 7 * AD_DIM, sizeof(float) * AD_DIM);
	CHECK_EQ_INT(tfl_interp_invoke(ip1, 1), 0);
	CHECK(memcmp(tfl_interp_output(ip1, 0)->data, (const float *)out->data + 7 * AD_DIM,
		     sizeof(float) * AD_DIM) == 0);
out:
	free(x);
	tfl_interp_free(ip);
	tfl_interp_free(ip1);
	tfl_model_free(m);
}

/* ArmNN's requantisation of one int8 FULLY_CONNECTED layer (float multiplier,
 * round half away from zero), recomputed from the model's own tensors. */
static void armnn_fc_layer(const struct tfl_model *m, const struct tfl_operator *op, const int8_t *x,
			   int8_t *ret)
{
	const struct tfl_tensor *tx = &m->tensors[op->inputs[0]], *tw = &m->tensors[op->inputs[1]];
	const struct tfl_tensor *tb = &m->tensors[op->inputs[2]], *to = &m->tensors[op->outputs[0]];
	const int8_t *w = tw->data;
	const int32_t *b = tb->data;
	int units = tw->shape[0], depth = tw->shape[1];
	float mult = tx->scale[0] * tw->scale[0] / to->scale[0];
	int lo = op->fused == TFL_FUSED_RELU ? (int)to->zero_point[0] : -128;

	for (int o = 0; o < units; o++) {
		int64_t acc = b[o];
		long v;

		for (int d = 0; d < depth; d++)
			acc += (int64_t)w[o * depth + d] * (x[d] - tx->zero_point[0]);
		v = lround((double)acc * mult) + (long)to->zero_point[0];
		ret[o] = (int8_t)(v < lo ? lo : v > 127 ? 127 : v);
	}
}

static void test_ad01_int8(void)
{
	struct tfl_model *m = load("mlperf_tiny_ad01/ad01_int8.tflite");
	struct tfl_interp *ip = m ? prepare(m, AD_WINDOWS) : NULL;
	double qin[AD_DIM], qout[AD_DIM], mse_want[AD_WINDOWS];
	float *x = read_windows();
	int within1 = 0, worst = 0;

	CHECK_EQ_INT(read_tsv("mlperf_tiny_ad01/ad01_int8_window0_armnn.tsv", 1, AD_DIM, qin), 0);
	CHECK_EQ_INT(read_tsv("mlperf_tiny_ad01/ad01_int8_window0_armnn.tsv", 2, AD_DIM, qout), 0);
	CHECK_EQ_INT(read_tsv("mlperf_tiny_ad01/ad01_window_mse_armnn.tsv", 2, AD_WINDOWS, mse_want), 0);
	if (!ip || !x)
		goto out;
	const struct tfl_io *in = tfl_interp_input(ip, 0), *out = tfl_interp_output(ip, 0);
	int8_t *xq = in->data;
	const int8_t *yq = out->data;

	/* Window 0 through the raw int8 path. */
	for (int i = 0; i < AD_DIM; i++)
		xq[i] = (int8_t)qin[i];
	CHECK_EQ_INT(tfl_interp_invoke(ip, 1), 0);
	for (int i = 0; i < AD_DIM; i++) {
		int d = abs(yq[i] - (int)qout[i]);

		within1 += d <= 1;
		worst = d > worst ? d : worst;
	}
	printf("AD01 int8 window 0: %d of %d outputs within ±1 of ArmNN, worst %d\n", within1, AD_DIM, worst);
	CHECK(worst <= 2);
	CHECK(within1 >= AD_DIM * 99 / 100);

	/* Layer by layer, from nad's own input to each layer, nad and ArmNN's
	 * float requantisation never differ by more than 1. */
	for (size_t k = 0; k < m->n_operators; k++) {
		const struct tfl_operator *op = &m->operators[k];
		const int8_t *lx = tfl_interp_tensor_data(ip, (size_t)op->inputs[0]);
		const int8_t *ly = tfl_interp_tensor_data(ip, (size_t)op->outputs[0]);
		int8_t ref[AD_DIM];
		int units = m->tensors[op->inputs[1]].shape[0], off = 0;

		CHECK_EQ_INT(op->builtin, TFL_OP_FULLY_CONNECTED);
		armnn_fc_layer(m, op, lx, ref);
		for (int o = 0; o < units; o++)
			off += abs(ref[o] - ly[o]) > 1;
		CHECK_EQ_INT(off, 0);
	}

	/* All 40 windows: quantise with the input tensor's own parameters (the
	 * ArmNN column used round(x / 0.3910152316) + 89), dequantise the output. */
	for (int i = 0; i < AD_DIM; i++)
		CHECK_EQ_INT(lroundf(x[i] / in->scale) + in->zero_point < -128 ? -128 :
			     lroundf(x[i] / in->scale) + in->zero_point > 127 ? 127 :
			     lroundf(x[i] / in->scale) + in->zero_point, (int)qin[i]);
	for (size_t i = 0; i < (size_t)AD_WINDOWS * AD_DIM; i++) {
		long q = lroundf(x[i] / in->scale) + in->zero_point;
		xq[i] = (int8_t)(q < -128 ? -128 : q > 127 ? 127 : q);
	}
	CHECK_EQ_INT(tfl_interp_invoke(ip, AD_WINDOWS), 0);
	double worst_rel = 0;

	for (int w = 0; w < AD_WINDOWS; w++) {
		double se = 0, rel;

		for (int i = 0; i < AD_DIM; i++) {
			double y = (double)out->scale * (yq[w * AD_DIM + i] - out->zero_point);
			double d = x[w * AD_DIM + i] - y;
			se += d * d;
		}
		rel = fabs(se / AD_DIM - mse_want[w]) / mse_want[w];
		worst_rel = rel > worst_rel ? rel : worst_rel;
	}
	printf("AD01 int8: worst per-window MSE relative difference vs ArmNN int8 %.3g\n", worst_rel);
	CHECK(worst_rel < 0.05);
out:
	free(x);
	tfl_interp_free(ip);
	tfl_model_free(m);
}

int main(void)
{
	test_hello_float();
	test_hello_int8();
	test_ad01_fp32();
	test_ad01_int8();
	return check_exit();
}
