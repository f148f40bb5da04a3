/* test_config.c - configuration: defaults, every key, the shipped file, errors. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "daemon/config.h"
#include "sink/records.h"

#define S 1000000ULL

static void test_parsers(void)
{
	uint64_t u;
	uint32_t n;
	bool b;

	CHECK(cfg_parse_duration("90", &u) == 0 && u == 90 * S);
	CHECK(cfg_parse_duration("1.5s", &u) == 0 && u == 1500000);
	CHECK(cfg_parse_duration("250ms", &u) == 0 && u == 250000);
	CHECK(cfg_parse_duration("10m", &u) == 0 && u == 600 * S);
	CHECK(cfg_parse_duration("24h", &u) == 0 && u == 86400 * S);
	CHECK(cfg_parse_duration("30d", &u) == 0 && u == 30 * 86400 * S);
	CHECK(cfg_parse_duration("0", &u) == 0 && u == 0);
	CHECK(cfg_parse_duration("7us", &u) == 0 && u == 7);
	u = 42;
	CHECK(cfg_parse_duration("", &u) == -EINVAL);
	CHECK(cfg_parse_duration("-1s", &u) == -EINVAL);
	CHECK(cfg_parse_duration("10 m", &u) == -EINVAL);
	CHECK(cfg_parse_duration("10x", &u) == -EINVAL);
	CHECK(cfg_parse_duration("m", &u) == -EINVAL);
	CHECK(cfg_parse_duration("nan", &u) == -EINVAL);
	CHECK(cfg_parse_duration("1e300d", &u) == -EINVAL);
	CHECK(cfg_parse_duration(NULL, &u) == -EINVAL);
	CHECK(u == 42);      /* untouched on failure */

	CHECK(cfg_parse_size("4096", &u) == 0 && u == 4096);
	CHECK(cfg_parse_size("64k", &u) == 0 && u == 65536);
	CHECK(cfg_parse_size("8M", &u) == 0 && u == 8 << 20);
	CHECK(cfg_parse_size("1G", &u) == 0 && u == 1ULL << 30);
	CHECK(cfg_parse_size("1.5k", &u) == 0 && u == 1536);
	CHECK(cfg_parse_size("1.3", &u) == -EINVAL);
	CHECK(cfg_parse_size("8MB", &u) == -EINVAL);
	CHECK(cfg_parse_size("-8", &u) == -EINVAL);

	CHECK(cfg_parse_bool("yes", &b) == 0 && b);
	CHECK(cfg_parse_bool("TRUE", &b) == 0 && b);
	CHECK(cfg_parse_bool("on", &b) == 0 && b);
	CHECK(cfg_parse_bool("1", &b) == 0 && b);
	CHECK(cfg_parse_bool("Off", &b) == 0 && !b);
	CHECK(cfg_parse_bool("no", &b) == 0 && !b);
	CHECK(cfg_parse_bool("0", &b) == 0 && !b);
	CHECK(cfg_parse_bool("maybe", &b) == -EINVAL);
	CHECK(cfg_parse_bool("", &b) == -EINVAL);

	CHECK(cfg_parse_uint("17", 1, 20, &u) == 0 && u == 17);
	CHECK(cfg_parse_uint("21", 1, 20, &u) == -EINVAL);
	CHECK(cfg_parse_uint("0", 1, 20, &u) == -EINVAL);
	CHECK(cfg_parse_uint("+3", 1, 20, &u) == -EINVAL);
	CHECK(cfg_parse_uint("3k", 1, 20000, &u) == -EINVAL);
	CHECK(cfg_parse_uint("99999999999999999999999", 0, UINT64_MAX, &u) == -EINVAL);

	CHECK(cfg_parse_rate("10/m", &n, &u) == 0 && n == 10 && u == 60 * S);
	CHECK(cfg_parse_rate("100/1h", &n, &u) == 0 && n == 100 && u == 3600 * S);
	CHECK(cfg_parse_rate("5/30s", &n, &u) == 0 && n == 5 && u == 30 * S);
	CHECK(cfg_parse_rate("0", &n, &u) == 0 && n == 0 && u == 0);
	CHECK(cfg_parse_rate("10", &n, &u) == -EINVAL);
	CHECK(cfg_parse_rate("10/", &n, &u) == -EINVAL);
	CHECK(cfg_parse_rate("10/30", &n, &u) == -EINVAL);   /* unit required */
	CHECK(cfg_parse_rate("0/m", &n, &u) == -EINVAL);
	CHECK(cfg_parse_rate("x/m", &n, &u) == -EINVAL);

	CHECK(cfg_parse_listen("0.0.0.0:19473") == 0);
	CHECK(cfg_parse_listen("localhost:80") == 0);
	CHECK(cfg_parse_listen("[::1]:19473") == 0);
	CHECK(cfg_parse_listen("[::]:1") == 0);
	CHECK(cfg_parse_listen("::1:19473") == -EINVAL);    /* v6 needs brackets */
	CHECK(cfg_parse_listen("0.0.0.0") == -EINVAL);
	CHECK(cfg_parse_listen(":80") == -EINVAL);
	CHECK(cfg_parse_listen("host:0") == -EINVAL);
	CHECK(cfg_parse_listen("host:65536") == -EINVAL);
	CHECK(cfg_parse_listen("[::1]19473") == -EINVAL);
	CHECK(cfg_parse_listen("[]:80") == -EINVAL);
	CHECK(cfg_parse_listen("my host:80") == -EINVAL);
	CHECK(cfg_parse_listen("[::1:80") == -EINVAL);

	char buf[32];
	cfg_format_duration(600 * S, buf, sizeof buf);
	CHECK(!strcmp(buf, "10m"));
	cfg_format_duration(86400 * S, buf, sizeof buf);
	CHECK(!strcmp(buf, "1d"));
	cfg_format_duration(1500000, buf, sizeof buf);
	CHECK(!strcmp(buf, "1500ms"));
	cfg_format_duration(0, buf, sizeof buf);
	CHECK(!strcmp(buf, "0"));
}

static void test_defaults(void)
{
	struct nad_config c;
	char err[512] = "";

	cfg_init(&c);
	CHECK(!strcmp(c.capture.interface, ""));
	CHECK_EQ_INT(c.capture.snaplen, 1024);
	CHECK(c.capture.promiscuous);
	CHECK_EQ_INT(c.flows.max_flows, 65536);
	CHECK(c.flows.tcp_idle_timeout_us == 300 * S);
	CHECK(c.learning.duration_us == 86400 * S);
	CHECK(!strcmp(c.learning.baseline_path, "/var/lib/nad/baseline.csv"));
	CHECK(!strcmp(c.model.path, "/var/lib/nad/model.tflite"));
	CHECK_NEAR(c.detection.threshold[REC_LEVEL_LOW], 50, 0);
	CHECK_NEAR(c.detection.threshold[REC_LEVEL_MEDIUM], 65, 0);
	CHECK_NEAR(c.detection.threshold[REC_LEVEL_HIGH], 80, 0);
	CHECK_NEAR(c.detection.threshold[REC_LEVEL_CRITICAL], 95, 0);
	CHECK(c.detection.incident_window_us == 600 * S);
	CHECK_EQ_INT(c.detection.alert_level, REC_LEVEL_HIGH);
	CHECK(!strcmp(c.output.jsonl_path, "/var/log/nad/anomalies.jsonl"));
	CHECK(!strcmp(c.output.database_path, "/var/lib/nad/nad.db"));
	CHECK(c.output.retention_us == 30 * 86400 * S);
	CHECK(!strcmp(c.metrics.listen, CFG_DEFAULT_LISTEN));
	CHECK(cfg_parse_listen(CFG_DEFAULT_LISTEN) == 0);

	/* an empty file is the defaults, with the inherited alert level resolved */
	struct nad_config e;
	CHECK(cfg_load_string("", "empty.conf", &e, err, sizeof err) == 0);
	CHECK_EQ_INT(e.alerts.min_level, REC_LEVEL_HIGH);
	CHECK(!strcmp(e.source, "empty.conf"));
	e.alerts.min_level = c.alerts.min_level;
	memset(e.source, 0, sizeof e.source);
	CHECK(!memcmp(&e, &c, sizeof c));
}

/* The shipped file documents every default: loading it equals the defaults. */
static void test_shipped_file(void)
{
	const char *src = getenv("NAD_SOURCE");
	char path[1024], err[512] = "";
	struct nad_config c, d;

	if (!src) {
		fprintf(stderr, "NAD_SOURCE not set\n");
		check_failures++;
		return;
	}
	snprintf(path, sizeof path, "%s/deploy/nad.conf", src);
	int r = cfg_load(path, &c, err, sizeof err);
	if (r)
		fprintf(stderr, "%s\n", err);
	CHECK_EQ_INT(r, 0);
	CHECK(cfg_load_string("", "x", &d, err, sizeof err) == 0);
	memset(c.source, 0, sizeof c.source);
	memset(d.source, 0, sizeof d.source);
	CHECK(!memcmp(&c, &d, sizeof c));

	/* and it names every key the table knows: each one set to a non-default
	 * value below must also appear in the shipped file */
	FILE *f = fopen(path, "r");
	char text[16384] = "";
	size_t n = f ? fread(text, 1, sizeof text - 1, f) : 0;
	text[n] = '\0';
	if (f)
		fclose(f);
	static const char *const names[] = {
		"interface =", "filter =", "snaplen =", "promiscuous =", "buffer_mb =",
		"max_flows =", "tcp_half_open_timeout =", "tcp_idle_timeout =", "tcp_closing_timeout =",
		"tcp_closed_timeout =", "udp_idle_timeout =", "dns_idle_timeout =", "icmp_idle_timeout =",
		"other_idle_timeout =", "active_timeout =", "duration =", "min_flows =",
		"baseline_path =", "path =", "int8 =", "seed =", "threshold_low =",
		"threshold_medium =", "threshold_high =", "threshold_critical =",
		"incident_window =", "alert_level =", "batch_size =", "jsonl_path =",
		"database_path =", "retention =", "queue_size =", "listen =", "webhook_url =",
		"webhook_headers =", "alertmanager_url =", "min_level =", "rate_limit =",
		"spool_path =",
	};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (!strstr(text, names[i])) {
			fprintf(stderr, "deploy/nad.conf lacks '%s'\n", names[i]);
			check_failures++;
		}
}

static const char every_key[] =
	"[capture]\n"
	"interface = eth1\n"
	"filter = not port 22\n"
	"snaplen = 256\n"
	"promiscuous = no\n"
	"buffer_mb = 16M\n"
	"[flows]\n"
	"max_flows = 1000\n"
	"tcp_half_open_timeout = 20s\n"
	"tcp_idle_timeout = 2m\n"
	"tcp_closing_timeout = 90s\n"
	"tcp_closed_timeout = 1s\n"
	"udp_idle_timeout = 45s\n"
	"dns_idle_timeout = 3s\n"
	"icmp_idle_timeout = 10s\n"
	"other_idle_timeout = 1h\n"
	"active_timeout = 1h\n"
	"[learning]\n"
	"duration = 90s\n"
	"min_flows = 10\n"
	"baseline_path = /tmp/b.csv\n"
	"[model]\n"
	"path = /tmp/m.tflite\n"
	"int8 = true\n"
	"seed = 7\n"
	"[detection]\n"
	"threshold_low = 40\n"
	"threshold_medium = 60.5\n"
	"threshold_high = 80\n"
	"threshold_critical = 99\n"
	"incident_window = 5m\n"
	"alert_level = medium\n"
	"batch_size = 32\n"
	"[output]\n"
	"jsonl_path = /tmp/a.jsonl\n"
	"database_path =\n"
	"retention = 0\n"
	"queue_size = 128\n"
	"[metrics]\n"
	"listen = [::1]:9999\n"
	"[alerts]\n"
	"webhook_url = https://ntfy.example/nad\n"
	"webhook_headers = Authorization: Bearer abc|X-Priority: 5\n"
	"  Title: nad\n"
	"alertmanager_url = http://127.0.0.1:9093\n"
	"rate_limit = 3/1h\n"
	"spool_path = /tmp/spool\n";

static void test_every_key(void)
{
	struct nad_config c;
	char err[512] = "";
	int r = cfg_load_string(every_key, "all.conf", &c, err, sizeof err);

	if (r)
		fprintf(stderr, "%s\n", err);
	CHECK_EQ_INT(r, 0);
	CHECK(!strcmp(c.capture.interface, "eth1"));
	CHECK(!strcmp(c.capture.filter, "not port 22"));
	CHECK_EQ_INT(c.capture.snaplen, 256);
	CHECK(!c.capture.promiscuous);
	CHECK_EQ_INT(c.capture.buffer_mb, 16);
	CHECK_EQ_INT(c.flows.max_flows, 1000);
	CHECK(c.flows.tcp_half_open_timeout_us == 20 * S);
	CHECK(c.flows.tcp_idle_timeout_us == 120 * S);
	CHECK(c.flows.tcp_closing_timeout_us == 90 * S);
	CHECK(c.flows.dns_idle_timeout_us == 3 * S);
	CHECK(c.flows.other_idle_timeout_us == 3600 * S);
	CHECK(c.flows.tcp_closed_timeout_us == 1 * S);
	CHECK(c.flows.udp_idle_timeout_us == 45 * S);
	CHECK(c.flows.icmp_idle_timeout_us == 10 * S);
	CHECK(c.flows.active_timeout_us == 3600 * S);
	CHECK(c.learning.duration_us == 90 * S);
	CHECK(c.learning.min_flows == 10);
	CHECK(!strcmp(c.learning.baseline_path, "/tmp/b.csv"));
	CHECK(!strcmp(c.model.path, "/tmp/m.tflite"));
	CHECK(c.model.int8);
	CHECK(c.model.seed == 7);
	CHECK_NEAR(c.detection.threshold[REC_LEVEL_LOW], 40, 0);
	CHECK_NEAR(c.detection.threshold[REC_LEVEL_MEDIUM], 60.5, 0);
	CHECK_NEAR(c.detection.threshold[REC_LEVEL_HIGH], 80, 0);
	CHECK_NEAR(c.detection.threshold[REC_LEVEL_CRITICAL], 99, 0);
	CHECK(c.detection.incident_window_us == 300 * S);
	CHECK_EQ_INT(c.detection.alert_level, REC_LEVEL_MEDIUM);
	CHECK_EQ_INT(c.detection.batch_size, 32);
	CHECK(!strcmp(c.output.jsonl_path, "/tmp/a.jsonl"));
	CHECK(!strcmp(c.output.database_path, ""));
	CHECK(c.output.retention_us == 0);
	CHECK_EQ_INT(c.output.queue_size, 128);
	CHECK(!strcmp(c.metrics.listen, "[::1]:9999"));
	CHECK(!strcmp(c.alerts.webhook_url, "https://ntfy.example/nad"));
	CHECK(!strcmp(c.alerts.webhook_headers, "Authorization: Bearer abc|X-Priority: 5|Title: nad"));
	CHECK(!strcmp(c.alerts.alertmanager_url, "http://127.0.0.1:9093"));
	CHECK_EQ_INT(c.alerts.min_level, REC_LEVEL_MEDIUM);   /* inherited */
	CHECK_EQ_INT(c.alerts.rate_limit, 3);
	CHECK(c.alerts.rate_period_us == 3600 * S);
	CHECK(!strcmp(c.alerts.spool_path, "/tmp/spool"));

	CHECK(cfg_load_string("[alerts]\nmin_level = critical\n", "x", &c, err, sizeof err) == 0);
	CHECK_EQ_INT(c.alerts.min_level, REC_LEVEL_CRITICAL);
	/* inline comments (" ;") are stripped by libinih */
	CHECK(cfg_load_string("[flows]\nmax_flows = 500 ; small box\n", "x", &c, err, sizeof err) == 0);
	CHECK_EQ_INT(c.flows.max_flows, 500);
}

/* A bad file: the expected return, and every fragment in the message. */
static void expect_error(const char *text, const char *frag1, const char *frag2, const char *frag3)
{
	struct nad_config c, before;
	char err[512] = "";

	cfg_init(&c);
	before = c;
	int r = cfg_load_string(text, "bad.conf", &c, err, sizeof err);
	CHECK_EQ_INT(r, -EINVAL);
	CHECK(!memcmp(&c, &before, sizeof c));    /* nothing half-loaded */
	const char *frags[] = { frag1, frag2, frag3 };
	for (int i = 0; i < 3; i++)
		if (frags[i] && !strstr(err, frags[i])) {
			fprintf(stderr, "message '%s' lacks '%s'\n", err, frags[i]);
			check_failures++;
		}
}

static void test_errors(void)
{
	expect_error("[capture]\nsnaplen = 256\nsnaplenn = 9\n", "bad.conf:3:", "unknown key 'snaplenn'", "[capture]");
	expect_error("# c\n\n[capturr]\ninterface = x\n", "bad.conf:4:", "unknown section [capturr]", NULL);
	expect_error("interface = x\n", "bad.conf:1:", "outside any [section]", NULL);
	expect_error("[capture]\npromiscuous = maybe\n", "bad.conf:2:", "'promiscuous'", "true or false");
	expect_error("[capture]\nsnaplen = 10\n", "bad.conf:2:", "'10'", "64 to 262144");
	expect_error("[flows]\n\n\ntcp_idle_timeout = 5 minutes\n", "bad.conf:4:", "'tcp_idle_timeout'", "duration");
	expect_error("[flows]\nmax_flows = -5\n", "bad.conf:2:", "'max_flows'", NULL);
	expect_error("[learning]\nduration = 24\nduration = 12h\n", "bad.conf:3:", "set twice", "line 2");
	expect_error("[detection]\nalert_level = urgent\n", "bad.conf:2:", "'alert_level'", "low, medium, high or critical");
	expect_error("[detection]\nthreshold_low = 101\n", "bad.conf:2:", "'threshold_low'", "0 to 100");
	expect_error("[detection]\nthreshold_medium = 40\n", "bad.conf:", "must increase", "threshold_medium");
	expect_error("[output]\nretention = forever\n", "bad.conf:2:", "'retention'", NULL);
	expect_error("[output]\nqueue_size = 1\n", "bad.conf:2:", "'queue_size'", "16 to 1048576");
	expect_error("[metrics]\nlisten = 19473\n", "bad.conf:2:", "'listen'", "ADDRESS:PORT");
	expect_error("[alerts]\nwebhook_url = ftp://x\n", "bad.conf:2:", "'webhook_url'", "http");
	expect_error("[alerts]\nwebhook_headers = no colon here\n", "bad.conf:2:", "'webhook_headers'", NULL);
	expect_error("[alerts]\nrate_limit = lots\n", "bad.conf:2:", "'rate_limit'", "COUNT/PERIOD");
	expect_error("[capture]\nthis line has no equals sign\n", "bad.conf:2:", "key = value", NULL);

	/* a line longer than libinih takes is an error, not silently split */
	char longtext[600];
	snprintf(longtext, sizeof longtext, "[capture]\nfilter = %0300d\n", 1);
	expect_error(longtext, "bad.conf:2:", "longer than", NULL);

	/* a value longer than its field */
	char longif[200];
	snprintf(longif, sizeof longif, "[capture]\ninterface = %0100d\n", 1);
	expect_error(longif, "bad.conf:2:", "'interface'", "longer than");

	/* a missing file names the file and the errno */
	struct nad_config c;
	char err[512];
	CHECK_EQ_INT(cfg_load("/nonexistent/nad.conf", &c, err, sizeof err), -ENOENT);
	CHECK(strstr(err, "'/nonexistent/nad.conf'") != NULL);
}

int main(void)
{
	test_parsers();
	test_defaults();
	test_shipped_file();
	test_every_key();
	test_errors();
	return check_exit();
}
