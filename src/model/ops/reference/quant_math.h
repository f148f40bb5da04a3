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
 * (INT32_MIN * INT32_MIN) to INT32_MAX. Inline: the int8 kernels call
 * these once per output value. */
static inline int32_t tfl_sat_rounding_doubling_high_mul(int32_t a, int32_t b)
{
	int64_t ab, nudge;

	if (a == INT32_MIN && b == INT32_MIN)
		return INT32_MAX;
	ab = (int64_t)a * (int64_t)b;
	nudge = ab >= 0 ? (INT64_C(1) << 30) : (INT64_C(1) - (INT64_C(1) << 30));
	return (int32_t)((ab + nudge) / (INT64_C(1) << 31));   /* C truncates toward zero, as TFLite */
}

/* x / 2^exponent rounded half away from zero, exponent in [0, 31]. */
static inline int32_t tfl_rounding_divide_by_pot(int32_t x, int exponent)
{
	int64_t mask = (INT64_C(1) << exponent) - 1;
	int64_t remainder = (int64_t)x & mask;
	int64_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
	/* >> of a negative value is an arithmetic shift (floor) on every
	 * compiler nad supports (gcc, clang); that is what is wanted here. */
	int64_t q = (int64_t)x >> exponent;

	return (int32_t)(q + (remainder > threshold ? 1 : 0));
}

/* x * mult * 2^(shift-31) with TFLite's rounding. A left shift that would
 * overflow int32 (undefined in TFLite) saturates here instead. */
static inline int32_t tfl_multiply_by_quantized_multiplier(int32_t x, int32_t mult, int shift)
{
	int left = shift > 0 ? shift : 0;
	int right = shift > 0 ? 0 : -shift;
	int64_t shifted = (int64_t)x * (INT64_C(1) << left);

	if (right > 31)
		right = 31;
	if (shifted > INT32_MAX)
		shifted = INT32_MAX;
	else if (shifted < INT32_MIN)
		shifted = INT32_MIN;
	return tfl_rounding_divide_by_pot(tfl_sat_rounding_doubling_high_mul((int32_t)shifted, mult), right);
}

/* float -> int8 as TFLite's QUANTIZE: round(x / scale) in float, half away
 * from zero, plus zp, saturated; NaN gives zp. */
int8_t tfl_quantize_float(float x, float scale, int32_t zp);
