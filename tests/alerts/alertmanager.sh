#!/bin/sh
# alertmanager.sh NAD SRC - a real Alertmanager (prometheus-alertmanager, on
# loopback, clustering off) receives nad's incident as an alert that routes.
#
# A. `nad run -r demo.pcap`: the scanner 192.168.77.66 is a high (or
#    critical) incident. Alertmanager's /api/v2/alerts must show one active
#    alert with alertname NadIncident, severity the highest level the
#    incident reached, category scan, host 192.168.77.66,
#    role attacker, instance = this host, incident = the uid in nad's log;
#    and Alertmanager must notify its own webhook receiver of it (firing).
#    The end of input closed the incident by force, so the alert stays
#    active (it expires at its endsAt) rather than being resolved.
# B. The same traffic followed, 400 s later, by quiet benign traffic: the
#    incident now closes after its quiet period (incident_window = 1m), so
#    nad resolves the alert; Alertmanager drops it from the active alerts
#    and sends a resolved notification. The firing alert is not sent twice.
NAD=$1
SRC=$2
. "$(dirname "$0")/lib.sh"
alerts_init
AM=/usr/bin/prometheus-alertmanager
[ -x "$AM" ] || fail "no $AM (Debian package prometheus-alertmanager)"

AMPORT=$(free_port)
RXPORT=$(free_port)
REC="$WORK/am-notifications.jsonl"
mkdir "$WORK/am"
cat > "$WORK/am.yml" <<YML
route:
  receiver: recorder
  group_by: ['alertname', 'incident']
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: recorder
    webhook_configs:
      - url: http://127.0.0.1:$RXPORT/am
        send_resolved: true
YML
start_receiver "$RXPORT" "$REC"
bg "$AM" --config.file="$WORK/am.yml" --storage.path="$WORK/am" \
	--web.listen-address="127.0.0.1:$AMPORT" --cluster.listen-address= --log.level=warn
AM_PID=$LAST_PID
wait_for 60 curl -sf "http://127.0.0.1:$AMPORT/-/ready" || fail "Alertmanager did not get ready on port $AMPORT"

cat > "$WORK/nad.conf" <<CONF
[output]
jsonl_path = $WORK/anomalies.jsonl
database_path =
[metrics]
listen =
[detection]
incident_window = 1m
[alerts]
alertmanager_url = http://127.0.0.1:$AMPORT/
min_level = high
spool_path = $WORK/spool
CONF

# A. firing
"$NAD" run -c "$WORK/nad.conf" -r "$DEMO" -m "$MODEL" 2> "$WORK/logA" || { cat "$WORK/logA"; fail "run A exited $?"; }
[ "$(spooled "$WORK/spool")" -eq 0 ] || { cat "$WORK/logA"; fail "run A left alerts in the spool"; }
# the scanner's incident at high or above, and the highest level it reached
# (the alert carries the latest; which of the two the model gives depends on it)
read -r UID_HIGH LEVEL_HIGH <<EOF2
$($PY -c '
import json, sys
rank = {"high": 3, "critical": 4}
best = {}
for l in open(sys.argv[1]):
    o = json.loads(l)
    if o.get("type") == "incident" and o["host"] == "192.168.77.66" and o["level"] in rank:
        if rank[o["level"]] > rank.get(best.get(o["uid"], ""), 0):
            best[o["uid"]] = o["level"]
for uid, level in best.items():
    print(uid, level); break' "$WORK/anomalies.jsonl")
EOF2
[ -n "$UID_HIGH" ] || fail "no high incident for 192.168.77.66 in nad's log"
curl -sf "http://127.0.0.1:$AMPORT/api/v2/alerts" > "$WORK/alertsA.json" || fail "cannot query /api/v2/alerts"
$PY - "$WORK/alertsA.json" "$UID_HIGH" "$(hostname)" "$LEVEL_HIGH" <<'PY' || fail "Alertmanager's alerts after run A are not right"
import json, sys
everything = json.load(open(sys.argv[1]))
alerts = [a for a in everything if a["labels"].get("host") == "192.168.77.66"]
assert len(alerts) == 1, "expected one alert for the scanner, got %d: %s" % (len(alerts), everything)
for other in everything:
    if other not in alerts:
        print("also active (another incident): %s" % other["labels"])
a = alerts[0]
want = {"alertname": "NadIncident", "severity": sys.argv[4], "category": "scan", "host": "192.168.77.66",
        "role": "attacker", "incident": sys.argv[2], "instance": sys.argv[3], "job": "nad"}
assert a["labels"] == want, "labels %s, expected %s" % (a["labels"], want)
assert a["status"]["state"] == "active", a["status"]
assert "192.168.77.66 probed" in a["annotations"]["summary"], a["annotations"]
assert "anomalous flows" in a["annotations"]["description"], a["annotations"]
assert [r["name"] for r in a["receivers"]] == ["recorder"], a["receivers"]
print("Alertmanager holds: %s (%s)" % (", ".join("%s=%s" % kv for kv in sorted(a["labels"].items())),
                                       a["status"]["state"]))
PY
# Alertmanager routed it to its receiver
wait_for 60 grep -q '"status": "firing"' "$REC" || fail "Alertmanager sent no firing notification"

# B. the same traffic, then quiet benign traffic 400 s later
first=$(capinfos -a -S -T -r "$SRC/data/demo/baseline.pcap" | cut -f2 | cut -d. -f1)
end=$(capinfos -e -S -T -r "$DEMO" | cut -f2 | cut -d. -f1)
editcap -F pcap -t $((end + 400 - first)) "$SRC/data/demo/baseline.pcap" "$WORK/later.pcap" || fail "editcap"
mergecap -F pcap -a -w "$WORK/quiet.pcap" "$DEMO" "$WORK/later.pcap" || fail "mergecap"
"$NAD" run -c "$WORK/nad.conf" -r "$WORK/quiet.pcap" -m "$MODEL" 2> "$WORK/logB" || { cat "$WORK/logB"; fail "run B exited $?"; }
grep -q "\"uid\":\"$UID_HIGH\".*\"event\":\"closed\"\|\"event\":\"closed\".*\"uid\":\"$UID_HIGH\"" "$WORK/anomalies.jsonl" ||
	fail "the incident did not close in run B"
wait_for 60 grep -q '"status": "resolved"' "$REC" || { cat "$WORK/logB"; fail "Alertmanager sent no resolved notification"; }
curl -sf "http://127.0.0.1:$AMPORT/api/v2/alerts?active=true" > "$WORK/alertsB.json" || fail "cannot query /api/v2/alerts"
$PY - "$WORK/alertsB.json" "$REC" "$UID_HIGH" <<'PY' || fail "Alertmanager's state after run B is not right"
import json, sys
active = [a for a in json.load(open(sys.argv[1])) if a["labels"].get("incident") == sys.argv[3]]
assert not active, "the incident's alert is still active: %s" % active
notes = [json.loads(l)["body"] for l in open(sys.argv[2])]
seen = [(n["status"], a["labels"]["severity"]) for n in notes for a in n["alerts"]
        if a["labels"].get("incident") == sys.argv[3]]
assert seen.count(("firing", "high")) == 1 and seen.count(("resolved", "high")) == 1, seen
print("notifications for %s: %s" % (sys.argv[3], seen))
PY
echo "ok"
