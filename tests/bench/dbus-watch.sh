#!/bin/bash
# dbus-watch against dbus-monitor on the same flood of PropertiesChanged
# signals: CPU per signal, and updates lost (must be 0).
set -eu
. "$(dirname "$0")/lib.sh"
N=${BENCH_SIGNALS:-50000}
start_bus
trap 'kill $BUS_PID 2>/dev/null' EXIT
svc=com.victronenergy.battery.flood
dbus-watch "$svc" /Count >"$OUT/dw.stdout" &
dw=$!
dbus-monitor "type='signal',interface='com.victronenergy.BusItem'" >"$OUT/dm.stdout" &
dm=$!
sleep 0.5
/usr/bin/python3 "$ROOT/tests/peers/busitem_service.py" "$svc" --mode rootvalue \
	--flood "$N" --ready "$OUT/done" --delay 0.3 &
service=$!
for i in $(seq 1 600); do [ -s "$OUT/done" ] && break; sleep 0.1; done
# let both drain, then read their CPU and peak RSS before stopping them
for i in $(seq 1 100); do
	[ "$(grep -c '"path":"/Count"' "$OUT/dw.stdout")" -gt "$N" ] && break
	sleep 0.1
done
sleep 1
echo "$(cpu_ms $dw)" >"$OUT/dw.cpu"
echo "$(cpu_ms $dm)" >"$OUT/dm.cpu"
echo "$(hwm_kb $dw)" >"$OUT/dw.rss"
echo "$(hwm_kb $dm)" >"$OUT/dm.rss"
kill $dw $dm $service
wait $dw $dm $service 2>/dev/null || true
got_dw=$(( $(grep -c '"path":"/Count"' "$OUT/dw.stdout") - 1 ))
got_dm=$(grep -c 'member=PropertiesChanged' "$OUT/dm.stdout" || true)
per() { awk -v c="$(val $1 cpu)" -v n="$2" 'BEGIN { printf "%.2f", c * 1000 / (n > 0 ? n : 1) }'; }
echo "dbus-watch bench: a flood of $N PropertiesChanged signals"
echo "  dbus-watch: $got_dw received, lost $((N - got_dw)), $(per dw $got_dw) us CPU per signal, max RSS $(val dw rss) KB"
echo "  dbus-monitor: $got_dm received, lost $((N - got_dm)), $(per dm $got_dm) us CPU per signal, max RSS $(val dm rss) KB"
echo "  ratio CPU per signal dbus-monitor/dbus-watch $(ratio "$(per dm $got_dm)" "$(per dw $got_dw)")x"
