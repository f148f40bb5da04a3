/* test_meta.c - the "nad" model metadata: JSON round trip, strict parsing,
 * normalisation, and the calibrated tail probability (monotone, equal to
 * the empirical distribution in the body, a fitted Pareto tail above). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "model/nad_meta.h"
#include "model/train/train.h"

static void fill(struct nad_meta *m)
{
	static const char *names[3] = { "bytes_fwd", "syn_ratio", "duration" };

	CHECK_EQ_INT(nad_meta_init(m, 3, 5), 0);
	for (int i = 0; i < 3; i++) {
		m->features[i].name = strdup(names[i]);
		m->features[i].transform = i == 1 ? NAD_TRANSFORM_LINEAR : NAD_TRANSFORM_LOG1P;
		m->features[i].center = 1.0 + i;
		m->features[i].scale = 0.5 + i;
		m->features[i].err_mean = 0.01 * (i + 1);
		m->features[i].err_p99 = 0.1 * (i + 1);
	}
	/* the first input has a stored typical range, the others are as
	 * older models wrote them */
	m->features[0].has_typical = true;
	m->features[0].typical_lo = 0.25;
	m->features[0].typical_hi = 4.5;
	m->clip = 10.0;
	for (int i = 0; i < 5; i++) {
		m->quantiles[i].p = i / 4.0;
		m->quantiles[i].value = 0.1 * i * i;
	}
	m->tail_threshold = 0.9;     /* the p = 0.75 quantile */
	m->tail_fraction = 0.25;
	m->gpd_xi = 0.2;
	m->gpd_sigma = 0.5;
	m->train.seed = 77;
	m->train.n_layers = 2;
	m->train.sizes[0] = 3;
	m->train.sizes[1] = 2;
	m->train.sizes[2] = 3;
	m->train.nad_version = strdup("0.1.0");
	m->train.data_first = strdup("2024-01-01T00:00:00Z");
	m->train.int8 = true;
}

static void test_round_trip(void)
{
	struct nad_meta m, *p = NULL;
	char *json = NULL, *json2 = NULL, err[200] = "";
	size_t len, len2;

	fill(&m);
	CHECK_EQ_INT(nad_meta_to_json(&m, &json, &len), 0);
	CHECK_EQ_INT(nad_meta_parse(json, len, &p, err, sizeof err), 0);
	if (!p) {
		fprintf(stderr, "parse: %s\n", err);
		nad_meta_release(&m);
		free(json);
		return;
	}
	CHECK_EQ_INT(p->n_features, 3);
	CHECK(!strcmp(p->features[2].name, "duration"));
	CHECK_EQ_INT(p->features[1].transform, NAD_TRANSFORM_LINEAR);
	CHECK_NEAR(p->features[2].scale, 2.5, 0);
	CHECK_NEAR(p->features[2].err_p99, 0.3, 1e-15);
	CHECK(p->features[0].has_typical && !p->features[1].has_typical);
	CHECK_NEAR(p->features[0].typical_lo, 0.25, 0);
	CHECK_NEAR(p->features[0].typical_hi, 4.5, 0);
	CHECK_EQ_INT(p->n_quantiles, 5);
	CHECK_NEAR(p->quantiles[3].value, 0.9, 1e-15);
	CHECK_NEAR(p->gpd_xi, 0.2, 0);
	CHECK_EQ_INT(p->train.seed, 77);
	CHECK_EQ_INT(p->train.sizes[1], 2);
	CHECK(p->train.int8);
	CHECK(!strcmp(p->train.data_first, "2024-01-01T00:00:00Z"));
	CHECK(p->train.data_last == NULL);
	/* serialising the parsed copy gives the same document */
	CHECK_EQ_INT(nad_meta_to_json(p, &json2, &len2), 0);
	CHECK(len2 == len && json2 && !memcmp(json, json2, len));
	nad_meta_free(p);
	nad_meta_release(&m);
	free(json);
	free(json2);
}

static void expect_parse_error(const char *json, const char *needle)
{
	struct nad_meta *p = NULL;
	char err[200] = "";

	CHECK_EQ_INT(nad_meta_parse(json, strlen(json), &p, err, sizeof err), -EINVAL);
	CHECK(p == NULL);
	if (!strstr(err, needle)) {
		fprintf(stderr, "message '%s' lacks '%s'\n", err, needle);
		CHECK(0);
	}
}

/* The valid document json with its first `from` overwritten by `to` (same
 * length) must fail to parse with a message containing needle. */
static void expect_patched_error(const char *json, const char *from, const char *to, const char *needle)
{
	char *bad = strdup(json);
	char *at = bad ? strstr(bad, from) : NULL;

	CHECK(at != NULL && strlen(from) == strlen(to));
	if (at) {
		memcpy(at, to, strlen(to));
		expect_parse_error(bad, needle);
	}
	free(bad);
}

static void test_parse_errors(void)
{
	struct nad_meta m;
	char *json, *bad;
	size_t len;

	expect_parse_error("{", "not JSON");
	expect_parse_error("{\"format\": \"other\"}", "'format'");
	expect_parse_error("{\"format\": \"nad-model\", \"format_version\": 99}", "format_version");
	fill(&m);
	CHECK_EQ_INT(nad_meta_to_json(&m, &json, &len), 0);
	/* a zero scale would divide by zero at detection time */
	expect_patched_error(json, "\"scale\":2.5", "\"scale\":0.0", "input.features[2]: 'scale'");
	expect_patched_error(json, "\"transform\":\"linear\"", "\"transform\":\"square\"", "'transform'");
	/* a typical range upside down, or half of one */
	expect_patched_error(json, "\"typical_lo\":0.25", "\"typical_lo\":9.25", "input.features[0]: 'typical_lo' and 'typical_hi'");
	expect_patched_error(json, "\"typical_hi\"", "\"typical_hx\"", "input.features[0]: 'typical_hi' must be a number");
	expect_patched_error(json, "\"sigma\"", "\"sigmo\"", "score.tail: 'sigma'");
	expect_patched_error(json, "\"cubic_mean_", "\"cubic_meen_", "score.error");
	/* a format_version 1 model (before the cubic mean) still loads, and
	 * keeps the plain mean its calibration was made with */
	{
		struct nad_meta *p = NULL;

		bad = strdup(json);
		memcpy(strstr(bad, "\"format_version\":2"), "\"format_version\":1", 18);
		CHECK_EQ_INT(nad_meta_parse(bad, strlen(bad), &p, NULL, 0), 0);
		CHECK(p && p->error_kind == NAD_ERROR_MEAN);
		nad_meta_free(p);
		free(bad);
	}
	free(json);
	nad_meta_release(&m);
}

static void test_normalise(void)
{
	static const char *order[4] = { "other", "duration", "bytes_fwd", "syn_ratio" };
	struct nad_meta m;
	double raw[4] = { 123, 0.0, 1e30, NAN };
	const char *missing = NULL;
	float in[3], out[3];

	fill(&m);
	CHECK_NEAR(nad_meta_transform(NAD_TRANSFORM_LOG1P, 9.0), log(10.0), 1e-15);
	CHECK_NEAR(nad_meta_transform(NAD_TRANSFORM_LOG1P, -9.0), -log(10.0), 1e-15);
	CHECK_EQ_INT(nad_meta_bind(&m, order, 4, &missing), 0);
	nad_meta_normalise(&m, raw, in);
	CHECK_NEAR(in[0], 10.0, 0);                        /* log1p(1e30) = 69: clipped */
	CHECK_NEAR(in[1], 0.0, 0);                         /* NaN: the center */
	CHECK_NEAR(in[2], (0.0 - 3.0) / 2.5, 1e-6);        /* duration 0 */
	CHECK_EQ_INT(nad_meta_bind(&m, order + 1, 2, &missing), -ENOENT);
	CHECK(missing && !strcmp(missing, "syn_ratio"));
	out[0] = in[0] - 1;
	out[1] = in[1] + 2;
	out[2] = in[2];
	/* each input's squared error over its baseline error, floored: r =
	 * (1/0.05, 4/0.05, 0) = (20, 80, 0); cubic mean by default */
	CHECK_EQ_INT(m.error_kind, NAD_ERROR_CUBIC_MEAN);
	CHECK_NEAR(nad_meta_error(&m, in, out), cbrt((20.0 * 20 * 20 + 80.0 * 80 * 80) / 3.0), 1e-9);
	m.error_kind = NAD_ERROR_MEAN;
	CHECK_NEAR(nad_meta_error(&m, in, out), 5.0 / NAD_META_ERR_FLOOR / 3.0, 1e-9);
	m.features[1].err_mean = 0.5;
	CHECK_NEAR(nad_meta_error(&m, in, out), (1.0 / NAD_META_ERR_FLOOR + 4.0 / 0.5) / 3.0, 1e-9);
	/* one input far off weighs more in the cubic mean than spread thinly */
	m.error_kind = NAD_ERROR_CUBIC_MEAN;
	out[0] = in[0] - 3; /* r = (180, 8, 0): mean 62.7, cubic mean ~124.8 */
	CHECK(nad_meta_error(&m, in, out) > 1.9 * (180.0 + 8.0) / 3.0);
	nad_meta_release(&m);
}

static void test_tail_probability(void)
{
	struct nad_meta m;
	double prev = 2.0;

	fill(&m);
	CHECK_NEAR(nad_meta_tail_probability(&m, -1.0), 1.0, 0);
	CHECK_NEAR(nad_meta_tail_probability(&m, 0.0), 1.0, 0);
	/* the body is the empirical distribution: P(E >= q_p) = 1 - p */
	CHECK_NEAR(nad_meta_tail_probability(&m, 0.1), 0.75, 1e-12);
	CHECK_NEAR(nad_meta_tail_probability(&m, 0.4), 0.5, 1e-12);
	CHECK_NEAR(nad_meta_tail_probability(&m, 0.25), 0.625, 1e-12);
	CHECK_NEAR(nad_meta_tail_probability(&m, 0.9), 0.25, 1e-12);
	/* tail: 0.25 * (1 + xi y / sigma)^(-1/xi) */
	CHECK_NEAR(nad_meta_tail_probability(&m, 1.9), 0.25 * pow(1.4, -5.0), 1e-12);
	for (double e = -0.5; e < 100.0; e += 0.01) {
		double p = nad_meta_tail_probability(&m, e);

		CHECK(p <= prev && p >= 0.0);
		prev = p;
	}
	CHECK(prev > 0.0);   /* never "impossible" */
	nad_meta_release(&m);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Reconstruction that is off by a known amount: rows carry sqrt(error) in
 * every feature and the "model" answers zeros. */
static int zero_recon(void *ctx, const float *x, size_t rows, float *out)
{
	memset(out, 0, rows * 2 * sizeof *out);
	return 0;
}

static void test_calibration(void)
{
	enum { ROWS = 20000 };
	struct train_rng rng = { 3 };
	struct nad_meta m;
	float *x = malloc(ROWS * 2 * sizeof *x);
	double *e = malloc(ROWS * sizeof *e), xi, sigma;

	/* exponential errors with mean 1: P(E >= e) = exp(-e); each input's
	 * baseline error is also ~1, so weighting leaves them nearly as is */
	CHECK_EQ_INT(nad_meta_init(&m, 2, 0), 0);
	m.clip = 10;
	for (size_t r = 0; r < ROWS; r++) {
		double err = -log(1.0 - train_rng_uniform(&rng));

		x[2 * r] = x[2 * r + 1] = (float)sqrt(err);
	}
	CHECK_EQ_INT(train_calibrate(&m, x, ROWS, zero_recon, NULL), 0);
	CHECK_EQ_INT(m.quantiles[0].p, 0);
	CHECK_NEAR(m.quantiles[m.n_quantiles - 1].p, 1.0, 0);
	for (size_t i = 1; i + 1 < m.n_quantiles; i++) {
		double p = m.quantiles[i].p, q = m.quantiles[i].value;

		/* empirical quantiles near the true ones */
		CHECK_NEAR(q, -log(1.0 - p), 0.06 * (1 - log(1 - p)));
		/* and the tail probability reproduces them, fit included */
		CHECK_NEAR(nad_meta_tail_probability(&m, q) / (1.0 - p), 1.0, p <= 0.9 ? 1e-9 : 0.25);
	}
	CHECK_NEAR(m.gpd_xi, 0.0, 0.05);          /* exponential: xi = 0 */
	CHECK_NEAR(m.gpd_sigma, 1.0, 0.08);
	CHECK_NEAR(nad_meta_tail_probability(&m, 10.0) / exp(-10.0), 1.0, 0.5);
	CHECK_NEAR(m.features[0].err_mean, 1.0, 0.05);

	/* GPD fit on exact Pareto samples: xi 0.3, sigma 2 */
	for (size_t r = 0; r < ROWS; r++) {
		double u = train_rng_uniform(&rng);

		e[r] = 2.0 / 0.3 * (pow(1.0 - u, -0.3) - 1.0);
	}
	qsort(e, ROWS, sizeof *e, cmp_double);
	train_fit_gpd(e, ROWS, &xi, &sigma);
	CHECK_NEAR(xi, 0.3, 0.05);
	CHECK_NEAR(sigma, 2.0, 0.15);
	nad_meta_release(&m);
	free(x);
	free(e);
}

int main(void)
{
	test_round_trip();
	test_parse_errors();
	test_normalise();
	test_tail_probability();
	test_calibration();
	return check_exit();
}
