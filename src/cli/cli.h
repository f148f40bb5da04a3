/* cli.h - what every `nad <command>` shares: exit codes and error reporting.
 *
 * Exit codes (DESIGN.md): 0 success, 1 runtime failure, 2 usage or bad input.
 * Messages go to stderr as "nad <command>: <what failed> '<subject>': <why>".
 */
#pragma once
#include <stdarg.h>
#include <stddef.h>

enum {
	NAD_EXIT_OK = 0,
	NAD_EXIT_FAILURE = 1,
	NAD_EXIT_USAGE = 2,
};

/* Print "nad: <message>" to stderr. */
void cli_errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Print the message and "Try 'nad <cmd> --help'." to stderr; returns NAD_EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Parse a whole non-negative integer in [min, max]; 0 on success, -1 otherwise. */
int cli_parse_long(const char *s, long min, long max, long *ret);

/* Parse "A,B,C,D", four rising scores 0..100, into th[1..4] (the levels
 * low..critical; th[0] is left alone); 0 or -1. */
int cli_parse_thresholds(const char *s, double th[5]);

/* One function per subcommand; argv[0] is the subcommand name. */
int cmd_flows(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_model(int argc, char **argv);
int cmd_detect(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_anomalies(int argc, char **argv);
int cmd_status(int argc, char **argv);

struct store;
/* Open the history database read-only for a query command: --db, else the
 * database_path of -c CONFIG, else of /etc/nad/nad.conf, else the default.
 * Writes the path used into db; the caller owns *ret_store (store_close). */
int cli_open_history(const char *cmd, const char *db_opt, const char *config_opt, char *db, size_t dblen,
		     struct store **ret_store);
int cmd_run(int argc, char **argv);
