/* evidence.c - sweeps, password guessing and random-address floods seen across flows (evidence.h). */
#include "score/evidence.h"

#include "common/assoc.h"
#include "common/distinct.h"
#include "features/features.h"
#include "flow/flow_csv.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WAYS 4
/* Sessions of one login pattern further apart than this start a new run:
 * password guessing keeps trying; a mail client polling every few minutes
 * is a new run each time. */
#define LOGIN_MAX_GAP_US (30ull * 1000000ull)
/* A login attempt is a short session; a long one is someone working. */
#define LOGIN_MAX_DURATION_US (60ull * 1000000ull)
/* Client bytes of the sessions: standard deviation at most this share of
 * the mean ("near-identical": the same dialogue with another password). */
#define LOGIN_MAX_SIZE_CV 0.5
#define SILENT_PROBE_MAX_PACKETS 10
/* Lone flows further apart than this end a burst. */
#define LONE_MAX_GAP_US (10ull * 1000000ull)

/* The identity of a pattern: who, to which service, where. */
struct pattern_key {
	uint8_t family, proto;
	uint16_t port;
	uint8_t src[16];
	uint8_t dst[16];                 /* sweep: the /24 (/120), last byte 0; login: the server */
};

/* What every tracked pattern starts with: the ways of a set are compared
 * and reused through it. */
struct pattern_head {
	struct pattern_key key;
	bool used;
	uint64_t first_us, last_us;
};

struct sweep {
	struct pattern_head h;
	uint32_t hosts;                  /* distinct silent hosts: set bits of seen */
	uint32_t probes;
	uint8_t seen[32];                /* one bit per last address byte */
};

struct login {
	struct pattern_head h;
	uint64_t last_start_us;
	uint32_t sessions;
	double bytes_sum, bytes_sq;
};

/* One burst of lone flows per address family. */
struct lone_burst {
	uint64_t first_us, last_us;
	uint32_t flows;
	uint8_t prefix[16];              /* common to every address seen in the burst */
	unsigned prefix_bits;
};

struct evidence {
	uint64_t window_us;
	uint32_t nsets;
	struct sweep *sweeps;
	struct login *logins;
	struct lone_burst lone[2];       /* IPv4, IPv6 */
};

struct evidence *evidence_new(uint64_t window_us, uint32_t max_keys)
{
	struct evidence *e = calloc(1, sizeof *e);
	uint32_t sets = assoc_sets(max_keys, WAYS);

	if (!e)
		return NULL;
	e->window_us = window_us;
	e->nsets = sets;
	e->sweeps = calloc((size_t)sets * WAYS, sizeof *e->sweeps);
	e->logins = calloc((size_t)sets * WAYS, sizeof *e->logins);
	if (!e->sweeps || !e->logins) {
		evidence_free(e);
		return NULL;
	}
	return e;
}

void evidence_free(struct evidence *e)
{
	if (!e)
		return;
	free(e->sweeps);
	free(e->logins);
	free(e);
}

static size_t addr_len(uint8_t family)
{
	return family == 6 ? 16 : 4;
}

static uint32_t set_index(const struct evidence *e, const struct pattern_key *k)
{
	return (uint32_t)(fnv1a(FNV1A_SEED, k, sizeof *k) & (e->nsets - 1)) * WAYS;
}

/* The way holding pattern k in the set at ways (each way `size` bytes,
 * starting with a pattern_head), or the stalest way of the set emptied for
 * it. A pattern quiet for longer than stale_us starts again from zero. */
static struct pattern_head *take_way(void *ways, size_t size, const struct pattern_key *k, uint64_t now_us,
				     uint64_t stale_us)
{
	struct pattern_head *h = NULL;

	for (int w = 0; w < WAYS && !h; w++) {
		struct pattern_head *x = (struct pattern_head *)((char *)ways + w * size);
		if (x->used && !memcmp(&x->key, k, sizeof *k))
			h = x;
	}
	if (h && now_us <= h->last_us + stale_us)
		return h;
	if (!h) { /* a free way, else the stalest (a stale h is reused in place) */
		h = ways;
		for (int w = 1; w < WAYS; w++) {
			struct pattern_head *x = (struct pattern_head *)((char *)ways + w * size);
			if (assoc_emptier(x->used, x->last_us, h->used, h->last_us))
				h = x;
		}
	}
	memset(h, 0, size);
	h->used = true;
	h->key = *k;
	h->first_us = h->last_us = now_us;
	return h;
}

/* The pattern's time span now covers rec. */
static void widen(struct pattern_head *h, const struct flow_record *rec)
{
	if (rec->first_us < h->first_us)
		h->first_us = rec->first_us;
	if (rec->last_us > h->last_us)
		h->last_us = rec->last_us;
}

/* Initiator, protocol, port and the first dst_bytes of the responder. */
static struct pattern_key key_of(const struct flow_record *rec, uint16_t port, size_t dst_bytes)
{
	struct pattern_key k;

	memset(&k, 0, sizeof k);
	k.family = rec->family;
	k.proto = rec->proto;
	k.port = port;
	memcpy(k.src, rec->src, addr_len(rec->family));
	memcpy(k.dst, rec->dst, dst_bytes);
	return k;
}

static const char *proto_name(uint8_t proto)
{
	return proto == 6 ? "TCP" : proto == 17 ? "UDP" : proto == 1 || proto == 58 ? "ICMP" : "IP";
}

/* "on UDP port 40125", "with ICMP", "with IP protocol 47" */
static void service_text(char *buf, size_t len, uint8_t proto, uint16_t port)
{
	if (proto == 6 || proto == 17 || proto == 132)
		snprintf(buf, len, "on %s port %u", proto == 132 ? "SCTP" : proto_name(proto), port);
	else if (proto == 1 || proto == 58)
		snprintf(buf, len, "with ICMP");
	else
		snprintf(buf, len, "with IP protocol %u", proto);
}

/* A pattern of rec's initiator: the attacker. */
static void found_by_initiator(struct evidence_finding *ret, const char *category, const struct flow_record *rec,
			       uint64_t flows, double strength)
{
	memset(ret, 0, sizeof *ret);
	ret->category = category;
	ret->role = "attacker";
	flow_csv_addr(rec->family, rec->src, ret->host, sizeof ret->host);
	ret->flows = flows;
	ret->strength = strength;
}

/* -- sweep: one initiator, one port, many silent hosts of one subnet ------ */

/* A few packets to a single host (a probe and its retries: nmap sends
 * each twice, and a second round to the same host joins the same flow). */
static bool small_unicast_probe(const struct flow_record *rec)
{
	return rec->packets[0] <= SILENT_PROBE_MAX_PACKETS && rec->feat[FEAT_DST_MULTICAST] == 0;
}

/* A probe that got nothing back. */
static bool silent_probe(const struct flow_record *rec)
{
	return small_unicast_probe(rec) && rec->packets[1] == 0;
}

/* A probe no service answered: silent, or for TCP a connection that
 * carried no data either way (refused with a reset, or opened and closed
 * empty, as a connect probe does). Live hosts of a swept subnet answer
 * like that; the sweep counts them with the silent ones. */
static bool unanswered_probe(const struct flow_record *rec)
{
	if (!small_unicast_probe(rec))
		return false;
	return rec->packets[1] == 0 || (rec->proto == 6 && rec->feat[FEAT_PAYLOAD_BYTES_FWD] == 0 &&
					rec->feat[FEAT_PAYLOAD_BYTES_BWD] == 0);
}

static bool observe_sweep(struct evidence *e, const struct flow_record *rec, struct evidence_finding *ret)
{
	size_t alen = addr_len(rec->family);
	uint8_t last = rec->dst[alen - 1];
	char net[REC_ADDR_MAX], svc[32];

	if (!unanswered_probe(rec))
		return false;
	/* ICMP echo flows carry the echo identifier as their port: a sweep
	 * may use a new one for every host. The subnet is the responder's
	 * address but its last byte. */
	struct pattern_key k = key_of(rec, rec->proto == 1 || rec->proto == 58 ? 0 : rec->dport, alen - 1);
	struct sweep *s = (struct sweep *)take_way(&e->sweeps[set_index(e, &k)], sizeof *s, &k, rec->last_us,
						   e->window_us);
	if (!(s->seen[last >> 3] & (1u << (last & 7)))) {
		s->seen[last >> 3] |= (uint8_t)(1u << (last & 7));
		s->hosts++;
	}
	s->probes++;
	widen(&s->h, rec);
	if (s->hosts < EVIDENCE_SWEEP_MIN_HOSTS)
		return false;
	flow_csv_addr(rec->family, k.dst, net, sizeof net);
	service_text(svc, sizeof svc, k.proto, k.port);
	found_by_initiator(ret, "sweep", rec, s->probes, (double)s->hosts / EVIDENCE_SWEEP_MIN_HOSTS);
	snprintf(ret->what, sizeof ret->what, "%s probed %u hosts of %s/%d %s in %.0f s (%u probes), no service answered",
		 ret->host, s->hosts, net, rec->family == 6 ? 120 : 24, svc,
		 (double)(s->h.last_us - s->h.first_us) / 1e6, s->probes);
	return true;
}

/* -- password guessing: many near-identical sessions to one login service - */

static bool observe_login(struct evidence *e, const struct flow_record *rec, struct evidence_finding *ret)
{
	char server[REC_ADDR_MAX];

	if (rec->proto != 6 || rec->feat[FEAT_RESP_PORT_LOGIN] == 0 || rec->packets[1] == 0 ||
	    rec->last_us - rec->first_us >= LOGIN_MAX_DURATION_US)
		return false;
	struct pattern_key k = key_of(rec, rec->dport, addr_len(rec->family));
	/* (a way reused for a new pattern, or after the window, is zeroed) */
	struct login *l = (struct login *)take_way(&e->logins[set_index(e, &k)], sizeof *l, &k, rec->first_us,
						   e->window_us);
	if (l->sessions && rec->first_us > l->last_start_us + LOGIN_MAX_GAP_US) {
		/* a pause: whatever came before was not one guessing run */
		l->sessions = 0;
		l->bytes_sum = l->bytes_sq = 0;
		l->h.first_us = rec->first_us;
	}
	l->sessions++;
	l->bytes_sum += (double)rec->bytes[0];
	l->bytes_sq += (double)rec->bytes[0] * (double)rec->bytes[0];
	if (rec->first_us > l->last_start_us)
		l->last_start_us = rec->first_us;
	widen(&l->h, rec);
	if (l->sessions < EVIDENCE_LOGIN_MIN_SESSIONS)
		return false;
	double mean = l->bytes_sum / l->sessions;
	double var = l->bytes_sq / l->sessions - mean * mean;
	if (mean <= 0 || sqrt(var > 0 ? var : 0) > LOGIN_MAX_SIZE_CV * mean)
		return false;
	flow_csv_addr(rec->family, rec->dst, server, sizeof server);
	found_by_initiator(ret, "brute_force", rec, l->sessions, (double)l->sessions / EVIDENCE_LOGIN_MIN_SESSIONS);
	snprintf(ret->what, sizeof ret->what,
		 "%s opened %u short sessions to the login service %s port %u in %.0f s, each about %.0f bytes "
		 "from the client — likely password guessing",
		 ret->host, l->sessions, server, rec->dport, (double)(l->h.last_us - l->h.first_us) / 1e6, mean);
	return true;
}

/* -- random-address flood: unanswered flows between never-seen hosts ------ */

/* The initiator started no other flow in the last minutes, and the
 * responder heard from nobody else: both addresses are new to the network.
 * (host_flow_rate_300s is a count decayed over 300 s, divided by 300.) */
static bool lone_flow(const struct flow_record *rec)
{
	return silent_probe(rec) && rec->feat[FEAT_HOST_FLOW_RATE_300S] * 300.0 <= 1.5 &&
	       rec->feat[FEAT_DST_SRC_ADDRS_300S] <= 1.5;
}

/* Keep the bits of prefix that addr shares. */
static void narrow_prefix(struct lone_burst *b, const uint8_t *addr)
{
	unsigned bits = 0;

	while (bits < b->prefix_bits && !((b->prefix[bits >> 3] ^ addr[bits >> 3]) & (0x80u >> (bits & 7))))
		bits++;
	b->prefix_bits = bits;
}

static void prefix_text(const struct lone_burst *b, uint8_t family, char *buf, size_t len)
{
	uint8_t a[16] = { 0 };
	char addr[REC_ADDR_MAX];

	for (unsigned i = 0; i < b->prefix_bits; i++)
		a[i >> 3] |= (uint8_t)(b->prefix[i >> 3] & (0x80u >> (i & 7)));
	flow_csv_addr(family, a, addr, sizeof addr);
	snprintf(buf, len, "%s/%u", addr, b->prefix_bits);
}

static bool observe_lone(struct evidence *e, const struct flow_record *rec, struct evidence_finding *ret)
{
	struct lone_burst *b = &e->lone[rec->family == 6];
	uint64_t t = rec->last_us;

	if (!lone_flow(rec))
		return false;
	if (b->flows && (t > b->last_us + LONE_MAX_GAP_US || t + LONE_MAX_GAP_US < b->first_us))
		b->flows = 0;
	if (!b->flows) {
		b->first_us = b->last_us = t;
		memcpy(b->prefix, rec->src, addr_len(rec->family));
		b->prefix_bits = (unsigned)addr_len(rec->family) * 8;
	}
	b->flows++;
	narrow_prefix(b, rec->src);
	narrow_prefix(b, rec->dst);
	if (t < b->first_us)
		b->first_us = t;
	if (t > b->last_us)
		b->last_us = t;
	if (b->flows < EVIDENCE_LONE_MIN_FLOWS)
		return false;
	memset(ret, 0, sizeof *ret);
	ret->category = "flood";
	ret->role = "network";
	prefix_text(b, rec->family, ret->host, sizeof ret->host);
	ret->flows = b->flows;
	ret->strength = (double)b->flows / EVIDENCE_LONE_MIN_FLOWS;
	snprintf(ret->what, sizeof ret->what,
		 "%u unanswered %s flows in %.2f s, each between two addresses never seen before (within %s) — "
		 "a random-address flood, as macof's switch MAC-table flood makes",
		 b->flows, proto_name(rec->proto), (double)(b->last_us - b->first_us) / 1e6, ret->host);
	return true;
}

bool evidence_observe(struct evidence *e, const struct flow_record *rec, struct evidence_finding *ret)
{
	if (rec->family != 4 && rec->family != 6)
		return false;
	/* lone flows first: a burst of them is one flood, not many one-host sweeps */
	return observe_lone(e, rec, ret) || observe_sweep(e, rec, ret) || observe_login(e, rec, ret);
}
