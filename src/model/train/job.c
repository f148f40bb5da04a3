/* job.c - one training job from start to finish: read flows CSV, normalise,
 * train, quantise, calibrate, write the model. `nad train`, `nad run`'s
 * learning period and `nad eval` all call train_model_from_csv(), so the
 * same baseline and seed give the same file whichever of them trains
 * (docs/internals/training.md). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "features/features.h"
#include "model/nad_meta.h"
#include "model/tfl_writer.h"
#include "model/train/train.h"
#include "nad_version.h"

/* Normalisation statistics and calibration need no more rows than this. */
#define NORM_MAX_ROWS 200000
#define CALIB_MAX_ROWS 200000
#define REPR_MAX_ROWS 4000

void train_job_default(struct train_job *job)
{
	memset(job, 0, sizeof *job);
	job->seed = 1;
	job->batch = 256;
	job->lr = 1e-3;
	job->patience = 5;
	job->val_frac = 0.15;
}

struct train_state {
	const struct train_job *job;
	uint32_t hidden[TRAIN_MAX_LAYERS];
	size_t n_hidden;
	size_t n;
	const char **names;
	enum nad_transform *tr;
	struct train_data data;
	struct train_csv_info info;
	struct nad_meta meta;
	struct train_ae ae;
	struct tfl_quant q;
	bool have_q;
	uint8_t *model;
	size_t model_len;
	char *json;
};

static void state_release(struct train_state *s)
{
	free(s->names);
	free(s->tr);
	train_data_release(&s->data);
	nad_meta_release(&s->meta);
	train_ae_release(&s->ae);
	if (s->have_q)
		tfl_quant_release(&s->q);
	free(s->model);
	free(s->json);
}

static int read_inputs(struct train_state *s, char *err, size_t errlen)
{
	for (size_t k = 0; k < s->job->n_inputs; k++) {
		const char *fname = s->job->inputs[k];
		bool is_stdin = !strcmp(fname, "-");
		FILE *f = is_stdin ? stdin : fopen(fname, "r");
		struct train_csv_error e = { 0 };
		int r;

		if (!f) {
			snprintf(err, errlen, "cannot open input '%s': %s", fname, strerror(errno));
			return -EINVAL;
		}
		r = train_csv_read(f, is_stdin ? "<stdin>" : fname, s->names, s->tr, &s->data, &s->info, &e);
		if (!is_stdin)
			fclose(f);
		if (r == -EINVAL) {
			if (e.line && e.column)
				snprintf(err, errlen, "bad input '%s':%zu:%zu%s%s%s: %s", e.file, e.line, e.column,
					 *e.field ? " (" : "", e.field, *e.field ? ")" : "", e.what);
			else if (e.line > 1)
				snprintf(err, errlen, "bad input '%s':%zu: %s", e.file, e.line, e.what);
			else
				snprintf(err, errlen, "bad input '%s': %s", e.file, e.what);
			return r;
		}
		if (r < 0) {
			snprintf(err, errlen, "cannot read input '%s': %s", fname, strerror(-r));
			return r;
		}
	}
	return 0;
}

static void progress(const struct train_progress *p, void *ctx)
{
	fprintf(ctx, "epoch %3u/%u  loss %.5f  val %.5f  best %.5f  %6.1f s  ~%.0f s left\n",
		p->epoch, p->epochs, p->loss, p->val_loss, p->best_val_loss, p->elapsed_s, p->eta_s);
}

static char *iso_time(double t)
{
	time_t s = (time_t)floor(t);
	struct tm tm;
	char buf[32];

	if (!gmtime_r(&s, &tm) || !strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm))
		return NULL;
	return strdup(buf);
}

struct recon_ctx {
	const struct train_ae *ae;
	const struct tfl_quant *q;
};

/* The score is calibrated on exactly what will run: the float network, or
 * the int8 one with its input quantised and output dequantised. */
static int recon(void *vctx, const float *x, size_t rows, float *out)
{
	const struct recon_ctx *c = vctx;
	const struct tfl_qlayer *first, *last;
	size_t n;
	int8_t *qi, *qo, *scratch;

	if (!c->q)
		return train_ae_forward(c->ae, x, rows, out);
	first = &c->q->layers[0];
	last = &c->q->layers[c->q->n_layers - 1];
	n = first->n_in;
	qi = malloc(n);
	qo = malloc(last->n_out);
	scratch = malloc(2 * (size_t)c->q->max_width);
	if (!qi || !qo || !scratch) {
		free(qi);
		free(qo);
		free(scratch);
		return -ENOMEM;
	}
	for (size_t r = 0; r < rows; r++) {
		for (size_t i = 0; i < n; i++)
			qi[i] = tfl_quantise(x[r * n + i], first->in_scale, first->in_zp);
		tfl_quant_run(c->q, qi, qo, scratch);
		for (size_t o = 0; o < last->n_out; o++)
			out[r * last->n_out + o] = tfl_dequantise(qo[o], last->out_scale, last->out_zp);
	}
	free(qi);
	free(qo);
	free(scratch);
	return 0;
}

static void default_hidden(struct train_state *s)
{
	uint32_t outer = (uint32_t)(s->n / 2 > 8 ? s->n / 2 : 8);
	uint32_t inner = (uint32_t)(s->n / 4 > 4 ? s->n / 4 : 4);

	s->hidden[0] = outer;
	s->hidden[1] = inner;
	s->hidden[2] = outer;
	s->n_hidden = 3;
}

/* Normalise, split, train, quantise, calibrate: everything between the CSV
 * and the bytes of the model. */
static int train_model(struct train_state *s, struct train_result *res)
{
	const struct train_job *a = s->job;
	struct train_rng rng = { a->seed };
	struct train_opts o = { 0 };
	struct tfl_dense_layer layers[TRAIN_MAX_LAYERS];
	struct tfl_dense_net net;
	struct recon_ctx rc;
	struct tfl_meta_entry entry;
	struct tfl_write_opts wo = { 0 };
	uint32_t sizes[TRAIN_MAX_LAYERS + 1];
	size_t rows = s->data.rows, n_val, n_train, n_calib;
	const float *val_x;
	char desc[64];
	int r;

	s->meta.clip = 10.0;
	r = train_norm_fit(&s->data, NORM_MAX_ROWS, &s->meta);
	if (r < 0)
		return r;
	train_norm_apply(&s->meta, &s->data);
	r = train_data_shuffle_rows(&s->data, &rng);
	if (r < 0)
		return r;
	n_val = (size_t)ceil((double)rows * a->val_frac);
	n_train = rows - n_val;
	val_x = s->data.x + n_train * s->n;

	sizes[0] = (uint32_t)s->n;
	for (size_t i = 0; i < s->n_hidden; i++)
		sizes[i + 1] = s->hidden[i];
	sizes[s->n_hidden + 1] = (uint32_t)s->n;
	r = train_ae_init(&s->ae, s->n_hidden + 1, sizes, a->seed);
	if (r < 0)
		return r;
	o.seed = a->seed;
	o.batch = a->batch;
	o.lr = a->lr;
	o.patience = a->patience;
	o.epochs = a->epochs ? a->epochs : train_default_epochs(n_train);
	o.progress = a->log ? progress : NULL;
	o.ctx = a->log;
	r = train_ae_fit(&s->ae, s->data.x, n_train, val_x, n_val, &o, res);
	if (r < 0)
		return r;
	train_ae_net(&s->ae, layers, &net);

	if (a->int8) {
		/* representative rows for activation ranges: evenly spaced
		 * training rows (already shuffled) */
		size_t nr = n_train < REPR_MAX_ROWS ? n_train : REPR_MAX_ROWS;

		r = tfl_quant_init(&net, s->data.x, nr, a->per_channel, &s->q);
		if (r < 0)
			return r;
		s->have_q = true;
	}
	rc.ae = &s->ae;
	rc.q = s->have_q ? &s->q : NULL;
	n_calib = n_val < CALIB_MAX_ROWS ? n_val : CALIB_MAX_ROWS;
	r = train_calibrate(&s->meta, val_x, n_calib, recon, &rc);
	if (r < 0)
		return r;

	s->meta.train.seed = a->seed;
	s->meta.train.epochs_max = o.epochs;
	s->meta.train.epochs_run = res->epochs_run;
	s->meta.train.best_epoch = res->best_epoch;
	s->meta.train.batch = o.batch;
	s->meta.train.lr = o.lr;
	s->meta.train.rows_train = n_train;
	s->meta.train.rows_val = n_val;
	s->meta.train.loss = res->loss;
	s->meta.train.val_loss = res->val_loss;
	s->meta.train.n_layers = s->ae.n_layers;
	memcpy(s->meta.train.sizes, sizes, (s->ae.n_layers + 1) * sizeof sizes[0]);
	s->meta.train.int8 = a->int8;
	s->meta.train.per_channel = a->int8 && a->per_channel;
	s->meta.train.nad_version = strdup(NAD_VERSION);
	if (s->info.have_ts) {
		s->meta.train.data_first = iso_time(s->info.ts_min);
		s->meta.train.data_last = iso_time(s->info.ts_max);
	}
	r = nad_meta_to_json(&s->meta, &s->json, &entry.len);
	if (r < 0)
		return r;
	entry.name = NAD_META_NAME;
	entry.data = s->json;
	snprintf(desc, sizeof desc, "nad %s autoencoder%s", NAD_VERSION, a->int8 ? " (int8)" : "");
	wo.description = desc;
	wo.metadata = &entry;
	wo.n_metadata = 1;
	return tfl_write_dense(&net, s->have_q ? &s->q : NULL, &wo, &s->model, &s->model_len);
}

static void summary(const struct train_state *s, const struct train_result *res, FILE *log)
{
	const struct nad_meta *m = &s->meta;

	fprintf(log, "trained on %zu rows (%zu held out) from %zu file(s), %zu features\n",
		m->train.rows_train, m->train.rows_val, s->info.files, s->n);
	fprintf(log, "layers");
	for (size_t i = 0; i <= m->train.n_layers; i++)
		fprintf(log, "%s%u", i ? " -> " : " ", m->train.sizes[i]);
	fprintf(log, ", %s\n", m->train.int8 ? (m->train.per_channel ? "int8 per-channel" : "int8 per-tensor") : "float32");
	fprintf(log, "%u epochs in %.1f s (%.0f samples/s), best epoch %u: loss %.5f, validation %.5f\n",
		res->epochs_run, res->seconds, res->seconds > 0 ? (double)res->samples / res->seconds : 0.0,
		res->best_epoch, res->loss, res->val_loss);
	fprintf(log, "held-out error: median %.5g, p99 %.5g, max %.5g; tail above %.5g: xi %.3f sigma %.5g\n",
		m->quantiles[10].value, m->quantiles[21].value, m->quantiles[m->n_quantiles - 1].value,
		m->tail_threshold, m->gpd_xi, m->gpd_sigma);
	fprintf(log, "wrote '%s' (%zu bytes)\n", s->job->out, s->model_len);
}

/* The registry's model features, in model order, with their transforms. */
static int describe_features(struct train_state *s)
{
	s->n = feat_model_count();
	s->names = calloc(s->n, sizeof *s->names);
	s->tr = calloc(s->n, sizeof *s->tr);
	if (!s->names || !s->tr || nad_meta_init(&s->meta, s->n, 0) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < s->n; i++) {
		const struct feat_def *f = &feat_registry[feat_model_index(i)];

		s->names[i] = f->name;
		s->tr[i] = f->scale == FEAT_SCALE_LOG1P ? NAD_TRANSFORM_LOG1P : NAD_TRANSFORM_LINEAR;
		s->meta.features[i].transform = s->tr[i];
		s->meta.features[i].name = strdup(f->name);
		if (!s->meta.features[i].name)
			return -ENOMEM;
	}
	return 0;
}

int train_model_from_csv(const struct train_job *job, char *err, size_t errlen)
{
	struct train_state s = { .job = job };
	struct train_result res = { 0 };
	int r;

	if (!job->n_inputs || job->n_inputs > TRAIN_JOB_MAX_INPUTS || !job->out || !job->batch ||
	    job->n_hidden >= TRAIN_MAX_LAYERS || !(job->val_frac > 0 && job->val_frac < 1)) {
		snprintf(err, errlen, "invalid training job: inputs, output, batch, layers or validation fraction");
		return -EINVAL;
	}
	r = describe_features(&s);
	if (r < 0) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	memcpy(s.hidden, job->hidden, sizeof s.hidden);
	s.n_hidden = job->n_hidden;
	if (!s.n_hidden)
		default_hidden(&s);
	train_data_init(&s.data, s.n);
	r = read_inputs(&s, err, errlen);
	if (r < 0)
		goto out;
	if (s.data.rows < TRAIN_MIN_ROWS) {
		snprintf(err, errlen, "too few flows to learn from: %zu rows in %zu file(s), need at least %d",
			 s.data.rows, s.info.files, TRAIN_MIN_ROWS);
		r = -EINVAL;
		goto out;
	}
	if (job->log)
		fprintf(job->log, "read %zu flows with %zu features\n", s.data.rows, s.n);
	r = train_model(&s, &res);
	if (r < 0) {
		snprintf(err, errlen, "cannot train model '%s': %s", job->out, strerror(-r));
		/* -EINVAL is kept for faults of the input files; training
		 * refusing (e.g. under 2 held-out rows) is a failure. */
		if (r == -EINVAL)
			r = -EDOM;
		goto out;
	}
	r = tfl_write_file(job->out, s.model, s.model_len);
	if (r < 0) {
		snprintf(err, errlen, "cannot write model '%s': %s", job->out, strerror(-r));
		goto out;
	}
	if (job->log)
		summary(&s, &res, job->log);
out:
	state_release(&s);
	return r;
}
