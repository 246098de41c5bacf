#!/bin/bash
# heap-watch against heaptrack and valgrind's massif on the same work: a
# malloc-heavy C run (tests/helpers/heapleak: 2 threads, 64 mallocs and
# frees of mixed sizes an iteration, one known leak) and a CPython run of
# json round trips.  CPU (perf task-clock, the whole process tree) traced
# over bare, at the default rate and at 4 KiB; each tool's max RSS; and
# how near heap-watch's estimate of the known leak comes to its true size.
# CPython under heap-watch runs with PYTHONMALLOC=malloc (pymalloc's small
# objects through malloc, or they are not seen): its bare run is shown
# both ways.  BENCH_ITER (default 100000) iterations of the C run; the
# cheap runs are repeated BENCH_REPEAT times (default 5), interleaved, and
# their median CPU kept (this machine's CPU time varies by 10 % run to run).
set -eu
. "$(dirname "$0")/lib.sh"
N=${BENCH_ITER:-100000}
R=${BENCH_REPEAT:-5}
BLOCK=2048
C=(heapleak -b -t 2 -n "$N" -s "$BLOCK")
# ... and small objects, 16 to 512 bytes, as most C programs allocate
S=(heapleak -b -t 2 -n "$N" -s "$BLOCK" -m 496)
PY=(/usr/bin/python3 -c '
import json
d = {"values": {"/Ac/Power": 1234.5, "/Ac/L1/Voltage": 230.1}, "ok": True,
     "list": list(range(40)), "name": "growatt"}
for i in range(200000):
    d = json.loads(json.dumps(d))
')

# median NAME: of the R runs NAME.1 .. NAME.R, the median CPU's files
# become NAME's
median() {
	local name=$1 i
	for i in $(seq 1 "$R"); do
		echo "$(val "$name.$i" cpu) $i"
	done | sort -n | sed -n "$(((R + 1) / 2))p" | {
		read -r _ i
		for x in cpu rss wall stdout stderr; do
			cp "$OUT/$name.$i.$x" "$OUT/$name.$x" 2>/dev/null || true
		done
	}
}

for w in c s py; do
	case $w in
	c) cmd=("${C[@]}") ;;
	s) cmd=("${S[@]}") ;;
	py) cmd=("${PY[@]}") ;;
	esac
	for i in $(seq 1 "$R"); do
		measure $w-bare.$i "${cmd[@]}"
		PYTHONMALLOC=malloc measure $w-barem.$i "${cmd[@]}"
		measure $w-hw.$i heap-watch -i 1s -- "${cmd[@]}"
		measure $w-hw4k.$i heap-watch -i 1s --rate 4K -- "${cmd[@]}"
	done
	for k in bare barem hw hw4k; do median $w-$k; done
	measure $w-ht heaptrack -o "$OUT/$w.heaptrack" "${cmd[@]}"
	measure $w-ms valgrind --tool=massif --massif-out-file="$OUT/$w.massif" "${cmd[@]}"
done

# the known site: leak_record's blocks, N of BLOCK bytes, in the last
# snapshot of the run at the default rate
truth=$((N * BLOCK / 1024))
est=$(jq -s '[.[] | select(.sites)] | last | [.sites[] |
	select(.site | startswith("leak_record"))][0].live_kb // 0' "$OUT/c-hw.stdout")

echo "heap-watch bench: C ($N iterations, 2 threads, $((N * 64)) malloc/free" \
	"pairs of 16 to 4016 bytes, then of 16 to 512: small) and CPython (200000 json round trips);" \
	"median CPU of $R interleaved runs"
printf '  %-28s %10s %10s %10s %10s %10s %10s\n' run "C cpu ms" "C RSS KB" \
	"small cpu" "small RSS" "py cpu ms" "py RSS KB"
for t in bare:bare barem:"bare, PYTHONMALLOC=malloc" hw:"heap-watch (512 KiB)" hw4k:"heap-watch --rate 4K" \
	ht:heaptrack ms:"valgrind massif"; do
	k=${t%%:*}
	printf '  %-28s %10s %10s %10s %10s %10s %10s\n' "${t#*:}" "$(val c-$k cpu)" \
		"$(val c-$k rss)" "$(val s-$k cpu)" "$(val s-$k rss)" "$(val py-$k cpu)" "$(val py-$k rss)"
done
echo "  py: CPU over bare with PYTHONMALLOC=malloc: heap-watch $(ratio "$(val py-hw cpu)" "$(val py-barem cpu)")x," \
	"at 4 KiB $(ratio "$(val py-hw4k cpu)" "$(val py-barem cpu)")x"
for w in c s py; do
	echo "  $w: CPU over bare: heap-watch $(ratio "$(val $w-hw cpu)" "$(val $w-bare cpu)")x," \
		"at 4 KiB $(ratio "$(val $w-hw4k cpu)" "$(val $w-bare cpu)")x," \
		"heaptrack $(ratio "$(val $w-ht cpu)" "$(val $w-bare cpu)")x," \
		"massif $(ratio "$(val $w-ms cpu)" "$(val $w-bare cpu)")x"
done
awk -v e="$est" -v t="$truth" 'BEGIN { printf "  known site (leak_record): estimated %d KiB of %d KiB, %+.1f %%\n", e, t, 100 * (e - t) / t }'
awk -v a="$(val c-hw cpu)" -v b="$(val c-bare cpu)" -v c="$(val c-hw rss)" -v d="$(val c-bare rss)" \
	'BEGIN { printf "  C at the default rate: %.3fx CPU (goal 1.05x or less), max RSS +%d KB\n", a / b, c - d }'
awk -v a="$(val s-hw cpu)" -v b="$(val s-bare cpu)" \
	'BEGIN { printf "  C, small objects, at the default rate: %.3fx CPU\n", a / b }'
awk -v a="$(val py-hw cpu)" -v b="$(val py-barem cpu)" \
	'BEGIN { printf "  CPython at the default rate: %.3fx CPU over PYTHONMALLOC=malloc\n", a / b }'
