/* flatbuf_build.c - back-to-front FlatBuffers builder (see flatbuf_build.h). */
#include "model/flatbuf_build.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"

/* FlatBuffers offsets are 32-bit and readers treat them as signed in places,
 * so a buffer stays below 2 GiB. */
#define FB_MAX_SIZE ((size_t)INT32_MAX)

void fb_builder_init(struct fb_builder *b)
{
	memset(b, 0, sizeof *b);
	b->max_align = 4;
}

void fb_builder_release(struct fb_builder *b)
{
	if (!b)
		return;
	free(b->buf);
	fb_builder_init(b);
}

static void fb_fail(struct fb_builder *b, int err)
{
	if (!b->err)
		b->err = err;
}

/* Make room for n more bytes in front of the data and return them, zeroed. */
static uint8_t *fb_prepend(struct fb_builder *b, size_t n)
{
	if (b->err)
		return NULL;
	if (n > FB_MAX_SIZE - b->size) {
		fb_fail(b, -E2BIG);
		return NULL;
	}
	if (b->size + n > b->cap) {
		size_t cap = b->cap ? b->cap : 1024;
		uint8_t *nb;

		while (cap < b->size + n)
			cap *= 2;
		nb = malloc(cap);
		if (!nb) {
			fb_fail(b, -ENOMEM);
			return NULL;
		}
		if (b->size)
			memcpy(nb + cap - b->size, b->buf + b->cap - b->size, b->size);
		free(b->buf);
		b->buf = nb;
		b->cap = cap;
	}
	b->size += n;
	memset(b->buf + b->cap - b->size, 0, n);
	return b->buf + b->cap - b->size;
}

/* Pad so that after prepending len more bytes the data start is a multiple
 * of align from the end. The finished buffer's length is a multiple of the
 * largest alignment used, so "aligned from the end" is "aligned in the file". */
static void fb_pad_for(struct fb_builder *b, size_t len, size_t align)
{
	size_t pad;

	if (align > b->max_align)
		b->max_align = align;
	pad = (align - ((b->size + len) & (align - 1))) & (align - 1);
	if (pad)
		fb_prepend(b, pad);
}

static int fb_outside_table(struct fb_builder *b)
{
	if (b->in_table) {
		fb_fail(b, -EINVAL);
		return 0;
	}
	return !b->err;
}

/* Prepend a vector's elements (already little-endian in src, or zeros when
 * src is NULL) and its count; returns a pointer to the elements. */
static uint8_t *fb_vec(struct fb_builder *b, size_t n, size_t elem, size_t align, fb_ref *ret)
{
	uint8_t *p;

	*ret = 0;
	if (!fb_outside_table(b))
		return NULL;
	if (elem && n > FB_MAX_SIZE / elem) {
		fb_fail(b, -E2BIG);
		return NULL;
	}
	fb_pad_for(b, n * elem, align < 4 ? 4 : align);
	p = fb_prepend(b, n * elem);
	if (!p)
		return NULL;
	if (!fb_prepend(b, 4))
		return NULL;
	store_le32(b->buf + b->cap - b->size, (uint32_t)n);
	*ret = (fb_ref)b->size;
	/* the count went in front, so the elements moved only if we grew */
	return b->buf + b->cap - b->size + 4;
}

fb_ref fb_create_string(struct fb_builder *b, const char *s, size_t len)
{
	fb_ref r;
	uint8_t *p = fb_vec(b, len + 1, 1, 4, &r);

	if (!p)
		return 0;
	memcpy(p, s, len);
	/* the count excludes the terminator */
	store_le32(p - 4, (uint32_t)len);
	return r;
}

fb_ref fb_create_vec_u8(struct fb_builder *b, const void *data, size_t n, size_t align)
{
	fb_ref r;
	uint8_t *p = fb_vec(b, n, 1, align, &r);

	if (p && n)
		memcpy(p, data, n);
	return r;
}

fb_ref fb_create_vec_i32(struct fb_builder *b, const int32_t *v, size_t n)
{
	fb_ref r;
	uint8_t *p = fb_vec(b, n, 4, 4, &r);

	for (size_t i = 0; p && i < n; i++)
		store_le32(p + 4 * i, (uint32_t)v[i]);
	return r;
}

fb_ref fb_create_vec_i64(struct fb_builder *b, const int64_t *v, size_t n)
{
	fb_ref r;
	uint8_t *p = fb_vec(b, n, 8, 8, &r);

	for (size_t i = 0; p && i < n; i++)
		store_le64(p + 8 * i, (uint64_t)v[i]);
	return r;
}

fb_ref fb_create_vec_i64_fill(struct fb_builder *b, int64_t v, size_t n)
{
	fb_ref r;
	uint8_t *p = fb_vec(b, n, 8, 8, &r);

	for (size_t i = 0; p && i < n; i++)
		store_le64(p + 8 * i, (uint64_t)v);
	return r;
}

fb_ref fb_create_vec_f32(struct fb_builder *b, const float *v, size_t n)
{
	fb_ref r;
	uint8_t *p = fb_vec(b, n, 4, 4, &r);

	for (size_t i = 0; p && i < n; i++)
		store_lef32(p + 4 * i, v[i]);
	return r;
}

fb_ref fb_create_vec_refs(struct fb_builder *b, const fb_ref *refs, size_t n)
{
	fb_ref r;
	uint8_t *p = fb_vec(b, n, 4, 4, &r);

	if (!p)
		return 0;
	for (size_t i = 0; i < n; i++) {
		/* element i sits at distance r - 4 - 4*i from the end */
		size_t at = (size_t)r - 4 - 4 * i;

		if (!refs[i] || refs[i] >= at) {
			fb_fail(b, -EINVAL);
			return 0;
		}
		store_le32(p + 4 * i, (uint32_t)(at - refs[i]));
	}
	return r;
}

void fb_table_start(struct fb_builder *b)
{
	if (!fb_outside_table(b))
		return;
	b->in_table = 1;
	b->table_start = b->size;
	b->max_field = -1;
	memset(b->field_at, 0, sizeof b->field_at);
}

static uint8_t *fb_field(struct fb_builder *b, int id, size_t n)
{
	uint8_t *p;

	if (b->err)
		return NULL;
	if (!b->in_table || id < 0 || id >= FB_MAX_FIELDS || b->field_at[id]) {
		fb_fail(b, -EINVAL);
		return NULL;
	}
	fb_pad_for(b, n, n);
	p = fb_prepend(b, n);
	if (!p)
		return NULL;
	b->field_at[id] = (uint32_t)b->size;
	if (id > b->max_field)
		b->max_field = id;
	return p;
}

void fb_add_u8(struct fb_builder *b, int id, uint8_t v)
{
	uint8_t *p = fb_field(b, id, 1);

	if (p)
		*p = v;
}

void fb_add_i32(struct fb_builder *b, int id, int32_t v)
{
	fb_add_u32(b, id, (uint32_t)v);
}

void fb_add_u32(struct fb_builder *b, int id, uint32_t v)
{
	uint8_t *p = fb_field(b, id, 4);

	if (p)
		store_le32(p, v);
}

void fb_add_ref(struct fb_builder *b, int id, fb_ref r)
{
	uint8_t *p = fb_field(b, id, 4);

	if (!p)
		return;
	/* uoffsets point forward: the target must already be written */
	if (!r || r >= b->size) {
		fb_fail(b, -EINVAL);
		return;
	}
	store_le32(p, (uint32_t)(b->size - r));
}

fb_ref fb_table_end(struct fb_builder *b)
{
	size_t nfields, vt_bytes, obj_bytes, table;
	uint8_t *vt;

	if (b->err)
		return 0;
	if (!b->in_table) {
		fb_fail(b, -EINVAL);
		return 0;
	}
	b->in_table = 0;
	fb_pad_for(b, 4, 4);
	if (!fb_prepend(b, 4))
		return 0;
	table = b->size;
	nfields = (size_t)(b->max_field + 1);
	vt_bytes = 4 + 2 * nfields;
	obj_bytes = table - b->table_start;
	if (obj_bytes > UINT16_MAX) {
		fb_fail(b, -E2BIG);
		return 0;
	}
	vt = fb_prepend(b, vt_bytes);
	if (!vt)
		return 0;
	store_le16(vt, (uint16_t)vt_bytes);
	store_le16(vt + 2, (uint16_t)obj_bytes);
	for (size_t i = 0; i < nfields; i++)
		if (b->field_at[i])
			store_le16(vt + 4 + 2 * i, (uint16_t)(table - b->field_at[i]));
	/* the vtable sits just below the table: table - vtable = vt_bytes */
	store_le32(b->buf + b->cap - table, (uint32_t)(b->size - table));
	return (fb_ref)table;
}

int fb_finish(struct fb_builder *b, fb_ref root, const char identifier[4],
	      uint8_t **ret_data, size_t *ret_len)
{
	uint8_t *p, *out;

	if (!b->err && (b->in_table || !root || root > b->size))
		fb_fail(b, -EINVAL);
	fb_pad_for(b, 8, b->max_align);
	p = fb_prepend(b, 4);
	if (p)
		memcpy(p, identifier, 4);
	p = fb_prepend(b, 4);
	if (b->err)
		return b->err;
	store_le32(p, (uint32_t)(b->size - root));
	out = malloc(b->size);
	if (!out)
		return -ENOMEM;
	memcpy(out, p, b->size);
	*ret_len = b->size;
	*ret_data = out;
	fb_builder_release(b);
	return 0;
}
