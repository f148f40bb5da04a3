/* tfl_writer.c - serialise a dense network as TFLite (see tfl_writer.h). */
#include "model/tfl_writer.h"

#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/bytes.h"
#include "model/flatbuf_build.h"
#include "model/ops/reference/quant_math.h"

/* TFLite schema numbers used here (schema.fbs, version 3). */
enum {
	TFL_SCHEMA_VERSION = 3,
	TFL_TYPE_FLOAT32 = 0,
	TFL_TYPE_INT32 = 2,
	TFL_TYPE_INT8 = 9,
	TFL_OP_FULLY_CONNECTED = 9,
	TFL_OPTIONS_FULLY_CONNECTED = 8,
};

/* Field ids of the tables written, in schema order. */
enum { MODEL_VERSION, MODEL_OPCODES, MODEL_SUBGRAPHS, MODEL_DESCRIPTION, MODEL_BUFFERS,
       MODEL_METADATA_BUFFER, MODEL_METADATA };
enum { OPCODE_DEPRECATED_BUILTIN, OPCODE_CUSTOM, OPCODE_VERSION, OPCODE_BUILTIN };
enum { SUBGRAPH_TENSORS, SUBGRAPH_INPUTS, SUBGRAPH_OUTPUTS, SUBGRAPH_OPERATORS, SUBGRAPH_NAME };
enum { TENSOR_SHAPE, TENSOR_TYPE, TENSOR_BUFFER, TENSOR_NAME, TENSOR_QUANT };
enum { QUANT_MIN, QUANT_MAX, QUANT_SCALE, QUANT_ZERO_POINT, QUANT_DETAILS_TYPE, QUANT_DETAILS,
       QUANT_DIMENSION };
enum { OP_OPCODE_INDEX, OP_INPUTS, OP_OUTPUTS, OP_OPTIONS_TYPE, OP_OPTIONS };
enum { FC_ACTIVATION };
enum { BUFFER_DATA };
enum { METADATA_NAME, METADATA_BUFFER };

/* ---- quantisation arithmetic ------------------------------------------ */

int8_t tfl_quantise(float x, float scale, int32_t zp)
{
	double q = round((double)x / scale) + zp;

	if (!(q >= -128.0))   /* NaN lands here too */
		return -128;
	if (q > 127.0)
		return 127;
	return (int8_t)q;
}

float tfl_dequantise(int8_t q, float scale, int32_t zp)
{
	return (float)(((int32_t)q - zp) * (double)scale);
}

void tfl_quant_run(const struct tfl_quant *q, const int8_t *in, int8_t *out, int8_t *scratch)
{
	const int8_t *x = in;

	for (size_t l = 0; l < q->n_layers; l++) {
		const struct tfl_qlayer *ql = &q->layers[l];
		int8_t *y = l + 1 == q->n_layers ? out : scratch + (l % 2) * q->max_width;

		for (uint32_t o = 0; o < ql->n_out; o++) {
			const int8_t *w = ql->w + (size_t)o * ql->n_in;
			size_t c = ql->n_wscale > 1 ? o : 0;
			int32_t acc = ql->b[o];

			for (uint32_t i = 0; i < ql->n_in; i++)
				acc += (int32_t)w[i] * ((int32_t)x[i] - ql->in_zp);
			/* The same fixed-point arithmetic as the interpreter's int8
			 * kernels, so what training measures is what detection gets. */
			acc = tfl_multiply_by_quantized_multiplier(acc, ql->mult[c], ql->shift[c]) + ql->out_zp;
			if (acc < ql->act_min)
				acc = ql->act_min;
			if (acc > ql->act_max)
				acc = ql->act_max;
			y[o] = (int8_t)acc;
		}
		x = y;
	}
}

/* ---- quantising a float net -------------------------------------------- */

static int net_check(const struct tfl_dense_net *net)
{
	if (!net->n_layers || !net->layers)
		return -EINVAL;
	for (size_t l = 0; l < net->n_layers; l++) {
		const struct tfl_dense_layer *d = &net->layers[l];

		if (!d->n_in || !d->n_out || !d->weights || !d->bias)
			return -EINVAL;
		if (l && d->n_in != net->layers[l - 1].n_out)
			return -EINVAL;
		if (d->act != TFL_ACT_NONE && d->act != TFL_ACT_RELU && d->act != TFL_ACT_RELU6 &&
		    d->act != TFL_ACT_TANH)
			return -EINVAL;
	}
	return 0;
}

static float apply_act(float v, enum tfl_act act)
{
	switch (act) {
	case TFL_ACT_RELU:
		return v > 0.0f ? v : 0.0f;
	case TFL_ACT_RELU6:
		return v < 0.0f ? 0.0f : v > 6.0f ? 6.0f : v;
	case TFL_ACT_TANH:
		return tanhf(v);
	default:
		return v;
	}
}

/* Asymmetric int8 parameters covering [lo, hi]; the range is widened to
 * contain 0 so that zero (ReLU's floor, zero padding) is exact. */
static void range_params(float lo, float hi, float *ret_scale, int32_t *ret_zp)
{
	double scale, zp;

	if (lo > 0.0f)
		lo = 0.0f;
	if (hi < 0.0f)
		hi = 0.0f;
	if (hi - lo < 1e-6f)
		hi = lo + 1e-6f;
	scale = ((double)hi - lo) / 255.0;
	zp = -128.0 - round(lo / scale);
	if (zp < -128.0)
		zp = -128.0;
	if (zp > 127.0)
		zp = 127.0;
	*ret_scale = (float)scale;
	*ret_zp = (int32_t)zp;
}

/* Observe the input range and each layer's output range on the
 * representative rows; ranges[2*k], ranges[2*k+1] = min, max of tensor k
 * (k = 0 input, k = l+1 output of layer l). */
static int observe_ranges(const struct tfl_dense_net *net, const float *repr, size_t rows,
			  uint32_t width, float *ranges)
{
	float *a = malloc(2 * (size_t)width * sizeof *a);
	size_t n0 = net->layers[0].n_in;

	if (!a)
		return -ENOMEM;
	for (size_t k = 0; k <= net->n_layers; k++) {
		ranges[2 * k] = FLT_MAX;
		ranges[2 * k + 1] = -FLT_MAX;
	}
	for (size_t r = 0; r < rows; r++) {
		const float *x = repr + r * n0;

		for (size_t i = 0; i < n0; i++) {
			ranges[0] = fminf(ranges[0], x[i]);
			ranges[1] = fmaxf(ranges[1], x[i]);
		}
		for (size_t l = 0; l < net->n_layers; l++) {
			const struct tfl_dense_layer *d = &net->layers[l];
			float *y = a + (l % 2) * width;

			for (uint32_t o = 0; o < d->n_out; o++) {
				const float *w = d->weights + (size_t)o * d->n_in;
				float s = d->bias[o];

				for (uint32_t i = 0; i < d->n_in; i++)
					s += w[i] * x[i];
				y[o] = apply_act(s, d->act);
				ranges[2 * (l + 1)] = fminf(ranges[2 * (l + 1)], y[o]);
				ranges[2 * (l + 1) + 1] = fmaxf(ranges[2 * (l + 1) + 1], y[o]);
			}
			x = y;
		}
	}
	free(a);
	return 0;
}

static int quant_layer(const struct tfl_dense_layer *d, bool per_channel, float in_scale,
		       int32_t in_zp, float out_scale, int32_t out_zp, struct tfl_qlayer *ql)
{
	size_t nw = (size_t)d->n_out * d->n_in;

	ql->n_in = d->n_in;
	ql->n_out = d->n_out;
	ql->in_scale = in_scale;
	ql->in_zp = in_zp;
	ql->out_scale = out_scale;
	ql->out_zp = out_zp;
	ql->act = d->act;
	ql->n_wscale = per_channel ? d->n_out : 1;
	ql->w_scale = calloc(ql->n_wscale, sizeof *ql->w_scale);
	ql->w = malloc(nw);
	ql->b = malloc(d->n_out * sizeof *ql->b);
	ql->mult = malloc(ql->n_wscale * sizeof *ql->mult);
	ql->shift = malloc(ql->n_wscale * sizeof *ql->shift);
	if (!ql->w_scale || !ql->w || !ql->b || !ql->mult || !ql->shift)
		return -ENOMEM;

	/* symmetric weights: the largest magnitude maps to 127 */
	for (uint32_t o = 0; o < d->n_out; o++) {
		size_t c = per_channel ? o : 0;

		for (uint32_t i = 0; i < d->n_in; i++)
			ql->w_scale[c] = fmaxf(ql->w_scale[c], fabsf(d->weights[(size_t)o * d->n_in + i]));
	}
	for (size_t c = 0; c < ql->n_wscale; c++) {
		ql->w_scale[c] = ql->w_scale[c] > 0.0f ? ql->w_scale[c] / 127.0f : 1.0f;
		tfl_quantize_multiplier((double)in_scale * ql->w_scale[c] / out_scale, &ql->mult[c],
				    &ql->shift[c]);
	}
	for (uint32_t o = 0; o < d->n_out; o++) {
		size_t c = per_channel ? o : 0;
		double bs = (double)in_scale * ql->w_scale[c];
		double bq = round(d->bias[o] / bs);

		for (uint32_t i = 0; i < d->n_in; i++) {
			double wq = round(d->weights[(size_t)o * d->n_in + i] / ql->w_scale[c]);

			ql->w[(size_t)o * d->n_in + i] = (int8_t)(wq > 127 ? 127 : wq < -127 ? -127 : wq);
		}
		ql->b[o] = (int32_t)(bq > INT32_MAX ? INT32_MAX : bq < -INT32_MAX ? -INT32_MAX : bq);
	}
	/* fused activations become a clamp of the output range */
	ql->act_min = -128;
	ql->act_max = 127;
	if (d->act == TFL_ACT_RELU || d->act == TFL_ACT_RELU6)
		ql->act_min = out_zp > -128 ? out_zp : -128;
	if (d->act == TFL_ACT_RELU6) {
		double top = out_zp + round(6.0 / out_scale);

		ql->act_max = top < 127 ? (int32_t)top : 127;
	}
	return 0;
}

int tfl_quant_init(const struct tfl_dense_net *net, const float *repr, size_t rows,
		   bool per_channel, struct tfl_quant *ret)
{
	struct tfl_quant q = { 0 };
	float *ranges = NULL;
	uint32_t width = 0;
	int r = net_check(net);

	if (r < 0)
		return r;
	if (!repr || !rows)
		return -EINVAL;
	for (size_t l = 0; l < net->n_layers; l++) {
		if (net->layers[l].act == TFL_ACT_TANH)
			return -EINVAL;
		if (net->layers[l].n_out > width)
			width = net->layers[l].n_out;
	}
	ranges = malloc(2 * (net->n_layers + 1) * sizeof *ranges);
	q.layers = calloc(net->n_layers, sizeof *q.layers);
	if (!ranges || !q.layers) {
		r = -ENOMEM;
		goto out;
	}
	q.n_layers = net->n_layers;
	q.max_width = width;
	r = observe_ranges(net, repr, rows, width, ranges);
	if (r < 0)
		goto out;
	for (size_t l = 0; l < net->n_layers && r == 0; l++) {
		float in_scale, out_scale;
		int32_t in_zp, out_zp;

		range_params(ranges[2 * l], ranges[2 * l + 1], &in_scale, &in_zp);
		range_params(ranges[2 * l + 2], ranges[2 * l + 3], &out_scale, &out_zp);
		r = quant_layer(&net->layers[l], per_channel, in_scale, in_zp, out_scale, out_zp,
				&q.layers[l]);
	}
out:
	free(ranges);
	if (r < 0) {
		tfl_quant_release(&q);
		return r;
	}
	*ret = q;
	return 0;
}

void tfl_quant_release(struct tfl_quant *q)
{
	if (!q)
		return;
	for (size_t l = 0; q->layers && l < q->n_layers; l++) {
		struct tfl_qlayer *ql = &q->layers[l];

		free(ql->w_scale);
		free(ql->w);
		free(ql->b);
		free(ql->mult);
		free(ql->shift);
	}
	free(q->layers);
	memset(q, 0, sizeof *q);
}

/* ---- FlatBuffer serialisation ------------------------------------------ */

static fb_ref make_quant(struct fb_builder *b, const float *scales, size_t n, int32_t zp)
{
	fb_ref sv = fb_create_vec_f32(b, scales, n);
	fb_ref zr = fb_create_vec_i64_fill(b, zp, n);

	fb_table_start(b);
	fb_add_ref(b, QUANT_SCALE, sv);
	fb_add_ref(b, QUANT_ZERO_POINT, zr);
	fb_add_i32(b, QUANT_DIMENSION, 0);
	return fb_table_end(b);
}

static fb_ref make_tensor(struct fb_builder *b, uint32_t rows, uint32_t cols, int type,
			  uint32_t buffer, const char *name, fb_ref quant)
{
	int32_t shape[2] = { (int32_t)rows, (int32_t)cols };
	fb_ref sr = fb_create_vec_i32(b, shape, cols ? 2 : 1);
	fb_ref nr = fb_create_string(b, name, strlen(name));

	fb_table_start(b);
	fb_add_ref(b, TENSOR_SHAPE, sr);
	fb_add_u8(b, TENSOR_TYPE, (uint8_t)type);
	fb_add_u32(b, TENSOR_BUFFER, buffer);
	fb_add_ref(b, TENSOR_NAME, nr);
	if (quant)
		fb_add_ref(b, TENSOR_QUANT, quant);
	return fb_table_end(b);
}

static fb_ref make_buffer(struct fb_builder *b, const void *data, size_t len)
{
	/* TFLite declares buffer data force_align: 16 so weights can be mapped
	 * and read in place with vector loads */
	fb_ref d = len ? fb_create_vec_u8(b, data, len, 16) : 0;

	fb_table_start(b);
	if (d)
		fb_add_ref(b, BUFFER_DATA, d);
	return fb_table_end(b);
}

/* Tensor and buffer numbering: tensor 0 is the input; layer l owns tensors
 * 1+3l (weights), 2+3l (bias), 3+3l (output) and buffers 1+2l, 2+2l; the
 * metadata buffers follow. Buffer 0 is the empty buffer every activation
 * tensor points at, by TFLite convention. */
static uint32_t tensor_w(size_t l) { return (uint32_t)(1 + 3 * l); }
static uint32_t tensor_out(size_t l) { return (uint32_t)(3 + 3 * l); }

static void layer_bytes(const struct tfl_dense_layer *d, const struct tfl_qlayer *ql,
			uint8_t *wbytes, uint8_t *bbytes)
{
	size_t nw = (size_t)d->n_out * d->n_in;

	if (ql) {
		memcpy(wbytes, ql->w, nw);
		for (uint32_t o = 0; o < d->n_out; o++)
			store_le32(bbytes + 4 * o, (uint32_t)ql->b[o]);
		return;
	}
	for (size_t i = 0; i < nw; i++)
		store_lef32(wbytes + 4 * i, d->weights[i]);
	for (uint32_t o = 0; o < d->n_out; o++)
		store_lef32(bbytes + 4 * o, d->bias[o]);
}

static fb_ref make_buffers(struct fb_builder *b, const struct tfl_dense_net *net,
			   const struct tfl_quant *q, const struct tfl_write_opts *opts)
{
	size_t nbuf = 1 + 2 * net->n_layers + opts->n_metadata;
	fb_ref *refs = calloc(nbuf, sizeof *refs);
	fb_ref r;

	if (!refs)
		return 0;
	refs[0] = make_buffer(b, NULL, 0);
	for (size_t l = 0; l < net->n_layers; l++) {
		const struct tfl_dense_layer *d = &net->layers[l];
		size_t esz = q ? 1 : 4;
		uint8_t *wb = malloc((size_t)d->n_out * d->n_in * esz);
		uint8_t *bb = malloc((size_t)d->n_out * 4);

		if (!wb || !bb) {
			free(wb);
			free(bb);
			free(refs);
			return 0;
		}
		layer_bytes(d, q ? &q->layers[l] : NULL, wb, bb);
		refs[1 + 2 * l] = make_buffer(b, wb, (size_t)d->n_out * d->n_in * esz);
		refs[2 + 2 * l] = make_buffer(b, bb, (size_t)d->n_out * 4);
		free(wb);
		free(bb);
	}
	for (size_t k = 0; k < opts->n_metadata; k++)
		refs[1 + 2 * net->n_layers + k] = make_buffer(b, opts->metadata[k].data, opts->metadata[k].len);
	r = fb_create_vec_refs(b, refs, nbuf);
	free(refs);
	return r;
}

static fb_ref make_tensors(struct fb_builder *b, const struct tfl_dense_net *net,
			   const struct tfl_quant *q)
{
	size_t nt = 1 + 3 * net->n_layers;
	fb_ref *refs = calloc(nt, sizeof *refs);
	char name[64];
	fb_ref r;

	if (!refs)
		return 0;
	for (size_t l = 0; l < net->n_layers; l++) {
		const struct tfl_dense_layer *d = &net->layers[l];
		const struct tfl_qlayer *ql = q ? &q->layers[l] : NULL;
		int act_type = ql ? TFL_TYPE_INT8 : TFL_TYPE_FLOAT32;

		if (l == 0)
			refs[0] = make_tensor(b, 1, d->n_in, act_type, 0, "input",
					      ql ? make_quant(b, &ql->in_scale, 1, ql->in_zp) : 0);
		snprintf(name, sizeof name, "dense_%zu/weights", l);
		refs[tensor_w(l)] = make_tensor(b, d->n_out, d->n_in, act_type, (uint32_t)(1 + 2 * l), name,
						ql ? make_quant(b, ql->w_scale, ql->n_wscale, 0) : 0);
		snprintf(name, sizeof name, "dense_%zu/bias", l);
		if (ql) {
			float *bs = malloc(ql->n_wscale * sizeof *bs);

			if (!bs) {
				free(refs);
				return 0;
			}
			for (size_t c = 0; c < ql->n_wscale; c++)
				bs[c] = (float)((double)ql->in_scale * ql->w_scale[c]);
			refs[tensor_w(l) + 1] = make_tensor(b, d->n_out, 0, TFL_TYPE_INT32,
							    (uint32_t)(2 + 2 * l), name,
							    make_quant(b, bs, ql->n_wscale, 0));
			free(bs);
		} else {
			refs[tensor_w(l) + 1] = make_tensor(b, d->n_out, 0, TFL_TYPE_FLOAT32,
							    (uint32_t)(2 + 2 * l), name, 0);
		}
		if (l + 1 == net->n_layers)
			snprintf(name, sizeof name, "output");
		else
			snprintf(name, sizeof name, "dense_%zu/out", l);
		refs[tensor_out(l)] = make_tensor(b, 1, d->n_out, act_type, 0, name,
						  ql ? make_quant(b, &ql->out_scale, 1, ql->out_zp) : 0);
	}
	r = fb_create_vec_refs(b, refs, nt);
	free(refs);
	return r;
}

static fb_ref make_operators(struct fb_builder *b, const struct tfl_dense_net *net)
{
	fb_ref *refs = calloc(net->n_layers, sizeof *refs);
	fb_ref r;

	if (!refs)
		return 0;
	for (size_t l = 0; l < net->n_layers; l++) {
		int32_t ins[3] = { l ? (int32_t)tensor_out(l - 1) : 0, (int32_t)tensor_w(l),
				   (int32_t)tensor_w(l) + 1 };
		int32_t outs[1] = { (int32_t)tensor_out(l) };
		fb_ref ir = fb_create_vec_i32(b, ins, 3);
		fb_ref orr = fb_create_vec_i32(b, outs, 1);
		fb_ref opt;

		fb_table_start(b);
		fb_add_u8(b, FC_ACTIVATION, (uint8_t)net->layers[l].act);
		opt = fb_table_end(b);

		fb_table_start(b);
		fb_add_u32(b, OP_OPCODE_INDEX, 0);
		fb_add_ref(b, OP_INPUTS, ir);
		fb_add_ref(b, OP_OUTPUTS, orr);
		fb_add_u8(b, OP_OPTIONS_TYPE, TFL_OPTIONS_FULLY_CONNECTED);
		fb_add_ref(b, OP_OPTIONS, opt);
		refs[l] = fb_table_end(b);
	}
	r = fb_create_vec_refs(b, refs, net->n_layers);
	free(refs);
	return r;
}

static fb_ref make_metadata(struct fb_builder *b, const struct tfl_dense_net *net,
			    const struct tfl_write_opts *opts)
{
	fb_ref *refs = calloc(opts->n_metadata, sizeof *refs);
	fb_ref r;

	if (!refs)
		return 0;
	for (size_t k = 0; k < opts->n_metadata; k++) {
		fb_ref nr = fb_create_string(b, opts->metadata[k].name, strlen(opts->metadata[k].name));

		fb_table_start(b);
		fb_add_ref(b, METADATA_NAME, nr);
		fb_add_u32(b, METADATA_BUFFER, (uint32_t)(1 + 2 * net->n_layers + k));
		refs[k] = fb_table_end(b);
	}
	r = fb_create_vec_refs(b, refs, opts->n_metadata);
	free(refs);
	return r;
}

int tfl_write_dense(const struct tfl_dense_net *net, const struct tfl_quant *q,
		    const struct tfl_write_opts *opts, uint8_t **ret_data, size_t *ret_len)
{
	static const struct tfl_write_opts no_opts;
	struct fb_builder b;
	fb_ref buffers, tensors, ops, opcodes, subgraph, subgraphs, meta = 0, desc = 0, model, r_;
	int32_t in_idx = 0, out_idx;
	int r = net_check(net);

	if (r < 0)
		return r;
	if (!opts)
		opts = &no_opts;
	if (q && q->n_layers != net->n_layers)
		return -EINVAL;
	for (size_t l = 0; q && l < net->n_layers; l++)
		if (q->layers[l].n_in != net->layers[l].n_in || q->layers[l].n_out != net->layers[l].n_out)
			return -EINVAL;
	out_idx = (int32_t)tensor_out(net->n_layers - 1);

	fb_builder_init(&b);
	buffers = make_buffers(&b, net, q, opts);
	tensors = make_tensors(&b, net, q);
	ops = make_operators(&b, net);
	if (opts->n_metadata)
		meta = make_metadata(&b, net, opts);
	if (!buffers || !tensors || !ops || (opts->n_metadata && !meta)) {
		fb_builder_release(&b);
		return -ENOMEM;
	}
	{
		fb_ref ir = fb_create_vec_i32(&b, &in_idx, 1);
		fb_ref orr = fb_create_vec_i32(&b, &out_idx, 1);
		fb_ref name = fb_create_string(&b, "main", 4);

		fb_table_start(&b);
		fb_add_ref(&b, SUBGRAPH_TENSORS, tensors);
		fb_add_ref(&b, SUBGRAPH_INPUTS, ir);
		fb_add_ref(&b, SUBGRAPH_OUTPUTS, orr);
		fb_add_ref(&b, SUBGRAPH_OPERATORS, ops);
		fb_add_ref(&b, SUBGRAPH_NAME, name);
		subgraph = fb_table_end(&b);
		subgraphs = fb_create_vec_refs(&b, &subgraph, 1);
	}
	/* both codes: readers before schema 3a use the byte, later ones the int */
	fb_table_start(&b);
	fb_add_u8(&b, OPCODE_DEPRECATED_BUILTIN, TFL_OP_FULLY_CONNECTED);
	fb_add_i32(&b, OPCODE_VERSION, q ? 4 : 1);
	fb_add_i32(&b, OPCODE_BUILTIN, TFL_OP_FULLY_CONNECTED);
	r_ = fb_table_end(&b);
	opcodes = fb_create_vec_refs(&b, &r_, 1);
	if (opts->description)
		desc = fb_create_string(&b, opts->description, strlen(opts->description));

	fb_table_start(&b);
	fb_add_u32(&b, MODEL_VERSION, TFL_SCHEMA_VERSION);
	fb_add_ref(&b, MODEL_OPCODES, opcodes);
	fb_add_ref(&b, MODEL_SUBGRAPHS, subgraphs);
	if (desc)
		fb_add_ref(&b, MODEL_DESCRIPTION, desc);
	fb_add_ref(&b, MODEL_BUFFERS, buffers);
	if (meta)
		fb_add_ref(&b, MODEL_METADATA, meta);
	model = fb_table_end(&b);
	r = fb_finish(&b, model, "TFL3", ret_data, ret_len);
	fb_builder_release(&b);
	return r;
}

/* ---- atomic file replacement ------------------------------------------- */

int tfl_write_file(const char *path, const uint8_t *data, size_t len)
{
	size_t plen = strlen(path);
	char *tmp = malloc(plen + 32);
	char *slash;
	int fd, dfd, r = 0;

	if (!tmp)
		return -ENOMEM;
	/* beside the target so rename() stays within one file system */
	snprintf(tmp, plen + 32, "%s.tmp.%ld", path, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0666);
	if (fd < 0) {
		r = -errno;
		free(tmp);
		return r;
	}
	for (size_t off = 0; off < len;) {
		ssize_t n = write(fd, data + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n < 0 ? -errno : -EIO;
			break;
		}
		off += (size_t)n;
	}
	if (!r && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && !r)
		r = -errno;
	if (!r && rename(tmp, path) < 0)
		r = -errno;
	if (r) {
		unlink(tmp);
		free(tmp);
		return r;
	}
	/* make the rename itself durable: fsync the directory */
	memcpy(tmp, path, plen + 1);
	slash = strrchr(tmp, '/');
	if (slash == tmp)
		slash[1] = '\0';
	else if (slash)
		*slash = '\0';
	else
		memcpy(tmp, ".", 2);
	dfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	free(tmp);
	return 0;
}
