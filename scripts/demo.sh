#!/usr/bin/env bash
# demo.sh - install dependencies, build nad, and run its main job on the
# bundled default: data/demo/demo.pcap (a capture from the project's own
# namespace testbed: benign home-LAN traffic, then an nmap SYN scan and an
# SSH brute force) scored with data/demo/model.tflite (trained by nad train on
# data/demo/baseline.pcap, benign traffic of the same testbed).
set -euo pipefail
cd "$(dirname "$0")/.."
[ "${1:-}" = "--no-deps" ] || scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)"
echo
echo "== nad flows -r data/demo/demo.pcap --stats (first flows) =="
./build/nad flows -r data/demo/demo.pcap --stats -o build/demo-flows.csv
head -n 6 build/demo-flows.csv | cut -d, -f1-13 | tr , "\t"
echo "... $(($(wc -l < build/demo-flows.csv) - 1)) flows with every feature in build/demo-flows.csv"
echo
echo "== nad detect -r data/demo/demo.pcap -m data/demo/model.tflite =="
./build/nad detect -r data/demo/demo.pcap -m data/demo/model.tflite
echo
echo "Ground truth for this capture: data/demo/labels.tsv"
