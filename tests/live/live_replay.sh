#!/bin/bash
# live_replay.sh - live capture check of `nad flows -i`.
#
# usage: live_replay.sh NAD GEN [SIGNAL] [PACKETS] [PPS]
#   NAD      the nad binary
#   GEN      bench_flows_gen (writes the capture that is replayed)
#   SIGNAL   how nad is stopped: TERM (default) or INT
#   PACKETS  packets in the replayed capture (default 100000)
#   PPS      replay rate for tcpreplay --pps (default 100000; must reach >= 50000)
#
# What it does, all inside two network namespaces it creates and deletes:
#   nadtest-tx-PID  --veth nadtxPID ==== veth nadrxPID--  nadtest-rx-PID
#   tcpreplay sends here                nad flows -i captures here
# Neither end has an address and IPv6 is off on both, so the kernel sends
# nothing of its own; the only frames on the wire are the replayed ones,
# whose addresses are private (192.168/16, 10/8, fd00::/8) and never leave
# the veth pair.
#
# The capture comes from bench_flows_gen with 1000 concurrent flows: each
# flow sends at least once per two rounds of 1000 packets, so even at the
# slowest accepted replay rate (50k packets/s) no flow is idle for more than
# 40 ms, far below every flow timeout. Replay speed therefore can neither
# split nor merge flows, and the live run must give the same flows as the
# offline run of the same file.
#
# Checks (each failure names the flow):
#   - tcpreplay sent every packet, at a measured rate >= 50000 packets/s;
#   - nad stops on SIGTERM/SIGINT within 10 s, exit 0, and flushes its flows;
#   - every flow (5-tuple + VLAN, in order of first packet) has the same
#     packets and bytes in each direction live and offline, and no flow is
#     missing or extra;
#   - --stats reports zero kernel and interface drops.
# Everything is bounded in time; the trap removes namespaces and files and
# stops nad. Exit 0 pass, 1 fail, 77 skipped (not root, or a tool missing).
set -u

nad=${1:?usage: live_replay.sh NAD GEN [SIGNAL] [PACKETS] [PPS]}
gen=${2:?usage: live_replay.sh NAD GEN [SIGNAL] [PACKETS] [PPS]}
sig=${3:-TERM}
npackets=${4:-100000}
pps=${5:-100000}
min_pps=50000

skip() { echo "live_replay: $*: skipped"; exit 77; }
fail() { echo "live_replay: FAIL: $*"; exit 1; }

[ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces, packet capture)"
for tool in ip tcpreplay timeout; do
	command -v "$tool" >/dev/null || skip "'$tool' not installed"
done
[ -x "$nad" ] || fail "nad binary '$nad' is not executable"
[ -x "$gen" ] || fail "generator '$gen' is not executable"
case $sig in TERM | INT) ;; *) fail "SIGNAL must be TERM or INT, not '$sig'" ;; esac

ns_tx=nadtest-tx-$$
ns_rx=nadtest-rx-$$
if_tx=nadtx$$
if_rx=nadrx$$
tmp=$(mktemp -d /tmp/nad-live.XXXXXX)
nad_pid=

cleanup() {
	if [ -n "$nad_pid" ] && kill -0 "$nad_pid" 2>/dev/null; then
		kill -KILL "$nad_pid" 2>/dev/null
		wait "$nad_pid" 2>/dev/null
	fi
	ip netns del "$ns_tx" 2>/dev/null
	ip netns del "$ns_rx" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# 1. the capture
"$gen" -o "$tmp/live.pcap" -n "$npackets" -c 1000 -s 7 -r 100000 2>"$tmp/gen.err" ||
	fail "generator: $(cat "$tmp/gen.err")"
echo "capture: $(cat "$tmp/gen.err")"

# 2. namespaces and the veth pair
ip netns add "$ns_tx" || fail "cannot create namespace $ns_tx"
ip netns add "$ns_rx" || fail "cannot create namespace $ns_rx"
for ns in "$ns_tx" "$ns_rx"; do
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 ||
		fail "cannot disable IPv6 in $ns"
done
ip link add "$if_tx" netns "$ns_tx" type veth peer name "$if_rx" netns "$ns_rx" ||
	fail "cannot create veth pair $if_tx/$if_rx"
ip -n "$ns_tx" link set "$if_tx" up && ip -n "$ns_rx" link set "$if_rx" up ||
	fail "cannot bring the veth pair up"
ip -n "$ns_tx" link set lo up
ip -n "$ns_rx" link set lo up

# 3. nad captures in the receiving namespace (ip netns exec execs nad: same pid)
ip netns exec "$ns_rx" "$nad" flows -i "$if_rx" --promisc --buffer-mb 32 --stats \
	-o "$tmp/live.csv" >"$tmp/live.out" 2>"$tmp/live.err" &
nad_pid=$!

# Wait (at most 10 s) until nad holds a packet socket in that namespace,
# then a little longer for libpcap to finish setting up its ring.
for _ in $(seq 100); do
	kill -0 "$nad_pid" 2>/dev/null || break
	if [ "$(ip netns exec "$ns_rx" awk 'NR > 1' /proc/net/packet | wc -l)" -gt 0 ]; then
		break
	fi
	sleep 0.1
done
kill -0 "$nad_pid" 2>/dev/null || fail "nad flows -i $if_rx exited early: $(cat "$tmp/live.err")"
sleep 0.5

# 4. replay, bounded to 120 s
timeout -k 5 120 ip netns exec "$ns_tx" tcpreplay -i "$if_tx" --pps="$pps" "$tmp/live.pcap" \
	>"$tmp/replay.out" 2>&1 || fail "tcpreplay failed: $(tail -5 "$tmp/replay.out")"
sent=$(sed -n 's/.*Successful packets: *\([0-9]*\).*/\1/p' "$tmp/replay.out")
failed=$(sed -n 's/.*Failed packets: *\([0-9]*\).*/\1/p' "$tmp/replay.out")
rate=$(sed -n 's/.*Rated: .*, \([0-9.]*\) pps.*/\1/p' "$tmp/replay.out" | head -1)
echo "tcpreplay: sent ${sent:-?} packets, ${failed:-?} failed, ${rate:-?} packets/s"
[ "${sent:-0}" -eq "$npackets" ] && [ "${failed:-1}" -eq 0 ] ||
	fail "tcpreplay did not send every packet: $(cat "$tmp/replay.out")"
awk -v r="${rate:-0}" -v m=$min_pps 'BEGIN { exit !(r >= m) }' ||
	fail "replay rate ${rate:-?} packets/s is below $min_pps"

# 5. stop nad by signal; it must flush and exit 0 within 10 s
sleep 1
kill -"$sig" "$nad_pid"
for _ in $(seq 100); do
	kill -0 "$nad_pid" 2>/dev/null || break
	sleep 0.1
done
if kill -0 "$nad_pid" 2>/dev/null; then
	fail "nad flows -i did not exit within 10 s of SIG$sig"
fi
wait "$nad_pid"
rc=$?
nad_pid=
echo "nad flows -i: exit $rc after SIG$sig; --stats:"
sed 's/^/  /' "$tmp/live.err"
[ "$rc" -eq 0 ] || fail "nad flows -i exited $rc after SIG$sig"

# 6. the offline run of the same file
"$nad" flows -r "$tmp/live.pcap" -o "$tmp/offline.csv" 2>"$tmp/offline.err" ||
	fail "nad flows -r exited $?: $(cat "$tmp/offline.err")"

# 7. compare flows, and the drop counters
/usr/bin/python3 - "$tmp/live.csv" "$tmp/offline.csv" "$tmp/live.err" "$npackets" <<'EOF'
import csv, re, sys
from collections import defaultdict

live_csv, off_csv, stats_file, npackets = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
KEY = ("src_addr", "src_port", "dst_addr", "dst_port", "proto", "vlan")
COUNTS = ("packets_fwd", "packets_bwd", "bytes_fwd", "bytes_bwd")

def load(path):
    flows = defaultdict(list)
    with open(path, newline="") as fp:
        for row in csv.DictReader(fp):
            flows[tuple(row[k] for k in KEY)].append(
                (float(row["first_ts"]), tuple(int(row[c]) for c in COUNTS)))
    # several flows with one key (split by FIN/RST) compare in order of first packet
    return {k: [c for _, c in sorted(v)] for k, v in flows.items()}

live, off = load(live_csv), load(off_csv)
nlive = sum(len(v) for v in live.values())
noff = sum(len(v) for v in off.values())
pk = lambda d: sum(c[0] + c[1] for v in d.values() for c in v)
print(f"flows: live {nlive}, offline {noff}; packets in flows: live {pk(live)}, "
      f"offline {pk(off)}, replayed {npackets}")
bad = []
for k in sorted(set(live) | set(off)):
    a, b = live.get(k, []), off.get(k, [])
    if a != b:
        name = f"{k[4]} {k[0]}:{k[1]} -> {k[2]}:{k[3]} vlan {k[5]}"
        bad.append(f"flow {name}: live {a or 'missing'}, offline {b or 'missing'} "
                   f"(packets_fwd, packets_bwd, bytes_fwd, bytes_bwd)")
for line in bad[:20]:
    print("FAIL " + line)
if len(bad) > 20:
    print(f"FAIL ... {len(bad) - 20} more flows differ")

# Drops: --stats must name the kernel's and the interface's drop counters
# ("kernel dropped N", "interface dropped N", or key=value spellings), and
# every one of them must be zero.
stats = open(stats_file).read()
drops = re.findall(r"\b((?:kernel|interface|iface|if)[\s_-]*drop\w*)[\s:=]+(\d+)", stats, re.I)
if not any(re.match(r"kernel", name, re.I) for name, _ in drops):
    bad.append("--stats does not report kernel drops")
    print("FAIL --stats names no kernel drop counter (looked for 'kernel dropped N')")
for name, val in drops:
    if int(val) != 0:
        bad.append(f"{name} = {val}")
        print(f"FAIL --stats: {name} {val} (packets lost before nad saw them)")
print("drop counters: " + (", ".join(f"{n} {v}" for n, v in drops) or "none"))
if pk(off) != npackets:
    print(f"note: the offline run has {pk(off)} of {npackets} packets in flows")
print("live flows match the offline run" if not bad else f"{len(bad)} problems")
sys.exit(1 if bad else 0)
EOF
