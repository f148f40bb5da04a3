#!/bin/sh
# check_demo.sh NAD SOURCE_DIR WORK_DIR - the README's main job on the bundled default:
#  1. data/demo/model.tflite is exactly what scripts/make_demo_model.sh makes
#     from data/demo/baseline.pcap with this nad (features or training changed
#     => regenerate the bundled model and commit it);
#  2. nad detect on data/demo/demo.pcap with it raises an incident at medium or
#     above for the scanner labelled in data/demo/labels.tsv, as attacker.
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
"$nad" detect -r data/demo/demo.pcap -m data/demo/model.tflite --json > "$work/detect.json"
/usr/bin/python3 - "$work/detect.json" "$scanner" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
rank = {"low": 1, "medium": 2, "high": 3, "critical": 4}
hits = [i for i in doc["incidents"] if i["host"] == sys.argv[2] and i["role"] == "attacker" and rank[i["level"]] >= 2]
print(f"incidents: {len(doc['incidents'])}; for the scanner {sys.argv[2]} at medium+: {len(hits)}")
sys.exit(0 if hits else 1)
PY
