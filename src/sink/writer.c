/* writer.c - bounded lock-free queue + one thread writing the log and the database.
 *
 * The queue is a ring of slots, each with a sequence number (the bounded
 * queue design of D. Vyukov): a producer claims a position with one
 * compare-and-swap on the tail, copies the record in and publishes it by
 * advancing the slot's sequence; the single consumer reads slots in order.
 * A full ring fails the claim at once, so a producer never waits. Producers
 * wake the thread with sem_post, which neither blocks nor allocates.
 */
#include "sink/writer.h"

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sink/sink_jsonl.h"

#define RETAIN_EVERY_S 60        /* how often old rows are deleted */
#define RETAIN_ROWS 1000         /* rows per retention statement: short transactions */

struct slot {
	atomic_size_t seq;
	struct writer_rec rec;
};

struct writer {
	struct slot *ring;
	size_t mask;
	atomic_size_t tail;          /* next position to claim (producers) */
	atomic_size_t head;          /* next position to read (consumer; read by flush) */
	atomic_bool stopping;
	atomic_bool reopen;
	sem_t wake;

	atomic_uint_fast64_t enqueued, dropped, jsonl_errors, db_errors, retained;

	struct sink_jsonl *jsonl;
	struct store *store;
	uint64_t retention_us;
	unsigned batch_max;
	uint64_t newest_ts_us;       /* newest packet time written: the clock for retention */
	time_t last_retain;

	pthread_t thread;
	pthread_mutex_t lock;        /* guards the fields below */
	pthread_cond_t done;         /* head advanced */
	int first_error;             /* since the last writer_flush() */
	char last_error[256];
};

static void note_error(struct writer *w, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void note_error(struct writer *w, int r, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&w->lock);
	if (!w->first_error)
		w->first_error = r;
	va_start(ap, fmt);
	vsnprintf(w->last_error, sizeof w->last_error, fmt, ap);
	va_end(ap);
	pthread_mutex_unlock(&w->lock);
}

/* ---- producer side ---- */

static struct writer_rec *claim(struct writer *w, size_t *ret_pos)
{
	size_t pos = atomic_load_explicit(&w->tail, memory_order_relaxed);

	if (atomic_load_explicit(&w->stopping, memory_order_acquire))
		goto drop;
	for (;;) {
		struct slot *s = &w->ring[pos & w->mask];
		size_t seq = atomic_load_explicit(&s->seq, memory_order_acquire);
		intptr_t dif = (intptr_t)seq - (intptr_t)pos;

		if (dif == 0) {
			if (atomic_compare_exchange_weak_explicit(&w->tail, &pos, pos + 1,
								  memory_order_relaxed, memory_order_relaxed)) {
				*ret_pos = pos;
				return &s->rec;
			}
		} else if (dif < 0) {
			goto drop;       /* full: the consumer has not freed this slot yet */
		} else {
			pos = atomic_load_explicit(&w->tail, memory_order_relaxed);
		}
	}
drop:
	atomic_fetch_add_explicit(&w->dropped, 1, memory_order_relaxed);
	return NULL;
}

static bool publish(struct writer *w, size_t pos)
{
	atomic_store_explicit(&w->ring[pos & w->mask].seq, pos + 1, memory_order_release);
	atomic_fetch_add_explicit(&w->enqueued, 1, memory_order_relaxed);
	sem_post(&w->wake);
	return true;
}

/* Copy size bytes of one union member: an anomaly is 2 KiB, a status 256 B. */
static bool put(struct writer *w, uint8_t type, const void *member, size_t size)
{
	size_t pos;
	struct writer_rec *r = claim(w, &pos);

	if (!r)
		return false;
	r->type = type;
	memcpy(&r->u, member, size);
	return publish(w, pos);
}

bool writer_enqueue(struct writer *w, const struct writer_rec *rec)
{
	switch (rec->type) {
	case WRITER_ANOMALY: return put(w, rec->type, &rec->u.anomaly, sizeof rec->u.anomaly);
	case WRITER_INCIDENT: return put(w, rec->type, &rec->u.incident, sizeof rec->u.incident);
	case WRITER_LEARNING: return put(w, rec->type, &rec->u.learning, sizeof rec->u.learning);
	case WRITER_TRAFFIC: return put(w, rec->type, &rec->u.traffic, sizeof rec->u.traffic);
	case WRITER_STATUS: return put(w, rec->type, &rec->u.status, sizeof rec->u.status);
	default: return false;
	}
}

bool writer_add_anomaly(struct writer *w, const struct rec_anomaly *a)
{
	return put(w, WRITER_ANOMALY, a, sizeof *a);
}

bool writer_add_incident(struct writer *w, const struct rec_incident *inc)
{
	return put(w, WRITER_INCIDENT, inc, sizeof *inc);
}

bool writer_set_learning(struct writer *w, const struct store_learning *l)
{
	return put(w, WRITER_LEARNING, l, sizeof *l);
}

bool writer_add_traffic(struct writer *w, const struct store_traffic *t)
{
	return put(w, WRITER_TRAFFIC, t, sizeof *t);
}

bool writer_set_status(struct writer *w, const char *key, const char *value)
{
	struct writer_status_kv kv;

	snprintf(kv.key, sizeof kv.key, "%s", key);
	snprintf(kv.value, sizeof kv.value, "%s", value);
	return put(w, WRITER_STATUS, &kv, sizeof kv);
}

uint64_t writer_dropped(const struct writer *w)
{
	return atomic_load_explicit(&((struct writer *)w)->dropped, memory_order_relaxed);
}

void writer_get_stats(const struct writer *cw, struct writer_stats *ret)
{
	struct writer *w = (struct writer *)cw;
	size_t head = atomic_load(&w->head), tail = atomic_load(&w->tail);

	memset(ret, 0, sizeof *ret);
	ret->enqueued = atomic_load(&w->enqueued);
	ret->written = head;
	ret->dropped = atomic_load(&w->dropped);
	ret->jsonl_errors = atomic_load(&w->jsonl_errors);
	ret->db_errors = atomic_load(&w->db_errors);
	ret->retained = atomic_load(&w->retained);
	ret->capacity = (uint32_t)(w->mask + 1);
	ret->depth = (uint32_t)(tail - head);
}

/* ---- consumer side ---- */

/* The record at head if it has been published, else NULL. A claimed but
 * not yet published slot stops the batch: order is kept. */
static struct writer_rec *peek(struct writer *w, size_t pos)
{
	struct slot *s = &w->ring[pos & w->mask];

	if (atomic_load_explicit(&s->seq, memory_order_acquire) != pos + 1)
		return NULL;
	return &s->rec;
}

static void release(struct writer *w, size_t pos)
{
	atomic_store_explicit(&w->ring[pos & w->mask].seq, pos + w->mask + 1, memory_order_release);
}

static void to_jsonl(struct writer *w, const struct writer_rec *r)
{
	int e = 0;

	if (!w->jsonl)
		return;
	if (r->type == WRITER_ANOMALY)
		e = sink_jsonl_add_anomaly(w->jsonl, &r->u.anomaly);
	else if (r->type == WRITER_INCIDENT)
		e = sink_jsonl_add_incident(w->jsonl, &r->u.incident);
	if (e < 0) {
		atomic_fetch_add(&w->jsonl_errors, 1);
		note_error(w, e, "cannot write the JSON lines log: %s", strerror(-e));
	}
}

static int to_store(struct writer *w, const struct writer_rec *r)
{
	switch (r->type) {
	case WRITER_ANOMALY: return store_add_anomaly(w->store, &r->u.anomaly);
	case WRITER_INCIDENT: return store_put_incident(w->store, &r->u.incident);
	case WRITER_LEARNING: return store_set_learning(w->store, &r->u.learning);
	case WRITER_TRAFFIC: return store_add_traffic(w->store, &r->u.traffic);
	case WRITER_STATUS: return store_set_status(w->store, r->u.status.key, r->u.status.value);
	default: return 0;
	}
}

static void note_time(struct writer *w, const struct writer_rec *r)
{
	uint64_t ts = r->type == WRITER_ANOMALY ? r->u.anomaly.last_ts_us :
		      r->type == WRITER_INCIDENT ? r->u.incident.last_ts_us : 0;
	if (ts > w->newest_ts_us)
		w->newest_ts_us = ts;
}

/* Write up to batch_max published records in one transaction. Returns how
 * many were taken off the queue. */
static size_t write_batch(struct writer *w)
{
	size_t head = atomic_load_explicit(&w->head, memory_order_relaxed), n = 0;
	int db_err = 0;
	bool in_txn = false;

	while (n < w->batch_max) {
		struct writer_rec *r = peek(w, head + n);
		if (!r)
			break;
		if (w->store && !in_txn && !db_err) {
			db_err = store_begin(w->store);
			in_txn = db_err == 0;
		}
		to_jsonl(w, r);
		if (in_txn && !db_err)
			db_err = to_store(w, r);
		note_time(w, r);
		n++;
	}
	if (!n)
		return 0;
	if (in_txn) {
		if (!db_err)
			db_err = store_commit(w->store);
		if (db_err)
			store_rollback(w->store);
	}
	if (w->store && db_err) {
		/* the whole batch is lost to the database (the log still has it) */
		atomic_fetch_add(&w->db_errors, n);
		note_error(w, db_err, "cannot write %zu records to the database: %s", n,
			   store_errmsg(w->store));
	}
	if (w->jsonl) {
		int e = sink_jsonl_flush(w->jsonl);
		if (e < 0)
			note_error(w, e, "cannot write the JSON lines log: %s (lines kept for the next try)",
				   strerror(-e));
	}
	for (size_t i = 0; i < n; i++)
		release(w, head + i);
	atomic_store_explicit(&w->head, head + n, memory_order_release);
	pthread_mutex_lock(&w->lock);
	pthread_cond_broadcast(&w->done);
	pthread_mutex_unlock(&w->lock);
	return n;
}

/* Delete rows older than the retention, a bounded amount per call. The
 * clock is the newest packet time written, so replaying an old capture
 * does not wipe what it just wrote; live, it is the wall clock. */
static void retain(struct writer *w, bool force)
{
	time_t now = time(NULL);
	int r;

	if (!w->store || !w->retention_us || w->newest_ts_us <= w->retention_us)
		return;
	if (!force && now - w->last_retain < RETAIN_EVERY_S)
		return;
	w->last_retain = now;
	for (int round = 0; round < 10; round++) {
		r = store_retain(w->store, w->newest_ts_us - w->retention_us, RETAIN_ROWS);
		if (r < 0) {
			note_error(w, r, "cannot delete old rows: %s", store_errmsg(w->store));
			return;
		}
		atomic_fetch_add(&w->retained, (uint64_t)r);
		if (r < RETAIN_ROWS)
			return;
	}
}

static void reopen_if_asked(struct writer *w)
{
	int e;

	if (!atomic_exchange(&w->reopen, false) || !w->jsonl)
		return;
	e = sink_jsonl_reopen(w->jsonl);
	if (e < 0)
		note_error(w, e, "cannot reopen the JSON lines log: %s", strerror(-e));
}

static void *writer_main(void *arg)
{
	struct writer *w = arg;

	for (;;) {
		struct timespec ts;
		bool stopping;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 1;
		while (sem_timedwait(&w->wake, &ts) < 0 && errno == EINTR)
			;
		/* Take every pending wake-up now: a record published after this
		 * posts again, so none waits for the timeout. */
		while (sem_trywait(&w->wake) == 0)
			;
		stopping = atomic_load(&w->stopping);
		/* A reopen is seen before the records that woke us: lines queued
		 * after logrotate's SIGHUP go to the new file. */
		do
			reopen_if_asked(w);
		while (write_batch(w));
		retain(w, false);
		if (stopping) {
			/* Producers that claimed a slot before the stop flag may not
			 * have published yet; wait for them so nothing is lost. */
			size_t tail = atomic_load(&w->tail);
			while (atomic_load(&w->head) != tail) {
				struct timespec nap = { 0, 1000000 };
				if (!write_batch(w))
					nanosleep(&nap, NULL);
			}
			return NULL;
		}
	}
}

static size_t round_pow2(uint32_t n)
{
	size_t c = 16;

	while (c < n)
		c <<= 1;
	return c;
}

/* What writer_start sets up before the outputs and the thread. */
static void free_writer(struct writer *w)
{
	sem_destroy(&w->wake);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->done);
	free(w->ring);
	free(w);
}

int writer_start(const struct writer_options *opt, struct writer **ret_writer, char *err, size_t errlen)
{
	struct writer *w = calloc(1, sizeof *w);
	size_t cap;
	int r;

	if (!w) {
		snprintf(err, errlen, "cannot start the writer: out of memory");
		return -ENOMEM;
	}
	cap = round_pow2(opt->queue_size ? opt->queue_size : 1024);
	w->ring = calloc(cap, sizeof *w->ring);
	if (!w->ring) {
		free(w);
		snprintf(err, errlen, "cannot allocate a queue of %zu records", cap);
		return -ENOMEM;
	}
	w->mask = cap - 1;
	for (size_t i = 0; i < cap; i++)
		atomic_init(&w->ring[i].seq, i);
	w->retention_us = opt->retention_us;
	w->batch_max = opt->batch_max ? opt->batch_max : 256;
	w->last_retain = time(NULL) - RETAIN_EVERY_S;   /* first pass soon after start */
	sem_init(&w->wake, 0, 0);
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->done, NULL);

	if (opt->jsonl_path && *opt->jsonl_path) {
		r = sink_jsonl_open(opt->jsonl_path, &w->jsonl);
		if (r < 0) {
			snprintf(err, errlen, "cannot open log '%s': %s", opt->jsonl_path, strerror(-r));
			goto fail;
		}
	}
	if (opt->database_path && *opt->database_path) {
		r = store_open(opt->database_path, &w->store, err, errlen);
		if (r < 0)
			goto fail;
	}
	r = -pthread_create(&w->thread, NULL, writer_main, w);
	if (r < 0) {
		snprintf(err, errlen, "cannot start the writer thread: %s", strerror(-r));
		goto fail;
	}
	*ret_writer = w;
	return 0;
fail:
	sink_jsonl_close(w->jsonl);
	store_close(w->store);
	free_writer(w);
	return r;
}

int writer_flush(struct writer *w)
{
	size_t target = atomic_load(&w->tail);
	int r;

	sem_post(&w->wake);
	pthread_mutex_lock(&w->lock);
	while (atomic_load(&w->head) < target)
		pthread_cond_wait(&w->done, &w->lock);
	r = w->first_error;
	w->first_error = 0;
	pthread_mutex_unlock(&w->lock);
	return r;
}

void writer_reopen(struct writer *w)
{
	atomic_store(&w->reopen, true);
	sem_post(&w->wake);
}

void writer_last_error(struct writer *w, char *buf, size_t len)
{
	pthread_mutex_lock(&w->lock);
	snprintf(buf, len, "%s", w->last_error);
	pthread_mutex_unlock(&w->lock);
}

int writer_stop(struct writer *w)
{
	int r = 0, e;

	if (!w)
		return 0;
	atomic_store(&w->stopping, true);
	sem_post(&w->wake);
	pthread_join(w->thread, NULL);
	retain(w, true);
	if (w->jsonl && (e = sink_jsonl_close(w->jsonl)) < 0 && !r)
		r = e;
	store_close(w->store);
	if (!r)
		r = w->first_error;
	free_writer(w);
	return r;
}
