/* sink_jsonl.h - the anomaly/incident log: one JSON object per line.
 *
 * The schema is in docs/output.md. Records are rendered into a buffer of
 * whole lines and written by sink_jsonl_flush() (once per writer batch) with
 * the file opened O_APPEND, so a reader — or a crash, or a full disk — never
 * leaves half a line behind: a short write is cut back off the file.
 * Not thread-safe: one writer thread owns a sink.
 */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "sink/records.h"

#ifdef NAD_HAVE_JANSSON
#include <jansson.h>
#endif

struct sink_jsonl;

/* Open (create, mode 0640) path for appending. If the file ends inside a
 * line (a crash of a writer that did not cut), a newline is written first so
 * the next record starts on a line of its own. 0 or -errno. */
int sink_jsonl_open(const char *path, struct sink_jsonl **ret_sink);

/* Render one record as a line into the pending buffer. The buffer is written
 * out first if the line would not fit. -ENOSPC (or another -errno) if it
 * could not be written and the record was not taken. */
int sink_jsonl_add_anomaly(struct sink_jsonl *s, const struct rec_anomaly *a);
int sink_jsonl_add_incident(struct sink_jsonl *s, const struct rec_incident *inc);

/* Write every pending line. On failure the file is cut back to where it
 * was, the lines stay pending for the next flush, and -errno is returned. */
int sink_jsonl_flush(struct sink_jsonl *s);

/* Flush, then close and open the path again: after logrotate moved the
 * file away, new lines go to a new file at the configured path. */
int sink_jsonl_reopen(struct sink_jsonl *s);

/* Flush, fsync and close. Returns the first error; frees s in any case. */
int sink_jsonl_close(struct sink_jsonl *s);

/* Lines written to the file since open. */
uint64_t sink_jsonl_lines(const struct sink_jsonl *s);

/* "2024-05-01T12:00:00.123456Z" (RFC 3339, UTC, microseconds). */
void sink_time_iso(uint64_t us, char *buf, size_t len);
/* "tcp", "udp", "icmp", "icmpv6", or the number as text; buf holds >= 4 bytes. */
const char *sink_proto_name(uint8_t proto, char *buf, size_t len);

#ifdef NAD_HAVE_JANSSON
/* The JSON objects of docs/output.md, shared by the log, the database
 * columns and `nad anomalies --json`. The caller owns the result
 * (json_decref); NULL only when out of memory. */
json_t *sink_json_anomaly(const struct rec_anomaly *a);
json_t *sink_json_incident(const struct rec_incident *inc);
/* Pieces of the anomaly object, stored as JSON columns in SQLite. */
json_t *sink_json_top_features(const struct rec_anomaly *a);
json_t *sink_json_features(const struct rec_anomaly *a);

/* Flags for json_dumps so every output prints numbers the same way. */
#define SINK_JSON_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(12))
#endif
