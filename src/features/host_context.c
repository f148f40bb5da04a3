/* host_context.c - decayed per-host counters and distinct-peer sketches (host_context.h). */
#include "features/host_context.h"

#include "features/feat_compute.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const double tau_s[2] = { 10, 300 };
#define DS_US 100000ull /* sketch stamps are in deciseconds */

int feat_hosts_init(struct feat_hosts *h, uint32_t max_hosts)
{
	uint32_t sets = 1;

	memset(h, 0, sizeof *h);
	if (!max_hosts || max_hosts > (1u << 24))
		return -EINVAL;
	while ((uint64_t)sets * FEAT_HOST_WAYS < max_hosts)
		sets <<= 1;
	h->hosts = calloc((size_t)sets * FEAT_HOST_WAYS, sizeof *h->hosts);
	/* two pair cells per host: a host talks to a few services at a time */
	h->npairs = sets * FEAT_HOST_WAYS * 2;
	h->pairs = calloc((size_t)h->npairs * FEAT_PAIR_ROWS, sizeof *h->pairs);
	if (!h->hosts || !h->pairs) {
		feat_hosts_release(h);
		return -ENOMEM;
	}
	h->nsets = sets;
	return 0;
}

void feat_hosts_release(struct feat_hosts *h)
{
	free(h->hosts);
	free(h->pairs);
	h->hosts = NULL;
	h->pairs = NULL;
}

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

/* (Fixed-size copies and compares: with a variable length they become
 * library calls, and these run several times for every flow.) */
static uint64_t addr_hash(uint8_t family, const uint8_t *a)
{
	uint64_t w[2] = { 0, 0 };

	if (family == 6)
		memcpy(w, a, 16);
	else
		memcpy(w, a, 4);
	return mix(w[0] ^ mix(w[1] ^ family));
}

static struct feat_host *set_of(const struct feat_hosts *h, uint8_t family, const uint8_t *a)
{
	return &h->hosts[(addr_hash(family, a) & (h->nsets - 1)) * FEAT_HOST_WAYS];
}

static struct feat_host *find_in(struct feat_host *set, uint8_t family, const uint8_t *a)
{
	for (int w = 0; w < FEAT_HOST_WAYS; w++)
		if (set[w].family == family &&
		    (family == 6 ? !memcmp(set[w].addr, a, 16) : !memcmp(set[w].addr, a, 4)))
			return &set[w];
	return NULL;
}

static struct feat_host *lookup(const struct feat_hosts *h, uint8_t family, const uint8_t *a)
{
	return find_in(set_of(h, family, a), family, a);
}

void feat_hosts_prefetch(const struct feat_hosts *h, uint8_t family, const uint8_t *src, const uint8_t *dst)
{
	const struct feat_host *s = set_of(h, family, src), *d = set_of(h, family, dst);

	for (int w = 0; w < FEAT_HOST_WAYS; w++) {
		__builtin_prefetch(&s[w], 1);
		__builtin_prefetch(&d[w], 1);
	}
}

/* Find the host or take the set's emptiest / least recently touched way. */
static struct feat_host *get(struct feat_hosts *h, uint8_t family, const uint8_t *a, uint64_t ts_us)
{
	struct feat_host *set = set_of(h, family, a), *f = find_in(set, family, a), *victim;

	if (!f) {
		victim = &set[0];
		for (int w = 0; w < FEAT_HOST_WAYS && victim->family; w++)
			if (!set[w].family || set[w].touch_us < victim->touch_us)
				victim = &set[w];
		if (victim->family)
			h->replaced++;
		memset(victim, 0, sizeof *victim);
		victim->family = family;
		memcpy(victim->addr, a, family == 6 ? 16 : 4);
		f = victim;
	}
	if (ts_us > f->touch_us)
		f->touch_us = ts_us;
	if (!h->have_base) {
		h->base_us = ts_us;
		h->have_base = true;
	}
	return f;
}

/* Decay to t (never backwards: a reordered packet does not inflate a counter). */
static double decay_at(const struct feat_decay *d, uint64_t t_us, double tau)
{
	if (t_us <= d->t_us)
		return d->v;
	return d->v * exp(-(double)(t_us - d->t_us) / 1e6 / tau);
}

static void decay_add(struct feat_decay *d, double x, uint64_t t_us, double tau)
{
	d->v = decay_at(d, t_us, tau) + x;
	if (t_us > d->t_us)
		d->t_us = t_us;
}

static uint32_t stamp(const struct feat_hosts *h, uint64_t ts_us)
{
	uint64_t ds = ts_us > h->base_us ? (ts_us - h->base_us) / DS_US : 0;

	return ds >= UINT32_MAX - 1 ? UINT32_MAX : (uint32_t)ds + 1;
}

static void sketch_add(uint32_t *slots, uint64_t key, uint32_t now)
{
	uint32_t *s = &slots[mix(key) % FEAT_HOST_SLOTS];

	if (now > *s)
		*s = now;
}

/* Linear counting over the slots stamped within the window: with z of m
 * slots empty, about m ln(m/z) distinct keys were seen. Rounded, since a
 * count of distinct peers is a whole number. */
static double sketch_count(const uint32_t *slots, uint32_t now, uint32_t window)
{
	uint32_t from = now > window ? now - window : 1, used = 0;
	double m = FEAT_HOST_SLOTS, z;

	for (int i = 0; i < FEAT_HOST_SLOTS; i++)
		used += slots[i] && slots[i] >= from;
	z = used < FEAT_HOST_SLOTS ? (double)(FEAT_HOST_SLOTS - used) : 0.5;
	return round(m * log(m / z));
}

static bool has_ports(uint8_t proto)
{
	return proto == 6 || proto == 17;
}

/* The pair sketch key of (src, dst, proto, port), and its cell in row `row`. */
static uint64_t pair_key(uint8_t family, uint8_t proto, const uint8_t *src, const uint8_t *dst, uint16_t port)
{
	return mix(addr_hash(family, src) ^ mix(addr_hash(family, dst) + ((uint64_t)proto << 16 | port)));
}

static struct feat_pair_cell *pair_cell(const struct feat_hosts *h, int row, uint64_t k)
{
	/* the rows must disagree on collisions: a second, independent hash */
	if (row)
		k = mix(k ^ 0x9e3779b97f4a7c15ull);
	return &h->pairs[(size_t)row * h->npairs + (k & (h->npairs - 1))];
}

void feat_hosts_flow_start(struct feat_hosts *h, uint8_t family, uint8_t proto, const uint8_t *src,
			   const uint8_t *dst, uint16_t dport, uint64_t ts_us)
{
	struct feat_host *f = get(h, family, src, ts_us), *r;
	uint32_t now = stamp(h, ts_us);
	uint16_t port = has_ports(proto) ? dport : 0;
	uint64_t pk = pair_key(family, proto, src, dst, port);

	for (int w = 0; w < 2; w++)
		decay_add(&f->flows[w], 1, ts_us, tau_s[w]);
	sketch_add(f->addr_seen, addr_hash(family, dst), now);
	if (has_ports(proto))
		sketch_add(f->port_seen, dport, now);
	for (int row = 0; row < FEAT_PAIR_ROWS; row++) {
		struct feat_pair_cell *c = pair_cell(h, row, pk);

		for (int w = 0; w < 2; w++)
			decay_add(&c->flows[w], 1, ts_us, tau_s[w]);
	}
	/* after the initiator: taking the responder's way must not evict it */
	r = get(h, family, dst, ts_us);
	decay_add(&r->in_flows, 1, ts_us, tau_s[0]);
	sketch_add(r->src_seen, addr_hash(family, src), now);
}

void feat_hosts_flow_end(struct feat_hosts *h, uint8_t family, const uint8_t *src, uint64_t bytes_sent,
			 bool failed, uint64_t ts_us)
{
	struct feat_host *f = get(h, family, src, ts_us);

	for (int w = 0; w < 2; w++)
		decay_add(&f->bytes[w], (double)bytes_sent, ts_us, tau_s[w]);
	decay_add(&f->ended, 1, ts_us, tau_s[1]);
	decay_add(&f->failed, failed, ts_us, tau_s[1]);
}

/* Count-min: each row over-counts by its collisions, the smallest least. */
static double pair_flows(const struct feat_hosts *h, const struct feat_flow_id *id, uint64_t ts_us, int w)
{
	uint16_t port = has_ports(id->proto) ? id->dport : 0;
	uint64_t pk = pair_key(id->family, id->proto, id->src, id->dst, port);
	double best = 0;

	for (int row = 0; row < FEAT_PAIR_ROWS; row++) {
		double v = decay_at(&pair_cell(h, row, pk)->flows[w], ts_us, tau_s[w]);

		if (!row || v < best)
			best = v;
	}
	return best;
}

static void responder_context(const struct feat_hosts *h, const struct feat_flow_id *id, uint64_t ts_us,
			      double out[FEAT_COUNT])
{
	const struct feat_host *r = lookup(h, id->family, id->dst);
	uint32_t now = stamp(h, ts_us);

	out[FEAT_DST_FLOW_RATE_10S] = r ? decay_at(&r->in_flows, ts_us, tau_s[0]) / tau_s[0] : 0;
	out[FEAT_DST_SRC_ADDRS_10S] = r ? sketch_count(r->src_seen, now, 100) : 0;
	out[FEAT_DST_SRC_ADDRS_300S] = r ? sketch_count(r->src_seen, now, 3000) : 0;
	out[FEAT_PAIR_FLOWS_10S] = pair_flows(h, id, ts_us, 0);
	out[FEAT_PAIR_FLOWS_300S] = pair_flows(h, id, ts_us, 1);
}

void feat_hosts_context(const struct feat_hosts *h, const struct feat_flow_id *id, uint64_t ts_us,
			double out[FEAT_COUNT])
{
	const struct feat_host *f = lookup(h, id->family, id->src);
	uint32_t now;
	double ended;

	out[FEAT_HOST_FLOW_RATE_10S] = out[FEAT_HOST_FLOW_RATE_300S] = 0;
	out[FEAT_HOST_DST_ADDRS_10S] = out[FEAT_HOST_DST_ADDRS_300S] = 0;
	out[FEAT_HOST_DST_PORTS_10S] = out[FEAT_HOST_DST_PORTS_300S] = 0;
	out[FEAT_HOST_FAILED_RATIO_300S] = 0;
	out[FEAT_HOST_BYTES_RATE_10S] = out[FEAT_HOST_BYTES_RATE_300S] = 0;
	responder_context(h, id, ts_us, out);
	if (!f)
		return;
	now = stamp(h, ts_us);
	out[FEAT_HOST_FLOW_RATE_10S] = decay_at(&f->flows[0], ts_us, tau_s[0]) / tau_s[0];
	out[FEAT_HOST_FLOW_RATE_300S] = decay_at(&f->flows[1], ts_us, tau_s[1]) / tau_s[1];
	out[FEAT_HOST_DST_ADDRS_10S] = sketch_count(f->addr_seen, now, 100);
	out[FEAT_HOST_DST_ADDRS_300S] = sketch_count(f->addr_seen, now, 3000);
	out[FEAT_HOST_DST_PORTS_10S] = sketch_count(f->port_seen, now, 100);
	out[FEAT_HOST_DST_PORTS_300S] = sketch_count(f->port_seen, now, 3000);
	ended = decay_at(&f->ended, ts_us, tau_s[1]);
	out[FEAT_HOST_FAILED_RATIO_300S] = ended > 0 ? decay_at(&f->failed, ts_us, tau_s[1]) / ended : 0;
	out[FEAT_HOST_BYTES_RATE_10S] = decay_at(&f->bytes[0], ts_us, tau_s[0]) / tau_s[0];
	out[FEAT_HOST_BYTES_RATE_300S] = decay_at(&f->bytes[1], ts_us, tau_s[1]) / tau_s[1];
}
