/* cmd_model.c - `nad model inspect MODEL` and `nad model run MODEL`.
 *
 * inspect prints what the file holds: operators, tensors (shape, type,
 * quantisation), graph inputs and outputs, and every metadata entry
 * (pretty-printed when it is JSON, as nad's own "nad" entry is).
 *
 * run reads one input vector per line from stdin (numbers separated by
 * spaces or commas; blank lines and lines starting with '#' are skipped),
 * runs the model in batches, and prints one output vector per line (%.8g,
 * space-separated; several outputs follow each other on the line). int8
 * inputs and outputs are quantised and dequantised with the tensors' own
 * scale and zero point unless --raw asks for the integers themselves.
 * From a terminal each line is answered as soon as it is typed.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef NAD_HAVE_JANSSON
#include <jansson.h>
#endif

#include "cli/cli.h"
#include "model/ops/reference/quant_math.h"
#include "model/tfl_interp.h"
#include "model/tfl_model.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: nad model inspect MODEL\n"
		"       nad model run MODEL [--raw] [--batch N]\n"
		"\n"
		"inspect  print the operators, tensors, inputs, outputs and metadata of a .tflite file\n"
		"run      read one input vector per line on stdin (numbers separated by spaces or\n"
		"         commas), print one output vector per line\n"
		"\n"
		"  --raw      int8 models: read and print the quantised integers unchanged\n"
		"             (default: quantise floats in, dequantise out with the tensors' parameters)\n"
		"  --batch N  run N vectors per call (1..65536, default 64)\n");
}

static void print_shape(const int32_t *shape, int rank)
{
	putchar('[');
	for (int d = 0; d < rank; d++)
		printf("%s%d", d ? "," : "", (int)shape[d]);
	putchar(']');
}

static void print_quant(const struct tfl_tensor *t)
{
	if (t->n_quant == 1) {
		printf(" scale %.9g zero_point %lld", (double)t->scale[0], (long long)t->zero_point[0]);
	} else if (t->n_quant > 1) {
		float lo = t->scale[0], hi = t->scale[0];

		for (uint32_t i = 1; i < t->n_quant; i++) {
			lo = t->scale[i] < lo ? t->scale[i] : lo;
			hi = t->scale[i] > hi ? t->scale[i] : hi;
		}
		printf(" per-channel %u scales along dim %d (%.6g..%.6g)", t->n_quant, (int)t->quant_dim,
		       (double)lo, (double)hi);
	}
}

static void print_index_list(const int32_t *v, int n)
{
	putchar('[');
	for (int i = 0; i < n; i++)
		printf("%s%d", i ? "," : "", (int)v[i]);
	putchar(']');
}

/* Text that is printable UTF-8 or ASCII (NULs at the end allowed). */
static bool is_text(const uint8_t *p, size_t len)
{
	while (len && p[len - 1] == 0)
		len--;
	for (size_t i = 0; i < len; i++)
		if (p[i] < 0x20 && p[i] != '\n' && p[i] != '\r' && p[i] != '\t')
			return false;
	return true;
}

static void print_metadata(const struct tfl_metadata *md)
{
	printf("  '%s' (%zu bytes)", md->name, md->len);
#ifdef NAD_HAVE_JANSSON
	json_error_t jerr;
	json_t *j = json_loadb((const char *)md->data, md->len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);

	if (j && (json_is_object(j) || json_is_array(j))) {
		char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

		printf(", JSON:\n");
		for (char *line = s, *next; line && *line; line = next) {
			next = strchr(line, '\n');
			if (next)
				*next++ = 0;
			printf("    %s\n", line);
		}
		free(s);
		json_decref(j);
		return;
	}
	json_decref(j);
#endif
	if (is_text(md->data, md->len)) {
		printf(": \"%s\"\n", (const char *)md->data);
		return;
	}
	printf(", binary:");
	for (size_t i = 0; i < md->len && i < 32; i++)
		printf(" %02x", md->data[i]);
	printf("%s\n", md->len > 32 ? " ..." : "");
}

static int inspect(const char *path)
{
	struct tfl_error err;
	struct tfl_model *m;
	struct tfl_interp *ip;
	int r = tfl_model_load_file(path, &err, &m);

	if (r < 0) {
		cli_errorf("%s", err.msg);
		return r == -EINVAL ? NAD_EXIT_USAGE : NAD_EXIT_FAILURE;
	}
	printf("model '%s': schema version %u, %zu subgraph(s)%s, description \"%s\"\n", path, m->version,
	       m->n_subgraphs, m->n_subgraphs > 1 ? " (only the first is used)" : "", m->description);
	printf("inputs:");
	for (size_t i = 0; i < m->n_inputs; i++)
		printf(" %d", (int)m->inputs[i]);
	printf("\noutputs:");
	for (size_t i = 0; i < m->n_outputs; i++)
		printf(" %d", (int)m->outputs[i]);
	printf("\noperators (%zu):\n", m->n_operators);
	for (size_t i = 0; i < m->n_operators; i++) {
		const struct tfl_operator *op = &m->operators[i];

		printf("  %zu %s v%d inputs ", i, tfl_builtin_name(op->builtin), (int)op->version);
		print_index_list(op->inputs, op->n_inputs);
		printf(" outputs ");
		print_index_list(op->outputs, op->n_outputs);
		if (op->builtin == TFL_OP_FULLY_CONNECTED || op->builtin == TFL_OP_ADD ||
		    op->builtin == TFL_OP_SUB || op->builtin == TFL_OP_MUL)
			printf(" fused %s", tfl_fused_name(op->fused) ? tfl_fused_name(op->fused) : "unknown");
		if (op->builtin == TFL_OP_FULLY_CONNECTED && op->keep_num_dims)
			printf(" keep_num_dims");
		if (op->new_shape_rank >= 0) {
			printf(" new_shape ");
			print_shape(op->new_shape, op->new_shape_rank);
		}
		putchar('\n');
	}
	printf("tensors (%zu):\n", m->n_tensors);
	for (size_t i = 0; i < m->n_tensors; i++) {
		const struct tfl_tensor *t = &m->tensors[i];

		printf("  %zu '%s' ", i, t->name);
		print_shape(t->shape, t->rank);
		printf(" %s", tfl_type_name(t->type));
		print_quant(t);
		if (t->data)
			printf(" constant (%zu bytes)", t->data_len);
		putchar('\n');
	}
	printf("metadata (%zu):\n", m->n_metadata);
	for (size_t i = 0; i < m->n_metadata; i++)
		print_metadata(&m->metadata[i]);
	/* Say whether it will run, and why not, without failing inspect. */
	r = tfl_interp_new(m, 1, &err, &ip);
	if (r < 0)
		printf("runnable: no: %s\n", err.msg);
	else
		printf("runnable: yes\n");
	tfl_interp_free(ip);
	tfl_model_free(m);
	return NAD_EXIT_OK;
}

struct run_opts {
	const char *path;
	bool raw;
	unsigned batch;
};

/* Parse one line into row n of the input; -1 with a message on error. */
static int parse_line(char *line, size_t lineno, const struct tfl_io *in, bool raw, unsigned row)
{
	size_t n = 0;
	char *p = line;

	for (;;) {
		char *end;
		double v;

		while (*p == ' ' || *p == '\t' || *p == ',' || *p == '\r' || *p == '\n')
			p++;
		if (!*p)
			break;
		if (n == in->row) {
			cli_errorf("stdin line %zu: more than the %zu values the model's input takes", lineno, in->row);
			return -1;
		}
		errno = 0;
		v = strtod(p, &end);
		if (end == p || (*end && !strchr(" \t,\r\n", *end))) {
			cli_errorf("stdin line %zu: value %zu is not a number (expected %zu numbers separated by spaces or commas)",
				   lineno, n + 1, in->row);
			return -1;
		}
		if (!isfinite(v) || (errno == ERANGE && fabs(v) > 1)) {
			cli_errorf("stdin line %zu: value %zu is not a finite number", lineno, n + 1);
			return -1;
		}
		if (in->type == TFL_TYPE_FLOAT32) {
			((float *)in->data)[row * in->row + n] = (float)v;
		} else if (raw) {
			if (v != floor(v) || v < -128 || v > 127) {
				cli_errorf("stdin line %zu: value %zu is not an int8 integer in [-128, 127] (--raw)",
					   lineno, n + 1);
				return -1;
			}
			((int8_t *)in->data)[row * in->row + n] = (int8_t)v;
		} else {
			((int8_t *)in->data)[row * in->row + n] = tfl_quantize_float((float)v, in->scale, in->zero_point);
		}
		n++;
		p = end;
	}
	if (n != in->row) {
		cli_errorf("stdin line %zu: %zu values, but the model's input takes %zu", lineno, n, in->row);
		return -1;
	}
	return 0;
}

static void print_rows(const struct tfl_interp *ip, unsigned rows, bool raw)
{
	for (unsigned r = 0; r < rows; r++) {
		const char *sep = "";

		for (size_t o = 0; o < tfl_interp_n_outputs(ip); o++) {
			const struct tfl_io *out = tfl_interp_output(ip, o);
			size_t base = out->batched ? r * out->row : 0;

			for (size_t i = 0; i < out->row; i++, sep = " ") {
				if (out->type == TFL_TYPE_FLOAT32) {
					printf("%s%.8g", sep, (double)((const float *)out->data)[base + i]);
				} else if (out->type == TFL_TYPE_INT8) {
					int8_t q = ((const int8_t *)out->data)[base + i];

					if (raw)
						printf("%s%d", sep, q);
					else
						printf("%s%.8g", sep, (double)out->scale * (q - out->zero_point));
				} else if (out->type == TFL_TYPE_INT32) {
					printf("%s%d", sep, (int)((const int32_t *)out->data)[base + i]);
				}
			}
		}
		putchar('\n');
	}
}

static int check_io(const struct tfl_interp *ip, const char *path)
{
	if (tfl_interp_n_inputs(ip) != 1) {
		cli_errorf("cannot run model '%s': it has %zu inputs; nad model run feeds exactly one",
			   path, tfl_interp_n_inputs(ip));
		return -1;
	}
	const struct tfl_io *in = tfl_interp_input(ip, 0);

	if (in->type != TFL_TYPE_FLOAT32 && in->type != TFL_TYPE_INT8) {
		cli_errorf("cannot run model '%s': input is %s; expected FLOAT32 or INT8", path, tfl_type_name(in->type));
		return -1;
	}
	if (in->type == TFL_TYPE_INT8 && !(in->scale > 0)) {
		cli_errorf("cannot run model '%s': int8 input has no quantisation scale", path);
		return -1;
	}
	for (size_t o = 0; o < tfl_interp_n_outputs(ip); o++) {
		int32_t t = tfl_interp_output(ip, o)->type;

		if (t != TFL_TYPE_FLOAT32 && t != TFL_TYPE_INT8 && t != TFL_TYPE_INT32) {
			cli_errorf("cannot run model '%s': output %zu is %s; expected FLOAT32, INT8 or INT32",
				   path, o, tfl_type_name(t));
			return -1;
		}
	}
	return 0;
}

static int run(const struct run_opts *o)
{
	struct tfl_error err;
	struct tfl_model *m = NULL;
	struct tfl_interp *ip = NULL;
	char *line = NULL;
	size_t cap = 0, lineno = 0;
	unsigned rows = 0;
	int ret = NAD_EXIT_OK, r;

	if ((r = tfl_model_load_file(o->path, &err, &m)) < 0 ||
	    (r = tfl_interp_new(m, o->batch, &err, &ip)) < 0) {
		if (m && r == -EINVAL)
			cli_errorf("cannot run model '%s': %s", o->path, err.msg);
		else
			cli_errorf("%s", err.msg);
		tfl_model_free(m);
		return r == -EINVAL || r == -ENOENT ? NAD_EXIT_USAGE : NAD_EXIT_FAILURE;
	}
	if (check_io(ip, o->path) < 0) {
		ret = NAD_EXIT_USAGE;
		goto out;
	}
	const struct tfl_io *in = tfl_interp_input(ip, 0);
	bool interactive = isatty(STDIN_FILENO);

	while (getline(&line, &cap, stdin) >= 0) {
		char *p = line;

		lineno++;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\n' || *p == '\r' || *p == 0 || *p == '#')
			continue;
		if (parse_line(p, lineno, in, o->raw, rows) < 0) {
			ret = NAD_EXIT_USAGE;
			break;
		}
		/* A person typing at a terminal wants each answer at once. */
		if (++rows == o->batch || interactive) {
			tfl_interp_invoke(ip, rows);
			print_rows(ip, rows, o->raw);
			rows = 0;
			if (interactive)
				fflush(stdout);
		}
	}
	/* Rows read before a bad line are still answered. */
	if (rows) {
		tfl_interp_invoke(ip, rows);
		print_rows(ip, rows, o->raw);
	}
	if (ret == NAD_EXIT_OK && ferror(stdin)) {
		cli_errorf("cannot read stdin: %s", strerror(errno));
		ret = NAD_EXIT_FAILURE;
	}
	if (fflush(stdout) != 0 && ret == NAD_EXIT_OK) {
		cli_errorf("cannot write stdout: %s", strerror(errno));
		ret = NAD_EXIT_FAILURE;
	}
out:
	free(line);
	tfl_interp_free(ip);
	tfl_model_free(m);
	return ret;
}

int cmd_model(int argc, char **argv)
{
	struct run_opts o = { NULL, false, 64 };
	const char *sub;

	if (argc < 2)
		return cli_usage_error("model", "missing subcommand (inspect or run)");
	sub = argv[1];
	if (!strcmp(sub, "--help") || !strcmp(sub, "-h") || !strcmp(sub, "help")) {
		usage(stdout);
		return NAD_EXIT_OK;
	}
	if (strcmp(sub, "inspect") && strcmp(sub, "run"))
		return cli_usage_error("model", "unknown subcommand '%s' (expected inspect or run)", sub);
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			return NAD_EXIT_OK;
		} else if (!strcmp(sub, "run") && !strcmp(a, "--raw")) {
			o.raw = true;
		} else if (!strcmp(sub, "run") && !strcmp(a, "--batch")) {
			long n;

			if (i + 1 >= argc || cli_parse_long(argv[i + 1], 1, 65536, &n) < 0)
				return cli_usage_error("model", "--batch needs a number from 1 to 65536");
			o.batch = (unsigned)n;
			i++;
		} else if (a[0] == '-' && a[1]) {
			return cli_usage_error("model", "unknown option '%s' for %s", a, sub);
		} else if (!o.path) {
			o.path = a;
		} else {
			return cli_usage_error("model", "unexpected argument '%s'", a);
		}
	}
	if (!o.path)
		return cli_usage_error("model", "%s needs a MODEL file", sub);
	return !strcmp(sub, "inspect") ? inspect(o.path) : run(&o);
}
