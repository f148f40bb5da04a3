#!/usr/bin/python3
"""make_arp_pcaps.py OUTDIR - crafted ARP captures for run_arp.sh.

sweep.pcap: an nmap -sn style ARP sweep of 192.168.50.0/24 by 192.168.50.66
(MAC 02:00:00:50:00:42): who-has for .1-.254 (but itself), each asked twice,
three live hosts (.1, .10, .20) answering, 2 ms apart; then benign_arp.pcap's
packets after it.

benign_arp.pcap: what a LAN does with ARP on its own: the gateway .1 asking
for 60 hosts that all answer; 60 hosts sending gratuitous ARP (request and
reply for their own address); a DHCP client probing 60 candidate addresses
with sender 0.0.0.0 (RFC 5227); an address passing from one device to
another (the first, on a new address, keeps talking to the gateway). No
sender asks for many silent addresses; no MAC asks for an address it
claimed.
"""
import os
import sys

from scapy.all import ARP, Ether, wrpcap

BCAST = "ff:ff:ff:ff:ff:ff"
NET = "192.168.50."
SWEEPER_IP, SWEEPER_MAC = NET + "66", "02:00:00:50:00:42"
GW_IP, GW_MAC = NET + "1", "02:00:00:50:00:01"


def mac(i):
    return "02:00:00:50:01:%02x" % i


def who_has(t, src_mac, src_ip, dst_ip):
    p = Ether(src=src_mac, dst=BCAST) / ARP(op=1, hwsrc=src_mac, psrc=src_ip, hwdst="00:00:00:00:00:00", pdst=dst_ip)
    p.time = t
    return p


def is_at(t, src_mac, src_ip, dst_mac, dst_ip):
    p = Ether(src=src_mac, dst=dst_mac) / ARP(op=2, hwsrc=src_mac, psrc=src_ip, hwdst=dst_mac, pdst=dst_ip)
    p.time = t
    return p


def sweep(t0):
    live = {1: GW_MAC, 10: mac(10), 20: mac(20)}
    pkts, t = [], t0
    for rnd in range(2):
        for h in range(1, 255):
            if NET + str(h) == SWEEPER_IP:
                continue
            pkts.append(who_has(t, SWEEPER_MAC, SWEEPER_IP, NET + str(h)))
            if h in live and rnd == 0:
                pkts.append(is_at(t + 0.0003, live[h], NET + str(h), SWEEPER_MAC, SWEEPER_IP))
            t += 0.002
    return pkts, t


def benign(t0):
    pkts, t = [], t0
    for h in range(100, 160):  # the gateway resolves hosts it forwards to
        pkts.append(who_has(t, GW_MAC, GW_IP, NET + str(h)))
        pkts.append(is_at(t + 0.001, mac(h), NET + str(h), GW_MAC, GW_IP))
        t += 1.5
    for h in range(160, 220):  # gratuitous ARP: hosts announcing themselves
        pkts.append(who_has(t, mac(h), NET + str(h), NET + str(h)))
        pkts.append(is_at(t + 0.01, mac(h), NET + str(h), BCAST, NET + str(h)))
        t += 0.5
    for h in range(2, 62):  # a DHCP client probing candidate addresses
        pkts.append(who_has(t, "02:00:00:50:02:01", "0.0.0.0", NET + str(h)))
        t += 0.2
    old, new = "02:00:00:50:03:01", "02:00:00:50:03:02"  # .230 passes from old to new
    pkts.append(who_has(t, old, NET + "230", GW_IP))
    pkts.append(is_at(t + 0.001, GW_MAC, GW_IP, old, NET + "230"))
    pkts.append(who_has(t + 30, new, "0.0.0.0", NET + "230"))
    pkts.append(who_has(t + 31, new, NET + "230", NET + "230"))
    pkts.append(who_has(t + 32, old, NET + "231", GW_IP))
    pkts.append(who_has(t + 33, GW_MAC, GW_IP, NET + "230"))
    pkts.append(is_at(t + 33.001, new, NET + "230", GW_MAC, GW_IP))
    return pkts


def main():
    out = sys.argv[1]
    swept, t = sweep(1700000000.0)
    quiet = benign(t + 1.0)
    wrpcap(os.path.join(out, "sweep.pcap"), swept + quiet)
    wrpcap(os.path.join(out, "benign_arp.pcap"), quiet)


if __name__ == "__main__":
    main()
