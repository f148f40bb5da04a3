/* config.h - the service configuration: one INI file, every key with a default.
 *
 * deploy/nad.conf documents every key with its default and must load cleanly.
 * The struct holds no pointers (fixed-size strings), so a reload on SIGHUP can
 * load a new copy beside the running one and swap it in with a plain struct
 * assignment once it has loaded without error.
 *
 * Durations are stored in microseconds, the unit of packet timestamps.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CFG_PATH_MAX 1024
#define CFG_TEXT_MAX 1024         /* BPF filter, URLs, header lists */
#define CFG_IFNAME_MAX 64
#define CFG_LISTEN_MAX 128

/* Default metrics listen address. The Prometheus exporter port registry
 * (9100-9999) has been fully allocated since 2023, so no port in it is free;
 * 19473 lies outside that range and is not a default of any exporter we know. */
#define CFG_DEFAULT_LISTEN "0.0.0.0:19473"
#define CFG_DEFAULT_PATH "/etc/nad/nad.conf"

struct cfg_capture {
	char interface[CFG_IFNAME_MAX];  /* "" = libpcap's default device */
	char filter[CFG_TEXT_MAX];       /* BPF; "" = everything */
	int snaplen;                     /* bytes kept per packet */
	bool promiscuous;
	int buffer_mb;                   /* kernel ring; 0 = libpcap default */
};

/* Timeouts as in flow/flow_table.h (enum flow_timeout), same defaults. */
struct cfg_flows {
	uint32_t max_flows;
	uint64_t tcp_half_open_timeout_us;  /* only SYNs from the initiator so far */
	uint64_t tcp_idle_timeout_us;       /* established */
	uint64_t tcp_closing_timeout_us;    /* one side sent FIN */
	uint64_t tcp_closed_timeout_us;     /* kept after FIN+FIN or RST to catch the last segments */
	uint64_t udp_idle_timeout_us;
	uint64_t dns_idle_timeout_us;       /* UDP on port 53, 5353 or 5355 */
	uint64_t icmp_idle_timeout_us;
	uint64_t other_idle_timeout_us;
	uint64_t active_timeout_us;         /* a long flow emits a partial record this often */
};

struct cfg_learning {
	uint64_t duration_us;
	uint64_t min_flows;              /* learning goes on past duration until this many */
	char baseline_path[CFG_PATH_MAX];
};

struct cfg_model {
	char path[CFG_PATH_MAX];
	bool int8;                       /* the model trained after learning is int8 */
	uint64_t seed;
};

struct cfg_detection {
	/* Lowest score (0..100) of each level; strictly increasing. A flow that
	 * scores below threshold[REC_LEVEL_LOW] is not an anomaly. Indexed by
	 * enum rec_level; threshold[REC_LEVEL_NONE] is always 0. */
	double threshold[5];
	uint64_t incident_window_us;
	int alert_level;                 /* enum rec_level: incidents at or above are alerts */
	uint32_t batch_size;             /* flows per model call */
};

struct cfg_output {
	char jsonl_path[CFG_PATH_MAX];   /* "" = no JSON lines log */
	char database_path[CFG_PATH_MAX];/* "" = no SQLite history */
	uint64_t retention_us;           /* 0 = keep forever */
	uint32_t queue_size;             /* records between scoring and the writer thread */
};

struct cfg_metrics {
	char listen[CFG_LISTEN_MAX];     /* "ADDR:PORT", "[ADDR]:PORT"; "" = no HTTP endpoint */
};

struct cfg_alerts {
	char webhook_url[CFG_TEXT_MAX];
	/* "Name: value" pairs separated by '|' (continuation lines append). */
	char webhook_headers[CFG_TEXT_MAX];
	char alertmanager_url[CFG_TEXT_MAX];
	int min_level;                   /* enum rec_level; defaults to detection.alert_level */
	uint32_t rate_limit;             /* at most this many alerts ... (0 = unlimited) */
	uint64_t rate_period_us;         /* ... per this period */
	char spool_path[CFG_PATH_MAX];
};

struct nad_config {
	char source[CFG_PATH_MAX];       /* file it was loaded from; "" = defaults only */
	struct cfg_capture capture;
	struct cfg_flows flows;
	struct cfg_learning learning;
	struct cfg_model model;
	struct cfg_detection detection;
	struct cfg_output output;
	struct cfg_metrics metrics;
	struct cfg_alerts alerts;
};

/* Fill cfg with every default (deploy/nad.conf lists the same values). */
void cfg_init(struct nad_config *cfg);

/* Load path over the defaults. On failure returns -EINVAL (bad file: an
 * unknown section or key, a bad value, a syntax error) or the negative errno
 * of opening the file, writes a one-line message into err naming the file,
 * the line, the key and what was expected, and leaves *ret_cfg untouched.
 * The caller exits 2 on -EINVAL. */
int cfg_load(const char *path, struct nad_config *ret_cfg, char *err, size_t errlen);

/* Same, from a string (tests, and `nad run --config-string` if ever needed);
 * name is used in messages in place of a file name. */
int cfg_load_string(const char *text, const char *name, struct nad_config *ret_cfg,
		    char *err, size_t errlen);

/* The database a query command (`nad status`, `nad anomalies`) reads:
 * db_opt if given (--db), else [output] database_path of config_opt (-c),
 * else of CFG_DEFAULT_PATH if that file exists, else the built-in default.
 * -EINVAL (bad configuration; message in err) or -ENOENT (configuration
 * history disabled: database_path is empty). */
int cfg_database_for_query(const char *db_opt, const char *config_opt, char *buf, size_t len,
			   char *err, size_t errlen);

/* Value parsers, shared with the command line. Each returns 0 or -EINVAL and
 * writes *ret only on success. */

/* "90", "1.5s", "250ms", "10m", "24h", "30d"; a bare number is seconds;
 * "0" is zero. Up to 100 years. */
int cfg_parse_duration(const char *s, uint64_t *ret_us);
/* "4096", "64k", "8M", "1G" (binary multiples; a bare number is bytes). */
int cfg_parse_size(const char *s, uint64_t *ret_bytes);
/* true/false, yes/no, on/off, 1/0 (any case). */
int cfg_parse_bool(const char *s, bool *ret);
/* A whole number in [min, max]. */
int cfg_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *ret);
/* "N/PERIOD": "10/m", "100/1h", "5/30s"; "0" = unlimited. */
int cfg_parse_rate(const char *s, uint32_t *ret_count, uint64_t *ret_period_us);
/* "HOST:PORT" or "[V6ADDR]:PORT", port 1..65535. */
int cfg_parse_listen(const char *s);

/* Format a duration the way the parser reads it back ("10m", "1.5s"). */
void cfg_format_duration(uint64_t us, char *buf, size_t len);
