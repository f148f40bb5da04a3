/* test_tfl_ops.c - operator kernels and TFLite's fixed-point arithmetic
 * against golden numbers worked out by hand (in the comments), in the
 * manner of TFLite Micro's kernel tests. Nodes are built directly, without
 * a file, so each test shows exactly what goes in. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "model/ops/reference/fc_kernel.h"
#include "model/ops/reference/quant_math.h"
#include "model/ops/tfl_ops.h"

static void test_quantize_multiplier(void)
{
	int32_t m;
	int s;

	tfl_quantize_multiplier(0.5, &m, &s);          /* 0.5 = 2^30/2^31 * 2^0 */
	CHECK_EQ_INT(m, 1 << 30);
	CHECK_EQ_INT(s, 0);
	tfl_quantize_multiplier(1.0, &m, &s);          /* frexp gives 0.5 * 2^1 */
	CHECK_EQ_INT(m, 1 << 30);
	CHECK_EQ_INT(s, 1);
	tfl_quantize_multiplier(0.75, &m, &s);
	CHECK_EQ_INT(m, 0x60000000);
	CHECK_EQ_INT(s, 0);
	/* Mantissa 1 - 2^-33 rounds up to 2^31: renormalised to 2^30, shift + 1. */
	tfl_quantize_multiplier(1.0 - ldexp(1.0, -33), &m, &s);
	CHECK_EQ_INT(m, 1 << 30);
	CHECK_EQ_INT(s, 1);
	/* Half-way mantissa rounds away from zero: 0.5 + 2^-32 -> 2^30 + 1 (0.5 ulp up). */
	tfl_quantize_multiplier(0.5 + ldexp(1.0, -32), &m, &s);
	CHECK_EQ_INT(m, (1 << 30) + 1);
	CHECK_EQ_INT(s, 0);
	tfl_quantize_multiplier(ldexp(1.0, -40), &m, &s); /* shift -39 < -31: flushed */
	CHECK_EQ_INT(m, 0);
	CHECK_EQ_INT(s, 0);
	tfl_quantize_multiplier(ldexp(1.0, 40), &m, &s);  /* shift 41 > 30: clamped */
	CHECK_EQ_INT(m, INT32_MAX);
	CHECK_EQ_INT(s, 30);
	tfl_quantize_multiplier(0.0, &m, &s);
	CHECK_EQ_INT(m, 0);
	CHECK_EQ_INT(s, 0);
	tfl_quantize_multiplier(NAN, &m, &s);
	CHECK_EQ_INT(m, 0);
}

static void test_fixed_point(void)
{
	/* SaturatingRoundingDoublingHighMul: (a*b*2) / 2^32; gemmlowp's nudge
	 * makes ties go up (toward +infinity), for negative products too. */
	CHECK_EQ_INT(tfl_sat_rounding_doubling_high_mul(INT32_MIN, INT32_MIN), INT32_MAX);
	CHECK_EQ_INT(tfl_sat_rounding_doubling_high_mul(1 << 30, 1 << 30), 1 << 29);
	CHECK_EQ_INT(tfl_sat_rounding_doubling_high_mul(3, 1 << 30), 2);    /* 1.5 -> 2 */
	CHECK_EQ_INT(tfl_sat_rounding_doubling_high_mul(-3, 1 << 30), -1);  /* -1.5 -> -1 */
	CHECK_EQ_INT(tfl_sat_rounding_doubling_high_mul(-5, 1 << 29), -1);  /* -1.25 -> -1 */
	CHECK_EQ_INT(tfl_sat_rounding_doubling_high_mul(-7, 1 << 29), -2);  /* -1.75 -> -2 */
	CHECK_EQ_INT(tfl_sat_rounding_doubling_high_mul(5, 1 << 29), 1);    /* 1.25 -> 1 */
	CHECK_EQ_INT(tfl_sat_rounding_doubling_high_mul(INT32_MIN, INT32_MAX), -INT32_MAX);
	/* RoundingDivideByPOT: half away from zero. */
	CHECK_EQ_INT(tfl_rounding_divide_by_pot(5, 1), 3);
	CHECK_EQ_INT(tfl_rounding_divide_by_pot(-5, 1), -3);
	CHECK_EQ_INT(tfl_rounding_divide_by_pot(4, 1), 2);
	CHECK_EQ_INT(tfl_rounding_divide_by_pot(7, 2), 2);     /* 1.75 */
	CHECK_EQ_INT(tfl_rounding_divide_by_pot(6, 2), 2);     /* 1.5 */
	CHECK_EQ_INT(tfl_rounding_divide_by_pot(-6, 2), -2);   /* -1.5 */
	CHECK_EQ_INT(tfl_rounding_divide_by_pot(-5, 2), -1);   /* -1.25 */
	CHECK_EQ_INT(tfl_rounding_divide_by_pot(123, 0), 123);
	CHECK_EQ_INT(tfl_rounding_divide_by_pot(INT32_MIN, 31), -1);
	CHECK_EQ_INT(tfl_rounding_divide_by_pot(INT32_MAX, 31), 1);
	/* MultiplyByQuantizedMultiplier: two roundings, as TFLite. */
	CHECK_EQ_INT(tfl_multiply_by_quantized_multiplier(100, 1 << 30, 0), 50);
	CHECK_EQ_INT(tfl_multiply_by_quantized_multiplier(3, 1 << 30, 0), 2);    /* 1.5 */
	CHECK_EQ_INT(tfl_multiply_by_quantized_multiplier(-3, 1 << 30, 0), -1);  /* -1.5: tie up */
	CHECK_EQ_INT(tfl_multiply_by_quantized_multiplier(3, 1 << 30, 1), 3);    /* x 1.0 */
	CHECK_EQ_INT(tfl_multiply_by_quantized_multiplier(1000, 1 << 30, -3), 63); /* 62.5 -> 63 */
	CHECK_EQ_INT(tfl_multiply_by_quantized_multiplier(-1000, 1 << 30, -3), -63);
	/* 5 * 0.75 / 2 = 1.875: high_mul 3.75 -> 4, then 4 / 2 = 2. */
	CHECK_EQ_INT(tfl_multiply_by_quantized_multiplier(5, 0x60000000, -1), 2);
	/* 7 * 0.75 / 4 = 1.3125: high_mul 5.25 -> 5, 5 / 4 = 1.25 -> 1. */
	CHECK_EQ_INT(tfl_multiply_by_quantized_multiplier(7, 0x60000000, -2), 1);
	/* 10 * 0.75 / 4 = 1.875: high_mul 7.5 -> 8, 8 / 4 = 2. */
	CHECK_EQ_INT(tfl_multiply_by_quantized_multiplier(10, 0x60000000, -2), 2);
	/* Where rounding twice differs from rounding once: 2 * 0.75 / 4 = 0.375
	 * rounds to 0 once; twice, high_mul 1.5 -> 2, then 2 / 4 = 0.5 -> 1
	 * (half away from zero). TFLite says 1. For -2: high_mul -1.5 -> -1
	 * (tie up), then -1 / 4 = -0.25 -> 0. */
	CHECK_EQ_INT(tfl_multiply_by_quantized_multiplier(2, 0x60000000, -2), 1);
	CHECK_EQ_INT(tfl_multiply_by_quantized_multiplier(-2, 0x60000000, -2), 0);
	/* Left shift that would overflow int32 saturates instead of wrapping. */
	CHECK_EQ_INT(tfl_multiply_by_quantized_multiplier(INT32_MAX, 1 << 30, 5), 1073741824);
	/* float -> int8 QUANTIZE: round half away from zero, saturate, NaN -> zp. */
	CHECK_EQ_INT(tfl_quantize_float(1.25f, 0.5f, 0), 3);
	CHECK_EQ_INT(tfl_quantize_float(-1.25f, 0.5f, 0), -3);
	CHECK_EQ_INT(tfl_quantize_float(1.0f, 0.5f, -128), -126);
	CHECK_EQ_INT(tfl_quantize_float(1e30f, 0.5f, 0), 127);
	CHECK_EQ_INT(tfl_quantize_float(-1e30f, 0.5f, 0), -128);
	CHECK_EQ_INT(tfl_quantize_float(NAN, 0.5f, 7), 7);
}

/* A tensor, its run-time view and storage, as the interpreter would make. */
struct tt {
	struct tfl_tensor t;
	struct tfl_rt rt;
	float scale;
	int64_t zp;
	uint8_t buf[4096] __attribute__((aligned(64)));
};

static void tt_init(struct tt *x, int32_t type, const int32_t *shape, int rank, const void *cdata,
		    float scale, int64_t zp)
{
	memset(x, 0, sizeof *x);
	x->t.name = "t";
	x->t.rank = rank;
	x->t.count = 1;
	for (int d = 0; d < rank; d++) {
		x->t.shape[d] = shape[d];
		x->t.count *= (size_t)shape[d];
	}
	x->t.type = type;
	if (cdata) {
		memcpy(x->buf, cdata, x->t.count * tfl_type_size(type));
		x->t.data = x->buf;
		x->t.data_len = x->t.count * tfl_type_size(type);
	}
	if (scale > 0) {
		x->scale = scale;
		x->zp = zp;
		x->t.n_quant = 1;
		x->t.scale = &x->scale;
		x->t.zero_point = &x->zp;
	}
	x->rt.t = &x->t;
	x->rt.rank = rank;
	memcpy(x->rt.shape, x->t.shape, sizeof x->rt.shape);
	x->rt.type = type;
	x->rt.count = x->t.count;
	x->rt.row = x->t.count;
	x->rt.data = x->buf;
	x->rt.ready = true;
	x->rt.scale = scale;
	x->rt.zero_point = (int32_t)zp;
}

/* Mark x as a batched graph input of max_batch rows (leading dim 1 in the file). */
static void tt_batch(struct tt *x, unsigned max_batch)
{
	x->rt.batched = true;
	x->rt.row = x->t.count;
	x->rt.count = x->t.count * max_batch;
	x->rt.shape[0] *= (int32_t)max_batch;
}

static uint8_t scratch[1 << 16] __attribute__((aligned(64)));

static int run_node(const struct tfl_op_kernel *k, struct tfl_operator *op, struct tt **in, int n_in,
		    struct tt *out, unsigned max_batch, unsigned batch, struct tfl_error *err)
{
	struct tfl_node node = { 0 };
	int r;

	op->builtin = k->builtin;
	node.op = op;
	node.k = k;
	node.n_in = n_in;
	node.n_out = 1;
	for (int i = 0; i < n_in; i++)
		node.in[i] = in[i] ? &in[i]->rt : NULL;
	node.out[0] = &out->rt;
	out->rt.ready = false;
	r = k->prepare(&node, max_batch, err);
	if (r == 0) {
		CHECK(node.scratch_bytes <= sizeof scratch);
		CHECK(out->rt.count * tfl_type_size(out->rt.type) <= sizeof out->buf);
		node.scratch = scratch;
		out->rt.data = out->buf;
		k->eval(&node, batch);
	}
	if (k->release)
		k->release(&node);
	else
		free(node.params);
	return r;
}

static void test_fc_float(void)
{
	/* x = [[1,2,3],[-1,0,1]], W = [[1,0,-1],[0.5,0.5,0.5]], b = [0.5,-4]
	 * x.W^T + b = [[1-3+0.5, 3-4], [-1-1+0.5, 0-4]] = [[-1.5,-1],[-1.5,-4]]
	 * fused RELU6 -> all 0; NONE -> as is. */
	static const float xv[6] = { 1, 2, 3, -1, 0, 1 }, wv[6] = { 1, 0, -1, 0.5f, 0.5f, 0.5f };
	static const float bv[2] = { 0.5f, -4 };
	static const int32_t xs[2] = { 1, 3 }, ws[2] = { 2, 3 }, bs[1] = { 2 }, os[2] = { 1, 2 };
	static struct tt x, w, b, out;
	struct tt *in[3] = { &x, &w, &b };
	struct tfl_operator op = { .fused = TFL_FUSED_NONE, .new_shape_rank = -1 };
	struct tfl_error err;
	const float *y = (const float *)out.buf;

	tt_init(&x, TFL_TYPE_FLOAT32, xs, 2, NULL, 0, 0);
	tt_init(&w, TFL_TYPE_FLOAT32, ws, 2, wv, 0, 0);
	tt_init(&b, TFL_TYPE_FLOAT32, bs, 1, bv, 0, 0);
	tt_init(&out, TFL_TYPE_FLOAT32, os, 2, NULL, 0, 0);
	tt_batch(&x, 2);
	memcpy(x.buf, xv, sizeof xv);
	CHECK_EQ_INT(run_node(&tfl_op_fully_connected, &op, in, 3, &out, 2, 2, &err), 0);
	CHECK_NEAR(y[0], -1.5, 1e-6);
	CHECK_NEAR(y[1], -1.0, 1e-6);
	CHECK_NEAR(y[2], -1.5, 1e-6);
	CHECK_NEAR(y[3], -4.0, 1e-6);
	CHECK_EQ_INT(out.rt.shape[0], 2);
	CHECK_EQ_INT(out.rt.shape[1], 2);
	op.fused = TFL_FUSED_RELU6;
	CHECK_EQ_INT(run_node(&tfl_op_fully_connected, &op, in, 3, &out, 2, 2, &err), 0);
	CHECK_NEAR(y[0], 0, 0);
	CHECK_NEAR(y[3], 0, 0);
	/* No bias; more outputs than one register block (19 units, depth 5). */
	{
		static float wbig[19 * 5], xb[5] = { 1, -2, 0.5f, 3, -1 };
		static const int32_t wbs[2] = { 19, 5 }, xbs[2] = { 1, 5 }, obs[2] = { 1, 19 };
		struct tt *in2[3] = { &x, &w, NULL };

		for (int i = 0; i < 19 * 5; i++)
			wbig[i] = (float)((i * 7) % 11) - 5.0f;
		tt_init(&x, TFL_TYPE_FLOAT32, xbs, 2, NULL, 0, 0);
		tt_init(&w, TFL_TYPE_FLOAT32, wbs, 2, wbig, 0, 0);
		tt_init(&out, TFL_TYPE_FLOAT32, obs, 2, NULL, 0, 0);
		memcpy(x.buf, xb, sizeof xb);
		op.fused = TFL_FUSED_NONE;
		CHECK_EQ_INT(run_node(&tfl_op_fully_connected, &op, in2, 3, &out, 1, 1, &err), 0);
		for (int o = 0; o < 19; o++) {
			float s = 0;
			for (int d = 0; d < 5; d++)
				s += wbig[o * 5 + d] * xb[d];
			CHECK_NEAR(y[o], s, 1e-5);
		}
	}
	/* Hybrid (float input, int8 weights) is refused with a reason. */
	{
		static const int8_t wq[6] = { 1, 2, 3, 4, 5, 6 };
		struct tt *in3[3] = { &x, &w, NULL };

		tt_init(&x, TFL_TYPE_FLOAT32, xs, 2, NULL, 0, 0);
		tt_init(&w, TFL_TYPE_INT8, ws, 2, wq, 0.1f, 0);
		tt_init(&out, TFL_TYPE_FLOAT32, os, 2, NULL, 0, 0);
		CHECK(run_node(&tfl_op_fully_connected, &op, in3, 3, &out, 1, 1, &err) < 0);
		CHECK(strstr(err.msg, "FLOAT32 throughout or INT8") != NULL);
	}
}

static void test_fc_int8(void)
{
	/* x scale 0.5 zp -10, W scale 0.25 (per tensor) zp 0, out scale 1.0 zp 3.
	 * x_q = [-8, -6, -12] -> real [1, 2, -1]; W_q = [[4, 8, -4], [-4, 0, 12]]
	 * -> real [[1,2,-1],[-1,0,3]]; bias_q (scale 0.125) = [8, -16] -> [1, -2].
	 * real outputs: 1+4+1+1 = 7, -1+0-3-2 = -6; out_q = 3 + [7, -6] = [10, -3].
	 * With fused RELU: lo = zp + round(0 / 1) = 3 -> [10, 3]. */
	static const int8_t wq[6] = { 4, 8, -4, -4, 0, 12 }, xq[3] = { -8, -6, -12 };
	static const int32_t bq[2] = { 8, -16 };
	static const int32_t xs[2] = { 1, 3 }, ws[2] = { 2, 3 }, bs[1] = { 2 }, os[2] = { 1, 2 };
	static struct tt x, w, b, out;
	struct tt *in[3] = { &x, &w, &b };
	struct tfl_operator op = { .fused = TFL_FUSED_NONE, .new_shape_rank = -1 };
	struct tfl_error err;
	const int8_t *y = (const int8_t *)out.buf;

	tt_init(&x, TFL_TYPE_INT8, xs, 2, NULL, 0.5f, -10);
	tt_init(&w, TFL_TYPE_INT8, ws, 2, wq, 0.25f, 0);
	tt_init(&b, TFL_TYPE_INT32, bs, 1, bq, 0.125f, 0);
	tt_init(&out, TFL_TYPE_INT8, os, 2, NULL, 1.0f, 3);
	memcpy(x.buf, xq, sizeof xq);
	CHECK_EQ_INT(run_node(&tfl_op_fully_connected, &op, in, 3, &out, 1, 1, &err), 0);
	CHECK_EQ_INT(y[0], 10);
	CHECK_EQ_INT(y[1], -3);
	op.fused = TFL_FUSED_RELU;
	CHECK_EQ_INT(run_node(&tfl_op_fully_connected, &op, in, 3, &out, 1, 1, &err), 0);
	CHECK_EQ_INT(y[0], 10);
	CHECK_EQ_INT(y[1], 3);

	/* Per channel: row 0 scale 0.25, row 1 scale 0.5 with W_q row 1 halved
	 * ([-2, 0, 6]) gives the same real weights, so the same outputs. */
	{
		static const int8_t wq2[6] = { 4, 8, -4, -2, 0, 6 };
		static float sc[2] = { 0.25f, 0.5f };
		static int64_t zp[2] = { 0, 0 };
		static const int32_t bq2[2] = { 8, -16 };   /* bias scales 0.125 and 0.25: -2 real -> -8 */

		tt_init(&w, TFL_TYPE_INT8, ws, 2, wq2, 0.25f, 0);
		w.t.n_quant = 2;
		w.t.scale = sc;
		w.t.zero_point = zp;
		w.t.quant_dim = 0;
		tt_init(&b, TFL_TYPE_INT32, bs, 1, bq2, 0, 0);
		((int32_t *)b.buf)[1] = -8;
		op.fused = TFL_FUSED_NONE;
		CHECK_EQ_INT(run_node(&tfl_op_fully_connected, &op, in, 3, &out, 1, 1, &err), 0);
		CHECK_EQ_INT(y[0], 10);
		CHECK_EQ_INT(y[1], -3);
		/* A non-zero per-channel weight zero point is refused. */
		zp[1] = 1;
		CHECK(run_node(&tfl_op_fully_connected, &op, in, 3, &out, 1, 1, &err) < 0);
		CHECK(strstr(err.msg, "zero point") != NULL);
		zp[1] = 0;
	}
	/* Saturation: a large accumulator clamps to 127 / -128. */
	{
		static const int8_t big[3] = { 127, 127, 127 };

		tt_init(&w, TFL_TYPE_INT8, ws, 2, wq, 0.25f, 0);
		tt_init(&b, TFL_TYPE_INT32, bs, 1, bq, 0.125f, 0);
		tt_init(&out, TFL_TYPE_INT8, os, 2, NULL, 0.01f, 0);
		memcpy(x.buf, big, sizeof big);
		CHECK_EQ_INT(run_node(&tfl_op_fully_connected, &op, in, 3, &out, 1, 1, &err), 0);
		CHECK_EQ_INT(y[0], 127);       /* (137+137-137)*0.125 + 1 = 18.1 / 0.01 */
		CHECK_EQ_INT(y[1], 127);
	}
}

/* Long int8 dot products (depth 700: three float runs of the kernel) with a
 * non-zero weight zero point and extreme values, against plain int64 sums
 * requantised with the same multiplier: every output must agree exactly. */
static void test_fc_int8_exact(void)
{
	enum { DEPTH = 700, UNITS = 11, ROWS = 6 };
	static int8_t wq[UNITS * DEPTH], xq[ROWS * DEPTH];
	static int32_t bq[UNITS];
	static const int32_t xs[2] = { 1, DEPTH }, ws[2] = { UNITS, DEPTH }, bs[1] = { UNITS }, os[2] = { 1, UNITS };
	static struct { struct tt t; uint8_t more[ROWS * DEPTH]; } xbig;
	static struct tt w, b, out;
	struct tt *x = &xbig.t, *in[3] = { x, &w, &b };
	struct tfl_operator op = { .fused = TFL_FUSED_NONE, .new_shape_rank = -1 };
	struct tfl_error err;
	uint32_t seed = 12345;

	for (int i = 0; i < UNITS * DEPTH; i++) {
		seed = seed * 1103515245u + 12345u;
		/* Unit 0 all -128: against row 0 the sum reaches 700 * 255 * 131,
		 * past 2^24, where a single float sum would no longer be exact. */
		wq[i] = (int8_t)(i < DEPTH || i % 97 == 0 ? -128 : (int)(seed >> 24) - 128);
	}
	for (int i = 0; i < ROWS * DEPTH; i++) {
		seed = seed * 1103515245u + 12345u;
		xq[i] = (int8_t)(i < DEPTH ? 127 : (int)(seed >> 24) - 128);   /* row 0 all 127 */
	}
	for (int o = 0; o < UNITS; o++)
		bq[o] = (o - 5) * 100000;
	tt_init(x, TFL_TYPE_INT8, xs, 2, NULL, 0.02f, -128);
	tt_batch(x, ROWS);
	memcpy(x->buf, xq, sizeof xq);
	tt_init(&w, TFL_TYPE_INT8, ws, 2, NULL, 0.001f, 3);
	w.t.data = wq;                      /* bigger than tt's buffer: point at it */
	w.rt.data = wq;
	tt_init(&b, TFL_TYPE_INT32, bs, 1, bq, 0.00002f, 0);
	tt_init(&out, TFL_TYPE_INT8, os, 2, NULL, 8.0f, -7);
	CHECK_EQ_INT(run_node(&tfl_op_fully_connected, &op, in, 3, &out, ROWS, ROWS, &err), 0);

	int32_t mult;
	int shift;

	/* The kernel's raw sums, against int64 sums. */
	{
		static float xf[4 * DEPTH], wf[DEPTH * 16];
		static int32_t acc[4 * 16];

		for (int r = 0; r < 4; r++)
			for (int d = 0; d < DEPTH; d++)
				xf[r * DEPTH + d] = (float)(xq[r * DEPTH + d] + 128);
		for (int d = 0; d < DEPTH; d++)
			for (int o = 0; o < 16; o++)
				wf[d * 16 + o] = o < UNITS ? (float)(wq[o * DEPTH + d] - 3) : 0.0f;
		tfl_fc_int8_acc(xf, 4, DEPTH, wf, 16, acc);
		for (int r = 0; r < 4; r++) {
			for (int o = 0; o < UNITS; o++) {
				int64_t sum = 0;

				for (int d = 0; d < DEPTH; d++)
					sum += (int64_t)(xq[r * DEPTH + d] + 128) * (wq[o * DEPTH + d] - 3);
				CHECK_EQ_INT(acc[r * 16 + o], sum);
			}
		}
	}
	tfl_quantize_multiplier((double)0.02f * (double)0.001f / (double)8.0f, &mult, &shift);
	for (int r = 0; r < ROWS; r++) {
		for (int o = 0; o < UNITS; o++) {
			int64_t acc = bq[o];
			int64_t v;

			for (int d = 0; d < DEPTH; d++)
				acc += (int64_t)(xq[r * DEPTH + d] + 128) * (wq[o * DEPTH + d] - 3);
			v = tfl_multiply_by_quantized_multiplier((int32_t)acc, mult, shift) - 7;
			v = v < -128 ? -128 : v > 127 ? 127 : v;
			CHECK_EQ_INT(((int8_t *)out.buf)[r * UNITS + o], v);
		}
	}
}

static void test_elementwise(void)
{
	/* [2,3] + [3] broadcast, SUB a scalar, MUL elementwise. */
	static const float av[6] = { 1, 2, 3, 4, 5, 6 }, bv[3] = { 10, 20, 30 }, sv[1] = { 0.5f };
	static const int32_t as[2] = { 2, 3 }, bs[1] = { 3 }, ss[1] = { 1 };
	static struct tt a, b, out;
	struct tt *in[2] = { &a, &b };
	struct tfl_operator op = { .fused = TFL_FUSED_NONE, .new_shape_rank = -1 };
	struct tfl_error err;
	const float *y = (const float *)out.buf;

	tt_init(&a, TFL_TYPE_FLOAT32, as, 2, av, 0, 0);
	tt_init(&b, TFL_TYPE_FLOAT32, bs, 1, bv, 0, 0);
	tt_init(&out, TFL_TYPE_FLOAT32, as, 2, NULL, 0, 0);
	CHECK_EQ_INT(run_node(&tfl_op_add, &op, in, 2, &out, 1, 1, &err), 0);
	CHECK_NEAR(y[0], 11, 0);
	CHECK_NEAR(y[4], 25, 0);
	CHECK_NEAR(y[5], 36, 0);
	tt_init(&b, TFL_TYPE_FLOAT32, ss, 1, sv, 0, 0);
	CHECK_EQ_INT(run_node(&tfl_op_sub, &op, in, 2, &out, 1, 1, &err), 0);
	CHECK_NEAR(y[0], 0.5, 0);
	CHECK_NEAR(y[5], 5.5, 0);
	op.fused = TFL_FUSED_RELU6;
	CHECK_EQ_INT(run_node(&tfl_op_mul, &op, in, 2, &out, 1, 1, &err), 0);
	CHECK_NEAR(y[1], 1, 0);
	CHECK_NEAR(y[5], 3, 0);
	/* Batched rows against a per-feature constant: rows 0 and 1 of 3. */
	{
		static const int32_t rs[2] = { 1, 3 };

		op.fused = TFL_FUSED_NONE;
		tt_init(&a, TFL_TYPE_FLOAT32, rs, 2, NULL, 0, 0);
		tt_batch(&a, 3);
		memcpy(a.buf, av, sizeof av);
		tt_init(&b, TFL_TYPE_FLOAT32, bs, 1, bv, 0, 0);
		tt_init(&out, TFL_TYPE_FLOAT32, rs, 2, NULL, 0, 0);
		CHECK_EQ_INT(run_node(&tfl_op_sub, &op, in, 2, &out, 3, 2, &err), 0);
		CHECK_EQ_INT(out.rt.shape[0], 3);
		CHECK_NEAR(y[0], -9, 0);
		CHECK_NEAR(y[5], -24, 0);
	}
	/* Shapes that do not broadcast. */
	{
		static const int32_t bad[1] = { 2 };

		tt_init(&a, TFL_TYPE_FLOAT32, as, 2, av, 0, 0);
		tt_init(&b, TFL_TYPE_FLOAT32, bad, 1, bv, 0, 0);
		CHECK(run_node(&tfl_op_add, &op, in, 2, &out, 1, 1, &err) < 0);
		CHECK(strstr(err.msg, "do not broadcast") != NULL);
	}
	/* int8 ADD: a (scale 0.5, zp 0) = 10 -> 5.0; b (scale 0.25, zp 0) = 20 -> 5.0;
	 * out scale 1.0 zp -1 -> 10 - 1 = 9. SUB -> 0 - 1 = -1.
	 * MUL: 5 * 5 = 25 -> 24. With b = 21 (5.25): ADD 10.25 -> 10 - 1 = 9,
	 * SUB -0.25 -> 0 - 1 = -1, MUL 26.25 -> 26 - 1 = 25. */
	{
		static const int8_t aq[2] = { 10, 10 }, bq[2] = { 20, 21 };
		static const int32_t qs[1] = { 2 };
		const int8_t *yq = (const int8_t *)out.buf;

		tt_init(&a, TFL_TYPE_INT8, qs, 1, aq, 0.5f, 0);
		tt_init(&b, TFL_TYPE_INT8, qs, 1, bq, 0.25f, 0);
		tt_init(&out, TFL_TYPE_INT8, qs, 1, NULL, 1.0f, -1);
		CHECK_EQ_INT(run_node(&tfl_op_add, &op, in, 2, &out, 1, 1, &err), 0);
		CHECK_EQ_INT(yq[0], 9);
		CHECK_EQ_INT(yq[1], 9);
		CHECK_EQ_INT(run_node(&tfl_op_sub, &op, in, 2, &out, 1, 1, &err), 0);
		CHECK_EQ_INT(yq[0], -1);
		CHECK_EQ_INT(yq[1], -1);
		CHECK_EQ_INT(run_node(&tfl_op_mul, &op, in, 2, &out, 1, 1, &err), 0);
		CHECK_EQ_INT(yq[0], 24);
		CHECK_EQ_INT(yq[1], 25);
	}
}

static void test_quantize_ops(void)
{
	static const float fv[5] = { 0.0f, 0.25f, -0.75f, 100.0f, 0.1f };
	static const int32_t s5[1] = { 5 };
	static struct tt x, out;
	struct tt *in[1] = { &x };
	struct tfl_operator op = { .new_shape_rank = -1 };
	struct tfl_error err;
	const int8_t *yq = (const int8_t *)out.buf;
	const float *yf = (const float *)out.buf;

	/* scale 0.5 zp 2: 0 -> 2, 0.25 -> round(0.5)=1 -> 3, -0.75 -> round(-1.5)=-2 -> 0,
	 * 100 -> 202 -> 127, 0.1 -> round(0.2)=0 -> 2. */
	tt_init(&x, TFL_TYPE_FLOAT32, s5, 1, fv, 0, 0);
	tt_init(&out, TFL_TYPE_INT8, s5, 1, NULL, 0.5f, 2);
	CHECK_EQ_INT(run_node(&tfl_op_quantize, &op, in, 1, &out, 1, 1, &err), 0);
	CHECK_EQ_INT(yq[0], 2);
	CHECK_EQ_INT(yq[1], 3);
	CHECK_EQ_INT(yq[2], 0);
	CHECK_EQ_INT(yq[3], 127);
	CHECK_EQ_INT(yq[4], 2);
	/* Requantise int8 (scale 0.5 zp 2) -> int8 (scale 0.25 zp -1): q' = -1 + 2 (q - 2). */
	{
		static const int8_t qv[5] = { 2, 3, 0, 127, -128 };

		tt_init(&x, TFL_TYPE_INT8, s5, 1, qv, 0.5f, 2);
		tt_init(&out, TFL_TYPE_INT8, s5, 1, NULL, 0.25f, -1);
		CHECK_EQ_INT(run_node(&tfl_op_quantize, &op, in, 1, &out, 1, 1, &err), 0);
		CHECK_EQ_INT(yq[0], -1);
		CHECK_EQ_INT(yq[1], 1);
		CHECK_EQ_INT(yq[2], -5);
		CHECK_EQ_INT(yq[3], 127);
		CHECK_EQ_INT(yq[4], -128);
		/* DEQUANTIZE: 0.5 * (q - 2). */
		tt_init(&out, TFL_TYPE_FLOAT32, s5, 1, NULL, 0, 0);
		CHECK_EQ_INT(run_node(&tfl_op_dequantize, &op, in, 1, &out, 1, 1, &err), 0);
		CHECK_NEAR(yf[0], 0, 0);
		CHECK_NEAR(yf[1], 0.5, 0);
		CHECK_NEAR(yf[3], 62.5, 0);
		CHECK_NEAR(yf[4], -65, 0);
	}
	/* An int8 tensor without a scale is refused. */
	tt_init(&x, TFL_TYPE_FLOAT32, s5, 1, fv, 0, 0);
	tt_init(&out, TFL_TYPE_INT8, s5, 1, NULL, 0, 0);
	CHECK(run_node(&tfl_op_quantize, &op, in, 1, &out, 1, 1, &err) < 0);
	CHECK(strstr(err.msg, "quantisation scale") != NULL);
}

static void test_activations(void)
{
	static const float fv[5] = { -7, -0.5f, 0, 0.5f, 7 };
	static const int32_t s5[1] = { 5 };
	static struct tt x, out;
	struct tt *in[1] = { &x };
	struct tfl_operator op = { .new_shape_rank = -1 };
	struct tfl_error err;
	const float *y = (const float *)out.buf;

	tt_init(&x, TFL_TYPE_FLOAT32, s5, 1, fv, 0, 0);
	tt_init(&out, TFL_TYPE_FLOAT32, s5, 1, NULL, 0, 0);
	CHECK_EQ_INT(run_node(&tfl_op_relu, &op, in, 1, &out, 1, 1, &err), 0);
	CHECK_NEAR(y[0], 0, 0);
	CHECK_NEAR(y[4], 7, 0);
	CHECK_EQ_INT(run_node(&tfl_op_relu6, &op, in, 1, &out, 1, 1, &err), 0);
	CHECK_NEAR(y[3], 0.5, 0);
	CHECK_NEAR(y[4], 6, 0);
	CHECK_EQ_INT(run_node(&tfl_op_relu_n1_to_1, &op, in, 1, &out, 1, 1, &err), 0);
	CHECK_NEAR(y[0], -1, 0);
	CHECK_NEAR(y[1], -0.5, 0);
	CHECK_EQ_INT(run_node(&tfl_op_logistic, &op, in, 1, &out, 1, 1, &err), 0);
	CHECK_NEAR(y[2], 0.5, 1e-7);
	CHECK_NEAR(y[3], 0.62245933, 1e-6);     /* 1 / (1 + e^-0.5) */
	CHECK_NEAR(y[0], 0.00091105, 1e-7);
	CHECK_EQ_INT(run_node(&tfl_op_tanh, &op, in, 1, &out, 1, 1, &err), 0);
	CHECK_NEAR(y[3], 0.46211716, 1e-6);
	CHECK_NEAR(y[4], 0.99999834, 1e-6);
	/* int8 RELU6, in scale 0.1 zp 0 -> out scale 0.05 zp -128:
	 * q' = -128 + 2 q, clamped to [-128, -128 + round(6 / 0.05) = -8]. */
	{
		static const int8_t qv[5] = { -20, 0, 10, 30, 100 };
		const int8_t *yq = (const int8_t *)out.buf;

		tt_init(&x, TFL_TYPE_INT8, s5, 1, qv, 0.1f, 0);
		tt_init(&out, TFL_TYPE_INT8, s5, 1, NULL, 0.05f, -128);
		CHECK_EQ_INT(run_node(&tfl_op_relu6, &op, in, 1, &out, 1, 1, &err), 0);
		CHECK_EQ_INT(yq[0], -128);
		CHECK_EQ_INT(yq[1], -128);
		CHECK_EQ_INT(yq[2], -108);
		CHECK_EQ_INT(yq[3], -68);
		CHECK_EQ_INT(yq[4], -8);
		/* int8 TANH is refused by name. */
		CHECK(run_node(&tfl_op_tanh, &op, in, 1, &out, 1, 1, &err) < 0);
		CHECK(strstr(err.msg, "int8 TANH") != NULL);
	}
}

static void test_reshape(void)
{
	static const float v[6] = { 1, 2, 3, 4, 5, 6 };
	static const int32_t xs[2] = { 1, 6 }, ns[1] = { 3 }, nv[3] = { 1, -1, 2 }, os[3] = { 1, 3, 2 };
	static struct tt x, s, out;
	struct tt *in[2] = { &x, &s };
	struct tfl_operator op = { .new_shape_rank = -1 };
	struct tfl_error err;

	tt_init(&x, TFL_TYPE_FLOAT32, xs, 2, NULL, 0, 0);
	tt_batch(&x, 2);
	memcpy(x.buf, v, sizeof v);
	memcpy(x.buf + sizeof v, v, sizeof v);
	tt_init(&s, TFL_TYPE_INT32, ns, 1, nv, 0, 0);
	tt_init(&out, TFL_TYPE_FLOAT32, os, 3, NULL, 0, 0);
	CHECK_EQ_INT(run_node(&tfl_op_reshape, &op, in, 2, &out, 2, 2, &err), 0);
	CHECK_EQ_INT(out.rt.rank, 3);
	CHECK_EQ_INT(out.rt.shape[0], 2);       /* batch of 2 */
	CHECK_EQ_INT(out.rt.shape[1], 3);       /* the -1 */
	CHECK_EQ_INT(out.rt.shape[2], 2);
	CHECK_NEAR(((float *)out.buf)[11], 6, 0);
	/* Options instead of a shape tensor; a count that does not fit. */
	op.new_shape_rank = 2;
	op.new_shape[0] = 4;
	op.new_shape[1] = 2;
	CHECK(run_node(&tfl_op_reshape, &op, in, 1, &out, 2, 2, &err) < 0);
	CHECK(strstr(err.msg, "cannot reshape 6 values") != NULL);
}

int main(void)
{
	test_quantize_multiplier();
	test_fixed_point();
	test_fc_float();
	test_fc_int8();
	test_fc_int8_exact();
	test_elementwise();
	test_quantize_ops();
	test_activations();
	test_reshape();
	return check_exit();
}
