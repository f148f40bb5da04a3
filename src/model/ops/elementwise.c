/* elementwise.c - ADD, SUB, MUL with NumPy-style broadcasting.
 *
 * Shapes are aligned at their last dimension; each dimension must be equal
 * or 1 in one of the inputs (a scalar, a per-feature vector against a batch
 * of rows, ...). float32 with a fused activation clamp, or int8 as TFLite's
 * reference integer kernels:
 *   ADD/SUB: both inputs are shifted left by 20 bits and rescaled to twice
 *            the larger input scale, added (SUB negates the second
 *            multiplier), then rescaled to the output scale
 *   MUL:     (a - a_zp) * (b - b_zp) rescaled by a_scale * b_scale / out_scale
 * then the output zero point is added and the activation range applied.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/ops/reference/quant_math.h"
#include "model/ops/tfl_ops.h"

#define ADD_LEFT_SHIFT 20

struct ew_params {
	int rank;
	size_t shape[TFL_MAX_RANK];     /* output, at max batch */
	size_t stride_a[TFL_MAX_RANK];  /* 0 where a is broadcast */
	size_t stride_b[TFL_MAX_RANK];
	bool same;                      /* no broadcasting: a flat loop will do */
	bool is_int8;
	float lo, hi;
	int32_t a_offset, b_offset, out_zp, act_lo, act_hi;
	int32_t a_mult, b_mult, out_mult;
	int a_shift, b_shift, out_shift;
};

/* Element-wise strides of rt viewed at rank `rank` (leading 1s added). */
static void strides(const struct tfl_rt *rt, int rank, const size_t *out_shape, size_t *ret)
{
	size_t s = 1;

	for (int d = rank - 1; d >= 0; d--) {
		int src = d - (rank - rt->rank);
		size_t n = src >= 0 ? (size_t)rt->shape[src] : 1;

		ret[d] = (n == 1 && out_shape[d] != 1) ? 0 : s;
		s *= n;
	}
}

static int broadcast(struct tfl_node *node, struct ew_params *p, unsigned max_batch,
		     struct tfl_error *err)
{
	const struct tfl_rt *a = node->in[0], *b = node->in[1];
	int32_t shape1[TFL_MAX_RANK] = { 0 };
	int rank = a->rank > b->rank ? a->rank : b->rank;
	bool batched = a->batched || b->batched;

	/* Work at batch 1 (the file's shapes), then scale the output. */
	for (int d = rank - 1; d >= 0; d--) {
		int da = d - (rank - a->rank), db = d - (rank - b->rank);
		int32_t na = da >= 0 ? a->t->shape[da] : 1, nb = db >= 0 ? b->t->shape[db] : 1;

		if (na != nb && na != 1 && nb != 1)
			return tfl_node_error(node, err, "shapes of '%s' and '%s' do not broadcast (dimension %d: %d vs %d)",
					      a->t->name, b->t->name, d, (int)na, (int)nb);
		shape1[d] = na > nb ? na : nb;
	}
	if (batched) {
		/* The batch must be the leading dimension of the output and of
		 * every batched input, so rows stay contiguous. */
		if (rank < 1 || (a->batched && a->rank != rank) || (b->batched && b->rank != rank) ||
		    shape1[0] != 1)
			return tfl_node_error(node, err, "cannot batch: inputs '%s' and '%s' do not share a leading batch dimension of 1",
					      a->t->name, b->t->name);
	}
	int r = tfl_rt_set_shape(node->out[0], shape1, rank, batched, max_batch, err);
	if (r < 0)
		return r;
	p->rank = rank;
	for (int d = 0; d < rank; d++)
		p->shape[d] = (size_t)node->out[0]->shape[d];
	strides(a, rank, p->shape, p->stride_a);
	strides(b, rank, p->shape, p->stride_b);
	p->same = a->count == node->out[0]->count && b->count == node->out[0]->count;
	return 0;
}

static int prepare_int8(struct tfl_node *node, struct ew_params *p, struct tfl_error *err)
{
	const struct tfl_rt *a = node->in[0], *b = node->in[1], *out = node->out[0];
	int32_t builtin = node->op->builtin;
	int r;

	if ((r = tfl_check_int8(node, a, "input 0", err)) < 0 || (r = tfl_check_int8(node, b, "input 1", err)) < 0 ||
	    (r = tfl_check_int8(node, out, "output", err)) < 0 ||
	    (r = tfl_act_range_int8(node, node->op->fused, out, err, &p->act_lo, &p->act_hi)) < 0)
		return r;
	p->a_offset = -a->zero_point;
	p->b_offset = -b->zero_point;
	p->out_zp = out->zero_point;
	if (builtin == TFL_OP_MUL) {
		tfl_quantize_multiplier((double)a->scale * (double)b->scale / (double)out->scale,
					&p->out_mult, &p->out_shift);
		return 0;
	}
	double twice_max = 2.0 * (double)(a->scale > b->scale ? a->scale : b->scale);

	tfl_quantize_multiplier((double)a->scale / twice_max, &p->a_mult, &p->a_shift);
	tfl_quantize_multiplier((double)b->scale / twice_max, &p->b_mult, &p->b_shift);
	tfl_quantize_multiplier(twice_max / ((double)(1 << ADD_LEFT_SHIFT) * (double)out->scale),
				&p->out_mult, &p->out_shift);
	if (builtin == TFL_OP_SUB)
		p->b_mult = -p->b_mult;    /* rounding is symmetric: exactly a - b */
	return 0;
}

static int ew_prepare(struct tfl_node *node, unsigned max_batch, struct tfl_error *err)
{
	struct ew_params *p;
	const struct tfl_rt *a, *b, *out;
	int r;

	if (node->n_in != 2 || node->n_out != 1 || !node->in[0] || !node->in[1])
		return tfl_node_error(node, err, "takes two inputs and gives one output");
	a = node->in[0];
	b = node->in[1];
	out = node->out[0];
	if (a->type != b->type || a->type != out->type ||
	    (a->type != TFL_TYPE_FLOAT32 && a->type != TFL_TYPE_INT8))
		return tfl_node_error(node, err, "inputs %s and %s, output %s: expected FLOAT32 or INT8 throughout",
				      tfl_type_name(a->type), tfl_type_name(b->type), tfl_type_name(out->type));
	p = calloc(1, sizeof *p);
	if (!p)
		return -ENOMEM;
	node->params = p;
	if ((r = broadcast(node, p, max_batch, err)) < 0)
		return r;
	p->is_int8 = a->type == TFL_TYPE_INT8;
	if (p->is_int8)
		return prepare_int8(node, p, err);
	return tfl_act_range_float(node, node->op->fused, err, &p->lo, &p->hi);
}

static inline float apply_float(int32_t builtin, float x, float y)
{
	return builtin == TFL_OP_ADD ? x + y : builtin == TFL_OP_SUB ? x - y : x * y;
}

static inline int8_t apply_int8(const struct ew_params *p, int32_t builtin, int8_t x, int8_t y)
{
	int32_t xa = x + p->a_offset, yb = y + p->b_offset;
	int64_t v;

	if (builtin == TFL_OP_MUL) {
		v = (int64_t)p->out_zp + tfl_multiply_by_quantized_multiplier(xa * yb, p->out_mult, p->out_shift);
	} else {
		int32_t sa = tfl_multiply_by_quantized_multiplier(xa * (1 << ADD_LEFT_SHIFT), p->a_mult, p->a_shift);
		int32_t sb = tfl_multiply_by_quantized_multiplier(yb * (1 << ADD_LEFT_SHIFT), p->b_mult, p->b_shift);

		v = (int64_t)p->out_zp + tfl_multiply_by_quantized_multiplier(sa + sb, p->out_mult, p->out_shift);
	}
	v = v < p->act_lo ? p->act_lo : v > p->act_hi ? p->act_hi : v;
	return (int8_t)v;
}

static void ew_eval(const struct tfl_node *node, unsigned batch)
{
	const struct ew_params *p = node->params;
	int32_t builtin = node->op->builtin;
	size_t n = tfl_rt_live(node->out[0], batch);
	size_t idx[TFL_MAX_RANK] = { 0 }, ia = 0, ib = 0;

	for (size_t k = 0; k < n; k++) {
		size_t ka = p->same ? k : ia, kb = p->same ? k : ib;

		if (p->is_int8) {
			((int8_t *)node->out[0]->data)[k] =
				apply_int8(p, builtin, ((const int8_t *)node->in[0]->data)[ka],
					   ((const int8_t *)node->in[1]->data)[kb]);
		} else {
			float v = apply_float(builtin, ((const float *)node->in[0]->data)[ka],
					      ((const float *)node->in[1]->data)[kb]);

			v = v < p->lo ? p->lo : v;
			((float *)node->out[0]->data)[k] = v > p->hi ? p->hi : v;
		}
		if (p->same)
			continue;
		/* Step the output index like an odometer, moving both inputs. */
		for (int d = p->rank - 1; d >= 0; d--) {
			ia += p->stride_a[d];
			ib += p->stride_b[d];
			if (++idx[d] < p->shape[d])
				break;
			ia -= p->stride_a[d] * p->shape[d];
			ib -= p->stride_b[d] * p->shape[d];
			idx[d] = 0;
		}
	}
}

const struct tfl_op_kernel tfl_op_add = { TFL_OP_ADD, ew_prepare, ew_eval, NULL };
const struct tfl_op_kernel tfl_op_sub = { TFL_OP_SUB, ew_prepare, ew_eval, NULL };
const struct tfl_op_kernel tfl_op_mul = { TFL_OP_MUL, ew_prepare, ew_eval, NULL };
