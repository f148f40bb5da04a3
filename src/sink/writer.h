/* writer.h - the writer thread between scoring and the disk.
 *
 * Capture and scoring must never wait for a disk, so records go through a
 * bounded queue (a ring allocated once, at start) to one thread that writes
 * the JSON lines log and the SQLite history in batches. Enqueueing never
 * blocks and never allocates: when the ring is full the record is dropped
 * and counted (writer_dropped()). Any thread may enqueue (the ring is
 * lock-free for many producers); one thread calls the lifecycle functions.
 * See docs/internals/service.md.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sink/records.h"
#include "sink/store_sqlite.h"

enum writer_rec_type {
	WRITER_ANOMALY = 1,      /* -> JSON lines + anomalies table */
	WRITER_INCIDENT,         /* -> JSON lines + incidents table (upsert) */
	WRITER_LEARNING,         /* -> learning table */
	WRITER_TRAFFIC,          /* -> traffic_mix (counters added) */
	WRITER_STATUS,           /* -> service_status */
};

struct writer_status_kv {
	char key[32];
	char value[224];
};

struct writer_rec {
	uint8_t type;            /* enum writer_rec_type */
	union {
		struct rec_anomaly anomaly;
		struct rec_incident incident;
		struct store_learning learning;
		struct store_traffic traffic;
		struct writer_status_kv status;
	} u;
};

struct writer_options {
	const char *jsonl_path;      /* NULL or "": no log */
	const char *database_path;   /* NULL or "": no database */
	uint32_t queue_size;         /* records; rounded up to a power of two */
	uint64_t retention_us;       /* 0: keep everything */
	unsigned batch_max;          /* records per transaction; 0: 256 */
};

struct writer_stats {
	uint64_t enqueued;       /* accepted into the queue */
	uint64_t written;        /* taken off the queue and handed to the sinks */
	uint64_t dropped;        /* refused: queue full, or writer stopping */
	uint64_t jsonl_errors;   /* records the log could not take */
	uint64_t db_errors;      /* records lost to a failed database batch */
	uint64_t retained;       /* rows deleted by retention */
	uint32_t capacity;
	uint32_t depth;          /* queued now */
};

struct writer;

/* Open the sinks (so an unwritable path fails here, before capture starts)
 * and start the thread. On failure writes a message naming the path into
 * err and returns -errno. */
int writer_start(const struct writer_options *opt, struct writer **ret_writer, char *err, size_t errlen);

/* Queue a copy of the record. Never blocks. false: dropped (and counted). */
bool writer_enqueue(struct writer *w, const struct writer_rec *rec);
/* The same without building a struct writer_rec first. */
bool writer_add_anomaly(struct writer *w, const struct rec_anomaly *a);
bool writer_add_incident(struct writer *w, const struct rec_incident *inc);
bool writer_set_learning(struct writer *w, const struct store_learning *l);
bool writer_add_traffic(struct writer *w, const struct store_traffic *t);
bool writer_set_status(struct writer *w, const char *key, const char *value);

/* Records dropped so far. */
uint64_t writer_dropped(const struct writer *w);
void writer_get_stats(const struct writer *w, struct writer_stats *ret);

/* Wait until every record queued before the call is written (log flushed,
 * transaction committed). Blocks: not for the capture path. Returns the
 * first write error since the previous flush as -errno, 0 if none. */
int writer_flush(struct writer *w);

/* Ask the thread to reopen the log (SIGHUP, after logrotate). Returns at once. */
void writer_reopen(struct writer *w);

/* Copy the most recent error message ("" if none) for the caller's log. */
void writer_last_error(struct writer *w, char *buf, size_t len);

/* Write everything still queued, fsync and close the sinks, join the thread,
 * free w. Call it once the threads that enqueue are done (a record offered
 * while it runs is dropped and counted; after it returns, w is gone).
 * Returns the first error met since the last flush or while closing. */
int writer_stop(struct writer *w);
