#!/usr/bin/env bash
# demo.sh - install dependencies, build nad, and run its main job on the
# bundled capture (data/demo/), so a new machine shows what nad does.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "${1:-}" = "--no-deps" ] || scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)"
echo
echo "== nad flows -r data/demo/demo.pcap --stats (first 10 flows) =="
./build/nad flows -r data/demo/demo.pcap --stats -o build/demo-flows.csv
cut -d, -f1-13 build/demo-flows.csv | head -n 11 | column -s, -t
echo "... $(($(wc -l < build/demo-flows.csv) - 1)) flows written to build/demo-flows.csv"
