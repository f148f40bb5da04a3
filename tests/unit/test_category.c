/* test_category.c - the category rules tell a port scan, a sweep and a
 * peer-to-peer fan-out apart by ports per host, and name ordinary DNS
 * lookups "dns" rather than beaconing or a tunnel, from traits of all
 * the flow's DNS questions, and call HTTP to a bare IP beaconing unless
 * one source opens connections to the service as fast as a flood does. */
#include <string.h>

#include "check.h"
#include "features/features.h"
#include "score/category.h"

/* A small answered UDP flow from a host that lately contacted addrs hosts
 * on ports distinct responder ports, to a dynamic port. */
static void fan_out(double *f, double addrs, double ports)
{
	memset(f, 0, FEAT_COUNT * sizeof *f);
	f[FEAT_PACKETS_FWD] = 1;
	f[FEAT_PACKETS_BWD] = 1;
	f[FEAT_PROTO_UDP] = 1;
	f[FEAT_RESP_PORT_DYNAMIC] = 1;
	f[FEAT_HOST_DST_ADDRS_10S] = f[FEAT_HOST_DST_ADDRS_300S] = addrs;
	f[FEAT_HOST_DST_PORTS_10S] = f[FEAT_HOST_DST_PORTS_300S] = ports;
}

/* A short answered DNS flow to a resolver: queries, longest name and
 * label over its questions, and the shares of address, PTR and other
 * question types. */
static void dns_flow(double *f, double queries, double qlen_max, double label_max, double addr,
		     double ptr, double other)
{
	fan_out(f, 1, 1);
	f[FEAT_RESP_PORT_DYNAMIC] = 0;
	f[FEAT_RESP_PORT_WELL_KNOWN] = 1;
	f[FEAT_DURATION] = 0.1;
	f[FEAT_BYTES_FWD] = 80;
	f[FEAT_DNS_QUERIES] = queries;
	f[FEAT_DNS_QUERY_LEN_MAX] = qlen_max;
	f[FEAT_DNS_LONGEST_LABEL] = f[FEAT_DNS_LONGEST_LABEL_MAX] = label_max;
	f[FEAT_DNS_QTYPE_ADDR] = addr;
	f[FEAT_DNS_QTYPE_PTR] = ptr;
	f[FEAT_DNS_QTYPE_OTHER] = other;
}

int main(void)
{
	double f[FEAT_COUNT];

	fan_out(f, 80, 70); /* one port per peer: P2P */
	CHECK(!strcmp(score_category(f, 0, -1), "p2p"));
	fan_out(f, 2, 300); /* many ports on few hosts: a port scan */
	CHECK(!strcmp(score_category(f, 0, -1), "scan"));
	fan_out(f, 80, 2); /* a few ports on many hosts: a sweep */
	CHECK(!strcmp(score_category(f, 0, -1), "sweep"));
	fan_out(f, 80, 70);
	f[FEAT_PROTO_UDP] = 0; /* TCP fan-out is not P2P here */
	f[FEAT_PROTO_TCP] = 1;
	CHECK(strcmp(score_category(f, 0, -1), "p2p") != 0);
	fan_out(f, 80, 70);
	f[FEAT_RESP_PORT_DYNAMIC] = 0; /* well-known ports: not P2P */
	f[FEAT_RESP_PORT_WELL_KNOWN] = 1;
	CHECK(strcmp(score_category(f, 0, -1), "p2p") != 0);

	/* DNS: repeated lookups of ordinary names are "dns", not beaconing;
	 * a long label anywhere in the flow is a tunnel. */
	dns_flow(f, 1, 22, 12, 1, 0, 0);
	f[FEAT_PAIR_FLOWS_300S] = 12;
	CHECK(!strcmp(score_category(f, 0, -1), "dns"));
	f[FEAT_DNS_LONGEST_LABEL_MAX] = 45; /* a later question's label */
	CHECK(!strcmp(score_category(f, 0, -1), "dns_tunnel"));

	/* A chatty resolver client: 94 lookups on one port, half of them
	 * reverse lookups, names up to 56 characters, labels up to 36 (the
	 * 2006 Skype client). Many ordinary questions are not a tunnel. */
	dns_flow(f, 94, 56, 36, 0.45, 0.55, 0);
	f[FEAT_DNS_LABEL_ENTROPY] = 4.4;
	CHECK(!strcmp(score_category(f, 0, -1), "dns"));

	/* Most questions of data-carrying types, with their names sent to a
	 * resolver: a tunnel even with short labels (iodine's handshake). */
	dns_flow(f, 12, 71, 12, 0, 0, 1);
	f[FEAT_DNS_DATA_QNAME_CHARS] = 488;
	CHECK(!strcmp(score_category(f, 0, -1), "dns_tunnel"));
	dns_flow(f, 12, 71, 12, 0.6, 0, 0.4); /* a minority of them: lookups */
	f[FEAT_DNS_DATA_QNAME_CHARS] = 200;
	CHECK(!strcmp(score_category(f, 0, -1), "dns"));

	/* mDNS to the multicast group: TXT/ANY questions and long service
	 * instance labels are discovery and probing on the link (and their
	 * names do not count in dns_data_qname_chars). */
	dns_flow(f, 2, 60, 45, 0, 0, 1);
	f[FEAT_DST_MULTICAST] = 1;
	CHECK(!strcmp(score_category(f, 0, -1), "dns"));
	f[FEAT_DST_MULTICAST] = 0; /* the same to a unicast address */
	CHECK(!strcmp(score_category(f, 0, -1), "dns_tunnel"));

	/* An answered HTTP flow whose request names its server by a bare IP
	 * (Trickbot's one POST): command and control, "beaconing". The same
	 * request to a name, or unanswered, is not named for HTTP. */
	fan_out(f, 1, 1);
	f[FEAT_PROTO_UDP] = 0;
	f[FEAT_PROTO_TCP] = 1;
	f[FEAT_PACKETS_FWD] = 28;
	f[FEAT_PACKETS_BWD] = 46;
	f[FEAT_BYTES_FWD] = 2409;
	f[FEAT_BYTES_BWD] = 58557;
	f[FEAT_DURATION] = 8.4;
	f[FEAT_HTTP_REQUEST] = 1;
	f[FEAT_HTTP_HOST_IP] = 1;
	f[FEAT_HTTP_BARE_IP_PAYLOAD_FWD] = 1304;
	CHECK(!strcmp(score_category(f, 0, -1), "beaconing"));
	f[FEAT_HTTP_HOST_IP] = 0;
	f[FEAT_HTTP_BARE_IP_PAYLOAD_FWD] = 0;
	CHECK(!strcmp(score_category(f, 0, -1), "unknown"));
	f[FEAT_HTTP_HOST_IP] = 1;
	f[FEAT_PACKETS_BWD] = 0;
	CHECK(strcmp(score_category(f, 0, -1), "beaconing") != 0);
	/* The same request from a source that opened 82 connections to this
	 * service in the last 10 s (the testbed's slowloris, 300 connections
	 * at once) is a connection flood, not a poller; Empire's agent polls
	 * with at most 6.4, and 49.9 is still a poller. */
	f[FEAT_PACKETS_BWD] = 46;
	f[FEAT_PAIR_FLOWS_10S] = 82.4;
	CHECK(!strcmp(score_category(f, 0, -1), "flood"));
	f[FEAT_PAIR_FLOWS_10S] = 49.9;
	CHECK(!strcmp(score_category(f, 0, -1), "beaconing"));
	/* at a login port, fast repeated sessions stay password guessing */
	f[FEAT_PAIR_FLOWS_10S] = 82.4;
	f[FEAT_PAIR_FLOWS_300S] = 300;
	f[FEAT_RESP_PORT_LOGIN] = 1;
	CHECK(!strcmp(score_category(f, 0, -1), "brute_force"));
	f[FEAT_RESP_PORT_LOGIN] = 0;
	f[FEAT_PAIR_FLOWS_300S] = 0;
	f[FEAT_PAIR_FLOWS_10S] = 0;
	/* a scan's probe that happens to carry such a request stays a scan */
	f[FEAT_PACKETS_BWD] = 1;
	f[FEAT_PACKETS_FWD] = 2;
	f[FEAT_HOST_DST_PORTS_10S] = 300;
	CHECK(!strcmp(score_category(f, 0, -1), "scan"));
	return check_exit();
}
