# lib.sh - shared by the alert end-to-end tests (sourced, POSIX sh).
#
# Callers set NAD (the binary) and SRC (the source tree) and call alerts_init.
# Everything runs on loopback; every wait is bounded; the EXIT trap stops
# whatever the test started (by pid) and removes the work directory.

set -u
PY=/usr/bin/python3
PIDS=

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

alerts_init() {
	WORK=$(mktemp -d /tmp/nad-alerts.XXXXXX) || fail "mktemp"
	trap 'alerts_cleanup' EXIT
	trap 'exit 1' INT TERM
	DEMO="$SRC/data/demo/demo.pcap"
	MODEL="$SRC/data/demo/model.tflite"
	[ -f "$DEMO" ] && [ -f "$MODEL" ] || fail "no demo capture or model under $SRC/data/demo"
}

alerts_cleanup() {
	for p in $PIDS; do
		kill "$p" 2>/dev/null
	done
	for p in $PIDS; do
		wait "$p" 2>/dev/null
	done
	[ -n "${KEEP:-}" ] || rm -rf "$WORK"
}

# Start a command in the background and remember it for cleanup.
bg() {
	"$@" &
	LAST_PID=$!
	PIDS="$PIDS $LAST_PID"
}

# stop_pid PID: SIGTERM, wait up to 20 s, then SIGKILL. Sets STOP_RC to the
# exit status (not echoed: a $(...) subshell cannot wait for our children).
stop_pid() {
	kill -TERM "$1" 2>/dev/null
	i=0
	while kill -0 "$1" 2>/dev/null && [ $i -lt 200 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -KILL "$1" 2>/dev/null
	wait "$1"
	STOP_RC=$?
}

# A loopback TCP port nothing listens on right now (the kernel picks it).
free_port() {
	$PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_for SECONDS COMMAND...: poll every 0.2 s until COMMAND succeeds.
wait_for() {
	limit=$(( $1 * 5 ))
	shift
	i=0
	while [ $i -lt $limit ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.2
		i=$((i + 1))
	done
	return 1
}

# start_receiver PORT RECORD [STATUS]: the webhook receiver; waits until it listens.
start_receiver() {
	bg $PY "$SRC/tests/alerts/receiver.py" --port "$1" --record "$2" --status "${3:-200}" \
		--port-file "$WORK/rx.$1.port"
	RX_PID=$LAST_PID
	wait_for 10 test -s "$WORK/rx.$1.port" || fail "the webhook receiver did not start on port $1"
}

spooled() {
	ls "$1" 2>/dev/null | grep -c '\.alert$'
}

lines() {
	if [ -f "$1" ]; then wc -l < "$1"; else echo 0; fi
}
