#!/usr/bin/python3
"""Format `nad eval --json` reports as the Markdown of the README's "Detection quality" section.

usage: eval_report.py [--readme README.md] NAME=REPORT.json[,COMMAND] ...

Prints the Markdown; with --readme, also replaces what lies between the
markers <!-- eval-results:begin --> and <!-- eval-results:end --> in it.
"""
import json
import sys

BEGIN, END = "<!-- eval-results:begin -->", "<!-- eval-results:end -->"
AIM_AUC, AIM_FALSE = 0.99, 1.0


def num(v, prec=3):
    return "-" if v is None else ("%.*f" % (prec, v))


def summary_rows(name, doc):
    ov = doc["overall"]
    m = ov["metrics"]
    ae, z, i = m["autoencoder"], m.get("zscore"), m.get("iforest")
    alert = doc["alert_level"]
    vis = [a for a in doc["attacks"] if not a["layer2_only"] and a["flows"]]
    dm = sum(a["detected_medium"] for a in vis)
    da = sum(a["detected_alert"] for a in vis)
    hours = ov["benign_hours"]
    fph = ov["false_incidents_per_hour"]

    def three(key, prec=4):
        return " / ".join(num(d[key] if d else None, prec) for d in (ae, z, i))

    mac = ov.get("per_capture_mean") or {}
    macro = " / ".join(num((mac.get(k) or {}).get("roc_auc"), 4) for k in ("autoencoder", "zscore", "iforest"))
    if ov.get("per_capture_mean_captures", 0) < 2:
        macro = "-"
    return ("| %s | %d (%d attack) | %s | %s | %s | %s | %s | %d/%d | %d/%d | %d, %d in %.2f h = %s, %s |" % (
        name, ae["attack_flows"] + ae["benign_flows"], ae["attack_flows"], three("roc_auc"), macro, three("pr_auc"),
        three("tpr_at_fpr_0.1%", 3), three("tpr_at_fpr_1%", 3), dm, len(vis), da, len(vis),
        ov["false_incidents"]["medium"], ov["false_incidents"][alert], hours, num(fph["medium"], 2),
        num(fph[alert], 2)), ae, dm, len(vis), fph)


def categories(doc):
    alert = doc["alert_level"]
    out = ["| category | attacks | medium+ | %s+ | not visible in IP flows |" % alert, "|---|---:|---:|---:|---:|"]
    for c in doc["categories"]:
        out.append("| %s | %d | %d | %d | %d |" % (c["category"], c["label_rows"], c["detected_medium"],
                                                   c["detected_alert"], c["layer2_only"]))
    return out


def attacks(doc):
    alert = doc["alert_level"]
    out = ["| capture | category | attacker → victim | flows | anomalous | incident | to medium | to %s |" % alert,
           "|---|---|---|---:|---:|---|---:|---:|"]
    for a in doc["attacks"]:
        f = a["file"].rsplit("/", 1)[-1]
        hosts = "%s → %s" % (a["attack_hosts"], a["victim_hosts"])
        if a["layer2_only"]:
            out.append("| %s | %s | %s | - | - | layer 2 only: not visible in IP flows | - | - |" % (f, a["category"], hosts))
            continue
        t = a["time_to_detect_s"]
        out.append("| %s | %s | %s | %d | %d | %s | %s | %s |" % (
            f, a["category"], hosts, a["flows"], a["anomalous_flows"], a["incident_level"] or "-",
            "-" if t["medium"] is None else "%.1f s" % t["medium"], "-" if t[alert] is None else "%.1f s" % t[alert]))
    return out


def main():
    args = sys.argv[1:]
    readme = None
    if args[:1] == ["--readme"]:
        readme, args = args[1], args[2:]
    if not args:
        print(__doc__, file=sys.stderr)
        return 2
    docs = []
    for a in args:
        name, rest = a.split("=", 1)
        path, _, cmd = rest.partition(",")
        docs.append((name, json.load(open(path)), cmd))
    import os
    md = [BEGIN, ""]
    if os.environ.get("EVAL_COMMIT"):
        md += ["Measured at commit %s by `scripts/eval_all.sh`." % os.environ["EVAL_COMMIT"], ""]
    md += [
          "| data | held-out flows | ROC-AUC nad / z-score / IForest | per-capture mean ROC-AUC nad / z / IF "
          "| PR-AUC nad / z / IF | TPR at 0.1 % FPR nad / z / IF | TPR at 1 % FPR nad / z / IF "
          "| attacks at medium+ | at high+ | false incidents medium+, high+ (per hour) |",
          "|---|---:|---|---|---|---|---|---:|---:|---|"]
    aims = []
    for name, doc, _ in docs:
        row, ae, dm, nvis, fph = summary_rows(name, doc)
        md.append(row)
        aims.append("%s: ROC-AUC %s %s %.2f; %d of %d visible attacks at medium+ %s; %s false incidents/h at medium+ %s %.0f" % (
            name, num(ae["roc_auc"], 4), "≥" if (ae["roc_auc"] or 0) >= AIM_AUC else "<", AIM_AUC, dm, nvis,
            "(aim met)" if dm == nvis else "(aim: all)", num(fph["medium"], 2),
            "≤" if fph["medium"] is not None and fph["medium"] <= AIM_FALSE else ">", AIM_FALSE))
    md += ["", "Against the aim (flow ROC-AUC ≥ 0.99, every attack capture an incident at medium+, ≤ 1 false "
           "incident per hour of benign traffic):", ""]
    md += ["- " + a for a in aims]
    for name, doc, cmd in docs:
        md += ["", "#### %s" % name, ""]
        if cmd:
            md += ["```sh", cmd, "```", ""]
        ins = doc["in_sample"]
        md.append("Model: %s. IsolationForest: %s. Held-out benign traffic: %.2f h%s." % (
            ("trained by nad eval (nad train --seed %d) on %d capture(s)%s" % (
                doc["seed"], len(doc["train"]), ", leave-one-out for the benign ones" if doc["cross_validated"] else ""))
            if doc["trained_here"] else doc["model"], doc["iforest"]["status"], doc["overall"]["benign_hours"],
            "; in-sample (not counted): %.2f h" % ins["hours"] if ins["hours"] else ""))
        md += [""] + categories(doc) + [""] + attacks(doc)
    md += ["", END]
    text = "\n".join(md) + "\n"
    sys.stdout.write(text)
    if readme:
        body = open(readme).read()
        if BEGIN not in body or END not in body:
            print("%s: no %s ... %s markers" % (readme, BEGIN, END), file=sys.stderr)
            return 2
        head, rest = body.split(BEGIN, 1)
        tail = rest.split(END, 1)[1]
        open(readme, "w").write(head + text.rstrip("\n") + tail)
    return 0


if __name__ == "__main__":
    sys.exit(main())
