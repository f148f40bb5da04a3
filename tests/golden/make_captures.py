#!/usr/bin/python3
"""Craft the small captures of the golden tests (committed; rerun only to change them).

Every packet's size and time is chosen so the expected features can be
worked out by hand; check_golden.py holds those hand-worked numbers.
Run with Debian's python3-scapy: /usr/bin/python3 make_captures.py
"""
import os
import struct

from scapy.all import (DNS, DNSQR, DNSRR, Dot1Q, Ether, ICMP, IP, IPv6, Raw, TCP, UDP,
                       fragment, wrpcap)

HERE = os.path.dirname(os.path.abspath(__file__))
T0 = 1700000000.0
C_MAC, S_MAC = "02:00:00:00:00:01", "02:00:00:00:00:02"


def at(t, pkt):
    pkt.time = T0 + t
    return pkt


def eth(src_mac=C_MAC, dst_mac=S_MAC):
    return Ether(src=src_mac, dst=dst_mac)


def save(name, pkts):
    wrpcap(os.path.join(HERE, name), pkts, linktype=1)


def tcp_fin():
    c, s = "192.168.1.10", "93.184.216.34"
    cp, sp = 40000, 80
    up = eth() / IP(src=c, dst=s, ttl=64)
    dn = eth(S_MAC, C_MAC) / IP(src=s, dst=c, ttl=50)
    return [
        at(0.000, up / TCP(sport=cp, dport=sp, flags="S", seq=1000, window=64240)),
        at(0.010, dn / TCP(sport=sp, dport=cp, flags="SA", seq=5000, ack=1001, window=65535)),
        at(0.012, up / TCP(sport=cp, dport=sp, flags="A", seq=1001, ack=5001, window=64240)),
        at(0.020, up / TCP(sport=cp, dport=sp, flags="PA", seq=1001, ack=5001, window=64240) / Raw(b"a" * 100)),
        at(0.050, dn / TCP(sport=sp, dport=cp, flags="PA", seq=5001, ack=1101, window=65535) / Raw(b"b" * 200)),
        at(0.060, up / TCP(sport=cp, dport=sp, flags="FA", seq=1101, ack=5201, window=64240)),
        at(0.070, dn / TCP(sport=sp, dport=cp, flags="FA", seq=5201, ack=1102, window=65535)),
        at(0.080, up / TCP(sport=cp, dport=sp, flags="A", seq=1102, ack=5202, window=64240)),
    ]


def dns():
    c, s = "192.168.1.10", "192.168.1.1"
    q = DNS(id=0x1234, rd=1, qd=DNSQR(qname="www.example.com", qtype="A"))
    r = DNS(id=0x1234, qr=1, rd=1, ra=1, rcode=0, qd=DNSQR(qname="www.example.com", qtype="A"),
            an=DNSRR(rrname="www.example.com", type="A", ttl=60, rdata="93.184.216.34"))
    nq = DNS(id=0x4321, rd=1, qd=DNSQR(qname="xk7q2z.example.org", qtype="TXT"))
    nr = DNS(id=0x4321, qr=1, rd=1, ra=1, rcode=3, qd=DNSQR(qname="xk7q2z.example.org", qtype="TXT"))
    return [
        at(0.000, eth() / IP(src=c, dst=s) / UDP(sport=53000, dport=53) / q),
        at(0.004, eth(S_MAC, C_MAC) / IP(src=s, dst=c) / UDP(sport=53, dport=53000) / r),
        at(1.000, eth() / IP(src=c, dst=s) / UDP(sport=53001, dport=53) / nq),
        at(1.030, eth(S_MAC, C_MAC) / IP(src=s, dst=c) / UDP(sport=53, dport=53001) / nr),
    ]


def dns_tunnel():
    """One resolver flow mixing an ordinary lookup with tunnel-like queries
    (a 45-character label under TXT, a NULL query; one response missing),
    and an mDNS flow asking TXT and ANY, which must not count as data."""
    c, s = "192.168.1.10", "192.168.1.1"
    up = eth() / IP(src=c, dst=s) / UDP(sport=53100, dport=53)
    dn = eth(S_MAC, C_MAC) / IP(src=s, dst=c) / UDP(sport=53, dport=53100)
    data = "mfrggzdfmztwq2lknnwg23tpobyxe43uov3ho6dzpmfrg"  # 45 characters
    txt = data + ".t.example.net"  # 59
    null = data[:20] + ".t.example.net"  # 34
    q1 = DNS(id=1, rd=1, qd=DNSQR(qname="www.example.com", qtype="A"))
    r1 = DNS(id=1, qr=1, rd=1, ra=1, qd=DNSQR(qname="www.example.com", qtype="A"),
             an=DNSRR(rrname="www.example.com", type="A", ttl=60, rdata="93.184.216.34"))
    q2 = DNS(id=2, rd=1, qd=DNSQR(qname=txt, qtype="TXT"))
    r2 = DNS(id=2, qr=1, rd=1, ra=1, qd=DNSQR(qname=txt, qtype="TXT"),
             an=DNSRR(rrname=txt, type="TXT", ttl=0, rdata="aGVsbG8"))
    q3 = DNS(id=3, rd=1, qd=DNSQR(qname=null, qtype=10))
    m = eth(C_MAC, "01:00:5e:00:00:fb") / IP(src="192.168.1.20", dst="224.0.0.251") / UDP(sport=5353, dport=5353)
    return [
        at(0.000, up / q1),
        at(0.004, dn / r1),
        at(0.100, up / q2),
        at(0.104, dn / r2),
        at(0.200, up / q3),
        at(1.000, m / DNS(id=0, qd=DNSQR(qname="_googlecast._tcp.local", qtype="TXT"))),
        at(1.100, m / DNS(id=0, qd=DNSQR(qname="myhost.local", qtype="ALL"))),
    ]


def icmp_echo():
    c, s = "192.168.1.10", "8.8.8.8"
    out = []
    for i in range(3):
        out.append(at(i * 1.0, eth() / IP(src=c, dst=s) / ICMP(type=8, id=0x1234, seq=i + 1) / Raw(b"x" * 56)))
        out.append(at(i * 1.0 + 0.020, eth(S_MAC, C_MAC) / IP(src=s, dst=c) / ICMP(type=0, id=0x1234, seq=i + 1)
                      / Raw(b"x" * 56)))
    return out


def ipv6_tcp():
    c, s = "2001:db8::10", "2001:db8::1"
    up = eth() / IPv6(src=c, dst=s)
    dn = eth(S_MAC, C_MAC) / IPv6(src=s, dst=c)
    return [
        at(0.000, up / TCP(sport=50000, dport=443, flags="S", seq=1, window=28800)),
        at(0.001, dn / TCP(sport=443, dport=50000, flags="SA", seq=9, ack=2, window=28560)),
        at(0.002, up / TCP(sport=50000, dport=443, flags="A", seq=2, ack=10, window=28800)),
        at(0.003, up / TCP(sport=50000, dport=443, flags="PA", seq=2, ack=10, window=28800) / Raw(b"c" * 50)),
        at(0.010, dn / TCP(sport=443, dport=50000, flags="R", seq=10, window=0)),
    ]


def vlan():
    a, b = "10.0.0.1", "10.0.0.2"
    return [
        at(0.0, eth() / Dot1Q(vlan=42) / IP(src=a, dst=b) / UDP(sport=1234, dport=5678) / Raw(b"v" * 72)),
        at(0.5, eth(S_MAC, C_MAC) / Dot1Q(vlan=42) / IP(src=b, dst=a) / UDP(sport=5678, dport=1234) / Raw(b"w" * 22)),
        # the same 5-tuple on another VLAN is another flow
        at(0.7, eth() / Dot1Q(vlan=43) / IP(src=a, dst=b) / UDP(sport=1234, dport=5678) / Raw(b"v" * 72)),
    ]


def frags():
    a, b = "10.0.0.1", "10.0.0.2"
    big = IP(src=a, dst=b, id=777) / UDP(sport=5000, dport=6000) / Raw(b"f" * 2972)  # 3000 IP bytes
    parts = fragment(big, fragsize=1480)
    out = [at(0.001 * i, eth() / p) for i, p in enumerate(parts)]
    # a later fragment whose first fragment never came: the port-0 flow
    orphan = IP(src=a, dst=b, id=999, proto=17, flags=0, frag=185) / Raw(b"g" * 100)
    out.append(at(0.5, eth() / orphan))
    return out


def idle_split():
    a, b = "10.0.0.1", "10.0.0.2"
    p = eth() / IP(src=a, dst=b) / UDP(sport=1000, dport=2000) / Raw(b"i" * 12)
    return [at(0.0, p.copy()), at(1.0, p.copy()), at(200.0, p.copy())]


def evict():
    a = "10.0.0.1"
    out = []
    for i, t in enumerate([0.0, 1.0, 2.0]):
        out.append(at(t, eth() / IP(src=a, dst="10.0.0.%d" % (10 + i)) / UDP(sport=3000 + i, dport=4000) / Raw(b"e" * 12)))
    return out


def tcp_session(t0, c, s, cp, sp, client_data, server_data, v6=False):
    """Handshake, the client's segments, the server's, FIN both ways; 2 ms apart."""
    L3 = IPv6 if v6 else IP
    up = eth() / L3(src=c, dst=s)
    dn = eth(S_MAC, C_MAC) / L3(src=s, dst=c)
    out, t, cseq, sseq = [], t0, 1000, 5000
    out.append(at(t, up / TCP(sport=cp, dport=sp, flags="S", seq=cseq - 1)))
    out.append(at(t + 0.002, dn / TCP(sport=sp, dport=cp, flags="SA", seq=sseq - 1, ack=cseq)))
    out.append(at(t + 0.004, up / TCP(sport=cp, dport=sp, flags="A", seq=cseq, ack=sseq)))
    t += 0.006
    for d in client_data:
        out.append(at(t, up / TCP(sport=cp, dport=sp, flags="PA", seq=cseq, ack=sseq) / Raw(d)))
        cseq += len(d)
        t += 0.002
    for d in server_data:
        out.append(at(t, dn / TCP(sport=sp, dport=cp, flags="PA", seq=sseq, ack=cseq) / Raw(d)))
        sseq += len(d)
        t += 0.002
    out.append(at(t, up / TCP(sport=cp, dport=sp, flags="FA", seq=cseq, ack=sseq)))
    out.append(at(t + 0.002, dn / TCP(sport=sp, dport=cp, flags="FA", seq=sseq, ack=cseq + 1)))
    out.append(at(t + 0.004, up / TCP(sport=cp, dport=sp, flags="A", seq=cseq + 1, ack=sseq + 1)))
    return out


HTTP_OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


def http():
    """One flow per case, 1 s apart, each opening with the client's request."""
    c = "192.168.1.10"
    cases = [
        # a browser-like fetch by name: http_request 1, nothing else
        ("93.184.216.34", 40001, 80, [b"GET /index.html HTTP/1.1\r\nHost: example.com\r\n"
                                      b"User-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n"]),
        # a POST to a bare IP on port 7080, body in a second segment:
        # http_host_ip, and the client's payload is 104 + 40 bytes
        ("82.118.225.196", 40002, 7080, [b"POST /OK21pqJAtyyGBEo00sk HTTP/1.1\r\nHost: 82.118.225.196:7080\r\n"
                                         b"Content-Length: 40\r\nConnection: close\r\n\r\n", b"x" * 40]),
        # a version that is not HTTP/d.d: bad_http, no request
        ("10.0.0.5", 40003, 80, [b"GET / HTTP/9\r\nHost: 10.0.0.5\r\n\r\n"]),
        # Redis's inline "GET key": another protocol's verb, not HTTP, not malformed
        ("10.0.0.6", 40004, 6379, [b"GET key\r\n"]),
        # keep-alive: the second request names a bare IP, the first (a name) counts
        ("10.0.0.7", 40005, 8080, [b"GET /a HTTP/1.1\r\nHost: nas.home.lan:8080\r\n\r\n",
                                   b"GET /b HTTP/1.1\r\nHost: 10.0.0.7:8080\r\n\r\n"]),
    ]
    out = []
    for i, (s, cp, sp, data) in enumerate(cases):
        out += tcp_session(float(i), c, s, cp, sp, data, [HTTP_OK])
    # an IPv6 literal in brackets
    out += tcp_session(5.0, "2001:db8::10", "2001:db8::1", 40006, 8080,
                       [b"GET /rootDesc.xml HTTP/1.1\r\nHost: [2001:db8::1]:8080\r\n\r\n"], [HTTP_OK], v6=True)
    return out


def evict_finished():
    """Run with --max-flows 4: a full table gives up finished flows (a TCP
    flow closed by FIN with its last ACK, an answered DNS query) before the
    least recently seen one, a live TCP connection that sends again later."""
    c, s, r = "192.168.1.10", "93.184.216.34", "192.168.1.1"
    up = eth() / IP(src=c, dst=s)
    dn = eth(S_MAC, C_MAC) / IP(src=s, dst=c)
    q = DNS(id=7, rd=1, qd=DNSQR(qname="www.example.com", qtype="A"))
    a = DNS(id=7, qr=1, rd=1, ra=1, qd=DNSQR(qname="www.example.com", qtype="A"),
            an=DNSRR(rrname="www.example.com", type="A", ttl=60, rdata="93.184.216.34"))

    def dns(t, sport, msg, answer=False):
        ip = IP(src=r, dst=c) if answer else IP(src=c, dst=r)
        udp = UDP(sport=53, dport=sport) if answer else UDP(sport=sport, dport=53)
        return at(t, eth() / ip / udp / msg)

    def other(t, sport):
        return at(t, eth() / IP(src=c, dst="10.0.0.9") / UDP(sport=sport, dport=6000) / Raw(b"o" * 12))

    return [
        # live: opened at 0, quiet until 5.0
        at(0.000, up / TCP(sport=40000, dport=443, flags="S", seq=100)),
        at(0.010, dn / TCP(sport=443, dport=40000, flags="SA", seq=900, ack=101)),
        at(0.020, up / TCP(sport=40000, dport=443, flags="A", seq=101, ack=901)),
        # closed by FIN from both sides, then the last ACK: finished
        at(1.000, up / TCP(sport=40001, dport=80, flags="S", seq=200)),
        at(1.010, dn / TCP(sport=80, dport=40001, flags="SA", seq=800, ack=201)),
        at(1.020, up / TCP(sport=40001, dport=80, flags="A", seq=201, ack=801)),
        at(1.030, up / TCP(sport=40001, dport=80, flags="FA", seq=201, ack=801)),
        at(1.040, dn / TCP(sport=80, dport=40001, flags="FA", seq=801, ack=202)),
        at(1.050, up / TCP(sport=40001, dport=80, flags="A", seq=202, ack=802)),
        # answered: finished; the second query waits for its answer until 6.0
        dns(2.000, 53000, q),
        dns(2.004, 53000, a, answer=True),
        dns(3.000, 53001, q),
        other(4.000, 5000),    # full: the closed flow goes (its record says fin)
        other(4.500, 5001),    # the answered query goes
        at(5.000, up / TCP(sport=40000, dport=443, flags="PA", seq=101, ack=901) / Raw(b"d" * 100)),
        dns(6.000, 53001, a, answer=True),
        other(7.000, 5002),    # the query answered at 6.0 goes
        other(8.000, 5003),    # nothing finished: the least recently seen, 5000
    ]


def write_cut(name, p, snaplen):
    """One packet, captured with `snaplen`: the pcap record keeps its wire length."""
    raw = bytes(p)
    ts = int(round(p.time * 1e6))
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, snaplen, 1))
        f.write(struct.pack("<IIII", ts // 1000000, ts % 1000000, snaplen, len(raw)))
        f.write(raw[:snaplen])


def write_snaplen():
    """A 1500-byte TCP packet captured with snaplen 54: the IP header still
    says 1500 bytes, and that is what the flow counts."""
    write_cut("snaplen.pcap", at(0.0, eth() / IP(src="10.0.0.1", dst="10.0.0.2") / TCP(sport=1111, dport=22, flags="PA")
                                 / Raw(b"s" * 1460)), 54)


def write_http_snaplen():
    """An HTTP request captured with snaplen 64: cut inside its request line."""
    write_cut("http_snaplen.pcap", at(0.0, eth() / IP(src="10.0.0.1", dst="10.0.0.2") / TCP(sport=2222, dport=80, flags="PA")
                                      / Raw(b"GET /a-rather-long-path/index.html HTTP/1.1\r\nHost: 10.0.0.2\r\n\r\n")), 64)


def main():
    save("tcp_fin.pcap", tcp_fin())
    save("dns.pcap", dns())
    save("dns_tunnel.pcap", dns_tunnel())
    save("icmp_echo.pcap", icmp_echo())
    save("ipv6_tcp.pcap", ipv6_tcp())
    save("vlan.pcap", vlan())
    save("frags.pcap", frags())
    save("idle_split.pcap", idle_split())
    save("evict.pcap", evict())
    save("evict_finished.pcap", evict_finished())
    write_snaplen()
    save("http.pcap", http())
    write_http_snaplen()
    # cut tcp_fin.pcap inside the last record's packet bytes
    data = open(os.path.join(HERE, "tcp_fin.pcap"), "rb").read()
    open(os.path.join(HERE, "truncated.pcap"), "wb").write(data[:-20])
    open(os.path.join(HERE, "not_a_capture.pcap"), "wb").write(b"this is a text file, not a packet capture\n")


if __name__ == "__main__":
    main()
