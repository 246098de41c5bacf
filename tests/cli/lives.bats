#!/usr/bin/env bats
# leak-classify across lives, as the field has them: services restarted by
# supervise and by rss-watch's watchdog, devices rebooting, bursts, faults
# with edges, and the verdict read minutes after a restart.

load helpers

teardown() {
	# supervise first: it would start again what stop_all ends
	if [ -n "${SV_DIR:-}" ]; then
		svc -dx "$SV_DIR" 2>/dev/null || true
		sleep 0.3
	fi
	stop_all
}

# service DIR CMD...: CMD under Debian's daemontools supervise in DIR
service() {
	SV_DIR=$1
	shift
	mkdir -p "$SV_DIR"
	printf '#!/bin/sh\nexec %s\n' "$*" >"$SV_DIR/run"
	chmod +x "$SV_DIR/run"
	start_bg supervise "$SV_DIR"
}

# up_to_restart FILE N: the records of FILE up to its last restart event
# and N records after it: the recording as a cron job reads it minutes
# after the restart
up_to_restart() {
	local at
	at=$(grep -n '"event":"restart"' "$1" | tail -n 1 | cut -d: -f1)
	[ -n "$at" ]
	head -n $((at + $2)) "$1"
}

@test "lives: a leak restarted away by supervise is a leak minutes into a new life" {
	local T=$BATS_TEST_TMPDIR
	# each life leaks 2 MB a second for 4 s, then exits; supervise
	# starts it again (at most once a second)
	service "$T/sv" memhog leak --rate 2000 --for 4
	timeout 20 rss-watch -N memhog --wait -i 100ms >"$T/rss.jsonl" || true
	[ "$(grep -c '"event":"restart"' "$T/rss.jsonl")" -ge 3 ]
	up_to_restart "$T/rss.jsonl" 4 >"$T/young.jsonl"
	run_split leak-classify --json "$T/young.jsonl"
	cat "$T/out"
	[ "$status" -eq 4 ]
	jq -e '.verdict == "leak" and
		(.reason | startswith("leaks in each of the last")) and
		(.slope_per_h / 3600 | . > 1400 and . < 2600) and
		.lives.leaking >= 2 and .lives.end == "restart"' "$T/out" >/dev/null
	# the report says it in words, with the lives listed
	run_split leak-classify "$T/young.jsonl"
	grep -q "restarted every" "$T/out"
	grep -q "^  lives     [0-9]* before this one" "$T/out"
	# the same recording without the lives before: too little data
	run_split leak-classify --json <(tail -n 3 "$T/young.jsonl")
	[ "$status" -eq 3 ]
}

@test "lives: rss-watch's own watchdog ends each life at its limit" {
	local T=$BATS_TEST_TMPDIR
	service "$T/sv" memhog leak --rate 3000
	timeout 20 rss-watch -N memhog --wait -i 100ms --limit 12M \
		--limit-field anon_kb >"$T/rss.jsonl" || true
	[ "$(grep -c '"event":"limit"' "$T/rss.jsonl")" -ge 3 ]
	up_to_restart "$T/rss.jsonl" 3 >"$T/young.jsonl"
	run_split leak-classify --json "$T/young.jsonl"
	cat "$T/out"
	[ "$status" -eq 4 ]
	jq -e '.verdict == "leak" and .lives.end == "limit" and
		(.reason | test("restarted at its limit every"))' "$T/out" >/dev/null
	jq -e '[.segments[] | select(.end == "limit")] | length >= 2' "$T/out" >/dev/null
}

@test "lives: a device's lives from its records alone, judged minutes after each restart" {
	local T=$BATS_TEST_TMPDIR C="$ROOT/tests/helpers/leakcases.py"
	# restarted every 24 h, a leak in each life: a leak 5 minutes in
	/usr/bin/python3 "$C" lives restarted 5 >"$T/r.jsonl"
	run_split leak-classify --json "$T/r.jsonl"
	[ "$status" -eq 4 ]
	jq -e '.reason == "leaks in each of the last 4 lives, growing 300 KB/h; restarted every 24h 00m"' \
		"$T/out" >/dev/null
	# a reboot seen only as uptime_s starting again: free heap falling
	/usr/bin/python3 "$C" lives reboot 5 >"$T/b.jsonl"
	run_split leak-classify --json -f free_heap "$T/b.jsonl"
	[ "$status" -eq 4 ]
	jq -e '.verdict == "leak" and .lives.end == "uptime" and
		.direction == "falling" and (.reason | test("rebooted every 12h 00m"))' "$T/out" >/dev/null
	# healthy lives that each start with a ramp, one 15 minutes in it
	/usr/bin/python3 "$C" lives ramps 15 >"$T/w.jsonl"
	run_split leak-classify --json "$T/w.jsonl"
	[ "$status" -eq 0 ]
	jq -e '.verdict == "steady" and (.reason | startswith("each of the last 4 lives rose"))' \
		"$T/out" >/dev/null
	# a leak that stopped two lives ago
	/usr/bin/python3 "$C" lives stopped 5 >"$T/s.jsonl"
	run_split leak-classify --json "$T/s.jsonl"
	[ "$status" -eq 0 ]
	jq -e '.reason == "leaked in 2 lives, not in the last 2"' "$T/out" >/dev/null
	# the same lives per group, with --by
	jq -c '. + {host: "gx1"}' "$T/r.jsonl" >"$T/by.jsonl"
	jq -c '. + {host: "gx2"}' "$T/s.jsonl" >>"$T/by.jsonl"
	run_split leak-classify --json --by host "$T/by.jsonl"
	[ "$status" -eq 4 ]
	[ "$(jq -r 'select(.host == "gx1") | .verdict' "$T/out")" = leak ]
	[ "$(jq -r 'select(.host == "gx2") | .verdict' "$T/out")" = steady ]
}

@test "lives: a named event ends a life only where the field jumps back" {
	local T=$BATS_TEST_TMPDIR
	/usr/bin/python3 - >"$T/m.jsonl" <<'PY'
import json, random
rng, t = random.Random(1), 1.7e9
for life in range(3):
    for i in range(300):
        heap = 200000 - 60 * i + rng.gauss(0, 200)
        print(json.dumps({"ts": t, "free_heap": round(heap)}))
        t += 60
    # a reboot shows as connection_lost, then the heap back up
    print(json.dumps({"ts": t - 30, "event": "connection_lost"}))
# a connection lost without a reboot: the heap goes on falling
print(json.dumps({"ts": t, "event": "connection_lost"}))
for i in range(3):
    print(json.dumps({"ts": t + 60 * i, "free_heap": 200000 - 60 * (300 + i) - 1000}))
PY
	run_split leak-classify --json -f free_heap "$T/m.jsonl"
	jq -e '.lives.before == 2 and .lives.end == "event"' "$T/out" >/dev/null
	# another name: no life ends, one long fall that came back twice
	run_split leak-classify --json -f free_heap --restart-event reboot "$T/m.jsonl"
	jq -e '.lives.before == 0' "$T/out" >/dev/null
	run_split leak-classify --restart-event ""
	assert_usage_error
}

# two minutes of programs that mostly sleep: make check runs it beside the
# rest of the suite (tests/run-tests.sh)
# bats test_tags=real-corpus
@test "lives: a short real corpus: C, CPython and node; every eligible C and CPython leak found, at most one program without a leak called one, bursts told apart" {
	local T=$BATS_TEST_TMPDIR
	# a seed neither tuned on (1, 3) nor reported (2, 4); 10 programs
	# at once for 2 minutes, each watched every 1 and 2 s
	/usr/bin/python3 "$ROOT/tests/bench/realcorpus.py" "$T/real" 7 120 10 1,2 \
		c:churn,c:leak,c:cache,python:churn,python:leak,python:cache,python:bursts,python:burst-keep,node:churn,node:leak
	LEAKEVAL_SUMMARY="$T/summary.json" run /usr/bin/python3 \
		"$ROOT/tests/bench/leakeval.py" "$T/real" leak-classify 2
	echo "$output"
	# leakeval's verdicts: each series with its manifest line, and whether
	# it was called a leak (one judgement for every check below)
	jq -c --slurpfile s "$T/summary.json" '. + {called: (.file | IN($s[0].called[]))}' \
		"$T/real/manifest.jsonl" >"$T/judged"
	# the non-leaks called a leak, in full
	for f in $(jq -r 'select(.truth == "none" and .called) | .file' "$T/judged"); do
		leak-classify -v "$T/real/$f" 2>&1 | head -12 || true
	done
	# every eligible leak of C and CPython found.  node's are shown in the
	# table above, not judged: in two minutes V8's heap swings by tens of
	# MB ("rose by 96 MB and came back"), and a leak of 20 KB/s is not
	# there to be found.  Yet the noise measure of eligibility (a MAD of
	# differences) reads those swings unsteadily: 1.2 to 5.1 MB in three
	# runs of one seed, under 0.5 MB in another.  So such a leak is
	# eligible in one run and not in the next.  make bench judges node's
	# leaks over 5 minutes (README).
	jq -s -e '[.[] | select(.eligible and (.class | startswith("node:") | not))] |
		length >= 4 and all(.called)' "$T/judged"
	# of the six programs without a leak, two minutes old, at most one
	# called a leak.  Each program is watched at two intervals: its two
	# series are one trial, not two (a node heap that young may still be
	# finding its size, and both recordings see it).  The rates on
	# 96-series corpora are make bench's (README).
	jq -s -e '[.[] | select(.truth == "none" and .called) | "\(.class):\(.seed)"] |
		unique | length <= 1' "$T/judged"
	# python's bursts: those that keep memory leak, the others do not
	for f in $(jq -r 'select(.class == "python:burst-keep") | .file' "$T/real/manifest.jsonl"); do
		leak-classify --json "$T/real/$f" | jq -e '.verdict == "leak" and (.reason | test("of each burst"))'
	done
	for f in $(jq -r 'select(.class == "python:bursts") | .file' "$T/real/manifest.jsonl"); do
		leak-classify --json "$T/real/$f" | jq -e '.verdict != "leak"'
	done
}

@test "lives: a driver that leaks while the inverter is offline: gw-sim, gw-read's records as events" {
	local T=$BATS_TEST_TMPDIR
	start_gw_sim_tcp -m growatt-v120 --offline-after 5s --offline-for 5s
	start_bg gw-read -b tcp:127.0.0.1:$PORT -m growatt-v120 -i 500ms \
		--timeout 300ms >"$T/gw.jsonl"
	rss-watch -i 200ms -- /usr/bin/python3 "$ROOT/tests/helpers/pydriver.py" \
		"$PORT" 32 >"$T/drv.jsonl" 2>/dev/null
	stop_all
	# the driver fails (and leaks) up to its own 1 s timeout after gw-read
	# saw the inverter go: the edges' tolerance is that second
	run_split leak-classify --json --events "$T/gw.jsonl" --edge 1s "$T/drv.jsonl"
	cat "$T/out"
	[ "$status" -eq 4 ]
	jq -e '(.reason | startswith("grows only during faults")) and
		.faults.periods >= 2 and .faults.out_p > 0.01 and
		.faults.edge_s == 1' "$T/out" >/dev/null
}

@test "lives: markers of periods with --fault-event; event names nothing reads are said" {
	local T=$BATS_TEST_TMPDIR
	/usr/bin/python3 - "$T/ev.jsonl" >"$T/m.jsonl" <<'PY'
import json, random, sys
rng, t, v, ev = random.Random(2), 1.7e9, 30000.0, []
for i in range(600):
    marked = (i // 100) % 2 == 1
    v += 20 if marked else 0
    print(json.dumps({"ts": t + 60 * i, "anon_kb": round(v + rng.gauss(0, 15))}))
    if i % 100 == 0:
        ev.append({"ts": t + 60 * i, "event": "burst_start" if marked else "burst_end"})
    if i % 50 == 0:
        ev.append({"ts": t + 60 * i, "event": "heartbeat"})
with open(sys.argv[1], "w") as f:
    f.write("".join(json.dumps(e) + "\n" for e in ev))
PY
	run_split leak-classify --events "$T/ev.jsonl" --fault-event burst_start=burst_end "$T/m.jsonl"
	[ "$status" -eq 4 ]
	head -n 1 "$T/out" | grep -q "grows only during the marked periods"
	grep -q "^  marked    3 periods" "$T/out"
	grep -q "events nothing reads: heartbeat (12)" "$T/err"
	# without the pair, the markers themselves are what nothing reads
	run_split leak-classify --events "$T/ev.jsonl" "$T/m.jsonl"
	grep -q "burst_end (3), heartbeat (12), burst_start (3)" "$T/err"
	for args in "--fault-event x" "--fault-event =y" "--fault-event a=b=c" \
		"--edge 5s" "--events $T/ev.jsonl --edge soon"; do
		run_split leak-classify $args "$T/m.jsonl"
		assert_usage_error
	done
}
