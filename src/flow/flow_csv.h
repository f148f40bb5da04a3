/* flow_csv.h - the text form of a flow record: the columns `nad flows`
 * prints, shared with the service's learning period (whose baseline file
 * `nad train` reads) so both always write the same bytes.
 *
 * Columns: identity (times, addresses, ports, proto, vlan, end reason,
 * packet and byte counts), then every registry feature not already among
 * them, in registry order.
 */
#pragma once
#include <stdint.h>
#include <stdio.h>

#include "features/features.h"
#include "flow/flow_meter.h"

struct flow_csv {
	int cols[FEAT_COUNT];   /* registry indices printed after the identity columns */
	int ncols;
};

/* Fill the column list from the registry. */
void flow_csv_init(struct flow_csv *c);

/* The header line, '\n' included. */
void flow_csv_write_header(const struct flow_csv *c, FILE *out);

/* One record as one line, '\n' included. */
void flow_csv_write_record(const struct flow_csv *c, const struct flow_record *r, FILE *out);

/* A feature value: whole numbers print whole, others with six significant
 * digits (the same on every libm and architecture); not finite prints 0. */
void flow_csv_put_num(FILE *out, double v);

/* Seconds.microseconds. */
void flow_csv_put_ts(FILE *out, uint64_t us);

/* Textual address of a record endpoint ("?" if it cannot be printed). */
void flow_csv_addr(uint8_t family, const uint8_t *a, char *buf, size_t len);
