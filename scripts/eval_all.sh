#!/usr/bin/env bash
# eval_all.sh - regenerate the README's "Detection quality" results: nad eval
# on ../shared/data (leave-one-out over the benign captures, plus every attack
# capture) and on a testbed short-profile output, formatted by eval_report.py.
#
#   scripts/eval_all.sh [--readme] [--nad PATH] [--testbed DIR] [--plots DIR]
#     --readme       also rewrite the results block in README.md
#     --testbed DIR  an existing testbed output (testbed.sh --out DIR); without
#                    it the short profile runs now (root, ~5 min, under the
#                    testbed lock) into a temporary directory
#     --plots DIR    keep the ROC / score plots there
set -euo pipefail
cd "$(dirname "$0")/.."
nad=build/nad tb= readme=0 plots=
while (($#)); do
	case $1 in
	--readme) readme=1; shift ;;
	--nad) nad=$2; shift 2 ;;
	--testbed) tb=$2; shift 2 ;;
	--plots) plots=$2; shift 2 ;;
	*) echo "usage: $0 [--readme] [--nad PATH] [--testbed DIR] [--plots DIR]" >&2; exit 2 ;;
	esac
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
[[ -n $plots ]] && mkdir -p "$plots"
plot() { [[ -n $plots ]] && echo "--plot $plots/$1.png" || true; }

shared=../shared/data
train=$(for f in "$shared"/pcaps/benign/*; do printf -- '--train %s ' "$f"; done)
shared_cmd="$nad eval --cross-validate --labels $shared/labels.tsv \$(for f in $shared/pcaps/benign/*; do echo --train \$f; done) $shared/pcaps/benign/* $shared/pcaps/attack/*"
# shellcheck disable=SC2086
"$nad" eval --json --cross-validate --labels "$shared/labels.tsv" $train $(plot shared) \
	"$shared"/pcaps/benign/* "$shared"/pcaps/attack/* >"$tmp/shared.json"

if [[ -z $tb ]]; then
	tb=$tmp/testbed
	flock -w 1800 /tmp/nad-testbed.lock tests/testbed/testbed.sh --profile short --out "$tb" >"$tmp/testbed.log" 2>&1 \
		|| { tail -n 20 "$tmp/testbed.log" >&2; exit 1; }
fi
tb_cmd="$nad eval --labels TB/labels.tsv --train TB/benign.pcap TB/attack.pcap   # TB: tests/testbed/testbed.sh --profile short --out TB"
# shellcheck disable=SC2046
"$nad" eval --json --labels "$tb/labels.tsv" --train "$tb/benign.pcap" $(plot testbed) "$tb/attack.pcap" >"$tmp/testbed.json"

args=()
((readme)) && args+=(--readme README.md)
EVAL_COMMIT=$(git rev-parse --short HEAD 2>/dev/null || true) /usr/bin/python3 scripts/eval_report.py "${args[@]}" \
	"shared captures (../shared/data)=$tmp/shared.json,$shared_cmd" \
	"testbed, short profile=$tmp/testbed.json,$tb_cmd"
