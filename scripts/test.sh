#!/usr/bin/env bash
# test.sh - install what is needed, build nad three ways and run every test.
#
#   1. native build (RelWithDebInfo): every ctest test, the testbed's short
#      profile + nad eval floors included (label testbed, ~5 minutes)
#   2. ASan+UBSan build with clang: every test but the live/timing ones
#   3. arm64 cross build (the Raspberry Pi 5 target): unit and fuzz-replay
#      tests under qemu-user
#
# Usage: scripts/test.sh [--no-deps] [--no-cross] [--no-asan]
# Root is needed for the dependencies and the network-namespace tests.
set -euo pipefail
cd "$(dirname "$0")/.."
deps=1 cross=1 asan=1
for a in "$@"; do
	case "$a" in
	--no-deps) deps=0 ;;
	--no-cross) cross=0 ;;
	--no-asan) asan=0 ;;
	*) echo "usage: $0 [--no-deps] [--no-cross] [--no-asan]" >&2; exit 2 ;;
	esac
done
jobs=$(nproc)
if [ $deps -eq 1 ]; then
	if [ $cross -eq 1 ]; then scripts/deps.sh --test --cross; else scripts/deps.sh --test; fi
	# the testbed's traffic generators and attack tools (ctest label testbed)
	tests/testbed/deps.sh
fi
export TZ=UTC

step() { printf '\n=== %s ===\n' "$*"; }

step "native build"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j"$jobs"
step "native tests"
(cd build && ctest --output-on-failure -j"$jobs" --timeout 1200)

if [ $asan -eq 1 ]; then
	step "ASan+UBSan build (clang)"
	cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DNAD_SANITIZE=ON -DCMAKE_C_COMPILER=clang
	cmake --build build-asan -j"$jobs"
	step "ASan+UBSan tests"
	export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
	(cd build-asan && ctest --output-on-failure -j"$jobs" --timeout 2400 -LE 'live|testbed|perf')
fi

if [ $cross -eq 1 ]; then
	step "arm64 cross build"
	cmake -S . -B build-arm64 -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build build-arm64 -j"$jobs"
	file build-arm64/nad | grep -q 'ARM aarch64' || { echo "build-arm64/nad is not an arm64 binary" >&2; exit 1; }
	step "arm64 unit and fuzz-replay tests under qemu-user"
	(cd build-arm64 && ctest --output-on-failure -j"$jobs" --timeout 2400 -L 'unit|fuzz')
fi
step "all tests passed"
