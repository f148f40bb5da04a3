/* cmd_anomalies.c - `nad anomalies`: query the history kept by `nad run`. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <arpa/inet.h>

#include "cli/cli.h"
#include "daemon/config.h"
#include "sink/records.h"
#include "sink/sink_jsonl.h"
#include "sink/store_sqlite.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: nad anomalies [options]\n"
		"\n"
		"List anomalous flows (or, with --incidents, incidents) from the history\n"
		"that `nad run` keeps, newest first.\n"
		"\n"
		"  --since WHEN          only since WHEN: a duration back from now (30m, 1h, 7d)\n"
		"                        or a time (2024-05-01, 2024-05-01T12:00, ...; local\n"
		"                        time unless it ends in Z)\n"
		"  --min-severity LEVEL  low, medium, high or critical (default: low)\n"
		"  --host ADDR           only flows from or to ADDR (incidents: about ADDR)\n"
		"  --incidents           list incidents instead of anomalous flows\n"
		"  --sort time|severity  newest first (default) or most severe first\n"
		"  --limit N             at most N rows (default 50; 0: all)\n"
		"  --json                JSON lines, the schema of the anomaly log\n"
		"  --db PATH             database (default: [output] database_path of the\n"
		"                        configuration, /var/lib/nad/nad.db)\n"
		"  -c, --config FILE     configuration to take database_path from\n"
		"  -h, --help            this help\n");
}

static uint64_t now_us(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (uint64_t)tv.tv_sec * 1000000 + (uint64_t)tv.tv_usec;
}

/* "1h" (back from now), or a date/time: local time, UTC with a trailing Z. */
static int parse_since(const char *s, uint64_t *ret_us)
{
	static const char *const formats[] = {
		"%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d",
	};
	uint64_t ago, now = now_us();

	if (cfg_parse_duration(s, &ago) == 0) {
		*ret_us = ago < now ? now - ago : 0;
		return 0;
	}
	for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++) {
		struct tm tm;
		const char *end;
		time_t t;

		memset(&tm, 0, sizeof tm);
		end = strptime(s, formats[i], &tm);
		if (!end || (*end && strcmp(end, "Z")))
			continue;
		tm.tm_isdst = -1;
		t = *end == 'Z' ? timegm(&tm) : mktime(&tm);
		if (t == (time_t)-1 || t < 0)
			return -EINVAL;
		*ret_us = (uint64_t)t * 1000000;
		return 0;
	}
	return -EINVAL;
}

static void local_time(uint64_t us, char *buf, size_t len)
{
	time_t t = (time_t)(us / 1000000);
	struct tm tm;

	if (!localtime_r(&t, &tm) || !strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm))
		snprintf(buf, len, "?");
}

struct out {
	bool json;
	unsigned rows;
};

/* One JSON line; without jansson there is nothing to print it with. */
#ifdef NAD_HAVE_JANSSON
#define json_of_anomaly sink_json_anomaly
#define json_of_incident sink_json_incident
static int print_json(struct out *o, json_t *j)
{
	char *text = j ? json_dumps(j, SINK_JSON_FLAGS) : NULL;

	json_decref(j);
	if (!text)
		return -ENOMEM;
	puts(text);
	free(text);
	return 0;
}
#else
#define json_of_anomaly(a) NULL
#define json_of_incident(i) NULL
static int print_json(struct out *o, void *j)
{
	return -ENOTSUP;
}
#endif

static int print_anomaly(const struct rec_anomaly *a, void *user)
{
	struct out *o = user;
	char when[32], pbuf[8], flow[160];

	o->rows++;
	if (o->json)
		return print_json(o, json_of_anomaly(a));
	if (o->rows == 1)
		printf("%-19s  %-8s  %5s  %-12s  %-6s  %-50s  %s\n", "TIME", "LEVEL", "SCORE",
		       "CATEGORY", "PROTO", "FLOW", "WHY");
	local_time(a->last_ts_us, when, sizeof when);
	/* IPv6 addresses with ports read better in brackets */
	snprintf(flow, sizeof flow, strchr(a->src, ':') ? "[%s]:%u -> " : "%s:%u -> ", a->src, a->sport);
	snprintf(flow + strlen(flow), sizeof flow - strlen(flow),
		 strchr(a->dst, ':') ? "[%s]:%u" : "%s:%u", a->dst, a->dport);
	printf("%-19s  %-8s  %5.1f  %-12s  %-6s  %-50s  %s\n", when, rec_level_name(a->level), a->score,
	       a->category, sink_proto_name(a->proto, pbuf, sizeof pbuf), flow, a->explanation);
	return 0;
}

static int print_incident(const struct rec_incident *inc, void *user)
{
	struct out *o = user;
	char first[32], last[32];

	o->rows++;
	if (o->json)
		return print_json(o, json_of_incident(inc));
	if (o->rows == 1)
		printf("%-19s  %-19s  %-8s  %5s  %-12s  %-39s  %9s  %-6s  %s\n", "FIRST", "LAST", "LEVEL",
		       "SCORE", "CATEGORY", "HOST", "ANOMALIES", "STATE", "SUMMARY");
	local_time(inc->first_ts_us, first, sizeof first);
	local_time(inc->last_ts_us, last, sizeof last);
	printf("%-19s  %-19s  %-8s  %5.1f  %-12s  %-39s  %9llu  %-6s  %s\n", first, last,
	       rec_level_name(inc->level), inc->score, inc->category, inc->host,
	       (unsigned long long)inc->anomalies,
	       inc->event == REC_INCIDENT_CLOSED ? "closed" : "open", inc->summary);
	return 0;
}

int cmd_anomalies(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "since", required_argument, NULL, 's' },
		{ "min-severity", required_argument, NULL, 'm' },
		{ "host", required_argument, NULL, 'H' },
		{ "incidents", no_argument, NULL, 'I' },
		{ "sort", required_argument, NULL, 'S' },
		{ "limit", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "db", required_argument, NULL, 'd' },
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct store_filter f = { .limit = 50 };
	const char *db_opt = NULL, *config_opt = NULL;
	bool incidents = false;
	struct out o = { 0 };
	char db[CFG_PATH_MAX];
	struct store *st;
	long n;
	int c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (parse_since(optarg, &f.since_us) < 0)
				return cli_usage_error("anomalies", "bad --since '%s': expected a duration "
						       "(1h, 7d) or a time (2024-05-01T12:00)", optarg);
			break;
		case 'm':
			f.min_level = rec_level_parse(optarg);
			if (f.min_level < REC_LEVEL_LOW)
				return cli_usage_error("anomalies", "bad --min-severity '%s': expected low, "
						       "medium, high or critical", optarg);
			break;
		case 'H': {
			unsigned char bin[16];
			if ((inet_pton(AF_INET, optarg, bin) != 1 && inet_pton(AF_INET6, optarg, bin) != 1) ||
			    strlen(optarg) >= sizeof f.host)
				return cli_usage_error("anomalies", "bad --host '%s': expected an IPv4 or "
						       "IPv6 address", optarg);
			snprintf(f.host, sizeof f.host, "%s", optarg);
			break;
		}
		case 'I':
			incidents = true;
			break;
		case 'S':
			if (!strcmp(optarg, "time"))
				f.sort = STORE_SORT_TIME;
			else if (!strcmp(optarg, "severity"))
				f.sort = STORE_SORT_SEVERITY;
			else
				return cli_usage_error("anomalies", "bad --sort '%s': expected time or severity", optarg);
			break;
		case 'n':
			if (cli_parse_long(optarg, 0, 1000000000, &n) < 0)
				return cli_usage_error("anomalies", "bad --limit '%s': expected a whole number", optarg);
			f.limit = (unsigned)n;
			break;
		case 'j':
			o.json = true;
			break;
		case 'd':
			db_opt = optarg;
			break;
		case 'c':
			config_opt = optarg;
			break;
		case 'h':
			usage(stdout);
			return NAD_EXIT_OK;
		default:
			return cli_usage_error("anomalies", "unknown option");
		}
	}
	if (optind < argc)
		return cli_usage_error("anomalies", "unexpected argument '%s'", argv[optind]);

	if ((r = cli_open_history("anomalies", db_opt, config_opt, db, sizeof db, &st)) != NAD_EXIT_OK)
		return r;
	r = incidents ? store_query_incidents(st, &f, print_incident, &o)
		      : store_query_anomalies(st, &f, print_anomaly, &o);
	if (r < 0) {
		cli_errorf("anomalies: cannot read '%s': %s", db, store_errmsg(st));
		store_close(st);
		return NAD_EXIT_FAILURE;
	}
	store_close(st);
	if (!o.rows && !o.json)
		printf("no %s match\n", incidents ? "incidents" : "anomalies");
	return fflush(stdout) == 0 ? NAD_EXIT_OK : NAD_EXIT_FAILURE;
}
