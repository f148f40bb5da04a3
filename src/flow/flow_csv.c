/* flow_csv.c - flow records as CSV or JSON lines (flow_csv.h). */
#include "flow/flow_csv.h"

#include <netinet/in.h>
#include <math.h>
#include <string.h>

/* Features already printed as identity columns are not repeated. */
static const char *const identity_names[] = { "packets_fwd", "packets_bwd", "bytes_fwd", "bytes_bwd", "proto" };

/* Room for everything before the features: two timestamps, two IPv6
 * addresses, ports, protocol, VLAN, end reason and four 20-digit counts,
 * with their JSON keys. */
#define IDENTITY_MAX 512

void flow_csv_init(struct flow_csv *c)
{
	c->ncols = 0;
	c->jsonl = false;
	for (int i = 0; i < FEAT_COUNT; i++) {
		bool dup = false;

		for (size_t k = 0; k < sizeof identity_names / sizeof identity_names[0]; k++)
			dup |= !strcmp(feat_registry[i].name, identity_names[k]);
		if (!dup)
			c->cols[c->ncols++] = i;
	}
	c->line_max = IDENTITY_MAX + 2;
	/* ,"name": and the value, for either format */
	for (int i = 0; i < c->ncols; i++)
		c->line_max += strlen(feat_registry[c->cols[i]].name) + 4 + FLOW_CSV_NUM_MAX;
}

size_t flow_csv_line_max(const struct flow_csv *c)
{
	return c->line_max;
}

/* ---- numbers ------------------------------------------------------------ */

static const char digit_pairs[201] =
	"00010203040506070809101112131415161718192021222324252627282930313233343536373839"
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879"
	"8081828384858687888990919293949596979899";

static const uint64_t pow10_u64[20] = {
	1ull, 10ull, 100ull, 1000ull, 10000ull, 100000ull, 1000000ull, 10000000ull, 100000000ull,
	1000000000ull, 10000000000ull, 100000000000ull, 1000000000000ull, 10000000000000ull,
	100000000000000ull, 1000000000000000ull, 10000000000000000ull, 100000000000000000ull,
	1000000000000000000ull, 10000000000000000000ull,
};

/* Decimal digits of v; returns how many (1..20). The length comes first,
 * so the digits go straight to their places, two at a time from the end:
 * building them elsewhere and copying them with one wide load made the
 * CPU wait for the narrow stores to drain (no store forwarding). */
static size_t put_u64(char *out, uint64_t v)
{
	size_t n = 1;
	char *o;

	if (v < 10) { /* most counts, flags and classes */
		out[0] = (char)('0' + v);
		return 1;
	}
	while (n < 20 && v >= pow10_u64[n])
		n++;
	o = out + n;
	while (v >= 100) {
		o -= 2;
		memcpy(o, digit_pairs + 2 * (v % 100), 2);
		v /= 100;
	}
	if (v >= 10)
		memcpy(o - 2, digit_pairs + 2 * v, 2);
	else
		o[-1] = (char)('0' + v);
	return n;
}

/* Every power of ten up to 1e22 is exactly a double (5^22 < 2^53), so a
 * value times or divided by one of them is rounded once. */
static const double pow10_exact[23] = {
	1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

/* %.6g of a > 0, finite. The six significant digits are a scaled by a
 * power of ten and rounded to an integer: the scaling is one correctly
 * rounded operation and rounding is monotonic, so the integer is right
 * unless the scaled value came out exactly halfway, where only the exact
 * binary value can tell which way printf goes: those few, and magnitudes
 * beyond the exact powers, are left to snprintf. Returns the length, or 0
 * for "ask snprintf". */
static size_t put_g6(char *out, double a)
{
	char d[6];
	double s, whole, frac;
	uint64_t m;
	int x, nd;
	char *o = out;

	if (a >= 1) {
		if (a >= 1e22)
			return 0;
		x = 0;
		while (a >= pow10_exact[x + 1])
			x++;
		s = x <= 5 ? a * pow10_exact[5 - x] : a / pow10_exact[x - 5];
	} else {
		int k = 1;

		/* the first k with a * 10^k >= 1 (one too small only if the
		 * product rounded up to 1, where the digits round to 1.00000
		 * anyway and the exponent comes out right below) */
		while (k <= 17 && a * pow10_exact[k] < 1)
			k++;
		if (k > 17)
			return 0;
		x = -k;
		s = a * pow10_exact[5 + k];
	}
	m = (uint64_t)s; /* s < 2^20: truncation is floor, and the fraction is exact */
	whole = (double)m;
	frac = s - whole;
	if (frac == 0.5)
		return 0;
	m += frac > 0.5;
	if (m >= 1000000) { /* rounded up into the next decade */
		m /= 10;
		x++;
	}
	if (m < 100000 || m > 999999)
		return 0;
	/* six digits; copied out one byte at a time below (a wider load
	 * across the three two-byte stores would wait for them to drain) */
	memcpy(d, digit_pairs + 2 * (m / 10000), 2);
	memcpy(d + 2, digit_pairs + 2 * (m / 100 % 100), 2);
	memcpy(d + 4, digit_pairs + 2 * (m % 100), 2);
	for (nd = 6; nd > 1 && d[nd - 1] == '0'; nd--)
		;
	if (x < -4 || x >= 6) {
		/* d.ddddde+XX, trailing zeros dropped */
		*o++ = d[0];
		if (nd > 1) {
			*o++ = '.';
			for (int i = 1; i < nd; i++)
				*o++ = d[i];
		}
		*o++ = 'e';
		*o++ = x < 0 ? '-' : '+';
		x = x < 0 ? -x : x;
		memcpy(o, digit_pairs + 2 * x, 2); /* |x| <= 23 */
		o += 2;
	} else if (x >= 0) {
		/* ddd.ddd: x + 1 digits before the point */
		for (int i = 0; i <= x; i++)
			*o++ = d[i];
		if (nd > x + 1) {
			*o++ = '.';
			for (int i = x + 1; i < nd; i++)
				*o++ = d[i];
		}
	} else {
		/* 0.000dddddd: -x - 1 zeros after the point */
		*o++ = '0';
		*o++ = '.';
		for (int i = 0; i < -x - 1; i++)
			*o++ = '0';
		for (int i = 0; i < nd; i++)
			*o++ = d[i];
	}
	return (size_t)(o - out);
}

/* flow_csv_format_num(), inlined into the record loop: it runs for every
 * feature of every record. */
static inline size_t format_num(double v, char *buf)
{
	size_t n = 0, g;

	if (v == 0 || !isfinite(v)) {
		buf[0] = '0';
		return 1;
	}
	if (v < 0) {
		buf[n++] = '-';
		v = -v;
	}
	if (v < 1e15 && (double)(int64_t)v == v) /* a whole number */
		return n + put_u64(buf + n, (uint64_t)(int64_t)v);
	g = put_g6(buf + n, v);
	if (!g) {
		char tmp[FLOW_CSV_NUM_MAX];
		int len = snprintf(tmp, sizeof tmp, "%.6g", v);

		g = len > 0 && (size_t)len < sizeof tmp - n ? (size_t)len : 0;
		memcpy(buf + n, tmp, g);
	}
	return n + g;
}

size_t flow_csv_format_num(double v, char buf[FLOW_CSV_NUM_MAX])
{
	return format_num(v, buf);
}

size_t flow_csv_format_ts(uint64_t us, char buf[FLOW_CSV_TS_MAX])
{
	size_t n = put_u64(buf, us / 1000000);
	unsigned frac = (unsigned)(us % 1000000);

	buf[n++] = '.';
	memcpy(buf + n, digit_pairs + 2 * (frac / 10000), 2);
	memcpy(buf + n + 2, digit_pairs + 2 * (frac / 100 % 100), 2);
	memcpy(buf + n + 4, digit_pairs + 2 * (frac % 100), 2);
	return n + 6;
}

void flow_csv_put_num(FILE *out, double v)
{
	char buf[FLOW_CSV_NUM_MAX];

	fwrite(buf, 1, flow_csv_format_num(v, buf), out);
}

void flow_csv_put_ts(FILE *out, uint64_t us)
{
	char buf[FLOW_CSV_TS_MAX];

	fwrite(buf, 1, flow_csv_format_ts(us, buf), out);
}

/* ---- addresses ---------------------------------------------------------- */

static char *put_ipv4(char *o, const uint8_t *a)
{
	for (int i = 0; i < 4; i++) {
		if (i)
			*o++ = '.';
		o += put_u64(o, a[i]);
	}
	return o;
}

static char *put_hex16(char *o, unsigned w)
{
	static const char hex[] = "0123456789abcdef";
	int shift = 12;

	while (shift > 0 && !(w >> shift))
		shift -= 4;
	for (; shift >= 0; shift -= 4)
		*o++ = hex[(w >> shift) & 15];
	return o;
}

/* RFC 5952 text, exactly as glibc's inet_ntop writes it: groups in
 * lower-case hex without leading zeros; the longest run of two or more
 * zero groups (the first of equally long ones) as "::"; an address whose
 * first six groups are zero (but not ::1 or ::), or which is IPv4-mapped
 * (::ffff:0:0/96), ends in dotted IPv4. */
static char *put_ipv6(char *o, const uint8_t *a)
{
	unsigned w[8];
	int best = -1, best_len = 0, cur = -1, cur_len = 0;

	for (int i = 0; i < 8; i++)
		w[i] = (unsigned)a[2 * i] << 8 | a[2 * i + 1];
	for (int i = 0; i <= 8; i++) {
		if (i < 8 && !w[i]) {
			if (cur < 0)
				cur = i, cur_len = 0;
			cur_len++;
		} else if (cur >= 0) {
			if (cur_len > best_len)
				best = cur, best_len = cur_len;
			cur = -1;
		}
	}
	if (best_len < 2)
		best = -1;
	for (int i = 0; i < 8; i++) {
		if (best >= 0 && i >= best && i < best + best_len) {
			if (i == best)
				*o++ = ':';
			continue;
		}
		if (i)
			*o++ = ':';
		if (i == 6 && best == 0 && (best_len == 6 || (best_len == 5 && w[5] == 0xffff)))
			return put_ipv4(o, a + 12);
		o = put_hex16(o, w[i]);
	}
	if (best >= 0 && best + best_len == 8)
		*o++ = ':';
	return o;
}

/* By hand: glibc's inet_ntop formats every group with sprintf. */
void flow_csv_addr(uint8_t family, const uint8_t *a, char *buf, size_t len)
{
	char *end;

	if (len < INET6_ADDRSTRLEN) {
		snprintf(buf, len, "?");
		return;
	}
	end = family == 6 ? put_ipv6(buf, a) : put_ipv4(buf, a);
	*end = '\0';
}

/* ---- records ------------------------------------------------------------ */

void flow_csv_write_header(const struct flow_csv *c, FILE *out)
{
	if (c->jsonl)
		return;
	fputs("first_ts,last_ts,src_addr,src_port,dst_addr,dst_port,proto,vlan,end_reason,"
	      "packets_fwd,packets_bwd,bytes_fwd,bytes_bwd", out);
	for (int i = 0; i < c->ncols; i++)
		fprintf(out, ",%s", feat_registry[c->cols[i]].name);
	fputc('\n', out);
}

/* The separator before a field: `,` in CSV; `{"name":` or `,"name":` in JSON. */
static char *put_key(char *o, bool jsonl, const char *name, bool first)
{
	if (!jsonl) {
		if (!first)
			*o++ = ',';
		return o;
	}
	size_t n = strlen(name);

	*o++ = first ? '{' : ',';
	*o++ = '"';
	memcpy(o, name, n);
	o += n;
	*o++ = '"';
	*o++ = ':';
	return o;
}

static char *put_text(char *o, bool jsonl, const char *s)
{
	size_t n = strlen(s);

	if (jsonl)
		*o++ = '"';
	memcpy(o, s, n);
	o += n;
	if (jsonl)
		*o++ = '"';
	return o;
}

size_t flow_csv_format_record(const struct flow_csv *c, const struct flow_record *r, char *buf, size_t cap)
{
	static const char *const count_names[4] = { "packets_fwd", "packets_bwd", "bytes_fwd", "bytes_bwd" };
	const uint64_t counts[4] = { r->packets[0], r->packets[1], r->bytes[0], r->bytes[1] };
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
	bool j = c->jsonl;
	char *o = buf;

	if (cap < c->line_max)
		return 0;
	flow_csv_addr(r->family, r->src, src, sizeof src);
	flow_csv_addr(r->family, r->dst, dst, sizeof dst);
	o = put_key(o, j, "first_ts", true);
	o += flow_csv_format_ts(r->first_us, o);
	o = put_key(o, j, "last_ts", false);
	o += flow_csv_format_ts(r->last_us, o);
	o = put_key(o, j, "src_addr", false);
	o = put_text(o, j, src);
	o = put_key(o, j, "src_port", false);
	o += put_u64(o, r->sport);
	o = put_key(o, j, "dst_addr", false);
	o = put_text(o, j, dst);
	o = put_key(o, j, "dst_port", false);
	o += put_u64(o, r->dport);
	o = put_key(o, j, "proto", false);
	o += put_u64(o, r->proto);
	o = put_key(o, j, "vlan", false);
	o += put_u64(o, r->vlan);
	o = put_key(o, j, "end_reason", false);
	o = put_text(o, j, flow_end_name(r->end));
	for (int i = 0; i < 4; i++) {
		o = put_key(o, j, count_names[i], false);
		o += put_u64(o, counts[i]);
	}
	if (j) {
		for (int i = 0; i < c->ncols; i++) {
			o = put_key(o, true, feat_registry[c->cols[i]].name, false);
			o += format_num(r->feat[c->cols[i]], o);
		}
	} else {
		/* the hot loop of `nad flows`: nothing but separators and numbers */
		for (int i = 0; i < c->ncols; i++) {
			*o++ = ',';
			o += format_num(r->feat[c->cols[i]], o);
		}
	}
	if (j)
		*o++ = '}';
	*o++ = '\n';
	return (size_t)(o - buf);
}

void flow_csv_write_record(const struct flow_csv *c, const struct flow_record *r, FILE *out)
{
	char line[FLOW_CSV_LINE_BUF];

	fwrite(line, 1, flow_csv_format_record(c, r, line, sizeof line), out);
}
