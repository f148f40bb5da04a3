/* cmd_flows.c - `nad flows`: the flow meter, one record per flow with every feature. */
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/capture.h"
#include "cli/cli.h"
#include "features/features.h"
#include "flow/flow_csv.h"
#include "flow/flow_meter.h"

static const char usage_text[] =
	"usage: nad flows (-r FILE | -i IFACE) [options]\n"
	"\n"
	"Read packets, group them into bidirectional flows and write one record per\n"
	"flow with every feature of the registry (see docs/features.md).\n"
	"\n"
	"  -r FILE                read a pcap or pcapng file ('-' = stdin)\n"
	"  -i IFACE               capture live until SIGINT/SIGTERM\n"
	"  -f BPF                 capture filter\n"
	"      --snaplen N        bytes kept per packet (live)\n"
	"      --promisc          put the interface in promiscuous mode\n"
	"      --buffer-mb N      kernel capture buffer size\n"
	"      --format csv|jsonl output format (default csv)\n"
	"  -o FILE                write records to FILE instead of stdout\n"
	"      --max-flows N      flow table size (default 262144); when full a\n"
	"                         finished flow (closed TCP, answered DNS) is evicted\n"
	"                         first, else the least recently seen\n"
	"      --timeout NAME=S   idle timeout in seconds for NAME = tcp-half-open,\n"
	"                         tcp, tcp-closing, tcp-closed, udp, dns, icmp, other,\n"
	"                         or the active timeout NAME = active; repeatable\n"
	"      --stats            print capture, decode and flow counters to stderr\n"
	"      --list-features[=markdown]\n"
	"                         print the feature registry and exit\n"
	"  -h, --help             this text\n";

enum {
	OPT_SNAPLEN = 256,
	OPT_PROMISC,
	OPT_BUFFER_MB,
	OPT_FORMAT,
	OPT_MAX_FLOWS,
	OPT_TIMEOUT,
	OPT_STATS,
	OPT_LIST,
};

struct writer {
	FILE *out;
	const char *path;
	struct flow_csv csv;
};

static void write_record(const struct flow_record *r, void *user)
{
	struct writer *w = user;

	flow_csv_write_record(&w->csv, r, w->out);
}

static void list_features(void)
{
	for (int i = 0; i < FEAT_COUNT; i++) {
		const struct feat_def *d = &feat_registry[i];

		printf("%-24s %-10s %-6s %-5s %s\n", d->name, d->unit,
		       d->scale == FEAT_SCALE_LOG1P ? "log1p" : "linear", d->model_input ? "model" : "-",
		       d->description);
	}
}

static void print_stats(struct cap_source *src, struct flow_meter *m)
{
	struct cap_stats cs;
	struct flow_meter_stats ms;

	cap_get_stats(src, &cs);
	flow_meter_get_stats(m, &ms);
	fprintf(stderr, "capture: link %s, %" PRIu64 " packets, %" PRIu64 " bytes\n", cap_linktype_name(src),
		cs.packets, cs.bytes);
	if (cs.have_kernel)
		fprintf(stderr, "capture: kernel received %" PRIu64 ", kernel dropped %" PRIu64
			", interface dropped %" PRIu64 "\n", cs.kernel_received, cs.kernel_dropped, cs.if_dropped);
	fprintf(stderr, "decode: %" PRIu64 " frames\n", ms.dec.frames);
	for (int r = 0; r < DEC_REASON_MAX; r++)
		if (ms.dec.by_reason[r])
			fprintf(stderr, "decode: %-20s %" PRIu64 "\n", dec_reason_name(r), ms.dec.by_reason[r]);
	fprintf(stderr, "flows: %" PRIu64 " packets in flows, %" PRIu64 " ARP packets (no flow)\n", ms.ip_packets,
		ms.arp_packets);
	fprintf(stderr, "flows: %" PRIu64 " fragments, %" PRIu64 " later ones matched to their first, %" PRIu64
		" unmatched (port-0 flow)\n", ms.fragments, ms.frag_matched, ms.frag_unmatched);
	fprintf(stderr, "flows: %" PRIu64 " created, %" PRIu64 " still active, %" PRIu64 " at most at once, %" PRIu64
		" restarted by a SYN after close, %zu bytes per flow\n", ms.flows.created, ms.flows.active,
		ms.flows.peak_active, ms.flows.restarted, flow_meter_bytes_per_flow(m));
	for (int e = 0; e < FLOW_END_MAX; e++)
		fprintf(stderr, "flows: records %-13s %" PRIu64 "\n", flow_end_name(e), ms.flows.ended[e]);
	fprintf(stderr, "flows: evicted by a full table %" PRIu64 " finished, %" PRIu64 " closed without last ACK, %"
		PRIu64 " least recently seen (maybe live)\n", ms.flows.evicted[FLOW_EVICT_FINISHED],
		ms.flows.evicted[FLOW_EVICT_CLOSED], ms.flows.evicted[FLOW_EVICT_LRU]);
	fprintf(stderr, "flows: host-context entries replaced %" PRIu64 "\n", ms.hosts_replaced);
}

static struct cap_source *volatile live_source;
static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	stop_requested = 1;
	if (live_source)
		cap_break(live_source);
}

static int set_timeout(struct flow_table_options *t, const char *arg)
{
	const char *eq = strchr(arg, '=');
	char name[32];
	long v;
	int c;

	if (!eq || (size_t)(eq - arg) >= sizeof name)
		return -1;
	memcpy(name, arg, (size_t)(eq - arg));
	name[eq - arg] = '\0';
	c = flow_timeout_by_name(name);
	if (c < 0 || cli_parse_long(eq + 1, 1, 31L * 24 * 3600, &v))
		return -1;
	t->timeout_s[c] = (uint32_t)v;
	return 0;
}

int cmd_flows(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "snaplen", required_argument, NULL, OPT_SNAPLEN },
		{ "promisc", no_argument, NULL, OPT_PROMISC },
		{ "buffer-mb", required_argument, NULL, OPT_BUFFER_MB },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "max-flows", required_argument, NULL, OPT_MAX_FLOWS },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "stats", no_argument, NULL, OPT_STATS },
		{ "list-features", optional_argument, NULL, OPT_LIST },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cap_options copt = { 0 };
	struct flow_meter_options mopt;
	struct writer w = { 0 };
	const char *out_path = NULL;
	bool stats = false, jsonl = false;
	struct cap_source *src = NULL;
	struct flow_meter *m = NULL;
	char err[512];
	int c, r, rc = NAD_EXIT_OK, linktype;
	long v;

	flow_meter_options_default(&mopt);
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":r:i:f:o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'r':
			copt.file = optarg;
			break;
		case 'i':
			copt.iface = optarg;
			break;
		case 'f':
			copt.bpf = optarg;
			break;
		case 'o':
			out_path = optarg;
			break;
		case OPT_SNAPLEN:
			if (cli_parse_long(optarg, 1, 262144, &v))
				return cli_usage_error("flows", "invalid --snaplen '%s': expected 1..262144", optarg);
			copt.snaplen = (int)v;
			break;
		case OPT_PROMISC:
			copt.promisc = true;
			break;
		case OPT_BUFFER_MB:
			if (cli_parse_long(optarg, 1, 4096, &v))
				return cli_usage_error("flows", "invalid --buffer-mb '%s': expected 1..4096", optarg);
			copt.buffer_mb = (int)v;
			break;
		case OPT_FORMAT:
			if (!strcmp(optarg, "csv"))
				jsonl = false;
			else if (!strcmp(optarg, "jsonl"))
				jsonl = true;
			else
				return cli_usage_error("flows", "invalid --format '%s': expected csv or jsonl", optarg);
			break;
		case OPT_MAX_FLOWS:
			if (cli_parse_long(optarg, 1, 1L << 26, &v))
				return cli_usage_error("flows", "invalid --max-flows '%s': expected 1..67108864", optarg);
			mopt.table.max_flows = (uint32_t)v;
			break;
		case OPT_TIMEOUT:
			if (set_timeout(&mopt.table, optarg))
				return cli_usage_error("flows", "invalid --timeout '%s': expected NAME=SECONDS", optarg);
			break;
		case OPT_STATS:
			stats = true;
			break;
		case OPT_LIST:
			if (!optarg) {
				list_features();
				return NAD_EXIT_OK;
			}
			if (strcmp(optarg, "markdown"))
				return cli_usage_error("flows", "invalid --list-features '%s': expected markdown", optarg);
			return feat_write_markdown(stdout) || fflush(stdout) ? NAD_EXIT_FAILURE : NAD_EXIT_OK;
		case 'h':
			fputs(usage_text, stdout);
			return NAD_EXIT_OK;
		case ':':
			return cli_usage_error("flows", "option '%s' needs a value", argv[optind - 1]);
		default:
			return cli_usage_error("flows", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage_error("flows", "unexpected argument '%s'", argv[optind]);
	if (!copt.file == !copt.iface)
		return cli_usage_error("flows", "give exactly one of -r FILE or -i IFACE");

	r = cap_open(&copt, &src, err, sizeof err);
	if (r < 0) {
		cli_errorf("%s", err);
		return copt.file ? NAD_EXIT_USAGE : NAD_EXIT_FAILURE;
	}
	linktype = cap_linktype(src);

	w.out = stdout;
	w.path = out_path ? out_path : "stdout";
	if (out_path && !(w.out = fopen(out_path, "w"))) {
		cli_errorf("cannot open output '%s': %m", out_path);
		cap_free(src);
		return NAD_EXIT_FAILURE;
	}
	/* static: it must outlive the stream, which stdout is; glibc
	 * ignores the size when it allocates the buffer itself */
	static char outbuf[1 << 16];

	/* reading a file, records come as fast as they can be written: one
	 * write() per 64 KiB instead of per 4 KiB (a live capture keeps
	 * stdio's default, so its records do not wait as long) */
	if (cap_is_file(src))
		setvbuf(w.out, outbuf, _IOFBF, sizeof outbuf);
	flow_csv_init(&w.csv);
	w.csv.jsonl = jsonl;
	mopt.lookahead = FLOW_METER_LOOKAHEAD_FILE;
	mopt.on_record = write_record;
	mopt.user = &w;
	r = flow_meter_new(&mopt, &m);
	if (r < 0) {
		cli_errorf("cannot create the flow table (%u flows): %s", mopt.table.max_flows, strerror(-r));
		rc = NAD_EXIT_FAILURE;
		goto out;
	}
	flow_csv_write_header(&w.csv, w.out);

	if (!cap_is_file(src)) {
		struct sigaction sa = { .sa_handler = on_signal };

		live_source = src;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
	}
	for (;;) {
		struct cap_packet p;

		r = cap_next(src, &p);
		if (r == CAP_PACKET)
			flow_meter_feed(m, &p, linktype);
		else if (r == CAP_IDLE)
			flow_meter_drain(m); /* no packet for a while: nothing waits */
		else
			break;
		if (stop_requested)
			break;
	}
	/* Whatever stopped the loop, the flows seen so far are real: write them
	 * before reporting a cut-off file. */
	flow_meter_flush(m);
	if (r == CAP_ERROR) {
		cli_errorf("%s", cap_error(src));
		rc = cap_is_file(src) ? NAD_EXIT_USAGE : NAD_EXIT_FAILURE;
	}
	if (stats)
		print_stats(src, m);
out:
	live_source = NULL;
	if (fflush(w.out) || ferror(w.out)) {
		cli_errorf("cannot write records to '%s': %m", w.path);
		rc = NAD_EXIT_FAILURE;
	}
	if (w.out != stdout && fclose(w.out)) {
		cli_errorf("cannot write records to '%s': %m", w.path);
		rc = NAD_EXIT_FAILURE;
	}
	flow_meter_free(m);
	cap_free(src);
	return rc;
}
