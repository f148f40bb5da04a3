/* test_evidence.c - patterns that only show across flows (score/evidence.h):
 * a slow sweep, password guessing, a random-address flood, each with a
 * benign look-alike that must not count; and through detect_route, ordinary
 * flows (no category, score far below suspicious) that make an incident at
 * medium because of their pattern; and host discovery by ARP (arp_sweep.h)
 * through detect_route_arp, which no flow carries. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "arp_packet.h"
#include "check.h"
#include "features/features.h"
#include "score/detect_route.h"
#include "score/evidence.h"

#define S 1000000ull /* one second in µs */
#define WINDOW (600 * S)

static struct flow_record flow(const char *src, const char *dst, uint8_t proto, uint16_t dport, uint64_t t,
			       uint64_t dur, uint64_t pkts_fwd, uint64_t pkts_bwd, uint64_t bytes_fwd)
{
	struct flow_record r;
	unsigned a[4], b[4];

	memset(&r, 0, sizeof r);
	sscanf(src, "%u.%u.%u.%u", &a[0], &a[1], &a[2], &a[3]);
	sscanf(dst, "%u.%u.%u.%u", &b[0], &b[1], &b[2], &b[3]);
	for (int i = 0; i < 4; i++) {
		r.src[i] = (uint8_t)a[i];
		r.dst[i] = (uint8_t)b[i];
	}
	r.family = 4;
	r.proto = proto;
	r.sport = 40000;
	r.dport = dport;
	r.first_us = t;
	r.last_us = t + dur;
	r.packets[0] = pkts_fwd;
	r.packets[1] = pkts_bwd;
	r.bytes[0] = bytes_fwd;
	r.bytes[1] = pkts_bwd * 60;
	/* 40-byte headers; the responder's packets carry 20 bytes of data */
	r.feat[FEAT_PAYLOAD_BYTES_FWD] = bytes_fwd > 40 * pkts_fwd ? (double)(bytes_fwd - 40 * pkts_fwd) : 0;
	r.feat[FEAT_PAYLOAD_BYTES_BWD] = 20.0 * pkts_bwd;
	/* a host that has been talking for a while, to a responder others use:
	 * not "never seen" */
	r.feat[FEAT_HOST_FLOW_RATE_300S] = 0.5;
	r.feat[FEAT_DST_SRC_ADDRS_300S] = 5;
	r.feat[FEAT_RESP_PORT_LOGIN] = proto == 6 && (dport == 21 || dport == 22 || dport == 143);
	return r;
}

/* One flow from a made-up source to a made-up destination, as macof sends. */
static struct flow_record lone(unsigned i, uint64_t t)
{
	char src[32], dst[32];

	snprintf(src, sizeof src, "%u.%u.%u.%u", 1 + i % 200, (i * 7) % 256, (i * 13) % 256, 1 + i % 250);
	snprintf(dst, sizeof dst, "%u.%u.%u.%u", 1 + (i * 3) % 200, (i * 11) % 256, (i * 5) % 256, 1 + i % 250);
	struct flow_record r = flow(src, dst, 6, (uint16_t)(1000 + i), t, 0, 1, 0, 40);
	r.feat[FEAT_HOST_FLOW_RATE_300S] = 1.0 / 300; /* this flow and no other */
	r.feat[FEAT_DST_SRC_ADDRS_300S] = 1;
	return r;
}

static void test_slow_sweep(void)
{
	struct evidence *e = evidence_new(WINDOW, 64);
	struct evidence_finding f;
	char dst[32];
	int found_at = 0;

	/* One empty UDP probe (two packets: nmap's retry) every 5 s to 40 hosts
	 * of one /24: 200 s, far beyond any 10 s window; a decayed counter
	 * would hold about 2 hosts at a time. */
	for (int i = 1; i <= 40; i++) {
		snprintf(dst, sizeof dst, "10.1.2.%d", i);
		struct flow_record r = flow("10.9.9.9", dst, 17, 40125, (uint64_t)i * 5 * S, S, 2, 0, 56);
		if (evidence_observe(e, &r, &f) && !found_at)
			found_at = i;
	}
	CHECK_EQ_INT(found_at, EVIDENCE_SWEEP_MIN_HOSTS);
	CHECK(!strcmp(f.category, "sweep") && !strcmp(f.role, "attacker") && !strcmp(f.host, "10.9.9.9"));
	CHECK_EQ_INT(f.flows, 40);
	CHECK_NEAR(f.strength, 40.0 / EVIDENCE_SWEEP_MIN_HOSTS, 1e-12);
	CHECK(strstr(f.what, "probed 40 hosts of 10.1.2.0/24 on UDP port 40125") != NULL);
	CHECK(strstr(f.what, "no service answered") != NULL);
	/* a second probe to a host already counted is one more probe, not host */
	struct flow_record again = flow("10.9.9.9", "10.1.2.1", 17, 40125, 201 * S, S, 2, 0, 56);
	CHECK(evidence_observe(e, &again, &f));
	CHECK(strstr(f.what, "40 hosts") != NULL && strstr(f.what, "41 probes") != NULL);
	/* A TCP sweep of a populated subnet: 20 hosts silent, 20 refusing with
	 * a reset (an answer, but no service and no data) -- 40 hosts no
	 * service answered. */
	struct evidence *tcp = evidence_new(WINDOW, 64);
	int tcp_found_at = 0;
	for (int i = 1; i <= 40; i++) {
		snprintf(dst, sizeof dst, "10.1.4.%d", i);
		struct flow_record r = flow("10.9.9.8", dst, 6, 22, (uint64_t)i * S, 0, 1, i % 2, 40);
		r.feat[FEAT_PAYLOAD_BYTES_BWD] = 0;
		if (evidence_observe(tcp, &r, &f) && !tcp_found_at)
			tcp_found_at = i;
	}
	CHECK_EQ_INT(tcp_found_at, EVIDENCE_SWEEP_MIN_HOSTS);
	CHECK(strstr(f.what, "probed 40 hosts of 10.1.4.0/24 on TCP port 22") != NULL);
	evidence_free(tcp);

	/* quiet for longer than the window: the count starts again */
	struct flow_record late = flow("10.9.9.9", "10.1.2.99", 17, 40125, 202 * S + WINDOW + S, S, 2, 0, 56);
	CHECK(!evidence_observe(e, &late, &f));

	/* Look-alikes. A browser reaching 40 servers of one /24 on 443, all
	 * answering; a peer-to-peer client whose 40 silent peers are spread
	 * over 40 networks; 40 silent hosts of one /24 but each on its own
	 * port (that is a scan's business, not a sweep's); 40 multicast
	 * groups. None is a sweep. */
	for (int i = 1; i <= 40; i++) {
		char a[32], b[32], m[32];
		snprintf(a, sizeof a, "142.250.1.%d", i);
		snprintf(b, sizeof b, "%d.%d.7.7", 20 + i, i);
		snprintf(m, sizeof m, "239.1.1.%d", i);
		struct flow_record web = flow("10.8.8.8", a, 6, 443, 1000 * S + i * S, S, 12, 10, 2000);
		struct flow_record p2p = flow("10.8.8.8", b, 17, 6881, 1000 * S + i * S, 0, 1, 0, 120);
		struct flow_record ports = flow("10.8.8.7", "10.1.3.1", 17, (uint16_t)(7000 + i), 1000 * S + i * S, 0, 1, 0, 60);
		ports.dst[3] = (uint8_t)i;
		struct flow_record mc = flow("10.8.8.6", m, 17, 5353, 1000 * S + i * S, 0, 1, 0, 60);
		mc.feat[FEAT_DST_MULTICAST] = 1;
		CHECK(!evidence_observe(e, &web, &f));
		CHECK(!evidence_observe(e, &p2p, &f));
		CHECK(!evidence_observe(e, &mc, &f));
		/* same /24, same initiator, but a new port each time: 40 keys of one host */
		CHECK(!evidence_observe(e, &ports, &f));
	}
	evidence_free(e);
}

/* A full set gives up its stalest pattern, not whichever sits in its first
 * way: with room for 4 patterns (one set), a sweep that began first but
 * went on probing keeps its count when a fifth sweeper arrives, and the
 * sweeper quiet for longest is the one forgotten. */
static void test_full_set_forgets_stalest(void)
{
	struct evidence *e = evidence_new(WINDOW, 4);
	struct evidence_finding f;
	char dst[32];
	int found_at = 0;

	for (int i = 1; i <= 20; i++) {
		snprintf(dst, sizeof dst, "10.1.2.%d", i);
		struct flow_record r = flow("10.9.9.9", dst, 17, 40125, (uint64_t)i * S, S, 2, 0, 56);
		CHECK(!evidence_observe(e, &r, &f));
	}
	for (int k = 0; k < 3; k++) { /* three more sweepers fill the set */
		char src[32];

		snprintf(src, sizeof src, "10.9.9.%d", 10 + k);
		struct flow_record r = flow(src, "10.1.3.1", 17, 40125, (uint64_t)(21 + k) * S, S, 2, 0, 56);
		CHECK(!evidence_observe(e, &r, &f));
	}
	for (int i = 21; i <= 32; i++) { /* the first sweep goes on */
		snprintf(dst, sizeof dst, "10.1.2.%d", i);
		struct flow_record r = flow("10.9.9.9", dst, 17, 40125, (uint64_t)(i + 3) * S, S, 2, 0, 56);
		if (i == 22) { /* a fifth sweeper: 10.9.9.10, quiet since 21 s, makes room */
			struct flow_record n = flow("10.9.9.20", "10.1.4.1", 17, 40125, 25 * S, S, 2, 0, 56);
			CHECK(!evidence_observe(e, &n, &f));
		}
		if (evidence_observe(e, &r, &f) && !found_at)
			found_at = i;
	}
	CHECK_EQ_INT(found_at, EVIDENCE_SWEEP_MIN_HOSTS);
	evidence_free(e);
}

static void test_login_guessing(void)
{
	struct evidence *e = evidence_new(WINDOW, 64);
	struct evidence_finding f;
	int found_at = 0;

	/* 30 FTP sessions, one every 2 s, 2 s long, 600 +- 4 bytes from the
	 * client (USER, PASS with another password, QUIT): password guessing. */
	for (int i = 1; i <= 30; i++) {
		struct flow_record r = flow("192.168.56.1", "192.168.56.101", 6, 21, (uint64_t)i * 2 * S, 2 * S, 11,
					    9, 600 + (i % 3) * 4);
		if (evidence_observe(e, &r, &f) && !found_at)
			found_at = i;
	}
	CHECK_EQ_INT(found_at, EVIDENCE_LOGIN_MIN_SESSIONS);
	CHECK(!strcmp(f.category, "brute_force") && !strcmp(f.host, "192.168.56.1"));
	CHECK_EQ_INT(f.flows, 30);
	CHECK(strstr(f.what, "30 short sessions to the login service 192.168.56.101 port 21") != NULL);

	/* Look-alikes. A mail client polling IMAP every 60 s for two hours,
	 * the same small dialogue each time: 120 sessions, but never a run;
	 * 40 quick sessions to a web server (not a login service); 40 quick
	 * SSH sessions of very different sizes (someone's scripts copying
	 * files); 40 SSH sessions each longer than a minute. */
	for (int i = 1; i <= 120; i++) {
		struct flow_record imap = flow("10.0.0.20", "10.0.0.2", 6, 143, 10000 * S + (uint64_t)i * 60 * S, S,
					       8, 8, 700);
		CHECK(!evidence_observe(e, &imap, &f));
	}
	for (int i = 1; i <= 40; i++) {
		struct flow_record web = flow("10.0.0.21", "10.0.0.3", 6, 443, 20000 * S + (uint64_t)i * S, S, 8, 8, 700);
		struct flow_record scp = flow("10.0.0.22", "10.0.0.4", 6, 22, 20000 * S + (uint64_t)i * S, S, 20, 20,
					      i % 2 ? 3000 : 400000);
		struct flow_record work = flow("10.0.0.23", "10.0.0.4", 6, 22, 20000 * S + (uint64_t)i * S, 90 * S,
					       100, 100, 9000);
		CHECK(!evidence_observe(e, &web, &f));
		CHECK(!evidence_observe(e, &scp, &f));
		CHECK(!evidence_observe(e, &work, &f));
	}
	/* a guessing run interrupted by a pause longer than 30 s starts again */
	for (int i = 1; i <= 19; i++) {
		struct flow_record r = flow("10.0.0.24", "10.0.0.4", 6, 22, 30000 * S + (uint64_t)i * S, S, 10, 10, 900);
		CHECK(!evidence_observe(e, &r, &f));
	}
	struct flow_record after_pause = flow("10.0.0.24", "10.0.0.4", 6, 22, 30100 * S, S, 10, 10, 900);
	CHECK(!evidence_observe(e, &after_pause, &f));
	evidence_free(e);
}

static void test_random_address_flood(void)
{
	struct evidence *e = evidence_new(WINDOW, 64);
	struct evidence_finding f;
	int found_at = 0;

	/* 60 one-packet SYNs within 60 ms, each between two addresses never
	 * seen before. */
	for (unsigned i = 1; i <= 60; i++) {
		struct flow_record r = lone(i, 50000 * S + i * 1000);
		if (evidence_observe(e, &r, &f) && !found_at)
			found_at = (int)i;
	}
	CHECK_EQ_INT(found_at, EVIDENCE_LONE_MIN_FLOWS);
	CHECK(!strcmp(f.category, "flood") && !strcmp(f.role, "network"));
	CHECK(!strcmp(f.host, "0.0.0.0/0")); /* random over the whole space: no narrower network */
	CHECK_EQ_INT(f.flows, 60);
	CHECK(strstr(f.what, "60 unanswered TCP flows") != NULL);

	/* Look-alikes. A spoofed SYN flood on one victim: sources never seen,
	 * but the victim hears from all of them (its own incident, keyed by
	 * the victim, comes from the flows' category); new devices appearing
	 * on a LAN, one unanswered flow every 20 s: never a burst. */
	for (unsigned i = 1; i <= 100; i++) {
		struct flow_record r = lone(i, 60000 * S + i * 1000);
		r.dst[0] = 10, r.dst[1] = 10, r.dst[2] = 10, r.dst[3] = 10;
		r.feat[FEAT_DST_SRC_ADDRS_300S] = i;
		CHECK(!evidence_observe(e, &r, &f));
	}
	for (unsigned i = 1; i <= 100; i++) {
		struct flow_record r = lone(i, 70000 * S + i * 20 * S);
		CHECK(!evidence_observe(e, &r, &f));
	}
	evidence_free(e);
}

struct events {
	int opened;
	struct rec_incident last;
};

static void on_event(const struct rec_incident *inc, void *user)
{
	struct events *ev = user;

	ev->opened += inc->event == REC_INCIDENT_OPENED;
	ev->last = *inc;
}

/* Through the one routing rule of nad detect, nad eval and the service:
 * flows the model finds ordinary (score 10, no category) join nothing on
 * their own, but a sweep of 64 silent hosts makes an incident at medium
 * + 3 points (64 = twice the minimum), whose summary says what was seen. */
static void test_route(void)
{
	struct incident_options opt = { .window_us = WINDOW, .max_open = 16,
					.level_thresholds = { 0, 50, 65, 80, 95 } };
	struct events ev = { 0 };
	struct incident_table *t = incident_table_new(&opt, on_event, &ev);
	struct scored_flow ordinary;
	struct rec_anomaly a;
	char dst[32];
	int routed = 0;

	memset(&ordinary, 0, sizeof ordinary);
	ordinary.score = 10;
	ordinary.level = REC_LEVEL_NONE;
	for (int i = 1; i <= 64; i++) {
		snprintf(dst, sizeof dst, "172.20.5.%d", i);
		struct flow_record r = flow("172.20.1.1", dst, 6, 80, (uint64_t)i * S, 0, 1, 0, 44);
		enum detect_route how = detect_route_flow(t, &r, &ordinary, &a);
		if (i < EVIDENCE_SWEEP_MIN_HOSTS)
			CHECK_EQ_INT(how, DETECT_ROUTE_NONE);
		else
			CHECK_EQ_INT(how, DETECT_ROUTE_SUSPICIOUS); /* joins; not an anomaly of its own */
		routed += how != DETECT_ROUTE_NONE;
	}
	CHECK_EQ_INT(routed, 64 - EVIDENCE_SWEEP_MIN_HOSTS + 1);
	CHECK_EQ_INT(ev.opened, 1);
	CHECK(!strcmp(a.category, "sweep") && !strcmp(a.incident_uid, ev.last.uid));
	CHECK(!strcmp(ev.last.host, "172.20.1.1") && !strcmp(ev.last.category, "sweep"));
	CHECK_NEAR(ev.last.score, 65 + 3 * log2(64.0 / EVIDENCE_SWEEP_MIN_HOSTS), 1e-9);
	CHECK_EQ_INT(ev.last.level, REC_LEVEL_MEDIUM);
	CHECK_EQ_INT(ev.last.anomalies, 64);
	CHECK(strstr(ev.last.summary, "probed 64 hosts of 172.20.5.0/24 on TCP port 80") != NULL);
	CHECK(strstr(ev.last.explanation, "pattern across flows") != NULL);

	/* The look-alike through the same route: a client fetching from 64
	 * servers of one /24, every one answering, stays out of incidents. */
	for (int i = 1; i <= 64; i++) {
		snprintf(dst, sizeof dst, "172.20.6.%d", i);
		struct flow_record r = flow("172.20.1.2", dst, 6, 80, 100 * S + (uint64_t)i * S, S, 6, 5, 400);
		CHECK_EQ_INT(detect_route_flow(t, &r, &ordinary, &a), DETECT_ROUTE_NONE);
	}
	CHECK_EQ_INT(ev.opened, 1);
	incident_table_free(t);
}

/* Through detect_route_arp, the path of nad detect and the service: an
 * nmap -sn style sweep of 64 addresses (each asked twice, none answering)
 * opens one sweep incident for the sender's IP at medium + 3 points, and
 * a non-ARP packet is ignored. */
static void test_route_arp(void)
{
	static const uint8_t sender[6] = { 0xc4, 0x2c, 0x03, 0x3b, 0x6c, 0xaa };
	struct incident_options opt = { .window_us = WINDOW, .max_open = 16,
					.level_thresholds = { 0, 50, 65, 80, 95 } };
	struct events ev = { 0 };
	struct incident_table *t = incident_table_new(&opt, on_event, &ev);
	char tpa[32];
	int joined = 0;

	CHECK(t != NULL);
	for (unsigned round = 0; round < 2; round++)
		for (unsigned i = 1; i <= 64; i++) {
			snprintf(tpa, sizeof tpa, "192.168.1.%u", i + 100);
			struct dec_packet p = test_arp(1, sender, "192.168.1.71", tpa, (round * 64 + i) * S / 50);
			joined += detect_route_arp(t, &p);
		}
	/* first round: from the 33rd request on (32 judged); second: all */
	CHECK_EQ_INT(joined, 2 * 64 - ARP_SWEEP_MIN_HOSTS);
	CHECK_EQ_INT(ev.opened, 1);
	CHECK(!strcmp(ev.last.host, "192.168.1.71") && !strcmp(ev.last.role, "attacker"));
	CHECK(!strcmp(ev.last.category, "sweep"));
	CHECK_EQ_INT(ev.last.level, REC_LEVEL_MEDIUM);
	CHECK_NEAR(ev.last.score, 65 + 3 * log2(64.0 / ARP_SWEEP_MIN_HOSTS), 1e-9);
	CHECK_EQ_INT(ev.last.anomalies, 128);
	CHECK(strstr(ev.last.summary, "asked ARP who-has for 64 addresses of 192.168.1.0/24") != NULL);
	CHECK(strstr(ev.last.explanation, "ARP makes no IP flow") != NULL);

	struct dec_packet ip = test_arp(1, sender, "192.168.1.71", "192.168.1.1", 10 * S);
	ip.l3 = DEC_L3_IPV4;
	CHECK(!detect_route_arp(t, &ip));
	incident_table_close_all(t);
	CHECK_EQ_INT(ev.last.event, REC_INCIDENT_CLOSED);
	incident_table_free(t);
}

int main(void)
{
	test_slow_sweep();
	test_full_set_forgets_stalest();
	test_login_guessing();
	test_random_address_flood();
	test_route();
	test_route_arp();
	return check_exit();
}
