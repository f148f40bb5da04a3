/* main.c - `nad <command>`: dispatch to one function per subcommand. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "nad_version.h"

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{ "flows", cmd_flows, "flow meter: one record per flow with every feature" },
	{ "train", cmd_train, "train and calibrate an autoencoder, write a .tflite model" },
	{ "model", cmd_model, "inspect or run a .tflite model" },
	{ "detect", cmd_detect, "offline analysis of a capture: incidents ranked by severity" },
	{ "eval", cmd_eval, "measure detection on labelled captures, beside two baselines" },
	{ "status", cmd_status, "learning progress, traffic mix and health of the service" },
	{ "anomalies", cmd_anomalies, "query the history of anomalies and incidents" },
	{ "run", cmd_run, "the service: live capture, learning period, detection, history" },
};

static void usage(FILE *out)
{
	fprintf(out, "usage: nad <command> [options]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\n'nad <command> --help' describes each command.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return NAD_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return NAD_EXIT_OK;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("nad %s\n", NAD_VERSION);
		return NAD_EXIT_OK;
	}
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "nad: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return NAD_EXIT_USAGE;
}
