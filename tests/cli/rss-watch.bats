#!/usr/bin/env bats
# rss-watch against real processes from tests/helpers.

load helpers

teardown() {
	stop_all
}

@test "rss-watch: --help, --version, --usage" {
	run rss-watch --help
	[ "$status" -eq 0 ]
	[[ $output == *"--limit-field"* ]]
	run rss-watch --version
	[ "$status" -eq 0 ]
	[[ $output == "rss-watch (gxkit) "* ]]
	run rss-watch --usage
	[ "$status" -eq 0 ]
}

@test "rss-watch: usage errors exit 2 with two lines and no output" {
	for args in "" "--bogus" "-p 1 -N x" "-p abc" "-p 1 -i 0" \
		"-p 1 -i fast" "-p 1 --limit 1x" "-p 1 --limit-field pss_kb --limit 1M" \
		"-p 1 --limit-field nproc --limit 3" "-p 1 --limit-field nope" \
		"-p 1 --action term" "-p 1 --limit 1M --action NOSIG" \
		"-p 1 --max-rss lots" "-p 1 -d soon" "-p 1 --maps-every 3" \
		"-p 1 --maps --maps-every -1"; do
		run_split rss-watch $args
		assert_usage_error
	done
}

@test "rss-watch: samples carry every field of the contract" {
	start_bg memhog steady --base 2048
	run_split rss-watch -p "$BG_PID" -i 100ms -n 3
	[ "$status" -eq 0 ]
	assert_jsonl "$BATS_TEST_TMPDIR/out" rss-watch
	[ "$(wc -l <"$BATS_TEST_TMPDIR/out")" -eq 3 ]
	jq -e --argjson pid "$BG_PID" '.pid == $pid and .comm == "memhog" and
		(.start | type == "number") and .rss_kb > 2048 and
		.anon_kb >= 2048 and (.file_kb | type == "number") and
		(.shmem_kb | type == "number") and (.swap_kb | type == "number") and
		.vsz_kb >= .rss_kb and .hwm_kb >= .rss_kb and .threads == 1 and
		.fds >= 3' "$BATS_TEST_TMPDIR/out" >/dev/null
	# timestamps advance by about the interval
	jq -s -e '(.[2].ts - .[0].ts) > 0.15 and (.[2].ts - .[0].ts) < 0.6' \
		"$BATS_TEST_TMPDIR/out" >/dev/null
}

@test "rss-watch: several pids, comma list, --pss and --children" {
	start_bg memhog steady
	a=$BG_PID
	start_bg memhog steady
	b=$BG_PID
	run_split rss-watch -p "$a,$b" --pss -n 2 -i 50ms
	[ "$status" -eq 0 ]
	[ "$(jq -s 'map(.pid) | unique | length' "$BATS_TEST_TMPDIR/out")" -eq 2 ]
	jq -e '.pss_kb > 0 and .uss_kb > 0' "$BATS_TEST_TMPDIR/out" >/dev/null
	run_split rss-watch --children -i 600ms -n 2 -- sh -c 'memhog steady --for 1.5 & memhog steady --for 1.5 & sleep 0.3; wait'
	jq -s -e 'map(select(.event == null)) | last | .nproc == 3' "$BATS_TEST_TMPDIR/out" >/dev/null
}

@test "rss-watch: a missing process is an error" {
	run_split rss-watch -p 999999999 -n 1
	[ "$status" -eq 1 ]
	grep -q "no such process: 999999999" "$BATS_TEST_TMPDIR/err"
	run_split rss-watch -N no-such-process-gxkit -n 1
	[ "$status" -eq 1 ]
	grep -q "no process named" "$BATS_TEST_TMPDIR/err"
	# with --wait it waits quietly until the duration ends
	run_split rss-watch -N no-such-process-gxkit --wait -d 300ms -i 100ms
	[ "$status" -eq 0 ]
	[ ! -s "$BATS_TEST_TMPDIR/out" ]
}

@test "rss-watch: an attached process that ends gives an exit event, status 0" {
	start_bg memhog steady --for 0.4
	run_split rss-watch -p "$BG_PID" -i 100ms
	[ "$status" -eq 0 ]
	tail -1 "$BATS_TEST_TMPDIR/out" | jq -e '.event == "exit" and .status == null' >/dev/null
}

@test "rss-watch: -- COMMAND passes the exit status on" {
	run_split rss-watch -i 50ms -- sh -c 'sleep 0.2; exit 7'
	[ "$status" -eq 7 ]
	tail -1 "$BATS_TEST_TMPDIR/out" | jq -e '.event == "exit" and .status == 7' >/dev/null
	run_split rss-watch -i 50ms -- sh -c 'kill -9 $$'
	[ "$status" -eq 137 ]
	tail -1 "$BATS_TEST_TMPDIR/out" | jq -e '.status == 137 and .signal == "KILL"' >/dev/null
	run_split rss-watch -- /no/such/command
	[ "$status" -eq 127 ]
	grep -q "cannot run '/no/such/command'" "$BATS_TEST_TMPDIR/err"
	[ ! -s "$BATS_TEST_TMPDIR/out" ]
}

@test "rss-watch: -d ends a command that runs longer, like timeout" {
	run_split rss-watch -i 100ms -d 300ms -- sleep 100
	[ "$status" -eq 0 ]
	tail -1 "$BATS_TEST_TMPDIR/out" | jq -e '.event == "exit" and .status == 143 and .signal == "TERM"' >/dev/null
	run_split rss-watch -i 50ms -n 2 --grace 200ms -- memhog steady --ignore-term
	[ "$status" -eq 0 ]
	tail -1 "$BATS_TEST_TMPDIR/out" | jq -e '.status == 137' >/dev/null
}

@test "rss-watch: -N follows a service across restarts" {
	start_bg memhog restart --every 0.7
	run_split rss-watch -N memhog-worker --wait -i 100ms -d 2.5s
	[ "$status" -eq 0 ]
	jq -s -e 'map(select(.event == "restart")) | length >= 2' "$BATS_TEST_TMPDIR/out" >/dev/null
	jq -s -e 'map(select(.event == "restart")) | all(.old_pid != .pid)' "$BATS_TEST_TMPDIR/out" >/dev/null
	[ "$(jq -s 'map(select(.event == null) | .pid) | unique | length' "$BATS_TEST_TMPDIR/out")" -ge 3 ]
}

@test "rss-watch: watchdog terms the leaker at the limit and exits 3" {
	start_bg memhog leak --rate 40000
	pid=$BG_PID
	run_split rss-watch -p "$pid" -i 50ms --limit 24M --action term
	[ "$status" -eq 3 ]
	jq -s -e --argjson pid "$pid" 'map(select(.event == "limit"))[0] |
		.pid == $pid and .action == "TERM" and .field == "rss_kb" and
		.value >= 24576' "$BATS_TEST_TMPDIR/out" >/dev/null
	tail -1 "$BATS_TEST_TMPDIR/out" | jq -e '.event == "exit"' >/dev/null
	! kill -0 "$pid" 2>/dev/null || [ "$(ps -o stat= -p "$pid")" = Z ]
}

@test "rss-watch: term escalates to KILL after --grace" {
	start_bg memhog steady --base 4096 --ignore-term
	pid=$BG_PID
	run_split rss-watch -p "$pid" -i 100ms --limit 1M --grace 300ms
	[ "$status" -eq 3 ]
	jq -s -e 'map(select(.event == "limit")) | length == 2 and
		.[1].escalated == true and .[1].action == "KILL"' "$BATS_TEST_TMPDIR/out" >/dev/null
	wait "$pid" || code=$?
	[ "$code" -eq 137 ]
}

@test "rss-watch: --action exit leaves the process alone" {
	start_bg memhog steady --base 4096
	run_split rss-watch -p "$BG_PID" -i 50ms --limit 1M --action exit
	[ "$status" -eq 3 ]
	kill -0 "$BG_PID"
	jq -s -e 'map(select(.event == "limit"))[0].action == "exit"' "$BATS_TEST_TMPDIR/out" >/dev/null
}

@test "rss-watch: a reused pid is never sampled nor signalled" {
	start_bg memhog steady
	old=$BG_PID
	# attach, then replace the process by a bigger one with the same pid:
	# had the watcher sampled it, the limit (2 MB over the first one's
	# RSS, whatever a build makes of memhog) would have killed it
	sleep 0.1
	limit=$(($(rss_kb $old) + 2048))
	rss-watch -p "$old" -i 1s --limit ${limit}K --action kill -n 3 \
		>"$BATS_TEST_TMPDIR/out" 2>&1 &
	watcher=$!
	sleep 0.3
	kill "$old"
	wait "$old" || true
	new=""
	for try in $(seq 1 50); do
		echo $((old - 1)) >/proc/sys/kernel/ns_last_pid
		memhog steady --base 8192 &
		if [ $! -eq "$old" ]; then new=$!; break; fi
		kill $! && wait $! || true
	done
	[ -n "$new" ]
	echo "$new" >>"$BATS_TEST_TMPDIR/pids"
	wait "$watcher" || rc=$?
	sleep 0.5 # the newcomer has its 8 MB by now
	kill -0 "$new"
	[ "$(jq -s 'map(select(.event == "limit")) | length' "$BATS_TEST_TMPDIR/out")" -eq 0 ]
	jq -s -e --argjson limit "$limit" 'map(select(.event == null)) | all(.rss_kb < $limit)' "$BATS_TEST_TMPDIR/out" >/dev/null
	tail -1 "$BATS_TEST_TMPDIR/out" | jq -e '.event == "exit"' >/dev/null
}

@test "rss-watch: a closed pipe ends it quietly" {
	start_bg memhog steady
	run bash -c "rss-watch -p $BG_PID -i 10ms | head -2 >/dev/null; echo \${PIPESTATUS[0]}"
	[ "$output" = 0 ]
}

@test "rss-watch: --max-rss guards itself with exit 3" {
	start_bg memhog steady
	run_split rss-watch -p "$BG_PID" -i 10ms --max-rss 64K
	[ "$status" -eq 3 ]
	grep -q "max-rss" "$BATS_TEST_TMPDIR/err"
}

@test "rss-watch: valgrind-clean over attach, children, pss, watchdog and launch" {
	start_bg memhog steady
	run_split "${VALGRIND[@]}" rss-watch -p "$BG_PID" -n 5 -i 20ms --pss --children
	[ "$status" -eq 0 ]
	run_split "${VALGRIND[@]}" rss-watch -i 20ms -- sh -c 'sleep 0.3; exit 3'
	[ "$status" -eq 3 ]
	start_bg memhog steady --base 2048
	run_split "${VALGRIND[@]}" rss-watch -p "$BG_PID" -i 20ms --limit 1M
	[ "$status" -eq 3 ]
	run_split "${VALGRIND[@]}" rss-watch -N no-such-process-gxkit --wait -d 200ms -i 20ms
	[ "$status" -eq 0 ]
	run_split "${VALGRIND[@]}" rss-watch --maps --maps-every 2 --children -n 6 -i 20ms \
		-- sh -c 'memhog steady --for 1 & sleep 1; wait'
	[ "$status" -eq 0 ]
	[ "$(jq -s 'map(select(.maps)) | length' "$BATS_TEST_TMPDIR/out")" -eq 3 ]
}

@test "rss-watch: --maps splits memory by mapping, sums children, and agrees with the kernel" {
	start_bg memhog steady --base 4096
	run_split rss-watch -p "$BG_PID" --maps --maps-every 3 -i 50ms -n 7
	[ "$status" -eq 0 ]
	assert_jsonl "$BATS_TEST_TMPDIR/out" rss-watch
	# samples 1, 4 and 7 read smaps: every class, their sum near rss_kb
	[ "$(jq -s -c 'map(.maps != null)' "$BATS_TEST_TMPDIR/out")" = "[true,false,false,true,false,false,true]" ]
	jq -e 'select(.maps) | .maps as $m |
		([$m.heap_kb, $m.anon_kb, $m.stack_kb, $m.shmem_kb, $m.file_kb] | add) as $sum |
		($sum - .rss_kb | fabs) < (.rss_kb / 10 + 64) and
		$m.anon_kb >= 4096 and $m.anon_dirty_kb >= 4096 and $m.file_kb > 0 and
		$m.mappings > 5 and ($m.top | length) == 5 and $m.top[0].name == "[anon]" and
		($m.top | map(.name) | index("memhog")) != null' "$BATS_TEST_TMPDIR/out" >/dev/null
	# against python's own reading of the same file (psutil, as prmon does)
	/usr/bin/python3 -c 'import psutil, sys
p = psutil.Process(int(sys.argv[1]))
print(sum(m.rss for m in p.memory_maps() if m.path == "[heap]") // 1024)' "$BG_PID" >"$BATS_TEST_TMPDIR/heap"
	jq -e --argjson h "$(cat "$BATS_TEST_TMPDIR/heap")" 'select(.maps) | .maps.heap_kb == $h' \
		<(tail -1 "$BATS_TEST_TMPDIR/out") >/dev/null
	# a tree is summed: three memhogs of 2 MiB each at least
	run_split rss-watch --children --maps --maps-every 1 -i 300ms -n 2 -- sh -c \
		'memhog steady --base 2048 --for 1 & memhog steady --base 2048 --for 1 & sleep 0.2; wait'
	jq -s -e 'map(select(.maps)) | last | .maps.anon_kb >= 4096 and .nproc == 3' "$BATS_TEST_TMPDIR/out" >/dev/null
	# -N across a restart: each process is read at its first sample
	start_bg memhog restart --every 0.7
	run_split rss-watch -N memhog-worker --wait --maps --maps-every 100 -i 100ms -d 2.5s
	[ "$(jq -s 'map(select(.maps) | .pid) | unique | length' "$BATS_TEST_TMPDIR/out")" -ge 3 ]
}

# the tool's own memory: under qemu (check-gx) that is the emulator's
# bats test_tags=own-memory
@test "rss-watch: flat RSS while sampling fast (short soak)" {
	start_bg memhog steady
	target=$BG_PID
	rss-watch -p "$target" --pss --children --maps --maps-every 1 -i 2ms -d 4s >/dev/null &
	soaker=$!
	echo "$soaker" >>"$BATS_TEST_TMPDIR/pids"
	sleep 0.5
	rss-watch -p "$soaker" -i 100ms -d 3s >"$BATS_TEST_TMPDIR/self.jsonl"
	# After warm-up the watcher's heap does not move.  Anonymous pages,
	# not rss_kb: file-backed pages come and go with the page cache (a
	# loaded CI host evicts and refaults library pages), and that is no leak.
	jq -s -e 'map(.anon_kb | numbers) | (max - min) <= 8' "$BATS_TEST_TMPDIR/self.jsonl" >/dev/null
	run leak-classify -f anon_kb "$BATS_TEST_TMPDIR/self.jsonl"
	[ "$status" -eq 0 ]
}

@test "rss-watch: bash completion offers options and their values" {
	run complete_words rss-watch --lim
	[[ $output == *"--limit"* && $output == *"--limit-field"* ]]
	run complete_words rss-watch --action k
	[ "$output" = kill ]
	run complete_words rss-watch --limit-field an
	[ "$output" = anon_kb ]
}

@test "rss-watch: a full disk is one message and exit 1" {
	start_bg memhog steady
	run bash -c "rss-watch -p $BG_PID -i 10ms -n 3 >/dev/full"
	[ "$status" -eq 1 ]
	[ "$output" = "rss-watch: write error: No space left on device" ]
}

@test "rss-watch: a launched command's output goes to standard error, records alone on standard output" {
	run_split rss-watch -i 100ms -- sh -c 'echo the command speaks; echo "{\"not\": \"a record\"}"; sleep 0.3'
	[ "$status" -eq 0 ]
	# every line on standard output is a record of rss-watch's
	assert_jsonl "$BATS_TEST_TMPDIR/out" rss-watch
	! grep -q "the command speaks" "$BATS_TEST_TMPDIR/out"
	grep -q "the command speaks" "$BATS_TEST_TMPDIR/err"
	grep -q '"not": "a record"' "$BATS_TEST_TMPDIR/err"
	# so that a pipe into leak-classify meets no malformed line
	rss-watch -i 100ms -- sh -c 'for i in 1 2 3; do echo line $i; sleep 0.1; done' 2>/dev/null |
		leak-classify --json >"$BATS_TEST_TMPDIR/v" 2>"$BATS_TEST_TMPDIR/lc.err" || true
	jq -e '.malformed == 0' "$BATS_TEST_TMPDIR/v" >/dev/null
}
