/* cmd_model.c - placeholder until the model stage lands. */
#include "cli/cli.h"

int cmd_model(int argc, char **argv)
{
	return cli_usage_error("model", "not built yet");
}
