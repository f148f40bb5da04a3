/* host_context.c - decayed per-host counters and distinct-peer sketches (host_context.h). */
#include "features/host_context.h"

#include "features/feat_compute.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
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
	/* calloc keeps untouched hosts out of the resident set; the hosts
	 * start on a cache line, so a way's counters are one line away from
	 * its address and a new host clears whole lines */
	h->hosts_mem = calloc((size_t)sets * FEAT_HOST_WAYS * sizeof *h->hosts + _Alignof(struct feat_host), 1);
	if (h->hosts_mem)
		h->hosts = (struct feat_host *)(((uintptr_t)h->hosts_mem + _Alignof(struct feat_host) - 1) &
						~(uintptr_t)(_Alignof(struct feat_host) - 1));
	/* two pair cells per host: a host talks to a few services at a time */
	h->npairs = sets * FEAT_HOST_WAYS * 2;
	h->pairs = calloc((size_t)h->npairs * FEAT_PAIR_ROWS, sizeof *h->pairs);
	if (!h->hosts || !h->pairs) {
		feat_hosts_release(h);
		return -ENOMEM;
	}
	h->nsets = sets;
	/* With z of m slots empty, about m ln(m/z) distinct keys were seen
	 * (linear counting); all m used reads as half a slot empty. Rounded,
	 * since a count of distinct peers is a whole number. */
	for (int used = 0; used <= FEAT_HOST_SLOTS; used++) {
		double m = FEAT_HOST_SLOTS, z = used < FEAT_HOST_SLOTS ? (double)(FEAT_HOST_SLOTS - used) : 0.5;

		h->distinct[used] = round(m * log(m / z));
	}
	return 0;
}

void feat_hosts_release(struct feat_hosts *h)
{
	free(h->hosts_mem);
	free(h->pairs);
	h->hosts_mem = NULL;
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


/* The way a new host takes: the set's emptiest or least recently touched. */
static struct feat_host *victim_in(struct feat_host *set)
{
	struct feat_host *victim = &set[0];

	for (int w = 0; w < FEAT_HOST_WAYS && victim->family; w++)
		if (!set[w].family || set[w].touch_us < victim->touch_us)
			victim = &set[w];
	return victim;
}

/* Find the host or give it a way. */
static struct feat_host *get(struct feat_hosts *h, uint8_t family, const uint8_t *a, uint64_t ts_us)
{
	struct feat_host *set = set_of(h, family, a), *f = find_in(set, family, a), *victim;

	if (!f) {
		victim = victim_in(set);
		if (victim->family)
			h->replaced++;
		/* the sketch slots stay: their stamped bits are cleared */
		memset(victim, 0, offsetof(struct feat_host, seen));
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

/* What a counter last updated at from_us keeps at t_us: never more than
 * all of it (a reordered packet does not inflate a counter). Counters
 * updated together share one factor, and exp() runs once for them. */
static double decay_factor(uint64_t from_us, uint64_t t_us, double tau)
{
	if (t_us <= from_us)
		return 1;
	return exp(-(double)(t_us - from_us) / 1e6 / tau);
}

/* A counter that is still zero needs no exp(): zero times any factor is zero. */
static double decay_at(const struct feat_decay *d, uint64_t t_us, double tau)
{
	if (d->v == 0)
		return d->v;
	return d->v * decay_factor(d->t_us, t_us, tau);
}

static void decay_set(struct feat_decay *d, double decayed, double x, uint64_t t_us)
{
	d->v = decayed + x;
	if (t_us > d->t_us)
		d->t_us = t_us;
}

static void decay_add(struct feat_decay *d, double x, uint64_t t_us, double tau)
{
	decay_set(d, decay_at(d, t_us, tau), x, t_us);
}

static uint32_t stamp(const struct feat_hosts *h, uint64_t ts_us)
{
	uint64_t ds = ts_us > h->base_us ? (ts_us - h->base_us) / DS_US : 0;

	return ds >= UINT32_MAX - 1 ? UINT32_MAX : (uint32_t)ds + 1;
}

/* Stamp the slot of key (now >= 1; a slot only moves forward). */
static void sketch_add(struct feat_host *f, int which, uint64_t key, uint32_t now)
{
	unsigned i = (unsigned)(mix(key) % FEAT_HOST_SLOTS);
	uint32_t *s = &f->seen[which].slot[i];
	uint64_t bit = (uint64_t)1 << i;

	if (!(f->stamped[which] & bit)) {
		f->stamped[which] |= bit;
		*s = now;
	} else if (now > *s) {
		*s = now;
	}
}

/* Distinct keys in the last 10 s and 300 s (deciseconds): linear counting
 * over the slots stamped within each window, both in one pass. */
static void sketch_count(const struct feat_hosts *h, const struct feat_host *f, int which, uint32_t now,
			 double *ret_10s, double *ret_300s)
{
	const uint32_t *slot = f->seen[which].slot;
	uint64_t stamped = f->stamped[which];
	uint32_t from10 = now > 100 ? now - 100 : 1, from300 = now > 3000 ? now - 3000 : 1;
	unsigned used10 = 0, used300 = 0;

	/* only the stamped slots: most hosts have a few, and the others'
	 * lines are not read */
	for (; stamped; stamped &= stamped - 1) {
		uint32_t t = slot[__builtin_ctzll(stamped)];

		used10 += t >= from10;
		used300 += t >= from300;
	}
	*ret_10s = h->distinct[used10];
	*ret_300s = h->distinct[used300];
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

void feat_hosts_prefetch(const struct feat_hosts *h, uint8_t family, uint8_t proto, const uint8_t *src,
			 const uint8_t *dst, uint16_t dport)
{
	const struct feat_host *s = set_of(h, family, src), *d = set_of(h, family, dst);
	uint64_t pk = pair_key(family, proto, src, dst, has_ports(proto) ? dport : 0);

	for (int w = 0; w < FEAT_HOST_WAYS; w++) {
		__builtin_prefetch(&s[w], 1);
		__builtin_prefetch(&d[w], 1);
	}
	for (int row = 0; row < FEAT_PAIR_ROWS; row++)
		__builtin_prefetch(pair_cell(h, row, pk), 1);
}

/* A host's way (or the one it would take) beyond its first line: the
 * counters in lines 1 and 2. A macro, not a function: GCC 12 drops calls
 * to functions that do nothing but prefetch. */
#define PREFETCH_COUNTERS(f)                                      \
	do {                                                      \
		__builtin_prefetch((const char *)(f) + 64, 1);     \
		__builtin_prefetch((const char *)(f) + 128, 1);    \
	} while (0)

/* The sketch line holding key's slot. */
#define PREFETCH_SLOT(f, which, key) \
	__builtin_prefetch(&(f)->seen[which].slot[mix(key) % FEAT_HOST_SLOTS], 1)

/* The sketch lines holding stamped slots (16 slots per line). */
#define PREFETCH_STAMPED(f, which)                                                     \
	do {                                                                           \
		for (int l_ = 0; l_ < FEAT_HOST_SLOTS; l_ += 16)                       \
			if (((f)->stamped[which] >> l_) & 0xffff)                      \
				__builtin_prefetch(&(f)->seen[which].slot[l_]);       \
	} while (0)

void feat_hosts_prefetch_start(const struct feat_hosts *h, uint8_t family, uint8_t proto, const uint8_t *src,
			       const uint8_t *dst, uint16_t dport)
{
	struct feat_host *s = set_of(h, family, src), *d = set_of(h, family, dst);
	struct feat_host *f = find_in(s, family, src), *r = find_in(d, family, dst);

	if (!f)
		f = victim_in(s);
	PREFETCH_COUNTERS(f);
	PREFETCH_SLOT(f, FEAT_SEEN_ADDR, addr_hash(family, dst));
	if (has_ports(proto))
		PREFETCH_SLOT(f, FEAT_SEEN_PORT, dport);
	if (!r)
		r = victim_in(d);
	PREFETCH_COUNTERS(r);
	PREFETCH_SLOT(r, FEAT_SEEN_SRC, addr_hash(family, src));
}

void feat_hosts_prefetch_end(const struct feat_hosts *h, uint8_t family, const uint8_t *src, const uint8_t *dst)
{
	struct feat_host *s = set_of(h, family, src), *f = find_in(s, family, src);
	const struct feat_host *r = lookup(h, family, dst);

	if (f) {
		PREFETCH_COUNTERS(f);
		PREFETCH_STAMPED(f, FEAT_SEEN_ADDR);
		PREFETCH_STAMPED(f, FEAT_SEEN_PORT);
	} else {
		PREFETCH_COUNTERS(victim_in(s));
	}
	if (r) {
		PREFETCH_COUNTERS(r);
		PREFETCH_STAMPED(r, FEAT_SEEN_SRC);
	}
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
	sketch_add(f, FEAT_SEEN_ADDR, addr_hash(family, dst), now);
	if (has_ports(proto))
		sketch_add(f, FEAT_SEEN_PORT, dport, now);
	for (int row = 0; row < FEAT_PAIR_ROWS; row++) {
		struct feat_pair_cell *c = pair_cell(h, row, pk);

		for (int w = 0; w < 2; w++)
			decay_add(&c->flows[w], 1, ts_us, tau_s[w]);
	}
	/* after the initiator: taking the responder's way must not evict it */
	r = get(h, family, dst, ts_us);
	decay_add(&r->in_flows, 1, ts_us, tau_s[0]);
	sketch_add(r, FEAT_SEEN_SRC, addr_hash(family, src), now);
}

void feat_hosts_flow_end(struct feat_hosts *h, uint8_t family, const uint8_t *src, uint64_t bytes_sent,
			 bool failed, uint64_t ts_us)
{
	struct feat_host *f = get(h, family, src, ts_us);
	/* bytes[1], ended and failed change together: one factor */
	double k300 = decay_factor(f->ended.t_us, ts_us, tau_s[1]);

	decay_add(&f->bytes[0], (double)bytes_sent, ts_us, tau_s[0]);
	decay_set(&f->bytes[1], f->bytes[1].v * k300, (double)bytes_sent, ts_us);
	decay_set(&f->ended, f->ended.v * k300, 1, ts_us);
	decay_set(&f->failed, f->failed.v * k300, failed, ts_us);
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
	if (r)
		sketch_count(h, r, FEAT_SEEN_SRC, now, &out[FEAT_DST_SRC_ADDRS_10S], &out[FEAT_DST_SRC_ADDRS_300S]);
	else
		out[FEAT_DST_SRC_ADDRS_10S] = out[FEAT_DST_SRC_ADDRS_300S] = 0;
	out[FEAT_PAIR_FLOWS_10S] = pair_flows(h, id, ts_us, 0);
	out[FEAT_PAIR_FLOWS_300S] = pair_flows(h, id, ts_us, 1);
}

void feat_hosts_context(const struct feat_hosts *h, const struct feat_flow_id *id, uint64_t ts_us,
			double out[FEAT_COUNT])
{
	const struct feat_host *f = lookup(h, id->family, id->src);
	uint32_t now;
	double ended, k300;

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
	sketch_count(h, f, FEAT_SEEN_ADDR, now, &out[FEAT_HOST_DST_ADDRS_10S], &out[FEAT_HOST_DST_ADDRS_300S]);
	sketch_count(h, f, FEAT_SEEN_PORT, now, &out[FEAT_HOST_DST_PORTS_10S], &out[FEAT_HOST_DST_PORTS_300S]);
	/* ended, failed and bytes[1] were last updated together */
	k300 = decay_factor(f->ended.t_us, ts_us, tau_s[1]);
	ended = f->ended.v * k300;
	out[FEAT_HOST_FAILED_RATIO_300S] = ended > 0 ? f->failed.v * k300 / ended : 0;
	out[FEAT_HOST_BYTES_RATE_10S] = decay_at(&f->bytes[0], ts_us, tau_s[0]) / tau_s[0];
	out[FEAT_HOST_BYTES_RATE_300S] = f->bytes[1].v * k300 / tau_s[1];
}
