/* cmd_status.c - `nad status`: what the service is doing, from its database.
 *
 * The service writes its learning progress, traffic mix and a few status
 * keys through the writer thread; this reads them back read-only, so it
 * works while the service runs and after it stopped. (A live endpoint from
 * `nad run` can replace the source later without changing the output.)
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "cli/cli.h"
#include "daemon/config.h"
#include "sink/records.h"
#include "sink/store_sqlite.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: nad status [options]\n"
		"\n"
		"Show whether `nad run` is learning (progress, flows collected, traffic mix,\n"
		"time left) or detecting (model, incidents today by level, capture drops).\n"
		"\n"
		"  --db PATH          database (default: [output] database_path of the\n"
		"                     configuration, /var/lib/nad/nad.db)\n"
		"  -c, --config FILE  configuration to take database_path from\n"
		"  -h, --help         this help\n");
}

static void local_time(uint64_t us, char *buf, size_t len)
{
	time_t t = (time_t)(us / 1000000);
	struct tm tm;

	if (!us || !localtime_r(&t, &tm) || !strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm))
		snprintf(buf, len, "-");
}

/* "13h 55m", "2d 4h", "42s": the two largest units are enough to plan by. */
static void span(uint64_t us, char *buf, size_t len)
{
	uint64_t s = us / 1000000, d = s / 86400, h = s % 86400 / 3600, m = s % 3600 / 60;

	if (d)
		snprintf(buf, len, "%llud %lluh", (unsigned long long)d, (unsigned long long)h);
	else if (h)
		snprintf(buf, len, "%lluh %llum", (unsigned long long)h, (unsigned long long)m);
	else if (m)
		snprintf(buf, len, "%llum %llus", (unsigned long long)m, (unsigned long long)(s % 60));
	else
		snprintf(buf, len, "%llus", (unsigned long long)s);
}

struct mix {
	struct store_traffic rows[64];
	unsigned n;
	uint64_t flows;
};

static int add_mix(const struct store_traffic *t, void *user)
{
	struct mix *m = user;

	m->flows += t->flows;
	if (m->n < sizeof m->rows / sizeof m->rows[0])
		m->rows[m->n++] = *t;
	return 0;
}

static void print_mix(struct store *st)
{
	struct mix *m = calloc(1, sizeof *m);

	if (!m || store_each_traffic(st, add_mix, m) < 0 || !m->n) {
		printf("traffic mix:   (none recorded yet)\n");
		free(m);
		return;
	}
	printf("traffic mix:   %-8s %-11s %12s %7s %14s %16s\n", "proto", "port class", "flows", "share",
	       "packets", "bytes");
	for (unsigned i = 0; i < m->n; i++) {
		const struct store_traffic *t = &m->rows[i];
		printf("               %-8s %-11s %12llu %6.1f%% %14llu %16llu\n", t->proto, t->port_class,
		       (unsigned long long)t->flows, m->flows ? 100.0 * (double)t->flows / (double)m->flows : 0.0,
		       (unsigned long long)t->packets, (unsigned long long)t->bytes);
	}
	free(m);
}

/* Progress is the slower of the two conditions that end learning: time and
 * flow count. Both clocks come from the service's own record (started_at,
 * updated_at), so a replayed capture reports in its own time. */
static void print_learning(const struct store_learning *l)
{
	uint64_t elapsed = l->updated_at_us > l->started_at_us ? l->updated_at_us - l->started_at_us : 0;
	double by_time = l->duration_us ? (double)elapsed / (double)l->duration_us : 1.0;
	double by_flows = l->min_flows ? (double)l->flows / (double)l->min_flows : 1.0;
	double progress = by_time < by_flows ? by_time : by_flows;
	uint64_t left_time = l->duration_us > elapsed ? l->duration_us - elapsed : 0, left_flows = 0;
	char a[32], b[32], when[32];

	if (progress > 1)
		progress = 1;
	if (l->flows < l->min_flows && l->flows && elapsed)
		left_flows = (uint64_t)((double)(l->min_flows - l->flows) * (double)elapsed / (double)l->flows);
	span(elapsed, a, sizeof a);
	span(l->duration_us, b, sizeof b);
	printf("progress:      %.0f%% (%s of %s)\n", progress * 100, a, b);
	printf("flows:         %llu collected (at least %llu needed)\n", (unsigned long long)l->flows,
	       (unsigned long long)l->min_flows);
	if (l->flows < l->min_flows && !l->flows && elapsed) {
		printf("time left:     unknown: no flows seen yet\n");
	} else {
		uint64_t left = left_time > left_flows ? left_time : left_flows;
		span(left, a, sizeof a);
		local_time(l->updated_at_us + left, when, sizeof when);
		printf("time left:     about %s (until about %s)\n", a, when);
	}
	local_time(l->started_at_us, when, sizeof when);
	printf("started:       %s\n", when);
	printf("model to be:   %s\n", l->model_path);
}

static int print_key(const char *key, const char *value, uint64_t updated_at_us, void *user)
{
	char when[32];

	local_time(updated_at_us, when, sizeof when);
	printf("  %-20s %-40s (%s)\n", key, value, when);
	return 0;
}

static uint64_t today_midnight_us(void)
{
	time_t now = time(NULL);
	struct tm tm;

	localtime_r(&now, &tm);
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	tm.tm_isdst = -1;
	now = mktime(&tm);
	return now < 0 ? 0 : (uint64_t)now * 1000000;
}

/* Find and open the history read-only for a query command; returns an exit
 * code, NAD_EXIT_OK with *ret_store set on success. Shared with
 * `nad anomalies`. */
int cli_open_history(const char *cmd, const char *db_opt, const char *config_opt,
		     char *db, size_t dblen, struct store **ret_store)
{
	char err[1200];
	int r;

	r = cfg_database_for_query(db_opt, config_opt, db, dblen, err, sizeof err);
	if (r < 0) {
		cli_errorf("%s: %s", cmd, err);
		return r == -EINVAL ? NAD_EXIT_USAGE : NAD_EXIT_FAILURE;
	}
	r = store_open_readonly(db, ret_store, err, sizeof err);
	if (r < 0) {
		cli_errorf("%s: %s%s", cmd, err, r == -ENOENT ? " (no history yet: has `nad run` been started?)" : "");
		return NAD_EXIT_FAILURE;
	}
	return NAD_EXIT_OK;
}

int cmd_status(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *db_opt = NULL, *config_opt = NULL;
	char db[CFG_PATH_MAX], value[256];
	struct store_learning l;
	struct store *st;
	uint64_t by_level[5];
	int c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (c) {
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
			return cli_usage_error("status", "unknown option");
		}
	}
	if (optind < argc)
		return cli_usage_error("status", "unexpected argument '%s'", argv[optind]);

	if ((r = cli_open_history("status", db_opt, config_opt, db, sizeof db, &st)) != NAD_EXIT_OK)
		return r;

	printf("database:      %s\n", db);
	r = store_get_learning(st, &l);
	if (r == -ENOENT) {
		printf("state:         unknown (the service has not reported yet)\n");
	} else if (r < 0) {
		cli_errorf("status: cannot read '%s': %s", db, store_errmsg(st));
		store_close(st);
		return NAD_EXIT_FAILURE;
	} else if (!strcmp(l.state, "learning")) {
		printf("state:         learning what normal traffic looks like\n");
		print_learning(&l);
		print_mix(st);
	} else {
		char when[32];
		printf("state:         %s\n", l.state);
		if (store_get_status(st, "model", value, sizeof value) == 0)
			printf("model:         %s\n", value);
		else
			printf("model:         %s\n", l.model_path);
		if (store_count_incidents(st, today_midnight_us(), by_level) == 0)
			printf("incidents today: critical %llu, high %llu, medium %llu, low %llu\n",
			       (unsigned long long)by_level[REC_LEVEL_CRITICAL],
			       (unsigned long long)by_level[REC_LEVEL_HIGH],
			       (unsigned long long)by_level[REC_LEVEL_MEDIUM],
			       (unsigned long long)by_level[REC_LEVEL_LOW]);
		if (store_get_status(st, "packets", value, sizeof value) == 0)
			printf("packets:       %s\n", value);
		if (store_get_status(st, "capture_drops", value, sizeof value) == 0)
			printf("capture drops: %s\n", value);
		local_time(l.updated_at_us, when, sizeof when);
		printf("last report:   %s\n", when);
		print_mix(st);
	}
	printf("service status:\n");
	if (store_each_status(st, print_key, NULL) < 0)
		printf("  (unreadable: %s)\n", store_errmsg(st));
	store_close(st);
	return fflush(stdout) == 0 ? NAD_EXIT_OK : NAD_EXIT_FAILURE;
}
