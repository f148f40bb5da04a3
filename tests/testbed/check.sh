#!/usr/bin/env bash
# Check a testbed output directory: every attack labelled and matched, rules
# match nothing in benign.pcap, no attacker IP packet outside the labels, and
# no namespace left behind.  Prints "N passed, N failed" and exits non-zero on
# a failure.   usage: tests/testbed/check.sh OUTDIR [EXPECTED_ROWS]
set -u
OUT=$1
EXPECT=${2:-13}
pass=0 fail=0
ok()  { pass=$((pass + 1)); echo "ok   $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }

for f in testbed.pcap benign.pcap attack.pcap labels.tsv summary.txt; do
    [[ -s $OUT/$f ]] && ok "$f exists" || bad "$f missing or empty"
done
hdr=$(head -n 1 "$OUT/labels.tsv" 2>/dev/null)
[[ $hdr == $'file\tcategory\tattack_hosts\tvictim_hosts\trule\tnote' ]] && ok "labels.tsv header" || bad "labels.tsv header: '$hdr'"
rows=$(($(wc -l <"$OUT/labels.tsv") - 1))
[[ $rows -eq $EXPECT ]] && ok "$rows label rows" || bad "$rows label rows, expected $EXPECT"
while IFS=$'\t' read -r file cat ah vh rule note; do
    n=$(awk -F'\t' 'NF != 6' <<<"$file	$cat	$ah	$vh	$rule	$note" | wc -l)
    [[ $n -eq 0 ]] || bad "row with wrong column count: $rule"
    m=${note%%/*}
    [[ $m =~ ^[0-9]+$ && $m -gt 0 ]] && ok "$cat $vh: $m pkts matched" || bad "$cat $vh: note '$note'"
    [[ $note == *" 0 pkts match in benign.pcap." ]] && ok "$cat $vh: nothing in benign.pcap" || bad "$cat $vh: matches in benign.pcap"
done < <(tail -n +2 "$OUT/labels.tsv")
grep -q "outside every label: 0 IP" "$OUT/summary.txt" && ok "no attacker IP packet outside the labels" \
    || bad "attacker IP packets outside the labels: $(grep 'outside every label' "$OUT/summary.txt")"
left=$(ip netns list | awk '{print $1}' | grep -c '^nadtb-')
[[ $left -eq 0 ]] && ok "no nadtb namespace left" || bad "$left nadtb namespaces left"
echo "testbed: $pass passed, $fail failed"
[[ $fail -eq 0 ]]
