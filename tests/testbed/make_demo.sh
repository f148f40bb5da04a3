#!/usr/bin/env bash
# Make the bundled demo captures in data/demo/ with the testbed:
#   sudo tests/testbed/make_demo.sh [DEST]        (DEST defaults to data/demo)
#
# One run of `testbed.sh --profile demo --snaplen 96` (210 s of benign
# traffic with light pages, then an nmap SYN scan and a hydra SSH brute
# force), split in time so that the two files do not overlap:
#   baseline.pcap  benign traffic up to 45 s before the first attack (training)
#   demo.pcap      the last 45 s of benign traffic, then the attacks
#   labels.tsv     the testbed's labels, file column demo.pcap, recounted with tshark
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
DEST=${1:-$ROOT/data/demo}
RUN=${RUN_DIR:-$(mktemp -d /tmp/nadtb-demo.XXXXXX)}
BEFORE=45

"$HERE/testbed.sh" --profile demo --snaplen 96 --out "$RUN"

first=$(tshark -r "$RUN/attack.pcap" -c 1 -T fields -e frame.time_epoch 2>/dev/null)
cut=$(echo "$first - $BEFORE" | bc)
mkdir -p "$DEST"
editcap -F pcap -B "$cut" "$RUN/benign.pcap" "$DEST/baseline.pcap"
editcap -F pcap -A "$cut" "$RUN/testbed.pcap" "$DEST/demo.pcap"

count() { tshark -r "$1" -Y "$2" -T fields -e frame.number 2>/dev/null | wc -l; }
total=$(capinfos -c -M "$DEST/demo.pcap" | awk -F: '/Number of packets/ {gsub(/ /, "", $2); print $2}')
{
    head -n 1 "$RUN/labels.tsv"
    tail -n +2 "$RUN/labels.tsv" | while IFS=$'\t' read -r file cat ah vh rule note; do
        m=$(count "$DEST/demo.pcap" "$rule")
        b=$(count "$DEST/baseline.pcap" "$rule")
        rest=${note#*pkts matched. }
        rest=${rest% * pkts match in benign.pcap.}
        printf 'demo.pcap\t%s\t%s\t%s\t%s\t%s/%s pkts matched. %s %s pkts match in baseline.pcap.\n' \
            "$cat" "$ah" "$vh" "$rule" "$m" "$total" "$rest" "$b"
    done
} >"$DEST/labels.tsv"
echo "demo files in $DEST (run kept in $RUN):"
ls -l "$DEST"
cat "$DEST/labels.tsv"
