/* flow_meter.c - decode, key, account and describe packets (flow_meter.h). */
#include "flow/flow_meter.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "features/feat_compute.h"
#include "features/host_context.h"
#include "flow/flow_frag.h"

/* A decoded packet waiting in the lookahead, with its flow-table key. */
struct pending {
	struct dec_packet pkt;
	struct flow_lookup lk;
	bool starts;                /* no flow has its key: it will start one */
	struct feat_host_keys hk;   /* if it starts one: its host-context keys */
};

struct flow_meter {
	struct flow_table table;
	struct feat_hosts hosts;
	struct flow_frag frags;
	flow_record_fn on_record;
	flow_arp_fn on_arp;
	void *user;
	uint32_t lookahead;
	uint32_t head, waiting;     /* ring[head] is the oldest of `waiting` packets */
	struct pending ring[FLOW_METER_LOOKAHEAD_MAX];
	struct dec_packet pkt;      /* scratch: too big for a hot stack frame */
	struct flow_record rec;
	struct flow_meter_stats stats;
};

void flow_meter_options_default(struct flow_meter_options *ret)
{
	memset(ret, 0, sizeof *ret);
	flow_table_options_default(&ret->table);
	ret->max_hosts = FLOW_METER_MAX_HOSTS_DEFAULT;
	ret->frag_slots = FLOW_METER_FRAG_SLOTS_DEFAULT;
}

static void on_end(struct flow *f, enum flow_end why, void *user)
{
	struct flow_meter *m = user;
	struct flow_record *r = &m->rec;
	struct feat_flow *acc = flow_user(f);
	struct feat_host_keys hk;
	size_t alen = f->key.family == 6 ? 16 : 4;
	struct feat_flow_id id = {
		.first_us = f->first_us,
		.last_us = f->last_us,
		.family = f->key.family,
		.proto = f->key.proto,
		.src = flow_addr(f, 0),
		.dst = flow_addr(f, 1),
		.sport = flow_port(f, 0),
		.dport = flow_port(f, 1),
		.packets = { f->packets[0], f->packets[1] },
		.bytes = { f->bytes[0], f->bytes[1] },
	};

	memset(r, 0, offsetof(struct flow_record, feat));
	r->first_us = f->first_us;
	r->last_us = f->last_us;
	r->family = f->key.family;
	r->proto = f->key.proto;
	r->vlan = f->key.vlan;
	memcpy(r->src, id.src, alen);
	memcpy(r->dst, id.dst, alen);
	r->sport = id.sport;
	r->dport = id.dport;
	r->end = why;
	memcpy(r->packets, f->packets, sizeof r->packets);
	memcpy(r->bytes, f->bytes, sizeof r->bytes);
	feat_flow_compute(acc, &id, r->feat);
	feat_hosts_keys(&m->hosts, id.family, id.proto, id.src, id.dst, id.dport, &hk);
	/* a partial record is not the end of the flow: the host's ended and
	 * failed counters wait for the final one */
	if (why != FLOW_END_ACTIVE)
		feat_hosts_flow_end_keyed(&m->hosts, id.family, id.src, f->bytes[0], feat_flow_failed(acc, &id),
					  f->last_us, &hk);
	feat_hosts_context_keyed(&m->hosts, &id, f->last_us, r->feat, &hk);
	if (m->on_record)
		m->on_record(r, m->user);
	if (why == FLOW_END_ACTIVE)
		memset(acc, 0, sizeof *acc);
}

/* The table is about to end f (flow_table_flush): its hosts' sets two
 * records ahead, the lines within them one record ahead. */
static void on_end_soon(const struct flow *f, int stage, void *user)
{
	struct flow_meter *m = user;
	struct feat_host_keys hk;

	feat_hosts_keys(&m->hosts, f->key.family, f->key.proto, flow_addr(f, 0), flow_addr(f, 1), flow_port(f, 1),
			&hk);
	if (stage)
		feat_hosts_prefetch(&m->hosts, &hk);
	else
		feat_hosts_prefetch_end(&m->hosts, f->key.family, flow_addr(f, 0), flow_addr(f, 1), &hk);
}

int flow_meter_new(const struct flow_meter_options *opt, struct flow_meter **ret)
{
	struct flow_meter *m = calloc(1, sizeof *m);
	int r;

	if (!m)
		return -ENOMEM;
	r = flow_table_init(&m->table, &opt->table, sizeof(struct feat_flow), opt->seed, on_end, m);
	if (!r)
		flow_table_set_end_soon(&m->table, on_end_soon);
	if (!r)
		r = feat_hosts_init(&m->hosts, opt->max_hosts ? opt->max_hosts : FLOW_METER_MAX_HOSTS_DEFAULT);
	if (!r)
		r = flow_frag_init(&m->frags, opt->frag_slots ? opt->frag_slots : FLOW_METER_FRAG_SLOTS_DEFAULT);
	if (r) {
		flow_meter_free(m);
		return r;
	}
	m->on_record = opt->on_record;
	m->on_arp = opt->on_arp;
	m->user = opt->user;
	m->lookahead = opt->lookahead < FLOW_METER_LOOKAHEAD_MAX ? opt->lookahead : FLOW_METER_LOOKAHEAD_MAX;
	*ret = m;
	return 0;
}

void flow_meter_free(struct flow_meter *m)
{
	if (!m)
		return;
	flow_table_release(&m->table);
	feat_hosts_release(&m->hosts);
	flow_frag_release(&m->frags);
	free(m);
}

static bool icmp_echo(const struct dec_packet *p)
{
	if (p->ip_proto == 1)
		return p->icmp_type == 0 || p->icmp_type == 8;
	return p->icmp_type == 128 || p->icmp_type == 129;
}

/* Ports of the key. TCP/UDP: the ports. ICMP echo request and reply: the
 * echo identifier on both sides, so a ping and its answers form one flow
 * and two pings with different identifiers form two. Other ICMP: type and
 * code, so each kind of message forms its own flow. Anything else: 0. */
static void key_ports(const struct dec_packet *p, struct flow_key *k)
{
	if (p->has_ports) {
		k->port[0] = p->sport;
		k->port[1] = p->dport;
	} else if (p->has_icmp && icmp_echo(p)) {
		k->port[0] = k->port[1] = p->icmp_id;
	} else if (p->has_icmp) {
		k->port[0] = p->icmp_type;
		k->port[1] = p->icmp_code;
	}
}

/* Build the key of an IP packet, give a later fragment its ports, and start
 * the table's lookup. False for packets that make no flow (ARP, not IP). */
static bool prepare(struct flow_meter *m, const struct dec_packet *p, struct flow_lookup *ret)
{
	struct flow_key k;

	if (p->l3 == DEC_L3_ARP) {
		m->stats.arp_packets++;
		if (m->on_arp)
			m->on_arp(p, m->user);
		return false;
	}
	if (p->l3 != DEC_L3_IPV4 && p->l3 != DEC_L3_IPV6)
		return false;
	memset(&k, 0, sizeof k);
	k.family = p->l3 == DEC_L3_IPV6 ? 6 : 4;
	k.proto = p->ip_proto;
	k.vlan = p->vlan;
	/* fixed sizes: inline copies, not calls */
	if (k.family == 6) {
		memcpy(k.addr[0], p->src.a, 16);
		memcpy(k.addr[1], p->dst.a, 16);
	} else {
		memcpy(k.addr[0], p->src.a, 4);
		memcpy(k.addr[1], p->dst.a, 4);
	}
	key_ports(p, &k);
	if (p->is_fragment) {
		m->stats.fragments++;
		if (p->frag_offset == 0)
			flow_frag_remember(&m->frags, k.family, k.proto, k.addr[0], k.addr[1], p->frag_id,
					   k.port[0], k.port[1], p->ts_us);
		else
			flow_frag_lookup(&m->frags, k.family, k.proto, k.addr[0], k.addr[1], p->frag_id, p->ts_us,
					 &k.port[0], &k.port[1]);
	}
	m->stats.ip_packets++;
	flow_table_prepare(&m->table, &k, ret);
	return true;
}

/* The host-context keys of the flow a packet would start: in packet
 * order, the sender, the receiver and its port. */
static void start_keys(const struct flow_meter *m, const struct flow_lookup *lk, struct feat_host_keys *ret)
{
	const struct flow_key *k = &lk->key;

	feat_hosts_keys(&m->hosts, k->family, k->proto, k->addr[lk->side], k->addr[!lk->side], k->port[!lk->side],
			ret);
}

/* hk: the keys from start_keys() if the caller has them, else NULL. */
static void account(struct flow_meter *m, const struct dec_packet *p, const struct flow_lookup *lk,
		    const struct feat_host_keys *hk)
{
	struct flow *f;
	bool is_new;
	int dir;

	f = flow_table_packet_at(&m->table, lk, p->ts_us, p->ip_len, p->tcp_flags, &dir, &is_new);
	if (is_new) {
		struct feat_host_keys own;

		if (!hk) {
			start_keys(m, lk, &own);
			hk = &own;
		}
		feat_hosts_flow_start_keyed(&m->hosts, lk->key.family, lk->key.addr[lk->side], lk->key.addr[!lk->side],
					    p->ts_us, hk);
	}
	feat_flow_add(flow_user(f), p, dir);
}

static void account_oldest(struct flow_meter *m)
{
	struct pending *w = &m->ring[m->head];

	account(m, &w->pkt, &w->lk, w->starts ? &w->hk : NULL);
	m->head = (m->head + 1) % FLOW_METER_LOOKAHEAD_MAX;
	m->waiting--;
}

void flow_meter_drain(struct flow_meter *m)
{
	while (m->waiting)
		account_oldest(m);
}

void flow_meter_feed_decoded(struct flow_meter *m, const struct dec_packet *p)
{
	struct flow_lookup lk;

	flow_meter_drain(m);
	if (prepare(m, p, &lk))
		account(m, p, &lk, NULL);
}

/* With a lookahead of L, a packet's index line is requested when it
 * arrives, its entry when it is L/2 packets old (the index line is there
 * by then), and it is accounted when it is L packets old. */
void flow_meter_feed(struct flow_meter *m, const struct cap_packet *c, int linktype)
{
	struct pending *w;

	if (!m->lookahead) {
		if (dec_decode(linktype, c->data, c->caplen, c->wirelen, c->ts_us, &m->pkt, &m->stats.dec) == DEC_OK)
			flow_meter_feed_decoded(m, &m->pkt);
		return;
	}
	if (m->waiting == m->lookahead)
		account_oldest(m);
	w = &m->ring[(m->head + m->waiting) % FLOW_METER_LOOKAHEAD_MAX];
	if (dec_decode(linktype, c->data, c->caplen, c->wirelen, c->ts_us, &w->pkt, &m->stats.dec) != DEC_OK ||
	    !prepare(m, &w->pkt, &w->lk))
		return;
	m->waiting++;
	w->starts = false;
	if (m->waiting > m->lookahead / 2) {
		uint32_t mid = m->head + m->waiting - 1 - m->lookahead / 2;
		struct pending *q = &m->ring[mid % FLOW_METER_LOOKAHEAD_MAX];

		/* a packet that will start a flow updates both hosts' context */
		q->starts = !flow_table_prefetch(&m->table, &q->lk);
		if (q->starts) {
			start_keys(m, &q->lk, &q->hk);
			feat_hosts_prefetch(&m->hosts, &q->hk);
		}
	}
	if (m->waiting > m->lookahead * 3 / 4) {
		uint32_t late = m->head + m->waiting - 1 - m->lookahead * 3 / 4;
		struct pending *q = &m->ring[late % FLOW_METER_LOOKAHEAD_MAX];
		const struct flow_key *k = &q->lk.key;

		flow_table_prefetch_links(&m->table, &q->lk);
		/* its hosts' sets have arrived: now the lines within them */
		if (q->starts)
			feat_hosts_prefetch_start(&m->hosts, k->family, k->addr[q->lk.side], k->addr[!q->lk.side],
						  &q->hk);
	}
}

void flow_meter_flush(struct flow_meter *m)
{
	flow_meter_drain(m);
	flow_table_flush(&m->table);
}

void flow_meter_get_stats(const struct flow_meter *m, struct flow_meter_stats *ret)
{
	*ret = m->stats;
	ret->frag_matched = m->frags.matched;
	ret->frag_unmatched = m->frags.unmatched;
	ret->hosts_replaced = m->hosts.replaced;
	ret->flows = m->table.stats;
}

size_t flow_meter_bytes_per_flow(const struct flow_meter *m)
{
	return m->table.stride;
}
