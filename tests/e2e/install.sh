#!/bin/sh
# install.sh CMAKE BUILD_DIR - `cmake --install` into a DESTDIR puts the
# binary, unit (ExecStart naming the installed binary), sysusers entry, man
# page and default configuration in place, and a second install keeps an
# edited configuration.
CMAKE=$1
BUILD=$2
set -u
fail() { echo "FAIL: $*" >&2; exit 1; }
D=$(mktemp -d /tmp/nad-install.XXXXXX) || fail mktemp
trap 'rm -rf "$D"' EXIT INT TERM

DESTDIR=$D "$CMAKE" --install "$BUILD" --prefix /usr > "$D.log" 2>&1 || { cat "$D.log"; fail "install"; }
for f in usr/bin/nad usr/lib/systemd/system/nad.service usr/lib/sysusers.d/nad.conf \
	usr/share/man/man1/nad.1 etc/nad/nad.conf; do
	[ -s "$D/$f" ] || fail "'$f' not installed"
done
grep -q '^ExecStart=/usr/bin/nad run -c /etc/nad/nad.conf$' "$D/usr/lib/systemd/system/nad.service" ||
	fail "ExecStart does not name /usr/bin/nad"
"$D/usr/bin/nad" --version > /dev/null || fail "installed binary does not run"
echo "# edited" >> "$D/etc/nad/nad.conf"
DESTDIR=$D "$CMAKE" --install "$BUILD" --prefix /usr > "$D.log" 2>&1 || { cat "$D.log"; fail "second install"; }
tail -n 1 "$D/etc/nad/nad.conf" | grep -q '^# edited$' || fail "second install replaced the edited configuration"
rm -f "$D.log"
echo PASS
