#!/usr/bin/env bats
# gw-sim read by gw-read and by mbpoll, the reference client.

load helpers

teardown() {
	stop_all
}

@test "gw-sim: --help and usage errors" {
	run gw-sim --help
	[ "$status" -eq 0 ]
	[[ $output == *"--corrupt-rate"* ]]
	for args in "" "-b tcp:127.0.0.1:1" "-m growatt-v120" \
		"-b tcp:127.0.0.1:1 -m growatt-v120 --time 25:00" \
		"-b tcp:127.0.0.1:1 -m growatt-v120 --exception-rate 2" \
		"-b tcp:127.0.0.1:1 -m growatt-v120 --offline-after 1s" \
		"-b tcp:127.0.0.1:1 -m growatt-v120 --latency slow" \
		"-b tcp:127.0.0.1:1 -m growatt-v120 -u 0"; do
		run_split gw-sim $args
		assert_usage_error
	done
	run_split gw-sim -b tcp:127.0.0.1:1 -m no-such-map
	[ "$status" -eq 1 ]
}

@test "gw-sim: a plausible inverter by day and asleep by night" {
	start_gw_sim_tcp -m growatt-v120 --time 12:00 --peak 4000
	run_split gw-read -b tcp:127.0.0.1:$PORT -m growatt-v120 --gap 0 -i 1.2s -n 2
	[ "$status" -eq 0 ]
	jq -s -e '.[0].values | .status == 1 and .ac_power > 3500 and .ac_power < 4100 and
		.grid_frequency > 49.9 and .l1_voltage > 225 and .serial == "SIM0000001"' "$BATS_TEST_TMPDIR/out" >/dev/null
	# counters only rise (energy in 0.1 kWh steps, time in 0.5 s steps)
	jq -s -e '.[1].values.energy_total >= .[0].values.energy_total and
		.[1].values.time_total > .[0].values.time_total' "$BATS_TEST_TMPDIR/out" >/dev/null
	jq -s -e '.[0].text.status == "normal"' "$BATS_TEST_TMPDIR/out" >/dev/null
	stop_all
	start_gw_sim_tcp -m growatt-v120 --time 23:00
	run_split gw-read -b tcp:127.0.0.1:$PORT -m growatt-v120 --gap 0
	jq -e '.values.status == 0 and .values.ac_power == 0 and .text.status == "waiting"' "$BATS_TEST_TMPDIR/out" >/dev/null
}

@test "gw-sim: mbpoll reads what gw-read reads" {
	start_gw_sim_tcp -m growatt-v120 --time 23:00
	run mbpoll -m tcp -p "$PORT" -a 1 -t 4 -r 31 -c 1 -1 127.0.0.1
	[[ $output == *"[31]:"*"1"* ]] # holding 30: modbus_address = unit 1
	run mbpoll -m tcp -p "$PORT" -a 1 -t 4 -r 44 -c 1 -1 127.0.0.1
	[[ $output == *"[44]:"*"5000"* ]]
}

@test "gw-sim: exceptions, corrupt frames and latency on demand" {
	start_gw_sim_tcp -m growatt-v120 --time 12:00 --exception-rate 1
	run_split gw-read -b tcp:127.0.0.1:$PORT -m growatt-v120 --gap 0
	[ "$status" -eq 1 ]
	jq -e '.ok == false and .error == "exception"' "$BATS_TEST_TMPDIR/out" >/dev/null
	stop_all
	start_ptys
	start_bg gw-sim -b rtu:"$TTY_A" -m growatt-v120 --corrupt-rate 1
	sleep 0.3
	run_split gw-read -b rtu:"$TTY_B" -m growatt-v120 --gap 0 --timeout 300ms
	jq -e '.ok == false and .error == "crc"' "$BATS_TEST_TMPDIR/out" >/dev/null
	stop_all
	start_gw_sim_tcp -m growatt-v120 --latency 150ms
	run_split gw-read -b tcp:127.0.0.1:$PORT -r 0 --timeout 1s
	jq -e '.ok == true and .latency_ms >= 150' "$BATS_TEST_TMPDIR/out" >/dev/null
}

@test "gw-sim: half the requests fail at --exception-rate 0.5, repeatably" {
	for run in 1 2; do
		start_gw_sim_tcp -m growatt-v120 --seed 7 --exception-rate 0.5
		gw-read -b tcp:127.0.0.1:$PORT -r 0 -i 1ms -n 200 >"$BATS_TEST_TMPDIR/r$run.jsonl" || true
		stop_all
	done
	n=$(jq -s 'map(select(.ok == false)) | length' "$BATS_TEST_TMPDIR/r1.jsonl")
	[ "$n" -gt 70 ] && [ "$n" -lt 130 ]
	diff <(jq -c .ok "$BATS_TEST_TMPDIR/r1.jsonl") <(jq -c .ok "$BATS_TEST_TMPDIR/r2.jsonl")
}

@test "gw-sim: valgrind-clean while serving TCP and RTU" {
	PORT=$(free_port)
	"${VALGRIND[@]}" gw-sim -b tcp:127.0.0.1:$PORT -m growatt-v120 -u 1,2 --time 12:00 --exception-rate 0.2 \
		2>"$BATS_TEST_TMPDIR/vg.txt" &
	sim=$!
	wait_port "$PORT"
	sleep 1
	gw-read -b tcp:127.0.0.1:$PORT -m growatt-v120 -u 1,2,3 --gap 0 --timeout 200ms -i 10ms -n 20 >/dev/null || true
	kill -TERM $sim
	wait $sim
	[ ! -s "$BATS_TEST_TMPDIR/vg.txt" ]
	start_ptys
	"${VALGRIND[@]}" gw-sim -b rtu:"$TTY_A" -m growatt-v120 --corrupt-rate 0.3 2>"$BATS_TEST_TMPDIR/vg2.txt" &
	sim=$!
	sleep 1.5
	gw-read -b rtu:"$TTY_B" -m growatt-v120 -u 1,2 --gap 0 --timeout 300ms -i 10ms -n 10 >/dev/null || true
	kill -TERM $sim
	wait $sim
	[ ! -s "$BATS_TEST_TMPDIR/vg2.txt" ]
}

@test "gw-sim: bash completion offers options" {
	run complete_words gw-sim --corr
	[ "$output" = --corrupt-rate ]
}

@test "gw-sim: listens by host name; an address it cannot bind is refused, with a message" {
	PORT=$(free_port)
	start_bg gw-sim -b tcp:localhost:$PORT -m growatt-v120
	wait_port "$PORT"
	run mbpoll -m tcp -p "$PORT" -a 1 -t 4 -r 44 -c 1 -1 localhost
	[[ $output == *"[44]:"*"5000"* ]]
	# the port taken, and an address not this machine's (binding sends
	# nothing on the network)
	run_split gw-sim -b tcp:localhost:$PORT -m growatt-v120
	[ "$status" -eq 1 ]
	grep -q "cannot listen on tcp:localhost:$PORT: Address already in use" "$BATS_TEST_TMPDIR/err"
	run_split gw-sim -b tcp:192.0.2.1:$PORT -m growatt-v120
	[ "$status" -eq 1 ]
	grep -q "cannot listen on tcp:192.0.2.1:$PORT: Cannot assign requested address" "$BATS_TEST_TMPDIR/err"
}
