/* metrics.h - Prometheus metrics: a registry of atomic cells, the text
 * exposition (format 0.0.4) and the HTTP endpoint that serves them.
 *
 * Two ways to put numbers on /metrics:
 *
 * - Cells declared at start-up (metrics_counter_new, metrics_gauge_new,
 *   metrics_histogram_new). Declaring allocates; updating a cell is one or
 *   a few relaxed atomic operations, never a lock and never an allocation,
 *   so the capture thread can update them per packet or per flow while the
 *   HTTP thread renders them. Series of one family share a name: declare
 *   the family's name, help and type once per label set.
 *
 * - Collectors (metrics_registry_add_collector, metrics_server_add_collector):
 *   functions called on the HTTP thread at every scrape that append whole
 *   families with metrics_family() + metrics_sample(). For modules that
 *   already keep their own thread-safe counters (the alert thread's
 *   deliveries and spool) or whose label values change at run time.
 *
 * docs/metrics.md lists every metric nad exposes.
 */
#pragma once
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* ---- cells ---------------------------------------------------------------- */

struct metrics_counter {
	_Atomic uint64_t value;
};

/* A double kept as its bit pattern, so loads and stores are single atomics. */
struct metrics_gauge {
	_Atomic uint64_t bits;
};

struct metrics_histogram;

/* Add to a counter. */
static inline void metrics_counter_add(struct metrics_counter *c, uint64_t n)
{
	atomic_fetch_add_explicit(&c->value, n, memory_order_relaxed);
}

/* Mirror a count that another module keeps (a monotonic total such as
 * pcap_stats' drops): the cell takes the value as it is. */
static inline void metrics_counter_set(struct metrics_counter *c, uint64_t v)
{
	atomic_store_explicit(&c->value, v, memory_order_relaxed);
}

static inline uint64_t metrics_counter_get(const struct metrics_counter *c)
{
	return atomic_load_explicit(&((struct metrics_counter *)c)->value, memory_order_relaxed);
}

static inline void metrics_gauge_set(struct metrics_gauge *g, double v)
{
	uint64_t bits;

	memcpy(&bits, &v, sizeof bits);
	atomic_store_explicit(&g->bits, bits, memory_order_relaxed);
}

static inline double metrics_gauge_get(const struct metrics_gauge *g)
{
	uint64_t bits = atomic_load_explicit(&((struct metrics_gauge *)g)->bits, memory_order_relaxed);
	double v;

	memcpy(&v, &bits, sizeof v);
	return v;
}

/* Count one observation into its bucket and the sum. Lock-free. */
void metrics_histogram_observe(struct metrics_histogram *h, double v);

/* ---- the registry ---------------------------------------------------------- */

struct metrics_registry;
struct metrics_writer;   /* opaque: the exposition text being built */

#define METRICS_HISTOGRAM_MAX_BUCKETS 32

/* 0 or -ENOMEM. */
int metrics_registry_new(struct metrics_registry **ret);
/* Free the registry and every cell; accepts NULL. Nothing may update a cell
 * or render afterwards. */
void metrics_registry_free(struct metrics_registry *r);

/* Declare one series. name: [a-zA-Z_:][a-zA-Z0-9_:]*; help: one line;
 * labels: label pairs already escaped (metrics_labels() makes them), or
 * NULL. The cell lives as long as the registry. NULL on a bad name, a
 * family redeclared with another type, or out of memory. Not thread-safe
 * against other declarations; safe while another thread renders. */
struct metrics_counter *metrics_counter_new(struct metrics_registry *r, const char *name, const char *help,
					    const char *labels);
struct metrics_gauge *metrics_gauge_new(struct metrics_registry *r, const char *name, const char *help,
					const char *labels);
/* bounds: upper bounds of the buckets, strictly increasing, at most
 * METRICS_HISTOGRAM_MAX_BUCKETS (the +Inf bucket is implied). */
struct metrics_histogram *metrics_histogram_new(struct metrics_registry *r, const char *name, const char *help,
						const char *labels, const double *bounds, unsigned nbounds);

/* Build a label list `k1="v1",k2="v2"` into buf from NULL-terminated
 * key, value pairs, escaping each value as the exposition format wants
 * (backslash, double quote and line feed). 0, or -ENOSPC when buf is too
 * small (buf then holds an empty string). */
int metrics_labels(char *buf, size_t len, ...) __attribute__((sentinel));

/* ---- collectors and rendering ---------------------------------------------- */

/* Start a family: the # HELP and # TYPE lines. type: "counter", "gauge",
 * "histogram" (or "untyped"). help is escaped here. */
void metrics_family(struct metrics_writer *w, const char *name, const char *type /* "counter"|"gauge"|"histogram" */,
		    const char *help);
/* One sample line of the current family: name (with _bucket/_sum/_count
 * for histograms), labels already escaped (e.g. "sink=\"webhook\"", see
 * metrics_labels) or NULL, and the value (+Inf, -Inf and NaN are written
 * as the format spells them). */
void metrics_sample(struct metrics_writer *w, const char *name, const char *labels /* e.g. "sink=\"webhook\"", or NULL */,
		    double value);

typedef void (*metrics_collect_fn)(struct metrics_writer *w, void *user);

/* Call fn(w, user) at every render, after the declared cells, in the order
 * added. fn runs on the rendering (HTTP) thread: it must only read what is
 * safe to read from there. 0 or -ENOMEM. Thread-safe. */
int metrics_registry_add_collector(struct metrics_registry *r, metrics_collect_fn fn, void *user);

/* The whole exposition text. The caller owns *ret_text (free()). 0, -ENOMEM,
 * or -EFBIG past 16 MiB (a runaway collector). Thread-safe. */
int metrics_render(struct metrics_registry *r, char **ret_text, size_t *ret_len);

/* ---- the HTTP endpoint ------------------------------------------------------ */

/* /status body: a JSON document the caller allocates (free()d by the
 * server), or NULL for a 500. Called on the HTTP thread. */
typedef char *(*metrics_status_fn)(void *user);
/* /healthz: true when healthy; why (a short reason) is shown otherwise. */
typedef bool (*metrics_health_fn)(void *user, char *why, size_t whylen);

struct metrics_server_options {
	const char *listen;                /* "ADDR:PORT" or "[V6ADDR]:PORT"; a host name is resolved */
	struct metrics_registry *registry; /* rendered at GET /metrics */
	metrics_status_fn status;          /* GET /status; NULL: 404 */
	metrics_health_fn health;          /* GET /healthz; NULL: always "ok" */
	void *user;                        /* for status and health */
};

struct metrics_server;

/* Bind, listen and start the server's thread (it inherits the caller's
 * signal mask). 0, or a negative errno with a message in err naming the
 * address (-EADDRINUSE, -EACCES, -EINVAL for an unparsable address,
 * -ENOTSUP when nad was built without libmicrohttpd). */
int metrics_server_start(const struct metrics_server_options *opt, struct metrics_server **ret,
			 char *err, size_t errlen);

/* Add a collector to the server's registry (metrics_registry_add_collector). */
int metrics_server_add_collector(struct metrics_server *srv, metrics_collect_fn fn, void *user);

/* The address actually bound, e.g. "127.0.0.1:19473" (port 0 resolved). */
const char *metrics_server_address(const struct metrics_server *srv);

/* The URL of path on a server listening on listen_addr ("0.0.0.0:19473",
 * "/status" -> "http://127.0.0.1:19473/status"; wildcards become the
 * loopback address of their family). 0 or -EINVAL. */
int metrics_listen_url(const char *listen_addr, const char *path, char *buf, size_t len);

/* Stop serving: joins the thread and closes the socket; collectors and
 * callbacks are not called afterwards. Accepts NULL. */
void metrics_server_stop(struct metrics_server *srv);

/* ---- process metrics -------------------------------------------------------- */

/* A collector for the standard process_* families (CPU seconds, resident
 * and virtual memory, open and max file descriptors, start time) from
 * /proc/self; user is unused. Families it cannot read are left out. */
void metrics_collect_process(struct metrics_writer *w, void *user);
