#!/usr/bin/env bats
# gw-publish on a private dbus-daemon, checked by an independent python3-dbus
# client, dbus-send and gdbus; the settings service is tests/peers/
# settings_fake.py, held to the answers of Victron's real localsettings.

load helpers

teardown() {
	exec 5>&- 2>/dev/null || true
	stop_all
}

NAME=com.victronenergy.pvinverter.growatt_1
SET=com.victronenergy.settings
BASE=/Settings/Devices/growatt_SIM0000001

record() { # record POWER [OK] [UNIT]: a gw-read record of a Growatt
	local unit=${3:-1}
	printf '{"ts":%s,"src":"gw-read","bus":"tcp:127.0.0.1:1502","unit":%s,"map":"growatt-v120","ok":%s,"latency_ms":1,"values":{"status":1,"ac_power":%s,"l1_voltage":230.4,"l1_current":12.8,"l1_power":%s,"energy_total":12345.6,"serial":"SIM%07d","fault_code":0,"l2_voltage":null}}\n' \
		"$(date +%s)" "$unit" "${2:-true}" "$1" "$1" "$unit"
}

# gw-publish reading from a FIFO written on fd 5; extra args go to
# gw-publish.  fd 5 opens read-write first (that never blocks), and the
# child does not inherit it, so closing fd 5 is gw-publish's EOF.  The
# service appears with the first good record, which this sends.
start_publisher_as() { # start_publisher_as SERVICE ARGS...
	local service=$1
	shift
	rm -f "$BATS_TEST_TMPDIR/in"
	mkfifo "$BATS_TEST_TMPDIR/in"
	exec 5<>"$BATS_TEST_TMPDIR/in"
	# the redirection on the & command itself: a background job's stdin
	# is /dev/null otherwise
	gw-publish -s "$service" -m growatt-v120 "$@" <"$BATS_TEST_TMPDIR/in" \
		5>&- 2>"$BATS_TEST_TMPDIR/pub.err" &
	PUB_PID=$!
	echo $PUB_PID >>"$BATS_TEST_TMPDIR/pids"
}

start_publisher() {
	start_publisher_as $NAME "$@"
	record 0 >&5
	wait_name $NAME
}

value() { # value PATH [SERVICE]: GetValue through dbus-send, one line
	dbus-send --print-reply --dest="${2:-$NAME}" "$1" com.victronenergy.BusItem.GetValue |
		tail -n +2 | tr -s ' \n' ' '
}

start_settings() {
	start_bg /usr/bin/python3 "$ROOT/tests/peers/settings_fake.py" \
		--log "$BATS_TEST_TMPDIR/settings.log" "$@"
	SETTINGS_PID=$BG_PID
	wait_name $SET
}

# settings_add PATH GVARIANT [MIN MAX]: AddSettings by gdbus, as another
# program on the GX would
settings_add() {
	local limits=""
	[ $# -gt 2 ] && limits=", 'min': <$3>, 'max': <$4>"
	gdbus call -e -d $SET -o / -m com.victronenergy.Settings.AddSettings \
		"[{'path': <'$1'>, 'default': <$2>$limits}]"
}

# wait_value PATH PATTERN [SERVICE]: until GetValue matches (2 s)
wait_value() {
	local i
	for i in $(seq 1 40); do
		[[ $(value "$1" "${3:-$NAME}") =~ $2 ]] && return 0
		sleep 0.05
	done
	echo "$1 is $(value "$1" "${3:-$NAME}"), not $2" >&2
	return 1
}

@test "gw-publish: --help and usage errors, bad names refused before libdbus sees them" {
	run gw-publish --help
	[ "$status" -eq 0 ]
	[[ $output == *"--stale-after"* ]]
	for args in "" "-s org.example.x" "-s com.victronenergy.pvinverter" \
		"-s com.victronenergy..x" "-s $NAME --signals all" \
		"-s $NAME --stale-after never" "-s $NAME --position 5" \
		"-s $NAME --system --session" "-s $NAME --instance -1" \
		"-s com.victronenergy.pvinverter.a{b}" "-s com.victronenergy.pvinverter.a}" \
		"-s com.victronenergy.pvinverter.{unit}" "-s com.victronenergy.{unit}.x" \
		"-s com.victronenergy.pvinverter.a-b.{x" "-s com.victronenergy.pvinverter.x." \
		"-s com.victronenergy.pvinverter.é"; do
		run_split gw-publish $args </dev/null
		assert_usage_error
	done
	run_split gw-publish -s 'com.victronenergy.pvinverter.a b' </dev/null
	assert_usage_error
	grep -q "not a valid D-Bus name" "$BATS_TEST_TMPDIR/err"
	run_split gw-publish -s 'com.victronenergy.pvinverter.a{b}' </dev/null
	grep -q "unknown placeholder" "$BATS_TEST_TMPDIR/err"
}

@test "gw-publish: settings fake answers as the real localsettings" {
	# tests/peers/localsettings-v1.76.jsonl is what Victron's localsettings
	# answered to the same probe: every error code, reply field, instance
	# allocation and signal must be the same
	start_dbus
	start_settings
	/usr/bin/python3 "$ROOT/tests/peers/settings_probe.py" >"$BATS_TEST_TMPDIR/fake.jsonl"
	diff <(jq -S -c . "$ROOT/tests/peers/localsettings-v1.76.jsonl") \
		<(jq -S -c . "$BATS_TEST_TMPDIR/fake.jsonl")
	[ "$(wc -l <"$BATS_TEST_TMPDIR/fake.jsonl")" -ge 60 ]
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
	# /Mgmt/Connection as Victron's Modbus drivers write it
	[[ $(value /Mgmt/Connection) == *'string "Modbus TCP 127.0.0.1:1"'* ]]
	exec 5>&-
	wait $PUB_PID
}

@test "gw-publish: /Mgmt/Connection of an RTU bus" {
	start_dbus
	start_publisher_as $NAME
	record 5 | sed 's|"bus":"[^"]*"|"bus":"rtu:/dev/ttyUSB0:9600"|' >&5
	wait_name $NAME
	[[ $(value /Mgmt/Connection) == *'string "Modbus RTU ttyUSB0:1"'* ]]
}

@test "gw-publish: the name appears with the first record, after every path exists" {
	start_dbus
	/usr/bin/python3 "$ROOT/tests/peers/busitem_client.py" $NAME first-sight \
		>"$BATS_TEST_TMPDIR/seen.json" 2>"$BATS_TEST_TMPDIR/ready" &
	client=$!
	echo $client >>"$BATS_TEST_TMPDIR/pids"
	for i in $(seq 1 100); do grep -q ready "$BATS_TEST_TMPDIR/ready" && break; sleep 0.05; done
	grep -q ready "$BATS_TEST_TMPDIR/ready" # its match rule is in force
	start_publisher_as $NAME
	# a failed poll first: nothing to publish yet, no name
	echo '{"ts":1,"src":"gw-read","unit":1,"ok":false,"error":"timeout","message":"x"}' >&5
	sleep 0.3
	run dbus-send --print-reply --dest=org.freedesktop.DBus / org.freedesktop.DBus.NameHasOwner string:$NAME
	[[ $output == *"boolean false"* ]]
	record 10 >&5
	wait $client
	cat "$BATS_TEST_TMPDIR/ready" "$BATS_TEST_TMPDIR/seen.json"
	for p in /DeviceInstance /Connected /Ac/Power /Ac/L3/Energy/Forward /Mgmt/ProcessName /Position /Serial; do
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

@test "gw-publish: settings as localsettings takes them: absolute paths, limits, instance" {
	start_dbus
	start_settings
	start_publisher --position 2 --custom-name roof
	# ident <vendor>_<serial>; every entry accepted (the fake refuses
	# relative paths with -9, as localsettings does)
	grep -q "AddSettings $BASE/ClassAndVrmInstance default=pvinverter:20 value=pvinverter:20" "$BATS_TEST_TMPDIR/settings.log"
	grep -q "AddSettings $BASE/Position default=2 value=2" "$BATS_TEST_TMPDIR/settings.log"
	grep -q "AddSettings $BASE/CustomName default=roof value=roof" "$BATS_TEST_TMPDIR/settings.log"
	! grep -q "error=" "$BATS_TEST_TMPDIR/settings.log"
	! grep -q "refused" "$BATS_TEST_TMPDIR/pub.err"
	[[ $(value /DeviceInstance) == *"int32 20"* ]]
	[[ $(value /Position) == *"int32 2"* ]]
	[[ $(value /CustomName) == *'"roof"'* ]]
	# /Position was registered with min 0 and max 2
	run gdbus call -e -d $SET -o / -m com.victronenergy.BusItem.GetItems
	[[ $output == *"'$BASE/Position': {'Value': <2>, 'Text': <'2'>, 'Max': <2>, 'Min': <0>, 'Default': <2>}"* ]]
	# a restart keeps what settings hold: the instance and a changed position
	dbus-send --print-reply --dest=$NAME /Position com.victronenergy.BusItem.SetValue variant:int32:1 | grep -q "int32 0"
	exec 5>&-
	wait $PUB_PID
	start_publisher
	[[ $(value /Position) == *"int32 1"* ]]
	[[ $(value /DeviceInstance) == *"int32 20"* ]]
}

@test "gw-publish: a refused setting is reported with its path and error name" {
	start_dbus
	start_settings
	# another program left /Position as text: localsettings refuses ours
	settings_add $BASE/Position "'front'"
	start_publisher --position 1
	grep -q "$NAME: settings refused $BASE/Position: TypeDiffer (-5)" "$BATS_TEST_TMPDIR/pub.err"
	# the rest was accepted, the local value serves, writes stay here
	[[ $(value /DeviceInstance) == *"int32 20"* ]]
	[[ $(value /Position) == *"int32 1"* ]]
	dbus-send --print-reply --dest=$NAME /Position com.victronenergy.BusItem.SetValue variant:int32:2 | grep -q "int32 0"
	[[ $(value $BASE/Position $SET) == *'"front"'* ]]
}

@test "gw-publish: an instance taken by another device: the next free one" {
	start_dbus
	start_settings
	settings_add /Settings/Devices/other_X1/ClassAndVrmInstance "'pvinverter:20'"
	settings_add /Settings/Devices/other_X2/ClassAndVrmInstance "'pvinverter:21'"
	start_publisher
	[[ $(value /DeviceInstance) == *"int32 22"* ]]
}

@test "gw-publish: writes go to settings, a refusal there is a refusal here" {
	start_dbus
	start_settings
	start_publisher
	dbus-send --print-reply --dest=$NAME /Position com.victronenergy.BusItem.SetValue variant:int32:1 | grep -q "int32 0"
	dbus-send --print-reply --dest=$NAME /CustomName com.victronenergy.BusItem.SetValue variant:string:roof | grep -q "int32 0"
	[[ $(value $BASE/Position $SET) == *"int32 1"* ]]
	[[ $(value $BASE/CustomName $SET) == *'"roof"'* ]]
	grep -q "SetValue $BASE/Position 1 result=0" "$BATS_TEST_TMPDIR/settings.log"
	# out of 0..2: refused here, never sent
	dbus-send --print-reply --dest=$NAME /Position com.victronenergy.BusItem.SetValue variant:int32:3 | grep -q "int32 2"
	! grep -q "SetValue $BASE/Position 3" "$BATS_TEST_TMPDIR/settings.log"
	# another program narrows the limits: settings refuses 2, so do we
	settings_add $BASE/Position 0 0 1
	dbus-send --print-reply --dest=$NAME /Position com.victronenergy.BusItem.SetValue variant:int32:2 | grep -q "int32 2"
	grep -q "SetValue $BASE/Position 2 result=-1" "$BATS_TEST_TMPDIR/settings.log"
	[[ $(value /Position) == *"int32 1"* ]]
	grep -q "refused by $SET" "$BATS_TEST_TMPDIR/pub.err"
}

@test "gw-publish: changes made in settings are followed live" {
	start_dbus
	start_settings
	start_publisher
	dbus-send --print-reply --dest=$SET $BASE/Position com.victronenergy.BusItem.SetValue variant:int32:2 | grep -q "int32 0"
	wait_value /Position "int32 2"
	dbus-send --print-reply --dest=$SET $BASE/CustomName com.victronenergy.BusItem.SetValue variant:string:garage | grep -q "int32 0"
	wait_value /CustomName '"garage"'
	dbus-send --print-reply --dest=$SET $BASE/ClassAndVrmInstance com.victronenergy.BusItem.SetValue variant:string:pvinverter:33 | grep -q "int32 0"
	wait_value /DeviceInstance "int32 33"
	# and a watcher sees the change as a signal of ours
	dbus-watch $NAME /Position >"$BATS_TEST_TMPDIR/watch.jsonl" &
	echo $! >>"$BATS_TEST_TMPDIR/pids"
	sleep 0.5
	dbus-send --print-reply --dest=$SET $BASE/Position com.victronenergy.BusItem.SetValue variant:int32:0 >/dev/null
	sleep 0.4
	jq -s -e 'map(.value) | . == [2, 0]' "$BATS_TEST_TMPDIR/watch.jsonl"
}

@test "gw-publish: a settings service that appears late is registered with then" {
	start_dbus
	start_publisher
	[[ $(value /DeviceInstance) == *"int32 20"* ]]
	grep -q "no $SET on the bus yet" "$BATS_TEST_TMPDIR/pub.err"
	# without settings, writes stay here
	dbus-send --print-reply --dest=$NAME /Position com.victronenergy.BusItem.SetValue variant:int32:1 | grep -q "int32 0"
	start_bg /usr/bin/python3 "$ROOT/tests/peers/settings_fake.py" --log "$BATS_TEST_TMPDIR/settings.log"
	SETTINGS_PID=$BG_PID
	wait_name $SET
	settings_add /Settings/Devices/other_X1/ClassAndVrmInstance "'pvinverter:20'"
	# the fake's name appears before gdbus can add: gw-publish may have
	# registered first, then the other device got 21; either way they differ
	for i in $(seq 1 40); do grep -q "appeared" "$BATS_TEST_TMPDIR/pub.err" && break; sleep 0.05; done
	grep -q "$SET appeared: $NAME registered as $BASE" "$BATS_TEST_TMPDIR/pub.err"
	grep -q "AddSettings $BASE/ClassAndVrmInstance" "$BATS_TEST_TMPDIR/settings.log"
	mine=$(value /DeviceInstance | awk '{ print $NF }')
	other=$(value /Settings/Devices/other_X1/ClassAndVrmInstance $SET | grep -o ':[0-9]*' | tr -d :)
	[[ $mine =~ ^2[01]$ && $other =~ ^2[01]$ && $mine != "$other" ]]
	# settings hold the position now (its default), and take writes
	dbus-send --print-reply --dest=$NAME /Position com.victronenergy.BusItem.SetValue variant:int32:2 | grep -q "int32 0"
	[[ $(value $BASE/Position $SET) == *"int32 2"* ]]
	# settings going away: gw-publish carries on, writes stay here
	kill $SETTINGS_PID
	for i in $(seq 1 40); do grep -q "went away" "$BATS_TEST_TMPDIR/pub.err" && break; sleep 0.05; done
	grep -q "went away" "$BATS_TEST_TMPDIR/pub.err"
	dbus-send --print-reply --dest=$NAME /Position com.victronenergy.BusItem.SetValue variant:int32:0 | grep -q "int32 0"
	record 7 >&5
	wait_value /Ac/Power "7"
}

@test "gw-publish: two units from one gw-read, two services" {
	start_dbus
	start_settings
	start_gw_sim_tcp -m growatt-v120 -u 1,5 --time 12:00
	gw-read -b tcp:127.0.0.1:$PORT -u 1,5 -m growatt-v120 --gap 0 -i 200ms -n 10 |
		gw-publish -s 'com.victronenergy.pvinverter.growatt_{unit}' -m growatt-v120 \
			--stale-after 10s 2>"$BATS_TEST_TMPDIR/pub.err" &
	echo $! >>"$BATS_TEST_TMPDIR/pids"
	wait_name com.victronenergy.pvinverter.growatt_1
	wait_name com.victronenergy.pvinverter.growatt_5
	five=com.victronenergy.pvinverter.growatt_5
	[[ $(value /Serial) == *'"SIM0000001"'* ]]
	[[ $(value /Serial $five) == *'"SIM0000005"'* ]]
	[[ $(value /Mgmt/Connection $five) == *"Modbus TCP 127.0.0.1:5"* ]]
	i1=$(value /DeviceInstance)
	i5=$(value /DeviceInstance $five)
	[ "$i1" != "$i5" ]
	[[ "$i1 $i5" =~ int32\ 2[01].*int32\ 2[01] ]]
	grep -q "AddSettings /Settings/Devices/growatt_SIM0000001/ClassAndVrmInstance" "$BATS_TEST_TMPDIR/settings.log"
	grep -q "AddSettings /Settings/Devices/growatt_SIM0000005/ClassAndVrmInstance" "$BATS_TEST_TMPDIR/settings.log"
	wait_value /Ac/Power "double [1-9]"
	wait_value /Ac/Power "double [1-9]" $five
}

@test "gw-publish: an offline unit invalidates only its own service; {serial} names" {
	start_dbus
	start_publisher_as 'com.victronenergy.pvinverter.gw_{serial}' --stale-after 30s
	record 100 true 1 >&5
	record 500 true 5 >&5
	one=com.victronenergy.pvinverter.gw_SIM0000001
	five=com.victronenergy.pvinverter.gw_SIM0000005
	wait_name $one
	wait_name $five
	echo '{"ts":1,"src":"gw-read","unit":5,"ok":false,"error":"timeout","message":"x"}' >&5
	wait_value /Connected "int32 0" $five
	[[ $(value /Ac/Power $five) == *"array"* ]]
	[[ $(value /Connected $one) == *"int32 1"* ]]
	[[ $(value /Ac/Power $one) == *"100"* ]]
	# without settings each gets its own instance from --instance on
	[ "$(value /DeviceInstance $one)" != "$(value /DeviceInstance $five)" ]
	record 510 true 5 >&5
	wait_value /Ac/Power "510" $five
}

@test "gw-publish: a plain name fed two units is an error, never a flipping service" {
	start_dbus
	{ record 100 true 1; record 500 true 5; sleep 1; } |
		gw-publish -s $NAME -m growatt-v120 2>"$BATS_TEST_TMPDIR/err" || rc=$?
	[ "$rc" -eq 1 ]
	grep -q "units 1 and 5" "$BATS_TEST_TMPDIR/err"
	grep -q "{unit}" "$BATS_TEST_TMPDIR/err"
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
	grep -q -- "-:3:" "$BATS_TEST_TMPDIR/pub.err"
	grep -q -- "-:4: /Ac/Power: value of the wrong type refused" "$BATS_TEST_TMPDIR/pub.err"
	grep -q -- "-:4: /Serial: value of the wrong type refused" "$BATS_TEST_TMPDIR/pub.err"
	grep -q -- "-:5:" "$BATS_TEST_TMPDIR/pub.err"
}

@test "gw-publish: \"/\" keys that are no object path are skipped, once said, the rest published" {
	start_dbus
	start_publisher
	for i in 1 2; do
		printf '{"ts":1,"unit":1,"values":{"/Ac/L1-Power":1,"/a b":2,"/a/":3,"/\xc3\xa9":4,"//x":5,"/Good/One":%d,"ac_power":%d}}\n' $i $((i * 100)) >&5
	done
	wait_value /Good/One "int32 2"
	wait_value /Ac/Power "(int32|double) 200"
	kill -0 $PUB_PID # no assertion of libdbus fired
	for k in /Ac/L1-Power "/a b" /a/ /é //x; do
		[ "$(grep -c -- "-:[23]: '$k' is not a valid D-Bus object path" "$BATS_TEST_TMPDIR/pub.err")" -eq 1 ]
	done
	run value /Good/One
	[[ $output == *"int32 2"* ]]
	exec 5>&-
	wait $PUB_PID
	run_split "${VALGRIND[@]}" gw-publish -s com.victronenergy.pvinverter.vg_1 \
		--max-paths 64 < <(printf '{"ts":1,"unit":1,"values":{"/a b":1,"/X/a%d":2}}\n' $(seq 1 70))
	[ "$status" -eq 0 ]
}

@test "gw-publish: --max-paths bounds the \"/\" keys, found in constant time" {
	start_dbus
	start_publisher --max-paths 100000 --max-line 8M
	# 50,000 distinct keys in one record: a linear lookup took minutes
	/usr/bin/python3 -c '
import json
print(json.dumps({"ts": 1, "unit": 1, "values": {"/K/k%d" % i: i for i in range(50000)}}))' >&5
	record 7 >&5
	wait_value /Ac/Power "(int32|double) 7" # 2 s after the big record
	[[ $(value /K/k49999) == *"int32 49999"* ]]
	exec 5>&-
	wait $PUB_PID
	start_publisher_as $NAME --max-paths 64
	record 1 >&5
	wait_name $NAME
	printf '{"ts":1,"unit":1,"values":{"/X/a%d":1}}\n' $(seq 1 80) >&5
	record 2 >&5
	wait_value /Ac/Power "(int32|double) 2"
	[ "$(grep -c "(--max-paths); new keys are skipped" "$BATS_TEST_TMPDIR/pub.err")" -eq 1 ]
	run dbus-send --print-reply --dest=$NAME /X/a80 com.victronenergy.BusItem.GetValue
	[ "$status" -ne 0 ]
	run_split gw-publish -s $NAME --max-paths 10
	assert_usage_error
	run_split gw-publish -s $NAME --max-line 12Q
	assert_usage_error
}

# the tool's own memory: under qemu or a sanitizer that is not its own
# bats test_tags=own-memory
@test "gw-publish: a line past --max-line is skipped by number and its memory given back" {
	start_dbus
	start_publisher
	# 10 MB in one line, then a good record
	/usr/bin/python3 -c 'print("{\"ts\":1,\"unit\":1,\"values\":{\"/Pad\":\"" + "x" * 10000000 + "\"}}")' >&5
	record 42 >&5
	wait_value /Ac/Power "(int32|double) 42"
	grep -q -- "-:2: line longer than 1048576 bytes, skipped" "$BATS_TEST_TMPDIR/pub.err"
	rss=$(rss_kb $PUB_PID)
	[ "$rss" -lt 8000 ] # KiB: 13.9 MB stayed before the bound
	run dbus-send --print-reply --dest=$NAME /Pad com.victronenergy.BusItem.GetValue
	[ "$status" -ne 0 ]
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
	run_split gw-publish -s $NAME < <(record 1)
	[ "$status" -eq 1 ]
	grep -q "is taken" "$BATS_TEST_TMPDIR/err"
}

@test "gw-publish: valgrind-clean while serving, signalling and writing to settings" {
	start_dbus
	start_settings
	mkfifo "$BATS_TEST_TMPDIR/in"
	exec 5<>"$BATS_TEST_TMPDIR/in"
	"${VALGRIND[@]}" gw-publish -s 'com.victronenergy.pvinverter.growatt_{unit}' \
		-m growatt-v120 --stale-after 300ms \
		<"$BATS_TEST_TMPDIR/in" 5>&- 2>"$BATS_TEST_TMPDIR/vg.txt" &
	pub=$!
	for p in 1 2 3; do record $p true 1 >&5; record $p true 5 >&5; done
	wait_name $NAME
	wait_name com.victronenergy.pvinverter.growatt_5
	echo garbage >&5
	sleep 0.5
	/usr/bin/python3 "$ROOT/tests/peers/busitem_client.py" $NAME check >/dev/null
	dbus-send --print-reply --dest=$SET $BASE/Position com.victronenergy.BusItem.SetValue variant:int32:2 >/dev/null
	# a write whose answer is still pending when the input ends
	dbus-send --dest=$NAME /CustomName com.victronenergy.BusItem.SetValue variant:string:x
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

@test "gw-publish: /Ac/PowerLimit reaches gw-sim through gw-read --commands; /Ac/Power follows" {
	start_dbus
	start_gw_sim_tcp -m growatt-v120 --time 12:00 -u 1
	mkfifo "$BATS_TEST_TMPDIR/cmd"
	local F=$BATS_TEST_TMPDIR/cmd
	gw-read -b tcp:127.0.0.1:$PORT -m growatt-v120 --gap 0 -i 200ms --commands "$F" \
		2>"$BATS_TEST_TMPDIR/read.err" |
		tee "$BATS_TEST_TMPDIR/read.jsonl" |
		gw-publish -s $NAME -m growatt-v120 --commands "$F" --max-power 5000 \
			--min-write-interval 1s -v 2>"$BATS_TEST_TMPDIR/pub.err" &
	echo $! >>"$BATS_TEST_TMPDIR/pids"
	wait_name $NAME
	wait_value /Ac/MaxPower "double 5000"
	wait_value /Ac/PowerLimit "double 5000" # the inverter's 100 %
	full=$(value /Ac/Power | awk '{print $NF}')
	run dbus-send --print-reply --dest=$NAME /Ac/PowerLimit com.victronenergy.BusItem.SetValue variant:double:2000
	[[ $output == *"int32 0"* ]]
	wait_value /Ac/PowerLimit "double 2000"
	for i in $(seq 1 40); do # gw-read wrote it, and polled once more
		[ "$(jq -s 'map(select(.event == "write")) | length' "$BATS_TEST_TMPDIR/read.jsonl")" -ge 1 ] && break
		sleep 0.05
	done
	sleep 0.6
	now=$(value /Ac/Power | awk '{print $NF}')
	awk -v f="$full" -v n="$now" 'BEGIN { exit !(n / f > 0.35 && n / f < 0.45) }'
	# text is refused; more than the inverter has is bounded to 100 %, as
	# dbus-fronius does (hub4control asks for more when it lifts a limit)
	run dbus-send --print-reply --dest=$NAME /Ac/PowerLimit com.victronenergy.BusItem.SetValue variant:string:lots
	[[ $output != *"int32 0"* ]]
	sleep 1.1 # since 40 % went out
	run dbus-send --print-reply --dest=$NAME /Ac/PowerLimit com.victronenergy.BusItem.SetValue variant:double:9000
	[[ $output == *"int32 0"* ]]
	wait_value /Ac/PowerLimit "double 5000"
	# Venus writing every 100 ms: the same value again is not written, and
	# changes go out at most once a second, the latest one last
	sleep 1.1 # since 100 % went out
	for w in 2000 2000 1000 1500 2500; do
		dbus-send --print-reply --dest=$NAME /Ac/PowerLimit com.victronenergy.BusItem.SetValue variant:int32:$w >/dev/null
		sleep 0.1
	done
	wait_value /Ac/PowerLimit "double 2500"
	jq -c 'select(.event == "write") | .value' "$BATS_TEST_TMPDIR/read.jsonl" >"$BATS_TEST_TMPDIR/written"
	[ "$(tr '\n' ' ' <"$BATS_TEST_TMPDIR/written")" = "40 100 40 50 " ]
	jq -s -e 'map(select(.event == "write")) | all(.ok and .read_back == .value)' "$BATS_TEST_TMPDIR/read.jsonl" >/dev/null
}

@test "gw-publish: no --commands, no writes: /Ac/PowerLimit is not there; usage errors" {
	start_dbus
	start_publisher
	# no such item: SetValue's result is not 0 (1, as velib_python)
	run dbus-send --print-reply --dest=$NAME /Ac/PowerLimit com.victronenergy.BusItem.SetValue variant:double:2000
	[[ $output != *"int32 0"* ]]
	run dbus-send --print-reply --dest=$NAME / com.victronenergy.BusItem.GetItems
	[[ $output == *"/Ac/Power"* && $output != *"/Ac/PowerLimit"* ]]
	for args in "--commands /tmp/x" "--commands /tmp/x --max-power -5" \
		"--commands /tmp/x --max-power 5000 --min-write-interval soon"; do
		run_split gw-publish -s $NAME $args
		assert_usage_error
	done
	# a FIFO that is not there: said, and the path stays away
	exec 5>&-
	wait $PUB_PID
	start_publisher --commands "$BATS_TEST_TMPDIR/none" --max-power 5000
	grep -q "none: /Ac/PowerLimit stays read-only: No such file or directory" "$BATS_TEST_TMPDIR/pub.err"
	run dbus-send --print-reply --dest=$NAME / com.victronenergy.BusItem.GetItems
	[[ $output == *"/Ac/Power"* && $output != *"/Ac/PowerLimit"* ]]
	run_split gw-read -b tcp:127.0.0.1:1 -m growatt-v120 --commands /tmp/x
	assert_usage_error
}

@test "gw-publish: /Ac/MaxPower from the map's rated power, kept while the inverter sleeps" {
	start_dbus
	start_gw_sim_tcp -m growatt-v120 --time 12:00 -u 1 --peak 4000 --offline-after 3s --offline-for 2s
	local F=$BATS_TEST_TMPDIR/cmd
	mkfifo "$F"
	gw-read -b tcp:127.0.0.1:$PORT -m growatt-v120 --gap 0 -i 200ms --timeout 100ms --commands "$F" \
		2>/dev/null | tee "$BATS_TEST_TMPDIR/read.jsonl" |
		gw-publish -s $NAME -m growatt-v120 --commands "$F" --stale-after 5s \
			2>"$BATS_TEST_TMPDIR/pub.err" &
	echo $! >>"$BATS_TEST_TMPDIR/pids"
	wait_name $NAME
	wait_value /Ac/MaxPower "double 4000"
	wait_value /Ac/PowerLimit "double 4000"
	run dbus-send --print-reply --dest=$NAME /Ac/PowerLimit com.victronenergy.BusItem.SetValue variant:double:1000
	[[ $output == *"int32 0"* ]]
	wait_value /Ac/PowerLimit "double 1000"
	jq -e -s 'map(select(.event == "write")) | .[0] | .value == 25 and .ok' "$BATS_TEST_TMPDIR/read.jsonl" >/dev/null
	for i in $(seq 1 100); do # asleep within 5 s: measured paths invalid
		[[ $(value /Connected) == *"int32 0"* ]] && break
		sleep 0.1
	done
	[[ $(value /Connected) == *"int32 0"* ]]
	[[ $(value /Ac/Power) != *double* ]]
	run dbus-send --print-reply --dest=$NAME /Ac/MaxPower com.victronenergy.BusItem.GetValue
	[[ $output == *"double 4000"* ]]
	# without a rated power anywhere, --commands is a usage error
	grep -v '^rated_power,' "$ROOT/lib/maps/growatt-v120.csv" >"$BATS_TEST_TMPDIR/map.csv"
	run_split gw-publish -s $NAME -m "$BATS_TEST_TMPDIR/map.csv" --commands "$F"
	assert_usage_error
	grep -q -- "--max-power W, or a map with an /Ac/MaxPower register" "$BATS_TEST_TMPDIR/err"
}

@test "gw-publish: a writable map register with a dbus_path is a writable path, limits kept" {
	start_dbus
	# the Growatt map with the rate on a D-Bus path of its own
	sed 's|^active_power_rate,holding,3,u16,1,%,,|active_power_rate,holding,3,u16,1,%,/Control/Rate,|' \
		"$ROOT/lib/maps/growatt-v120.csv" >"$BATS_TEST_TMPDIR/map.csv"
	local M=$BATS_TEST_TMPDIR/map.csv F=$BATS_TEST_TMPDIR/cmd
	start_gw_sim_tcp -m "$M" --time 12:00 -u 1
	mkfifo "$F"
	gw-read -b tcp:127.0.0.1:$PORT -m "$M" --gap 0 -i 200ms --commands "$F" |
		gw-publish -s $NAME -m "$M" --commands "$F" --max-power 5000 \
			2>"$BATS_TEST_TMPDIR/pub.err" &
	echo $! >>"$BATS_TEST_TMPDIR/pids"
	wait_name $NAME
	wait_value /Control/Rate "int32 100|double 100"
	run dbus-send --print-reply --dest=$NAME /Control/Rate com.victronenergy.BusItem.SetValue variant:int32:70
	[[ $output == *"int32 0"* ]]
	wait_value /Control/Rate "int32 70|double 70"
	wait_value /Ac/PowerLimit "double 3500" # the same register, in W
	run dbus-send --print-reply --dest=$NAME /Control/Rate com.victronenergy.BusItem.SetValue variant:int32:170
	[[ $output == *"int32 2"* ]]
}
