#!/bin/sh
# webhook_spool.sh NAD SRC - alerts are never lost nor sent twice.
#
# 1. The receiver is down while `nad run -r demo.pcap` raises its incidents:
#    nad keeps every alert in its spool (files on disk) and exits.
# 2. nad is restarted (same capture, --linger) and the receiver comes up a
#    little later: the spooled alerts are delivered, and the same incidents
#    seen again are not raised twice.
# 3. A third run with the receiver up delivers nothing new.
# 4. SIGHUP moves a lingering nad with spooled alerts to another URL.
# Before that: a URL libcurl refuses, or a spool that cannot be created,
# stop nad at start with exit 2, and a corrupt spool file is moved aside.
# The receiver must then hold exactly one alert per (incident, level) at or
# above min_level found in nad's JSON lines log, each once (counted by
# idempotency key), with the configured custom headers; /metrics counts them.
NAD=$1
SRC=$2
. "$(dirname "$0")/lib.sh"
alerts_init

PORT=$(free_port)
MPORT=$(free_port)
SPOOL="$WORK/spool"
REC="$WORK/received.jsonl"
cat > "$WORK/nad.conf" <<CONF
[output]
jsonl_path = $WORK/anomalies.jsonl
database_path =
[metrics]
listen =
[alerts]
webhook_url = http://127.0.0.1:$PORT/hook?topic=nad
webhook_headers = X-Token: s3cret | Authorization: Bearer tk_test
 X-Priority: 4
min_level = low
rate_limit = 100/m
spool_path = $SPOOL
CONF

# refused at start, before anything is written
sed "s|^webhook_url = .*|webhook_url = http://exa mple/hook|" "$WORK/nad.conf" > "$WORK/bad-url.conf"
"$NAD" run -c "$WORK/bad-url.conf" -r "$DEMO" -m "$MODEL" 2> "$WORK/log0"
rc=$?
[ $rc -eq 2 ] && grep -q "webhook_url" "$WORK/log0" || { cat "$WORK/log0"; fail "a bad URL gave exit $rc"; }
sed "s|^spool_path = .*|spool_path = $WORK/missing/spool|" "$WORK/nad.conf" > "$WORK/bad-spool.conf"
"$NAD" run -c "$WORK/bad-spool.conf" -r "$DEMO" -m "$MODEL" 2> "$WORK/log0"
rc=$?
[ $rc -eq 2 ] && grep -q "$WORK/missing/spool" "$WORK/log0" || { cat "$WORK/log0"; fail "a bad spool gave exit $rc"; }
[ ! -e "$WORK/anomalies.jsonl" ] || fail "a refused start wrote the log"
echo "refused at start: a bad URL and an unusable spool (exit 2)"

# 1. receiver down
"$NAD" run -c "$WORK/nad.conf" -r "$DEMO" -m "$MODEL" 2> "$WORK/log1" || { cat "$WORK/log1"; fail "run 1 exited $?"; }
grep -q "kept in the spool" "$WORK/log1" || { cat "$WORK/log1"; fail "run 1 did not report the failed delivery"; }
n1=$(spooled "$SPOOL")
echo "run 1 (receiver down): $n1 alert(s) in the spool"

# What must arrive: one key per incident and level reached at or above low.
$PY - "$WORK/anomalies.jsonl" > "$WORK/expected" <<'PY' || fail "cannot read the JSON lines log"
import json, sys
keys = set()
for line in open(sys.argv[1]):
    o = json.loads(line)
    if o.get("type") == "incident" and o["level"] in ("low", "medium", "high", "critical"):
        keys.add("%s-%s" % (o["uid"], o["level"]))
print("\n".join(sorted(keys)))
PY
nexp=$(lines "$WORK/expected")
[ "$nexp" -ge 3 ] || fail "expected several alerts from the demo, the log gives $nexp"
[ "$n1" -eq "$nexp" ] || fail "spool holds $n1 alert(s), the log has $nexp (incident, level) pairs"
[ "$(lines "$REC")" -eq 0 ] || fail "something was delivered while the receiver was down"

# a damaged file among them: moved aside, the rest still goes out
printf '{"nad_alert":1,"sink":"webhook","key":' > "$SPOOL/00000000000000ff-webhook.alert"

# 2. restart; receiver up once nad has tried and failed (nad retries with
# backoff: 1, 2, 4 ... s, so the wait below covers several retries). Waiting
# for the failure itself, not a fixed time: a slow start (sanitizers, a busy
# machine) must not make the attempt fall after the receiver is up.
bg "$NAD" run -c "$WORK/nad.conf" -r "$DEMO" -m "$MODEL" --linger --listen "127.0.0.1:$MPORT" 2> "$WORK/log2"
NAD_PID=$LAST_PID
wait_for 60 grep -q "kept in the spool" "$WORK/log2" || { cat "$WORK/log2"; fail "run 2 did not try the receiver while it was down"; }
start_receiver "$PORT" "$REC"
wait_for 90 sh -c "[ \$(wc -l < '$REC') -ge $nexp ]" || { cat "$WORK/log2"; fail "only $(lines "$REC") of $nexp alerts arrived in 90 s"; }
wait_for 30 sh -c "[ \$(ls '$SPOOL' | grep -c '\\.alert\$') -eq 0 ]" || fail "the spool did not empty"
[ -f "$SPOOL/corrupt/00000000000000ff-webhook.alert" ] || fail "the corrupt spool file was not moved aside"
sleep 2   # room for a duplicate to show up, if nad were to send one
curl -sf "http://127.0.0.1:$MPORT/metrics" > "$WORK/metrics" || fail "no /metrics from the lingering run"
stop_pid "$NAD_PID"
[ "$STOP_RC" -eq 0 ] || fail "run 2 exited $STOP_RC after SIGTERM"
grep -q "^nad_alerts_sent_total{sink=\"webhook\"} $nexp\$" "$WORK/metrics" ||
	{ grep nad_alert "$WORK/metrics"; fail "/metrics does not count $nexp webhook deliveries"; }
grep -q '^nad_alert_spool_depth{sink="webhook"} 0$' "$WORK/metrics" || fail "/metrics: spool depth is not 0"
grep -q '^nad_alert_failures_total{sink="webhook"} [1-9]' "$WORK/metrics" ||
	fail "/metrics: the failed attempts while the receiver was down are not counted"
echo "run 2 (restart, receiver up): $(lines "$REC") alert(s) delivered"

# 3. same capture once more: everything was delivered already
"$NAD" run -c "$WORK/nad.conf" -r "$DEMO" -m "$MODEL" 2> "$WORK/log3" || { cat "$WORK/log3"; fail "run 3 exited $?"; }
sleep 1
[ "$(spooled "$SPOOL")" -eq 0 ] || fail "run 3 left alerts in the spool"

$PY - "$REC" "$WORK/expected" <<'PY' || fail "delivered alerts do not match"
import collections, json, sys
got = [json.loads(l) for l in open(sys.argv[1])]
want = set(open(sys.argv[2]).read().split())
keys = collections.Counter(g["headers"].get("Idempotency-Key") for g in got)
dups = {k: n for k, n in keys.items() if n > 1}
assert not dups, "delivered more than once: %s" % dups
assert set(keys) == want, "missing %s, unexpected %s" % (sorted(want - set(keys)), sorted(set(keys) - want))
for g in got:
    h, b = g["headers"], g["body"]
    assert g["path"] == "/hook?topic=nad", g["path"]
    assert h.get("X-Token") == "s3cret" and h.get("Authorization") == "Bearer tk_test", h
    assert h.get("X-Priority") == "4", h
    assert h.get("Content-Type") == "application/json", h
    assert b["schema"] == "nad.alert.v1" and b["idempotency_key"] == h["Idempotency-Key"], b
    assert b["idempotency_key"] == "%s-%s" % (b["incident"]["uid"], b["level"]), b
    assert b["event"] in ("firing", "escalated") and b["title"].startswith("nad: "), b
print("%d alerts, each delivered once: %s" % (len(got), ", ".join(sorted(keys))))
PY

# 4. SIGHUP: alerts spooled for a dead URL go to the new one
SPOOL2="$WORK/spool2"
DEAD=$(free_port)
sed -e "s|^webhook_url = .*|webhook_url = http://127.0.0.1:$DEAD/hook|" -e "s|^spool_path = .*|spool_path = $SPOOL2|" \
	"$WORK/nad.conf" > "$WORK/reload.conf"
bg "$NAD" run -c "$WORK/reload.conf" -r "$DEMO" -m "$MODEL" --linger
NAD_PID=$LAST_PID
wait_for 60 sh -c "[ \$(ls '$SPOOL2' 2>/dev/null | grep -c '\\.alert\$') -eq $nexp ]" || fail "run 4 did not spool $nexp alerts"
sed -i "s|^webhook_url = .*|webhook_url = http://127.0.0.1:$PORT/reloaded|" "$WORK/reload.conf"
kill -HUP "$NAD_PID"
wait_for 90 sh -c "[ \$(grep -c '\"path\": \"/reloaded\"' '$REC') -ge $nexp ]" || fail "alerts did not follow the reload"
sleep 1
stop_pid "$NAD_PID"
[ "$STOP_RC" -eq 0 ] || fail "run 4 exited $STOP_RC after SIGTERM"
$PY - "$REC" "$WORK/expected" <<'PY' || fail "alerts after the reload do not match"
import collections, json, sys
got = [json.loads(l) for l in open(sys.argv[1])]
keys = collections.Counter(g["headers"]["Idempotency-Key"] for g in got if g["path"] == "/reloaded")
assert set(keys) == set(open(sys.argv[2]).read().split()) and max(keys.values()) == 1, keys
print("after SIGHUP: %d alerts at the new URL, each once" % len(keys))
PY
echo "ok"
