/* cmd_flows.c - placeholder until the flows stage lands. */
#include "cli/cli.h"

int cmd_flows(int argc, char **argv)
{
	return cli_usage_error("flows", "not built yet");
}
