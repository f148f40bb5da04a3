/* test_store.c - the SQLite history: schema and WAL, insert and upsert,
 * query filters and order, retention, status tables, and a writer killed
 * mid-transaction leaving a readable database. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "check.h"
#include "features/features.h"
#include "sink/store_sqlite.h"

#define T0 1714564800000000ULL   /* 2024-05-01T12:00:00Z */
#define S 1000000ULL

static char dir[] = "/tmp/nad-test-store-XXXXXX";

static void anomaly(struct rec_anomaly *a, const char *src, const char *dst, uint64_t ts,
		    double score, int level, const char *uid)
{
	memset(a, 0, sizeof *a);
	a->first_ts_us = ts - S;
	a->last_ts_us = ts;
	snprintf(a->src, sizeof a->src, "%s", src);
	snprintf(a->dst, sizeof a->dst, "%s", dst);
	a->sport = 50000;
	a->dport = 443;
	a->proto = 6;
	snprintf(a->end_reason, sizeof a->end_reason, "fin");
	a->packets_fwd = 10;
	a->bytes_fwd = 1000;
	a->score = score;
	a->level = (uint8_t)level;
	a->error = 2.5;
	a->tail_prob = 0.01;
	snprintf(a->category, sizeof a->category, "scan");
	snprintf(a->explanation, sizeof a->explanation, "odd");
	snprintf(a->incident_uid, sizeof a->incident_uid, "%s", uid);
	a->ntop = 1;
	snprintf(a->top[0].feature, sizeof a->top[0].feature, "%s", feat_registry[3].name);
	a->top[0].value = 42;
	a->top[0].typical_lo = 1;
	a->top[0].typical_hi = 9;
	a->top[0].share = 0.75;
	a->nfeat = (uint16_t)feat_count;
	for (size_t i = 0; i < feat_count; i++)
		a->feat[i] = (double)i + 0.25;
}

static void incident(struct rec_incident *inc, const char *uid, const char *host, int event,
		     int level, uint64_t n, uint64_t last)
{
	memset(inc, 0, sizeof *inc);
	snprintf(inc->uid, sizeof inc->uid, "%s", uid);
	snprintf(inc->host, sizeof inc->host, "%s", host);
	snprintf(inc->role, sizeof inc->role, "attacker");
	snprintf(inc->category, sizeof inc->category, "scan");
	inc->event = (uint8_t)event;
	inc->level = (uint8_t)level;
	inc->score = 60 + (double)level * 5;
	inc->max_anomaly_score = 90;
	inc->anomalies = n;
	inc->first_ts_us = T0;
	inc->last_ts_us = last;
	snprintf(inc->summary, sizeof inc->summary, "%s scanned", host);
}

struct collect {
	int n;
	char src[16][REC_ADDR_MAX];
	double score[16];
	uint64_t ts[16];
	struct rec_anomaly first;
	struct rec_incident inc[8];
};

static int collect_anomaly(const struct rec_anomaly *a, void *user)
{
	struct collect *c = user;
	if (c->n == 0)
		c->first = *a;
	if (c->n < 16) {
		snprintf(c->src[c->n], REC_ADDR_MAX, "%s", a->src);
		c->score[c->n] = a->score;
		c->ts[c->n] = a->last_ts_us;
	}
	c->n++;
	return 0;
}

static int collect_incident(const struct rec_incident *inc, void *user)
{
	struct collect *c = user;
	if (c->n < 8)
		c->inc[c->n] = *inc;
	c->n++;
	return 0;
}

static void test_basic(void)
{
	char path[256], err[512], buf[64];
	struct store *st;
	struct rec_anomaly a;
	struct rec_incident inc;

	snprintf(path, sizeof path, "%s/basic.db", dir);
	int r = store_open(path, &st, err, sizeof err);
	if (r)
		fprintf(stderr, "%s\n", err);
	CHECK_EQ_INT(r, 0);
	if (r)
		return;
	CHECK_EQ_INT(store_journal_mode(st, buf, sizeof buf), 0);
	CHECK(!strcmp(buf, "wal"));

	/* one batch */
	CHECK_EQ_INT(store_begin(st), 0);
	anomaly(&a, "192.168.1.10", "192.168.1.25", T0 + 10 * S, 72, REC_LEVEL_MEDIUM, "i1");
	CHECK_EQ_INT(store_add_anomaly(st, &a), 0);
	anomaly(&a, "192.168.1.10", "192.168.1.26", T0 + 20 * S, 97, REC_LEVEL_CRITICAL, "i1");
	CHECK_EQ_INT(store_add_anomaly(st, &a), 0);
	anomaly(&a, "2001:db8::1", "192.168.1.10", T0 + 30 * S, 55, REC_LEVEL_LOW, "i2");
	a.feat[0] = NAN;
	CHECK_EQ_INT(store_add_anomaly(st, &a), 0);
	anomaly(&a, "10.0.0.5", "10.0.0.6", T0 + 3600 * S, 88, REC_LEVEL_HIGH, "i3");
	CHECK_EQ_INT(store_add_anomaly(st, &a), 0);
	incident(&inc, "i1", "192.168.1.10", REC_INCIDENT_OPENED, REC_LEVEL_MEDIUM, 1, T0 + 10 * S);
	CHECK_EQ_INT(store_put_incident(st, &inc), 0);
	CHECK_EQ_INT(store_commit(st), 0);

	/* upsert: same uid updates the row, no second row */
	incident(&inc, "i1", "192.168.1.10", REC_INCIDENT_UPDATED, REC_LEVEL_CRITICAL, 2, T0 + 20 * S);
	CHECK_EQ_INT(store_put_incident(st, &inc), 0);
	incident(&inc, "i2", "2001:db8::1", REC_INCIDENT_OPENED, REC_LEVEL_LOW, 1, T0 + 30 * S);
	CHECK_EQ_INT(store_put_incident(st, &inc), 0);
	incident(&inc, "i2", "2001:db8::1", REC_INCIDENT_CLOSED, REC_LEVEL_LOW, 1, T0 + 30 * S);
	CHECK_EQ_INT(store_put_incident(st, &inc), 0);

	struct store_filter f = { 0 };
	struct collect c = { 0 };
	CHECK_EQ_INT(store_query_incidents(st, &f, collect_incident, &c), 0);
	CHECK_EQ_INT(c.n, 2);
	/* newest first */
	CHECK(!strcmp(c.inc[0].uid, "i2"));
	CHECK_EQ_INT(c.inc[0].event, REC_INCIDENT_CLOSED);
	CHECK(!strcmp(c.inc[1].uid, "i1"));
	CHECK_EQ_INT(c.inc[1].level, REC_LEVEL_CRITICAL);
	CHECK_EQ_INT(c.inc[1].anomalies, 2);
	CHECK(c.inc[1].last_ts_us == T0 + 20 * S);
	CHECK_EQ_INT(c.inc[1].event, REC_INCIDENT_UPDATED);
	CHECK(!strcmp(c.inc[1].summary, "192.168.1.10 scanned"));

	/* all anomalies, newest first, and a full round trip of one row */
	memset(&c, 0, sizeof c);
	CHECK_EQ_INT(store_query_anomalies(st, &f, collect_anomaly, &c), 0);
	CHECK_EQ_INT(c.n, 4);
	CHECK(!strcmp(c.src[0], "10.0.0.5"));
	CHECK(c.ts[0] > c.ts[1] && c.ts[1] > c.ts[2] && c.ts[2] > c.ts[3]);
	CHECK(!strcmp(c.first.dst, "10.0.0.6"));
	CHECK_EQ_INT(c.first.dport, 443);
	CHECK_EQ_INT(c.first.proto, 6);
	CHECK(c.first.bytes_fwd == 1000);
	CHECK_EQ_INT(c.first.level, REC_LEVEL_HIGH);
	CHECK(!strcmp(c.first.category, "scan"));
	CHECK(!strcmp(c.first.incident_uid, "i3"));
	CHECK_EQ_INT(c.first.ntop, 1);
	CHECK(!strcmp(c.first.top[0].feature, feat_registry[3].name));
	CHECK_NEAR(c.first.top[0].share, 0.75, 1e-12);
	CHECK_EQ_INT(c.first.nfeat, feat_count);
	CHECK_NEAR(c.first.feat[feat_count - 1], (double)(feat_count - 1) + 0.25, 1e-12);

	/* severity order */
	memset(&c, 0, sizeof c);
	f.sort = STORE_SORT_SEVERITY;
	CHECK_EQ_INT(store_query_anomalies(st, &f, collect_anomaly, &c), 0);
	CHECK(c.score[0] == 97 && c.score[1] == 88 && c.score[2] == 72 && c.score[3] == 55);

	/* --min-severity high */
	memset(&c, 0, sizeof c);
	f.min_level = REC_LEVEL_HIGH;
	CHECK_EQ_INT(store_query_anomalies(st, &f, collect_anomaly, &c), 0);
	CHECK_EQ_INT(c.n, 2);

	/* --host matches src or dst; a non-canonical spelling of the address too */
	memset(&c, 0, sizeof c);
	f.min_level = 0;
	snprintf(f.host, sizeof f.host, "192.168.1.10");
	CHECK_EQ_INT(store_query_anomalies(st, &f, collect_anomaly, &c), 0);
	CHECK_EQ_INT(c.n, 3);
	memset(&c, 0, sizeof c);
	snprintf(f.host, sizeof f.host, "2001:DB8:0::0001");
	CHECK_EQ_INT(store_query_anomalies(st, &f, collect_anomaly, &c), 0);
	CHECK_EQ_INT(c.n, 1);
	CHECK(isnan(c.first.feat[0]));       /* NaN stored as JSON null, read back as NaN */
	memset(&c, 0, sizeof c);
	CHECK_EQ_INT(store_query_incidents(st, &f, collect_incident, &c), 0);
	CHECK_EQ_INT(c.n, 1);

	/* --since and --limit */
	memset(&c, 0, sizeof c);
	f.host[0] = '\0';
	f.since_us = T0 + 15 * S;
	f.sort = STORE_SORT_TIME;
	CHECK_EQ_INT(store_query_anomalies(st, &f, collect_anomaly, &c), 0);
	CHECK_EQ_INT(c.n, 3);
	memset(&c, 0, sizeof c);
	f.since_us = 0;
	f.limit = 2;
	CHECK_EQ_INT(store_query_anomalies(st, &f, collect_anomaly, &c), 0);
	CHECK_EQ_INT(c.n, 2);

	/* incidents counted by level since a time */
	uint64_t by[5];
	CHECK_EQ_INT(store_count_incidents(st, T0, by), 0);
	CHECK(by[REC_LEVEL_CRITICAL] == 1 && by[REC_LEVEL_LOW] == 1 && by[REC_LEVEL_HIGH] == 0);
	CHECK_EQ_INT(store_count_incidents(st, T0 + 25 * S, by), 0);
	CHECK(by[REC_LEVEL_CRITICAL] == 0 && by[REC_LEVEL_LOW] == 1);

	/* learning, traffic mix and status */
	struct store_learning l = { 0 }, l2;
	CHECK_EQ_INT(store_get_learning(st, &l2), -ENOENT);
	snprintf(l.state, sizeof l.state, "learning");
	l.started_at_us = T0;
	l.duration_us = 86400 * S;
	l.flows = 10;
	l.min_flows = 1000;
	snprintf(l.model_path, sizeof l.model_path, "/var/lib/nad/model.tflite");
	CHECK_EQ_INT(store_set_learning(st, &l), 0);
	l.flows = 500;
	CHECK_EQ_INT(store_set_learning(st, &l), 0);
	CHECK_EQ_INT(store_get_learning(st, &l2), 0);
	CHECK(l2.flows == 500 && l2.started_at_us == T0 && !strcmp(l2.state, "learning"));
	CHECK(l2.updated_at_us > 0);

	struct store_traffic t = { "tcp", "well_known", 10, 100, 10000 };
	CHECK_EQ_INT(store_add_traffic(st, &t), 0);
	CHECK_EQ_INT(store_add_traffic(st, &t), 0);
	struct store_traffic u = { "udp", "well_known", 5, 5, 500 };
	CHECK_EQ_INT(store_add_traffic(st, &u), 0);
	CHECK_EQ_INT(store_set_status(st, "model", "/tmp/a"), 0);
	CHECK_EQ_INT(store_set_status(st, "model", "/tmp/b"), 0);
	CHECK_EQ_INT(store_get_status(st, "model", buf, sizeof buf), 0);
	CHECK(!strcmp(buf, "/tmp/b"));
	CHECK_EQ_INT(store_get_status(st, "nothing", buf, sizeof buf), -ENOENT);
	store_close(st);

	/* a reader sees it all; the traffic counters added up */
	CHECK_EQ_INT(store_open_readonly(path, &st, err, sizeof err), 0);
	sqlite3 *db;
	CHECK(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
	sqlite3_stmt *s;
	CHECK(sqlite3_prepare_v2(db, "SELECT flows, packets, bytes FROM traffic_mix WHERE proto='tcp'", -1, &s, NULL) == SQLITE_OK);
	CHECK(sqlite3_step(s) == SQLITE_ROW);
	CHECK(sqlite3_column_int(s, 0) == 20 && sqlite3_column_int(s, 2) == 20000);
	sqlite3_finalize(s);
	CHECK(sqlite3_prepare_v2(db, "SELECT version FROM schema_version", -1, &s, NULL) == SQLITE_OK);
	CHECK(sqlite3_step(s) == SQLITE_ROW && sqlite3_column_int(s, 0) == STORE_SCHEMA_VERSION);
	sqlite3_finalize(s);
	CHECK(sqlite3_prepare_v2(db, "SELECT last_time FROM incidents WHERE uid='i1'", -1, &s, NULL) == SQLITE_OK);
	CHECK(sqlite3_step(s) == SQLITE_ROW && !strcmp((const char *)sqlite3_column_text(s, 0), "2024-05-01 12:00:20"));
	sqlite3_finalize(s);
	sqlite3_close(db);
	store_close(st);
}

static int count_rows(const char *path, const char *table)
{
	sqlite3 *db;
	sqlite3_stmt *s;
	char sql[128];
	int n = -1;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		return -1;
	snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table);
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return n;
}

static void test_retention(void)
{
	char path[256], err[512];
	struct store *st;
	struct rec_anomaly a;
	struct rec_incident inc;

	snprintf(path, sizeof path, "%s/ret.db", dir);
	CHECK_EQ_INT(store_open(path, &st, err, sizeof err), 0);
	CHECK_EQ_INT(store_begin(st), 0);
	for (int i = 0; i < 250; i++) {
		anomaly(&a, "10.0.0.1", "10.0.0.2", T0 + (uint64_t)i * S, 60, REC_LEVEL_LOW, "old");
		CHECK_EQ_INT(store_add_anomaly(st, &a), 0);
	}
	anomaly(&a, "10.0.0.1", "10.0.0.2", T0 + 1000 * S, 60, REC_LEVEL_LOW, "new");
	CHECK_EQ_INT(store_add_anomaly(st, &a), 0);
	incident(&inc, "old-closed", "10.0.0.1", REC_INCIDENT_CLOSED, REC_LEVEL_LOW, 250, T0 + 249 * S);
	CHECK_EQ_INT(store_put_incident(st, &inc), 0);
	incident(&inc, "old-open", "10.0.0.9", REC_INCIDENT_OPENED, REC_LEVEL_LOW, 1, T0 + 10 * S);
	CHECK_EQ_INT(store_put_incident(st, &inc), 0);
	CHECK_EQ_INT(store_commit(st), 0);

	/* bounded: 100 at a time, until nothing old is left */
	int r, rounds = 0, total = 0;
	while ((r = store_retain(st, T0 + 500 * S, 100)) > 0) {
		CHECK(r <= 200);
		total += r;
		rounds++;
	}
	CHECK_EQ_INT(r, 0);
	CHECK_EQ_INT(total, 251);       /* 250 anomalies + the closed incident */
	CHECK_EQ_INT(rounds, 3);
	store_close(st);
	CHECK_EQ_INT(count_rows(path, "anomalies"), 1);
	CHECK_EQ_INT(count_rows(path, "incidents"), 1);   /* the open one stays */
}

/* A writer killed with SIGKILL in the middle of its batches leaves a
 * database that opens, passes integrity_check and holds only whole batches. */
static void test_killed_writer(void)
{
	char path[256], err[512];
	enum { BATCH = 50 };

	snprintf(path, sizeof path, "%s/crash.db", dir);
	for (int round = 0; round < 3; round++) {
		int pipefd[2];
		CHECK(pipe(pipefd) == 0);
		pid_t pid = fork();
		if (pid == 0) {
			struct store *st;
			struct rec_anomaly a;
			close(pipefd[0]);
			if (store_open(path, &st, err, sizeof err) < 0)
				_exit(3);
			for (uint64_t i = 0;; i++) {
				store_begin(st);
				for (int k = 0; k < BATCH; k++) {
					anomaly(&a, "10.1.1.1", "10.1.1.2", T0 + i * S, 70, REC_LEVEL_MEDIUM, "x");
					store_add_anomaly(st, &a);
				}
				store_commit(st);
				if (i == 20 && write(pipefd[1], "x", 1) != 1)
					_exit(4);
			}
		}
		close(pipefd[1]);
		char ch;
		CHECK(read(pipefd[0], &ch, 1) == 1);    /* some batches are in */
		struct timespec ts = { 0, (long)(1 + round * 7) * 1000000L };
		nanosleep(&ts, NULL);
		kill(pid, SIGKILL);
		int status;
		waitpid(pid, &status, 0);
		close(pipefd[0]);
		CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

		sqlite3 *db;
		sqlite3_stmt *s;
		CHECK(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK);
		CHECK(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &s, NULL) == SQLITE_OK);
		CHECK(sqlite3_step(s) == SQLITE_ROW && !strcmp((const char *)sqlite3_column_text(s, 0), "ok"));
		sqlite3_finalize(s);
		sqlite3_close(db);
		int n = count_rows(path, "anomalies");
		CHECK(n >= 21 * BATCH * (round + 1));
		CHECK_EQ_INT(n % BATCH, 0);

		/* and the store opens it again for writing */
		struct store *st;
		CHECK_EQ_INT(store_open(path, &st, err, sizeof err), 0);
		store_close(st);
	}
}

static void test_errors(void)
{
	char path[256], err[512];
	struct store *st = NULL;

	CHECK_EQ_INT(store_open_readonly("/nonexistent/nad.db", &st, err, sizeof err), -ENOENT);
	CHECK(strstr(err, "'/nonexistent/nad.db'") != NULL);
	CHECK(st == NULL);
	CHECK(store_open("/nonexistent/nad.db", &st, err, sizeof err) < 0);
	CHECK(strstr(err, "'/nonexistent/nad.db'") != NULL);

	/* not a database */
	snprintf(path, sizeof path, "%s/junk.db", dir);
	FILE *f = fopen(path, "w");
	fputs("this is not an SQLite file, not even close; it is long enough to have a header.....", f);
	fclose(f);
	CHECK(store_open(path, &st, err, sizeof err) < 0);
	CHECK(strstr(err, path) != NULL);

	/* a database from a newer nad */
	snprintf(path, sizeof path, "%s/newer.db", dir);
	CHECK_EQ_INT(store_open(path, &st, err, sizeof err), 0);
	store_close(st);
	sqlite3 *db;
	sqlite3_open(path, &db);
	sqlite3_exec(db, "INSERT INTO schema_version VALUES (99)", NULL, NULL, NULL);
	sqlite3_close(db);
	CHECK_EQ_INT(store_open(path, &st, err, sizeof err), -EPROTO);
	CHECK(strstr(err, "schema version 99") != NULL);
	store_close(NULL);
}

int main(void)
{
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	test_basic();
	test_retention();
	test_killed_writer();
	test_errors();
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (!check_failures && system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	return check_exit();
}
