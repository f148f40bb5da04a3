#!/usr/bin/python3
"""Small traffic generators for the nad testbed.

Every sub-command is bounded: it stops after --duration seconds and after
--count messages, whichever comes first.  Addresses are given explicitly on
the command line; the testbed only ever passes addresses of its own network
namespaces.  Randomness comes from --seed so that two runs send the same
sequence of messages.

Sub-commands:
  ntp-server      answer 48-byte NTP-style client requests (UDP 123)
  ntp-client      send an NTP-style request every few seconds
  telem-server    accept IoT telemetry over UDP (CoAP-like port) and TCP
  telem-client    periodic small telemetry messages over UDP, sometimes TCP
  chatter         mDNS announcements/queries and SSDP NOTIFY/M-SEARCH
  dnstunnel       long high-entropy DNS queries under one domain
"""

import argparse
import base64
import json
import os
import random
import selectors
import socket
import struct
import sys
import time

NTP_EPOCH_OFFSET = 2208988800


def now_ntp():
    t = time.time() + NTP_EPOCH_OFFSET
    sec = int(t)
    frac = int((t - sec) * (1 << 32)) & 0xFFFFFFFF
    return sec, frac


def jittered(rng, every, jitter):
    return max(0.05, every + rng.uniform(-jitter, jitter))


def log(msg):
    sys.stderr.write("%s %s\n" % (time.strftime("%H:%M:%S"), msg))
    sys.stderr.flush()


# ---------------------------------------------------------------- NTP-like

def ntp_server(a):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((a.bind, a.port))
    deadline = time.monotonic() + a.duration
    served = 0
    while time.monotonic() < deadline and served < a.count:
        s.settimeout(max(0.1, min(1.0, deadline - time.monotonic())))
        try:
            data, peer = s.recvfrom(512)
        except socket.timeout:
            continue
        if len(data) < 48:
            continue
        rx = now_ntp()
        # LI=0, VN=4, mode=4 (server); stratum 2; poll copied; precision -20
        hdr = struct.pack("!BBbb", (4 << 3) | 4, 2, data[2] if data[2] < 128 else 6, -20)
        root = struct.pack("!II", 0x00000200, 0x00000400)
        refid = socket.inet_aton("10.99.0.1")
        ref = struct.pack("!II", rx[0] - 30, 0)
        orig = data[40:48]  # client's transmit timestamp
        tx = now_ntp()
        pkt = hdr + root + refid + ref + orig + struct.pack("!II", *rx) + struct.pack("!II", *tx)
        s.sendto(pkt, peer)
        served += 1
    log("ntp-server: served %d" % served)


def ntp_client(a):
    rng = random.Random(a.seed)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", 0 if a.sport == 0 else a.sport))
    s.settimeout(2.0)
    deadline = time.monotonic() + a.duration
    time.sleep(min(a.duration, rng.uniform(0, a.every)))
    sent = 0
    while time.monotonic() < deadline and sent < a.count:
        tx = now_ntp()
        pkt = struct.pack("!BBbb", (4 << 3) | 3, 0, 6, -20) + bytes(36) + struct.pack("!II", *tx)
        s.sendto(pkt, (a.server, 123))
        sent += 1
        try:
            s.recvfrom(512)
        except socket.timeout:
            pass
        time.sleep(min(max(0, deadline - time.monotonic()), jittered(rng, a.every, a.jitter)))
    log("ntp-client: sent %d" % sent)


# ---------------------------------------------------------------- telemetry

def telem_server(a):
    sel = selectors.DefaultSelector()
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind((a.bind, a.udp_port))
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    t.bind((a.bind, a.tcp_port))
    t.listen(16)
    t.setblocking(False)
    sel.register(u, selectors.EVENT_READ, "udp")
    sel.register(t, selectors.EVENT_READ, "listen")
    deadline = time.monotonic() + a.duration
    n = 0
    while time.monotonic() < deadline and n < a.count:
        for key, _ in sel.select(timeout=max(0.1, min(1.0, deadline - time.monotonic()))):
            if key.data == "udp":
                data, peer = u.recvfrom(2048)
                u.sendto(b'{"ack":%d}' % (len(data)), peer)
                n += 1
            elif key.data == "listen":
                try:
                    c, _ = t.accept()
                except BlockingIOError:
                    continue
                c.setblocking(False)
                sel.register(c, selectors.EVENT_READ, "conn")
            else:
                c = key.fileobj
                try:
                    data = c.recv(4096)
                except (BlockingIOError, ConnectionError):
                    data = b""
                if data:
                    try:
                        c.send(b'{"status":"ok"}\n')
                    except OSError:
                        pass
                    n += 1
                else:
                    sel.unregister(c)
                    c.close()
    log("telem-server: handled %d" % n)


def telem_client(a):
    rng = random.Random(a.seed)
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("0.0.0.0", a.sport))
    u.settimeout(2.0)
    deadline = time.monotonic() + a.duration
    time.sleep(min(a.duration, rng.uniform(0, a.every)))
    sent = 0
    temp = 21.0
    while time.monotonic() < deadline and sent < a.count:
        if a.resolve and sent % a.resolve_every == 0:
            # devices look their cloud endpoint up again when the TTL runs out
            try:
                socket.getaddrinfo(a.resolve, a.udp_port, socket.AF_INET, socket.SOCK_DGRAM)
            except OSError as e:
                log("telem-client: lookup failed: %s" % e)
        temp += rng.uniform(-0.2, 0.2)
        msg = {"dev": a.device, "seq": sent, "t": round(temp, 2),
               "rh": rng.randint(35, 55), "bat": 100 - sent // 50}
        u.sendto(json.dumps(msg, separators=(",", ":")).encode(), (a.server, a.udp_port))
        try:
            u.recvfrom(512)
        except socket.timeout:
            pass
        sent += 1
        if a.tcp_every and sent % a.tcp_every == 0:
            # status report over a short TCP connection
            try:
                with socket.create_connection((a.server, a.tcp_port), timeout=3) as c:
                    report = {"dev": a.device, "uptime": sent * a.every,
                              "fw": "1.4.2", "log": "x" * rng.randint(200, 900)}
                    c.sendall(json.dumps(report).encode() + b"\n")
                    c.settimeout(3)
                    c.recv(256)
            except OSError as e:
                log("telem-client: tcp report failed: %s" % e)
        time.sleep(min(max(0, deadline - time.monotonic()), jittered(rng, a.every, a.jitter)))
    log("telem-client: sent %d" % sent)


# ---------------------------------------------------------------- mDNS / SSDP

def dns_name(name):
    out = b""
    for label in name.strip(".").split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def mdns_announce(name, ip, service):
    # response, authoritative: A record for NAME.local and a PTR for the service
    hdr = struct.pack("!HHHHHH", 0, 0x8400, 0, 2, 0, 0)
    host = dns_name(name + ".local")
    a = host + struct.pack("!HHIH", 1, 0x8001, 120, 4) + socket.inet_aton(ip)
    inst = dns_name("%s.%s.local" % (name, service))
    ptr = dns_name(service + ".local") + struct.pack("!HHIH", 12, 1, 4500, len(inst)) + inst
    return hdr + a + ptr


def mdns_query(service):
    hdr = struct.pack("!HHHHHH", 0, 0, 1, 0, 0, 0)
    return hdr + dns_name(service + ".local") + struct.pack("!HH", 12, 1)


def chatter(a):
    rng = random.Random(a.seed)
    services = ["_http._tcp", "_ipp._tcp", "_googlecast._tcp", "_airplay._tcp", "_hap._tcp"]
    m = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    m.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 255)
    m.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(a.ip))
    m.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 0)
    m.bind((a.ip, 0))
    ssdp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    ssdp.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 2)
    ssdp.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(a.ip))
    ssdp.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 0)
    ssdp.bind((a.ip, 0))
    ssdp.settimeout(0.5)
    deadline = time.monotonic() + a.duration
    time.sleep(min(a.duration, rng.uniform(0, a.every)))
    sent = 0
    uuid = "uuid:%08x-0000-4000-8000-%012x" % (rng.getrandbits(32), rng.getrandbits(48))
    while time.monotonic() < deadline and sent < a.count:
        r = rng.random()
        if r < 0.4:
            m.sendto(mdns_announce(a.name, a.ip, rng.choice(services)), ("224.0.0.251", 5353))
        elif r < 0.7:
            m.sendto(mdns_query(rng.choice(services)), ("224.0.0.251", 5353))
        elif r < 0.85:
            notify = ("NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\n"
                      "CACHE-CONTROL: max-age=1800\r\nLOCATION: http://%s:8008/desc.xml\r\n"
                      "NT: upnp:rootdevice\r\nNTS: ssdp:alive\r\nSERVER: Linux/5.10 UPnP/1.0 %s/1.0\r\n"
                      "USN: %s::upnp:rootdevice\r\n\r\n") % (a.ip, a.name, uuid)
            ssdp.sendto(notify.encode(), ("239.255.255.250", 1900))
        else:
            search = ("M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\n"
                      "MAN: \"ssdp:discover\"\r\nMX: 1\r\nST: ssdp:all\r\n\r\n")
            ssdp.sendto(search.encode(), ("239.255.255.250", 1900))
            try:
                ssdp.recvfrom(2048)
            except socket.timeout:
                pass
        sent += 1
        time.sleep(min(max(0, deadline - time.monotonic()), jittered(rng, a.every, a.jitter)))
    log("chatter: sent %d" % sent)


def ssdp_responder(a):
    """Answer SSDP M-SEARCH with a unicast response (a smart TV/bulb would)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", 1900))
    mreq = socket.inet_aton("239.255.255.250") + socket.inet_aton(a.ip)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
    deadline = time.monotonic() + a.duration
    n = 0
    while time.monotonic() < deadline and n < a.count:
        s.settimeout(max(0.1, min(1.0, deadline - time.monotonic())))
        try:
            data, peer = s.recvfrom(2048)
        except socket.timeout:
            continue
        if not data.startswith(b"M-SEARCH") or peer[0] == a.ip:
            continue
        resp = ("HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=1800\r\nEXT:\r\n"
                "LOCATION: http://%s:8008/desc.xml\r\nSERVER: Linux/5.10 UPnP/1.0 %s/1.0\r\n"
                "ST: upnp:rootdevice\r\nUSN: uuid:%s::upnp:rootdevice\r\n\r\n") % (a.ip, a.name, a.name)
        s.sendto(resp.encode(), peer)
        n += 1
    log("ssdp-responder: answered %d" % n)


# ---------------------------------------------------------------- DNS tunnel

def dnstunnel(a):
    """Carry pseudo-random 'data' in long base32 labels, like iodine/dnscat2."""
    rng = random.Random(a.seed)
    deadline = time.monotonic() + a.duration
    sent = 0
    s = None
    qtypes = {"TXT": 16, "NULL": 10, "CNAME": 5}
    qtype = qtypes[a.qtype]
    session = "%04x" % rng.getrandbits(16)
    while time.monotonic() < deadline and sent < a.count:
        if s is None or (a.per_flow and sent % a.per_flow == 0):
            if s is not None:
                s.close()
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind(("0.0.0.0", 0))
            s.settimeout(1.0)
        chunk = bytes(rng.getrandbits(8) for _ in range(a.chunk))
        enc = base64.b32encode(chunk).decode().rstrip("=").lower()
        labels = [enc[i:i + 57] for i in range(0, len(enc), 57)]
        name = ".".join(["%s%05d" % (session, sent)] + labels) + "." + a.domain
        qid = rng.getrandbits(16)
        pkt = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + dns_name(name) + struct.pack("!HH", qtype, 1)
        s.sendto(pkt, (a.server, 53))
        sent += 1
        try:
            s.recvfrom(4096)
        except socket.timeout:
            pass
        time.sleep(min(max(0, deadline - time.monotonic()), 1.0 / a.rate))
    log("dnstunnel: sent %d queries" % sent)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)

    def common(sp, every=10.0, jitter=1.0, count=100000):
        sp.add_argument("--duration", type=float, required=True)
        sp.add_argument("--count", type=int, default=count)
        sp.add_argument("--seed", type=int, default=1)
        sp.add_argument("--every", type=float, default=every)
        sp.add_argument("--jitter", type=float, default=jitter)

    sp = sub.add_parser("ntp-server"); common(sp)
    sp.add_argument("--bind", required=True); sp.add_argument("--port", type=int, default=123)
    sp = sub.add_parser("ntp-client"); common(sp, 16, 2)
    sp.add_argument("--server", required=True); sp.add_argument("--sport", type=int, default=0)
    sp = sub.add_parser("telem-server"); common(sp)
    sp.add_argument("--bind", required=True)
    sp.add_argument("--udp-port", type=int, default=5683); sp.add_argument("--tcp-port", type=int, default=8883)
    sp = sub.add_parser("telem-client"); common(sp, 5, 0.5)
    sp.add_argument("--server", required=True); sp.add_argument("--device", required=True)
    sp.add_argument("--sport", type=int, default=0)
    sp.add_argument("--udp-port", type=int, default=5683); sp.add_argument("--tcp-port", type=int, default=8883)
    sp.add_argument("--tcp-every", type=int, default=6)
    sp.add_argument("--resolve", default="", help="name to look up every --resolve-every messages")
    sp.add_argument("--resolve-every", type=int, default=12)
    sp = sub.add_parser("chatter"); common(sp, 8, 3)
    sp.add_argument("--ip", required=True); sp.add_argument("--name", required=True)
    sp = sub.add_parser("ssdp-responder"); common(sp)
    sp.add_argument("--ip", required=True); sp.add_argument("--name", required=True)
    sp = sub.add_parser("dnstunnel"); common(sp)
    sp.add_argument("--server", required=True); sp.add_argument("--domain", required=True)
    sp.add_argument("--rate", type=float, default=8.0)
    sp.add_argument("--chunk", type=int, default=90, help="random bytes per query (base32-encoded)")
    sp.add_argument("--per-flow", type=int, default=50, help="queries per source port (0: one flow)")
    sp.add_argument("--qtype", choices=["TXT", "NULL", "CNAME"], default="TXT")

    a = p.parse_args()
    a.duration = max(0.0, a.duration)
    {"ntp-server": ntp_server, "ntp-client": ntp_client, "telem-server": telem_server,
     "telem-client": telem_client, "chatter": chatter, "ssdp-responder": ssdp_responder,
     "dnstunnel": dnstunnel}[a.cmd](a)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
