#!/usr/bin/python3
"""crosscheck_tshark.py - check `nad flows` against tshark on real captures.

usage: crosscheck_tshark.py --nad NAD [--tshark TSHARK] [--jobs N] [-v] PCAP_OR_DIR...

For every capture file (a directory is searched for *.pcap, *.pcapng, *.cap)
it checks two things and prints one table row per file:

1. Protocol totals. The packets in nad's TCP, UDP, ICMP and ICMPv6 flows
   (sum of packets_fwd + packets_bwd over the flows whose proto is 6, 17, 1
   and 58) equal what tshark counts for those protocols under this rule:

   - tshark runs with reassembly off (-o ip.defragment:FALSE
     -o ipv6.defragment:FALSE -o tcp.desegment_tcp_streams:FALSE), so every
     frame is dissected on its own and counted exactly once.
   - A packet's protocol is the transport of its OUTERMOST IP header: in
     tshark's frame.protocols, the first layer after the first ip/ipv6
     layer, skipping the IPv6 extension headers (hop-by-hop, routing,
     fragment, destination options, AH). So
       * an ICMP or ICMPv6 error that quotes a TCP/UDP header
         ("ip:icmp:ip:udp") counts as ICMP, not as UDP (nad puts the
         error in an ICMP flow; it is not a packet of the quoted flow);
       * a tunnelled packet ("ip:gre:ip:udp", IP-in-IP, 6in4) counts as
         neither: nad meters the outer header, whose protocol is GRE/IP.
   - IP fragments: the first fragment (offset 0) shows its transport header
     and counts under it. A later fragment (offset > 0) has no transport
     header ("ip:data"); it counts under the protocol of its IP header
     (ip.proto, or the IPv6 fragment header's next header), because nad's
     flow stage attributes later fragments to the flow of their first
     fragment by (src, dst, protocol, fragment id).
   - ICMP means protocol 1 over IPv4 and ICMPv6 protocol 58 over IPv6. An
     IPv4 packet whose protocol field says 58 (nmap -sO sends one, with no
     payload) is not ICMPv6: tshark does not dissect it as such, and nad's
     flow for it (proto 58 with IPv4 addresses) is counted as "other" too.
   - A frame tshark does not dissect down to a transport header (cut by
     snaplen before it) is not counted; nad skips it too (decode reason
     truncated-*).

2. TCP and UDP flows. For every TCP 4-tuple, nad's packets (summed over all
   its flows with that 4-tuple and any VLAN, both directions: nad splits a
   4-tuple into several flows on FIN/RST, timeouts and port reuse, while
   `tshark -q -z conv,tcp` has one row per conversation) equal the frames of
   `tshark -q -z conv,tcp` for that 4-tuple; the same for UDP against
   `conv,udp`. The conversation tables do not count headers quoted inside
   ICMP errors (rule 1 agrees) nor later fragments (they have no ports).
   Before comparing, a later fragment is added to the 4-tuple of its first
   fragment when that came earlier in the file, else to the port-0 flow of
   its addresses: what nad does.
   The IP-layer bytes of each 4-tuple (IPv4 total length, IPv6 payload
   length + 40, of the outermost header, summed per packet from tshark's
   fields) must equal nad's bytes_fwd + bytes_bwd too, and so must the
   byte totals of each class in rule 1.
   The script also checks that its own per-packet reading of tshark agrees
   with conv,tcp and conv,udp, so the rule above is tested against tshark
   itself. The one known difference: conv,udp also counts the inner UDP of
   a tunnelled packet (GRE, IP-in-IP), which rule 1 leaves out; it is
   reported as a note.

Exit status: 0 all files agree, 1 a mismatch or a failed run (each named by
file and flow), 77 (ctest "skipped") when tshark is not installed.
"""

import argparse
import concurrent.futures
import csv
import ipaddress
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter

TSHARK_PREFS = [
    "-o", "ip.defragment:FALSE",
    "-o", "ipv6.defragment:FALSE",
    "-o", "tcp.desegment_tcp_streams:FALSE",
    "-o", "ip.check_checksum:FALSE",
]
IPV6_EXT = {"ipv6.hopopts", "ipv6.routing", "ipv6.fraghdr", "ipv6.dstopts", "ah"}
CLASSES = ("tcp", "udp", "icmp", "icmp6")
PROTO_CLASS = {6: "tcp", 17: "udp", 1: "icmp", 58: "icmp6"}
PROTO_NAMES = {"tcp": 6, "udp": 17, "icmp": 1, "icmpv6": 58, "ipv6-icmp": 58, "icmp6": 58}
MAX_FLOW_LINES = 10


def norm_addr(text):
    try:
        return ipaddress.ip_address(text).compressed
    except ValueError:
        return text


def conv_key(proto, a, ap, b, bp):
    """Direction-free key of a TCP or UDP 4-tuple."""
    x, y = (norm_addr(a), int(ap)), (norm_addr(b), int(bp))
    return (proto,) + ((x, y) if x <= y else (y, x))


def key_text(k):
    def ep(e):
        return f"[{e[0]}]:{e[1]}" if ":" in e[0] else f"{e[0]}:{e[1]}"
    return f"{k[0]} {ep(k[1])} <-> {ep(k[2])}"


def first(field):
    return field.split(",")[0] if field else ""


def tshark_packets(tshark, path):
    """One tshark pass over the file: per-class totals, and per TCP/UDP
    4-tuple packet counts as conv,tcp/conv,udp count them (no later
    fragments) and as nad should (later fragments included)."""
    fields = ["frame.protocols", "ip.proto", "ip.src", "ip.dst", "ip.id", "ip.frag_offset",
              "ipv6.src", "ipv6.dst", "ipv6.fraghdr.nxt", "ipv6.fraghdr.offset",
              "ipv6.fraghdr.ident", "tcp.srcport", "tcp.dstport", "udp.srcport", "udp.dstport",
              "ip.len", "ipv6.plen"]
    cmd = [tshark, "-n", "-r", path] + TSHARK_PREFS + ["-T", "fields", "-E", "separator=/t",
                                                        "-E", "occurrence=f"]
    for f in fields:
        cmd += ["-e", f]
    out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         timeout=600)
    if out.returncode != 0:
        raise RuntimeError(f"tshark failed on '{path}': {out.stderr.strip()[:300]}")
    totals = Counter()
    tbytes = Counter()         # IP-layer bytes per class
    conv = Counter()           # what conv,tcp and conv,udp should show: no later fragments
    flows = Counter()          # what nad should show: later fragments added
    fbytes = Counter()         # IP-layer bytes per 4-tuple, later fragments added
    first_frag = {}            # (proto, src, dst, id) -> 4-tuple key of a first fragment seen
    unmatched = 0
    for line in out.stdout.splitlines():
        col = line.split("\t")
        col += [""] * (len(fields) - len(col))
        (protos, ip_proto, ip_src, ip_dst, ip_id, ip_off, v6_src, v6_dst, fh_nxt, fh_off,
         fh_id, tsport, tdport, usport, udport, ip_len, v6_plen) = col
        toks = protos.split(":")
        i = next((n for n, t in enumerate(toks) if t in ("ip", "ipv6")), None)
        if i is None:
            continue
        v6 = toks[i] == "ipv6"
        j = i + 1
        while v6 and j < len(toks) and toks[j] in IPV6_EXT:
            j += 1
        layer = toks[j] if j < len(toks) else ""
        if v6:
            src, dst = norm_addr(first(v6_src)), norm_addr(first(v6_dst))
            is_frag = "ipv6.fraghdr" in toks[i:j]
            later = is_frag and first(fh_off) not in ("", "0")
            proto, fid = first(fh_nxt), first(fh_id)
        else:
            src, dst = norm_addr(first(ip_src)), norm_addr(first(ip_dst))
            is_frag = True  # ip.id is always there; a whole packet's id is never looked up
            later = first(ip_off) not in ("", "0")
            proto, fid = first(ip_proto), first(ip_id)
        if later:
            cls = PROTO_CLASS.get(int(proto, 0)) if proto else None
        else:
            cls = {"tcp": "tcp", "udp": "udp", "icmp": "icmp", "icmpv6": "icmp6"}.get(layer)
        if (cls == "icmp" and v6) or (cls == "icmp6" and not v6):
            cls = None
        if not cls:
            continue
        # IP-layer bytes as nad counts them: IPv4 total length, IPv6
        # payload length + 40, from the outermost header
        nbytes = int(first(v6_plen) or 0) + 40 if v6 else int(first(ip_len) or 0)
        totals[cls] += 1
        tbytes[cls] += nbytes
        if cls not in ("tcp", "udp"):
            continue
        if later:
            # nad gives a later fragment the ports of its first fragment when
            # that came earlier, else puts it in the port-0 flow
            k = first_frag.get((cls, src, dst, fid))
            if k is None:
                unmatched += 1
                k = conv_key(cls, src, 0, dst, 0)
            flows[k] += 1
            fbytes[k] += nbytes
            continue
        sport, dport = (tsport, tdport) if cls == "tcp" else (usport, udport)
        if not (sport and dport):
            continue
        k = conv_key(cls, src, first(sport), dst, first(dport))
        conv[k] += 1
        flows[k] += 1
        fbytes[k] += nbytes
        if is_frag:
            first_frag[(cls, src, dst, fid)] = k
    return totals, tbytes, conv, flows, fbytes, unmatched


CONV_RE = re.compile(r"^(\S+):(\d+)\s+<->\s+(\S+):(\d+)\s+([\d,]+)\s+[\d,.]+\s+\S+\s+"
                     r"([\d,]+)\s+[\d,.]+\s+\S+\s+([\d,]+)\s")


def tshark_conv(tshark, path):
    """Frames per 4-tuple from tshark's own conversation tables."""
    cmd = [tshark, "-n", "-r", path] + TSHARK_PREFS + ["-q", "-z", "conv,tcp", "-z", "conv,udp"]
    out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         timeout=600)
    if out.returncode != 0:
        raise RuntimeError(f"tshark conv failed on '{path}': {out.stderr.strip()[:300]}")
    conv = Counter()
    proto = None
    for line in out.stdout.splitlines():
        if line.startswith("TCP Conversations"):
            proto = "tcp"
        elif line.startswith("UDP Conversations"):
            proto = "udp"
        m = CONV_RE.match(line)
        if m and proto:
            conv[conv_key(proto, m[1], m[2], m[3], m[4])] += int(m[7].replace(",", ""))
    return conv


def nad_flows(nad, path, tmpdir):
    """Run nad flows; return (rc, stderr, per-class totals, per-4-tuple TCP/UDP counts, nflows)."""
    out_csv = os.path.join(tmpdir, "flows.csv")
    r = subprocess.run([nad, "flows", "-r", path, "--format", "csv", "-o", out_csv, "--stats"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=600)
    totals, tbytes, ports, pbytes, nflows = Counter(), Counter(), Counter(), Counter(), 0
    if r.returncode == 0:
        with open(out_csv, newline="") as fp:
            for row in csv.DictReader(fp):
                nflows += 1
                p = row["proto"].strip().lower()
                proto = int(p) if p.isdigit() else PROTO_NAMES.get(p, -1)
                cls = PROTO_CLASS.get(proto)
                v6 = ":" in row["src_addr"]
                if (cls == "icmp" and v6) or (cls == "icmp6" and not v6):
                    cls = None
                pk = int(row["packets_fwd"]) + int(row["packets_bwd"])
                by = int(row["bytes_fwd"]) + int(row["bytes_bwd"])
                if cls:
                    totals[cls] += pk
                    tbytes[cls] += by
                if cls in ("tcp", "udp"):
                    k = conv_key(cls, row["src_addr"], row["src_port"], row["dst_addr"],
                                 row["dst_port"])
                    ports[k] += pk
                    pbytes[k] += by
    return r.returncode, r.stderr, totals, tbytes, ports, pbytes, nflows


def check_file(args, path, label):
    res = {"file": label, "fail": [], "note": []}
    with tempfile.TemporaryDirectory(prefix="nad-xc-") as tmp:
        try:
            t_tot, t_bytes, t_conv, t_flows, t_fbytes, unmatched = tshark_packets(args.tshark,
                                                                                  path)
            conv = tshark_conv(args.tshark, path)
            rc, err, n_tot, n_bytes, n_ports, n_pbytes, nflows = nad_flows(args.nad, path, tmp)
        except (RuntimeError, subprocess.TimeoutExpired, OSError, KeyError, ValueError) as e:
            res["fail"].append(f"{label}: {e}")
            res.update(t_tot=Counter(), n_tot=Counter(), convs=Counter(), bad=Counter(),
                       nflows=0)
            return res
    res.update(t_tot=t_tot, n_tot=n_tot, nflows=nflows, bad=Counter(),
               convs=Counter(k[0] for k in conv))
    if unmatched:
        res["note"].append(f"{label}: {unmatched} later fragments came before their first "
                           f"fragment or without one (expected in nad's port-0 flow)")
    # The rule's own reading of tshark must agree with conv,tcp and conv,udp,
    # except that conv,udp also counts the inner UDP of tunnelled packets
    # (GRE, IP-in-IP), which the rule leaves out on purpose.
    tunnel = 0
    for k in sorted(set(conv) | set(t_conv)):
        if conv[k] != t_conv[k]:
            if k[0] == "udp" and t_conv[k] == 0:
                tunnel += conv[k]
                continue
            res["fail"].append(f"{label}: tshark rule vs conv,{k[0]} disagree on {key_text(k)}: "
                               f"per-packet {t_conv[k]}, conv,{k[0]} {conv[k]} (fix this script)")
    if tunnel:
        res["note"].append(f"{label}: conv,udp counts {tunnel} tunnelled UDP packets that nad "
                           f"meters under the tunnel's outer protocol")
    if rc != 0:
        res["fail"].append(f"{label}: nad flows exited {rc}: {err.strip()[-400:]}")
        return res
    for c in CLASSES:
        if n_tot[c] != t_tot[c]:
            res["fail"].append(f"{label}: {c} packets: nad {n_tot[c]}, tshark {t_tot[c]} "
                               f"(diff {n_tot[c] - t_tot[c]:+d})")
        if n_bytes[c] != t_bytes[c]:
            res["fail"].append(f"{label}: {c} IP-layer bytes: nad {n_bytes[c]}, tshark "
                               f"{t_bytes[c]} (diff {n_bytes[c] - t_bytes[c]:+d})")
    lines = 0
    for k in sorted(set(t_flows) | set(n_ports)):
        if t_flows[k] != n_ports[k] or t_fbytes[k] != n_pbytes[k]:
            res["bad"][k[0]] += 1
            if lines < MAX_FLOW_LINES or args.verbose:
                res["fail"].append(f"{label}: flow {key_text(k)}: nad {n_ports[k]} packets "
                                   f"{n_pbytes[k]} bytes, tshark conv,{k[0]} {t_flows[k]} "
                                   f"packets {t_fbytes[k]} bytes")
                lines += 1
    nbad = sum(res["bad"].values())
    if nbad > lines:
        res["fail"].append(f"{label}: ... {nbad - lines} more flows differ (-v lists all)")
    if res["fail"] and args.verbose:
        res["note"].append(f"{label}: nad --stats:\n{err.rstrip()}")
    return res


def collect(paths):
    files = []
    for p in paths:
        if os.path.isdir(p):
            for root, _, names in os.walk(p):
                for n in names:
                    if n.endswith((".pcap", ".pcapng", ".cap")):
                        full = os.path.join(root, n)
                        files.append((full, os.path.relpath(full, p)))
        else:
            files.append((p, os.path.basename(p)))
    return sorted(files, key=lambda f: f[1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--nad", required=True, help="the nad binary to test")
    ap.add_argument("--tshark", default="tshark")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("-v", "--verbose", action="store_true", help="list every differing flow")
    ap.add_argument("paths", nargs="+", help="capture files or directories")
    args = ap.parse_args()

    if not shutil.which(args.tshark):
        print(f"crosscheck: '{args.tshark}' not found: skipped (apt-get install tshark)")
        return 77
    if not os.access(args.nad, os.X_OK):
        print(f"crosscheck: nad binary '{args.nad}' is not executable")
        return 1
    files = collect(args.paths)
    if not files:
        print(f"crosscheck: no capture files under {' '.join(args.paths)}")
        return 1

    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as ex:
        results = list(ex.map(lambda f: check_file(args, f[0], f[1]), files))

    hdr = (f"{'file':46} {'tshark tcp/udp/icmp/icmp6':>27} {'nad tcp/udp/icmp/icmp6':>27} "
           f"{'conv tcp/udp':>12} {'bad':>5} {'flows':>6}  result")
    print(hdr)
    print("-" * len(hdr))
    failed = 0
    for r in results:
        t = "/".join(str(r["t_tot"][c]) for c in CLASSES)
        n = "/".join(str(r["n_tot"][c]) for c in CLASSES)
        ok = not r["fail"]
        failed += not ok
        cv = f"{r['convs']['tcp']}/{r['convs']['udp']}"
        bad = sum(r["bad"].values())
        print(f"{r['file'][:46]:46} {t:>27} {n:>27} {cv:>12} {bad:>5} "
              f"{r['nflows']:>6}  {'ok' if ok else 'FAIL'}")
    print(f"{len(results) - failed}/{len(results)} files agree (conv = tshark's TCP/UDP "
          f"conversations, bad = 4-tuples whose packet or byte counts differ, flows = nad records)")
    for r in results:
        for line in r["fail"]:
            print("FAIL " + line)
        for line in r["note"]:
            print("note " + line)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
