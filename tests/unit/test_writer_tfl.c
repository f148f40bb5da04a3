/* test_writer_tfl.c - the FlatBuffer builder and the .tflite writer: files
 * written by nad parse back (raw layout checks and nad's own reader) with
 * the weights, quantisation and metadata that went in. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "common/bytes.h"
#include "model/flatbuf_build.h"
#include "model/tfl_model.h"
#include "model/tfl_writer.h"

/* Field f of the table at t, or 0 when absent (no bounds checks: these
 * buffers come from our own builder and lengths are checked by CHECKs). */
static size_t field(const uint8_t *b, size_t t, int f)
{
	size_t vt = t - (size_t)(int32_t)load_le32(b + t);
	uint16_t vlen = load_le16(b + vt);

	if (4 + 2 * (size_t)f >= vlen)
		return 0;
	return load_le16(b + vt + 4 + 2 * f) ? t + load_le16(b + vt + 4 + 2 * f) : 0;
}

static size_t deref(const uint8_t *b, size_t at) { return at + load_le32(b + at); }

static void test_builder(void)
{
	struct fb_builder fb;
	int32_t v[3] = { 7, -1, 300000 };
	fb_ref s, vec, root;
	uint8_t *buf;
	size_t len, t, p;

	fb_builder_init(&fb);
	s = fb_create_string(&fb, "hello", 5);
	vec = fb_create_vec_i32(&fb, v, 3);
	fb_table_start(&fb);
	fb_add_u8(&fb, 0, 42);
	fb_add_ref(&fb, 2, s);
	fb_add_ref(&fb, 3, vec);
	fb_add_u32(&fb, 1, 0xdeadbeef);
	root = fb_table_end(&fb);
	CHECK_EQ_INT(fb_finish(&fb, root, "TEST", &buf, &len), 0);
	CHECK(len % 4 == 0);
	CHECK(!memcmp(buf + 4, "TEST", 4));
	t = load_le32(buf);
	CHECK(t < len);
	CHECK_EQ_INT(buf[field(buf, t, 0)], 42);
	CHECK_EQ_INT(load_le32(buf + field(buf, t, 1)), 0xdeadbeef);
	p = deref(buf, field(buf, t, 2));
	CHECK_EQ_INT(load_le32(buf + p), 5);
	CHECK(!memcmp(buf + p + 4, "hello", 6));   /* NUL terminated */
	p = deref(buf, field(buf, t, 3));
	CHECK_EQ_INT(load_le32(buf + p), 3);
	CHECK_EQ_INT((int32_t)load_le32(buf + p + 8), -1);
	CHECK_EQ_INT(field(buf, t, 4), 0);
	free(buf);

	/* misuse is sticky and reported at the end */
	fb_builder_init(&fb);
	fb_table_start(&fb);
	fb_create_string(&fb, "x", 1);   /* not allowed inside a table */
	root = fb_table_end(&fb);
	CHECK_EQ_INT(fb_finish(&fb, root, "TEST", &buf, &len), -EINVAL);
	fb_builder_release(&fb);
}

/* 3 -> 4 (ReLU) -> 3 (linear) */
static const float w0[12] = { 0.5f, -0.25f, 1.0f, -1.0f, 0.75f, 0.1f, 0.2f, 0.3f, -0.4f, 0.9f, -0.6f, 0.05f };
static const float b0[4] = { 0.1f, -0.2f, 0.0f, 0.3f };
static const float w1[12] = { 0.3f, -0.7f, 0.2f, 0.5f, -0.1f, 0.4f, 0.6f, -0.3f, 1.2f, 0.0f, 0.25f, -0.5f };
static const float b1[3] = { -0.05f, 0.02f, 0.4f };

static void make_net(struct tfl_dense_layer *l, struct tfl_dense_net *net)
{
	l[0] = (struct tfl_dense_layer){ 3, 4, w0, b0, TFL_ACT_RELU };
	l[1] = (struct tfl_dense_layer){ 4, 3, w1, b1, TFL_ACT_NONE };
	net->n_layers = 2;
	net->layers = l;
}

static void float_forward(const float *x, float *y)
{
	float h[4];

	for (int o = 0; o < 4; o++) {
		h[o] = b0[o];
		for (int i = 0; i < 3; i++)
			h[o] += w0[o * 3 + i] * x[i];
		h[o] = h[o] > 0 ? h[o] : 0;
	}
	for (int o = 0; o < 3; o++) {
		y[o] = b1[o];
		for (int i = 0; i < 4; i++)
			y[o] += w1[o * 4 + i] * h[i];
	}
}

static const char meta_json[] = "{\"format\": \"nad-model\"}";

static struct tfl_model *write_and_load(const struct tfl_dense_net *net, const struct tfl_quant *q,
					uint8_t **ret_buf, size_t *ret_len)
{
	struct tfl_meta_entry e = { "nad", meta_json, sizeof meta_json - 1 };
	struct tfl_write_opts o = { "test model", &e, 1 };
	struct tfl_model *m = NULL;
	struct tfl_error err;

	CHECK_EQ_INT(tfl_write_dense(net, q, &o, ret_buf, ret_len), 0);
	CHECK(!memcmp(*ret_buf + 4, "TFL3", 4));
	if (tfl_model_load(*ret_buf, *ret_len, "written", &err, &m) < 0) {
		fprintf(stderr, "reader: %s\n", err.msg);
		CHECK(0);
	}
	return m;
}

static void check_common(const struct tfl_model *m)
{
	const uint8_t *md;
	size_t mdlen;

	CHECK_EQ_INT(m->version, 3);
	CHECK(!strcmp(m->description, "test model"));
	CHECK_EQ_INT(m->n_tensors, 7);
	CHECK_EQ_INT(m->n_operators, 2);
	CHECK_EQ_INT(m->n_inputs, 1);
	CHECK_EQ_INT(m->inputs[0], 0);
	CHECK_EQ_INT(m->outputs[0], 6);
	CHECK_EQ_INT(m->operators[0].builtin, TFL_OP_FULLY_CONNECTED);
	CHECK_EQ_INT(m->operators[0].fused, TFL_FUSED_RELU);
	CHECK_EQ_INT(m->operators[1].fused, TFL_FUSED_NONE);
	CHECK_EQ_INT(m->operators[1].inputs[0], 3);
	CHECK_EQ_INT(m->tensors[1].shape[0], 4);
	CHECK_EQ_INT(m->tensors[1].shape[1], 3);
	CHECK_EQ_INT(m->tensors[0].shape[1], 3);
	CHECK_EQ_INT(tfl_model_metadata(m, "nad", &md, &mdlen), 0);
	CHECK_EQ_INT(mdlen, sizeof meta_json - 1);
	CHECK(!memcmp(md, meta_json, mdlen));
}

/* TFLite asks for buffer data on 16-byte boundaries (force_align). */
static void check_aligned(const uint8_t *buf, size_t len, const void *bytes, size_t n)
{
	const uint8_t *hit = memmem(buf, len, bytes, n);

	CHECK(hit != NULL);
	if (hit)
		CHECK((size_t)(hit - buf) % 16 == 0);
}

static void test_float(void)
{
	struct tfl_dense_layer l[2];
	struct tfl_dense_net net;
	struct tfl_model *m;
	uint8_t *buf, wbytes[48];
	size_t len;

	make_net(l, &net);
	m = write_and_load(&net, NULL, &buf, &len);
	if (m) {
		check_common(m);
		CHECK_EQ_INT(m->tensors[0].type, TFL_TYPE_FLOAT32);
		CHECK_EQ_INT(m->tensors[1].data_len, sizeof w0);
		CHECK(!memcmp(m->tensors[1].data, w0, sizeof w0));
		CHECK(!memcmp(m->tensors[5].data, b1, sizeof b1));
		CHECK_EQ_INT(m->tensors[0].n_quant, 0);
	}
	for (int i = 0; i < 12; i++)
		store_lef32(wbytes + 4 * i, w0[i]);
	check_aligned(buf, len, wbytes, sizeof wbytes);
	tfl_model_free(m);
	free(buf);
}

static void test_int8(bool per_channel)
{
	static float repr[200 * 3];
	struct tfl_dense_layer l[2];
	struct tfl_dense_net net;
	struct tfl_quant q;
	struct tfl_model *m;
	int8_t qi[3], qo[3], scratch[8];
	uint8_t *buf;
	size_t len;
	double worst = 0;

	make_net(l, &net);
	for (int r = 0; r < 200; r++)
		for (int i = 0; i < 3; i++)
			repr[r * 3 + i] = (float)((r * 7 + i * 13) % 41) / 10.0f - 2.0f;
	CHECK_EQ_INT(tfl_quant_init(&net, repr, 200, per_channel, &q), 0);
	m = write_and_load(&net, &q, &buf, &len);
	if (m) {
		const struct tfl_tensor *w = &m->tensors[1], *b = &m->tensors[2];

		check_common(m);
		CHECK_EQ_INT(m->tensors[0].type, TFL_TYPE_INT8);
		CHECK_EQ_INT(m->tensors[6].type, TFL_TYPE_INT8);
		CHECK_EQ_INT(w->type, TFL_TYPE_INT8);
		CHECK_EQ_INT(b->type, TFL_TYPE_INT32);
		CHECK_EQ_INT(w->n_quant, per_channel ? 4 : 1);
		CHECK_EQ_INT(w->quant_dim, 0);
		for (uint32_t c = 0; c < w->n_quant; c++) {
			CHECK_EQ_INT(w->zero_point[c], 0);
			CHECK_NEAR(b->scale[c] / ((double)m->tensors[0].scale[0] * w->scale[c]), 1.0, 1e-6);
		}
		CHECK_NEAR(m->tensors[0].scale[0], q.layers[0].in_scale, 0);
		CHECK_EQ_INT(m->tensors[3].zero_point[0], -128);   /* ReLU output: range starts at 0 */
		CHECK(!memcmp(w->data, q.layers[0].w, 12));
	}
	/* the integer network tracks the float one within a few output steps */
	for (int r = 0; r < 200; r++) {
		float y[3];

		float_forward(repr + r * 3, y);
		for (int i = 0; i < 3; i++)
			qi[i] = tfl_quantise(repr[r * 3 + i], q.layers[0].in_scale, q.layers[0].in_zp);
		tfl_quant_run(&q, qi, qo, scratch);
		for (int o = 0; o < 3; o++) {
			double d = fabs(tfl_dequantise(qo[o], q.layers[1].out_scale, q.layers[1].out_zp) - y[o]);

			worst = d > worst ? d : worst;
		}
	}
	CHECK(worst < 4 * q.layers[1].out_scale);
	tfl_model_free(m);
	free(buf);
	tfl_quant_release(&q);
}

static void test_quantise(void)
{
	CHECK_EQ_INT(tfl_quantise(0.0f, 0.1f, -128), -128);
	CHECK_EQ_INT(tfl_quantise(1.25f, 0.5f, 0), 3);      /* 2.5 rounds away from zero */
	CHECK_EQ_INT(tfl_quantise(-1.25f, 0.5f, 0), -3);
	CHECK_EQ_INT(tfl_quantise(1000.0f, 0.1f, 0), 127);
	CHECK_EQ_INT(tfl_quantise(NAN, 0.1f, 0), -128);
	CHECK_NEAR(tfl_dequantise(-128, 0.5f, -128), 0.0, 0);
	CHECK_NEAR(tfl_dequantise(10, 0.5f, 0), 5.0, 0);
}

static void test_refusals(void)
{
	struct tfl_dense_layer l[2];
	struct tfl_dense_net net;
	struct tfl_quant q;
	uint8_t *buf = NULL;
	size_t len;
	float repr[3] = { 0 };

	make_net(l, &net);
	l[1].n_in = 5;   /* layers that do not chain */
	CHECK_EQ_INT(tfl_write_dense(&net, NULL, NULL, &buf, &len), -EINVAL);
	make_net(l, &net);
	l[0].act = TFL_ACT_TANH;   /* int8 cannot fuse tanh */
	CHECK_EQ_INT(tfl_quant_init(&net, repr, 1, false, &q), -EINVAL);
	CHECK_EQ_INT(tfl_write_dense(&net, NULL, NULL, &buf, &len), 0);   /* float can */
	free(buf);
	make_net(l, &net);
	CHECK_EQ_INT(tfl_quant_init(&net, repr, 0, false, &q), -EINVAL);
}

static void test_write_file(void)
{
	char dir[] = "/tmp/nad_test_writer_XXXXXX", path[64], back[8];
	FILE *f;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof path, "%s/m.tflite", dir);
	CHECK_EQ_INT(tfl_write_file(path, (const uint8_t *)"first", 5), 0);
	CHECK_EQ_INT(tfl_write_file(path, (const uint8_t *)"second", 6), 0);
	f = fopen(path, "rb");
	CHECK(f != NULL);
	if (f) {
		CHECK_EQ_INT(fread(back, 1, sizeof back, f), 6);
		CHECK(!memcmp(back, "second", 6));
		fclose(f);
	}
	snprintf(path, sizeof path, "%s/absent/m.tflite", dir);
	CHECK(tfl_write_file(path, (const uint8_t *)"x", 1) < 0);
	snprintf(path, sizeof path, "%s/m.tflite", dir);
	unlink(path);
	CHECK_EQ_INT(rmdir(dir), 0);   /* fails if a temporary file was left */
}

int main(void)
{
	test_builder();
	test_float();
	test_int8(false);
	test_int8(true);
	test_quantise();
	test_refusals();
	test_write_file();
	return check_exit();
}
