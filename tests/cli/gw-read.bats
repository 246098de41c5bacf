#!/usr/bin/env bats
# gw-read against pymodbus (TCP and RTU on a socat pty pair) and gw-sim.

load helpers

teardown() {
	stop_all
}

TYPES="$BATS_TEST_DIRNAME/../peers/types.csv"

assert_types() {
	jq -e '.ok == true and .map == "types" and .values ==
		{"plain":1234,"negative":-2,"big":74565,"little":74565,
		 "signed32":-100000,"float":230.5,"text":"ABC123",
		 "huge":1099511627781,"minus3":-3,"scaled":230.1,"absent":null,
		 "state":3,"signedle":-7,"answer":42} and .text.state == "fault"' "$1" >/dev/null
}

@test "gw-read: --help and usage errors" {
	run gw-read --help
	[ "$status" -eq 0 ]
	[[ $output == *"--backoff-after"* ]]
	for args in "" "-b tcp:127.0.0.1" "-b udp:x -m growatt-v120" \
		"-b rtu:/dev/null:fast -m growatt-v120" \
		"-b rtu:/dev/null -u 248 -m growatt-v120" \
		"-b tcp:127.0.0.1 -u 0 -m growatt-v120" \
		"-b tcp:127.0.0.1 -m growatt-v120 -r 5" \
		"-b tcp:127.0.0.1 -r 70000" "-b tcp:127.0.0.1 -r 1:u17" \
		"-b tcp:127.0.0.1 -r 1 --fc coil" \
		"-b tcp:127.0.0.1 -r 1 --format xml" \
		"-b tcp:127.0.0.1 -r 1 --timeout 0" \
		"-b tcp:127.0.0.1 -r 1 -i soon" "-b tcp:127.0.0.1 -r 1 stray"; do
		run_split gw-read $args
		assert_usage_error
	done
}

@test "gw-read: every type and word order against pymodbus over TCP" {
	start_pymodbus_tcp 1,5
	run_split gw-read -b tcp:127.0.0.1:$PORT -m "$TYPES" -u 1,5
	[ "$status" -eq 0 ]
	assert_jsonl "$BATS_TEST_TMPDIR/out" gw-read
	[ "$(wc -l <"$BATS_TEST_TMPDIR/out")" -eq 2 ]
	assert_types "$BATS_TEST_TMPDIR/out"
	jq -s -e 'map(.unit) == [1, 5]' "$BATS_TEST_TMPDIR/out" >/dev/null
}

@test "gw-read: every type and word order against pymodbus over RTU" {
	start_ptys
	start_bg /usr/bin/python3 "$ROOT/tests/peers/pymodbus_server.py" --rtu "$TTY_A" --units 1
	sleep 1.5
	run_split gw-read -b rtu:"$TTY_B":9600:8N1 -m "$TYPES" --timeout 1s
	[ "$status" -eq 0 ]
	assert_types "$BATS_TEST_TMPDIR/out"
}

@test "gw-read: -r reads registers without a map; mbpoll agrees" {
	start_pymodbus_tcp 1
	run_split gw-read -b tcp:127.0.0.1:$PORT -r 0 -r 0x2:u32 -r 23:u16:0.1 -r 10:str:5 -r 4:u32le
	[ "$status" -eq 0 ]
	jq -e '.map == "adhoc" and .values == {"0":1234,"0x2":74565,"23":230.1,"10":"ABC123","4":74565}' "$BATS_TEST_TMPDIR/out" >/dev/null
	run_split gw-read -b tcp:127.0.0.1:$PORT --fc holding -r 0 -r 1
	jq -e '.values == {"0":42,"1":1}' "$BATS_TEST_TMPDIR/out" >/dev/null
	# the reference client reads the same raw registers
	run mbpoll -m tcp -p "$PORT" -a 1 -t 3 -r 1 -c 2 -1 127.0.0.1
	[[ $output == *"[1]:"*"1234"* ]]
	[[ $output == *"[2]:"*"-2"* || $output == *"[2]:"*"65534"* ]]
}

@test "gw-read: --format csv writes a header and quoted rows" {
	start_pymodbus_tcp 1
	run_split gw-read -b tcp:127.0.0.1:$PORT -m "$TYPES" --format csv
	[ "$status" -eq 0 ]
	head -1 "$BATS_TEST_TMPDIR/out" | grep -q '^ts,bus,unit,ok,latency_ms,error,"plain","negative"'
	/usr/bin/python3 -c 'import csv, sys; rows = list(csv.DictReader(open(sys.argv[1]))); r = rows[0]; assert len(rows) == 1 and r["plain"] == "1234" and r["text"] == "ABC123" and r["scaled"] == "230.1" and r["absent"] == "" and r["ok"] == "true", r' "$BATS_TEST_TMPDIR/out"
}

@test "gw-read: map errors name file, line and column" {
	printf 'name,fc,address,type,scale,unit,dbus_path,description\na,input,0,u16,1,,,\nb,input,1,s33,1,,,\n' >"$BATS_TEST_TMPDIR/bad.csv"
	run_split gw-read -b tcp:127.0.0.1:1 -m "$BATS_TEST_TMPDIR/bad.csv"
	[ "$status" -eq 1 ]
	grep -q "bad.csv:3:4: unknown type 's33'" "$BATS_TEST_TMPDIR/err"
	[ ! -s "$BATS_TEST_TMPDIR/out" ]
	run_split gw-read -b tcp:127.0.0.1:1 -m no-such-map
	[ "$status" -eq 1 ]
	grep -q "no-such-map.csv: No such file" "$BATS_TEST_TMPDIR/err"
}

@test "gw-read: a missing device or peer is a failed sample, exit 1 once" {
	run_split gw-read -b rtu:/dev/gxkit-no-such-tty -m growatt-v120
	[ "$status" -eq 1 ]
	jq -e '.ok == false and .error == "closed"' "$BATS_TEST_TMPDIR/out" >/dev/null
	run_split gw-read -b tcp:127.0.0.1:$(free_port) -r 0
	[ "$status" -eq 1 ]
	jq -e '.ok == false and .error == "closed" and (.message | length > 0)' "$BATS_TEST_TMPDIR/out" >/dev/null
}

@test "gw-read: an inverter asleep: offline once, backoff, online again" {
	# asleep from 2 s to 4.5 s, then awake for 2 s: the last poll, ~5.2 s
	# in, falls a second inside the second awake period
	start_gw_sim_tcp -m growatt-v120 --time 12:00 --offline-after 2s --offline-for 2.5s
	run_split gw-read -b tcp:127.0.0.1:$PORT -m growatt-v120 --gap 0 -i 100ms -n 53 \
		--timeout 100ms --backoff-after 500ms --backoff 600ms
	[ "$status" -eq 0 ]
	out=$BATS_TEST_TMPDIR/out
	[ "$(jq -s 'map(select(.event == "offline")) | length' "$out")" -eq 1 ]
	[ "$(jq -s 'map(select(.event == "online")) | length' "$out")" -eq 1 ]
	# offline comes after >= 0.5 s of failure; online after the sleep
	jq -s -e 'map(select(.event == "offline"))[0].failing_s >= 0.5' "$out" >/dev/null
	jq -s -e 'map(select(.event == "online"))[0].offline_s >= 2' "$out" >/dev/null
	# in backoff, tries are about 600 ms apart, not every 100 ms
	jq -s -e '[.[] | select(.ok == false)] as $f |
		($f | map(.ts)) as $t |
		[range(1; $t | length) | $t[.] - $t[. - 1]] | max >= 0.55' "$out" >/dev/null
	[ "$(jq -s 'map(select(.event == "backoff")) | length' "$out")" -ge 1 ]
	tail -1 "$out" | jq -e '.ok == true' >/dev/null
}

@test "gw-read: reconnects when the serial link goes away and comes back" {
	start_ptys
	start_bg gw-sim -b rtu:"$TTY_A" -m growatt-v120 --time 12:00
	sleep 0.3
	gw-read -b rtu:"$TTY_B" -m growatt-v120 --gap 0 -i 150ms --timeout 100ms \
		--backoff-after 10s >"$BATS_TEST_TMPDIR/poll.jsonl" &
	reader=$!
	echo $reader >>"$BATS_TEST_TMPDIR/pids"
	sleep 0.8
	kill "$SOCAT_PID"
	sleep 0.8
	start_ptys
	start_bg gw-sim -b rtu:"$TTY_A" -m growatt-v120 --time 12:00
	sleep 1.5
	kill $reader
	wait $reader || true
	out=$BATS_TEST_TMPDIR/poll.jsonl
	# ok, then failures while unplugged, then ok again: same process
	jq -s -e 'map(.ok) | index(false) as $f | $f != null and
		(.[$f:] | index(true)) != null' "$out" >/dev/null
	jq -s -e 'map(select(.ok == false) | .error) | unique - ["closed", "timeout", "io"] == []' "$out" >/dev/null
}

@test "gw-read: valgrind over thousands of failed polls loses nothing" {
	start_gw_sim_tcp -m growatt-v120 --time 12:00 -u 1
	run_split "${VALGRIND[@]}" gw-read -b tcp:127.0.0.1:$PORT -m growatt-v120 -u 1,2 \
		--gap 0 -i 1ms -n 2000 --timeout 2ms --backoff-after 1h
	[ "$status" -eq 0 ]
	[ "$(jq -s 'map(select(.ok == false)) | length' "$BATS_TEST_TMPDIR/out")" -ge 1900 ]
	[ "$(jq -s 'map(select(.ok == true)) | length' "$BATS_TEST_TMPDIR/out")" -ge 1900 ]
	run_split "${VALGRIND[@]}" gw-read -b rtu:/dev/gxkit-no-such-tty -m growatt-v120 -i 1ms -n 200
	[ "$status" -eq 0 ]
	run_split "${VALGRIND[@]}" gw-read -b tcp:127.0.0.1:$PORT -r 0 -r 1:u32 --format csv -n 3 -i 1ms
	[ "$status" -eq 0 ]
}

# the tool's own memory: under qemu (check-gx) that is the emulator's
# bats test_tags=own-memory
@test "gw-read: rss-watch | leak-classify calls the offline path steady" {
	start_gw_sim_tcp -m growatt-v120 --time 12:00 -u 1
	# unit 2 is absent: half the polls take the failure path
	rss-watch -i 100ms -d 6s -- sh -c "exec gw-read -b tcp:127.0.0.1:$PORT \
		-m growatt-v120 -u 1,2 --gap 0 -i 2ms --timeout 2ms \
		--backoff-after 1h >/dev/null" >"$BATS_TEST_TMPDIR/rss.jsonl"
	[ "$(jq -s 'map(select(.comm == "gw-read")) | length' "$BATS_TEST_TMPDIR/rss.jsonl")" -ge 50 ]
	# anon_kb: a leak grows the heap; file pages follow the page cache
	run leak-classify -f anon_kb --json "$BATS_TEST_TMPDIR/rss.jsonl"
	[ "$status" -eq 0 ]
	[[ $output == *'"verdict":"steady"'* ]]
}

@test "gw-read: --max-rss guards itself with exit 3" {
	start_gw_sim_tcp -m growatt-v120 --time 12:00
	run_split gw-read -b tcp:127.0.0.1:$PORT -m growatt-v120 --gap 0 -i 10ms --max-rss 64K
	[ "$status" -eq 3 ]
}

@test "gw-read: bash completion offers options, maps and formats" {
	run complete_words gw-read --back
	[[ $output == *"--backoff"* && $output == *"--backoff-after"* ]]
	run complete_words gw-read --format c
	[ "$output" = csv ]
	GXKIT_MAPS=$ROOT/lib/maps run complete_words gw-read -m growatt-v1
	[[ $output == *"growatt-v120"* ]]
	# -r after -m: the map's register names, in comma lists too
	GXKIT_MAPS=$ROOT/lib/maps run complete_words gw-read -m growatt-v120 -r ac_p
	[ "$output" = ac_power ]
	GXKIT_MAPS=$ROOT/lib/maps run complete_words gw-read -m growatt-v120 -r status,ac_p
	[ "$output" = status,ac_power ]
}

@test "gw-read: a full disk is one message and exit 1" {
	start_gw_sim_tcp -m growatt-v120 --time 12:00 -u 1
	run bash -c "gw-read -b tcp:127.0.0.1:$PORT -u 1 -m growatt-v120 >/dev/full"
	[ "$status" -eq 1 ]
	[ "$output" = "gw-read: write error: No space left on device" ]
	run bash -c "gw-read -b tcp:127.0.0.1:$PORT -u 1 -m growatt-v120 -i 50ms -n 5 >/dev/full"
	[ "$status" -eq 1 ]
	[ "$output" = "gw-read: write error: No space left on device" ]
}

@test "gw-read: --write every type to pymodbus, read back by another client" {
	start_pymodbus_tcp 1
	run_split gw-read -b tcp:127.0.0.1:$PORT -w 2=1234 -w 3:s16=-2 \
		-w 4:u32=74565 -w 6:u32le=74565 -w 8:s32=-100000 -w 10:f32=230.5 \
		-w 12:str:5=ABC12 -w 17:u64=1099511627781 -w 21:s64=-3 \
		-w 25:u16:0.1=230.1 -w 26:s32le=-7
	[ "$status" -eq 0 ]
	assert_jsonl "$BATS_TEST_TMPDIR/out" gw-read
	[ "$(jq -s 'map(select(.event == "write" and .ok and .value == .read_back)) | length' "$BATS_TEST_TMPDIR/out")" -eq 11 ]
	# the words as mbpoll reads them: 230.1 with scale 0.1 is 2301
	run mbpoll -m tcp -p "$PORT" -a 1 -r 1 -c 28 -t 4 -0 -1 127.0.0.1
	[[ $output == *"[2]: 	1234"* ]]
	[[ $output == *"[3]: 	65534 (-2)"* ]]
	[[ $output == *"[25]: 	2301"* ]]
	run_split gw-read -b tcp:127.0.0.1:$PORT --fc holding -r 4:u32 -r 8:s32 \
		-r 10:f32 -r 12:str:5 -r 17:u64 -r 21:s64 -r 26:s32le
	jq -e '.values == {"4": 74565, "8": -100000, "10": 230.5, "12": "ABC12",
		"17": 1099511627781, "21": -3, "26": -7}' "$BATS_TEST_TMPDIR/out" >/dev/null
	# 2..27 follow each other: one function 16 and one read-back in all,
	# as the kernel saw them leave (strace), not as gw-read says (Modbus
	# frames go with MSG_NOSIGNAL; a host's lookup asks netlink too)
	# (LeakSanitizer cannot run under a tracer: no leak check here)
	ASAN_OPTIONS=${ASAN_OPTIONS:-}:detect_leaks=0 strace -f -e trace=sendto -o "$BATS_TEST_TMPDIR/trace" gw-read -b tcp:127.0.0.1:$PORT \
		-w 2=1 -w 3:s16=-2 -w 4:u32=74565 -w 6:u32le=74565 -w 8:s32=-100000 \
		-w 10:f32=230.5 -w 12:str:5=ABC12 -w 17:u64=1099511627781 \
		-w 21:s64=-3 -w 25:u16:0.1=230.1 -w 26:s32le=-7 >"$BATS_TEST_TMPDIR/out"
	[ "$(grep -c 'sendto(.*MSG_NOSIGNAL' "$BATS_TEST_TMPDIR/trace")" -eq 2 ]
	[ "$(jq -s 'map(select(.ok)) | length' "$BATS_TEST_TMPDIR/out")" -eq 11 ]
	# a gap makes two blocks; the records come by address
	ASAN_OPTIONS=${ASAN_OPTIONS:-}:detect_leaks=0 strace -f -e trace=sendto -o "$BATS_TEST_TMPDIR/trace" gw-read -b tcp:127.0.0.1:$PORT \
		-w 30=7 -w 2=5 -w 3=6 >"$BATS_TEST_TMPDIR/out"
	[ "$(grep -c 'sendto(.*MSG_NOSIGNAL' "$BATS_TEST_TMPDIR/trace")" -eq 4 ]
	[ "$(jq -c -s 'map(.address)' "$BATS_TEST_TMPDIR/out")" = "[2,3,30]" ]
	# one register twice is no write at all
	run_split gw-read -b tcp:127.0.0.1:$PORT -w 4:u32=1 -w 5=2
	assert_usage_error
	grep -q "4:u32=1 and 5=2 write the same register" "$BATS_TEST_TMPDIR/err"
	# past pymodbus's 40 registers: the exception, named, exit 1
	run_split gw-read -b tcp:127.0.0.1:$PORT -w 100=1
	[ "$status" -eq 1 ]
	jq -e '.ok == false and .error == "exception" and .message == "Illegal data address" and .read_back == null' "$BATS_TEST_TMPDIR/out" >/dev/null
}

@test "gw-read: --write checks the map's write column; gw-sim follows the limit" {
	start_gw_sim_tcp -m growatt-v120 --time 12:00 -u 1
	local b="-b tcp:127.0.0.1:$PORT -m growatt-v120 --gap 0"
	run_split gw-read $b
	jq -e '.values.active_power_rate == 100 and .values.on_off == 1 and .values.ac_power > 1000' "$BATS_TEST_TMPDIR/out" >/dev/null
	full=$(jq .values.pv_power "$BATS_TEST_TMPDIR/out")
	run_split gw-read $b -w active_power_rate=40
	[ "$status" -eq 0 ]
	jq -e '.event == "write" and .register == "active_power_rate" and .address == 3 and .value == 40 and .read_back == 40 and .ok' "$BATS_TEST_TMPDIR/out" >/dev/null
	run_split gw-read $b
	jq -e --argjson full "$full" '.values.active_power_rate == 40 and
		(.values.pv_power / $full | . > 0.35 and . < 0.45)' "$BATS_TEST_TMPDIR/out" >/dev/null
	# refused before the bus is touched: usage errors
	for w in active_power_rate=101 serial=X ac_power=5 nothing=1 77=1 \
		on_off=x "=3" active_power_rate; do
		run_split gw-read $b -w "$w"
		assert_usage_error
	done
	grep -q "outside 0..100" <(gw-read $b -w active_power_rate=101 2>&1 || true)
	grep -q "input register" <(gw-read $b -w ac_power=5 2>&1 || true)
	# --force sends it: the inverter's own refusal, named
	run_split gw-read $b -w active_power_rate=101 --force
	[ "$status" -eq 1 ]
	jq -e '.ok == false and .error == "exception" and .message == "Illegal data value"' "$BATS_TEST_TMPDIR/out" >/dev/null
	run_split gw-read $b -w modbus_address=2 --force
	[ "$status" -eq 1 ]
	jq -e '.message == "Illegal data address"' "$BATS_TEST_TMPDIR/out" >/dev/null
	run_split gw-read $b -w on_off=0 -w active_power_rate=100
	[ "$(jq -s 'map(select(.ok)) | length' "$BATS_TEST_TMPDIR/out")" -eq 2 ]
	run_split gw-read $b
	jq -e '.values.on_off == 0 and .values.ac_power == 0' "$BATS_TEST_TMPDIR/out" >/dev/null
	run_split "${VALGRIND[@]}" gw-read $b -w on_off=1 -w 3=100 -w active_power_rate=200
	assert_usage_error
	run_split "${VALGRIND[@]}" gw-read $b -w on_off=1 -w 3=100
	[ "$status" -eq 0 ]
}

@test "gw-read: a map's registers by name, over TCP by host name, without the RTU line's gap" {
	PORT=$(free_port)
	start_bg gw-sim -b tcp:localhost:$PORT -m growatt-v120 --time 12:00
	wait_port "$PORT"
	local out=$BATS_TEST_TMPDIR/out
	# -m with -r: the named registers, in the map's order
	run_split gw-read -b tcp:localhost:$PORT -m growatt-v120 -r serial,ac_power -r status
	[ "$status" -eq 0 ]
	jq -e '.ok and (.values | keys_unsorted) == ["status", "ac_power", "serial"]' "$out" >/dev/null
	run_split gw-read -b tcp:localhost:$PORT -m growatt-v120 -r ac_power,nope
	assert_usage_error
	grep -q "no register 'nope' in growatt-v120" "$BATS_TEST_TMPDIR/err"
	# the map's 850 ms inter-frame gap is an RTU line's: over TCP, polls
	# every 100 ms come 100 ms apart
	run_split gw-read -b tcp:localhost:$PORT -m growatt-v120 -r ac_power -i 100ms -n 4
	[ "$status" -eq 0 ]
	jq -s -e '[range(1; length) as $i | .[$i].ts - .[$i - 1].ts] | max < 0.6' "$out" >/dev/null
	# a timeout says whom and how long
	run_split gw-read -b tcp:localhost:$PORT -m growatt-v120 -u 9 --timeout 200ms
	[ "$status" -eq 1 ]
	jq -e '.error == "timeout" and .message == "no response from unit 9 within 200 ms"' "$out" >/dev/null
}

@test "gw-read, gw-scan, gw-sim: a host name that does not resolve is said (no network: its own namespace)" {
	run_split unshare -n gw-read -b tcp:gxkit-no-such-host.example:502 -m growatt-v120
	[ "$status" -eq 1 ]
	jq -e '.ok == false and .message == "no such host: gxkit-no-such-host.example"' "$BATS_TEST_TMPDIR/out" >/dev/null
	run_split unshare -n gw-scan -b tcp:gxkit-no-such-host.example:502 -u 1
	[ "$status" -eq 1 ]
	grep -q "no such host: gxkit-no-such-host.example" "$BATS_TEST_TMPDIR/err"
	run_split unshare -n gw-sim -b tcp:gxkit-no-such-host.example:502 -m growatt-v120
	[ "$status" -eq 1 ]
	grep -q "cannot listen on tcp:gxkit-no-such-host.example:502: no such host" "$BATS_TEST_TMPDIR/err"
}
