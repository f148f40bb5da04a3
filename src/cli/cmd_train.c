/* cmd_train.c - `nad train`: learn what normal flows look like.
 *
 * The command line of train_model_from_csv() (src/model/train/job.c), which
 * reads `nad flows` CSV, trains and calibrates a dense autoencoder, and
 * writes one .tflite holding the network and the "nad" metadata
 * (docs/internals/training.md).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "model/train/train.h"

struct train_args {
	struct train_job job;
	bool quiet;
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

static int parse_hidden(const char *s, struct train_job *j)
{
	char *copy = strdup(s), *save = NULL, *tok;
	int r = 0;

	if (!copy)
		return -1;
	j->n_hidden = 0;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		long v;

		if (j->n_hidden == TRAIN_MAX_LAYERS - 1 || cli_parse_long(tok, 1, 4096, &v) < 0) {
			r = -1;
			break;
		}
		j->hidden[j->n_hidden++] = (uint32_t)v;
	}
	free(copy);
	return r || !j->n_hidden ? -1 : 0;
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

	struct train_job *j = &a->job;

	memset(a, 0, sizeof *a);
	train_job_default(j);
	optind = 1;
	while ((c = getopt_long(argc, argv, "i:o:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			if (j->n_inputs == TRAIN_JOB_MAX_INPUTS)
				return cli_usage_error("train", "at most %d --input files", TRAIN_JOB_MAX_INPUTS);
			j->inputs[j->n_inputs++] = optarg;
			break;
		case 'o':
			j->out = optarg;
			break;
		case 'q':
			a->quiet = true;
			break;
		case 'h':
			usage(stdout);
			return -1;
		case OPT_INT8:
			j->int8 = true;
			break;
		case OPT_PER_CHANNEL:
			j->per_channel = true;
			break;
		case OPT_SEED:
			if (cli_parse_long(optarg, 0, INT64_MAX >> 1, &v) < 0)
				return cli_usage_error("train", "--seed '%s': expected a non-negative integer", optarg);
			j->seed = (uint64_t)v;
			break;
		case OPT_HIDDEN:
			if (parse_hidden(optarg, j) < 0)
				return cli_usage_error("train", "--hidden '%s': expected 1 to %d sizes in 1..4096 separated by commas",
						       optarg, TRAIN_MAX_LAYERS - 1);
			break;
		case OPT_EPOCHS:
			if (cli_parse_long(optarg, 1, 100000, &v) < 0)
				return cli_usage_error("train", "--epochs '%s': expected 1..100000", optarg);
			j->epochs = (unsigned)v;
			break;
		case OPT_BATCH:
			if (cli_parse_long(optarg, 1, 65536, &v) < 0)
				return cli_usage_error("train", "--batch '%s': expected 1..65536", optarg);
			j->batch = (unsigned)v;
			break;
		case OPT_PATIENCE:
			if (cli_parse_long(optarg, 0, 100000, &v) < 0)
				return cli_usage_error("train", "--patience '%s': expected 0..100000", optarg);
			j->patience = (unsigned)v;
			break;
		case OPT_LR:
			if (parse_double(optarg, 1e-7, 1.0, &j->lr) < 0)
				return cli_usage_error("train", "--lr '%s': expected a number in [1e-7, 1]", optarg);
			break;
		case OPT_VALIDATION:
			if (parse_double(optarg, 0.01, 0.5, &j->val_frac) < 0)
				return cli_usage_error("train", "--validation '%s': expected a fraction in [0.01, 0.5]", optarg);
			break;
		default:
			return cli_usage_error("train", "unknown option");
		}
	}
	if (optind < argc)
		return cli_usage_error("train", "unexpected argument '%s'", argv[optind]);
	if (!j->n_inputs)
		return cli_usage_error("train", "no --input given");
	if (!j->out)
		return cli_usage_error("train", "no --out given");
	return 0;
}

int cmd_train(int argc, char **argv)
{
	struct train_args a;
	char err[512];
	int r;

	r = parse_args(argc, argv, &a);
	if (r)
		return r < 0 ? NAD_EXIT_OK : r;
	a.job.log = a.quiet ? NULL : stderr;
	r = train_model_from_csv(&a.job, err, sizeof err);
	if (r < 0) {
		cli_errorf("train: %s", err);
		return r == -EINVAL ? NAD_EXIT_USAGE : NAD_EXIT_FAILURE;
	}
	return NAD_EXIT_OK;
}
