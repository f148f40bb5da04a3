/* category.c - ordered, documented rules from features to an attack category. */
#include "score/category.h"

#include "features/features.h"

/* Labels this long are what encoders (base32, base64, hex) make of data
 * when they fill labels towards DNS's 63-character limit; hostnames built
 * from words, numbers and hyphens rarely reach it (the longest among the
 * shared benign captures' 700 names is 36). */
#define TUNNEL_LABEL_MIN 40

/* DNS that looks like a tunnel rather than lookups: unicast (mDNS stays on
 * the link and asks TXT, SRV and ANY for service discovery and probing),
 * and either most questions are of the types that carry data back (TXT,
 * NULL, CNAME, MX...: dns_qtype_other), or some question has a label of
 * encoded data. Features over every question of the flow: a chatty
 * resolver client asking a hundred ordinary names on one port (an old
 * resolver library does) has neither trait, however many it asks. */
static int dns_tunnel_traits(const double *f)
{
	if (f[FEAT_DST_MULTICAST] > 0)
		return 0;
	return (f[FEAT_DNS_QTYPE_OTHER] >= 0.5 && f[FEAT_DNS_DATA_QNAME_CHARS] > 0) ||
	       f[FEAT_DNS_LONGEST_LABEL_MAX] >= TUNNEL_LABEL_MIN;
}

/* The responder-side context: a flow that stands out mainly through these
 * is one of many reaching a busy responder. */
static int responder_feature(int f)
{
	return f == FEAT_DST_FLOW_RATE_10S || f == FEAT_DST_SRC_ADDRS_10S || f == FEAT_DST_SRC_ADDRS_300S;
}

/* About one distinct port per distinct host (the counts are estimates,
 * hence the wide band), and enough hosts. */
static int p2p_fan_out(double addrs, double ports, double min_addrs)
{
	return addrs >= min_addrs && ports >= 0.5 * addrs && ports <= 2.0 * addrs;
}

const char *score_category(const double *f, unsigned fan_in, int top_feature)
{
	int has_dns = f[FEAT_DNS_QUERY_LEN_MAX] > 0;
	int no_reply = f[FEAT_PACKETS_BWD] == 0;
	int tiny = f[FEAT_PACKETS_FWD] <= 3;
	int answered = f[FEAT_PACKETS_BWD] > 0;

	/* 1. DNS tunnelling: data-carrying question types or labels of
	 *    encoded data, anywhere in the flow. */
	if (has_dns && dns_tunnel_traits(f))
		return "dns_tunnel";
	/* 2. Flood: many sources hit one responder with small or unanswered
	 *    flows (spoofed SYN floods, reflection, amplification); the flow is
	 *    unusual mainly for what its responder receives, most of it from
	 *    others (a bystander's flow to a flooded server); one source opens
	 *    tiny flows to one service very fast (random source ports); or one
	 *    flow pushes packets fast with no answer. */
	if ((fan_in >= 20 && (no_reply || tiny)) ||
	    (responder_feature(top_feature) && f[FEAT_HOST_FLOW_RATE_10S] < 0.5 * f[FEAT_DST_FLOW_RATE_10S]) ||
	    (tiny && f[FEAT_PAIR_FLOWS_10S] >= 50) ||
	    (no_reply && f[FEAT_PACKETS_FWD] >= 100 && f[FEAT_PACKETS_PER_S] >= 100))
		return "flood";
	/* 3. Peer-to-peer fan-out: short UDP exchanges (up to 10 packets from
	 *    the initiator) with many hosts, each on its own unprivileged port
	 *    (distinct ports about as many as distinct hosts: half to twice). A port scan probes many ports per host (ports well above
	 *    hosts), a sweep one or a few ports on every host (ports well below
	 *    hosts); a P2P client (Skype, BitTorrent's DHT) asks every peer on
	 *    the random port that peer picked. */
	if (f[FEAT_PACKETS_FWD] <= 10 && f[FEAT_PROTO_UDP] > 0 && (f[FEAT_RESP_PORT_REGISTERED] > 0 || f[FEAT_RESP_PORT_DYNAMIC] > 0) &&
	    (p2p_fan_out(f[FEAT_HOST_DST_ADDRS_10S], f[FEAT_HOST_DST_PORTS_10S], 15) ||
	     p2p_fan_out(f[FEAT_HOST_DST_ADDRS_300S], f[FEAT_HOST_DST_PORTS_300S], 40)))
		return "p2p";
	/* 4. Scan: the initiator touched many ports lately, with small flows. */
	if (tiny && (f[FEAT_HOST_DST_PORTS_10S] >= 20 || f[FEAT_HOST_DST_PORTS_300S] >= 50))
		return "scan";
	/* 5. Sweep: many hosts, few ports. */
	if (tiny && (f[FEAT_HOST_DST_ADDRS_10S] >= 15 || f[FEAT_HOST_DST_ADDRS_300S] >= 40))
		return "sweep";
	/* 6. DNS lookups that look like nothing above: ordinary names (no
	 *    tunnel traits), not a flood. Repeated or failed lookups to the
	 *    resolver (an application retrying a name that does not exist, an
	 *    old resolver library asking many names on one port) are unusual
	 *    but not an attack on their own; incident.c keeps such incidents
	 *    below medium unless they grow large. */
	if (has_dns)
		return "dns";
	/* 7. Brute force: repeated short, answered conversations with one
	 *    login service (5+ in the last 5 minutes). */
	if (f[FEAT_RESP_PORT_LOGIN] > 0 && f[FEAT_PAIR_FLOWS_300S] >= 5 && f[FEAT_DURATION] < 60 && answered)
		return "brute_force";
	/* 8. Exfiltration: much more data out than in. */
	if (f[FEAT_BYTES_FWD] >= 5e6 && f[FEAT_BYTES_FWD] > 10 * f[FEAT_BYTES_BWD])
		return "exfiltration";
	/* 9. Connection flood: one source opening connections to one service
	 *    faster than anything polls, 50 or more in the last 10 s (a decayed
	 *    count), and answered: slowloris and HTTP floods hold or churn a
	 *    server's connections. Rule 2 has the tiny, unanswered kind; pollers
	 *    (the testbed's beacon, Empire's agent) stay under 7. After brute
	 *    force, so password guessing at a login port keeps its name. */
	if (answered && f[FEAT_PAIR_FLOWS_10S] >= 50)
		return "flood";
	/* 10. Command and control over plain HTTP: the flow opens with an
	 *    HTTP request that names its server by a bare IP address (no DNS
	 *    name behind it, as malware given its server's address does, and
	 *    routers' and devices' own pages, which a baseline that has them
	 *    does not find anomalous). Called beaconing: C2 is what polls. */
	if (f[FEAT_HTTP_HOST_IP] > 0 && answered)
		return "beaconing";
	/* 11. Beaconing: a long flow of small packets at a steady rhythm, or
	 *    the same small conversation with one service again and again. */
	if ((f[FEAT_PACKETS_FWD] >= 8 && f[FEAT_IAT_MEAN_FWD] >= 1.0 &&
	     f[FEAT_IAT_STD_FWD] < 0.2 * f[FEAT_IAT_MEAN_FWD] && f[FEAT_PKT_LEN_MEAN_FWD] < 400) ||
	    (f[FEAT_PAIR_FLOWS_300S] >= 5 && f[FEAT_DURATION] < 60 && answered && f[FEAT_BYTES_FWD] < 20000))
		return "beaconing";
	return "unknown";
}
