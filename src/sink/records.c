/* records.c - names of the record enums, shared by every output. */
#include "sink/records.h"

#include <string.h>

static const char *const level_names[] = { "none", "low", "medium", "high", "critical" };

const char *rec_level_name(enum rec_level l)
{
	return (unsigned)l < sizeof level_names / sizeof level_names[0] ? level_names[l] : "none";
}

int rec_level_parse(const char *s)
{
	for (unsigned i = 0; i < sizeof level_names / sizeof level_names[0]; i++)
		if (s && !strcmp(s, level_names[i]))
			return (int)i;
	return -1;
}
