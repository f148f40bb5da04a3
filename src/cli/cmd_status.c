/* cmd_status.c - `nad status`: what the service is doing.
 *
 * First from the running service itself: GET /status on its metrics
 * address ([metrics] listen of the configuration, or --listen), a JSON
 * document that is current to the packet. When nothing answers there
 * (the service is stopped, or serves no endpoint), from its database: the
 * service writes its learning progress, traffic mix and a few status keys
 * through the writer thread every 10 s, and this reads them back
 * read-only, so it also works after the service stopped. --db asks for
 * the database only. --json prints either source as one JSON document.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#ifdef NAD_HAVE_CURL
#include <curl/curl.h>
#endif
#ifdef NAD_HAVE_JANSSON
#include <jansson.h>
#endif

#include "cli/cli.h"
#include "daemon/config.h"
#include "metrics/metrics.h"
#include "sink/records.h"
#include "sink/store_sqlite.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: nad status [options]\n"
		"\n"
		"Show whether `nad run` is learning (progress, flows collected, traffic mix,\n"
		"time left) or detecting (model, incidents by level, capture drops). Asks the\n"
		"running service (GET /status on its [metrics] listen address) and falls back\n"
		"to its database when the service does not answer.\n"
		"\n"
		"  --db PATH             the database only (default: [output] database_path of\n"
		"                        the configuration, /var/lib/nad/nad.db)\n"
		"  -c, --config FILE     configuration to take the addresses from\n"
		"      --listen ADDR:PORT  the service's metrics address (overrides [metrics]\n"
		"                        listen; 0.0.0.0 means 127.0.0.1)\n"
		"      --json            one JSON document (\"source\": \"service\" or \"database\")\n"
		"  -h, --help            this help\n");
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

/* ---- the running service ------------------------------------------------- */

#define STATUS_BODY_MAX (1u << 20)

/* The [metrics] listen address to ask: --listen, else that of -c CONFIG
 * (or /etc/nad/nad.conf when readable, or the default). "" when the
 * configuration disables the endpoint. NAD_EXIT_OK or an exit code. */
static int service_address(const char *listen_opt, const char *config_opt, char *buf, size_t len)
{
	struct nad_config *cfg;
	const char *path = config_opt;
	char err[1200];
	int r = 0;

	if (listen_opt) {
		snprintf(buf, len, "%s", listen_opt);
		return NAD_EXIT_OK;
	}
	cfg = malloc(sizeof *cfg);
	if (!cfg)
		return NAD_EXIT_FAILURE;
	cfg_init(cfg);
	if (!path && access(CFG_DEFAULT_PATH, R_OK) == 0)
		path = CFG_DEFAULT_PATH;
	if (path)
		r = cfg_load(path, cfg, err, sizeof err);
	if (r == 0)
		snprintf(buf, len, "%s", cfg->metrics.listen);
	free(cfg);
	if (r < 0) {
		cli_errorf("status: %s", err);
		return r == -EINVAL ? NAD_EXIT_USAGE : NAD_EXIT_FAILURE;
	}
	return NAD_EXIT_OK;
}

#if defined(NAD_HAVE_CURL) && defined(NAD_HAVE_JANSSON)

struct body {
	char *buf;
	size_t len;
};

static size_t body_add(char *data, size_t size, size_t n, void *user)
{
	struct body *b = user;
	size_t add = size * n;
	char *nb;

	if (b->len + add > STATUS_BODY_MAX)
		return 0; /* not a status document: make curl fail */
	nb = realloc(b->buf, b->len + add + 1);
	if (!nb)
		return 0;
	memcpy(nb + b->len, data, add);
	b->buf = nb;
	b->len += add;
	b->buf[b->len] = '\0';
	return add;
}

/* GET url: the service's status document, or NULL with the reason in why. */
static json_t *fetch_status(const char *url, char *why, size_t whylen)
{
	CURL *c = curl_easy_init();
	struct body b = { 0 };
	char cerr[CURL_ERROR_SIZE] = "";
	long code = 0;
	json_error_t je;
	json_t *doc = NULL;
	CURLcode r;

	if (!c) {
		snprintf(why, whylen, "cannot start libcurl");
		return NULL;
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");   /* the service is on this box: never via a proxy */
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 1000L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 3000L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, body_add);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	r = curl_easy_perform(c);
	if (r == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(c);
	if (r != CURLE_OK)
		snprintf(why, whylen, "%s", *cerr ? cerr : curl_easy_strerror(r));
	else if (code != 200)
		snprintf(why, whylen, "HTTP status %ld", code);
	else if (!(doc = json_loadb(b.buf ? b.buf : "", b.len, 0, &je)) || !json_is_object(doc)) {
		snprintf(why, whylen, "not a status document: %s", doc ? "not a JSON object" : je.text);
		json_decref(doc);
		doc = NULL;
	}
	free(b.buf);
	return doc;
}

static const char *jstr(json_t *o, const char *path_a, const char *path_b)
{
	json_t *v = json_object_get(o, path_a);

	if (path_b)
		v = json_object_get(v, path_b);
	return json_is_string(v) ? json_string_value(v) : "";
}

static double jnum(json_t *o, const char *path_a, const char *path_b)
{
	json_t *v = json_object_get(o, path_a);

	if (path_b)
		v = json_object_get(v, path_b);
	return json_is_number(v) ? json_number_value(v) : 0;
}

static void print_levels(const char *what, json_t *o)
{
	printf("%-15scritical %.0f, high %.0f, medium %.0f, low %.0f", what, jnum(o, "critical", NULL),
	       jnum(o, "high", NULL), jnum(o, "medium", NULL), jnum(o, "low", NULL));
}

/* The same facts as from the database, current to the packet. */
static void print_live(json_t *d, const char *url)
{
	json_t *model = json_object_get(d, "model");
	const char *state = jstr(d, "state", NULL);
	char a[32], b[32];

	span((uint64_t)(jnum(d, "uptime_seconds", NULL) * 1e6), a, sizeof a);
	printf("source:        service at %s (nad %s, up %s)\n", url, jstr(d, "version", NULL), a);
	if (!strcmp(state, "learning")) {
		printf("state:         learning what normal traffic looks like\n");
		span((uint64_t)(jnum(d, "learning", "elapsed_seconds") * 1e6), a, sizeof a);
		span((uint64_t)(jnum(d, "learning", "duration_seconds") * 1e6), b, sizeof b);
		printf("progress:      %.0f%% (%s of %s)\n", 100 * jnum(d, "learning", "progress"), a, b);
		printf("flows:         %.0f collected (at least %.0f needed)\n", jnum(d, "learning", "baseline_flows"),
		       jnum(d, "learning", "min_flows"));
	} else {
		printf("state:         %s\n", state);
	}
	if (json_is_object(model))
		printf("model:         %s (%.0f features, %s, %.0f bytes)\n", jstr(model, "path", NULL),
		       jnum(model, "features", NULL), jstr(model, "precision", NULL), jnum(model, "size_bytes", NULL));
	printf("input:         %s '%s'%s\n", jstr(d, "capture", "source"), jstr(d, "capture", "input"),
	       json_is_true(json_object_get(json_object_get(d, "capture"), "ended")) ? " (read to its end)" : "");
	printf("packets:       %.0f (%.0f bytes)\n", jnum(d, "capture", "packets"), jnum(d, "capture", "bytes"));
	printf("capture drops: %.0f (kernel %.0f, interface %.0f)\n",
	       jnum(d, "capture", "kernel_drops") + jnum(d, "capture", "interface_drops"),
	       jnum(d, "capture", "kernel_drops"), jnum(d, "capture", "interface_drops"));
	printf("decode errors: %.0f\n", jnum(d, "decode_errors", NULL));
	printf("flows:         %.0f ended, %.0f active (table of %.0f), %.0f scored\n", jnum(d, "flows", "ended"),
	       jnum(d, "flows", "active"), jnum(d, "flows", "capacity"), jnum(d, "flows", "scored"));
	print_levels("anomalies:", json_object_get(d, "anomalies"));
	printf("\n");
	print_levels("incidents:", json_object_get(d, "incidents"));
	printf(" (since start; %.0f open)\n", jnum(d, "incidents_open", NULL));
	printf("writer:        %.0f records written, %.0f dropped\n", jnum(d, "writer", "written"),
	       jnum(d, "writer", "dropped"));
}

static int try_service(const char *listen_addr, bool json, bool *ret_done)
{
	char url[256], why[CURL_ERROR_SIZE + 64];
	json_t *d;

	*ret_done = false;
	if (!*listen_addr || metrics_listen_url(listen_addr, "/status", url, sizeof url) < 0)
		return NAD_EXIT_OK;
	d = fetch_status(url, why, sizeof why);
	if (!d) {
		if (!json)
			printf("service:       not reachable at %s (%s); from the database\n", url, why);
		return NAD_EXIT_OK;
	}
	*ret_done = true;
	if (json) {
		json_t *out = json_pack("{s:s, s:s}", "source", "service", "url", url);

		json_object_update(out, d);
		json_dumpf(out, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		putchar('\n');
		json_decref(out);
	} else {
		print_live(d, url);
	}
	json_decref(d);
	return NAD_EXIT_OK;
}

/* ---- the database as JSON ---- */

static int add_mix_json(const struct store_traffic *t, void *user)
{
	json_array_append_new(user, json_pack("{s:s, s:s, s:I, s:I, s:I}", "proto", t->proto, "port_class",
					      t->port_class, "flows", (json_int_t)t->flows, "packets",
					      (json_int_t)t->packets, "bytes", (json_int_t)t->bytes));
	return 0;
}

static int add_key_json(const char *key, const char *value, uint64_t updated_at_us, void *user)
{
	(void)updated_at_us;
	json_object_set_new(user, key, json_string(value));
	return 0;
}

static int print_db_json(struct store *st, const char *db)
{
	struct store_learning l;
	uint64_t by_level[5];
	json_t *out = json_pack("{s:s, s:s}", "source", "database", "database", db), *mix = json_array(),
	       *keys = json_object();
	int r = store_get_learning(st, &l);

	if (r < 0 && r != -ENOENT) {
		cli_errorf("status: cannot read '%s': %s", db, store_errmsg(st));
		json_decref(out);
		json_decref(mix);
		json_decref(keys);
		return NAD_EXIT_FAILURE;
	}
	json_object_set_new(out, "state", r == -ENOENT ? json_null() : json_string(l.state));
	if (r == 0)
		json_object_set_new(out, "learning",
				    json_pack("{s:I, s:I, s:I, s:I, s:s, s:I}", "started_at_us", (json_int_t)l.started_at_us,
					      "duration_us", (json_int_t)l.duration_us, "flows", (json_int_t)l.flows,
					      "min_flows", (json_int_t)l.min_flows, "model_path", l.model_path,
					      "updated_at_us", (json_int_t)l.updated_at_us));
	if (store_count_incidents(st, today_midnight_us(), by_level) == 0)
		json_object_set_new(out, "incidents_today",
				    json_pack("{s:I, s:I, s:I, s:I}", "critical", (json_int_t)by_level[REC_LEVEL_CRITICAL],
					      "high", (json_int_t)by_level[REC_LEVEL_HIGH], "medium",
					      (json_int_t)by_level[REC_LEVEL_MEDIUM], "low", (json_int_t)by_level[REC_LEVEL_LOW]));
	store_each_traffic(st, add_mix_json, mix);
	store_each_status(st, add_key_json, keys);
	json_object_set_new(out, "traffic_mix", mix);
	json_object_set_new(out, "status", keys);
	json_dumpf(out, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	putchar('\n');
	json_decref(out);
	return NAD_EXIT_OK;
}

#else

static int try_service(const char *listen_addr, bool json, bool *ret_done)
{
	(void)listen_addr;
	(void)json;
	*ret_done = false;
	return NAD_EXIT_OK;
}

static int print_db_json(struct store *st, const char *db)
{
	(void)st;
	(void)db;
	cli_errorf("status: --json needs nad built with libjansson");
	return NAD_EXIT_USAGE;
}

#endif

static void print_incidents_today(struct store *st)
{
	uint64_t by_level[5];

	if (store_count_incidents(st, today_midnight_us(), by_level) == 0)
		printf("incidents today: critical %llu, high %llu, medium %llu, low %llu\n",
		       (unsigned long long)by_level[REC_LEVEL_CRITICAL], (unsigned long long)by_level[REC_LEVEL_HIGH],
		       (unsigned long long)by_level[REC_LEVEL_MEDIUM], (unsigned long long)by_level[REC_LEVEL_LOW]);
}

static int print_db(struct store *st, const char *db)
{
	char value[256];
	struct store_learning l;
	int r;

	printf("database:      %s\n", db);
	r = store_get_learning(st, &l);
	/* A service that started with its model never writes the learning
	 * row: its state is in the status keys. */
	if (r == -ENOENT && store_get_status(st, "state", value, sizeof value) == 0) {
		memset(&l, 0, sizeof l);
		snprintf(l.state, sizeof l.state, "%s", value);
		r = 0;
	}
	if (r == -ENOENT) {
		printf("state:         unknown (the service has not reported yet)\n");
	} else if (r < 0) {
		cli_errorf("status: cannot read '%s': %s", db, store_errmsg(st));
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
		print_incidents_today(st);
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
	return NAD_EXIT_OK;
}

/* Beside the live facts, what only the history knows: incidents of the
 * day and the traffic mix. Quiet when there is no readable history. */
static void print_history_extras(const char *config_opt)
{
	char db[CFG_PATH_MAX], err[1200];
	struct store *st;

	if (cfg_database_for_query(NULL, config_opt, db, sizeof db, err, sizeof err) < 0 ||
	    store_open_readonly(db, &st, err, sizeof err) < 0)
		return;
	printf("database:      %s\n", db);
	print_incidents_today(st);
	print_mix(st);
	store_close(st);
}

int cmd_status(int argc, char **argv)
{
	enum { OPT_LISTEN = 256, OPT_JSON };
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "config", required_argument, NULL, 'c' },
		{ "listen", required_argument, NULL, OPT_LISTEN },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *db_opt = NULL, *config_opt = NULL, *listen_opt = NULL;
	char db[CFG_PATH_MAX], listen_addr[CFG_LISTEN_MAX];
	bool json = false, done = false;
	struct store *st;
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
		case OPT_LISTEN:
			if (cfg_parse_listen(optarg) < 0)
				return cli_usage_error("status", "invalid --listen '%s': expected ADDRESS:PORT or "
						       "[IPV6ADDRESS]:PORT", optarg);
			listen_opt = optarg;
			break;
		case OPT_JSON:
			json = true;
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
	if (db_opt && listen_opt)
		return cli_usage_error("status", "give at most one of --db (the database only) and --listen (the service)");

	if (!db_opt) {
		if ((r = service_address(listen_opt, config_opt, listen_addr, sizeof listen_addr)) != NAD_EXIT_OK)
			return r;
		if ((r = try_service(listen_addr, json, &done)) != NAD_EXIT_OK)
			return r;
		if (done) {
			if (!json)
				print_history_extras(config_opt);
			return fflush(stdout) == 0 ? NAD_EXIT_OK : NAD_EXIT_FAILURE;
		}
	}
	if ((r = cli_open_history("status", db_opt, config_opt, db, sizeof db, &st)) != NAD_EXIT_OK)
		return r;
	r = json ? print_db_json(st, db) : print_db(st, db);
	store_close(st);
	if (r != NAD_EXIT_OK)
		return r;
	return fflush(stdout) == 0 ? NAD_EXIT_OK : NAD_EXIT_FAILURE;
}
