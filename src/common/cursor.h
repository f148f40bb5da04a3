/* cursor.h - a bounds-checked reader over untrusted bytes.
 *
 * A cursor is a pointer and the number of bytes left. Every read checks
 * `left` first and returns false when the bytes are not there, so a decoder
 * can tell "truncated" (ran out of bytes) from "invalid" (bytes present but
 * wrong) and never reads past the end. On failure the output is untouched and
 * the cursor does not move. Used by decode/ for packets and model/ for files.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "common/bytes.h"

struct cursor {
	const uint8_t *p;
	size_t left;
};

static inline struct cursor cursor_make(const uint8_t *p, size_t len)
{
	struct cursor c = { p, len };
	return c;
}

static inline bool cursor_has(const struct cursor *c, size_t n) { return c->left >= n; }

static inline bool cursor_skip(struct cursor *c, size_t n)
{
	if (c->left < n)
		return false;
	c->p += n;
	c->left -= n;
	return true;
}

static inline bool cursor_u8(struct cursor *c, uint8_t *ret)
{
	if (c->left < 1)
		return false;
	*ret = c->p[0];
	c->p += 1;
	c->left -= 1;
	return true;
}

static inline bool cursor_be16(struct cursor *c, uint16_t *ret)
{
	if (c->left < 2)
		return false;
	*ret = load_be16(c->p);
	c->p += 2;
	c->left -= 2;
	return true;
}

static inline bool cursor_be32(struct cursor *c, uint32_t *ret)
{
	if (c->left < 4)
		return false;
	*ret = load_be32(c->p);
	c->p += 4;
	c->left -= 4;
	return true;
}

static inline bool cursor_le16(struct cursor *c, uint16_t *ret)
{
	if (c->left < 2)
		return false;
	*ret = load_le16(c->p);
	c->p += 2;
	c->left -= 2;
	return true;
}

static inline bool cursor_le32(struct cursor *c, uint32_t *ret)
{
	if (c->left < 4)
		return false;
	*ret = load_le32(c->p);
	c->p += 4;
	c->left -= 4;
	return true;
}

/* Copy n bytes out. */
static inline bool cursor_bytes(struct cursor *c, void *ret, size_t n)
{
	if (c->left < n)
		return false;
	memcpy(ret, c->p, n);
	c->p += n;
	c->left -= n;
	return true;
}

/* Split off the next n bytes as their own cursor (e.g. a header whose
 * length field says n) and advance past them. */
static inline bool cursor_sub(struct cursor *c, size_t n, struct cursor *ret)
{
	if (c->left < n)
		return false;
	ret->p = c->p;
	ret->left = n;
	c->p += n;
	c->left -= n;
	return true;
}

/* Peek at byte i without moving. */
static inline bool cursor_peek_u8(const struct cursor *c, size_t i, uint8_t *ret)
{
	if (c->left <= i)
		return false;
	*ret = c->p[i];
	return true;
}
