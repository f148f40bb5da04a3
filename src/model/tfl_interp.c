/* tfl_interp.c - prepare a model once, then run it on batches (tfl_interp.h). */
#include "model/tfl_interp.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/ops/tfl_ops.h"

/* All activations and scratch of one interpreter, at most this much. */
#define TFL_MAX_ARENA_BYTES (512u << 20)
#define TFL_MAX_BATCH 65536u

static const struct tfl_op_kernel *const kernels[] = {
	&tfl_op_fully_connected, &tfl_op_relu, &tfl_op_relu6, &tfl_op_relu_n1_to_1,
	&tfl_op_logistic, &tfl_op_tanh, &tfl_op_add, &tfl_op_sub, &tfl_op_mul,
	&tfl_op_quantize, &tfl_op_dequantize, &tfl_op_reshape,
};
#define N_KERNELS (sizeof kernels / sizeof kernels[0])

struct tfl_interp {
	const struct tfl_model *model;
	unsigned max_batch;
	struct tfl_rt *rt;           /* one per model tensor */
	size_t n_nodes;
	struct tfl_node *nodes;
	struct tfl_io *inputs, *outputs;
	void *arena;
};

static const struct tfl_op_kernel *find_kernel(int32_t builtin)
{
	for (size_t i = 0; i < N_KERNELS; i++)
		if (kernels[i]->builtin == builtin)
			return kernels[i];
	return NULL;
}

bool tfl_interp_supports(int32_t builtin)
{
	return find_kernel(builtin) != NULL;
}

const char *tfl_interp_supported_names(void)
{
	return "FULLY_CONNECTED, RELU, RELU6, RELU_N1_TO_1, LOGISTIC, TANH, ADD, SUB, MUL, "
	       "QUANTIZE, DEQUANTIZE, RESHAPE";
}

int tfl_node_error(const struct tfl_node *node, struct tfl_error *err, const char *fmt, ...)
{
	char msg[sizeof err->msg];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return tfl_error_set(err, -EINVAL, "operator %u (%s): %s", node->index,
			     tfl_builtin_name(node->op->builtin), msg);
}

int tfl_rt_set_shape(struct tfl_rt *out, const int32_t *shape, int rank, bool batched,
		     unsigned max_batch, struct tfl_error *err)
{
	double n = 1;

	if (rank < 0 || rank > TFL_MAX_RANK)
		return tfl_error_set(err, -EINVAL, "tensor '%s' would have rank %d, more than %d",
				     out->t->name, rank, TFL_MAX_RANK);
	if (batched && rank == 0 && max_batch > 1)
		return tfl_error_set(err, -EINVAL, "tensor '%s' is a scalar but would carry a batch",
				     out->t->name);
	for (int d = 0; d < rank; d++) {
		if (shape[d] < 1)
			return tfl_error_set(err, -EINVAL, "tensor '%s' dimension %d would be %d",
					     out->t->name, d, (int)shape[d]);
		n *= shape[d];
	}
	if (n > TFL_MAX_TENSOR_ELEMS)
		return tfl_error_set(err, -EINVAL, "tensor '%s' would have %.0f elements, more than the 16 Mi limit",
				     out->t->name, n);
	/* Dimensions are int32: the batch must not overflow the leading one. */
	if (batched && n * max_batch > INT32_MAX)
		return tfl_error_set(err, -EINVAL, "tensor '%s' would have %.0f elements at batch %u, too many",
				     out->t->name, n * max_batch, max_batch);
	out->rank = rank;
	memcpy(out->shape, shape, (size_t)rank * sizeof *shape);
	out->batched = batched;
	out->row = (size_t)n;
	out->count = (size_t)n;
	if (batched && rank > 0) {
		out->shape[0] *= (int32_t)max_batch;
		out->count *= max_batch;
	}
	return 0;
}

int tfl_check_int8(const struct tfl_node *node, const struct tfl_rt *rt, const char *role,
		   struct tfl_error *err)
{
	if (rt->type != TFL_TYPE_INT8)
		return tfl_node_error(node, err, "%s '%s' is %s; expected INT8", role, rt->t->name,
				      tfl_type_name(rt->type));
	if (rt->t->n_quant < 1 || !(rt->scale > 0) || !isfinite(rt->scale))
		return tfl_node_error(node, err, "%s '%s' has no valid quantisation scale", role, rt->t->name);
	if (rt->t->zero_point[0] < -128 || rt->t->zero_point[0] > 127)
		return tfl_node_error(node, err, "%s '%s' zero point %lld is outside [-128, 127]", role,
				      rt->t->name, (long long)rt->t->zero_point[0]);
	return 0;
}

int tfl_act_range_int8(const struct tfl_node *node, int32_t fused, const struct tfl_rt *out,
		       struct tfl_error *err, int32_t *ret_lo, int32_t *ret_hi)
{
	/* TFLite quantises the bounds with float arithmetic: zp + round(f / scale). */
	float s = out->scale;
	int32_t zp = out->zero_point, lo = -128, hi = 127, q;

	switch (fused) {
	case TFL_FUSED_NONE:
		break;
	case TFL_FUSED_RELU:
		q = zp + (int32_t)roundf(0.0f / s);
		lo = q > lo ? q : lo;
		break;
	case TFL_FUSED_RELU6:
		q = zp + (int32_t)roundf(0.0f / s);
		lo = q > lo ? q : lo;
		q = zp + (int32_t)fminf(roundf(6.0f / s), 1e6f);
		hi = q < hi ? q : hi;
		break;
	case TFL_FUSED_RELU_N1_TO_1:
		q = zp + (int32_t)fmaxf(roundf(-1.0f / s), -1e6f);
		lo = q > lo ? q : lo;
		q = zp + (int32_t)fminf(roundf(1.0f / s), 1e6f);
		hi = q < hi ? q : hi;
		break;
	default:
		return tfl_node_error(node, err, "fused activation %s is not supported",
				      tfl_fused_name(fused) ? tfl_fused_name(fused) : "unknown");
	}
	*ret_lo = lo;
	*ret_hi = hi;
	return 0;
}

int tfl_act_range_float(const struct tfl_node *node, int32_t fused, struct tfl_error *err,
			float *ret_lo, float *ret_hi)
{
	switch (fused) {
	case TFL_FUSED_NONE: *ret_lo = -INFINITY; *ret_hi = INFINITY; return 0;
	case TFL_FUSED_RELU: *ret_lo = 0; *ret_hi = INFINITY; return 0;
	case TFL_FUSED_RELU6: *ret_lo = 0; *ret_hi = 6; return 0;
	case TFL_FUSED_RELU_N1_TO_1: *ret_lo = -1; *ret_hi = 1; return 0;
	default:
		return tfl_node_error(node, err, "fused activation %s is not supported",
				      tfl_fused_name(fused) ? tfl_fused_name(fused) : "unknown");
	}
}

static void format_dims(const int32_t *shape, int rank, char *buf, size_t len)
{
	size_t at = 0;

	buf[0] = 0;
	for (int d = 0; d < rank && at < len; d++)
		at += (size_t)snprintf(buf + at, len - at, "%s%d", d ? "," : "", (int)shape[d]);
}

/* The shape an operator computed must be the one the file declares (with
 * the batch scaling): a mismatch means a corrupt or foreign file. */
static int check_declared(const struct tfl_node *node, const struct tfl_rt *rt, unsigned max_batch,
			  struct tfl_error *err)
{
	const struct tfl_tensor *t = rt->t;
	bool same = rt->rank == t->rank;
	char got[96], want[96];

	for (int d = 0; same && d < t->rank; d++) {
		int64_t want_d = t->shape[d] * (int64_t)(d == 0 && rt->batched ? max_batch : 1);

		same = rt->shape[d] == want_d;
	}
	if (same)
		return 0;
	format_dims(rt->shape, rt->rank, got, sizeof got);
	format_dims(t->shape, t->rank, want, sizeof want);
	if (rt->batched && max_batch > 1)
		return tfl_node_error(node, err, "output '%s' has shape [%s] at batch %u, but the file declares [%s] at batch 1",
				      t->name, got, max_batch, want);
	return tfl_node_error(node, err, "output '%s' has shape [%s], but the file declares [%s]",
			      t->name, got, want);
}

static void init_rt(struct tfl_rt *rt, const struct tfl_tensor *t)
{
	rt->t = t;
	rt->rank = t->rank;
	memcpy(rt->shape, t->shape, sizeof rt->shape);
	rt->type = t->type;
	rt->count = t->count;
	rt->row = t->count;
	rt->batched = false;
	rt->ready = t->data != NULL;
	rt->data = (void *)t->data;         /* constants are only ever read */
	rt->scale = t->n_quant ? t->scale[0] : 0.0f;
	rt->zero_point = t->n_quant ? (int32_t)t->zero_point[0] : 0;
}

static int setup_inputs(struct tfl_interp *ip, struct tfl_error *err)
{
	const struct tfl_model *m = ip->model;

	for (size_t i = 0; i < m->n_inputs; i++) {
		struct tfl_rt *rt = &ip->rt[m->inputs[i]];
		const struct tfl_tensor *t = rt->t;
		char dims[96];

		if (t->data)
			return tfl_error_set(err, -EINVAL, "input %zu '%s' is a constant tensor", i, t->name);
		if (t->is_variable)
			return tfl_error_set(err, -EINVAL, "input %zu '%s' is a variable tensor; not supported", i, t->name);
		if (ip->max_batch > 1 && (t->rank < 1 || t->shape[0] != 1)) {
			format_dims(t->shape, t->rank, dims, sizeof dims);
			return tfl_error_set(err, -EINVAL, "input %zu '%s' has shape [%s]; batching needs a leading dimension of 1",
					     i, t->name, dims);
		}
		if (!rt->ready) {
			if (t->rank > 0) {
				int r = tfl_rt_set_shape(rt, t->shape, t->rank, true, ip->max_batch, err);
				if (r < 0)
					return r;
			} else {
				rt->batched = true;    /* max_batch is 1 here */
			}
		}
		rt->ready = true;
	}
	return 0;
}

static int prepare_nodes(struct tfl_interp *ip, struct tfl_error *err)
{
	const struct tfl_model *m = ip->model;
	int r;

	for (size_t i = 0; i < m->n_operators; i++) {
		const struct tfl_operator *op = &m->operators[i];
		struct tfl_node *node = &ip->nodes[i];

		node->index = (unsigned)i;
		node->op = op;
		node->k = find_kernel(op->builtin);
		ip->n_nodes = i + 1;
		if (!node->k)                  /* the reader refuses these; be safe */
			return tfl_error_set(err, -EINVAL, "operator %zu: %s is not supported", i,
					     tfl_builtin_name(op->builtin) ? tfl_builtin_name(op->builtin) : "unknown");
		node->n_in = op->n_inputs;
		node->n_out = op->n_outputs;
		for (int j = 0; j < op->n_inputs; j++) {
			struct tfl_rt *rt = op->inputs[j] < 0 ? NULL : &ip->rt[op->inputs[j]];

			if (rt && !rt->ready)
				return tfl_node_error(node, err, "input %d is tensor %d '%s', which nothing computes before it",
						      j, (int)op->inputs[j], rt->t->name);
			node->in[j] = rt;
		}
		for (int j = 0; j < op->n_outputs; j++) {
			struct tfl_rt *rt = &ip->rt[op->outputs[j]];

			if (rt->ready)
				return tfl_node_error(node, err, "output %d is tensor %d '%s', which is a constant, an input or already computed",
						      j, (int)op->outputs[j], rt->t->name);
			if (rt->t->is_variable)
				return tfl_node_error(node, err, "output '%s' is a variable tensor; not supported", rt->t->name);
			node->out[j] = rt;
		}
		if ((r = node->k->prepare(node, ip->max_batch, err)) < 0)
			return r;
		for (int j = 0; j < op->n_outputs; j++) {
			if ((r = check_declared(node, node->out[j], ip->max_batch, err)) < 0)
				return r;
			node->out[j]->ready = true;
		}
	}
	for (size_t i = 0; i < m->n_outputs; i++)
		if (!ip->rt[m->outputs[i]].ready)
			return tfl_error_set(err, -EINVAL, "output %zu '%s' is never computed", i,
					     ip->rt[m->outputs[i]].t->name);
	return 0;
}

static size_t align64(size_t n)
{
	return (n + 63) & ~(size_t)63;
}

/* One allocation for every computed tensor and every node's scratch. */
static int allocate(struct tfl_interp *ip, struct tfl_error *err)
{
	const struct tfl_model *m = ip->model;
	uint64_t total = 0;
	uint8_t *p;

	for (size_t i = 0; i < m->n_tensors; i++)
		if (!ip->rt[i].data && ip->rt[i].ready)
			total += align64(ip->rt[i].count * tfl_type_size(ip->rt[i].type));
	for (size_t i = 0; i < ip->n_nodes; i++)
		total += align64(ip->nodes[i].scratch_bytes);
	if (total > TFL_MAX_ARENA_BYTES)
		return tfl_error_set(err, -EINVAL, "tensors need %llu MiB at batch %u, more than the %u MiB limit",
				     (unsigned long long)(total >> 20), ip->max_batch, TFL_MAX_ARENA_BYTES >> 20);
	ip->arena = aligned_alloc(64, total ? (size_t)total : 64);
	if (!ip->arena)
		return -ENOMEM;
	/* Zeroed so a row the caller never wrote reads as 0, not garbage. */
	memset(ip->arena, 0, total ? (size_t)total : 64);
	p = ip->arena;
	for (size_t i = 0; i < m->n_tensors; i++) {
		if (!ip->rt[i].data && ip->rt[i].ready) {
			ip->rt[i].data = p;
			p += align64(ip->rt[i].count * tfl_type_size(ip->rt[i].type));
		}
	}
	for (size_t i = 0; i < ip->n_nodes; i++) {
		ip->nodes[i].scratch = ip->nodes[i].scratch_bytes ? p : NULL;
		p += align64(ip->nodes[i].scratch_bytes);
	}
	return 0;
}

static void fill_io(struct tfl_io *io, const struct tfl_rt *rt, int32_t index)
{
	io->tensor = index;
	io->type = rt->type;
	io->row = rt->batched ? rt->row : rt->count;
	io->batched = rt->batched;
	io->scale = rt->scale;
	io->zero_point = rt->zero_point;
	io->data = rt->data;
}

int tfl_interp_new(const struct tfl_model *model, unsigned max_batch, struct tfl_error *err,
		   struct tfl_interp **ret)
{
	struct tfl_interp *ip;
	int r;

	if (max_batch < 1 || max_batch > TFL_MAX_BATCH)
		return tfl_error_set(err, -EINVAL, "batch size %u is outside 1..%u", max_batch, TFL_MAX_BATCH);
	ip = calloc(1, sizeof *ip);
	if (!ip)
		return tfl_error_set(err, -ENOMEM, "out of memory");
	ip->model = model;
	ip->max_batch = max_batch;
	ip->rt = calloc(model->n_tensors + 1, sizeof *ip->rt);
	ip->nodes = calloc(model->n_operators + 1, sizeof *ip->nodes);
	ip->inputs = calloc(model->n_inputs + 1, sizeof *ip->inputs);
	ip->outputs = calloc(model->n_outputs + 1, sizeof *ip->outputs);
	if (!ip->rt || !ip->nodes || !ip->inputs || !ip->outputs) {
		tfl_interp_free(ip);
		return tfl_error_set(err, -ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < model->n_tensors; i++)
		init_rt(&ip->rt[i], &model->tensors[i]);
	if ((r = setup_inputs(ip, err)) < 0 || (r = prepare_nodes(ip, err)) < 0 ||
	    (r = allocate(ip, err)) < 0) {
		if (r == -ENOMEM)
			tfl_error_set(err, r, "out of memory");
		tfl_interp_free(ip);
		return r;
	}
	for (size_t i = 0; i < model->n_inputs; i++)
		fill_io(&ip->inputs[i], &ip->rt[model->inputs[i]], model->inputs[i]);
	for (size_t i = 0; i < model->n_outputs; i++)
		fill_io(&ip->outputs[i], &ip->rt[model->outputs[i]], model->outputs[i]);
	*ret = ip;
	return 0;
}

void tfl_interp_free(struct tfl_interp *ip)
{
	if (!ip)
		return;
	for (size_t i = 0; i < ip->n_nodes; i++) {
		struct tfl_node *node = &ip->nodes[i];

		if (node->k && node->k->release)
			node->k->release(node);
		else
			free(node->params);
	}
	free(ip->arena);
	free(ip->rt);
	free(ip->nodes);
	free(ip->inputs);
	free(ip->outputs);
	free(ip);
}

size_t tfl_interp_n_inputs(const struct tfl_interp *ip) { return ip->model->n_inputs; }
size_t tfl_interp_n_outputs(const struct tfl_interp *ip) { return ip->model->n_outputs; }
unsigned tfl_interp_max_batch(const struct tfl_interp *ip) { return ip->max_batch; }

const struct tfl_io *tfl_interp_input(const struct tfl_interp *ip, size_t i)
{
	return i < ip->model->n_inputs ? &ip->inputs[i] : NULL;
}

const struct tfl_io *tfl_interp_output(const struct tfl_interp *ip, size_t i)
{
	return i < ip->model->n_outputs ? &ip->outputs[i] : NULL;
}

const void *tfl_interp_tensor_data(const struct tfl_interp *ip, size_t tensor)
{
	return tensor < ip->model->n_tensors ? ip->rt[tensor].data : NULL;
}

int tfl_interp_invoke(struct tfl_interp *ip, unsigned batch)
{
	if (batch < 1 || batch > ip->max_batch)
		return -EINVAL;
	for (size_t i = 0; i < ip->n_nodes; i++)
		ip->nodes[i].k->eval(&ip->nodes[i], batch);
	return 0;
}
