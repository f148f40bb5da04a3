/* arp_sweep.c - who-has for many silent addresses of one /24 (arp_sweep.h). */
#include "score/arp_sweep.h"

#include "common/assoc.h"
#include "common/distinct.h"
#include "flow/flow_csv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WAYS 4
/* /24s whose answers are remembered, per set of senders: a home LAN has one
 * or a few, so a sixteenth of the sender slots is plenty. */
#define SENDERS_PER_SUBNET 16

/* One /24 on one VLAN; the last address byte is not part of it. No
 * padding (keys are hashed and compared as bytes). */
struct net24 {
	uint16_t vlan;
	uint8_t net[3];
	uint8_t zero;
};

/* Who asks for which /24: 16 bytes, no padding. */
struct sender_key {
	struct net24 where;
	uint8_t ip[4];
	uint8_t mac[6];
};
_Static_assert(sizeof(struct sender_key) == 16, "sender_key must have no padding");

struct sender {
	struct sender_key key;
	bool used;
	uint64_t first_us, last_us;
	uint32_t requests;
	uint32_t asked;                  /* distinct addresses asked for: set bits of asked_bits */
	uint8_t asked_bits[32];          /* one bit per last address byte */
};

/* When each address of a /24 last showed itself in ARP, for "answered". */
struct subnet {
	struct net24 key;
	bool used;
	uint64_t last_us;
	uint32_t seen_s[256];            /* packet time in seconds + 1; 0: never */
};

struct arp_sweep {
	uint64_t window_us;
	uint32_t sender_sets, subnet_sets;
	struct sender *senders;
	struct subnet *subnets;
};

struct arp_sweep *arp_sweep_new(uint64_t window_us, uint32_t max_senders)
{
	struct arp_sweep *s = calloc(1, sizeof *s);
	uint32_t sets = assoc_sets(max_senders, WAYS);

	if (!s)
		return NULL;
	s->window_us = window_us;
	s->sender_sets = sets;
	s->subnet_sets = sets > SENDERS_PER_SUBNET ? sets / SENDERS_PER_SUBNET : 1;
	s->senders = calloc((size_t)s->sender_sets * WAYS, sizeof *s->senders);
	s->subnets = calloc((size_t)s->subnet_sets * WAYS, sizeof *s->subnets);
	if (!s->senders || !s->subnets) {
		arp_sweep_free(s);
		return NULL;
	}
	return s;
}

void arp_sweep_free(struct arp_sweep *s)
{
	if (!s)
		return;
	free(s->senders);
	free(s->subnets);
	free(s);
}

static struct net24 net24_of(uint16_t vlan, const uint8_t ip[4])
{
	struct net24 n;

	memset(&n, 0, sizeof n);
	n.vlan = vlan;
	memcpy(n.net, ip, 3);
	return n;
}

static uint32_t seconds_of(uint64_t us)
{
	return (uint32_t)(us / 1000000u) + 1;
}

/* The subnet entry of n, or NULL; with make, the stalest way of its set is
 * emptied for it when it has none. */
static struct subnet *subnet_get(struct arp_sweep *s, const struct net24 *n, uint64_t now_us, bool make)
{
	struct subnet *set = &s->subnets[(fnv1a(FNV1A_SEED, n, sizeof *n) & (s->subnet_sets - 1)) * WAYS];
	struct subnet *victim = &set[0];

	for (int w = 0; w < WAYS; w++) {
		if (set[w].used && !memcmp(&set[w].key, n, sizeof *n))
			return &set[w];
		if (assoc_emptier(set[w].used, set[w].last_us, victim->used, victim->last_us))
			victim = &set[w];
	}
	if (!make)
		return NULL;
	memset(victim, 0, sizeof *victim);
	victim->used = true;
	victim->key = *n;
	victim->last_us = now_us;
	return victim;
}

/* ip showed itself in ARP at now_us: it is alive, so asking for it is answered. */
static void mark_alive(struct arp_sweep *s, uint16_t vlan, const uint8_t ip[4], uint64_t now_us)
{
	struct net24 n = net24_of(vlan, ip);
	struct subnet *sn = subnet_get(s, &n, now_us, true);

	sn->seen_s[ip[3]] = seconds_of(now_us);
	if (now_us > sn->last_us)
		sn->last_us = now_us;
}

/* The sender entry of k, reset when it has been quiet for the window; a
 * new one takes a free way or the stalest one. */
static struct sender *sender_get(struct arp_sweep *s, const struct sender_key *k, uint64_t now_us)
{
	struct sender *set = &s->senders[(fnv1a(FNV1A_SEED, k, sizeof *k) & (s->sender_sets - 1)) * WAYS];
	struct sender *victim = &set[0];

	for (int w = 0; w < WAYS; w++) {
		struct sender *x = &set[w];
		if (x->used && !memcmp(&x->key, k, sizeof *k)) {
			if (now_us <= x->last_us + s->window_us)
				return x;
			victim = x;
			break;
		}
		if (assoc_emptier(x->used, x->last_us, victim->used, victim->last_us))
			victim = x;
	}
	memset(victim, 0, sizeof *victim);
	victim->used = true;
	victim->key = *k;
	victim->first_us = victim->last_us = now_us;
	return victim;
}

/* Addresses the sender asked for, but skip (-1: none), that have not
 * shown themselves within the window before now_us. */
static uint32_t unanswered(const struct arp_sweep *s, const struct sender *x, const struct subnet *sn, int skip,
			   uint64_t now_us)
{
	uint32_t window_s = (uint32_t)(s->window_us / 1000000u), now_s = seconds_of(now_us), n = 0;

	for (int a = 0; a < 256; a++) {
		if (a == skip || !(x->asked_bits[a >> 3] & (1u << (a & 7))))
			continue;
		uint32_t seen = sn ? sn->seen_s[a] : 0;
		if (!seen || seen + window_s < now_s)
			n++;
	}
	return n;
}


bool arp_sweep_observe(struct arp_sweep *s, const struct dec_packet *p, struct arp_finding *ret)
{
	const struct dec_arp *a = &p->arp;
	struct sender_key k;

	if (p->l3 != DEC_L3_ARP || arp_addr_is_none(a->spa))
		return false; /* an ARP probe (RFC 5227) claims nothing yet */
	mark_alive(s, p->vlan, a->spa, p->ts_us);
	/* only a request for another address asks anything: a gratuitous
	 * announcement asks for the sender's own */
	if (a->op != 1 || !memcmp(a->tpa, a->spa, 4) || arp_addr_is_none(a->tpa))
		return false;

	memset(&k, 0, sizeof k);
	k.where = net24_of(p->vlan, a->tpa);
	memcpy(k.ip, a->spa, 4);
	memcpy(k.mac, a->sha, 6);
	struct sender *x = sender_get(s, &k, p->ts_us);
	uint8_t last = a->tpa[3];
	bool fresh = !(x->asked_bits[last >> 3] & (1u << (last & 7)));
	if (fresh) {
		x->asked_bits[last >> 3] |= (uint8_t)(1u << (last & 7));
		x->asked++;
	}
	x->requests++;
	if (p->ts_us > x->last_us)
		x->last_us = p->ts_us;
	if (p->ts_us < x->first_us)
		x->first_us = p->ts_us;
	/* An address asked for the first time by this very request has had
	 * no time to answer: it is judged from the sender's next request on. */
	uint32_t judged = x->asked - fresh;
	if (judged < ARP_SWEEP_MIN_HOSTS)
		return false;
	uint32_t silent = unanswered(s, x, subnet_get(s, &k.where, p->ts_us, false), fresh ? last : -1, p->ts_us);
	/* a gateway resolving the hosts it forwards to asks for live ones:
	 * most of them answer */
	if (silent < ARP_SWEEP_MIN_HOSTS || silent * 2 <= judged)
		return false;

	struct evidence_finding *ev = &ret->ev;
	uint8_t net[4] = { a->tpa[0], a->tpa[1], a->tpa[2], 0 };
	char netbuf[REC_ADDR_MAX];

	memset(ret, 0, sizeof *ret);
	ev->category = "sweep";
	ev->role = "attacker";
	flow_csv_addr(4, a->spa, ev->host, sizeof ev->host);
	flow_csv_addr(4, a->tpa, ret->target, sizeof ret->target);
	flow_csv_addr(4, net, netbuf, sizeof netbuf);
	ev->flows = x->requests;
	ev->strength = (double)silent / ARP_SWEEP_MIN_HOSTS;
	ret->first_us = x->first_us;
	snprintf(ev->what, sizeof ev->what,
		 "%s (%02x:%02x:%02x:%02x:%02x:%02x) asked ARP who-has for %u addresses of %s/24 in %.0f s "
		 "(%u requests), %u never answered — host discovery by ARP",
		 ev->host, a->sha[0], a->sha[1], a->sha[2], a->sha[3], a->sha[4], a->sha[5], x->asked, netbuf,
		 (double)(x->last_us - x->first_us) / 1e6, x->requests, silent);
	return true;
}
