/* fc_kernel.c - FULLY_CONNECTED inner loops (see fc_kernel.h).
 *
 * With gcc or clang the blocks use the compilers' generic vector types
 * (vector_size), which become NEON on arm64 and SSE on x86-64 without any
 * target-specific intrinsics; other compilers get the same loops in scalar
 * form. Each output is summed in TFLite's reference order (products in
 * input order, starting from 0, bias added last, no fused multiply-add:
 * -std=c11 keeps gcc from contracting), so float results match TFLite's
 * reference kernel; MLPerf's AD01 autoencoder is sensitive enough to tell
 * "bias first" from "bias last" at 1.5e-4 relative. int8 sums are exact
 * integers, so their order does not matter.
 */
#include "model/ops/reference/fc_kernel.h"

#include <string.h>

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF   /* clang would fuse a*b+c on arm64; TFLite does not */
#endif

#if defined(__GNUC__)

typedef float f32x4 __attribute__((vector_size(16)));

#define INLINE static inline __attribute__((always_inline))
/* The row loops must be unrolled for the accumulators to live in
 * registers; gcc -O2 does not do it on its own (it halves the speed). */
#define UNROLL_ROWS _Pragma("GCC unroll 4")

/* acc[r] = the products of rows r < nr (a constant after inlining) with
 * outputs o..o+7, summed over inputs d0..d1-1 in input order. */
INLINE void block_sums(const float *x, size_t depth, const float *wt, size_t units_p, size_t o,
		       size_t d0, size_t d1, f32x4 acc[TFL_FC_ROWS][2], const int nr)
{
	const float *w = wt + d0 * units_p + o;

	UNROLL_ROWS
	for (int r = 0; r < nr; r++) {
		acc[r][0] = (f32x4){ 0, 0, 0, 0 };
		acc[r][1] = (f32x4){ 0, 0, 0, 0 };
	}
	for (size_t d = d0; d < d1; d++, w += units_p) {
		f32x4 w0, w1;

		memcpy(&w0, w, sizeof w0);
		memcpy(&w1, w + 4, sizeof w1);
		UNROLL_ROWS
		for (int r = 0; r < nr; r++) {
			float xv = x[(size_t)r * depth + d];

			acc[r][0] += xv * w0;
			acc[r][1] += xv * w1;
		}
	}
}

/* nr rows x 8 outputs starting at o: sums, bias last, clamp, store. */
INLINE void float_block(const float *x, size_t depth, const float *wt, const float *bias,
			size_t units, size_t units_p, size_t o, float lo, float hi, float *out,
			const int nr)
{
	f32x4 acc[TFL_FC_ROWS][2], b0, b1;

	memcpy(&b0, bias + o, sizeof b0);
	memcpy(&b1, bias + o + 4, sizeof b1);
	block_sums(x, depth, wt, units_p, o, 0, depth, acc, nr);
	UNROLL_ROWS
	for (int r = 0; r < nr; r++) {
		float tmp[8];
		size_t n = units - o < 8 ? units - o : 8;
		float *dst = out + (size_t)r * units + o;

		acc[r][0] += b0;
		acc[r][1] += b1;
		memcpy(tmp, &acc[r][0], sizeof acc[r][0]);
		memcpy(tmp + 4, &acc[r][1], sizeof acc[r][1]);
		for (size_t i = 0; i < n; i++) {
			float v = tmp[i];

			v = v < lo ? lo : v;
			dst[i] = v > hi ? hi : v;
		}
	}
}

void tfl_fc_float(const float *x, size_t rows, size_t depth, const float *wt, const float *bias,
		  size_t units, size_t units_p, float lo, float hi, float *out)
{
	size_t r = 0;

	for (; r + TFL_FC_ROWS <= rows; r += TFL_FC_ROWS)
		for (size_t o = 0; o < units; o += TFL_FC_BLOCK)
			float_block(x + r * depth, depth, wt, bias, units, units_p, o, lo, hi,
				    out + r * units, TFL_FC_ROWS);
	for (; r < rows; r++)
		for (size_t o = 0; o < units; o += TFL_FC_BLOCK)
			float_block(x + r * depth, depth, wt, bias, units, units_p, o, lo, hi,
				    out + r * units, 1);
}

/* int8 sums through float: every term is an exact integer of at most
 * 255 * 255 = 65025, so a run of TFL_FC_EXACT_RUN terms stays below 2^24 and
 * is summed exactly in any order; runs are then added in int32. Float
 * vector multiplies are native everywhere (x86's SSE2 has no 32-bit
 * integer one), so this runs at the float kernel's speed. */
INLINE void int8_block(const float *x, size_t depth, const float *wt, size_t units_p, size_t o,
		       int32_t *acc_out, const int nr)
{
	int32_t total[TFL_FC_ROWS][TFL_FC_BLOCK] = { { 0 } };

	for (size_t d0 = 0; d0 < depth; d0 += TFL_FC_EXACT_RUN) {
		size_t d1 = depth - d0 < TFL_FC_EXACT_RUN ? depth : d0 + TFL_FC_EXACT_RUN;
		f32x4 acc[TFL_FC_ROWS][2];

		block_sums(x, depth, wt, units_p, o, d0, d1, acc, nr);
		UNROLL_ROWS
		for (int r = 0; r < nr; r++) {
			float tmp[TFL_FC_BLOCK];

			memcpy(tmp, &acc[r][0], sizeof acc[r][0]);
			memcpy(tmp + 4, &acc[r][1], sizeof acc[r][1]);
			for (int i = 0; i < TFL_FC_BLOCK; i++)
				total[r][i] += (int32_t)tmp[i];
		}
	}
	UNROLL_ROWS
	for (int r = 0; r < nr; r++)
		memcpy(acc_out + (size_t)r * units_p + o, total[r], sizeof total[r]);
}

void tfl_fc_int8_acc(const float *x, size_t rows, size_t depth, const float *wt, size_t units_p,
		     int32_t *acc)
{
	for (size_t o = 0; o < units_p; o += TFL_FC_BLOCK) {
		switch (rows) {
		case 4: int8_block(x, depth, wt, units_p, o, acc, 4); break;
		case 3: int8_block(x, depth, wt, units_p, o, acc, 3); break;
		case 2: int8_block(x, depth, wt, units_p, o, acc, 2); break;
		default: int8_block(x, depth, wt, units_p, o, acc, 1); break;
		}
	}
}

#else /* portable scalar form */

void tfl_fc_float(const float *x, size_t rows, size_t depth, const float *wt, const float *bias,
		  size_t units, size_t units_p, float lo, float hi, float *out)
{
	for (size_t r = 0; r < rows; r++) {
		float *dst = out + r * units;

		for (size_t o = 0; o < units; o++)
			dst[o] = 0;
		for (size_t d = 0; d < depth; d++) {
			float xv = x[r * depth + d];
			const float *w = wt + d * units_p;

			for (size_t o = 0; o < units; o++)
				dst[o] += xv * w[o];
		}
		for (size_t o = 0; o < units; o++) {
			float v = dst[o] + bias[o];

			dst[o] = v < lo ? lo : v > hi ? hi : v;
		}
	}
}

void tfl_fc_int8_acc(const float *x, size_t rows, size_t depth, const float *wt, size_t units_p,
		     int32_t *acc)
{
	for (size_t r = 0; r < rows; r++) {
		int32_t *a = acc + r * units_p;

		for (size_t o = 0; o < units_p; o++) {
			int32_t total = 0;

			for (size_t d0 = 0; d0 < depth; d0 += TFL_FC_EXACT_RUN) {
				size_t d1 = depth - d0 < TFL_FC_EXACT_RUN ? depth : d0 + TFL_FC_EXACT_RUN;
				float run = 0;

				for (size_t d = d0; d < d1; d++)
					run += x[r * depth + d] * wt[d * units_p + o];
				total += (int32_t)run;
			}
			a[o] = total;
		}
	}
}

#endif
