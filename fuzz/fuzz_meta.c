/* fuzz_meta.c - the "nad" model metadata (JSON) on arbitrary bytes.
 *
 * The metadata is read from a model file the owner may have copied from
 * anywhere, so it is untrusted input just like the flatbuffer around it.
 * Parse; if it parses, do everything detection does with it: bind it to the
 * feature registry, normalise extreme and non-finite values, compute an
 * error and tail probabilities, and serialise it back and parse that again.
 * Any fault, leak, undefined behaviour or a round trip that no longer parses
 * is a bug; a refusal is the expected answer to garbage.
 * Seeds: the metadata of the bundled demo model (fuzz/corpus/fuzz_meta/). */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "features/features.h"
#include "model/nad_meta.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void exercise(struct nad_meta *m)
{
	static const double probes[] = { 0.0, 1.0, -1.0, 1e300, -1e300, NAN, INFINITY, 5e-324 };
	const char *names[FEAT_COUNT];
	const char *missing = NULL;
	double values[FEAT_COUNT];
	float in[FEAT_COUNT], out[FEAT_COUNT];

	/* Bound inputs only: unbound metadata reads values in model order, and
	 * n_features may exceed what the registry (and these arrays) hold. */
	for (size_t i = 0; i < FEAT_COUNT; i++)
		names[i] = feat_registry[i].name;
	if (nad_meta_bind(m, names, FEAT_COUNT, &missing) < 0 || m->n_features > FEAT_COUNT)
		return;
	for (size_t p = 0; p < sizeof probes / sizeof probes[0]; p++) {
		for (size_t i = 0; i < FEAT_COUNT; i++)
			values[i] = probes[(p + i) % (sizeof probes / sizeof probes[0])];
		nad_meta_normalise(m, values, in);
		for (size_t i = 0; i < m->n_features; i++)
			out[i] = -in[i];
		(void)nad_meta_tail_probability(m, nad_meta_error(m, in, out));
		(void)nad_meta_tail_probability(m, probes[p]);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nad_meta *m = NULL, *again = NULL;
	char err[256];
	char *json = NULL;
	size_t len = 0;

	if (nad_meta_parse((const char *)data, size, &m, err, sizeof err) < 0)
		return 0;
	exercise(m);
	/* What nad wrote it must read back. */
	if (nad_meta_to_json(m, &json, &len) == 0) {
		if (nad_meta_parse(json, len, &again, err, sizeof err) < 0)
			abort();
		nad_meta_free(again);
	}
	free(json);
	nad_meta_free(m);
	return 0;
}
