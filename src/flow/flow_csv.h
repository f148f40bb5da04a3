/* flow_csv.h - the text forms of a flow record: the CSV lines `nad flows`
 * prints by default (also the service's learning baseline, which `nad
 * train` reads, so both always write the same bytes) and its JSON lines.
 *
 * Columns: identity (times, addresses, ports, proto, vlan, end reason,
 * packet and byte counts), then every registry feature not already among
 * them, in registry order. JSON lines carry the same fields under the same
 * names. Every value is formatted by hand into one line buffer written with
 * one fwrite: printf's general float path was a quarter of all the time
 * `nad flows` spent. The formatters give exactly the bytes of the printf
 * formats named below (test_flow_csv compares them on millions of values).
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "features/features.h"
#include "flow/flow_meter.h"

struct flow_csv {
	int cols[FEAT_COUNT];   /* registry indices printed after the identity columns */
	int ncols;
	bool jsonl;             /* JSON lines instead of CSV (set after flow_csv_init) */
	size_t line_max;        /* flow_csv_line_max() */
};

/* Fill the column list from the registry; CSV. */
void flow_csv_init(struct flow_csv *c);

/* The CSV header line, '\n' included; nothing for JSON lines. */
void flow_csv_write_header(const struct flow_csv *c, FILE *out);

/* One record as one line, '\n' included. */
void flow_csv_write_record(const struct flow_csv *c, const struct flow_record *r, FILE *out);

/* The longest line flow_csv_format_record() can produce, '\n' included,
 * in either format. */
size_t flow_csv_line_max(const struct flow_csv *c);

/* flow_csv_write_record()'s line buffer; test_flow_csv checks that the
 * registry's longest line fits. */
#define FLOW_CSV_LINE_BUF 16384

/* One record as one line into buf; its length, or 0 if cap < flow_csv_line_max(c). */
size_t flow_csv_format_record(const struct flow_csv *c, const struct flow_record *r, char *buf, size_t cap);

/* Longest text of one number, of a timestamp. */
#define FLOW_CSV_NUM_MAX 32
#define FLOW_CSV_TS_MAX 28

/* A feature value, not NUL-terminated; returns its length (bytes of buf
 * after it may be overwritten, up to FLOW_CSV_NUM_MAX). Not finite or
 * zero: "0"; whole numbers below 1e15 in magnitude: all digits ("%.0f");
 * anything else: six significant digits ("%.6g"), the same on every libm
 * and architecture. */
size_t flow_csv_format_num(double v, char buf[FLOW_CSV_NUM_MAX]);

/* Seconds.microseconds ("%" PRIu64 ".%06" PRIu64), not NUL-terminated; its length. */
size_t flow_csv_format_ts(uint64_t us, char buf[FLOW_CSV_TS_MAX]);

/* flow_csv_format_num() / flow_csv_format_ts() to a stream. */
void flow_csv_put_num(FILE *out, double v);
void flow_csv_put_ts(FILE *out, uint64_t us);

/* Textual address of a record endpoint (family 6: IPv6, else IPv4), as
 * glibc's inet_ntop() writes it; NUL-terminated. "?" if len is below
 * INET6_ADDRSTRLEN. */
void flow_csv_addr(uint8_t family, const uint8_t *a, char *buf, size_t len);
