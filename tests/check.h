/* check.h - a minimal unit-test harness: CHECK() records a failure with file
 * and line and carries on; CHECK_NEAR compares floats with a tolerance;
 * check_exit() returns the process exit status ctest reads. */
#pragma once
#include <math.h>
#include <stdio.h>

static int check_failures;

#define CHECK(cond)                                                                   \
	do {                                                                          \
		if (!(cond)) {                                                        \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
			check_failures++;                                             \
		}                                                                     \
	} while (0)

#define CHECK_EQ_INT(a, b)                                                            \
	do {                                                                          \
		long long check_a_ = (long long)(a), check_b_ = (long long)(b);       \
		if (check_a_ != check_b_) {                                           \
			fprintf(stderr, "%s:%d: CHECK failed: %s == %s (%lld != %lld)\n", \
				__FILE__, __LINE__, #a, #b, check_a_, check_b_);      \
			check_failures++;                                             \
		}                                                                     \
	} while (0)

#define CHECK_NEAR(a, b, tol)                                                         \
	do {                                                                          \
		double check_a_ = (double)(a), check_b_ = (double)(b);                \
		if (!(fabs(check_a_ - check_b_) <= (tol))) {                          \
			fprintf(stderr, "%s:%d: CHECK failed: %s ~ %s (%.9g vs %.9g, tol %g)\n", \
				__FILE__, __LINE__, #a, #b, check_a_, check_b_, (double)(tol)); \
			check_failures++;                                             \
		}                                                                     \
	} while (0)

static inline int check_exit(void)
{
	if (check_failures)
		fprintf(stderr, "%d check(s) failed\n", check_failures);
	return check_failures ? 1 : 0;
}
