#!/usr/bin/env bash
# deps.sh - install every Debian package nad needs to build, run and test.
# Usage: scripts/deps.sh [--test] [--cross]   (as root, or with sudo available)
#   --test   also the peers the tests use (tshark, tcpreplay, scapy, ArmNN, ...)
#   --cross  also the arm64 cross toolchain, arm64 libraries and qemu-user
set -euo pipefail
want_test=0 want_cross=0
for a in "$@"; do
	case "$a" in
	--test) want_test=1 ;;
	--cross) want_cross=1 ;;
	*) echo "usage: $0 [--test] [--cross]" >&2; exit 2 ;;
	esac
done
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
APT="$SUDO env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 -y -q"

libs="libpcap-dev libsqlite3-dev libjansson-dev libinih-dev libmicrohttpd-dev libcurl4-openssl-dev libsystemd-dev"
pkgs="build-essential cmake pkg-config $libs"
if [ $want_test -eq 1 ]; then
	pkgs="$pkgs clang llvm libclang-rt-14-dev tshark tcpdump tcpreplay iproute2 procps
	      python3 python3-numpy python3-scapy python3-pyarmnn sqlite3 time systemd man-db
	      prometheus prometheus-alertmanager gnuplot-nox python3-sklearn curl"
fi
if [ $want_cross -eq 1 ]; then
	$SUDO dpkg --add-architecture arm64
	pkgs="$pkgs gcc-aarch64-linux-gnu qemu-user file"
	for l in libpcap0.8-dev $libs; do
		[ "$l" = libpcap-dev ] && continue
		pkgs="$pkgs $l:arm64"
	done
fi
$APT update
# tshark asks whether non-root users may capture; answer no, non-interactively.
echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections
$APT install --no-install-recommends $pkgs
