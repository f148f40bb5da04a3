/* test_cursor.c - the bounds-checked cursor never reads past its end. */
#include "check.h"
#include "common/cursor.h"

int main(void)
{
	const uint8_t buf[] = { 0x12, 0x34, 0x56, 0x78, 0x9a };
	struct cursor c = cursor_make(buf, sizeof buf);
	uint16_t v16;
	uint32_t v32;
	uint8_t v8;
	struct cursor sub;

	CHECK(cursor_be16(&c, &v16));
	CHECK_EQ_INT(v16, 0x1234);
	CHECK(!cursor_be32(&c, &v32)); /* only 3 left */
	CHECK_EQ_INT(c.left, 3);      /* failed read does not move */
	CHECK(cursor_sub(&c, 2, &sub));
	CHECK(cursor_le16(&sub, &v16));
	CHECK_EQ_INT(v16, 0x7856);
	CHECK(!cursor_u8(&sub, &v8));
	CHECK(cursor_u8(&c, &v8));
	CHECK_EQ_INT(v8, 0x9a);
	CHECK(!cursor_skip(&c, 1));
	CHECK(!cursor_peek_u8(&c, 0, &v8));
	CHECK_EQ_INT(load_le32(buf + 1), 0x9a785634u);
	CHECK_EQ_INT(load_be32(buf), 0x12345678u);
	return check_exit();
}
