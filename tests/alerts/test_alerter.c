/* test_alerter.c - the alert thread against an HTTP receiver on loopback
 * (libmicrohttpd): deduplication and escalation, Alertmanager resolution,
 * a receiver outage with the spool carried across a restart, the rate
 * limit, a refusal for good, custom headers, and the bounded stop. */
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alert/alert_internal.h"
#include "check.h"
#include "metrics/metrics.h"

#ifdef NAD_HAVE_MHD
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>

#define S 1000000ull
#define POSTS_MAX 128
#define BODY_MAX 65536

/* Waits poll what the receiver or the stats show, never sleep a fixed
 * time; their upper bounds are generous (a passing run ends each wait as
 * soon as the state is there) and stretch further under the sanitizers,
 * where everything runs several times slower, or by NAD_TEST_TIME_SCALE. */
#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifdef SANITIZED
#define TIME_SCALE_DEFAULT 4
#else
#define TIME_SCALE_DEFAULT 1
#endif
#define WAIT_MS 30000                    /* the bound of a wait for something that must come */
#define HOLD_MAX_MS 60000                /* the longest the receiver holds an answer */

static unsigned time_scale = TIME_SCALE_DEFAULT;

/* Evaluate cond (it may refresh stats by a comma expression) every 10 ms
 * until it holds or ms (scaled) pass; ok says whether it held. */
#define POLL_UNTIL(ok, cond, ms)                                                      \
	do {                                                                          \
		uint64_t poll_end_ = alert_mono_us() + (uint64_t)(ms) * 1000 * time_scale; \
		while (!((ok) = (cond)) && alert_mono_us() < poll_end_)               \
			usleep(10000);                                                \
	} while (0)

struct post {
	char path[32];
	char key[ALERT_KEY_MAX];
	char token[64];
	char *body;
	uint64_t at_us;
};

static struct {
	pthread_mutex_t lock;
	struct post posts[POSTS_MAX];
	int n;
	atomic_int status;           /* what the receiver answers */
	atomic_int hold;             /* while set, requests wait (up to HOLD_MAX_MS) before the answer */
	atomic_int arrived;          /* requests fully read, answered or not */
	atomic_int in_flight;        /* requests in the handler now */
} rx = { .lock = PTHREAD_MUTEX_INITIALIZER };

static char dir[256], spool[300];
static unsigned short port;

struct upload {
	char *buf;
	size_t len;
};

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
				  const char *version, const char *data, size_t *data_len, void **state)
{
	struct upload *u = *state;
	struct MHD_Response *resp;
	enum MHD_Result r;
	const char *v;

	(void)cls;
	(void)version;
	if (!u) {
		u = calloc(1, sizeof *u);
		if (!u)
			return MHD_NO;
		u->buf = calloc(1, BODY_MAX + 1);
		*state = u;
		return MHD_YES;
	}
	if (*data_len) {
		size_t take = *data_len < BODY_MAX - u->len ? *data_len : BODY_MAX - u->len;
		memcpy(u->buf + u->len, data, take);
		u->len += take;
		*data_len = 0;
		return MHD_YES;
	}
	atomic_fetch_add(&rx.in_flight, 1);
	atomic_fetch_add(&rx.arrived, 1);
	/* a slow receiver, for as long as the test wants: it releases the hold */
	for (int t = 0; t < HOLD_MAX_MS && atomic_load(&rx.hold); t += 10)
		usleep(10000);
	pthread_mutex_lock(&rx.lock);
	if (rx.n < POSTS_MAX && !strcmp(method, "POST")) {
		struct post *p = &rx.posts[rx.n++];
		snprintf(p->path, sizeof p->path, "%s", url);
		v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Idempotency-Key");
		snprintf(p->key, sizeof p->key, "%s", v ? v : "");
		v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Token");
		snprintf(p->token, sizeof p->token, "%s", v ? v : "");
		p->body = u->buf;
		u->buf = NULL;
		p->at_us = alert_mono_us();
	}
	pthread_mutex_unlock(&rx.lock);
	resp = MHD_create_response_from_buffer(2, (void *)"{}", MHD_RESPMEM_PERSISTENT);
	r = MHD_queue_response(c, (unsigned)atomic_load(&rx.status), resp);
	MHD_destroy_response(resp);
	atomic_fetch_sub(&rx.in_flight, 1);
	return r;
}

static void on_done(void *cls, struct MHD_Connection *c, void **state, enum MHD_RequestTerminationCode t)
{
	struct upload *u = *state;

	(void)cls;
	(void)c;
	(void)t;
	if (u) {
		free(u->buf);
		free(u);
	}
	*state = NULL;
}

static struct MHD_Daemon *receiver_start(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = 0 };
	struct MHD_Daemon *d;
	const union MHD_DaemonInfo *info;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL,
			     on_request, NULL, MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_NOTIFY_COMPLETED, on_done,
			     NULL, MHD_OPTION_END);
	if (!d)
		return NULL;
	info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	port = info ? info->port : 0;
	return d;
}

static void receiver_reset(int status)
{
	bool idle;

	/* a held request still being answered would land in the new test */
	atomic_store(&rx.hold, 0);
	POLL_UNTIL(idle, atomic_load(&rx.in_flight) == 0, WAIT_MS);
	CHECK(idle);
	pthread_mutex_lock(&rx.lock);
	for (int i = 0; i < rx.n; i++)
		free(rx.posts[i].body);
	rx.n = 0;
	pthread_mutex_unlock(&rx.lock);
	atomic_store(&rx.status, status);
	atomic_store(&rx.arrived, 0);
}

static int posts_to(const char *path)
{
	int n = 0;

	pthread_mutex_lock(&rx.lock);
	for (int i = 0; i < rx.n; i++)
		n += !strcmp(rx.posts[i].path, path);
	pthread_mutex_unlock(&rx.lock);
	return n;
}

/* Wait (bounded) for at least want posts to path. */
static bool wait_posts(const char *path, int want)
{
	bool ok;

	POLL_UNTIL(ok, posts_to(path) >= want, WAIT_MS);
	return ok;
}

static int count_key(const char *key)
{
	int n = 0;

	pthread_mutex_lock(&rx.lock);
	for (int i = 0; i < rx.n; i++)
		n += !strcmp(rx.posts[i].key, key);
	pthread_mutex_unlock(&rx.lock);
	return n;
}

static void log_line(void *user, const char *msg)
{
	(void)user;
	fprintf(stderr, "  [alerter] %s\n", msg);
}

static void options(struct alerter_options *o, bool webhook, bool am, int min_level)
{
	memset(o, 0, sizeof *o);
	if (webhook) {
		snprintf(o->cfg.webhook_url, sizeof o->cfg.webhook_url, "http://127.0.0.1:%u/hook", port);
		snprintf(o->cfg.webhook_headers, sizeof o->cfg.webhook_headers,
			 "X-Token: s3cret value | X-Other: 1");
	}
	if (am)
		snprintf(o->cfg.alertmanager_url, sizeof o->cfg.alertmanager_url, "http://127.0.0.1:%u/", port);
	o->cfg.min_level = min_level;
	snprintf(o->cfg.spool_path, sizeof o->cfg.spool_path, "%s", spool);
	o->node = "test-node";
	o->log = log_line;
}

static void incident(struct rec_incident *inc, const char *uid, int event, int level, uint64_t anomalies)
{
	memset(inc, 0, sizeof *inc);
	snprintf(inc->uid, sizeof inc->uid, "%s", uid);
	inc->event = (uint8_t)event;
	snprintf(inc->host, sizeof inc->host, "192.168.77.66");
	snprintf(inc->role, sizeof inc->role, "attacker");
	snprintf(inc->category, sizeof inc->category, "scan");
	inc->level = (uint8_t)level;
	inc->score = 50 + 10.0 * level;
	inc->anomalies = anomalies;
	inc->first_ts_us = alert_wall_us() - 60 * S;
	inc->last_ts_us = alert_wall_us();
	snprintf(inc->summary, sizeof inc->summary, "192.168.77.66 probed %llu ports", (unsigned long long)anomalies);
	snprintf(inc->explanation, sizeof inc->explanation, "syn_ratio stands out");
}

static int spool_files(void)
{
	char cmd[400];
	FILE *p;
	int n = -1;

	snprintf(cmd, sizeof cmd, "ls '%s' | grep -c '\\.alert$'", spool);
	p = popen(cmd, "r");
	if (p) {
		if (fscanf(p, "%d", &n) != 1)
			n = -1;
		pclose(p);
	}
	return n;
}

/* The JSON of post i, and one string in it. */
static json_t *post_json(const char *path, int nth)
{
	json_t *o = NULL;
	int k = 0;

	pthread_mutex_lock(&rx.lock);
	for (int i = 0; i < rx.n && !o; i++)
		if (!strcmp(rx.posts[i].path, path) && k++ == nth)
			o = json_loads(rx.posts[i].body, 0, NULL);
	pthread_mutex_unlock(&rx.lock);
	return o;
}

static const char *am_label(json_t *arr, size_t i, const char *name)
{
	json_t *v = json_object_get(json_object_get(json_array_get(arr, i), "labels"), name);
	return json_is_string(v) ? json_string_value(v) : "";
}

/* The collector's families as /metrics shows them. */
static void check_metrics(struct alerter *a)
{
	struct metrics_registry *r = NULL;
	char *text = NULL;
	size_t len = 0;

	CHECK_EQ_INT(metrics_registry_new(&r), 0);
	if (!r)
		return;
	CHECK_EQ_INT(metrics_registry_add_collector(r, alerter_collect_metrics, a), 0);
	CHECK_EQ_INT(metrics_render(r, &text, &len), 0);
	CHECK(text && strstr(text, "# TYPE nad_alerts_sent_total counter\n"));
	CHECK(text && strstr(text, "nad_alerts_sent_total{sink=\"webhook\"} 3\n"));
	CHECK(text && strstr(text, "nad_alerts_sent_total{sink=\"alertmanager\"} 4\n"));
	CHECK(text && strstr(text, "nad_alert_failures_total{sink=\"webhook\"} 0\n"));
	CHECK(text && strstr(text, "# TYPE nad_alert_spool_depth gauge\n"));
	CHECK(text && strstr(text, "nad_alerts_dropped_total{reason=\"queue_full\"} 0\n"));
	CHECK(text && strstr(text, "nad_alerts_deduplicated_total 0\n"));
	free(text);
	metrics_registry_free(r);
}

/* Levels below min, repeats at the same level, an escalation, a quiet
 * close and a forced close. */
static void test_dedup_and_resolution(void)
{
	struct alerter_options o;
	struct alerter *a = NULL;
	struct alerter_stats st;
	struct rec_incident inc;
	char err[512];
	json_t *j;
	bool ok;

	receiver_reset(200);
	options(&o, true, true, REC_LEVEL_MEDIUM);
	CHECK_EQ_INT(alerter_start(&o, &a, err, sizeof err), 0);
	if (!a)
		return;
	incident(&inc, "inc-x", REC_INCIDENT_OPENED, REC_LEVEL_LOW, 1);
	alerter_submit(a, &inc);                 /* below min_level: nothing */
	incident(&inc, "inc-x", REC_INCIDENT_UPDATED, REC_LEVEL_MEDIUM, 10);
	alerter_submit(a, &inc);                 /* firing medium */
	incident(&inc, "inc-x", REC_INCIDENT_UPDATED, REC_LEVEL_MEDIUM, 16);
	alerter_submit(a, &inc);                 /* same level: nothing new */
	incident(&inc, "inc-x", REC_INCIDENT_UPDATED, REC_LEVEL_HIGH, 225);
	alerter_submit(a, &inc);                 /* escalated to high */
	incident(&inc, "inc-x", REC_INCIDENT_UPDATED, REC_LEVEL_HIGH, 512);
	alerter_submit(a, &inc);
	incident(&inc, "inc-x", REC_INCIDENT_CLOSED, REC_LEVEL_HIGH, 1000);
	alerter_submit(a, &inc);                 /* quiet close: resolved */
	incident(&inc, "inc-y", REC_INCIDENT_OPENED, REC_LEVEL_CRITICAL, 3);
	alerter_submit(a, &inc);
	alerter_input_ended(a);
	incident(&inc, "inc-y", REC_INCIDENT_CLOSED, REC_LEVEL_CRITICAL, 3);
	alerter_submit(a, &inc);                 /* forced close: left to expire */
	CHECK(wait_posts("/hook", 3));
	CHECK(wait_posts("/api/v2/alerts", 4));
	/* the receiver records a post before it answers, the counts follow the answer */
	POLL_UNTIL(ok,
		   (alerter_get_stats(a, &st), st.sink[ALERT_SINK_WEBHOOK].sent == 3 &&
						  st.sink[ALERT_SINK_ALERTMANAGER].sent == 4),
		   WAIT_MS);
	CHECK(ok);
	check_metrics(a);
	alerter_stop(a, 2 * S);
	CHECK_EQ_INT(posts_to("/hook"), 3);
	CHECK_EQ_INT(posts_to("/api/v2/alerts"), 4);
	CHECK_EQ_INT(count_key("inc-x-medium"), 1);
	CHECK_EQ_INT(count_key("inc-x-high"), 1);
	CHECK_EQ_INT(count_key("inc-y-critical"), 1);
	CHECK_EQ_INT(count_key("inc-x-low"), 0);
	pthread_mutex_lock(&rx.lock);
	for (int i = 0; i < rx.n; i++) {
		bool hook = !strcmp(rx.posts[i].path, "/hook");
		/* custom headers go to the webhook only, trimmed */
		CHECK(!strcmp(rx.posts[i].token, hook ? "s3cret value" : ""));
	}
	pthread_mutex_unlock(&rx.lock);

	j = post_json("/hook", 1);
	CHECK(j && !strcmp(json_string_value(json_object_get(j, "event")), "escalated"));
	CHECK(j && !strcmp(json_string_value(json_object_get(j, "previous_level")), "medium"));
	json_decref(j);
	/* Alertmanager: firing medium; medium ended + high firing; high
	 * resolved; critical firing, with no resolution after the forced close */
	j = post_json("/api/v2/alerts", 0);
	CHECK(json_array_size(j) == 1 && !strcmp(am_label(j, 0, "severity"), "medium"));
	CHECK(!strcmp(am_label(j, 0, "alertname"), "NadIncident"));
	CHECK(!strcmp(am_label(j, 0, "instance"), "test-node"));
	json_decref(j);
	j = post_json("/api/v2/alerts", 1);
	CHECK(json_array_size(j) == 2 && !strcmp(am_label(j, 0, "severity"), "medium") &&
	      !strcmp(am_label(j, 1, "severity"), "high"));
	json_decref(j);
	j = post_json("/api/v2/alerts", 2);
	CHECK(json_array_size(j) == 1 && !strcmp(am_label(j, 0, "severity"), "high") &&
	      !strcmp(am_label(j, 0, "incident"), "inc-x"));
	json_decref(j);
	j = post_json("/api/v2/alerts", 3);
	CHECK(json_array_size(j) == 1 && !strcmp(am_label(j, 0, "incident"), "inc-y"));
	json_decref(j);
	CHECK_EQ_INT(spool_files(), 0);
}

/* Receiver down: alerts wait in the spool, survive a stop, go out once
 * after the restart, and the same incident seen again is not resent. */
static void test_outage_and_restart(void)
{
	struct alerter_options o;
	struct alerter *a = NULL;
	struct alerter_stats st = { 0 };
	struct rec_incident inc;
	char err[512];
	bool ok;

	receiver_reset(503);
	options(&o, true, false, REC_LEVEL_HIGH);
	CHECK_EQ_INT(alerter_start(&o, &a, err, sizeof err), 0);
	if (!a)
		return;
	incident(&inc, "inc-z", REC_INCIDENT_OPENED, REC_LEVEL_HIGH, 5);
	alerter_submit(a, &inc);
	incident(&inc, "inc-w", REC_INCIDENT_OPENED, REC_LEVEL_HIGH, 5);
	alerter_submit(a, &inc);
	/* attempts at 0 and 1 s (backoff), both refused; the thread may have
	 * seen the second incident only at its second attempt, so the depth is
	 * waited for too */
	POLL_UNTIL(ok,
		   (alerter_get_stats(a, &st),
		    st.sink[ALERT_SINK_WEBHOOK].failures >= 2 && st.sink[ALERT_SINK_WEBHOOK].depth == 2),
		   WAIT_MS);
	CHECK(ok);
	CHECK(st.sink[ALERT_SINK_WEBHOOK].failures >= 2);
	CHECK(st.sink[ALERT_SINK_WEBHOOK].retries >= 1);
	CHECK_EQ_INT(st.sink[ALERT_SINK_WEBHOOK].sent, 0);
	CHECK_EQ_INT(st.sink[ALERT_SINK_WEBHOOK].depth, 2);
	CHECK_EQ_INT(spool_files(), 2);
	alerter_stop(a, S / 2);
	CHECK_EQ_INT(spool_files(), 2);          /* kept for the next start */

	receiver_reset(200);
	a = NULL;
	CHECK_EQ_INT(alerter_start(&o, &a, err, sizeof err), 0);
	if (!a)
		return;
	CHECK(wait_posts("/hook", 2));
	/* the same traffic again after the restart: same keys, not resent */
	incident(&inc, "inc-z", REC_INCIDENT_OPENED, REC_LEVEL_HIGH, 5);
	alerter_submit(a, &inc);
	POLL_UNTIL(ok, (alerter_get_stats(a, &st), st.deduplicated >= 1 && st.sink[ALERT_SINK_WEBHOOK].depth == 0),
		   WAIT_MS);
	CHECK(ok);
	alerter_stop(a, S);
	CHECK_EQ_INT(st.deduplicated, 1);
	CHECK_EQ_INT(count_key("inc-z-high"), 1);
	CHECK_EQ_INT(count_key("inc-w-high"), 1);
	CHECK_EQ_INT(posts_to("/hook"), 2);
	CHECK_EQ_INT(spool_files(), 0);
}

/* 2 per second: five alerts take two more seconds, none is dropped. */
static void test_rate_limit(void)
{
	struct alerter_options o;
	struct alerter *a = NULL;
	struct alerter_stats st;
	struct rec_incident inc;
	char err[512], uid[32];
	uint64_t at[5] = { 0 }, submitted;

	receiver_reset(200);
	options(&o, true, false, REC_LEVEL_HIGH);
	o.cfg.rate_limit = 2;
	o.cfg.rate_period_us = S;
	CHECK_EQ_INT(alerter_start(&o, &a, err, sizeof err), 0);
	if (!a)
		return;
	submitted = alert_mono_us();
	for (int i = 0; i < 5; i++) {
		snprintf(uid, sizeof uid, "inc-rate%d", i);
		incident(&inc, uid, REC_INCIDENT_OPENED, REC_LEVEL_HIGH, 1);
		alerter_submit(a, &inc);
	}
	CHECK(wait_posts("/hook", 5));
	/* "delayed" is counted before the post goes out */
	alerter_get_stats(a, &st);
	alerter_stop(a, S);
	CHECK_EQ_INT(posts_to("/hook"), 5);
	/* the first two never wait; of the other three, the third waits unless
	 * the first two posts took a whole second between them, the fifth
	 * unless the third and fourth did; the fourth waits only when the
	 * third's post was quicker than the first's */
	CHECK(st.sink[ALERT_SINK_WEBHOOK].delayed >= 1 && st.sink[ALERT_SINK_WEBHOOK].delayed <= 3);
	pthread_mutex_lock(&rx.lock);
	for (int i = 0; i < 5 && i < rx.n; i++)
		at[i] = rx.posts[i].at_us;
	pthread_mutex_unlock(&rx.lock);
	/* No window of one second holds three sends, exactly, whatever the
	 * latency: the limiter stamps send i when it starts it, which is after
	 * the receiver answered post i-1 (after at[i-1]; after `submitted` for
	 * the first), and post i+2 reaches the receiver after it starts, at
	 * least a period after send i started. */
	CHECK(at[2] >= submitted + S);
	for (int i = 1; i + 2 < 5; i++)
		CHECK(at[i + 2] >= at[i - 1] + S);
	/* and the limit delays, it does not stall: two periods, plus however
	 * slow loopback is today */
	CHECK(at[4] - at[0] < 2 * S + 3 * S * time_scale);
}

/* A body the receiver refuses for good is set aside; the next goes on. */
static void test_rejected(void)
{
	struct alerter_options o;
	struct alerter *a = NULL;
	struct alerter_stats st = { 0 };
	struct rec_incident inc;
	char err[512], path[400];
	struct stat sb;
	bool ok;

	receiver_reset(400);
	options(&o, true, false, REC_LEVEL_HIGH);
	CHECK_EQ_INT(alerter_start(&o, &a, err, sizeof err), 0);
	if (!a)
		return;
	incident(&inc, "inc-bad", REC_INCIDENT_OPENED, REC_LEVEL_HIGH, 1);
	alerter_submit(a, &inc);
	POLL_UNTIL(ok, (alerter_get_stats(a, &st), st.sink[ALERT_SINK_WEBHOOK].rejected > 0), WAIT_MS);
	CHECK(ok);
	CHECK_EQ_INT(st.sink[ALERT_SINK_WEBHOOK].rejected, 1);
	atomic_store(&rx.status, 202);
	incident(&inc, "inc-good", REC_INCIDENT_OPENED, REC_LEVEL_HIGH, 1);
	alerter_submit(a, &inc);
	CHECK(wait_posts("/hook", 2));
	alerter_stop(a, S);
	CHECK_EQ_INT(count_key("inc-good-high"), 1);
	snprintf(path, sizeof path, "%s/rejected", spool);
	CHECK(stat(path, &sb) == 0 && S_ISDIR(sb.st_mode));
}

/* A receiver that never answers holds the stop for the grace period only. */
static void test_bounded_stop(void)
{
	struct alerter_options o;
	struct alerter *a = NULL;
	struct rec_incident inc;
	char err[512];
	uint64_t t0;
	bool ok;

	receiver_reset(200);
	atomic_store(&rx.hold, 1);               /* until this test lets it go */
	options(&o, true, false, REC_LEVEL_HIGH);
	CHECK_EQ_INT(alerter_start(&o, &a, err, sizeof err), 0);
	if (!a)
		return;
	incident(&inc, "inc-slow", REC_INCIDENT_OPENED, REC_LEVEL_HIGH, 1);
	alerter_submit(a, &inc);
	POLL_UNTIL(ok, atomic_load(&rx.arrived) >= 1, WAIT_MS);   /* the post is in flight */
	CHECK(ok);
	t0 = alert_mono_us();
	alerter_stop(a, S);
	/* 1 s of grace, then curl's progress callback (about once a second)
	 * cuts it; the receiver would hold it for a minute */
	CHECK(alert_mono_us() - t0 < S + 2500000 * time_scale);
	CHECK_EQ_INT(spool_files(), 1);          /* not accepted: still spooled */
	receiver_reset(200);                     /* lets the held request end */
	a = NULL;
	CHECK_EQ_INT(alerter_start(&o, &a, err, sizeof err), 0);
	if (a) {
		CHECK(wait_posts("/hook", 1));
		alerter_stop(a, S);
	}
	CHECK_EQ_INT(spool_files(), 0);
}

/* The ring between capture and the thread: while the thread is stuck in a
 * post, a full ring drops (and counts) instead of making capture wait. */
static void test_queue_overflow(void)
{
	struct alerter_options o;
	struct alerter *a = NULL;
	struct alerter_stats st;
	struct rec_incident inc;
	char err[512], uid[32];
	uint64_t t0;
	bool ok;

	receiver_reset(200);
	atomic_store(&rx.hold, 1);
	options(&o, true, false, REC_LEVEL_HIGH);
	o.queue_size = 4;
	CHECK_EQ_INT(alerter_start(&o, &a, err, sizeof err), 0);
	if (!a)
		return;
	incident(&inc, "inc-q", REC_INCIDENT_OPENED, REC_LEVEL_HIGH, 1);
	alerter_submit(a, &inc);
	/* the thread took it off the ring and now waits on the receiver */
	POLL_UNTIL(ok, atomic_load(&rx.arrived) >= 1, WAIT_MS);
	CHECK(ok);
	t0 = alert_mono_us();
	for (int i = 0; i < 10; i++) {
		snprintf(uid, sizeof uid, "inc-q%d", i);
		incident(&inc, uid, REC_INCIDENT_OPENED, REC_LEVEL_HIGH, 1);
		alerter_submit(a, &inc);
	}
	/* no waiting: a submit that waited for room would wait for the hold,
	 * which only ends below */
	CHECK(alert_mono_us() - t0 < 5 * S);
	alerter_get_stats(a, &st);
	CHECK_EQ_INT(st.dropped_queue, 6);       /* 4 fit */
	atomic_store(&rx.hold, 0);
	CHECK(wait_posts("/hook", 5));
	alerter_stop(a, S);
	CHECK_EQ_INT(posts_to("/hook"), 5);
	CHECK_EQ_INT(count_key("inc-q3-high"), 1);
	CHECK_EQ_INT(count_key("inc-q4-high"), 0);
}

/* An open incident's Alertmanager alert is re-posted so it does not expire. */
static void test_refresh(void)
{
	struct alerter_options o;
	struct alerter *a = NULL;
	struct alerter_stats st;
	struct rec_incident inc;
	char err[512];
	json_t *j;
	bool ok;

	receiver_reset(200);
	options(&o, false, true, REC_LEVEL_HIGH);
	o.refresh_us = 300000;
	CHECK_EQ_INT(alerter_start(&o, &a, err, sizeof err), 0);
	if (!a)
		return;
	incident(&inc, "inc-open", REC_INCIDENT_OPENED, REC_LEVEL_HIGH, 1);
	alerter_submit(a, &inc);
	incident(&inc, "inc-open", REC_INCIDENT_UPDATED, REC_LEVEL_HIGH, 64);
	alerter_submit(a, &inc);
	CHECK(wait_posts("/api/v2/alerts", 3));   /* the alert, then two refreshes */
	/* counted once the answer is back, a moment after the receiver has the post */
	POLL_UNTIL(ok, (alerter_get_stats(a, &st), st.sink[ALERT_SINK_ALERTMANAGER].refreshes >= 2), WAIT_MS);
	CHECK(ok);
	CHECK_EQ_INT(st.sink[ALERT_SINK_ALERTMANAGER].sent, 1);
	/* a refresh carries what the incident became since */
	j = post_json("/api/v2/alerts", 2);
	CHECK(json_array_size(j) == 1 && !strcmp(am_label(j, 0, "severity"), "high"));
	{
		json_t *d = json_object_get(json_object_get(json_array_get(j, 0), "annotations"), "description");
		CHECK(json_is_string(d) && strstr(json_string_value(d), "64 anomalous flows") != NULL);
	}
	json_decref(j);
	alerter_stop(a, S);
}

/* SIGHUP: a new URL and level apply to what is spooled and what comes. */
static void test_reload(void)
{
	struct alerter_options o;
	struct alerter *a = NULL;
	struct rec_incident inc;
	struct cfg_alerts c;
	struct alerter_stats st;
	char err[512];
	bool ok;

	receiver_reset(200);
	options(&o, true, false, REC_LEVEL_HIGH);
	snprintf(o.cfg.webhook_url, sizeof o.cfg.webhook_url, "http://127.0.0.1:1/nowhere");
	CHECK_EQ_INT(alerter_start(&o, &a, err, sizeof err), 0);
	if (!a)
		return;
	incident(&inc, "inc-r1", REC_INCIDENT_OPENED, REC_LEVEL_HIGH, 1);
	alerter_submit(a, &inc);
	/* spooled and tried under the old settings before the reload, or the
	 * new min_level would filter it out */
	POLL_UNTIL(ok, (alerter_get_stats(a, &st), st.sink[ALERT_SINK_WEBHOOK].failures >= 1), WAIT_MS);
	CHECK(ok);
	c = o.cfg;
	snprintf(c.webhook_url, sizeof c.webhook_url, "http://127.0.0.1:%u/hook2", port);
	c.min_level = REC_LEVEL_CRITICAL;
	CHECK_EQ_INT(alerter_reload(a, &c, err, sizeof err), 0);
	CHECK(wait_posts("/hook2", 1));
	incident(&inc, "inc-r2", REC_INCIDENT_OPENED, REC_LEVEL_HIGH, 1);
	alerter_submit(a, &inc);                 /* below the new min_level */
	incident(&inc, "inc-r3", REC_INCIDENT_OPENED, REC_LEVEL_CRITICAL, 1);
	alerter_submit(a, &inc);
	CHECK(wait_posts("/hook2", 2));
	/* a bad URL or another spool is refused; the running one stays */
	snprintf(c.webhook_url, sizeof c.webhook_url, "http://exa mple/");
	CHECK_EQ_INT(alerter_reload(a, &c, err, sizeof err), -EINVAL);
	CHECK(strstr(err, "webhook_url") != NULL);
	c = o.cfg;
	snprintf(c.spool_path, sizeof c.spool_path, "%s/other", dir);
	CHECK_EQ_INT(alerter_reload(a, &c, err, sizeof err), -EBUSY);
	alerter_stop(a, S);
	CHECK_EQ_INT(count_key("inc-r1-high"), 1);
	CHECK_EQ_INT(count_key("inc-r2-high"), 0);
	CHECK_EQ_INT(count_key("inc-r3-critical"), 1);
	CHECK_EQ_INT(posts_to("/hook2"), 2);
}

static void test_bad_config(void)
{
	struct alerter_options o;
	struct alerter *a = NULL;
	char err[512];

	options(&o, true, false, REC_LEVEL_HIGH);
	snprintf(o.cfg.webhook_url, sizeof o.cfg.webhook_url, "http://exa mple/");
	CHECK_EQ_INT(alerter_start(&o, &a, err, sizeof err), -EINVAL);
	CHECK(strstr(err, "webhook_url") != NULL);
	options(&o, false, true, REC_LEVEL_HIGH);
	snprintf(o.cfg.spool_path, sizeof o.cfg.spool_path, "%s/missing/spool", dir);
	CHECK(alerter_start(&o, &a, err, sizeof err) < 0);
	CHECK(strstr(err, "missing/spool") != NULL);
	CHECK(a == NULL);
}

int main(void)
{
	struct MHD_Daemon *d;
	const char *scale;
	char cmd[300];

	snprintf(dir, sizeof dir, "/tmp/nad-alerter-test.XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(spool, sizeof spool, "%s/spool", dir);
	scale = getenv("NAD_TEST_TIME_SCALE");
	if (scale && atoi(scale) > 0)
		time_scale = (unsigned)atoi(scale);
	d = receiver_start();
	CHECK(d != NULL && port != 0);
	if (d) {
		test_dedup_and_resolution();
		test_outage_and_restart();
		test_rate_limit();
		test_rejected();
		test_bounded_stop();
		test_queue_overflow();
		test_refresh();
		test_reload();
		test_bad_config();
		MHD_stop_daemon(d);
	}
	receiver_reset(200);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return check_exit();
}
#else
int main(void)
{
	fprintf(stderr, "test_alerter needs libmicrohttpd for its receiver\n");
	return 1;
}
#endif
