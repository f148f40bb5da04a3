# lib.sh - shared by the `nad run` end-to-end tests (sourced, POSIX sh).
#
# Callers set NAD (the binary) and DATA (../shared/data) and call e2e_init.

set -u

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

e2e_init() {
	WORK=$(mktemp -d /tmp/nad-e2e.XXXXXX) || fail "mktemp"
	trap 'e2e_cleanup' EXIT INT TERM
	BENIGN="$DATA/pcaps/benign"
	ATTACK="$DATA/pcaps/attack"
}

e2e_cleanup() {
	[ -n "${E2E_CLEANUP_HOOK:-}" ] && $E2E_CLEANUP_HOOK
	[ -n "${KEEP:-}" ] || rm -rf "$WORK"
}

# A model trained by `nad flows` + `nad train` on every benign capture.
train_model() {
	out=$1
	ins=
	for f in "$BENIGN"/*; do
		csv="$WORK/$(basename "$f").csv"
		"$NAD" flows -r "$f" -o "$csv" || fail "nad flows '$f'"
		ins="$ins -i $csv"
	done
	# shellcheck disable=SC2086
	"$NAD" train -q $ins -o "$out" || fail "nad train"
}

# Write a config for outputs under $1 with model $2; extra lines on stdin.
write_config() {
	dir=$1
	model=$2
	{
		echo "[output]"
		echo "jsonl_path = $dir/anomalies.jsonl"
		echo "database_path = $dir/nad.db"
		echo "[model]"
		echo "path = $model"
		echo "[learning]"
		echo "baseline_path = $dir/baseline.csv"
		cat
	} > "$dir/nad.conf"
}

# Incident rows for host $2 in database $1 (any event, any level).
db_incidents() {
	sqlite3 "$1" "select count(*) from incidents where host = '$2'"
}

jsonl_incidents() {
	grep -c "\"host\":\"$2\"" "$1" || true
}

# First and last packet time (whole seconds) of a capture.
cap_first() { capinfos -a -S -T -r "$1" | cut -f2 | cut -d. -f1; }
cap_last() { capinfos -e -S -T -r "$1" | cut -f2 | cut -d. -f1; }

# concat_shifted OUT GAP FILE...: one capture holding FILEs one after the
# other in packet time, GAP seconds between the end of one and the start of
# the next (editcap -t shifts, mergecap -a concatenates).
concat_shifted() {
	out=$1
	gap=$2
	shift 2
	next=1700000000
	parts=
	i=0
	for f in "$@"; do
		i=$((i + 1))
		first=$(cap_first "$f")
		last=$(cap_last "$f")
		part="$WORK/part$i.pcap"
		editcap -F pcap -t $((next - first)) "$f" "$part" || fail "editcap '$f'"
		parts="$parts $part"
		next=$((next + last - first + 1 + gap))
	done
	# shellcheck disable=SC2086
	mergecap -F pcap -a -w "$out" $parts || fail "mergecap"
}
