/* alert.h - alerts from `nad run`: a generic JSON webhook and the Alertmanager v2 API.
 *
 * The capture thread hands every incident event to alerter_submit(), which
 * copies it into a bounded single-producer ring and returns at once: no
 * lock, no allocation, no I/O. The alert thread takes events off the ring,
 * decides which alerts they raise (one per incident and level reached at or
 * above min_level, docs/alerts.md), writes each alert durably into the
 * spool directory before its first delivery attempt, and delivers it with
 * libcurl, rate-limited and retried with exponential backoff. An alert
 * leaves the spool only when its receiver answered 2xx, so receiver outages
 * and restarts lose nothing: the spool is replayed at start.
 *
 * All functions but alerter_get_stats() and alerter_collect_metrics() are
 * called from one thread (the service's main thread). Library code does not
 * print: messages worth a log line go to the log callback, from the alert
 * thread.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/config.h"
#include "sink/records.h"

struct alerter;
struct metrics_writer;

typedef void (*alerter_log_fn)(void *user, const char *msg);

struct alerter_options {
	struct cfg_alerts cfg;
	uint32_t queue_size;         /* incident events between capture and the alert thread; 0: 256 */
	uint32_t spool_max;          /* alerts kept in the spool; 0: ALERT_SPOOL_MAX_DEFAULT */
	uint64_t refresh_us;         /* Alertmanager: re-post an active alert this often; 0: 60 s */
	uint64_t lifetime_us;        /* Alertmanager: endsAt of a firing alert, from the post; 0: 5 min */
	uint64_t backoff_max_us;     /* longest wait between retries; 0: 60 s */
	const char *node;            /* this sensor's name (instance label); NULL: the host name */
	alerter_log_fn log;          /* NULL: quiet */
	void *log_user;
};

/* Anything to deliver to? (a webhook or an Alertmanager URL is set) */
bool alerter_wanted(const struct cfg_alerts *cfg);

/* Check the URLs, open (create if missing) the spool directory, replay what
 * it holds and start the thread. The caller blocks its signals around this
 * call if the thread must not receive them. 0, or a negative errno with a
 * message in err naming the key or the path (-EINVAL: a bad URL or header;
 * -ENOTSUP: built without libcurl or jansson; else the spool's errno). */
int alerter_start(const struct alerter_options *opt, struct alerter **ret, char *err, size_t errlen);

/* Hand over one incident event (capture thread). Never blocks, never
 * allocates; events below min_level are ignored at once. When the ring is
 * full the event is dropped and counted (nad_alerts_dropped_total
 * {reason="queue_full"}). Accepts a NULL alerter. */
void alerter_submit(struct alerter *a, const struct rec_incident *inc);

/* The input ended or the service is stopping: incidents closed from now on
 * were closed by force, not by a quiet period, so their Alertmanager alerts
 * are not resolved (nad cannot tell the activity stopped); they expire at
 * their endsAt. Accepts NULL. */
void alerter_input_ended(struct alerter *a);

/* Apply a new [alerts] section (SIGHUP): URLs, headers, min_level and the
 * rate limit. spool_path changes need a restart (-EBUSY, nothing applied,
 * message in err); a bad URL gives -EINVAL and keeps the running one. */
int alerter_reload(struct alerter *a, const struct cfg_alerts *cfg, char *err, size_t errlen);

/* Stop: every queued event is still turned into spooled alerts, deliveries
 * go on for at most grace_us (an attempt in flight is cut at the deadline),
 * and what is left stays in the spool for the next start. Frees a; accepts
 * NULL. */
void alerter_stop(struct alerter *a, uint64_t grace_us);

enum alert_sink { ALERT_SINK_WEBHOOK = 0, ALERT_SINK_ALERTMANAGER, ALERT_SINKS };

struct alerter_sink_stats {
	uint64_t sent;               /* alerts a receiver accepted (2xx) */
	uint64_t failures;           /* failed HTTP attempts (network, timeout, non-2xx), refreshes included */
	uint64_t retries;            /* attempts repeating a failed one */
	uint64_t rejected;           /* refused for good (400, 413, 415, 422): set aside */
	uint64_t delayed;            /* alerts held back by the rate limit */
	uint64_t refreshes;          /* Alertmanager re-posts of active alerts accepted */
	uint64_t depth;              /* alerts waiting in the spool */
};

struct alerter_stats {
	struct alerter_sink_stats sink[ALERT_SINKS];
	uint64_t dropped_queue;      /* events lost: the ring was full */
	uint64_t dropped_spool;      /* alerts lost: the spool was full (oldest dropped) or unwritable */
	uint64_t corrupt;            /* spool files that did not parse, moved aside */
	uint64_t deduplicated;       /* alerts not raised again: same key spooled or delivered before */
};

void alerter_get_stats(const struct alerter *a, struct alerter_stats *ret);

/* A metrics collector (src/metrics/metrics.h): nad_alerts_sent_total,
 * nad_alert_failures_total, nad_alert_retries_total, nad_alerts_rejected_total,
 * nad_alerts_delayed_total (by sink), nad_alert_spool_depth (by sink),
 * nad_alerts_dropped_total (by reason), nad_alert_spool_corrupt_total,
 * nad_alerts_deduplicated_total. Thread-safe; user is the struct alerter,
 * or NULL for the same series at zero (no receiver configured). */
void alerter_collect_metrics(struct metrics_writer *w, void *alerter);

const char *alert_sink_name(enum alert_sink s);
