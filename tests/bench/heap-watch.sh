#!/bin/bash
# heap-watch against heaptrack and valgrind's massif on the same work: a
# malloc-heavy C run (tests/helpers/heapleak: 2 threads, 64 mallocs and
# frees of mixed sizes an iteration, one known leak) and a CPython run of
# json round trips.  CPU (perf task-clock, the whole process tree) traced
# over bare, at the default rate and at 4 KiB; each tool's max RSS; and
# how near heap-watch's estimate of the known leak comes to its true size.
# BENCH_ITER (default 50000) iterations of the C run; each run takes the
# best of BENCH_REPEAT (default 3) for the two cheap ones.
set -eu
. "$(dirname "$0")/lib.sh"
N=${BENCH_ITER:-50000}
R=${BENCH_REPEAT:-3}
BLOCK=2048
C=(heapleak -t 2 -n "$N" -s "$BLOCK")
PY=(/usr/bin/python3 -c '
import json
d = {"values": {"/Ac/Power": 1234.5, "/Ac/L1/Voltage": 230.1}, "ok": True,
     "list": list(range(40)), "name": "growatt"}
for i in range(200000):
    d = json.loads(json.dumps(d))
')

# best NAME CMD...: measure CMD R times, keep the run with the least CPU
best() {
	local name=$1 i
	shift
	for i in $(seq 1 "$R"); do
		measure "$name.$i" "$@"
	done
	for i in $(seq 1 "$R"); do
		echo "$(val "$name.$i" cpu) $i"
	done | sort -n | head -1 | {
		read -r _ i
		for x in cpu rss wall stdout stderr; do
			cp "$OUT/$name.$i.$x" "$OUT/$name.$x" 2>/dev/null || true
		done
	}
}

for w in c py; do
	if [ $w = c ]; then cmd=("${C[@]}"); else cmd=("${PY[@]}"); fi
	best $w-bare "${cmd[@]}"
	best $w-hw heap-watch -i 1s -- "${cmd[@]}"
	best $w-hw4k heap-watch -i 1s --rate 4K -- "${cmd[@]}"
	measure $w-ht heaptrack -o "$OUT/$w.heaptrack" "${cmd[@]}"
	measure $w-ms valgrind --tool=massif --massif-out-file="$OUT/$w.massif" "${cmd[@]}"
done

# the known site: leak_record's blocks, N of BLOCK bytes, in the last
# snapshot of the run at the default rate
truth=$((N * BLOCK / 1024))
est=$(jq -s '[.[] | select(.sites)] | last | [.sites[] |
	select(.site | startswith("leak_record"))][0].live_kb // 0' "$OUT/c-hw.stdout")

echo "heap-watch bench: C ($N iterations, 2 threads, $((N * 64)) malloc/free" \
	"pairs) and CPython (200000 json round trips)"
printf '  %-28s %12s %12s %12s %12s\n' run "C cpu ms" "C max RSS" "py cpu ms" "py max RSS"
for t in bare:bare hw:"heap-watch (512 KiB)" hw4k:"heap-watch --rate 4K" \
	ht:heaptrack ms:"valgrind massif"; do
	k=${t%%:*}
	printf '  %-28s %12s %12s %12s %12s\n' "${t#*:}" "$(val c-$k cpu)" \
		"$(val c-$k rss)" "$(val py-$k cpu)" "$(val py-$k rss)"
done
for w in c py; do
	echo "  $w: CPU over bare: heap-watch $(ratio "$(val $w-hw cpu)" "$(val $w-bare cpu)")x," \
		"at 4 KiB $(ratio "$(val $w-hw4k cpu)" "$(val $w-bare cpu)")x," \
		"heaptrack $(ratio "$(val $w-ht cpu)" "$(val $w-bare cpu)")x," \
		"massif $(ratio "$(val $w-ms cpu)" "$(val $w-bare cpu)")x"
done
awk -v e="$est" -v t="$truth" 'BEGIN { printf "  known site (leak_record): estimated %d KiB of %d KiB, %+.1f %%\n", e, t, 100 * (e - t) / t }'
awk -v a="$(val c-hw cpu)" -v b="$(val c-bare cpu)" -v c="$(val c-hw rss)" -v d="$(val c-bare rss)" \
	'BEGIN { printf "  C at the default rate: %.3fx CPU (goal 1.05x or less), max RSS +%d KB\n", a / b, c - d }'
