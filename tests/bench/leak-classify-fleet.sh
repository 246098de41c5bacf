#!/bin/bash
# leak-classify --by host on a fleet: 1,000 devices x one day at one
# sample a minute (1.44 M interleaved lines, 50 of the devices leaking),
# against ols_numpy.py --by host (json + one numpy OLS per host) on the same
# file: wall time, max RSS, lines/s, and whether each found the leakers.
# Then the input path alone (--min-samples past the input: no group is
# judged), --by against one series of as many lines of the same shape, in
# the same run: one input path, equally fast.
#   BENCH_HOSTS=1000 BENCH_SAMPLES=1440 tests/bench/leak-classify-fleet.sh
set -eu
. "$(dirname "$0")/lib.sh"
H=${BENCH_HOSTS:-1000}
S=${BENCH_SAMPLES:-1440}
N=$((H * S))
/usr/bin/python3 "$ROOT/tests/bench/fleetgen.py" "$H" "$S" \
	"$(seq -s, 0 20 $((H - 1)))" >"$OUT/fleet.jsonl"
/usr/bin/python3 "$ROOT/tests/bench/fleetgen.py" 1 "$N" "" >"$OUT/one.jsonl"
leakers=$(seq 0 20 $((H - 1)) | wc -l)
measure lc leak-classify -v --by host "$OUT/fleet.jsonl"
measure py /usr/bin/python3 "$ROOT/tests/bench/ols_numpy.py" "$OUT/fleet.jsonl" anon_kb --by host
measure in_by leak-classify -q --by host --min-samples 1000000000 "$OUT/fleet.jsonl"
measure in_one leak-classify -q --min-samples 1000000000 "$OUT/one.jsonl"
found=$(awk 'NR > 1 && $2 == "leak"' "$OUT/lc.stdout" | wc -l)
false=$(awk 'NR > 1 && $2 == "leak" { sub("gx", "", $1); if ($1 % 20) n++ } END { print n + 0 }' "$OUT/lc.stdout")
mlps() { awk -v n="$N" -v s="$(val "$1" wall)" 'BEGIN { printf "%.2f", n / s / 1e6 }'; }
echo "leak-classify --by host: $H devices x $S samples = $N lines ($(du -m "$OUT/fleet.jsonl" | cut -f1) MB), $leakers leaking:"
printf '  %-22s %6s s  %7s KB max RSS  %s\n' \
	"leak-classify --by" "$(val lc wall)" "$(val lc rss)" "$found leaks found, $false of them wrong" \
	"python json+numpy" "$(val py wall)" "$(val py rss)" "$(cat "$OUT/py.stdout")"
echo "  leak-classify, read and $H groups judged on $(nproc) cores: $(mlps lc) M lines/s," \
	"max RSS $(awk -v k="$(val lc rss)" 'BEGIN { printf "%.1f", k / 1024 }') MiB (goal <= 128)"
echo "  ratio wall time python/leak-classify $(ratio "$(val py wall)" "$(val lc wall)")x," \
	"max RSS $(ratio "$(val py rss)" "$(val lc rss)")x"
grep 'groups left' "$OUT/lc.stderr" | sed 's/^/  /'
echo "  the input path alone, $N lines each (no group judged):"
printf '    %-12s %6s s  %6s M lines/s  %7s KB max RSS\n' \
	"one series" "$(val in_one wall)" "$(mlps in_one)" "$(val in_one rss)" \
	"--by host" "$(val in_by wall)" "$(mlps in_by)" "$(val in_by rss)"
echo "    --by reads at $(ratio "$(val in_one wall)" "$(val in_by wall)")x the speed of one series (goal: >= 2.5 M lines/s)"
rm -f "$OUT/fleet.jsonl" "$OUT/one.jsonl"
