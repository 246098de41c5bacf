#!/bin/bash
# Long soak of the long-running tools, SOAK_SECONDS each (default 600):
#  - rss-watch samples a restarting leaker every 5 ms with --pss --children;
#  - gw-read polls gw-sim for a present and an absent unit every 2 ms (the
#    offline path of a sleeping inverter), with gw-sim serving it;
#  - heap-watch names a CPython json loop's snapshot every 10 ms.
# A second rss-watch records each one's memory; leak-classify must call
# every one of them steady.  make soak; not part of make check.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
export PATH="$ROOT/build/bin:$ROOT/build/helpers:$PATH"
S=${SOAK_SECONDS:-600}
tmp=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; rm -rf "$tmp"' EXIT
port=$((20000 + RANDOM % 10000))
failed=0

memhog restart --every 5 --rate 200 &
pids+=($!)
rss-watch -N memhog-worker --pss --children -i 5ms -d "${S}s" >/dev/null &
pids+=($!)
watched[0]=$!
gw-sim -b tcp:127.0.0.1:$port -m growatt-v120 --time 12:00 &
pids+=($!)
watched[1]=$!
sleep 0.5
gw-read -b tcp:127.0.0.1:$port -m growatt-v120 -u 1,2 --gap 0 -i 2ms \
	--timeout 2ms --backoff-after 1h >/dev/null &
pids+=($!)
watched[2]=$!
heap-watch -i 10ms --rate 16K -o /dev/null -- /usr/bin/python3 -c "
import json, time
end = time.time() + $S
keep = {}
i = 0
while time.time() < end:
    keep[i % 2000] = json.loads(json.dumps({'i': i, 'v': [i] * 30}))
    i += 1
" 2>/dev/null &
pids+=($!)
watched[3]=$!
sleep 2
names=(rss-watch gw-sim gw-read heap-watch)
for i in 0 1 2 3; do
	rss-watch -p "${watched[$i]}" -i 1s -d "$((S - 3))s" >"$tmp/$i.jsonl" &
	pids+=($!)
done
wait "${pids[-1]}" "${pids[-2]}" "${pids[-3]}" "${pids[-4]}"
for i in 0 1 2 3; do
	echo "soak: ${names[$i]} for $S s, its own RSS:"
	for f in rss_kb anon_kb; do
		jq -s -r --arg f "$f" 'map(.[$f] | numbers) | "  \($f): min \(min) KB, max \(max) KB over \(length) samples"' "$tmp/$i.jsonl"
	done
	# The verdict is on the heap: file pages follow the page cache.
	leak-classify -q -f anon_kb "$tmp/$i.jsonl" | head -1 | sed 's/^/  /'
	leak-classify -q -f anon_kb "$tmp/$i.jsonl" >/dev/null || failed=1
done
exit $failed
