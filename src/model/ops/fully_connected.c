/* fully_connected.c - FULLY_CONNECTED: out = act(x . W^T + b).
 *
 * Inputs: x [..., depth], weights [units, depth] (constant), optional bias
 * [units] (constant). float32 throughout, or int8 x/weights/output with an
 * int32 bias, weights quantised per tensor or per output channel
 * (TFLite's reference_integer_ops FullyConnected / FullyConnectedPerChannel):
 *
 *   acc = bias[o] + sum_d (x[d] - x_zp) * (w[o][d] - w_zp)
 *   out = clamp(x_zp' + MultiplyByQuantizedMultiplier(acc, M[o]), act range)
 *   M[o] = x_scale * w_scale[o] / out_scale  (computed in double)
 *
 * keep_num_dims keeps x's leading dimensions; otherwise the output is
 * [rows, units]. Hybrid models (float x, int8 weights) are refused.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/ops/reference/fc_kernel.h"
#include "model/ops/reference/quant_math.h"
#include "model/ops/tfl_ops.h"

/* int8 sums stay exact in 32 bits while depth * 255 * 255 < 2^31. */
#define FC_MAX_INT8_DEPTH 32768
/* Prepared weights of one operator, at most this many bytes. */
#define FC_MAX_PREPARED_BYTES (256u << 20)

struct fc_params {
	size_t depth, units, units_p;
	bool is_int8;
	/* float */
	float *wt;          /* [depth][units_p] */
	float *bias;        /* [units_p] */
	float lo, hi;
	/* int8 */
	float *wt_q;        /* [depth][units_p], weight - weight zero point (exact integers) */
	int32_t *bias_q;    /* [units] */
	int32_t *mult;      /* [units] */
	int *shift;         /* [units] */
	int32_t x_offset, out_zp, act_lo, act_hi;
};

static void fc_release(struct tfl_node *node)
{
	struct fc_params *p = node->params;

	if (!p)
		return;
	free(p->wt);
	free(p->bias);
	free(p->wt_q);
	free(p->bias_q);
	free(p->mult);
	free(p->shift);
	free(p);
	node->params = NULL;
}

static void *alloc_zero(size_t n)
{
	size_t len = (n + 63) & ~(size_t)63;
	void *p = aligned_alloc(64, len ? len : 64);

	if (p)
		memset(p, 0, len ? len : 64);
	return p;
}

static int prepare_float(struct tfl_node *node, struct fc_params *p, struct tfl_error *err)
{
	const struct tfl_rt *w = node->in[1], *b = node->n_in > 2 ? node->in[2] : NULL;
	const float *wd = w->data;

	if (b && b->type != TFL_TYPE_FLOAT32)
		return tfl_node_error(node, err, "bias '%s' is %s; expected FLOAT32 for a float model",
				      b->t->name, tfl_type_name(b->type));
	if (tfl_act_range_float(node, node->op->fused, err, &p->lo, &p->hi) < 0)
		return -EINVAL;
	p->wt = alloc_zero(p->depth * p->units_p * sizeof *p->wt);
	p->bias = alloc_zero(p->units_p * sizeof *p->bias);
	if (!p->wt || !p->bias)
		return -ENOMEM;
	for (size_t o = 0; o < p->units; o++)
		for (size_t d = 0; d < p->depth; d++)
			p->wt[d * p->units_p + o] = wd[o * p->depth + d];
	if (b)
		memcpy(p->bias, b->data, p->units * sizeof *p->bias);
	return 0;
}

static int prepare_int8(struct tfl_node *node, struct fc_params *p, struct tfl_error *err)
{
	const struct tfl_rt *x = node->in[0], *w = node->in[1], *out = node->out[0];
	const struct tfl_rt *b = node->n_in > 2 ? node->in[2] : NULL;
	const struct tfl_tensor *wt = w->t;
	const int8_t *wd = w->data;
	int r;

	if ((r = tfl_check_int8(node, x, "input", err)) < 0 ||
	    (r = tfl_check_int8(node, out, "output", err)) < 0)
		return r;
	if (b && b->type != TFL_TYPE_INT32)
		return tfl_node_error(node, err, "bias '%s' is %s; expected INT32 for an int8 model",
				      b->t->name, tfl_type_name(b->type));
	if (wt->n_quant != 1 && !(wt->n_quant == p->units && wt->quant_dim == 0))
		return tfl_node_error(node, err, "weights '%s' have %u scales; expected 1 or one per output (%zu) along dimension 0",
				      wt->name, wt->n_quant, p->units);
	if (wt->n_quant > 1)
		for (size_t o = 0; o < p->units; o++)
			if (wt->zero_point[o] != 0)
				return tfl_node_error(node, err, "per-channel weights '%s' have zero point %lld; expected 0",
						      wt->name, (long long)wt->zero_point[o]);
	if (wt->zero_point[0] < -128 || wt->zero_point[0] > 127)
		return tfl_node_error(node, err, "weights '%s' zero point %lld is outside [-128, 127]",
				      wt->name, (long long)wt->zero_point[0]);
	if (p->depth > FC_MAX_INT8_DEPTH)
		return tfl_node_error(node, err, "input depth %zu is more than %d for int8", p->depth, FC_MAX_INT8_DEPTH);
	if ((r = tfl_act_range_int8(node, node->op->fused, out, err, &p->act_lo, &p->act_hi)) < 0)
		return r;
	p->x_offset = -x->zero_point;
	p->out_zp = out->zero_point;
	p->wt_q = alloc_zero(p->depth * p->units_p * sizeof *p->wt_q);
	p->bias_q = calloc(p->units, sizeof *p->bias_q);
	p->mult = calloc(p->units, sizeof *p->mult);
	p->shift = calloc(p->units, sizeof *p->shift);
	if (!p->wt_q || !p->bias_q || !p->mult || !p->shift)
		return -ENOMEM;
	for (size_t o = 0; o < p->units; o++) {
		size_t c = wt->n_quant > 1 ? o : 0;
		float ws = wt->scale[c];
		double m = (double)x->scale * (double)ws / (double)out->scale;

		if (!(ws > 0) || !isfinite(ws) || !isfinite(m))
			return tfl_node_error(node, err, "weights '%s' scale %zu (%g) is not a finite positive number",
					      wt->name, c, (double)ws);
		tfl_quantize_multiplier(m, &p->mult[o], &p->shift[o]);
		for (size_t d = 0; d < p->depth; d++)
			p->wt_q[d * p->units_p + o] = (float)(wd[o * p->depth + d] - (int32_t)wt->zero_point[0]);
		p->bias_q[o] = b ? ((const int32_t *)b->data)[o] : 0;
	}
	return 0;
}

static int fc_prepare(struct tfl_node *node, unsigned max_batch, struct tfl_error *err)
{
	const struct tfl_operator *op = node->op;
	struct tfl_rt *x, *w, *b, *out;
	struct fc_params *p;
	int32_t shape[TFL_MAX_RANK];
	size_t count1;
	int rank, r;

	if (node->n_in < 2 || node->n_in > 3 || node->n_out != 1 || !node->in[0] || !node->in[1])
		return tfl_node_error(node, err, "takes input, weights and an optional bias, and gives one output");
	x = node->in[0];
	w = node->in[1];
	b = node->n_in > 2 ? node->in[2] : NULL;
	out = node->out[0];
	if (op->weights_format != 0)
		return tfl_node_error(node, err, "shuffled weights format %d is not supported", (int)op->weights_format);
	if (!w->t->data || w->rank != 2)
		return tfl_node_error(node, err, "weights '%s' must be a constant [units, depth] matrix", w->t->name);
	if (b && (!b->t->data || b->count != (size_t)w->shape[0]))
		return tfl_node_error(node, err, "bias '%s' must be a constant vector of %d values",
				      b->t->name, (int)w->shape[0]);
	if (x->type == TFL_TYPE_FLOAT32 && w->type == TFL_TYPE_FLOAT32 && out->type == TFL_TYPE_FLOAT32) {
		/* float */
	} else if (x->type == TFL_TYPE_INT8 && w->type == TFL_TYPE_INT8 && out->type == TFL_TYPE_INT8) {
		/* int8 */
	} else {
		return tfl_node_error(node, err, "input %s, weights %s, output %s: supported are FLOAT32 throughout or INT8 throughout (int32 bias)",
				      tfl_type_name(x->type), tfl_type_name(w->type), tfl_type_name(out->type));
	}
	p = calloc(1, sizeof *p);
	if (!p)
		return -ENOMEM;
	node->params = p;
	p->units = (size_t)w->shape[0];
	p->depth = (size_t)w->shape[1];
	p->units_p = (p->units + TFL_FC_BLOCK - 1) / TFL_FC_BLOCK * TFL_FC_BLOCK;
	p->is_int8 = x->type == TFL_TYPE_INT8;
	count1 = tfl_rt_count1(x);
	if (count1 % p->depth != 0)
		return tfl_node_error(node, err, "input '%s' has %zu values per row, not a multiple of the weights' depth %zu",
				      x->t->name, count1, p->depth);
	if ((double)p->depth * (double)p->units_p * 4 > FC_MAX_PREPARED_BYTES)
		return tfl_node_error(node, err, "weights of %zu x %zu are too large", p->units, p->depth);
	if (op->keep_num_dims) {
		if (x->rank < 1 || (size_t)x->t->shape[x->rank - 1] != p->depth)
			return tfl_node_error(node, err, "keep_num_dims needs the input's last dimension to be %zu", p->depth);
		rank = x->t->rank;
		memcpy(shape, x->t->shape, sizeof shape);
		shape[rank - 1] = (int32_t)p->units;
	} else {
		rank = 2;
		shape[0] = (int32_t)(count1 / p->depth);
		shape[1] = (int32_t)p->units;
	}
	if ((r = tfl_rt_set_shape(out, shape, rank, x->batched, max_batch, err)) < 0)
		return r;
	if (p->is_int8) {
		/* Accumulators, then the block's input rows as floats. */
		node->scratch_bytes = TFL_FC_ROWS * (p->units_p * sizeof(int32_t) + p->depth * sizeof(float));
		return prepare_int8(node, p, err);
	}
	return prepare_float(node, p, err);
}

static void fc_eval(const struct tfl_node *node, unsigned batch)
{
	const struct fc_params *p = node->params;
	size_t rows = tfl_rt_live(node->in[0], batch) / p->depth;

	if (!p->is_int8) {
		tfl_fc_float(node->in[0]->data, rows, p->depth, p->wt, p->bias, p->units, p->units_p,
			     p->lo, p->hi, node->out[0]->data);
		return;
	}
	const int8_t *x = node->in[0]->data;
	int8_t *out = node->out[0]->data;
	int32_t *acc = node->scratch;
	float *xf = (float *)(acc + TFL_FC_ROWS * p->units_p);

	for (size_t r0 = 0; r0 < rows; r0 += TFL_FC_ROWS) {
		size_t nr = rows - r0 < TFL_FC_ROWS ? rows - r0 : TFL_FC_ROWS;

		for (size_t i = 0; i < nr * p->depth; i++)
			xf[i] = (float)(x[r0 * p->depth + i] + p->x_offset);
		tfl_fc_int8_acc(xf, nr, p->depth, p->wt_q, p->units_p, acc);
		for (size_t r = 0; r < nr; r++) {
			const int32_t *a = acc + r * p->units_p;
			int8_t *dst = out + (r0 + r) * p->units;

			for (size_t o = 0; o < p->units; o++) {
				int64_t s = (int64_t)a[o] + p->bias_q[o];
				int64_t v;

				s = s > INT32_MAX ? INT32_MAX : s < INT32_MIN ? INT32_MIN : s;
				v = (int64_t)tfl_multiply_by_quantized_multiplier((int32_t)s, p->mult[o], p->shift[o]) + p->out_zp;
				v = v < p->act_lo ? p->act_lo : v > p->act_hi ? p->act_hi : v;
				dst[o] = (int8_t)v;
			}
		}
	}
}

const struct tfl_op_kernel tfl_op_fully_connected = {
	.builtin = TFL_OP_FULLY_CONNECTED,
	.prepare = fc_prepare,
	.eval = fc_eval,
	.release = fc_release,
};
