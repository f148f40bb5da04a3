/* service.h - `nad run`: the long-running detector.
 *
 * One thread reads packets (a live interface, or a capture file through the
 * same path) into the flow meter; finished flows are either appended to the
 * baseline (learning period: no model yet) or scored, and anomalies roll up
 * into incidents. Records leave through the writer thread (JSON lines +
 * SQLite), which capture never waits on. SIGHUP reopens the log and reloads
 * configuration and model; SIGTERM/SIGINT score every active flow and write
 * every queued record before exit. /metrics, /status and /healthz are served
 * from their own thread (src/metrics/). docs/internals/service.md tells the story.
 */
#pragma once
#include <stdbool.h>
#include <stdint.h>

/* Exit codes, as DESIGN.md's: */
#define SERVICE_EXIT_OK 0
#define SERVICE_EXIT_FAILURE 1   /* runtime failure (capture error, disk) */
#define SERVICE_EXIT_USAGE 2     /* bad configuration, model or path: nothing was started */

/* Train a model from the baseline CSV (the `nad flows` format) and write it
 * to model_path atomically. Called on a background thread while capture goes
 * on; returns 0 or a negative errno, and logs its own failure. */
typedef int (*service_train_fn)(const char *baseline_path, const char *model_path, bool int8, uint64_t seed);

struct service_options {
	const char *config_path;     /* -c; NULL: CFG_DEFAULT_PATH if it exists, else built-in defaults */
	const char *iface;           /* -i: overrides [capture] interface */
	const char *file;            /* -r: a capture file instead of an interface */
	const char *model_path;      /* -m: overrides [model] path and must exist */
	uint64_t learn_duration_us;  /* --learn-duration, when have_learn_duration */
	bool have_learn_duration;
	const char *listen;          /* --listen: overrides [metrics] listen */
	bool linger;                 /* --linger: with -r, serve the endpoints after the file ends until SIGTERM */
	service_train_fn train;      /* needed for the learning period */
};

/* Run the service until the file ends or SIGTERM/SIGINT. Logs to stderr
 * (one line per notable event). Returns a SERVICE_EXIT_* code. */
int service_run(const struct service_options *opt);
