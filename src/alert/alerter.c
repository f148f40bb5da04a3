/* alerter.c - the alert thread: incident events in, spooled alerts out to receivers.
 *
 * Between the capture thread and this thread is a single-producer ring of
 * incident events (a copy each, about 1.1 KiB): the producer only reads the
 * consumer's index and publishes its own, so submitting never waits. The
 * thread owns everything else: which incidents were alerted at which level
 * (deduplication), the spool, one HTTP connection per receiver, the rate
 * limiters and the retry schedule. docs/alerts.md has the rules.
 */
#include "alert/alert_internal.h"

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "metrics/metrics.h"
#include "nad_version.h"

#ifdef NAD_HAVE_CURL
#include <curl/curl.h>
#endif

#define US_PER_S 1000000ull
#define QUEUE_DEFAULT 256
#define TRACK_MAX 256                /* incidents followed at once (level alerted, refresh) */
#define REFRESH_DEFAULT (60 * US_PER_S)
#define LIFETIME_DEFAULT (300 * US_PER_S)
#define BACKOFF_MAX_DEFAULT (60 * US_PER_S)
#define AM_PATH "/api/v2/alerts"

struct event {
	struct rec_incident inc;
	bool forced;                 /* closed by alerter_input_ended(), not by quiet */
};

/* An incident this process has seen at or above min_level. */
struct track {
	bool used;
	uint8_t level;               /* highest level an alert was raised for */
	bool am_active;              /* keep its Alertmanager alert alive while open */
	uint64_t next_refresh;       /* monotonic */
	uint64_t touched;            /* monotonic, to pick what to forget when full */
	struct rec_incident inc;
};

struct sink_counters {
	atomic_uint_fast64_t sent, failures, retries, rejected, delayed, refreshes, depth;
};

struct sink {
	enum alert_sink id;
	struct alert_http *http;     /* NULL: not configured */
	struct alert_rate rate;
	unsigned failures;           /* consecutive failed attempts */
	uint64_t next_attempt;       /* monotonic */
	uint64_t delayed_seq;        /* last alert counted as delayed */
};

/* A configuration handed from alerter_reload() to the thread. */
struct reload {
	bool pending;
	struct cfg_alerts cfg;
	struct alert_http *http[ALERT_SINKS];
};

struct alerter {
	struct alerter_options opt;
	char node[256];
	char user_agent[64];
	struct alert_origin origin;

	/* the ring: the producer writes tail, the consumer head */
	struct event *ring;
	size_t mask;
	atomic_size_t head, tail;
	sem_t wake;
	atomic_int min_level;
	bool forced;                 /* producer side: input ended */

	atomic_bool stopping;
	atomic_uint_fast64_t deadline;

	pthread_mutex_t lock;        /* guards reload */
	struct reload reload;

	/* owned by the thread */
	struct cfg_alerts cfg;
	struct alert_spool *spool;
	struct sink sink[ALERT_SINKS];
	struct track *tracks;
	pthread_t thread;
	bool thread_started;

	struct sink_counters st[ALERT_SINKS];
	atomic_uint_fast64_t dropped_queue, dropped_spool, corrupt, deduplicated;
};

static void logf_(struct alerter *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_(struct alerter *a, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	if (!a->opt.log)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	a->opt.log(a->opt.log_user, buf);
}

bool alerter_wanted(const struct cfg_alerts *cfg)
{
	return cfg->webhook_url[0] || cfg->alertmanager_url[0];
}

static uint64_t min_u64(uint64_t x, uint64_t y)
{
	return x < y ? x : y;
}

/* ---- producer side ------------------------------------------------------- */

void alerter_submit(struct alerter *a, const struct rec_incident *inc)
{
	size_t tail, head;
	struct event *e;

	if (!a || inc->level < atomic_load_explicit(&a->min_level, memory_order_relaxed))
		return;
	tail = atomic_load_explicit(&a->tail, memory_order_relaxed);
	head = atomic_load_explicit(&a->head, memory_order_acquire);
	if (tail - head > a->mask) {
		atomic_fetch_add_explicit(&a->dropped_queue, 1, memory_order_relaxed);
		return;
	}
	e = &a->ring[tail & a->mask];
	e->inc = *inc;
	e->forced = a->forced;
	atomic_store_explicit(&a->tail, tail + 1, memory_order_release);
	sem_post(&a->wake);
}

void alerter_input_ended(struct alerter *a)
{
	if (a)
		a->forced = true;
}

/* ---- deduplication and raising alerts ------------------------------------ */

static struct track *track_find(struct alerter *a, const char *uid)
{
	for (size_t i = 0; i < TRACK_MAX; i++)
		if (a->tracks[i].used && !strcmp(a->tracks[i].inc.uid, uid))
			return &a->tracks[i];
	return NULL;
}

/* A free slot, or the incident heard from least recently (its
 * Alertmanager alert then simply expires). */
static struct track *track_new(struct alerter *a)
{
	struct track *oldest = &a->tracks[0];

	for (size_t i = 0; i < TRACK_MAX; i++) {
		if (!a->tracks[i].used)
			return memset(&a->tracks[i], 0, sizeof a->tracks[i]);
		if (a->tracks[i].touched < oldest->touched)
			oldest = &a->tracks[i];
	}
	return memset(oldest, 0, sizeof *oldest);
}

/* Spool one alert unless the receiver has it, or will, already. */
static void raise_alert(struct alerter *a, enum alert_sink sink, enum alert_kind kind, uint8_t prev_level,
			const struct rec_incident *inc)
{
	struct alert_msg m = { .sink = (uint8_t)sink, .kind = (uint8_t)kind, .prev_level = prev_level };
	char err[512];

	m.inc = *inc;
	alert_make_key(inc, kind, m.key, sizeof m.key);
	if (alert_spool_seen(a->spool, (uint8_t)sink, m.key)) {
		atomic_fetch_add_explicit(&a->deduplicated, 1, memory_order_relaxed);
		return;
	}
	m.created_us = alert_wall_us();
	if (kind == ALERT_RESOLVED)
		m.resolved_us = m.created_us;
	if (alert_spool_add(a->spool, &m, err, sizeof err) < 0) {
		atomic_fetch_add_explicit(&a->dropped_spool, 1, memory_order_relaxed);
		logf_(a, "alert %s for %s lost: %s", m.key, alert_sink_name(sink), err);
	}
}

static void on_event(struct alerter *a, const struct event *ev)
{
	const struct rec_incident *inc = &ev->inc;
	struct track *t = track_find(a, inc->uid);
	uint64_t now = alert_mono_us();
	bool am = a->sink[ALERT_SINK_ALERTMANAGER].http != NULL;

	if (!t) {
		if (inc->level < a->cfg.min_level)
			return;
		t = track_new(a);
		t->used = true;
	}
	t->inc = *inc;
	t->touched = now;
	if (inc->level > t->level && inc->level >= a->cfg.min_level) {
		enum alert_kind kind = t->level == REC_LEVEL_NONE ? ALERT_FIRING : ALERT_ESCALATED;
		for (int s = 0; s < ALERT_SINKS; s++)
			if (a->sink[s].http)
				raise_alert(a, (enum alert_sink)s, kind, t->level, inc);
		t->level = inc->level;
		if (am && !t->am_active) {
			t->am_active = true;
			t->next_refresh = now + a->opt.refresh_us;
		}
	}
	if (inc->event == REC_INCIDENT_CLOSED) {
		/* closed by quiet: the activity stopped, say so; closed by force
		 * (end of input, shutdown): nobody knows, let it expire */
		if (am && t->am_active && !ev->forced)
			raise_alert(a, ALERT_SINK_ALERTMANAGER, ALERT_RESOLVED, t->level, inc);
		t->used = false;
	}
}

/* Take every published event off the ring. */
static void drain(struct alerter *a)
{
	size_t head = atomic_load_explicit(&a->head, memory_order_relaxed);
	size_t tail = atomic_load_explicit(&a->tail, memory_order_acquire);

	for (; head != tail; head++) {
		on_event(a, &a->ring[head & a->mask]);
		atomic_store_explicit(&a->head, head + 1, memory_order_release);
	}
}

/* ---- delivery -------------------------------------------------------------- */

static char *render(struct alerter *a, const struct alert_msg *m)
{
	if (m->sink == ALERT_SINK_WEBHOOK)
		return alert_webhook_body(m, &a->origin);
	return alert_am_body(m, alert_wall_us(), a->opt.lifetime_us, &a->origin);
}

static void note_failure(struct alerter *a, struct sink *sk, const char *what, const char *err, uint64_t now)
{
	struct alert_spool_stats ss;
	uint64_t wait;

	atomic_fetch_add_explicit(&a->st[sk->id].failures, 1, memory_order_relaxed);
	sk->failures++;
	wait = alert_backoff_us(sk->failures, a->opt.backoff_max_us);
	sk->next_attempt = now + wait;
	/* the first failure, then ever more rarely: an outage is one story */
	if ((sk->failures & (sk->failures - 1)) == 0) {
		alert_spool_get_stats(a->spool, &ss);
		logf_(a, "%s: cannot deliver %s: %s; %llu alert(s) kept in the spool, next try in %.0f s "
		      "(failure %u in a row)", alert_sink_name(sk->id), what, err,
		      (unsigned long long)ss.depth[sk->id], (double)wait / 1e6, sk->failures);
	}
}

/* Deliver the sink's spooled alerts in order until one fails, the rate
 * limit says wait, or the deadline (0: none) comes. *next: when to look
 * again. */
static void deliver(struct alerter *a, struct sink *sk, uint64_t deadline, uint64_t *next)
{
	uint64_t seq, now;
	uint8_t kind;

	while (sk->http && alert_spool_first(a->spool, (uint8_t)sk->id, &seq, &kind)) {
		struct alert_msg m;
		char err[512], *body;
		long status;
		int r;

		now = alert_mono_us();
		if (now < sk->next_attempt) {
			*next = min_u64(*next, sk->next_attempt);
			return;
		}
		if (deadline && now >= deadline)
			return;
		/* resolutions only end what was announced: never held back */
		if (kind != ALERT_RESOLVED) {
			uint64_t wait = alert_rate_wait(&sk->rate, now);
			if (wait) {
				if (sk->delayed_seq != seq) {
					atomic_fetch_add_explicit(&a->st[sk->id].delayed, 1, memory_order_relaxed);
					sk->delayed_seq = seq;
				}
				sk->next_attempt = now + wait;
				*next = min_u64(*next, sk->next_attempt);
				return;
			}
		}
		r = alert_spool_load(a->spool, seq, &m, err, sizeof err);
		if (r == -EBADMSG || r == -ENOENT) {
			logf_(a, "%s: skipping an alert: %s", alert_sink_name(sk->id), err);
			continue;
		}
		if (r < 0) {
			note_failure(a, sk, "from the spool", err, now);
			*next = min_u64(*next, sk->next_attempt);
			return;
		}
		body = render(a, &m);
		if (!body) {
			note_failure(a, sk, m.key, "out of memory", now);
			*next = min_u64(*next, sk->next_attempt);
			return;
		}
		if (sk->failures)
			atomic_fetch_add_explicit(&a->st[sk->id].retries, 1, memory_order_relaxed);
		status = alert_http_post(sk->http, sk->id == ALERT_SINK_ALERTMANAGER ? AM_PATH : NULL, body,
					 sk->id == ALERT_SINK_WEBHOOK ? m.key : NULL, &a->deadline, err, sizeof err);
		free(body);
		if (status >= 200 && status <= 299) {
			r = alert_spool_done(a->spool, seq);
			if (r < 0)
				logf_(a, "%s: alert %s delivered but not recorded as such: %s; it may be sent again "
				      "after a restart", alert_sink_name(sk->id), m.key, strerror(-r));
			atomic_fetch_add_explicit(&a->st[sk->id].sent, 1, memory_order_relaxed);
			if (kind != ALERT_RESOLVED)
				alert_rate_take(&sk->rate, now);
			if (sk->failures)
				logf_(a, "%s: delivering again after %u failed attempt(s)", alert_sink_name(sk->id),
				      sk->failures);
			sk->failures = 0;
			continue;
		}
		if (status > 0 && alert_status_permanent(status)) {
			alert_spool_reject(a->spool, seq);
			atomic_fetch_add_explicit(&a->st[sk->id].rejected, 1, memory_order_relaxed);
			logf_(a, "%s: alert %s refused (%s); moved to '%s/rejected/'", alert_sink_name(sk->id), m.key,
			      err, a->cfg.spool_path);
			sk->failures = 0;
			continue;
		}
		note_failure(a, sk, m.key, err, now);
		*next = min_u64(*next, sk->next_attempt);
		return;
	}
}

/* Alertmanager forgets an alert at its endsAt: re-post the open incidents'
 * alerts before that, once the spooled ones are through. */
static void refresh(struct alerter *a, uint64_t deadline, uint64_t *next)
{
	struct sink *sk = &a->sink[ALERT_SINK_ALERTMANAGER];
	uint64_t seq, now = alert_mono_us();
	uint8_t kind;

	if (!sk->http || deadline || alert_spool_first(a->spool, ALERT_SINK_ALERTMANAGER, &seq, &kind))
		return;
	for (size_t i = 0; i < TRACK_MAX; i++) {
		struct track *t = &a->tracks[i];
		struct alert_msg m = { .sink = ALERT_SINK_ALERTMANAGER, .kind = ALERT_FIRING };
		char err[512], *body;
		long status;

		if (!t->used || !t->am_active)
			continue;
		if (t->next_refresh > now) {
			*next = min_u64(*next, t->next_refresh);
			continue;
		}
		t->next_refresh = now + a->opt.refresh_us;
		*next = min_u64(*next, t->next_refresh);
		m.inc = t->inc;
		m.inc.level = t->level;
		alert_make_key(&m.inc, ALERT_FIRING, m.key, sizeof m.key);
		body = render(a, &m);
		if (!body)
			continue;
		status = alert_http_post(sk->http, AM_PATH, body, NULL, &a->deadline, err, sizeof err);
		free(body);
		if (status >= 200 && status <= 299) {
			atomic_fetch_add_explicit(&a->st[sk->id].refreshes, 1, memory_order_relaxed);
		} else {
			atomic_fetch_add_explicit(&a->st[sk->id].failures, 1, memory_order_relaxed);
			logf_(a, "alertmanager: cannot refresh alert %s: %s", m.key, err);
		}
	}
}

/* ---- the thread ------------------------------------------------------------ */

static void apply_reload(struct alerter *a)
{
	struct reload r;

	pthread_mutex_lock(&a->lock);
	r = a->reload;
	a->reload.pending = false;
	for (int s = 0; s < ALERT_SINKS; s++)
		a->reload.http[s] = NULL;
	pthread_mutex_unlock(&a->lock);
	if (!r.pending)
		return;
	for (int s = 0; s < ALERT_SINKS; s++) {
		struct sink *sk = &a->sink[s];
		alert_http_free(sk->http);
		sk->http = r.http[s];
		alert_rate_release(&sk->rate);
		if (alert_rate_init(&sk->rate, r.cfg.rate_limit, r.cfg.rate_period_us) < 0)
			logf_(a, "%s: no memory for the rate limit; sending unlimited", alert_sink_name(s));
		sk->failures = 0;
		sk->next_attempt = 0;
	}
	a->cfg = r.cfg;
}

static void publish_stats(struct alerter *a)
{
	struct alert_spool_stats ss;
	char note[512];

	alert_spool_get_stats(a->spool, &ss);
	for (int s = 0; s < ALERT_SINKS; s++)
		atomic_store_explicit(&a->st[s].depth, ss.depth[s], memory_order_relaxed);
	/* the spool's own drops are of written alerts, dropped_spool also
	 * counts those it could not write */
	atomic_store_explicit(&a->corrupt, ss.corrupt, memory_order_relaxed);
	while (alert_spool_note(a->spool, note, sizeof note))
		logf_(a, "%s", note);
}

static bool has_pending(struct alerter *a, uint64_t before)
{
	uint64_t seq;
	uint8_t kind;

	for (int s = 0; s < ALERT_SINKS; s++)
		if (a->sink[s].http && a->sink[s].next_attempt < before &&
		    alert_spool_first(a->spool, (uint8_t)s, &seq, &kind))
			return true;
	return false;
}

static void sleep_until(struct alerter *a, uint64_t when_mono)
{
	uint64_t now = alert_mono_us(), wait = when_mono > now ? when_mono - now : 0;
	struct timespec ts;

	if (!wait)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	wait += (uint64_t)ts.tv_nsec / 1000;
	ts.tv_sec += (time_t)(wait / US_PER_S);
	ts.tv_nsec = (long)(wait % US_PER_S) * 1000;
	while (sem_timedwait(&a->wake, &ts) < 0 && errno == EINTR)
		;
	/* several posts may have piled up: one pass takes all their events */
	while (sem_trywait(&a->wake) == 0)
		;
}

static void *run(void *arg)
{
	struct alerter *a = arg;
	uint64_t dropped_before;
	struct alert_spool_stats ss;

	alert_spool_get_stats(a->spool, &ss);
	dropped_before = ss.dropped;
	for (;;) {
		/* read the flag before draining: every event submitted before
		 * the stop is then on the ring already */
		bool stopping = atomic_load_explicit(&a->stopping, memory_order_acquire);
		uint64_t deadline = stopping ? atomic_load(&a->deadline) : 0;
		uint64_t next = alert_mono_us() + US_PER_S;

		apply_reload(a);
		drain(a);
		for (int s = 0; s < ALERT_SINKS; s++)
			deliver(a, &a->sink[s], deadline, &next);
		refresh(a, deadline, &next);
		alert_spool_get_stats(a->spool, &ss);
		atomic_fetch_add_explicit(&a->dropped_spool, ss.dropped - dropped_before, memory_order_relaxed);
		dropped_before = ss.dropped;
		publish_stats(a);
		if (stopping) {
			if (alert_mono_us() >= deadline || !has_pending(a, deadline))
				break;
			next = min_u64(next, deadline);
		}
		sleep_until(a, next);
	}
	return NULL;
}

/* ---- lifecycle --------------------------------------------------------------- */

#ifdef NAD_HAVE_CURL
static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}
#endif

/* New connections for the configured receivers. 0 or -errno (message). */
static int open_sinks(const struct cfg_alerts *cfg, const char *ua, struct alert_http *http[ALERT_SINKS],
		      char *err, size_t errlen)
{
	const char *urls[ALERT_SINKS] = { cfg->webhook_url, cfg->alertmanager_url };
	const char *keys[ALERT_SINKS] = { "webhook_url", "alertmanager_url" };
	char why[512];

	for (int s = 0; s < ALERT_SINKS; s++) {
		int r;

		http[s] = NULL;
		if (!urls[s][0])
			continue;
		r = alert_http_new(urls[s], s == ALERT_SINK_WEBHOOK ? cfg->webhook_headers : NULL, ua, &http[s],
				   why, sizeof why);
		if (r < 0) {
			snprintf(err, errlen, "[alerts] %s: %s", r == -EINVAL && strstr(why, "header")
				 ? "webhook_headers" : keys[s], r == -ENOMEM ? "out of memory" : why);
			for (int j = 0; j < s; j++) {
				alert_http_free(http[j]);
				http[j] = NULL;
			}
			return r;
		}
	}
	return 0;
}

static void free_alerter(struct alerter *a)
{
	for (int s = 0; s < ALERT_SINKS; s++) {
		alert_http_free(a->sink[s].http);
		alert_http_free(a->reload.http[s]);
		alert_rate_release(&a->sink[s].rate);
	}
	alert_spool_free(a->spool);
	sem_destroy(&a->wake);
	pthread_mutex_destroy(&a->lock);
	free(a->ring);
	free(a->tracks);
	free(a);
}

int alerter_start(const struct alerter_options *opt, struct alerter **ret, char *err, size_t errlen)
{
	struct alert_http *http[ALERT_SINKS] = { 0 };
	struct alerter *a;
	struct alert_spool_stats ss;
	size_t cap = 1;
	int r;

#ifndef NAD_HAVE_JANSSON
	snprintf(err, errlen, "nad was built without jansson: alerts cannot be sent");
	return -ENOTSUP;
#endif
#ifdef NAD_HAVE_CURL
	pthread_once(&curl_once, curl_init_once);
#endif
	a = calloc(1, sizeof *a);
	if (!a)
		return -ENOMEM;
	a->opt = *opt;
	if (!a->opt.queue_size)
		a->opt.queue_size = QUEUE_DEFAULT;
	if (!a->opt.refresh_us)
		a->opt.refresh_us = REFRESH_DEFAULT;
	if (!a->opt.lifetime_us)
		a->opt.lifetime_us = LIFETIME_DEFAULT;
	if (!a->opt.backoff_max_us)
		a->opt.backoff_max_us = BACKOFF_MAX_DEFAULT;
	if (opt->node && *opt->node)
		snprintf(a->node, sizeof a->node, "%s", opt->node);
	else if (gethostname(a->node, sizeof a->node - 1) < 0 || !a->node[0])
		snprintf(a->node, sizeof a->node, "nad");
	snprintf(a->user_agent, sizeof a->user_agent, "nad/%s", NAD_VERSION);
	a->origin.node = a->node;
	a->origin.version = NAD_VERSION;
	a->cfg = opt->cfg;
	atomic_init(&a->min_level, opt->cfg.min_level);
	pthread_mutex_init(&a->lock, NULL);
	sem_init(&a->wake, 0, 0);
	for (int s = 0; s < ALERT_SINKS; s++)
		a->sink[s].id = (enum alert_sink)s;
	while (cap < a->opt.queue_size)
		cap *= 2;
	a->mask = cap - 1;
	a->ring = calloc(cap, sizeof *a->ring);
	a->tracks = calloc(TRACK_MAX, sizeof *a->tracks);
	if (!a->ring || !a->tracks) {
		free_alerter(a);
		return -ENOMEM;
	}
	r = open_sinks(&opt->cfg, a->user_agent, http, err, errlen);
	if (r < 0) {
		free_alerter(a);
		return r;
	}
	for (int s = 0; s < ALERT_SINKS; s++) {
		a->sink[s].http = http[s];
		if (alert_rate_init(&a->sink[s].rate, opt->cfg.rate_limit, opt->cfg.rate_period_us) < 0) {
			free_alerter(a);
			return -ENOMEM;
		}
	}
	r = alert_spool_open(opt->cfg.spool_path, opt->spool_max, &a->spool, err, errlen);
	if (r < 0) {
		free_alerter(a);
		return r;
	}
	alert_spool_get_stats(a->spool, &ss);
	publish_stats(a);
	if (ss.depth[ALERT_SINK_WEBHOOK] + ss.depth[ALERT_SINK_ALERTMANAGER])
		logf_(a, "alerts: %llu for the webhook and %llu for Alertmanager waiting in spool '%s'; "
		      "delivering them first", (unsigned long long)ss.depth[ALERT_SINK_WEBHOOK],
		      (unsigned long long)ss.depth[ALERT_SINK_ALERTMANAGER], opt->cfg.spool_path);
	for (int s = 0; s < ALERT_SINKS; s++)
		if (ss.depth[s] && !a->sink[s].http)
			logf_(a, "alerts: %llu spooled alert(s) for %s are kept: no %s is configured",
			      (unsigned long long)ss.depth[s], alert_sink_name(s),
			      s == ALERT_SINK_WEBHOOK ? "webhook_url" : "alertmanager_url");
	r = pthread_create(&a->thread, NULL, run, a);
	if (r) {
		snprintf(err, errlen, "cannot start the alert thread: %s", strerror(r));
		free_alerter(a);
		return -r;
	}
	a->thread_started = true;
	*ret = a;
	return 0;
}

int alerter_reload(struct alerter *a, const struct cfg_alerts *cfg, char *err, size_t errlen)
{
	struct alert_http *http[ALERT_SINKS];
	int r;

	if (strcmp(cfg->spool_path, a->opt.cfg.spool_path)) {
		snprintf(err, errlen, "[alerts] spool_path changes take effect at the next start");
		return -EBUSY;
	}
	r = open_sinks(cfg, a->user_agent, http, err, errlen);
	if (r < 0)
		return r;
	pthread_mutex_lock(&a->lock);
	for (int s = 0; s < ALERT_SINKS; s++) {
		alert_http_free(a->reload.http[s]);   /* a reload the thread has not taken yet */
		a->reload.http[s] = http[s];
	}
	a->reload.cfg = *cfg;
	a->reload.pending = true;
	pthread_mutex_unlock(&a->lock);
	atomic_store(&a->min_level, cfg->min_level);
	sem_post(&a->wake);
	return 0;
}

void alerter_stop(struct alerter *a, uint64_t grace_us)
{
	struct alerter_stats st;

	if (!a)
		return;
	if (a->thread_started) {
		atomic_store(&a->deadline, alert_mono_us() + grace_us);
		atomic_store_explicit(&a->stopping, true, memory_order_release);
		sem_post(&a->wake);
		pthread_join(a->thread, NULL);
	}
	alerter_get_stats(a, &st);
	if (st.sink[0].depth + st.sink[1].depth)
		logf_(a, "alerts: %llu left in spool '%s' for the next start",
		      (unsigned long long)(st.sink[0].depth + st.sink[1].depth), a->cfg.spool_path);
	free_alerter(a);
}

/* ---- statistics ------------------------------------------------------------- */

static uint64_t ld(atomic_uint_fast64_t *v)
{
	return atomic_load_explicit(v, memory_order_relaxed);
}

void alerter_get_stats(const struct alerter *ca, struct alerter_stats *ret)
{
	struct alerter *a = (struct alerter *)ca;   /* atomics are read, not changed */

	*ret = (struct alerter_stats){ 0 };
	for (int s = 0; s < ALERT_SINKS; s++) {
		struct sink_counters *c = &a->st[s];
		ret->sink[s] = (struct alerter_sink_stats){
			.sent = ld(&c->sent), .failures = ld(&c->failures), .retries = ld(&c->retries),
			.rejected = ld(&c->rejected), .delayed = ld(&c->delayed), .refreshes = ld(&c->refreshes),
			.depth = ld(&c->depth),
		};
	}
	ret->dropped_queue = ld(&a->dropped_queue);
	ret->dropped_spool = ld(&a->dropped_spool);
	ret->corrupt = ld(&a->corrupt);
	ret->deduplicated = ld(&a->deduplicated);
}

static void per_sink(struct metrics_writer *w, const struct alerter_stats *st, const char *name, const char *type,
		     const char *help, size_t offset)
{
	metrics_family(w, name, type, help);
	for (int s = 0; s < ALERT_SINKS; s++) {
		char labels[64];
		uint64_t v;

		memcpy(&v, (const char *)&st->sink[s] + offset, sizeof v);
		snprintf(labels, sizeof labels, "sink=\"%s\"", alert_sink_name(s));
		metrics_sample(w, name, labels, (double)v);
	}
}

#define SINK_FIELD(f) offsetof(struct alerter_sink_stats, f)

void alerter_collect_metrics(struct metrics_writer *w, void *alerter)
{
	struct alerter_stats st = { 0 };

	/* no alerter (no receiver configured): the same series, all zero, so
	 * dashboards and rules see a value rather than nothing */
	if (alerter)
		alerter_get_stats(alerter, &st);
	per_sink(w, &st, "nad_alerts_sent_total", "counter",
		 "Alerts a receiver accepted (HTTP 2xx).", SINK_FIELD(sent));
	per_sink(w, &st, "nad_alert_failures_total", "counter",
		 "Failed delivery attempts: no answer, timeout or a non-2xx status (refreshes included).",
		 SINK_FIELD(failures));
	per_sink(w, &st, "nad_alert_retries_total", "counter",
		 "Delivery attempts that repeat a failed one (exponential backoff).", SINK_FIELD(retries));
	per_sink(w, &st, "nad_alerts_rejected_total", "counter",
		 "Alerts a receiver refused for good (400, 413, 415, 422), moved to the spool's rejected/.",
		 SINK_FIELD(rejected));
	per_sink(w, &st, "nad_alerts_delayed_total", "counter",
		 "Alerts held back in the spool by the rate limit.", SINK_FIELD(delayed));
	per_sink(w, &st, "nad_alert_refreshes_total", "counter",
		 "Re-posts of active alerts that Alertmanager accepted.", SINK_FIELD(refreshes));
	per_sink(w, &st, "nad_alert_spool_depth", "gauge",
		 "Alerts waiting in the spool for their receiver.", SINK_FIELD(depth));
	metrics_family(w, "nad_alerts_dropped_total", "counter",
		       "Alerts lost: the queue from capture was full, or the spool was full or unwritable.");
	metrics_sample(w, "nad_alerts_dropped_total", "reason=\"queue_full\"", (double)st.dropped_queue);
	metrics_sample(w, "nad_alerts_dropped_total", "reason=\"spool\"", (double)st.dropped_spool);
	metrics_family(w, "nad_alert_spool_corrupt_total", "counter",
		       "Spool files that did not parse, moved to the spool's corrupt/.");
	metrics_sample(w, "nad_alert_spool_corrupt_total", NULL, (double)st.corrupt);
	metrics_family(w, "nad_alerts_deduplicated_total", "counter",
		       "Alerts not raised again: the same idempotency key was spooled or delivered before.");
	metrics_sample(w, "nad_alerts_deduplicated_total", NULL, (double)st.deduplicated);
}
