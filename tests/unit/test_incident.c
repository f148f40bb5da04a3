/* test_incident.c - anomalies roll up into incidents: one per host and
 * category within the window, floods keyed by the victim. */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "score/incident.h"

struct events {
	int opened, updated, closed;
	struct rec_incident last;
};

static void on_event(const struct rec_incident *inc, void *user)
{
	struct events *ev = user;

	if (inc->event == REC_INCIDENT_OPENED)
		ev->opened++;
	else if (inc->event == REC_INCIDENT_UPDATED)
		ev->updated++;
	else
		ev->closed++;
	ev->last = *inc;
}

static struct rec_anomaly anomaly(const char *src, const char *dst, uint16_t dport, const char *cat,
				  double score, uint64_t ts)
{
	struct rec_anomaly a;

	memset(&a, 0, sizeof a);
	snprintf(a.src, sizeof a.src, "%s", src);
	snprintf(a.dst, sizeof a.dst, "%s", dst);
	a.dport = dport;
	snprintf(a.category, sizeof a.category, "%s", cat);
	a.score = score;
	a.first_ts_us = a.last_ts_us = ts;
	return a;
}

int main(void)
{
	struct incident_options opt = { .window_us = 600000000ull, .max_open = 4,
					.level_thresholds = { 0, 50, 70, 85, 95 } };
	struct events ev = { 0 };
	struct incident_table *t = incident_table_new(&opt, on_event, &ev);
	uint64_t by_level[5];

	/* A scan of 1000 ports: one incident, a logarithmic number of updates. */
	for (int p = 1; p <= 1000; p++) {
		struct rec_anomaly a = anomaly("192.168.1.10", "192.168.1.25", (uint16_t)p, "scan", 60, 1000000ull * p);
		incident_table_add(t, &a);
		CHECK(!strncmp(a.incident_uid, "inc-", 4));
	}
	CHECK_EQ_INT(ev.opened, 1);
	CHECK(ev.updated >= 9 && ev.updated <= 12);
	CHECK_EQ_INT(ev.last.anomalies, 512); /* updates at powers of two */
	CHECK_EQ_INT(ev.closed, 0);
	/* Quiet for longer than the window: the incident closes with its totals. */
	incident_table_tick(t, 1000000000ull + opt.window_us + 1);
	CHECK_EQ_INT(ev.closed, 1);
	CHECK_EQ_INT(ev.last.event, REC_INCIDENT_CLOSED);
	CHECK(!strcmp(ev.last.host, "192.168.1.10"));
	CHECK(!strcmp(ev.last.role, "attacker"));
	CHECK_EQ_INT(ev.last.anomalies, 1000);
	/* 60 + 3*log2(1000) = 89.9: the count lifts a medium flow score to high. */
	CHECK_NEAR(ev.last.score, 60 + 3 * log2(1000.0), 1e-9);
	CHECK_EQ_INT(ev.last.level, REC_LEVEL_HIGH);
	CHECK(ev.last.distinct_ports > 900 && ev.last.distinct_ports < 1100);
	CHECK_EQ_INT(ev.last.distinct_peers, 1);
	CHECK(strstr(ev.last.summary, "probed") != NULL);

	/* A spoofed flood: 500 sources, one victim -> one incident for the victim. */
	for (int s = 0; s < 500; s++) {
		char src[32];
		snprintf(src, sizeof src, "10.%d.%d.1", s / 250, s % 250);
		struct rec_anomaly a = anomaly(src, "10.10.10.10", 25565, "flood", 75, 2000000000ull + s);
		incident_table_add(t, &a);
	}
	CHECK_EQ_INT(ev.opened, 2);
	CHECK_EQ_INT(ev.closed, 1);
	incident_table_tick(t, 2000000000ull + 500 + opt.window_us + 1);
	CHECK_EQ_INT(ev.closed, 2);
	CHECK(!strcmp(ev.last.host, "10.10.10.10"));
	CHECK(!strcmp(ev.last.role, "victim"));
	CHECK(ev.last.distinct_peers > 450 && ev.last.distinct_peers < 550);

	/* Same host, another category: a separate incident. */
	struct rec_anomaly b = anomaly("10.0.0.7", "10.0.0.1", 22, "brute_force", 55, 3000001000ull);
	incident_table_add(t, &b);
	struct rec_anomaly c = anomaly("10.0.0.7", "10.0.0.1", 53, "dns_tunnel", 55, 3000002000ull);
	incident_table_add(t, &c);
	CHECK_EQ_INT(ev.opened, 4);
	CHECK(strcmp(b.incident_uid, c.incident_uid) != 0);

	/* The table is bounded (max_open 4): a fifth host closes the stalest. */
	int closed_before = ev.closed;
	struct rec_anomaly d = anomaly("10.0.0.8", "10.0.0.1", 80, "unknown", 51, 3000003000ull);
	incident_table_add(t, &d);
	struct rec_anomaly e = anomaly("10.0.0.9", "10.0.0.1", 80, "unknown", 51, 3000004000ull);
	incident_table_add(t, &e);
	CHECK_EQ_INT(ev.closed, closed_before); /* 4 open, none closed yet */
	struct rec_anomaly f = anomaly("10.0.0.10", "10.0.0.1", 80, "unknown", 51, 3000005000ull);
	incident_table_add(t, &f);
	CHECK_EQ_INT(ev.closed, closed_before + 1);
	CHECK(!strcmp(ev.last.host, "10.0.0.10")); /* opened after closing the stalest */

	incident_table_counts(t, by_level);
	CHECK_EQ_INT(by_level[REC_LEVEL_HIGH] + by_level[REC_LEVEL_MEDIUM] + by_level[REC_LEVEL_LOW] +
			     by_level[REC_LEVEL_CRITICAL] + by_level[REC_LEVEL_NONE],
		     7);
	incident_table_close_all(t);
	CHECK_EQ_INT(ev.opened, ev.closed);
	incident_table_free(t);

	/* Suspicious flows (below low) count toward an incident silently; it is
	 * shown once max + 3*log2(count) reaches low: 40 + 3*log2(n) >= 50 at
	 * n = 11 (40 + 10.38); a lone suspicious flow never shows. */
	struct events sev = { 0 };
	t = incident_table_new(&opt, on_event, &sev);
	for (int i = 1; i <= 10; i++) {
		struct rec_anomaly s = anomaly("10.0.0.66", "10.0.0.10", 21, "brute_force", 40, 4000000000ull + i);
		incident_table_add(t, &s);
	}
	CHECK_EQ_INT(sev.opened + sev.updated + sev.closed, 0);
	struct rec_anomaly s11 = anomaly("10.0.0.66", "10.0.0.10", 21, "brute_force", 40, 4000000011ull);
	incident_table_add(t, &s11);
	CHECK_EQ_INT(sev.opened, 1);
	CHECK_EQ_INT(sev.last.anomalies, 11);
	CHECK_EQ_INT(sev.last.level, REC_LEVEL_LOW);
	CHECK(!strcmp(sev.last.uid, s11.incident_uid));
	struct rec_anomaly lone = anomaly("10.0.0.67", "10.0.0.10", 21, "brute_force", 45, 4000000012ull);
	incident_table_add(t, &lone);
	incident_table_close_all(t);
	CHECK_EQ_INT(sev.opened, 1); /* the lone flow never opened an incident */
	CHECK_EQ_INT(sev.closed, 1); /* ... so it has none to close either */
	incident_table_counts(t, by_level);
	CHECK_EQ_INT(by_level[REC_LEVEL_LOW], 1);
	/* a flood from one source belongs to the victim and names the source */
	struct rec_anomaly one = anomaly("10.0.0.66", "10.0.0.10", 80, "flood", 70, 5000000000ull);
	incident_table_add(t, &one);
	CHECK(!strcmp(sev.last.host, "10.0.0.10") && !strcmp(sev.last.role, "victim"));
	CHECK(strstr(sev.last.summary, "flooded by 10.0.0.66") != NULL);
	incident_table_free(t);

	/* P2P fan-out and DNS lookups stay below medium until 256 flows: a flow
	 * at 90 alone shows at low, the 256th lifts the incident to its real
	 * score (90 + 3*8 = 114 -> 100). */
	struct events nev = { 0 };
	t = incident_table_new(&opt, on_event, &nev);
	for (int i = 1; i <= 255; i++) {
		char dst[32];
		snprintf(dst, sizeof dst, "203.0.%d.%d", i / 200, i % 200);
		struct rec_anomaly p = anomaly("10.0.0.5", dst, (uint16_t)(20000 + i), "p2p", 90, 6000000000ull + i);
		incident_table_add(t, &p);
	}
	CHECK_EQ_INT(nev.last.level, REC_LEVEL_LOW);
	CHECK(nev.last.score < opt.level_thresholds[REC_LEVEL_MEDIUM]);
	CHECK(strstr(nev.last.summary, "peer-to-peer") != NULL);
	struct rec_anomaly p256 = anomaly("10.0.0.5", "203.0.9.9", 30000, "p2p", 90, 6000001000ull);
	incident_table_add(t, &p256);
	CHECK_EQ_INT(nev.last.level, REC_LEVEL_CRITICAL);
	struct rec_anomaly dns = anomaly("10.0.0.6", "10.0.0.1", 53, "dns", 99, 6000002000ull);
	incident_table_add(t, &dns);
	CHECK_EQ_INT(nev.last.level, REC_LEVEL_LOW);
	CHECK(strstr(nev.last.summary, "DNS lookups") != NULL);
	incident_table_free(t);
	return check_exit();
}
