/* tfl_interp.h - run a loaded .tflite model on batches of input vectors.
 *
 * tfl_interp_new() is the "prepare" step: it walks the operators in order,
 * checks that every operator's inputs exist before it runs and that shapes
 * and types fit the operator, computes every output shape (with the leading
 * batch dimension scaled to max_batch), precomputes what the kernels need
 * (transposed weights, quantised multipliers, activation ranges) and
 * allocates all tensor memory at once. tfl_interp_invoke() then runs blind:
 * it allocates nothing and cannot fail on a prepared model.
 *
 * int8 operators follow TFLite's reference integer kernels to the bit
 * (quant_math.h); float operators agree with TFLite to rounding error.
 *
 * Batching: every graph input gets a batch dimension of max_batch (the
 * file's leading dimension must be 1 when max_batch > 1). A call runs the
 * first `batch` rows; rows are laid out one after another, each io->row
 * elements long.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/tfl_model.h"

struct tfl_interp;

/* A graph input or output as the caller sees it. */
struct tfl_io {
	int32_t tensor;      /* index in model->tensors */
	int32_t type;        /* enum tfl_type */
	size_t row;          /* elements per batch row */
	bool batched;        /* false: one row shared by every batch row (rare) */
	float scale;         /* quantisation of the tensor; 0 when it has none */
	int32_t zero_point;
	void *data;          /* max_batch rows (inputs: write here; outputs: read) */
};

/* Does nad run this BuiltinOperator? */
bool tfl_interp_supports(int32_t builtin);

/* "FULLY_CONNECTED, RELU, ..." for messages. */
const char *tfl_interp_supported_names(void);

/* Prepare model for batches of up to max_batch rows (1..65536). The model
 * must outlive the interpreter. Returns 0, -EINVAL (the model's shapes or
 * types do not fit its operators; *err says which and why) or -ENOMEM. */
int tfl_interp_new(const struct tfl_model *model, unsigned max_batch, struct tfl_error *err,
		   struct tfl_interp **ret);

/* Free the interpreter and its memory; NULL is fine. */
void tfl_interp_free(struct tfl_interp *ip);

size_t tfl_interp_n_inputs(const struct tfl_interp *ip);
size_t tfl_interp_n_outputs(const struct tfl_interp *ip);
unsigned tfl_interp_max_batch(const struct tfl_interp *ip);

/* Graph input / output i (valid until tfl_interp_free). */
const struct tfl_io *tfl_interp_input(const struct tfl_interp *ip, size_t i);
const struct tfl_io *tfl_interp_output(const struct tfl_interp *ip, size_t i);

/* Values of any tensor of the model (a constant, an input, or what the
 * last invoke computed, batched ones max_batch rows deep): for tests and
 * tracing layer by layer. NULL for an index out of range. */
const void *tfl_interp_tensor_data(const struct tfl_interp *ip, size_t tensor);

/* Run the model on the first batch rows of the inputs (1 <= batch <=
 * max_batch). Returns 0 or -EINVAL for a bad batch. */
int tfl_interp_invoke(struct tfl_interp *ip, unsigned batch);
