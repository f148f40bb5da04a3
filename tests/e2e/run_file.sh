#!/bin/sh
# run_file.sh NAD DATA - `nad run -r` on an nmap SYN scan with a model
# trained on the benign captures: the JSON lines log and the SQLite history
# both hold an incident for the scanner, and a second start appends to both.
NAD=$1
DATA=$2
. "$(dirname "$0")/lib.sh"
e2e_init

SCAN="$ATTACK/evilfingers_nmap_TCP_SYN_SCAN.pcap"
HOST=192.168.1.10
train_model "$WORK/model.tflite"
mkdir "$WORK/out"
write_config "$WORK/out" "$WORK/model.tflite" < /dev/null

"$NAD" run -c "$WORK/out/nad.conf" -r "$SCAN" 2> "$WORK/log1" || { cat "$WORK/log1"; fail "first run exited $?"; }
db1=$(db_incidents "$WORK/out/nad.db" "$HOST")
js1=$(jsonl_incidents "$WORK/out/anomalies.jsonl" "$HOST")
lines1=$(wc -l < "$WORK/out/anomalies.jsonl")
an1=$(sqlite3 "$WORK/out/nad.db" "select count(*) from anomalies")
[ "$db1" -ge 1 ] || fail "no incident for $HOST in the database"
[ "$js1" -ge 1 ] || fail "no incident for $HOST in the JSON lines log"
lvl=$(sqlite3 "$WORK/out/nad.db" "select level from incidents where host = '$HOST' limit 1")
echo "first run: $db1 incident(s) for $HOST (level $lvl), $an1 anomalies, $lines1 log lines"
[ "$(sqlite3 "$WORK/out/nad.db" "select value from service_status where key = 'state'")" = stopped ] ||
	fail "status 'state' is not 'stopped' after the run"
grep -q '"event":"closed"' "$WORK/out/anomalies.jsonl" || fail "the incident was not closed at the end of input"

# -m overrides [model] path; the history grows, nothing is replaced.
write_config "$WORK/out" "$WORK/absent.tflite" < /dev/null
"$NAD" run -c "$WORK/out/nad.conf" -r "$SCAN" -m "$WORK/model.tflite" 2> "$WORK/log2" ||
	{ cat "$WORK/log2"; fail "second run failed"; }
db2=$(db_incidents "$WORK/out/nad.db" "$HOST")
lines2=$(wc -l < "$WORK/out/anomalies.jsonl")
an2=$(sqlite3 "$WORK/out/nad.db" "select count(*) from anomalies")
[ "$lines2" -eq $((lines1 * 2)) ] || fail "second run: log has $lines2 lines, expected $((lines1 * 2)) (append)"
[ "$an2" -eq $((an1 * 2)) ] || fail "second run: $an2 anomalies in the database, expected $((an1 * 2))"
[ "$db2" -ge "$db1" ] || fail "second run lost incidents"
[ ! -e "$WORK/out/baseline.csv" ] || fail "a baseline was written although a model was given"
head -n "$lines1" "$WORK/out/anomalies.jsonl" | python3 -c 'import json,sys; [json.loads(l) for l in sys.stdin]' ||
	fail "log lines are not JSON"
echo "second run appended: $lines2 log lines, $an2 anomalies"
echo PASS
