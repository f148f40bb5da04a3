/* cmd_detect.c - `nad detect`: offline analysis of a capture, incidents ranked by severity. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "capture/capture.h"
#include "cli/cli.h"
#include "flow/flow_csv.h"
#include "flow/flow_meter.h"
#include "model/nad_meta.h"
#include "score/detect_route.h"
#include "score/incident.h"
#include "score/score.h"
#include "sink/sink_jsonl.h"

static const char usage_text[] =
	"usage: nad detect -r FILE -m MODEL [options]\n"
	"\n"
	"Score every flow of a capture with a model trained by 'nad train' and print\n"
	"the incidents (anomalous flows rolled up by host and category), most\n"
	"severe first, with a summary.\n"
	"\n"
	"  -r FILE              pcap or pcapng file\n"
	"  -m MODEL             .tflite model with nad metadata\n"
	"  -f BPF               capture filter\n"
	"      --json           print one JSON document instead of the table\n"
	"      --flows FILE     also write every scored flow as CSV: the identity\n"
	"                       columns of 'nad flows', then score,level,category\n"
	"      --min-level L    list incidents at or above L (low, medium, high,\n"
	"                       critical; default low)\n"
	"      --thresholds A,B,C,D\n"
	"                       scores where low, medium, high, critical start\n"
	"                       (default 50,65,80,95)\n"
	"      --window S       incident window in seconds (default 600)\n"
	"      --max-flows N    flow table size (default 262144)\n"
	"  -h, --help           this text\n";

enum { OPT_JSON = 256, OPT_FLOWS, OPT_MIN_LEVEL, OPT_THRESHOLDS, OPT_WINDOW, OPT_MAX_FLOWS };

struct detect {
	struct scorer *scorer;
	struct incident_table *incidents;
	FILE *flows_out;
	uint64_t flows, anomalies, anomalies_by_level[5];
	/* the latest state of every incident, in order of first appearance */
	struct rec_incident *inc;
	size_t ninc, capinc;
	bool oom;
};

static void on_incident(const struct rec_incident *r, void *user)
{
	struct detect *d = user;

	for (size_t i = d->ninc; i-- > 0;)
		if (!strcmp(d->inc[i].uid, r->uid)) {
			d->inc[i] = *r;
			return;
		}
	if (d->ninc == d->capinc) {
		size_t cap = d->capinc ? d->capinc * 2 : 64;
		struct rec_incident *n = realloc(d->inc, cap * sizeof *n);
		if (!n) {
			d->oom = true;
			return;
		}
		d->inc = n;
		d->capinc = cap;
	}
	d->inc[d->ninc++] = *r;
}

static void write_flow_row(FILE *f, const struct flow_record *rec, const struct scored_flow *s)
{
	char src[REC_ADDR_MAX], dst[REC_ADDR_MAX];

	flow_csv_addr(rec->family, rec->src, src, sizeof src);
	flow_csv_addr(rec->family, rec->dst, dst, sizeof dst);
	flow_csv_put_ts(f, rec->first_us);
	fputc(',', f);
	flow_csv_put_ts(f, rec->last_us);
	fprintf(f, ",%s,%u,%s,%u,%u,%u,%s,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%.2f,%s,%s\n", src,
		rec->sport, dst, rec->dport, rec->proto, rec->vlan, flow_end_name(rec->end), rec->packets[0],
		rec->packets[1], rec->bytes[0], rec->bytes[1], s->score, rec_level_name(s->level),
		s->category ? s->category : "");
}

static void on_scored(const struct flow_record *rec, const struct scored_flow *s, void *user)
{
	struct detect *d = user;

	d->flows++;
	if (d->flows_out)
		write_flow_row(d->flows_out, rec, s);
	struct rec_anomaly a;
	if (detect_route_flow(d->incidents, rec, s, &a) != DETECT_ROUTE_ANOMALY)
		return;
	d->anomalies++;
	d->anomalies_by_level[s->level]++;
}

static void on_record(const struct flow_record *rec, void *user)
{
	struct detect *d = user;

	scorer_add(d->scorer, rec);
}

static void on_arp(const struct dec_packet *pkt, void *user)
{
	struct detect *d = user;

	detect_route_arp(d->incidents, pkt);
}

static int cmp_incident(const void *a, const void *b)
{
	const struct rec_incident *x = a, *y = b;

	if (x->level != y->level)
		return y->level - x->level;
	if (x->score != y->score)
		return y->score > x->score ? 1 : -1;
	return x->first_ts_us < y->first_ts_us ? -1 : x->first_ts_us > y->first_ts_us;
}

static void format_duration(uint64_t us, char *buf, size_t len)
{
	double s = us / 1e6;

	if (s < 60)
		snprintf(buf, len, "%.1fs", s);
	else if (s < 3600)
		snprintf(buf, len, "%.1fm", s / 60);
	else
		snprintf(buf, len, "%.1fh", s / 3600);
}

static void print_table(const struct detect *d, int min_level, const char *file, const char *model)
{
	unsigned shown = 0;

	printf("nad detect: '%s' scored with model '%s'\n\n", file, model);
	for (size_t i = 0; i < d->ninc; i++) {
		const struct rec_incident *r = &d->inc[i];
		char first[40], dur[16];

		if (r->level < min_level)
			continue;
		if (!shown)
			printf("%-3s %-8s %5s  %-12s %-28s %7s  %-20s %8s\n", "#", "LEVEL", "SCORE", "CATEGORY",
			       "HOST (ROLE)", "FLOWS", "FIRST SEEN (UTC)", "LASTED");
		shown++;
		sink_time_iso(r->first_ts_us, first, sizeof first);
		first[19] = 0; /* seconds are enough in a table */
		first[10] = ' ';
		format_duration(r->last_ts_us - r->first_ts_us, dur, sizeof dur);
		char host[80];
		snprintf(host, sizeof host, "%s (%s)", r->host, r->role);
		printf("%-3u %-8s %5.0f  %-12s %-28s %7" PRIu64 "  %-20s %8s\n", shown, rec_level_name(r->level),
		       r->score, r->category, host, r->anomalies, first, dur);
		printf("    what: %s\n", r->summary);
		printf("    why:  %s\n", r->explanation);
	}
	if (!shown)
		printf("No incidents at level %s or above.\n", rec_level_name(min_level));
}

static json_t *summary_json(const struct detect *d, const struct flow_meter_stats *st, const uint64_t by_level[5])
{
	json_t *an = json_object(), *inc = json_object();

	for (int l = REC_LEVEL_LOW; l <= REC_LEVEL_CRITICAL; l++) {
		json_object_set_new(an, rec_level_name(l), json_integer((json_int_t)d->anomalies_by_level[l]));
		json_object_set_new(inc, rec_level_name(l), json_integer((json_int_t)by_level[l]));
	}
	return json_pack("{s:I,s:I,s:I,s:o,s:o}", "packets", (json_int_t)st->dec.frames, "flows",
			 (json_int_t)d->flows, "anomalies", (json_int_t)d->anomalies, "anomalies_by_level", an,
			 "incidents_by_level", inc);
}

int cmd_detect(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, OPT_JSON },
		{ "flows", required_argument, NULL, OPT_FLOWS },
		{ "min-level", required_argument, NULL, OPT_MIN_LEVEL },
		{ "thresholds", required_argument, NULL, OPT_THRESHOLDS },
		{ "window", required_argument, NULL, OPT_WINDOW },
		{ "max-flows", required_argument, NULL, OPT_MAX_FLOWS },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cap_options copt = { 0 };
	struct score_options sopt;
	struct flow_meter_options mopt;
	struct incident_options iopt = { .window_us = 600ull * 1000000ull, .max_open = 4096 };
	const char *model = NULL, *flows_path = NULL;
	bool json = false;
	int min_level = REC_LEVEL_LOW, c, rc = NAD_EXIT_OK;
	long v;
	char err[1024];
	struct detect d = { 0 };
	struct cap_source *cap = NULL;
	struct flow_meter *meter = NULL;

	score_options_default(&sopt);
	flow_meter_options_default(&mopt);
	mopt.lookahead = FLOW_METER_LOOKAHEAD_FILE; /* a file: nothing waits for records */
	optind = 1;
	while ((c = getopt_long(argc, argv, "r:m:f:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'r': copt.file = optarg; break;
		case 'm': model = optarg; break;
		case 'f': copt.bpf = optarg; break;
		case OPT_JSON: json = true; break;
		case OPT_FLOWS: flows_path = optarg; break;
		case OPT_MIN_LEVEL:
			min_level = rec_level_parse(optarg);
			if (min_level < REC_LEVEL_LOW)
				return cli_usage_error("detect", "--min-level '%s': expected low, medium, high or critical", optarg);
			break;
		case OPT_THRESHOLDS:
			if (cli_parse_thresholds(optarg, sopt.thresholds) < 0)
				return cli_usage_error("detect", "--thresholds '%s': expected four rising scores 0..100, e.g. 50,65,80,95", optarg);
			break;
		case OPT_WINDOW:
			if (cli_parse_long(optarg, 1, 86400 * 7, &v) < 0)
				return cli_usage_error("detect", "--window '%s': expected seconds, 1..604800", optarg);
			iopt.window_us = (uint64_t)v * 1000000ull;
			break;
		case OPT_MAX_FLOWS:
			if (cli_parse_long(optarg, 16, 1L << 26, &v) < 0)
				return cli_usage_error("detect", "--max-flows '%s': expected a number 16..67108864", optarg);
			mopt.table.max_flows = (uint32_t)v;
			break;
		case 'h': fputs(usage_text, stdout); return NAD_EXIT_OK;
		default: return cli_usage_error("detect", "unknown option");
		}
	}
	if (optind < argc)
		return cli_usage_error("detect", "unexpected argument '%s'", argv[optind]);
	if (!copt.file || !model)
		return cli_usage_error("detect", "both a capture (-r FILE) and a model (-m MODEL) are needed");
	memcpy(iopt.level_thresholds, sopt.thresholds, sizeof iopt.level_thresholds);

	if (scorer_new(model, &sopt, on_scored, &d, &d.scorer, err, sizeof err) < 0) {
		cli_errorf("%s", err);
		return NAD_EXIT_USAGE;
	}
	if (cap_open(&copt, &cap, err, sizeof err) < 0) {
		cli_errorf("%s", err);
		rc = NAD_EXIT_USAGE;
		goto out;
	}
	if (!dec_link_supported(cap_linktype(cap))) {
		cli_errorf("cannot read capture file '%s': link type %s (%d) is not supported", copt.file,
			   cap_linktype_name(cap), cap_linktype(cap));
		rc = NAD_EXIT_USAGE;
		goto out;
	}
	if (flows_path) {
		d.flows_out = fopen(flows_path, "w");
		if (!d.flows_out) {
			cli_errorf("cannot write '%s': %s", flows_path, strerror(errno));
			rc = NAD_EXIT_USAGE;
			goto out;
		}
		fputs("first_ts,last_ts,src_addr,src_port,dst_addr,dst_port,proto,vlan,end_reason,packets_fwd,"
		      "packets_bwd,bytes_fwd,bytes_bwd,score,level,category\n",
		      d.flows_out);
	}
	d.incidents = incident_table_new(&iopt, on_incident, &d);
	mopt.on_record = on_record;
	mopt.on_arp = on_arp;
	mopt.user = &d;
	if (!d.incidents || flow_meter_new(&mopt, &meter) < 0) {
		cli_errorf("out of memory");
		rc = NAD_EXIT_FAILURE;
		goto out;
	}

	struct cap_packet p;
	int r;
	while ((r = cap_next(cap, &p)) == CAP_PACKET)
		flow_meter_feed(meter, &p, cap_linktype(cap));
	flow_meter_flush(meter);
	scorer_flush(d.scorer);
	incident_table_close_all(d.incidents);
	if (r == CAP_ERROR) {
		/* Everything before the cut was analysed and is reported below. */
		cli_errorf("%s", cap_error(cap));
		rc = NAD_EXIT_USAGE;
	}
	if (d.oom) {
		cli_errorf("out of memory while collecting incidents");
		rc = NAD_EXIT_FAILURE;
	}

	struct flow_meter_stats st;
	uint64_t by_level[5];
	flow_meter_get_stats(meter, &st);
	incident_table_counts(d.incidents, by_level);
	if (d.ninc) /* qsort wants a non-NULL base even for 0 items */
		qsort(d.inc, d.ninc, sizeof *d.inc, cmp_incident);
	if (json) {
		json_t *arr = json_array();
		for (size_t i = 0; i < d.ninc; i++)
			if (d.inc[i].level >= min_level)
				json_array_append_new(arr, sink_json_incident(&d.inc[i]));
		json_t *doc = json_pack("{s:s,s:s,s:o,s:o}", "file", copt.file, "model", model, "summary",
					summary_json(&d, &st, by_level), "incidents", arr);
		json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		fputc('\n', stdout);
		json_decref(doc);
	} else {
		print_table(&d, min_level, copt.file, model);
		printf("\nSummary: %" PRIu64 " packets, %" PRIu64 " flows, %" PRIu64 " anomalous flows; incidents: "
		       "%" PRIu64 " critical, %" PRIu64 " high, %" PRIu64 " medium, %" PRIu64 " low\n",
		       st.dec.frames, d.flows, d.anomalies, by_level[REC_LEVEL_CRITICAL], by_level[REC_LEVEL_HIGH],
		       by_level[REC_LEVEL_MEDIUM], by_level[REC_LEVEL_LOW]);
	}
out:
	if (d.flows_out && fclose(d.flows_out) != 0) {
		cli_errorf("cannot write '%s': %s", flows_path, strerror(errno));
		rc = NAD_EXIT_FAILURE;
	}
	flow_meter_free(meter);
	cap_free(cap);
	incident_table_free(d.incidents);
	scorer_free(d.scorer);
	free(d.inc);
	return rc;
}
