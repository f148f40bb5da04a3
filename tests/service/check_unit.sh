#!/bin/sh
# check_unit.sh - the systemd unit is valid and tightly sandboxed.
#
# Usage: check_unit.sh UNIT SYSUSERS NAD_BINARY MANPAGE [MAX_EXPOSURE]
# A temporary copy of the unit runs the built binary (verify checks that
# ExecStart exists) and finds the man page named by Documentation=. Fails,
# never skips, when a tool is missing: a test that cannot run is not a pass.
set -eu
unit=$1 sysusers=$2 nad=$3 manpage=$4 max=${5:-2.0}

fail() { echo "FAIL: $*" >&2; exit 1; }

command -v systemd-analyze >/dev/null 2>&1 ||
	fail "systemd-analyze not found: install the Debian package 'systemd'"
command -v man >/dev/null 2>&1 ||
	fail "man not found (systemd-analyze verify checks Documentation=man:nad(1)): install the Debian package 'man-db'"
[ -x "$nad" ] || fail "no nad binary at '$nad'"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
name=$(basename "$unit")
# (any install prefix: /usr/bin/nad, /usr/local/bin/nad, ...)
sed "s#^ExecStart=/[^ ]*/nad #ExecStart=$nad #" "$unit" >"$tmp/$name"
grep -q "^ExecStart=$nad " "$tmp/$name" || fail "ExecStart= of '$unit' is not '/PATH/TO/nad ...'"
mkdir -p "$tmp/man/man1"
cp "$manpage" "$tmp/man/man1/nad.1"

echo "== systemd-analyze verify $name"
if ! MANPATH="$tmp/man" systemd-analyze verify "$tmp/$name" >"$tmp/verify.log" 2>&1; then
	cat "$tmp/verify.log" >&2
	fail "systemd-analyze verify reported problems"
fi
# verify exits 0 on some warnings; any line about our unit is a problem
if grep -v "^$" "$tmp/verify.log" | grep -q .; then
	cat "$tmp/verify.log" >&2
	fail "systemd-analyze verify printed warnings"
fi

echo "== systemd-analyze security --offline=yes $name"
systemd-analyze security --offline=yes --no-pager "$tmp/$name" >"$tmp/security.log" 2>&1 || true
score=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9][0-9.]*\).*/\1/p' "$tmp/security.log" | head -n 1)
[ -n "$score" ] || { cat "$tmp/security.log" >&2; fail "no exposure level in the output of systemd-analyze security"; }
echo "exposure level: $score (at most $max allowed)"
awk -v s="$score" -v m="$max" 'BEGIN { exit !(s + 0 <= m + 0) }' ||
	{ grep "✗" "$tmp/security.log" >&2 || true; fail "exposure level $score is above $max"; }

echo "== sysusers.d entry"
command -v systemd-sysusers >/dev/null 2>&1 ||
	fail "systemd-sysusers not found: install the Debian package 'systemd'"
mkdir -p "$tmp/root/etc" "$tmp/root/usr/lib/sysusers.d"
cp "$sysusers" "$tmp/root/usr/lib/sysusers.d/nad.conf"
systemd-sysusers --root="$tmp/root" >"$tmp/sysusers.log" 2>&1 ||
	{ cat "$tmp/sysusers.log" >&2; fail "systemd-sysusers rejected '$sysusers'"; }
grep -q '^nad:x:[0-9]*:[0-9]*:.*:/var/lib/nad:/usr/sbin/nologin$' "$tmp/root/etc/passwd" ||
	{ cat "$tmp/root/etc/passwd" >&2; fail "systemd-sysusers did not create the nad user as expected"; }
grep -q '^nad:x:' "$tmp/root/etc/group" || fail "systemd-sysusers did not create the nad group"
echo "ok"
