/* store_sqlite.h - the SQLite history: incidents, anomalies, learning
 * progress, traffic mix and service status (schema in docs/output.md).
 *
 * WAL journal with synchronous=NORMAL: a crash or power cut loses at most
 * the last transactions, never the database, and readers (`nad anomalies`,
 * `nad status`, sqlite3) never block the writer. The writer groups records
 * into one transaction per batch (store_begin/store_commit).
 * A struct store is used by one thread at a time.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sink/records.h"

#define STORE_SCHEMA_VERSION 1

struct store;

/* Open (creating it and its schema if needed) for writing. A database with a
 * newer schema version than this build knows is refused with -EPROTO. On
 * failure writes a message (naming path) into err. */
int store_open(const char *path, struct store **ret_store, char *err, size_t errlen);
/* Open an existing database read-only (query commands). -ENOENT if absent. */
int store_open_readonly(const char *path, struct store **ret_store, char *err, size_t errlen);
void store_close(struct store *st);

/* Message of the last failed call (SQLite's words), for the caller's log. */
const char *store_errmsg(const struct store *st);

/* Batches: everything between begin and commit lands together or not at all. */
int store_begin(struct store *st);
int store_commit(struct store *st);
int store_rollback(struct store *st);

int store_add_anomaly(struct store *st, const struct rec_anomaly *a);
/* Insert, or update the row with the same uid (events after "opened"). */
int store_put_incident(struct store *st, const struct rec_incident *inc);

/* Learning progress: one row, replaced by each call. */
struct store_learning {
	char state[16];              /* "learning" or "detecting" */
	uint64_t started_at_us;      /* wall clock */
	uint64_t duration_us;        /* configured length of the learning period */
	uint64_t flows;              /* baseline flows collected */
	uint64_t min_flows;
	char model_path[1024];
	uint64_t updated_at_us;
};
int store_set_learning(struct store *st, const struct store_learning *l);
/* -ENOENT when the service never wrote one. */
int store_get_learning(struct store *st, struct store_learning *ret);

/* Traffic mix: counters per protocol ("tcp", "udp", "icmp", ...) and
 * responder port class ("none", "well_known", "registered", "dynamic"),
 * incremented by the given amounts. */
struct store_traffic {
	char proto[12];
	char port_class[16];
	uint64_t flows, packets, bytes;
};
int store_add_traffic(struct store *st, const struct store_traffic *t);
typedef int (*store_traffic_fn)(const struct store_traffic *t, void *user);
/* Rows by flows, most first. A callback returning < 0 stops and returns it. */
int store_each_traffic(struct store *st, store_traffic_fn fn, void *user);

/* Service status, key/value ("model", "packets", "capture_drops", "started_at", ...). */
int store_set_status(struct store *st, const char *key, const char *value);
/* -ENOENT if the key was never set. */
int store_get_status(struct store *st, const char *key, char *buf, size_t len);
typedef int (*store_status_fn)(const char *key, const char *value, uint64_t updated_at_us, void *user);
/* Every key, sorted by name. A callback returning < 0 stops and returns it. */
int store_each_status(struct store *st, store_status_fn fn, void *user);

/* Queries. */
enum store_sort {
	STORE_SORT_TIME = 0,         /* newest first */
	STORE_SORT_SEVERITY,         /* highest level, then highest score, then newest */
};
struct store_filter {
	uint64_t since_us;           /* last_ts >= since (0: no bound) */
	int min_level;               /* enum rec_level (0: all) */
	char host[REC_ADDR_MAX];     /* "" or an address: src or dst of an anomaly, host of an incident */
	unsigned limit;              /* 0: no limit */
	enum store_sort sort;
};
typedef int (*store_anomaly_fn)(const struct rec_anomaly *a, void *user);
typedef int (*store_incident_fn)(const struct rec_incident *inc, void *user);
/* Call fn for each matching row (records rebuilt from the row, features
 * included). A callback returning < 0 stops the walk and is returned. */
int store_query_anomalies(struct store *st, const struct store_filter *f, store_anomaly_fn fn, void *user);
int store_query_incidents(struct store *st, const struct store_filter *f, store_incident_fn fn, void *user);

/* Incidents whose last anomaly is at or after since_us, counted by the
 * highest level they reached (index = enum rec_level). */
int store_count_incidents(struct store *st, uint64_t since_us, uint64_t ret_by_level[5]);

/* Retention: delete at most max_rows anomalies with last_ts before
 * cutoff_us, then closed incidents likewise (open ones are kept). Bounded so
 * the writer never holds a long transaction; call again while it returns
 * max_rows. Returns rows deleted or -errno. */
int store_retain(struct store *st, uint64_t cutoff_us, unsigned max_rows);

/* "PRAGMA journal_mode" as SQLite reports it ("wal"), for tests. */
int store_journal_mode(struct store *st, char *buf, size_t len);
