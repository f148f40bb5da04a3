/* fc_kernel.h - the inner loops of FULLY_CONNECTED, float and int8.
 *
 * Weights arrive pre-transposed to wt[depth][units_p] (units_p = units
 * rounded up to TFL_FC_BLOCK, padding zero), so the innermost loop walks
 * contiguous outputs and the compiler keeps a block of rows x outputs in
 * vector registers: every weight loaded is used for up to 4 input rows.
 * Pure arithmetic; no allocation, no errors.
 */
#pragma once
#include <stddef.h>
#include <stdint.h>

#define TFL_FC_BLOCK 8   /* outputs per register block; units_p is a multiple */
#define TFL_FC_ROWS 4    /* input rows per register block */

/* out[r][o] = clamp(bias[o] + sum_d x[r][d] * wt[d][o], lo, hi) for r <
 * rows, o < units. bias has units_p entries (zeros when the model has none). */
void tfl_fc_float(const float *x, size_t rows, size_t depth, const float *wt, const float *bias,
		  size_t units, size_t units_p, float lo, float hi, float *out);

/* acc[r][o] = sum_d x[r][d] * wt[d][o] for r < rows (at most TFL_FC_ROWS),
 * o < units_p, exactly, where x holds int8 inputs plus their offset and wt
 * int8 weights minus their zero point, both as floats: integers of at most
 * 255 in magnitude. Terms are summed in float in runs of TFL_FC_EXACT_RUN
 * (exact: 256 * 255 * 255 < 2^24), runs in int32; the caller bounds depth
 * so the total fits. */
#define TFL_FC_EXACT_RUN 256
void tfl_fc_int8_acc(const float *x, size_t rows, size_t depth, const float *wt, size_t units_p,
		     int32_t *acc);
