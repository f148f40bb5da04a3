#!/usr/bin/env bash
# make_demo_model.sh - (re)build the bundled default model data/demo/model.tflite
# from the bundled baseline capture data/demo/baseline.pcap (made by the
# project's testbed: tests/testbed/make_demo.sh). Deterministic: the same
# nad and the same capture give the same bytes.
#   Usage: scripts/make_demo_model.sh [NAD] [OUT]
set -euo pipefail
cd "$(dirname "$0")/.."
nad=${1:-build/nad}
out=${2:-data/demo/model.tflite}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$nad" flows -r data/demo/baseline.pcap -o "$tmp/baseline.csv"
"$nad" train -q --seed 1 -i "$tmp/baseline.csv" -o "$out"
