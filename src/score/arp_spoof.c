/* arp_spoof.c - a MAC that claims an address and asks who-has for it (arp_spoof.h). */
#include "score/arp_spoof.h"

#include "common/assoc.h"
#include "common/distinct.h"
#include "flow/flow_csv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WAYS 4
/* MACs remembered per address and role: the real owner and a spoofer both
 * claim it; the spoofer asks among everyone else who wants to reach it. */
#define SLOTS 2

/* One IPv4 address on one VLAN: 8 bytes, no padding (hashed and compared as bytes). */
struct addr_key {
	uint16_t vlan;
	uint8_t ip[4];
	uint8_t zero[2];
};
_Static_assert(sizeof(struct addr_key) == 8, "addr_key must have no padding");

/* What one MAC did with the address: claimed it (sent ARP with it as its
 * own: packets, first_us) or asked who-has it (from ip). */
struct mac_use {
	uint8_t mac[6];
	uint8_t ip[4];               /* asks: the address it asked from */
	uint32_t packets;            /* claims: ARP packets sent as the address */
	uint64_t first_us, last_us;  /* last_us 0: empty */
};

struct addr {
	struct addr_key key;
	bool used;
	uint64_t last_us;
	struct mac_use claim[SLOTS];
	struct mac_use ask[SLOTS];
};

struct arp_spoof {
	uint64_t window_us;
	uint32_t nsets;
	struct addr *addrs;
};

struct arp_spoof *arp_spoof_new(uint64_t window_us, uint32_t max_addrs)
{
	struct arp_spoof *s = calloc(1, sizeof *s);
	uint32_t sets = assoc_sets(max_addrs, WAYS);

	if (!s)
		return NULL;
	s->window_us = window_us;
	s->nsets = sets;
	s->addrs = calloc((size_t)sets * WAYS, sizeof *s->addrs);
	if (!s->addrs) {
		arp_spoof_free(s);
		return NULL;
	}
	return s;
}

void arp_spoof_free(struct arp_spoof *s)
{
	if (!s)
		return;
	free(s->addrs);
	free(s);
}

/* The entry of (vlan, ip); a new one takes a free way or the stalest. */
static struct addr *addr_get(struct arp_spoof *s, uint16_t vlan, const uint8_t ip[4], uint64_t now_us)
{
	struct addr_key k;

	memset(&k, 0, sizeof k);
	k.vlan = vlan;
	memcpy(k.ip, ip, 4);
	struct addr *set = &s->addrs[(fnv1a(FNV1A_SEED, &k, sizeof k) & (s->nsets - 1)) * WAYS];
	struct addr *victim = &set[0];
	for (int w = 0; w < WAYS; w++) {
		if (set[w].used && !memcmp(&set[w].key, &k, sizeof k))
			return &set[w];
		if (assoc_emptier(set[w].used, set[w].last_us, victim->used, victim->last_us))
			victim = &set[w];
	}
	memset(victim, 0, sizeof *victim);
	victim->used = true;
	victim->key = k;
	victim->last_us = now_us;
	return victim;
}

static bool fresh(const struct arp_spoof *s, uint64_t then_us, uint64_t now_us)
{
	return then_us && now_us <= then_us + s->window_us;
}

/* mac's slot among uses[SLOTS] (an address's claims or its asks), or
 * NULL; with take, the older slot emptied for it. */
static struct mac_use *use_of(struct mac_use *uses, const uint8_t mac[6], bool take)
{
	struct mac_use *u = &uses[0];

	for (int i = 0; i < SLOTS; i++) {
		if (uses[i].last_us && !memcmp(uses[i].mac, mac, 6))
			return &uses[i];
		if (uses[i].last_us < u->last_us)
			u = &uses[i];
	}
	if (!take)
		return NULL;
	memset(u, 0, sizeof *u);
	memcpy(u->mac, mac, 6);
	return u;
}

/* The packet's MAC both claimed a's address and asked for it within the
 * window: describe it. */
static bool spoofed(const struct arp_spoof *s, struct addr *a, const uint8_t mac[6], uint64_t now_us,
		    struct arp_finding *ret)
{
	const struct mac_use *c = use_of(a->claim, mac, false);
	const struct mac_use *q = use_of(a->ask, mac, false);
	char addr[REC_ADDR_MAX];

	if (!c || !q || !fresh(s, c->last_us, now_us) || !fresh(s, q->last_us, now_us))
		return false;
	memset(ret, 0, sizeof *ret);
	ret->ev.category = "arp_spoof";
	ret->ev.role = "attacker";
	flow_csv_addr(4, q->ip, ret->ev.host, sizeof ret->ev.host);
	flow_csv_addr(4, a->key.ip, addr, sizeof addr);
	snprintf(ret->target, sizeof ret->target, "%s", addr);
	ret->ev.flows = c->packets;
	ret->ev.strength = 1;
	ret->first_us = c->first_us < q->last_us ? c->first_us : q->last_us;
	snprintf(ret->ev.what, sizeof ret->ev.what,
		 "%02x:%02x:%02x:%02x:%02x:%02x (%s) claimed %s in ARP (%u packets) and asked who-has %s "
		 "itself — ARP spoofing: it poses as %s",
		 mac[0], mac[1], mac[2], mac[3], mac[4], mac[5], ret->ev.host, addr, c->packets, addr, addr);
	return true;
}

bool arp_spoof_observe(struct arp_spoof *s, const struct dec_packet *p, struct arp_finding *ret)
{
	const struct dec_arp *a = &p->arp;
	struct addr *x;

	if (p->l3 != DEC_L3_ARP || arp_addr_is_none(a->spa))
		return false; /* an ARP probe claims nothing and asks as nobody */
	/* the sender claims its address (requests and replies alike) */
	x = addr_get(s, p->vlan, a->spa, p->ts_us);
	struct mac_use *c = use_of(x->claim, a->sha, true);
	if (!c->packets)
		c->first_us = p->ts_us;
	c->packets++;
	c->last_us = p->ts_us;
	x->last_us = p->ts_us;
	if (spoofed(s, x, a->sha, p->ts_us, ret))
		return true;
	/* a request for another address: the sender asks for it */
	if (a->op != 1 || !memcmp(a->tpa, a->spa, 4) || arp_addr_is_none(a->tpa))
		return false;
	x = addr_get(s, p->vlan, a->tpa, p->ts_us);
	struct mac_use *q = use_of(x->ask, a->sha, true);
	memcpy(q->ip, a->spa, 4);
	q->last_us = p->ts_us;
	x->last_us = p->ts_us;
	return spoofed(s, x, a->sha, p->ts_us, ret);
}
