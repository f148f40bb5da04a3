/* test_flow_csv.c - the hand-written formatters of flow_csv.c give exactly
 * the bytes of the printf formats they replace: numbers against "%.0f" /
 * "%.6g" on edge values (zero, signs, NaN, infinities, subnormals, the
 * largest doubles, every power of ten and its neighbours, values that
 * round into the next decade, exact halfway cases) and on about two million
 * random ones of every magnitude; timestamps against "%llu.%06llu";
 * IPv4/IPv6 addresses against inet_ntop; whole records, CSV and JSON
 * lines, against a printf-built line; and the longest possible line fits
 * the writer's buffer. */
#include <arpa/inet.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "flow/flow_csv.h"

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* The rule flow_csv_format_num() documents, with printf. */
static void reference_num(double v, char *buf, size_t len)
{
	if (!isfinite(v) || v == 0)
		snprintf(buf, len, "0");
	else if (v == floor(v) && fabs(v) < 1e15)
		snprintf(buf, len, "%.0f", v);
	else
		snprintf(buf, len, "%.6g", v);
}

static long num_checked, num_failed;

static void check_num(double v)
{
	char want[64], got[FLOW_CSV_NUM_MAX + 1];
	size_t n = flow_csv_format_num(v, got);

	num_checked++;
	reference_num(v, want, sizeof want);
	CHECK(n > 0 && n <= FLOW_CSV_NUM_MAX);
	got[n < FLOW_CSV_NUM_MAX ? n : FLOW_CSV_NUM_MAX] = '\0';
	if (strcmp(got, want)) {
		if (num_failed++ < 20)
			fprintf(stderr, "format_num(%a = %.17g): got '%s', printf says '%s'\n", v, v, got, want);
		check_failures++;
	}
}

static void check_both_signs(double v)
{
	check_num(v);
	check_num(-v);
}

static void test_num_edges(void)
{
	static const double edges[] = {
		0.0, 1, 2, 10, 0.5, 0.1, 0.2, 0.3, 1.5, 2.5, 1e-4, 1e-5, 9.99999e-5, 9.999995e-5, 9.9999949e-5,
		0.0001, 0.00010000049, 0.00010000051, 123456.5, 123457.5, 999999.4, 999999.5, 999999.6,
		1000000.5, 1e15, 1e15 - 1, 1e15 + 2, 999999999999999.0, 999999999999999.5, 1e16, 1e21, 1e22,
		1e23, 1e100, 1e300, 1e-17, 1e-18, 1e-100, 1e-300, 9007199254740992.0, 9007199254740994.0,
		4503599627370495.5, 0.0009765625, 3.0517578125e-05, 1.0000005, 1.0000015, 1.0000025,
		2.0000005, 0.1234565, 0.1234575, 33.3333333, 66.6666666, 1.0 / 3, 2.0 / 3, 1e6 / 7, 1e-3 / 7,
		0.000123456789, 1234567.891, 12345678.9, 5e-324, DBL_MIN, DBL_MAX, DBL_EPSILON, 1 - DBL_EPSILON,
		1 + DBL_EPSILON, 1234565e9, 1234575e9, 1234565e10, 6.02214076e23, 299792458.5,
	};

	for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++)
		check_both_signs(edges[i]);
	check_num(-0.0);
	check_num(NAN);
	check_num(-NAN);
	check_num(INFINITY);
	check_num(-INFINITY);
}

/* Every power of ten from 1e-320 to 1e300, the few doubles around it, and
 * the values around 9.999995 x 10^k, which round up into the next decade. */
static void test_num_decades(void)
{
	for (int k = -320; k <= 300; k++) {
		double p = pow(10, k), edge = 9.999995 * pow(10, k - 1);

		for (int side = 0; side < 2; side++) {
			double v = side ? edge : p, up = v, down = v;

			check_both_signs(v);
			for (int i = 0; i < 4; i++) {
				up = nextafter(up, INFINITY);
				down = nextafter(down, 0);
				check_both_signs(up);
				check_both_signs(down);
			}
		}
	}
}

/* Exact halfway cases: D.5 for six-digit D, and 7-digit multiples of 5
 * times powers of ten that stay exact (integers at or above 1e15). */
static void test_num_ties(void)
{
	for (int i = 0; i < 100000; i++) {
		uint64_t d = 100000 + next() % 900000;

		check_both_signs((double)d + 0.5);
		check_both_signs((double)(d * 10 + 5) * 1e9);
		check_both_signs((double)(d * 10 + 5) / 1024);
		check_both_signs((double)(d * 10 + 5) / 1048576);
	}
}

static void test_num_random(void)
{
	for (int i = 0; i < 200000; i++) {
		uint64_t bits = next();
		double v;

		/* any bit pattern: every exponent */
		memcpy(&v, &bits, sizeof v);
		check_num(v);
		/* six to nine significant digits at a decimal scale features use */
		v = (double)(next() % 1000000000) * pow(10, (int)(next() % 40) - 24);
		check_both_signs(v);
		/* ratios like bytes per second and means of packet sizes */
		v = (double)(next() % 100000000) / (double)(1 + next() % 1000000);
		check_both_signs(v);
		v = (double)(next() % 2000) / (double)(1 + next() % 64);
		check_num(v);
		/* small gaps in seconds, as inter-arrival times are */
		v = (double)(next() % 100000000) / 1e6 / (double)(1 + next() % 97);
		check_num(v);
	}
}

static void test_ts(void)
{
	static const uint64_t edges[] = { 0, 1, 999999, 1000000, 1000001, 1700000000123456ull, UINT64_MAX };

	for (size_t i = 0; i < sizeof edges / sizeof edges[0] + 200000; i++) {
		uint64_t us = i < sizeof edges / sizeof edges[0] ? edges[i] : next() >> (next() % 64);
		char want[64], got[FLOW_CSV_TS_MAX + 1];
		size_t n = flow_csv_format_ts(us, got);

		snprintf(want, sizeof want, "%" PRIu64 ".%06" PRIu64, us / 1000000, us % 1000000);
		got[n] = '\0';
		if (strcmp(got, want)) {
			fprintf(stderr, "format_ts(%" PRIu64 "): got '%s', want '%s'\n", us, got, want);
			check_failures++;
			break;
		}
	}
}

static void check_addr(int family, const uint8_t *a)
{
	char want[INET6_ADDRSTRLEN], got[INET6_ADDRSTRLEN];
	static int failed;

	inet_ntop(family == 6 ? AF_INET6 : AF_INET, a, want, sizeof want);
	flow_csv_addr((uint8_t)family, a, got, sizeof got);
	if (strcmp(got, want)) {
		if (failed++ < 10)
			fprintf(stderr, "addr: got '%s', inet_ntop says '%s'\n", got, want);
		check_failures++;
	}
}

/* Every pattern of zero and non-zero groups (where "::" goes), each with
 * non-zero groups of one to four hex digits and 0xffff (the IPv4-mapped
 * form), then random addresses; IPv4 at its edges and at random. */
static void test_addr(void)
{
	static const unsigned values[] = { 1, 0xa, 0xab, 0xabc, 0xf00d, 0xffff, 0x100, 0x8000 };
	uint8_t a[16];

	for (unsigned zeros = 0; zeros < 256; zeros++) {
		for (unsigned v = 0; v < 64; v++) {
			for (int g = 0; g < 8; g++) {
				unsigned w = zeros & (1u << g) ? 0 : values[(v + (unsigned)g * (v / 8 + 1)) % 8];

				a[2 * g] = (uint8_t)(w >> 8);
				a[2 * g + 1] = (uint8_t)w;
			}
			check_addr(6, a);
		}
	}
	/* the embedded-IPv4 forms and their near misses */
	for (int form = 0; form < 6; form++) {
		memset(a, 0, sizeof a);
		if (form == 1 || form == 4)
			a[10] = a[11] = 0xff;     /* ::ffff:a.b.c.d */
		if (form == 2)
			a[11] = 0xfe;             /* ::fe:... is not mapped */
		if (form == 3)
			a[9] = 1;                 /* ::100:0:a.b.c.d */
		for (int i = 0; i < 2000; i++) {
			uint64_t r = next();

			for (int b = 12; b < 16; b++)
				a[b] = (uint8_t)(form == 4 ? 0 : form == 5 && i < 2 ? (i ? 1 : 0) * (b == 15) : r >> ((b - 12) * 8));
			check_addr(6, a);
		}
	}
	for (int i = 0; i < 100000; i++) {
		uint64_t r = next();

		for (int b = 0; b < 16; b++)
			/* many zero bytes, so there are runs of zero groups */
			a[b] = (next() & 3) ? 0 : (uint8_t)(r >> (b * 4));
		check_addr(6, a);
		memcpy(a, &r, 4);
		check_addr(4, a);
	}
	memset(a, 0, sizeof a);
	check_addr(4, a);
	check_addr(6, a);
	memset(a, 0xff, sizeof a);
	check_addr(4, a);
	check_addr(6, a);
}

/* The record as the printf-based writer wrote it before flow_csv.c formatted by hand. */
static void reference_record(const struct flow_csv *c, const struct flow_record *r, FILE *out)
{
	static const char *const count_names[4] = { "packets_fwd", "packets_bwd", "bytes_fwd", "bytes_bwd" };
	const uint64_t counts[4] = { r->packets[0], r->packets[1], r->bytes[0], r->bytes[1] };
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], num[64];
	const char *q = c->jsonl ? "\"" : "";

	inet_ntop(r->family == 6 ? AF_INET6 : AF_INET, r->src, src, sizeof src);
	inet_ntop(r->family == 6 ? AF_INET6 : AF_INET, r->dst, dst, sizeof dst);
#define KEY(name, first) (c->jsonl ? ((first) ? "{\"" name "\":" : ",\"" name "\":") : ((first) ? "" : ","))
	fprintf(out, "%s%" PRIu64 ".%06" PRIu64, KEY("first_ts", 1), r->first_us / 1000000, r->first_us % 1000000);
	fprintf(out, "%s%" PRIu64 ".%06" PRIu64, KEY("last_ts", 0), r->last_us / 1000000, r->last_us % 1000000);
	fprintf(out, "%s%s%s%s%s%u", KEY("src_addr", 0), q, src, q, KEY("src_port", 0), r->sport);
	fprintf(out, "%s%s%s%s%s%u", KEY("dst_addr", 0), q, dst, q, KEY("dst_port", 0), r->dport);
	fprintf(out, "%s%u%s%u", KEY("proto", 0), r->proto, KEY("vlan", 0), r->vlan);
	fprintf(out, "%s%s%s%s", KEY("end_reason", 0), q, flow_end_name(r->end), q);
#undef KEY
	for (int i = 0; i < 4; i++)
		fprintf(out, c->jsonl ? ",\"%s\":%" PRIu64 : ",%.0s%" PRIu64, count_names[i], counts[i]);
	for (int i = 0; i < c->ncols; i++) {
		reference_num(r->feat[c->cols[i]], num, sizeof num);
		fprintf(out, c->jsonl ? ",\"%s\":%s" : ",%.0s%s", feat_registry[c->cols[i]].name, num);
	}
	fputs(c->jsonl ? "}\n" : "\n", out);
}

static void random_record(struct flow_record *r, bool longest)
{
	memset(r, 0, sizeof *r);
	r->first_us = longest ? UINT64_MAX - 1 : next() >> 10;
	r->last_us = longest ? UINT64_MAX : r->first_us + (next() >> 30);
	r->family = (next() & 1) || longest ? 6 : 4;
	r->proto = (uint8_t)(longest ? 255 : next());
	r->vlan = (uint16_t)(longest ? 4095 : next() % 4096);
	for (int b = 0; b < (r->family == 6 ? 16 : 4); b++) {
		r->src[b] = (uint8_t)(longest ? 0xfe : (next() & 1 ? next() : 0));
		r->dst[b] = (uint8_t)(longest ? 0xfe : next());
	}
	r->sport = (uint16_t)(longest ? 65535 : next());
	r->dport = (uint16_t)(longest ? 65535 : next());
	r->end = longest ? FLOW_END_EOF : (enum flow_end)(next() % FLOW_END_MAX);
	for (int d = 0; d < 2; d++) {
		r->packets[d] = longest ? UINT64_MAX : next() >> (next() % 64);
		r->bytes[d] = longest ? UINT64_MAX : next() >> (next() % 64);
	}
	for (int i = 0; i < FEAT_COUNT; i++) {
		switch (longest ? 9 : next() % 5) {
		case 0: r->feat[i] = 0; break;
		case 1: r->feat[i] = (double)(next() % 100000); break;
		case 2: r->feat[i] = (double)(next() % 10000000) / (double)(1 + next() % 1000); break;
		case 3: r->feat[i] = -(double)(next() % 1000) / 7e6; break;
		case 9: r->feat[i] = -1.23456e-100; break; /* the longest number: "-1.23456e-100" */
		default: r->feat[i] = (next() & 1) ? NAN : 1e300 / 7; break;
		}
	}
}

static void test_records(void)
{
	struct flow_csv c;

	flow_csv_init(&c);
	CHECK(c.ncols > 0);
	CHECK(flow_csv_line_max(&c) <= FLOW_CSV_LINE_BUF);
	for (int jsonl = 0; jsonl < 2; jsonl++) {
		c.jsonl = jsonl;
		for (int i = 0; i < 3000; i++) {
			struct flow_record r;
			char *want = NULL, got[FLOW_CSV_LINE_BUF];
			size_t wlen = 0, n;
			FILE *mem = open_memstream(&want, &wlen);

			random_record(&r, i == 0);
			reference_record(&c, &r, mem);
			fclose(mem);
			n = flow_csv_format_record(&c, &r, got, sizeof got);
			CHECK(n > 0 && n <= flow_csv_line_max(&c));
			if (n != wlen || memcmp(got, want, n)) {
				fprintf(stderr, "record %d (%s) differs:\n got  %.*s want %s", i,
					jsonl ? "jsonl" : "csv", (int)n, got, want);
				check_failures++;
				free(want);
				break;
			}
			/* the same bytes through the stream writer */
			free(want);
			mem = open_memstream(&want, &wlen);
			flow_csv_write_record(&c, &r, mem);
			fclose(mem);
			CHECK(wlen == n && !memcmp(got, want, n));
			free(want);
		}
		/* a buffer too small is refused, never overrun */
		{
			struct flow_record r;
			char small[64];

			random_record(&r, false);
			CHECK_EQ_INT(flow_csv_format_record(&c, &r, small, sizeof small), 0);
		}
	}
}

int main(void)
{
	test_num_edges();
	test_num_decades();
	test_num_ties();
	test_num_random();
	test_ts();
	test_addr();
	test_records();
	printf("%ld numbers compared with printf\n", num_checked);
	return check_exit();
}
