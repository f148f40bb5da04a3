/* assoc.h - sizing the set-associative tables of the evidence stages.
 *
 * evidence.c, arp_sweep.c and arp_spoof.c keep what they track in tables
 * of sets of a few ways each: fixed memory, and a new key takes a free or
 * the stalest way of its set. The set count is a power of two so that a
 * hash picks a set with a mask.
 */
#pragma once
#include <stdbool.h>
#include <stdint.h>

/* Sets of `ways` entries enough for max_items, a power of two, at most 2^20. */
static inline uint32_t assoc_sets(uint32_t max_items, uint32_t ways)
{
	uint32_t sets = 1;

	while ((uint64_t)sets * ways < max_items && sets < (1u << 20))
		sets <<= 1;
	return sets;
}

/* Of two ways, whether the first (used, last_us) is the one to empty for a
 * newcomer rather than the second (than_...): a free way before any used
 * one, else the one quiet for longest. Scanning a set with it from way 0
 * finds its victim. */
static inline bool assoc_emptier(bool used, uint64_t last_us, bool than_used, uint64_t than_last_us)
{
	return than_used && (!used || last_us < than_last_us);
}
