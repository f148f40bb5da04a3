/* svc_metrics.c - the metric families of `nad run`, its /status and /healthz. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#ifdef NAD_HAVE_JANSSON
#include <jansson.h>
#endif

#include "decode/decode.h"
#include "flow/flow_table.h"
#include "metrics/svc_metrics.h"
#include "nad_version.h"
#include "sink/records.h"

#ifndef NAD_COMMIT
#define NAD_COMMIT "unknown"
#endif

/* /healthz fails when the capture loop has not turned for this long. A
 * live loop turns at least every second (its interval timer). */
#define STALL_S 60

static const char *const state_names[SVC_METRICS_STATES] = { "learning", "training", "detecting" };

/* The categories score/category.c names (sink/records.h lists them). A
 * fixed set keeps every series declared at start-up; a name added later
 * shows up as "other" until it is listed here. */
static const char *const categories[] = { "scan", "sweep", "flood", "brute_force", "dns_tunnel",
					  "exfiltration", "beaconing", "p2p", "dns", "unknown", "other" };
#define NCAT (sizeof categories / sizeof categories[0])

/* Flow scores 0..100; the default level thresholds (50, 65, 80, 95) are bounds. */
static const double score_bounds[] = { 5, 10, 20, 30, 40, 50, 60, 65, 70, 80, 90, 95, 100 };
/* One model batch (up to [detection] batch_size flows), seconds. */
static const double inference_bounds[] = { 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3,
					   0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1 };

struct model_info {
	bool present;
	char path[1024];
	uint64_t bytes;
	char modified[32];
	unsigned features;
	bool int8;
	char nad_version[32];
	char data_last[40];
	double loaded_at;
};

struct svc_metrics {
	struct metrics_registry *reg;

	struct metrics_counter *packets, *bytes, *drops_kernel, *drops_if;
	struct metrics_counter *decode_errors[DEC_REASON_MAX], *decode_non_ip;
	struct metrics_gauge *last_packet;
	struct metrics_gauge *flows_active, *flows_capacity;
	struct metrics_counter *flows_created, *flows_ended[FLOW_END_MAX], *flows_evicted[FLOW_EVICT_MAX],
		*flows_scored;
	struct metrics_histogram *score, *inference;
	struct metrics_counter *anomalies[5][NCAT];
	struct metrics_counter *incidents[5];
	struct metrics_gauge *incidents_open;
	struct metrics_counter *writer_written, *writer_dropped, *writer_err_jsonl, *writer_err_db, *retention;
	struct metrics_gauge *writer_depth, *writer_capacity;
	struct metrics_gauge *state[SVC_METRICS_STATES], *progress, *baseline_flows, *min_flows, *learn_duration,
		*learn_elapsed;
	struct metrics_gauge *model_loaded;
	struct metrics_counter *reloads_ok, *reloads_failed;
	struct metrics_gauge *input_ended, *build_info;

	/* capture thread only */
	uint64_t prev_by_level[5];
	int64_t open_incidents;

	_Atomic int cur_state;
	_Atomic uint64_t heartbeat_s;
	_Atomic bool ended;
	double started_at;

	/* immutable once the server runs */
	char input[1024], config[1024], database[1024], listen[160];
	bool from_file;

	pthread_mutex_t model_lock;  /* model: set on (re)load, copied by scrapes */
	struct model_info model;
};

static double wall_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void iso_utc(double t, char *buf, size_t len)
{
	time_t s = (time_t)t;
	struct tm tm;

	if (t <= 0 || !gmtime_r(&s, &tm) || !strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, len, "%s", "");
}

/* ---- declaring -------------------------------------------------------------- */

struct decl {
	struct metrics_registry *reg;
	bool failed;
};

static struct metrics_counter *counter(struct decl *d, const char *name, const char *help, const char *labels)
{
	struct metrics_counter *c = metrics_counter_new(d->reg, name, help, labels);

	d->failed |= !c;
	return c;
}

static struct metrics_gauge *gauge(struct decl *d, const char *name, const char *help, const char *labels)
{
	struct metrics_gauge *g = metrics_gauge_new(d->reg, name, help, labels);

	d->failed |= !g;
	return g;
}

static const char *label1(char *buf, size_t len, const char *k, const char *v)
{
	if (metrics_labels(buf, len, k, v, (const char *)NULL) < 0)
		snprintf(buf, len, "%s", "");
	return buf;
}

static void model_collect(struct metrics_writer *w, void *user);

static void declare_capture(struct svc_metrics *m, struct decl *d)
{
	char l[256];

	m->packets = counter(d, "nad_capture_packets_total", "Packets read from the interface or file.", NULL);
	m->bytes = counter(d, "nad_capture_bytes_total", "Bytes of the packets read, as on the wire.", NULL);
	m->drops_kernel = counter(d, "nad_capture_drops_total",
				  "Packets dropped before nad read them (pcap_stats; always 0 for a file).",
				  label1(l, sizeof l, "source", "kernel"));
	m->drops_if = counter(d, "nad_capture_drops_total", "", label1(l, sizeof l, "source", "interface"));
	m->last_packet = gauge(d, "nad_capture_last_packet_timestamp_seconds",
			       "Time stamp of the newest packet read (packet time).", NULL);
	m->input_ended = gauge(d, "nad_capture_input_ended",
			       "1 once a capture file has been read to its end (nad run -r --linger).", NULL);
	for (int r = 0; r < DEC_REASON_MAX; r++) {
		if (r == DEC_OK || r == DEC_NOT_IP)
			continue;
		m->decode_errors[r] = counter(d, "nad_decode_errors_total",
					      "Frames that could not be fully decoded, by reason.",
					      label1(l, sizeof l, "reason", dec_reason_name((enum dec_reason)r)));
	}
	m->decode_non_ip = counter(d, "nad_decode_non_ip_frames_total",
				   "Frames that are neither IP nor ARP (LLDP, STP, ...): counted, not an error.", NULL);
}

static void declare_flows(struct svc_metrics *m, struct decl *d)
{
	char l[256];

	m->flows_active = gauge(d, "nad_flows_active", "Flows in the flow table now.", NULL);
	m->flows_capacity = gauge(d, "nad_flows_capacity", "Size of the flow table ([flows] max_flows).", NULL);
	m->flows_created = counter(d, "nad_flows_created_total", "Flows started.", NULL);
	for (int e = 0; e < FLOW_END_MAX; e++)
		m->flows_ended[e] = counter(d, "nad_flows_ended_total",
					    "Flow records emitted, by reason (active: a partial record of a long flow).",
					    label1(l, sizeof l, "reason", flow_end_name((enum flow_end)e)));
	/* Evicting a finished flow loses nothing but a straggler; evicting
	 * the least recently seen one may split a live flow: the alert
	 * (NadFlowTableFull) needs to tell them apart. */
	for (int s = 0; s < FLOW_EVICT_MAX; s++)
		m->flows_evicted[s] = counter(d, "nad_flows_evicted_total",
					      "Flows ended because the table was full, by what was given up: finished "
					      "(answered DNS, TCP closed and acknowledged or reset), closed (TCP closed, "
					      "last ACK not seen), least_recent (may still have been live).",
					      label1(l, sizeof l, "step", flow_evict_name((enum flow_evict)s)));
	m->flows_scored = counter(d, "nad_flows_scored_total", "Flow records scored by the model.", NULL);
}

static void declare_detection(struct svc_metrics *m, struct decl *d)
{
	char l[256];

	m->score = metrics_histogram_new(d->reg, "nad_flow_score", "Scores (0-100) of every scored flow.", NULL,
					 score_bounds, sizeof score_bounds / sizeof score_bounds[0]);
	m->inference = metrics_histogram_new(d->reg, "nad_inference_duration_seconds",
					     "Time to run the model on one batch of flows, up to its first score.", NULL,
					     inference_bounds, sizeof inference_bounds / sizeof inference_bounds[0]);
	d->failed |= !m->score || !m->inference;
	for (int lv = REC_LEVEL_LOW; lv <= REC_LEVEL_CRITICAL; lv++)
		for (size_t c = 0; c < NCAT; c++) {
			if (metrics_labels(l, sizeof l, "level", rec_level_name((enum rec_level)lv), "category",
					   categories[c], (const char *)NULL) < 0)
				d->failed = true;
			m->anomalies[lv][c] = counter(d, "nad_anomalies_total",
						      "Anomalous flows, by level and category.", l);
		}
	for (int lv = REC_LEVEL_LOW; lv <= REC_LEVEL_CRITICAL; lv++)
		m->incidents[lv] = counter(d, "nad_incidents_total",
					   "Incidents that reached each level (one that escalates counts at each level it reaches).",
					   label1(l, sizeof l, "level", rec_level_name((enum rec_level)lv)));
	m->incidents_open = gauge(d, "nad_incidents_open", "Incidents open now (not yet quiet for the incident window).",
				  NULL);
}

static void declare_service(struct svc_metrics *m, struct decl *d)
{
	char l[256];

	m->writer_written = counter(d, "nad_writer_records_written_total",
				    "Records handed to the JSON lines log and SQLite history.", NULL);
	m->writer_dropped = counter(d, "nad_writer_records_dropped_total",
				    "Records dropped because the writer queue was full.", NULL);
	m->writer_err_jsonl = counter(d, "nad_writer_errors_total", "Records an output could not take, by output.",
				      label1(l, sizeof l, "output", "jsonl"));
	m->writer_err_db = counter(d, "nad_writer_errors_total", "", label1(l, sizeof l, "output", "sqlite"));
	m->retention = counter(d, "nad_writer_retention_deleted_rows_total",
			       "History rows deleted by [output] retention.", NULL);
	m->writer_depth = gauge(d, "nad_writer_queue_records", "Records waiting in the writer queue.", NULL);
	m->writer_capacity = gauge(d, "nad_writer_queue_capacity_records", "Size of the writer queue.", NULL);
	for (int st = 0; st < SVC_METRICS_STATES; st++)
		m->state[st] = gauge(d, "nad_learning_state",
				     "1 for the state the service is in: learning, training or detecting.",
				     label1(l, sizeof l, "state", state_names[st]));
	m->progress = gauge(d, "nad_learning_progress_ratio",
			    "Learning progress from 0 to 1: the slower of time and flows collected (1 once detecting).", NULL);
	m->baseline_flows = gauge(d, "nad_learning_baseline_flows", "Flows in the learning baseline.", NULL);
	m->min_flows = gauge(d, "nad_learning_min_flows", "Flows the baseline needs before training.", NULL);
	m->learn_duration = gauge(d, "nad_learning_duration_seconds", "Length of the learning period.", NULL);
	m->learn_elapsed = gauge(d, "nad_learning_elapsed_seconds",
				 "Learning time so far (packet time; 0 when not learning).", NULL);
	m->model_loaded = gauge(d, "nad_model_loaded_timestamp_seconds",
				"When the model in use was loaded (0: no model yet).", NULL);
	m->reloads_ok = counter(d, "nad_config_reloads_total", "Configuration reloads (SIGHUP), by result.",
				label1(l, sizeof l, "result", "success"));
	m->reloads_failed = counter(d, "nad_config_reloads_total", "", label1(l, sizeof l, "result", "failure"));
	if (metrics_labels(l, sizeof l, "version", NAD_VERSION, "commit", NAD_COMMIT, (const char *)NULL) < 0)
		d->failed = true;
	m->build_info = gauge(d, "nad_build_info", "Version and commit nad was built from (always 1).", l);
}

int svc_metrics_new(struct svc_metrics **ret)
{
	struct svc_metrics *m = calloc(1, sizeof *m);
	struct decl d = { 0 };

	if (!m || metrics_registry_new(&m->reg) < 0) {
		free(m);
		return -ENOMEM;
	}
	pthread_mutex_init(&m->model_lock, NULL);
	d.reg = m->reg;
	declare_service(m, &d);
	declare_capture(m, &d);
	declare_flows(m, &d);
	declare_detection(m, &d);
	if (d.failed || metrics_registry_add_collector(m->reg, model_collect, m) < 0 ||
	    metrics_registry_add_collector(m->reg, metrics_collect_process, NULL) < 0) {
		svc_metrics_free(m);
		return -ENOMEM;
	}
	metrics_gauge_set(m->build_info, 1);
	m->started_at = wall_s();
	atomic_store(&m->heartbeat_s, (uint64_t)m->started_at);
	*ret = m;
	return 0;
}

struct metrics_registry *svc_metrics_registry(struct svc_metrics *m)
{
	return m->reg;
}

void svc_metrics_set_info(struct svc_metrics *m, const struct svc_metrics_info *info)
{
	snprintf(m->input, sizeof m->input, "%s", info->input ? info->input : "");
	snprintf(m->config, sizeof m->config, "%s", info->config ? info->config : "");
	snprintf(m->database, sizeof m->database, "%s", info->database ? info->database : "");
	snprintf(m->listen, sizeof m->listen, "%s", info->listen ? info->listen : "");
	m->from_file = info->from_file;
	metrics_gauge_set(m->flows_capacity, info->max_flows);
}

void svc_metrics_free(struct svc_metrics *m)
{
	if (!m)
		return;
	metrics_registry_free(m->reg);
	pthread_mutex_destroy(&m->model_lock);
	free(m);
}

/* ---- capture thread ----------------------------------------------------------- */

void svc_metrics_scored(struct svc_metrics *m, double score)
{
	metrics_counter_add(m->flows_scored, 1);
	metrics_histogram_observe(m->score, score);
}

void svc_metrics_anomaly(struct svc_metrics *m, int level, const char *category)
{
	size_t c = 0;

	if (level < REC_LEVEL_LOW || level > REC_LEVEL_CRITICAL)
		return;
	while (c < NCAT - 1 && (!category || strcmp(category, categories[c])))
		c++;
	metrics_counter_add(m->anomalies[level][c], 1);
}

void svc_metrics_inference(struct svc_metrics *m, double seconds)
{
	metrics_histogram_observe(m->inference, seconds);
}

void svc_metrics_incident(struct svc_metrics *m, int event, const uint64_t by_level[5])
{
	/* The table counts incidents by their current level: an escalation
	 * moves one from the old level to the new. What grows is what
	 * reached a level. */
	for (int lv = REC_LEVEL_LOW; lv <= REC_LEVEL_CRITICAL; lv++) {
		if (by_level[lv] > m->prev_by_level[lv])
			metrics_counter_add(m->incidents[lv], by_level[lv] - m->prev_by_level[lv]);
		m->prev_by_level[lv] = by_level[lv];
	}
	if (event == REC_INCIDENT_OPENED)
		m->open_incidents++;
	else if (event == REC_INCIDENT_CLOSED && m->open_incidents > 0)
		m->open_incidents--;
	metrics_gauge_set(m->incidents_open, (double)m->open_incidents);
}

void svc_metrics_publish(struct svc_metrics *m, const struct cap_stats *cs, const struct flow_meter_stats *ms,
			 const struct writer_stats *ws, uint64_t last_packet_us)
{
	if (cs) {
		metrics_counter_set(m->packets, cs->packets);
		metrics_counter_set(m->bytes, cs->bytes);
		if (cs->have_kernel) {
			metrics_counter_set(m->drops_kernel, cs->kernel_dropped);
			metrics_counter_set(m->drops_if, cs->if_dropped);
		}
	}
	if (ms) {
		for (int r = 0; r < DEC_REASON_MAX; r++)
			if (m->decode_errors[r])
				metrics_counter_set(m->decode_errors[r], ms->dec.by_reason[r]);
		metrics_counter_set(m->decode_non_ip, ms->dec.by_reason[DEC_NOT_IP]);
		metrics_gauge_set(m->flows_active, (double)ms->flows.active);
		metrics_counter_set(m->flows_created, ms->flows.created);
		for (int e = 0; e < FLOW_END_MAX; e++)
			metrics_counter_set(m->flows_ended[e], ms->flows.ended[e]);
		for (int s = 0; s < FLOW_EVICT_MAX; s++)
			metrics_counter_set(m->flows_evicted[s], ms->flows.evicted[s]);
	}
	if (ws) {
		metrics_counter_set(m->writer_written, ws->written);
		metrics_counter_set(m->writer_dropped, ws->dropped);
		metrics_counter_set(m->writer_err_jsonl, ws->jsonl_errors);
		metrics_counter_set(m->writer_err_db, ws->db_errors);
		metrics_counter_set(m->retention, ws->retained);
		metrics_gauge_set(m->writer_depth, ws->depth);
		metrics_gauge_set(m->writer_capacity, ws->capacity);
	}
	if (last_packet_us)
		metrics_gauge_set(m->last_packet, (double)last_packet_us / 1e6);
}

void svc_metrics_learning(struct svc_metrics *m, enum svc_metrics_state state, double progress,
			  uint64_t baseline_flows, uint64_t min_flows, uint64_t duration_us, uint64_t elapsed_us)
{
	for (int st = 0; st < SVC_METRICS_STATES; st++)
		metrics_gauge_set(m->state[st], st == (int)state);
	atomic_store_explicit(&m->cur_state, (int)state, memory_order_relaxed);
	metrics_gauge_set(m->progress, progress < 0 ? 0 : progress > 1 ? 1 : progress);
	metrics_gauge_set(m->baseline_flows, (double)baseline_flows);
	metrics_gauge_set(m->min_flows, (double)min_flows);
	metrics_gauge_set(m->learn_duration, (double)duration_us / 1e6);
	metrics_gauge_set(m->learn_elapsed, (double)elapsed_us / 1e6);
}

void svc_metrics_model(struct svc_metrics *m, const char *path, const struct nad_meta *meta)
{
	struct model_info mi = { 0 };
	struct stat st;

	if (meta && path) {
		mi.present = true;
		snprintf(mi.path, sizeof mi.path, "%s", path);
		if (stat(path, &st) == 0) {
			mi.bytes = (uint64_t)st.st_size;
			iso_utc((double)st.st_mtime, mi.modified, sizeof mi.modified);
		}
		mi.features = (unsigned)meta->n_features;
		mi.int8 = meta->train.int8;
		snprintf(mi.nad_version, sizeof mi.nad_version, "%s", meta->train.nad_version ? meta->train.nad_version : "");
		snprintf(mi.data_last, sizeof mi.data_last, "%s", meta->train.data_last ? meta->train.data_last : "");
		mi.loaded_at = wall_s();
	}
	pthread_mutex_lock(&m->model_lock);
	m->model = mi;
	pthread_mutex_unlock(&m->model_lock);
	metrics_gauge_set(m->model_loaded, mi.loaded_at);
}

void svc_metrics_reload(struct svc_metrics *m, bool ok)
{
	metrics_counter_add(ok ? m->reloads_ok : m->reloads_failed, 1);
}

void svc_metrics_heartbeat(struct svc_metrics *m)
{
	atomic_store_explicit(&m->heartbeat_s, (uint64_t)wall_s(), memory_order_relaxed);
}

void svc_metrics_input_ended(struct svc_metrics *m)
{
	atomic_store(&m->ended, true);
	metrics_gauge_set(m->input_ended, 1);
}

/* ---- HTTP thread ---------------------------------------------------------------- */

static void model_copy(struct svc_metrics *m, struct model_info *ret)
{
	pthread_mutex_lock(&m->model_lock);
	*ret = m->model;
	pthread_mutex_unlock(&m->model_lock);
}

static void model_collect(struct metrics_writer *w, void *user)
{
	struct model_info mi;
	char labels[2048], bytes[24], features[16];

	model_copy(user, &mi);
	metrics_family(w, "nad_model_info", "gauge",
		       "The model in use (always 1; absent while learning): file, size, modification time, "
		       "inputs, precision, nad version that trained it, newest training flow.");
	if (!mi.present)
		return;
	snprintf(bytes, sizeof bytes, "%" PRIu64, mi.bytes);
	snprintf(features, sizeof features, "%u", mi.features);
	if (metrics_labels(labels, sizeof labels, "path", mi.path, "size_bytes", bytes, "modified", mi.modified,
			   "features", features, "precision", mi.int8 ? "int8" : "float32", "trained_by",
			   mi.nad_version, "data_until", mi.data_last, (const char *)NULL) == 0)
		metrics_sample(w, "nad_model_info", labels, 1);
}

bool svc_metrics_healthy(void *user, char *why, size_t whylen)
{
	struct svc_metrics *m = user;
	double idle = wall_s() - (double)atomic_load_explicit(&m->heartbeat_s, memory_order_relaxed);

	if (atomic_load(&m->ended) || idle < STALL_S)
		return true;
	snprintf(why, whylen, "the capture loop has not run for %.0f s", idle);
	return false;
}

#ifdef NAD_HAVE_JANSSON

static json_t *by_level_json(struct metrics_counter *const cells[5])
{
	json_t *o = json_object();

	for (int lv = REC_LEVEL_LOW; lv <= REC_LEVEL_CRITICAL; lv++)
		json_object_set_new(o, rec_level_name((enum rec_level)lv),
				    json_integer((json_int_t)metrics_counter_get(cells[lv])));
	return o;
}

static json_int_t count(const struct metrics_counter *c)
{
	return (json_int_t)metrics_counter_get(c);
}

static json_int_t gauge_int(const struct metrics_gauge *g)
{
	return (json_int_t)metrics_gauge_get(g);
}

char *svc_metrics_status_json(void *user)
{
	struct svc_metrics *m = user;
	struct model_info mi;
	char started[32], last[32], modified[32];
	int state = atomic_load_explicit(&m->cur_state, memory_order_relaxed);
	json_int_t decode_errors = 0, anomaly_total[5] = { 0 }, ended = 0;
	json_t *root, *model = json_null(), *anom;
	char *text;

	model_copy(m, &mi);
	for (int r = 0; r < DEC_REASON_MAX; r++)
		if (m->decode_errors[r])
			decode_errors += count(m->decode_errors[r]);
	for (int e = 0; e < FLOW_END_MAX; e++)
		ended += count(m->flows_ended[e]);
	anom = json_object();
	for (int lv = REC_LEVEL_LOW; lv <= REC_LEVEL_CRITICAL; lv++) {
		for (size_t c = 0; c < NCAT; c++)
			anomaly_total[lv] += count(m->anomalies[lv][c]);
		json_object_set_new(anom, rec_level_name((enum rec_level)lv), json_integer(anomaly_total[lv]));
	}
	iso_utc(m->started_at, started, sizeof started);
	iso_utc(metrics_gauge_get(m->last_packet), last, sizeof last);
	if (mi.present) {
		snprintf(modified, sizeof modified, "%s", mi.modified);
		model = json_pack("{s:s, s:I, s:s, s:i, s:s, s:s, s:s}", "path", mi.path, "size_bytes",
				  (json_int_t)mi.bytes, "modified", modified, "features", (int)mi.features, "precision",
				  mi.int8 ? "int8" : "float32", "trained_by", mi.nad_version, "data_until", mi.data_last);
	}
	root = json_pack("{s:s, s:s, s:s, s:s, s:f, s:s, s:s, s:s, s:o,"
			 " s:{s:f, s:I, s:I, s:f, s:f},"
			 " s:{s:s, s:s, s:b, s:I, s:I, s:I, s:I, s:s?},"
			 " s:I,"
			 " s:{s:I, s:I, s:I, s:I, s:I},"
			 " s:o, s:o, s:I,"
			 " s:{s:I, s:I, s:I}}",
			 "version", NAD_VERSION, "commit", NAD_COMMIT, "state",
			 state >= 0 && state < SVC_METRICS_STATES ? state_names[state] : "unknown",
			 "started_at", started, "uptime_seconds", wall_s() - m->started_at,
			 "config", m->config, "database", m->database, "listen", m->listen,
			 "model", model,
			 "learning", "progress", metrics_gauge_get(m->progress), "baseline_flows",
			 gauge_int(m->baseline_flows), "min_flows", gauge_int(m->min_flows), "duration_seconds",
			 metrics_gauge_get(m->learn_duration), "elapsed_seconds", metrics_gauge_get(m->learn_elapsed),
			 "capture", "source", m->from_file ? "file" : "interface", "input", m->input, "ended",
			 (int)atomic_load(&m->ended), "packets", count(m->packets), "bytes", count(m->bytes),
			 "kernel_drops", count(m->drops_kernel), "interface_drops", count(m->drops_if),
			 "last_packet_at", *last ? last : NULL,
			 "decode_errors", decode_errors,
			 "flows", "active", gauge_int(m->flows_active), "capacity", gauge_int(m->flows_capacity),
			 "created", count(m->flows_created), "ended", ended, "scored", count(m->flows_scored),
			 "anomalies", anom, "incidents", by_level_json(m->incidents), "incidents_open",
			 gauge_int(m->incidents_open),
			 "writer", "written", count(m->writer_written), "dropped", count(m->writer_dropped), "queue",
			 gauge_int(m->writer_depth));
	if (!root)
		return NULL;
	text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(root);
	return text;
}

#else

char *svc_metrics_status_json(void *user)
{
	(void)user;
	return NULL;
}

#endif
