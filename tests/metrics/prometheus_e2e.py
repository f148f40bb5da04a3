#!/usr/bin/python3
"""prometheus_e2e.py NAD SOURCE_DIR - a real Prometheus scrapes real `nad run`s.

Two services replay the bundled captures through `nad run -r - --linger`
(the capture is written into nad's stdin at a steady pace, so Prometheus
sees the counters move while packets flow):
  - detect: data/demo/demo.pcap with data/demo/model.tflite (a port scan),
    alerts sent to a webhook receiver on loopback;
  - learn:  data/demo/baseline.pcap with no model (the learning period).
A Prometheus on 127.0.0.1 (temporary storage, 1 s scrape and evaluation
interval) loads deploy/prometheus/scrape.yml and nad-rules.yml. Then:
  - `promtool check config` accepts the configuration, `promtool check
    metrics` finds nothing to say about either /metrics;
  - Prometheus's numbers equal what nad's /status says (packets, flows);
  - every query of every panel of deploy/grafana/nad-dashboard.json (its
    template variables substituted as Grafana would) returns at least one
    series with a finite value through /api/v1/query; panels without data
    are listed by title and fail the test;
  - every rule of nad-rules.yml evaluates without error;
  - SIGTERM stops both services with exit 0.
Every wait is bounded; every process is stopped on the way out.
"""
import http.server
import json
import math
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

FEED_SECONDS = 12          # how long each capture takes to write into nad
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: never a proxy
procs = []
work = None


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def free_port(taken):
    while True:
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        if port not in taken:
            taken.add(port)
            return port


def get(url, timeout=5):
    try:
        with opener.open(url, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
    except OSError:
        return None, b""


def wait_for(what, timeout, cond):
    end = time.time() + timeout
    while time.time() < end:
        v = cond()
        if v:
            return v
        time.sleep(0.2)
    fail("timed out after %d s waiting for %s" % (timeout, what))


def start(args, log, **kw):
    p = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, **kw)
    procs.append(p)
    return p


def stop_all():
    for p in procs:
        if p.poll() is None:
            p.terminate()
    end = time.time() + 20
    for p in procs:
        try:
            p.wait(timeout=max(0.1, end - time.time()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def pcap_records(path):
    """The global header and the records of a classic pcap file."""
    data = open(path, "rb").read()
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        order = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        order = ">"
    else:
        fail("'%s' is not a classic pcap file" % path)
    recs, off = [], 24
    while off + 16 <= len(data):
        caplen = struct.unpack(order + "I", data[off + 8:off + 12])[0]
        recs.append(data[off:off + 16 + caplen])
        off += 16 + caplen
    return data[:24], recs


def feed(proc, path, seconds, done):
    """Write the capture into proc's stdin over `seconds`, then close it."""
    header, recs = pcap_records(path)
    steps = max(1, int(seconds / 0.05))
    try:
        proc.stdin.write(header)
        for i in range(steps):
            chunk = recs[len(recs) * i // steps:len(recs) * (i + 1) // steps]
            proc.stdin.write(b"".join(chunk))
            proc.stdin.flush()
            time.sleep(seconds / steps)
        proc.stdin.close()
    except BrokenPipeError:
        pass
    done.append(len(recs))


class Receiver(http.server.BaseHTTPRequestHandler):
    posts = []

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        Receiver.posts.append((self.path, self.rfile.read(n)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *a):
        pass


def prom_query(port, expr):
    q = urllib.parse.urlencode({"query": expr})
    status, body = get("http://127.0.0.1:%d/api/v1/query?%s" % (port, q), timeout=10)
    if status != 200:
        return None, "HTTP %s: %s" % (status, body[:300].decode("utf-8", "replace"))
    doc = json.loads(body)
    if doc.get("status") != "success":
        return None, doc.get("error", "?")
    return doc["data"], None


def finite_values(data):
    """Sample values of an instant query result (vector, scalar or matrix)."""
    kind, res = data["resultType"], data["result"]
    if kind == "scalar":
        vals = [res[1]]
    elif kind == "vector":
        vals = [s["value"][1] for s in res]
    elif kind == "matrix":
        vals = [v[1] for s in res for v in s["values"]]
    else:
        vals = []
    return [float(v) for v in vals if not math.isnan(float(v)) and not math.isinf(float(v))]


def panels_of(dash):
    for p in dash["panels"]:
        if p.get("type") == "row":
            for q in p.get("panels", []):
                yield q
        else:
            yield p


def main():
    if len(sys.argv) != 3:
        fail("usage: prometheus_e2e.py NAD SOURCE_DIR")
    nad, src = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    for tool in ("/usr/bin/prometheus", "/usr/bin/promtool"):
        if not os.access(tool, os.X_OK):
            fail("%s is missing: install the Debian package prometheus (scripts/deps.sh --test)" % tool)
    demo, model = src + "/data/demo/demo.pcap", src + "/data/demo/model.tflite"
    baseline = src + "/data/demo/baseline.pcap"
    global work
    t0 = time.time()
    work = tempfile.mkdtemp(prefix="nad-prom.")
    taken = set()
    p_det, p_learn, p_prom, p_hook = (free_port(taken) for _ in range(4))

    hook = http.server.ThreadingHTTPServer(("127.0.0.1", p_hook), Receiver)
    threading.Thread(target=hook.serve_forever, daemon=True).start()

    def conf(name, extra):
        d = os.path.join(work, name)
        os.mkdir(d)
        with open(d + "/nad.conf", "w") as f:
            f.write("[output]\njsonl_path = %s/anomalies.jsonl\ndatabase_path = %s/nad.db\n"
                    "[learning]\nbaseline_path = %s/baseline.csv\n[model]\npath = %s/model.tflite\n"
                    "[alerts]\nspool_path = %s/spool\n%s" % (d, d, d, d, d, extra))
        return d

    det_dir = conf("detect", "webhook_url = http://127.0.0.1:%d/hook\n" % p_hook)
    learn_dir = conf("learn", "")
    det = start([nad, "run", "-c", det_dir + "/nad.conf", "-r", "-", "-m", model, "--linger",
                 "--listen", "127.0.0.1:%d" % p_det], open(det_dir + "/log", "w"), stdin=subprocess.PIPE)
    learn = start([nad, "run", "-c", learn_dir + "/nad.conf", "-r", "-", "--learn-duration", "1h", "--linger",
                   "--listen", "127.0.0.1:%d" % p_learn], open(learn_dir + "/log", "w"), stdin=subprocess.PIPE)
    for port in (p_det, p_learn):
        wait_for("nad /healthz on port %d" % port, 60,
                 lambda: get("http://127.0.0.1:%d/healthz" % port)[0] == 200)

    # Prometheus 2.42 has no scrape_config_files: the shipped job goes into
    # scrape_configs as it is, with only the targets and the intervals made
    # fit for a test.
    scrape = open(src + "/deploy/prometheus/scrape.yml").read()
    for old, new in (('      - targets: ["nad.lan:19473"]',
                      '      - targets: ["127.0.0.1:%d", "127.0.0.1:%d"]' % (p_det, p_learn)),
                     ("scrape_interval: 15s", "scrape_interval: 1s"),
                     ("scrape_timeout: 5s", "scrape_timeout: 1s")):
        if scrape.count(old) != 1:
            fail("deploy/prometheus/scrape.yml has no line '%s' to adapt" % old)
        scrape = scrape.replace(old, new)
    cfg = os.path.join(work, "prometheus.yml")
    with open(cfg, "w") as f:
        f.write("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                "rule_files:\n  - %s/deploy/prometheus/nad-rules.yml\n%s" % (src, scrape))
    r = subprocess.run(["promtool", "check", "config", cfg], capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        fail("promtool check config:\n" + r.stdout + r.stderr)
    prom = start(["prometheus", "--config.file=" + cfg, "--storage.tsdb.path=" + work + "/tsdb",
                  "--storage.tsdb.retention.time=1h", "--web.listen-address=127.0.0.1:%d" % p_prom,
                  "--log.level=warn"], open(work + "/prometheus.log", "w"))
    wait_for("Prometheus ready", 60, lambda: get("http://127.0.0.1:%d/-/ready" % p_prom)[0] == 200)

    def scraped(n):
        data, _ = prom_query(p_prom, 'count_over_time(up{job="nad"}[1m]) >= %d' % n)
        return data and len(data["result"]) == 2

    wait_for("two scrapes of both services", 60, lambda: scraped(2))

    # Packets now, at a steady pace, so that rates and histograms move.
    t_feed = time.time()
    fed = []
    threads = [threading.Thread(target=feed, args=(det, demo, FEED_SECONDS, fed)),
               threading.Thread(target=feed, args=(learn, baseline, FEED_SECONDS, fed))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=FEED_SECONDS + 60)
    if len(fed) != 2:
        fail("feeding the captures did not finish")

    def status(port):
        code, body = get("http://127.0.0.1:%d/status" % port)
        return json.loads(body) if code == 200 else None

    for port in (p_det, p_learn):
        wait_for("the end of the capture on port %d" % port, 120,
                 lambda: (status(port) or {}).get("capture", {}).get("ended"))
    # The scan is a high incident: the webhook gets it from the alert thread.
    wait_for("the incident at the webhook receiver", 60, lambda: Receiver.posts)
    wait_for("the delivery counted on /metrics", 30, lambda: b'nad_alerts_sent_total{sink="webhook"} %d\n'
             % len(Receiver.posts) in get("http://127.0.0.1:%d/metrics" % p_det)[1])

    # /metrics as nad serves it: promtool's linter has nothing to say.
    figures = {}
    for name, port in (("detect", p_det), ("learn", p_learn)):
        times = []
        for _ in range(20):
            t = time.time()
            code, text = get("http://127.0.0.1:%d/metrics" % port)
            times.append(time.time() - t)
        if code != 200:
            fail("GET /metrics on %s: HTTP %s" % (name, code))
        r = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, timeout=60)
        if r.returncode != 0 or r.stdout.strip() or r.stderr.strip():
            fail("promtool check metrics on %s /metrics (exit %d):\n%s%s" %
                 (name, r.returncode, r.stdout.decode(), r.stderr.decode()))
        samples = [l for l in text.decode().splitlines() if l and not l.startswith("#")]
        families = [l for l in text.decode().splitlines() if l.startswith("# TYPE ")]
        figures[name] = (len(families), len(samples), len(text), sorted(times)[len(times) // 2] * 1000)
        print("%s: %d families, %d samples, %d bytes; GET /metrics median %.2f ms" % ((name,) + figures[name]))

    # Prometheus holds what nad says about itself.
    st = status(p_det)
    det_inst = 'instance="127.0.0.1:%d"' % p_det
    learn_inst = 'instance="127.0.0.1:%d"' % p_learn
    checks = [
        ('nad_capture_packets_total{%s}' % det_inst, st["capture"]["packets"]),
        ('nad_flows_scored_total{%s}' % det_inst, st["flows"]["scored"]),
        ('sum(nad_flows_ended_total{%s})' % det_inst, st["flows"]["ended"]),
        # one series per eviction step, all 0: the table never filled
        ('count(nad_flows_evicted_total{%s} == 0)' % det_inst, 3),
        ('nad_capture_input_ended{%s}' % det_inst, 1),
        ('nad_learning_state{%s, state="detecting"}' % det_inst, 1),
        ('nad_learning_state{%s, state="learning"}' % learn_inst, 1),
        ('count(nad_model_info{%s, features="%d", precision="float32"})' % (det_inst, st["model"]["features"]), 1),
        ('count(nad_model_info{%s})' % learn_inst, None),
        ('nad_alerts_sent_total{%s, sink="webhook"}' % det_inst, len(Receiver.posts)),
        ('nad_alert_spool_depth{%s, sink="webhook"}' % det_inst, 0),
    ]
    if st["capture"]["packets"] != fed[0] and st["capture"]["packets"] != fed[1]:
        fail("/status counts %d packets; the captures hold %s" % (st["capture"]["packets"], fed))

    def disagreements():
        out = []
        for expr, want in checks:
            data, err = prom_query(p_prom, expr)
            if err:
                fail("query %s: %s" % (expr, err))
            got = finite_values(data)
            if want is None:
                if got:
                    out.append("%s: expected no series, got %s" % (expr, got))
            elif got != [float(want)]:
                out.append("%s: Prometheus has %s, nad says %s" % (expr, got, want))
        return out

    # Prometheus shows the final figures once it has scraped after the end
    # (every second; a loaded machine can make a scrape time out): poll
    # rather than wait a fixed time, then every figure must agree.
    end = time.time() + 60
    while disagreements() and time.time() < end:
        time.sleep(0.5)
    wrong = disagreements()
    if wrong:
        fail("after 60 s:\n  " + "\n  ".join(wrong))
    data, _ = prom_query(p_prom, 'nad_learning_progress_ratio{%s}' % learn_inst)
    progress = finite_values(data)
    if len(progress) != 1 or not 0 < progress[0] < 1:
        fail("learning progress of the learning service: %s, expected one value in (0, 1)" % progress)
    print("prometheus agrees with /status: %d packets, %d flows scored, %d incidents reached low, "
          "%d alert(s) delivered to the webhook; learning progress %.3f" %
          (st["capture"]["packets"], st["flows"]["scored"], st["incidents"]["low"], len(Receiver.posts), progress[0]))

    # Every panel of the dashboard, its variables substituted as Grafana does
    # (instance "All" is its allValue).
    dash = json.load(open(src + "/deploy/grafana/nad-dashboard.json"))
    window = "%ds" % (int(time.time() - t_feed) + 15)
    subst = [("$__rate_interval", window), ("$__range", window), ("$__interval", "1s"),
             ("$job", "nad"), ("$instance", ".+")]
    empty, queried = [], 0
    for p in panels_of(dash):
        for t in p.get("targets", []):
            expr = t.get("expr")
            if not expr:
                continue
            for k, v in subst:
                expr = expr.replace(k, v)
            if "$" in expr:
                fail("panel '%s': a variable is left in %s" % (p["title"], expr))
            data, err = prom_query(p_prom, expr)
            queried += 1
            if err:
                fail("panel '%s': query %s failed: %s" % (p["title"], expr, err))
            vals = finite_values(data)
            if not vals:
                empty.append("%s [%s] %s" % (p["title"], t["refId"], expr))
    if empty:
        fail("%d of %d dashboard queries returned no data:\n  %s" % (len(empty), queried, "\n  ".join(empty)))
    npanels = len(list(panels_of(dash)))
    print("dashboard: all %d queries of %d panels return data" % (queried, npanels))

    # Every rule evaluates cleanly.
    code, body = get("http://127.0.0.1:%d/api/v1/rules" % p_prom)
    rules = [r for g in json.loads(body)["data"]["groups"] for r in g["rules"]]
    bad = [(r["name"], r.get("lastError")) for r in rules if r.get("health") != "ok"]
    if len(rules) < 10 or bad:
        fail("rules: %d loaded, unhealthy: %s" % (len(rules), bad))
    data, _ = prom_query(p_prom, 'nad:capture_packets:rate5m{%s} > 0' % det_inst)
    if not finite_values(data):
        fail("recording rule nad:capture_packets:rate5m has no positive value for the replay")
    print("rules: %d loaded, all healthy" % len(rules))

    # SIGTERM: both services stop cleanly.
    for name, p in (("detect", det), ("learn", learn)):
        p.terminate()
        try:
            rc = p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            fail("nad run (%s) still running 30 s after SIGTERM" % name)
        if rc != 0:
            fail("nad run (%s) exited %d after SIGTERM; log:\n%s" % (name, rc, open(
                (det_dir if name == "detect" else learn_dir) + "/log").read()[-3000:]))
    hook.shutdown()
    print("PASS in %.1f s" % (time.time() - t0))


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(1))
    try:
        main()
    finally:
        stop_all()
        if work and not os.environ.get("KEEP"):
            shutil.rmtree(work, ignore_errors=True)
