#!/usr/bin/env bats
# gw-scan against pymodbus (TCP) and gw-sim (TCP, and RTU across ids the
# simulator does not own).

load helpers

teardown() {
	stop_all
}

@test "gw-scan: --help and usage errors" {
	run gw-scan --help
	[ "$status" -eq 0 ]
	[[ $output == *"--every"* ]]
	for args in "" "-b nope" "-b tcp:127.0.0.1 --units 0-3" \
		"-b rtu:/dev/null --units 1-248" "-b tcp:127.0.0.1 --timeout 0" \
		"-b tcp:127.0.0.1 --every never" "-b tcp:127.0.0.1 --max-rss big"; do
		run_split gw-scan $args
		assert_usage_error
	done
}

@test "gw-scan: finds exactly the units pymodbus serves among 1-10" {
	start_pymodbus_tcp 2,7
	run_split gw-scan -b tcp:127.0.0.1:$PORT --units 1-10
	[ "$status" -eq 0 ]
	assert_jsonl "$BATS_TEST_TMPDIR/out" gw-scan
	tail -1 "$BATS_TEST_TMPDIR/out" | jq -e '.event == "scan_done" and .found == [2, 7] and .scanned == 10' >/dev/null
	jq -s -e 'map(select(.event == null) | .unit) == [2, 7]' "$BATS_TEST_TMPDIR/out" >/dev/null
}

@test "gw-scan: RTU across ids the simulator does not own, with identity" {
	start_ptys
	start_bg gw-sim -b rtu:"$TTY_A" -m growatt-v120 -u 3,4,9 --time 12:00
	sleep 0.3
	run_split gw-scan -b rtu:"$TTY_B" --units 1-12 -m growatt-v120
	[ "$status" -eq 0 ]
	tail -1 "$BATS_TEST_TMPDIR/out" | jq -e '.found == [3, 4, 9]' >/dev/null
	jq -s -e 'map(select(.unit == 4))[0] | .serial == "SIM0000004" and .model == 5000 and .firmware == "GS1.0"' "$BATS_TEST_TMPDIR/out" >/dev/null
}

@test "gw-scan: costs about absent units x timeout" {
	start_gw_sim_tcp -m growatt-v120 -u 1 --time 12:00
	run_split gw-scan -b tcp:127.0.0.1:$PORT --units 1-11 --timeout 100ms
	# 10 absent x 100 ms = 1.0 s; allow scheduling slack, not a second try
	tail -1 "$BATS_TEST_TMPDIR/out" | jq -e '.elapsed_s >= 0.95 and .elapsed_s < 1.6' >/dev/null
}

@test "gw-scan: --every reports units that vanish and come back" {
	start_gw_sim_tcp -m growatt-v120 -u 1,2 --time 12:00 --offline-after 700ms --offline-for 1s
	run_split gw-scan -b tcp:127.0.0.1:$PORT --units 1-3 --timeout 50ms --every 300ms -n 9
	[ "$status" -eq 0 ]
	jq -s -e 'map(select(.event == "vanished") | .unit) | unique == [1, 2]' "$BATS_TEST_TMPDIR/out" >/dev/null
	jq -s -e 'map(select(.event == "appeared") | .unit) | unique == [1, 2]' "$BATS_TEST_TMPDIR/out" >/dev/null
	[ "$(jq -s 'map(select(.event == "scan_done")) | length' "$BATS_TEST_TMPDIR/out")" -eq 9 ]
}

@test "gw-scan: a peer that is not there finds nothing, exit 0" {
	run_split gw-scan -b tcp:127.0.0.1:$(free_port) --units 1-3
	[ "$status" -eq 0 ]
	tail -1 "$BATS_TEST_TMPDIR/out" | jq -e '.found == []' >/dev/null
}

@test "gw-scan: valgrind-clean over a scan with a map and rescans" {
	start_gw_sim_tcp -m growatt-v120 -u 2 --time 12:00
	run_split "${VALGRIND[@]}" gw-scan -b tcp:127.0.0.1:$PORT --units 1-3 -m growatt-v120 --timeout 50ms --every 100ms -n 3
	[ "$status" -eq 0 ]
	tail -1 "$BATS_TEST_TMPDIR/out" | jq -e '.found == [2]' >/dev/null
}

@test "gw-scan: bash completion offers options, maps and buses" {
	run complete_words gw-scan --ev
	[ "$output" = --every ]
	# the helpers shared through completions/gxkit-common.bash
	GXKIT_MAPS=$ROOT/lib/maps run complete_words gw-scan -m growatt-v1
	[[ $output == *growatt-v120* ]]
	run complete_words gw-scan -b tc
	[ "$output" = tcp:127.0.0.1:502 ]
}

@test "gw-scan: a full disk is one message and exit 1" {
	start_gw_sim_tcp -m growatt-v120 -u 1 --time 12:00
	run bash -c "gw-scan -b tcp:127.0.0.1:$PORT --units 1-2 --timeout 50ms >/dev/full"
	[ "$status" -eq 1 ]
	[ "$output" = "gw-scan: write error: No space left on device" ]
}

@test "gw-scan: a bus by host name" {
	PORT=$(free_port)
	start_bg gw-sim -b tcp:localhost:$PORT -m growatt-v120 -u 3
	wait_port "$PORT"
	run_split gw-scan -b tcp:localhost:$PORT -u 1-4 --timeout 200ms
	[ "$status" -eq 0 ]
	jq -s -e 'map(select(.event == "scan_done"))[0].found == [3]' "$BATS_TEST_TMPDIR/out" >/dev/null
}
