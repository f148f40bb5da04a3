#!/bin/bash
# run_all_pcaps.sh - every capture file runs through `nad flows` with exit 0
# and, when NAD is a sanitizer build, without an AddressSanitizer or
# UndefinedBehaviorSanitizer report.
#
# usage: run_all_pcaps.sh NAD PCAP_DIR
#
# Each file is run twice, once per output format (csv and jsonl), with
# --stats, bounded to 300 s. A run fails when it exits non-zero, is killed
# by a signal or the timeout, or writes a sanitizer report to stderr. Prints
# one row per file; a failing row names the file and quotes stderr.
# Exit status 0 all clean, 1 a failure, 77 (skipped) when PCAP_DIR is absent.
set -u

nad=${1:?usage: run_all_pcaps.sh NAD PCAP_DIR}
dir=${2:?usage: run_all_pcaps.sh NAD PCAP_DIR}
if [ ! -d "$dir" ]; then
	echo "run_all_pcaps: '$dir' not found: skipped"
	exit 77
fi
if [ ! -x "$nad" ]; then
	echo "run_all_pcaps: nad binary '$nad' is not executable"
	exit 1
fi

# Make a sanitizer build stop at the first report and say so on stderr; the
# options are harmless for a plain build.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:halt_on_error=1:exitcode=86}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

tmp=$(mktemp -d /tmp/nad-allpcaps.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

failed=0
total=0
printf '%-50s %6s %6s %8s  %s\n' file format rc seconds result
while IFS= read -r -d '' f; do
	rel=${f#"$dir"/}
	for fmt in csv jsonl; do
		total=$((total + 1))
		t0=$(date +%s%N)
		timeout -k 10 300 "$nad" flows -r "$f" --format "$fmt" -o "$tmp/out" --stats \
			>/dev/null 2>"$tmp/err"
		rc=$?
		t1=$(date +%s%N)
		why=""
		if grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|SUMMARY: UndefinedBehaviorSanitizer' "$tmp/err"; then
			why="sanitizer report"
		elif [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
			why="timed out after 300 s"
		elif [ "$rc" -ne 0 ]; then
			why="exit $rc"
		fi
		secs=$(awk -v ns=$((t1 - t0)) 'BEGIN { printf "%.2f", ns / 1e9 }')
		if [ -n "$why" ]; then
			failed=$((failed + 1))
			printf '%-50s %6s %6s %8s  FAIL (%s)\n' "$rel" "$fmt" "$rc" "$secs" "$why"
			sed 's/^/    /' "$tmp/err" | head -40
		else
			printf '%-50s %6s %6s %8s  ok\n' "$rel" "$fmt" "$rc" "$secs"
		fi
	done
done < <(find "$dir" -type f \( -name '*.pcap' -o -name '*.pcapng' -o -name '*.cap' \) -print0 | sort -z)

if [ "$total" -eq 0 ]; then
	echo "run_all_pcaps: no capture files under '$dir'"
	exit 1
fi
echo "$((total - failed))/$total runs clean ($nad)"
[ "$failed" -eq 0 ]
