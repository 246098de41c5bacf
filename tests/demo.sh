#!/bin/bash
# make demo: the diagnostic pair on a bundled leaking process.  rss-watch
# records memhog (leaking 500 KB/s) for 8 seconds; leak-classify judges it.
set -u
cd "$(dirname "$0")/.."
export PATH="$PWD/build/bin:$PWD/build/helpers:$PATH"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "== rss-watch -i 200ms -d 8s -- memhog leak --rate 500   (a process leaking 500 KB/s)"
rss-watch -i 200ms -d 8s -- memhog leak --rate 500 --base 2048 --for 9 |
	tee "$tmp/rss.jsonl" | awk 'NR <= 3 || NR % 10 == 0'
echo
echo "== leak-classify --limit 64M   ($(wc -l <"$tmp/rss.jsonl") samples)"
leak-classify --limit 64M --svg "$tmp/chart.svg" "$tmp/rss.jsonl"
status=$?
echo
echo "leak-classify exit status $status: 0 no leak, 3 insufficient data, 4 leak, 5 out of memory soon"
[ "$status" -ge 3 ]
