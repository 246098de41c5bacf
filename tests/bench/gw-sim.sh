#!/bin/bash
# gw-sim against a pymodbus server (python3-pymodbus, the tests' independent
# slave), both serving tests/peers/types.csv's registers over TCP to the
# same client (gw-read, back to back): requests per second, server CPU per
# request (utime + stime from /proc) and server max RSS.
set -eu
. "$(dirname "$0")/lib.sh"
N=${BENCH_POLLS:-3000}
MAP=$ROOT/tests/peers/types.csv

# serve NAME PORT CMD...: start the server, poll it N times, record its cost
serve() {
	local name=$1 port=$2 pid before
	shift 2
	"$@" 2>"$OUT/$name.stderr" &
	pid=$!
	wait_port "$port"
	sleep 0.5 # let an interpreter finish starting before counting
	before=$(cpu_ms $pid)
	measure ${name}_client gw-read -b tcp:127.0.0.1:$port -m "$MAP" --gap 0 -i 0 -n $N
	awk -v a="$(cpu_ms $pid)" -v b="$before" 'BEGIN { print a - b }' >"$OUT/$name.cpu"
	hwm_kb $pid >"$OUT/$name.rss"
	kill $pid
	wait $pid 2>/dev/null || true
}

p1=$((20000 + RANDOM % 10000))
p2=$((p1 + 1))
serve sim $p1 gw-sim -b tcp:127.0.0.1:$p1 -m "$MAP"
serve py $p2 /usr/bin/python3 "$ROOT/tests/peers/pymodbus_server.py" --tcp $p2 --units 1
# types.csv reads in 2 requests a poll (input 0-27, holding 0)
reqs=$((2 * N))
ok_sim=$(jq -s 'map(select(.ok)) | length' "$OUT/sim_client.stdout")
ok_py=$(jq -s 'map(select(.ok)) | length' "$OUT/py_client.stdout")
rate() { awk -v w="$(val $1_client wall)" -v n=$reqs 'BEGIN { printf "%.0f", n / w }'; }
per() { awk -v c="$(val $1 cpu)" -v n=$reqs 'BEGIN { printf "%.1f", c * 1000 / n }'; }
echo "gw-sim bench: $N polls ($reqs requests) of types.csv over TCP, gw-read back to back"
printf '  %-10s %8s %12s %18s %14s\n' server "ok polls" requests/s "CPU us/request" "max RSS KB"
printf '  %-10s %8s %12s %18s %14s\n' gw-sim "$ok_sim" "$(rate sim)" "$(per sim)" "$(val sim rss)"
printf '  %-10s %8s %12s %18s %14s\n' pymodbus "$ok_py" "$(rate py)" "$(per py)" "$(val py rss)"
echo "  ratio requests/s gw-sim/pymodbus $(ratio "$(rate sim)" "$(rate py)")x," \
	"CPU per request pymodbus/gw-sim $(ratio "$(per py)" "$(per sim)")x," \
	"max RSS pymodbus/gw-sim $(ratio "$(val py rss)" "$(val sim rss)")x"
