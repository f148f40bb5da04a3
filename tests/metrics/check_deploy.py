#!/usr/bin/python3
"""check_deploy.py SOURCE_DIR - the Grafana dashboard and the metric names as shipped.

- deploy/grafana/nad-dashboard.json imports cleanly: valid JSON, the data
  source is the DS_PROMETHEUS input behind a datasource variable that every
  panel and query uses, every query selects job="$job" and
  instance=~"$instance", panel ids are unique, panels do not overlap;
- every nad_* metric the dashboard and the rules use is documented in
  docs/metrics.md, and every metric docs/metrics.md lists is one nad serves
  or one the alert thread adds (no stale names on either side).
"""
import json
import os
import re
import sys


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def main():
    src = os.path.abspath(sys.argv[1])
    prom = src + "/deploy/prometheus"
    dash = json.load(open(src + "/deploy/grafana/nad-dashboard.json"))
    inputs = [i for i in dash.get("__inputs", []) if i.get("pluginId") == "prometheus"]
    if [i["name"] for i in inputs] != ["DS_PROMETHEUS"]:
        fail("dashboard: expected one Prometheus input named DS_PROMETHEUS, got %s" % inputs)
    variables = {v["name"]: v for v in dash["templating"]["list"]}
    ds = variables.get("datasource")
    if not ds or ds["type"] != "datasource" or ds["current"].get("value") != "${DS_PROMETHEUS}":
        fail("dashboard: no datasource variable defaulting to ${DS_PROMETHEUS}")
    for name in ("job", "instance"):
        if name not in variables or variables[name]["datasource"]["uid"] != "${datasource}":
            fail("dashboard: variable '%s' missing or not on ${datasource}" % name)
    ids, cells, used = set(), set(), set()
    panels = [p for p in dash["panels"]] + [q for p in dash["panels"] for q in p.get("panels", [])]
    for p in panels:
        if p["id"] in ids:
            fail("dashboard: panel id %d used twice" % p["id"])
        ids.add(p["id"])
        g = p["gridPos"]
        for x in range(g["x"], g["x"] + g["w"]):
            for y in range(g["y"], g["y"] + g["h"]):
                if (x, y) in cells:
                    fail("dashboard: panel '%s' overlaps another at x=%d y=%d" % (p["title"], x, y))
                cells.add((x, y))
        if p["type"] == "row":
            continue
        if p.get("datasource", {}).get("uid") != "${datasource}":
            fail("dashboard: panel '%s' does not use ${datasource}" % p["title"])
        if not p.get("targets"):
            fail("dashboard: panel '%s' has no query" % p["title"])
        for t in p["targets"]:
            e = t["expr"]
            if t.get("datasource", {}).get("uid") != "${datasource}":
                fail("dashboard: a query of '%s' does not use ${datasource}" % p["title"])
            for m in re.findall(r'\b((?:nad|process)_[a-z_]+)\{([^}]*)\}', e):
                if 'job="$job"' not in m[1] or 'instance=~"$instance"' not in m[1]:
                    fail("dashboard: '%s' selects %s without job and instance: %s" % (p["title"], m[0], e))
            used.update(re.findall(r'\bnad_[a-z_]+', e))
    rules = open(prom + "/nad-rules.yml").read()
    used.update(m for m in re.findall(r'\bnad_[a-z_]+', rules))
    rows = sum(1 for p in panels if p["type"] == "row")
    print("dashboard: %d panels in %d rows; %d metric names used by dashboard and rules" %
          (len(ids) - rows, rows, len(used)))

    docs = open(src + "/docs/metrics.md").read()
    documented = set(re.findall(r'^\| `(nad_[a-z_]+)', docs, re.M))
    base = lambda n: re.sub(r'_(bucket|sum|count)$', '', n)
    missing = sorted(n for n in used if base(n) not in documented and n not in documented)
    if missing:
        fail("metrics used by the dashboard or rules but not in docs/metrics.md: %s" % missing)
    served = set(re.findall(r'"(nad_[a-z_]+)"', open(src + "/src/metrics/svc_metrics.c").read()))
    alert_src = ""
    for root, _, files in os.walk(src + "/src/alert"):
        for f in files:
            alert_src += open(os.path.join(root, f)).read()
    served |= set(re.findall(r'"(nad_[a-z_]+)"', alert_src))
    stale = sorted(n for n in documented if n not in served)
    if stale:
        fail("docs/metrics.md lists metrics nad does not serve: %s" % stale)
    print("docs/metrics.md: %d metrics, all served" % len(documented))
    print("PASS")


if __name__ == "__main__":
    main()
