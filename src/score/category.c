/* category.c - ordered, documented rules from features to an attack category. */
#include "score/category.h"

#include "features/features.h"

/* DNS query types that ordinary clients rarely ask for but tunnels use to
 * carry data: NULL (10), TXT (16), and the "any" type (255). */
static int tunnel_qtype(double qtype)
{
	return qtype == 10 || qtype == 16 || qtype == 255;
}

/* Ports whose services take passwords and get guessed at: FTP, SSH,
 * telnet, SMTP, POP3, IMAP, SMB, MSSQL, MySQL, RDP, PostgreSQL, VNC,
 * HTTP(S) logins. */
static int login_port(unsigned port)
{
	static const unsigned ports[] = { 21, 22, 23, 25, 110, 143, 445, 1433, 3306, 3389, 5432, 5900, 80, 443, 8080 };

	for (unsigned i = 0; i < sizeof ports / sizeof ports[0]; i++)
		if (port == ports[i])
			return 1;
	return 0;
}

const char *score_category(const double *f, unsigned resp_port, unsigned fan_in)
{
	int has_dns = f[FEAT_DNS_QUERY_LEN] > 0;
	int no_reply = f[FEAT_PACKETS_BWD] == 0;
	int tiny = f[FEAT_PACKETS_FWD] <= 3;

	/* 1. DNS tunnelling: long, high-entropy names or data-carrying types. */
	if (has_dns && (f[FEAT_DNS_QUERY_LEN] >= 52 || f[FEAT_DNS_LONGEST_LABEL] >= 30 ||
			f[FEAT_DNS_LABEL_ENTROPY] >= 4.0 || tunnel_qtype(f[FEAT_DNS_QTYPE])))
		return "dns_tunnel";
	/* 2. Flood: many sources hit one responder with small or unanswered
	 *    flows (spoofed SYN floods, reflection, amplification), or one flow
	 *    pushes packets fast with no answer. */
	if ((fan_in >= 20 && (no_reply || tiny)) ||
	    (no_reply && f[FEAT_PACKETS_FWD] >= 100 && f[FEAT_PACKETS_PER_S] >= 100))
		return "flood";
	/* 3. Scan: the initiator touched many ports lately, with small flows. */
	if (tiny && (f[FEAT_HOST_DST_PORTS_10S] >= 20 || f[FEAT_HOST_DST_PORTS_300S] >= 50))
		return "scan";
	/* 4. Sweep: many hosts, few ports. */
	if (tiny && (f[FEAT_HOST_DST_ADDRS_10S] >= 15 || f[FEAT_HOST_DST_ADDRS_300S] >= 40))
		return "sweep";
	/* 5. Brute force: many short answered conversations with one login
	 *    service (15+ new flows in 5 minutes, few distinct ports). */
	if (login_port(resp_port) && f[FEAT_HOST_DST_PORTS_300S] <= 4 && f[FEAT_HOST_FLOW_RATE_300S] >= 0.05 &&
	    f[FEAT_DURATION] < 60 && f[FEAT_PACKETS_BWD] > 0)
		return "brute_force";
	/* 6. Exfiltration: much more data out than in. */
	if (f[FEAT_BYTES_FWD] >= 5e6 && f[FEAT_BYTES_FWD] > 10 * f[FEAT_BYTES_BWD])
		return "exfiltration";
	/* 7. Beaconing: a long flow of small packets at a steady rhythm. */
	if (f[FEAT_PACKETS_FWD] >= 8 && f[FEAT_IAT_MEAN_FWD] >= 1.0 &&
	    f[FEAT_IAT_STD_FWD] < 0.2 * f[FEAT_IAT_MEAN_FWD] && f[FEAT_PKT_LEN_MEAN_FWD] < 400)
		return "beaconing";
	return "unknown";
}
