#!/bin/sh
# run_endpoint.sh NAD SOURCE_DIR - the endpoints of `nad run` and `nad status`
# on loopback (free ports picked by the kernel):
#   - --listen is checked (exit 2); --linger needs -r;
#   - -r FILE --linger serves [metrics] listen of the configuration, and
#     keeps serving after the file until SIGTERM (exit 0), through SIGHUP;
#   - a taken port: exit 2 with the address and the reason, nothing written,
#     for a replay with --listen and for a live capture alike; a replay
#     without --listen/--linger does not bind at all;
#   - nad status asks the service (human and --json), and falls back to the
#     database once the service is gone.
NAD=$1
SRC=$2
DEMO="$SRC/data/demo/demo.pcap"
MODEL="$SRC/data/demo/model.tflite"
set -u
WORK=$(mktemp -d /tmp/nad-endpoint.XXXXXX) || exit 1
NAD_PID=
cleanup() {
	[ -n "$NAD_PID" ] && kill "$NAD_PID" 2> /dev/null && wait "$NAD_PID" 2> /dev/null
	[ -n "${KEEP:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() {
	echo "FAIL: $*" >&2
	[ -f "$WORK/a/log" ] && { echo "--- nad log:" >&2; tail -n 20 "$WORK/a/log" >&2; }
	exit 1
}
free_port() {
	/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
get() {
	curl -s --noproxy '*' -m 5 "$@"
}
# conf DIR LISTEN: a configuration with every output under DIR.
conf() {
	mkdir -p "$1"
	cat > "$1/nad.conf" <<-EOF
	[output]
	jsonl_path = $1/anomalies.jsonl
	database_path = $1/nad.db
	[learning]
	baseline_path = $1/baseline.csv
	[alerts]
	spool_path = $1/spool
	[metrics]
	listen = $2
	EOF
}
# expect_exit CODE PATTERN CMD...: CMD exits CODE within 30 s, its stderr matches PATTERN.
expect_exit() {
	code=$1
	pat=$2
	shift 2
	timeout 30 "$@" > "$WORK/out" 2> "$WORK/err"
	rc=$?
	[ "$rc" -eq "$code" ] || { cat "$WORK/err" >&2; fail "'$*' exited $rc, expected $code"; }
	grep -Eq -e "$pat" "$WORK/err" || { cat "$WORK/err" >&2; fail "'$*': stderr does not match '$pat'"; }
}

PORT=$(free_port)
[ -n "$PORT" ] || fail "no free port"

# ---- the command line
expect_exit 2 "invalid --listen 'nonsense'" "$NAD" run -r "$DEMO" -m "$MODEL" --listen nonsense
expect_exit 2 "invalid --listen '127.0.0.1:0'" "$NAD" run -r "$DEMO" -m "$MODEL" --listen 127.0.0.1:0
expect_exit 2 "--linger needs -r FILE" "$NAD" run -i lo --linger
expect_exit 2 "at most one of --db" "$NAD" status --db "$WORK/x.db" --listen 127.0.0.1:1

# ---- a replay that lingers, on the configured address
conf "$WORK/a" "127.0.0.1:$PORT"
"$NAD" run -c "$WORK/a/nad.conf" -r "$DEMO" -m "$MODEL" --linger 2> "$WORK/a/log" &
NAD_PID=$!
i=0
until get "http://127.0.0.1:$PORT/status" | grep -q '"ended": true'; do
	i=$((i + 1))
	[ $i -le 900 ] || fail "no /status with the capture ended after 90 s"
	kill -0 "$NAD_PID" 2> /dev/null || fail "nad run exited early"
	sleep 0.1
done
grep -q "serving /metrics, /status and /healthz on http://127.0.0.1:$PORT" "$WORK/a/log" ||
	fail "the log does not say where it serves"
grep -q "end of '$DEMO'; --linger: serving until SIGTERM" "$WORK/a/log" || fail "the log does not say it lingers"
[ "$(get "http://127.0.0.1:$PORT/healthz")" = ok ] || fail "/healthz is not ok while lingering"
get -D "$WORK/headers" "http://127.0.0.1:$PORT/metrics" > "$WORK/metrics" || fail "GET /metrics"
grep -qi '^content-type: text/plain; version=0.0.4' "$WORK/headers" || fail "/metrics content type"
packets=$(sed -n 's/^nad_capture_packets_total \([0-9]*\)$/\1/p' "$WORK/metrics")
[ "${packets:-0}" -gt 1000 ] || fail "nad_capture_packets_total is '$packets'"
grep -q '^nad_capture_input_ended 1$' "$WORK/metrics" || fail "nad_capture_input_ended is not 1"
grep -q '^nad_learning_state{state="detecting"} 1$' "$WORK/metrics" || fail "not detecting"
grep -q '^nad_flows_active 0$' "$WORK/metrics" || fail "flows still active after the end of the file"
grep -q '^nad_incidents_open 0$' "$WORK/metrics" || fail "incidents still open after the end of the file"
grep -Eq '^nad_incidents_total\{level="low"\} [1-9]' "$WORK/metrics" || fail "no incident counted"
# the model's input width, from the model itself (it grows with the feature registry)
nfeat=$("$NAD" model inspect "$MODEL" | sed -n "s/^ *0 'input' \[1,\([0-9]*\)\].*/\1/p")
grep -q "^nad_model_info{path=\"$MODEL\",.*features=\"$nfeat\"" "$WORK/metrics" || fail "nad_model_info"
[ -s "$WORK/a/nad.db" ] || fail "no database while lingering: records were not written at the end of the file"

# ---- nad status from the service
timeout 30 "$NAD" status -c "$WORK/a/nad.conf" > "$WORK/status" 2>&1 || { cat "$WORK/status"; fail "nad status"; }
grep -q "^source: *service at http://127.0.0.1:$PORT/status" "$WORK/status" || { cat "$WORK/status"; fail "status: source"; }
grep -q "^state: *detecting" "$WORK/status" || fail "status: state"
grep -q "^packets: *$packets " "$WORK/status" || { cat "$WORK/status"; fail "status: packets"; }
grep -q "^input: *file '$DEMO' (read to its end)" "$WORK/status" || fail "status: input"
grep -q "^incidents today:" "$WORK/status" || fail "status: the database's incidents of the day are missing"
timeout 30 "$NAD" status -c "$WORK/a/nad.conf" --json > "$WORK/status.json" || fail "nad status --json"
/usr/bin/python3 - "$WORK/status.json" "$packets" "$PORT" "$nfeat" <<'EOF' || fail "status --json from the service"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["source"] == "service", d["source"]
assert d["url"] == "http://127.0.0.1:%s/status" % sys.argv[3], d["url"]
assert d["capture"]["packets"] == int(sys.argv[2]), d["capture"]
assert d["state"] == "detecting" and d["model"]["features"] == int(sys.argv[4])
assert d["flows"]["ended"] == d["flows"]["created"] == d["flows"]["scored"] > 0, d["flows"]
EOF

# ---- the port is taken
conf "$WORK/b" "127.0.0.1:$PORT"
expect_exit 2 "cannot listen on '127.0.0.1:$PORT': Address already in use \(--listen\)" \
	"$NAD" run -c "$WORK/b/nad.conf" -r "$DEMO" -m "$MODEL" --listen "127.0.0.1:$PORT"
[ -z "$(ls "$WORK/b" | grep -v nad.conf)" ] || fail "a refused start wrote: $(ls "$WORK/b")"
expect_exit 2 "cannot listen on '127.0.0.1:$PORT': Address already in use \(\[metrics\] listen\)" \
	"$NAD" run -c "$WORK/b/nad.conf" -i lo -m "$MODEL"
[ -z "$(ls "$WORK/b" | grep -v nad.conf)" ] || fail "a refused live start wrote: $(ls "$WORK/b")"
# a replay asks for no endpoint: the taken port does not matter
expect_exit 0 "stopped: " "$NAD" run -c "$WORK/b/nad.conf" -r "$DEMO" -m "$MODEL"

# ---- SIGHUP while lingering: reloads, keeps serving
kill -HUP "$NAD_PID"
i=0
until get "http://127.0.0.1:$PORT/metrics" | grep -q '^nad_config_reloads_total{result="success"} 1$'; do
	i=$((i + 1))
	[ $i -le 300 ] || fail "SIGHUP: no successful reload counted in 30 s"
	sleep 0.1
done
[ "$(get "http://127.0.0.1:$PORT/healthz")" = ok ] || fail "/healthz after SIGHUP"

# ---- SIGTERM: exit 0, the endpoint is gone, status falls back to the database
kill -TERM "$NAD_PID"
i=0
while kill -0 "$NAD_PID" 2> /dev/null; do
	i=$((i + 1))
	[ $i -le 200 ] || fail "nad run still running 20 s after SIGTERM"
	sleep 0.1
done
wait "$NAD_PID"
rc=$?
NAD_PID=
[ "$rc" -eq 0 ] || fail "nad run exited $rc after SIGTERM"
get "http://127.0.0.1:$PORT/healthz" > /dev/null && fail "still serving after exit"
timeout 30 "$NAD" status -c "$WORK/a/nad.conf" > "$WORK/status" 2>&1 || { cat "$WORK/status"; fail "nad status after stop"; }
grep -q "^service: *not reachable at http://127.0.0.1:$PORT/status" "$WORK/status" || { cat "$WORK/status"; fail "status: fallback"; }
grep -q "^state: *stopped" "$WORK/status" || { cat "$WORK/status"; fail "status: state from the database"; }
grep -q "^packets: *$packets$" "$WORK/status" || { cat "$WORK/status"; fail "status: packets from the database"; }
timeout 30 "$NAD" status -c "$WORK/a/nad.conf" --json > "$WORK/status.json" || fail "nad status --json after stop"
/usr/bin/python3 - "$WORK/status.json" "$packets" <<'EOF' || fail "status --json from the database"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["source"] == "database", d["source"]
assert d["status"]["state"] == "stopped" and d["status"]["packets"] == sys.argv[2], d["status"]
assert sum(d["incidents_today"].values()) >= 1, d["incidents_today"]
assert any(m["proto"] == "tcp" for m in d["traffic_mix"]), d["traffic_mix"]
EOF
echo "PASS ($packets packets served and reported)"
