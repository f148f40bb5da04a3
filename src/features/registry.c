/* registry.c - the one table of features; see features.h.
 *
 * Rows are indexed by enum feat_id, so the order here is the CSV column
 * order and the model's input order. Adding a feature means adding an id,
 * a row here and its computation in feat_compute.c; docs/features.md is then
 * regenerated with `nad flows --list-features=markdown`.
 */
#include "features/features.h"

#include <errno.h>
#include <string.h>

#define LIN FEAT_SCALE_LINEAR
#define LOG FEAT_SCALE_LOG1P

const struct feat_def feat_registry[FEAT_COUNT] = {
	[FEAT_DURATION] = { "duration", "s", "Time from the first to the last packet of the flow.", LOG, true },
	[FEAT_PACKETS_FWD] = { "packets_fwd", "packets", "Packets sent by the initiator.", LOG, true },
	[FEAT_PACKETS_BWD] = { "packets_bwd", "packets", "Packets sent by the responder.", LOG, true },
	[FEAT_BYTES_FWD] = { "bytes_fwd", "bytes", "IP-layer bytes sent by the initiator.", LOG, true },
	[FEAT_BYTES_BWD] = { "bytes_bwd", "bytes", "IP-layer bytes sent by the responder.", LOG, true },
	[FEAT_PKT_LEN_MEAN_FWD] = { "pkt_len_mean_fwd", "bytes", "Mean IP length of the initiator's packets.", LOG, true },
	[FEAT_PKT_LEN_MEAN_BWD] = { "pkt_len_mean_bwd", "bytes", "Mean IP length of the responder's packets (0 without any).", LOG, true },
	[FEAT_PKT_LEN_STD] = { "pkt_len_std", "bytes", "Population standard deviation of the IP length of all packets.", LOG, true },
	[FEAT_IAT_MEAN] = { "iat_mean", "s", "Mean time between consecutive packets of the flow, either direction.", LOG, true },
	[FEAT_IAT_STD] = { "iat_std", "s", "Population standard deviation of the time between consecutive packets.", LOG, true },
	[FEAT_SYN_COUNT] = { "syn_count", "packets", "TCP packets with SYN set, both directions.", LOG, true },
	[FEAT_FIN_COUNT] = { "fin_count", "packets", "TCP packets with FIN set, both directions.", LOG, true },
	[FEAT_RST_COUNT] = { "rst_count", "packets", "TCP packets with RST set, both directions.", LOG, true },
	[FEAT_PSH_COUNT] = { "psh_count", "packets", "TCP packets with PSH set, both directions.", LOG, true },
	[FEAT_ACK_COUNT] = { "ack_count", "packets", "TCP packets with ACK set, both directions.", LOG, true },
	[FEAT_BYTES_PER_S] = { "bytes_per_s", "bytes/s", "IP-layer bytes of both directions divided by the duration (0 for a zero duration).", LOG, true },
	[FEAT_PACKETS_PER_S] = { "packets_per_s", "packets/s", "Packets of both directions divided by the duration (0 for a zero duration).", LOG, true },

	[FEAT_PKT_LEN_MIN_FWD] = { "pkt_len_min_fwd", "bytes", "Smallest IP length sent by the initiator.", LOG, true },
	[FEAT_PKT_LEN_MAX_FWD] = { "pkt_len_max_fwd", "bytes", "Largest IP length sent by the initiator.", LOG, true },
	[FEAT_PKT_LEN_STD_FWD] = { "pkt_len_std_fwd", "bytes", "Population standard deviation of the initiator's IP lengths.", LOG, true },
	[FEAT_PKT_LEN_MIN_BWD] = { "pkt_len_min_bwd", "bytes", "Smallest IP length sent by the responder (0 without any).", LOG, true },
	[FEAT_PKT_LEN_MAX_BWD] = { "pkt_len_max_bwd", "bytes", "Largest IP length sent by the responder (0 without any).", LOG, true },
	[FEAT_PKT_LEN_STD_BWD] = { "pkt_len_std_bwd", "bytes", "Population standard deviation of the responder's IP lengths.", LOG, true },
	[FEAT_IAT_MEAN_FWD] = { "iat_mean_fwd", "s", "Mean time between consecutive packets of the initiator.", LOG, true },
	[FEAT_IAT_STD_FWD] = { "iat_std_fwd", "s", "Population standard deviation of the initiator's inter-arrival times.", LOG, true },
	[FEAT_IAT_MIN_FWD] = { "iat_min_fwd", "s", "Shortest gap between consecutive packets of the initiator.", LOG, true },
	[FEAT_IAT_MAX_FWD] = { "iat_max_fwd", "s", "Longest gap between consecutive packets of the initiator.", LOG, true },
	[FEAT_IAT_MEAN_BWD] = { "iat_mean_bwd", "s", "Mean time between consecutive packets of the responder.", LOG, true },
	[FEAT_IAT_STD_BWD] = { "iat_std_bwd", "s", "Population standard deviation of the responder's inter-arrival times.", LOG, true },
	[FEAT_IAT_MIN_BWD] = { "iat_min_bwd", "s", "Shortest gap between consecutive packets of the responder.", LOG, true },
	[FEAT_IAT_MAX_BWD] = { "iat_max_bwd", "s", "Longest gap between consecutive packets of the responder.", LOG, true },
	[FEAT_PAYLOAD_BYTES_FWD] = { "payload_bytes_fwd", "bytes", "Transport payload bytes sent by the initiator (TCP/UDP data, ICMP body), by header lengths.", LOG, true },
	[FEAT_PAYLOAD_BYTES_BWD] = { "payload_bytes_bwd", "bytes", "Transport payload bytes sent by the responder.", LOG, true },

	[FEAT_TCP_SYNACK_RTT] = { "tcp_synack_rtt", "s", "Time from the initiator's SYN to the responder's SYN/ACK (0 if not seen).", LOG, true },
	[FEAT_TCP_ACK_RTT] = { "tcp_ack_rtt", "s", "Time from the responder's SYN/ACK to the initiator's ACK completing the handshake (0 if not seen).", LOG, true },
	[FEAT_TCP_INIT_WIN_FWD] = { "tcp_init_win_fwd", "bytes", "TCP window field of the initiator's first packet, unscaled (0 for non-TCP).", LOG, true },
	[FEAT_TCP_INIT_WIN_BWD] = { "tcp_init_win_bwd", "bytes", "TCP window field of the responder's first packet, unscaled (0 if none).", LOG, true },

	[FEAT_FIRST_LEN_1] = { "first_len_1", "bytes", "IP length of the 1st packet, positive from the initiator, negative from the responder.", LIN, true },
	[FEAT_FIRST_LEN_2] = { "first_len_2", "bytes", "Signed IP length of the 2nd packet (0 if the flow is shorter).", LIN, true },
	[FEAT_FIRST_LEN_3] = { "first_len_3", "bytes", "Signed IP length of the 3rd packet (0 if the flow is shorter).", LIN, true },
	[FEAT_FIRST_LEN_4] = { "first_len_4", "bytes", "Signed IP length of the 4th packet (0 if the flow is shorter).", LIN, true },

	[FEAT_DNS_QUERY_LEN] = { "dns_query_len", "chars", "Length of the first DNS question name, dotted (0 without DNS).", LOG, true },
	[FEAT_DNS_LABELS] = { "dns_labels", "labels", "Number of labels in the first DNS question name.", LIN, true },
	[FEAT_DNS_LONGEST_LABEL] = { "dns_longest_label", "chars", "Length of the longest label of the first DNS question name.", LIN, true },
	[FEAT_DNS_LABEL_ENTROPY] = { "dns_label_entropy", "bits", "Shannon entropy per character of the question name's label characters.", LIN, true },
	[FEAT_DNS_QTYPE] = { "dns_qtype", "code", "DNS question type of the first question (1 A, 28 AAAA, 16 TXT, ...; 0 without DNS).", LIN, false },
	[FEAT_DNS_RCODE] = { "dns_rcode", "code", "Response code of the first DNS response (3 is NXDOMAIN; 0 without one).", LIN, true },
	[FEAT_DNS_ANSWERS] = { "dns_answers", "records", "Answer count of the first DNS response.", LOG, true },
	[FEAT_DNS_QUERIES] = { "dns_queries", "queries", "DNS queries (messages with the QR bit clear) in the flow; a DNS tunnel sends many on one port.", LOG, true },
	[FEAT_DNS_QUERY_LEN_MAX] = { "dns_query_len_max", "chars", "Length of the longest DNS question name in the flow, dotted (0 without DNS).", LOG, true },
	[FEAT_DNS_QTYPE_ADDR] = { "dns_qtype_addr", "ratio", "Share of the flow's DNS questions asking for addresses or service bindings (A, AAAA, SVCB, HTTPS).", LIN, true },
	[FEAT_DNS_QTYPE_PTR] = { "dns_qtype_ptr", "ratio", "Share of the flow's DNS questions asking for PTR records (reverse lookups, service discovery).", LIN, true },
	[FEAT_DNS_QTYPE_OTHER] = { "dns_qtype_other", "ratio", "Share of the flow's DNS questions of any other type (TXT, NULL, CNAME, MX, SRV, ANY, ...), the types that can carry data; for the categories (the model gets dns_data_qname_chars).", LIN, false },
	[FEAT_DNS_LONGEST_LABEL_MAX] = { "dns_longest_label_max", "chars", "Length of the longest label of any DNS question name in the flow (encoded data fills labels towards the 63-character limit); for the categories.", LIN, false },
	[FEAT_DNS_DATA_QNAME_CHARS] = { "dns_data_qname_chars", "chars", "Characters of question names, summed over the flow's unicast (not mDNS) DNS queries of the data-carrying types of dns_qtype_other: what a DNS tunnel sends upstream in names while the answers carry its downstream.", LOG, true },

	[FEAT_HTTP_REQUEST] = { "http_request", "bool", "1 if the initiator's first data is a plain-text HTTP/1.x request (on any TCP port).", LIN, false },
	[FEAT_HTTP_HOST_IP] = { "http_host_ip", "bool", "1 if that HTTP request's Host header is a bare IP address, not a name (with or without a port); for the categories.", LIN, false },
	[FEAT_HTTP_BARE_IP_PAYLOAD_FWD] = { "http_bare_ip_payload_fwd", "bytes", "Payload bytes the initiator sent in a flow whose first HTTP request names its server by a bare IP address in the Host header (0 otherwise): no name was looked up, as with a router's UPnP page, a local device's API, or malware given its server's address.", LOG, true },

	[FEAT_PROTO] = { "proto", "code", "IP protocol number (6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6).", LIN, false },
	[FEAT_PROTO_TCP] = { "proto_tcp", "bool", "1 for TCP flows (not a model input: it is 1 exactly when proto_udp, proto_icmp and proto_other are all 0).", LIN, false },
	[FEAT_PROTO_UDP] = { "proto_udp", "bool", "1 for UDP flows.", LIN, true },
	[FEAT_PROTO_ICMP] = { "proto_icmp", "bool", "1 for ICMP and ICMPv6 flows.", LIN, true },
	[FEAT_PROTO_OTHER] = { "proto_other", "bool", "1 for any other IP protocol (GRE, ESP, SCTP, ...).", LIN, true },
	[FEAT_IPV6] = { "ipv6", "bool", "1 for IPv6 flows.", LIN, true },
	[FEAT_RESP_PORT_CLASS] = { "resp_port_class", "class", "Responder's port: 0 none (not TCP/UDP, or port 0), 1 well-known (1-1023), 2 registered (1024-49151), 3 dynamic (49152-65535).", LIN, false },
	[FEAT_RESP_PORT_WELL_KNOWN] = { "resp_port_well_known", "bool", "1 if the responder's TCP/UDP port is well-known (1-1023).", LIN, true },
	[FEAT_RESP_PORT_REGISTERED] = { "resp_port_registered", "bool", "1 if the responder's TCP/UDP port is registered (1024-49151).", LIN, true },
	[FEAT_RESP_PORT_DYNAMIC] = { "resp_port_dynamic", "bool", "1 if the responder's TCP/UDP port is dynamic (49152-65535).", LIN, true },
	[FEAT_RESP_PORT_LOGIN] = { "resp_port_login", "bool", "1 if the responder's TCP port is a service that takes passwords (FTP, SSH, telnet, SMB, RDP, VNC, mail and database logins).", LIN, true },
	[FEAT_SRC_ADDR_CLASS] = { "src_addr_class", "class", "Initiator address: 0 public, 1 private (RFC 1918, RFC 6598 shared, IPv6 ULA), 2 link-local, 3 multicast or broadcast, 4 loopback, 5 unspecified.", LIN, false },
	[FEAT_DST_ADDR_CLASS] = { "dst_addr_class", "class", "Responder address, classes as for src_addr_class.", LIN, false },
	[FEAT_SRC_LOCAL] = { "src_local", "bool", "1 if the initiator's address is private, link-local or loopback.", LIN, true },
	[FEAT_DST_LOCAL] = { "dst_local", "bool", "1 if the responder's address is private, link-local or loopback.", LIN, true },
	[FEAT_DST_MULTICAST] = { "dst_multicast", "bool", "1 if the responder's address is multicast or broadcast.", LIN, true },

	[FEAT_HOST_FLOW_RATE_10S] = { "host_flow_rate_10s", "flows/s", "Flows the initiator started recently: count decayed with a 10 s time constant, divided by 10 s.", LOG, true },
	[FEAT_HOST_FLOW_RATE_300S] = { "host_flow_rate_300s", "flows/s", "As host_flow_rate_10s with a 300 s time constant.", LOG, true },
	[FEAT_HOST_DST_ADDRS_10S] = { "host_dst_addrs_10s", "addresses", "Estimated distinct responder addresses of the initiator's flows started in the last 10 s.", LOG, true },
	[FEAT_HOST_DST_ADDRS_300S] = { "host_dst_addrs_300s", "addresses", "Estimated distinct responder addresses of the initiator's flows started in the last 300 s.", LOG, true },
	[FEAT_HOST_DST_PORTS_10S] = { "host_dst_ports_10s", "ports", "Estimated distinct responder ports of the initiator's flows started in the last 10 s.", LOG, true },
	[FEAT_HOST_DST_PORTS_300S] = { "host_dst_ports_300s", "ports", "Estimated distinct responder ports of the initiator's flows started in the last 300 s.", LOG, true },
	[FEAT_HOST_FAILED_RATIO_300S] = { "host_failed_ratio_300s", "ratio", "Share of the initiator's recently ended flows (300 s decay, this one included) that got no reply or were refused with a RST.", LIN, true },
	[FEAT_HOST_BYTES_RATE_10S] = { "host_bytes_rate_10s", "bytes/s", "IP-layer bytes the initiator sent in its recently ended flows, decayed with a 10 s time constant, divided by 10 s.", LOG, true },
	[FEAT_HOST_BYTES_RATE_300S] = { "host_bytes_rate_300s", "bytes/s", "As host_bytes_rate_10s with a 300 s time constant.", LOG, true },

	[FEAT_DST_FLOW_RATE_10S] = { "dst_flow_rate_10s", "flows/s", "Flows any initiator started towards the responder recently: count decayed with a 10 s time constant, divided by 10 s.", LOG, true },
	[FEAT_DST_SRC_ADDRS_10S] = { "dst_src_addrs_10s", "addresses", "Estimated distinct initiators of flows to the responder started in the last 10 s (many for a flood from spoofed sources).", LOG, true },
	[FEAT_DST_SRC_ADDRS_300S] = { "dst_src_addrs_300s", "addresses", "Estimated distinct initiators of flows to the responder started in the last 300 s.", LOG, true },
	[FEAT_PAIR_FLOWS_10S] = { "pair_flows_10s", "flows", "Flows the initiator started to the same responder, protocol and port, this one included, decayed with a 10 s time constant.", LOG, true },
	[FEAT_PAIR_FLOWS_300S] = { "pair_flows_300s", "flows", "As pair_flows_10s with a 300 s time constant (many for password guessing and beacons).", LOG, true },
};

const size_t feat_count = FEAT_COUNT;

int feat_index(const char *name)
{
	if (!name)
		return -1;
	for (size_t i = 0; i < FEAT_COUNT; i++)
		if (!strcmp(feat_registry[i].name, name))
			return (int)i;
	return -1;
}

size_t feat_model_count(void)
{
	size_t n = 0;

	for (size_t i = 0; i < FEAT_COUNT; i++)
		n += feat_registry[i].model_input;
	return n;
}

int feat_model_index(size_t i)
{
	for (size_t k = 0; k < FEAT_COUNT; k++) {
		if (!feat_registry[k].model_input)
			continue;
		if (i == 0)
			return (int)k;
		i--;
	}
	return -1;
}

int feat_write_markdown(FILE *out)
{
	fprintf(out, "# Flow features\n\n"
		"<!-- Generated by `nad flows --list-features=markdown` from\n"
		"     src/features/registry.c; do not edit by hand (a test compares). -->\n\n"
		"Every record of `nad flows` starts with the identity columns\n"
		"`first_ts,last_ts,src_addr,src_port,dst_addr,dst_port,proto,vlan,end_reason,"
		"packets_fwd,packets_bwd,bytes_fwd,bytes_bwd`,\n"
		"where src is the initiator (the sender of the flow's first packet) and bytes\n"
		"are IP-layer bytes. The features below follow in this order; a feature whose\n"
		"name is already an identity column (packets_fwd, packets_bwd, bytes_fwd,\n"
		"bytes_bwd, proto) is not repeated in CSV. Directions: *fwd* is initiator to\n"
		"responder, *bwd* the reverse. Lengths are IP-layer lengths. Standard\n"
		"deviations are population ones (Welford's method); inter-arrival statistics\n"
		"of n packets use their n-1 gaps and are 0 below two packets.\n\n"
		"*Scale* tells `nad train` how to bring a feature to a common range before\n"
		"normalising: `log1p` for heavy-tailed counts, sizes, times and rates,\n"
		"`linear` otherwise. *Model* marks the model's inputs; codes that are not\n"
		"ordered quantities are kept out of it and have one-hot or boolean\n"
		"companions instead, and a few features serve only the category rules\n"
		"(docs/scoring.md).\n\n"
		"%zu features, %zu of them model inputs.\n\n"
		"| # | name | unit | scale | model | description |\n"
		"|---|---|---|---|---|---|\n",
		(size_t)FEAT_COUNT, feat_model_count());
	for (size_t i = 0; i < FEAT_COUNT; i++) {
		const struct feat_def *d = &feat_registry[i];

		fprintf(out, "| %zu | `%s` | %s | %s | %s | %s |\n", i + 1, d->name, d->unit,
			d->scale == FEAT_SCALE_LOG1P ? "log1p" : "linear", d->model_input ? "yes" : "no",
			d->description);
	}
	return ferror(out) ? -EIO : 0;
}
