/* bytes.h - load fixed-width integers from untrusted byte arrays.
 *
 * Every multi-byte read of packet or model bytes goes through these: they
 * assemble values byte by byte, so they are independent of host byte order
 * and of alignment (arm64 and x86 give identical results). Callers must have
 * checked the length first; cursor.h does that for them.
 */
#pragma once
#include <stdint.h>
#include <string.h>

static inline uint16_t load_be16(const uint8_t *p) { return (uint16_t)((p[0] << 8) | p[1]); }
static inline uint32_t load_be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}
static inline uint16_t load_le16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline uint32_t load_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline uint64_t load_le64(const uint8_t *p)
{
	return (uint64_t)load_le32(p) | ((uint64_t)load_le32(p + 4) << 32);
}
static inline float load_lef32(const uint8_t *p)
{
	uint32_t u = load_le32(p);
	float f;
	memcpy(&f, &u, sizeof f);
	return f;
}
static inline void store_le16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void store_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}
static inline void store_le64(uint8_t *p, uint64_t v) { store_le32(p, (uint32_t)v); store_le32(p + 4, (uint32_t)(v >> 32)); }
static inline void store_lef32(uint8_t *p, float f)
{
	uint32_t u;
	memcpy(&u, &f, sizeof u);
	store_le32(p, u);
}
