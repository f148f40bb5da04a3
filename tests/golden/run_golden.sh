#!/bin/sh
# run_golden.sh NAD [--update] - run every case of TESTLIST and compare with
# expected/. Runs in this folder under TZ=UTC so messages name files the same
# way everywhere. --update rewrites expected/ (then review the diff by hand).
set -u
nad=$1
update=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
cd "$here" || exit 1
export TZ=UTC LC_ALL=C
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
fail=0
mkdir -p expected
grep -v '^#' TESTLIST | while IFS='|' read -r name cap opts want; do
	name=$(echo $name) cap=$(echo $cap) want=$(echo $want)
	[ -n "$name" ] || continue
	# shellcheck disable=SC2086 # opts is a word list
	"$nad" flows -r "$cap" $opts >"$tmp/$name.out" 2>"$tmp/$name.err"
	rc=$?
	if [ "$update" = --update ]; then
		cp "$tmp/$name.out" "expected/$name.out"
		if [ "$want" != 0 ]; then cp "$tmp/$name.err" "expected/$name.err"; fi
	fi
	ok=1
	if [ "$rc" != "$want" ]; then
		echo "FAIL $name: exit status $rc, expected $want"; ok=0
	fi
	if ! diff -u "expected/$name.out" "$tmp/$name.out"; then
		echo "FAIL $name: records differ from expected/$name.out"; ok=0
	fi
	if [ "$want" != 0 ] && ! diff -u "expected/$name.err" "$tmp/$name.err"; then
		echo "FAIL $name: message differs from expected/$name.err"; ok=0
	fi
	[ $ok = 1 ] && echo "ok   $name" || echo x >>"$tmp/failed"
done
[ -e "$tmp/failed" ] && fail=1
exit $fail
