/* collect.c - `nad detect`'s path over one capture, keeping every flow's score
 * and incident for evaluation (collect.h). */
#include "eval/collect.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/capture.h"
#include "decode/decode.h"
#include "features/features.h"
#include "flow/flow_meter.h"
#include "model/nad_meta.h"
#include "score/detect_route.h"

#define UID_SLOTS_MIN 1024

struct collect {
	struct eval_capture *c;
	struct scorer *scorer;
	struct incident_table *incidents;
	const struct eval_run_options *opt;
	size_t scored;             /* flows scored so far (the scorer keeps add order) */
	uint64_t now_us;           /* timestamp of the packet being fed */
	int feat_src[FEAT_COUNT];  /* registry index of each kept feature */
	enum nad_transform feat_tr[FEAT_COUNT];
	/* uid -> incident index, open addressing; slots hold index + 1 */
	uint32_t *slot;
	size_t n_slots;
	int err;                   /* first failure inside a callback */
};

static uint64_t hash_uid(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */

	while (*s)
		h = (h ^ (uint8_t)*s++) * 0x100000001b3ull;
	return h;
}

static int grow_slots(struct collect *k)
{
	size_t n = k->n_slots ? k->n_slots * 2 : UID_SLOTS_MIN;
	uint32_t *s = calloc(n, sizeof *s);

	if (!s)
		return -ENOMEM;
	for (size_t i = 0; i < k->c->n_inc; i++) {
		size_t j = hash_uid(k->c->inc[i].uid) & (n - 1);
		while (s[j])
			j = (j + 1) & (n - 1);
		s[j] = (uint32_t)i + 1;
	}
	free(k->slot);
	k->slot = s;
	k->n_slots = n;
	return 0;
}

/* The incident with this uid, created (level NONE) at first sight; -1 when out of memory. */
static int32_t incident_of(struct collect *k, const char *uid)
{
	struct eval_capture *c = k->c;
	size_t j;

	if ((c->n_inc + 1) * 2 > k->n_slots && grow_slots(k) < 0)
		return -1;
	for (j = hash_uid(uid) & (k->n_slots - 1); k->slot[j]; j = (j + 1) & (k->n_slots - 1))
		if (!strcmp(c->inc[k->slot[j] - 1].uid, uid))
			return (int32_t)k->slot[j] - 1;
	if (c->n_inc == c->cap_inc) {
		size_t cap = c->cap_inc ? c->cap_inc * 2 : 64;
		struct eval_incident *n = realloc(c->inc, cap * sizeof *n);
		if (!n)
			return -1;
		c->inc = n;
		c->cap_inc = cap;
	}
	struct eval_incident *i = &c->inc[c->n_inc];
	memset(i, 0, sizeof *i);
	snprintf(i->uid, sizeof i->uid, "%s", uid);
	for (int l = 0; l < 5; l++)
		i->reached_us[l] = EVAL_NO_TIME;
	k->slot[j] = (uint32_t)c->n_inc + 1;
	return (int32_t)c->n_inc++;
}

static void on_incident(const struct rec_incident *r, void *user)
{
	struct collect *k = user;
	int32_t idx = incident_of(k, r->uid);

	if (idx < 0) {
		k->err = -ENOMEM;
		return;
	}
	struct eval_incident *i = &k->c->inc[idx];
	snprintf(i->host, sizeof i->host, "%s", r->host);
	snprintf(i->category, sizeof i->category, "%s", r->category);
	i->score = r->score;
	i->flows = r->anomalies;
	i->first_us = r->first_ts_us;
	i->last_us = r->last_ts_us;
	if (r->level > i->level)
		i->level = r->level;
	/* Opened and updated events happen while a flow is being added: that
	 * flow's emit time is when the level was reached. */
	if (r->event != REC_INCIDENT_CLOSED && k->scored)
		for (int l = REC_LEVEL_LOW; l <= r->level; l++)
			if (i->reached_us[l] == EVAL_NO_TIME)
				i->reached_us[l] = k->c->flow[k->scored - 1].emit_us;
}

static void on_scored(const struct flow_record *rec, const struct scored_flow *s, void *user)
{
	struct collect *k = user;
	struct eval_flow *f = &k->c->flow[k->scored++];

	f->score = s->score;
	f->error = s->error;
	f->level = (uint8_t)s->level;
	struct rec_anomaly a;
	if (detect_route_flow(k->incidents, rec, s, &a) == DETECT_ROUTE_NONE)
		return;
	f->incident = incident_of(k, a.incident_uid);
	if (f->incident < 0)
		k->err = -ENOMEM;
}

static void on_record(const struct flow_record *rec, void *user)
{
	struct collect *k = user;
	struct eval_capture *c = k->c;

	if (k->err)
		return;
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 1024;
		if (c->n >= k->opt->max_records) {
			k->err = -E2BIG;
			return;
		}
		struct eval_flow *nf = realloc(c->flow, cap * sizeof *nf);
		if (!nf) {
			k->err = -ENOMEM;
			return;
		}
		c->flow = nf;
		if (c->n_feat) {
			float *x = realloc(c->feat, cap * c->n_feat * sizeof *x);
			if (!x) {
				k->err = -ENOMEM;
				return;
			}
			c->feat = x;
		}
		c->cap = cap;
	}
	struct eval_flow *f = &c->flow[c->n];
	memset(f, 0, sizeof *f);
	f->first_us = rec->first_us;
	f->last_us = rec->last_us;
	f->emit_us = k->now_us > rec->last_us ? k->now_us : rec->last_us;
	f->family = rec->family;
	f->proto = rec->proto;
	memcpy(f->src, rec->src, sizeof f->src);
	memcpy(f->dst, rec->dst, sizeof f->dst);
	f->sport = rec->sport;
	f->dport = rec->dport;
	f->incident = -1;
	f->label = -1;
	for (size_t i = 0; i < c->n_feat; i++)
		c->feat[c->n * c->n_feat + i] = (float)nad_meta_transform(k->feat_tr[i], rec->feat[k->feat_src[i]]);
	c->n++;
	scorer_add(k->scorer, rec);
}

void eval_run_options_default(struct eval_run_options *ret)
{
	memset(ret, 0, sizeof *ret);
	score_options_default(&ret->score);
	/* nad detect's incident settings */
	ret->incident.window_us = 600ull * 1000000ull;
	ret->incident.max_open = 4096;
	memcpy(ret->incident.level_thresholds, ret->score.thresholds, sizeof ret->incident.level_thresholds);
	ret->max_records = 50u * 1000u * 1000u;
}

static int keep_features(struct collect *k, char *err, size_t errlen)
{
	const struct nad_meta *m = scorer_meta(k->scorer);
	struct eval_capture *c = k->c;

	if (m->n_features > FEAT_COUNT) {
		snprintf(err, errlen, "model has %zu inputs, more than the %d features nad knows", m->n_features,
			 FEAT_COUNT);
		return -EINVAL;
	}
	c->feat_name = calloc(m->n_features ? m->n_features : 1, sizeof *c->feat_name);
	if (!c->feat_name)
		return -ENOMEM;
	for (size_t i = 0; i < m->n_features; i++) {
		int idx = feat_index(m->features[i].name);
		if (idx < 0) {
			snprintf(err, errlen, "model input '%s' is not a feature nad computes", m->features[i].name);
			return -EINVAL;
		}
		k->feat_src[i] = idx;
		k->feat_tr[i] = m->features[i].transform;
		c->feat_name[i] = strdup(m->features[i].name);
		if (!c->feat_name[i])
			return -ENOMEM;
		c->n_feat = i + 1;
	}
	return 0;
}

int eval_capture_run(const char *path, const char *model, const struct eval_run_options *opt,
		     struct eval_capture *ret, char *err, size_t errlen)
{
	struct eval_capture c = { 0 };
	struct collect k = { .c = &c, .opt = opt };
	struct cap_options copt = { .file = path };
	struct cap_source *cap = NULL;
	struct flow_meter_options mopt;
	struct flow_meter *meter = NULL;
	struct cap_packet p;
	int r;

	c.path = strdup(path);
	if (!c.path)
		return -ENOMEM;
	r = scorer_new(model, &opt->score, on_scored, &k, &k.scorer, err, errlen);
	if (r < 0)
		goto out;
	if (opt->keep_features && (r = keep_features(&k, err, errlen)) < 0)
		goto out;
	r = cap_open(&copt, &cap, err, errlen);
	if (r < 0)
		goto out;
	if (!dec_link_supported(cap_linktype(cap))) {
		snprintf(err, errlen, "cannot read capture file '%s': link type %s (%d) is not supported", path,
			 cap_linktype_name(cap), cap_linktype(cap));
		r = -EINVAL;
		goto out;
	}
	flow_meter_options_default(&mopt);
	if (opt->max_flows)
		mopt.table.max_flows = opt->max_flows;
	mopt.on_record = on_record;
	mopt.user = &k;
	k.incidents = incident_table_new(&opt->incident, on_incident, &k);
	if (!k.incidents || (r = flow_meter_new(&mopt, &meter)) < 0) {
		r = -ENOMEM;
		goto out;
	}
	while ((r = cap_next(cap, &p)) == CAP_PACKET && !k.err) {
		if (!c.packets++)
			c.first_pkt_us = p.ts_us;
		if (p.ts_us > k.now_us)
			k.now_us = p.ts_us;
		flow_meter_feed(meter, &p, cap_linktype(cap));
	}
	c.last_pkt_us = k.now_us;
	if (r == CAP_ERROR) {
		snprintf(err, errlen, "%s", cap_error(cap));
		r = -EINVAL;
		goto out;
	}
	flow_meter_flush(meter);
	scorer_flush(k.scorer);
	incident_table_close_all(k.incidents);
	r = k.err;
	if (r == -E2BIG)
		snprintf(err, errlen, "capture '%s' has more than %zu flow records", path, opt->max_records);
	else if (!r && k.scored != c.n) {
		snprintf(err, errlen, "capture '%s': %zu flows scored of %zu", path, k.scored, c.n);
		r = -EINVAL;
	}
out:
	flow_meter_free(meter);
	cap_free(cap);
	incident_table_free(k.incidents);
	scorer_free(k.scorer);
	free(k.slot);
	if (r < 0) {
		if (r == -ENOMEM)
			snprintf(err, errlen, "out of memory scoring '%s'", path);
		eval_capture_release(&c);
		return r;
	}
	*ret = c;
	return 0;
}

void eval_capture_release(struct eval_capture *c)
{
	for (size_t i = 0; c->feat_name && i < c->n_feat; i++)
		free(c->feat_name[i]);
	free(c->feat_name);
	free(c->path);
	free(c->flow);
	free(c->feat);
	free(c->inc);
	memset(c, 0, sizeof *c);
}
