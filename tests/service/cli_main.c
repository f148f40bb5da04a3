/* cli_main.c - `nad anomalies` and `nad status` as a stand-alone program,
 * so their tests run whether or not main.c's command table lists them. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

int cmd_anomalies(int argc, char **argv);
int cmd_status(int argc, char **argv);

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "anomalies"))
		return cmd_anomalies(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "status"))
		return cmd_status(argc - 1, argv + 1);
	fprintf(stderr, "usage: %s anomalies|status [options]\n", argv[0]);
	return NAD_EXIT_USAGE;
}
