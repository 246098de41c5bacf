#!/bin/bash
# gw-read against mbpoll and a python3 pymodbus client, reading the same
# 50-register block from the same gw-sim over TCP: polls per second, CPU
# per poll and max RSS.  Then the full Growatt map: requests per poll.
set -eu
. "$(dirname "$0")/lib.sh"
N=${BENCH_POLLS:-2000}
port=$((20000 + RANDOM % 10000))
gw-sim -b tcp:127.0.0.1:$port -m "$ROOT/tests/bench/block50.csv" --time 12:00 &
sim=$!
trap 'kill $sim 2>/dev/null' EXIT
sleep 0.5

# as fast as each goes
measure rd gw-read -b tcp:127.0.0.1:$port -m "$ROOT/tests/bench/block50.csv" --gap 0 -i 0 -n $N
measure py /usr/bin/python3 "$ROOT/tests/bench/pymodbus_poll.py" $port $N 0
# mbpoll polls at most every 10 ms; run it for as long as gw-read took at that
# rate and count its polls
measure mbfast timeout 10 mbpoll -m tcp -p $port -a 1 -t 3 -r 1 -c 50 -l 10 -q 127.0.0.1
mbpolls=$(grep -c "^\[50\]" "$OUT/mbfast.stdout" || true)
rdok=$(jq -s 'map(select(.ok)) | length' "$OUT/rd.stdout")
pyok=$(jq -s 'map(select(.ok)) | length' "$OUT/py.stdout")
perpoll() { awk -v c="$(val $1 cpu)" -v n="$2" 'BEGIN { printf "%.1f", c / n * 1000 }'; }
rate() { awk -v w="$(val $1 wall)" -v n="$2" 'BEGIN { printf "%.0f", n / w }'; }
echo "gw-read bench: a 50-register block from gw-sim over TCP"
printf '  %-16s %8s %12s %14s %10s\n' tool polls polls/s "CPU us/poll" "max RSS KB"
printf '  %-16s %8s %12s %14s %10s\n' gw-read "$rdok" "$(rate rd "$rdok")" "$(perpoll rd "$rdok")" "$(val rd rss)"
printf '  %-16s %8s %12s %14s %10s\n' pymodbus "$pyok" "$(rate py "$pyok")" "$(perpoll py "$pyok")" "$(val py rss)"
printf '  %-16s %8s %12s %14s %10s\n' "mbpoll (-l 10)" "$mbpolls" "$(rate mbfast "$mbpolls")" "$(perpoll mbfast "$mbpolls")" "$(val mbfast rss)"
echo "  ratio CPU per poll: pymodbus/gw-read $(ratio "$(perpoll py "$pyok")" "$(perpoll rd "$rdok")")x," \
	"mbpoll/gw-read $(ratio "$(perpoll mbfast "$mbpolls")" "$(perpoll rd "$rdok")")x;" \
	"polls/s gw-read/pymodbus $(ratio "$(rate rd "$rdok")" "$(rate py "$pyok")")x;" \
	"max RSS pymodbus/gw-read $(ratio "$(val py rss)" "$(val rd rss)")x," \
	"mbpoll/gw-read $(ratio "$(val mbfast rss)" "$(val rd rss)")x"
# the same rate for all three: every 10 ms, 500 polls
measure rd10 gw-read -b tcp:127.0.0.1:$port -m "$ROOT/tests/bench/block50.csv" --gap 0 -i 10ms -n 500
measure py10 /usr/bin/python3 "$ROOT/tests/bench/pymodbus_poll.py" $port 500 0.01
measure mb10 timeout 5.05 mbpoll -m tcp -p $port -a 1 -t 3 -r 1 -c 50 -l 10 -q 127.0.0.1
mb10=$(grep -c "^\[50\]" "$OUT/mb10.stdout" || true)
echo "  every 10 ms, CPU us per poll: gw-read $(perpoll rd10 500), pymodbus $(perpoll py10 500)," \
	"mbpoll $(perpoll mb10 "$mb10") ($mb10 polls); ratios pymodbus/gw-read" \
	"$(ratio "$(perpoll py10 500)" "$(perpoll rd10 500)")x, mbpoll/gw-read" \
	"$(ratio "$(perpoll mb10 "$mb10")" "$(perpoll rd10 500)")x"
kill $sim
wait $sim 2>/dev/null || true
port=$((port + 1))

# the full Growatt map against one request per register, 5 ms a round trip
gw-sim -b tcp:127.0.0.1:$port -m growatt-v120 --time 12:00 --latency 5ms &
sim=$!
sleep 0.5
sed -e 's/^# max-registers: .*/# max-registers: 2/' -e 's/^# max-hole: .*/# max-hole: 0/' \
	"$ROOT/lib/maps/growatt-v120.csv" >"$OUT/one-per-register.csv"
planned=$(gw-read -v -b tcp:127.0.0.1:$port -m growatt-v120 --gap 0 2>&1 >/dev/null | grep -o '[0-9]* requests' | cut -d' ' -f1)
single=$(gw-read -v -b tcp:127.0.0.1:$port -m "$OUT/one-per-register.csv" --gap 0 2>&1 >/dev/null | grep -o '[0-9]* requests' | cut -d' ' -f1)
measure plan gw-read -b tcp:127.0.0.1:$port -m growatt-v120 --gap 0 -i 1ms -n 50
measure one gw-read -b tcp:127.0.0.1:$port -m "$OUT/one-per-register.csv" --gap 0 -i 1ms -n 50
echo "  growatt-v120, $(grep -c "^[a-z_0-9]*,\(input\|holding\)," "$ROOT/lib/maps/growatt-v120.csv") registers: $planned requests per poll against $single;" \
	"50 polls with 5 ms round trips: $(val plan wall) s against $(val one wall) s" \
	"($(ratio "$(val one wall)" "$(val plan wall)")x)"

# a write: 200 runs of gw-read --write (the write and its read-back)
# against mbpoll -t 4 with a value (the write alone), same server
kill $sim
wait $sim 2>/dev/null || true
port=$((port + 1))
gw-sim -b tcp:127.0.0.1:$port -m growatt-v120 --time 12:00 &
sim=$!
sleep 0.5
export port
measure wr bash -c 'for i in $(seq 1 200); do gw-read -b tcp:127.0.0.1:$port \
	-m growatt-v120 --gap 0 -w active_power_rate=$((i % 100)) || exit 1; done'
measure mbw bash -c 'for i in $(seq 1 200); do mbpoll -m tcp -p $port -a 1 \
	-t 4 -r 4 -1 127.0.0.1 $((i % 100)) >/dev/null || exit 1; done'
okw=$(jq -s 'map(select(.event == "write" and .ok)) | length' "$OUT/wr.stdout")
echo "  200 writes of holding 3: gw-read --write $(val wr wall) s ($okw read back)," \
	"mbpoll -t 4 $(val mbw wall) s; ratio mbpoll/gw-read" \
	"$(ratio "$(val mbw wall)" "$(val wr wall)")x (gw-read also reads each back:" \
	"2 requests a write, mbpoll 1)"

# a block: ten adjacent holding registers in one --write run (one
# function 16 and one read-back) against mbpoll -t 4 with ten values (one
# function 16), on the pymodbus peer
kill $sim
wait $sim 2>/dev/null || true
port=$((port + 1))
/usr/bin/python3 "$ROOT/tests/peers/pymodbus_server.py" --tcp $port 2>/dev/null &
sim=$!
sleep 1.5
measure blk bash -c 'for i in $(seq 1 100); do gw-read -b tcp:127.0.0.1:$port \
	$(for r in $(seq 0 9); do printf -- "-w %d=%d " $r $((i + r)); done) || exit 1; done'
measure mbblk bash -c 'for i in $(seq 1 100); do mbpoll -m tcp -p $port -a 1 \
	-t 4 -r 1 -1 127.0.0.1 $(seq $i $((i + 9))) >/dev/null || exit 1; done'
okb=$(jq -s 'map(select(.event == "write" and .ok)) | length' "$OUT/blk.stdout")
echo "  100 writes of registers 0-9: gw-read --write x10 $(val blk wall) s" \
	"($okb of 1000 read back), mbpoll -t 4 $(val mbblk wall) s; ratio" \
	"mbpoll/gw-read $(ratio "$(val mbblk wall)" "$(val blk wall)")x"
