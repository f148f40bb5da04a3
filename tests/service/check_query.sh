#!/bin/sh
# check_query.sh - `nad anomalies` and `nad status` read what the writer wrote.
# Usage: check_query.sh NAD_QUERY_CLI SEED_HISTORY
set -eu
nad=$1 seed=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
# expect CODE PATTERN CMD...: exit code, and a line of stdout+stderr matching PATTERN
expect() {
	code=$1 pat=$2
	shift 2
	rc=0
	"$@" >"$tmp/out" 2>&1 || rc=$?
	[ "$rc" -eq "$code" ] || { cat "$tmp/out" >&2; fail "'$*' exited $rc, expected $code"; return 0; }
	grep -Eq -- "$pat" "$tmp/out" || { cat "$tmp/out" >&2; fail "'$*' printed no line matching '$pat'"; }
}
rows() { grep -c . "$tmp/out" || true; }

db=$tmp/d.db
"$seed" "$db" detecting

# table, newest first: the IPv6 flow (30 s ago) comes before the scan (60 s ago)
expect 0 '^TIME +LEVEL +SCORE' "$nad" anomalies --db "$db"
[ "$(rows)" -eq 8 ] || fail "expected a header and 7 rows, got $(rows) lines"
sed -n 2p "$tmp/out" | grep -q '\[2001:db8::7\]:40000 -> 10.0.0.5:443' || fail "newest row is not the IPv6 flow"

# --json: one valid object per line, the log schema
expect 0 '"type":"anomaly"' "$nad" anomalies --db "$db" --json
[ "$(rows)" -eq 7 ] || fail "--json: expected 7 lines, got $(rows)"
python3 -c 'import json,sys
for l in open(sys.argv[1]): o=json.loads(l); assert o["type"]=="anomaly" and "features" in o' "$tmp/out" ||
	fail "--json lines do not parse"

# filters
expect 0 'critical' "$nad" anomalies --db "$db" --min-severity high --json
[ "$(rows)" -eq 3 ] || fail "--min-severity high: expected 3, got $(rows)"
expect 0 '"src":"192.168.1.66"' "$nad" anomalies --db "$db" --host 192.168.1.66 --json
[ "$(rows)" -eq 5 ] || fail "--host: expected 5, got $(rows)"
expect 0 '10.0.0.5' "$nad" anomalies --db "$db" --host 10.0.0.5 --json
[ "$(rows)" -eq 6 ] || fail "--host as destination: expected 6, got $(rows)"
expect 0 'anomaly' "$nad" anomalies --db "$db" --since 1h --json
[ "$(rows)" -eq 6 ] || fail "--since 1h: expected 6, got $(rows)"
expect 0 'anomaly' "$nad" anomalies --db "$db" --since 2000-01-01T00:00Z --json
[ "$(rows)" -eq 7 ] || fail "--since 2000-01-01T00:00Z: expected 7, got $(rows)"
expect 0 '"score":96' "$nad" anomalies --db "$db" --sort severity --limit 1 --json
[ "$(rows)" -eq 1 ] || fail "--limit 1: expected 1, got $(rows)"
expect 0 'no anomalies match' "$nad" anomalies --db "$db" --host 192.0.2.1
expect 0 '192.168.1.66 scanned 5 ports' "$nad" anomalies --db "$db" --incidents
expect 0 '"type":"incident"' "$nad" anomalies --db "$db" --incidents --json

# usage errors exit 2 and say what was expected
expect 2 "bad --min-severity 'urgent'" "$nad" anomalies --db "$db" --min-severity urgent
expect 2 "bad --since 'yesterday'" "$nad" anomalies --db "$db" --since yesterday
expect 2 "bad --host 'example.com'" "$nad" anomalies --db "$db" --host example.com
expect 2 "bad --sort" "$nad" anomalies --db "$db" --sort size
# no database: exit 1 naming it
expect 1 "'$tmp/none.db'" "$nad" anomalies --db "$tmp/none.db"
expect 1 "'$tmp/none.db'" "$nad" status --db "$tmp/none.db"
# the database path from a configuration file; a bad one exits 2
printf '[output]\ndatabase_path = %s\n' "$db" >"$tmp/nad.conf"
expect 0 'critical' "$nad" anomalies -c "$tmp/nad.conf" --json
printf '[output]\ndatabse_path = x\n' >"$tmp/bad.conf"
expect 2 "bad.conf:2: unknown key 'databse_path'" "$nad" anomalies -c "$tmp/bad.conf"

# status while detecting
expect 0 '^state: +detecting' "$nad" status --db "$db"
# (the scan was a minute ago: in the first two minutes of the day it was yesterday)
[ "$(date -u +%H%M)" -lt 0002 ] ||
	grep -q 'incidents today: critical 1, high 0, medium 0, low 0' "$tmp/out" || fail "status: incidents today"
grep -q '^capture drops: 7' "$tmp/out" || fail "status: capture drops"
grep -q '^model: .*/var/lib/nad/model.tflite' "$tmp/out" || fail "status: model"

# status while learning: 6 h of 24 h -> 25 %, 18 h left, traffic mix
db2=$tmp/l.db
"$seed" "$db2" learning
expect 0 '^progress: +25% \(6h 0m of 1d 0h\)' "$nad" status --db "$db2"
grep -Eq '^flows: +3000 collected' "$tmp/out" || fail "status: flows collected"
grep -Eq '^time left: +about 18h 0m' "$tmp/out" || fail "status: time left"
grep -Eq 'tcp +well_known +2000 +66.7%' "$tmp/out" || fail "status: traffic mix"

[ "$fails" -eq 0 ] || { echo "$fails check(s) failed" >&2; exit 1; }
echo ok
