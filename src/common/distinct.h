/* distinct.h - count distinct things in fixed memory (linear counting).
 *
 * Each item is hashed to one bit of a caller-owned bitmap; with `set` bits
 * of m set, the number of distinct items is about -m * ln((m - set) / m).
 * Exact enough to tell "1 host" from "254 hosts", never grows, never
 * allocates. FNV-1a is the hash: stable across runs and platforms, so
 * anything derived from it is reproducible.
 */
#pragma once
#include <math.h>
#include <stddef.h>
#include <stdint.h>

#define FNV1A_SEED 1469598103934665603ull

static inline uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 1099511628211ull;
	}
	return h;
}

/* Mark the item with this hash in bits[nbits/8]; counts newly set bits in *set. */
static inline void distinct_mark(uint8_t *bits, uint32_t nbits, uint32_t *set, uint64_t hash)
{
	uint64_t bit = hash % nbits;
	uint8_t m = (uint8_t)(1u << (bit & 7));

	if (!(bits[bit >> 3] & m)) {
		bits[bit >> 3] |= m;
		(*set)++;
	}
}

/* Estimated number of distinct items after `set` of nbits bits were set. */
static inline uint32_t distinct_estimate(uint32_t nbits, uint32_t set)
{
	double zero = (double)nbits - set;

	if (set == 0)
		return 0;
	if (zero < 1)
		zero = 1;
	return (uint32_t)lround(-(double)nbits * log(zero / nbits));
}
