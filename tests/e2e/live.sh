#!/bin/sh
# live.sh NAD DATA - `nad run -i` on a veth pair between two network
# namespaces made here:
#   nadrun-tx-PID --veth nrtxPID ==== veth nrrxPID-- nadrun-rx-PID
#   tcpreplay sends here                    nad run -i captures here
# Neither end has an address and IPv6 is off, so the only frames on the
# wire are the replayed ones, and they never leave the pair.
#
# A benign capture, then (after a SIGHUP that follows a logrotate-style
# move of the log) an nmap SYN scan and Zeek's ARP host sweep are replayed
# at their own speed, then a SIGHUP with a broken configuration (refused,
# the service goes on), then SIGTERM. Checks: exit 0; every flow of the
# captures is in the final count (flows still active at the signal were
# scored, not lost); the scan's incident for 192.168.1.10 is in the
# database and in the reopened log, and so is the ARP sweep's (ARP makes no
# flow: the live path watches it beside them) for 192.168.1.71;
# sd_notify sent READY=1, STATUS=, WATCHDOG=1 and STOPPING=1.
# Bounded: every wait has a time limit; the trap removes the namespaces.
NAD=$1
DATA=$2
. "$(dirname "$0")/lib.sh"

skip() { echo "live: $*: skipped"; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces, packet capture)"
for tool in ip tcpreplay timeout sqlite3 python3; do
	command -v "$tool" > /dev/null || skip "'$tool' not installed"
done

NS_TX=nadrun-tx-$$
NS_RX=nadrun-rx-$$
IF_TX=nrtx$$
IF_RX=nrrx$$
NAD_PID=
LISTEN_PID=
live_cleanup() {
	[ -n "$NAD_PID" ] && kill -KILL "$NAD_PID" 2> /dev/null
	[ -n "$LISTEN_PID" ] && kill "$LISTEN_PID" 2> /dev/null
	ip netns del "$NS_TX" 2> /dev/null
	ip netns del "$NS_RX" 2> /dev/null
}
E2E_CLEANUP_HOOK=live_cleanup
e2e_init

BENIGN_CAP="$BENIGN/chrissanders_http_espn.pcapng"
SCAN="$ATTACK/evilfingers_nmap_TCP_SYN_SCAN.pcap"
HOST=192.168.1.10
ARP_SWEEP="$ATTACK/zeek_nmap_lan_sweep.pcap"
SWEEPER=192.168.1.71

ip netns add "$NS_TX" || fail "ip netns add"
ip netns add "$NS_RX" || fail "ip netns add"
ip link add "$IF_TX" netns "$NS_TX" type veth peer name "$IF_RX" netns "$NS_RX" || fail "veth"
for pair in "$NS_TX $IF_TX" "$NS_RX $IF_RX"; do
	set -- $pair
	ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	ip netns exec "$1" sysctl -qw "net.ipv6.conf.$2.disable_ipv6=1"
	ip -n "$1" link set "$2" up || fail "link up $2"
done

train_model "$WORK/model.tflite"
mkdir "$WORK/out"
write_config "$WORK/out" "$WORK/model.tflite" <<EOC
[capture]
interface = $IF_RX
promiscuous = true
EOC

expected=0
for f in "$BENIGN_CAP" "$SCAN" "$ARP_SWEEP"; do
	n=$("$NAD" flows -r "$f" | tail -n +2 | wc -l)
	expected=$((expected + n))
done

python3 "$(dirname "$0")/notify_listen.py" "$WORK/notify.sock" "$WORK/notify.log" 300 &
LISTEN_PID=$!
i=0
while [ ! -S "$WORK/notify.sock" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done

NOTIFY_SOCKET="$WORK/notify.sock" WATCHDOG_USEC=1000000 \
	ip netns exec "$NS_RX" "$NAD" run -c "$WORK/out/nad.conf" 2> "$WORK/log" &
NAD_PID=$!
i=0
until grep -q READY=1 "$WORK/notify.log" 2> /dev/null; do
	[ $i -lt 300 ] || { cat "$WORK/log"; fail "no READY=1 within 30 s"; }
	kill -0 "$NAD_PID" 2> /dev/null || { cat "$WORK/log"; fail "nad run exited early"; }
	sleep 0.1
	i=$((i + 1))
done

ip netns exec "$NS_TX" timeout 60 tcpreplay -q -i "$IF_TX" "$BENIGN_CAP" > "$WORK/replay1" 2>&1 ||
	{ cat "$WORK/replay1"; fail "tcpreplay benign"; }
# logrotate: move the log away, then SIGHUP makes nad start a new one.
mv "$WORK/out/anomalies.jsonl" "$WORK/out/anomalies.jsonl.1"
kill -HUP "$NAD_PID"
i=0
until grep -q "reloaded configuration" "$WORK/log"; do
	[ $i -lt 300 ] || { cat "$WORK/log"; fail "no reload within 30 s of SIGHUP"; }
	sleep 0.1
	i=$((i + 1))
done
ip netns exec "$NS_TX" timeout 60 tcpreplay -q -i "$IF_TX" "$SCAN" > "$WORK/replay2" 2>&1 ||
	{ cat "$WORK/replay2"; fail "tcpreplay scan"; }
ip netns exec "$NS_TX" timeout 60 tcpreplay -q -i "$IF_TX" "$ARP_SWEEP" > "$WORK/replay3" 2>&1 ||
	{ cat "$WORK/replay3"; fail "tcpreplay ARP sweep"; }
# Every frame sent must be read before SIGTERM (what is still in the ring
# then is not): wait until nad's packet count, published every 10 s in the
# database, reaches what tcpreplay sent, not a fixed time.
sent=0
for f in "$WORK/replay1" "$WORK/replay2" "$WORK/replay3"; do
	n=$(sed -n 's/.*Actual: \([0-9]*\) packets.*/\1/p' "$f" | head -n 1)
	[ -n "$n" ] || { cat "$f"; fail "no packet count in tcpreplay's output"; }
	sent=$((sent + n))
done
i=0
until [ "$(sqlite3 "$WORK/out/nad.db" "select value from service_status where key = 'packets'" 2> /dev/null)" -ge "$sent" ] 2> /dev/null; do
	[ $i -lt 600 ] || { cat "$WORK/log"; fail "nad did not read the $sent frames sent within 60 s"; }
	sleep 0.1
	i=$((i + 1))
done
# A broken configuration on SIGHUP is refused; the running one is kept.
cp "$WORK/out/nad.conf" "$WORK/good.conf"
echo "no_such_key = 1" >> "$WORK/out/nad.conf"
kill -HUP "$NAD_PID"
i=0
until grep -q "keeping the running configuration" "$WORK/log"; do
	[ $i -lt 300 ] || { cat "$WORK/log"; fail "a bad configuration on SIGHUP was not refused in 30 s"; }
	sleep 0.1
	i=$((i + 1))
done

kill -TERM "$NAD_PID"
i=0
while kill -0 "$NAD_PID" 2> /dev/null && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
kill -0 "$NAD_PID" 2> /dev/null && fail "nad run still running 20 s after SIGTERM"
wait "$NAD_PID"
rc=$?
NAD_PID=
cat "$WORK/log"
[ "$rc" -eq 0 ] || fail "nad run exited $rc after SIGTERM"

active=$(sed -n 's/.*flushing \([0-9]*\) active flows.*/\1/p' "$WORK/log")
[ "${active:-0}" -gt 0 ] || fail "no flows were active at SIGTERM (the check would prove nothing)"
flows=$(sqlite3 "$WORK/out/nad.db" "select value from service_status where key = 'flows'")
echo "flows: $flows scored ($active active at SIGTERM), $expected in the captures offline"
[ "$flows" -eq "$expected" ] || fail "$flows flows scored, expected $expected"
[ "$(db_incidents "$WORK/out/nad.db" "$HOST")" -ge 1 ] || fail "no incident for $HOST in the database"
[ -s "$WORK/out/anomalies.jsonl" ] || fail "no new log after SIGHUP"
[ "$(jsonl_incidents "$WORK/out/anomalies.jsonl" "$HOST")" -ge 1 ] || fail "no incident for $HOST in the new log"
sweep=$(sqlite3 "$WORK/out/nad.db" "select level || ' ' || summary from incidents where host = '$SWEEPER'
	and category = 'sweep' and summary like '%ARP who-has%' and level_num >= 2 limit 1")
[ -n "$sweep" ] || fail "no medium+ ARP sweep incident for $SWEEPER in the database"
echo "ARP sweep, live: $sweep"
grep '"type":"incident"' "$WORK/out/anomalies.jsonl" | grep '"category":"sweep"' | grep -q "\"host\":\"$SWEEPER\"" ||
	fail "no sweep incident for $SWEEPER in the new log"
[ "$(sqlite3 "$WORK/out/nad.db" "select value from service_status where key = 'capture_drops'")" -eq 0 ] ||
	fail "capture drops reported"

i=0
while kill -0 "$LISTEN_PID" 2> /dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
for m in READY=1 STATUS=detecting WATCHDOG=1 STOPPING=1; do
	grep -q "$m" "$WORK/notify.log" || { cat "$WORK/notify.log"; fail "no $m sent to the notify socket"; }
done
echo "notify: $(wc -l < "$WORK/notify.log") messages, $(grep -c WATCHDOG=1 "$WORK/notify.log") watchdog pings"
echo PASS
