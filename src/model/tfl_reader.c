/* tfl_reader.c - parse and check a .tflite file into a struct tfl_model.
 *
 * Tables and fields read (TFLite schema.fbs, version 3; slot = field number):
 *   Model:        0 version, 1 operator_codes, 2 subgraphs, 3 description,
 *                 4 buffers, 6 metadata
 *   OperatorCode: 0 deprecated_builtin_code (byte), 1 custom_code,
 *                 2 version, 3 builtin_code (int); the operator is the
 *                 larger of the two codes (files from TF >= 2.4 set both)
 *   SubGraph:     0 tensors, 1 inputs, 2 outputs, 3 operators
 *   Tensor:       0 shape, 1 type, 2 buffer, 3 name, 4 quantization,
 *                 5 is_variable, 6 sparsity
 *   Quantization: 2 scale, 3 zero_point, 4 details_type, 6 quantized_dimension
 *   Operator:     0 opcode_index, 1 inputs, 2 outputs, 3 builtin_options_type,
 *                 4 builtin_options
 *   Buffer:       0 data, 1 offset, 2 size (data outside the FlatBuffer when
 *                 offset > 1, counted from the start of the file)
 *   Metadata:     0 name, 1 buffer
 * Everything is checked through flatbuf_read.h; this file adds the meaning:
 * index ranges, shapes, types, buffer sizes and the supported operators.
 */
#include "model/tfl_model.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/bytes.h"
#include "model/flatbuf_read.h"
#include "model/tfl_interp.h"

/* BuiltinOptions union members nad reads. */
enum {
	OPTS_FULLY_CONNECTED = 8,
	OPTS_ADD = 11,
	OPTS_RESHAPE = 17,
	OPTS_MUL = 21,
	OPTS_SUB = 28,
};

static const char *const builtin_names[] = {
	"ADD", "AVERAGE_POOL_2D", "CONCATENATION", "CONV_2D", "DEPTHWISE_CONV_2D",
	"DEPTH_TO_SPACE", "DEQUANTIZE", "EMBEDDING_LOOKUP", "FLOOR", "FULLY_CONNECTED",
	"HASHTABLE_LOOKUP", "L2_NORMALIZATION", "L2_POOL_2D", "LOCAL_RESPONSE_NORMALIZATION",
	"LOGISTIC", "LSH_PROJECTION", "LSTM", "MAX_POOL_2D", "MUL", "RELU", "RELU_N1_TO_1",
	"RELU6", "RESHAPE", "RESIZE_BILINEAR", "RNN", "SOFTMAX", "SPACE_TO_DEPTH", "SVDF",
	"TANH", "CONCAT_EMBEDDINGS", "SKIP_GRAM", "CALL", "CUSTOM", "EMBEDDING_LOOKUP_SPARSE",
	"PAD", "UNIDIRECTIONAL_SEQUENCE_RNN", "GATHER", "BATCH_TO_SPACE_ND",
	"SPACE_TO_BATCH_ND", "TRANSPOSE", "MEAN", "SUB", "DIV", "SQUEEZE",
	"UNIDIRECTIONAL_SEQUENCE_LSTM", "STRIDED_SLICE", "BIDIRECTIONAL_SEQUENCE_RNN", "EXP",
	"TOPK_V2", "SPLIT", "LOG_SOFTMAX", "DELEGATE", "BIDIRECTIONAL_SEQUENCE_LSTM", "CAST",
	"PRELU", "MAXIMUM", "ARG_MAX", "MINIMUM", "LESS", "NEG", "PADV2", "GREATER",
	"GREATER_EQUAL", "LESS_EQUAL", "SELECT", "SLICE", "SIN", "TRANSPOSE_CONV",
	"SPARSE_TO_DENSE", "TILE", "EXPAND_DIMS", "EQUAL", "NOT_EQUAL", "LOG", "SUM", "SQRT",
	"RSQRT", "SHAPE", "POW", "ARG_MIN", "FAKE_QUANT", "REDUCE_PROD", "REDUCE_MAX", "PACK",
	"LOGICAL_OR", "ONE_HOT", "LOGICAL_AND", "LOGICAL_NOT", "UNPACK", "REDUCE_MIN",
	"FLOOR_DIV", "REDUCE_ANY", "SQUARE", "ZEROS_LIKE", "FILL", "FLOOR_MOD", "RANGE",
	"RESIZE_NEAREST_NEIGHBOR", "LEAKY_RELU", "SQUARED_DIFFERENCE", "MIRROR_PAD", "ABS",
	"SPLIT_V", "UNIQUE", "CEIL", "REVERSE_V2", "ADD_N", "GATHER_ND", "COS", "WHERE", "RANK",
	"ELU", "REVERSE_SEQUENCE", "MATRIX_DIAG", "QUANTIZE", "MATRIX_SET_DIAG", "ROUND",
	"HARD_SWISH", "IF", "WHILE", "NON_MAX_SUPPRESSION_V4", "NON_MAX_SUPPRESSION_V5",
	"SCATTER_ND", "SELECT_V2", "DENSIFY", "SEGMENT_SUM", "BATCH_MATMUL",
	"PLACEHOLDER_FOR_GREATER_OP_CODES", "CUMSUM", "CALL_ONCE", "BROADCAST_TO", "RFFT2D",
	"CONV_3D", "IMAG", "REAL", "COMPLEX_ABS", "HASHTABLE", "HASHTABLE_FIND",
	"HASHTABLE_IMPORT", "HASHTABLE_SIZE", "REDUCE_ALL", "CONV_3D_TRANSPOSE", "VAR_HANDLE",
	"READ_VARIABLE", "ASSIGN_VARIABLE", "BROADCAST_ARGS", "RANDOM_STANDARD_NORMAL",
	"BUCKETIZE", "RANDOM_UNIFORM", "MULTINOMIAL", "GELU", "DYNAMIC_UPDATE_SLICE",
	"RELU_0_TO_1", "UNSORTED_SEGMENT_PROD", "UNSORTED_SEGMENT_MAX", "UNSORTED_SEGMENT_SUM",
	"ATAN2", "UNSORTED_SEGMENT_MIN", "SIGN", "BITCAST", "BITWISE_XOR", "RIGHT_SHIFT",
};

const char *tfl_builtin_name(int32_t builtin)
{
	if (builtin < 0 || (size_t)builtin >= sizeof builtin_names / sizeof builtin_names[0])
		return NULL;
	return builtin_names[builtin];
}

static const char *const type_names[] = {
	"FLOAT32", "FLOAT16", "INT32", "UINT8", "INT64", "STRING", "BOOL", "INT16",
	"COMPLEX64", "INT8", "FLOAT64", "COMPLEX128", "UINT64", "RESOURCE", "VARIANT",
	"UINT32", "UINT16", "INT4",
};

const char *tfl_type_name(int32_t type)
{
	if (type < 0 || (size_t)type >= sizeof type_names / sizeof type_names[0])
		return NULL;
	return type_names[type];
}

size_t tfl_type_size(int32_t type)
{
	switch (type) {
	case TFL_TYPE_FLOAT32: case TFL_TYPE_INT32: return 4;
	case TFL_TYPE_FLOAT16: case TFL_TYPE_INT16: return 2;
	case TFL_TYPE_UINT8: case TFL_TYPE_INT8: case TFL_TYPE_BOOL: return 1;
	case TFL_TYPE_INT64: case TFL_TYPE_FLOAT64: return 8;
	default: return 0;
	}
}

const char *tfl_fused_name(int32_t fused)
{
	static const char *const names[] = { "NONE", "RELU", "RELU_N1_TO_1", "RELU6", "TANH", "SIGN_BIT" };

	if (fused < 0 || fused > TFL_FUSED_SIGN_BIT)
		return NULL;
	return names[fused];
}

int tfl_error_set(struct tfl_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (err) {
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof err->msg, fmt, ap);
		va_end(ap);
	}
	return code;
}

/* A Buffer table, checked; data points into the file being loaded. */
struct raw_buffer {
	const uint8_t *data;
	size_t len;
};

/* Load-time state: the file and what has been read of it so far. */
struct reader {
	struct tfl_fb fb;
	struct tfl_error *err;
	struct tfl_model *m;
	size_t n_buffers;
	struct raw_buffer *buffers;
	size_t n_opcodes;
	int32_t *opcode_builtin;
	int32_t *opcode_version;
	const char **opcode_custom;
	size_t const_bytes;
};

static char *dup_text(const char *s, size_t len)
{
	char *d = malloc(len + 1);

	if (d) {
		if (len)
			memcpy(d, s, len);
		d[len] = 0;
	}
	return d;
}

static void *alloc_aligned(size_t len)
{
	size_t n = (len + 63) & ~(size_t)63;

	return aligned_alloc(64, n ? n : 64);
}

static int read_opcodes(struct reader *rd, const struct tfl_fb_table *root)
{
	struct tfl_fb_vec v;
	int r = tfl_fb_vector(root, 1, 4, TFL_MAX_OPCODES, "operator_codes", rd->err, &v);

	if (r < 0)
		return r;
	rd->n_opcodes = v.count;
	rd->opcode_builtin = calloc(v.count + 1, sizeof *rd->opcode_builtin);
	rd->opcode_version = calloc(v.count + 1, sizeof *rd->opcode_version);
	rd->opcode_custom = calloc(v.count + 1, sizeof *rd->opcode_custom);
	if (!rd->opcode_builtin || !rd->opcode_version || !rd->opcode_custom)
		return -ENOMEM;
	for (uint32_t i = 0; i < v.count; i++) {
		struct tfl_fb_table t;
		char what[64];
		uint8_t dep;
		int32_t code, version;
		const char *custom;
		uint32_t custom_len;

		snprintf(what, sizeof what, "operator_codes[%u]", i);
		if ((r = tfl_fb_vec_table(&v, i, what, rd->err, &t)) < 0 ||
		    (r = tfl_fb_u8(&t, 0, 0, what, rd->err, &dep)) < 0 ||
		    (r = tfl_fb_string(&t, 1, TFL_MAX_NAME, what, rd->err, &custom, &custom_len)) < 0 ||
		    (r = tfl_fb_i32(&t, 2, 1, what, rd->err, &version)) < 0 ||
		    (r = tfl_fb_i32(&t, 3, 0, what, rd->err, &code)) < 0)
			return r;
		/* deprecated_builtin_code is a signed byte; codes above 127 live
		 * only in builtin_code, older files fill only the byte. */
		if ((int8_t)dep > code)
			code = (int8_t)dep;
		if (code < 0)
			return tfl_error_set(rd->err, -EINVAL, "%s at offset %zu: builtin code %d is negative",
					     what, t.pos, (int)code);
		rd->opcode_builtin[i] = code;
		rd->opcode_version[i] = version;
		rd->opcode_custom[i] = custom;
	}
	return 0;
}

static int read_buffers(struct reader *rd, const struct tfl_fb_table *root)
{
	struct tfl_fb_vec v;
	int r = tfl_fb_vector(root, 4, 4, TFL_MAX_BUFFERS, "buffers", rd->err, &v);

	if (r < 0)
		return r;
	rd->n_buffers = v.count;
	rd->buffers = calloc(v.count + 1, sizeof *rd->buffers);
	if (!rd->buffers)
		return -ENOMEM;
	for (uint32_t i = 0; i < v.count; i++) {
		struct tfl_fb_table t;
		struct tfl_fb_vec data;
		uint64_t off, size;
		char what[64];

		snprintf(what, sizeof what, "buffers[%u]", i);
		if ((r = tfl_fb_vec_table(&v, i, what, rd->err, &t)) < 0 ||
		    (r = tfl_fb_vector(&t, 0, 1, UINT32_MAX, what, rd->err, &data)) < 0 ||
		    (r = tfl_fb_u64(&t, 1, 0, what, rd->err, &off)) < 0 ||
		    (r = tfl_fb_u64(&t, 2, 0, what, rd->err, &size)) < 0)
			return r;
		if (off > 1) {
			/* Data stored after the FlatBuffer (models over 2 GB). */
			if (off > rd->fb.len || size > rd->fb.len - off)
				return tfl_error_set(rd->err, -EINVAL, "%s at offset %zu: data at file offset %llu, %llu bytes, is outside the %zu-byte file",
						     what, t.pos, (unsigned long long)off, (unsigned long long)size, rd->fb.len);
			rd->buffers[i].data = rd->fb.base + off;
			rd->buffers[i].len = (size_t)size;
		} else {
			rd->buffers[i].data = rd->fb.base + data.pos;
			rd->buffers[i].len = data.count;
		}
	}
	return 0;
}

static int read_metadata(struct reader *rd, const struct tfl_fb_table *root)
{
	struct tfl_fb_vec v;
	int r = tfl_fb_vector(root, 6, 4, TFL_MAX_METADATA, "metadata", rd->err, &v);

	if (r < 0)
		return r;
	rd->m->metadata = calloc(v.count + 1, sizeof *rd->m->metadata);
	if (!rd->m->metadata)
		return -ENOMEM;
	for (uint32_t i = 0; i < v.count; i++) {
		struct tfl_metadata *md = &rd->m->metadata[i];
		struct tfl_fb_table t;
		const char *name;
		uint32_t name_len, buf;
		int32_t b;
		char what[64];

		snprintf(what, sizeof what, "metadata[%u]", i);
		if ((r = tfl_fb_vec_table(&v, i, what, rd->err, &t)) < 0 ||
		    (r = tfl_fb_string(&t, 0, TFL_MAX_NAME, what, rd->err, &name, &name_len)) < 0 ||
		    (r = tfl_fb_i32(&t, 1, 0, what, rd->err, &b)) < 0)
			return r;
		buf = (uint32_t)b;
		if (buf >= rd->n_buffers)
			return tfl_error_set(rd->err, -EINVAL, "%s at offset %zu: buffer index %u, but the file has %zu buffers",
					     what, t.pos, buf, rd->n_buffers);
		md->name = dup_text(name ? name : "", name_len);
		md->data = (uint8_t *)dup_text((const char *)rd->buffers[buf].data, rd->buffers[buf].len);
		md->len = rd->buffers[buf].len;
		rd->m->n_metadata = i + 1;
		if (!md->name || !md->data)
			return -ENOMEM;
	}
	return 0;
}

/* Copy a constant tensor's bytes into aligned host-order storage. */
static int decode_const(struct tfl_tensor *t, const struct raw_buffer *b)
{
	size_t esz = tfl_type_size(t->type);
	uint8_t *d = alloc_aligned(b->len);

	if (!d)
		return -ENOMEM;
	for (size_t i = 0; i < t->count; i++) {
		const uint8_t *s = b->data + i * esz;

		switch (esz) {
		case 1: d[i] = s[0]; break;
		case 2: { uint16_t x = load_le16(s); memcpy(d + 2 * i, &x, 2); break; }
		case 4: { uint32_t x = load_le32(s); memcpy(d + 4 * i, &x, 4); break; }
		default: { uint64_t x = load_le64(s); memcpy(d + 8 * i, &x, 8); break; }
		}
	}
	t->data = d;
	t->data_len = b->len;
	return 0;
}

static void format_shape(const struct tfl_fb_vec *shape, char *buf, size_t len)
{
	size_t at = 0;

	buf[0] = 0;
	for (uint32_t i = 0; i < shape->count && at + 16 < len; i++)
		at += (size_t)snprintf(buf + at, len - at, "%s%d", i ? "," : "", (int)tfl_fb_vec_i32(shape, i));
	if (at + 16 >= len)
		snprintf(buf + at, len - at, ",...");
}

static int read_quant(struct reader *rd, struct tfl_tensor *t, const struct tfl_fb_table *q,
		      const char *what)
{
	struct tfl_fb_vec scale, zp;
	uint8_t details;
	int32_t dim;
	int r;

	if ((r = tfl_fb_vector(q, 2, 4, 65536, what, rd->err, &scale)) < 0 ||
	    (r = tfl_fb_vector(q, 3, 8, 65536, what, rd->err, &zp)) < 0 ||
	    (r = tfl_fb_u8(q, 4, 0, what, rd->err, &details)) < 0 ||
	    (r = tfl_fb_i32(q, 6, 0, what, rd->err, &dim)) < 0)
		return r;
	if (details != 0)
		return tfl_error_set(rd->err, -EINVAL, "%s uses custom quantization (details type %u); only scale/zero-point is supported",
				     what, details);
	if (scale.count == 0)
		return 0;
	if (zp.count != 0 && zp.count != scale.count)
		return tfl_error_set(rd->err, -EINVAL, "%s has %u scales but %u zero points; expected as many of each",
				     what, scale.count, zp.count);
	if (scale.count > 1 && (dim < 0 || dim >= t->rank || (uint32_t)t->shape[dim] != scale.count))
		return tfl_error_set(rd->err, -EINVAL, "%s has %u per-channel scales along dimension %d, which does not match the shape",
				     what, scale.count, (int)dim);
	t->scale = calloc(scale.count, sizeof *t->scale);
	t->zero_point = calloc(scale.count, sizeof *t->zero_point);
	if (!t->scale || !t->zero_point)
		return -ENOMEM;
	for (uint32_t i = 0; i < scale.count; i++) {
		t->scale[i] = tfl_fb_vec_f32(&scale, i);
		t->zero_point[i] = zp.count ? tfl_fb_vec_i64(&zp, i) : 0;
	}
	t->n_quant = scale.count;
	t->quant_dim = dim;
	return 0;
}

static int read_tensor(struct reader *rd, const struct tfl_fb_vec *v, uint32_t i)
{
	struct tfl_tensor *t = &rd->m->tensors[i];
	struct tfl_fb_table tt, q, sparsity;
	struct tfl_fb_vec shape;
	const char *name;
	uint32_t name_len;
	uint8_t type, is_var;
	int32_t buf;
	bool has_q, has_sparsity;
	char what[96], dims[96];
	double elems = 1;
	int r;

	snprintf(what, sizeof what, "tensor %u", i);
	if ((r = tfl_fb_vec_table(v, i, what, rd->err, &tt)) < 0 ||
	    (r = tfl_fb_string(&tt, 3, TFL_MAX_NAME, what, rd->err, &name, &name_len)) < 0)
		return r;
	t->name = dup_text(name ? name : "", name_len);
	if (!t->name)
		return -ENOMEM;
	/* From here on messages name the tensor too. */
	snprintf(what, sizeof what, "tensor %u '%.40s'", i, t->name);
	if ((r = tfl_fb_vector(&tt, 0, 4, 1u << 20, what, rd->err, &shape)) < 0 ||
	    (r = tfl_fb_u8(&tt, 1, 0, what, rd->err, &type)) < 0 ||
	    (r = tfl_fb_i32(&tt, 2, 0, what, rd->err, &buf)) < 0 ||
	    (r = tfl_fb_table_field(&tt, 4, what, rd->err, &q, &has_q)) < 0 ||
	    (r = tfl_fb_u8(&tt, 5, 0, what, rd->err, &is_var)) < 0 ||
	    (r = tfl_fb_table_field(&tt, 6, what, rd->err, &sparsity, &has_sparsity)) < 0)
		return r;
	if (shape.count > TFL_MAX_RANK)
		return tfl_error_set(rd->err, -EINVAL, "%s has rank %u, more than %d", what, shape.count, TFL_MAX_RANK);
	t->rank = (int)shape.count;
	for (uint32_t d = 0; d < shape.count; d++) {
		int32_t n = tfl_fb_vec_i32(&shape, d);

		if (n < 1)
			return tfl_error_set(rd->err, -EINVAL, "%s dimension %u is %d; expected a size of at least 1",
					     what, d, (int)n);
		t->shape[d] = n;
		elems *= n;
	}
	if (elems > TFL_MAX_TENSOR_ELEMS) {
		format_shape(&shape, dims, sizeof dims);
		return tfl_error_set(rd->err, -EINVAL, "%s shape [%s] has %.0f elements, more than the 16 Mi limit",
				     what, dims, elems);
	}
	t->count = (size_t)elems;
	t->type = (int8_t)type;
	if (tfl_type_size(t->type) == 0)
		return tfl_error_set(rd->err, -EINVAL, "%s has type %s (%d); nad holds only fixed-size numeric types",
				     what, tfl_type_name(t->type) ? tfl_type_name(t->type) : "unknown", (int)t->type);
	if (has_sparsity)
		return tfl_error_set(rd->err, -EINVAL, "%s is sparse; only dense tensors are supported", what);
	t->is_variable = is_var != 0;
	t->buffer = (uint32_t)buf;
	if (t->buffer >= rd->n_buffers)
		return tfl_error_set(rd->err, -EINVAL, "%s refers to buffer %u, but the file has %zu buffers",
				     what, t->buffer, rd->n_buffers);
	if (has_q && (r = read_quant(rd, t, &q, what)) < 0)
		return r;
	if (rd->buffers[t->buffer].len) {
		const struct raw_buffer *b = &rd->buffers[t->buffer];
		size_t need = t->count * tfl_type_size(t->type);

		if (b->len != need)
			return tfl_error_set(rd->err, -EINVAL, "%s: buffer %u holds %zu bytes, but %zu elements of %s need %zu",
					     what, t->buffer, b->len, t->count, tfl_type_name(t->type), need);
		if (rd->const_bytes + need > TFL_MAX_CONST_BYTES)
			return tfl_error_set(rd->err, -EINVAL, "%s: constant data passes the limit of %u MiB in all",
					     what, TFL_MAX_CONST_BYTES >> 20);
		rd->const_bytes += need;
		if ((r = decode_const(t, b)) < 0)
			return r;
	}
	return 0;
}

static int read_index_list(struct reader *rd, const struct tfl_fb_table *sg, unsigned slot,
			   const char *what, size_t *ret_n, int32_t **ret)
{
	struct tfl_fb_vec v;
	int r = tfl_fb_vector(sg, slot, 4, TFL_MAX_GRAPH_IO, what, rd->err, &v);

	if (r < 0)
		return r;
	*ret = calloc(v.count + 1, sizeof **ret);
	if (!*ret)
		return -ENOMEM;
	for (uint32_t i = 0; i < v.count; i++) {
		int32_t x = tfl_fb_vec_i32(&v, i);

		if (x < 0 || (size_t)x >= rd->m->n_tensors)
			return tfl_error_set(rd->err, -EINVAL, "%s[%u] is tensor %d, but the subgraph has %zu tensors",
					     what, i, (int)x, rd->m->n_tensors);
		(*ret)[i] = x;
	}
	*ret_n = v.count;
	return 0;
}

/* Read the options the supported operators use, checking the union type. */
static int read_options(struct reader *rd, struct tfl_operator *op, const struct tfl_fb_table *ot,
			bool have, const char *what)
{
	int expect = 0;
	uint8_t u8;
	int r;

	switch (op->builtin) {
	case TFL_OP_FULLY_CONNECTED: expect = OPTS_FULLY_CONNECTED; break;
	case TFL_OP_ADD: expect = OPTS_ADD; break;
	case TFL_OP_SUB: expect = OPTS_SUB; break;
	case TFL_OP_MUL: expect = OPTS_MUL; break;
	case TFL_OP_RESHAPE: expect = OPTS_RESHAPE; break;
	default: return 0;
	}
	if (!have || op->options_type == 0)
		return 0;                      /* all defaults */
	if (op->options_type != expect)
		return tfl_error_set(rd->err, -EINVAL, "%s has builtin options of union type %u; expected %d",
				     what, op->options_type, expect);
	if (op->builtin == TFL_OP_RESHAPE) {
		struct tfl_fb_vec ns;

		if ((r = tfl_fb_vector(ot, 0, 4, 1u << 20, what, rd->err, &ns)) < 0)
			return r;
		if (!ns.present)
			return 0;
		if (ns.count > TFL_MAX_RANK)
			return tfl_error_set(rd->err, -EINVAL, "%s new_shape has %u dimensions, more than %d",
					     what, ns.count, TFL_MAX_RANK);
		op->new_shape_rank = (int)ns.count;
		for (uint32_t d = 0; d < ns.count; d++)
			op->new_shape[d] = tfl_fb_vec_i32(&ns, d);
		return 0;
	}
	if ((r = tfl_fb_u8(ot, 0, 0, what, rd->err, &u8)) < 0)
		return r;
	op->fused = (int8_t)u8;
	if (op->builtin == TFL_OP_FULLY_CONNECTED) {
		if ((r = tfl_fb_u8(ot, 1, 0, what, rd->err, &u8)) < 0)
			return r;
		op->weights_format = (int8_t)u8;
		if ((r = tfl_fb_u8(ot, 2, 0, what, rd->err, &u8)) < 0)
			return r;
		op->keep_num_dims = u8 != 0;
		if ((r = tfl_fb_u8(ot, 3, 0, what, rd->err, &u8)) < 0)
			return r;
		op->asymmetric_quantize_inputs = u8 != 0;
	}
	return 0;
}

static int read_tensor_list(struct reader *rd, const struct tfl_fb_table *ot, unsigned slot,
			    bool optional, const char *what, int *ret_n, int32_t *ret)
{
	struct tfl_fb_vec v;
	int r = tfl_fb_vector(ot, slot, 4, 1u << 20, what, rd->err, &v);

	if (r < 0)
		return r;
	if (v.count > TFL_MAX_OP_IO)
		return tfl_error_set(rd->err, -EINVAL, "%s lists %u tensors, more than %d",
				     what, v.count, TFL_MAX_OP_IO);
	for (uint32_t i = 0; i < v.count; i++) {
		int32_t x = tfl_fb_vec_i32(&v, i);

		if ((x < 0 && !(optional && x == -1)) || (x >= 0 && (size_t)x >= rd->m->n_tensors))
			return tfl_error_set(rd->err, -EINVAL, "%s[%u] is tensor %d, but the subgraph has %zu tensors",
					     what, i, (int)x, rd->m->n_tensors);
		ret[i] = x;
	}
	*ret_n = (int)v.count;
	return 0;
}

static int read_operator(struct reader *rd, const struct tfl_fb_vec *v, uint32_t i)
{
	struct tfl_operator *op = &rd->m->operators[i];
	struct tfl_fb_table ot, opts;
	bool have_opts;
	int32_t opcode;
	char what[64];
	int r;

	snprintf(what, sizeof what, "operator %u", i);
	op->new_shape_rank = -1;
	if ((r = tfl_fb_vec_table(v, i, what, rd->err, &ot)) < 0 ||
	    (r = tfl_fb_i32(&ot, 0, 0, what, rd->err, &opcode)) < 0)
		return r;
	if ((uint32_t)opcode >= rd->n_opcodes)
		return tfl_error_set(rd->err, -EINVAL, "%s opcode_index is %u, but the file has %zu operator codes",
				     what, (uint32_t)opcode, rd->n_opcodes);
	op->builtin = rd->opcode_builtin[opcode];
	op->version = rd->opcode_version[opcode];
	if (op->builtin == TFL_OP_CUSTOM) {
		return tfl_error_set(rd->err, -EINVAL, "%s: custom operator '%.64s' is not supported; supported: %s",
				     what, rd->opcode_custom[opcode] ? rd->opcode_custom[opcode] : "",
				     tfl_interp_supported_names());
	}
	if (!tfl_interp_supports(op->builtin)) {
		const char *n = tfl_builtin_name(op->builtin);

		return tfl_error_set(rd->err, -EINVAL, "%s: operator %s (%d) is not supported; supported: %s",
				     what, n ? n : "unknown", (int)op->builtin, tfl_interp_supported_names());
	}
	snprintf(what, sizeof what, "operator %u (%s)", i, tfl_builtin_name(op->builtin));
	if ((r = read_tensor_list(rd, &ot, 1, true, what, &op->n_inputs, op->inputs)) < 0 ||
	    (r = read_tensor_list(rd, &ot, 2, false, what, &op->n_outputs, op->outputs)) < 0 ||
	    (r = tfl_fb_u8(&ot, 3, 0, what, rd->err, &op->options_type)) < 0 ||
	    (r = tfl_fb_table_field(&ot, 4, what, rd->err, &opts, &have_opts)) < 0)
		return r;
	return read_options(rd, op, &opts, have_opts, what);
}

static int read_subgraph(struct reader *rd, const struct tfl_fb_table *root)
{
	struct tfl_fb_vec sgs, tensors, ops;
	struct tfl_fb_table sg;
	int r;

	if ((r = tfl_fb_vector(root, 2, 4, 1u << 16, "subgraphs", rd->err, &sgs)) < 0)
		return r;
	if (sgs.count == 0)
		return tfl_error_set(rd->err, -EINVAL, "model has no subgraph; expected at least one");
	rd->m->n_subgraphs = sgs.count;
	if ((r = tfl_fb_vec_table(&sgs, 0, "subgraph 0", rd->err, &sg)) < 0 ||
	    (r = tfl_fb_vector(&sg, 0, 4, TFL_MAX_TENSORS, "subgraph 0 tensors", rd->err, &tensors)) < 0 ||
	    (r = tfl_fb_vector(&sg, 3, 4, TFL_MAX_OPERATORS, "subgraph 0 operators", rd->err, &ops)) < 0)
		return r;
	rd->m->tensors = calloc(tensors.count + 1, sizeof *rd->m->tensors);
	rd->m->operators = calloc(ops.count + 1, sizeof *rd->m->operators);
	if (!rd->m->tensors || !rd->m->operators)
		return -ENOMEM;
	for (uint32_t i = 0; i < tensors.count; i++) {
		rd->m->n_tensors = i + 1;      /* so tfl_model_free sees what is allocated */
		if ((r = read_tensor(rd, &tensors, i)) < 0)
			return r;
	}
	rd->m->n_tensors = tensors.count;
	if ((r = read_index_list(rd, &sg, 1, "subgraph 0 inputs", &rd->m->n_inputs, &rd->m->inputs)) < 0 ||
	    (r = read_index_list(rd, &sg, 2, "subgraph 0 outputs", &rd->m->n_outputs, &rd->m->outputs)) < 0)
		return r;
	rd->m->n_operators = ops.count;
	for (uint32_t i = 0; i < ops.count; i++)
		if ((r = read_operator(rd, &ops, i)) < 0)
			return r;
	return 0;
}

static int parse(struct reader *rd)
{
	struct tfl_fb_table root;
	const char *desc;
	uint32_t desc_len;
	int32_t version;
	int r;

	if ((r = tfl_fb_root(&rd->fb, "TFL3", rd->err, &root)) < 0 ||
	    (r = tfl_fb_i32(&root, 0, 0, "Model.version", rd->err, &version)) < 0)
		return r;
	if (version != 3)
		return tfl_error_set(rd->err, -EINVAL, "schema version is %u; expected 3", (uint32_t)version);
	rd->m->version = (uint32_t)version;
	if ((r = tfl_fb_string(&root, 3, 1u << 16, "Model.description", rd->err, &desc, &desc_len)) < 0)
		return r;
	rd->m->description = dup_text(desc ? desc : "", desc_len);
	if (!rd->m->description)
		return -ENOMEM;
	if ((r = read_opcodes(rd, &root)) < 0 ||
	    (r = read_buffers(rd, &root)) < 0 ||
	    (r = read_metadata(rd, &root)) < 0)
		return r;
	return read_subgraph(rd, &root);
}

int tfl_model_load(const uint8_t *data, size_t len, const char *name, struct tfl_error *err,
		   struct tfl_model **ret_model)
{
	struct tfl_error e = { "" };
	struct reader rd = { .fb = { data, len }, .err = &e };
	int r;

	if (len > TFL_MAX_FILE_BYTES)
		r = tfl_error_set(&e, -EINVAL, "file is %zu bytes, more than the %u MiB limit",
				  len, TFL_MAX_FILE_BYTES >> 20);
	else if (!(rd.m = calloc(1, sizeof *rd.m)))
		r = -ENOMEM;
	else
		r = parse(&rd);
	free(rd.buffers);
	free(rd.opcode_builtin);
	free(rd.opcode_version);
	free(rd.opcode_custom);
	if (r < 0) {
		tfl_model_free(rd.m);
		if (r == -ENOMEM)
			snprintf(e.msg, sizeof e.msg, "out of memory");
		return tfl_error_set(err, r, "cannot load model%s%s%s: %s", name ? " '" : "",
				     name ? name : "", name ? "'" : "", e.msg);
	}
	*ret_model = rd.m;
	return 0;
}

int tfl_model_load_file(const char *path, struct tfl_error *err, struct tfl_model **ret_model)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	uint8_t *buf;
	size_t n;
	int r;

	if (!f)
		return tfl_error_set(err, -errno, "cannot load model '%s': %s", path, strerror(errno));
	if (fstat(fileno(f), &st) < 0 || !S_ISREG(st.st_mode)) {
		fclose(f);
		return tfl_error_set(err, -EINVAL, "cannot load model '%s': not a regular file", path);
	}
	if ((uint64_t)st.st_size > TFL_MAX_FILE_BYTES) {
		fclose(f);
		return tfl_error_set(err, -EINVAL, "cannot load model '%s': file is %lld bytes, more than the %u MiB limit",
				     path, (long long)st.st_size, TFL_MAX_FILE_BYTES >> 20);
	}
	buf = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!buf) {
		fclose(f);
		return tfl_error_set(err, -ENOMEM, "cannot load model '%s': out of memory", path);
	}
	n = fread(buf, 1, (size_t)st.st_size, f);
	if (ferror(f)) {
		r = -EIO;
		tfl_error_set(err, r, "cannot load model '%s': read error", path);
	} else {
		r = tfl_model_load(buf, n, path, err, ret_model);
	}
	fclose(f);
	free(buf);
	return r;
}

void tfl_model_free(struct tfl_model *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n_tensors; i++) {
		free(m->tensors[i].name);
		free((void *)m->tensors[i].data);
		free(m->tensors[i].scale);
		free(m->tensors[i].zero_point);
	}
	for (size_t i = 0; i < m->n_metadata; i++) {
		free(m->metadata[i].name);
		free(m->metadata[i].data);
	}
	free(m->tensors);
	free(m->operators);
	free(m->inputs);
	free(m->outputs);
	free(m->metadata);
	free(m->description);
	free(m);
}

int tfl_model_metadata(const struct tfl_model *model, const char *name, const uint8_t **ret_ptr,
		       size_t *ret_len)
{
	for (size_t i = 0; i < model->n_metadata; i++) {
		if (!strcmp(model->metadata[i].name, name)) {
			*ret_ptr = model->metadata[i].data;
			*ret_len = model->metadata[i].len;
			return 0;
		}
	}
	return -ENOENT;
}
