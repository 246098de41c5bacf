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
		"--system --session x" "--timeout never x"; do
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
	run_split dbus-watch --get "$SVC" /No/Such/Path
	[ "$status" -eq 1 ]
	run_split dbus-watch --get com.victronenergy.nobody /x
	[ "$status" -eq 1 ]
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
	start_dbus
	start_service
	run complete_words dbus-watch com.victronenergy.batt
	[ "$output" = "$SVC" ]
}
