/* flatbuf_build.h - a small FlatBuffers builder, enough to write a .tflite.
 *
 * FlatBuffers are built back to front: an object can only refer (by an
 * unsigned forward offset) to objects written before it, so children are
 * created first and the root last. The builder keeps the bytes at the end of
 * a growing array; an fb_ref is an object's distance from that end, which
 * stays valid as the array grows.
 *
 * Binary layout produced (all little-endian):
 *   root:   u32 offset to the root table, then the 4-byte file identifier
 *   table:  i32 (table - vtable), then its fields, each aligned to its size
 *   vtable: u16 vtable bytes, u16 table bytes, u16 per field id (offset of
 *           the field from the table start, 0 = absent / default)
 *   vector: u32 count, then the elements; a string adds a NUL terminator
 *
 * Errors are sticky: after an allocation failure or a misuse (say, creating
 * a vector inside a table) every call does nothing and fb_finish() returns
 * the first error, so callers check once at the end.
 */
#pragma once
#include <stddef.h>
#include <stdint.h>

/* Largest field id a table may use; TFLite's tables need fewer than 20. */
#define FB_MAX_FIELDS 32

typedef uint32_t fb_ref;

struct fb_builder {
	uint8_t *buf;   /* bytes live in buf[cap - size, cap) */
	size_t cap;
	size_t size;
	size_t max_align;
	int err;        /* first error (negative errno), sticky */
	int in_table;
	size_t table_start;              /* size when the table was started */
	uint32_t field_at[FB_MAX_FIELDS]; /* size just after each field, 0 = absent */
	int max_field;
};

void fb_builder_init(struct fb_builder *b);
void fb_builder_release(struct fb_builder *b);

/* A string (UTF-8, NUL-terminated in the buffer). */
fb_ref fb_create_string(struct fb_builder *b, const char *s, size_t len);

/* Vectors of scalars, stored little-endian whatever the host order. */
fb_ref fb_create_vec_u8(struct fb_builder *b, const void *data, size_t n, size_t align);
fb_ref fb_create_vec_i32(struct fb_builder *b, const int32_t *v, size_t n);
fb_ref fb_create_vec_i64(struct fb_builder *b, const int64_t *v, size_t n);
/* n copies of v. */
fb_ref fb_create_vec_i64_fill(struct fb_builder *b, int64_t v, size_t n);
fb_ref fb_create_vec_f32(struct fb_builder *b, const float *v, size_t n);
/* A vector of references to tables or strings created earlier. */
fb_ref fb_create_vec_refs(struct fb_builder *b, const fb_ref *refs, size_t n);

/* Tables: start, add fields by schema id (any order, each at most once),
 * end. Only scalars and references to finished objects may be added while
 * a table is open. */
void fb_table_start(struct fb_builder *b);
void fb_add_u8(struct fb_builder *b, int id, uint8_t v);
void fb_add_i32(struct fb_builder *b, int id, int32_t v);
void fb_add_u32(struct fb_builder *b, int id, uint32_t v);
void fb_add_ref(struct fb_builder *b, int id, fb_ref r);
fb_ref fb_table_end(struct fb_builder *b);

/* Write the root offset and the 4-character file identifier; on success the
 * caller owns *ret_data (free() it) and the builder is left empty. */
int fb_finish(struct fb_builder *b, fb_ref root, const char identifier[4],
	      uint8_t **ret_data, size_t *ret_len);
