/* cmd_run.c - `nad run`: the service (src/daemon/service.c) behind a command line. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "daemon/config.h"
#include "daemon/service.h"
#include "model/train/train.h"

static const char usage_text[] =
	"usage: nad run [-c CONFIG] [-i IFACE | -r FILE [--linger]] [-m MODEL] [--learn-duration DUR]\n"
	"               [--listen ADDR:PORT]\n"
	"\n"
	"The detector as a service: capture, flows, scoring, incidents, and the JSON\n"
	"lines log and SQLite history of [output]. Without a model it first learns\n"
	"the network's normal traffic, trains a model and then detects on its own.\n"
	"SIGHUP reopens the log and reloads configuration and model; SIGTERM or\n"
	"SIGINT scores every active flow and writes every record before exit.\n"
	"/metrics (Prometheus), /status (JSON) and /healthz are served on [metrics]\n"
	"listen; a replay (-r) serves them only with --listen or --linger.\n"
	"\n"
	"  -c, --config FILE      configuration (default " CFG_DEFAULT_PATH " if it exists)\n"
	"  -i, --interface IFACE  capture on IFACE (overrides [capture] interface)\n"
	"  -r, --read FILE        read a pcap/pcapng file through the same path, then stop\n"
	"  -m, --model MODEL      model to detect with (overrides [model] path; must exist)\n"
	"      --learn-duration DUR\n"
	"                         length of the learning period (overrides [learning]\n"
	"                         duration), e.g. 90s, 10m, 24h\n"
	"      --listen ADDR:PORT serve /metrics, /status and /healthz there (overrides\n"
	"                         [metrics] listen), e.g. 127.0.0.1:19473 or [::1]:19473\n"
	"      --linger           with -r: once the file is done, keep serving (and\n"
	"                         delivering alerts) until SIGTERM\n"
	"  -h, --help             this text\n";

enum { OPT_LEARN_DURATION = 256, OPT_LISTEN, OPT_LINGER };

/* The learning period's trainer: the same library call as `nad train
 * --quiet --seed SEED [--int8]`, so the service's model is byte for byte
 * what the command would write from the same baseline and seed. It runs on
 * the service's training thread. */
static int train_baseline(const char *baseline, const char *model, bool int8, uint64_t seed)
{
	struct train_job job;
	char err[512];
	int r;

	train_job_default(&job);
	job.inputs[0] = baseline;
	job.n_inputs = 1;
	job.out = model;
	job.int8 = int8;
	job.seed = seed;
	r = train_model_from_csv(&job, err, sizeof err);
	if (r < 0)
		cli_errorf("train: %s", err);
	return r;
}

int cmd_run(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "interface", required_argument, NULL, 'i' },
		{ "read", required_argument, NULL, 'r' },
		{ "model", required_argument, NULL, 'm' },
		{ "learn-duration", required_argument, NULL, OPT_LEARN_DURATION },
		{ "listen", required_argument, NULL, OPT_LISTEN },
		{ "linger", no_argument, NULL, OPT_LINGER },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct service_options o = { .train = train_baseline };
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":c:i:r:m:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': o.config_path = optarg; break;
		case 'i': o.iface = optarg; break;
		case 'r': o.file = optarg; break;
		case 'm': o.model_path = optarg; break;
		case OPT_LEARN_DURATION:
			if (cfg_parse_duration(optarg, &o.learn_duration_us) < 0)
				return cli_usage_error("run", "invalid --learn-duration '%s': expected a duration such as 90s, 10m or 24h",
						       optarg);
			o.have_learn_duration = true;
			break;
		case OPT_LISTEN:
			if (cfg_parse_listen(optarg) < 0)
				return cli_usage_error("run", "invalid --listen '%s': expected ADDRESS:PORT or [IPV6ADDRESS]:PORT "
						       "with a port from 1 to 65535", optarg);
			o.listen = optarg;
			break;
		case OPT_LINGER: o.linger = true; break;
		case 'h': fputs(usage_text, stdout); return NAD_EXIT_OK;
		case ':': return cli_usage_error("run", "option '%s' needs a value", argv[optind - 1]);
		default: return cli_usage_error("run", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage_error("run", "unexpected argument '%s'", argv[optind]);
	if (o.iface && o.file)
		return cli_usage_error("run", "give at most one of -i IFACE and -r FILE");
	if (o.linger && !o.file)
		return cli_usage_error("run", "--linger needs -r FILE (a live capture serves until SIGTERM anyway)");
	return service_run(&o);
}
