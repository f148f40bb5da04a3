/* test_flow_meter.c - the meter's lookahead changes when records come out,
 * never what they say: every shared capture, and the bundled demo capture,
 * run through meters with lookahead 0, 1, 5, 8 and the maximum give the same
 * records in the same order, byte for byte, and the same counters. A small
 * table and short timeouts make expiry and eviction happen between the
 * prefetch steps of waiting packets. */
#include "check.h"
#include "flow/flow_meter.h"

#include <glob.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>

struct records {
	struct flow_record *r;
	size_t n, cap;
};

static void on_record(const struct flow_record *rec, void *user)
{
	struct records *rs = user;

	if (rs->n == rs->cap) {
		size_t cap = rs->cap ? rs->cap * 2 : 256;
		struct flow_record *n = realloc(rs->r, cap * sizeof *n);

		if (!n) {
			check_failures++;
			return;
		}
		rs->r = n;
		rs->cap = cap;
	}
	rs->r[rs->n++] = *rec;
}

/* Run one capture through a meter; 0 or -1 if the file cannot be read. */
static int run(const char *path, uint32_t lookahead, bool small, struct records *rs,
	       struct flow_meter_stats *ret_stats)
{
	char ebuf[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_MICRO, ebuf);
	struct flow_meter_options o;
	struct flow_meter *m;
	struct pcap_pkthdr *h;
	const u_char *data;

	if (!p)
		return -1;
	flow_meter_options_default(&o);
	o.lookahead = lookahead;
	o.on_record = on_record;
	o.user = rs;
	if (small) {
		o.table.max_flows = 16;
		for (int c = 0; c < FLOW_TO_MAX; c++)
			o.table.timeout_s[c] = 1 + (uint32_t)c % 3;
	}
	CHECK_EQ_INT(flow_meter_new(&o, &m), 0);
	while (pcap_next_ex(p, &h, &data) == 1) {
		struct cap_packet c = {
			.ts_us = (uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec,
			.caplen = h->caplen,
			.wirelen = h->len,
			.data = data,
		};

		flow_meter_feed(m, &c, pcap_datalink(p));
	}
	flow_meter_flush(m);
	flow_meter_get_stats(m, ret_stats);
	flow_meter_free(m);
	pcap_close(p);
	return 0;
}

static int files;

static void check_file(const char *path)
{
	static const uint32_t lookaheads[] = { 1, 5, FLOW_METER_LOOKAHEAD_FILE, FLOW_METER_LOOKAHEAD_MAX };

	for (int small = 0; small < 2; small++) {
		struct records want = { 0 };
		struct flow_meter_stats want_st;

		if (run(path, 0, small, &want, &want_st) < 0) {
			fprintf(stderr, "cannot read '%s'\n", path);
			check_failures++;
			return;
		}
		for (size_t i = 0; i < sizeof lookaheads / sizeof lookaheads[0]; i++) {
			struct records got = { 0 };
			struct flow_meter_stats got_st;

			run(path, lookaheads[i], small, &got, &got_st);
			CHECK_EQ_INT(got.n, want.n);
			if (got.n == want.n && want.n &&
			    memcmp(got.r, want.r, want.n * sizeof *want.r)) {
				fprintf(stderr, "%s: lookahead %u, %s table: records differ\n", path,
					lookaheads[i], small ? "small" : "default");
				check_failures++;
			}
			CHECK(!memcmp(&got_st, &want_st, sizeof got_st));
			free(got.r);
		}
		free(want.r);
	}
	files++;
}

int main(void)
{
	const char *shared = getenv("NAD_SHARED"), *source = getenv("NAD_SOURCE");
	char pattern[1024], path[1024];
	glob_t g;

	if (!shared || !source) {
		fprintf(stderr, "NAD_SHARED and NAD_SOURCE must be set (ctest sets them)\n");
		return 1;
	}
	snprintf(pattern, sizeof pattern, "%s/data/pcaps/*/*", shared);
	if (glob(pattern, 0, NULL, &g)) {
		fprintf(stderr, "no captures match '%s'\n", pattern);
		return 1;
	}
	for (size_t i = 0; i < g.gl_pathc; i++)
		check_file(g.gl_pathv[i]);
	globfree(&g);
	snprintf(path, sizeof path, "%s/data/demo/demo.pcap", source);
	check_file(path);
	printf("%d captures compared\n", files);
	CHECK(files > 40);
	return check_exit();
}
