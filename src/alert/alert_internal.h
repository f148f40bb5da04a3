/* alert_internal.h - the pieces of the alert thread, separated so unit
 * tests can drive each one alone: the policy (rate limit, backoff, which
 * alerts an incident event raises), the spool, the bodies and HTTP.
 * docs/alerts.md describes the behaviour; this header the contracts.
 */
#pragma once
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alert/alert.h"
#include "sink/records.h"

#define ALERT_SPOOL_MAX_DEFAULT 4096
#define ALERT_LEDGER_MAX 4096        /* delivered keys remembered across restarts */
#define ALERT_KEY_MAX 64
#define ALERT_RATE_MAX 1024          /* send times a rate limiter keeps */

/* ---- one alert ---------------------------------------------------------- */

enum alert_kind {
	ALERT_FIRING = 0,            /* the incident reached min_level */
	ALERT_ESCALATED,             /* its level rose again after an alert */
	ALERT_RESOLVED,              /* Alertmanager only: closed after its quiet period */
	ALERT_KINDS,
};

/* What the spool keeps and a body is made from. */
struct alert_msg {
	uint64_t seq;                /* spool order, assigned by alert_spool_add() */
	uint8_t sink;                /* enum alert_sink */
	uint8_t kind;                /* enum alert_kind */
	uint8_t prev_level;          /* ALERT_ESCALATED: the level alerted before */
	char key[ALERT_KEY_MAX];     /* idempotency key: "<uid>-<level>" or "<uid>-resolved" */
	uint64_t created_us;         /* wall clock when the alert was raised */
	uint64_t resolved_us;        /* ALERT_RESOLVED: wall clock when the incident closed */
	struct rec_incident inc;     /* the incident as of this alert */
};

const char *alert_kind_name(enum alert_kind k);
/* The idempotency key of an alert of inc at its level (or resolved). */
void alert_make_key(const struct rec_incident *inc, enum alert_kind kind, char *buf, size_t len);

/* ---- policy ------------------------------------------------------------- */

/* At most n sends in any window of period_us (a sliding window over the
 * last n send times). n == 0: no limit. A limit above ALERT_RATE_MAX keeps
 * the same average rate over a proportionally shorter period. */
struct alert_rate {
	uint32_t n;
	uint64_t period_us;
	uint64_t *sent;              /* ring of the last n send times */
	uint32_t head, count;
};

/* 0 or -ENOMEM. */
int alert_rate_init(struct alert_rate *r, uint32_t n, uint64_t period_us);
void alert_rate_release(struct alert_rate *r);
/* 0 if a send is allowed at now_us, else how long until it is. */
uint64_t alert_rate_wait(const struct alert_rate *r, uint64_t now_us);
/* Record a send at now_us. */
void alert_rate_take(struct alert_rate *r, uint64_t now_us);

/* Wait before the next attempt after `failures` consecutive failures
 * (>= 1): 1 s, 2 s, 4 s, ... up to max_us. */
uint64_t alert_backoff_us(unsigned failures, uint64_t max_us);

/* Is this HTTP status a refusal that retrying cannot change (the body is
 * wrong: 400, 413, 415, 422)? Anything else that is not 2xx is retried. */
bool alert_status_permanent(long status);

/* ---- bodies --------------------------------------------------------------- */

struct alert_origin {
	const char *node;            /* this sensor's name */
	const char *version;         /* nad's version */
};

/* The webhook body (docs/alerts.md, schema "nad.alert.v1"); malloc'd,
 * NUL-terminated; NULL when out of memory. */
char *alert_webhook_body(const struct alert_msg *m, const struct alert_origin *o);

/* The Alertmanager v2 body: a JSON array of postable alerts. For
 * ALERT_FIRING one firing alert; ALERT_ESCALATED resolves the alert of the
 * previous severity and fires the new one; ALERT_RESOLVED ends it at
 * resolved_us. A firing alert ends at now_us + lifetime_us unless
 * re-posted. startsAt is the incident's first packet time, never later
 * than now. malloc'd; NULL when out of memory. */
char *alert_am_body(const struct alert_msg *m, uint64_t now_us, uint64_t lifetime_us,
		    const struct alert_origin *o);

/* ---- spool ---------------------------------------------------------------- */

struct alert_spool;

/* A spool file's content: a JSON object holding the alert and its
 * incident. format: malloc'd text, NULL when out of memory. parse: false
 * (reason in why) for anything that is not exactly such an object with
 * every field present, in range and fitting its buffer; m->seq is 0. */
char *alert_msg_format(const struct alert_msg *m);
bool alert_msg_parse(const char *data, size_t len, struct alert_msg *m, char *why, size_t whylen);

struct alert_spool_stats {
	uint64_t depth[ALERT_SINKS];
	uint64_t dropped;            /* oldest alerts dropped because the spool was full */
	uint64_t corrupt;            /* files moved aside to corrupt/ */
};

/* Open dir (created with mode 0750 if missing; its parent must exist):
 * remove temporary files a crash left, move files that do not parse to
 * dir/corrupt/, index the rest in sequence order (the replay), and load the
 * ledger of delivered keys. max: alerts kept (0: the default). 0 or -errno
 * with a message in err naming the path. Notes about moved-aside files are
 * kept for alert_spool_note(). */
int alert_spool_open(const char *dir, uint32_t max, struct alert_spool **ret, char *err, size_t errlen);
void alert_spool_free(struct alert_spool *s);

/* Write m durably (temporary file, fsync, rename, fsync of the directory)
 * and assign m->seq. When the spool is full the oldest alert is deleted
 * first (counted in dropped). 0 or -errno (message in err). */
int alert_spool_add(struct alert_spool *s, struct alert_msg *m, char *err, size_t errlen);

/* Is an alert with this sink and key spooled, or delivered (the ledger)? */
bool alert_spool_seen(const struct alert_spool *s, uint8_t sink, const char *key);

/* The oldest spooled alert of a sink: its seq and kind; false if none. */
bool alert_spool_first(const struct alert_spool *s, uint8_t sink, uint64_t *ret_seq, uint8_t *ret_kind);

/* Read alert seq back. -EBADMSG: it did not parse and was moved aside to
 * corrupt/ (message in err); -ENOENT: no such alert; else -errno. */
int alert_spool_load(struct alert_spool *s, uint64_t seq, struct alert_msg *ret, char *err, size_t errlen);

/* The receiver accepted alert seq: record its key in the ledger (so a
 * restart that sees the same incident again does not resend it), then
 * delete the file. 0 or -errno; the alert leaves the index either way. */
int alert_spool_done(struct alert_spool *s, uint64_t seq);

/* The receiver refused alert seq for good: move it to dir/rejected/. */
int alert_spool_reject(struct alert_spool *s, uint64_t seq);

void alert_spool_get_stats(const struct alert_spool *s, struct alert_spool_stats *ret);

/* Pop the oldest pending note (a moved-aside file, a dropped alert) into
 * buf; false if none. Notes are for the log; at most a few are kept. */
bool alert_spool_note(struct alert_spool *s, char *buf, size_t len);

/* ---- HTTP ------------------------------------------------------------------ */

struct alert_http;

/* A connection to one receiver (kept alive between posts). headers: the
 * "Name: value|Name: value" list of the configuration, or NULL. 0, -EINVAL
 * (bad URL or header; message in err), -ENOTSUP (no libcurl) or -ENOMEM. */
int alert_http_new(const char *url, const char *headers, const char *user_agent, struct alert_http **ret,
		   char *err, size_t errlen);
void alert_http_free(struct alert_http *h);

/* POST body as application/json (with an Idempotency-Key header when key is
 * not NULL) to base_url + path. Gives up once *deadline_us (monotonic; 0:
 * none, only the default timeouts) has passed; the deadline is read while
 * the request runs, so another thread can set it to cut a request short.
 * Returns the HTTP status, or -errno for no answer (message in err: the
 * curl error). */
long alert_http_post(struct alert_http *h, const char *path, const char *body, const char *key,
		     const atomic_uint_fast64_t *deadline_us, char *err, size_t errlen);

/* Monotonic clock in microseconds (the clock of deadlines and schedules). */
uint64_t alert_mono_us(void);
/* Wall clock in microseconds since the epoch. */
uint64_t alert_wall_us(void);
