/* score.c - batch flows through the model and turn errors into scores. */
#include "score/score.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/distinct.h"
#include "flow/flow_csv.h"
#include "model/nad_meta.h"
#include "model/tfl_interp.h"
#include "model/tfl_model.h"
#include "score/category.h"
#include "score/incident.h"

/* The victim-side view: for each responder that received anomalous flows,
 * the distinct sources of those flows in the current window, by linear
 * counting over a small bitmap. Bounded: FANIN_SLOTS responders. */
#define FANIN_SLOTS 1024
#define FANIN_BITS 512

struct fanin_entry {
	uint8_t used;
	uint8_t family;
	uint8_t addr[16];
	uint64_t window_start_us;
	uint32_t set;
	uint8_t bits[FANIN_BITS / 8];
};

struct scorer {
	struct score_options opt;
	score_fn cb;
	void *user;
	struct tfl_model *model;
	struct tfl_interp *interp;
	struct nad_meta *meta;
	const struct tfl_io *in, *out;
	size_t n;                   /* model inputs */
	struct flow_record *queue;  /* opt.batch records */
	struct scored_flow *results;
	unsigned queued;
	float *x, *y;               /* normalised input / reconstruction, batch * n */
	struct fanin_entry *fanin;
};

void score_options_default(struct score_options *ret)
{
	memset(ret, 0, sizeof *ret);
	ret->thresholds[REC_LEVEL_NONE] = SCORE_SUSPICIOUS_DEFAULT; /* p <= 1e-2 */
	ret->thresholds[REC_LEVEL_LOW] = 50;      /* p <= 1e-3 */
	ret->thresholds[REC_LEVEL_MEDIUM] = 65;   /* p <= ~1.3e-4 */
	ret->thresholds[REC_LEVEL_HIGH] = 80;     /* p <= ~1.6e-5 */
	ret->thresholds[REC_LEVEL_CRITICAL] = 95; /* p <= 2e-6 */
	ret->batch = SCORE_BATCH_DEFAULT;
	ret->fanin_window_us = 600ull * 1000000ull;
}

/* Record that src sent an anomalous flow to dst; returns dst's fan-in. */
static unsigned fanin_add(struct scorer *s, const struct flow_record *r)
{
	size_t alen = r->family == 6 ? 16 : 4;
	uint64_t h = fnv1a(FNV1A_SEED, r->dst, alen);
	struct fanin_entry *e = &s->fanin[h % FANIN_SLOTS];

	if (!e->used || e->family != r->family || memcmp(e->addr, r->dst, alen) ||
	    r->last_us > e->window_start_us + s->opt.fanin_window_us) {
		/* New responder, or its window passed: start over (a collision
		 * replaces the older responder; fan-in is a hint, not a count). */
		memset(e, 0, sizeof *e);
		e->used = 1;
		e->family = r->family;
		memcpy(e->addr, r->dst, alen);
		e->window_start_us = r->last_us;
	}
	distinct_mark(e->bits, FANIN_BITS, &e->set, fnv1a(0xcbf29ce484222325ull ^ 0x5bd1e995, r->src, alen));
	return distinct_estimate(FANIN_BITS, e->set);
}

int scorer_new(const char *model_path, const struct score_options *opt, score_fn cb, void *user,
	       struct scorer **ret, char *err, size_t errlen)
{
	struct tfl_error terr = { "" };
	struct scorer *s = calloc(1, sizeof *s);
	const uint8_t *json;
	size_t json_len;
	const char *names[FEAT_COUNT];
	const char *missing = NULL;
	char merr[256] = "";
	int r;

	if (!s) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	s->opt = *opt;
	if (s->opt.batch < 1 || s->opt.batch > 4096)
		s->opt.batch = SCORE_BATCH_DEFAULT;
	s->cb = cb;
	s->user = user;

	r = tfl_model_load_file(model_path, &terr, &s->model);
	if (r < 0) {
		snprintf(err, errlen, "%s", terr.msg);
		goto fail;
	}
	r = tfl_model_metadata(s->model, NAD_META_NAME, &json, &json_len);
	if (r < 0) {
		snprintf(err, errlen,
			 "cannot use model '%s': it has no \"%s\" metadata (feature names and score calibration); "
			 "train it with 'nad train'",
			 model_path, NAD_META_NAME);
		r = -EINVAL;
		goto fail;
	}
	r = nad_meta_parse((const char *)json, json_len, &s->meta, merr, sizeof merr);
	if (r < 0) {
		snprintf(err, errlen, "cannot use model '%s': bad nad metadata: %s", model_path, merr);
		r = -EINVAL;
		goto fail;
	}
	for (size_t i = 0; i < FEAT_COUNT; i++)
		names[i] = feat_registry[i].name;
	r = nad_meta_bind(s->meta, names, FEAT_COUNT, &missing);
	if (r < 0) {
		snprintf(err, errlen, "cannot use model '%s': it needs feature '%s', which this nad does not compute",
			 model_path, missing ? missing : "?");
		r = -EINVAL;
		goto fail;
	}
	r = tfl_interp_new(s->model, s->opt.batch, &terr, &s->interp);
	if (r < 0) {
		snprintf(err, errlen, "%s", terr.msg);
		goto fail;
	}
	s->n = s->meta->n_features;
	if (tfl_interp_n_inputs(s->interp) != 1 || tfl_interp_n_outputs(s->interp) != 1) {
		snprintf(err, errlen, "cannot use model '%s': an autoencoder has one input and one output, it has %zu and %zu",
			 model_path, tfl_interp_n_inputs(s->interp), tfl_interp_n_outputs(s->interp));
		r = -EINVAL;
		goto fail;
	}
	s->in = tfl_interp_input(s->interp, 0);
	s->out = tfl_interp_output(s->interp, 0);
	if (s->in->row != s->n || s->out->row != s->n || !s->in->batched) {
		snprintf(err, errlen,
			 "cannot use model '%s': input/output rows are %zu/%zu values but the metadata lists %zu features",
			 model_path, s->in->row, s->out->row, s->n);
		r = -EINVAL;
		goto fail;
	}
	s->queue = calloc(s->opt.batch, sizeof *s->queue);
	s->results = calloc(s->opt.batch, sizeof *s->results);
	s->x = calloc((size_t)s->opt.batch * s->n, sizeof *s->x);
	s->y = calloc((size_t)s->opt.batch * s->n, sizeof *s->y);
	s->fanin = calloc(FANIN_SLOTS, sizeof *s->fanin);
	if (!s->queue || !s->results || !s->x || !s->y || !s->fanin) {
		snprintf(err, errlen, "out of memory");
		r = -ENOMEM;
		goto fail;
	}
	*ret = s;
	return 0;
fail:
	scorer_free(s);
	return r;
}

const struct nad_meta *scorer_meta(const struct scorer *s) { return s->meta; }

void scorer_free(struct scorer *s)
{
	if (!s)
		return;
	tfl_interp_free(s->interp);
	tfl_model_free(s->model);
	nad_meta_free(s->meta);
	free(s->queue);
	free(s->results);
	free(s->x);
	free(s->y);
	free(s->fanin);
	free(s);
}

/* Float vectors in and out of the model's own tensor types (float32 or
 * int8 with the tensors' quantisation). */
static void put_input(struct scorer *s, unsigned rows)
{
	size_t total = (size_t)rows * s->n;

	if (s->in->type == 0 /* FLOAT32 */) {
		memcpy(s->in->data, s->x, total * sizeof(float));
		return;
	}
	int8_t *q = s->in->data;
	for (size_t i = 0; i < total; i++) {
		long v = lroundf(s->x[i] / s->in->scale) + s->in->zero_point;
		q[i] = (int8_t)(v < -128 ? -128 : v > 127 ? 127 : v);
	}
}

static void get_output(struct scorer *s, unsigned rows)
{
	size_t total = (size_t)rows * s->n;

	if (s->out->type == 0) {
		memcpy(s->y, s->out->data, total * sizeof(float));
		return;
	}
	const int8_t *q = s->out->data;
	for (size_t i = 0; i < total; i++)
		s->y[i] = (float)(q[i] - s->out->zero_point) * s->out->scale;
}

static double inverse_transform(enum nad_transform t, double y)
{
	if (t == NAD_TRANSFORM_LOG1P)
		return y < 0 ? -expm1(-y) : expm1(y);
	return y;
}

static void format_value(char *buf, size_t len, double v)
{
	if (fabs(v) >= 100 || v == floor(v))
		snprintf(buf, len, "%.0f", v);
	else
		snprintf(buf, len, "%.3g", v);
}

/* Rank inputs by how much worse their reconstruction is than on baseline
 * flows (squared error / its held-out mean), keep the top few. */
static void explain(const struct scorer *s, const struct flow_record *rec, const float *x, const float *y,
		    struct scored_flow *out)
{
	const struct nad_meta *m = s->meta;
	double total = 0, ratio[REC_TOP_FEATURES] = { 0 };
	int idx[REC_TOP_FEATURES] = { -1, -1, -1 };
	size_t used = 0;

	for (size_t i = 0; i < s->n; i++)
		total += ((double)x[i] - y[i]) * ((double)x[i] - y[i]);
	for (size_t i = 0; i < s->n; i++) {
		double e = ((double)x[i] - y[i]) * ((double)x[i] - y[i]);
		double base = m->features[i].err_mean > 1e-6 ? m->features[i].err_mean : 1e-6;
		double rt = e / base;
		for (int k = 0; k < REC_TOP_FEATURES; k++) {
			if (idx[k] < 0 || rt > ratio[k]) {
				for (int j = REC_TOP_FEATURES - 1; j > k; j--) {
					idx[j] = idx[j - 1];
					ratio[j] = ratio[j - 1];
				}
				idx[k] = (int)i;
				ratio[k] = rt;
				break;
			}
		}
	}
	out->ntop = 0;
	out->explanation[0] = 0;
	for (int k = 0; k < REC_TOP_FEATURES && idx[k] >= 0; k++) {
		const struct nad_meta_feature *mf = &m->features[idx[k]];
		int reg = m->src_index ? m->src_index[idx[k]] : idx[k];
		struct rec_contrib *c = &out->top[out->ntop++];
		double e = ((double)x[idx[k]] - y[idx[k]]) * ((double)x[idx[k]] - y[idx[k]]);
		char v[32], lo[32], hi[32];

		snprintf(c->feature, sizeof c->feature, "%s", mf->name);
		c->value = rec->feat[reg];
		/* the middle 80% of baseline flows; older models only know
		 * the median and scale */
		c->typical_lo = inverse_transform(mf->transform,
						  mf->has_typical ? mf->typical_lo : mf->center - mf->scale);
		c->typical_hi = inverse_transform(mf->transform,
						  mf->has_typical ? mf->typical_hi : mf->center + mf->scale);
		/* center +- scale can stray outside what the feature can be (a
		 * rare flag's scale is floored at 1: "typical -1 to 1"): no
		 * negative typical values for a flow whose value and baseline
		 * center are not negative, no share or flag above 1 */
		if (c->typical_lo < 0 && c->value >= 0 && (mf->transform == NAD_TRANSFORM_LOG1P || mf->center >= 0))
			c->typical_lo = 0;
		if (c->typical_hi > 1 && (!strcmp(feat_registry[reg].unit, "bool") ||
					  !strcmp(feat_registry[reg].unit, "ratio")))
			c->typical_hi = 1;
		/* a flag is typically what most baseline flows have: its median */
		if (!strcmp(feat_registry[reg].unit, "bool") && (mf->center == 0 || mf->center == 1))
			c->typical_lo = c->typical_hi = mf->center;
		c->share = total > 0 ? e / total : 0;
		format_value(v, sizeof v, c->value);
		format_value(lo, sizeof lo, c->typical_lo);
		format_value(hi, sizeof hi, c->typical_hi);
		size_t used_now = strlen(out->explanation);
		/* The ranking is by reconstruction error, so a contributor can
		 * sit inside its own typical range and stand out only beside the
		 * flow's other values (e.g. PTR lookups that got NXDOMAIN). Say
		 * so rather than imply the value itself is out of range. */
		const char *alone = c->value >= c->typical_lo && c->value <= c->typical_hi
					    ? ", usual alone but not with the rest"
					    : "";
		if (c->typical_lo == c->typical_hi)
			snprintf(out->explanation + used_now, sizeof out->explanation - used_now,
				 "%s%s is %s %s (typical %s%s)", k ? "; " : "", mf->name, v, feat_registry[reg].unit, lo,
				 alone);
		else
			snprintf(out->explanation + used_now, sizeof out->explanation - used_now,
				 "%s%s is %s %s (typical %s to %s%s)", k ? "; " : "", mf->name, v,
				 feat_registry[reg].unit, lo, hi, alone);
		used = strlen(out->explanation);
	}
	if (out->ntop) {
		int reg = m->src_index ? m->src_index[idx[0]] : idx[0];
		snprintf(out->explanation + used, sizeof out->explanation - used, ". %s: %s", feat_registry[reg].name,
			 feat_registry[reg].description);
	}
}

/* Registry index of the flow's strongest contributor (explain() ran), or -1. */
static int top_feature(const struct scorer *s, const struct scored_flow *r)
{
	if (!r->ntop)
		return -1;
	return feat_index(r->top[0].feature);
}

static double score_of(double p)
{
	double s;

	if (!(p > 1e-12))
		p = 1e-12;
	s = 100.0 * -log10(p) / 6.0;
	return s < 0 ? 0 : s > 100 ? 100 : s;
}

/* Anomalous, or suspicious enough to count toward an incident. */
static bool notable(const struct scorer *s, const struct scored_flow *r)
{
	return r->level > REC_LEVEL_NONE || r->score >= s->opt.thresholds[REC_LEVEL_NONE];
}

void scorer_flush(struct scorer *s)
{
	unsigned rows = s->queued;

	if (!rows)
		return;
	for (unsigned i = 0; i < rows; i++)
		nad_meta_normalise(s->meta, s->queue[i].feat, s->x + (size_t)i * s->n);
	put_input(s, rows);
	tfl_interp_invoke(s->interp, rows);
	get_output(s, rows);

	/* Pass 1: score every flow and update the victims' fan-in with the
	 * anomalous ones, so a burst of spoofed flows is seen as one flood
	 * from its first flow on. */
	for (unsigned i = 0; i < rows; i++) {
		struct scored_flow *r = &s->results[i];
		const float *x = s->x + (size_t)i * s->n, *y = s->y + (size_t)i * s->n;

		memset(r, 0, sizeof *r);
		r->error = nad_meta_error(s->meta, x, y);
		r->tail_prob = nad_meta_tail_probability(s->meta, r->error);
		r->score = score_of(r->tail_prob);
		r->level = incident_level_of(s->opt.thresholds, r->score);
		if (notable(s, r))
			r->fan_in = fanin_add(s, &s->queue[i]);
	}
	/* Pass 2: categories and explanations, then hand out in order. */
	for (unsigned i = 0; i < rows; i++) {
		struct scored_flow *r = &s->results[i];
		const struct flow_record *rec = &s->queue[i];

		if (notable(s, r)) {
			unsigned fan = fanin_add(s, rec); /* re-adding is idempotent; reads the batch's total */
			r->fan_in = fan;
			explain(s, rec, s->x + (size_t)i * s->n, s->y + (size_t)i * s->n, r);
			r->category = score_category(rec->feat, fan, top_feature(s, r));
		}
		s->cb(rec, r, s->user);
	}
	s->queued = 0;
}

void scorer_add(struct scorer *s, const struct flow_record *rec)
{
	s->queue[s->queued++] = *rec;
	if (s->queued == s->opt.batch)
		scorer_flush(s);
}

void score_fill_anomaly(const struct flow_record *rec, const struct scored_flow *s, struct rec_anomaly *ret)
{
	memset(ret, 0, sizeof *ret);
	ret->first_ts_us = rec->first_us;
	ret->last_ts_us = rec->last_us;
	flow_csv_addr(rec->family, rec->src, ret->src, sizeof ret->src);
	flow_csv_addr(rec->family, rec->dst, ret->dst, sizeof ret->dst);
	ret->sport = rec->sport;
	ret->dport = rec->dport;
	ret->proto = rec->proto;
	ret->vlan = rec->vlan;
	snprintf(ret->end_reason, sizeof ret->end_reason, "%s", flow_end_name(rec->end));
	ret->packets_fwd = rec->packets[0];
	ret->packets_bwd = rec->packets[1];
	ret->bytes_fwd = rec->bytes[0];
	ret->bytes_bwd = rec->bytes[1];
	ret->error = s->error;
	ret->tail_prob = s->tail_prob;
	ret->score = s->score;
	ret->level = (uint8_t)s->level;
	snprintf(ret->category, sizeof ret->category, "%s", s->category ? s->category : "unknown");
	memcpy(ret->top, s->top, sizeof ret->top);
	ret->ntop = s->ntop;
	snprintf(ret->explanation, sizeof ret->explanation, "%s", s->explanation);
	ret->nfeat = FEAT_COUNT < REC_FEATURES_MAX ? FEAT_COUNT : REC_FEATURES_MAX;
	memcpy(ret->feat, rec->feat, ret->nfeat * sizeof ret->feat[0]);
}
