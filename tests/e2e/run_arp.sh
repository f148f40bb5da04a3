#!/bin/sh
# run_arp.sh NAD DATA - host discovery by ARP and ARP spoofing
# (docs/scoring.md, "Evidence across flows"), which no IP flow carries. On a
# crafted nmap -sn style ARP sweep (make_arp_pcaps.py) `nad detect` and
# `nad run -r` raise a medium sweep incident for the sender's IP, in
# detect's JSON, the JSON lines log and the SQLite history; ARP a LAN makes
# on its own (a gateway resolving hosts that answer, gratuitous ARP, DHCP
# address probes) raises nothing; Zeek's real LAN sweep and Chris Sanders'
# ARP poisoning are found through the service path; and no benign capture
# of ../shared gives an ARP incident.
NAD=$1
DATA=$2
. "$(dirname "$0")/lib.sh"
e2e_init

SWEEPER=192.168.50.66
/usr/bin/python3 "$(dirname "$0")/make_arp_pcaps.py" "$WORK" || fail "cannot craft the ARP captures (python3-scapy)"
train_model "$WORK/model.tflite"

# detect_json CAPTURE: incidents as "level|category|host|role|summary" lines
detect_json() {
	"$NAD" detect -r "$1" -m "$WORK/model.tflite" --json > "$WORK/detect.json" || fail "nad detect on $1 exited $?"
	/usr/bin/python3 -c 'import json, sys
for i in json.load(open(sys.argv[1]))["incidents"]:
    print("|".join((i["level"], i["category"], i["host"], i["role"], i["summary"])))' "$WORK/detect.json"
}

rows=$(detect_json "$WORK/sweep.pcap")
[ "$(echo "$rows" | grep -c .)" -eq 1 ] || fail "sweep.pcap: expected one incident, got: $rows"
case $rows in
medium\|sweep\|$SWEEPER\|attacker\|*"$SWEEPER (02:00:00:50:00:42) asked ARP who-has for 253 addresses of 192.168.50.0/24"*"250 never answered"*) ;;
*) fail "sweep.pcap: unexpected incident: $rows" ;;
esac
echo "nad detect sweep.pcap: $rows"

rows=$(detect_json "$WORK/benign_arp.pcap")
[ -z "$rows" ] || fail "benign_arp.pcap: expected no incident, got: $rows"
echo "nad detect benign_arp.pcap: no incident"

# run_check NAME CAPTURE HOST CATEGORY SUMMARY_WORDS: nad run -r, then the
# incident in the database (medium or above) and in the JSON lines log
run_check() {
	out="$WORK/out-$1"
	mkdir "$out"
	write_config "$out" "$WORK/model.tflite" < /dev/null
	"$NAD" run -c "$out/nad.conf" -r "$2" 2> "$out/log" || { cat "$out/log"; fail "nad run on $1 exited $?"; }
	row=$(sqlite3 "$out/nad.db" "select level, role, summary from incidents
		where host = '$3' and category = '$4' and summary like '%ARP%' order by score desc limit 1")
	case $row in
	medium\|attacker\|*"$5"* | high\|attacker\|*"$5"* | critical\|attacker\|*"$5"*) ;;
	*) fail "$1: no medium+ ARP $4 incident for $3 in the database saying '$5' (got '$row')" ;;
	esac
	grep '"type":"incident"' "$out/anomalies.jsonl" | grep "\"category\":\"$4\"" | grep -q "\"host\":\"$3\"" ||
		fail "$1: no $4 incident for $3 in the JSON lines log"
	an=$(sqlite3 "$out/nad.db" "select count(*) from anomalies where src = '$3'")
	echo "nad run $1: $row ($an anomalies logged for $3)"
}
run_check crafted "$WORK/sweep.pcap" "$SWEEPER" sweep "asked ARP who-has for 253 addresses"
run_check zeek "$ATTACK/zeek_nmap_lan_sweep.pcap" 192.168.1.71 sweep \
	"(c4:2c:03:3b:6c:aa) asked ARP who-has for 245 addresses of 192.168.1.0/24"
run_check arppoison "$ATTACK/chrissanders_arppoison.pcapng" 172.16.0.105 arp_spoof \
	"00:25:b3:bf:91:ee (172.16.0.105) claimed 172.16.0.1 in ARP (2 packets) and asked who-has 172.16.0.1 itself"

# ARP requests are not flows the model scored: none is logged as an anomaly.
[ "$(sqlite3 "$WORK/out-crafted/nad.db" "select count(*) from anomalies")" -eq 0 ] ||
	fail "crafted: ARP requests were logged as anomalies"

for f in "$BENIGN"/*; do
	rows=$(detect_json "$f" | grep 'ARP' || true)
	[ -z "$rows" ] || fail "$(basename "$f"): benign capture gave an ARP incident: $rows"
done
echo "benign captures: no ARP incident"
echo PASS
