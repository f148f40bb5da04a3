/* tfl_model.h - a .tflite file, read and checked, as plain structs.
 *
 * tfl_model_load() parses a TFLite FlatBuffer (schema version 3, file
 * identifier "TFL3") from untrusted bytes. Every offset, vtable, vector
 * length, string, buffer range, index, shape and type is checked before use;
 * sizes are capped (TFL_MAX_*) so a hostile file cannot make the reader
 * allocate without bound. Only subgraph 0 is read. Operators nad cannot run
 * are refused here, by name, so a model that loads is a model that runs
 * (tfl_interp.h) unless its shapes or types do not fit an operator.
 *
 * The loaded model owns copies of everything it needs (names, constant
 * tensor data decoded to host order and aligned, metadata bytes); the input
 * buffer may be freed right after loading. Treat every field as read-only.
 *
 * Errors: functions return 0 or a negative errno and, on failure, write a
 * one-line message to *err (when err is not NULL); library code never logs.
 * Messages look like "cannot load model 'x.tflite': tensor 3 'dense/kernel'
 * shape has 2^40 elements, more than the 16 Mi limit".
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Limits on what a model may ask for; anything bigger is refused as invalid. */
#define TFL_MAX_FILE_BYTES (256u << 20)     /* whole .tflite file */
#define TFL_MAX_RANK 6                      /* dimensions per tensor */
#define TFL_MAX_TENSOR_ELEMS (16u << 20)    /* elements per tensor (16 Mi) */
#define TFL_MAX_CONST_BYTES (256u << 20)    /* all constant tensor data together */
#define TFL_MAX_TENSORS 65536
#define TFL_MAX_OPERATORS 65536
#define TFL_MAX_OPCODES 4096
#define TFL_MAX_BUFFERS 65536
#define TFL_MAX_METADATA 1024
#define TFL_MAX_GRAPH_IO 1024               /* subgraph inputs or outputs */
#define TFL_MAX_OP_IO 8                     /* inputs or outputs of one operator */
#define TFL_MAX_NAME 4096                   /* bytes in a tensor or metadata name */

/* TensorType values from the TFLite schema (those with a fixed size). */
enum tfl_type {
	TFL_TYPE_FLOAT32 = 0,
	TFL_TYPE_FLOAT16 = 1,
	TFL_TYPE_INT32 = 2,
	TFL_TYPE_UINT8 = 3,
	TFL_TYPE_INT64 = 4,
	TFL_TYPE_BOOL = 6,
	TFL_TYPE_INT16 = 7,
	TFL_TYPE_INT8 = 9,
	TFL_TYPE_FLOAT64 = 10,
};

/* BuiltinOperator values of the operators nad runs (and CUSTOM, to name it). */
enum tfl_builtin {
	TFL_OP_ADD = 0,
	TFL_OP_DEQUANTIZE = 6,
	TFL_OP_FULLY_CONNECTED = 9,
	TFL_OP_LOGISTIC = 14,
	TFL_OP_MUL = 18,
	TFL_OP_RELU = 19,
	TFL_OP_RELU_N1_TO_1 = 20,
	TFL_OP_RELU6 = 21,
	TFL_OP_RESHAPE = 22,
	TFL_OP_TANH = 28,
	TFL_OP_CUSTOM = 32,
	TFL_OP_SUB = 41,
	TFL_OP_QUANTIZE = 114,
};

/* ActivationFunctionType values (fused activation of FC, ADD, SUB, MUL). */
enum tfl_fused {
	TFL_FUSED_NONE = 0,
	TFL_FUSED_RELU = 1,
	TFL_FUSED_RELU_N1_TO_1 = 2,
	TFL_FUSED_RELU6 = 3,
	TFL_FUSED_TANH = 4,
	TFL_FUSED_SIGN_BIT = 5,
};

struct tfl_error {
	char msg[512];
};

struct tfl_tensor {
	char *name;                 /* never NULL; "" when the file has none */
	int rank;
	int32_t shape[TFL_MAX_RANK];
	int32_t type;               /* enum tfl_type */
	uint32_t buffer;            /* index into the file's buffers */
	size_t count;               /* elements: product of shape (1 for rank 0) */
	const void *data;           /* constant values in host order, 64-byte aligned; NULL if none */
	size_t data_len;            /* bytes at data */
	uint32_t n_quant;           /* 0, 1 (per tensor) or shape[quant_dim] (per channel) */
	float *scale;               /* [n_quant] */
	int64_t *zero_point;        /* [n_quant] (zeros when the file gives none) */
	int32_t quant_dim;
	bool is_variable;
};

struct tfl_operator {
	int32_t builtin;            /* enum tfl_builtin */
	int32_t version;            /* OperatorCode.version */
	int n_inputs, n_outputs;
	int32_t inputs[TFL_MAX_OP_IO];  /* tensor index, or -1 for an absent optional input */
	int32_t outputs[TFL_MAX_OP_IO];
	uint8_t options_type;       /* BuiltinOptions union type, 0 when absent */
	/* Options of the supported operators (schema defaults when absent). */
	int32_t fused;              /* enum tfl_fused: FC, ADD, SUB, MUL */
	int32_t weights_format;     /* FC: 0 = DEFAULT */
	bool keep_num_dims;         /* FC */
	bool asymmetric_quantize_inputs; /* FC (hybrid models only) */
	int new_shape_rank;         /* RESHAPE options: -1 when absent */
	int32_t new_shape[TFL_MAX_RANK];
};

struct tfl_metadata {
	char *name;
	uint8_t *data;              /* a NUL follows the last byte, so text can be used as a C string */
	size_t len;
};

struct tfl_model {
	uint32_t version;           /* schema version (3) */
	char *description;          /* never NULL */
	size_t n_tensors;
	struct tfl_tensor *tensors;
	size_t n_operators;
	struct tfl_operator *operators;
	size_t n_inputs, n_outputs;
	int32_t *inputs, *outputs;  /* tensor indices of subgraph 0 */
	size_t n_metadata;
	struct tfl_metadata *metadata;
	size_t n_subgraphs;         /* in the file; only subgraph 0 is loaded */
};

/* Parse and check len bytes of a .tflite file. name (may be NULL) is how the
 * message calls the file. On success *ret_model is a new model, owned by the
 * caller (tfl_model_free). Returns 0, -EINVAL (malformed, unsupported or too
 * large; *err says which field, at which offset, and what was expected) or
 * -ENOMEM. */
int tfl_model_load(const uint8_t *data, size_t len, const char *name, struct tfl_error *err,
		   struct tfl_model **ret_model);

/* Read path and tfl_model_load() it. Returns as above, or -errno when the
 * file cannot be read (the message names the file and the reason). */
int tfl_model_load_file(const char *path, struct tfl_error *err, struct tfl_model **ret_model);

/* Free the model and everything in it; NULL is fine. */
void tfl_model_free(struct tfl_model *model);

/* Find metadata entry `name` (Model.metadata; nad's own is "nad"). Points
 * into the model (valid until tfl_model_free). Returns 0 or -ENOENT. */
int tfl_model_metadata(const struct tfl_model *model, const char *name, const uint8_t **ret_ptr,
		       size_t *ret_len);

/* The schema's name for a BuiltinOperator ("FULLY_CONNECTED"), or NULL. */
const char *tfl_builtin_name(int32_t builtin);

/* The schema's name for a TensorType ("INT8"), or NULL. */
const char *tfl_type_name(int32_t type);

/* Bytes per element of a fixed-size TensorType, 0 for others. */
size_t tfl_type_size(int32_t type);

/* Name of a fused activation ("RELU6"), or NULL. */
const char *tfl_fused_name(int32_t fused);

/* Format a message into err (if not NULL) and return code; for the reader,
 * the interpreter and the operators, so every error travels as text. */
int tfl_error_set(struct tfl_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
