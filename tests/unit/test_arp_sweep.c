/* test_arp_sweep.c - host discovery by ARP (score/arp_sweep.h): a sweep fires
 * exactly at its minimum of unanswered addresses and not one below; answered
 * requests, gratuitous ARP, ARP probes, a quiet pause and requests spread
 * over several senders do not add up; the majority rule (more unanswered
 * than answered) holds at its edge. test_evidence.c takes a sweep through
 * detect_route_arp to its incident. */
#include <stdio.h>
#include <string.h>

#include "arp_packet.h"
#include "check.h"
#include "score/arp_sweep.h"

#define S 1000000ull /* one second in µs */
#define WINDOW (600 * S)

static const uint8_t MAC_A[6] = { 0xc4, 0x2c, 0x03, 0x3b, 0x6c, 0xaa };

static struct dec_packet who_has(const char *spa, const char *tpa, uint64_t t)
{
	return test_arp(1, MAC_A, spa, tpa, t);
}

static struct dec_packet is_at(const char *spa, const char *tpa, uint64_t t)
{
	static const uint8_t mac_b[6] = { 0x02, 0, 0, 0, 0, 0x0b };

	return test_arp(2, mac_b, spa, tpa, t);
}

static void addr(char *buf, size_t len, const char *net, unsigned host)
{
	snprintf(buf, len, "%s.%u", net, host);
}

/* 31 unanswered addresses, each asked twice (as nmap does): nothing. The
 * 32nd, asked once: nothing yet (it has had no time to answer). Its retry:
 * a sweep by the sender's IP, at strength 1, whose `what` names the
 * sender's MAC and the /24. Asking again for an address already asked
 * does not count it twice. */
static void test_minimum(void)
{
	struct arp_sweep *s = arp_sweep_new(WINDOW, 64);
	struct arp_finding f;
	char tpa[32];

	CHECK(s != NULL);
	for (unsigned i = 1; i < ARP_SWEEP_MIN_HOSTS; i++) {
		addr(tpa, sizeof tpa, "192.168.1", i);
		struct dec_packet p = who_has("192.168.1.71", tpa, i * S / 100);
		CHECK(!arp_sweep_observe(s, &p, &f));
		CHECK(!arp_sweep_observe(s, &p, &f)); /* a retry: same address */
	}
	addr(tpa, sizeof tpa, "192.168.1", ARP_SWEEP_MIN_HOSTS);
	struct dec_packet p = who_has("192.168.1.71", tpa, S);
	CHECK(!arp_sweep_observe(s, &p, &f));
	p.ts_us += S / 100;
	CHECK(arp_sweep_observe(s, &p, &f));
	CHECK(!strcmp(f.ev.category, "sweep") && !strcmp(f.ev.role, "attacker"));
	CHECK(!strcmp(f.ev.host, "192.168.1.71"));
	CHECK(!strcmp(f.target, "192.168.1.32"));
	CHECK_EQ_INT(f.ev.flows, 2 * ARP_SWEEP_MIN_HOSTS);
	CHECK_NEAR(f.ev.strength, 1.0, 1e-12);
	CHECK_EQ_INT(f.first_us, S / 100);
	CHECK(strstr(f.ev.what, "192.168.1.71 (c4:2c:03:3b:6c:aa) asked ARP who-has for 32 addresses of "
			       "192.168.1.0/24") != NULL);
	CHECK(strstr(f.ev.what, "32 never answered") != NULL);
	arp_sweep_free(s);
}

/* A gateway resolving 100 hosts it forwards to: each answers. Nothing. */
static void test_answered(void)
{
	struct arp_sweep *s = arp_sweep_new(WINDOW, 64);
	struct arp_finding f;
	char tpa[32];

	for (unsigned i = 2; i < 102; i++) {
		addr(tpa, sizeof tpa, "10.1.2", i);
		struct dec_packet q = who_has("10.1.2.1", tpa, i * S);
		struct dec_packet r = is_at(tpa, "10.1.2.1", i * S + 300);
		CHECK(!arp_sweep_observe(s, &q, &f));
		CHECK(!arp_sweep_observe(s, &r, &f));
	}
	/* A host that showed itself by asking (its own request) counts as
	 * answered too: 40 hosts announce themselves, then one sender asks
	 * for all of them. */
	for (unsigned i = 2; i < 42; i++) {
		addr(tpa, sizeof tpa, "10.1.3", i);
		struct dec_packet own = test_arp(1, MAC_A, tpa, "10.1.3.1", 200 * S + i);
		CHECK(!arp_sweep_observe(s, &own, &f));
	}
	for (unsigned i = 2; i < 42; i++) {
		addr(tpa, sizeof tpa, "10.1.3", i);
		struct dec_packet q = who_has("10.1.3.1", tpa, 300 * S + i);
		CHECK(!arp_sweep_observe(s, &q, &f));
	}
	arp_sweep_free(s);
}

/* Gratuitous ARP (who-has my own address, and is-at announcements) from
 * 100 hosts, and ARP probes (sender 0.0.0.0) for 100 addresses from one
 * MAC, as a DHCP client checking its lease or a burst of new devices make. */
static void test_gratuitous_and_probes(void)
{
	struct arp_sweep *s = arp_sweep_new(WINDOW, 64);
	struct arp_finding f;
	char ip[32];

	for (unsigned i = 1; i <= 100; i++) {
		addr(ip, sizeof ip, "172.16.0", i);
		struct dec_packet g = who_has(ip, ip, i * S);
		struct dec_packet a = is_at(ip, ip, i * S + 1);
		struct dec_packet probe = who_has("0.0.0.0", ip, i * S + 2);
		CHECK(!arp_sweep_observe(s, &g, &f));
		CHECK(!arp_sweep_observe(s, &a, &f));
		CHECK(!arp_sweep_observe(s, &probe, &f));
	}
	arp_sweep_free(s);
}

/* More unanswered than answered, at the edge: of 70 addresses asked, 35
 * answered and 35 not is no sweep (a gateway whose hosts half went away);
 * one more unanswered address (36 of 71) is. */
static void test_majority(void)
{
	struct arp_sweep *s = arp_sweep_new(WINDOW, 64);
	struct arp_finding f;
	char tpa[32];

	for (unsigned i = 1; i <= 70; i++) {
		addr(tpa, sizeof tpa, "192.168.9", i);
		struct dec_packet q = who_has("192.168.9.200", tpa, i * S);
		struct dec_packet r = is_at(tpa, "192.168.9.200", i * S + 500);
		CHECK(!arp_sweep_observe(s, &q, &f));
		if (i % 2) /* odd addresses answer */
			CHECK(!arp_sweep_observe(s, &r, &f));
	}
	/* a retry judges all 70: 35 answered, 35 not */
	struct dec_packet q = who_has("192.168.9.200", "192.168.9.2", 71 * S);
	CHECK(!arp_sweep_observe(s, &q, &f));
	q = who_has("192.168.9.200", "192.168.9.71", 72 * S);
	CHECK(!arp_sweep_observe(s, &q, &f)); /* .71 not judged yet */
	q = who_has("192.168.9.200", "192.168.9.72", 73 * S);
	CHECK(arp_sweep_observe(s, &q, &f));
	CHECK(strstr(f.ev.what, "for 72 addresses") && strstr(f.ev.what, "36 never answered"));
	arp_sweep_free(s);
}

/* 20 addresses, then a pause longer than the window, then 20 more: two
 * short lookups, not one sweep. 20 addresses from each of three senders
 * (other IP, other MAC, other VLAN) of one /24: none reaches 32. */
static void test_pause_and_senders(void)
{
	struct arp_sweep *s = arp_sweep_new(WINDOW, 64);
	struct arp_finding f;
	static const uint8_t mac_c[6] = { 0x02, 0, 0, 0, 0, 0x0c };
	char tpa[32];

	for (unsigned i = 1; i <= 40; i++) {
		addr(tpa, sizeof tpa, "192.168.5", i);
		uint64_t t = i * S + (i > 20 ? WINDOW + S : 0);
		struct dec_packet q = who_has("192.168.5.250", tpa, t);
		CHECK(!arp_sweep_observe(s, &q, &f));
	}
	for (unsigned i = 1; i <= 60; i++) {
		addr(tpa, sizeof tpa, "192.168.6", i);
		uint64_t t = 5000 * S + i * S;
		struct dec_packet q = i <= 20 ? who_has("192.168.6.250", tpa, t)
				      : i <= 40 ? test_arp(1, mac_c, "192.168.6.250", tpa, t)
						: who_has("192.168.6.250", tpa, t);
		if (i > 40)
			q.vlan = 7;
		CHECK(!arp_sweep_observe(s, &q, &f));
	}
	arp_sweep_free(s);
}

int main(void)
{
	test_minimum();
	test_answered();
	test_gratuitous_and_probes();
	test_majority();
	test_pause_and_senders();
	return check_exit();
}
