/* test_arp_spoof.c - ARP spoofing given away by the spoofer (score/arp_spoof.h):
 * a MAC that claims an address and asks who-has for it, in either order,
 * is found on its own IP; the ARP a LAN makes on its own -- DHCP probes and
 * announcements, an address passing from one device to another, a gateway
 * and its hosts asking for each other -- is not; a request long after the
 * claim (past the window) is not either. */
#include <stdio.h>
#include <string.h>

#include "arp_packet.h"
#include "check.h"
#include "score/arp_spoof.h"

#define S 1000000ull /* one second in µs */
#define WINDOW (600 * S)

static const uint8_t SPOOFER[6] = { 0x00, 0x25, 0xb3, 0xbf, 0x91, 0xee };
static const uint8_t VICTIM[6] = { 0x00, 0x21, 0x70, 0xc0, 0x56, 0xf0 };
static const uint8_t GATEWAY[6] = { 0x00, 0x26, 0x0b, 0x31, 0x07, 0x33 };

/* chrissanders_arppoison's four ARP packets: the spoofer asks the victim
 * who-has .107 as if it were the gateway .1, the victim answers, the
 * spoofer says .1 is at its MAC, and 10 s later asks who-has .1 from its
 * own address .105: found then, on .105. The gateway's and the victim's
 * own ARP before it does not count. */
static void test_claim_then_ask(void)
{
	struct arp_spoof *s = arp_spoof_new(WINDOW, 256);
	struct arp_finding f;

	CHECK(s != NULL);
	struct dec_packet gw = test_arp(2, GATEWAY, "172.16.0.1", "172.16.0.107", 1 * S);
	struct dec_packet ask = test_arp(1, VICTIM, "172.16.0.107", "172.16.0.1", 1 * S - 1000);
	struct dec_packet forged_q = test_arp(1, SPOOFER, "172.16.0.1", "172.16.0.107", 4 * S);
	struct dec_packet reply = test_arp(2, VICTIM, "172.16.0.107", "172.16.0.1", 4 * S + 50);
	struct dec_packet forged_r = test_arp(2, SPOOFER, "172.16.0.1", "172.16.0.107", 4 * S + 70);
	struct dec_packet own = test_arp(1, SPOOFER, "172.16.0.105", "172.16.0.1", 14 * S);
	CHECK(!arp_spoof_observe(s, &ask, &f));
	CHECK(!arp_spoof_observe(s, &gw, &f));
	CHECK(!arp_spoof_observe(s, &forged_q, &f));
	CHECK(!arp_spoof_observe(s, &reply, &f));
	CHECK(!arp_spoof_observe(s, &forged_r, &f));
	CHECK(arp_spoof_observe(s, &own, &f));
	CHECK(!strcmp(f.ev.category, "arp_spoof") && !strcmp(f.ev.role, "attacker"));
	CHECK(!strcmp(f.ev.host, "172.16.0.105"));
	CHECK(!strcmp(f.target, "172.16.0.1"));
	CHECK_EQ_INT(f.ev.flows, 2);
	CHECK_EQ_INT(f.first_us, 4 * S);
	CHECK(strstr(f.ev.what, "00:25:b3:bf:91:ee (172.16.0.105) claimed 172.16.0.1 in ARP (2 packets) and "
			       "asked who-has 172.16.0.1 itself") != NULL);
	/* every further forged claim within the window says so again */
	forged_r.ts_us = 20 * S;
	CHECK(arp_spoof_observe(s, &forged_r, &f));
	CHECK_EQ_INT(f.ev.flows, 3);
	arp_spoof_free(s);
}

/* The other order (arpspoof resolves the gateway first, then poisons):
 * found at the first forged claim. Past the window, the two are unrelated. */
static void test_ask_then_claim(void)
{
	struct arp_spoof *s = arp_spoof_new(WINDOW, 256);
	struct arp_finding f;

	struct dec_packet own = test_arp(1, SPOOFER, "192.168.7.50", "192.168.7.1", 1 * S);
	struct dec_packet forged = test_arp(2, SPOOFER, "192.168.7.1", "192.168.7.20", 3 * S);
	CHECK(!arp_spoof_observe(s, &own, &f));
	CHECK(arp_spoof_observe(s, &forged, &f));
	CHECK(!strcmp(f.ev.host, "192.168.7.50") && !strcmp(f.target, "192.168.7.1"));

	own = test_arp(1, SPOOFER, "192.168.8.50", "192.168.8.1", 1000 * S);
	forged = test_arp(2, SPOOFER, "192.168.8.1", "192.168.8.20", 1000 * S + WINDOW + S);
	CHECK(!arp_spoof_observe(s, &own, &f));
	CHECK(!arp_spoof_observe(s, &forged, &f));
	arp_spoof_free(s);
}

/* What a LAN does on its own. A DHCP client probes the address it was
 * offered (sender 0.0.0.0), announces it (gratuitous request and reply),
 * then asks for the gateway; the gateway asks for it and it answers. Its
 * address later passes to another device, which probes and announces it
 * too, and the first device, now on a new address, talks to the gateway.
 * Nobody asked for an address it claimed. */
static void test_lan(void)
{
	struct arp_spoof *s = arp_spoof_new(WINDOW, 256);
	struct arp_finding f;
	static const uint8_t laptop[6] = { 0x02, 0, 0, 0, 0, 0x11 }, tv[6] = { 0x02, 0, 0, 0, 0, 0x22 };
	struct dec_packet seq[] = {
		test_arp(1, laptop, "0.0.0.0", "10.0.0.23", 1 * S),
		test_arp(1, laptop, "0.0.0.0", "10.0.0.23", 2 * S),
		test_arp(1, laptop, "10.0.0.23", "10.0.0.23", 3 * S),
		test_arp(2, laptop, "10.0.0.23", "10.0.0.23", 3 * S + 1),
		test_arp(1, laptop, "10.0.0.23", "10.0.0.1", 4 * S),
		test_arp(2, GATEWAY, "10.0.0.1", "10.0.0.23", 4 * S + 1),
		test_arp(1, GATEWAY, "10.0.0.1", "10.0.0.23", 60 * S),
		test_arp(2, laptop, "10.0.0.23", "10.0.0.1", 60 * S + 1),
		test_arp(1, tv, "0.0.0.0", "10.0.0.23", 100 * S),
		test_arp(1, tv, "10.0.0.23", "10.0.0.23", 101 * S),
		test_arp(1, laptop, "10.0.0.24", "10.0.0.1", 102 * S),
		test_arp(1, GATEWAY, "10.0.0.1", "10.0.0.23", 103 * S),
		test_arp(2, tv, "10.0.0.23", "10.0.0.1", 103 * S + 1),
	};
	for (size_t i = 0; i < sizeof seq / sizeof seq[0]; i++)
		CHECK(!arp_spoof_observe(s, &seq[i], &f));
	arp_spoof_free(s);
}

int main(void)
{
	test_claim_then_ask();
	test_ask_then_claim();
	test_lan();
	return check_exit();
}
