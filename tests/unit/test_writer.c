/* test_writer.c - the writer thread: everything queued reaches both sinks,
 * a full queue drops and counts without blocking, stop drains, many
 * producers lose nothing, reopen follows a rotation. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "check.h"
#include "sink/writer.h"

static char dir[] = "/tmp/nad-test-writer-XXXXXX";

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void anomaly(struct rec_anomaly *a, int producer, int i)
{
	memset(a, 0, sizeof *a);
	a->first_ts_us = 1714564800000000ULL + (uint64_t)i;
	a->last_ts_us = a->first_ts_us + 1;
	snprintf(a->src, sizeof a->src, "10.0.%d.1", producer);
	snprintf(a->dst, sizeof a->dst, "10.9.9.9");
	a->dport = (uint16_t)i;
	a->proto = 17;
	a->score = 75;
	a->level = REC_LEVEL_MEDIUM;
	snprintf(a->category, sizeof a->category, "unknown");
	snprintf(a->incident_uid, sizeof a->incident_uid, "u%d", producer);
}

static long query_int(const char *db_path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *s;
	long v = -1;

	if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return v;
}

static long count_lines(const char *path)
{
	FILE *f = fopen(path, "r");
	long n = 0;
	int c, last = '\n';

	if (!f)
		return -1;
	while ((c = fgetc(f)) != EOF) {
		n += c == '\n';
		last = c;
	}
	fclose(f);
	CHECK(last == '\n');
	return n;
}

static void paths(const char *name, char *log, char *db, size_t len)
{
	snprintf(log, len, "%s/%s.jsonl", dir, name);
	snprintf(db, len, "%s/%s.db", dir, name);
}

static void test_all_record_types(void)
{
	char log[256], db[256], err[512];
	struct writer *w;
	struct writer_options o = { .queue_size = 64 };
	struct rec_anomaly a;
	struct rec_incident inc;

	paths("types", log, db, sizeof log);
	o.jsonl_path = log;
	o.database_path = db;
	int r = writer_start(&o, &w, err, sizeof err);
	if (r)
		fprintf(stderr, "%s\n", err);
	CHECK_EQ_INT(r, 0);
	if (r)
		return;
	for (int i = 0; i < 10; i++) {
		anomaly(&a, 0, i);
		CHECK(writer_add_anomaly(w, &a));
	}
	memset(&inc, 0, sizeof inc);
	snprintf(inc.uid, sizeof inc.uid, "u0");
	snprintf(inc.host, sizeof inc.host, "10.0.0.1");
	inc.level = REC_LEVEL_MEDIUM;
	inc.event = REC_INCIDENT_OPENED;
	CHECK(writer_add_incident(w, &inc));
	inc.event = REC_INCIDENT_UPDATED;
	inc.anomalies = 10;
	CHECK(writer_add_incident(w, &inc));
	struct store_learning l = { .state = "learning", .flows = 42, .min_flows = 100 };
	CHECK(writer_set_learning(w, &l));
	struct store_traffic t = { "udp", "well_known", 3, 4, 5 };
	CHECK(writer_add_traffic(w, &t));
	CHECK(writer_add_traffic(w, &t));
	CHECK(writer_set_status(w, "model", "/var/lib/nad/model.tflite"));
	struct writer_rec rec = { .type = WRITER_STATUS };
	snprintf(rec.u.status.key, sizeof rec.u.status.key, "packets");
	snprintf(rec.u.status.value, sizeof rec.u.status.value, "12345");
	CHECK(writer_enqueue(w, &rec));

	/* flush: everything is on disk and visible to another reader now */
	CHECK_EQ_INT(writer_flush(w), 0);
	CHECK_EQ_INT(query_int(db, "SELECT count(*) FROM anomalies"), 10);
	CHECK_EQ_INT(query_int(db, "SELECT count(*) FROM incidents"), 1);
	CHECK_EQ_INT(query_int(db, "SELECT anomalies FROM incidents"), 10);
	CHECK_EQ_INT(query_int(db, "SELECT flows FROM learning"), 42);
	CHECK_EQ_INT(query_int(db, "SELECT flows FROM traffic_mix"), 6);
	CHECK_EQ_INT(query_int(db, "SELECT value FROM service_status WHERE key='packets'"), 12345);
	CHECK_EQ_INT(count_lines(log), 12);     /* 10 anomalies + 2 incident events */

	struct writer_stats st;
	writer_get_stats(w, &st);
	CHECK(st.enqueued == 17 && st.written == 17 && st.dropped == 0 && st.depth == 0);
	CHECK_EQ_INT(st.capacity, 64);
	CHECK_EQ_INT(writer_stop(w), 0);
}

/* The database is locked by someone else, so the writer thread is stuck:
 * the queue fills, further records are dropped and counted, and no enqueue
 * waits. Once the lock goes, everything that was accepted is written. */
static void test_full_queue_drops_without_blocking(void)
{
	char log[256], db[256], err[512];
	struct writer *w;
	struct writer_options o = { .queue_size = 16, .batch_max = 4 };
	struct rec_anomaly a;

	paths("full", log, db, sizeof log);
	o.jsonl_path = log;
	o.database_path = db;
	CHECK_EQ_INT(writer_start(&o, &w, err, sizeof err), 0);

	sqlite3 *other;
	CHECK(sqlite3_open(db, &other) == SQLITE_OK);
	CHECK(sqlite3_exec(other, "BEGIN EXCLUSIVE", NULL, NULL, NULL) == SQLITE_OK);

	enum { ATTEMPTS = 5000 };
	int accepted = 0;
	uint64_t worst = 0;
	for (int i = 0; i < ATTEMPTS; i++) {
		anomaly(&a, 1, i);
		uint64_t t0 = now_ns();
		accepted += writer_add_anomaly(w, &a);
		uint64_t dt = now_ns() - t0;
		if (dt > worst)
			worst = dt;
	}
	/* 16 slots, and at most one batch of 4 taken out before the lock bit */
	CHECK(accepted >= 16 && accepted <= 20);
	CHECK(writer_dropped(w) == (uint64_t)(ATTEMPTS - accepted));
	CHECK(worst < 20 * 1000000ULL);   /* generous for a loaded machine; a block would be 5 s */

	sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(other);
	CHECK_EQ_INT(writer_flush(w), 0);
	struct writer_stats st;
	writer_get_stats(w, &st);
	CHECK(st.enqueued == (uint64_t)accepted);
	CHECK(st.db_errors == 0);
	CHECK_EQ_INT(writer_stop(w), 0);
	CHECK_EQ_INT(query_int(db, "SELECT count(*) FROM anomalies"), accepted);
	CHECK_EQ_INT(count_lines(log), accepted);
}

/* Stop right after queueing: stop drains everything first. */
static void test_stop_drains(void)
{
	char log[256], db[256], err[512];
	struct writer *w;
	struct writer_options o = { .queue_size = 4096 };
	struct rec_anomaly a;

	paths("drain", log, db, sizeof log);
	o.jsonl_path = log;
	o.database_path = db;
	CHECK_EQ_INT(writer_start(&o, &w, err, sizeof err), 0);
	for (int i = 0; i < 3000; i++) {
		anomaly(&a, 2, i);
		CHECK(writer_add_anomaly(w, &a));
	}
	CHECK_EQ_INT(writer_stop(w), 0);
	CHECK_EQ_INT(query_int(db, "SELECT count(*) FROM anomalies"), 3000);
	CHECK_EQ_INT(query_int(db, "SELECT count(DISTINCT dport) FROM anomalies"), 3000);
	CHECK_EQ_INT(count_lines(log), 3000);
}

struct producer {
	struct writer *w;
	int id, n, accepted;
};

static void *produce(void *arg)
{
	struct producer *p = arg;
	struct rec_anomaly a;

	for (int i = 0; i < p->n; i++) {
		anomaly(&a, p->id, i);
		p->accepted += writer_add_anomaly(p->w, &a);
	}
	return NULL;
}

/* Several threads enqueue at once: every accepted record is written once. */
static void test_many_producers(void)
{
	char db[256], log[256], err[512];
	struct writer *w;
	struct writer_options o = { .queue_size = 256 };
	enum { P = 4, N = 2000 };
	struct producer p[P];
	pthread_t th[P];

	paths("multi", log, db, sizeof log);
	o.database_path = db;   /* database only */
	CHECK_EQ_INT(writer_start(&o, &w, err, sizeof err), 0);
	for (int i = 0; i < P; i++) {
		p[i] = (struct producer){ w, i, N, 0 };
		pthread_create(&th[i], NULL, produce, &p[i]);
	}
	int total = 0;
	for (int i = 0; i < P; i++) {
		pthread_join(th[i], NULL);
		total += p[i].accepted;
	}
	uint64_t dropped = writer_dropped(w);
	CHECK_EQ_INT(writer_stop(w), 0);
	CHECK((uint64_t)total + dropped == P * N);
	CHECK_EQ_INT(query_int(db, "SELECT count(*) FROM anomalies"), total);
	/* no record written twice */
	CHECK_EQ_INT(query_int(db, "SELECT count(*) FROM (SELECT src, dport FROM anomalies GROUP BY src, dport HAVING count(*) > 1)"), 0);
	CHECK(access(log, F_OK) != 0);
}

static void test_reopen(void)
{
	char log[256], db[256], rotated[300], err[512];
	struct writer *w;
	struct writer_options o = { .queue_size = 64 };
	struct rec_anomaly a;

	paths("rot", log, db, sizeof log);
	snprintf(rotated, sizeof rotated, "%s.1", log);
	o.jsonl_path = log;
	CHECK_EQ_INT(writer_start(&o, &w, err, sizeof err), 0);
	anomaly(&a, 3, 1);
	CHECK(writer_add_anomaly(w, &a));
	CHECK_EQ_INT(writer_flush(w), 0);
	CHECK(rename(log, rotated) == 0);
	writer_reopen(w);
	anomaly(&a, 3, 2);
	CHECK(writer_add_anomaly(w, &a));
	CHECK_EQ_INT(writer_stop(w), 0);
	CHECK_EQ_INT(count_lines(rotated), 1);
	CHECK_EQ_INT(count_lines(log), 1);
}

static void test_retention(void)
{
	char db[256], log[256], err[512];
	struct writer *w;
	struct writer_options o = { .queue_size = 64, .retention_us = 3600ULL * 1000000 };
	struct rec_anomaly a;

	paths("retain", log, db, sizeof log);
	o.database_path = db;
	CHECK_EQ_INT(writer_start(&o, &w, err, sizeof err), 0);
	anomaly(&a, 4, 0);
	CHECK(writer_add_anomaly(w, &a));
	anomaly(&a, 4, 1);
	a.last_ts_us += 2 * 3600ULL * 1000000;    /* two hours later: the first is out */
	CHECK(writer_add_anomaly(w, &a));
	CHECK_EQ_INT(writer_stop(w), 0);
	CHECK_EQ_INT(query_int(db, "SELECT count(*) FROM anomalies"), 1);
}

static void test_start_errors(void)
{
	char err[512];
	struct writer *w = NULL;
	struct writer_options o = { .jsonl_path = "/nonexistent/dir/a.jsonl", .queue_size = 16 };

	CHECK_EQ_INT(writer_start(&o, &w, err, sizeof err), -ENOENT);
	CHECK(strstr(err, "'/nonexistent/dir/a.jsonl'") != NULL);
	CHECK(w == NULL);
	o.jsonl_path = NULL;
	o.database_path = "/nonexistent/dir/a.db";
	CHECK(writer_start(&o, &w, err, sizeof err) < 0);
	CHECK(strstr(err, "'/nonexistent/dir/a.db'") != NULL);
	CHECK_EQ_INT(writer_stop(NULL), 0);
}

int main(void)
{
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	test_all_record_types();
	test_full_queue_drops_without_blocking();
	test_stop_drains();
	test_many_producers();
	test_reopen();
	test_retention();
	test_start_errors();
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (!check_failures && system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	return check_exit();
}
