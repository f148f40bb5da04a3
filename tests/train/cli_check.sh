#!/bin/sh
# cli_check.sh - `nad train` refuses what it cannot learn from (exit 2, a
# message naming the file, line, column or feature), and the same data and
# seed give the same model file, byte for byte.
# usage: cli_check.sh NAD PYTHON SRCDIR WORKDIR
nad=$1 py=$2 src=$3 w=$4
fail=0
mkdir -p "$w" || exit 1
gen() { "$py" "$src/gen_flows.py" "$nad" "$@" || exit 1; }

expect() { # expect CODE PATTERN -- command...
	code=$1 pat=$2
	shift 3
	"$@" >"$w/out" 2>"$w/err"
	got=$?
	if [ "$got" != "$code" ] || ! grep -q -- "$pat" "$w/err"; then
		echo "FAIL: $* -> exit $got (want $code), stderr:"; cat "$w/err"; fail=1
	else
		echo "ok   $pat"
	fi
}

gen 300 1 "$w/good.csv"
gen 300 1 "$w/nan.csv" --nan 17
gen 300 1 "$w/missing.csv" --drop bytes_fwd
gen 30 1 "$w/few.csv"
printf 'first_ts,duration\n1,2\n' >"$w/short.csv"
head -n 100 "$w/good.csv" | sed '60s/,[^,]*$/,abc/' >"$w/text.csv"

expect 2 "'$w/nan.csv':19:" -- "$nad" train -q -i "$w/nan.csv" -o "$w/m.tflite"
expect 2 "not a finite number" -- "$nad" train -q -i "$w/nan.csv" -o "$w/m.tflite"
expect 2 "no column 'bytes_fwd'" -- "$nad" train -q -i "$w/missing.csv" -o "$w/m.tflite"
expect 2 "'$w/missing.csv'" -- "$nad" train -q -i "$w/missing.csv" -o "$w/m.tflite"
expect 2 "too few flows" -- "$nad" train -q -i "$w/few.csv" -o "$w/m.tflite"
expect 2 ":60:.*'abc' is not a finite number" -- "$nad" train -q -i "$w/text.csv" -o "$w/m.tflite"
expect 2 "cannot open input" -- "$nad" train -q -i "$w/absent.csv" -o "$w/m.tflite"
expect 2 "no --out" -- "$nad" train -i "$w/good.csv"
expect 2 "no --input" -- "$nad" train -o "$w/m.tflite"
expect 2 "--hidden" -- "$nad" train -i "$w/good.csv" -o "$w/m.tflite" --hidden 8,0
expect 2 "--epochs" -- "$nad" train -i "$w/good.csv" -o "$w/m.tflite" --epochs x
[ -e "$w/m.tflite" ] && { echo "FAIL: a refused run left a model behind"; fail=1; }

# several inputs and stdin
expect 0 "wrote" -- "$nad" train -i "$w/good.csv" -i - -o "$w/two.tflite" --epochs 3 <"$w/good.csv"
grep -q "from 2 file(s)" "$w/err" || { echo "FAIL: two inputs not both read"; fail=1; }

# determinism: same data and seed -> same bytes; another seed -> other bytes
for run in a b; do
	"$nad" train -q -i "$w/good.csv" -o "$w/det_$run.tflite" --seed 9 --epochs 8 || fail=1
	"$nad" train -q -i "$w/good.csv" -o "$w/det8_$run.tflite" --seed 9 --epochs 8 --int8 || fail=1
done
"$nad" train -q -i "$w/good.csv" -o "$w/det_c.tflite" --seed 10 --epochs 8 || fail=1
if cmp -s "$w/det_a.tflite" "$w/det_b.tflite" && cmp -s "$w/det8_a.tflite" "$w/det8_b.tflite"; then
	echo "ok   same seed, same model bytes (float and int8)"
else
	echo "FAIL: same seed gave different files"; fail=1
fi
if cmp -s "$w/det_a.tflite" "$w/det_c.tflite"; then
	echo "FAIL: another seed gave the same file"; fail=1
fi
head -c 8 "$w/det_a.tflite" | tail -c 4 | grep -q TFL3 || { echo "FAIL: no TFL3 identifier"; fail=1; }
ls "$w"/*.tmp.* >/dev/null 2>&1 && { echo "FAIL: temporary files left behind"; fail=1; }
exit $fail
