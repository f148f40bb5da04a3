/* quant_math.c - TFLite's fixed-point multiplier arithmetic (see quant_math.h). */
#include "model/ops/reference/quant_math.h"

#include <math.h>

void tfl_quantize_multiplier(double m, int32_t *ret_mult, int *ret_shift)
{
	int shift = 0;
	double mant;
	int64_t fixed;

	if (!(m > 0.0) || !isfinite(m)) {
		*ret_mult = 0;
		*ret_shift = 0;
		return;
	}
	mant = frexp(m, &shift);               /* m = mant * 2^shift, mant in [0.5, 1) */
	fixed = (int64_t)round(mant * 2147483648.0);
	if (fixed == INT64_C(2147483648)) {    /* mantissa rounded up to 1.0 */
		fixed /= 2;
		shift++;
	}
	if (shift < -31) {                     /* every bit would be shifted out */
		shift = 0;
		fixed = 0;
	}
	if (shift > 30) {                      /* TFLite clamps huge multipliers */
		shift = 30;
		fixed = INT32_MAX;
	}
	*ret_mult = (int32_t)fixed;
	*ret_shift = shift;
}

int32_t tfl_sat_rounding_doubling_high_mul(int32_t a, int32_t b)
{
	int64_t ab;
	int64_t nudge;

	if (a == INT32_MIN && b == INT32_MIN)
		return INT32_MAX;
	ab = (int64_t)a * (int64_t)b;
	nudge = ab >= 0 ? (INT64_C(1) << 30) : (INT64_C(1) - (INT64_C(1) << 30));
	/* C division truncates toward zero, as TFLite's does. */
	return (int32_t)((ab + nudge) / (INT64_C(1) << 31));
}

int32_t tfl_rounding_divide_by_pot(int32_t x, int exponent)
{
	int64_t mask = (INT64_C(1) << exponent) - 1;
	int64_t remainder = (int64_t)x & mask;
	int64_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
	/* >> of a negative value is an arithmetic shift on every compiler nad
	 * supports (gcc, clang); floor division is what is wanted here. */
	int64_t q = (int64_t)x >> exponent;

	return (int32_t)(q + (remainder > threshold ? 1 : 0));
}

int32_t tfl_multiply_by_quantized_multiplier(int32_t x, int32_t mult, int shift)
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

int8_t tfl_quantize_float(float x, float scale, int32_t zp)
{
	float q = roundf(x / scale);
	int64_t v;

	if (q != q)
		q = 0;
	q = q < -1e6f ? -1e6f : q > 1e6f ? 1e6f : q;   /* keeps the cast defined */
	v = (int64_t)q + zp;
	return (int8_t)(v < -128 ? -128 : v > 127 ? 127 : v);
}
