/* test_metrics.c - the metrics registry, its text exposition and the HTTP endpoint.
 *
 * Exposition: label escaping, number formatting, histograms (cumulative
 * buckets, +Inf, _sum, _count), collectors, refusals. Concurrency: cells
 * updated from several threads while another renders lose nothing.
 * Endpoint (on 127.0.0.1, a port the kernel picks): /metrics, /healthz
 * healthy and not, /status, 404, 405, a second bind of the same port
 * refused with EADDRINUSE, a bad address refused, no descriptor leaked.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "check.h"
#include "metrics/metrics.h"

static char *render(struct metrics_registry *r)
{
	char *text = NULL;
	size_t len = 0;

	CHECK_EQ_INT(metrics_render(r, &text, &len), 0);
	CHECK(text && strlen(text) == len);
	return text;
}

static bool has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; (p = strstr(p, line)) != NULL; p++)
		if ((p == text || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0'))
			return true;
	return false;
}

#define CHECK_LINE(text, line)                                                                   \
	do {                                                                                     \
		if (!has_line(text, line)) {                                                     \
			fprintf(stderr, "%s:%d: line not in exposition: %s\n", __FILE__, __LINE__, line); \
			check_failures++;                                                        \
		}                                                                                \
	} while (0)

static void test_labels(void)
{
	char buf[128], tiny[12];

	CHECK_EQ_INT(metrics_labels(buf, sizeof buf, "path", "C:\\x \"y\"\nz", "k", "", (const char *)NULL), 0);
	CHECK(!strcmp(buf, "path=\"C:\\\\x \\\"y\\\"\\nz\",k=\"\""));
	CHECK_EQ_INT(metrics_labels(buf, sizeof buf, (const char *)NULL), 0);
	CHECK(!strcmp(buf, ""));
	CHECK_EQ_INT(metrics_labels(tiny, sizeof tiny, "sink", "webhook", (const char *)NULL), -ENOSPC);
	CHECK(!strcmp(tiny, ""));
	/* exactly fits: sink="ab" is 9 bytes + NUL */
	CHECK_EQ_INT(metrics_labels(tiny, 10, "sink", "ab", (const char *)NULL), 0);
	CHECK(!strcmp(tiny, "sink=\"ab\""));
	CHECK_EQ_INT(metrics_labels(tiny, 9, "sink", "ab", (const char *)NULL), -ENOSPC);
	CHECK_EQ_INT(metrics_labels(buf, sizeof buf, "bad-key", "v", (const char *)NULL), -EINVAL);
	CHECK_EQ_INT(metrics_labels(buf, sizeof buf, "1x", "v", (const char *)NULL), -EINVAL);
}

static void collect_two(struct metrics_writer *w, void *user)
{
	int *calls = user;

	(*calls)++;
	metrics_family(w, "x_deliveries_total", "counter", "Deliveries\nby sink \\ path.");
	metrics_sample(w, "x_deliveries_total", "sink=\"webhook\"", 3);
	metrics_sample(w, "x_deliveries_total", "sink=\"alertmanager\"", 0);
	metrics_family(w, "x_spool", "gauge", "Spool depth.");
	metrics_sample(w, "x_spool", NULL, 0.25);
}

static void test_exposition(void)
{
	struct metrics_registry *r;
	struct metrics_counter *c1, *c2;
	struct metrics_gauge *g;
	struct metrics_histogram *h;
	static const double bounds[] = { 0.1, 1, 10 };
	static const double unsorted[] = { 1, 1 };
	char *text;
	int calls = 0;

	CHECK_EQ_INT(metrics_registry_new(&r), 0);
	c1 = metrics_counter_new(r, "t_packets_total", "Packets.", NULL);
	c2 = metrics_counter_new(r, "t_errors_total", "Errors by reason.", "reason=\"trunc\"");
	CHECK(metrics_counter_new(r, "t_errors_total", "", "reason=\"bad\"") != NULL);
	g = metrics_gauge_new(r, "t_ratio", "A ratio.", NULL);
	h = metrics_histogram_new(r, "t_seconds", "Durations.", "kind=\"a\"", bounds, 3);
	CHECK(c1 && c2 && g && h);
	/* refusals */
	CHECK(metrics_gauge_new(r, "t_packets_total", "", "x=\"1\"") == NULL); /* type differs */
	CHECK(metrics_counter_new(r, "2bad", "", NULL) == NULL);
	CHECK(metrics_counter_new(r, "bad-name", "", NULL) == NULL);
	CHECK(metrics_histogram_new(r, "t_h2", "", NULL, unsorted, 2) == NULL);
	CHECK_EQ_INT(metrics_registry_add_collector(r, collect_two, &calls), 0);

	metrics_counter_add(c1, 41);
	metrics_counter_add(c1, 1);
	metrics_counter_set(c2, 7);
	metrics_gauge_set(g, 0.1);
	/* bounds are inclusive (le): 0.1 goes in the first bucket, 10 in the third */
	metrics_histogram_observe(h, 0.05);
	metrics_histogram_observe(h, 0.1);
	metrics_histogram_observe(h, 0.5);
	metrics_histogram_observe(h, 10);
	metrics_histogram_observe(h, 11);
	metrics_histogram_observe(h, 0.0 / 0.0); /* NaN: ignored */

	text = render(r);
	CHECK_LINE(text, "# HELP t_packets_total Packets.");
	CHECK_LINE(text, "# TYPE t_packets_total counter");
	CHECK_LINE(text, "t_packets_total 42");
	CHECK_LINE(text, "t_errors_total{reason=\"trunc\"} 7");
	CHECK_LINE(text, "t_errors_total{reason=\"bad\"} 0");
	CHECK_LINE(text, "# TYPE t_ratio gauge");
	CHECK_LINE(text, "t_ratio 0.1");
	CHECK_LINE(text, "# TYPE t_seconds histogram");
	CHECK_LINE(text, "t_seconds_bucket{kind=\"a\",le=\"0.1\"} 2");
	CHECK_LINE(text, "t_seconds_bucket{kind=\"a\",le=\"1\"} 3");
	CHECK_LINE(text, "t_seconds_bucket{kind=\"a\",le=\"10\"} 4");
	CHECK_LINE(text, "t_seconds_bucket{kind=\"a\",le=\"+Inf\"} 5");
	CHECK_LINE(text, "t_seconds_sum{kind=\"a\"} 21.65");
	CHECK_LINE(text, "t_seconds_count{kind=\"a\"} 5");
	/* one HELP per family, even with several series */
	CHECK(strstr(strstr(text, "# HELP t_errors_total") + 1, "# HELP t_errors_total") == NULL);
	/* collector output, help escaped */
	CHECK_EQ_INT(calls, 1);
	CHECK_LINE(text, "# HELP x_deliveries_total Deliveries\\nby sink \\\\ path.");
	CHECK_LINE(text, "x_deliveries_total{sink=\"webhook\"} 3");
	CHECK_LINE(text, "x_deliveries_total{sink=\"alertmanager\"} 0");
	CHECK_LINE(text, "x_spool 0.25");
	/* families come out in declaration order, collectors last */
	CHECK(strstr(text, "t_packets_total") < strstr(text, "t_seconds_bucket"));
	CHECK(strstr(text, "t_seconds_count") < strstr(text, "x_deliveries_total"));
	CHECK(text[strlen(text) - 1] == '\n');
	free(text);
	metrics_registry_free(r);
}

static void sample_values(struct metrics_writer *w, void *user)
{
	(void)user;
	metrics_family(w, "v", "gauge", "values");
	metrics_sample(w, "v", "i=\"1\"", 1.0 / 0.0);
	metrics_sample(w, "v", "i=\"2\"", -1.0 / 0.0);
	metrics_sample(w, "v", "i=\"3\"", 0.0 / 0.0);
	metrics_sample(w, "v", "i=\"4\"", 9007199254740992.0);
	metrics_sample(w, "v", "i=\"5\"", 1e300);
	metrics_sample(w, "v", "i=\"6\"", 1.0 / 3.0);
	metrics_sample(w, "v", "i=\"7\"", -2.5e-7);
	metrics_sample(w, "v", "", 0);
}

static void test_values(void)
{
	struct metrics_registry *r;
	char *text;

	CHECK_EQ_INT(metrics_registry_new(&r), 0);
	CHECK_EQ_INT(metrics_registry_add_collector(r, sample_values, NULL), 0);
	text = render(r);
	CHECK_LINE(text, "v{i=\"1\"} +Inf");
	CHECK_LINE(text, "v{i=\"2\"} -Inf");
	CHECK_LINE(text, "v{i=\"3\"} NaN");
	CHECK_LINE(text, "v{i=\"4\"} 9007199254740992");
	CHECK_LINE(text, "v{i=\"5\"} 1e+300");
	CHECK_LINE(text, "v{i=\"6\"} 0.33333333333333331");
	CHECK_LINE(text, "v{i=\"7\"} -2.5e-07");
	CHECK_LINE(text, "v 0");
	free(text);
	metrics_registry_free(r);
}

/* ---- concurrency ---- */

#define THREADS 4
#define ROUNDS 200000

struct conc {
	struct metrics_counter *c;
	struct metrics_histogram *h;
	atomic_int stop;
	struct metrics_registry *r;
	unsigned renders;
};

static void *bump(void *arg)
{
	struct conc *k = arg;

	for (int i = 0; i < ROUNDS; i++) {
		metrics_counter_add(k->c, 1);
		metrics_histogram_observe(k->h, (i % 3) * 0.5); /* 0, 0.5, 1 */
	}
	return NULL;
}

static void *scrape(void *arg)
{
	struct conc *k = arg;

	while (!k->stop) {
		char *text;
		size_t len;

		if (metrics_render(k->r, &text, &len) == 0) {
			free(text);
			k->renders++;
		}
	}
	return NULL;
}

static void test_concurrency(void)
{
	static const double bounds[] = { 0.25, 0.75 };
	struct conc k = { 0 };
	pthread_t t[THREADS], s;
	char *text, line[128];
	double third = (double)(ROUNDS / 3 + (ROUNDS % 3 > 0)) * THREADS; /* i % 3 == 0 */

	CHECK_EQ_INT(metrics_registry_new(&k.r), 0);
	k.c = metrics_counter_new(k.r, "c_total", "", NULL);
	k.h = metrics_histogram_new(k.r, "h", "", NULL, bounds, 2);
	pthread_create(&s, NULL, scrape, &k);
	for (int i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, bump, &k);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	k.stop = 1;
	pthread_join(s, NULL);
	CHECK(k.renders > 0);
	text = render(k.r);
	snprintf(line, sizeof line, "c_total %d", THREADS * ROUNDS);
	CHECK_LINE(text, line);
	snprintf(line, sizeof line, "h_bucket{le=\"0.25\"} %.0f", third);
	CHECK_LINE(text, line);
	snprintf(line, sizeof line, "h_bucket{le=\"+Inf\"} %d", THREADS * ROUNDS);
	CHECK_LINE(text, line);
	snprintf(line, sizeof line, "h_count %d", THREADS * ROUNDS);
	CHECK_LINE(text, line);
	fprintf(stderr, "concurrency: %d updates while %u renders ran\n", 2 * THREADS * ROUNDS, k.renders);
	free(text);
	metrics_registry_free(k.r);
}

/* ---- the endpoint ---- */

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	if (!d)
		return -1;
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* GET/other method on 127.0.0.1:port; the whole response into buf. */
static int http(int port, const char *method, const char *path, char *buf, size_t len)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	struct timeval tv = { .tv_sec = 5 };
	char req[256];
	size_t got = 0;
	ssize_t n;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		close(fd);
		return -1;
	}
	snprintf(req, sizeof req, "%s %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", method, path);
	if (write(fd, req, strlen(req)) != (ssize_t)strlen(req)) {
		close(fd);
		return -1;
	}
	while (got + 1 < len && (n = read(fd, buf + got, len - 1 - got)) > 0)
		got += (size_t)n;
	buf[got] = '\0';
	close(fd);
	return got > 12 ? (int)strtol(buf + 9, NULL, 10) : -1; /* "HTTP/1.x NNN" */
}

static bool healthy;

static bool health(void *user, char *why, size_t whylen)
{
	(void)user;
	if (!healthy)
		snprintf(why, whylen, "test says no");
	return healthy;
}

static char *status(void *user)
{
	return strdup((const char *)user);
}

static void test_server(void)
{
	struct metrics_registry *r;
	struct metrics_server_options o = { 0 };
	struct metrics_server *srv = NULL, *srv2 = NULL;
	char err[256], buf[65536], addr[64];
	const char *colon;
	int fds_before = count_fds(), port;

	CHECK_EQ_INT(metrics_registry_new(&r), 0);
	metrics_counter_add(metrics_counter_new(r, "s_total", "S.", NULL), 5);
	o.listen = "127.0.0.1:0";
	o.registry = r;
	o.status = status;
	o.health = health;
	o.user = "{\"state\":\"detecting\"}";
	if (metrics_server_start(&o, &srv, err, sizeof err) < 0) {
		fprintf(stderr, "cannot start: %s\n", err);
		check_failures++;
		metrics_registry_free(r);
		return;
	}
	snprintf(addr, sizeof addr, "%s", metrics_server_address(srv));
	colon = strrchr(addr, ':');
	port = colon ? (int)strtol(colon + 1, NULL, 10) : 0;
	CHECK(!strncmp(addr, "127.0.0.1:", 10) && port > 0);
	CHECK_EQ_INT(metrics_server_add_collector(srv, metrics_collect_process, NULL), 0);

	CHECK_EQ_INT(http(port, "GET", "/metrics", buf, sizeof buf), 200);
	CHECK(strstr(buf, "Content-Type: text/plain; version=0.0.4; charset=utf-8") != NULL);
	CHECK(strstr(buf, "\r\n\r\n# HELP s_total S.\n# TYPE s_total counter\ns_total 5\n") != NULL);
	CHECK(strstr(buf, "\nprocess_resident_memory_bytes ") != NULL);
	CHECK(strstr(buf, "\nprocess_open_fds ") != NULL);
	CHECK(strstr(buf, "\nprocess_start_time_seconds ") != NULL);

	healthy = true;
	CHECK_EQ_INT(http(port, "GET", "/healthz", buf, sizeof buf), 200);
	CHECK(strstr(buf, "\r\n\r\nok\n") != NULL);
	healthy = false;
	CHECK_EQ_INT(http(port, "GET", "/healthz", buf, sizeof buf), 503);
	CHECK(strstr(buf, "unhealthy: test says no") != NULL);

	CHECK_EQ_INT(http(port, "GET", "/status", buf, sizeof buf), 200);
	CHECK(strstr(buf, "Content-Type: application/json") != NULL);
	CHECK(strstr(buf, "\r\n\r\n{\"state\":\"detecting\"}") != NULL);

	CHECK_EQ_INT(http(port, "HEAD", "/metrics", buf, sizeof buf), 200);
	CHECK(strstr(buf, "s_total") == NULL);
	CHECK_EQ_INT(http(port, "GET", "/nope", buf, sizeof buf), 404);
	CHECK_EQ_INT(http(port, "POST", "/metrics", buf, sizeof buf), 405);
	CHECK(strstr(buf, "Allow: GET, HEAD") != NULL);

	/* the same port again: refused, with the address and the reason */
	snprintf(buf, sizeof buf, "127.0.0.1:%d", port);
	o.listen = buf;
	CHECK_EQ_INT(metrics_server_start(&o, &srv2, err, sizeof err), -EADDRINUSE);
	CHECK(strstr(err, buf) != NULL && strstr(err, "in use") != NULL);
	o.listen = "no-port-here";
	CHECK_EQ_INT(metrics_server_start(&o, &srv2, err, sizeof err), -EINVAL);
	CHECK(strstr(err, "'no-port-here'") != NULL);
	o.listen = "[::1:19473";
	CHECK_EQ_INT(metrics_server_start(&o, &srv2, err, sizeof err), -EINVAL);

	metrics_server_stop(srv);
	/* stopped: nothing listens, nothing leaked */
	CHECK(http(port, "GET", "/metrics", buf, sizeof buf) < 0);
	CHECK_EQ_INT(count_fds(), fds_before);
	metrics_server_stop(NULL);
	metrics_registry_free(r);
}

int main(void)
{
	test_labels();
	test_exposition();
	test_values();
	test_concurrency();
	test_server();
	return check_exit();
}
