#!/usr/bin/python3
"""Regenerate the decoder's crafted inputs with scapy (Debian's python3).

Writes:
  fuzz/corpus/fuzz_decode/seed-*     one byte link index + one frame
  tests/data/decode/crafted.pcap*    small captures, one per link type,
  tests/data/decode/crafted.tsv      what scapy says each frame holds (an
                                     oracle independent of our decoder),
                                     checked by tests/unit/test_decode_files.c

Run from the repository root: /usr/bin/python3 tests/data/decode/gen_inputs.py
Seeds taken from the shared captures are written only when ../shared exists.
"""
import os
import struct
import sys

from scapy.all import (ARP, DNS, DNSQR, DNSRR, ICMP, IP, TCP, UDP, Dot1AD, Dot1Q, Ether,
                       ICMPv6EchoRequest, IPv6, IPv6ExtHdrDestOpt, IPv6ExtHdrFragment,
                       IPv6ExtHdrHopByHop, IPv6ExtHdrRouting, PcapReader, PcapWriter, Raw,
                       CookedLinux, fragment, raw)

# Index byte of fuzz_decode.c's link table.
LINKS = {"ether": 0, "sll": 1, "sll2": 2, "raw": 3, "null": 4, "loop": 5,
         "ipv4": 6, "ipv6": 7, "raw12": 8, "raw14": 9}
DLT = {"ether": 1, "sll": 113, "sll2": 276, "raw": 101, "null": 0, "loop": 108}

CORPUS = "fuzz/corpus/fuzz_decode"
DATA = "tests/data/decode"

E = lambda: Ether(src="02:00:00:00:00:aa", dst="02:00:00:00:00:bb")


def seed(name, link, frame):
    with open(os.path.join(CORPUS, "seed-" + name), "wb") as f:
        f.write(bytes([LINKS[link]]) + bytes(frame))


def sll2(proto, payload):
    # protocol, reserved, ifindex, ARPHRD_ETHER, pkttype, halen, address(8)
    return struct.pack(">HHIHBB8s", proto, 0, 2, 1, 0, 6, b"\x02\x00\x00\x00\x00\xaa") + bytes(payload)


def dns_raw(hdr_id, flags, qd, an, body):
    return struct.pack(">HHHHHH", hdr_id, flags, qd, an, 0, 0) + body


def crafted():
    """(name, link, frame bytes) for seeds; the same frames feed the pcaps."""
    q = DNS(id=0x1234, rd=1, qd=DNSQR(qname="www.example.com", qtype="A"))
    out = [
        ("eth-tcp-syn-opts", "ether", E() / IP(src="10.0.0.1", dst="10.0.0.2", flags="DF") /
         TCP(sport=40000, dport=443, flags="S", seq=1, options=[("MSS", 1460), ("SAckOK", b""),
             ("Timestamp", (1, 0)), ("NOP", None), ("WScale", 7)])),
        ("eth-udp-dns-query", "ether", E() / IP(src="10.0.0.1", dst="10.0.0.53") / UDP(sport=5555, dport=53) / q),
        ("eth-udp-dns-response", "ether", E() / IP(src="10.0.0.53", dst="10.0.0.1") / UDP(sport=53, dport=5555) /
         DNS(id=0x1234, qr=1, aa=1, rcode=3, qd=DNSQR(qname="nope.example.com"),
             an=DNSRR(rrname="nope.example.com", rdata="1.2.3.4"))),
        ("eth-mdns", "ether", E() / IP(src="10.0.0.7", dst="224.0.0.251") / UDP(sport=5353, dport=5353) /
         DNS(qd=DNSQR(qname="_googlecast._tcp.local", qtype="PTR"))),
        ("eth-tcp-dns", "ether", E() / IP(src="10.0.0.1", dst="10.0.0.53") / TCP(sport=5000, dport=53, flags="PA") /
         Raw(struct.pack(">H", len(bytes(q))) + bytes(q))),
        ("eth-vlan-udp", "ether", E() / Dot1Q(vlan=100, prio=5) / IP(src="10.0.0.1", dst="10.0.0.2") /
         UDP(sport=1234, dport=123) / Raw(b"\x23" + b"\0" * 47)),
        ("eth-qinq-tcp", "ether", E() / Dot1AD(vlan=200) / Dot1Q(vlan=300) / IP(src="10.0.0.1", dst="10.0.0.2") /
         TCP(sport=1, dport=2, flags="R")),
        ("eth-arp-request", "ether", E() / ARP(op=1, hwsrc="02:00:00:00:00:aa", psrc="192.168.1.10",
                                               pdst="192.168.1.1")),
        ("eth-icmp-echo", "ether", E() / IP(src="10.0.0.1", dst="10.0.0.2") / ICMP(type=8, id=0x4242, seq=1) /
         Raw(b"x" * 16)),
        ("eth-ipv4-options", "ether", E() / IP(src="10.0.0.1", dst="10.0.0.2", options=b"\x94\x04\x00\x00\x07\x07\x04\x00\x00\x00\x00\x01") /
         UDP(sport=9, dport=9)),
        ("eth-ipv6-exthdrs", "ether", E() / IPv6(src="2001:db8::1", dst="2001:db8::2") / IPv6ExtHdrHopByHop() /
         IPv6ExtHdrDestOpt() / IPv6ExtHdrRouting(addresses=["2001:db8::3"]) /
         IPv6ExtHdrFragment(m=1, offset=0, id=7) / TCP(sport=22, dport=50000, flags="A")),
        ("eth-ipv6-icmpv6-echo", "ether", E() / IPv6(src="2001:db8::1", dst="2001:db8::2") /
         ICMPv6EchoRequest(id=0xbeef, seq=1)),
        ("sll-ipv4-tcp", "sll", CookedLinux(pkttype=4, lladdrtype=1, lladdrlen=6, src=b"\x02\0\0\0\0\xaa\0\0", proto=0x0800) /
         IP(src="192.168.20.211", dst="1.1.1.1") / TCP(sport=44404, dport=443, flags="S")),
        ("sll2-ipv6-udp", "sll2", sll2(0x86dd, IPv6(src="fe80::1", dst="ff02::fb") / UDP(sport=5353, dport=5353) /
                                       DNS(qd=DNSQR(qname="printer.local")))),
        ("null-ipv4-udp", "null", struct.pack("<I", 2) + bytes(IP(src="127.0.0.1", dst="127.0.0.1") / UDP(sport=1, dport=53) / q)),
        ("loop-ipv6-tcp", "loop", struct.pack(">I", 24) + bytes(IPv6(src="::1", dst="::1") / TCP(sport=1, dport=2))),
        ("raw-ipv4-icmp", "raw", IP(src="10.0.0.1", dst="10.0.0.2") / ICMP(type=0, id=9)),
        ("raw-ipv6-udp", "raw", IPv6(src="2001:db8::1", dst="2001:db8::2") / UDP(sport=7, dport=7)),
    ]
    # Fragments of one big UDP datagram: first and a later one.
    frags = fragment(IP(src="10.0.0.1", dst="10.0.0.2", id=0x77) / UDP(sport=4000, dport=4001) / Raw(b"z" * 2000), 1480)
    out.append(("eth-ipv4-frag-first", "ether", E() / frags[0]))
    out.append(("eth-ipv4-frag-later", "ether", E() / frags[1]))
    return out


def edge_seeds():
    """Malformed frames the unit tests also cover: kept as seeds so the
    fuzzer starts next to every error path."""
    hdr = bytes(E() / IP(src="10.0.0.1", dst="10.0.0.53") / UDP(sport=5555, dport=53))
    # "a" then a pointer back to the name start: a loop.
    loop = dns_raw(1, 0x0100, 1, 0, b"\x01a\xc0\x0c\x00\x01\x00\x01")
    # Two 63-byte labels repeated through pointers: longer than 255.
    long_name = dns_raw(2, 0x0100, 1, 0, (b"\x3f" + b"x" * 63) * 5 + b"\x00\x00\x01\x00\x01")
    forward = dns_raw(3, 0x0100, 1, 0, b"\x07version\x04bind\xc0\x1b\x00\x10\x00\x03")
    fix = lambda b: bytes(E() / IP(bytes(IP(src="10.0.0.1", dst="10.0.0.53") / UDP(sport=5555, dport=53) / Raw(b))))
    v6deep = IPv6(src="2001:db8::1", dst="2001:db8::2")
    for _ in range(10):
        v6deep = v6deep / IPv6ExtHdrDestOpt()
    return [
        ("dns-pointer-loop", "ether", fix(loop)),
        ("dns-name-too-long", "ether", fix(long_name)),
        ("dns-forward-pointer", "ether", fix(forward)),
        ("dns-truncated", "ether", fix(dns_raw(4, 0, 1, 0, b"\x03www\x07exa"))),
        ("ipv6-ext-too-deep", "raw", v6deep / UDP()),
        ("vlan-too-deep", "ether", E() / Dot1Q(vlan=1) / Dot1Q(vlan=2) / Dot1Q(vlan=3) / Dot1Q(vlan=4) / Dot1Q(vlan=5) / IP() / UDP()),
        ("ipv4-bad-ihl", "ipv4", b"\x44" + bytes(IP() / TCP())[1:]),
        ("ipv4-tiny-first-frag", "raw", bytes(IP(flags="MF", proto=6) / Raw(b"\0" * 8))),
        ("tcp-doff-too-big", "raw", bytes(IP() / TCP(dataofs=15))),
        ("arp-truncated", "ether", bytes(E() / ARP())[:30]),
        ("eth-truncated", "ether", hdr[:10]),
        ("pppoe-ipv4", "ether", bytes(Ether(type=0x8864)) + b"\x11\x00\x00\x01\x00\x1e\x00\x21" + bytes(IP() / UDP())),
        ("snap-ipv4", "ether", bytes(Ether(dst="ff:ff:ff:ff:ff:ff", type=36)) + b"\xaa\xaa\x03\x00\x00\x00\x08\x00" + bytes(IP() / ICMP())),
    ]


def real_seeds():
    shared = os.environ.get("NAD_SHARED", "../shared")
    picks = [("attack/dmachard_iodine.pcap", 1, "ether"), ("attack/sgr_arp_scan.pcap", 1, "ether"),
             ("attack/suricata_ipv6_exthdr_dos.pcap", 1, "ether"),
             ("attack/ndpi_dns2tcp_tunnel_sll.pcap", 1, "sll"),
             ("attack/stopddos_dns_rrsig_amplification.pcap", 1, "ether"),
             ("benign/zeek_mdns.pcap", 1, "ether")]
    out = []
    for path, n, link in picks:
        full = os.path.join(shared, "data/pcaps", path)
        if not os.path.exists(full):
            continue
        with PcapReader(full) as r:
            for i, p in enumerate(r):
                if i + 1 == n:
                    out.append(("real-" + os.path.basename(path).split(".")[0], link, raw(p)))
                    break
    return out


def dissect(link, fr):
    """Scapy's own reading of a frame, from its bytes."""
    if link == "ether":
        return Ether(fr)
    if link == "sll":
        return CookedLinux(fr)
    body = fr[{"sll2": 20, "null": 4, "loop": 4}.get(link, 0):]
    return IPv6(body) if body[0] >> 4 == 6 else IP(body)


def expect(link, fr):
    """Columns: l3 ip_proto sport dport tcp_flags vlan icmp_id frag_offset
    l4_payload_len qname ('-' when no DNS question)."""
    p = dissect(link, fr)
    vlan = p[Dot1AD].vlan if Dot1AD in p else (p[Dot1Q].vlan if Dot1Q in p else 0)
    if ARP in p:
        return [1, 0, 0, 0, 0, vlan, 0, 0, 0, "-"]
    ip = p[IP] if IP in p else p[IPv6]
    l3 = 4 if IP in p else 6
    frag = ip.frag * 8 if l3 == 4 else (p[IPv6ExtHdrFragment].offset * 8 if IPv6ExtHdrFragment in p else 0)
    sport = dport = flags = icmp_id = 0
    if frag:
        proto = ip.proto
        plen = ip.len - ip.ihl * 4
    elif TCP in p:
        proto, sport, dport, flags = 6, p[TCP].sport, p[TCP].dport, int(p[TCP].flags)
        plen = len(bytes(p[TCP].payload))
    elif UDP in p:
        proto, sport, dport = 17, p[UDP].sport, p[UDP].dport
        plen = len(bytes(p[UDP].payload))
    elif ICMP in p:
        proto, icmp_id = 1, p[ICMP].id if p[ICMP].type in (0, 8) else 0
        plen = len(bytes(p[ICMP].payload))
    elif ICMPv6EchoRequest in p:
        proto, icmp_id = 58, p[ICMPv6EchoRequest].id
        plen = len(p[ICMPv6EchoRequest].data)
    else:
        raise ValueError("no expectation for " + p.summary())
    qname = "-"
    if DNS in p and p[DNS].qd:
        qname = p[DNS].qd[0].qname.decode().rstrip(".")
    return [l3, proto, sport, dport, flags, vlan, icmp_id, frag, plen, qname]


def main():
    os.makedirs(CORPUS, exist_ok=True)
    frames = crafted()
    for name, link, fr in frames + edge_seeds() + real_seeds():
        seed(name, link, bytes(fr))
    # One pcap per link type for the file test, plus the expectations.
    writers = {}
    rows = []
    for name, link, fr in frames:
        if link not in writers:
            writers[link] = PcapWriter(os.path.join(DATA, "crafted-%s.pcap" % link), linktype=DLT[link], sync=True)
        writers[link].write(bytes(fr))
        rows.append([link, name] + expect(link, bytes(fr)))
    for w in writers.values():
        w.close()
    with open(os.path.join(DATA, "crafted.tsv"), "w") as f:
        f.write("# link\tframe\tl3\tip_proto\tsport\tdport\ttcp_flags\tvlan\ticmp_id\tfrag_offset\tl4_payload_len\tqname\n")
        for r in rows:
            f.write("\t".join(str(x) for x in r) + "\n")


if __name__ == "__main__":
    sys.exit(main())
