/* flatbuf_read.c - checked FlatBuffer access (layout in flatbuf_read.h). */
#include "model/flatbuf_read.h"

#include <errno.h>
#include <string.h>

#include "common/bytes.h"

/* Is [pos, pos + n) inside the buffer? 64-bit sums: no wrap on any input. */
static bool in_range(const struct tfl_fb *fb, uint64_t pos, uint64_t n)
{
	return pos <= fb->len && n <= fb->len - pos;
}

/* Check the table at pos and its vtable, and fill *ret. */
static int table_at(const struct tfl_fb *fb, uint64_t pos, const char *what, struct tfl_error *err,
		    struct tfl_fb_table *ret)
{
	int64_t vt;
	int32_t soff;
	uint16_t vt_len, tbl_len;

	if (!in_range(fb, pos, 4))
		return tfl_error_set(err, -EINVAL, "%s at offset %llu: table starts past the end of the %zu-byte file",
				     what, (unsigned long long)pos, fb->len);
	soff = (int32_t)load_le32(fb->base + pos);
	vt = (int64_t)pos - (int64_t)soff;
	if (vt < 0 || !in_range(fb, (uint64_t)vt, 4))
		return tfl_error_set(err, -EINVAL, "%s at offset %llu: vtable offset %d points outside the file",
				     what, (unsigned long long)pos, (int)soff);
	vt_len = load_le16(fb->base + vt);
	tbl_len = load_le16(fb->base + vt + 2);
	if (vt_len < 4 || (vt_len & 1) || !in_range(fb, (uint64_t)vt, vt_len))
		return tfl_error_set(err, -EINVAL, "%s at offset %llu: vtable at %lld has bad size %u (expected an even size >= 4 within the file)",
				     what, (unsigned long long)pos, (long long)vt, vt_len);
	if (tbl_len < 4 || !in_range(fb, pos, tbl_len))
		return tfl_error_set(err, -EINVAL, "%s at offset %llu: table size %u runs past the end of the file",
				     what, (unsigned long long)pos, tbl_len);
	ret->fb = fb;
	ret->pos = (size_t)pos;
	ret->vt = (size_t)vt;
	ret->vt_len = vt_len;
	ret->tbl_len = tbl_len;
	return 0;
}

int tfl_fb_root(const struct tfl_fb *fb, const char *ident, struct tfl_error *err,
		struct tfl_fb_table *ret)
{
	if (fb->len < 8)
		return tfl_error_set(err, -EINVAL, "file is %zu bytes, too short for a FlatBuffer header (8)", fb->len);
	if (ident && memcmp(fb->base + 4, ident, 4) != 0)
		return tfl_error_set(err, -EINVAL, "file identifier at offset 4 is not '%.4s' (not a TFLite model?)", ident);
	return table_at(fb, load_le32(fb->base), "root table", err, ret);
}

int tfl_fb_scalar(const struct tfl_fb_table *t, unsigned slot, unsigned size, const char *what,
		  struct tfl_error *err, const uint8_t **ret_p)
{
	size_t vo = 4 + 2 * (size_t)slot;
	uint16_t fo;

	*ret_p = NULL;
	if (vo + 2 > t->vt_len)
		return 0;                      /* field newer than the writer: absent */
	fo = load_le16(t->fb->base + t->vt + vo);
	if (fo == 0)
		return 0;
	if (fo < 4 || (size_t)fo + size > t->tbl_len)
		return tfl_error_set(err, -EINVAL, "%s at offset %zu: field offset %u does not fit the %u-byte table",
				     what, t->pos, fo, t->tbl_len);
	*ret_p = t->fb->base + t->pos + fo;
	return 0;
}

int tfl_fb_u8(const struct tfl_fb_table *t, unsigned slot, uint8_t def, const char *what,
	      struct tfl_error *err, uint8_t *ret)
{
	const uint8_t *p;
	int r = tfl_fb_scalar(t, slot, 1, what, err, &p);

	if (r < 0)
		return r;
	*ret = p ? p[0] : def;
	return 0;
}

int tfl_fb_i32(const struct tfl_fb_table *t, unsigned slot, int32_t def, const char *what,
	       struct tfl_error *err, int32_t *ret)
{
	const uint8_t *p;
	int r = tfl_fb_scalar(t, slot, 4, what, err, &p);

	if (r < 0)
		return r;
	*ret = p ? (int32_t)load_le32(p) : def;
	return 0;
}

int tfl_fb_u64(const struct tfl_fb_table *t, unsigned slot, uint64_t def, const char *what,
	       struct tfl_error *err, uint64_t *ret)
{
	const uint8_t *p;
	int r = tfl_fb_scalar(t, slot, 8, what, err, &p);

	if (r < 0)
		return r;
	*ret = p ? load_le64(p) : def;
	return 0;
}

/* Follow the u32 forward offset stored in field slot; *ret_target is 0 when
 * the field is absent (0 can never be a target: it holds the root offset). */
static int ref_field(const struct tfl_fb_table *t, unsigned slot, const char *what,
		     struct tfl_error *err, uint64_t *ret_target)
{
	const uint8_t *p;
	uint64_t at, target;
	int r = tfl_fb_scalar(t, slot, 4, what, err, &p);

	*ret_target = 0;
	if (r < 0 || !p)
		return r;
	at = (uint64_t)(p - t->fb->base);
	target = at + load_le32(p);
	if (target == at || target >= t->fb->len)
		return tfl_error_set(err, -EINVAL, "%s at offset %llu: reference to offset %llu is outside the %zu-byte file",
				     what, (unsigned long long)at, (unsigned long long)target, t->fb->len);
	*ret_target = target;
	return 0;
}

int tfl_fb_table_field(const struct tfl_fb_table *t, unsigned slot, const char *what,
		       struct tfl_error *err, struct tfl_fb_table *ret, bool *ret_present)
{
	uint64_t target;
	int r = ref_field(t, slot, what, err, &target);

	*ret_present = false;
	if (r < 0 || !target)
		return r;
	r = table_at(t->fb, target, what, err, ret);
	if (r == 0)
		*ret_present = true;
	return r;
}

/* Check a vector header at pos holding count elements of elem_size bytes. */
static int vector_at(const struct tfl_fb *fb, uint64_t pos, size_t elem_size, uint32_t max_count,
		     const char *what, struct tfl_error *err, struct tfl_fb_vec *ret)
{
	uint32_t count;

	if (!in_range(fb, pos, 4))
		return tfl_error_set(err, -EINVAL, "%s at offset %llu: vector length runs past the end of the file",
				     what, (unsigned long long)pos);
	count = load_le32(fb->base + pos);
	if (count > max_count)
		return tfl_error_set(err, -EINVAL, "%s at offset %llu: %u elements, more than the limit of %u",
				     what, (unsigned long long)pos, count, max_count);
	if (!in_range(fb, pos + 4, (uint64_t)count * elem_size))
		return tfl_error_set(err, -EINVAL, "%s at offset %llu: %u elements of %zu bytes run past the end of the %zu-byte file",
				     what, (unsigned long long)pos, count, elem_size, fb->len);
	ret->fb = fb;
	ret->pos = (size_t)pos + 4;
	ret->count = count;
	ret->present = true;
	return 0;
}

int tfl_fb_vector(const struct tfl_fb_table *t, unsigned slot, size_t elem_size, uint32_t max_count,
		  const char *what, struct tfl_error *err, struct tfl_fb_vec *ret)
{
	uint64_t target;
	int r = ref_field(t, slot, what, err, &target);

	ret->fb = t->fb;
	ret->pos = 0;
	ret->count = 0;
	ret->present = false;
	if (r < 0 || !target)
		return r;
	return vector_at(t->fb, target, elem_size, max_count, what, err, ret);
}

int tfl_fb_string(const struct tfl_fb_table *t, unsigned slot, uint32_t max_len, const char *what,
		  struct tfl_error *err, const char **ret_s, uint32_t *ret_len)
{
	struct tfl_fb_vec v;
	int r;

	*ret_s = NULL;
	*ret_len = 0;
	r = tfl_fb_vector(t, slot, 1, max_len, what, err, &v);
	if (r < 0 || !v.present)
		return r;
	if (!in_range(t->fb, v.pos + v.count, 1) || t->fb->base[v.pos + v.count] != 0)
		return tfl_error_set(err, -EINVAL, "%s at offset %zu: string of %u bytes is not NUL-terminated",
				     what, v.pos - 4, v.count);
	*ret_s = (const char *)t->fb->base + v.pos;
	*ret_len = v.count;
	return 0;
}

int tfl_fb_vec_table(const struct tfl_fb_vec *v, uint32_t i, const char *what, struct tfl_error *err,
		     struct tfl_fb_table *ret)
{
	uint64_t at = (uint64_t)v->pos + 4 * (uint64_t)i;
	uint64_t target = at + load_le32(v->fb->base + at);

	if (target == at || target >= v->fb->len)
		return tfl_error_set(err, -EINVAL, "%s at offset %llu: reference to offset %llu is outside the %zu-byte file",
				     what, (unsigned long long)at, (unsigned long long)target, v->fb->len);
	return table_at(v->fb, target, what, err, ret);
}

int32_t tfl_fb_vec_i32(const struct tfl_fb_vec *v, uint32_t i)
{
	return (int32_t)load_le32(v->fb->base + v->pos + 4 * (size_t)i);
}

int64_t tfl_fb_vec_i64(const struct tfl_fb_vec *v, uint32_t i)
{
	return (int64_t)load_le64(v->fb->base + v->pos + 8 * (size_t)i);
}

float tfl_fb_vec_f32(const struct tfl_fb_vec *v, uint32_t i)
{
	return load_lef32(v->fb->base + v->pos + 4 * (size_t)i);
}
