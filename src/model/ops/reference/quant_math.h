/* quant_math.h - TFLite's fixed-point arithmetic for int8 kernels.
 *
 * A real multiplier M (e.g. input_scale * weight_scale / output_scale) is
 * stored as a Q31 mantissa and a power-of-two shift, M = mult * 2^(shift-31),
 * mult in [2^30, 2^31). Applying it rounds twice, exactly as TFLite's
 * reference kernels do (gemmlowp's SaturatingRoundingDoublingHighMul, whose
 * ties go toward +infinity, then RoundingDivideByPOT, whose ties go away
 * from zero), so nad's int8 results match TFLite to the bit. Pure
 * arithmetic: no state, no errors.
 */
#pragma once
#include <stdint.h>

/* Split m >= 0 into *ret_mult and *ret_shift as TFLite's QuantizeMultiplier:
 * frexp, round the mantissa to 31 bits (half away from zero), renormalise a
 * mantissa that rounded up to 2^31, flush shifts below -31 to zero and clamp
 * shifts above 30. m == 0 (or not finite, or negative) gives 0, 0. */
void tfl_quantize_multiplier(double m, int32_t *ret_mult, int *ret_shift);

/* High 32 bits of 2*a*b, rounded to nearest with ties toward +infinity
 * (a nudge of 2^30, or 1 - 2^30 for a negative product, then division
 * truncating toward zero); saturates the one overflowing case
 * (INT32_MIN * INT32_MIN) to INT32_MAX. */
int32_t tfl_sat_rounding_doubling_high_mul(int32_t a, int32_t b);

/* x / 2^exponent rounded half away from zero, exponent in [0, 31]. */
int32_t tfl_rounding_divide_by_pot(int32_t x, int exponent);

/* x * mult * 2^(shift-31) with TFLite's rounding. A left shift that would
 * overflow int32 (undefined in TFLite) saturates here instead. */
int32_t tfl_multiply_by_quantized_multiplier(int32_t x, int32_t mult, int shift);

/* float -> int8 as TFLite's QUANTIZE: round(x / scale) in float, half away
 * from zero, plus zp, saturated; NaN gives zp. */
int8_t tfl_quantize_float(float x, float scale, int32_t zp);
