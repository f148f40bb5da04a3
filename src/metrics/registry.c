/* registry.c - metric cells, families, collectors and the text exposition.
 *
 * Format: Prometheus text exposition 0.0.4 (one "# HELP" and one "# TYPE"
 * line per family, then its samples; histograms as cumulative _bucket
 * series ending in le="+Inf", then _sum and _count).
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/metrics.h"

/* A scrape of nad is a few kilobytes; this only stops a runaway collector. */
#define RENDER_MAX (16u << 20)

enum kind { KIND_COUNTER, KIND_GAUGE, KIND_HISTOGRAM };
static const char *const kind_names[] = { "counter", "gauge", "histogram" };

struct metrics_histogram {
	unsigned n;                                             /* finite bounds */
	double bounds[METRICS_HISTOGRAM_MAX_BUCKETS];
	_Atomic uint64_t counts[METRICS_HISTOGRAM_MAX_BUCKETS + 1]; /* per bucket, not cumulative; [n] = +Inf */
	_Atomic uint64_t sum_bits;                              /* double */
};

struct series {
	struct series *next;
	char *labels;                 /* "" when none */
	struct metrics_counter counter;
	struct metrics_gauge gauge;
	struct metrics_histogram hist;
};

struct family {
	struct family *next;
	char *name, *help;
	enum kind kind;
	struct series *first, *last;
};

struct collector {
	metrics_collect_fn fn;
	void *user;
};

struct metrics_registry {
	pthread_mutex_t lock;         /* declarations, collectors and render; never the cells */
	struct family *first, *last;
	struct collector *collectors;
	size_t ncollectors, capcollectors;
};

struct metrics_writer {
	char *buf;
	size_t len, cap;
	int err;                      /* first error: -ENOMEM or -EFBIG */
};

/* ---- cells ------------------------------------------------------------------ */

void metrics_histogram_observe(struct metrics_histogram *h, double v)
{
	unsigned i = 0;
	uint64_t old, new;
	double sum;

	/* A NaN has no bucket and would poison the sum for good. */
	if (isnan(v))
		return;
	while (i < h->n && v > h->bounds[i])
		i++;
	atomic_fetch_add_explicit(&h->counts[i], 1, memory_order_relaxed);
	old = atomic_load_explicit(&h->sum_bits, memory_order_relaxed);
	do {
		memcpy(&sum, &old, sizeof sum);
		sum += v;
		memcpy(&new, &sum, sizeof new);
	} while (!atomic_compare_exchange_weak_explicit(&h->sum_bits, &old, new, memory_order_relaxed,
							memory_order_relaxed));
}

/* ---- names and escaping ------------------------------------------------------- */

static bool valid_name(const char *s, bool colon_ok)
{
	if (!s || !*s || (*s >= '0' && *s <= '9'))
		return false;
	for (; *s; s++) {
		char c = *s;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
		      (colon_ok && c == ':')))
			return false;
	}
	return true;
}

int metrics_labels(char *buf, size_t len, ...)
{
	va_list ap;
	size_t o = 0;
	const char *k;
	int r = 0;

	if (!len)
		return -ENOSPC;
	va_start(ap, len);
	while ((k = va_arg(ap, const char *)) != NULL) {
		const char *v = va_arg(ap, const char *);
		size_t klen = strlen(k);

		if (!valid_name(k, false) || !v) {
			r = -EINVAL;
			break;
		}
		/* separator, key, =" */
		if (o + (o ? 1 : 0) + klen + 2 >= len) {
			r = -ENOSPC;
			break;
		}
		if (o)
			buf[o++] = ',';
		memcpy(buf + o, k, klen);
		o += klen;
		buf[o++] = '=';
		buf[o++] = '"';
		for (; *v && !r; v++) {
			const char *esc = *v == '\\' ? "\\\\" : *v == '"' ? "\\\"" : *v == '\n' ? "\\n" : NULL;
			size_t n = esc ? 2 : 1;

			if (o + n >= len) {
				r = -ENOSPC;
				break;
			}
			if (esc)
				memcpy(buf + o, esc, 2);
			else
				buf[o] = *v;
			o += n;
		}
		if (r || o + 1 >= len) {
			r = r ? r : -ENOSPC;
			break;
		}
		buf[o++] = '"';
	}
	va_end(ap);
	if (r) {
		buf[0] = '\0';
		return r;
	}
	buf[o] = '\0';
	return 0;
}

/* ---- declaring -------------------------------------------------------------------- */

int metrics_registry_new(struct metrics_registry **ret)
{
	struct metrics_registry *r = calloc(1, sizeof *r);

	if (!r)
		return -ENOMEM;
	pthread_mutex_init(&r->lock, NULL);
	*ret = r;
	return 0;
}

void metrics_registry_free(struct metrics_registry *r)
{
	if (!r)
		return;
	for (struct family *f = r->first, *fn; f; f = fn) {
		fn = f->next;
		for (struct series *s = f->first, *sn; s; s = sn) {
			sn = s->next;
			free(s->labels);
			free(s);
		}
		free(f->name);
		free(f->help);
		free(f);
	}
	free(r->collectors);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

/* Find or create the family, then append a series. Called with the lock held. */
static struct series *declare_locked(struct metrics_registry *r, const char *name, const char *help,
				     enum kind kind, const char *labels)
{
	struct family *f;
	struct series *s;

	for (f = r->first; f; f = f->next)
		if (!strcmp(f->name, name))
			break;
	if (f && f->kind != kind)
		return NULL;
	if (!f) {
		f = calloc(1, sizeof *f);
		if (!f)
			return NULL;
		f->name = strdup(name);
		f->help = strdup(help ? help : "");
		f->kind = kind;
		if (!f->name || !f->help) {
			free(f->name);
			free(f->help);
			free(f);
			return NULL;
		}
		if (r->last)
			r->last->next = f;
		else
			r->first = f;
		r->last = f;
	}
	s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	s->labels = strdup(labels ? labels : "");
	if (!s->labels) {
		free(s);
		return NULL;
	}
	if (f->last)
		f->last->next = s;
	else
		f->first = s;
	f->last = s;
	return s;
}

static struct series *declare(struct metrics_registry *r, const char *name, const char *help, enum kind kind,
			      const char *labels)
{
	struct series *s;

	if (!r || !valid_name(name, true))
		return NULL;
	pthread_mutex_lock(&r->lock);
	s = declare_locked(r, name, help, kind, labels);
	pthread_mutex_unlock(&r->lock);
	return s;
}

struct metrics_counter *metrics_counter_new(struct metrics_registry *r, const char *name, const char *help,
					    const char *labels)
{
	struct series *s = declare(r, name, help, KIND_COUNTER, labels);

	return s ? &s->counter : NULL;
}

struct metrics_gauge *metrics_gauge_new(struct metrics_registry *r, const char *name, const char *help,
					const char *labels)
{
	struct series *s = declare(r, name, help, KIND_GAUGE, labels);

	return s ? &s->gauge : NULL;
}

struct metrics_histogram *metrics_histogram_new(struct metrics_registry *r, const char *name, const char *help,
						const char *labels, const double *bounds, unsigned nbounds)
{
	struct series *s;

	if (nbounds > METRICS_HISTOGRAM_MAX_BUCKETS)
		return NULL;
	for (unsigned i = 0; i < nbounds; i++)
		if (!isfinite(bounds[i]) || (i && bounds[i] <= bounds[i - 1]))
			return NULL;
	s = declare(r, name, help, KIND_HISTOGRAM, labels);
	if (!s)
		return NULL;
	s->hist.n = nbounds;
	memcpy(s->hist.bounds, bounds, nbounds * sizeof *bounds);
	return &s->hist;
}

int metrics_registry_add_collector(struct metrics_registry *r, metrics_collect_fn fn, void *user)
{
	int ret = 0;

	if (!r || !fn)
		return -EINVAL;
	pthread_mutex_lock(&r->lock);
	if (r->ncollectors == r->capcollectors) {
		size_t cap = r->capcollectors ? 2 * r->capcollectors : 8;
		struct collector *c = realloc(r->collectors, cap * sizeof *c);

		if (!c) {
			ret = -ENOMEM;
			goto out;
		}
		r->collectors = c;
		r->capcollectors = cap;
	}
	r->collectors[r->ncollectors++] = (struct collector){ fn, user };
out:
	pthread_mutex_unlock(&r->lock);
	return ret;
}

/* ---- writing ----------------------------------------------------------------------- */

static void put(struct metrics_writer *w, const char *s, size_t n)
{
	if (w->err)
		return;
	if (w->len + n + 1 > w->cap) {
		size_t cap = w->cap ? w->cap : 16384;
		char *b;

		while (cap < w->len + n + 1)
			cap *= 2;
		if (cap > RENDER_MAX) {
			w->err = -EFBIG;
			return;
		}
		b = realloc(w->buf, cap);
		if (!b) {
			w->err = -ENOMEM;
			return;
		}
		w->buf = b;
		w->cap = cap;
	}
	memcpy(w->buf + w->len, s, n);
	w->len += n;
	w->buf[w->len] = '\0';
}

static void puts_w(struct metrics_writer *w, const char *s)
{
	put(w, s, strlen(s));
}

/* Shortest text that reads back as the same double; integers without an
 * exponent up to 2^53 (counters read best that way). */
static void format_value(double v, char *buf, size_t len)
{
	if (isnan(v)) {
		snprintf(buf, len, "NaN");
	} else if (isinf(v)) {
		snprintf(buf, len, v > 0 ? "+Inf" : "-Inf");
	} else if (v == floor(v) && fabs(v) <= 9007199254740992.0) {
		snprintf(buf, len, "%.0f", v);
	} else {
		snprintf(buf, len, "%.15g", v);
		if (strtod(buf, NULL) != v)
			snprintf(buf, len, "%.17g", v);
	}
}

void metrics_family(struct metrics_writer *w, const char *name, const char *type, const char *help)
{
	puts_w(w, "# HELP ");
	puts_w(w, name);
	put(w, " ", 1);
	for (const char *p = help ? help : ""; *p; p++) {
		if (*p == '\\')
			put(w, "\\\\", 2);
		else if (*p == '\n')
			put(w, "\\n", 2);
		else
			put(w, p, 1);
	}
	puts_w(w, "\n# TYPE ");
	puts_w(w, name);
	put(w, " ", 1);
	puts_w(w, type);
	put(w, "\n", 1);
}

void metrics_sample(struct metrics_writer *w, const char *name, const char *labels, double value)
{
	char num[40];

	puts_w(w, name);
	if (labels && *labels) {
		put(w, "{", 1);
		puts_w(w, labels);
		put(w, "}", 1);
	}
	format_value(value, num, sizeof num);
	put(w, " ", 1);
	puts_w(w, num);
	put(w, "\n", 1);
}

static void render_histogram(struct metrics_writer *w, const struct family *f, const struct series *s)
{
	const struct metrics_histogram *h = &s->hist;
	char name[256], labels[1024], le[40];
	uint64_t cum = 0, sum_bits;
	double sum;

	snprintf(name, sizeof name, "%s_bucket", f->name);
	for (unsigned i = 0; i <= h->n; i++) {
		cum += atomic_load_explicit(&((struct metrics_histogram *)h)->counts[i], memory_order_relaxed);
		if (i < h->n)
			format_value(h->bounds[i], le, sizeof le);
		else
			snprintf(le, sizeof le, "+Inf");
		snprintf(labels, sizeof labels, "%s%sle=\"%s\"", s->labels, *s->labels ? "," : "", le);
		metrics_sample(w, name, labels, (double)cum);
	}
	sum_bits = atomic_load_explicit(&((struct metrics_histogram *)h)->sum_bits, memory_order_relaxed);
	memcpy(&sum, &sum_bits, sizeof sum);
	snprintf(name, sizeof name, "%s_sum", f->name);
	metrics_sample(w, name, s->labels, sum);
	/* _count is the +Inf bucket by definition: take it from the same loads. */
	snprintf(name, sizeof name, "%s_count", f->name);
	metrics_sample(w, name, s->labels, (double)cum);
}

int metrics_render(struct metrics_registry *r, char **ret_text, size_t *ret_len)
{
	struct metrics_writer w = { 0 };

	pthread_mutex_lock(&r->lock);
	for (const struct family *f = r->first; f; f = f->next) {
		metrics_family(&w, f->name, kind_names[f->kind], f->help);
		for (const struct series *s = f->first; s; s = s->next) {
			if (f->kind == KIND_COUNTER)
				metrics_sample(&w, f->name, s->labels, (double)metrics_counter_get(&s->counter));
			else if (f->kind == KIND_GAUGE)
				metrics_sample(&w, f->name, s->labels, metrics_gauge_get(&s->gauge));
			else
				render_histogram(&w, f, s);
		}
	}
	for (size_t i = 0; i < r->ncollectors; i++)
		r->collectors[i].fn(&w, r->collectors[i].user);
	pthread_mutex_unlock(&r->lock);
	put(&w, "", 0);
	if (w.err) {
		free(w.buf);
		return w.err;
	}
	*ret_text = w.buf;
	*ret_len = w.len;
	return 0;
}
