#!/usr/bin/python3
"""Hand-worked numbers for the golden captures, checked against a fresh run
of `nad flows` (not against expected/), so a wrong golden file cannot hide
a bug. Each number below was derived from make_captures.py by hand; the
comment beside it shows the arithmetic. Usage: check_golden.py NAD
"""
import csv
import io
import math
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
failures = 0


def flows(nad, cap, *opts):
    out = subprocess.run([nad, "flows", "-r", os.path.join(HERE, cap), *opts], check=True,
                         capture_output=True, text=True, env=dict(os.environ, TZ="UTC")).stdout
    return list(csv.DictReader(io.StringIO(out)))


def expect(case, row, **want):
    global failures
    for k, v in want.items():
        got = row[k]
        if isinstance(v, float):
            ok = math.isclose(float(got), v, rel_tol=1e-5, abs_tol=1e-9)
        else:
            ok = got == str(v)
        if not ok:
            print("FAIL %s: %s = %s, expected %s" % (case, k, got, v))
            failures += 1


def main(nad):
    rows = flows(nad, "tcp_fin.pcap")
    assert len(rows) == 1
    # fwd: SYN 40, ACK 40, data 40+100, FIN 40, ACK 40; bwd: SYN/ACK 40, data 40+200, FIN 40
    expect("tcp_fin", rows[0], src_addr="192.168.1.10", src_port=40000, dst_port=80, proto=6,
           end_reason="fin", packets_fwd=5, packets_bwd=3, bytes_fwd=300, bytes_bwd=320,
           duration=0.08, pkt_len_mean_fwd=60.0, pkt_len_mean_bwd=320 / 3,
           pkt_len_std=math.sqrt((6 * 40**2 + 140**2 + 240**2) / 8 - 77.5**2),
           iat_mean=0.08 / 7, syn_count=2, fin_count=2, rst_count=0, psh_count=2, ack_count=7,
           bytes_per_s=620 / 0.08, packets_per_s=100.0,
           tcp_synack_rtt=0.010, tcp_ack_rtt=0.002, tcp_init_win_fwd=64240, tcp_init_win_bwd=65535,
           payload_bytes_fwd=100, payload_bytes_bwd=200,
           first_len_1=40, first_len_2=-40, first_len_3=40, first_len_4=140,
           iat_min_fwd=0.008, iat_max_fwd=0.040,  # fwd gaps .012 .008 .040 .020
           iat_mean_bwd=0.030,  # bwd at .010 .050 .070
           resp_port_class=1, src_addr_class=1, dst_addr_class=0, src_local=1, dst_local=0,
           proto_tcp=1, ipv6=0, dns_qtype=0,
           resp_port_well_known=1, resp_port_registered=0, resp_port_dynamic=0, resp_port_login=0,
           proto_other=0, dns_queries=0, dns_query_len_max=0,
           # one flow started at 0, context taken at its end, 0.08 s later
           pair_flows_10s=math.exp(-0.08 / 10), pair_flows_300s=math.exp(-0.08 / 300),
           dst_flow_rate_10s=math.exp(-0.08 / 10) / 10, dst_src_addrs_10s=1, dst_src_addrs_300s=1)

    rows = flows(nad, "dns.pcap")
    assert len(rows) == 2
    # query 20+8+33 (12 header + 17 name + 4), answer adds 16 bytes of A record + ... = 92
    expect("dns A", rows[0], packets_fwd=1, packets_bwd=1, bytes_fwd=61, bytes_bwd=92, duration=0.004,
           dns_query_len=15, dns_labels=3, dns_longest_label=7, dns_qtype=1, dns_rcode=0, dns_answers=1,
           # "wwwexamplecom": w3 e2 m2 x1 a1 p1 l1 c1 o1 over 13 chars
           dns_label_entropy=round(-sum(c / 13 * math.log2(c / 13) for c in (3, 2, 2, 1, 1, 1, 1, 1, 1)), 4),
           host_failed_ratio_300s=0.0, dns_queries=1, dns_query_len_max=15,
           dns_qtype_addr=1, dns_qtype_ptr=0, dns_qtype_other=0, dns_longest_label_max=7,
           dns_data_qname_chars=0,
           # both flows (sport 53000 at 0 s, 53001 at 1 s) go to the resolver's
           # port 53: one pair; both ended at end of input, so the context
           # already holds the later flow: 1 + e^(-1/10)
           pair_flows_10s=1 + math.exp(-0.1), dst_src_addrs_10s=1)
    expect("dns NXDOMAIN", rows[1], src_port=53001, dns_query_len=18, dns_labels=3, dns_longest_label=7,
           dns_qtype=16, dns_rcode=3, dns_answers=0, dns_queries=1, dns_query_len_max=18,
           dns_qtype_addr=0, dns_qtype_other=1, dns_longest_label_max=7,
           # one TXT query of 18 characters
           dns_data_qname_chars=18)

    rows = flows(nad, "dns_tunnel.pcap")
    assert len(rows) == 2
    # questions of the whole flow, not just the first: A www.example.com (15
    # chars, labels of 3/7/3) asked and answered, then TXT with a 45-char
    # label + ".t.example.net" (59) answered, then NULL with a 20-char label
    # (34) unanswered; 5 questions, 2 of them A
    expect("dns tunnel", rows[0], packets_fwd=3, packets_bwd=2, dns_queries=3,
           dns_query_len=15, dns_longest_label=7, dns_qtype=1,
           dns_query_len_max=59, dns_longest_label_max=45,
           dns_qtype_addr=0.4, dns_qtype_other=0.6,
           # the TXT and NULL queries' names, 59 + 34; answers and A not counted
           dns_data_qname_chars=93)
    # mDNS TXT (_googlecast._tcp.local, 22; longest label 11) and ANY
    # (myhost.local): other types, but link-local service discovery, no data
    expect("mdns", rows[1], src_port=5353, dst_addr="224.0.0.251", dns_queries=2, dns_query_len_max=22,
           dns_longest_label_max=11, dns_qtype_other=1, dns_data_qname_chars=0, dst_multicast=1)

    rows = flows(nad, "icmp_echo.pcap")
    assert len(rows) == 1
    # ICMP echo: both ports are the echo identifier 0x1234; 20 + 8 + 56 = 84 bytes each
    expect("icmp", rows[0], proto=1, src_port=4660, dst_port=4660, packets_fwd=3, packets_bwd=3,
           bytes_fwd=252, bytes_bwd=252, duration=2.02, iat_mean=0.404, iat_mean_fwd=1.0,
           payload_bytes_fwd=168, proto_icmp=1, resp_port_class=0, end_reason="end_of_input",
           # the echo identifier is not a service port: no ports counted
           host_dst_ports_10s=0, resp_port_well_known=0, proto_other=0)

    rows = flows(nad, "ipv6_tcp.pcap")
    assert len(rows) == 1
    # IPv6: 40 + 20 TCP (+50 data); RST from the responder
    expect("ipv6", rows[0], src_addr="2001:db8::10", dst_addr="2001:db8::1", end_reason="rst",
           packets_fwd=3, packets_bwd=2, bytes_fwd=230, bytes_bwd=120, rst_count=1,
           tcp_synack_rtt=0.001, tcp_ack_rtt=0.001, ipv6=1, src_addr_class=0, host_failed_ratio_300s=0.0)

    rows = flows(nad, "vlan.pcap")
    assert len(rows) == 2
    expect("vlan 42", rows[0], vlan=42, packets_fwd=1, packets_bwd=1, bytes_fwd=100, bytes_bwd=50)
    expect("vlan 43", rows[1], vlan=43, packets_fwd=1, packets_bwd=0, host_dst_ports_10s=1)

    rows = flows(nad, "frags.pcap")
    assert len(rows) == 2
    # 3000-byte datagram in fragments of 1480 payload: 1500 + 1500 + 40 IP bytes
    expect("frags", rows[0], src_port=5000, dst_port=6000, packets_fwd=3, bytes_fwd=3040,
           pkt_len_min_fwd=40, pkt_len_max_fwd=1500, payload_bytes_fwd=2972)
    # the orphan later fragment: 20 + 100 bytes in the port-0 flow
    expect("orphan", rows[1], src_port=0, dst_port=0, packets_fwd=1, bytes_fwd=120)

    rows = flows(nad, "snaplen.pcap")
    # 54 bytes captured of 1514: the IP header's 1500 counts, and 1460 payload bytes
    expect("snaplen", rows[0], packets_fwd=1, bytes_fwd=1500, payload_bytes_fwd=1460, psh_count=1,
           dst_port=22, resp_port_login=1)

    rows = flows(nad, "idle_split.pcap")
    assert len(rows) == 2
    # a 199 s gap is longer than the UDP timeout of 120 s
    expect("idle 1", rows[0], end_reason="idle", packets_fwd=2, duration=1.0, bytes_fwd=80)
    # the pair's earlier flow, 200 s before, still counts 1/e^(200/300) in the 300 s window
    expect("idle 2", rows[1], end_reason="end_of_input", packets_fwd=1, first_ts="1700000200.000000",
           pair_flows_300s=1 + math.exp(-200 / 300))
    rows = flows(nad, "idle_split.pcap", "--timeout", "udp=300")
    assert len(rows) == 1
    expect("no split", rows[0], packets_fwd=3, duration=200.0)

    rows = flows(nad, "evict.pcap", "--max-flows", "2")
    assert len(rows) == 3
    # the third flow pushes out the least recently seen one, the first
    expect("evicted", rows[0], end_reason="evicted", src_port=3000)
    expect("kept 1", rows[1], end_reason="end_of_input", src_port=3001)
    expect("kept 2", rows[2], end_reason="end_of_input", src_port=3002,
           host_dst_ports_10s=1, host_failed_ratio_300s=1.0)
    # three peers in a 64-slot linear-counting sketch: two of them may share
    # a slot (about 5% of the time), so 2 or 3
    if rows[2]["host_dst_addrs_10s"] not in ("2", "3"):
        print("FAIL host_dst_addrs_10s = %s, expected 2 or 3" % rows[2]["host_dst_addrs_10s"])
        failures_add()

    rows = flows(nad, "http.pcap")
    assert len(rows) == 6
    no_http = dict(http_request=0, http_host_ip=0, http_bare_ip_payload_fwd=0)
    expect("http by name", rows[0], dst_port=80, http_request=1, http_host_ip=0, http_bare_ip_payload_fwd=0)
    # request line 36 + Host 27 + Content-Length 20 + Connection 19 + blank 2 = 104, then the 40-byte body
    expect("http bare IP", rows[1], dst_port=7080, http_request=1, http_host_ip=1,
           payload_bytes_fwd=144, http_bare_ip_payload_fwd=144)
    expect("http bad version", rows[2], dst_port=80, **no_http)
    expect("redis inline GET", rows[3], dst_port=6379, **no_http)
    # the first request of a kept-alive connection names a host; the second's bare IP does not count
    expect("http keep-alive", rows[4], dst_port=8080, http_request=1, http_host_ip=0)
    # "GET /rootDesc.xml HTTP/1.1\r\n" 28 + "Host: [2001:db8::1]:8080\r\n" 26 + blank 2 = 56
    expect("http IPv6 literal", rows[5], dst_port=8080, ipv6=1, http_request=1, http_host_ip=1,
           http_bare_ip_payload_fwd=56)
    for cap, reason in (("http.pcap", "bad_http"), ("http_snaplen.pcap", "trunc_http")):
        r = subprocess.run([nad, "flows", "-r", os.path.join(HERE, cap), "--stats", "-o", os.devnull],
                           capture_output=True, text=True)
        counted = [line.split() for line in r.stderr.splitlines() if line.startswith("decode: " + reason)]
        if r.returncode != 0 or len(counted) != 1 or counted[0][2] != "1":
            print("FAIL %s: expected one %s frame counted, rc %d, stderr %r" % (cap, reason, r.returncode, r.stderr))
            failures_add()
    expect("http cut by snaplen", flows(nad, "http_snaplen.pcap")[0], packets_fwd=1, **no_http)

    rows = flows(nad, "evict_finished.pcap", "--max-flows", "4")
    # finished flows go first, oldest last packet first; the live
    # connection, the least recently seen until 5.0, is never split
    want = [("40001", "fin", 4, 2), ("53000", "evicted", 1, 1), ("53001", "evicted", 1, 1),
            ("5000", "evicted", 1, 0), ("40000", "end_of_input", 3, 1), ("5001", "end_of_input", 1, 0),
            ("5002", "end_of_input", 1, 0), ("5003", "end_of_input", 1, 0)]
    got = [(row["src_port"], row["end_reason"], int(row["packets_fwd"]), int(row["packets_bwd"])) for row in rows]
    if got != want:
        print("FAIL evict_finished: %r, expected %r" % (got, want))
        failures_add()

    r = subprocess.run([nad, "flows", "-r", os.path.join(HERE, "truncated.pcap")], capture_output=True, text=True)
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    if r.returncode != 2 or len(rows) != 1 or "byte offset 814" not in r.stderr or rows[0]["packets_fwd"] != "4":
        print("FAIL truncated: rc %d, %d rows, stderr %r" % (r.returncode, len(rows), r.stderr))
        failures_add()
    r = subprocess.run([nad, "flows", "-r", os.path.join(HERE, "not_a_capture.pcap")], capture_output=True, text=True)
    if r.returncode != 2 or "not_a_capture.pcap" not in r.stderr:
        print("FAIL not a capture: rc %d, stderr %r" % (r.returncode, r.stderr))
        failures_add()
    print("%d failure(s)" % failures)
    return 1 if failures else 0


def failures_add():
    global failures
    failures += 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
