/* cmd_train.c - `nad train`: learn what normal flows look like.
 *
 * Reads `nad flows` CSV, normalises the registry's model features, trains
 * a dense autoencoder, calibrates its reconstruction error on held-out
 * rows, and writes one .tflite holding the network and the "nad" metadata
 * (docs/internals/training.md).
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "features/features.h"
#include "model/nad_meta.h"
#include "model/tfl_writer.h"
#include "model/train/train.h"
#include "nad_version.h"

#define TRAIN_MIN_ROWS 50
#define MAX_INPUTS 64
/* Normalisation statistics and calibration need no more rows than this. */
#define NORM_MAX_ROWS 200000
#define CALIB_MAX_ROWS 200000
#define REPR_MAX_ROWS 4000

struct train_args {
	const char *inputs[MAX_INPUTS];
	size_t n_inputs;
	const char *out;
	bool int8, per_channel, quiet;
	uint64_t seed;
	uint32_t hidden[TRAIN_MAX_LAYERS];
	size_t n_hidden;
	long epochs, batch, patience;
	double lr, val_frac;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: nad train --input FLOWS.csv [--input MORE.csv ...] --out MODEL.tflite [options]\n"
		"\n"
		"Train an autoencoder on baseline flows (`nad flows --format csv` output; '-' is\n"
		"stdin), calibrate its score and write one .tflite with everything needed to detect.\n"
		"\n"
		"  -i, --input FILE     flows CSV (repeatable)\n"
		"  -o, --out FILE       model to write (replaced atomically)\n"
		"      --int8           full-integer int8 model (default float32)\n"
		"      --per-channel    int8 weights with one scale per output channel (finer, but\n"
		"                       ArmNN 22 cannot run it; default one scale per tensor)\n"
		"      --seed N         random seed (default 1); same data and seed, same file\n"
		"      --hidden A,B,C   hidden layer sizes (default n/2,n/4,n/2 for n features)\n"
		"      --epochs N       at most N epochs (default: 100, fewer for big inputs: ~12M samples)\n"
		"      --batch N        mini-batch size (default 256)\n"
		"      --lr X           Adam learning rate (default 0.001)\n"
		"      --patience N     stop after N epochs without validation gain (default 5)\n"
		"      --validation F   fraction of rows held out (default 0.15)\n"
		"  -q, --quiet          no progress, only errors\n");
}

static int parse_hidden(const char *s, struct train_args *a)
{
	char *copy = strdup(s), *save = NULL, *tok;
	int r = 0;

	if (!copy)
		return -1;
	a->n_hidden = 0;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		long v;

		if (a->n_hidden == TRAIN_MAX_LAYERS - 1 || cli_parse_long(tok, 1, 4096, &v) < 0) {
			r = -1;
			break;
		}
		a->hidden[a->n_hidden++] = (uint32_t)v;
	}
	free(copy);
	return r || !a->n_hidden ? -1 : 0;
}

static int parse_double(const char *s, double lo, double hi, double *ret)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= lo && v <= hi))
		return -1;
	*ret = v;
	return 0;
}

static int parse_args(int argc, char **argv, struct train_args *a)
{
	enum { OPT_INT8 = 256, OPT_PER_CHANNEL, OPT_SEED, OPT_HIDDEN, OPT_EPOCHS, OPT_BATCH, OPT_LR,
	       OPT_PATIENCE, OPT_VALIDATION };
	static const struct option opts[] = {
		{ "input", required_argument, NULL, 'i' },
		{ "out", required_argument, NULL, 'o' },
		{ "int8", no_argument, NULL, OPT_INT8 },
		{ "per-channel", no_argument, NULL, OPT_PER_CHANNEL },
		{ "seed", required_argument, NULL, OPT_SEED },
		{ "hidden", required_argument, NULL, OPT_HIDDEN },
		{ "epochs", required_argument, NULL, OPT_EPOCHS },
		{ "batch", required_argument, NULL, OPT_BATCH },
		{ "lr", required_argument, NULL, OPT_LR },
		{ "patience", required_argument, NULL, OPT_PATIENCE },
		{ "validation", required_argument, NULL, OPT_VALIDATION },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;
	long v;

	memset(a, 0, sizeof *a);
	a->seed = 1;
	a->batch = 256;
	a->lr = 1e-3;
	a->patience = 5;
	a->val_frac = 0.15;
	optind = 1;
	while ((c = getopt_long(argc, argv, "i:o:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			if (a->n_inputs == MAX_INPUTS)
				return cli_usage_error("train", "at most %d --input files", MAX_INPUTS);
			a->inputs[a->n_inputs++] = optarg;
			break;
		case 'o':
			a->out = optarg;
			break;
		case 'q':
			a->quiet = true;
			break;
		case 'h':
			usage(stdout);
			return -1;
		case OPT_INT8:
			a->int8 = true;
			break;
		case OPT_PER_CHANNEL:
			a->per_channel = true;
			break;
		case OPT_SEED:
			if (cli_parse_long(optarg, 0, INT64_MAX >> 1, &v) < 0)
				return cli_usage_error("train", "--seed '%s': expected a non-negative integer", optarg);
			a->seed = (uint64_t)v;
			break;
		case OPT_HIDDEN:
			if (parse_hidden(optarg, a) < 0)
				return cli_usage_error("train", "--hidden '%s': expected 1 to %d sizes in 1..4096 separated by commas",
						       optarg, TRAIN_MAX_LAYERS - 1);
			break;
		case OPT_EPOCHS:
			if (cli_parse_long(optarg, 1, 100000, &a->epochs) < 0)
				return cli_usage_error("train", "--epochs '%s': expected 1..100000", optarg);
			break;
		case OPT_BATCH:
			if (cli_parse_long(optarg, 1, 65536, &a->batch) < 0)
				return cli_usage_error("train", "--batch '%s': expected 1..65536", optarg);
			break;
		case OPT_PATIENCE:
			if (cli_parse_long(optarg, 0, 100000, &a->patience) < 0)
				return cli_usage_error("train", "--patience '%s': expected 0..100000", optarg);
			break;
		case OPT_LR:
			if (parse_double(optarg, 1e-7, 1.0, &a->lr) < 0)
				return cli_usage_error("train", "--lr '%s': expected a number in [1e-7, 1]", optarg);
			break;
		case OPT_VALIDATION:
			if (parse_double(optarg, 0.01, 0.5, &a->val_frac) < 0)
				return cli_usage_error("train", "--validation '%s': expected a fraction in [0.01, 0.5]", optarg);
			break;
		default:
			return cli_usage_error("train", "unknown option");
		}
	}
	if (optind < argc)
		return cli_usage_error("train", "unexpected argument '%s'", argv[optind]);
	if (!a->n_inputs)
		return cli_usage_error("train", "no --input given");
	if (!a->out)
		return cli_usage_error("train", "no --out given");
	return 0;
}

static int read_inputs(const struct train_args *a, const char *const *names,
		       const enum nad_transform *tr, struct train_data *d, struct train_csv_info *info)
{
	for (size_t k = 0; k < a->n_inputs; k++) {
		const char *fname = a->inputs[k];
		bool is_stdin = !strcmp(fname, "-");
		FILE *f = is_stdin ? stdin : fopen(fname, "r");
		struct train_csv_error err = { 0 };
		int r;

		if (!f) {
			cli_errorf("train: cannot open input '%s': %s", fname, strerror(errno));
			return NAD_EXIT_USAGE;
		}
		r = train_csv_read(f, is_stdin ? "<stdin>" : fname, names, tr, d, info, &err);
		if (!is_stdin)
			fclose(f);
		if (r == -EINVAL) {
			if (err.line && err.column)
				cli_errorf("train: bad input '%s':%zu:%zu%s%s%s: %s", err.file, err.line,
					   err.column, *err.field ? " (" : "", err.field,
					   *err.field ? ")" : "", err.what);
			else if (err.line > 1)
				cli_errorf("train: bad input '%s':%zu: %s", err.file, err.line, err.what);
			else
				cli_errorf("train: bad input '%s': %s", err.file, err.what);
			return NAD_EXIT_USAGE;
		}
		if (r < 0) {
			cli_errorf("train: cannot read input '%s': %s", fname, strerror(-r));
			return NAD_EXIT_FAILURE;
		}
	}
	return 0;
}

static void progress(const struct train_progress *p, void *ctx)
{
	fprintf(stderr, "epoch %3u/%u  loss %.5f  val %.5f  best %.5f  %6.1f s  ~%.0f s left\n",
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

static void default_hidden(size_t n, struct train_args *a)
{
	uint32_t outer = (uint32_t)(n / 2 > 8 ? n / 2 : 8);
	uint32_t inner = (uint32_t)(n / 4 > 4 ? n / 4 : 4);

	a->hidden[0] = outer;
	a->hidden[1] = inner;
	a->hidden[2] = outer;
	a->n_hidden = 3;
}

struct train_state {
	struct train_args args;
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

/* Normalise, split, train, quantise, calibrate: everything between the CSV
 * and the bytes of the model. */
static int train_model(struct train_state *s, struct train_result *res)
{
	struct train_args *a = &s->args;
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
	for (size_t i = 0; i < a->n_hidden; i++)
		sizes[i + 1] = a->hidden[i];
	sizes[a->n_hidden + 1] = (uint32_t)s->n;
	r = train_ae_init(&s->ae, a->n_hidden + 1, sizes, a->seed);
	if (r < 0)
		return r;
	o.seed = a->seed;
	o.batch = (unsigned)a->batch;
	o.lr = a->lr;
	o.patience = (unsigned)a->patience;
	o.epochs = a->epochs ? (unsigned)a->epochs : train_default_epochs(n_train);
	o.progress = a->quiet ? NULL : progress;
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

static void summary(const struct train_state *s, const struct train_result *res)
{
	const struct nad_meta *m = &s->meta;

	fprintf(stderr, "trained on %zu rows (%zu held out) from %zu file(s), %zu features\n",
		m->train.rows_train, m->train.rows_val, s->info.files, s->n);
	fprintf(stderr, "layers");
	for (size_t i = 0; i <= m->train.n_layers; i++)
		fprintf(stderr, "%s%u", i ? " -> " : " ", m->train.sizes[i]);
	fprintf(stderr, ", %s\n", m->train.int8 ? (m->train.per_channel ? "int8 per-channel" : "int8 per-tensor") : "float32");
	fprintf(stderr, "%u epochs in %.1f s (%.0f samples/s), best epoch %u: loss %.5f, validation %.5f\n",
		res->epochs_run, res->seconds, res->seconds > 0 ? (double)res->samples / res->seconds : 0.0,
		res->best_epoch, res->loss, res->val_loss);
	fprintf(stderr, "held-out error: median %.5g, p99 %.5g, max %.5g; tail above %.5g: xi %.3f sigma %.5g\n",
		m->quantiles[10].value, m->quantiles[21].value, m->quantiles[m->n_quantiles - 1].value,
		m->tail_threshold, m->gpd_xi, m->gpd_sigma);
	fprintf(stderr, "wrote '%s' (%zu bytes)\n", s->args.out, s->model_len);
}

int cmd_train(int argc, char **argv)
{
	struct train_state s = { 0 };
	struct train_result res = { 0 };
	int r, rc = NAD_EXIT_FAILURE;

	r = parse_args(argc, argv, &s.args);
	if (r)
		return r < 0 ? NAD_EXIT_OK : r;
	s.n = feat_model_count();
	s.names = calloc(s.n, sizeof *s.names);
	s.tr = calloc(s.n, sizeof *s.tr);
	if (!s.names || !s.tr || nad_meta_init(&s.meta, s.n, 0) < 0)
		goto oom;
	for (size_t i = 0; i < s.n; i++) {
		const struct feat_def *f = &feat_registry[feat_model_index(i)];

		s.names[i] = f->name;
		s.tr[i] = f->scale == FEAT_SCALE_LOG1P ? NAD_TRANSFORM_LOG1P : NAD_TRANSFORM_LINEAR;
		s.meta.features[i].transform = s.tr[i];
		s.meta.features[i].name = strdup(f->name);
		if (!s.meta.features[i].name)
			goto oom;
	}
	if (!s.args.n_hidden)
		default_hidden(s.n, &s.args);
	train_data_init(&s.data, s.n);
	rc = read_inputs(&s.args, s.names, s.tr, &s.data, &s.info);
	if (rc)
		goto out;
	if (s.data.rows < TRAIN_MIN_ROWS) {
		cli_errorf("train: too few flows to learn from: %zu rows in %zu file(s), need at least %d",
			   s.data.rows, s.info.files, TRAIN_MIN_ROWS);
		rc = NAD_EXIT_USAGE;
		goto out;
	}
	if (!s.args.quiet)
		fprintf(stderr, "read %zu flows with %zu features\n", s.data.rows, s.n);
	r = train_model(&s, &res);
	if (r < 0) {
		cli_errorf("train: cannot train model '%s': %s", s.args.out, strerror(-r));
		rc = NAD_EXIT_FAILURE;
		goto out;
	}
	r = tfl_write_file(s.args.out, s.model, s.model_len);
	if (r < 0) {
		cli_errorf("train: cannot write model '%s': %s", s.args.out, strerror(-r));
		rc = NAD_EXIT_FAILURE;
		goto out;
	}
	if (!s.args.quiet)
		summary(&s, &res);
	rc = NAD_EXIT_OK;
	goto out;
oom:
	cli_errorf("train: out of memory");
	rc = NAD_EXIT_FAILURE;
out:
	state_release(&s);
	return rc;
}
