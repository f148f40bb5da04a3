/* config.c - load the INI configuration with libinih over built-in defaults.
 *
 * One table names every key, where it lives in struct nad_config and how its
 * value is parsed, so the parser, the error messages and the defaults cannot
 * drift apart. libinih as packaged by Debian does not pass line numbers to
 * the handler, so we feed it through our own line reader and count lines
 * there: the handler always runs right after the reader returned its line.
 */
#include "daemon/config.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/listen_addr.h"
#include "sink/records.h"

#ifdef NAD_HAVE_INIH
#include <ini.h>
#endif

#define US_PER_S 1000000ULL

void cfg_init(struct nad_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);

	cfg->capture.snaplen = 1024;
	cfg->capture.promiscuous = true;
	cfg->capture.buffer_mb = 8;

	cfg->flows.max_flows = 65536;
	cfg->flows.tcp_half_open_timeout_us = 30 * US_PER_S;
	cfg->flows.tcp_idle_timeout_us = 300 * US_PER_S;
	cfg->flows.tcp_closing_timeout_us = 120 * US_PER_S;
	cfg->flows.tcp_closed_timeout_us = 10 * US_PER_S;
	cfg->flows.udp_idle_timeout_us = 120 * US_PER_S;
	cfg->flows.dns_idle_timeout_us = 10 * US_PER_S;
	cfg->flows.icmp_idle_timeout_us = 30 * US_PER_S;
	cfg->flows.other_idle_timeout_us = 120 * US_PER_S;
	cfg->flows.active_timeout_us = 1800 * US_PER_S;

	cfg->learning.duration_us = 24 * 3600 * US_PER_S;
	cfg->learning.min_flows = 1000;
	snprintf(cfg->learning.baseline_path, sizeof cfg->learning.baseline_path,
		 "/var/lib/nad/baseline.csv");

	snprintf(cfg->model.path, sizeof cfg->model.path, "/var/lib/nad/model.tflite");
	cfg->model.int8 = false;
	cfg->model.seed = 1;

	cfg->detection.threshold[REC_LEVEL_NONE] = 0;
	cfg->detection.threshold[REC_LEVEL_LOW] = 50;
	cfg->detection.threshold[REC_LEVEL_MEDIUM] = 65;
	cfg->detection.threshold[REC_LEVEL_HIGH] = 80;
	cfg->detection.threshold[REC_LEVEL_CRITICAL] = 95;
	cfg->detection.incident_window_us = 600 * US_PER_S;
	cfg->detection.alert_level = REC_LEVEL_HIGH;
	cfg->detection.batch_size = 64;

	snprintf(cfg->output.jsonl_path, sizeof cfg->output.jsonl_path,
		 "/var/log/nad/anomalies.jsonl");
	snprintf(cfg->output.database_path, sizeof cfg->output.database_path,
		 "/var/lib/nad/nad.db");
	cfg->output.retention_us = 30 * 86400 * US_PER_S;
	cfg->output.queue_size = 1024;

	snprintf(cfg->metrics.listen, sizeof cfg->metrics.listen, "%s", CFG_DEFAULT_LISTEN);

	cfg->alerts.min_level = -1;      /* resolved to detection.alert_level after loading */
	cfg->alerts.rate_limit = 10;
	cfg->alerts.rate_period_us = 60 * US_PER_S;
	snprintf(cfg->alerts.spool_path, sizeof cfg->alerts.spool_path, "/var/lib/nad/spool");
}

/* ---- value parsers ---- */

static int parse_number(const char *s, double *ret, const char **ret_end)
{
	char *end;
	double v;

	if (!s || !(isdigit((unsigned char)*s) || *s == '.'))
		return -EINVAL;   /* no sign, no spaces, no "inf"/"nan" */
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || !isfinite(v))
		return -EINVAL;
	*ret = v;
	*ret_end = end;
	return 0;
}

int cfg_parse_duration(const char *s, uint64_t *ret_us)
{
	static const struct { const char *suffix; double us; } units[] = {
		{ "", 1e6 }, { "us", 1 }, { "ms", 1e3 }, { "s", 1e6 },
		{ "m", 60e6 }, { "h", 3600e6 }, { "d", 86400e6 },
	};
	const char *end;
	double v;

	if (parse_number(s, &v, &end) < 0)
		return -EINVAL;
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
		if (strcmp(end, units[i].suffix))
			continue;
		v *= units[i].us;
		if (v > 100.0 * 365 * 86400e6)
			return -EINVAL;
		*ret_us = (uint64_t)llround(v);
		return 0;
	}
	return -EINVAL;
}

int cfg_parse_size(const char *s, uint64_t *ret_bytes)
{
	static const struct { const char *suffix; double mult; } units[] = {
		{ "", 1 }, { "B", 1 }, { "k", 1024.0 }, { "K", 1024.0 },
		{ "M", 1048576.0 }, { "G", 1073741824.0 },
	};
	const char *end;
	double v;

	if (parse_number(s, &v, &end) < 0)
		return -EINVAL;
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
		if (strcmp(end, units[i].suffix))
			continue;
		v *= units[i].mult;
		if (v > 1e15 || v != floor(v))
			return -EINVAL;
		*ret_bytes = (uint64_t)v;
		return 0;
	}
	return -EINVAL;
}

int cfg_parse_bool(const char *s, bool *ret)
{
	static const char *const yes[] = { "true", "yes", "on", "1" };
	static const char *const no[] = { "false", "no", "off", "0" };

	if (!s)
		return -EINVAL;
	for (size_t i = 0; i < 4; i++) {
		if (!strcasecmp(s, yes[i])) {
			*ret = true;
			return 0;
		}
		if (!strcasecmp(s, no[i])) {
			*ret = false;
			return 0;
		}
	}
	return -EINVAL;
}

int cfg_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *ret)
{
	unsigned long long v;
	char *end;

	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*ret = v;
	return 0;
}

int cfg_parse_rate(const char *s, uint32_t *ret_count, uint64_t *ret_period_us)
{
	char count[32], period[32];
	const char *slash;
	uint64_t n, us;

	if (!s)
		return -EINVAL;
	if (!strcmp(s, "0")) {
		*ret_count = 0;
		*ret_period_us = 0;
		return 0;
	}
	slash = strchr(s, '/');
	if (!slash || (size_t)(slash - s) >= sizeof count || strlen(slash + 1) >= sizeof period)
		return -EINVAL;
	memcpy(count, s, (size_t)(slash - s));
	count[slash - s] = '\0';
	/* "10/m" reads as ten per one minute */
	snprintf(period, sizeof period, "%s%s",
		 isdigit((unsigned char)slash[1]) ? "" : "1", slash + 1);
	if (cfg_parse_uint(count, 1, UINT32_MAX, &n) < 0 || cfg_parse_duration(period, &us) < 0 ||
	    us == 0 || !isalpha((unsigned char)period[strlen(period) - 1]))
		return -EINVAL;
	*ret_count = (uint32_t)n;
	*ret_period_us = us;
	return 0;
}

int cfg_parse_listen(const char *s)
{
	char host[CFG_LISTEN_MAX], port[CFG_LISTEN_MAX];
	uint64_t n;

	/* The split the metrics server binds with, plus what only a
	 * configuration value must meet: an IPv6 address in brackets, no
	 * spaces, a port number in range. */
	if (listen_addr_split(s, host, sizeof host, port, sizeof port) < 0)
		return -EINVAL;
	if (*s != '[' && strchr(host, ':'))
		return -EINVAL;
	for (const char *p = host; *p; p++)
		if (isspace((unsigned char)*p))
			return -EINVAL;
	return cfg_parse_uint(port, 1, 65535, &n);
}

void cfg_format_duration(uint64_t us, char *buf, size_t len)
{
	static const struct { const char *suffix; uint64_t us; } units[] = {
		{ "d", 86400 * US_PER_S }, { "h", 3600 * US_PER_S }, { "m", 60 * US_PER_S },
		{ "s", US_PER_S }, { "ms", 1000 }, { "us", 1 },
	};

	if (us == 0) {
		snprintf(buf, len, "0");
		return;
	}
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
		if (us % units[i].us == 0) {
			snprintf(buf, len, "%llu%s", (unsigned long long)(us / units[i].us),
				 units[i].suffix);
			return;
		}
	}
}

/* ---- the key table ---- */

enum key_type {
	KEY_STRING,      /* char[size] */
	KEY_URL,         /* char[size], "" or http:// / https:// */
	KEY_HEADERS,     /* char[size], '|'-separated "Name: value", repeats append */
	KEY_LISTEN,      /* char[size], "" or ADDR:PORT */
	KEY_BOOL,
	KEY_INT,         /* int in [min, max] */
	KEY_U32,
	KEY_U64,
	KEY_DURATION,    /* uint64_t microseconds in [min, max] */
	KEY_SIZE_MB,     /* int megabytes: a bare number of MB, or a size >= 1M */
	KEY_LEVEL,       /* int enum rec_level, low..critical */
	KEY_SCORE,       /* double 0..100 */
	KEY_RATE,        /* uint32_t count, then uint64_t period right after it */
};

struct key {
	const char *section, *name;
	enum key_type type;
	size_t offset, size;
	uint64_t min, max;
	const char *expect;      /* what a valid value looks like, for messages */
};

#define F(member) offsetof(struct nad_config, member), sizeof(((struct nad_config *)0)->member)
#define HOUR (3600 * US_PER_S)
#define YEARS_100 (100ULL * 365 * 86400 * US_PER_S)

static const struct key keys[] = {
	{ "capture", "interface", KEY_STRING, F(capture.interface), 0, 0, "an interface name" },
	{ "capture", "filter", KEY_STRING, F(capture.filter), 0, 0, "a BPF filter expression" },
	{ "capture", "snaplen", KEY_INT, F(capture.snaplen), 64, 262144, "a whole number of bytes from 64 to 262144" },
	{ "capture", "promiscuous", KEY_BOOL, F(capture.promiscuous), 0, 0, "true or false" },
	{ "capture", "buffer_mb", KEY_SIZE_MB, F(capture.buffer_mb), 0, 4096, "megabytes from 0 to 4096 (e.g. 8 or 8M)" },

	{ "flows", "max_flows", KEY_U32, F(flows.max_flows), 16, 16777216, "a whole number from 16 to 16777216" },
	{ "flows", "tcp_half_open_timeout", KEY_DURATION, F(flows.tcp_half_open_timeout_us), US_PER_S, 24 * HOUR, "a duration from 1s to 24h (e.g. 30s)" },
	{ "flows", "tcp_idle_timeout", KEY_DURATION, F(flows.tcp_idle_timeout_us), US_PER_S, 24 * HOUR, "a duration from 1s to 24h (e.g. 5m)" },
	{ "flows", "tcp_closing_timeout", KEY_DURATION, F(flows.tcp_closing_timeout_us), US_PER_S, 24 * HOUR, "a duration from 1s to 24h (e.g. 2m)" },
	{ "flows", "tcp_closed_timeout", KEY_DURATION, F(flows.tcp_closed_timeout_us), US_PER_S, HOUR, "a duration from 1s to 1h (e.g. 10s)" },
	{ "flows", "udp_idle_timeout", KEY_DURATION, F(flows.udp_idle_timeout_us), US_PER_S, 24 * HOUR, "a duration from 1s to 24h (e.g. 2m)" },
	{ "flows", "dns_idle_timeout", KEY_DURATION, F(flows.dns_idle_timeout_us), US_PER_S, 24 * HOUR, "a duration from 1s to 24h (e.g. 10s)" },
	{ "flows", "icmp_idle_timeout", KEY_DURATION, F(flows.icmp_idle_timeout_us), US_PER_S, 24 * HOUR, "a duration from 1s to 24h (e.g. 30s)" },
	{ "flows", "other_idle_timeout", KEY_DURATION, F(flows.other_idle_timeout_us), US_PER_S, 24 * HOUR, "a duration from 1s to 24h (e.g. 2m)" },
	{ "flows", "active_timeout", KEY_DURATION, F(flows.active_timeout_us), US_PER_S, 7 * 24 * HOUR, "a duration from 1s to 7d (e.g. 30m)" },

	{ "learning", "duration", KEY_DURATION, F(learning.duration_us), 0, 365 * 24 * HOUR, "a duration up to 365d (e.g. 24h)" },
	{ "learning", "min_flows", KEY_U64, F(learning.min_flows), 1, 1000000000, "a whole number from 1 to 1000000000" },
	{ "learning", "baseline_path", KEY_STRING, F(learning.baseline_path), 0, 0, "a file path" },

	{ "model", "path", KEY_STRING, F(model.path), 0, 0, "a file path" },
	{ "model", "int8", KEY_BOOL, F(model.int8), 0, 0, "true or false" },
	{ "model", "seed", KEY_U64, F(model.seed), 0, UINT64_MAX, "a whole number" },

	{ "detection", "threshold_low", KEY_SCORE, F(detection.threshold[REC_LEVEL_LOW]), 0, 100, "a score from 0 to 100" },
	{ "detection", "threshold_medium", KEY_SCORE, F(detection.threshold[REC_LEVEL_MEDIUM]), 0, 100, "a score from 0 to 100" },
	{ "detection", "threshold_high", KEY_SCORE, F(detection.threshold[REC_LEVEL_HIGH]), 0, 100, "a score from 0 to 100" },
	{ "detection", "threshold_critical", KEY_SCORE, F(detection.threshold[REC_LEVEL_CRITICAL]), 0, 100, "a score from 0 to 100" },
	{ "detection", "incident_window", KEY_DURATION, F(detection.incident_window_us), US_PER_S, 7 * 24 * HOUR, "a duration from 1s to 7d (e.g. 10m)" },
	{ "detection", "alert_level", KEY_LEVEL, F(detection.alert_level), 0, 0, "low, medium, high or critical" },
	{ "detection", "batch_size", KEY_U32, F(detection.batch_size), 1, 4096, "a whole number from 1 to 4096" },

	{ "output", "jsonl_path", KEY_STRING, F(output.jsonl_path), 0, 0, "a file path, or nothing to disable" },
	{ "output", "database_path", KEY_STRING, F(output.database_path), 0, 0, "a file path, or nothing to disable" },
	{ "output", "retention", KEY_DURATION, F(output.retention_us), 0, YEARS_100, "a duration (e.g. 30d), or 0 to keep forever" },
	{ "output", "queue_size", KEY_U32, F(output.queue_size), 16, 1048576, "a whole number from 16 to 1048576" },

	{ "metrics", "listen", KEY_LISTEN, F(metrics.listen), 0, 0, "ADDRESS:PORT (e.g. 0.0.0.0:19473 or [::1]:19473), or nothing to disable" },

	{ "alerts", "webhook_url", KEY_URL, F(alerts.webhook_url), 0, 0, "an http:// or https:// URL, or nothing" },
	{ "alerts", "webhook_headers", KEY_HEADERS, F(alerts.webhook_headers), 0, 0, "'Name: value' pairs separated by '|'" },
	{ "alerts", "alertmanager_url", KEY_URL, F(alerts.alertmanager_url), 0, 0, "an http:// or https:// URL, or nothing" },
	{ "alerts", "min_level", KEY_LEVEL, F(alerts.min_level), 1, 0, "low, medium, high, critical, or nothing" },
	{ "alerts", "rate_limit", KEY_RATE, F(alerts.rate_limit), 0, 0, "COUNT/PERIOD (e.g. 10/m or 100/1h), or 0 for no limit" },
	{ "alerts", "spool_path", KEY_STRING, F(alerts.spool_path), 0, 0, "a directory path" },
};
#define NKEYS (sizeof keys / sizeof keys[0])

static bool url_ok(const char *v)
{
	return !*v || ((!strncmp(v, "http://", 7) && v[7]) || (!strncmp(v, "https://", 8) && v[8]));
}

/* Each '|'-separated item must be "Name: value" with a token for a name. */
static bool headers_ok(const char *v)
{
	while (*v) {
		const char *end = strchr(v, '|'), *colon;
		size_t len = end ? (size_t)(end - v) : strlen(v);

		while (len && *v == ' ') {
			v++;
			len--;
		}
		colon = memchr(v, ':', len);
		if (!colon || colon == v)
			return false;
		for (const char *p = v; p < colon; p++)
			if (!isalnum((unsigned char)*p) && !strchr("!#$%&'*+-.^_`~", *p))
				return false;
		if (!end)
			break;
		v = end + 1;
	}
	return true;
}

/* Store one value; returns false if it does not parse. */
static bool set_value(struct nad_config *cfg, const struct key *k, const char *v, bool repeat)
{
	char *field = (char *)cfg + k->offset;
	uint64_t u;
	bool b;

	switch (k->type) {
	case KEY_STRING:
	case KEY_URL:
	case KEY_LISTEN:
		if (strlen(v) >= k->size)
			return false;
		if (k->type == KEY_URL && !url_ok(v))
			return false;
		if (k->type == KEY_LISTEN && *v && cfg_parse_listen(v) < 0)
			return false;
		memcpy(field, v, strlen(v) + 1);
		return true;
	case KEY_HEADERS: {
		size_t have = repeat ? strlen(field) : 0;
		if (!*v && !repeat) {
			field[0] = '\0';
			return true;
		}
		if (!headers_ok(v) || have + 1 + strlen(v) >= k->size)
			return false;
		snprintf(field + have, k->size - have, "%s%s", have ? "|" : "", v);
		return true;
	}
	case KEY_BOOL:
		if (cfg_parse_bool(v, &b) < 0)
			return false;
		*(bool *)field = b;
		return true;
	case KEY_INT:
		if (cfg_parse_uint(v, k->min, k->max, &u) < 0)
			return false;
		*(int *)field = (int)u;
		return true;
	case KEY_U32:
		if (cfg_parse_uint(v, k->min, k->max, &u) < 0)
			return false;
		*(uint32_t *)field = (uint32_t)u;
		return true;
	case KEY_U64:
		if (cfg_parse_uint(v, k->min, k->max, &u) < 0)
			return false;
		*(uint64_t *)field = u;
		return true;
	case KEY_DURATION:
		if (cfg_parse_duration(v, &u) < 0 || u < k->min || u > k->max)
			return false;
		*(uint64_t *)field = u;
		return true;
	case KEY_SIZE_MB:
		if (cfg_parse_uint(v, 0, k->max, &u) == 0) {
			*(int *)field = (int)u;
			return true;
		}
		if (cfg_parse_size(v, &u) < 0 || u % 1048576 || u / 1048576 > k->max)
			return false;
		*(int *)field = (int)(u / 1048576);
		return true;
	case KEY_LEVEL: {
		int l = rec_level_parse(v);
		if (!*v && k->min) {     /* empty: inherit, resolved in check_whole() */
			*(int *)field = -1;
			return true;
		}
		if (l < REC_LEVEL_LOW)
			return false;
		*(int *)field = l;
		return true;
	}
	case KEY_SCORE: {
		const char *end;
		double d;
		if (parse_number(v, &d, &end) < 0 || *end || d > 100)
			return false;
		*(double *)field = d;
		return true;
	}
	case KEY_RATE: {
		uint32_t n;
		if (cfg_parse_rate(v, &n, &u) < 0)
			return false;
		cfg->alerts.rate_limit = n;
		cfg->alerts.rate_period_us = u;
		return true;
	}
	}
	return false;
}

/* ---- loading ---- */

struct load_state {
	struct nad_config cfg;
	const char *name;
	int line;                    /* line the reader returned last */
	int seen_line[NKEYS];        /* where each key was set, for duplicates */
	bool failed;
	char *err;
	size_t errlen;
	/* reader over a FILE or a string */
	FILE *file;
	const char *text;
	size_t long_line;            /* first line too long for libinih, 0 if none */
};

static void fail(struct load_state *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(struct load_state *st, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (st->failed)
		return;      /* the first error is the one worth reading */
	st->failed = true;
	if (!st->err || !st->errlen)
		return;
	if (st->line > 0)
		n = snprintf(st->err, st->errlen, "%s:%d: ", st->name, st->line);
	else
		n = snprintf(st->err, st->errlen, "%s: ", st->name);
	if (n < 0 || (size_t)n >= st->errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(st->err + n, st->errlen - (size_t)n, fmt, ap);
	va_end(ap);
}

#ifdef NAD_HAVE_INIH
/* Longest line libinih can take whole (its buffer holds two more bytes). */
#define LINE_MAX_INIH 197

static char *read_line(char *str, int num, void *stream)
{
	struct load_state *st = stream;
	char line[4096];
	size_t len;

	if (st->file) {
		if (!fgets(line, sizeof line, st->file))
			return NULL;
		len = strlen(line);
		/* swallow the rest of an overlong line so line numbers stay right */
		if (len == sizeof line - 1 && line[len - 1] != '\n') {
			int c;
			while ((c = fgetc(st->file)) != EOF && c != '\n')
				len++;
		}
	} else {
		const char *nl;
		if (!*st->text)
			return NULL;
		nl = strchr(st->text, '\n');
		len = nl ? (size_t)(nl - st->text) + 1 : strlen(st->text);
		snprintf(line, sizeof line, "%.*s", (int)(len < sizeof line ? len : sizeof line - 1), st->text);
		st->text += len;
	}
	st->line++;
	while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		line[--len] = '\0';
	if (len > LINE_MAX_INIH || len + 2 >= (size_t)num) {
		if (!st->long_line)
			st->long_line = (size_t)st->line;
		line[0] = '\0';  /* give libinih a blank line; we report the error */
	}
	snprintf(str, (size_t)num, "%s\n", line);
	return str;
}

static int on_key(void *user, const char *section, const char *name, const char *value)
{
	struct load_state *st = user;
	bool section_known = false;

	for (size_t i = 0; i < NKEYS; i++) {
		const struct key *k = &keys[i];
		bool repeat;

		if (strcmp(section, k->section))
			continue;
		section_known = true;
		if (strcmp(name, k->name))
			continue;
		/* libinih calls again with the same key for a continuation line;
		 * only the header list takes several values */
		repeat = st->seen_line[i] != 0;
		if (repeat && k->type != KEY_HEADERS) {
			fail(st, "key '%s' in [%s] is set twice (first on line %d)", name, section,
			     st->seen_line[i]);
			return 1;
		}
		if (!set_value(&st->cfg, k, value, repeat)) {
			if (k->type <= KEY_LISTEN && strlen(value) >= k->size)
				fail(st, "bad value for '%s' in [%s]: longer than %zu characters",
				     name, section, k->size - 1);
			else
				fail(st, "bad value '%s' for '%s' in [%s]: expected %s", value, name,
				     section, k->expect);
			return 1;
		}
		if (!st->seen_line[i])
			st->seen_line[i] = st->line;
		return 1;
	}
	if (!*section)
		fail(st, "key '%s' is outside any [section]", name);
	else if (!section_known)
		fail(st, "unknown section [%s] (key '%s'): expected capture, flows, learning, "
		     "model, detection, output, metrics or alerts", section, name);
	else
		fail(st, "unknown key '%s' in [%s]", name, section);
	return 1;    /* keep libinih going; we report only the first error */
}
#endif

/* Checks that span several keys. */
static void check_whole(struct load_state *st)
{
	const double *t = st->cfg.detection.threshold;

	for (int l = REC_LEVEL_MEDIUM; l <= REC_LEVEL_CRITICAL; l++) {
		if (t[l] <= t[l - 1]) {
			fail(st, "[detection] thresholds must increase: threshold_%s (%g) is not above "
			     "threshold_%s (%g)", rec_level_name(l), t[l], rec_level_name(l - 1), t[l - 1]);
			return;
		}
	}
	if (st->cfg.alerts.min_level < 0)
		st->cfg.alerts.min_level = st->cfg.detection.alert_level;
}

static int load(struct load_state *st, struct nad_config *ret_cfg)
{
#ifdef NAD_HAVE_INIH
	int r;

	cfg_init(&st->cfg);
	r = ini_parse_stream(read_line, st, on_key, st);
	if (!st->failed && st->long_line) {
		st->line = (int)st->long_line;
		fail(st, "line longer than %d characters (continue a long [alerts] "
		     "webhook_headers on indented lines)", LINE_MAX_INIH);
	}
	if (!st->failed && r > 0) {
		st->line = r;
		fail(st, "expected '[section]' or 'key = value'");
	}
	if (!st->failed && r < 0) {
		st->line = 0;
		fail(st, "cannot parse: out of memory");
	}
	if (!st->failed) {
		st->line = 0;
		check_whole(st);
	}
	if (st->failed) {
		return -EINVAL;
	}
	snprintf(st->cfg.source, sizeof st->cfg.source, "%s", st->name);
	*ret_cfg = st->cfg;
	return 0;
#else
	(void)ret_cfg;
	fail(st, "cannot read configuration: nad was built without libinih");
	return -ENOTSUP;
#endif
}

int cfg_load(const char *path, struct nad_config *ret_cfg, char *err, size_t errlen)
{
	struct load_state *st;
	int r;

	st = calloc(1, sizeof *st);
	if (!st) {
		snprintf(err, errlen, "cannot load '%s': out of memory", path);
		return -ENOMEM;
	}
	st->name = path;
	st->err = err;
	st->errlen = errlen;
	st->file = fopen(path, "r");
	if (!st->file) {
		r = -errno;
		snprintf(err, errlen, "cannot open configuration '%s': %s", path, strerror(errno));
		free(st);
		return r;
	}
	r = load(st, ret_cfg);
	fclose(st->file);
	free(st);
	return r;
}

int cfg_load_string(const char *text, const char *name, struct nad_config *ret_cfg,
		    char *err, size_t errlen)
{
	struct load_state *st;
	int r;

	st = calloc(1, sizeof *st);
	if (!st) {
		snprintf(err, errlen, "cannot load '%s': out of memory", name);
		return -ENOMEM;
	}
	st->name = name;
	st->err = err;
	st->errlen = errlen;
	st->text = text;
	r = load(st, ret_cfg);
	free(st);
	return r;
}

int cfg_database_for_query(const char *db_opt, const char *config_opt, char *buf, size_t len,
			   char *err, size_t errlen)
{
	struct nad_config *cfg;
	const char *path = config_opt;
	int r = 0;

	if (db_opt) {
		snprintf(buf, len, "%s", db_opt);
		return 0;
	}
	cfg = malloc(sizeof *cfg);
	if (!cfg)
		return -ENOMEM;
	cfg_init(cfg);
	/* the installed configuration, when there is one we may read */
	if (!path && access(CFG_DEFAULT_PATH, R_OK) == 0)
		path = CFG_DEFAULT_PATH;
	if (path)
		r = cfg_load(path, cfg, err, errlen);
	if (r == 0 && !cfg->output.database_path[0]) {
		snprintf(err, errlen, "%s: [output] database_path is empty: no history is kept",
			 path ? path : "configuration");
		r = -ENOENT;
	}
	if (r == 0)
		snprintf(buf, len, "%s", cfg->output.database_path);
	free(cfg);
	return r;
}
