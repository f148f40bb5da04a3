#!/bin/bash
# cli_test.sh NAD SHARED WORKDIR - `nad model inspect/run` as a user runs them.
# Each check prints what it tried when it fails; the script exits 1 if any did.
set -u
NAD=$1
D=$2/data/tflite
W=$3/cli_work
mkdir -p "$W"
fails=0

fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }

# expect_exit CODE STDERR_SUBSTRING -- command... (stdin from $IN)
expect_exit() {
	local want=$1 msg=$2 got
	shift 2
	"$@" <"$IN" >"$W/out" 2>"$W/err"
	got=$?
	[ "$got" = "$want" ] || fail "$* exited $got, expected $want: $(cat "$W/err")"
	if [ -n "$msg" ] && ! grep -qF -- "$msg" "$W/err"; then
		fail "$*: stderr lacks '$msg': $(cat "$W/err")"
	fi
}

# near FILE EXPECTED TOL - compare whitespace-separated numbers
near() {
	awk -v want="$2" -v tol="$3" 'BEGIN { n = split(want, w, " ") }
		{ for (i = 1; i <= NF; i++) { k++; d = $i - w[k]; if (d < 0) d = -d; if (d > tol) bad = 1 } }
		END { exit (bad || k != n) }' "$1"
}

# hello_world float: 0 1 3 5 -> the ArmNN values within 1e-5.
IN=$W/in; printf '0\n1\n3\n5\n' >"$IN"
expect_exit 0 "" "$NAD" model run "$D/hello_world_float.tflite"
near "$W/out" "0.02640529 0.8630436 0.12764603 -0.95651877" 1e-5 || fail "hello float: $(cat "$W/out")"
# Same through --batch 1 and --batch 3 (a partial last batch).
for b in 1 3; do
	expect_exit 0 "" "$NAD" model run --batch $b "$D/hello_world_float.tflite"
	near "$W/out" "0.02640529 0.8630436 0.12764603 -0.95651877" 1e-5 || fail "hello float --batch $b"
done

# hello_world int8 raw: -96 -63 -34 0 -> 89 125 93 4 exactly.
printf -- '-96\n-63\n-34\n0\n' >"$IN"
expect_exit 0 "" "$NAD" model run --raw "$D/hello_world_int8.tflite"
[ "$(tr '\n' ' ' <"$W/out")" = "89 125 93 4 " ] || fail "hello int8 raw: $(cat "$W/out")"
# Not raw: floats quantised in with the input's own scale and zero point
# (x = (q + 128) * 0.0244801156), dequantised out ((q - 5) * 0.00829095673).
printf '0.78336370\n1.5912075\n2.3011309\n3.1334548\n' >"$IN"
expect_exit 0 "" "$NAD" model run "$D/hello_world_int8.tflite"
near "$W/out" "0.69644037 0.99491481 0.72960419 -0.0082909567" 1e-6 || fail "hello int8 float io: $(cat "$W/out")"

# Commas, blank lines and comments; CRLF line ends.
printf '# header\n\n0,\r\n 5 \n' >"$IN"
expect_exit 0 "" "$NAD" model run "$D/hello_world_float.tflite"
near "$W/out" "0.02640529 -0.95651877" 1e-5 || fail "commas/blank/comment: $(cat "$W/out")"

# Bad input lines: exit 2, the line number, what was expected; rows before it answered.
printf '1\n2 3\n' >"$IN"
expect_exit 2 "stdin line 2: more than the 1 values the model's input takes" "$NAD" model run "$D/hello_world_float.tflite"
[ "$(wc -l <"$W/out")" = 1 ] || fail "row before the bad line not answered"
printf '1\nabc\n' >"$IN"
expect_exit 2 "stdin line 2: value 1 is not a number" "$NAD" model run "$D/hello_world_float.tflite"
printf 'nan\n' >"$IN"
expect_exit 2 "stdin line 1: value 1 is not a finite number" "$NAD" model run "$D/hello_world_float.tflite"
printf '300\n' >"$IN"
expect_exit 2 "not an int8 integer" "$NAD" model run --raw "$D/hello_world_int8.tflite"
AD_IN=$W/ad_short; printf '1 2 3\n' >"$AD_IN"; IN=$AD_IN
expect_exit 2 "stdin line 1: 3 values, but the model's input takes 640" "$NAD" model run "$D/mlperf_tiny_ad01/ad01_fp32.tflite"

# Usage errors.
IN=/dev/null
expect_exit 2 "needs a MODEL" "$NAD" model run
expect_exit 2 "--batch needs a number" "$NAD" model run --batch 0 "$D/hello_world_float.tflite"
expect_exit 2 "unknown subcommand" "$NAD" model frobnicate
expect_exit 2 "No such file" "$NAD" model run "$W/does-not-exist.tflite"
expect_exit 0 "" "$NAD" model --help

# inspect: operators, tensors with quantisation, metadata, runnable.
expect_exit 0 "" "$NAD" model inspect "$D/hello_world_int8.tflite"
for want in "operators (3):" "0 FULLY_CONNECTED v4 inputs [0,6,5] outputs [7] fused RELU" \
	"'serving_default_dense_input:0' [1,1] INT8 scale 0.0244801156 zero_point -128" \
	"'min_runtime_version' (16 bytes): \"1.14.0\"" "runnable: yes"; do
	grep -qF -- "$want" "$W/out" || fail "inspect lacks '$want'"
done

# Hostile files: exit 2 and a message naming the file; never a crash.
head -c 1000 "$D/hello_world_float.tflite" >"$W/truncated.tflite"
expect_exit 2 "cannot load model '$W/truncated.tflite': " "$NAD" model run "$W/truncated.tflite"
expect_exit 2 "cannot load model '$W/truncated.tflite': " "$NAD" model inspect "$W/truncated.tflite"
awk 'BEGIN { srand(7); for (i = 0; i < 4096; i++) printf "%c", int(rand() * 256) }' >"$W/random.tflite"
expect_exit 2 "cannot load model '$W/random.tflite': " "$NAD" model run "$W/random.tflite"
: >"$W/empty.tflite"
expect_exit 2 "too short for a FlatBuffer header" "$NAD" model run "$W/empty.tflite"
# hello_world with its operator code turned into CONV_2D (3): refused by name.
python3 - "$D/hello_world_float.tflite" "$W/conv.tflite" <<'PY' || fail "could not craft conv.tflite"
import struct, sys
b = bytearray(open(sys.argv[1], 'rb').read())
u32 = lambda o: struct.unpack_from('<I', b, o)[0]
def field(table, slot):
    vt = table - struct.unpack_from('<i', b, table)[0]
    return table + struct.unpack_from('<H', b, vt + 4 + 2 * slot)[0]
root = u32(0)
codes = field(root, 1); codes += u32(codes)           # vector of OperatorCode
first = codes + 4; first += u32(first)                # OperatorCode 0
b[field(first, 0)] = 3                                # deprecated_builtin_code
struct.pack_into('<i', b, field(first, 3), 3)         # builtin_code
open(sys.argv[2], 'wb').write(b)
PY
expect_exit 2 "operator CONV_2D (3) is not supported; supported: FULLY_CONNECTED" "$NAD" model run "$W/conv.tflite"

[ $fails = 0 ] && echo "model CLI: all checks passed"
exit $((fails > 0))
