/* incident.c - bounded table of open incidents keyed by (host, role, category). */
#include "score/incident.h"

#include "common/distinct.h"
#include "score/evidence.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Distinct peers and ports: linear counting over a fixed bitmap. */
#define DISTINCT_BITS 4096

struct distinct {
	uint8_t bits[DISTINCT_BITS / 8];
	uint32_t set;
};

struct incident {
	bool open;
	bool shown;                     /* reached level low: OPENED was emitted */
	struct rec_incident rec;
	uint64_t last_anomaly_us;
	uint64_t next_update_at;        /* anomaly count at which UPDATED is sent next */
	/* The peer and port the summary names, by Boyer and Moore's majority
	 * vote (one candidate and a counter): the pair most of the incident's
	 * flows went to whenever one pair has a strict majority, otherwise
	 * whichever candidate survived; not simply the first, since a host's
	 * first anomalous flow may go elsewhere than the hundred that follow. */
	char peer[REC_ADDR_MAX];
	uint16_t peer_port;
	uint32_t peer_votes;
	struct distinct peers, ports;
	/* what a pattern across flows showed (evidence.h), when one did */
	double evidence_score;
	uint64_t evidence_flows;
	char evidence_what[224];
};

struct incident_table {
	struct incident_options opt;
	incident_emit_fn emit;
	void *user;
	struct incident *slots;
	size_t nslots;
	uint64_t opened_by_level[5];
	uint64_t seq;
	struct evidence *evidence;
	struct arp_sweep *arp;
	struct arp_spoof *spoof;
};

static uint64_t hash_str(uint64_t h, const char *s)
{
	return fnv1a(h, s, strlen(s));
}

static void distinct_add(struct distinct *d, const char *key)
{
	distinct_mark(d->bits, DISTINCT_BITS, &d->set, hash_str(FNV1A_SEED, key));
}

enum rec_level incident_level_of(const double thresholds[5], double score)
{
	for (int l = REC_LEVEL_CRITICAL; l >= REC_LEVEL_LOW; l--)
		if (score >= thresholds[l])
			return (enum rec_level)l;
	return REC_LEVEL_NONE;
}

/* Floods and reflection come from many (spoofed) sources at one target, so
 * the incident belongs to the victim; everything else to the initiator. */
static bool keyed_by_victim(const char *category)
{
	return !strcmp(category, "flood");
}

struct incident_table *incident_table_new(const struct incident_options *opt, incident_emit_fn emit, void *user)
{
	struct incident_table *t = calloc(1, sizeof *t);

	if (!t)
		return NULL;
	t->opt = *opt;
	if (t->opt.max_open == 0)
		t->opt.max_open = 1024;
	t->nslots = t->opt.max_open;
	t->slots = calloc(t->nslots, sizeof *t->slots);
	if (!t->slots) {
		free(t);
		return NULL;
	}
	t->evidence = evidence_new(t->opt.window_us, 4096);
	t->arp = arp_sweep_new(t->opt.window_us, 1024);
	t->spoof = arp_spoof_new(t->opt.window_us, 1024);
	if (!t->evidence || !t->arp || !t->spoof) {
		incident_table_free(t);
		return NULL;
	}
	t->emit = emit;
	t->user = user;
	return t;
}

void incident_table_free(struct incident_table *t)
{
	if (!t)
		return;
	evidence_free(t->evidence);
	arp_sweep_free(t->arp);
	arp_spoof_free(t->spoof);
	free(t->slots);
	free(t);
}

static void format_count(char *buf, size_t len, uint64_t n, const char *one, const char *many)
{
	snprintf(buf, len, "%llu %s", (unsigned long long)n, n == 1 ? one : many);
}

static void build_summary(struct incident *inc)
{
	struct rec_incident *r = &inc->rec;
	char flows[48], peers[48], ports[48];

	format_count(flows, sizeof flows, r->anomalies, "anomalous flow", "anomalous flows");
	format_count(peers, sizeof peers, r->distinct_peers, "host", "hosts");
	format_count(ports, sizeof ports, r->distinct_ports, "port", "ports");
	if (inc->evidence_what[0])
		/* the pattern is the story: its flows need not be unusual one by one */
		snprintf(r->summary, sizeof r->summary, "%s", inc->evidence_what);
	else if (!strcmp(r->category, "scan"))
		snprintf(r->summary, sizeof r->summary, "%s probed %s on %s (e.g. %s) — %s",
			 r->host, ports, peers, inc->peer, flows);
	else if (!strcmp(r->category, "sweep"))
		snprintf(r->summary, sizeof r->summary, "%s swept %s (e.g. %s) on %s — %s",
			 r->host, peers, inc->peer, ports, flows);
	else if (!strcmp(r->category, "flood") && r->distinct_peers == 1)
		/* one source: name it, it is the one to block */
		snprintf(r->summary, sizeof r->summary, "%s was flooded by %s on %s — %s",
			 r->host, inc->peer, ports, flows);
	else if (!strcmp(r->category, "flood"))
		snprintf(r->summary, sizeof r->summary, "%s was flooded from %s on %s — %s",
			 r->host, peers, ports, flows);
	else if (!strcmp(r->category, "brute_force"))
		snprintf(r->summary, sizeof r->summary,
			 "%s made repeated short connections to %s port %u (%s) — likely password guessing",
			 r->host, inc->peer, inc->peer_port, flows);
	else if (!strcmp(r->category, "dns_tunnel"))
		snprintf(r->summary, sizeof r->summary,
			 "%s sent unusual DNS queries to %s (%s) — possible DNS tunnelling", r->host, inc->peer, flows);
	else if (!strcmp(r->category, "exfiltration"))
		snprintf(r->summary, sizeof r->summary, "%s sent unusually much data to %s (%s)",
			 r->host, inc->peer, flows);
	else if (!strcmp(r->category, "p2p"))
		snprintf(r->summary, sizeof r->summary,
			 "%s exchanged small UDP messages with %s, each on its own port — peer-to-peer traffic (%s)",
			 r->host, peers, flows);
	else if (!strcmp(r->category, "dns"))
		snprintf(r->summary, sizeof r->summary, "%s made unusual DNS lookups to %s (%s)", r->host, inc->peer,
			 flows);
	else if (!strcmp(r->category, "beaconing"))
		snprintf(r->summary, sizeof r->summary,
			 "%s polled %s (%s) — possible command-and-control beaconing", r->host, inc->peer,
			 flows);
	else
		snprintf(r->summary, sizeof r->summary, "%s: unusual traffic with %s on %s (%s)", r->host,
			 peers, ports, flows);
}

static void emit(struct incident_table *t, struct incident *inc, enum rec_incident_event ev)
{
	inc->rec.event = (uint8_t)ev;
	inc->rec.distinct_peers = distinct_estimate(DISTINCT_BITS, inc->peers.set);
	inc->rec.distinct_ports = distinct_estimate(DISTINCT_BITS, inc->ports.set);
	build_summary(inc);
	if (t->emit)
		t->emit(&inc->rec, t->user);
}

static void close_incident(struct incident_table *t, struct incident *inc)
{
	/* an incident of suspicious flows that never reached low was never
	 * shown, so there is nothing to close for anyone */
	if (inc->shown)
		emit(t, inc, REC_INCIDENT_CLOSED);
	inc->open = false;
}

void incident_table_tick(struct incident_table *t, uint64_t now_us)
{
	for (size_t i = 0; i < t->nslots; i++) {
		struct incident *inc = &t->slots[i];
		if (inc->open && now_us > inc->last_anomaly_us + t->opt.window_us)
			close_incident(t, inc);
	}
}

void incident_table_close_all(struct incident_table *t)
{
	for (size_t i = 0; i < t->nslots; i++)
		if (t->slots[i].open)
			close_incident(t, &t->slots[i]);
}

void incident_table_counts(const struct incident_table *t, uint64_t ret_by_level[5])
{
	memcpy(ret_by_level, t->opened_by_level, sizeof t->opened_by_level);
}

static struct incident *find(struct incident_table *t, const char *host, const char *category)
{
	for (size_t i = 0; i < t->nslots; i++) {
		struct incident *inc = &t->slots[i];
		if (inc->open && !strcmp(inc->rec.host, host) && !strcmp(inc->rec.category, category))
			return inc;
	}
	return NULL;
}

/* A free slot, or the stalest open incident closed to make room. */
static struct incident *take_slot(struct incident_table *t)
{
	struct incident *stalest = NULL;

	for (size_t i = 0; i < t->nslots; i++) {
		struct incident *inc = &t->slots[i];
		if (!inc->open)
			return inc;
		if (!stalest || inc->last_anomaly_us < stalest->last_anomaly_us)
			stalest = inc;
	}
	close_incident(t, stalest);
	return stalest;
}

/* Categories that benign applications produce in the ordinary course
 * (peer-to-peer fan-out, repeated or failed DNS lookups): their incidents
 * are shown, but stay below medium -- the alert levels -- unless they hold
 * at least this many flows. */
#define NOISY_CATEGORY_MIN_FLOWS 256

static bool noisy_category(const char *category)
{
	return !strcmp(category, "p2p") || !strcmp(category, "dns");
}

static double incident_score(const struct incident_table *t, const struct incident *inc)
{
	/* The strongest flow sets the base; every doubling of the number of
	 * anomalous flows adds 3 points, so 1000 scan probes at 70 reach ~100
	 * while a lone flow stays at its own score. */
	double s = inc->rec.max_anomaly_score + 3.0 * log2((double)inc->rec.anomalies);
	double medium = t->opt.level_thresholds[REC_LEVEL_MEDIUM];

	if (noisy_category(inc->rec.category) && inc->rec.anomalies < NOISY_CATEGORY_MIN_FLOWS && s >= medium)
		s = nextafter(medium, 0.0);
	if (inc->evidence_score > s)
		s = inc->evidence_score;
	return s > 100.0 ? 100.0 : s;
}

/* Add flow a to the incident of (host, a->category), opening it if needed;
 * ev, when not NULL, is the pattern across flows that a completes. */
static void add_flow(struct incident_table *t, struct rec_anomaly *a, const char *host, const char *role,
		     const char *peer, const struct evidence_finding *ev)
{
	struct incident *inc;
	char port[8];
	uint8_t old_level;

	incident_table_tick(t, a->last_ts_us);
	inc = find(t, host, a->category);
	if (!inc) {
		inc = take_slot(t);
		memset(inc, 0, sizeof *inc);
		inc->open = true;
		snprintf(inc->rec.host, sizeof inc->rec.host, "%s", host);
		snprintf(inc->rec.role, sizeof inc->rec.role, "%s", role);
		snprintf(inc->rec.category, sizeof inc->rec.category, "%s", a->category);
		snprintf(inc->peer, sizeof inc->peer, "%s", peer);
		inc->peer_port = a->dport;
		inc->rec.first_ts_us = a->first_ts_us;
		uint64_t h = hash_str(hash_str(FNV1A_SEED, host), a->category);
		h ^= a->first_ts_us * 0x9e3779b97f4a7c15ull;
		snprintf(inc->rec.uid, sizeof inc->rec.uid, "inc-%016llx", (unsigned long long)h);
		inc->next_update_at = 2;
	}
	old_level = inc->rec.level;
	inc->rec.anomalies++;
	if (a->score > inc->rec.max_anomaly_score)
		inc->rec.max_anomaly_score = a->score;
	if (a->first_ts_us < inc->rec.first_ts_us)
		inc->rec.first_ts_us = a->first_ts_us;
	if (a->last_ts_us > inc->rec.last_ts_us)
		inc->rec.last_ts_us = a->last_ts_us;
	inc->last_anomaly_us = inc->rec.last_ts_us;
	if (!strcmp(inc->peer, peer) && inc->peer_port == a->dport) {
		inc->peer_votes++;
	} else if (!inc->peer_votes) {
		snprintf(inc->peer, sizeof inc->peer, "%s", peer);
		inc->peer_port = a->dport;
		inc->peer_votes = 1;
	} else {
		inc->peer_votes--;
	}
	distinct_add(&inc->peers, peer);
	snprintf(port, sizeof port, "%u", a->dport);
	distinct_add(&inc->ports, port);
	if (ev) {
		/* The pattern's own weight: at its minimum it is worth looking
		 * at (level medium); each doubling beyond adds 3 points, as a
		 * doubling of anomalous flows does. Its flows count as the
		 * incident's even though most joined nothing on their own. */
		double s = t->opt.level_thresholds[REC_LEVEL_MEDIUM] + 3.0 * log2(ev->strength);
		if (s > inc->evidence_score)
			inc->evidence_score = s;
		if (ev->flows > inc->evidence_flows)
			inc->evidence_flows = ev->flows;
		if (inc->evidence_flows > inc->rec.anomalies)
			inc->rec.anomalies = inc->evidence_flows;
		snprintf(inc->evidence_what, sizeof inc->evidence_what, "%s", ev->what);
	}
	inc->rec.score = incident_score(t, inc);
	inc->rec.level = (uint8_t)incident_level_of(t->opt.level_thresholds, inc->rec.score);
	/* The explanation of the strongest flow speaks for the incident. */
	if (a->score >= inc->rec.max_anomaly_score)
		snprintf(inc->rec.explanation, sizeof inc->rec.explanation, "%s", a->explanation);
	if (ev && !inc->rec.explanation[0])
		snprintf(inc->rec.explanation, sizeof inc->rec.explanation,
			 "no flow stands out on its own (the most unusual scores %.0f); the pattern across flows "
			 "is the evidence",
			 inc->rec.max_anomaly_score);
	snprintf(a->incident_uid, sizeof a->incident_uid, "%s", inc->rec.uid);

	if (inc->rec.level == REC_LEVEL_NONE)
		return; /* suspicious flows only, so far: keep counting quietly */
	if (!inc->shown) {
		inc->shown = true;
		t->opened_by_level[inc->rec.level]++;
		while (inc->next_update_at <= inc->rec.anomalies)
			inc->next_update_at *= 2;
		emit(t, inc, REC_INCIDENT_OPENED);
	} else if (inc->rec.level > old_level || inc->rec.anomalies >= inc->next_update_at) {
		if (inc->rec.level > old_level) {
			t->opened_by_level[old_level]--;
			t->opened_by_level[inc->rec.level]++;
		}
		while (inc->next_update_at <= inc->rec.anomalies)
			inc->next_update_at *= 2;
		emit(t, inc, REC_INCIDENT_UPDATED);
	}
}

void incident_table_add(struct incident_table *t, struct rec_anomaly *a)
{
	bool victim = keyed_by_victim(a->category);

	add_flow(t, a, victim ? a->dst : a->src, victim ? "victim" : "attacker", victim ? a->src : a->dst, NULL);
}

bool incident_table_observe(struct incident_table *t, const struct flow_record *rec,
			    struct evidence_finding *ret)
{
	return evidence_observe(t->evidence, rec, ret);
}

unsigned incident_table_observe_arp(struct incident_table *t, const struct dec_packet *p,
				    struct arp_finding ret[2])
{
	unsigned n = arp_sweep_observe(t->arp, p, &ret[0]);

	return n + arp_spoof_observe(t->spoof, p, &ret[n]);
}

void incident_table_add_evidence(struct incident_table *t, struct rec_anomaly *a, const struct evidence_finding *ev)
{
	snprintf(a->category, sizeof a->category, "%s", ev->category);
	add_flow(t, a, ev->host, ev->role, a->dst, ev);
}
