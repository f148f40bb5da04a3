#!/bin/sh
# run_patterns.sh NAD DATA - `nad run -r` on three attacks whose flows are
# ordinary one by one (docs/scoring.md, "Evidence across flows"): Zeek's 30
# FTP logins, a slow UDP ping sweep of 96 hosts, macof's 100 random SYNs.
# The service path must raise the same medium incidents as `nad detect`,
# in the JSON lines log and the SQLite history, with the pattern in the
# summary -- and must not log the pattern's flows as anomalies one by one.
NAD=$1
DATA=$2
. "$(dirname "$0")/lib.sh"
e2e_init

train_model "$WORK/model.tflite"

# check CAPTURE HOST CATEGORY ROLE SUMMARY_WORDS
check() {
	cap="$ATTACK/$1"
	out="$WORK/out-$(basename "$1" .pcap)"
	mkdir "$out"
	write_config "$out" "$WORK/model.tflite" < /dev/null
	"$NAD" run -c "$out/nad.conf" -r "$cap" 2> "$out/log" || { cat "$out/log"; fail "nad run on $1 exited $?"; }
	row=$(sqlite3 "$out/nad.db" "select level, role, summary from incidents
		where host = '$2' and category = '$3' order by score desc limit 1")
	[ -n "$row" ] || fail "$1: no $3 incident for $2 in the database"
	level=${row%%|*}
	case $level in
	medium | high | critical) ;;
	*) fail "$1: the $3 incident for $2 is at level '$level', expected medium or above" ;;
	esac
	rest=${row#*|}
	[ "${rest%%|*}" = "$4" ] || fail "$1: role '${rest%%|*}', expected '$4'"
	case $rest in
	*"$5"*) ;;
	*) fail "$1: summary '${rest#*|}' does not say '$5'" ;;
	esac
	grep '"type":"incident"' "$out/anomalies.jsonl" | grep -q "\"host\":\"$2\".*\"category\":\"$3\"\|\"category\":\"$3\".*\"host\":\"$2\"" ||
		fail "$1: no $3 incident for $2 in the JSON lines log"
	echo "$1: $level $3 incident for $2 ($4): ${rest#*|}"
}

check zeek_ftp_bruteforce.pcap 192.168.56.1 brute_force attacker "30 short sessions to the login service 192.168.56.101 port 21"
check sgr_udp_ping_sweep.pcap 246.237.45.150 sweep attacker "probed 96 hosts of 246.237.103.0/24 on UDP port 40125"
check chrissanders_ppa1e_dosattack.pcap 0.0.0.0/0 flood network "unanswered TCP flows"

# None of the FTP sessions is unusual on its own: the incident holds them,
# the anomaly log does not.
an=$(sqlite3 "$WORK/out-zeek_ftp_bruteforce/nad.db" "select count(*) from anomalies")
[ "$an" -eq 0 ] || fail "zeek_ftp_bruteforce: $an flows logged as anomalies, expected none (the pattern is the evidence)"
echo PASS
