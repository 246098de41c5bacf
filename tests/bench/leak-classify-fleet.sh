#!/bin/bash
# leak-classify --by host on a fleet: 1,000 devices x one day at one
# sample a minute (1.44 M interleaved lines, 50 of the devices leaking),
# against ols_numpy.py --by host (json + one numpy OLS per host) on the same
# file: wall time, max RSS, lines/s, and whether each found the leakers.
#   BENCH_HOSTS=1000 BENCH_SAMPLES=1440 tests/bench/leak-classify-fleet.sh
set -eu
. "$(dirname "$0")/lib.sh"
H=${BENCH_HOSTS:-1000}
S=${BENCH_SAMPLES:-1440}
N=$((H * S))
/usr/bin/python3 "$ROOT/tests/bench/fleetgen.py" "$H" "$S" \
	"$(seq -s, 0 20 $((H - 1)))" >"$OUT/fleet.jsonl"
leakers=$(seq 0 20 $((H - 1)) | wc -l)
measure lc leak-classify -v --by host "$OUT/fleet.jsonl"
measure py /usr/bin/python3 "$ROOT/tests/bench/ols_numpy.py" "$OUT/fleet.jsonl" anon_kb --by host
found=$(awk 'NR > 1 && $2 == "leak"' "$OUT/lc.stdout" | wc -l)
false=$(awk 'NR > 1 && $2 == "leak" { sub("gx", "", $1); if ($1 % 20) n++ } END { print n + 0 }' "$OUT/lc.stdout")
echo "leak-classify --by host: $H devices x $S samples = $N lines ($(du -m "$OUT/fleet.jsonl" | cut -f1) MB), $leakers leaking:"
printf '  %-22s %6s s  %7s KB max RSS  %s\n' \
	"leak-classify --by" "$(val lc wall)" "$(val lc rss)" "$found leaks found, $false of them wrong" \
	"python json+numpy" "$(val py wall)" "$(val py rss)" "$(cat "$OUT/py.stdout")"
echo "  leak-classify: $(awk -v n="$N" -v s="$(val lc wall)" 'BEGIN { printf "%.2f", n / s / 1e6 }') M lines/s" \
	"(goal >= 1), max RSS $(awk -v k="$(val lc rss)" 'BEGIN { printf "%.1f", k / 1024 }') MiB (goal <= 128)"
echo "  ratio wall time python/leak-classify $(ratio "$(val py wall)" "$(val lc wall)")x," \
	"max RSS $(ratio "$(val py rss)" "$(val lc rss)")x"
grep 'groups left' "$OUT/lc.stderr" | sed 's/^/  /'
rm -f "$OUT/fleet.jsonl"
