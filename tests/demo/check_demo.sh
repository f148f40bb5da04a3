#!/bin/sh
# check_demo.sh NAD SOURCE_DIR WORK_DIR - the README's main job on the bundled default:
#  1. data/demo/model.tflite is exactly what scripts/make_demo_model.sh makes
#     from data/demo/baseline.pcap with this nad (features or training changed
#     => regenerate the bundled model and commit it);
#  2. nad detect on data/demo/demo.pcap with it raises an incident at medium or
#     above for the scanner labelled in data/demo/labels.tsv, as attacker, and
#     one in category brute_force for the labelled SSH password guesser; every
#     incident at medium or above names a labelled attacker.
set -eu
nad=$1 src=$2 work=$3
mkdir -p "$work"
cd "$src"
scripts/make_demo_model.sh "$nad" "$work/model.tflite"
if ! cmp -s "$work/model.tflite" data/demo/model.tflite; then
	echo "FAIL: data/demo/model.tflite differs from what scripts/make_demo_model.sh builds now; regenerate it" >&2
	exit 1
fi
scanner=$(awk -F'\t' '$2 == "scan" { print $3; exit }' data/demo/labels.tsv)
[ -n "$scanner" ] || { echo "FAIL: no scan row in data/demo/labels.tsv" >&2; exit 1; }
guesser=$(awk -F'\t' '$2 == "bruteforce" { print $3; exit }' data/demo/labels.tsv)
[ -n "$guesser" ] || { echo "FAIL: no bruteforce row in data/demo/labels.tsv" >&2; exit 1; }
"$nad" detect -r data/demo/demo.pcap -m data/demo/model.tflite --json > "$work/detect.json"
/usr/bin/python3 - "$work/detect.json" "$scanner" "$guesser" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
scanner, guesser = sys.argv[2], sys.argv[3]
rank = {"low": 1, "medium": 2, "high": 3, "critical": 4}
med = [i for i in doc["incidents"] if rank[i["level"]] >= 2]
scan = [i for i in med if i["host"] == scanner and i["role"] == "attacker"]
brute = [i for i in med if i["host"] == guesser and i["role"] == "attacker" and i["category"] == "brute_force"]
other = [i for i in med if i["host"] not in (scanner, guesser)]
print(f"incidents: {len(doc['incidents'])}; at medium+: for the scanner {scanner}: {len(scan)}, "
      f"brute force by {guesser}: {len(brute)}, naming anyone else: {len(other)}")
for i in other:
    print(f"FAIL: unexpected {i['level']} {i['category']} incident for {i['host']}: {i['summary']}")
sys.exit(0 if scan and brute and not other else 1)
PY
