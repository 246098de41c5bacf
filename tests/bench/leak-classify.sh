#!/bin/bash
# leak-classify against a python3 json + numpy OLS script on the same
# 2M-line rss-watch log: wall time and max RSS; then 10M lines from a pipe
# for throughput and the memory bound.
set -eu
. "$(dirname "$0")/lib.sh"
N=${BENCH_LINES:-2000000}

gen() {
	awk -v n="$1" 'BEGIN { srand(7); for (i = 0; i < n; i++)
		printf "{\"ts\":%.3f,\"src\":\"rss-watch\",\"pid\":4242,\"start\":812.27,\"comm\":\"dbus-growatt\",\"rss_kb\":%d,\"anon_kb\":%d,\"file_kb\":9000,\"shmem_kb\":0,\"swap_kb\":0,\"vsz_kb\":90000,\"hwm_kb\":40000,\"threads\":3,\"fds\":12}\n",
			1700000000 + i, 30000 + i / 100 + 50 * rand(), 20000 + i / 100 + 50 * rand() }'
}
gen "$N" >"$OUT/log.jsonl"
measure lc leak-classify -q --json "$OUT/log.jsonl"
measure py /usr/bin/python3 "$ROOT/tests/bench/ols_numpy.py" "$OUT/log.jsonl"
echo "leak-classify bench, $N lines ($(du -m "$OUT/log.jsonl" | cut -f1) MB):"
printf '  %-14s %6s s  %7s KB max RSS  %s\n' \
	leak-classify "$(val lc wall)" "$(val lc rss)" "$(jq -c '{verdict, slope_per_h}' "$OUT/lc.stdout")" \
	python+numpy "$(val py wall)" "$(val py rss)" "$(cat "$OUT/py.stdout")"
echo "  ratio wall time python/leak-classify $(ratio "$(val py wall)" "$(val lc wall)")x," \
	"max RSS $(ratio "$(val py rss)" "$(val lc rss)")x"
echo "  leak-classify: $(awk -v n="$N" -v s="$(val lc wall)" 'BEGIN { printf "%.2f", n / s / 1e6 }') M lines/s"
rm -f "$OUT/log.jsonl"

M=${BENCH_BIG_LINES:-10000000}
gen "$M" >"$OUT/big.jsonl"
measure big sh -c "leak-classify -q --json < '$OUT/big.jsonl'"
echo "  $M lines from stdin: $(val big wall) s," \
	"$(awk -v n="$M" -v s="$(val big wall)" 'BEGIN { printf "%.2f", n / s / 1e6 }') M lines/s," \
	"max RSS $(val big rss) KB (bound: 4096 buckets + scratch)"
rm -f "$OUT/big.jsonl"
