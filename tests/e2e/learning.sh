#!/bin/sh
# learning.sh NAD DATA - the learning period, shortened by configuration:
# with no model, `nad run -r` on benign traffic followed by a scan collects
# a baseline, trains a model when the period is over, and goes on detecting
# in the same process; the history says so.
NAD=$1
DATA=$2
. "$(dirname "$0")/lib.sh"
e2e_init

# Benign captures one after another (20 s apart, so short idle timeouts end
# their flows), then the scan.
concat_shifted "$WORK/mix.pcap" 20 \
	"$BENIGN/chrissanders_http_espn.pcapng" "$BENIGN/sgr_barbetti_home_lan.pcap" \
	"$BENIGN/sgr_telegram_test1.pcapng" "$BENIGN/wireshark_SkypeIRC.cap" \
	"$BENIGN/ndpi_alexa-app.pcapng" "$BENIGN/zeek_quic_win11_firefox_google.pcap" \
	"$BENIGN/zeek_ntp.pcap" "$BENIGN/ndpi_tuya_lp.pcap" \
	"$ATTACK/evilfingers_nmap_TCP_SYN_SCAN.pcap"
mkdir "$WORK/out"
MODEL="$WORK/out/model.tflite"
write_config "$WORK/out" "$MODEL" <<EOC
[learning]
duration = 5m
min_flows = 100
[flows]
tcp_idle_timeout = 10s
udp_idle_timeout = 10s
icmp_idle_timeout = 10s
EOC

"$NAD" run -c "$WORK/out/nad.conf" -r "$WORK/mix.pcap" 2> "$WORK/log" || { cat "$WORK/log"; fail "nad run exited $?"; }
cat "$WORK/log"
[ -s "$MODEL" ] || fail "no model was written"
"$NAD" model inspect "$MODEL" > /dev/null || fail "the trained model does not load"
grep -q "learning done" "$WORK/log" || fail "no 'learning done' line in the log"
grep -q "trained and loaded; detecting" "$WORK/log" || fail "no switch to detection in the log"
rows=$(($(wc -l < "$WORK/out/baseline.csv") - 1))
[ "$rows" -ge 100 ] || fail "baseline has $rows rows, expected at least min_flows = 100"
"$NAD" flows -r "$BENIGN/zeek_ntp.pcap" | head -n 1 > "$WORK/header"
head -n 1 "$WORK/out/baseline.csv" | cmp -s - "$WORK/header" || fail "baseline header differs from nad flows'"
[ ! -e "$WORK/out/baseline.csv.pending" ] || fail "pending rows were left behind"
state=$(sqlite3 "$WORK/out/nad.db" "select state from learning")
[ "$state" = detecting ] || fail "learning table says '$state', expected detecting"
an=$(sqlite3 "$WORK/out/nad.db" "select count(*) from anomalies")
[ "$an" -ge 1 ] || fail "no anomalies after the switch to detection"
sqlite3 "$WORK/out/nad.db" "select count(*) from traffic_mix" | grep -qv '^0$' || fail "no traffic mix stored"
echo "baseline $rows flows, model $(wc -c < "$MODEL") bytes, $an anomalies after learning"
sqlite3 "$WORK/out/nad.db" "select host, level, category, anomalies from incidents"

# A second start finds the model and detects at once; the baseline is kept.
"$NAD" run -c "$WORK/out/nad.conf" -r "$ATTACK/evilfingers_nmap_TCP_SYN_SCAN.pcap" 2> "$WORK/log2" ||
	{ cat "$WORK/log2"; fail "second run failed"; }
grep -q "detecting with model" "$WORK/log2" || fail "second run did not start detecting"
[ "$(db_incidents "$WORK/out/nad.db" 192.168.1.10)" -ge 1 ] || fail "no incident for the scanner"

# Too few flows at the deadline: learning goes on and says so.
mkdir "$WORK/few"
write_config "$WORK/few" "$WORK/few/model.tflite" <<EOC
[learning]
duration = 1s
min_flows = 100000
EOC
"$NAD" run -c "$WORK/few/nad.conf" -r "$BENIGN/sgr_barbetti_home_lan.pcap" 2> "$WORK/log3" ||
	{ cat "$WORK/log3"; fail "short-baseline run failed"; }
grep -q "learning goes on" "$WORK/log3" || fail "no message about too few flows"
[ ! -e "$WORK/few/model.tflite" ] || fail "a model was trained from too few flows"
st=$(sqlite3 "$WORK/few/nad.db" "select value from service_status where key = 'status'")
echo "too few flows: status '$st'"
case $st in *waiting*) ;; *) fail "status does not say learning waits for flows" ;; esac
echo PASS
