#!/bin/sh
# bad_input.sh NAD DATA - `nad run` refuses a bad configuration, an
# unwritable path and a missing or hostile model with exit 2, a message
# naming the file, and no log or database left behind.
NAD=$1
DATA=$2
. "$(dirname "$0")/lib.sh"
e2e_init

SCAN="$ATTACK/evilfingers_nmap_TCP_SYN_SCAN.pcap"
train_model "$WORK/model.tflite"

# expect_refusal NAME SUBJECT ARGS...: exit 2, SUBJECT in the message, and
# no output file in $WORK/out.
expect_refusal() {
	name=$1
	subject=$2
	shift 2
	"$NAD" run "$@" > "$WORK/stdout" 2> "$WORK/stderr"
	rc=$?
	[ "$rc" -eq 2 ] || { cat "$WORK/stderr"; fail "$name: exit $rc, expected 2"; }
	grep -qF -- "$subject" "$WORK/stderr" || { cat "$WORK/stderr"; fail "$name: message does not name '$subject'"; }
	for f in anomalies.jsonl nad.db nad.db-wal baseline.csv; do
		[ ! -e "$WORK/out/$f" ] || fail "$name: '$f' was created"
	done
	echo "$name: $(head -n 1 "$WORK/stderr")"
}

fresh() {
	rm -rf "$WORK/out"
	mkdir "$WORK/out"
}

fresh
write_config "$WORK/out" "$WORK/model.tflite" <<EOC
[detection]
no_such_key = 1
EOC
expect_refusal "unknown key" "$WORK/out/nad.conf" -c "$WORK/out/nad.conf" -r "$SCAN"

fresh
write_config "$WORK/out" "$WORK/model.tflite" <<EOC
[detection]
threshold_low = lots
EOC
expect_refusal "bad value" "threshold_low" -c "$WORK/out/nad.conf" -r "$SCAN"

fresh
expect_refusal "missing config" "$WORK/none.conf" -c "$WORK/none.conf" -r "$SCAN"

fresh
write_config "$WORK/out" "$WORK/model.tflite" < /dev/null
sed -i "s|^jsonl_path = .*|jsonl_path = $WORK/no/such/dir/a.jsonl|" "$WORK/out/nad.conf"
expect_refusal "log in a missing directory" "$WORK/no/such/dir/a.jsonl" -c "$WORK/out/nad.conf" -r "$SCAN"

fresh
: > "$WORK/plainfile"
write_config "$WORK/out" "$WORK/model.tflite" < /dev/null
sed -i "s|^database_path = .*|database_path = $WORK/plainfile/nad.db|" "$WORK/out/nad.conf"
expect_refusal "database under a file" "$WORK/plainfile/nad.db" -c "$WORK/out/nad.conf" -r "$SCAN"

# A database that is not SQLite: the writer fails after it opened the log,
# and the log it created is removed again.
fresh
head -c 4096 /dev/urandom > "$WORK/garbage.db"
write_config "$WORK/out" "$WORK/model.tflite" < /dev/null
sed -i "s|^database_path = .*|database_path = $WORK/garbage.db|" "$WORK/out/nad.conf"
expect_refusal "database not SQLite" "$WORK/garbage.db" -c "$WORK/out/nad.conf" -r "$SCAN"

fresh
head -c 3000 /dev/urandom > "$WORK/random.tflite"
write_config "$WORK/out" "$WORK/random.tflite" < /dev/null
expect_refusal "random bytes as model" "$WORK/random.tflite" -c "$WORK/out/nad.conf" -r "$SCAN"

fresh
head -c 2000 "$WORK/model.tflite" > "$WORK/cut.tflite"
write_config "$WORK/out" "$WORK/model.tflite" < /dev/null
expect_refusal "truncated model via -m" "$WORK/cut.tflite" -c "$WORK/out/nad.conf" -r "$SCAN" -m "$WORK/cut.tflite"

fresh
write_config "$WORK/out" "$WORK/model.tflite" < /dev/null
expect_refusal "missing model via -m" "$WORK/absent.tflite" -c "$WORK/out/nad.conf" -r "$SCAN" -m "$WORK/absent.tflite"

fresh
write_config "$WORK/out" "$WORK/model.tflite" < /dev/null
expect_refusal "missing capture" "$WORK/absent.pcap" -c "$WORK/out/nad.conf" -r "$WORK/absent.pcap"

# No model yet and nowhere to write one: refused before learning starts.
fresh
write_config "$WORK/out" "$WORK/no/dir/model.tflite" < /dev/null
expect_refusal "unwritable model path" "$WORK/no/dir/model.tflite" -c "$WORK/out/nad.conf" -r "$SCAN"

fresh
write_config "$WORK/out" "$WORK/model.tflite" < /dev/null
"$NAD" run -c "$WORK/out/nad.conf" -r "$SCAN" --learn-duration soon > /dev/null 2> "$WORK/stderr"
[ $? -eq 2 ] || fail "bad --learn-duration accepted"
"$NAD" run -c "$WORK/out/nad.conf" -r "$SCAN" -i lo > /dev/null 2> "$WORK/stderr"
[ $? -eq 2 ] || fail "-r with -i accepted"
echo PASS
