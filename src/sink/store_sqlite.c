/* store_sqlite.c - SQLite history of anomalies and incidents, service state. */
#include "sink/store_sqlite.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#if defined(NAD_HAVE_SQLITE) && defined(NAD_HAVE_JANSSON)
#include <math.h>
#include <sqlite3.h>

#include "features/features.h"
#include "sink/sink_jsonl.h"

/* Times are microseconds since the epoch (packet time for anomalies and
 * incidents, wall clock for updated_at); the generated *_time columns are
 * there for people reading the file with sqlite3. Levels are stored both as
 * text and as a number so filters can compare them. */
static const char schema_sql[] =
	"CREATE TABLE incidents ("
	" id INTEGER PRIMARY KEY,"
	" uid TEXT NOT NULL UNIQUE,"
	" host TEXT NOT NULL,"
	" role TEXT NOT NULL,"
	" category TEXT NOT NULL,"
	" level TEXT NOT NULL,"
	" level_num INTEGER NOT NULL,"
	" score REAL NOT NULL,"
	" max_anomaly_score REAL NOT NULL,"
	" anomalies INTEGER NOT NULL,"
	" distinct_peers INTEGER NOT NULL,"
	" distinct_ports INTEGER NOT NULL,"
	" first_ts INTEGER NOT NULL,"
	" last_ts INTEGER NOT NULL,"
	" state TEXT NOT NULL,"                       /* open | closed */
	" summary TEXT NOT NULL,"
	" explanation TEXT NOT NULL,"
	" updated_at INTEGER NOT NULL,"
	" last_time TEXT GENERATED ALWAYS AS (datetime(last_ts / 1000000, 'unixepoch')) VIRTUAL);"
	"CREATE INDEX incidents_last_ts ON incidents(last_ts);"
	"CREATE INDEX incidents_host ON incidents(host);"
	"CREATE TABLE anomalies ("
	" id INTEGER PRIMARY KEY,"
	" first_ts INTEGER NOT NULL,"
	" last_ts INTEGER NOT NULL,"
	" src TEXT NOT NULL, sport INTEGER NOT NULL,"
	" dst TEXT NOT NULL, dport INTEGER NOT NULL,"
	" proto INTEGER NOT NULL, vlan INTEGER NOT NULL,"
	" end_reason TEXT NOT NULL,"
	" packets_fwd INTEGER NOT NULL, packets_bwd INTEGER NOT NULL,"
	" bytes_fwd INTEGER NOT NULL, bytes_bwd INTEGER NOT NULL,"
	" error REAL, tail_prob REAL,"
	" score REAL NOT NULL,"
	" level TEXT NOT NULL,"
	" level_num INTEGER NOT NULL,"
	" category TEXT NOT NULL,"
	" explanation TEXT NOT NULL,"
	" top_features TEXT NOT NULL,"                 /* JSON array */
	" features TEXT NOT NULL,"                     /* JSON object, name -> value */
	" incident_uid TEXT NOT NULL,"
	" last_time TEXT GENERATED ALWAYS AS (datetime(last_ts / 1000000, 'unixepoch')) VIRTUAL);"
	"CREATE INDEX anomalies_last_ts ON anomalies(last_ts);"
	"CREATE INDEX anomalies_src ON anomalies(src);"
	"CREATE INDEX anomalies_dst ON anomalies(dst);"
	"CREATE INDEX anomalies_incident ON anomalies(incident_uid);"
	"CREATE TABLE learning ("
	" id INTEGER PRIMARY KEY CHECK (id = 1),"
	" state TEXT NOT NULL,"                       /* learning | detecting */
	" started_at INTEGER NOT NULL,"
	" duration INTEGER NOT NULL,"
	" flows INTEGER NOT NULL,"
	" min_flows INTEGER NOT NULL,"
	" model_path TEXT NOT NULL,"
	" updated_at INTEGER NOT NULL);"
	"CREATE TABLE traffic_mix ("
	" proto TEXT NOT NULL, port_class TEXT NOT NULL,"
	" flows INTEGER NOT NULL, packets INTEGER NOT NULL, bytes INTEGER NOT NULL,"
	" PRIMARY KEY (proto, port_class));"
	"CREATE TABLE service_status ("
	" key TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at INTEGER NOT NULL);";

enum stmt_id {
	S_ANOMALY, S_INCIDENT, S_LEARNING_SET, S_LEARNING_GET, S_TRAFFIC_ADD, S_TRAFFIC_EACH,
	S_STATUS_SET, S_STATUS_GET, S_STATUS_EACH, S_COUNT, S_RETAIN_ANOM, S_RETAIN_INC, S_COUNT_STMTS
};

static const char *const stmt_sql[S_COUNT_STMTS] = {
	[S_ANOMALY] = "INSERT INTO anomalies (first_ts, last_ts, src, sport, dst, dport, proto, vlan,"
		" end_reason, packets_fwd, packets_bwd, bytes_fwd, bytes_bwd, error, tail_prob, score,"
		" level, level_num, category, explanation, top_features, features, incident_uid)"
		" VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
	[S_INCIDENT] = "INSERT INTO incidents (uid, host, role, category, level, level_num, score,"
		" max_anomaly_score, anomalies, distinct_peers, distinct_ports, first_ts, last_ts, state,"
		" summary, explanation, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
		" ON CONFLICT(uid) DO UPDATE SET host = excluded.host, role = excluded.role,"
		" category = excluded.category, level = excluded.level, level_num = excluded.level_num,"
		" score = excluded.score, max_anomaly_score = excluded.max_anomaly_score,"
		" anomalies = excluded.anomalies, distinct_peers = excluded.distinct_peers,"
		" distinct_ports = excluded.distinct_ports, first_ts = min(first_ts, excluded.first_ts),"
		" last_ts = max(last_ts, excluded.last_ts), state = excluded.state,"
		" summary = excluded.summary, explanation = excluded.explanation,"
		" updated_at = excluded.updated_at",
	[S_LEARNING_SET] = "INSERT OR REPLACE INTO learning (id, state, started_at, duration, flows,"
		" min_flows, model_path, updated_at) VALUES (1,?,?,?,?,?,?,?)",
	[S_LEARNING_GET] = "SELECT state, started_at, duration, flows, min_flows, model_path, updated_at"
		" FROM learning WHERE id = 1",
	[S_TRAFFIC_ADD] = "INSERT INTO traffic_mix (proto, port_class, flows, packets, bytes)"
		" VALUES (?,?,?,?,?) ON CONFLICT(proto, port_class) DO UPDATE SET"
		" flows = flows + excluded.flows, packets = packets + excluded.packets,"
		" bytes = bytes + excluded.bytes",
	[S_TRAFFIC_EACH] = "SELECT proto, port_class, flows, packets, bytes FROM traffic_mix"
		" ORDER BY flows DESC, proto, port_class",
	[S_STATUS_SET] = "INSERT OR REPLACE INTO service_status (key, value, updated_at) VALUES (?,?,?)",
	[S_STATUS_GET] = "SELECT value FROM service_status WHERE key = ?",
	[S_STATUS_EACH] = "SELECT key, value, updated_at FROM service_status ORDER BY key",
	[S_COUNT] = "SELECT level_num, count(*) FROM incidents WHERE last_ts >= ? GROUP BY level_num",
	[S_RETAIN_ANOM] = "DELETE FROM anomalies WHERE id IN"
		" (SELECT id FROM anomalies WHERE last_ts < ? ORDER BY last_ts LIMIT ?)",
	[S_RETAIN_INC] = "DELETE FROM incidents WHERE id IN (SELECT id FROM incidents"
		" WHERE state = 'closed' AND last_ts < ? ORDER BY last_ts LIMIT ?)",
};

struct store {
	sqlite3 *db;
	sqlite3_stmt *stmt[S_COUNT_STMTS];
	bool readonly;
	char errmsg[256];
};

static uint64_t wall_us(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (uint64_t)tv.tv_sec * 1000000 + (uint64_t)tv.tv_usec;
}

/* Map an SQLite result code to an errno, remembering SQLite's message. */
static int fail(struct store *st, int rc)
{
	snprintf(st->errmsg, sizeof st->errmsg, "%s", st->db ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc));
	switch (rc & 0xff) {
	case SQLITE_NOMEM: return -ENOMEM;
	case SQLITE_BUSY:
	case SQLITE_LOCKED: return -EBUSY;
	case SQLITE_FULL: return -ENOSPC;
	case SQLITE_READONLY:
	case SQLITE_PERM: return -EACCES;
	case SQLITE_CANTOPEN: return -ENOENT;
	case SQLITE_NOTADB:
	case SQLITE_CORRUPT: return -EBADMSG;
	case SQLITE_CONSTRAINT: return -EINVAL;
	default: return -EIO;
	}
}

const char *store_errmsg(const struct store *st)
{
	return st ? st->errmsg : "no database";
}

static int exec(struct store *st, const char *sql)
{
	int rc = sqlite3_exec(st->db, sql, NULL, NULL, NULL);
	return rc == SQLITE_OK ? 0 : fail(st, rc);
}

static sqlite3_stmt *prep(struct store *st, enum stmt_id id)
{
	sqlite3_stmt *s = st->stmt[id];

	if (!s) {
		if (sqlite3_prepare_v3(st->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
				       &st->stmt[id], NULL) != SQLITE_OK) {
			fail(st, sqlite3_errcode(st->db));
			return NULL;
		}
		s = st->stmt[id];
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return s;
}

/* Run a statement that returns no rows. */
static int step_done(struct store *st, sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);
	int r = rc == SQLITE_DONE ? 0 : fail(st, rc);

	sqlite3_reset(s);
	return r;
}

static int schema_version(struct store *st, int *ret)
{
	sqlite3_stmt *s;
	int rc, r = 0;

	rc = sqlite3_prepare_v2(st->db, "SELECT max(version) FROM schema_version", -1, &s, NULL);
	if (rc != SQLITE_OK)
		return fail(st, rc);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*ret = sqlite3_column_type(s, 0) == SQLITE_NULL ? 0 : sqlite3_column_int(s, 0);
	else
		r = fail(st, rc);
	sqlite3_finalize(s);
	return r;
}

static int open_common(const char *path, bool readonly, struct store **ret_store, char *err, size_t errlen)
{
	struct store *st = calloc(1, sizeof *st);
	int flags = readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	int rc, r, version = 0;

	if (!st) {
		snprintf(err, errlen, "cannot open database '%s': out of memory", path);
		return -ENOMEM;
	}
	st->readonly = readonly;
	rc = sqlite3_open_v2(path, &st->db, flags | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		r = fail(st, rc);
		goto fail;
	}
	/* A reader waits for the writer's checkpoint rather than failing. */
	sqlite3_busy_timeout(st->db, 5000);
	sqlite3_extended_result_codes(st->db, 1);
	if (!readonly) {
		/* WAL + NORMAL: commits do not fsync, checkpoints do; a power cut
		 * can lose the last commits but never corrupts the file. */
		if ((r = exec(st, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
			      " PRAGMA foreign_keys=ON;"
			      " CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);")) < 0)
			goto fail;
		if ((r = exec(st, "BEGIN IMMEDIATE")) < 0)
			goto fail;
		if ((r = schema_version(st, &version)) < 0) {
			exec(st, "ROLLBACK");
			goto fail;
		}
		if (version == 0) {
			if ((r = exec(st, schema_sql)) < 0 ||
			    (r = exec(st, "INSERT INTO schema_version VALUES (1)")) < 0) {
				exec(st, "ROLLBACK");
				goto fail;
			}
			version = STORE_SCHEMA_VERSION;
		}
		if ((r = exec(st, "COMMIT")) < 0)
			goto fail;
	} else {
		if ((r = schema_version(st, &version)) < 0)
			goto fail;
	}
	if (version > STORE_SCHEMA_VERSION || version < 1) {
		snprintf(st->errmsg, sizeof st->errmsg,
			 "schema version %d, this nad knows %d", version, STORE_SCHEMA_VERSION);
		r = -EPROTO;
		goto fail;
	}
	*ret_store = st;
	return 0;
fail:
	snprintf(err, errlen, "cannot open database '%s': %s", path, st->errmsg);
	store_close(st);
	return r;
}

int store_open(const char *path, struct store **ret_store, char *err, size_t errlen)
{
	return open_common(path, false, ret_store, err, errlen);
}

int store_open_readonly(const char *path, struct store **ret_store, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");

	/* SQLite would report "unable to open database file"; say why. */
	if (!f) {
		int r = -errno;
		snprintf(err, errlen, "cannot open database '%s': %s", path, strerror(errno));
		return r;
	}
	fclose(f);
	return open_common(path, true, ret_store, err, errlen);
}

void store_close(struct store *st)
{
	if (!st)
		return;
	for (int i = 0; i < S_COUNT_STMTS; i++)
		sqlite3_finalize(st->stmt[i]);
	sqlite3_close(st->db);
	free(st);
}

int store_begin(struct store *st)
{
	return exec(st, "BEGIN IMMEDIATE");
}

int store_commit(struct store *st)
{
	return exec(st, "COMMIT");
}

int store_rollback(struct store *st)
{
	return sqlite3_get_autocommit(st->db) ? 0 : exec(st, "ROLLBACK");
}

/* Fixed-size text fields, bounded even without a terminator. */
static void bind_text(sqlite3_stmt *s, int i, const char *v, size_t size)
{
	sqlite3_bind_text(s, i, v, (int)strnlen(v, size), SQLITE_TRANSIENT);
}
#define BIND_TEXT(s, i, field) bind_text(s, i, field, sizeof(field))

static void bind_json(sqlite3_stmt *s, int i, json_t *j)
{
	char *text = j ? json_dumps(j, SINK_JSON_FLAGS) : NULL;

	if (text)
		sqlite3_bind_text(s, i, text, -1, free);
	else
		sqlite3_bind_null(s, i);
	json_decref(j);
}

/* SQLite integers are signed 64-bit; counters never get near the top. */
static void bind_u64(sqlite3_stmt *s, int i, uint64_t v)
{
	sqlite3_bind_int64(s, i, v > INT64_MAX ? INT64_MAX : (sqlite3_int64)v);
}

int store_add_anomaly(struct store *st, const struct rec_anomaly *a)
{
	sqlite3_stmt *s = prep(st, S_ANOMALY);
	int i = 1;

	if (!s)
		return -EIO;
	bind_u64(s, i++, a->first_ts_us);
	bind_u64(s, i++, a->last_ts_us);
	BIND_TEXT(s, i++, a->src);
	sqlite3_bind_int(s, i++, a->sport);
	BIND_TEXT(s, i++, a->dst);
	sqlite3_bind_int(s, i++, a->dport);
	sqlite3_bind_int(s, i++, a->proto);
	sqlite3_bind_int(s, i++, a->vlan);
	BIND_TEXT(s, i++, a->end_reason);
	bind_u64(s, i++, a->packets_fwd);
	bind_u64(s, i++, a->packets_bwd);
	bind_u64(s, i++, a->bytes_fwd);
	bind_u64(s, i++, a->bytes_bwd);
	sqlite3_bind_double(s, i++, a->error);      /* NaN binds as NULL */
	sqlite3_bind_double(s, i++, a->tail_prob);
	sqlite3_bind_double(s, i++, a->score);
	sqlite3_bind_text(s, i++, rec_level_name(a->level), -1, SQLITE_STATIC);
	sqlite3_bind_int(s, i++, a->level);
	BIND_TEXT(s, i++, a->category);
	BIND_TEXT(s, i++, a->explanation);
	bind_json(s, i++, sink_json_top_features(a));
	bind_json(s, i++, sink_json_features(a));
	BIND_TEXT(s, i++, a->incident_uid);
	return step_done(st, s);
}

int store_put_incident(struct store *st, const struct rec_incident *inc)
{
	sqlite3_stmt *s = prep(st, S_INCIDENT);
	int i = 1;

	if (!s)
		return -EIO;
	BIND_TEXT(s, i++, inc->uid);
	BIND_TEXT(s, i++, inc->host);
	BIND_TEXT(s, i++, inc->role);
	BIND_TEXT(s, i++, inc->category);
	sqlite3_bind_text(s, i++, rec_level_name(inc->level), -1, SQLITE_STATIC);
	sqlite3_bind_int(s, i++, inc->level);
	sqlite3_bind_double(s, i++, inc->score);
	sqlite3_bind_double(s, i++, inc->max_anomaly_score);
	bind_u64(s, i++, inc->anomalies);
	sqlite3_bind_int64(s, i++, inc->distinct_peers);
	sqlite3_bind_int64(s, i++, inc->distinct_ports);
	bind_u64(s, i++, inc->first_ts_us);
	bind_u64(s, i++, inc->last_ts_us);
	sqlite3_bind_text(s, i++, inc->event == REC_INCIDENT_CLOSED ? "closed" : "open", -1, SQLITE_STATIC);
	BIND_TEXT(s, i++, inc->summary);
	BIND_TEXT(s, i++, inc->explanation);
	bind_u64(s, i++, wall_us());
	return step_done(st, s);
}

int store_set_learning(struct store *st, const struct store_learning *l)
{
	sqlite3_stmt *s = prep(st, S_LEARNING_SET);

	if (!s)
		return -EIO;
	BIND_TEXT(s, 1, l->state);
	bind_u64(s, 2, l->started_at_us);
	bind_u64(s, 3, l->duration_us);
	bind_u64(s, 4, l->flows);
	bind_u64(s, 5, l->min_flows);
	BIND_TEXT(s, 6, l->model_path);
	bind_u64(s, 7, l->updated_at_us ? l->updated_at_us : wall_us());
	return step_done(st, s);
}

static void column_text(sqlite3_stmt *s, int col, char *buf, size_t len)
{
	const unsigned char *t = sqlite3_column_text(s, col);
	snprintf(buf, len, "%s", t ? (const char *)t : "");
}

static uint64_t column_u64(sqlite3_stmt *s, int col)
{
	sqlite3_int64 v = sqlite3_column_int64(s, col);
	return v < 0 ? 0 : (uint64_t)v;
}

int store_get_learning(struct store *st, struct store_learning *ret)
{
	sqlite3_stmt *s = prep(st, S_LEARNING_GET);
	struct store_learning l;
	int rc;

	if (!s)
		return -EIO;
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE) {
		sqlite3_reset(s);
		return -ENOENT;
	}
	if (rc != SQLITE_ROW) {
		int r = fail(st, rc);
		sqlite3_reset(s);
		return r;
	}
	memset(&l, 0, sizeof l);
	column_text(s, 0, l.state, sizeof l.state);
	l.started_at_us = column_u64(s, 1);
	l.duration_us = column_u64(s, 2);
	l.flows = column_u64(s, 3);
	l.min_flows = column_u64(s, 4);
	column_text(s, 5, l.model_path, sizeof l.model_path);
	l.updated_at_us = column_u64(s, 6);
	sqlite3_reset(s);
	*ret = l;
	return 0;
}

int store_add_traffic(struct store *st, const struct store_traffic *t)
{
	sqlite3_stmt *s = prep(st, S_TRAFFIC_ADD);

	if (!s)
		return -EIO;
	BIND_TEXT(s, 1, t->proto);
	BIND_TEXT(s, 2, t->port_class);
	bind_u64(s, 3, t->flows);
	bind_u64(s, 4, t->packets);
	bind_u64(s, 5, t->bytes);
	return step_done(st, s);
}

int store_each_traffic(struct store *st, store_traffic_fn fn, void *user)
{
	sqlite3_stmt *s = prep(st, S_TRAFFIC_EACH);
	int rc, r = 0;

	if (!s)
		return -EIO;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_traffic t;
		memset(&t, 0, sizeof t);
		column_text(s, 0, t.proto, sizeof t.proto);
		column_text(s, 1, t.port_class, sizeof t.port_class);
		t.flows = column_u64(s, 2);
		t.packets = column_u64(s, 3);
		t.bytes = column_u64(s, 4);
		if ((r = fn(&t, user)) < 0)
			break;
	}
	if (r >= 0 && rc != SQLITE_DONE)
		r = fail(st, rc);
	sqlite3_reset(s);
	return r < 0 ? r : 0;
}

int store_set_status(struct store *st, const char *key, const char *value)
{
	sqlite3_stmt *s = prep(st, S_STATUS_SET);

	if (!s)
		return -EIO;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 2, value, -1, SQLITE_TRANSIENT);
	bind_u64(s, 3, wall_us());
	return step_done(st, s);
}

int store_get_status(struct store *st, const char *key, char *buf, size_t len)
{
	sqlite3_stmt *s = prep(st, S_STATUS_GET);
	int rc, r = 0;

	if (!s)
		return -EIO;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		column_text(s, 0, buf, len);
	else
		r = rc == SQLITE_DONE ? -ENOENT : fail(st, rc);
	sqlite3_reset(s);
	return r;
}

int store_each_status(struct store *st, store_status_fn fn, void *user)
{
	sqlite3_stmt *s = prep(st, S_STATUS_EACH);
	int rc, r = 0;

	if (!s)
		return -EIO;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		char key[64], value[256];
		column_text(s, 0, key, sizeof key);
		column_text(s, 1, value, sizeof value);
		if ((r = fn(key, value, column_u64(s, 2), user)) < 0)
			break;
	}
	if (r >= 0 && rc != SQLITE_DONE)
		r = fail(st, rc);
	sqlite3_reset(s);
	return r < 0 ? r : 0;
}

int store_count_incidents(struct store *st, uint64_t since_us, uint64_t ret_by_level[5])
{
	sqlite3_stmt *s = prep(st, S_COUNT);
	uint64_t counts[5] = { 0 };
	int rc;

	if (!s)
		return -EIO;
	bind_u64(s, 1, since_us);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		int l = sqlite3_column_int(s, 0);
		if (l >= 0 && l < 5)
			counts[l] += column_u64(s, 1);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return fail(st, rc);
	memcpy(ret_by_level, counts, sizeof counts);
	return 0;
}

int store_retain(struct store *st, uint64_t cutoff_us, unsigned max_rows)
{
	int total = 0;
	enum stmt_id ids[2] = { S_RETAIN_ANOM, S_RETAIN_INC };

	for (int k = 0; k < 2; k++) {
		sqlite3_stmt *s = prep(st, ids[k]);
		int r;
		if (!s)
			return -EIO;
		bind_u64(s, 1, cutoff_us);
		sqlite3_bind_int64(s, 2, max_rows);
		if ((r = step_done(st, s)) < 0)
			return r;
		total += sqlite3_changes(st->db);
	}
	return total;
}

int store_journal_mode(struct store *st, char *buf, size_t len)
{
	sqlite3_stmt *s;
	int rc, r = 0;

	rc = sqlite3_prepare_v2(st->db, "PRAGMA journal_mode", -1, &s, NULL);
	if (rc != SQLITE_OK)
		return fail(st, rc);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		column_text(s, 0, buf, len);
	else
		r = fail(st, rc);
	sqlite3_finalize(s);
	return r;
}

/* ---- queries ---- */

/* An address given by a person ("2001:DB8::0001") compares equal to the
 * canonical text the scorer writes ("2001:db8::1"). */
static void canonical_host(const char *in, char *out, size_t len)
{
	unsigned char bin[16];

	if (inet_pton(AF_INET, in, bin) == 1 && inet_ntop(AF_INET, bin, out, (socklen_t)len))
		return;
	if (inet_pton(AF_INET6, in, bin) == 1 && inet_ntop(AF_INET6, bin, out, (socklen_t)len))
		return;
	snprintf(out, len, "%s", in);
}

/* WHERE + ORDER BY + LIMIT for a filter; parameters ?1 since, ?2 level, ?3 host. */
static void build_query(char *sql, size_t len, const char *select, const char *host_cond,
			const struct store_filter *f)
{
	int n = snprintf(sql, len, "%s WHERE last_ts >= ?1 AND level_num >= ?2%s ORDER BY %s",
			 select, f->host[0] ? host_cond : "",
			 f->sort == STORE_SORT_SEVERITY ? "level_num DESC, score DESC, last_ts DESC, id DESC"
							: "last_ts DESC, id DESC");
	if (f->limit && n > 0 && (size_t)n < len)
		snprintf(sql + n, len - (size_t)n, " LIMIT %u", f->limit);
}

static int run_query(struct store *st, const char *sql, const struct store_filter *f,
		     int (*row)(sqlite3_stmt *s, void *fn, void *user), void *fn, void *user)
{
	char host[REC_ADDR_MAX];
	sqlite3_stmt *s;
	int rc, r = 0;

	rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL);
	if (rc != SQLITE_OK)
		return fail(st, rc);
	bind_u64(s, 1, f->since_us);
	sqlite3_bind_int(s, 2, f->min_level);
	if (f->host[0]) {
		canonical_host(f->host, host, sizeof host);
		sqlite3_bind_text(s, 3, host, -1, SQLITE_TRANSIENT);
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		if ((r = row(s, fn, user)) < 0)
			break;
	if (r >= 0 && rc != SQLITE_DONE)
		r = fail(st, rc);
	sqlite3_finalize(s);
	return r < 0 ? r : 0;
}

static void parse_top(struct rec_anomaly *a, const char *text)
{
	json_t *arr = text ? json_loads(text, 0, NULL) : NULL;
	size_t i;
	json_t *o;

	json_array_foreach(arr, i, o) {
		struct rec_contrib *c;
		if (i >= REC_TOP_FEATURES)
			break;
		c = &a->top[i];
		const char *name = json_string_value(json_object_get(o, "feature"));
		snprintf(c->feature, sizeof c->feature, "%s", name ? name : "");
		c->value = json_number_value(json_object_get(o, "value"));
		c->typical_lo = json_number_value(json_object_get(o, "typical_lo"));
		c->typical_hi = json_number_value(json_object_get(o, "typical_hi"));
		c->share = json_number_value(json_object_get(o, "share"));
		a->ntop = (uint8_t)(i + 1);
	}
	json_decref(arr);
}

static void parse_features(struct rec_anomaly *a, const char *text)
{
	json_t *obj = text ? json_loads(text, 0, NULL) : NULL;
	const char *name;
	json_t *v;

	a->nfeat = (uint16_t)(feat_count < REC_FEATURES_MAX ? feat_count : REC_FEATURES_MAX);
	for (size_t i = 0; i < a->nfeat; i++)
		a->feat[i] = NAN;   /* a feature the row lacks (older build) is unknown */
	json_object_foreach(obj, name, v) {
		int k = feat_index(name);
		if (k >= 0 && k < a->nfeat && json_is_number(v))
			a->feat[k] = json_number_value(v);
	}
	json_decref(obj);
}

static double column_real(sqlite3_stmt *s, int col)
{
	return sqlite3_column_type(s, col) == SQLITE_NULL ? NAN : sqlite3_column_double(s, col);
}

static int anomaly_row(sqlite3_stmt *s, void *fn, void *user)
{
	struct rec_anomaly *a = calloc(1, sizeof *a);
	int i = 0, r;

	if (!a)
		return -ENOMEM;
	a->first_ts_us = column_u64(s, i++);
	a->last_ts_us = column_u64(s, i++);
	column_text(s, i++, a->src, sizeof a->src);
	a->sport = (uint16_t)sqlite3_column_int(s, i++);
	column_text(s, i++, a->dst, sizeof a->dst);
	a->dport = (uint16_t)sqlite3_column_int(s, i++);
	a->proto = (uint8_t)sqlite3_column_int(s, i++);
	a->vlan = (uint16_t)sqlite3_column_int(s, i++);
	column_text(s, i++, a->end_reason, sizeof a->end_reason);
	a->packets_fwd = column_u64(s, i++);
	a->packets_bwd = column_u64(s, i++);
	a->bytes_fwd = column_u64(s, i++);
	a->bytes_bwd = column_u64(s, i++);
	a->error = column_real(s, i++);
	a->tail_prob = column_real(s, i++);
	a->score = column_real(s, i++);
	a->level = (uint8_t)sqlite3_column_int(s, i++);
	column_text(s, i++, a->category, sizeof a->category);
	column_text(s, i++, a->explanation, sizeof a->explanation);
	parse_top(a, (const char *)sqlite3_column_text(s, i++));
	parse_features(a, (const char *)sqlite3_column_text(s, i++));
	column_text(s, i++, a->incident_uid, sizeof a->incident_uid);
	r = ((store_anomaly_fn)fn)(a, user);
	free(a);
	return r;
}

int store_query_anomalies(struct store *st, const struct store_filter *f, store_anomaly_fn fn, void *user)
{
	char sql[1024];

	build_query(sql, sizeof sql,
		    "SELECT first_ts, last_ts, src, sport, dst, dport, proto, vlan, end_reason,"
		    " packets_fwd, packets_bwd, bytes_fwd, bytes_bwd, error, tail_prob, score, level_num,"
		    " category, explanation, top_features, features, incident_uid FROM anomalies",
		    " AND (src = ?3 OR dst = ?3)", f);
	return run_query(st, sql, f, anomaly_row, (void *)fn, user);
}

static int incident_row(sqlite3_stmt *s, void *fn, void *user)
{
	struct rec_incident inc;
	char state[16];
	int i = 0;

	memset(&inc, 0, sizeof inc);
	column_text(s, i++, inc.uid, sizeof inc.uid);
	column_text(s, i++, inc.host, sizeof inc.host);
	column_text(s, i++, inc.role, sizeof inc.role);
	column_text(s, i++, inc.category, sizeof inc.category);
	inc.level = (uint8_t)sqlite3_column_int(s, i++);
	inc.score = column_real(s, i++);
	inc.max_anomaly_score = column_real(s, i++);
	inc.anomalies = column_u64(s, i++);
	inc.distinct_peers = (uint32_t)column_u64(s, i++);
	inc.distinct_ports = (uint32_t)column_u64(s, i++);
	inc.first_ts_us = column_u64(s, i++);
	inc.last_ts_us = column_u64(s, i++);
	column_text(s, i++, state, sizeof state);
	inc.event = !strcmp(state, "closed") ? REC_INCIDENT_CLOSED : REC_INCIDENT_UPDATED;
	column_text(s, i++, inc.summary, sizeof inc.summary);
	column_text(s, i++, inc.explanation, sizeof inc.explanation);
	return ((store_incident_fn)fn)(&inc, user);
}

int store_query_incidents(struct store *st, const struct store_filter *f, store_incident_fn fn, void *user)
{
	char sql[1024];

	build_query(sql, sizeof sql,
		    "SELECT uid, host, role, category, level_num, score, max_anomaly_score, anomalies,"
		    " distinct_peers, distinct_ports, first_ts, last_ts, state, summary, explanation"
		    " FROM incidents", " AND host = ?3", f);
	return run_query(st, sql, f, incident_row, (void *)fn, user);
}

#else /* the core builds without SQLite or jansson; the history does not */

int store_open(const char *path, struct store **ret_store, char *err, size_t errlen)
{
	snprintf(err, errlen, "cannot open database '%s': nad was built without SQLite or jansson", path);
	return -ENOTSUP;
}

int store_open_readonly(const char *path, struct store **ret_store, char *err, size_t errlen)
{
	return store_open(path, ret_store, err, errlen);
}

void store_close(struct store *st) {}
const char *store_errmsg(const struct store *st) { return "built without SQLite"; }
int store_begin(struct store *st) { return -ENOTSUP; }
int store_commit(struct store *st) { return -ENOTSUP; }
int store_rollback(struct store *st) { return -ENOTSUP; }
int store_add_anomaly(struct store *st, const struct rec_anomaly *a) { return -ENOTSUP; }
int store_put_incident(struct store *st, const struct rec_incident *inc) { return -ENOTSUP; }
int store_set_learning(struct store *st, const struct store_learning *l) { return -ENOTSUP; }
int store_get_learning(struct store *st, struct store_learning *ret) { return -ENOTSUP; }
int store_add_traffic(struct store *st, const struct store_traffic *t) { return -ENOTSUP; }
int store_each_traffic(struct store *st, store_traffic_fn fn, void *user) { return -ENOTSUP; }
int store_set_status(struct store *st, const char *key, const char *value) { return -ENOTSUP; }
int store_get_status(struct store *st, const char *key, char *buf, size_t len) { return -ENOTSUP; }
int store_each_status(struct store *st, store_status_fn fn, void *user) { return -ENOTSUP; }
int store_count_incidents(struct store *st, uint64_t since_us, uint64_t ret_by_level[5]) { return -ENOTSUP; }
int store_retain(struct store *st, uint64_t cutoff_us, unsigned max_rows) { return -ENOTSUP; }
int store_journal_mode(struct store *st, char *buf, size_t len) { return -ENOTSUP; }
int store_query_anomalies(struct store *st, const struct store_filter *f, store_anomaly_fn fn, void *user) { return -ENOTSUP; }
int store_query_incidents(struct store *st, const struct store_filter *f, store_incident_fn fn, void *user) { return -ENOTSUP; }
#endif
