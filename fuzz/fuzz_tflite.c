/* fuzz_tflite.c - the .tflite reader and interpreter on arbitrary bytes.
 *
 * Load; if the model loads, prepare it for a batch of 2 and run it once on
 * zeros (the arena starts zeroed) and once on one row. Any fault, leak or
 * undefined behaviour is a bug; a refusal is the expected answer to
 * garbage. Seeds: the real models (fuzz/corpus/fuzz_tflite/). */
#include <stddef.h>
#include <stdint.h>

#include "model/tfl_interp.h"
#include "model/tfl_model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tfl_error err;
	struct tfl_model *m = NULL;
	struct tfl_interp *ip = NULL;
	const uint8_t *p;
	size_t n;

	if (tfl_model_load(data, size, "fuzz.tflite", &err, &m) < 0)
		return 0;
	(void)tfl_model_metadata(m, "nad", &p, &n);
	if (tfl_interp_new(m, 2, &err, &ip) == 0) {
		tfl_interp_invoke(ip, 2);
		tfl_interp_invoke(ip, 1);
	}
	tfl_interp_free(ip);
	tfl_model_free(m);
	return 0;
}
