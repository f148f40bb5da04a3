/* reshape.c - RESHAPE: same values, new shape.
 *
 * The new shape comes from the constant int32 second input when there is
 * one, else from ReshapeOptions.new_shape, else from the output tensor's
 * declared shape; one dimension may be -1 (whatever makes the counts
 * agree). A batched input keeps its rows, so the batch scales the output's
 * leading dimension. The values are copied; nothing else changes.
 */
#include <errno.h>
#include <string.h>

#include "model/ops/tfl_ops.h"

static int reshape_prepare(struct tfl_node *node, unsigned max_batch, struct tfl_error *err)
{
	const struct tfl_rt *x, *s;
	struct tfl_rt *out;
	int32_t shape[TFL_MAX_RANK];
	int rank = -1, unknown = -1;
	size_t count1, known = 1;

	if (node->n_in < 1 || node->n_in > 2 || node->n_out != 1 || !node->in[0])
		return tfl_node_error(node, err, "takes an input and an optional shape, and gives one output");
	x = node->in[0];
	s = node->n_in > 1 ? node->in[1] : NULL;
	out = node->out[0];
	if (x->type != out->type)
		return tfl_node_error(node, err, "input is %s but output is %s", tfl_type_name(x->type),
				      tfl_type_name(out->type));
	if (s) {
		if (!s->t->data || s->type != TFL_TYPE_INT32 || s->rank > 1 || s->count > TFL_MAX_RANK)
			return tfl_node_error(node, err, "shape '%s' must be a constant INT32 vector of at most %d values",
					      s->t->name, TFL_MAX_RANK);
		rank = (int)s->count;
		memcpy(shape, s->t->data, s->count * sizeof *shape);
	} else if (node->op->new_shape_rank >= 0) {
		rank = node->op->new_shape_rank;
		memcpy(shape, node->op->new_shape, sizeof shape);
	} else {
		rank = out->t->rank;
		memcpy(shape, out->t->shape, sizeof shape);
	}
	if (rank > TFL_MAX_RANK)
		return tfl_node_error(node, err, "new shape has %d dimensions, more than %d", rank, TFL_MAX_RANK);
	count1 = tfl_rt_count1(x);
	for (int d = 0; d < rank; d++) {
		if (shape[d] == -1 && unknown < 0) {
			unknown = d;
		} else if (shape[d] < 1) {
			return tfl_node_error(node, err, "new shape dimension %d is %d", d, (int)shape[d]);
		} else {
			known *= (size_t)shape[d];
			if (known > count1)
				break;
		}
	}
	if (unknown >= 0 && known <= count1 && count1 % known == 0)
		shape[unknown] = (int32_t)(count1 / known), known = count1;
	if (known != count1)
		return tfl_node_error(node, err, "cannot reshape %zu values of '%s' to the new shape",
				      count1, x->t->name);
	return tfl_rt_set_shape(out, shape, rank, x->batched, max_batch, err);
}

static void reshape_eval(const struct tfl_node *node, unsigned batch)
{
	size_t n = tfl_rt_live(node->in[0], batch);

	memcpy(node->out[0]->data, node->in[0]->data, n * tfl_type_size(node->in[0]->type));
}

const struct tfl_op_kernel tfl_op_reshape = { TFL_OP_RESHAPE, reshape_prepare, reshape_eval, NULL };
