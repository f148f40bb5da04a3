/* data.c - the feature matrix nad trains on, and shuffling. */
#include "model/train/train.h"

#include <errno.h>
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

int train_data_shuffle_rows(struct train_data *d, struct train_rng *r)
{
	float *tmp = malloc((d->cols ? d->cols : 1) * sizeof *tmp);
	size_t bytes = d->cols * sizeof *tmp;

	if (!tmp)
		return -ENOMEM;
	for (size_t i = d->rows; i > 1; i--) {
		size_t j = train_rng_below(r, i);

		if (j == i - 1)
			continue;
		memcpy(tmp, d->x + (i - 1) * d->cols, bytes);
		memcpy(d->x + (i - 1) * d->cols, d->x + j * d->cols, bytes);
		memcpy(d->x + j * d->cols, tmp, bytes);
	}
	free(tmp);
	return 0;
}
