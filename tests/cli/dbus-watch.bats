#!/usr/bin/env bats
# dbus-watch against an independent python3-dbus BusItem service.

load helpers

teardown() {
	stop_all
}

SVC=com.victronenergy.battery.test_1

start_service() { # start_service [ARGS...]
	start_bg /usr/bin/python3 "$ROOT/tests/peers/busitem_service.py" $SVC "$@"
	SERVICE_PID=$BG_PID
	wait_name $SVC
}

assert_values() {
	jq -s -e 'map(select(.path)) | map({(.path): .value}) | add |
		.["/Ac/Power"] == 1234.5 and .["/StatusCode"] == 7 and
		.["/Serial"] == "HQ2024" and .["/Dc/0/Voltage"] == null and
		.["/Ac/L1/Voltage"] == 230.1' "$1" >/dev/null
}

@test "dbus-watch: --help and usage errors" {
	run dbus-watch --help
	[ "$status" -eq 0 ]
	[[ $output == *"--set"* ]]
	for args in "" "--get x" "--set a b" "--once --get a b" \
		"--system --session x" "--timeout never x" "--check a.b" \
		"--check --once a.b /x" "--fresh 1s a.b" "--check --fresh 0 a.b /x" \
		"--check --fresh soon a.b /x" "--check a.* /x" "--check a.b x"; do
		run_split dbus-watch $args
		assert_usage_error
	done
	# names and paths checked before libdbus sees them (it asserts)
	for args in "--get com.x.a{b} /x" "--get com.victronenergy.x /a/" \
		"--get com.victronenergy.x /a-b" "--set com..x /x 1" \
		"--set com.victronenergy.x x 1" "--get :1.5 /x" "--get com.x.é /x"; do
		run_split dbus-watch $args
		assert_usage_error
	done
	grep -q "not a valid D-Bus" "$BATS_TEST_TMPDIR/err"
}

@test "dbus-watch: --once reads every path, in native JSON, invalid as null" {
	start_dbus
	start_service
	run_split dbus-watch --once --text 'com.victronenergy.battery.*'
	[ "$status" -eq 0 ]
	assert_jsonl "$BATS_TEST_TMPDIR/out" dbus-watch
	assert_values "$BATS_TEST_TMPDIR/out"
	jq -s -e 'map(select(.path == "/Dc/0/Voltage"))[0].text == "---"' "$BATS_TEST_TMPDIR/out" >/dev/null
	jq -s -e 'map(select(.path)) | all(.service == "com.victronenergy.battery.test_1")' "$BATS_TEST_TMPDIR/out" >/dev/null
}

@test "dbus-watch: without GetItems: GetValue on /, then introspection" {
	start_dbus
	start_service --mode rootvalue
	run_split dbus-watch --once "$SVC"
	assert_values "$BATS_TEST_TMPDIR/out"
	stop_all
	start_dbus
	start_service --mode introspect
	run_split dbus-watch --once "$SVC"
	assert_values "$BATS_TEST_TMPDIR/out"
}

@test "dbus-watch: path globs pick paths" {
	start_dbus
	start_service
	run_split dbus-watch --once "$SVC" '/Ac/*' /Serial
	[ "$(jq -s -c 'map(.path) | sort' "$BATS_TEST_TMPDIR/out")" = '["/Ac/L1/Voltage","/Ac/Power","/Serial"]' ]
}

@test "dbus-watch: services appearing and vanishing, and their changes" {
	start_dbus
	dbus-watch 'com.victronenergy.battery.*' >"$BATS_TEST_TMPDIR/watch.jsonl" &
	watcher=$!
	echo $watcher >>"$BATS_TEST_TMPDIR/pids"
	sleep 0.3
	start_service
	dbus-send --print-reply --dest=$SVC /Count com.victronenergy.BusItem.SetValue variant:int32:42 >/dev/null
	sleep 0.3
	kill $SERVICE_PID
	sleep 0.5
	kill $watcher
	w=$BATS_TEST_TMPDIR/watch.jsonl
	jq -s -e 'map(.event // empty) == ["appeared", "vanished"]' "$w" >/dev/null
	assert_values "$w"
	# the change printed once, though it came as ItemsChanged and
	# PropertiesChanged both
	[ "$(jq -s 'map(select(.path == "/Count" and .value == 42)) | length' "$w")" -eq 1 ]
}

@test "dbus-watch: --get and --set" {
	start_dbus
	start_service
	run_split dbus-watch --get "$SVC" /Serial
	[ "$status" -eq 0 ]
	jq -e '.path == "/Serial" and .value == "HQ2024"' "$BATS_TEST_TMPDIR/out" >/dev/null
	run_split dbus-watch --set "$SVC" /Count 5
	[ "$status" -eq 0 ]
	jq -e '.result == 0' "$BATS_TEST_TMPDIR/out" >/dev/null
	run_split dbus-watch --get --text "$SVC" /Count
	jq -e '.value == 5 and .text == "5"' "$BATS_TEST_TMPDIR/out" >/dev/null
	run_split dbus-watch --set "$SVC" /Ac/Power 1.5
	[ "$status" -eq 3 ]
	jq -e '.result == 1' "$BATS_TEST_TMPDIR/out" >/dev/null
	run_split dbus-watch --set "$SVC" /Count '{"a":1}'
	[ "$status" -eq 2 ]
	# as --check: no such path 5, no such service 4, each said plainly
	run_split dbus-watch --get "$SVC" /No/Such/Path
	[ "$status" -eq 5 ]
	grep -q "$SVC /No/Such/Path: no such path" "$BATS_TEST_TMPDIR/err"
	run_split dbus-watch --get com.victronenergy.nobody /x
	[ "$status" -eq 4 ]
	grep -q "no service com.victronenergy.nobody on the bus" "$BATS_TEST_TMPDIR/err"
	run_split dbus-watch --set com.victronenergy.nobody /x 1
	[ "$status" -eq 4 ]
	run_split dbus-watch --set "$SVC" /No/Such/Path 1
	[ "$status" -eq 5 ]
	# an invalid value: null, and 5
	run_split dbus-watch --get "$SVC" /Dc/0/Voltage
	[ "$status" -eq 5 ]
	jq -e '.value == null' "$BATS_TEST_TMPDIR/out" >/dev/null
}

@test "dbus-watch: keeps up with a flood, no update lost" {
	start_dbus
	dbus-watch "$SVC" /Count >"$BATS_TEST_TMPDIR/flood.jsonl" &
	watcher=$!
	echo $watcher >>"$BATS_TEST_TMPDIR/pids"
	sleep 0.3
	start_service --mode rootvalue --flood 20000 --ready "$BATS_TEST_TMPDIR/done" --delay 0.5
	for i in $(seq 1 200); do [ -s "$BATS_TEST_TMPDIR/done" ] && break; sleep 0.1; done
	for i in $(seq 1 100); do
		[ "$(grep -c '"path":"/Count"' "$BATS_TEST_TMPDIR/flood.jsonl")" -ge 20001 ] && break
		sleep 0.1
	done
	kill $watcher
	# the first value, then each of the 20000 changes in order
	jq -s -e 'map(select(.path == "/Count") | .value) | .[1:] == [range(1; 20001)]' "$BATS_TEST_TMPDIR/flood.jsonl" >/dev/null
}

@test "dbus-watch: a peer's fds, deep nesting and odd keys: never a crash, always a message" {
	start_dbus
	start_service --hostile --mode rootvalue --flood 40 --ready "$BATS_TEST_TMPDIR/ready"
	run_split dbus-watch --once "$SVC"
	[ "$status" -eq 0 ]
	local out=$BATS_TEST_TMPDIR/out
	assert_jsonl "$out" dbus-watch
	assert_values "$out"
	jq -s -e 'map(select(.path)) | map({(.path): .value}) | add |
		.["/Fd"] == null and
		.["/Keys/Int"] == {"-1": "minus one", "7": "seven"} and
		.["/Keys/Byte"] == {"200": "b"} and .["/Keys/Path"] == {"/a/b": "p"} and
		.["/Keys/Double"] == {"0.1": "d"} and .["/Keys/Bool"] == {"true": "t"} and
		.["/U64"] == 18446744073709551615 and
		.["/I64"] == -9223372036854775808 and
		(.["/Deep"] | tostring | test("^\\[{31}\"<nested too deep>\"\\]{31}$"))' "$out" >/dev/null
	grep -q "/Fd: a unix fd has no JSON form; shown as null" "$BATS_TEST_TMPDIR/err"
	grep -q "/Deep: nested deeper than 31 levels; cut at \"<nested too deep>\"" "$BATS_TEST_TMPDIR/err"
	# what gxkit wrote, gxkit reads back (uint64 past int64 as a double)
	grep -q '"/U64","value":1.8446744073709552e+19' "$out"
	cp "$out" "$BATS_TEST_TMPDIR/hostile.jsonl"
	run_split leak-classify --json -f value "$BATS_TEST_TMPDIR/hostile.jsonl"
	jq -e '.malformed == 0 and .samples > 0' "$BATS_TEST_TMPDIR/out" >/dev/null
	# live: every flood signal carries the fd; none is kept open
	dbus-watch "$SVC" /Fd /Count >"$BATS_TEST_TMPDIR/live" 2>"$BATS_TEST_TMPDIR/live.err" &
	local pid=$!
	echo $pid >>"$BATS_TEST_TMPDIR/pids"
	# once it shows the first values, a flood of its own (the one at start
	# may be over before an emulated dbus-watch subscribes)
	for i in $(seq 1 200); do
		grep -q '"/Count"' "$BATS_TEST_TMPDIR/live" && break
		sleep 0.05
	done
	rm -f "$BATS_TEST_TMPDIR/ready"
	kill -USR1 $SERVICE_PID
	for i in $(seq 1 200); do
		[ -s "$BATS_TEST_TMPDIR/ready" ] &&
			[ "$(grep -c '"/Count"' "$BATS_TEST_TMPDIR/live")" -ge 40 ] && break
		sleep 0.05
	done
	sleep 0.3 # the flood's fds, each closed once its signal is shown
	kill -0 $pid
	[ "$(ls /proc/$pid/fd | wc -l)" -lt 10 ]
	kill $pid
	wait $pid || true
	[ "$(jq -s 'map(select(.path == "/Count")) | length' "$BATS_TEST_TMPDIR/live")" -ge 40 ]
	# reported the first times only
	[ "$(wc -l <"$BATS_TEST_TMPDIR/live.err")" -le 11 ]
	run_split "${VALGRIND[@]}" dbus-watch --once "$SVC"
	[ "$status" -eq 0 ]
}

@test "dbus-watch: a reader that leaves ends it at once, without a change to write" {
	start_dbus
	start_service
	run timeout 10 bash -c "dbus-watch '$SVC' | head -n1"
	[ "$status" -eq 0 ]
	[[ $output == *'"service":"com.victronenergy.battery.test_1"'* ]]
	run bash -c "dbus-watch --once '$SVC' >/dev/full"
	[ "$status" -eq 1 ]
	[ "$output" = "dbus-watch: write error: No space left on device" ]
}

@test "dbus-watch: the bus going away is an error" {
	start_dbus
	dbus-watch '*' >/dev/null 2>"$BATS_TEST_TMPDIR/err" &
	watcher=$!
	sleep 0.3
	kill $DBUS_PID
	wait $watcher || rc=$?
	[ "$rc" -eq 1 ]
	grep -q "lost the connection" "$BATS_TEST_TMPDIR/err"
}

@test "dbus-watch: valgrind-clean watching, getting and setting" {
	start_dbus
	start_service
	run_split "${VALGRIND[@]}" dbus-watch --once --text "$SVC"
	[ "$status" -eq 0 ]
	run_split "${VALGRIND[@]}" dbus-watch --set "$SVC" /Count 9
	[ "$status" -eq 0 ]
	"${VALGRIND[@]}" dbus-watch "$SVC" >"$BATS_TEST_TMPDIR/w.jsonl" 2>"$BATS_TEST_TMPDIR/vg.txt" &
	watcher=$!
	sleep 2
	dbus-send --print-reply --dest=$SVC /Count com.victronenergy.BusItem.SetValue variant:int32:3 >/dev/null
	sleep 0.5
	kill -TERM $watcher
	wait $watcher || true
	! grep -q "definitely lost\|indirectly lost\|Invalid" "$BATS_TEST_TMPDIR/vg.txt"
	grep -q '"value":3' "$BATS_TEST_TMPDIR/w.jsonl"
}

@test "dbus-watch: bash completion offers options and services on the bus" {
	run complete_words dbus-watch --on
	[ "$output" = --once ]
	run complete_words dbus-watch --ch
	[ "$output" = --check ]
	run complete_words dbus-watch --check --fresh 3
	[ "$output" = 30s ]
	start_dbus
	start_service
	run complete_words dbus-watch com.victronenergy.batt
	[ "$output" = "$SVC" ]
}

# ---- --check, against a driver's service as velib_python's vedbus.py makes it

VSVC=com.victronenergy.pvinverter.vedbus_20

start_vedbus() {
	start_bg /usr/bin/python3 "$ROOT/tests/peers/vedbus_service.py" $VSVC "$@"
	VEDBUS_PID=$BG_PID
	wait_name $VSVC
}

@test "dbus-watch: --check: each path's state, and the exit status of the worst" {
	start_dbus
	start_vedbus
	local out=$BATS_TEST_TMPDIR/out err=$BATS_TEST_TMPDIR/err
	run_split dbus-watch --check $VSVC /Ac/Power /Serial /Mgmt/Connection
	[ "$status" -eq 0 ]
	assert_jsonl "$out" dbus-watch
	[ "$(jq -s -c 'map([.path, .state])' "$out")" = \
		'[["/Ac/Power","ok"],["/Serial","ok"],["/Mgmt/Connection","ok"]]' ]
	jq -s -e '.[1].value == "GW1234" and .[2].value == "Modbus TCP"' "$out" >/dev/null
	[ ! -s "$err" ]
	# --text: a line per path, the value's own text last
	run_split dbus-watch --check --text $VSVC /Serial /Dc/0/Voltage /No/Such
	[ "$status" -eq 5 ]
	diff -u - "$out" <<-EOF
		$VSVC /Serial ok GW1234
		$VSVC /Dc/0/Voltage invalid ---
		$VSVC /No/Such absent
	EOF
	# invalid (an empty array) and absent: 5, null, the reason
	run_split dbus-watch --check $VSVC /Dc/0/Voltage /No/Such
	[ "$status" -eq 5 ]
	jq -s -e '.[0].state == "invalid" and .[0].value == null and
		.[1].state == "absent" and .[1].message == "no such path"' "$out" >/dev/null
	# no such service: 4, a record for each path
	run_split dbus-watch --check com.victronenergy.pvinverter.nobody /Ac/Power /Serial
	[ "$status" -eq 4 ]
	jq -s -e 'length == 2 and all(.state == "no_service")' "$out" >/dev/null
	# the bus out of reach: 1, said, no records
	DBUS_SESSION_BUS_ADDRESS=unix:path=$BATS_TEST_TMPDIR/no-bus \
		run_split dbus-watch --check $VSVC /Ac/Power
	[ "$status" -eq 1 ]
	[ ! -s "$out" ]
	grep -q "cannot connect to the bus" "$err"
}

@test "dbus-watch: --check --fresh: changes sent by ItemsChanged and by PropertiesChanged, stale, and which state wins" {
	start_dbus
	start_vedbus --tick 0.1
	local out=$BATS_TEST_TMPDIR/out
	# /Ac/Power changes in a `with` block (ItemsChanged only), the energy
	# by assignment (PropertiesChanged only): both are fresh
	run_split dbus-watch --check --fresh 10s $VSVC /Ac/Power /Ac/Energy/Forward
	[ "$status" -eq 0 ]
	jq -s -e 'all(.state == "ok" and .changed)' "$out" >/dev/null
	# a value that never changes is stale: 6
	run_split dbus-watch --check --fresh 1s --text $VSVC /Ac/Power /Serial
	[ "$status" -eq 6 ]
	grep -q "^$VSVC /Serial stale GW1234$" "$out"
	grep -q "^$VSVC /Ac/Power ok " "$out"
	# absent (5) wins over stale (6)
	run_split dbus-watch --check --fresh 1s $VSVC /Serial /No/Such
	[ "$status" -eq 5 ]
	# no service (4) wins over everything else, and is told at once
	run_split dbus-watch --check --fresh 1h com.victronenergy.nobody /Serial
	[ "$status" -eq 4 ]
	# the driver stops updating: stale; then invalidates its power: 5
	kill -USR1 $VEDBUS_PID
	sleep 0.3
	run_split dbus-watch --check --fresh 1s $VSVC /Ac/Power
	[ "$status" -eq 6 ]
	jq -e '.state == "stale" and .changed == false and (.value | type == "number")' "$out" >/dev/null
	kill -USR2 $VEDBUS_PID
	sleep 0.3
	run_split dbus-watch --check $VSVC /Ac/Power
	[ "$status" -eq 5 ]
	jq -e '.state == "invalid"' "$out" >/dev/null
}

@test "dbus-watch: --check --fresh: a service that leaves while watched is no service" {
	start_dbus
	start_vedbus
	kill -USR1 $VEDBUS_PID
	dbus-watch --check --fresh 30s $VSVC /Serial >"$BATS_TEST_TMPDIR/check.jsonl" &
	local pid=$!
	echo $pid >>"$BATS_TEST_TMPDIR/pids"
	sleep 0.5
	kill $VEDBUS_PID
	local rc=0
	wait $pid || rc=$?
	[ "$rc" -eq 4 ]
	jq -e '.state == "no_service"' "$BATS_TEST_TMPDIR/check.jsonl" >/dev/null
}

@test "dbus-watch: --once on a glob that matches nothing exits 4" {
	start_dbus
	run_split dbus-watch --once 'com.victronenergy.battery.*'
	[ "$status" -eq 4 ]
	[ ! -s "$BATS_TEST_TMPDIR/out" ]
	grep -q "no service on the bus matches 'com.victronenergy.battery.\*'" "$BATS_TEST_TMPDIR/err"
}

@test "dbus-watch: --set takes a word as a string where the path holds one, numbers as numbers" {
	start_dbus
	start_vedbus
	local out=$BATS_TEST_TMPDIR/out
	run_split dbus-watch --set $VSVC /CustomName Roof
	[ "$status" -eq 0 ]
	jq -e '.result == 0' "$out" >/dev/null
	run_split dbus-watch --get $VSVC /CustomName
	jq -e '.value == "Roof"' "$out" >/dev/null
	# quoted JSON as before
	run_split dbus-watch --set $VSVC /CustomName '"Roof 2"'
	run_split dbus-watch --get $VSVC /CustomName
	jq -e '.value == "Roof 2"' "$out" >/dev/null
	# a number where a number is held; the driver's own refusal is 3
	run_split dbus-watch --set $VSVC /Position 1
	[ "$status" -eq 0 ]
	run_split dbus-watch --get $VSVC /Position
	jq -e '.value == 1' "$out" >/dev/null
	run_split dbus-watch --set $VSVC /Position 7
	[ "$status" -eq 3 ]
	jq -e '.result == 2' "$out" >/dev/null
	# a word where a number is held: a usage error that says why
	run_split dbus-watch --set $VSVC /Position Roof
	assert_usage_error
	grep -q "'Roof' is not a number or null, and /Position holds no string" "$BATS_TEST_TMPDIR/err"
}

@test "dbus-watch: valgrind-clean --check --fresh and --set of a word" {
	start_dbus
	start_vedbus --tick 0.1
	run_split "${VALGRIND[@]}" dbus-watch --check --fresh 5s $VSVC /Ac/Power /Ac/Energy/Forward /Serial /No/Such
	[ "$status" -eq 5 ]
	run_split "${VALGRIND[@]}" dbus-watch --check --text $VSVC /Ac/Power /Dc/0/Voltage
	[ "$status" -eq 5 ]
	run_split "${VALGRIND[@]}" dbus-watch --set $VSVC /CustomName Roof
	[ "$status" -eq 0 ]
}

@test "dbus-watch: a vedbus.py driver's changes, whichever of its two signals carries them" {
	start_dbus
	start_vedbus --tick 0.1
	dbus-watch $VSVC '/Ac/*' >"$BATS_TEST_TMPDIR/w.jsonl" &
	local pid=$!
	echo $pid >>"$BATS_TEST_TMPDIR/pids"
	local i
	for i in $(seq 1 100); do
		[ "$(grep -c Energy "$BATS_TEST_TMPDIR/w.jsonl")" -ge 5 ] && break
		sleep 0.1
	done
	kill $pid
	# ItemsChanged alone carries the power, PropertiesChanged alone the
	# energy: each seen again and again, every value once
	jq -s -e '(map(select(.path == "/Ac/Power")) | length >= 5) and
		(map(select(.path == "/Ac/Energy/Forward")) | length >= 5) and
		(group_by(.path) | all(map(.value) | length == (unique | length)))' \
		"$BATS_TEST_TMPDIR/w.jsonl" >/dev/null
}
