/* test_tfl_hostile.c - the reader and interpreter against damaged and
 * hostile files: every truncation of the real models, every byte of them
 * flipped, random bytes, and hand-made damage to named fields, each of which
 * must be refused with -EINVAL and a message saying what was wrong. A file
 * that still loads must prepare or be refused, and run without a fault
 * (ctest runs this under ASan+UBSan in the sanitizer build). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "common/bytes.h"
#include "model/flatbuf_read.h"
#include "model/tfl_interp.h"
#include "model/tfl_model.h"

static uint8_t *read_file(const char *rel, size_t *ret_len)
{
	char path[1024];
	const char *root = getenv("NAD_SHARED");
	FILE *f;
	uint8_t *buf;
	long n;

	snprintf(path, sizeof path, "%s/data/tflite/%s", root ? root : "../shared", rel);
	f = fopen(path, "rb");
	CHECK(f != NULL);
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n);
	CHECK_EQ_INT(fread(buf, 1, (size_t)n, f), n);
	fclose(f);
	*ret_len = (size_t)n;
	return buf;
}

static long loaded, refused, prepared;

/* Load, and if that works prepare and run on zeros; never a fault, and a
 * refusal always comes with -EINVAL and a message. */
static int try_model(const uint8_t *data, size_t len, struct tfl_error *ret_err)
{
	struct tfl_error err = { "" };
	struct tfl_model *m = NULL;
	struct tfl_interp *ip = NULL;
	int r = tfl_model_load(data, len, "hostile.tflite", &err, &m);

	if (r < 0) {
		CHECK_EQ_INT(r, -EINVAL);
		CHECK(strncmp(err.msg, "cannot load model 'hostile.tflite': ", 36) == 0 && strlen(err.msg) > 40);
		refused++;
		if (ret_err)
			*ret_err = err;
		return r;
	}
	loaded++;
	if (tfl_interp_new(m, 3, &err, &ip) == 0) {
		prepared++;
		CHECK_EQ_INT(tfl_interp_invoke(ip, 3), 0);
		CHECK_EQ_INT(tfl_interp_invoke(ip, 1), 0);
	} else {
		CHECK(err.msg[0] != 0);
	}
	tfl_interp_free(ip);
	tfl_model_free(m);
	return 0;
}

static void truncations(const char *rel, size_t step)
{
	size_t len;
	uint8_t *buf = read_file(rel, &len);

	if (!buf)
		return;
	CHECK_EQ_INT(try_model(buf, len, NULL), 0);
	for (size_t n = 0; n < len; n += n + 64 >= len ? 1 : step) {
		/* A fresh copy of exactly n bytes, so ASan sees any read past it. */
		uint8_t *cut = malloc(n ? n : 1);

		memcpy(cut, buf, n);
		try_model(cut, n, NULL);
		free(cut);
	}
	free(buf);
}

static void flips(const char *rel)
{
	static const uint8_t values[] = { 0x00, 0xff, 0x7f, 0x80, 0x01 };
	size_t len;
	uint8_t *buf = read_file(rel, &len);

	if (!buf)
		return;
	for (size_t i = 0; i < len; i++) {
		uint8_t keep = buf[i];

		for (size_t v = 0; v < sizeof values; v++) {
			buf[i] = keep == values[v] ? (uint8_t)~keep : values[v];
			try_model(buf, len, NULL);
		}
		buf[i] = keep ^ 0x10;
		try_model(buf, len, NULL);
		buf[i] = keep;
	}
	free(buf);
}

static uint64_t rng = 0x9e3779b97f4a7c15u;

static uint32_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

static void random_bytes(void)
{
	uint8_t buf[4096];

	for (int i = 0; i < 20000; i++) {
		size_t n = next_rand() % sizeof buf;

		for (size_t k = 0; k < n; k++)
			buf[k] = (uint8_t)next_rand();
		if (n >= 8 && (i & 1)) {
			memcpy(buf + 4, "TFL3", 4);       /* get past the identifier */
			store_le32(buf, next_rand() % (uint32_t)n);
		}
		CHECK(try_model(buf, n, NULL) < 0 || n >= 8);
	}
}

/* Offset in the file of scalar field `slot` of table t (which must be present). */
static size_t field_at(const struct tfl_fb_table *t, unsigned slot, unsigned size)
{
	const uint8_t *p = NULL;

	CHECK_EQ_INT(tfl_fb_scalar(t, slot, size, "test", NULL, &p), 0);
	CHECK(p != NULL);
	return p ? (size_t)(p - t->fb->base) : 0;
}

/* Named damage to a copy of hello_world_float, each with its message. */
static void expect_refusal(const uint8_t *data, size_t len, const char *want)
{
	struct tfl_error err = { "" };

	CHECK_EQ_INT(try_model(data, len, &err), -EINVAL);
	if (!strstr(err.msg, want)) {
		fprintf(stderr, "message '%s' lacks '%s'\n", err.msg, want);
		CHECK(!"message names the problem");
	}
}

static void crafted(void)
{
	size_t len;
	uint8_t *orig = read_file("hello_world_float.tflite", &len), *b;
	struct tfl_fb fb;
	struct tfl_fb_table root, opc, sg, tensor, op;
	struct tfl_fb_vec v;

	if (!orig)
		return;
	b = malloc(len);
	fb.base = b;
	fb.len = len;
#define FRESH() memcpy(b, orig, len)

	/* Locate the fields to damage with the checked accessors themselves. */
	FRESH();
	CHECK_EQ_INT(tfl_fb_root(&fb, "TFL3", NULL, &root), 0);
	CHECK_EQ_INT(tfl_fb_vector(&root, 1, 4, 100, "t", NULL, &v), 0);
	CHECK_EQ_INT(tfl_fb_vec_table(&v, 0, "t", NULL, &opc), 0);
	size_t n_codes_at = v.pos - 4;
	CHECK_EQ_INT(tfl_fb_vector(&root, 2, 4, 100, "t", NULL, &v), 0);
	CHECK_EQ_INT(tfl_fb_vec_table(&v, 0, "t", NULL, &sg), 0);
	CHECK_EQ_INT(tfl_fb_vector(&sg, 0, 4, 100, "t", NULL, &v), 0);
	CHECK_EQ_INT(tfl_fb_vec_table(&v, 0, "t", NULL, &tensor), 0);
	CHECK_EQ_INT(tfl_fb_vector(&sg, 3, 4, 100, "t", NULL, &v), 0);
	CHECK_EQ_INT(tfl_fb_vec_table(&v, 0, "t", NULL, &op), 0);

	size_t code_at = field_at(&opc, 3, 4), dep_at = field_at(&opc, 0, 1);
	size_t buf_at = field_at(&tensor, 2, 4);
	struct tfl_fb_vec shape, inputs;

	CHECK_EQ_INT(tfl_fb_vector(&tensor, 0, 4, 8, "t", NULL, &shape), 0);
	CHECK_EQ_INT(tfl_fb_vector(&op, 1, 4, 8, "t", NULL, &inputs), 0);

	/* An operator nad does not run (CONV_2D) is refused by name. */
	FRESH();
	store_le32(b + code_at, 3);
	b[dep_at] = 3;
	expect_refusal(b, len, "operator CONV_2D (3) is not supported; supported: FULLY_CONNECTED");
	/* A code above 127 lives only in builtin_code (BATCH_MATMUL = 126, CUMSUM = 128). */
	FRESH();
	store_le32(b + code_at, 128);
	b[dep_at] = 127;
	expect_refusal(b, len, "operator CUMSUM (128) is not supported");
	/* A custom operator. */
	FRESH();
	store_le32(b + code_at, 32);
	b[dep_at] = 32;
	expect_refusal(b, len, "custom operator");
	/* Absurd shape: 2^20 x 2^20 elements. */
	FRESH();
	CHECK(shape.count == 2);
	store_le32(b + shape.pos, 1u << 20);
	store_le32(b + shape.pos + 4, 1u << 20);
	expect_refusal(b, len, "shape [1048576,1048576] has 1099511627776 elements, more than the 16 Mi limit");
	/* Negative dimension. */
	FRESH();
	store_le32(b + shape.pos, (uint32_t)-5);
	expect_refusal(b, len, "dimension 0 is -5");
	/* Buffer index out of range. */
	FRESH();
	store_le32(b + buf_at, 9999);
	expect_refusal(b, len, "refers to buffer 9999");
	/* Operator code index and tensor index out of range. */
	FRESH();
	store_le32(b + n_codes_at, 0);        /* opcode_index 0 (the default) now dangles */
	expect_refusal(b, len, "opcode_index is 0, but the file has 0 operator codes");
	FRESH();
	store_le32(b + inputs.pos, 500);
	expect_refusal(b, len, "is tensor 500, but the subgraph has");
	/* Root offset past the end; a vtable pointing outside; wrong identifier. */
	FRESH();
	store_le32(b, 0xfffffff0u);
	expect_refusal(b, len, "root table at offset 4294967280");
	FRESH();
	store_le32(b + root.pos, 0x80000000u);
	expect_refusal(b, len, "vtable offset");
	FRESH();
	memcpy(b + 4, "TFL2", 4);
	expect_refusal(b, len, "file identifier");
	/* A vector whose length runs past the end of the file. */
	FRESH();
	store_le32(b + shape.pos - 4, 0x3fffffffu);
	expect_refusal(b, len, "more than the limit");
	FRESH();
	store_le32(b + shape.pos - 4, 0x000fffffu);
	expect_refusal(b, len, "past the end");
	/* A constant whose buffer is too small for its shape: make the weight
	 * tensor of the first operator point at a 4-byte bias buffer. */
	{
		int32_t wi, bi;
		struct tfl_fb_table wt, bt, last;
		struct tfl_fb_vec ops, last_in;
		size_t wbuf_at;
		const uint8_t *bp;

		FRESH();
		CHECK_EQ_INT(tfl_fb_vector(&sg, 3, 4, 100, "t", NULL, &ops), 0);
		CHECK_EQ_INT(tfl_fb_vec_table(&ops, ops.count - 1, "t", NULL, &last), 0);
		CHECK_EQ_INT(tfl_fb_vector(&last, 1, 4, 8, "t", NULL, &last_in), 0);
		wi = tfl_fb_vec_i32(&inputs, 1);
		bi = tfl_fb_vec_i32(&last_in, 2);     /* the last layer's bias: 1 float */
		CHECK_EQ_INT(tfl_fb_vector(&sg, 0, 4, 100, "t", NULL, &v), 0);
		CHECK_EQ_INT(tfl_fb_vec_table(&v, (uint32_t)wi, "t", NULL, &wt), 0);
		CHECK_EQ_INT(tfl_fb_vec_table(&v, (uint32_t)bi, "t", NULL, &bt), 0);
		wbuf_at = field_at(&wt, 2, 4);
		CHECK_EQ_INT(tfl_fb_scalar(&bt, 2, 4, "t", NULL, &bp), 0);
		store_le32(b + wbuf_at, load_le32(bp));
		expect_refusal(b, len, "holds 4 bytes, but 16 elements of FLOAT32 need 64");
	}
	/* Schema version other than 3. */
	FRESH();
	store_le32(b + field_at(&root, 0, 4), 2);
	expect_refusal(b, len, "schema version is 2; expected 3");
	free(b);
	free(orig);
#undef FRESH
}

/* A model that loads but whose operator does not fit its tensors is refused
 * by tfl_interp_new with the operator named. */
static void prepare_refusals(void)
{
	size_t len;
	uint8_t *b = read_file("hello_world_int8.tflite", &len);
	struct tfl_error err = { "" };
	struct tfl_model *m = NULL;
	struct tfl_interp *ip = NULL;

	if (!b)
		return;
	CHECK_EQ_INT(tfl_model_load(b, len, "hello_world_int8.tflite", &err, &m), 0);
	if (m) {
		/* hello_world's input is [1,1]: batching is fine; the graph is int8. */
		CHECK_EQ_INT(tfl_interp_new(m, 8, &err, &ip), 0);
		tfl_interp_free(ip);
		ip = NULL;
		CHECK(tfl_interp_new(m, 0, &err, &ip) < 0);
		CHECK(tfl_interp_new(m, 1u << 20, &err, &ip) < 0);
		/* Break the first layer's output type: int8 in, float32 out. */
		m->tensors[m->operators[0].outputs[0]].type = TFL_TYPE_FLOAT32;
		CHECK_EQ_INT(tfl_interp_new(m, 1, &err, &ip), -EINVAL);
		CHECK(strstr(err.msg, "operator 0 (FULLY_CONNECTED): input INT8, weights INT8, output FLOAT32") != NULL);
		tfl_model_free(m);
	}
	free(b);
}

int main(void)
{
	truncations("hello_world_float.tflite", 1);
	truncations("hello_world_int8.tflite", 1);
	truncations("mlperf_tiny_ad01/ad01_int8.tflite", 4099);
	flips("hello_world_int8.tflite");
	flips("hello_world_float.tflite");
	random_bytes();
	crafted();
	prepare_refusals();
	printf("hostile inputs: %ld refused, %ld loaded (%ld of them prepared and ran)\n", refused, loaded, prepared);
	return check_exit();
}
