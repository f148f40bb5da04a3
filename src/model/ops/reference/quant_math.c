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
