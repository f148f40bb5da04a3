/* flow_csv.c - flow records as CSV lines (the `nad flows` format). */
#include <arpa/inet.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "flow/flow_csv.h"

/* Features already printed as identity columns are not repeated. */
static const char *const identity_names[] = { "packets_fwd", "packets_bwd", "bytes_fwd", "bytes_bwd", "proto" };

void flow_csv_init(struct flow_csv *c)
{
	c->ncols = 0;
	for (int i = 0; i < FEAT_COUNT; i++) {
		bool dup = false;

		for (size_t k = 0; k < sizeof identity_names / sizeof identity_names[0]; k++)
			dup |= !strcmp(feat_registry[i].name, identity_names[k]);
		if (!dup)
			c->cols[c->ncols++] = i;
	}
}

void flow_csv_put_num(FILE *out, double v)
{
	if (!isfinite(v))
		v = 0;
	if (v == 0)
		fputc('0', out);
	else if (v == floor(v) && fabs(v) < 1e15)
		fprintf(out, "%.0f", v);
	else
		fprintf(out, "%.6g", v);
}

void flow_csv_put_ts(FILE *out, uint64_t us)
{
	fprintf(out, "%" PRIu64 ".%06" PRIu64, us / 1000000, us % 1000000);
}

void flow_csv_addr(uint8_t family, const uint8_t *a, char *buf, size_t len)
{
	if (!inet_ntop(family == 6 ? AF_INET6 : AF_INET, a, buf, (socklen_t)len))
		snprintf(buf, len, "?");
}

void flow_csv_write_header(const struct flow_csv *c, FILE *out)
{
	fputs("first_ts,last_ts,src_addr,src_port,dst_addr,dst_port,proto,vlan,end_reason,"
	      "packets_fwd,packets_bwd,bytes_fwd,bytes_bwd", out);
	for (int i = 0; i < c->ncols; i++)
		fprintf(out, ",%s", feat_registry[c->cols[i]].name);
	fputc('\n', out);
}

void flow_csv_write_record(const struct flow_csv *c, const struct flow_record *r, FILE *out)
{
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];

	flow_csv_addr(r->family, r->src, src, sizeof src);
	flow_csv_addr(r->family, r->dst, dst, sizeof dst);
	flow_csv_put_ts(out, r->first_us);
	fputc(',', out);
	flow_csv_put_ts(out, r->last_us);
	fprintf(out, ",%s,%u,%s,%u,%u,%u,%s,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64, src, r->sport, dst,
		r->dport, r->proto, r->vlan, flow_end_name(r->end), r->packets[0], r->packets[1], r->bytes[0],
		r->bytes[1]);
	for (int i = 0; i < c->ncols; i++) {
		fputc(',', out);
		flow_csv_put_num(out, r->feat[c->cols[i]]);
	}
	fputc('\n', out);
}
