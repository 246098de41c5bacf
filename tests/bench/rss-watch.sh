#!/bin/bash
# rss-watch against pidstat -r and a python3 psutil loop on the same process
# at the same rate: CPU per 1000 samples and each tool's own max RSS.
# All run at once, twice: BENCH_SECONDS samples (default 60) and 5, so that
# start-up and per-sample cost can be told apart; "ticker", which only wakes
# up, shows what waking alone costs on this machine.
set -eu
. "$(dirname "$0")/lib.sh"
S=${BENCH_SECONDS:-60}
SHORT=5

memhog steady --base 8192 &
target=$!
trap 'kill $target 2>/dev/null' EXIT

for n in $S $SHORT; do
	measure rw$n rss-watch -p $target -i 1s -n $n &
	a=$!
	measure ps$n pidstat -r -p $target 1 $n &
	b=$!
	measure py$n /usr/bin/python3 "$ROOT/tests/bench/psutil_loop.py" $target 1 $n &
	c=$!
	measure tk$n ticker 1 $n &
	d=$!
	wait $a $b $c $d
done
marginal() { awk -v a="$(val $1$S cpu)" -v b="$(val $1$SHORT cpu)" -v n=$((S - SHORT)) \
	'BEGIN { printf "%.1f", (a - b) / n * 1000 }'; }
total() { awk -v a="$(val $1$S cpu)" -v n=$S 'BEGIN { printf "%.1f", a / n * 1000 }'; }
echo "rss-watch bench: $S samples at 1 Hz of one process, all tools at once"
echo "  CPU ms per 1000 samples (perf task-clock); marginal = without start-up"
printf '  %-10s %10s %14s %12s\n' tool marginal "with start-up" "max RSS KB"
for t in rw:rss-watch ps:pidstat py:psutil tk:ticker; do
	printf '  %-10s %10s %14s %12s\n' "${t#*:}" "$(marginal ${t%%:*})" \
		"$(total ${t%%:*})" "$(val ${t%%:*}$S rss)"
done
echo "  ratio CPU with start-up: pidstat/rss-watch $(ratio "$(total ps)" "$(total rw)")x," \
	"psutil/rss-watch $(ratio "$(total py)" "$(total rw)")x"
echo "  ratio CPU marginal:      pidstat/rss-watch $(ratio "$(marginal ps)" "$(marginal rw)")x," \
	"psutil/rss-watch $(ratio "$(marginal py)" "$(marginal rw)")x"
echo "  ratio max RSS:           pidstat/rss-watch $(ratio "$(val ps$S rss)" "$(val rw$S rss)")x," \
	"psutil/rss-watch $(ratio "$(val py$S rss)" "$(val rw$S rss)")x"

# 100 Hz, where waking is cheap and the work shows: rss-watch against
# psutil (pidstat cannot sample faster than once a second)
measure rwfast rss-watch -p $target -i 10ms -n 2000
measure pyfast /usr/bin/python3 "$ROOT/tests/bench/psutil_loop.py" $target 0.01 2000
measure tkfast ticker 0.01 2000
echo "  2000 samples at 100 Hz, CPU ms per 1000 samples: rss-watch" \
	"$(awk -v a="$(val rwfast cpu)" 'BEGIN { printf "%.1f", a / 2 }')," \
	"psutil $(awk -v a="$(val pyfast cpu)" 'BEGIN { printf "%.1f", a / 2 }')," \
	"ticker $(awk -v a="$(val tkfast cpu)" 'BEGIN { printf "%.1f", a / 2 }');" \
	"ratio psutil/rss-watch $(ratio "$(val pyfast cpu)" "$(val rwfast cpu)")x," \
	"less waking: $(awk -v a="$(val pyfast cpu)" -v b="$(val rwfast cpu)" -v t="$(val tkfast cpu)" \
		'BEGIN { printf "%.1f", (a - t) / (b - t) }')x"
