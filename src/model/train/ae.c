/* ae.c - a dense autoencoder trained with mini-batch Adam.
 *
 * Speed: a million flows must train in minutes on one Pi core, so every
 * product works on rows padded to a multiple of 8 floats with GCC vector
 * types, 8 output lanes per accumulator, 4 rows per weight load. That
 * vectorises on NEON and SSE alike without -O3 or -ffast-math, and no sum
 * is ever split across lanes or reordered, so the result does not depend
 * on the vector width: the same seed gives the same model on every run. Weights are
 * kept transposed ([in][out]) for the forward pass and the weight
 * gradient, and in [out][in] order for back-propagating deltas; padding
 * stays exactly zero because its gradients are zero.
 */
#include "model/train/train.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define VW 8
typedef float vf8 __attribute__((vector_size(VW * sizeof(float))));

static uint32_t pad8(uint32_t n) { return (n + VW - 1) / VW * VW; }

static float *falloc(size_t n)
{
	size_t bytes = (n ? n : 1) * sizeof(float);
	float *p = aligned_alloc(sizeof(vf8), (bytes + sizeof(vf8) - 1) / sizeof(vf8) * sizeof(vf8));

	if (p)
		memset(p, 0, n * sizeof(float));
	return p;
}

static inline void vadd(float *restrict y, const float *restrict x, uint32_t n)
{
	vf8 *vy = (vf8 *)y;
	const vf8 *vx = (const vf8 *)x;

	for (uint32_t k = 0; k < n / VW; k++)
		vy[k] += vx[k];
}

/* y[r][0..pn) = bias + sum over i < k of a[r][i] * w[i][0..pn), for every
 * row r (a's rows sa floats apart, y's and w's pn apart; bias NULL = 0).
 * Four rows share each weight load, and each 8-float accumulator stays in
 * a register across the whole sum. */
static void gemm_rows(float *restrict y, const float *restrict a, size_t sa, uint32_t k,
		      const float *restrict w, uint32_t pn, const float *restrict bias, size_t rows)
{
	const vf8 *vw = (const vf8 *)w;
	uint32_t nv = pn / VW;
	size_t r = 0;

	for (; r + 4 <= rows; r += 4) {
		const float *a0 = a + r * sa, *a1 = a0 + sa, *a2 = a1 + sa, *a3 = a2 + sa;
		vf8 *y0 = (vf8 *)(y + r * pn);

		for (uint32_t v = 0; v < nv; v++) {
			vf8 c0 = bias ? ((const vf8 *)bias)[v] : (vf8){ 0 };
			vf8 c1 = c0, c2 = c0, c3 = c0;

			for (uint32_t i = 0; i < k; i++) {
				vf8 wv = vw[(size_t)i * nv + v];

				c0 += a0[i] * wv;
				c1 += a1[i] * wv;
				c2 += a2[i] * wv;
				c3 += a3[i] * wv;
			}
			y0[v] = c0;
			y0[nv + v] = c1;
			y0[2 * nv + v] = c2;
			y0[3 * nv + v] = c3;
		}
	}
	for (; r < rows; r++) {
		const float *a0 = a + r * sa;
		vf8 *y0 = (vf8 *)(y + r * pn);

		for (uint32_t v = 0; v < nv; v++) {
			vf8 c0 = bias ? ((const vf8 *)bias)[v] : (vf8){ 0 };

			for (uint32_t i = 0; i < k; i++)
				c0 += a0[i] * vw[(size_t)i * nv + v];
			y0[v] = c0;
		}
	}
}

/* g[i][0..pn) += sum over rows r of x[r][i] * d[r][0..pn), for i < k: the
 * weight gradient, four weight rows per pass over the deltas. */
static void gemm_grad(float *restrict g, const float *restrict x, size_t sx, uint32_t k,
		      const float *restrict d, uint32_t pn, size_t rows)
{
	const vf8 *vd = (const vf8 *)d;
	vf8 *vg = (vf8 *)g;
	uint32_t nv = pn / VW, i = 0;

	for (; i + 4 <= k; i += 4)
		for (uint32_t v = 0; v < nv; v++) {
			vf8 c0 = vg[(size_t)i * nv + v], c1 = vg[(size_t)(i + 1) * nv + v];
			vf8 c2 = vg[(size_t)(i + 2) * nv + v], c3 = vg[(size_t)(i + 3) * nv + v];

			for (size_t r = 0; r < rows; r++) {
				vf8 dv = vd[r * nv + v];
				const float *xr = x + r * sx + i;

				c0 += xr[0] * dv;
				c1 += xr[1] * dv;
				c2 += xr[2] * dv;
				c3 += xr[3] * dv;
			}
			vg[(size_t)i * nv + v] = c0;
			vg[(size_t)(i + 1) * nv + v] = c1;
			vg[(size_t)(i + 2) * nv + v] = c2;
			vg[(size_t)(i + 3) * nv + v] = c3;
		}
	for (; i < k; i++)
		for (uint32_t v = 0; v < nv; v++) {
			vf8 c0 = vg[(size_t)i * nv + v];

			for (size_t r = 0; r < rows; r++)
				c0 += x[r * sx + i] * vd[r * nv + v];
			vg[(size_t)i * nv + v] = c0;
		}
}

/* Refresh the exact [out][in] copy from the padded transposed weights. */
static void sync_export(struct train_ae *ae)
{
	for (size_t l = 0; l < ae->n_layers; l++)
		for (uint32_t o = 0; o < ae->size[l + 1]; o++)
			for (uint32_t i = 0; i < ae->size[l]; i++)
				ae->w[l][(size_t)o * ae->size[l] + i] = ae->wt[l][(size_t)i * ae->pad[l + 1] + o];
}

int train_ae_init(struct train_ae *ae, size_t n_layers, const uint32_t *size, uint64_t seed)
{
	struct train_rng rng = { seed };

	memset(ae, 0, sizeof *ae);
	if (n_layers < 1 || n_layers > TRAIN_MAX_LAYERS)
		return -EINVAL;
	for (size_t l = 0; l <= n_layers; l++) {
		if (size[l] < 1 || size[l] > 4096)
			return -EINVAL;
		ae->size[l] = size[l];
		ae->pad[l] = pad8(size[l]);
	}
	ae->n_layers = n_layers;
	for (size_t l = 0; l < n_layers; l++) {
		uint32_t in = size[l], out = size[l + 1];
		/* He uniform for ReLU layers keeps activations' variance; Glorot for
		 * the linear output layer */
		double lim = l + 1 < n_layers ? sqrt(6.0 / in) : sqrt(6.0 / (in + out));

		ae->act[l] = l + 1 < n_layers ? TFL_ACT_RELU : TFL_ACT_NONE;
		ae->wt[l] = falloc((size_t)ae->pad[l] * ae->pad[l + 1]);
		ae->w[l] = falloc((size_t)in * out);
		ae->b[l] = falloc(ae->pad[l + 1]);
		if (!ae->wt[l] || !ae->w[l] || !ae->b[l]) {
			train_ae_release(ae);
			return -ENOMEM;
		}
		for (uint32_t o = 0; o < out; o++)
			for (uint32_t i = 0; i < in; i++)
				ae->wt[l][(size_t)i * ae->pad[l + 1] + o] =
					(float)((2.0 * train_rng_uniform(&rng) - 1.0) * lim);
	}
	sync_export(ae);
	return 0;
}

void train_ae_release(struct train_ae *ae)
{
	if (!ae)
		return;
	for (size_t l = 0; l < TRAIN_MAX_LAYERS; l++) {
		free(ae->wt[l]);
		free(ae->w[l]);
		free(ae->b[l]);
	}
	memset(ae, 0, sizeof *ae);
}

void train_ae_net(const struct train_ae *ae, struct tfl_dense_layer *layers, struct tfl_dense_net *ret)
{
	for (size_t l = 0; l < ae->n_layers; l++) {
		layers[l].n_in = ae->size[l];
		layers[l].n_out = ae->size[l + 1];
		layers[l].weights = ae->w[l];
		layers[l].bias = ae->b[l];
		layers[l].act = ae->act[l];
	}
	ret->n_layers = ae->n_layers;
	ret->layers = layers;
}

/* Forward rows already in act[0] (rows x pad[0]) through every layer;
 * act[l+1] receives layer l's output (after its activation). */
static void forward(const struct train_ae *ae, float *const *act, size_t rows)
{
	for (size_t l = 0; l < ae->n_layers; l++) {
		uint32_t pi = ae->pad[l], po = ae->pad[l + 1];
		float *y = act[l + 1];

		gemm_rows(y, act[l], pi, ae->size[l], ae->wt[l], po, ae->b[l], rows);
		if (ae->act[l] == TFL_ACT_RELU)
			for (size_t k = 0; k < rows * po; k++)
				y[k] = y[k] > 0.0f ? y[k] : 0.0f;
	}
}

/* Activation buffers for batches of up to rows rows. */
static int alloc_acts(const struct train_ae *ae, size_t rows, float **act)
{
	for (size_t l = 0; l <= ae->n_layers; l++) {
		act[l] = falloc(rows * ae->pad[l]);
		if (!act[l])
			return -ENOMEM;
	}
	return 0;
}

static void free_acts(float **act, size_t n)
{
	for (size_t l = 0; l < n; l++)
		free(act[l]);
}

static void load_rows(const struct train_ae *ae, float *dst, const float *x, const uint32_t *idx,
		      size_t first, size_t rows)
{
	uint32_t n = ae->size[0], p = ae->pad[0];

	for (size_t r = 0; r < rows; r++) {
		size_t src = idx ? idx[first + r] : first + r;

		memcpy(dst + r * p, x + src * n, n * sizeof *dst);
	}
}

int train_ae_forward(const struct train_ae *ae, const float *x, size_t rows, float *out)
{
	enum { CHUNK = 256 };
	float *act[TRAIN_MAX_LAYERS + 1] = { 0 };
	uint32_t nl = ae->size[ae->n_layers], pl = ae->pad[ae->n_layers];

	if (alloc_acts(ae, CHUNK, act) < 0) {
		free_acts(act, ae->n_layers + 1);
		return -ENOMEM;
	}
	for (size_t first = 0; first < rows; first += CHUNK) {
		size_t m = rows - first < CHUNK ? rows - first : CHUNK;

		load_rows(ae, act[0], x, NULL, first, m);
		forward(ae, act, m);
		for (size_t r = 0; r < m; r++)
			memcpy(out + (first + r) * nl, act[ae->n_layers] + r * pl, nl * sizeof *out);
	}
	free_acts(act, ae->n_layers + 1);
	return 0;
}

/* Mean squared reconstruction error of rows (uses act as scratch). */
static double eval_loss(const struct train_ae *ae, float **act, size_t chunk, const float *x, size_t rows)
{
	uint32_t n = ae->size[0], p = ae->pad[0];
	double s = 0.0;

	for (size_t first = 0; first < rows; first += chunk) {
		size_t m = rows - first < chunk ? rows - first : chunk;
		const float *y = act[ae->n_layers];

		load_rows(ae, act[0], x, NULL, first, m);
		forward(ae, act, m);
		for (size_t r = 0; r < m; r++)
			for (uint32_t j = 0; j < n; j++) {
				double d = (double)y[r * p + j] - act[0][r * p + j];

				s += d * d;
			}
	}
	return rows ? s / ((double)rows * n) : 0.0;
}

/* Optimiser state and gradients, all padded like the weights. */
struct adam {
	float *gw[TRAIN_MAX_LAYERS], *gb[TRAIN_MAX_LAYERS];
	float *mw[TRAIN_MAX_LAYERS], *vw[TRAIN_MAX_LAYERS];
	float *mb[TRAIN_MAX_LAYERS], *vb[TRAIN_MAX_LAYERS];
	float *wp[TRAIN_MAX_LAYERS];   /* [pad out][pad in] for back-propagation */
	float *best_w[TRAIN_MAX_LAYERS], *best_b[TRAIN_MAX_LAYERS];
	float *delta[2];
	unsigned long step;
};

static void adam_release(struct adam *a)
{
	for (size_t l = 0; l < TRAIN_MAX_LAYERS; l++) {
		free(a->gw[l]);
		free(a->gb[l]);
		free(a->mw[l]);
		free(a->vw[l]);
		free(a->mb[l]);
		free(a->vb[l]);
		free(a->wp[l]);
		free(a->best_w[l]);
		free(a->best_b[l]);
	}
	free(a->delta[0]);
	free(a->delta[1]);
}

static int adam_init(struct adam *a, const struct train_ae *ae, size_t batch)
{
	uint32_t widest = 0;

	memset(a, 0, sizeof *a);
	for (size_t l = 0; l < ae->n_layers; l++) {
		size_t nw = (size_t)ae->pad[l] * ae->pad[l + 1], nb = ae->pad[l + 1];

		a->gw[l] = falloc(nw);
		a->mw[l] = falloc(nw);
		a->vw[l] = falloc(nw);
		a->wp[l] = falloc(nw);
		a->best_w[l] = falloc(nw);
		a->gb[l] = falloc(nb);
		a->mb[l] = falloc(nb);
		a->vb[l] = falloc(nb);
		a->best_b[l] = falloc(nb);
		if (!a->gw[l] || !a->mw[l] || !a->vw[l] || !a->wp[l] || !a->best_w[l] || !a->gb[l] ||
		    !a->mb[l] || !a->vb[l] || !a->best_b[l])
			return -ENOMEM;
	}
	for (size_t l = 0; l <= ae->n_layers; l++)
		widest = ae->pad[l] > widest ? ae->pad[l] : widest;
	a->delta[0] = falloc(batch * widest);
	a->delta[1] = falloc(batch * widest);
	return a->delta[0] && a->delta[1] ? 0 : -ENOMEM;
}

static void transpose_into(const struct train_ae *ae, struct adam *a)
{
	for (size_t l = 0; l < ae->n_layers; l++) {
		uint32_t pi = ae->pad[l], po = ae->pad[l + 1];

		for (uint32_t i = 0; i < pi; i++)
			for (uint32_t o = 0; o < po; o++)
				a->wp[l][(size_t)o * pi + i] = ae->wt[l][(size_t)i * po + o];
	}
}

static void adam_update(float *w, float *g, float *m, float *v, size_t n, float lr_t)
{
	const float b1 = 0.9f, b2 = 0.999f, eps = 1e-8f;

	for (size_t k = 0; k < n; k++) {
		m[k] = b1 * m[k] + (1.0f - b1) * g[k];
		v[k] = b2 * v[k] + (1.0f - b2) * g[k] * g[k];
		w[k] -= lr_t * m[k] / (sqrtf(v[k]) + eps);
		g[k] = 0.0f;
	}
}

/* One mini-batch: forward, back-propagate, Adam. Returns the batch's sum
 * of squared errors. */
static double train_batch(struct train_ae *ae, struct adam *a, float **act, size_t rows, double lr)
{
	size_t L = ae->n_layers;
	uint32_t n = ae->size[0], p0 = ae->pad[0], pl = ae->pad[L];
	float scale = (float)(2.0 / ((double)rows * n));
	float *delta = a->delta[0], *prev = a->delta[1];
	double sse = 0.0, bc1, bc2;
	float lr_t;

	forward(ae, act, rows);
	/* d(mean squared error)/d(output); padding has y = x = 0 */
	for (size_t r = 0; r < rows; r++)
		for (uint32_t j = 0; j < pl; j++) {
			float d = act[L][r * pl + j] - (j < n ? act[0][r * p0 + j] : 0.0f);

			sse += (double)d * d;
			delta[r * pl + j] = d * scale;
		}
	for (size_t l = L; l-- > 0;) {
		uint32_t pi = ae->pad[l], po = ae->pad[l + 1];

		for (size_t r = 0; r < rows; r++)
			vadd(a->gb[l], delta + r * po, po);
		gemm_grad(a->gw[l], act[l], pi, ae->size[l], delta, po, rows);
		if (l == 0)
			break;
		gemm_rows(prev, delta, po, ae->size[l + 1], a->wp[l], pi, NULL, rows);
		/* ReLU: the gradient passes only where the unit was active */
		for (size_t k = 0; k < rows * pi; k++)
			if (!(act[l][k] > 0.0f))
				prev[k] = 0.0f;
		{
			float *t = delta;

			delta = prev;
			prev = t;
		}
	}
	a->step++;
	bc1 = 1.0 - pow(0.9, (double)a->step);
	bc2 = 1.0 - pow(0.999, (double)a->step);
	lr_t = (float)(lr * sqrt(bc2) / bc1);
	for (size_t l = 0; l < L; l++) {
		adam_update(ae->wt[l], a->gw[l], a->mw[l], a->vw[l], (size_t)ae->pad[l] * ae->pad[l + 1], lr_t);
		adam_update(ae->b[l], a->gb[l], a->mb[l], a->vb[l], ae->pad[l + 1], lr_t);
	}
	transpose_into(ae, a);
	return sse;
}

static void save_best(const struct train_ae *ae, struct adam *a, int restore)
{
	for (size_t l = 0; l < ae->n_layers; l++) {
		size_t nw = (size_t)ae->pad[l] * ae->pad[l + 1] * sizeof(float);
		size_t nb = ae->pad[l + 1] * sizeof(float);

		if (restore) {
			memcpy(ae->wt[l], a->best_w[l], nw);
			memcpy(ae->b[l], a->best_b[l], nb);
		} else {
			memcpy(a->best_w[l], ae->wt[l], nw);
			memcpy(a->best_b[l], ae->b[l], nb);
		}
	}
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

unsigned train_default_epochs(size_t n_train)
{
	double e = ceil(TRAIN_SAMPLE_BUDGET / (double)(n_train ? n_train : 1));

	return (unsigned)(e < 5.0 ? 5.0 : e > 100.0 ? 100.0 : e);
}

int train_ae_fit(struct train_ae *ae, const float *train_x, size_t n_train, const float *val_x,
		 size_t n_val, const struct train_opts *opts, struct train_result *ret)
{
	struct train_rng rng = { opts->seed ^ 0x6e61642d74726169ULL };
	float *act[TRAIN_MAX_LAYERS + 1] = { 0 };
	struct train_result res = { 0 };
	struct adam a;
	uint32_t *idx = NULL;
	size_t batch = opts->batch ? opts->batch : 256;
	double best = INFINITY, t0 = now_s();
	unsigned since_best = 0;
	int r;

	if (!n_train || ae->size[0] != ae->size[ae->n_layers] || !opts->epochs || n_train > UINT32_MAX)
		return -EINVAL;
	r = adam_init(&a, ae, batch);
	if (!r)
		r = alloc_acts(ae, batch, act);
	idx = malloc(n_train * sizeof *idx);
	if (r < 0 || !idx) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n_train; i++)
		idx[i] = (uint32_t)i;
	transpose_into(ae, &a);
	save_best(ae, &a, 0);

	for (unsigned epoch = 1; epoch <= opts->epochs; epoch++) {
		double sse = 0.0, val;
		struct train_progress p;

		train_shuffle(&rng, idx, n_train);
		for (size_t first = 0; first < n_train; first += batch) {
			size_t m = n_train - first < batch ? n_train - first : batch;

			load_rows(ae, act[0], train_x, idx, first, m);
			sse += train_batch(ae, &a, act, m, opts->lr);
		}
		res.samples += n_train;
		res.epochs_run = epoch;
		p.loss = sse / ((double)n_train * ae->size[0]);
		/* without validation rows, the training loss decides */
		val = n_val ? eval_loss(ae, act, batch, val_x, n_val) : p.loss;
		if (val < best * (1.0 - 1e-4)) {
			best = val;
			since_best = 0;
			res.best_epoch = epoch;
			res.loss = p.loss;
			res.val_loss = val;
			save_best(ae, &a, 0);
		} else {
			since_best++;
		}
		p.epoch = epoch;
		p.epochs = opts->epochs;
		p.val_loss = val;
		p.best_val_loss = best;
		p.elapsed_s = now_s() - t0;
		p.eta_s = p.elapsed_s / epoch * (opts->epochs - epoch);
		p.samples = res.samples;
		if (opts->patience && since_best >= opts->patience)
			p.eta_s = 0.0;
		if (opts->progress)
			opts->progress(&p, opts->ctx);
		if (opts->patience && since_best >= opts->patience)
			break;
	}
	save_best(ae, &a, 1);
	sync_export(ae);
	res.seconds = now_s() - t0;
	*ret = res;
	r = 0;
out:
	free(idx);
	free_acts(act, ae->n_layers + 1);
	adam_release(&a);
	return r;
}
