/* data.c - the feature matrix nad trains on, and shuffling. */
#include "model/train/train.h"

#include <stdlib.h>
#include <string.h>

void train_shuffle(struct train_rng *r, uint32_t *idx, size_t n)
{
	for (size_t i = n; i > 1; i--) {
		size_t j = train_rng_below(r, i);
		uint32_t t = idx[i - 1];

		idx[i - 1] = idx[j];
		idx[j] = t;
	}
}

void train_data_init(struct train_data *d, size_t cols)
{
	memset(d, 0, sizeof *d);
	d->cols = cols;
}

void train_data_release(struct train_data *d)
{
	if (!d)
		return;
	free(d->x);
	train_data_init(d, 0);
}
