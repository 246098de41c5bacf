#!/bin/bash
# gw-publish against a python3-dbus publisher built the way Venus drivers
# publish (one ItemsChanged per record with Value and Text), the same
# records on the same private bus: CPU microseconds per path update.
set -eu
. "$(dirname "$0")/lib.sh"
N=${BENCH_RECORDS:-5000}
start_bus
trap 'kill $BUS_PID 2>/dev/null' EXIT
# N gw-read records whose values all change every time
awk -v n="$N" 'BEGIN { for (i = 0; i < n; i++) {
	printf "{\"ts\":%d,\"src\":\"gw-read\",\"unit\":1,\"map\":\"growatt-v120\",\"ok\":true,\"values\":{", 1700000000 + i
	printf "\"status\":%d,\"ac_power\":%.1f,\"pv1_voltage\":%.1f,\"pv1_power\":%.1f,\"pv2_voltage\":%.1f,\"pv2_power\":%.1f,", i % 2, 1000 + i / 10, 300 + i % 50, 500 + i / 10, 310 + i % 40, 400 + i / 10
	printf "\"l1_voltage\":%.1f,\"l1_current\":%.1f,\"l1_power\":%.1f,\"l2_voltage\":%.1f,\"l2_current\":%.1f,\"l2_power\":%.1f,", 229 + i % 3, 4 + i % 7 / 10, 900 + i / 10, 230 + i % 3, 3 + i % 5 / 10, 800 + i / 10
	printf "\"l3_voltage\":%.1f,\"l3_current\":%.1f,\"l3_power\":%.1f,\"energy_total\":%.1f,\"fault_code\":%d}}\n", 231 + i % 3, 2 + i % 9 / 10, 700 + i / 10, 12000 + i / 10, i % 3 } }' >"$OUT/records.jsonl"
measure gp sh -c "gw-publish -s com.victronenergy.pvinverter.bench_1 -m growatt-v120 --signals items < '$OUT/records.jsonl'"
measure gpb sh -c "gw-publish -s com.victronenergy.pvinverter.bench_2 -m growatt-v120 < '$OUT/records.jsonl'"
measure py sh -c "/usr/bin/python3 '$ROOT/tests/bench/venus_publisher.py' com.victronenergy.pvinverter.bench_3 '$ROOT/lib/maps/growatt-v120.csv' < '$OUT/records.jsonl'"
updates=$(cat "$OUT/py.stdout")
per() { awk -v c="$(val $1 cpu)" -v n="$updates" 'BEGIN { printf "%.2f", c * 1000 / n }'; }
echo "gw-publish bench: $N records, $updates path updates, one private bus"
echo "  CPU us per path update: gw-publish (ItemsChanged) $(per gp)," \
	"gw-publish (both signals) $(per gpb), python3-dbus Venus-style $(per py)"
echo "  ratio python/gw-publish $(ratio "$(per py)" "$(per gp)")x (same signals)," \
	"$(ratio "$(per py)" "$(per gpb)")x (gw-publish also sending PropertiesChanged);" \
	"max RSS $(val gp rss) KB against $(val py rss) KB"
