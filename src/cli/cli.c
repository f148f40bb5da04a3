/* cli.c - shared helpers for the subcommands. */
#include "cli/cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

void cli_errorf(const char *fmt, ...)
{
	va_list ap;

	fputs("nad: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "nad %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'nad %s --help'.\n", cmd);
	return NAD_EXIT_USAGE;
}

int cli_parse_long(const char *s, long min, long max, long *ret)
{
	char *end;
	long v;

	if (!s || !*s)
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*ret = v;
	return 0;
}

int cli_parse_thresholds(const char *s, double th[5])
{
	double v[4];
	char tail;

	if (sscanf(s, "%lf,%lf,%lf,%lf%c", &v[0], &v[1], &v[2], &v[3], &tail) != 4)
		return -1;
	for (int i = 0; i < 4; i++)
		if (v[i] < 0 || v[i] > 100 || (i && v[i] < v[i - 1]))
			return -1;
	for (int i = 0; i < 4; i++)
		th[i + 1] = v[i];
	return 0;
}
