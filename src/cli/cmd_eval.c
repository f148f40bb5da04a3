/* cmd_eval.c - `nad eval`: measure detection on labelled captures, beside two
 * baselines on the same features and the same training data.
 *
 * Flow by flow: nad detect's path (src/eval/collect.c), ground truth from
 * labels.tsv (src/eval/labels.c), ROC-AUC / PR-AUC / TPR at a fixed FPR
 * (src/eval/metrics.c). Attack by attack: did an incident holding its flows
 * reach medium / the alert level, and how long after its first packet.
 * Benign traffic: false incidents per hour. docs/eval.md defines it all.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "cli/cli.h"
#include "eval/collect.h"
#include "eval/labels.h"
#include "eval/metrics.h"
#include "eval/summary.h"
#include "eval/zscore.h"
#include "flow/flow_csv.h"
#include "model/train/train.h"

extern char **environ;

#define MAX_CAPTURES 4096
#define N_DET 3

enum det { DET_AE, DET_Z, DET_IF };
static const char *const det_key[N_DET] = { "autoencoder", "zscore", "iforest" };
static const char *const det_title[N_DET] = { "nad autoencoder", "z-score (max |z|)", "IsolationForest" };

static const char usage_text[] =
	"usage: nad eval --labels LABELS.tsv (--model MODEL | --train CAPTURE ...) [options] CAPTURE...\n"
	"\n"
	"Run detection on every CAPTURE as 'nad detect' does and measure it against\n"
	"the ground truth in LABELS.tsv: flow-level ROC-AUC, PR-AUC and true-positive\n"
	"rate at 0.1 % and 1 % false positives; per labelled attack whether an incident\n"
	"reached medium and the alert level, and how fast; false incidents per hour\n"
	"of benign traffic. Two baselines are scored on the same flows: a per-feature\n"
	"z-score and scikit-learn's IsolationForest. Captures without label rows are\n"
	"all benign. docs/eval.md says exactly how flows are labelled.\n"
	"\n"
	"  -l, --labels FILE      ground truth (labels.tsv format)\n"
	"  -m, --model MODEL      model to evaluate; without it, one is trained with\n"
	"                         'nad flows' + 'nad train' on the --train captures\n"
	"  -t, --train CAPTURE    benign training capture (repeatable): trains the model\n"
	"                         when there is no --model, and fits the baselines;\n"
	"                         results on a capture that is also trained on are\n"
	"                         marked in-sample and left out of the totals\n"
	"      --cross-validate   leave one out: score each capture that is also a\n"
	"                         --train capture with a model (and baselines)\n"
	"                         trained on the other --train captures\n"
	"      --seed N           training seed (default 1)\n"
	"      --alert-level L    the service's alert level (default high)\n"
	"      --thresholds A,B,C,D  scores where low, medium, high, critical start\n"
	"      --window S         incident window in seconds (default 600)\n"
	"      --json             one JSON document instead of the tables\n"
	"      --plot FILE.png    ROC curves and score distributions (gnuplot)\n"
	"      --scores FILE.csv  every evaluated flow with its label and scores\n"
	"      --no-iforest       skip the IsolationForest baseline\n"
	"      --iforest-script P scripts/eval_baseline_iforest.py (default: found\n"
	"                         beside the nad binary's source tree)\n"
	"      --python P         python with scikit-learn (default /usr/bin/python3)\n"
	"      --work DIR         keep the trained model and feature files in DIR\n"
	"  -h, --help             this text\n";

enum { OPT_SEED = 256, OPT_ALERT, OPT_THRESHOLDS, OPT_WINDOW, OPT_JSON, OPT_PLOT, OPT_SCORES, OPT_NO_IF,
       OPT_IF_SCRIPT, OPT_PYTHON, OPT_WORK, OPT_CV };

struct args {
	const char *labels, *model, *plot, *scores, *if_script, *python, *work;
	const char *train[MAX_CAPTURES];
	size_t n_train;
	const char *cap[MAX_CAPTURES];
	size_t n_cap;
	long seed;
	int alert_level;
	bool json, no_iforest, cross_validate;
	struct eval_run_options run;
};

struct metrics3 {
	struct eval_metrics m[N_DET];
	bool have[N_DET];
};

struct state {
	struct args a;
	struct eval_labels labels;
	char workdir[PATH_MAX];
	bool own_workdir;
	char model[PATH_MAX];
	bool trained_here;
	struct eval_capture *cap;      /* the evaluated captures */
	bool *in_sample;
	size_t *offset;                /* first global flow index of each capture */
	size_t total;                  /* flows over all evaluated captures */
	char (*csv)[PATH_MAX];         /* each training capture as `nad flows` CSV */
	float **train_x;               /* each training capture's features, for the baselines */
	size_t *train_n;               /* and its number of flows */
	long *fold;                    /* per capture: the training capture it leaves out, or -1 */
	size_t n_feat;
	char **feat_name;              /* borrowed from the first capture */
	double *score[N_DET];          /* per global flow; NULL when not available */
	double *ae_rank;               /* the detector's score, ties broken by its error */
	uint8_t *attack;
	char if_status[512];           /* why IsolationForest did not run, or its version */
	bool if_ok;
};

/* ---- arguments ----------------------------------------------------------- */

static int parse_args(int argc, char **argv, struct args *a)
{
	static const struct option opts[] = {
		{ "labels", required_argument, NULL, 'l' },
		{ "model", required_argument, NULL, 'm' },
		{ "train", required_argument, NULL, 't' },
		{ "seed", required_argument, NULL, OPT_SEED },
		{ "alert-level", required_argument, NULL, OPT_ALERT },
		{ "thresholds", required_argument, NULL, OPT_THRESHOLDS },
		{ "window", required_argument, NULL, OPT_WINDOW },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "plot", required_argument, NULL, OPT_PLOT },
		{ "scores", required_argument, NULL, OPT_SCORES },
		{ "no-iforest", no_argument, NULL, OPT_NO_IF },
		{ "iforest-script", required_argument, NULL, OPT_IF_SCRIPT },
		{ "python", required_argument, NULL, OPT_PYTHON },
		{ "work", required_argument, NULL, OPT_WORK },
		{ "cross-validate", no_argument, NULL, OPT_CV },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	long v;
	int c;

	a->seed = 1;
	a->alert_level = REC_LEVEL_HIGH;
	a->python = "/usr/bin/python3";
	eval_run_options_default(&a->run);
	optind = 1;
	while ((c = getopt_long(argc, argv, "l:m:t:h", opts, NULL)) != -1) {
		switch (c) {
		case 'l': a->labels = optarg; break;
		case 'm': a->model = optarg; break;
		case 't':
			if (a->n_train == MAX_CAPTURES)
				return cli_usage_error("eval", "at most %d --train captures", MAX_CAPTURES);
			a->train[a->n_train++] = optarg;
			break;
		case OPT_SEED:
			if (cli_parse_long(optarg, 0, INT32_MAX, &v) < 0)
				return cli_usage_error("eval", "--seed '%s': expected a non-negative integer", optarg);
			a->seed = v;
			break;
		case OPT_ALERT:
			a->alert_level = rec_level_parse(optarg);
			if (a->alert_level < REC_LEVEL_LOW)
				return cli_usage_error("eval", "--alert-level '%s': expected low, medium, high or critical", optarg);
			break;
		case OPT_THRESHOLDS:
			if (cli_parse_thresholds(optarg, a->run.score.thresholds) < 0)
				return cli_usage_error("eval", "--thresholds '%s': expected four rising scores 0..100, e.g. 50,65,80,95", optarg);
			break;
		case OPT_WINDOW:
			if (cli_parse_long(optarg, 1, 86400 * 7, &v) < 0)
				return cli_usage_error("eval", "--window '%s': expected seconds, 1..604800", optarg);
			a->run.incident.window_us = (uint64_t)v * 1000000ull;
			break;
		case OPT_JSON: a->json = true; break;
		case OPT_PLOT: a->plot = optarg; break;
		case OPT_SCORES: a->scores = optarg; break;
		case OPT_NO_IF: a->no_iforest = true; break;
		case OPT_IF_SCRIPT: a->if_script = optarg; break;
		case OPT_PYTHON: a->python = optarg; break;
		case OPT_WORK: a->work = optarg; break;
		case OPT_CV: a->cross_validate = true; break;
		case 'h': fputs(usage_text, stdout); return -1;
		default: return cli_usage_error("eval", "unknown option");
		}
	}
	for (; optind < argc; optind++) {
		if (a->n_cap == MAX_CAPTURES)
			return cli_usage_error("eval", "at most %d captures", MAX_CAPTURES);
		a->cap[a->n_cap++] = argv[optind];
	}
	if (!a->labels)
		return cli_usage_error("eval", "no --labels given");
	if (!a->n_cap)
		return cli_usage_error("eval", "no capture to evaluate");
	if (!a->model && !a->n_train)
		return cli_usage_error("eval", "either --model or --train captures to train one on are needed");
	if (a->cross_validate && (a->model || a->n_train < 2))
		return cli_usage_error("eval", "--cross-validate trains its own models: it needs two or more --train captures and no --model");
	memcpy(a->run.incident.level_thresholds, a->run.score.thresholds, sizeof a->run.incident.level_thresholds);
	a->run.keep_features = true;
	return 0;
}

/* ---- the work directory -------------------------------------------------- */

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static int make_workdir(struct state *s)
{
	if (s->a.work) {
		if (mkdir(s->a.work, 0755) < 0 && errno != EEXIST) {
			cli_errorf("eval: cannot create work directory '%s': %s", s->a.work, strerror(errno));
			return NAD_EXIT_FAILURE;
		}
		snprintf(s->workdir, sizeof s->workdir, "%s", s->a.work);
		return 0;
	}
	const char *tmp = getenv("TMPDIR");
	snprintf(s->workdir, sizeof s->workdir, "%s/nad-eval.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(s->workdir)) {
		cli_errorf("eval: cannot create a temporary directory '%s': %s", s->workdir, strerror(errno));
		return NAD_EXIT_FAILURE;
	}
	s->own_workdir = true;
	return 0;
}

static void work_path(const struct state *s, const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", s->workdir, name);
}

/* ---- training: `nad flows`, then what `nad train` does ------------------- */

static int make_train_csvs(struct state *s)
{
	s->csv = calloc(s->a.n_train, sizeof *s->csv);
	if (!s->csv) {
		cli_errorf("eval: out of memory");
		return NAD_EXIT_FAILURE;
	}
	for (size_t i = 0; i < s->a.n_train; i++) {
		char name[32];
		snprintf(name, sizeof name, "train-%zu.csv", i);
		work_path(s, name, s->csv[i], sizeof s->csv[i]);
		char *argv[] = { "flows", "-r", (char *)s->a.train[i], "-o", s->csv[i], NULL };
		if (cmd_flows(5, argv)) {
			cli_errorf("eval: cannot read training capture '%s'", s->a.train[i]);
			return NAD_EXIT_USAGE;
		}
	}
	return 0;
}

/* Train on every training capture but `exclude` (-1: all of them), as
 * `nad train -q --seed SEED -i CSV ... -o OUT` would. */
static int train_on(struct state *s, long exclude, const char *out)
{
	struct train_job job;
	char err[512];
	int r;

	train_job_default(&job);
	job.seed = (uint64_t)s->a.seed;
	job.out = out;
	for (size_t i = 0; i < s->a.n_train; i++) {
		if ((long)i == exclude)
			continue;
		if (job.n_inputs == TRAIN_JOB_MAX_INPUTS) {
			cli_errorf("eval: at most %d --train captures can be trained on", TRAIN_JOB_MAX_INPUTS);
			return NAD_EXIT_USAGE;
		}
		job.inputs[job.n_inputs++] = s->csv[i];
	}
	r = train_model_from_csv(&job, err, sizeof err);
	if (r == 0)
		return NAD_EXIT_OK;
	cli_errorf("train: %s", err);
	if (exclude >= 0)
		cli_errorf("eval: training without '%s' failed", s->a.train[exclude]);
	else
		cli_errorf("eval: training on the --train captures failed");
	return r == -EINVAL ? NAD_EXIT_USAGE : NAD_EXIT_FAILURE;
}

/* ---- scoring the captures ------------------------------------------------ */

static bool same_file(const char *x, const char *y)
{
	struct stat a, b;

	if (stat(x, &a) < 0 || stat(y, &b) < 0)
		return !strcmp(x, y);
	return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

static int run_capture(struct state *s, const char *path, const char *model, struct eval_capture *ret)
{
	char err[1024] = "";
	int r = eval_capture_run(path, model, &s->a.run, ret, err, sizeof err);

	if (r == 0)
		return 0;
	cli_errorf("eval: %s", *err ? err : strerror(-r));
	return r == -ENOMEM ? NAD_EXIT_FAILURE : NAD_EXIT_USAGE;
}

/* Every training capture's features, for the baselines (the transforms are
 * the registry's, the same in every model nad trains). */
static int train_features(struct state *s)
{
	s->train_x = calloc(s->a.n_train + 1, sizeof *s->train_x);
	s->train_n = calloc(s->a.n_train + 1, sizeof *s->train_n);
	if (!s->train_x || !s->train_n)
		return NAD_EXIT_FAILURE;
	for (size_t t = 0; t < s->a.n_train; t++) {
		struct eval_capture c;
		int rc = run_capture(s, s->a.train[t], s->model, &c);

		if (rc)
			return rc;
		s->train_x[t] = c.feat; /* taken over */
		s->train_n[t] = c.n;
		c.feat = NULL;
		eval_capture_release(&c);
	}
	return 0;
}

static int score_all(struct state *s)
{
	int rc;

	s->cap = calloc(s->a.n_cap, sizeof *s->cap);
	s->in_sample = calloc(s->a.n_cap, sizeof *s->in_sample);
	s->fold = calloc(s->a.n_cap, sizeof *s->fold);
	s->offset = calloc(s->a.n_cap + 1, sizeof *s->offset);
	if (!s->cap || !s->in_sample || !s->fold || !s->offset)
		return NAD_EXIT_FAILURE;
	if ((rc = train_features(s)))
		return rc;
	for (size_t i = 0; i < s->a.n_cap; i++) {
		char model[PATH_MAX];

		s->fold[i] = -1;
		for (size_t t = 0; t < s->a.n_train; t++)
			if (same_file(s->a.cap[i], s->a.train[t])) {
				if (s->a.cross_validate)
					s->fold[i] = (long)t;
				else
					s->in_sample[i] = true;
			}
		snprintf(model, sizeof model, "%s", s->model);
		if (s->fold[i] >= 0) {
			char name[40];
			snprintf(name, sizeof name, "model-without-%ld.tflite", s->fold[i]);
			work_path(s, name, model, sizeof model);
			if ((rc = train_on(s, s->fold[i], model)))
				return rc;
		}
		if ((rc = run_capture(s, s->a.cap[i], model, &s->cap[i])))
			return rc;
		eval_label_flows(&s->cap[i], &s->labels);
		s->offset[i] = s->total;
		s->total += s->cap[i].n;
	}
	s->offset[s->a.n_cap] = s->total;
	s->n_feat = s->cap[0].n_feat;
	s->feat_name = s->cap[0].feat_name;
	return 0;
}

/* The training flows of every training capture but `exclude`, one matrix. */
static float *train_matrix(const struct state *s, long exclude, size_t *ret_rows)
{
	size_t rows = 0;
	float *x;

	for (size_t t = 0; t < s->a.n_train; t++)
		rows += (long)t == exclude ? 0 : s->train_n[t];
	x = malloc((rows + 1) * s->n_feat * sizeof *x);
	if (!x)
		return NULL;
	rows = 0;
	for (size_t t = 0; t < s->a.n_train; t++)
		if ((long)t != exclude && s->train_n[t]) { /* no flows: no feature array */
			memcpy(x + rows * s->n_feat, s->train_x[t], s->train_n[t] * s->n_feat * sizeof *x);
			rows += s->train_n[t];
		}
	*ret_rows = rows;
	return x;
}

/* The detector's score saturates at 0 and 100; among equal scores the
 * reconstruction error (which the score is a monotone function of) decides,
 * so the ranking ties only where both are equal. */
static const struct eval_flow *rank_flows;
static int cmp_score_error(const void *x, const void *y)
{
	const struct eval_flow *a = rank_flows + *(const size_t *)x, *b = rank_flows + *(const size_t *)y;

	if (a->score != b->score)
		return a->score < b->score ? -1 : 1;
	if (a->error != b->error)
		return a->error < b->error ? -1 : 1;
	return 0;
}

static int rank_detector(struct state *s)
{
	struct eval_flow *all = malloc((s->total + 1) * sizeof *all);
	size_t *idx = malloc((s->total + 1) * sizeof *idx);

	s->ae_rank = malloc((s->total + 1) * sizeof *s->ae_rank);
	s->score[DET_AE] = malloc((s->total + 1) * sizeof *s->score[DET_AE]);
	s->attack = malloc(s->total + 1);
	if (!all || !idx || !s->ae_rank || !s->score[DET_AE] || !s->attack) {
		free(all);
		free(idx);
		return -ENOMEM;
	}
	for (size_t i = 0; i < s->a.n_cap; i++)
		for (size_t j = 0; j < s->cap[i].n; j++) {
			size_t g = s->offset[i] + j;
			all[g] = s->cap[i].flow[j];
			if (!isfinite(all[g].error))
				all[g].error = INFINITY;
			idx[g] = g;
			s->score[DET_AE][g] = all[g].score;
			s->attack[g] = all[g].label >= 0;
		}
	rank_flows = all;
	qsort(idx, s->total, sizeof *idx, cmp_score_error);
	for (size_t k = 0; k < s->total; k++)
		s->ae_rank[idx[k]] = k && !cmp_score_error(&idx[k], &idx[k - 1]) ? s->ae_rank[idx[k - 1]] : (double)k;
	rank_flows = NULL;
	free(all);
	free(idx);
	return 0;
}

/* ---- baselines ----------------------------------------------------------- */

/* Is fold f the first capture of its fold (so each fold is fitted once)? */
static bool first_of_fold(const struct state *s, size_t i)
{
	for (size_t k = 0; k < i; k++)
		if (s->fold[k] == s->fold[i])
			return false;
	return true;
}

static int run_zscore(struct state *s)
{
	if (!s->a.n_train)
		return 0;
	s->score[DET_Z] = malloc((s->total + 1) * sizeof *s->score[DET_Z]);
	if (!s->score[DET_Z])
		return -ENOMEM;
	for (size_t i = 0; i < s->a.n_cap; i++) {
		if (!first_of_fold(s, i))
			continue;
		struct eval_zscore z;
		size_t rows;
		float *x = train_matrix(s, s->fold[i], &rows);
		int r = x ? eval_zscore_fit(x, rows, s->n_feat, &z) : -ENOMEM;

		free(x);
		if (r < 0)
			return r;
		for (size_t k = i; k < s->a.n_cap; k++)
			for (size_t j = 0; s->fold[k] == s->fold[i] && j < s->cap[k].n; j++)
				s->score[DET_Z][s->offset[k] + j] = eval_zscore_score(&z, s->cap[k].feat + j * s->n_feat);
		eval_zscore_release(&z);
	}
	return 0;
}

static int write_matrix(const struct state *s, const char *path, const float *x, size_t rows)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -errno;
	for (size_t i = 0; i < s->n_feat; i++)
		fprintf(f, "%s%s", i ? "," : "", s->feat_name[i]);
	fputc('\n', f);
	for (size_t r = 0; r < rows; r++)
		for (size_t i = 0; i < s->n_feat; i++) {
			flow_csv_put_num(f, x[r * s->n_feat + i]);
			fputc(i + 1 < s->n_feat ? ',' : '\n', f);
		}
	return fclose(f) ? -EIO : 0;
}

static void default_if_script(char *buf, size_t len)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	char *slash;

	buf[0] = 0;
	if (n <= 0)
		return;
	exe[n] = 0;
	/* build/nad or build-x/nad in the source tree: ../scripts */
	slash = strrchr(exe, '/');
	if (!slash)
		return;
	*slash = 0;
	snprintf(buf, len, "%s/../scripts/eval_baseline_iforest.py", exe);
}

/* Run python SCRIPT TRAIN TEST OUT with stderr to ERRFILE; the exit status or -errno. */
static int run_python(const struct state *s, const char *script, const char *train, const char *test,
		      const char *out, const char *errfile)
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int status, r;
	char *argv[] = { (char *)s->a.python, (char *)script, (char *)train, (char *)test, (char *)out, NULL };

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, errfile, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	r = posix_spawn(&pid, s->a.python, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (r)
		return -r;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void first_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");

	buf[0] = 0;
	if (!f)
		return;
	/* the last non-empty line says most (a Python traceback ends with the error) */
	char line[512];
	while (fgets(line, sizeof line, f))
		if (line[strspn(line, " \t\r\n")])
			snprintf(buf, len, "%.*s", (int)strcspn(line, "\r\n"), line);
	fclose(f);
}

/* Fit the forest for the fold of capture i and score every capture of that
 * fold; 0, or -1 with if_status saying why. */
static int iforest_fold(struct state *s, const char *script, size_t i)
{
	char train[PATH_MAX], test[PATH_MAX], out[PATH_MAX], errf[PATH_MAX], msg[400], line[256];
	size_t rows, n = 0, want = 0;
	float *tx = train_matrix(s, s->fold[i], &rows), *x = NULL;
	FILE *f = NULL;
	int r, ret = -1;

	for (size_t k = i; k < s->a.n_cap; k++)
		want += s->fold[k] == s->fold[i] ? s->cap[k].n : 0;
	x = malloc((want + 1) * s->n_feat * sizeof *x);
	if (!tx || !x) {
		snprintf(s->if_status, sizeof s->if_status, "not run: out of memory");
		goto out;
	}
	for (size_t k = i; k < s->a.n_cap; k++)
		if (s->fold[k] == s->fold[i] && s->cap[k].n) {
			memcpy(x + n * s->n_feat, s->cap[k].feat, s->cap[k].n * s->n_feat * sizeof *x);
			n += s->cap[k].n;
		}
	work_path(s, "iforest-train.csv", train, sizeof train);
	work_path(s, "iforest-test.csv", test, sizeof test);
	work_path(s, "iforest-scores.txt", out, sizeof out);
	work_path(s, "iforest-stderr.txt", errf, sizeof errf);
	if ((r = write_matrix(s, train, tx, rows)) < 0 || (r = write_matrix(s, test, x, want)) < 0) {
		snprintf(s->if_status, sizeof s->if_status, "not run: cannot write features to '%s': %s", s->workdir,
			 strerror(-r));
		goto out;
	}
	r = run_python(s, script, train, test, out, errf);
	if (r != 0) {
		first_line(errf, msg, sizeof msg);
		if (r < 0)
			snprintf(s->if_status, sizeof s->if_status, "not run: cannot start '%s': %s", s->a.python, strerror(-r));
		else
			snprintf(s->if_status, sizeof s->if_status, "FAILED (exit %d): %s", r, *msg ? msg : "no message");
		goto out;
	}
	f = fopen(out, "r");
	if (!f || !fgets(line, sizeof line, f) || strncmp(line, "# ", 2)) {
		snprintf(s->if_status, sizeof s->if_status, "FAILED: no scores in '%s'", out);
		goto out;
	}
	snprintf(s->if_status, sizeof s->if_status, "%.*s", (int)strcspn(line + 2, "\r\n"), line + 2);
	n = 0;
	for (size_t k = i; k < s->a.n_cap; k++)
		for (size_t j = 0; s->fold[k] == s->fold[i] && j < s->cap[k].n; j++, n++) {
			char *end;
			if (!fgets(line, sizeof line, f))
				break;
			s->score[DET_IF][s->offset[k] + j] = strtod(line, &end);
			if (end == line)
				break;
		}
	if (n != want) {
		snprintf(s->if_status, sizeof s->if_status, "FAILED: %zu scores in '%s', expected %zu", n, out, want);
		goto out;
	}
	ret = 0;
out:
	if (f)
		fclose(f);
	free(tx);
	free(x);
	return ret;
}

static void run_iforest(struct state *s)
{
	char script[PATH_MAX];

	if (s->a.no_iforest) {
		snprintf(s->if_status, sizeof s->if_status, "not run: --no-iforest");
		return;
	}
	if (!s->a.n_train) {
		snprintf(s->if_status, sizeof s->if_status, "not run: no --train captures to fit it on");
		return;
	}
	if (s->a.if_script)
		snprintf(script, sizeof script, "%s", s->a.if_script);
	else
		default_if_script(script, sizeof script);
	if (access(script, R_OK) < 0) {
		snprintf(s->if_status, sizeof s->if_status, "not run: cannot read script '%s' (give --iforest-script)", script);
		return;
	}
	s->score[DET_IF] = malloc((s->total + 1) * sizeof *s->score[DET_IF]);
	if (!s->score[DET_IF]) {
		snprintf(s->if_status, sizeof s->if_status, "not run: out of memory");
		return;
	}
	size_t fits = 0;
	for (size_t i = 0; i < s->a.n_cap; i++)
		if (first_of_fold(s, i)) {
			if (iforest_fold(s, script, i) < 0) {
				free(s->score[DET_IF]);
				s->score[DET_IF] = NULL;
				return;
			}
			fits++;
		}
	if (fits > 1) { /* the status is the last fit's; say there were more */
		size_t len = strlen(s->if_status);
		snprintf(s->if_status + len, sizeof s->if_status - len, " (the last of %zu fits, one per left-out capture)", fits);
	}
	s->if_ok = true;
}

/* ---- metrics --------------------------------------------------------------- */

/* Metrics of every detector over the global flow range [from, to). */
static int metrics_range(const struct state *s, size_t from, size_t to, struct metrics3 *ret)
{
	memset(ret, 0, sizeof *ret);
	for (int d = 0; d < N_DET; d++) {
		const double *sc = d == DET_AE ? s->ae_rank : s->score[d];
		if (!sc)
			continue;
		if (eval_metrics_compute(sc + from, s->attack + from, to - from, &ret->m[d]) < 0)
			return -ENOMEM;
		ret->have[d] = true;
	}
	return 0;
}

/* Metrics over the held-out captures (in-sample ones are left out): all
 * their flows, or with attacks_of >= 0 the attack flows of that capture
 * against the benign flows of all of them. */
static int metrics_pool(const struct state *s, long attacks_of, struct metrics3 *ret, size_t *ret_files)
{
	size_t n = 0, files = 0;
	double *sc = malloc((s->total + 1) * sizeof *sc);
	uint8_t *at = malloc(s->total + 1);
	int r = 0;

	memset(ret, 0, sizeof *ret);
	if (!sc || !at) {
		r = -ENOMEM;
		goto out;
	}
	for (int d = 0; d < N_DET; d++) {
		const double *src = d == DET_AE ? s->ae_rank : s->score[d];
		if (!src)
			continue;
		n = files = 0;
		for (size_t i = 0; i < s->a.n_cap; i++) {
			if (s->in_sample[i])
				continue;
			files++;
			for (size_t g = s->offset[i]; g < s->offset[i + 1]; g++) {
				if (s->attack[g] && attacks_of >= 0 && (size_t)attacks_of != i)
					continue;
				sc[n] = src[g];
				at[n++] = s->attack[g];
			}
		}
		if ((r = eval_metrics_compute(sc, at, n, &ret->m[d])) < 0)
			goto out;
		ret->have[d] = true;
	}
	if (ret_files)
		*ret_files = files;
out:
	free(sc);
	free(at);
	return r;
}

static int metrics_overall(const struct state *s, struct metrics3 *ret, size_t *ret_files)
{
	return metrics_pool(s, -1, ret, ret_files);
}

/* The mean over held-out captures with attack flows of each one's metrics
 * against all held-out benign flows, so that one huge capture (a flood of
 * 37 000 flows) does not decide the total; *ret_n captures averaged. */
static int metrics_macro(const struct state *s, struct metrics3 *ret, size_t *ret_n)
{
	struct metrics3 one;
	size_t n = 0;

	memset(ret, 0, sizeof *ret);
	for (size_t i = 0; i < s->a.n_cap; i++) {
		size_t a = 0;
		for (size_t g = s->offset[i]; g < s->offset[i + 1]; g++)
			a += s->attack[g];
		if (s->in_sample[i] || !a)
			continue;
		if (metrics_pool(s, (long)i, &one, NULL) < 0)
			return -ENOMEM;
		for (int d = 0; d < N_DET; d++) {
			struct eval_metrics *m = &ret->m[d], *o = &one.m[d];
			ret->have[d] = one.have[d];
			m->pos += o->pos;
			m->neg = o->neg;
			m->roc_auc += o->roc_auc;
			m->pr_auc += o->pr_auc;
			m->tpr_at_fpr_0_1pct += o->tpr_at_fpr_0_1pct;
			m->tpr_at_fpr_1pct += o->tpr_at_fpr_1pct;
		}
		n++;
	}
	for (int d = 0; d < N_DET; d++) {
		struct eval_metrics *m = &ret->m[d];
		m->roc_auc = n ? m->roc_auc / n : NAN;
		m->pr_auc = n ? m->pr_auc / n : NAN;
		m->tpr_at_fpr_0_1pct = n ? m->tpr_at_fpr_0_1pct / n : NAN;
		m->tpr_at_fpr_1pct = n ? m->tpr_at_fpr_1pct / n : NAN;
	}
	*ret_n = n;
	return 0;
}

/* ---- attacks, categories, false incidents -------------------------------- */

struct attack_row {
	size_t label, cap;
	struct eval_attack o;
};

struct category {
	const char *name;
	unsigned rows, visible, layer2, no_flows, det_medium, det_alert;
};

struct totals {
	struct attack_row *rows;
	size_t n_rows;
	struct category cat[64];
	size_t n_cat;
	uint64_t false_med, false_alert, false_med_in, false_alert_in;
	double hours, hours_in;
	unsigned labels_unused;     /* rows for files not evaluated */
};

static uint64_t count_attack_flows(const struct eval_capture *c)
{
	uint64_t n = 0;

	for (size_t i = 0; i < c->n; i++)
		n += c->flow[i].label >= 0;
	return n;
}

static int compute_totals(const struct state *s, struct totals *t)
{
	memset(t, 0, sizeof *t);
	t->rows = calloc(s->labels.n + 1, sizeof *t->rows);
	if (!t->rows)
		return -ENOMEM;
	for (size_t r = 0; r < s->labels.n; r++) {
		const struct eval_label *l = &s->labels.row[r];
		size_t i;

		for (i = 0; i < s->a.n_cap && !eval_label_is_for(l, s->cap[i].path); i++)
			;
		if (i == s->a.n_cap) {
			t->labels_unused++;
			continue;
		}
		struct attack_row *a = &t->rows[t->n_rows++];
		a->label = r;
		a->cap = i;
		eval_attack_outcome(&s->cap[i], r, &a->o);

		size_t k;
		for (k = 0; k < t->n_cat && strcmp(t->cat[k].name, l->category); k++)
			;
		if (k == t->n_cat) {
			if (t->n_cat == sizeof t->cat / sizeof t->cat[0])
				continue;
			t->cat[t->n_cat++].name = l->category;
		}
		struct category *c = &t->cat[k];
		c->rows++;
		if (l->layer2)
			c->layer2++;
		else if (!a->o.flows)
			c->no_flows++;
		else {
			c->visible++;
			c->det_medium += a->o.level >= REC_LEVEL_MEDIUM;
			c->det_alert += a->o.level >= s->a.alert_level;
		}
	}
	for (size_t i = 0; i < s->a.n_cap; i++) {
		const struct eval_capture *c = &s->cap[i];
		uint64_t fm = eval_false_incidents(c, &s->labels, REC_LEVEL_MEDIUM);
		uint64_t fa = eval_false_incidents(c, &s->labels, s->a.alert_level);
		bool benign = c->n > count_attack_flows(c);

		if (fm == UINT64_MAX || fa == UINT64_MAX)
			return -ENOMEM;
		if (s->in_sample[i]) {
			t->false_med_in += fm;
			t->false_alert_in += fa;
			t->hours_in += benign ? eval_capture_seconds(c) / 3600 : 0;
		} else {
			t->false_med += fm;
			t->false_alert += fa;
			t->hours += benign ? eval_capture_seconds(c) / 3600 : 0;
		}
	}
	return 0;
}

/* ---- text report ----------------------------------------------------------- */

static const char *base_name(const char *p)
{
	const char *b = strrchr(p, '/');

	return b ? b + 1 : p;
}

static void put_num(char *buf, size_t len, double v, int prec)
{
	if (isnan(v))
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.*f", prec, v);
}

static void print_metric_cells(const struct metrics3 *m, int d)
{
	char a[16], b[16], c[16], e[16];

	if (!m->have[d]) {
		printf(" %7s %7s %8s %7s", "n/a", "n/a", "n/a", "n/a");
		return;
	}
	put_num(a, sizeof a, m->m[d].roc_auc, 4);
	put_num(b, sizeof b, m->m[d].pr_auc, 4);
	put_num(c, sizeof c, m->m[d].tpr_at_fpr_0_1pct, 3);
	put_num(e, sizeof e, m->m[d].tpr_at_fpr_1pct, 3);
	printf(" %7s %7s %8s %7s", a, b, c, e);
}

static int count_incidents(const struct eval_capture *c, int level)
{
	int n = 0;

	for (size_t i = 0; i < c->n_inc; i++)
		n += c->inc[i].level >= level;
	return n;
}

static void fmt_delay(const struct eval_attack *o, int level, char *buf, size_t len)
{
	if (o->detect_us[level] == EVAL_NO_TIME)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.1fs", (double)(o->detect_us[level] - o->first_us) / 1e6);
}

static void print_text(const struct state *s, const struct totals *t)
{
	const char *alert = rec_level_name(s->a.alert_level);
	struct metrics3 m;
	size_t files = 0;

	printf("nad eval: model '%s'", s->trained_here ? "(trained here)" : s->model);
	if (s->trained_here)
		printf(" trained by nad train --seed %ld on", s->a.seed);
	else if (s->a.n_train)
		printf("; baselines fitted on");
	for (size_t i = 0; i < s->a.n_train; i++)
		printf(" %s", base_name(s->a.train[i]));
	printf("\nlabels '%s'; alert level %s; * = in-sample (trained on), left out of the totals", s->a.labels, alert);
	if (s->a.cross_validate)
		printf(";\n+ = leave-one-out: scored by a model and baselines trained on the other training captures");
	printf("\n\n");

	printf("Flows (ROC-AUC, PR-AUC, TPR at 0.1 %% / 1 %% FPR of the nad autoencoder)\n");
	printf("%-42s %7s %7s %7s %7s %8s %7s %6s %6s %7s\n", "capture", "flows", "attack", "ROC-AUC", "PR-AUC",
	       "TPR@.1%", "TPR@1%", "inc>=M", "false", "hours");
	for (size_t i = 0; i < s->a.n_cap; i++) {
		const struct eval_capture *c = &s->cap[i];
		char name[48];

		snprintf(name, sizeof name, "%s%s", s->in_sample[i] ? "*" : s->fold[i] >= 0 ? "+" : "", base_name(c->path));
		metrics_range(s, s->offset[i], s->offset[i + 1], &m);
		printf("%-42.42s %7zu %7" PRIu64, name, c->n, m.m[DET_AE].pos);
		print_metric_cells(&m, DET_AE);
		printf(" %6d %6" PRIu64 " %7.3f\n", count_incidents(c, REC_LEVEL_MEDIUM),
		       eval_false_incidents(c, &s->labels, REC_LEVEL_MEDIUM), eval_capture_seconds(c) / 3600);
	}
	if (metrics_overall(s, &m, &files) == 0) {
		char name[48];
		snprintf(name, sizeof name, "all %zu held-out captures", files);
		printf("%-42s %7" PRIu64 " %7" PRIu64, name, m.m[DET_AE].pos + m.m[DET_AE].neg, m.m[DET_AE].pos);
		print_metric_cells(&m, DET_AE);
		printf("\n\nDetectors on the same flows and training data (all held-out captures)\n");
		printf("%-26s %7s %7s %8s %7s\n", "detector", "ROC-AUC", "PR-AUC", "TPR@.1%", "TPR@1%");
		for (int d = 0; d < N_DET; d++) {
			printf("%-26s", det_title[d]);
			print_metric_cells(&m, d);
			if (d == DET_Z && !m.have[d])
				printf("  (not run: no --train captures)");
			if (d == DET_IF)
				printf("  (%s)", s->if_status);
			printf("\n");
		}
	}
	size_t nmacro = 0;
	if (metrics_macro(s, &m, &nmacro) == 0 && nmacro > 1) {
		printf("\nMean over the %zu held-out captures with attack flows of each one's attack flows against all\n"
		       "held-out benign flows (so no single large capture decides)\n", nmacro);
		for (int d = 0; d < N_DET; d++) {
			printf("%-26s", det_title[d]);
			print_metric_cells(&m, d);
			printf("\n");
		}
	}

	printf("\nAttacks (label rows): flows labelled, anomalous (>= low), best incident level, time to an incident at medium / %s\n", alert);
	printf("%-34s %-13s %-30s %6s %6s %-9s %8s %8s\n", "capture", "category", "attacker -> victim", "flows", "anom",
	       "incident", "medium", alert);
	for (size_t k = 0; k < t->n_rows; k++) {
		const struct attack_row *a = &t->rows[k];
		const struct eval_label *l = &s->labels.row[a->label];
		char hosts[64], dm[16], da[16];

		snprintf(hosts, sizeof hosts, "%s -> %s", l->attack_text, l->victim_text);
		fmt_delay(&a->o, REC_LEVEL_MEDIUM, dm, sizeof dm);
		fmt_delay(&a->o, s->a.alert_level, da, sizeof da);
		printf("%-34.34s %-13.13s %-30.30s ", base_name(s->cap[a->cap].path), l->category, hosts);
		if (l->layer2)
			printf("(layer 2 only: not visible in IP flows)\n");
		else if (!a->o.flows)
			printf("(no flow matches this label)\n");
		else
			printf("%6" PRIu64 " %6" PRIu64 " %-9s %8s %8s\n", a->o.flows, a->o.anomalous,
			       a->o.level ? rec_level_name(a->o.level) : "-", dm, da);
	}

	unsigned rows = 0, vis = 0, dm = 0, da = 0, l2 = 0;
	printf("\nPer category: attacks detected (an incident holding their flows) at medium+ / at %s+\n", alert);
	for (size_t k = 0; k < t->n_cat; k++) {
		const struct category *c = &t->cat[k];
		printf("  %-14s %u/%u medium+, %u/%u %s+", c->name, c->det_medium, c->visible, c->det_alert, c->visible, alert);
		if (c->layer2)
			printf(", %u layer-2 only (not visible in IP flows)", c->layer2);
		if (c->no_flows)
			printf(", %u without a matching flow", c->no_flows);
		printf("\n");
		rows += c->rows;
		vis += c->visible;
		dm += c->det_medium;
		da += c->det_alert;
		l2 += c->layer2;
	}
	printf("  %-14s %u/%u medium+, %u/%u %s+ (%u label rows, %u layer-2 only)\n", "all", dm, vis, da, vis, alert,
	       rows, l2);
	if (t->labels_unused)
		printf("  (%u label rows are for captures not evaluated here)\n", t->labels_unused);

	printf("\nFalse incidents (no attack flow in them, host not named by a label) on held-out traffic: "
	       "%" PRIu64 " at medium+, %" PRIu64 " at %s+ in %.3f h",
	       t->false_med, t->false_alert, alert, t->hours);
	if (t->hours > 0)
		printf(" = %.2f / h at medium+, %.2f / h at %s+", t->false_med / t->hours, t->false_alert / t->hours, alert);
	printf("\n");
	if (t->hours_in > 0 || t->false_med_in)
		printf("In-sample (training captures, not a measure of false alarms): %" PRIu64 " at medium+, %" PRIu64
		       " at %s+ in %.3f h\n", t->false_med_in, t->false_alert_in, alert, t->hours_in);
}

/* ---- JSON report ------------------------------------------------------------- */

static json_t *jnum(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static json_t *metrics_json(const struct metrics3 *m)
{
	json_t *o = json_object();

	for (int d = 0; d < N_DET; d++) {
		if (!m->have[d]) {
			json_object_set_new(o, det_key[d], json_null());
			continue;
		}
		const struct eval_metrics *e = &m->m[d];
		json_object_set_new(o, det_key[d],
				    json_pack("{s:I,s:I,s:o,s:o,s:o,s:o}", "attack_flows", (json_int_t)e->pos, "benign_flows",
					      (json_int_t)e->neg, "roc_auc", jnum(e->roc_auc), "pr_auc", jnum(e->pr_auc),
					      "tpr_at_fpr_0.1%", jnum(e->tpr_at_fpr_0_1pct), "tpr_at_fpr_1%",
					      jnum(e->tpr_at_fpr_1pct)));
	}
	return o;
}

static json_t *delay_json(const struct eval_attack *o, int level)
{
	return o->detect_us[level] == EVAL_NO_TIME ? json_null() : json_real((double)(o->detect_us[level] - o->first_us) / 1e6);
}

static void print_json(const struct state *s, const struct totals *t)
{
	const char *alert = rec_level_name(s->a.alert_level);
	json_t *files = json_array(), *attacks = json_array(), *cats = json_array(), *train = json_array();
	struct metrics3 m;
	size_t nfiles = 0;

	for (size_t i = 0; i < s->a.n_train; i++)
		json_array_append_new(train, json_string(s->a.train[i]));
	for (size_t i = 0; i < s->a.n_cap; i++) {
		const struct eval_capture *c = &s->cap[i];
		metrics_range(s, s->offset[i], s->offset[i + 1], &m);
		json_array_append_new(files, json_pack("{s:s,s:b,s:b,s:I,s:f,s:I,s:I,s:o,s:{s:i,s:i},s:{s:I,s:I}}", "file", c->path,
			"in_sample", s->in_sample[i], "left_out_of_training", s->fold[i] >= 0, "packets", (json_int_t)c->packets, "seconds", eval_capture_seconds(c),
			"flows", (json_int_t)c->n, "attack_flows", (json_int_t)count_attack_flows(c), "metrics", metrics_json(&m),
			"incidents", "medium", count_incidents(c, REC_LEVEL_MEDIUM), alert, count_incidents(c, s->a.alert_level),
			"false_incidents", "medium", (json_int_t)eval_false_incidents(c, &s->labels, REC_LEVEL_MEDIUM), alert,
			(json_int_t)eval_false_incidents(c, &s->labels, s->a.alert_level)));
	}
	for (size_t k = 0; k < t->n_rows; k++) {
		const struct attack_row *a = &t->rows[k];
		const struct eval_label *l = &s->labels.row[a->label];
		json_array_append_new(attacks, json_pack("{s:s,s:I,s:s,s:s,s:s,s:b,s:I,s:I,s:I,s:f,s:s?,s:b,s:b,s:{s:o,s:o},s:s}",
			"file", s->cap[a->cap].path, "line", (json_int_t)l->line, "category", l->category, "attack_hosts",
			l->attack_text, "victim_hosts", l->victim_text, "layer2_only", l->layer2, "flows", (json_int_t)a->o.flows,
			"anomalous_flows", (json_int_t)a->o.anomalous, "incident_flows", (json_int_t)a->o.suspicious, "max_score",
			a->o.max_score, "incident_level", a->o.level ? rec_level_name(a->o.level) : NULL, "detected_medium",
			a->o.level >= REC_LEVEL_MEDIUM, "detected_alert", a->o.level >= s->a.alert_level, "time_to_detect_s",
			"medium", delay_json(&a->o, REC_LEVEL_MEDIUM), alert, delay_json(&a->o, s->a.alert_level),
			"rule_terms_not_checked", l->unchecked));
	}
	for (size_t k = 0; k < t->n_cat; k++) {
		const struct category *c = &t->cat[k];
		json_array_append_new(cats, json_pack("{s:s,s:i,s:i,s:i,s:i,s:i,s:i}", "category", c->name, "label_rows", c->rows,
			"visible", c->visible, "layer2_only", c->layer2, "without_flows", c->no_flows, "detected_medium",
			c->det_medium, "detected_alert", c->det_alert));
	}
	struct metrics3 macro;
	size_t nmacro = 0;
	metrics_macro(s, &macro, &nmacro);
	metrics_overall(s, &m, &nfiles);
	json_t *doc = json_pack("{s:s,s:b,s:b,s:o,s:I,s:s,s:s,s:o,s:{s:I,s:o,s:o,s:I,s:f,s:{s:I,s:I},s:{s:o,s:o}},s:o,s:o,s:{s:f,s:{s:I,s:I}},s:{s:b,s:s}}",
		"model", s->trained_here ? "" : s->model, "trained_here", s->trained_here, "cross_validated",
		s->a.cross_validate, "train", train, "seed",
		(json_int_t)s->a.seed, "labels", s->a.labels, "alert_level", alert, "files", files, "overall", "captures",
		(json_int_t)nfiles, "metrics", metrics_json(&m), "per_capture_mean", metrics_json(&macro),
		"per_capture_mean_captures", (json_int_t)nmacro, "benign_hours", t->hours, "false_incidents", "medium",
		(json_int_t)t->false_med, alert, (json_int_t)t->false_alert, "false_incidents_per_hour", "medium",
		jnum(t->hours > 0 ? t->false_med / t->hours : NAN), alert, jnum(t->hours > 0 ? t->false_alert / t->hours : NAN),
		"attacks", attacks, "categories", cats, "in_sample", "hours", t->hours_in, "false_incidents", "medium",
		(json_int_t)t->false_med_in, alert, (json_int_t)t->false_alert_in, "iforest", "ran", s->if_ok, "status",
		s->if_status);
	if (!doc) {
		cli_errorf("eval: cannot build the JSON report");
		return;
	}
	json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
	json_decref(doc);
}

/* ---- per-flow scores and the plot ------------------------------------------ */

static int write_scores(const struct state *s)
{
	FILE *f = fopen(s->a.scores, "w");

	if (!f) {
		cli_errorf("eval: cannot write '%s': %s", s->a.scores, strerror(errno));
		return NAD_EXIT_FAILURE;
	}
	fprintf(f, "file,in_sample,first_ts,last_ts,src_addr,src_port,dst_addr,dst_port,proto,label_line,category,"
		   "attack,score,error,level,incident_level,zscore,iforest\n");
	for (size_t i = 0; i < s->a.n_cap; i++)
		for (size_t j = 0; j < s->cap[i].n; j++) {
			const struct eval_flow *fl = &s->cap[i].flow[j];
			const struct eval_label *l = fl->label >= 0 ? &s->labels.row[fl->label] : NULL;
			size_t g = s->offset[i] + j;
			char src[REC_ADDR_MAX], dst[REC_ADDR_MAX];

			flow_csv_addr(fl->family, fl->src, src, sizeof src);
			flow_csv_addr(fl->family, fl->dst, dst, sizeof dst);
			fprintf(f, "%s,%d,", base_name(s->cap[i].path), s->in_sample[i]);
			flow_csv_put_ts(f, fl->first_us);
			fputc(',', f);
			flow_csv_put_ts(f, fl->last_us);
			fprintf(f, ",%s,%u,%s,%u,%u,", src, fl->sport, dst, fl->dport, fl->proto);
			if (l)
				fprintf(f, "%zu,%s,1,", l->line, l->category);
			else
				fprintf(f, ",,0,");
			fprintf(f, "%.6g,%.9g,%s,%s,", fl->score, fl->error, rec_level_name(fl->level),
				fl->incident >= 0 ? rec_level_name(s->cap[i].inc[fl->incident].level) : "");
			if (s->score[DET_Z])
				fprintf(f, "%.9g", s->score[DET_Z][g]);
			fputc(',', f);
			if (s->score[DET_IF])
				fprintf(f, "%.9g", s->score[DET_IF][g]);
			fputc('\n', f);
		}
	if (fclose(f)) {
		cli_errorf("eval: cannot write '%s': %s", s->a.scores, strerror(errno));
		return NAD_EXIT_FAILURE;
	}
	return 0;
}

/* One ROC curve of the held-out flows as "fpr tpr" lines. */
static int write_roc(const struct state *s, int d, const char *path)
{
	const double *src = d == DET_AE ? s->ae_rank : s->score[d];
	double *sc = malloc((s->total + 1) * sizeof *sc);
	uint8_t *at = malloc(s->total + 1);
	struct eval_curve c = { 0 };
	FILE *f = NULL;
	size_t n = 0;
	int r = -ENOMEM;

	if (!sc || !at)
		goto out;
	for (size_t i = 0; i < s->a.n_cap; i++)
		for (size_t g = s->offset[i]; !s->in_sample[i] && g < s->offset[i + 1]; g++) {
			sc[n] = src[g];
			at[n++] = s->attack[g];
		}
	if ((r = eval_curve_build(sc, at, n, &c)) < 0)
		goto out;
	f = fopen(path, "w");
	if (!f) {
		r = -errno;
		goto out;
	}
	fprintf(f, "0 0\n");
	for (size_t k = 0; k < c.n && c.pos && c.neg; k++)
		fprintf(f, "%.9g %.9g\n", (double)c.pt[k].fp / c.neg, (double)c.pt[k].tp / c.pos);
	r = fclose(f) ? -EIO : 0;
out:
	eval_curve_release(&c);
	free(sc);
	free(at);
	return r;
}

static int make_plot(const struct state *s)
{
	char roc[N_DET][PATH_MAX], hist[PATH_MAX], gp[PATH_MAX], errf[PATH_MAX];
	uint64_t bins[2][21] = { { 0 } }, tot[2] = { 0 };
	FILE *f;

	for (int d = 0; d < N_DET; d++) {
		char name[32];
		snprintf(name, sizeof name, "roc-%s.dat", det_key[d]);
		work_path(s, name, roc[d], sizeof roc[d]);
		if ((d == DET_AE || s->score[d]) && write_roc(s, d, roc[d]) < 0) {
			cli_errorf("eval: cannot write plot data '%s'", roc[d]);
			return NAD_EXIT_FAILURE;
		}
	}
	for (size_t i = 0; i < s->a.n_cap; i++)
		for (size_t j = 0; !s->in_sample[i] && j < s->cap[i].n; j++) {
			const struct eval_flow *fl = &s->cap[i].flow[j];
			int b = (int)(fl->score / 5);
			int cls = fl->label >= 0;
			bins[cls][b < 0 ? 0 : b > 20 ? 20 : b]++;
			tot[cls]++;
		}
	work_path(s, "scores-hist.dat", hist, sizeof hist);
	work_path(s, "plot.gp", gp, sizeof gp);
	work_path(s, "gnuplot-stderr.txt", errf, sizeof errf);
	f = fopen(hist, "w");
	if (!f)
		return NAD_EXIT_FAILURE;
	for (int b = 0; b <= 20; b++)
		fprintf(f, "%d %.6g %.6g\n", b * 5, tot[0] ? (double)bins[0][b] / tot[0] : 0, tot[1] ? (double)bins[1][b] / tot[1] : 0);
	fclose(f);
	f = fopen(gp, "w");
	if (!f)
		return NAD_EXIT_FAILURE;
	fprintf(f, "set terminal pngcairo size 1500,500 font 'sans,10'\nset output '%s'\n", s->a.plot);
	fprintf(f, "set multiplot layout 1,3 title 'nad eval: %zu held-out flows'\n", (size_t)(tot[0] + tot[1]));
	fprintf(f, "set key bottom right\nset grid\nset xlabel 'false-positive rate'\nset ylabel 'true-positive rate'\n");
	fprintf(f, "set xrange [0:1]\nset yrange [0:1.02]\nset title 'ROC'\n");
	for (int pass = 0; pass < 2; pass++) {
		if (pass) {
			fprintf(f, "set logscale x\nset xrange [1e-4:1]\nset title 'ROC, false-positive rate on a log scale'\n");
			fprintf(f, "set arrow from 0.001,0 to 0.001,1.02 nohead dt 2\nset arrow from 0.01,0 to 0.01,1.02 nohead dt 2\n");
		}
		fprintf(f, "plot ");
		for (int d = 0, k = 0; d < N_DET; d++)
			if (d == DET_AE || s->score[d])
				/* a log axis has no 0: FPR 0 is drawn at its left edge */
				fprintf(f, "%s'%s' using ($1 < 1e-4 ? 1e-4 : $1):2 with steps lw 2 title '%s'", k++ ? ", " : "",
					roc[d], det_title[d]);
		fprintf(f, "\n");
	}
	fprintf(f, "unset logscale x\nunset arrow\nset title 'nad score distribution'\nset xlabel 'score (bins of 5)'\n");
	fprintf(f, "set ylabel 'share of flows'\nset xrange [-5:105]\nset yrange [0:*]\nset key top center\n");
	fprintf(f, "set style fill transparent solid 0.5\nset boxwidth 4\n");
	fprintf(f, "plot '%s' using ($1+2.5):2 with boxes title 'benign (%" PRIu64 ")', '' using ($1+2.5):3 with boxes title 'attack (%" PRIu64 ")'\n",
		hist, tot[0], tot[1]);
	fprintf(f, "unset multiplot\n");
	fclose(f);

	posix_spawn_file_actions_t fa;
	pid_t pid;
	int status, r;
	char *argv[] = { "gnuplot", gp, NULL };
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 2, errf, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	r = posix_spawnp(&pid, "gnuplot", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (r) {
		cli_errorf("eval: cannot run gnuplot for '%s': %s (Debian package gnuplot-nox)", s->a.plot, strerror(r));
		return NAD_EXIT_FAILURE;
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		char msg[512];
		first_line(errf, msg, sizeof msg);
		cli_errorf("eval: gnuplot failed on '%s': %s", s->a.plot, msg);
		return NAD_EXIT_FAILURE;
	}
	return 0;
}

/* ---- main ------------------------------------------------------------------- */

static void state_release(struct state *s)
{
	for (size_t i = 0; s->cap && i < s->a.n_cap; i++)
		eval_capture_release(&s->cap[i]);
	free(s->cap);
	free(s->in_sample);
	free(s->offset);
	for (size_t t = 0; s->train_x && t < s->a.n_train; t++)
		free(s->train_x[t]);
	free(s->train_x);
	free(s->train_n);
	free(s->fold);
	free(s->csv);
	for (int d = 0; d < N_DET; d++)
		free(s->score[d]);
	free(s->ae_rank);
	free(s->attack);
	eval_labels_release(&s->labels);
	if (s->own_workdir)
		nftw(s->workdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int cmd_eval(int argc, char **argv)
{
	struct state s = { 0 };
	struct totals t = { 0 };
	char err[1024];
	int rc, r;

	rc = parse_args(argc, argv, &s.a);
	if (rc)
		return rc < 0 ? NAD_EXIT_OK : rc;
	r = eval_labels_read(s.a.labels, &s.labels, err, sizeof err);
	if (r < 0) {
		cli_errorf("eval: %s", err);
		return r == -ENOMEM ? NAD_EXIT_FAILURE : NAD_EXIT_USAGE;
	}
	if ((rc = make_workdir(&s)))
		goto out;
	if (s.a.model) {
		snprintf(s.model, sizeof s.model, "%s", s.a.model);
	} else {
		work_path(&s, "model.tflite", s.model, sizeof s.model);
		if ((rc = make_train_csvs(&s)) || (rc = train_on(&s, -1, s.model)))
			goto out;
		s.trained_here = true;
	}
	if ((rc = score_all(&s)))
		goto out;
	if (rank_detector(&s) < 0 || run_zscore(&s) < 0) {
		cli_errorf("eval: out of memory");
		rc = NAD_EXIT_FAILURE;
		goto out;
	}
	run_iforest(&s);
	if (compute_totals(&s, &t) < 0) {
		cli_errorf("eval: out of memory");
		rc = NAD_EXIT_FAILURE;
		goto out;
	}
	if (s.a.json)
		print_json(&s, &t);
	else
		print_text(&s, &t);
	if (s.a.scores && (rc = write_scores(&s)))
		goto out;
	if (s.a.plot && (rc = make_plot(&s)))
		goto out;
	rc = NAD_EXIT_OK;
out:
	free(t.rows);
	state_release(&s);
	return rc;
}
