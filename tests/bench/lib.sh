# Helpers of the benchmarks: CPU by perf's task-clock, max RSS by time(1).
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# wait_port, free_port, rss_kb, hwm_kb, cpu_ms: shared with the CLI tests
. "$ROOT/tests/shared.sh"
export PATH="$ROOT/build/bin:$ROOT/build/helpers:$PATH"
OUT=${BENCH_OUT:-$(mktemp -d)}

# measure NAME CMD...: run CMD; $OUT/NAME.cpu gets task-clock ms,
# $OUT/NAME.rss max RSS in KB, $OUT/NAME.wall seconds; stdout goes to
# $OUT/NAME.stdout, or to $STDOUT when set (/dev/null: no disk in the way)
measure() {
	local name=$1
	shift
	perf stat -x, -e task-clock -o "$OUT/$name.perf" \
		/usr/bin/time -f '%M %e' -o "$OUT/$name.time" "$@" \
		>"${STDOUT:-$OUT/$name.stdout}" 2>"$OUT/$name.stderr" || true
	awk -F, '/task-clock/ { print $1 }' "$OUT/$name.perf" >"$OUT/$name.cpu"
	awk 'END { print $1 }' "$OUT/$name.time" >"$OUT/$name.rss"
	awk 'END { print $2 }' "$OUT/$name.time" >"$OUT/$name.wall"
}

val() { cat "$OUT/$1.$2"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf (b > 0 ? "%.1f" : "inf"), a / b }'; }

# a private dbus-daemon: DBUS_SESSION_BUS_ADDRESS exported, pid in BUS_PID
start_bus() {
	dbus-daemon --session --nofork --address="unix:path=$OUT/bus" \
		--print-address=3 3>"$OUT/addr" 2>/dev/null &
	BUS_PID=$!
	sleep 0.3
	export DBUS_SESSION_BUS_ADDRESS=$(head -1 "$OUT/addr")
}
