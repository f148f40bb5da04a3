/* fuzz_alert_spool.c - a spool file's content (src/alert/alert_spool.c) on arbitrary bytes.
 *
 * The spool directory outlives nad: a file may be cut by a crash, damaged
 * on disk or edited by hand, and nad reads every one at start. Parse; if it
 * parses, render both bodies from it (as delivery would), write it back and
 * parse that again: the round trip must give the same alert. Any fault,
 * leak, undefined behaviour or a round trip that differs is a bug; a
 * refusal is the expected answer to garbage.
 * Seeds: alerts nad spooled for the demo's incidents (fuzz/corpus/fuzz_alert_spool/). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alert/alert_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct alert_origin origin = { .node = "fuzz", .version = "0" };
	struct alert_msg m, again;
	char why[256], *text, *body;

	if (!alert_msg_parse((const char *)data, size, &m, why, sizeof why))
		return 0;
	body = alert_webhook_body(&m, &origin);
	free(body);
	body = alert_am_body(&m, 1764000000000000ull, 300000000ull, &origin);
	free(body);
	text = alert_msg_format(&m);
	if (!text)
		abort();   /* whatever parsed must write back */
	if (!alert_msg_parse(text, strlen(text), &again, why, sizeof why) || memcmp(&m, &again, sizeof m))
		abort();
	free(text);
	return 0;
}
