#!/bin/bash
# rss-watch against pidstat -r and a python3 psutil loop on the same process
# at the same rate: CPU per 1000 samples and each tool's own max RSS.
# BENCH_SECONDS (default 30) sets the length of the 1 Hz run.
set -eu
. "$(dirname "$0")/lib.sh"
S=${BENCH_SECONDS:-30}
HALF=$((S / 2))

memhog steady --base 8192 &
target=$!
trap 'kill $target 2>/dev/null' EXIT

# 1 Hz, pidstat's finest rate: all three at once, twice (S and S/2 samples)
# so that start-up cost and per-sample cost can be told apart.
for n in $S $HALF; do
	measure rw$n rss-watch -p $target -i 1s -n $n &
	a=$!
	measure ps$n pidstat -r -p $target 1 $n &
	b=$!
	measure py$n /usr/bin/python3 "$ROOT/tests/bench/psutil_loop.py" $target 1 $n &
	c=$!
	wait $a $b $c
done
per1000() { awk -v a="$(val $1$S cpu)" -v b="$(val $1$HALF cpu)" -v n=$((S - HALF)) \
	'BEGIN { printf "%.2f", (a - b) / n * 1000 }'; }
tot1000() { awk -v a="$(val $1$S cpu)" -v n=$S 'BEGIN { printf "%.2f", a / n * 1000 }'; }
rw=$(per1000 rw) ps=$(per1000 ps) py=$(per1000 py)
echo "rss-watch bench, $S samples at 1 Hz on one process (CPU ms per 1000 samples):"
printf '  %-10s marginal %9s ms  with start-up %9s ms  max RSS %6s KB\n' \
	rss-watch "$rw" "$(tot1000 rw)" "$(val rw$S rss)" \
	pidstat "$ps" "$(tot1000 ps)" "$(val ps$S rss)" \
	psutil "$py" "$(tot1000 py)" "$(val py$S rss)"
echo "  ratio CPU (with start-up): pidstat/rss-watch $(ratio "$(tot1000 ps)" "$(tot1000 rw)")x," \
	"psutil/rss-watch $(ratio "$(tot1000 py)" "$(tot1000 rw)")x"
echo "  ratio CPU (marginal):      pidstat/rss-watch $(ratio "$ps" "$rw")x," \
	"psutil/rss-watch $(ratio "$py" "$rw")x"
echo "  ratio max RSS: pidstat/rss-watch $(ratio "$(val ps$S rss)" "$(val rw$S rss)")x," \
	"psutil/rss-watch $(ratio "$(val py$S rss)" "$(val rw$S rss)")x"

# 100 Hz, 2000 samples: rss-watch against psutil (pidstat cannot go faster
# than 1 Hz)
measure rwfast rss-watch -p $target -i 10ms -n 2000
measure pyfast /usr/bin/python3 "$ROOT/tests/bench/psutil_loop.py" $target 0.01 2000
echo "  2000 samples at 100 Hz, CPU ms per 1000 samples: rss-watch" \
	"$(awk -v a="$(val rwfast cpu)" 'BEGIN { printf "%.1f", a / 2 }')," \
	"psutil $(awk -v a="$(val pyfast cpu)" 'BEGIN { printf "%.1f", a / 2 }')," \
	"ratio $(ratio "$(val pyfast cpu)" "$(val rwfast cpu)")x"
