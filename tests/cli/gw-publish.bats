#!/usr/bin/env bats
# gw-publish on a private dbus-daemon, checked by an independent python3-dbus
# client, dbus-send and gdbus.

load helpers

teardown() {
	exec 5>&- 2>/dev/null || true
	stop_all
}

NAME=com.victronenergy.pvinverter.growatt_1

record() { # record POWER [OK]
	printf '{"ts":%s,"src":"gw-read","bus":"tcp:127.0.0.1:1502","unit":1,"map":"growatt-v120","ok":%s,"latency_ms":1,"values":{"status":1,"ac_power":%s,"l1_voltage":230.4,"l1_current":12.8,"l1_power":%s,"energy_total":12345.6,"serial":"SIM0000001","fault_code":0,"l2_voltage":null}}\n' \
		"$(date +%s)" "${2:-true}" "$1" "$1"
}

# gw-publish reading from a FIFO written on fd 5; extra args go to
# gw-publish.  fd 5 opens read-write first (that never blocks), and the
# child does not inherit it, so closing fd 5 is gw-publish's EOF.
start_publisher() {
	rm -f "$BATS_TEST_TMPDIR/in"
	mkfifo "$BATS_TEST_TMPDIR/in"
	exec 5<>"$BATS_TEST_TMPDIR/in"
	# the redirection on the & command itself: a background job's stdin
	# is /dev/null otherwise
	gw-publish -s $NAME -m growatt-v120 "$@" <"$BATS_TEST_TMPDIR/in" \
		5>&- 2>"$BATS_TEST_TMPDIR/pub.err" &
	PUB_PID=$!
	echo $PUB_PID >>"$BATS_TEST_TMPDIR/pids"
	wait_name $NAME
}

value() { # value PATH: GetValue through dbus-send, last line
	dbus-send --print-reply --dest=$NAME "$1" com.victronenergy.BusItem.GetValue | tail -n +2 | tr -s ' \n' ' '
}

@test "gw-publish: --help and usage errors" {
	run gw-publish --help
	[ "$status" -eq 0 ]
	[[ $output == *"--stale-after"* ]]
	for args in "" "-s org.example.x" "-s com.victronenergy.pvinverter" \
		"-s com.victronenergy..x" "-s $NAME --signals all" \
		"-s $NAME --stale-after never" "-s $NAME --position 5" \
		"-s $NAME --system --session" "-s $NAME --instance -1"; do
		run_split gw-publish $args </dev/null
		assert_usage_error
	done
}

@test "gw-publish: the Venus protocol, as an independent client sees it" {
	start_dbus
	start_publisher
	record 2935.5 >&5
	sleep 0.3
	run /usr/bin/python3 "$ROOT/tests/peers/busitem_client.py" $NAME check
	[ "$status" -eq 0 ]
	echo "$output" >"$BATS_TEST_TMPDIR/check.json"
	c=$BATS_TEST_TMPDIR/check.json
	for p in /Mgmt/ProcessName /Mgmt/ProcessVersion /Mgmt/Connection /DeviceInstance \
		/ProductId /ProductName /FirmwareVersion /HardwareVersion /Connected /Position \
		/Serial /CustomName /StatusCode /ErrorCode /Ac/Power /Ac/Energy/Forward \
		/Ac/L1/Voltage /Ac/L1/Current /Ac/L1/Power /Ac/L1/Energy/Forward \
		/Ac/L2/Voltage /Ac/L3/Power /Pv/0/V; do
		jq -e --arg p "$p" '.paths | index($p) != null' "$c" >/dev/null
	done
	jq -e '.leaf == 2935.5 and .leaf_kind == "Double" and .status_kind == "Int32" and
		.items_ac_power == 2935.5 and .items_text_keys == ["Text", "Value"] and
		.node.Voltage == 230.4 and .node.Current == 12.8 and
		(.root_keys | index("Ac/Power") != null) and (.root_keys | index("/Ac/Power") == null) and
		.text == "2935.5W" and .instance == 20 and .position == 0' "$c" >/dev/null
	jq -e '.set_position == 0 and .position_after == 1 and .set_position_rejected == 2 and
		.set_position_bad_type == 1 and .set_custom_name == 0 and .set_power == 1' "$c" >/dev/null
	jq -e '(.invalid_paths | index("/Ac/L2/Voltage") != null) and
		.invalid_kind == "Array:i" and .invalid_text == "---"' "$c" >/dev/null
	# dbus-send and gdbus agree
	[[ $(value /Ac/Power) == *"double 2935.5"* ]]
	run gdbus call -e -d $NAME -o /Serial -m com.victronenergy.BusItem.GetValue
	[[ $output == *"'SIM0000001'"* ]]
	run gdbus call -e -d $NAME -o /Ac/L2/Voltage -m com.victronenergy.BusItem.GetText
	[[ $output == *"'---'"* ]]
	exec 5>&-
	wait $PUB_PID
}

@test "gw-publish: the name appears only after every path exists" {
	start_dbus
	/usr/bin/python3 "$ROOT/tests/peers/busitem_client.py" $NAME first-sight \
		>"$BATS_TEST_TMPDIR/seen.json" 2>"$BATS_TEST_TMPDIR/ready" &
	client=$!
	echo $client >>"$BATS_TEST_TMPDIR/pids"
	for i in $(seq 1 100); do grep -q ready "$BATS_TEST_TMPDIR/ready" && break; sleep 0.05; done
	grep -q ready "$BATS_TEST_TMPDIR/ready" # its match rule is in force
	start_publisher
	wait $client
	cat "$BATS_TEST_TMPDIR/ready" "$BATS_TEST_TMPDIR/seen.json"
	for p in /DeviceInstance /Connected /Ac/Power /Ac/L3/Energy/Forward /Mgmt/ProcessName /Position; do
		jq -e --arg p "$p" '.paths | index($p) != null' "$BATS_TEST_TMPDIR/seen.json" >/dev/null
	done
}

@test "gw-publish: one ItemsChanged per record, PropertiesChanged per path, --signals" {
	start_dbus
	start_publisher
	/usr/bin/python3 "$ROOT/tests/peers/busitem_client.py" $NAME signals 1.5 \
		>"$BATS_TEST_TMPDIR/sig.json" 2>"$BATS_TEST_TMPDIR/ready" &
	client=$!
	for i in $(seq 1 100); do grep -q ready "$BATS_TEST_TMPDIR/ready" && break; sleep 0.05; done
	for p in 100 200 300; do record $p >&5; sleep 0.1; done
	wait $client
	jq -e '.items == 3 and .properties >= 6 and .last_power == 300 and
		(.items_paths | index("/Ac/Power") != null)' "$BATS_TEST_TMPDIR/sig.json" >/dev/null
	exec 5>&-
	stop_all
	start_dbus
	start_publisher --signals items
	/usr/bin/python3 "$ROOT/tests/peers/busitem_client.py" $NAME signals 1 \
		>"$BATS_TEST_TMPDIR/sig2.json" 2>"$BATS_TEST_TMPDIR/ready2" &
	client=$!
	for i in $(seq 1 100); do grep -q ready "$BATS_TEST_TMPDIR/ready2" && break; sleep 0.05; done
	record 50 >&5
	wait $client
	jq -e '.items == 1 and .properties == 0' "$BATS_TEST_TMPDIR/sig2.json" >/dev/null
}

@test "gw-publish: the device instance and settings from com.victronenergy.settings" {
	start_dbus
	start_bg /usr/bin/python3 "$ROOT/tests/peers/settings_fake.py" --instance 33 --log "$BATS_TEST_TMPDIR/settings.log"
	wait_name com.victronenergy.settings
	start_publisher --position 2
	[[ $(value /DeviceInstance) == *"int32 33"* ]]
	[[ $(value /Position) == *"int32 2"* ]]
	grep -q "AddSettings /Settings/Devices/gxkit_growatt_1/ClassAndVrmInstance default=pvinverter:20" "$BATS_TEST_TMPDIR/settings.log"
	dbus-send --print-reply --dest=$NAME /Position com.victronenergy.BusItem.SetValue variant:int32:1 | grep -q "int32 0"
	dbus-send --print-reply --dest=$NAME /CustomName com.victronenergy.BusItem.SetValue variant:string:roof | grep -q "int32 0"
	sleep 0.3
	grep -q "SetValue /Settings/Devices/gxkit_growatt_1/Position 1" "$BATS_TEST_TMPDIR/settings.log"
	grep -q "SetValue /Settings/Devices/gxkit_growatt_1/CustomName roof" "$BATS_TEST_TMPDIR/settings.log"
}

@test "gw-publish: no stale values: ok false and silence make paths invalid" {
	start_dbus
	start_publisher --stale-after 600ms
	record 300 >&5
	sleep 0.2
	[[ $(value /Ac/Power) =~ (int32|double)\ 300 ]]
	[[ $(value /Connected) == *"int32 1"* ]]
	sleep 0.8 # silence longer than --stale-after
	[[ $(value /Ac/Power) == *"array"* ]]
	[[ $(value /Connected) == *"int32 0"* ]]
	record 310 >&5
	sleep 0.2
	[[ $(value /Ac/Power) =~ (int32|double)\ 310 ]]
	echo '{"ts":1,"src":"gw-read","unit":1,"ok":false,"error":"timeout","message":"x"}' >&5
	sleep 0.2
	[[ $(value /Ac/Power) == *"array"* ]]
	[[ $(value /Connected) == *"int32 0"* ]]
	# the device name and instance are not measurements: they stay
	[[ $(value /ProductName) == *"string"* ]]
}

@test "gw-publish: bad records are skipped by line, wrong types refused" {
	start_dbus
	start_publisher
	record 300 >&5
	echo 'not json' >&5
	echo '{"ts":1,"values":{"ac_power":"lots","/Serial":5}}' >&5
	echo '[1,2]' >&5
	sleep 0.3
	[[ $(value /Ac/Power) =~ (int32|double)\ 300 ]]
	[[ $(value /Serial) == *"SIM0000001"* ]]
	grep -q -- "-:2:" "$BATS_TEST_TMPDIR/pub.err"
	grep -q -- "-:3: /Ac/Power: value of the wrong type refused" "$BATS_TEST_TMPDIR/pub.err"
	grep -q -- "-:3: /Serial: value of the wrong type refused" "$BATS_TEST_TMPDIR/pub.err"
	grep -q -- "-:4:" "$BATS_TEST_TMPDIR/pub.err"
}

@test "gw-publish: EOF releases the name and exits 0; a lost bus exits 1" {
	start_dbus
	start_publisher
	exec 5>&-
	wait $PUB_PID
	run dbus-send --print-reply --dest=org.freedesktop.DBus / org.freedesktop.DBus.NameHasOwner string:$NAME
	[[ $output == *"boolean false"* ]]
	start_publisher
	kill $DBUS_PID
	wait $PUB_PID || rc=$?
	[ "$rc" -eq 1 ]
	grep -q "lost the connection to the bus" "$BATS_TEST_TMPDIR/pub.err"
}

@test "gw-publish: a name already taken is an error" {
	start_dbus
	start_publisher
	run_split gw-publish -s $NAME </dev/null
	[ "$status" -eq 1 ]
	grep -q "is taken" "$BATS_TEST_TMPDIR/err"
}

@test "gw-publish: valgrind-clean while serving and signalling" {
	start_dbus
	mkfifo "$BATS_TEST_TMPDIR/in"
	exec 5<>"$BATS_TEST_TMPDIR/in"
	"${VALGRIND[@]}" gw-publish -s $NAME -m growatt-v120 --stale-after 300ms \
		<"$BATS_TEST_TMPDIR/in" 5>&- 2>"$BATS_TEST_TMPDIR/vg.txt" &
	pub=$!
	wait_name $NAME
	for p in 1 2 3; do record $p >&5; done
	echo garbage >&5
	sleep 0.5
	/usr/bin/python3 "$ROOT/tests/peers/busitem_client.py" $NAME check >/dev/null
	exec 5>&-
	wait $pub
	! grep -q "definitely lost\|indirectly lost\|Invalid" "$BATS_TEST_TMPDIR/vg.txt"
}

@test "gw-publish: the whole bridge: gw-sim, gw-read, gw-publish, dbus-watch" {
	start_dbus
	start_gw_sim_tcp -m growatt-v120 --time 12:00 --offline-after 1.5s --offline-for 1.5s
	dbus-watch 'com.victronenergy.pvinverter.*' /Ac/Power /Connected >"$BATS_TEST_TMPDIR/watch.jsonl" &
	watcher=$!
	echo $watcher >>"$BATS_TEST_TMPDIR/pids"
	sleep 0.3
	gw-read -b tcp:127.0.0.1:$PORT -m growatt-v120 --gap 0 -i 200ms -n 25 --timeout 100ms |
		gw-publish -s $NAME -m growatt-v120 --stale-after 5s
	sleep 0.3
	kill $watcher
	w=$BATS_TEST_TMPDIR/watch.jsonl
	# power while up, then null and /Connected 0 asleep, then power again
	jq -s -e 'map(select(.path == "/Ac/Power") | .value) | (map(select(. != null)) | length > 3) and index(null) != null' "$w" >/dev/null
	jq -s -e '[.[] | select(.path == "/Connected") | .value] | . as $c |
		index(0) != null and (.[index(0):] | index(1)) != null' "$w" >/dev/null
	jq -s -e 'map(select(.path == "/Ac/Power" and .value != null)) | last | .value > 2000' "$w" >/dev/null
}

@test "gw-publish: bash completion offers options and their values" {
	run complete_words gw-publish --sig
	[ "$output" = --signals ]
	run complete_words gw-publish --signals it
	[ "$output" = items ]
}
