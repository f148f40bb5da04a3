/* service.c - `nad run`: capture -> flows -> (baseline | scorer -> incidents) -> writer. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#ifdef NAD_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "alert/alert.h"
#include "capture/capture.h"
#include "daemon/config.h"
#include "daemon/service.h"
#include "decode/decode.h"
#include "flow/flow_csv.h"
#include "flow/flow_meter.h"
#include "metrics/metrics.h"
#include "metrics/svc_metrics.h"
#include "model/train/train.h"
#include "score/detect_route.h"
#include "score/incident.h"
#include "score/score.h"
#include "sink/writer.h"

#define US_PER_S 1000000ull
/* Score batches wait at most this much packet time (or one idle read). */
#define FLUSH_EVERY_US US_PER_S
/* Status and learning progress go to the database this often (wall clock). */
#define STATUS_EVERY_S 10
#define INCIDENT_MAX_OPEN 4096

enum svc_state { SVC_LEARNING, SVC_TRAINING, SVC_DETECTING };
static const char *const state_names[] = { "learning", "training", "detecting" };

/* Traffic mix counted locally and sent as deltas with the status, so a
 * flow costs no queue slot. */
enum { MIX_TCP, MIX_UDP, MIX_ICMP, MIX_ICMPV6, MIX_OTHER, MIX_PROTOS };
enum { PC_NONE, PC_WELL_KNOWN, PC_REGISTERED, PC_DYNAMIC, PC_CLASSES };
static const char *const mix_proto_names[] = { "tcp", "udp", "icmp", "icmpv6", "other" };
static const char *const port_class_names[] = { "none", "well_known", "registered", "dynamic" };

struct mix_cell {
	uint64_t flows, packets, bytes;
};

struct svc {
	const struct service_options *opt;
	struct nad_config cfg;
	enum svc_state state;
	bool from_file;

	struct cap_source *cap;
	int linktype;
	struct flow_meter *meter;
	struct scorer *scorer;          /* NULL until there is a model */
	struct score_options sopt;
	struct incident_table *incidents;
	struct writer *writer;
	struct svc_metrics *metrics;    /* always there; served when server is */
	struct metrics_server *server;  /* NULL: no HTTP endpoint */
	struct alerter *_Atomic alerter;/* NULL: no receiver configured; read by the metrics thread */
	struct timespec batch_start;    /* a scorer call began (inference time) */
	bool batch_timing;              /* ... and has not produced a result yet */

	/* learning */
	struct flow_csv csv;
	FILE *baseline;                 /* rows while learning */
	FILE *pending;                  /* rows while the trainer reads the baseline */
	char pending_path[CFG_PATH_MAX + 16];
	uint64_t baseline_flows;        /* rows in the baseline, earlier runs included */
	uint64_t min_flows;
	uint64_t learn_start_ts;        /* packet time */
	uint64_t learn_started_wall_us;
	bool short_logged;
	bool learned;                   /* this run had a learning period */
	pthread_t trainer;
	atomic_int train_done;          /* 1 once the trainer returned */
	int train_result;

	/* counters */
	uint64_t now_ts;                /* latest packet time */
	uint64_t last_flush_ts;
	uint64_t flows, anomalies, incidents_opened;
	bool write_error_logged;
	struct mix_cell mix[MIX_PROTOS][PC_CLASSES];
	struct timespec last_status, last_watchdog;
	uint64_t watchdog_us;           /* 0: no watchdog */
};

static volatile sig_atomic_t stop_flag, hup_flag;
static struct cap_source *volatile signal_cap;

static void svc_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void svc_log(const char *fmt, ...)
{
	va_list ap;

	fputs("nad run: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void notify(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void notify(const char *fmt, ...)
{
#ifdef NAD_HAVE_SYSTEMD
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	sd_notify(0, buf);
#else
	(void)fmt;
#endif
}

/* SIGALRM ticks wake a live read that libpcap would otherwise keep
 * blocked on a quiet network (the read timeout does not fire without
 * traffic), so reloads, the watchdog and score flushes still happen. */
static void on_signal(int sig)
{
	if (sig == SIGHUP)
		hup_flag = 1;
	else if (sig != SIGALRM)
		stop_flag = 1;
	if (signal_cap)
		cap_break(signal_cap);
}

/* Threads other than the capture thread never see our signals (a writer
 * in fsync must not get EINTR from a tick): block them around
 * pthread_create so the new thread inherits the mask. */
static void block_signals(bool block, sigset_t *saved)
{
	sigset_t set;

	if (!block) {
		pthread_sigmask(SIG_SETMASK, saved, NULL);
		return;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGALRM);
	pthread_sigmask(SIG_BLOCK, &set, saved);
}

static void install_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGALRM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static double mono_s(const struct timespec *since)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - since->tv_sec) + (double)(now.tv_nsec - since->tv_nsec) / 1e9;
}

static uint64_t wall_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * US_PER_S + (uint64_t)ts.tv_nsec / 1000;
}

/* ---- configuration ------------------------------------------------------ */

/* Load the configuration and apply the command line over it. 0 or -errno
 * with a message in err. */
static int load_config(const struct service_options *opt, struct nad_config *ret, char *err, size_t errlen)
{
	struct nad_config c;
	const char *path = opt->config_path;
	int r;

	cfg_init(&c);
	if (!path && access(CFG_DEFAULT_PATH, F_OK) == 0)
		path = CFG_DEFAULT_PATH;
	if (path) {
		r = cfg_load(path, &c, err, errlen);
		if (r < 0)
			return r;
	}
	if (opt->iface)
		snprintf(c.capture.interface, sizeof c.capture.interface, "%s", opt->iface);
	if (opt->model_path)
		snprintf(c.model.path, sizeof c.model.path, "%s", opt->model_path);
	if (opt->have_learn_duration)
		c.learning.duration_us = opt->learn_duration_us;
	if (opt->listen)
		snprintf(c.metrics.listen, sizeof c.metrics.listen, "%s", opt->listen);
	*ret = c;
	return 0;
}

static void score_options_from(const struct nad_config *c, struct score_options *ret)
{
	score_options_default(ret);
	for (int i = REC_LEVEL_LOW; i <= REC_LEVEL_CRITICAL; i++)
		ret->thresholds[i] = c->detection.threshold[i];
	if (c->detection.batch_size)
		ret->batch = c->detection.batch_size;
}

static uint32_t secs_up(uint64_t us)
{
	uint64_t s = (us + US_PER_S - 1) / US_PER_S;

	return s < 1 ? 1 : s > UINT32_MAX ? UINT32_MAX : (uint32_t)s;
}

static void meter_options_from(const struct nad_config *c, struct flow_meter_options *ret)
{
	flow_meter_options_default(ret);
	ret->table.max_flows = c->flows.max_flows;
	ret->table.timeout_s[FLOW_TO_TCP] = secs_up(c->flows.tcp_idle_timeout_us);
	ret->table.timeout_s[FLOW_TO_TCP_CLOSED] = secs_up(c->flows.tcp_closed_timeout_us);
	ret->table.timeout_s[FLOW_TO_UDP] = secs_up(c->flows.udp_idle_timeout_us);
	ret->table.timeout_s[FLOW_TO_ICMP] = secs_up(c->flows.icmp_idle_timeout_us);
	ret->table.timeout_s[FLOW_TO_ACTIVE] = secs_up(c->flows.active_timeout_us);
}

/* ---- paths -------------------------------------------------------------- */

/* Can a file be created or appended at path? Checked before anything is
 * opened so that a bad path stops the service with nothing half-written.
 * 0 or -errno. */
static int check_writable(const char *path)
{
	struct stat st;
	char dir[CFG_PATH_MAX];
	const char *slash;

	if (stat(path, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			return -EISDIR;
		return access(path, W_OK) == 0 ? 0 : -errno;
	}
	if (errno != ENOENT)
		return -errno;
	slash = strrchr(path, '/');
	if (!slash)
		snprintf(dir, sizeof dir, ".");
	else if (slash == path)
		snprintf(dir, sizeof dir, "/");
	else
		snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
	if (stat(dir, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	return access(dir, W_OK | X_OK) == 0 ? 0 : -errno;
}

static bool exists(const char *path)
{
	return access(path, F_OK) == 0;
}

/* ---- records out -------------------------------------------------------- */

/* A file has no line rate to keep up with: rather than drop records when
 * the queue fills, wait for the writer. Live capture never waits. */
static void file_backpressure(struct svc *s)
{
	struct writer_stats ws;

	if (!s->from_file)
		return;
	writer_get_stats(s->writer, &ws);
	if (ws.depth >= ws.capacity / 2)
		writer_flush(s->writer);
}

static void on_incident(const struct rec_incident *inc, void *user)
{
	struct svc *s = user;
	static const char *const ev[] = { "opened", "updated", "closed" };

	uint64_t by_level[5];

	if (inc->event == REC_INCIDENT_OPENED)
		s->incidents_opened++;
	incident_table_counts(s->incidents, by_level);
	svc_metrics_incident(s->metrics, inc->event, by_level);
	file_backpressure(s);
	writer_add_incident(s->writer, inc);
	alerter_submit(s->alerter, inc);
	if (inc->level >= s->cfg.detection.alert_level && inc->event <= REC_INCIDENT_CLOSED)
		svc_log("incident %s %s: %s %s %s (%s), score %.0f, %" PRIu64 " flows: %s", inc->uid, ev[inc->event],
			rec_level_name(inc->level), inc->category, inc->host, inc->role, inc->score, inc->anomalies,
			inc->summary);
}

static void on_scored(const struct flow_record *rec, const struct scored_flow *sf, void *user)
{
	struct svc *s = user;
	struct rec_anomaly a;

	if (s->batch_timing) {
		/* The first result of a batch: the model has run on all of it. */
		svc_metrics_inference(s->metrics, mono_s(&s->batch_start));
		s->batch_timing = false;
	}
	svc_metrics_scored(s->metrics, sf->score);
	if (detect_route_flow(s->incidents, rec, sf, &a) != DETECT_ROUTE_ANOMALY)
		return; /* ordinary, or suspicious: counts toward its incident only */
	svc_metrics_anomaly(s->metrics, sf->level, sf->category);
	s->anomalies++;
	file_backpressure(s);
	writer_add_anomaly(s->writer, &a);
}

/* Every scorer call goes through these two: a call that runs the model
 * reports the time to its first result (on_scored) as inference time. */
static void score_add(struct svc *s, const struct flow_record *rec)
{
	clock_gettime(CLOCK_MONOTONIC, &s->batch_start);
	s->batch_timing = true;
	scorer_add(s->scorer, rec);
	s->batch_timing = false;
}

static void score_flush(struct svc *s)
{
	if (!s->scorer)
		return;
	clock_gettime(CLOCK_MONOTONIC, &s->batch_start);
	s->batch_timing = true;
	scorer_flush(s->scorer);
	s->batch_timing = false;
}

static void count_mix(struct svc *s, const struct flow_record *r)
{
	int p = r->proto == 6 ? MIX_TCP : r->proto == 17 ? MIX_UDP : r->proto == 1 ? MIX_ICMP
		: r->proto == 58 ? MIX_ICMPV6 : MIX_OTHER;
	int c = PC_NONE;
	struct mix_cell *m;

	if ((p == MIX_TCP || p == MIX_UDP) && r->dport)
		c = r->dport < 1024 ? PC_WELL_KNOWN : r->dport < 49152 ? PC_REGISTERED : PC_DYNAMIC;
	m = &s->mix[p][c];
	m->flows++;
	m->packets += r->packets[0] + r->packets[1];
	m->bytes += r->bytes[0] + r->bytes[1];
}

static void on_record(const struct flow_record *rec, void *user)
{
	struct svc *s = user;

	s->flows++;
	count_mix(s, rec);
	if (s->state == SVC_DETECTING) {
		score_add(s, rec);
		return;
	}
	FILE *out = s->state == SVC_TRAINING ? s->pending : s->baseline;
	flow_csv_write_record(&s->csv, rec, out);
	s->baseline_flows++;
	if (ferror(out) && !s->write_error_logged) {
		svc_log("cannot append to baseline '%s': %s", s->state == SVC_TRAINING ? s->pending_path
			: s->cfg.learning.baseline_path, strerror(errno));
		s->write_error_logged = true;
	}
}

/* ARP makes no flow: host discovery by ARP is watched beside the flows,
 * once there is a model to detect with (as every other incident). */
static void on_arp(const struct dec_packet *pkt, void *user)
{
	struct svc *s = user;

	if (s->state == SVC_DETECTING)
		detect_route_arp(s->incidents, pkt);
}

/* ---- status ------------------------------------------------------------- */

static void put_status_u64(struct svc *s, const char *key, uint64_t v)
{
	char buf[32];

	snprintf(buf, sizeof buf, "%" PRIu64, v);
	writer_set_status(s->writer, key, buf);
}

static void learning_progress(const struct svc *s, double *ret_pct)
{
	double t = s->cfg.learning.duration_us
		? (double)(s->now_ts - s->learn_start_ts) / (double)s->cfg.learning.duration_us : 1.0;
	double f = s->min_flows ? (double)s->baseline_flows / (double)s->min_flows : 1.0;
	double p = t < f ? t : f;

	*ret_pct = p > 1 ? 100.0 : p < 0 ? 0.0 : p * 100.0;
}

static void put_learning(struct svc *s)
{
	struct store_learning l = { 0 };

	snprintf(l.state, sizeof l.state, "%s", s->state == SVC_DETECTING ? "detecting" : "learning");
	l.started_at_us = s->learn_started_wall_us;
	l.duration_us = s->cfg.learning.duration_us;
	l.flows = s->baseline_flows;
	l.min_flows = s->min_flows;
	snprintf(l.model_path, sizeof l.model_path, "%s", s->cfg.model.path);
	l.updated_at_us = wall_us();
	writer_set_learning(s->writer, &l);
}

static void put_status(struct svc *s)
{
	struct cap_stats cs;
	struct flow_meter_stats ms;
	char buf[224];

	cap_get_stats(s->cap, &cs);
	flow_meter_get_stats(s->meter, &ms);
	writer_set_status(s->writer, "state", state_names[s->state]);
	writer_set_status(s->writer, "model", s->state == SVC_DETECTING ? s->cfg.model.path : "");
	put_status_u64(s, "packets", cs.packets);
	put_status_u64(s, "capture_drops", cs.have_kernel ? cs.kernel_dropped + cs.if_dropped : 0);
	put_status_u64(s, "flows_active", ms.flows.active);
	put_status_u64(s, "flows", s->flows);
	put_status_u64(s, "anomalies", s->anomalies);
	put_status_u64(s, "incidents", s->incidents_opened);
	put_status_u64(s, "writer_drops", writer_dropped(s->writer));
	if (s->state != SVC_DETECTING) {
		double pct;

		learning_progress(s, &pct);
		if (s->state == SVC_TRAINING)
			snprintf(buf, sizeof buf, "training a model from %" PRIu64 " baseline flows", s->baseline_flows);
		else if (pct >= 100.0 || s->now_ts - s->learn_start_ts >= s->cfg.learning.duration_us)
			snprintf(buf, sizeof buf, "learning: time is up, waiting for flows (%" PRIu64 " of %" PRIu64 ")",
				 s->baseline_flows, s->min_flows);
		else
			snprintf(buf, sizeof buf, "learning %.0f%% (%" PRIu64 " flows)", pct, s->baseline_flows);
	} else {
		snprintf(buf, sizeof buf, "detecting: %" PRIu64 " flows, %" PRIu64 " anomalies, %" PRIu64 " incidents",
			 s->flows, s->anomalies, s->incidents_opened);
	}
	if (s->learned)
		put_learning(s);
	writer_set_status(s->writer, "status", buf);
	notify("STATUS=%s", buf);
	for (int p = 0; p < MIX_PROTOS; p++)
		for (int c = 0; c < PC_CLASSES; c++) {
			struct mix_cell *m = &s->mix[p][c];
			struct store_traffic t = { 0 };

			if (!m->flows)
				continue;
			snprintf(t.proto, sizeof t.proto, "%s", mix_proto_names[p]);
			snprintf(t.port_class, sizeof t.port_class, "%s", port_class_names[c]);
			t.flows = m->flows;
			t.packets = m->packets;
			t.bytes = m->bytes;
			if (writer_add_traffic(s->writer, &t))
				*m = (struct mix_cell){ 0 };
		}
	clock_gettime(CLOCK_MONOTONIC, &s->last_status);
}

/* Mirror what capture, flows and writer count into the metric cells.
 * Called from the loop every 1024 packets or idle wake-up: a few atomic
 * stores; a scrape reads them on its own thread. */
static void publish_metrics(struct svc *s)
{
	struct cap_stats cs;
	struct flow_meter_stats ms;
	struct writer_stats ws;
	double pct = 100.0;
	bool learning = s->state != SVC_DETECTING;

	cap_get_stats(s->cap, &cs);
	flow_meter_get_stats(s->meter, &ms);
	writer_get_stats(s->writer, &ws);
	svc_metrics_publish(s->metrics, &cs, &ms, &ws, s->now_ts);
	if (learning)
		learning_progress(s, &pct);
	svc_metrics_learning(s->metrics, (enum svc_metrics_state)s->state, pct / 100.0,
			     s->baseline_flows, s->min_flows, s->cfg.learning.duration_us,
			     learning && s->learn_start_ts ? s->now_ts - s->learn_start_ts : 0);
	svc_metrics_heartbeat(s->metrics);
}

/* ---- learning ----------------------------------------------------------- */

static uint64_t count_rows(FILE *f)
{
	uint64_t lines = 0;
	int ch;

	rewind(f);
	while ((ch = getc(f)) != EOF)
		lines += ch == '\n';
	return lines;
}

/* Open the baseline for appending: a new file gets the header; an existing
 * one must carry the same header (rows of an earlier run are kept and
 * counted). 0, or -errno / -EPROTO with a message in err. */
static int baseline_open(struct svc *s, char *err, size_t errlen)
{
	const char *path = s->cfg.learning.baseline_path;
	char *want = NULL, *line = NULL;
	size_t wlen = 0, cap = 0;
	FILE *mem, *f;
	int r = 0;

	flow_csv_init(&s->csv);
	mem = open_memstream(&want, &wlen);
	if (!mem)
		return -ENOMEM;
	flow_csv_write_header(&s->csv, mem);
	fclose(mem);
	f = fopen(path, "a+");
	if (!f) {
		r = -errno;
		snprintf(err, errlen, "cannot open baseline '%s': %s", path, strerror(-r));
		free(want);
		return r;
	}
	rewind(f);
	ssize_t n = getline(&line, &cap, f);
	if (n <= 0) {
		fputs(want, f);
	} else if (strcmp(line, want)) {
		snprintf(err, errlen, "baseline '%s' was not written by this version of nad (its first line is "
			 "not the flows CSV header); move it away to start learning afresh", path);
		r = -EPROTO;
	} else {
		s->baseline_flows = count_rows(f) - 1;
	}
	free(line);
	free(want);
	if (r < 0 || fflush(f) != 0) {
		if (!r) {
			r = -errno;
			snprintf(err, errlen, "cannot write baseline '%s': %s", path, strerror(-r));
		}
		fclose(f);
		return r;
	}
	s->baseline = f;
	return 0;
}

static void *trainer_main(void *arg)
{
	struct svc *s = arg;

	s->train_result = s->opt->train(s->cfg.learning.baseline_path, s->cfg.model.path, s->cfg.model.int8,
					s->cfg.model.seed);
	atomic_store(&s->train_done, 1);
	return NULL;
}

/* Rows that ended while the trainer read the baseline join it afterwards. */
static void pending_merge(struct svc *s)
{
	char buf[65536];
	size_t n;

	if (!s->pending)
		return;
	fflush(s->pending);
	rewind(s->pending);
	while ((n = fread(buf, 1, sizeof buf, s->pending)) > 0)
		if (fwrite(buf, 1, n, s->baseline) != n)
			break;
	if (fflush(s->baseline) != 0)
		svc_log("cannot append to baseline '%s': %s", s->cfg.learning.baseline_path, strerror(errno));
	fclose(s->pending);
	s->pending = NULL;
	unlink(s->pending_path);
}

static void start_training(struct svc *s)
{
	int r;

	if (fflush(s->baseline) != 0 || fsync(fileno(s->baseline)) != 0) {
		svc_log("cannot write baseline '%s': %s; still learning", s->cfg.learning.baseline_path,
			strerror(errno));
		return;
	}
	snprintf(s->pending_path, sizeof s->pending_path, "%s.pending", s->cfg.learning.baseline_path);
	s->pending = fopen(s->pending_path, "w+");
	if (!s->pending) {
		svc_log("cannot create '%s': %s; still learning", s->pending_path, strerror(errno));
		return;
	}
	svc_log("learning done: %" PRIu64 " baseline flows in '%s'; training model '%s'", s->baseline_flows,
		s->cfg.learning.baseline_path, s->cfg.model.path);
	atomic_store(&s->train_done, 0);
	s->state = SVC_TRAINING;
	sigset_t saved;

	block_signals(true, &saved);
	r = pthread_create(&s->trainer, NULL, trainer_main, s);
	block_signals(false, &saved);
	if (r) {
		svc_log("cannot start the training thread: %s; still learning", strerror(r));
		s->state = SVC_LEARNING;
		pending_merge(s);
		return;
	}
	put_status(s);
	/* A file has no real time to keep up with, and reading on would put
	 * the rest of it into the baseline: wait for the model. */
	if (s->from_file)
		while (!atomic_load(&s->train_done) && !stop_flag) {
			svc_metrics_heartbeat(s->metrics);
			usleep(20000);
		}
}

static int load_scorer(struct svc *s, const char *path, const struct score_options *so, struct scorer **ret)
{
	char err[1024];
	int r = scorer_new(path, so, on_scored, s, ret, err, sizeof err);

	if (r < 0)
		svc_log("%s", err);
	else
		svc_metrics_model(s->metrics, path, scorer_meta(*ret));
	return r;
}

static void finish_training(struct svc *s)
{
	struct scorer *sc = NULL;

	pthread_join(s->trainer, NULL);
	pending_merge(s);
	if (s->train_result == 0 && load_scorer(s, s->cfg.model.path, &s->sopt, &sc) == 0) {
		s->scorer = sc;
		s->state = SVC_DETECTING;
		fclose(s->baseline);
		s->baseline = NULL;
		svc_log("model '%s' trained and loaded; detecting", s->cfg.model.path);
	} else {
		/* Try again after another learning period's worth of traffic. */
		s->state = SVC_LEARNING;
		s->learn_start_ts = s->now_ts;
		svc_log("training model '%s' failed; learning goes on, next attempt in %.0f s", s->cfg.model.path,
			(double)s->cfg.learning.duration_us / 1e6);
	}
	put_status(s);
}

static void check_learning(struct svc *s)
{
	if (s->state == SVC_TRAINING) {
		if (atomic_load(&s->train_done))
			finish_training(s);
		return;
	}
	if (s->state != SVC_LEARNING || s->now_ts - s->learn_start_ts < s->cfg.learning.duration_us)
		return;
	if (s->baseline_flows < s->min_flows) {
		if (!s->short_logged)
			svc_log("learning period over but only %" PRIu64 " of %" PRIu64 " flows collected; learning goes on",
				s->baseline_flows, s->min_flows);
		s->short_logged = true;
		return;
	}
	start_training(s);
	if (s->state == SVC_TRAINING && atomic_load(&s->train_done))
		finish_training(s);
}

/* ---- alerts ------------------------------------------------------------- */

/* How long a stop waits for alerts still being delivered; the rest stays
 * in the spool for the next start. */
#define ALERT_GRACE_US (5 * US_PER_S)

static void alert_log(void *user, const char *msg)
{
	(void)user;
	fprintf(stderr, "nad run: %s\n", msg);   /* one call: lines from two threads do not mix */
}

static void collect_alerts(struct metrics_writer *w, void *user)
{
	struct svc *s = user;

	alerter_collect_metrics(w, atomic_load(&s->alerter));
}

/* Start alert delivery if a receiver is configured. 0 or -errno with a
 * message in err (bad URL, unusable spool). */
static int start_alerts(struct svc *s, const struct cfg_alerts *cfg, char *err, size_t errlen)
{
	struct alerter_options ao = { .cfg = *cfg, .log = alert_log };
	struct alerter *a = NULL;
	sigset_t saved;
	int r;

	if (!alerter_wanted(cfg))
		return 0;
	block_signals(true, &saved);
	r = alerter_start(&ao, &a, err, errlen);
	block_signals(false, &saved);
	if (r == 0)
		atomic_store(&s->alerter, a);
	return r;
}

/* SIGHUP: new receivers, headers, level or rate; a first receiver starts
 * delivery. Problems are logged and keep what runs. */
static void reload_alerts(struct svc *s, struct nad_config *c)
{
	struct alerter *a = atomic_load(&s->alerter);
	char err[1024];

	if (!a && start_alerts(s, &c->alerts, err, sizeof err) < 0) {
		svc_log("reload: cannot start alerts: %s", err);
		c->alerts = s->cfg.alerts;
	} else if (a && alerter_reload(a, &c->alerts, err, sizeof err) < 0) {
		svc_log("reload: %s; keeping the running [alerts]", err);
		c->alerts = s->cfg.alerts;
	}
}

/* ---- reload ------------------------------------------------------------- */

static void reload(struct svc *s)
{
	struct nad_config c;
	struct score_options so;
	struct scorer *sc = NULL;
	char err[1024];

	writer_reopen(s->writer);
	if (load_config(s->opt, &c, err, sizeof err) < 0) {
		svc_log("reload: %s; keeping the running configuration", err);
		svc_metrics_reload(s->metrics, false);
		return;
	}
	if (memcmp(&c.capture, &s->cfg.capture, sizeof c.capture) || memcmp(&c.flows, &s->cfg.flows, sizeof c.flows)
	    || memcmp(&c.output, &s->cfg.output, sizeof c.output) || memcmp(&c.metrics, &s->cfg.metrics, sizeof c.metrics))
		svc_log("reload: [capture], [flows], [output] and [metrics] changes take effect at the next start");
	c.capture = s->cfg.capture;
	c.flows = s->cfg.flows;
	c.output = s->cfg.output;
	c.metrics = s->cfg.metrics;
	if (s->state == SVC_TRAINING) {
		/* The trainer reads model and learning settings: keep them. */
		c.model = s->cfg.model;
		c.learning = s->cfg.learning;
	}
	score_options_from(&c, &so);
	if (s->state == SVC_DETECTING || (s->state == SVC_LEARNING && exists(c.model.path))) {
		if (load_scorer(s, c.model.path, &so, &sc) < 0) {
			svc_log("reload: keeping the running configuration and model");
			svc_metrics_reload(s->metrics, false);
			return;
		}
		score_flush(s);
		scorer_free(s->scorer);
		s->scorer = sc;
		if (s->state == SVC_LEARNING) {
			s->state = SVC_DETECTING;
			if (s->baseline)
				fclose(s->baseline);
			s->baseline = NULL;
		}
	}
	reload_alerts(s, &c);
	s->cfg = c;
	s->sopt = so;
	s->min_flows = c.learning.min_flows > TRAIN_MIN_ROWS ? c.learning.min_flows : TRAIN_MIN_ROWS;
	svc_metrics_reload(s->metrics, true);
	svc_log("reloaded configuration%s%s%s", s->state == SVC_DETECTING ? " and model '" : "",
		s->state == SVC_DETECTING ? s->cfg.model.path : "", s->state == SVC_DETECTING ? "'" : "");
	put_status(s);
}

/* ---- the loop ----------------------------------------------------------- */

static void periodic(struct svc *s)
{
	if (s->watchdog_us && mono_s(&s->last_watchdog) * 1e6 >= (double)s->watchdog_us / 2) {
		notify("WATCHDOG=1");
		clock_gettime(CLOCK_MONOTONIC, &s->last_watchdog);
	}
	if (mono_s(&s->last_status) >= STATUS_EVERY_S)
		put_status(s);
	publish_metrics(s);
}

static void flush_scores(struct svc *s)
{
	score_flush(s);
	incident_table_tick(s->incidents, s->now_ts);
	s->last_flush_ts = s->now_ts;
}

static int main_loop(struct svc *s)
{
	struct cap_packet p;
	unsigned n = 0;
	int r;

	for (;;) {
		if (stop_flag)
			return 0;
		if (hup_flag) {
			hup_flag = 0;
			reload(s);
		}
		r = cap_next(s->cap, &p);
		if (r == CAP_PACKET) {
			if (!s->learn_start_ts)
				s->learn_start_ts = p.ts_us;
			if (p.ts_us > s->now_ts)
				s->now_ts = p.ts_us;
			flow_meter_feed(s->meter, &p, s->linktype);
			if (s->now_ts - s->last_flush_ts >= FLUSH_EVERY_US)
				flush_scores(s);
			if (s->state != SVC_DETECTING)
				check_learning(s);
			if (++n % 1024)
				continue;
		} else if (r == CAP_IDLE || (r == CAP_END && !stop_flag && !s->from_file)) {
			/* idle, or woken by a tick or SIGHUP */
			score_flush(s);
			if (s->state == SVC_TRAINING)
				check_learning(s);
		} else if (r == CAP_END) {
			return 0;
		} else {
			svc_log("%s", cap_error(s->cap));
			return s->from_file ? SERVICE_EXIT_USAGE : SERVICE_EXIT_FAILURE;
		}
		periodic(s);
	}
}

/* ---- start and stop ----------------------------------------------------- */

/* Remove outputs that writer_start created before failing. */
static void unlink_new(const char *path, bool existed)
{
	char side[CFG_PATH_MAX + 8];

	if (!*path || existed)
		return;
	unlink(path);
	snprintf(side, sizeof side, "%s-wal", path);
	unlink(side);
	snprintf(side, sizeof side, "%s-shm", path);
	unlink(side);
}

static int check_paths(struct svc *s, bool learning)
{
	struct {
		const char *what, *path;
	} paths[] = {
		{ "log", s->cfg.output.jsonl_path },
		{ "database", s->cfg.output.database_path },
		{ "baseline", learning ? s->cfg.learning.baseline_path : "" },
		{ "model", learning ? s->cfg.model.path : "" },
	};

	for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
		int r;

		if (!*paths[i].path)
			continue;
		r = check_writable(paths[i].path);
		if (r < 0) {
			svc_log("cannot write %s '%s': %s", paths[i].what, paths[i].path, strerror(-r));
			return SERVICE_EXIT_USAGE;
		}
	}
	return 0;
}

/* The HTTP endpoint, before anything is written: a taken port is exit 2
 * with nothing half-done. A replay (-r) serves only when asked (--listen
 * or --linger), so it can run beside the service on the same box. */
static int start_server(struct svc *s)
{
	struct metrics_server_options mo = { 0 };
	struct svc_metrics_info info = { 0 };
	const char *listen = s->cfg.metrics.listen;
	char err[512];
	sigset_t saved;
	int r;

	if (s->opt->file && !s->opt->listen && !s->opt->linger)
		return 0;
	info.input = s->opt->file ? s->opt->file : *s->cfg.capture.interface ? s->cfg.capture.interface : "default device";
	info.from_file = s->opt->file != NULL;
	info.config = s->cfg.source;
	info.database = s->cfg.output.database_path;
	info.max_flows = s->cfg.flows.max_flows;
	info.listen = listen;
	/* Before the server thread exists: /status reads these unlocked. */
	svc_metrics_set_info(s->metrics, &info);
	if (!*listen) {
		if (s->opt->linger)
			svc_log("--linger without an address to serve ([metrics] listen is empty, no --listen)");
		return 0;
	}
	mo.listen = listen;
	mo.registry = svc_metrics_registry(s->metrics);
	mo.status = svc_metrics_status_json;
	mo.health = svc_metrics_healthy;
	mo.user = s->metrics;
	block_signals(true, &saved);
	r = metrics_server_start(&mo, &s->server, err, sizeof err);
	block_signals(false, &saved);
	if (r < 0) {
		svc_log("%s (%s)", err, s->opt->listen ? "--listen" : "[metrics] listen");
		return SERVICE_EXIT_USAGE;
	}
	svc_log("serving /metrics, /status and /healthz on http://%s", metrics_server_address(s->server));
	return 0;
}

static int start(struct svc *s)
{
	struct cap_options co = { 0 };
	struct flow_meter_options mo;
	struct incident_options io = { 0 };
	struct writer_options wo = { 0 };
	char err[1024];
	bool learning, jsonl_existed, db_existed;
	int r;

	r = load_config(s->opt, &s->cfg, err, sizeof err);
	if (r < 0) {
		svc_log("%s", err);
		return SERVICE_EXIT_USAGE;
	}
	if (svc_metrics_new(&s->metrics) < 0) {
		svc_log("out of memory");
		return SERVICE_EXIT_FAILURE;
	}
	score_options_from(&s->cfg, &s->sopt);
	s->min_flows = s->cfg.learning.min_flows > TRAIN_MIN_ROWS ? s->cfg.learning.min_flows : TRAIN_MIN_ROWS;
	if (s->opt->model_path && !exists(s->opt->model_path)) {
		svc_log("cannot open model '%s': %s", s->opt->model_path, strerror(errno));
		return SERVICE_EXIT_USAGE;
	}
	learning = !exists(s->cfg.model.path);
	if (learning && errno != ENOENT) {
		svc_log("cannot open model '%s': %s", s->cfg.model.path, strerror(errno));
		return SERVICE_EXIT_USAGE;
	}
	if (learning && !s->opt->train) {
		svc_log("no model '%s' and no trainer", s->cfg.model.path);
		return SERVICE_EXIT_USAGE;
	}
	if (!learning && load_scorer(s, s->cfg.model.path, &s->sopt, &s->scorer) < 0)
		return SERVICE_EXIT_USAGE;
	r = check_paths(s, learning);
	if (r)
		return r;
	/* The endpoint first: a taken port stops everything before a thread
	 * or a spool exists. Alert metrics read s->alerter atomically, so
	 * they are served (as zeros) before delivery starts. */
	metrics_registry_add_collector(svc_metrics_registry(s->metrics), collect_alerts, s);
	r = start_server(s);
	if (r)
		return r;
	if (start_alerts(s, &s->cfg.alerts, err, sizeof err) < 0) {
		svc_log("cannot start alerts: %s", err);
		return SERVICE_EXIT_USAGE;
	}

	co.file = s->opt->file;
	co.iface = s->opt->file ? NULL : (*s->cfg.capture.interface ? s->cfg.capture.interface : NULL);
	co.bpf = *s->cfg.capture.filter ? s->cfg.capture.filter : NULL;
	co.snaplen = s->cfg.capture.snaplen;
	co.promisc = s->cfg.capture.promiscuous;
	co.buffer_mb = s->cfg.capture.buffer_mb;
	r = cap_open(&co, &s->cap, err, sizeof err);
	if (r < 0) {
		svc_log("%s", err);
		return SERVICE_EXIT_USAGE;
	}
	s->from_file = cap_is_file(s->cap);
	s->linktype = cap_linktype(s->cap);
	if (!dec_link_supported(s->linktype)) {
		svc_log("cannot capture from '%s': link type %s (%d) is not supported",
			co.file ? co.file : co.iface ? co.iface : "default device", cap_linktype_name(s->cap), s->linktype);
		return SERVICE_EXIT_USAGE;
	}

	if (learning) {
		r = baseline_open(s, err, sizeof err);
		if (r < 0) {
			svc_log("%s", err);
			return SERVICE_EXIT_USAGE;
		}
	}
	jsonl_existed = exists(s->cfg.output.jsonl_path);
	db_existed = exists(s->cfg.output.database_path);
	wo.jsonl_path = s->cfg.output.jsonl_path;
	wo.database_path = s->cfg.output.database_path;
	wo.queue_size = s->cfg.output.queue_size;
	wo.retention_us = s->cfg.output.retention_us;
	sigset_t saved;

	block_signals(true, &saved);
	r = writer_start(&wo, &s->writer, err, sizeof err);
	block_signals(false, &saved);
	if (r < 0) {
		svc_log("%s", err);
		unlink_new(s->cfg.output.jsonl_path, jsonl_existed);
		unlink_new(s->cfg.output.database_path, db_existed);
		return SERVICE_EXIT_USAGE;
	}

	meter_options_from(&s->cfg, &mo);
	mo.on_record = on_record;
	mo.on_arp = on_arp;
	mo.user = s;
	io.window_us = s->cfg.detection.incident_window_us;
	io.max_open = INCIDENT_MAX_OPEN;
	memcpy(io.level_thresholds, s->sopt.thresholds, sizeof io.level_thresholds);
	s->incidents = incident_table_new(&io, on_incident, s);
	r = flow_meter_new(&mo, &s->meter);
	if (r < 0 || !s->incidents) {
		svc_log("cannot create the flow table (%u flows): %s", mo.table.max_flows, strerror(r < 0 ? -r : ENOMEM));
		return SERVICE_EXIT_FAILURE;
	}
	s->state = learning ? SVC_LEARNING : SVC_DETECTING;
	s->learned = learning;
	s->learn_started_wall_us = wall_us();
	return 0;
}

/* -r FILE --linger: the file is done; flows, scores, incidents and records
 * are flushed as at a stop, then the endpoints (and whatever other threads
 * deliver) keep running until SIGTERM, so a finished run can be scraped. */
static void linger(struct svc *s)
{
	flow_meter_flush(s->meter);
	score_flush(s);
	alerter_input_ended(s->alerter);
	incident_table_close_all(s->incidents);
	put_status(s);
	writer_flush(s->writer);
	svc_metrics_input_ended(s->metrics);
	publish_metrics(s);
	svc_log("end of '%s'; --linger: serving until SIGTERM", s->opt->file);
	while (!stop_flag) {
		if (hup_flag) {
			hup_flag = 0;
			reload(s);
		}
		usleep(200000); /* a signal ends it early */
		publish_metrics(s);
	}
}

static int stop(struct svc *s, int rc)
{
	/* First, so that no scrape reads what is torn down below. */
	metrics_server_stop(s->server);
	s->server = NULL;
	if (s->state == SVC_TRAINING) {
		svc_log("waiting for the training thread to finish");
		pthread_join(s->trainer, NULL);
		pending_merge(s);
		s->state = SVC_LEARNING;
	}
	if (s->meter) {
		struct flow_meter_stats ms;

		flow_meter_get_stats(s->meter, &ms);
		if (s->writer)
			svc_log("stopping: flushing %" PRIu64 " active flows", ms.flows.active);
		flow_meter_flush(s->meter);
	}
	score_flush(s);
	alerter_input_ended(s->alerter);
	if (s->incidents)
		incident_table_close_all(s->incidents);
	if (s->writer) {
		struct writer_stats ws;

		if (s->meter)
			put_status(s);
		writer_set_status(s->writer, "state", "stopped");
		writer_flush(s->writer);
		writer_get_stats(s->writer, &ws);
		if (writer_stop(s->writer) < 0) {
			svc_log("writing records failed; some were lost");
			rc = rc ? rc : SERVICE_EXIT_FAILURE;
		}
		svc_log("stopped: %" PRIu64 " flows, %" PRIu64 " anomalies, %" PRIu64 " incidents, %" PRIu64
			" records written, %" PRIu64 " dropped", s->flows, s->anomalies, s->incidents_opened,
			ws.written, ws.dropped);
	}
	if (s->baseline && (fflush(s->baseline) != 0 || fsync(fileno(s->baseline)) != 0)) {
		svc_log("cannot write baseline '%s': %s", s->cfg.learning.baseline_path, strerror(errno));
		rc = rc ? rc : SERVICE_EXIT_FAILURE;
	}
	if (s->baseline)
		fclose(s->baseline);
	/* after the writer: the incidents closed above are queued; what is not
	 * delivered within the grace period waits in the spool */
	alerter_stop(s->alerter, ALERT_GRACE_US);
	s->alerter = NULL;
	signal_cap = NULL;
	flow_meter_free(s->meter);
	scorer_free(s->scorer);
	incident_table_free(s->incidents);
	cap_free(s->cap);
	svc_metrics_free(s->metrics);
	return rc;
}

int service_run(const struct service_options *opt)
{
	struct svc *s = calloc(1, sizeof *s);
	int rc;

	if (!s) {
		svc_log("out of memory");
		return SERVICE_EXIT_FAILURE;
	}
	s->opt = opt;
	stop_flag = hup_flag = 0;
	install_signals();
	rc = start(s);
	if (rc) {
		stop(s, rc);
		free(s);
		return rc;
	}
	signal_cap = s->cap;
	if (stop_flag)
		cap_break(s->cap);
#ifdef NAD_HAVE_SYSTEMD
	if (sd_watchdog_enabled(0, &s->watchdog_us) <= 0)
		s->watchdog_us = 0;
#endif
	clock_gettime(CLOCK_MONOTONIC, &s->last_watchdog);
	if (!s->from_file) {
		uint64_t tick = s->watchdog_us ? s->watchdog_us / 4 : US_PER_S;
		struct itimerval it;

		tick = tick < 100000 ? 100000 : tick > US_PER_S ? US_PER_S : tick;
		it.it_interval.tv_sec = (time_t)(tick / US_PER_S);
		it.it_interval.tv_usec = (suseconds_t)(tick % US_PER_S);
		it.it_value = it.it_interval;
		setitimer(ITIMER_REAL, &it, NULL);
	}
	svc_log("started: %s '%s', %s '%s'", s->from_file ? "reading" : "capturing on",
		s->from_file ? opt->file : *s->cfg.capture.interface ? s->cfg.capture.interface : "default device",
		s->state == SVC_DETECTING ? "detecting with model" : "learning, then training model",
		s->cfg.model.path);
	if (s->state == SVC_LEARNING) {
		char d[32];

		cfg_format_duration(s->cfg.learning.duration_us, d, sizeof d);
		svc_log("learning for %s and at least %" PRIu64 " flows (%" PRIu64 " already in '%s'), then training '%s'",
			d, s->min_flows, s->baseline_flows, s->cfg.learning.baseline_path, s->cfg.model.path);
	}
	put_status(s);
	publish_metrics(s);
	notify("READY=1");
	rc = main_loop(s);
	if (!rc && s->from_file && opt->linger && !stop_flag)
		linger(s);
	notify("STOPPING=1");
	setitimer(ITIMER_REAL, &(struct itimerval){ 0 }, NULL);
	rc = stop(s, rc);
	free(s);
	return rc;
}
