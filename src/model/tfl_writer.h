/* tfl_writer.h - write a dense network as a .tflite file.
 *
 * nad's models are stacks of fully connected layers. This module turns one
 * (float weights in memory) into a TFLite FlatBuffer (schema version 3,
 * file identifier "TFL3") that TFLite, ArmNN and nad's own reader load:
 *
 *   input [1,n0] -> FULLY_CONNECTED(+fused activation) -> ... -> output [1,nL]
 *
 * float32, or full-integer int8: int8 input and output tensors (the reader
 * quantises on the way in with the input tensor's own scale and zero
 * point), symmetric int8 weights (zero point 0, per output channel or per
 * tensor), int32 biases with scale input_scale * weight_scale, asymmetric
 * int8 activations whose ranges come from representative data. Metadata
 * entries (name + bytes) travel in Model.metadata, each in its own buffer.
 *
 * docs/internals/training.md describes the file layout.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Fused activations, numbered as TFLite's ActivationFunctionType. */
enum tfl_act {
	TFL_ACT_NONE = 0,
	TFL_ACT_RELU = 1,
	TFL_ACT_RELU6 = 3,
	TFL_ACT_TANH = 4,
};

struct tfl_dense_layer {
	uint32_t n_in, n_out;
	const float *weights;  /* [n_out][n_in] row-major, TFLite's own order */
	const float *bias;     /* [n_out] */
	enum tfl_act act;
};

struct tfl_dense_net {
	size_t n_layers;
	const struct tfl_dense_layer *layers;
};

/* One quantised layer: everything TFLite's reference int8 kernel needs. */
struct tfl_qlayer {
	uint32_t n_in, n_out;
	float in_scale, out_scale;
	int32_t in_zp, out_zp;
	size_t n_wscale;       /* 1 (per tensor) or n_out (per channel) */
	float *w_scale;
	int8_t *w;             /* [n_out][n_in] */
	int32_t *b;            /* [n_out], scale in_scale * w_scale */
	int32_t *mult;         /* [n_wscale] quantised multiplier ... */
	int *shift;            /* ... and shift of in_scale*w_scale/out_scale */
	int32_t act_min, act_max;
	enum tfl_act act;
};

struct tfl_quant {
	size_t n_layers;
	struct tfl_qlayer *layers;
	uint32_t max_width;    /* widest layer, for tfl_quant_run's scratch */
};

/* Quantise net with activation ranges observed on rows x n_in
 * representative inputs (float, already normalised). per_channel picks one
 * weight scale per output row instead of one per tensor. Activations must
 * be NONE, RELU or RELU6 (TFLite's int8 kernel clamps, it cannot fuse tanh).
 * Returns 0, -EINVAL (bad shapes, no rows, unsupported activation) or
 * -ENOMEM; release *ret with tfl_quant_release(). */
int tfl_quant_init(const struct tfl_dense_net *net, const float *repr, size_t rows,
		   bool per_channel, struct tfl_quant *ret);
void tfl_quant_release(struct tfl_quant *q);

/* float <-> int8 with a tensor's parameters, rounding half away from zero
 * and saturating, as TFLite's QUANTIZE does. */
int8_t tfl_quantise(float x, float scale, int32_t zp);
float tfl_dequantise(int8_t q, float scale, int32_t zp);

/* Run the quantised net on one int8 input vector (q->layers[0].n_in values)
 * with TFLite's reference integer arithmetic. scratch holds
 * 2 * q->max_width bytes; out receives the last layer's n_out values. */
void tfl_quant_run(const struct tfl_quant *q, const int8_t *in, int8_t *out, int8_t *scratch);

struct tfl_meta_entry {
	const char *name;
	const void *data;
	size_t len;
};

struct tfl_write_opts {
	const char *description;               /* Model.description, may be NULL */
	const struct tfl_meta_entry *metadata;
	size_t n_metadata;
};

/* Serialise net (float32 when q is NULL, else int8 from q) to a new
 * buffer; the caller owns *ret_data (free()). Returns 0, -EINVAL for a net
 * whose layers do not chain, -E2BIG, or -ENOMEM. */
int tfl_write_dense(const struct tfl_dense_net *net, const struct tfl_quant *q,
		    const struct tfl_write_opts *opts, uint8_t **ret_data, size_t *ret_len);

/* Replace path atomically: write a temporary file beside it, fsync, rename,
 * fsync the directory. A crash leaves the old file or the new one, never a
 * torn model. Returns 0 or -errno. */
int tfl_write_file(const char *path, const uint8_t *data, size_t len);
