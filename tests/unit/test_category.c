/* test_category.c - the category rules tell a port scan, a sweep and a
 * peer-to-peer fan-out apart by ports per host, and name ordinary DNS
 * lookups "dns" rather than beaconing or a tunnel. */
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
	 * a long label is still a tunnel. */
	fan_out(f, 1, 1);
	f[FEAT_DNS_QUERY_LEN_MAX] = 22;
	f[FEAT_DNS_LONGEST_LABEL] = 12;
	f[FEAT_DNS_QUERIES] = 1;
	f[FEAT_PAIR_FLOWS_300S] = 12;
	f[FEAT_DURATION] = 0.1;
	f[FEAT_BYTES_FWD] = 80;
	CHECK(!strcmp(score_category(f, 0, -1), "dns"));
	f[FEAT_DNS_LONGEST_LABEL] = 40;
	CHECK(!strcmp(score_category(f, 0, -1), "dns_tunnel"));
	return check_exit();
}
