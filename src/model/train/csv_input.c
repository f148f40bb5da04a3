/* csv_input.c - read `nad flows` CSV into a feature matrix.
 *
 * Columns are found by name in the header, so the identity columns and any
 * feature the model does not use may be anywhere. Values must be finite
 * numbers: a flow meter that wrote "nan" has a bug worth hearing about,
 * and a silently skipped row would bias the baseline.
 */
#include "model/train/train.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* A line longer than this is not a flow record. */
#define CSV_MAX_LINE (1u << 20)
#define CSV_COL_TS -2

static int csv_fail(struct train_csv_error *err, const char *fname, size_t line, size_t col,
		    const char *field, const char *fmt, ...)
{
	va_list ap;

	snprintf(err->file, sizeof err->file, "%s", fname);
	err->line = line;
	err->column = col;
	snprintf(err->field, sizeof err->field, "%s", field ? field : "");
	va_start(ap, fmt);
	vsnprintf(err->what, sizeof err->what, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Cut the next field out of *p (modified in place); handles "quoted,
 * fields" with "" escapes. Returns the field, *p moves past the comma or
 * becomes NULL at the end of the line. */
static char *next_field(char **p)
{
	char *s = *p, *start = s, *out;

	if (*s != '"') {
		char *comma = strchr(s, ',');

		if (comma) {
			*comma = '\0';
			*p = comma + 1;
		} else {
			*p = NULL;
		}
		return start;
	}
	start = out = ++s;
	for (;;) {
		if (*s == '\0') {
			*p = NULL;
			break;
		}
		if (*s == '"' && s[1] == '"') {
			*out++ = '"';
			s += 2;
		} else if (*s == '"') {
			s++;
			while (*s && *s != ',')
				s++;
			*p = *s ? s + 1 : NULL;
			break;
		} else {
			*out++ = *s++;
		}
	}
	*out = '\0';
	return start;
}

static void chomp(char *s, ssize_t *n)
{
	while (*n > 0 && (s[*n - 1] == '\n' || s[*n - 1] == '\r'))
		s[--*n] = '\0';
}

static int grow(struct train_data *d)
{
	size_t cap = d->cap_rows ? d->cap_rows * 2 : 4096;
	float *x;

	if (cap > SIZE_MAX / sizeof(float) / (d->cols ? d->cols : 1))
		return -ENOMEM;
	x = realloc(d->x, cap * d->cols * sizeof *x);
	if (!x)
		return -ENOMEM;
	d->x = x;
	d->cap_rows = cap;
	return 0;
}

/* Map header columns to features; map[c] = feature index, CSV_COL_TS or -1. */
static int read_header(char *line, const char *fname, const char *const *names, size_t n,
		       int **ret_map, size_t *ret_ncols, struct train_csv_error *err)
{
	size_t ncols = 0, cap = 64;
	int *map = malloc(cap * sizeof *map);
	char *found = calloc(n ? n : 1, 1);
	char *p = line;

	if (!map || !found) {
		free(map);
		free(found);
		return -ENOMEM;
	}
	while (p) {
		char *name = next_field(&p);

		if (ncols == cap) {
			int *m2 = realloc(map, 2 * cap * sizeof *map);

			if (!m2) {
				free(map);
				free(found);
				return -ENOMEM;
			}
			map = m2;
			cap *= 2;
		}
		map[ncols] = strcmp(name, "first_ts") ? -1 : CSV_COL_TS;
		for (size_t i = 0; i < n; i++)
			if (!found[i] && !strcmp(name, names[i])) {
				map[ncols] = (int)i;
				found[i] = 1;
				break;
			}
		ncols++;
	}
	for (size_t i = 0; i < n; i++)
		if (!found[i]) {
			free(map);
			free(found);
			return csv_fail(err, fname, 1, 0, names[i],
					"no column '%s' in the header (is this `nad flows --format csv` output from the same nad version?)",
					names[i]);
		}
	free(found);
	*ret_map = map;
	*ret_ncols = ncols;
	return 0;
}

int train_csv_read(FILE *f, const char *fname, const char *const *names,
		   const enum nad_transform *transforms, struct train_data *d,
		   struct train_csv_info *info, struct train_csv_error *err)
{
	char *line = NULL;
	size_t cap = 0, lineno = 0, ncols = 0;
	int *map = NULL;
	ssize_t len;
	int r = 0;

	info->files++;
	while ((len = getline(&line, &cap, f)) >= 0) {
		float *row;
		size_t col = 0, seen = 0;
		char *p;

		lineno++;
		if ((size_t)len > CSV_MAX_LINE) {
			r = csv_fail(err, fname, lineno, 0, NULL, "line longer than %u bytes", CSV_MAX_LINE);
			break;
		}
		chomp(line, &len);
		if (!map) {
			if (lineno == 1 && len >= 3 && !memcmp(line, "\xef\xbb\xbf", 3))
				memmove(line, line + 3, (size_t)len - 2);
			r = read_header(line, fname, names, d->cols, &map, &ncols, err);
			if (r < 0)
				break;
			continue;
		}
		if (len == 0)
			continue;
		if (d->rows == d->cap_rows && (r = grow(d)) < 0)
			break;
		row = d->x + d->rows * d->cols;
		p = line;
		while (p && col < ncols) {
			char *field = next_field(&p), *end;
			int m = map[col++];
			double v;

			if (m == -1)
				continue;
			errno = 0;
			v = strtod(field, &end);
			if (m == CSV_COL_TS) {
				if (end != field && !*end && isfinite(v)) {
					info->ts_min = info->have_ts && info->ts_min < v ? info->ts_min : v;
					info->ts_max = info->have_ts && info->ts_max > v ? info->ts_max : v;
					info->have_ts = true;
				}
				continue;
			}
			if (end == field || *end || !isfinite(v)) {
				r = csv_fail(err, fname, lineno, col, names[m],
					     "'%.40s' is not a finite number", field);
				break;
			}
			row[m] = (float)nad_meta_transform(transforms[m], v);
			seen++;
		}
		if (r < 0)
			break;
		if (col != ncols || seen != d->cols || p) {
			r = csv_fail(err, fname, lineno, col, NULL,
				     "expected %zu columns as in the header", ncols);
			break;
		}
		d->rows++;
	}
	if (!r && ferror(f))
		r = -EIO;
	if (!r && !map)
		r = csv_fail(err, fname, lineno, 0, NULL, "empty file: no header line");
	free(line);
	free(map);
	return r;
}
