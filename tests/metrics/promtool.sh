#!/bin/sh
# promtool.sh SOURCE_DIR - deploy/prometheus as Prometheus's own tool sees it:
# `promtool check config` on a prometheus.yml made of scrape.yml (verbatim)
# and the rules, `promtool check rules`, and the rules' unit tests
# (`promtool test rules nad-rules.test.yml`).
SRC=$(cd "$1" && pwd) || exit 1
P="$SRC/deploy/prometheus"
set -u
command -v promtool > /dev/null || { echo "FAIL: promtool missing: install the Debian package prometheus" >&2; exit 1; }
WORK=$(mktemp -d /tmp/nad-promtool.XXXXXX) || exit 1
trap 'rm -rf "$WORK"' EXIT
{
	printf 'global:\n  scrape_interval: 15s\nrule_files:\n  - %s/nad-rules.yml\n' "$P"
	cat "$P/scrape.yml"
} > "$WORK/prometheus.yml"
promtool check config "$WORK/prometheus.yml" || { echo "FAIL: promtool check config" >&2; exit 1; }
grep -q 'job_name: nad$' "$P/scrape.yml" || { echo "FAIL: the scrape job is not named nad" >&2; exit 1; }
promtool check rules "$P/nad-rules.yml" || { echo "FAIL: promtool check rules" >&2; exit 1; }
promtool test rules "$P/nad-rules.test.yml" || { echo "FAIL: promtool test rules" >&2; exit 1; }
echo PASS
