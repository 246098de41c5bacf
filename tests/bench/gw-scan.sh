#!/bin/bash
# gw-scan against mbpoll -a 1:30 -1 with 28 absent units at the same
# timeout (100 ms), and against the physical limit (28 x timeout).
set -eu
. "$(dirname "$0")/lib.sh"
port=$((20000 + RANDOM % 10000))
gw-sim -b tcp:127.0.0.1:$port -m growatt-v120 -u 4,17 --time 12:00 &
sim=$!
trap 'kill $sim 2>/dev/null' EXIT
sleep 0.5
measure scan gw-scan -b tcp:127.0.0.1:$port --units 1-30 --timeout 100ms
measure mb mbpoll -m tcp -p $port -a 1:30 -t 3 -r 1 -c 1 -1 -o 0.1 127.0.0.1
found=$(jq -c 'select(.event) | .found' "$OUT/scan.stdout")
echo "gw-scan bench: units 1-30, 2 present (found $found), 28 absent, timeout 100 ms"
echo "  gw-scan $(val scan wall) s, mbpoll $(val mb wall) s, physical limit 2.80 s;" \
	"mbpoll/gw-scan $(ratio "$(val mb wall)" "$(val scan wall)")x," \
	"gw-scan/limit $(ratio "$(val scan wall)" 2.80)x"
