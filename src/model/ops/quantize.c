/* quantize.c - QUANTIZE and DEQUANTIZE, as TFLite's reference kernels.
 *
 * QUANTIZE float32 -> int8:  q = clamp(round(x / scale) + zp), the division
 *                            in float and rounding half away from zero
 * QUANTIZE int8 -> int8:     requantise, q = clamp(out_zp +
 *                            MultiplyByQuantizedMultiplier(x - in_zp, in_scale / out_scale))
 * DEQUANTIZE int8 -> float32: x = (float)(scale * (q - zp)), scale in double
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "model/ops/reference/quant_math.h"
#include "model/ops/tfl_ops.h"

struct q_params {
	int32_t mult;
	int shift;
};

static int same_shape(struct tfl_node *node, unsigned max_batch, struct tfl_error *err)
{
	const struct tfl_rt *x;

	if (node->n_in != 1 || node->n_out != 1 || !node->in[0])
		return tfl_node_error(node, err, "takes one input and gives one output");
	x = node->in[0];
	return tfl_rt_set_shape(node->out[0], x->t->shape, x->t->rank, x->batched, max_batch, err);
}

static int quantize_prepare(struct tfl_node *node, unsigned max_batch, struct tfl_error *err)
{
	const struct tfl_rt *x, *out;
	struct q_params *p;
	int r;

	if ((r = same_shape(node, max_batch, err)) < 0)
		return r;
	x = node->in[0];
	out = node->out[0];
	if ((r = tfl_check_int8(node, out, "output", err)) < 0)
		return r;
	if (x->type == TFL_TYPE_FLOAT32)
		return 0;
	if (x->type != TFL_TYPE_INT8)
		return tfl_node_error(node, err, "input is %s; expected FLOAT32 or INT8", tfl_type_name(x->type));
	if ((r = tfl_check_int8(node, x, "input", err)) < 0)
		return r;
	p = calloc(1, sizeof *p);
	if (!p)
		return -ENOMEM;
	node->params = p;
	tfl_quantize_multiplier((double)x->scale / (double)out->scale, &p->mult, &p->shift);
	return 0;
}

static void quantize_eval(const struct tfl_node *node, unsigned batch)
{
	const struct tfl_rt *x = node->in[0], *out = node->out[0];
	int8_t *y = out->data;
	size_t n = tfl_rt_live(out, batch);

	if (x->type == TFL_TYPE_FLOAT32) {
		const float *xf = x->data;

		for (size_t i = 0; i < n; i++)
			y[i] = tfl_quantize_float(xf[i], out->scale, out->zero_point);
		return;
	}
	const struct q_params *p = node->params;
	const int8_t *xq = x->data;

	for (size_t i = 0; i < n; i++) {
		int64_t v = (int64_t)out->zero_point +
			    tfl_multiply_by_quantized_multiplier(xq[i] - x->zero_point, p->mult, p->shift);

		y[i] = (int8_t)(v < -128 ? -128 : v > 127 ? 127 : v);
	}
}

static int dequantize_prepare(struct tfl_node *node, unsigned max_batch, struct tfl_error *err)
{
	int r;

	if ((r = same_shape(node, max_batch, err)) < 0)
		return r;
	if (node->out[0]->type != TFL_TYPE_FLOAT32)
		return tfl_node_error(node, err, "output is %s; expected FLOAT32", tfl_type_name(node->out[0]->type));
	return tfl_check_int8(node, node->in[0], "input", err);
}

static void dequantize_eval(const struct tfl_node *node, unsigned batch)
{
	const struct tfl_rt *x = node->in[0];
	const int8_t *xq = x->data;
	float *y = node->out[0]->data;
	size_t n = tfl_rt_live(node->out[0], batch);
	double scale = x->scale;

	for (size_t i = 0; i < n; i++)
		y[i] = (float)(scale * (xq[i] - x->zero_point));
}

const struct tfl_op_kernel tfl_op_quantize = { TFL_OP_QUANTIZE, quantize_prepare, quantize_eval, NULL };
const struct tfl_op_kernel tfl_op_dequantize = { TFL_OP_DEQUANTIZE, dequantize_prepare, dequantize_eval, NULL };
