/* flatbuf_read.h - checked access to a FlatBuffer held in untrusted bytes.
 *
 * The FlatBuffers binary layout (all little-endian, no alignment assumed
 * here since every load goes through bytes.h):
 *
 *   offset 0   u32  root: offset of the root table from offset 0
 *   offset 4   4 bytes file identifier ("TFL3" for TFLite)
 *   table T    i32  soffset: the table's vtable is at T - soffset
 *              ...  inline fields; a reference field is a u32 counted from
 *                   the field's own position, forward only
 *   vtable V   u16  vtable size in bytes (4 + 2 * number of field slots)
 *              u16  table size in bytes (inline part, soffset included)
 *              u16  per field slot: offset of the field from T, 0 = absent
 *   vector     u32  element count, then the elements (a string is a vector
 *                   of bytes followed by a NUL that the count leaves out)
 *
 * Every accessor checks what it touches against the buffer end before
 * reading (offsets as 64-bit sums, so nothing wraps) and, when a check
 * fails, writes "<what> at offset N: <what was expected>" to err and
 * returns -EINVAL. `what` is the caller's name for the field, such as
 * "tensor 3 shape". Reads after a successful check cannot fail.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/tfl_model.h"

struct tfl_fb {
	const uint8_t *base;
	size_t len;
};

struct tfl_fb_table {
	const struct tfl_fb *fb;
	size_t pos;       /* table start */
	size_t vt;        /* vtable start */
	uint16_t vt_len;  /* vtable bytes */
	uint16_t tbl_len; /* inline table bytes */
};

struct tfl_fb_vec {
	const struct tfl_fb *fb;
	size_t pos;       /* first element */
	uint32_t count;
	bool present;
};

/* The root table, after checking the file identifier (4 chars). */
int tfl_fb_root(const struct tfl_fb *fb, const char *ident, struct tfl_error *err,
		struct tfl_fb_table *ret);

/* Scalar field `slot` of size bytes: *ret_p points at it, or is NULL when
 * the field is absent (the caller uses the schema default). */
int tfl_fb_scalar(const struct tfl_fb_table *t, unsigned slot, unsigned size, const char *what,
		  struct tfl_error *err, const uint8_t **ret_p);

/* Typed scalars with the schema default def when absent. */
int tfl_fb_u8(const struct tfl_fb_table *t, unsigned slot, uint8_t def, const char *what,
	      struct tfl_error *err, uint8_t *ret);
int tfl_fb_i32(const struct tfl_fb_table *t, unsigned slot, int32_t def, const char *what,
	       struct tfl_error *err, int32_t *ret);
int tfl_fb_u64(const struct tfl_fb_table *t, unsigned slot, uint64_t def, const char *what,
	       struct tfl_error *err, uint64_t *ret);

/* Sub-table field; *ret_present says whether it exists. */
int tfl_fb_table_field(const struct tfl_fb_table *t, unsigned slot, const char *what,
		       struct tfl_error *err, struct tfl_fb_table *ret, bool *ret_present);

/* Vector field of elem_size-byte elements, at most max_count of them. An
 * absent vector is an empty one with present == false. */
int tfl_fb_vector(const struct tfl_fb_table *t, unsigned slot, size_t elem_size, uint32_t max_count,
		  const char *what, struct tfl_error *err, struct tfl_fb_vec *ret);

/* String field of at most max_len bytes; *ret_s is NULL when absent, else
 * points into the buffer at a NUL-terminated string (terminator checked). */
int tfl_fb_string(const struct tfl_fb_table *t, unsigned slot, uint32_t max_len, const char *what,
		  struct tfl_error *err, const char **ret_s, uint32_t *ret_len);

/* Element i (< v->count) of a vector of tables. */
int tfl_fb_vec_table(const struct tfl_fb_vec *v, uint32_t i, const char *what, struct tfl_error *err,
		     struct tfl_fb_table *ret);

/* Element i (< v->count, checked by tfl_fb_vector) of a scalar vector. */
int32_t tfl_fb_vec_i32(const struct tfl_fb_vec *v, uint32_t i);
int64_t tfl_fb_vec_i64(const struct tfl_fb_vec *v, uint32_t i);
float tfl_fb_vec_f32(const struct tfl_fb_vec *v, uint32_t i);
