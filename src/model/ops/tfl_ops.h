/* tfl_ops.h - what the interpreter and the operator files share.
 *
 * One operator per file (fully_connected.c, activations.c, elementwise.c,
 * quantize.c, reshape.c), each exporting a struct tfl_op_kernel:
 *   prepare  checks the node's inputs (shapes, types, quantisation), sets
 *            each output's shape and `batched`, precomputes params and
 *            says how much scratch memory eval needs; may allocate
 *   eval     computes the first `batch` rows; allocates nothing, cannot fail
 *   release  frees what prepare allocated (NULL: just free(params))
 * The pure arithmetic lives in ops/reference/.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/tfl_model.h"

/* A tensor at run time. */
struct tfl_rt {
	const struct tfl_tensor *t;     /* as read from the file */
	int rank;
	int32_t shape[TFL_MAX_RANK];    /* leading dimension scaled to max_batch if batched */
	int32_t type;
	size_t count;                   /* elements at max_batch */
	size_t row;                     /* elements per batch row (count / max_batch) if batched */
	bool batched;
	bool ready;                     /* constant, graph input, or written by an earlier node */
	void *data;
	float scale;                    /* per-tensor quantisation (first entry), 0 if none */
	int32_t zero_point;
};

struct tfl_node {
	unsigned index;                 /* operator index, for messages */
	const struct tfl_operator *op;
	const struct tfl_op_kernel *k;
	int n_in, n_out;
	struct tfl_rt *in[TFL_MAX_OP_IO];   /* NULL: optional input absent */
	struct tfl_rt *out[TFL_MAX_OP_IO];
	void *params;                   /* the kernel's own */
	size_t scratch_bytes;           /* asked for by prepare */
	void *scratch;                  /* given before eval, 64-byte aligned */
};

struct tfl_op_kernel {
	int32_t builtin;
	int (*prepare)(struct tfl_node *node, unsigned max_batch, struct tfl_error *err);
	void (*eval)(const struct tfl_node *node, unsigned batch);
	void (*release)(struct tfl_node *node);
};

extern const struct tfl_op_kernel tfl_op_fully_connected;
extern const struct tfl_op_kernel tfl_op_relu, tfl_op_relu6, tfl_op_relu_n1_to_1;
extern const struct tfl_op_kernel tfl_op_logistic, tfl_op_tanh;
extern const struct tfl_op_kernel tfl_op_add, tfl_op_sub, tfl_op_mul;
extern const struct tfl_op_kernel tfl_op_quantize, tfl_op_dequantize;
extern const struct tfl_op_kernel tfl_op_reshape;

/* Elements of rt that hold data for the first `batch` rows. */
static inline size_t tfl_rt_live(const struct tfl_rt *rt, unsigned batch)
{
	return rt->batched ? rt->row * batch : rt->count;
}

/* Elements per batch row as the file sees it (count at batch 1). */
static inline size_t tfl_rt_count1(const struct tfl_rt *rt)
{
	return rt->batched ? rt->row : rt->count;
}

/* Set out's shape to shape[rank] (given at batch 1) and mark it batched or
 * not, scaling the leading dimension; -EINVAL if out is too big. */
int tfl_rt_set_shape(struct tfl_rt *out, const int32_t *shape, int rank, bool batched,
		     unsigned max_batch, struct tfl_error *err);

/* "operator 3 (FULLY_CONNECTED)" prefix for messages. */
int tfl_node_error(const struct tfl_node *node, struct tfl_error *err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Check that rt is int8 with per-tensor quantisation that makes sense
 * (finite positive scale, zero point in [-128, 127]); `role` names it. */
int tfl_check_int8(const struct tfl_node *node, const struct tfl_rt *rt, const char *role,
		   struct tfl_error *err);

/* Clamp range [*lo, *hi] of an int8 output for a fused activation, as
 * TFLite's CalculateActivationRangeQuantized. -EINVAL for TANH/SIGN_BIT. */
int tfl_act_range_int8(const struct tfl_node *node, int32_t fused, const struct tfl_rt *out,
		       struct tfl_error *err, int32_t *ret_lo, int32_t *ret_hi);

/* The same for float outputs. */
int tfl_act_range_float(const struct tfl_node *node, int32_t fused, struct tfl_error *err,
			float *ret_lo, float *ret_hi);
