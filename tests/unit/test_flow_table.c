/* test_flow_table.c - the flow table: canonical keys, timeouts, TCP close,
 * eviction order (finished flows first, checked against a model), active
 * timeout, and no allocation after init. */
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "flow/flow_table.h"

#define S 1000000ull

struct rec {
	uint8_t src_last;   /* last byte of the initiator address */
	uint16_t sport;
	enum flow_end why;
	uint64_t packets[2];
	uint64_t first_us, last_us;
};

static struct rec recs[64];
static int nrecs;

static void on_end(struct flow *f, enum flow_end why, void *user)
{
	struct rec *r = &recs[nrecs < 63 ? nrecs++ : 63];

	(void)user;
	r->src_last = flow_addr(f, 0)[3];
	r->sport = flow_port(f, 0);
	r->why = why;
	r->packets[0] = f->packets[0];
	r->packets[1] = f->packets[1];
	r->first_us = f->first_us;
	r->last_us = f->last_us;
}

static struct flow_key key(uint8_t proto, uint8_t a, uint16_t pa, uint8_t b, uint16_t pb)
{
	struct flow_key k;

	memset(&k, 0, sizeof k);
	k.family = 4;
	k.proto = proto;
	k.addr[0][0] = 10;
	k.addr[0][3] = a;
	k.addr[1][0] = 10;
	k.addr[1][3] = b;
	k.port[0] = pa;
	k.port[1] = pb;
	return k;
}

static struct flow *pkt(struct flow_table *t, struct flow_key k, uint64_t ts, uint8_t flags, int *dir, bool *is_new)
{
	return flow_table_packet(t, &k, ts, 100, flags, dir, is_new);
}

static void init(struct flow_table *t, uint32_t max)
{
	struct flow_table_options o;

	flow_table_options_default(&o);
	o.max_flows = max;
	nrecs = 0;
	CHECK_EQ_INT(flow_table_init(t, &o, 24, 1, on_end, NULL), 0);
}

static void test_bidirectional(void)
{
	struct flow_table t;
	struct flow *f1, *f2;
	int dir;
	bool n;

	init(&t, 16);
	/* the initiator has the larger address: canonical order must not
	 * change who is fwd */
	f1 = pkt(&t, key(17, 9, 5000, 2, 53), 1 * S, 0, &dir, &n);
	CHECK(n);
	CHECK_EQ_INT(dir, 0);
	f2 = pkt(&t, key(17, 2, 53, 9, 5000), 1 * S + 10, 0, &dir, &n);
	CHECK(f1 == f2);
	CHECK(!n);
	CHECK_EQ_INT(dir, 1);
	CHECK_EQ_INT(flow_addr(f1, 0)[3], 9);
	CHECK_EQ_INT(flow_port(f1, 0), 5000);
	CHECK_EQ_INT(flow_port(f1, 1), 53);
	/* same addresses, other port: another flow; other VLAN: another flow */
	f2 = pkt(&t, key(17, 9, 5001, 2, 53), 2 * S, 0, &dir, &n);
	CHECK(n && f2 != f1);
	{
		struct flow_key k = key(17, 9, 5000, 2, 53);

		k.vlan = 7;
		f2 = flow_table_packet(&t, &k, 2 * S, 100, 0, &dir, &n);
		CHECK(n && f2 != f1);
	}
	CHECK_EQ_INT(t.stats.active, 3);
	flow_table_flush(&t);
	CHECK_EQ_INT(nrecs, 3);
	/* flush goes oldest first */
	CHECK_EQ_INT(recs[0].sport, 5000);
	CHECK_EQ_INT(recs[0].packets[0], 1);
	CHECK_EQ_INT(recs[0].packets[1], 1);
	CHECK_EQ_INT(recs[0].why, FLOW_END_EOF);
	flow_table_release(&t);
}

static void test_idle_timeouts(void)
{
	struct flow_table t;
	int dir;
	bool n;

	init(&t, 16);
	pkt(&t, key(17, 1, 1000, 2, 2000), 0, 0, &dir, &n);      /* udp: 120 s */
	pkt(&t, key(17, 1, 1001, 2, 53), 0, 0, &dir, &n);        /* dns: 10 s */
	pkt(&t, key(1, 1, 7, 2, 7), 0, 0, &dir, &n);             /* icmp: 30 s */
	flow_table_advance(&t, 10 * S);                           /* a gap of exactly the timeout stays */
	CHECK_EQ_INT(nrecs, 0);
	flow_table_advance(&t, 10 * S + 1);
	CHECK_EQ_INT(nrecs, 1);
	CHECK_EQ_INT(recs[0].sport, 1001);
	CHECK_EQ_INT(recs[0].why, FLOW_END_IDLE);
	flow_table_advance(&t, 31 * S);
	CHECK_EQ_INT(nrecs, 2);
	CHECK_EQ_INT(recs[1].sport, 7);
	/* a packet keeps the UDP flow alive */
	pkt(&t, key(17, 2, 2000, 1, 1000), 100 * S, 0, &dir, &n);
	CHECK(!n);
	flow_table_advance(&t, 200 * S);
	CHECK_EQ_INT(nrecs, 2);
	/* the clock never goes back: an older timestamp expires nothing new */
	flow_table_advance(&t, 5 * S);
	CHECK_EQ_INT(nrecs, 2);
	flow_table_advance(&t, 221 * S);
	CHECK_EQ_INT(nrecs, 3);
	CHECK_EQ_INT(recs[2].packets[1], 1);
	CHECK_EQ_INT(recs[2].last_us, 100 * S);
	CHECK_EQ_INT(t.stats.active, 0);
	flow_table_release(&t);
}

/* The table skips its expiry work until the earliest list head is due:
 * a flow with a shorter timeout arriving later, or a flow whose TCP state
 * moves it to a shorter timeout, must bring that time forward. */
static void test_due_times(void)
{
	struct flow_table t;
	int dir;
	bool n;

	init(&t, 16);
	pkt(&t, key(17, 1, 1000, 2, 2000), 1 * S, 0, &dir, &n);  /* udp: due after 121 s */
	flow_table_advance(&t, 2 * S);
	pkt(&t, key(17, 1, 1001, 2, 53), 5 * S, 0, &dir, &n);    /* dns: due after 15 s */
	pkt(&t, key(6, 1, 40000, 2, 80), 6 * S, 0x02, &dir, &n); /* SYN: half-open, 30 s */
	pkt(&t, key(6, 2, 80, 1, 40000), 6 * S, 0x12, &dir, &n); /* established: 300 s */
	flow_table_advance(&t, 15 * S);
	CHECK_EQ_INT(nrecs, 0);
	flow_table_advance(&t, 15 * S + 1);
	CHECK_EQ_INT(nrecs, 1);
	CHECK_EQ_INT(recs[0].sport, 1001);
	/* FIN from both sides: closed, 10 s from the last FIN */
	pkt(&t, key(6, 1, 40000, 2, 80), 20 * S, 0x11, &dir, &n);
	pkt(&t, key(6, 2, 80, 1, 40000), 21 * S, 0x11, &dir, &n);
	flow_table_advance(&t, 31 * S);
	CHECK_EQ_INT(nrecs, 1);
	flow_table_advance(&t, 31 * S + 1);
	CHECK_EQ_INT(nrecs, 2);
	CHECK_EQ_INT(recs[1].why, FLOW_END_FIN);
	flow_table_advance(&t, 121 * S);
	CHECK_EQ_INT(nrecs, 2);
	flow_table_advance(&t, 121 * S + 1);
	CHECK_EQ_INT(nrecs, 3);
	CHECK_EQ_INT(recs[2].sport, 1000);
	CHECK_EQ_INT(t.stats.active, 0);
	flow_table_release(&t);
}

static void test_tcp_close(void)
{
	struct flow_table t;
	struct flow_key c = key(6, 1, 40000, 2, 80), s = key(6, 2, 80, 1, 40000);
	struct flow *f;
	int dir;
	bool n;

	init(&t, 16);
	/* half-open: 30 s */
	pkt(&t, key(6, 1, 40001, 2, 81), 0, 0x02, &dir, &n);
	/* a full connection closed by FIN from both sides */
	pkt(&t, c, 0, 0x02, &dir, &n);
	pkt(&t, s, 1000, 0x12, &dir, &n);
	pkt(&t, c, 2000, 0x10, &dir, &n);
	pkt(&t, c, 3000, 0x11, &dir, &n);
	f = pkt(&t, s, 4000, 0x11, &dir, &n);
	CHECK_EQ_INT(f->tclass, FLOW_TO_TCP_CLOSED);
	/* the last ACK lingers into the same flow */
	pkt(&t, c, 5000, 0x10, &dir, &n);
	CHECK(!n);
	flow_table_advance(&t, 10 * S + 5001);
	CHECK_EQ_INT(nrecs, 1);
	CHECK_EQ_INT(recs[0].why, FLOW_END_FIN);
	CHECK_EQ_INT(recs[0].packets[0], 4);
	CHECK_EQ_INT(recs[0].packets[1], 2);
	flow_table_advance(&t, 30 * S + 1);
	CHECK_EQ_INT(nrecs, 2);
	CHECK_EQ_INT(recs[1].why, FLOW_END_IDLE);
	CHECK_EQ_INT(recs[1].sport, 40001);

	/* RST, then a SYN reusing the ports starts a new flow */
	nrecs = 0;
	pkt(&t, c, 40 * S, 0x02, &dir, &n);
	CHECK(n);
	pkt(&t, s, 40 * S + 1, 0x14, &dir, &n);
	f = pkt(&t, c, 41 * S, 0x02, &dir, &n);
	CHECK(n);
	CHECK_EQ_INT(nrecs, 1);
	CHECK_EQ_INT(recs[0].why, FLOW_END_RST);
	CHECK_EQ_INT(t.stats.restarted, 1);
	CHECK_EQ_INT(f->packets[0], 1);
	/* one FIN only: closing (120 s), not closed */
	pkt(&t, s, 42 * S, 0x12, &dir, &n);
	f = pkt(&t, c, 43 * S, 0x11, &dir, &n);
	CHECK_EQ_INT(f->tclass, FLOW_TO_TCP_CLOSING);
	flow_table_flush(&t);
	CHECK_EQ_INT(recs[1].why, FLOW_END_EOF);
	flow_table_release(&t);
}

static void test_eviction_order(void)
{
	struct flow_table t;
	int dir;
	bool n;

	init(&t, 2);
	pkt(&t, key(17, 1, 1, 2, 2), 0, 0, &dir, &n);           /* A (udp) */
	pkt(&t, key(6, 1, 3, 2, 4), 1 * S, 0x10, &dir, &n);     /* B (tcp, another idle list) */
	pkt(&t, key(17, 2, 2, 1, 1), 2 * S, 0, &dir, &n);       /* A again: B is now the oldest */
	pkt(&t, key(17, 1, 5, 2, 6), 3 * S, 0, &dir, &n);       /* C: evicts B */
	CHECK_EQ_INT(nrecs, 1);
	CHECK_EQ_INT(recs[0].sport, 3);
	CHECK_EQ_INT(recs[0].why, FLOW_END_EVICTED);
	pkt(&t, key(17, 1, 7, 2, 8), 4 * S, 0, &dir, &n);       /* D: evicts A */
	CHECK_EQ_INT(nrecs, 2);
	CHECK_EQ_INT(recs[1].sport, 1);
	CHECK_EQ_INT(recs[1].packets[1], 1);
	CHECK_EQ_INT(t.stats.ended[FLOW_END_EVICTED], 2);
	CHECK_EQ_INT(t.stats.active, 2);
	flow_table_release(&t);
}

/* A full table gives up finished flows before live ones: an answered DNS
 * flow and a closed TCP flow that got its last ACK go first (oldest last
 * packet first), then a closed flow still waiting for its last ACK, and
 * only then the least recently seen flow. */
static void test_eviction_finished_first(void)
{
	struct flow_table t;
	struct flow_key live = key(6, 1, 40000, 2, 80), live_r = key(6, 2, 80, 1, 40000);
	struct flow_key fin = key(6, 1, 40001, 2, 80), fin_r = key(6, 2, 80, 1, 40001);
	struct flow_key q = key(17, 1, 53000, 2, 53), q_r = key(17, 2, 53, 1, 53000);
	struct flow_key aaaa = key(17, 1, 53001, 2, 53), aaaa_r = key(17, 2, 53, 1, 53001);
	struct flow *f;
	int dir;
	bool n;

	init(&t, 4);
	pkt(&t, live, 0, 0x02, &dir, &n);             /* oldest, still live */
	pkt(&t, live_r, 1000, 0x12, &dir, &n);
	pkt(&t, fin, 1 * S, 0x11, &dir, &n);          /* FIN both ways: closed, no last ACK yet */
	pkt(&t, fin_r, 1 * S + 1000, 0x11, &dir, &n);
	pkt(&t, q, 2 * S, 0, &dir, &n);               /* query and answer: finished */
	pkt(&t, q_r, 2 * S + 1000, 0, &dir, &n);
	pkt(&t, aaaa, 3 * S, 0, &dir, &n);            /* two queries, one answer: waiting */
	pkt(&t, aaaa, 3 * S + 1, 0, &dir, &n);
	pkt(&t, aaaa_r, 3 * S + 1000, 0, &dir, &n);
	/* a new flow: the answered DNS flow goes, although the live TCP flow
	 * is the least recently seen */
	pkt(&t, key(17, 1, 7000, 2, 7001), 4 * S, 0, &dir, &n);
	CHECK_EQ_INT(nrecs, 1);
	CHECK_EQ_INT(recs[0].sport, 53000);
	CHECK_EQ_INT(recs[0].why, FLOW_END_EVICTED);
	/* next: the closed flow waiting for its last ACK; its record still says fin */
	pkt(&t, key(17, 1, 7002, 2, 7003), 5 * S, 0, &dir, &n);
	CHECK_EQ_INT(nrecs, 2);
	CHECK_EQ_INT(recs[1].sport, 40001);
	CHECK_EQ_INT(recs[1].why, FLOW_END_FIN);
	/* the second answer makes the AAAA flow finished: it goes before the live flow */
	pkt(&t, aaaa_r, 6 * S, 0, &dir, &n);
	pkt(&t, key(17, 1, 7004, 2, 7005), 7 * S, 0, &dir, &n);
	CHECK_EQ_INT(nrecs, 3);
	CHECK_EQ_INT(recs[2].sport, 53001);
	CHECK_EQ_INT(recs[2].packets[0], 2);
	CHECK_EQ_INT(recs[2].packets[1], 2);
	/* nothing finished is left: the least recently seen flow, the live one */
	pkt(&t, key(17, 1, 7006, 2, 7007), 8 * S, 0, &dir, &n);
	CHECK_EQ_INT(nrecs, 4);
	CHECK_EQ_INT(recs[3].sport, 40000);
	CHECK_EQ_INT(recs[3].why, FLOW_END_EVICTED);
	CHECK_EQ_INT(t.stats.evicted[FLOW_EVICT_FINISHED], 2);
	CHECK_EQ_INT(t.stats.evicted[FLOW_EVICT_CLOSED], 1);
	CHECK_EQ_INT(t.stats.evicted[FLOW_EVICT_LRU], 1);
	CHECK_EQ_INT(t.stats.ended[FLOW_END_EVICTED], 3);
	CHECK_EQ_INT(t.stats.ended[FLOW_END_FIN], 1);

	flow_table_release(&t);

	/* a closed flow that got its last ACK, and one closed by RST, are
	 * finished; the older of them goes first */
	init(&t, 3);
	pkt(&t, fin, 0, 0x11, &dir, &n);
	pkt(&t, fin_r, 1000, 0x11, &dir, &n);
	pkt(&t, live, 1 * S, 0x10, &dir, &n);
	pkt(&t, key(17, 1, 7000, 2, 7001), 2 * S, 0, &dir, &n);
	f = pkt(&t, fin, 3 * S, 0x10, &dir, &n); /* the last ACK */
	CHECK(!n);
	CHECK_EQ_INT(f->tclass, FLOW_TO_TCP_CLOSED);
	pkt(&t, live_r, 4 * S, 0x14, &dir, &n);
	pkt(&t, key(17, 1, 7002, 2, 7003), 5 * S, 0, &dir, &n);
	pkt(&t, key(17, 1, 7004, 2, 7005), 6 * S, 0, &dir, &n);
	CHECK_EQ_INT(nrecs, 2);
	CHECK_EQ_INT(recs[0].sport, 40001);
	CHECK_EQ_INT(recs[0].why, FLOW_END_FIN);
	CHECK_EQ_INT(recs[0].packets[0], 2);
	CHECK_EQ_INT(recs[1].sport, 40000);
	CHECK_EQ_INT(recs[1].why, FLOW_END_RST);
	flow_table_release(&t);
}

/* Eviction choices against a model through 300 000 packets: DNS, TCP and
 * other UDP flows in random order and directions, TCP with ACK, FIN and RST
 * flags, a table of 48 for 400 keys. No packet is late enough for a timeout,
 * so every record written during a packet is an eviction, and it must be
 * the flow the model names: the finished one (flow_table.c) with the
 * oldest last packet, else the closed TCP flow with the oldest, else the
 * least recently seen. */
#define EV_KEYS 400

struct ev_model {
	bool in;
	int init;            /* packet side that spoke first */
	uint64_t pk[2];      /* by direction: [0] from the initiator */
	uint64_t touch;
	int fins;
	bool closed, rst, after;
};

static struct ev_model ev[EV_KEYS];
static int ev_ended, ev_nended;
static enum flow_end ev_why;

static int ev_kind(int id) { return id % 3; } /* 0 DNS, 1 TCP, 2 other UDP */

static void ev_end(struct flow *f, enum flow_end why, void *user)
{
	const uint8_t *a = f->key.addr[0][1] == 0 ? f->key.addr[0] : f->key.addr[1];

	(void)user;
	ev_ended = a[2] << 8 | a[3];
	ev_why = why;
	ev_nended++;
}

static bool ev_finished(const struct ev_model *m, int id)
{
	if (ev_kind(id) == 0)
		return m->pk[0] && m->pk[1] >= m->pk[0];
	return ev_kind(id) == 1 && m->closed && (m->rst || m->after);
}

static int ev_victim(void)
{
	int best[3] = {-1, -1, -1}; /* finished, closed, any */

	for (int id = 0; id < EV_KEYS; id++) {
		const struct ev_model *m = &ev[id];
		int cls = ev_finished(m, id) ? 0 : (ev_kind(id) == 1 && m->closed) ? 1 : 2;

		if (!m->in)
			continue;
		for (int c = cls; c < 3; c++)
			if (best[c] < 0 || m->touch < ev[best[c]].touch)
				best[c] = id;
	}
	return best[0] >= 0 ? best[0] : best[1] >= 0 ? best[1] : best[2];
}

static void test_eviction_model(void)
{
	static const uint8_t tcp_flags[] = {0x10, 0x10, 0x18, 0x11, 0x04};
	struct flow_table t;
	struct flow_table_options o;
	uint64_t x = 0x243f6a8885a308d3ull;
	uint32_t nin = 0, nevict = 0;
	int dir;
	bool n;

	flow_table_options_default(&o);
	o.max_flows = 48;
	CHECK_EQ_INT(flow_table_init(&t, &o, 8, 7, ev_end, NULL), 0);
	for (uint64_t i = 1; i <= 300000 && check_failures < 20; i++) {
		int id, side, expect = -1, d;
		uint8_t fl = 0;
		struct flow_key k;
		struct ev_model *m;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		id = (int)(x % EV_KEYS);
		side = (int)(x >> 20) & 1;
		if (ev_kind(id) == 1)
			fl = tcp_flags[(x >> 24) % sizeof tcp_flags];
		/* side 0: 10.0.<id>, port 1000; side 1: 10.1.0.1, port 53 or 80 */
		memset(&k, 0, sizeof k);
		k.family = 4;
		k.proto = ev_kind(id) == 1 ? 6 : 17;
		k.addr[side][0] = 10;
		k.addr[side][2] = (uint8_t)(id >> 8);
		k.addr[side][3] = (uint8_t)id;
		k.addr[!side][0] = 10;
		k.addr[!side][1] = 1;
		k.addr[!side][3] = 1;
		k.port[side] = 1000;
		k.port[!side] = ev_kind(id) == 0 ? 53 : 80;
		m = &ev[id];
		if (!m->in && nin == o.max_flows)
			expect = ev_victim();
		ev_nended = 0;
		flow_table_packet(&t, &k, i, 100, fl, &dir, &n);
		CHECK(n == !m->in);
		if (expect >= 0) {
			CHECK_EQ_INT(ev_nended, 1);
			CHECK_EQ_INT(ev_ended, expect);
			if (ev_kind(expect) == 1 && ev[expect].closed)
				CHECK_EQ_INT(ev_why, ev[expect].rst ? FLOW_END_RST : FLOW_END_FIN);
			else
				CHECK_EQ_INT(ev_why, FLOW_END_EVICTED);
			memset(&ev[expect], 0, sizeof ev[expect]);
			nin--;
			nevict++;
		} else {
			CHECK_EQ_INT(ev_nended, 0);
		}
		if (!m->in) {
			memset(m, 0, sizeof *m);
			m->in = true;
			m->init = side;
			nin++;
		}
		d = side ^ m->init;
		m->pk[d]++;
		m->touch = i;
		if (ev_kind(id) == 1) {
			if (m->closed)
				m->after = true;
			else if (fl & 0x04)
				m->closed = m->rst = true;
			else if (fl & 0x01) {
				m->fins |= 1 << d;
				m->closed = m->fins == 3;
			}
		}
		CHECK_EQ_INT(dir, d);
	}
	CHECK(nevict > 50000);
	CHECK_EQ_INT(t.stats.evicted[FLOW_EVICT_FINISHED] + t.stats.evicted[FLOW_EVICT_CLOSED] +
		     t.stats.evicted[FLOW_EVICT_LRU], nevict);
	/* every step was taken; the rarest (a closed flow not yet acknowledged) about 280 times */
	CHECK(t.stats.evicted[FLOW_EVICT_FINISHED] > 1000 && t.stats.evicted[FLOW_EVICT_CLOSED] > 100 &&
	      t.stats.evicted[FLOW_EVICT_LRU] > 1000);
	flow_table_release(&t);
}

static void test_active_timeout(void)
{
	struct flow_table t;
	int dir;
	bool n;

	init(&t, 4);
	/* a packet every 100 s for 2500 s: one partial record at 1800 s */
	for (uint64_t s = 0; s <= 2500; s += 100)
		pkt(&t, key(17, 1, 1000, 2, 2000), s * S, 0, &dir, &n);
	CHECK_EQ_INT(nrecs, 1);
	CHECK_EQ_INT(recs[0].why, FLOW_END_ACTIVE);
	CHECK_EQ_INT(recs[0].first_us, 0);
	CHECK_EQ_INT(recs[0].last_us, 1800 * S);
	CHECK_EQ_INT(recs[0].packets[0], 19);
	flow_table_flush(&t);
	CHECK_EQ_INT(nrecs, 2);
	CHECK_EQ_INT(recs[1].why, FLOW_END_EOF);
	CHECK_EQ_INT(recs[1].first_us, 1900 * S);
	CHECK_EQ_INT(recs[1].packets[0], 7);
	CHECK_EQ_INT(t.stats.created, 1);
	flow_table_release(&t);
}

/* A closed flow that reaches the active timeout while it lingers: its next
 * record has no packet yet, so it leaves the finished list, and the list
 * must stay consistent through what follows (the key restarted, the old
 * flow idling out). Before the fix the flow was unlinked while still
 * counting as finished, and a later unlink through its stale links left
 * the list head on a live flow, which a full table then gave up as
 * "finished". */
static void test_finished_after_active_timeout(void)
{
	struct flow_table t;
	struct flow_key a = key(6, 1, 1000, 200, 80), x = key(6, 2, 1001, 200, 80), n = key(6, 3, 1002, 200, 80);
	struct flow_key x_back = key(6, 200, 80, 2, 1001), a_back = key(6, 200, 80, 1, 1000);
	int dir;
	bool is_new;

	init(&t, 3);
	pkt(&t, a, 0, 0x02, &dir, &is_new);
	pkt(&t, a_back, 1, 0x12, &dir, &is_new);
	for (uint64_t s = 200; s < 1795; s += 200)
		pkt(&t, a, s * S, 0x10, &dir, &is_new);
	pkt(&t, a, 1795 * S, 0x04, &dir, &is_new);          /* A reset: finished */
	pkt(&t, x, 1795 * S + 1, 0x02, &dir, &is_new);
	pkt(&t, x_back, 1795 * S + 2, 0x04, &dir, &is_new); /* X refused: finished */
	pkt(&t, n, 1800 * S + 5, 0x02, &dir, &is_new);      /* A's active timeout */
	CHECK_EQ_INT(nrecs, 1);
	CHECK_EQ_INT(recs[0].why, FLOW_END_ACTIVE);
	CHECK_EQ_INT(t.dhead, t.dtail);                     /* X alone is finished */
	pkt(&t, x, 1801 * S, 0x02, &dir, &is_new);          /* X's key reused: X ends */
	CHECK(is_new);
	pkt(&t, x_back, 1801 * S + 1, 0x12, &dir, &is_new);
	pkt(&t, x, 1801 * S + 2, 0x10, &dir, &is_new);
	pkt(&t, n, 1806 * S, 0x10, &dir, &is_new);          /* A's empty record idles out */
	CHECK_EQ_INT(t.dhead, UINT32_MAX);                  /* nothing is finished now */
	CHECK_EQ_INT(t.dtail, UINT32_MAX);
	pkt(&t, key(6, 4, 1003, 200, 80), 1807 * S, 0x02, &dir, &is_new);
	pkt(&t, key(6, 5, 1004, 200, 80), 1807 * S + 1, 0x02, &dir, &is_new); /* table full */
	CHECK_EQ_INT(t.stats.evicted[FLOW_EVICT_FINISHED], 0);
	CHECK_EQ_INT(t.stats.evicted[FLOW_EVICT_CLOSED], 0);
	CHECK_EQ_INT(t.stats.evicted[FLOW_EVICT_LRU], 1);
	flow_table_release(&t);
}

/* The lists stay consistent (flow_table_check) through everything that
 * moves flows between them: idle and active timeouts, a SYN restarting a
 * closed key, evictions, finishing and un-finishing (an active timeout
 * starts an empty record). Random packets of 60 keys into a table of 16
 * with timeouts of seconds and gaps of milliseconds to 12 s. */
static void test_lists_under_timeouts(void)
{
	static const uint8_t tcp_flags[] = {0x02, 0x12, 0x10, 0x10, 0x18, 0x11, 0x04};
	static const uint32_t timeouts[FLOW_TO_MAX] = {
		[FLOW_TO_TCP_HALF_OPEN] = 3, [FLOW_TO_TCP] = 6, [FLOW_TO_TCP_CLOSING] = 4,
		[FLOW_TO_TCP_CLOSED] = 2, [FLOW_TO_UDP] = 5, [FLOW_TO_DNS] = 2,
		[FLOW_TO_ICMP] = 3, [FLOW_TO_OTHER] = 5, [FLOW_TO_ACTIVE] = 8,
	};
	struct flow_table t;
	struct flow_table_options o;
	uint64_t x = 0x9e3779b97f4a7c15ull, now = 0;
	const char *bad = NULL;
	int dir;
	bool n;

	flow_table_options_default(&o);
	o.max_flows = 16;
	memcpy(o.timeout_s, timeouts, sizeof timeouts);
	nrecs = 0;
	CHECK_EQ_INT(flow_table_init(&t, &o, 24, 3, on_end, NULL), 0);
	for (int i = 0; i < 200000 && !bad; i++) {
		int id, side, kind;
		uint8_t fl = 0;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		id = (int)(x % 60);
		side = (int)(x >> 8) & 1;
		kind = id % 3;
		if (kind == 1)
			fl = tcp_flags[(x >> 16) % sizeof tcp_flags];
		/* mostly milliseconds apart, sometimes seconds, rarely past every idle timeout */
		switch ((x >> 24) % 64) {
		case 0:
			now += 12 * S;
			break;
		case 1: case 2: case 3:
			now += ((x >> 32) % 3000) * 1000;
			break;
		default:
			now += (x >> 32) % 50000;
		}
		{
			struct flow_key k = key(kind == 1 ? 6 : 17, (uint8_t)id, 1000, 200, kind == 0 ? 53 : 80);

			if (side)
				k = key(kind == 1 ? 6 : 17, 200, kind == 0 ? 53 : 80, (uint8_t)id, 1000);
			pkt(&t, k, now, fl, &dir, &n);
		}
		nrecs = 0; /* only the lists are checked here */
		bad = flow_table_check(&t);
	}
	if (bad)
		fprintf(stderr, "flow_table_check: %s\n", bad);
	CHECK(bad == NULL);
	CHECK(t.stats.ended[FLOW_END_ACTIVE] > 100 && t.stats.ended[FLOW_END_IDLE] > 1000 &&
	      t.stats.ended[FLOW_END_EVICTED] > 1000 && t.stats.restarted > 100);
	flow_table_flush(&t);
	CHECK(flow_table_check(&t) == NULL);
	CHECK_EQ_INT(t.stats.active, 0);
	flow_table_release(&t);
}

static void test_no_allocation(void)
{
	struct flow_table t;
	struct mallinfo2 before, after;
	int dir;
	bool n;

	init(&t, 1000);
	before = mallinfo2();
	/* many more flows than entries: evictions and reuse, never malloc */
	for (uint32_t i = 0; i < 200000; i++) {
		struct flow_key k = key((i & 1) ? 6 : 17, (uint8_t)i, (uint16_t)(i >> 8), 200, 80);

		nrecs = 0;
		pkt(&t, k, (uint64_t)i * 1000, (i & 2) ? 0x02 : 0x10, &dir, &n);
	}
	after = mallinfo2();
	CHECK_EQ_INT(after.uordblks, before.uordblks);
	CHECK_EQ_INT(t.stats.active, 1000);
	flow_table_release(&t);
}

/* The hash index under churn: a small table, many keys, random order. A
 * reference model says which keys must be in the table (the callback
 * removes them) and how many packets each has; a lookup that lost its key
 * would create a second flow and show as a wrong is_new or count. */
#define CHURN_KEYS 3000

static bool churn_in[CHURN_KEYS];
static uint64_t churn_count[CHURN_KEYS];

static void churn_end(struct flow *f, enum flow_end why, void *user)
{
	uint32_t id = (uint32_t)flow_port(f, 0) | (uint32_t)flow_port(f, 1) << 16;

	(void)user;
	(void)why;
	CHECK(id < CHURN_KEYS && churn_in[id]);
	if (id < CHURN_KEYS) {
		CHECK_EQ_INT(f->packets[0] + f->packets[1], churn_count[id]);
		churn_in[id] = false;
	}
}

static void test_index_churn(void)
{
	struct flow_table t;
	struct flow_table_options o;
	uint64_t x = 88172645463325252ull;
	int dir;
	bool n;

	flow_table_options_default(&o);
	o.max_flows = 700;
	CHECK_EQ_INT(flow_table_init(&t, &o, 8, 12345, churn_end, NULL), 0);
	for (uint32_t i = 0; i < 400000; i++) {
		uint32_t id;
		struct flow_key k;
		struct flow *f;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		/* skewed: low ids come back often, high ones rarely */
		id = (uint32_t)(x % CHURN_KEYS) % (uint32_t)(1 + (x >> 40) % CHURN_KEYS);
		/* port 0 on side 0 is the id's low half, so the callback can name the key */
		k = key(17, 1, (uint16_t)(id & 0xffff), 1, (uint16_t)(id >> 16));
		k.addr[1][3] = 2;
		f = flow_table_packet(&t, &k, (uint64_t)i * 1000, 100, 0, &dir, &n);
		CHECK(n == !churn_in[id]);
		if (n)
			churn_count[id] = 0;
		churn_in[id] = true;
		churn_count[id]++;
		CHECK_EQ_INT(f->packets[0] + f->packets[1], churn_count[id]);
		if (check_failures > 20)
			break;
	}
	CHECK(t.stats.ended[FLOW_END_EVICTED] > 1000);
	flow_table_flush(&t);
	for (uint32_t id = 0; id < CHURN_KEYS; id++)
		CHECK(!churn_in[id]);
	flow_table_release(&t);
}

int main(void)
{
	test_index_churn();
	test_bidirectional();
	test_idle_timeouts();
	test_due_times();
	test_tcp_close();
	test_eviction_order();
	test_eviction_finished_first();
	test_eviction_model();
	test_active_timeout();
	test_finished_after_active_timeout();
	test_lists_under_timeouts();
	test_no_allocation();
	return check_exit();
}
