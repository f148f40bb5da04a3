/* activations.c - RELU, RELU6, RELU_N1_TO_1, LOGISTIC, TANH.
 *
 * One input, one output of the same shape. float32: the functions
 * themselves. int8 RELU family, as TFLite's reference ReluX: requantise
 * from the input's scale to the output's with a quantised multiplier,
 *   out = clamp(out_zp + MultiplyByQuantizedMultiplier(x - in_zp, M), lo, hi)
 *   M = in_scale / out_scale, [lo, hi] = the bounds quantised with the
 *   output's parameters (zp + round(bound / scale)),
 * then clamp. int8 LOGISTIC and TANH (TFLite computes them with fixed-point
 * exp tables) are refused at prepare; neither reference model needs them.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "model/ops/reference/quant_math.h"
#include "model/ops/tfl_ops.h"

struct act_params {
	int32_t in_zp, out_zp, mult, lo, hi;
	int shift;
};

static int act_prepare(struct tfl_node *node, unsigned max_batch, struct tfl_error *err)
{
	struct tfl_rt *x, *out;
	int32_t builtin = node->op->builtin;
	int r;

	if (node->n_in != 1 || node->n_out != 1 || !node->in[0])
		return tfl_node_error(node, err, "takes one input and gives one output");
	x = node->in[0];
	out = node->out[0];
	if (x->type != out->type)
		return tfl_node_error(node, err, "input is %s but output is %s", tfl_type_name(x->type),
				      tfl_type_name(out->type));
	if ((r = tfl_rt_set_shape(out, x->t->shape, x->t->rank, x->batched, max_batch, err)) < 0)
		return r;
	if (x->type == TFL_TYPE_FLOAT32)
		return 0;
	if (x->type != TFL_TYPE_INT8)
		return tfl_node_error(node, err, "type %s is not supported; expected FLOAT32 or INT8",
				      tfl_type_name(x->type));
	if (builtin == TFL_OP_LOGISTIC || builtin == TFL_OP_TANH)
		return tfl_node_error(node, err, "int8 %s is not supported (float32 only)", tfl_builtin_name(builtin));
	if ((r = tfl_check_int8(node, x, "input", err)) < 0 || (r = tfl_check_int8(node, out, "output", err)) < 0)
		return r;

	struct act_params *p = calloc(1, sizeof *p);
	int32_t fused = builtin == TFL_OP_RELU ? TFL_FUSED_RELU
		      : builtin == TFL_OP_RELU6 ? TFL_FUSED_RELU6 : TFL_FUSED_RELU_N1_TO_1;

	if (!p)
		return -ENOMEM;
	node->params = p;
	p->in_zp = x->zero_point;
	p->out_zp = out->zero_point;
	tfl_quantize_multiplier((double)x->scale / (double)out->scale, &p->mult, &p->shift);
	return tfl_act_range_int8(node, fused, out, err, &p->lo, &p->hi);
}

static void clamp_float(const struct tfl_node *node, unsigned batch, float lo, float hi)
{
	const float *x = node->in[0]->data;
	float *y = node->out[0]->data;
	size_t n = tfl_rt_live(node->out[0], batch);

	for (size_t i = 0; i < n; i++) {
		float v = x[i];

		v = v < lo ? lo : v;
		y[i] = v > hi ? hi : v;
	}
}

static void relu_int8(const struct tfl_node *node, unsigned batch)
{
	const struct act_params *p = node->params;
	const int8_t *x = node->in[0]->data;
	int8_t *y = node->out[0]->data;
	size_t n = tfl_rt_live(node->out[0], batch);

	for (size_t i = 0; i < n; i++) {
		int64_t v = (int64_t)p->out_zp +
			    tfl_multiply_by_quantized_multiplier(x[i] - p->in_zp, p->mult, p->shift);

		v = v < p->lo ? p->lo : v > p->hi ? p->hi : v;
		y[i] = (int8_t)v;
	}
}

static void relu_eval(const struct tfl_node *node, unsigned batch)
{
	if (node->in[0]->type == TFL_TYPE_INT8)
		relu_int8(node, batch);
	else
		clamp_float(node, batch, 0.0f, INFINITY);
}

static void relu6_eval(const struct tfl_node *node, unsigned batch)
{
	if (node->in[0]->type == TFL_TYPE_INT8)
		relu_int8(node, batch);
	else
		clamp_float(node, batch, 0.0f, 6.0f);
}

static void relu_n1_to_1_eval(const struct tfl_node *node, unsigned batch)
{
	if (node->in[0]->type == TFL_TYPE_INT8)
		relu_int8(node, batch);
	else
		clamp_float(node, batch, -1.0f, 1.0f);
}

static void logistic_eval(const struct tfl_node *node, unsigned batch)
{
	const float *x = node->in[0]->data;
	float *y = node->out[0]->data;
	size_t n = tfl_rt_live(node->out[0], batch);

	for (size_t i = 0; i < n; i++)
		y[i] = 1.0f / (1.0f + expf(-x[i]));
}

static void tanh_eval(const struct tfl_node *node, unsigned batch)
{
	const float *x = node->in[0]->data;
	float *y = node->out[0]->data;
	size_t n = tfl_rt_live(node->out[0], batch);

	for (size_t i = 0; i < n; i++)
		y[i] = tanhf(x[i]);
}

const struct tfl_op_kernel tfl_op_relu = { TFL_OP_RELU, act_prepare, relu_eval, NULL };
const struct tfl_op_kernel tfl_op_relu6 = { TFL_OP_RELU6, act_prepare, relu6_eval, NULL };
const struct tfl_op_kernel tfl_op_relu_n1_to_1 = { TFL_OP_RELU_N1_TO_1, act_prepare, relu_n1_to_1_eval, NULL };
const struct tfl_op_kernel tfl_op_logistic = { TFL_OP_LOGISTIC, act_prepare, logistic_eval, NULL };
const struct tfl_op_kernel tfl_op_tanh = { TFL_OP_TANH, act_prepare, tanh_eval, NULL };
