/* cmd_train.c - placeholder until the train stage lands. */
#include "cli/cli.h"

int cmd_train(int argc, char **argv)
{
	return cli_usage_error("train", "not built yet");
}
