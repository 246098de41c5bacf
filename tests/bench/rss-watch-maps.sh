#!/bin/bash
# rss-watch --maps against psutil's memory_maps() on a process with 1,000
# mappings: CPU per sample without and with smaps, and per smaps read.
# rss-watch's cost includes the kernel's (perf task-clock counts both);
# psutil's is the python process's user and system time.
set -eu
. "$(dirname "$0")/lib.sh"
N=${BENCH_SAMPLES:-500}
fifo=$OUT/manymaps.ready
/usr/bin/python3 "$ROOT/tests/bench/manymaps.py" 1000 >"$fifo" &
target=$!
trap 'kill $target 2>/dev/null' EXIT
for i in $(seq 1 100); do grep -q ready "$fifo" 2>/dev/null && break; sleep 0.05; done
maps=$(wc -l <"/proc/$target/maps")

STDOUT=/dev/null measure plain rss-watch -p $target -i 1ms -n $N
STDOUT=/dev/null measure maps rss-watch -p $target -i 1ms -n $N --maps --maps-every 1
/usr/bin/python3 "$ROOT/tests/bench/smaps_psutil.py" $target $((N / 5)) >"$OUT/py.out"
per() { awk -v a="$(val $1 cpu)" -v n=$N 'BEGIN { printf "%.3f", a / n }'; }
plain=$(per plain)
with=$(per maps)
smaps=$(awk -v a="$with" -v b="$plain" 'BEGIN { printf "%.3f", a - b }')
py=$(awk '{ print $1 }' "$OUT/py.out")
raw=$(awk '{ print $2 }' "$OUT/py.out")
above() { awk -v a="$1" -v b="$raw" 'BEGIN { printf "%.3f", a - b }'; }
echo "rss-watch --maps bench: a process with $maps mappings, $N samples"
echo "  CPU ms per sample: rss-watch $plain, with --maps $with (smaps read $smaps);" \
	"psutil memory_maps() $py per read; the file read raw $raw (the kernel's share)"
echo "  ratio psutil/rss-watch per smaps read $(ratio "$py" "$smaps")x," \
	"per sample with --maps $(ratio "$py" "$with")x;" \
	"above the raw read (parsing alone) $(ratio "$(above "$py")" "$(above "$smaps")")x"
echo "  max RSS rss-watch $(val plain rss) KB, with --maps $(val maps rss) KB"
