/* svc_metrics.h - what `nad run` exposes on /metrics, /status and /healthz.
 *
 * The service owns one svc_metrics. Its capture thread updates the cells:
 * per scored flow, anomaly, incident and model batch (a few relaxed atomic
 * operations each), and every 1024 packets or idle wake-up it mirrors the
 * counters that capture, decode, flow table and writer keep themselves
 * (svc_metrics_publish: plain atomic stores). The HTTP thread reads the
 * cells and renders them; nothing here blocks the capture thread on a
 * scrape. docs/metrics.md lists every family.
 */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "capture/capture.h"
#include "flow/flow_meter.h"
#include "metrics/metrics.h"
#include "model/nad_meta.h"
#include "sink/writer.h"

/* The service's state, in the order of service.c's enum svc_state. */
enum svc_metrics_state {
	SVC_METRICS_LEARNING = 0,
	SVC_METRICS_TRAINING,
	SVC_METRICS_DETECTING,
	SVC_METRICS_STATES
};

/* Start-up facts shown on /status; copied. */
struct svc_metrics_info {
	const char *input;           /* capture file or interface */
	bool from_file;
	const char *config;          /* configuration file, "" for built-in defaults */
	const char *database;        /* history database, "" if none */
	const char *listen;          /* the bound address */
	uint32_t max_flows;
};

struct svc_metrics;

/* Declare every family. 0 or -ENOMEM. */
int svc_metrics_new(struct svc_metrics **ret);
/* The registry to serve (and for other modules' collectors). */
struct metrics_registry *svc_metrics_registry(struct svc_metrics *m);
/* Before the server starts. */
void svc_metrics_set_info(struct svc_metrics *m, const struct svc_metrics_info *info);
void svc_metrics_free(struct svc_metrics *m);

/* ---- capture thread ---- */

/* One flow's score (every scored flow, anomalous or not). */
void svc_metrics_scored(struct svc_metrics *m, double score);
/* One anomaly (level >= low); an unknown category counts as "other". */
void svc_metrics_anomaly(struct svc_metrics *m, int level, const char *category);
/* One model batch: from the start of scoring to its first result. */
void svc_metrics_inference(struct svc_metrics *m, double seconds);
/* After an incident event: the incident table's counts by level
 * (incident_table_counts) and the event (enum rec_incident_event). An
 * incident counts once at every level it reaches. */
void svc_metrics_incident(struct svc_metrics *m, int event, const uint64_t by_level[5]);
/* Mirror the counters of capture, flows and writer. */
void svc_metrics_publish(struct svc_metrics *m, const struct cap_stats *cs, const struct flow_meter_stats *ms,
			 const struct writer_stats *ws, uint64_t last_packet_us);
/* State and learning progress (progress 0..1; 1 once detecting). */
void svc_metrics_learning(struct svc_metrics *m, enum svc_metrics_state state, double progress,
			  uint64_t baseline_flows, uint64_t min_flows, uint64_t duration_us, uint64_t elapsed_us);
/* The model in use (path and its metadata); NULL meta: none. Takes a
 * lock that a scrape holds only to copy the labels. */
void svc_metrics_model(struct svc_metrics *m, const char *path, const struct nad_meta *meta);
/* A configuration reload and whether it was taken. */
void svc_metrics_reload(struct svc_metrics *m, bool ok);
/* The loop is alive (every pass); /healthz fails when it stops for long. */
void svc_metrics_heartbeat(struct svc_metrics *m);
/* The capture file has been read to its end (--linger keeps serving). */
void svc_metrics_input_ended(struct svc_metrics *m);

/* ---- HTTP thread (metrics_server_options callbacks; user = m) ---- */

/* The /status JSON document (docs/metrics.md), malloc()ed. */
char *svc_metrics_status_json(void *m);
bool svc_metrics_healthy(void *m, char *why, size_t whylen);
