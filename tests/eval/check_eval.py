#!/usr/bin/python3
"""Label-driven test of `nad eval` on crafted captures with hand-countable flows.

usage: check_eval.py NAD SOURCE_DIR WORK_DIR

Writes three captures with scapy (fixed seeds), each exactly 1800 s long:
  train.pcap    benign LAN traffic: 4 clients, one DNS lookup and one HTTPS-like
                TCP session each every ~10 s
  holdout.pcap  the same kind of traffic (another seed) plus an UNLABELLED port
                scan by 10.0.0.77: its incident is a false incident by definition
  attack.pcap   benign background plus three labelled attacks:
                  scan   10.0.0.66 -> 10.0.0.10, 300 SYN probes, each answered by RST
                  c2     10.0.0.23 <-> 198.51.100.9: 20 TCP/8080 polls 60 s apart
                         and 5 DNS exchanges; the label's time window holds polls
                         5..14 only and its rule says tcp.port==8080: 10 attack flows
                  sweep  50 ARP who-has from a MAC: layer 2 only
and checks what nad eval reports against counts worked out from the generator.
"""
import csv
import json
import os
import random
import subprocess
import sys

from scapy.all import ARP, DNS, DNSQR, DNSRR, Ether, IP, TCP, UDP, Raw, wrpcap

NAD, SRC, WORK = sys.argv[1], sys.argv[2], sys.argv[3]
PY = "/usr/bin/python3"
T_TRAIN, T_HOLD, T_ATT = 1700000000.0, 1700010000.0, 1700020000.0
DUR = 1800.0
CLIENTS = ["10.0.0.21", "10.0.0.22", "10.0.0.23", "10.0.0.24"]
DNS_SRV, WEB, NAS = "10.0.0.1", "93.184.216.34", "10.0.0.10"
MAC = {}

failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def mac(ip):
    if ip not in MAC:
        MAC[ip] = "02:00:00:00:%02x:%02x" % (len(MAC) // 256, len(MAC) % 256 + 1)
    return MAC[ip]


def pkt(t, src, dst, l4):
    p = Ether(src=mac(src), dst=mac(dst)) / IP(src=src, dst=dst) / l4
    p.time = t
    return p


class Gen:
    """Collects packets and counts the flows it creates (each flow has fresh ports)."""

    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.pkts = []
        self.flows = 0
        self.sport = 20000

    def port(self):
        self.sport += 1
        return self.sport

    def dns(self, t, client, server=DNS_SRV):
        sp, qid = self.port(), self.rng.randrange(65536)
        name = self.rng.choice(["www.example.com", "cdn.example.net", "api.example.org"])
        self.pkts.append(pkt(t, client, server, UDP(sport=sp, dport=53) / DNS(id=qid, rd=1, qd=DNSQR(qname=name))))
        self.pkts.append(pkt(t + 0.004, server, client, UDP(sport=53, dport=sp) / DNS(
            id=qid, qr=1, rd=1, ra=1, qd=DNSQR(qname=name), an=DNSRR(rrname=name, ttl=60, rdata="93.184.216.34"))))
        self.flows += 1

    def session(self, t, client, server, dport, up, down):
        sp = self.port()
        c, s = 1000, 5000
        rtt = 0.010 + self.rng.random() * 0.004
        seq = [
            (0, client, server, "S", c, 0, b""),
            (rtt, server, client, "SA", s, c + 1, b""),
            (rtt + 0.001, client, server, "A", c + 1, s + 1, b""),
            (rtt + 0.002, client, server, "PA", c + 1, s + 1, b"q" * up),
            (2 * rtt + 0.003, server, client, "PA", s + 1, c + 1 + up, b"r" * down),
            (2 * rtt + 0.010, client, server, "FA", c + 1 + up, s + 1 + down, b""),
            (3 * rtt + 0.010, server, client, "FA", s + 1 + down, c + 2 + up, b""),
            (3 * rtt + 0.011, client, server, "A", c + 2 + up, s + 2 + down, b""),
        ]
        for dt, a, b, fl, sq, ack, data in seq:
            sport, dp = (sp, dport) if a == client else (dport, sp)
            l4 = TCP(sport=sport, dport=dp, flags=fl, seq=sq, ack=ack, window=64240)
            self.pkts.append(pkt(t + dt, a, b, l4 / Raw(data) if data else l4))
        self.flows += 1

    def benign(self, t0):
        """Every client: a lookup and a session every 10 s (+-1 s), for DUR seconds."""
        for k, cl in enumerate(CLIENTS):
            t = t0 + 1 + k * 2.5
            while t < t0 + DUR - 5:
                self.dns(t, cl)
                self.session(t + 0.05, cl, WEB, 443, self.rng.choice([300, 420, 517]),
                             self.rng.choice([1200, 1400, 1460]))
                t += 9 + 2 * self.rng.random()
        # the last packet exactly DUR after the first, so the length is known
        self.dns(t0 + DUR - 0.004, CLIENTS[0])

    def scan(self, t, attacker, victim, ports):
        for i, dp in enumerate(ports):
            sp = self.port()
            ts = t + i * 0.005
            self.pkts.append(pkt(ts, attacker, victim, TCP(sport=sp, dport=dp, flags="S", seq=77)))
            self.pkts.append(pkt(ts + 0.001, victim, attacker, TCP(sport=dp, dport=sp, flags="RA", seq=0, ack=78)))
            self.flows += 1

    def save(self, name, t0):
        # start exactly at t0: a first packet at t0 itself
        self.dns(t0, CLIENTS[1])
        self.pkts.sort(key=lambda p: p.time)
        wrpcap(os.path.join(WORK, name), self.pkts, linktype=1)


def make():
    os.makedirs(WORK, exist_ok=True)
    g = Gen(1)
    g.benign(T_TRAIN)
    g.save("train.pcap", T_TRAIN)
    train_flows = g.flows

    g = Gen(2)
    g.benign(T_HOLD)
    g.scan(T_HOLD + 900, "10.0.0.77", NAS, range(1, 201))
    g.save("holdout.pcap", T_HOLD)
    hold_flows = g.flows

    g = Gen(3)
    g.benign(T_ATT)
    g.scan(T_ATT + 600, "10.0.0.66", NAS, range(1, 301))
    c2_first = T_ATT + 300
    for i in range(20):
        g.session(c2_first + 60 * i, "10.0.0.23", "198.51.100.9", 8080, 180, 90)
    for i in range(5):
        g.dns(c2_first + 330 + 60 * i, "10.0.0.23", "198.51.100.9")
    for i in range(50):
        p = Ether(src="02:00:00:00:00:42", dst="ff:ff:ff:ff:ff:ff") / ARP(
            op=1, hwsrc="02:00:00:00:00:42", psrc="10.0.0.66", pdst="10.0.0.%d" % (100 + i))
        p.time = T_ATT + 500 + i * 0.01
        g.pkts.append(p)
    g.save("attack.pcap", T_ATT)
    att_flows = g.flows

    # window: polls 5..14 (0-based) start at c2_first + 300 .. + 840
    lo, hi = c2_first + 300 - 1, c2_first + 840 + 1
    rows = [
        ("attack.pcap", "scan", "10.0.0.66", NAS,
         "frame.time_epoch >= %.3f && frame.time_epoch <= %.3f && ip.addr==10.0.0.66" % (T_ATT + 599.5, T_ATT + 603)),
        ("attack.pcap", "c2", "198.51.100.9", "10.0.0.23",
         "frame.time_epoch >= %.3f && frame.time_epoch <= %.3f && ip.addr==10.0.0.23 && tcp.port==8080 && http" % (lo, hi)),
        ("attack.pcap", "sweep", "02:00:00:00:00:42", "10.0.0.0/24", "arp && eth.src==02:00:00:00:00:42"),
    ]
    hdr = "file\tcategory\tattack_hosts\tvictim_hosts\trule\tnote\n"
    with open(os.path.join(WORK, "labels.tsv"), "w") as f:
        f.write(hdr)
        for r in rows:
            f.write("\t".join(r) + "\tcrafted by check_eval.py\n")
    # the same plus the holdout scanner, to see it leave the false incidents
    with open(os.path.join(WORK, "labels-all.tsv"), "w") as f:
        f.write(hdr)
        for r in rows:
            f.write("\t".join(r) + "\tcrafted\n")
        f.write("holdout.pcap\tscan\t10.0.0.77\t%s\tip.addr==10.0.0.77\tcrafted\n" % NAS)
    return train_flows, hold_flows, att_flows


def nad_eval(labels, *extra):
    w = os.path.join(WORK, "eval-" + os.path.basename(labels))
    cmd = [NAD, "eval", "--labels", os.path.join(WORK, labels), "--train", os.path.join(WORK, "train.pcap"),
           "--work", w, "--json", "--iforest-script", os.path.join(SRC, "scripts", "eval_baseline_iforest.py")]
    cmd += list(extra)
    cmd += [os.path.join(WORK, f) for f in ("train.pcap", "holdout.pcap", "attack.pcap")]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        print(r.stderr)
        check(False, "nad eval exit status %d" % r.returncode)
        sys.exit(1)
    return json.loads(r.stdout), w


def auc_by_hand(rows, key):
    """Mann-Whitney with average ranks, written out independently of nad."""
    vals = sorted(rows, key=key)
    ranks, i = {}, 0
    while i < len(vals):
        j = i
        while j + 1 < len(vals) and key(vals[j + 1]) == key(vals[i]):
            j += 1
        for k in range(i, j + 1):
            ranks[id(vals[k])] = (i + j) / 2 + 1
        i = j + 1
    pos = [r for r in rows if r["attack"] == "1"]
    n_pos, n_neg = len(pos), len(rows) - len(pos)
    s = sum(ranks[id(r)] for r in pos)
    return (s - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def main():
    train_flows, hold_flows, att_flows = make()
    # background flows of attack.pcap: everything but the 300 probes and 20 + 5 c2-pair flows
    print("generated flows: train %d, holdout %d, attack %d" % (train_flows, hold_flows, att_flows))
    scores = os.path.join(WORK, "scores.csv")
    plot = os.path.join(WORK, "eval.png")
    doc, w = nad_eval("labels.tsv", "--scores", scores, "--plot", plot)
    files = {os.path.basename(f["file"]): f for f in doc["files"]}

    check(files["train.pcap"]["flows"] == train_flows, "train.pcap: %d flows" % train_flows)
    check(files["holdout.pcap"]["flows"] == hold_flows, "holdout.pcap: %d flows" % hold_flows)
    check(files["attack.pcap"]["flows"] == att_flows, "attack.pcap: %d flows" % att_flows)
    check(files["train.pcap"]["in_sample"] and not files["holdout.pcap"]["in_sample"],
          "train.pcap in-sample, holdout.pcap held out")
    check(files["attack.pcap"]["attack_flows"] == 310, "attack.pcap: 300 scan + 10 c2 attack flows")
    check(files["holdout.pcap"]["attack_flows"] == 0, "holdout.pcap: no attack flow (the scanner is unlabelled)")
    ov = doc["overall"]
    check(ov["captures"] == 2, "totals over the 2 held-out captures")
    ae = ov["metrics"]["autoencoder"]
    check(ae["attack_flows"] == 310 and ae["benign_flows"] == hold_flows + att_flows - 310,
          "totals: 310 attack flows, %d benign" % (hold_flows + att_flows - 310))
    check(abs(ov["benign_hours"] - 1.0) < 1e-9, "benign hours: two held-out captures of exactly 1800 s = 1 h")

    att = {a["category"]: a for a in doc["attacks"]}
    check(att["scan"]["flows"] == 300, "scan: 300 flows")
    check(att["c2"]["flows"] == 10, "c2: 10 flows (window holds polls 5..14; DNS on the same pair excluded by tcp.port)")
    check(att["c2"]["rule_terms_not_checked"] == "http", "c2: the 'http' term is reported as not checked")
    check(att["sweep"]["layer2_only"] and att["sweep"]["flows"] == 0, "sweep: layer 2 only, no flow")
    cats = {c["category"]: c for c in doc["categories"]}
    check(cats["sweep"]["visible"] == 0 and cats["sweep"]["layer2_only"] == 1,
          "sweep left out of the detection rate as not visible in IP flows")
    check(att["scan"]["detected_medium"], "scan: an incident at medium or above holds its flows")
    ttd = att["scan"]["time_to_detect_s"]["medium"]
    # The probes go out every 5 ms from the first packet, each closed by its
    # RST 1 ms later; a closed flow lingers 10 s (tcp-closed) and is written
    # at the first packet after that (background traffic: one every < 3 s).
    # So medium comes no sooner than 10.001 s and, since the scan is
    # detected, no later than the last probe's 1.496 s + 10 s + 3 s.
    check(ttd is not None and 10.001 - 1e-6 <= ttd <= 299 * 0.005 + 0.001 + 10 + 3,
          "scan: time to medium %s s: after the first probe's RST + 10 s linger, before the last one's + 13 s" % ttd)

    # false incidents: the unlabelled scanner makes at least one; per hour = count / 1 h
    fm = ov["false_incidents"]["medium"]
    check(fm >= 1, "holdout's unlabelled scanner counts as a false incident (%d at medium+)" % fm)
    check(abs(ov["false_incidents_per_hour"]["medium"] - fm / 1.0) < 1e-9, "false incidents per hour = count / 1 h")
    # labelling the scanner removes exactly its incidents (nad detect lists them)
    doc2, _ = nad_eval("labels-all.tsv", "--no-iforest")
    det = subprocess.run([NAD, "detect", "--json", "-r", os.path.join(WORK, "holdout.pcap"), "-m",
                          os.path.join(w, "model.tflite"), "--min-level", "medium"], capture_output=True, text=True,
                         timeout=300)
    k = sum(1 for i in json.loads(det.stdout)["incidents"] if i["host"] == "10.0.0.77")
    check(k >= 1 and doc2["overall"]["false_incidents"]["medium"] == fm - k,
          "labelling 10.0.0.77 removes exactly its %d incident(s) at medium+ from the false ones" % k)
    check(doc2["iforest"]["ran"] is False and "not run" in doc2["iforest"]["status"], "--no-iforest is reported")

    # the metrics, recomputed from the per-flow scores
    with open(scores) as f:
        rows = [r for r in csv.DictReader(f)]
    held = [r for r in rows if r["in_sample"] == "0"]
    check(len(rows) == train_flows + hold_flows + att_flows, "scores.csv: one row per flow")
    check(sum(r["attack"] == "1" for r in held) == 310, "scores.csv: 310 attack rows")
    auc = auc_by_hand(held, lambda r: (float(r["score"]), float(r["error"])))
    check(abs(auc - ae["roc_auc"]) < 1e-9, "ROC-AUC %.6f = by hand from scores.csv %.6f" % (ae["roc_auc"], auc))
    z = ov["metrics"]["zscore"]
    zauc = auc_by_hand(held, lambda r: float(r["zscore"]))
    check(abs(zauc - z["roc_auc"]) < 1e-9, "z-score ROC-AUC %.6f = by hand %.6f" % (z["roc_auc"], zauc))
    check(doc["iforest"]["ran"], "IsolationForest ran: " + doc["iforest"]["status"])
    if doc["iforest"]["ran"]:
        from sklearn.metrics import average_precision_score, roc_auc_score
        y = [int(r["attack"]) for r in held]
        s = [float(r["iforest"]) for r in held]
        i = ov["metrics"]["iforest"]
        check(abs(roc_auc_score(y, s) - i["roc_auc"]) < 1e-9, "IsolationForest ROC-AUC = sklearn's roc_auc_score")
        check(abs(average_precision_score(y, s) - i["pr_auc"]) < 1e-9,
              "IsolationForest PR-AUC = sklearn's average_precision_score")
    check(os.path.getsize(plot) > 10000 and open(plot, "rb").read(8) == b"\x89PNG\r\n\x1a\n", "--plot wrote a PNG")

    # bad labels: exit 2, the line and column named
    bad = os.path.join(WORK, "bad.tsv")
    with open(bad, "w") as f:
        f.write("file\tcategory\tattack_hosts\tvictim_hosts\trule\tnote\nattack.pcap\tscan\t10.0.0.666\t-\tx\tn\n")
    r = subprocess.run([NAD, "eval", "--labels", bad, "--train", os.path.join(WORK, "train.pcap"),
                        os.path.join(WORK, "attack.pcap")], capture_output=True, text=True, timeout=60)
    check(r.returncode == 2 and "bad.tsv':2:3 (attack_hosts): '10.0.0.666'" in r.stderr,
          "bad labels: exit 2 naming line 2 column 3 (%s)" % r.stderr.strip())
    r = subprocess.run([NAD, "eval", "--labels", bad, os.path.join(WORK, "attack.pcap")], capture_output=True,
                       text=True, timeout=60)
    check(r.returncode == 2 and "--model or --train" in r.stderr, "no model and no training data: exit 2")

    print("eval: %d failed" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
