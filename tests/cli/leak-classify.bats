#!/usr/bin/env bats
# leak-classify on real processes (rss-watch | leak-classify) and on
# generated and broken input.

load helpers

teardown() {
	stop_all
}

# gen N EXPR: N records, one a second, anon_kb = awk EXPR of i
gen() {
	awk -v n="$1" 'BEGIN { srand(7); for (i = 0; i < n; i++)
		printf "{\"ts\":%.3f,\"src\":\"gen\",\"pid\":42,\"start\":1.5,\"anon_kb\":%.1f}\n",
			1700000000 + i, '"$2"' }'
}

@test "leak-classify: --help and usage errors" {
	run leak-classify --help
	[ "$status" -eq 0 ]
	[[ $output == *"--envelope-share"* ]]
	for args in "--bogus" "--falling --rising" "--alpha 0" "--alpha 2" \
		"--windows 2" "--windows 100" "--limit 12Q" "--horizon soon" \
		"--min-samples 1" "--step-share 2" "--pid -4" "--min-rate -1"; do
		run_split leak-classify $args /dev/null
		assert_usage_error
	done
}

@test "leak-classify: a real leaker is a leak at its rate (within 25%)" {
	rss-watch -i 100ms -d 4s -- memhog leak --rate 2000 --for 4.5 >"$BATS_TEST_TMPDIR/rss.jsonl" || true
	run_split leak-classify --json "$BATS_TEST_TMPDIR/rss.jsonl"
	[ "$status" -eq 4 ]
	jq -e '.verdict == "leak" and .field == "anon_kb"' "$BATS_TEST_TMPDIR/out" >/dev/null
	# 2000 KB/s = 7200000 KB/h
	jq -e '.slope_per_h > 5400000 and .slope_per_h < 9000000' "$BATS_TEST_TMPDIR/out" >/dev/null
	assert_jsonl "$BATS_TEST_TMPDIR/out" leak-classify
}

@test "leak-classify: a steady process is steady" {
	rss-watch -i 50ms -d 3s -- memhog steady --base 4096 --for 3.5 >"$BATS_TEST_TMPDIR/rss.jsonl" || true
	run_split leak-classify "$BATS_TEST_TMPDIR/rss.jsonl"
	[ "$status" -eq 0 ]
	grep -q "^anon_kb: steady" "$BATS_TEST_TMPDIR/out"
}

@test "leak-classify: a GC-like sawtooth is not a leak" {
	rss-watch -i 40ms -d 4s -- memhog sawtooth --peak 6000 --period 0.5 --for 4.5 >"$BATS_TEST_TMPDIR/rss.jsonl" || true
	run_split leak-classify --json "$BATS_TEST_TMPDIR/rss.jsonl"
	[ "$status" -eq 0 ]
	jq -e '.verdict == "steady"' "$BATS_TEST_TMPDIR/out" >/dev/null
}

@test "leak-classify: a sawtooth with a leak under it is a leak" {
	rss-watch -i 40ms -d 4s -- memhog sawtooth --peak 3000 --period 0.5 --rate 1500 --for 4.5 >"$BATS_TEST_TMPDIR/rss.jsonl" || true
	run_split leak-classify --json "$BATS_TEST_TMPDIR/rss.jsonl"
	[ "$status" -eq 4 ]
	jq -e '.verdict == "leak"' "$BATS_TEST_TMPDIR/out" >/dev/null
}

@test "leak-classify: growth to a plateau is settling" {
	rss-watch -i 40ms -d 4s -- memhog settle --peak 20000 --tau 0.6 --for 4.5 >"$BATS_TEST_TMPDIR/rss.jsonl" || true
	run_split leak-classify --json "$BATS_TEST_TMPDIR/rss.jsonl"
	[ "$status" -eq 0 ]
	jq -e '.verdict == "settling"' "$BATS_TEST_TMPDIR/out" >/dev/null
}

@test "leak-classify: restarts split the series; the latest segment counts" {
	start_bg memhog restart --every 1.2 --rate 3000
	# --wait: the supervisor may not have forked its worker yet
	rss-watch -N memhog-worker --wait -i 50ms -d 3.2s >"$BATS_TEST_TMPDIR/rss.jsonl"
	run_split leak-classify --json "$BATS_TEST_TMPDIR/rss.jsonl"
	jq -e '.segment_count >= 3 and (.segments | length) >= 2' "$BATS_TEST_TMPDIR/out" >/dev/null
	jq -e '.segments | all(.pid != null)' "$BATS_TEST_TMPDIR/out" >/dev/null
}

@test "leak-classify: oom_imminent with a limit, exit 5" {
	gen 600 '50000 + 20 * i + 30 * rand()' >"$BATS_TEST_TMPDIR/in.jsonl"
	run_split leak-classify --json --limit 80M "$BATS_TEST_TMPDIR/in.jsonl"
	[ "$status" -eq 5 ]
	# 81920 KB - 62000 KB at 20 KB/s: about 1000 s
	jq -e '.verdict == "oom_imminent" and .time_to_limit_h > 0.2 and .time_to_limit_h < 0.35' "$BATS_TEST_TMPDIR/out" >/dev/null
	run_split leak-classify --json --limit 80M --horizon 10m "$BATS_TEST_TMPDIR/in.jsonl"
	[ "$status" -eq 4 ]
}

@test "leak-classify: falling free memory is a leak; --rising overrides" {
	awk 'BEGIN { for (i = 0; i < 500; i++) printf "{\"ts\":%d,\"free_heap\":%d}\n", 1700000000 + i, 90000 - 40 * i - (i % 7) }' >"$BATS_TEST_TMPDIR/in.jsonl"
	run_split leak-classify --json -f free_heap "$BATS_TEST_TMPDIR/in.jsonl"
	[ "$status" -eq 4 ]
	jq -e '.direction == "falling" and .slope_per_h < 0' "$BATS_TEST_TMPDIR/out" >/dev/null
	run_split leak-classify --json -f free_heap --rising "$BATS_TEST_TMPDIR/in.jsonl"
	[ "$status" -eq 0 ]
	jq -e '.verdict == "recovery"' "$BATS_TEST_TMPDIR/out" >/dev/null
}

@test "leak-classify: garbage lines are reported with their line number" {
	{
		gen 100 '1000 + i'
		echo 'not json at all'
		echo '{"ts": 1700000200, "anon_kb": }'
		echo '[1,2,3]'
		printf '\xff\xfe\n'
		echo ''
		echo '{"ts": 1700000300, "anon_kb": 1e400}'
	} >"$BATS_TEST_TMPDIR/in.jsonl"
	run_split leak-classify --json "$BATS_TEST_TMPDIR/in.jsonl"
	[ "$status" -eq 4 ]
	grep -q "in.jsonl:101:[0-9]*: " "$BATS_TEST_TMPDIR/err"
	grep -q "in.jsonl:102:" "$BATS_TEST_TMPDIR/err"
	grep -q "in.jsonl:103:1: not a JSON object" "$BATS_TEST_TMPDIR/err"
	grep -q "in.jsonl:106:" "$BATS_TEST_TMPDIR/err"
	jq -e '.malformed == 5 and .samples == 100' "$BATS_TEST_TMPDIR/out" >/dev/null
}

@test "leak-classify: missing fields, disorder, duplicates and huge values" {
	{
		gen 50 '1000 + 3 * i'
		echo '{"ts": 1700000060}'
		echo '{"anon_kb": 5}'
		echo '{"ts": "soon", "anon_kb": 5}'
		echo '{"ts": 1700000061, "anon_kb": null}'
		echo '{"ts": 1700000062, "anon_kb": 1e300}'
		echo '{"ts": 1700000010, "anon_kb": 1030}'
		echo '{"ts": 1700000070, "anon_kb": 1200}'
		echo '{"ts": 1700000070, "anon_kb": 1201}'
	} >"$BATS_TEST_TMPDIR/in.jsonl"
	run_split leak-classify --json "$BATS_TEST_TMPDIR/in.jsonl"
	[ "$status" -eq 4 ]
	jq -e '.skipped == 4 and .bad_ts == 1 and .out_of_order == 1 and .samples == 52' "$BATS_TEST_TMPDIR/out" >/dev/null
	grep -q "4 records without a time and a numeric anon_kb skipped" "$BATS_TEST_TMPDIR/err"
	grep -q "1 records whose time is not a positive, finite time skipped" "$BATS_TEST_TMPDIR/err"
	grep -q "1 records older than the one before skipped" "$BATS_TEST_TMPDIR/err"
}

@test "leak-classify: empty and tiny input is insufficient_data, exit 3" {
	run_split leak-classify --json </dev/null
	[ "$status" -eq 3 ]
	jq -e '.verdict == "insufficient_data" and .samples == 0' "$BATS_TEST_TMPDIR/out" >/dev/null
	gen 5 'i' | { run_split leak-classify; echo "$status" >"$BATS_TEST_TMPDIR/st"; }
	[ "$(cat "$BATS_TEST_TMPDIR/st")" -eq 3 ]
	grep -q "insufficient_data" "$BATS_TEST_TMPDIR/out"
}

@test "leak-classify: files that cannot be read, interleaved processes" {
	run_split leak-classify /no/such/file.jsonl
	[ "$status" -eq 1 ]
	grep -q "/no/such/file.jsonl" "$BATS_TEST_TMPDIR/err"
	awk 'BEGIN { for (i = 0; i < 40; i++) printf "{\"ts\":%d,\"pid\":%d,\"start\":1,\"rss_kb\":%d}\n", 1700000000 + i, 10 + i % 2, 1000 + i }' >"$BATS_TEST_TMPDIR/in.jsonl"
	run_split leak-classify "$BATS_TEST_TMPDIR/in.jsonl"
	[ "$status" -eq 1 ]
	grep -q "interleave" "$BATS_TEST_TMPDIR/err"
	run_split leak-classify --pid 10 --json "$BATS_TEST_TMPDIR/in.jsonl"
	[ "$status" -eq 4 ]
	jq -e '.samples == 20 and .field == "rss_kb"' "$BATS_TEST_TMPDIR/out" >/dev/null
}

@test "leak-classify: --events gives growth inside and outside faults" {
	# RSS grows 5 KB/s only while unit 5 is offline (t 200-400, 600-800)
	awk 'BEGIN { v = 20000; for (i = 0; i < 1000; i++) {
		if ((i >= 200 && i < 400) || (i >= 600 && i < 800)) v += 5
		printf "{\"ts\":%d,\"src\":\"rss-watch\",\"anon_kb\":%d}\n", 1700000000 + i, v } }' >"$BATS_TEST_TMPDIR/rss.jsonl"
	awk 'BEGIN { for (i = 0; i < 1000; i += 5) {
		bad = (i >= 200 && i < 400) || (i >= 600 && i < 800)
		printf "{\"ts\":%d,\"src\":\"gw-read\",\"unit\":1,\"ok\":true}\n", 1700000000 + i
		printf "{\"ts\":%d,\"src\":\"gw-read\",\"unit\":5,\"ok\":%s}\n", 1700000000 + i, bad ? "false" : "true" } }' >"$BATS_TEST_TMPDIR/poll.jsonl"
	run_split leak-classify --json --events "$BATS_TEST_TMPDIR/poll.jsonl" "$BATS_TEST_TMPDIR/rss.jsonl"
	jq -e '.faults.periods == 2 and (.faults.fault_s | . > 390 and . < 410)' "$BATS_TEST_TMPDIR/out" >/dev/null
	jq -e '(.faults.in_slope_per_h | . > 17000 and . < 19000) and (.faults.out_slope_per_h | fabs < 500)' "$BATS_TEST_TMPDIR/out" >/dev/null
	run_split leak-classify --events "$BATS_TEST_TMPDIR/poll.jsonl" "$BATS_TEST_TMPDIR/rss.jsonl"
	grep -q "faults    2 periods" "$BATS_TEST_TMPDIR/out"
	run_split leak-classify --events /no/such/events "$BATS_TEST_TMPDIR/rss.jsonl"
	[ "$status" -eq 1 ]
}

@test "leak-classify: --svg draws series, envelope and trend" {
	gen 300 '1000 + 2 * i + 5 * rand()' >"$BATS_TEST_TMPDIR/in.jsonl"
	run_split leak-classify --svg "$BATS_TEST_TMPDIR/chart.svg" "$BATS_TEST_TMPDIR/in.jsonl"
	[ "$status" -eq 4 ]
	/usr/bin/python3 -c 'import sys, xml.dom.minidom as m; d = m.parse(sys.argv[1]); assert len(d.getElementsByTagName("polyline")) == 2; assert d.getElementsByTagName("line")' "$BATS_TEST_TMPDIR/chart.svg"
	run_split leak-classify --svg /no/such/dir/x.svg "$BATS_TEST_TMPDIR/in.jsonl"
	[ "$status" -eq 1 ]
}

@test "leak-classify: a failed write is an error, a closed pipe is not" {
	gen 100 '1000 + i' >"$BATS_TEST_TMPDIR/in.jsonl"
	run_split leak-classify --json "$BATS_TEST_TMPDIR/in.jsonl" >/dev/full
	run bash -c "leak-classify --json '$BATS_TEST_TMPDIR/in.jsonl' >/dev/full"
	[ "$status" -eq 1 ]
	[[ $output == *"write error"* ]]
}

@test "leak-classify: memory stays bounded whatever the input length" {
	gen 200000 '5000 + (i % 100)' >"$BATS_TEST_TMPDIR/small.jsonl"
	gen 1000000 '5000 + (i % 100)' >"$BATS_TEST_TMPDIR/big.jsonl"
	small=$( { /usr/bin/time -f %M leak-classify --json "$BATS_TEST_TMPDIR/small.jsonl" >/dev/null; } 2>&1 | tail -1)
	big=$( { /usr/bin/time -f %M leak-classify --json "$BATS_TEST_TMPDIR/big.jsonl" >/dev/null; } 2>&1 | tail -1)
	echo "max RSS $small KB vs $big KB"
	[ $((big - small)) -lt 1024 ]
}

@test "leak-classify: valgrind-clean over report, json, svg, events and bad input" {
	gen 3000 '1000 + i + 10 * rand()' >"$BATS_TEST_TMPDIR/in.jsonl"
	printf 'garbage\n{"ts":1}\n' >>"$BATS_TEST_TMPDIR/in.jsonl"
	echo '{"ts":1700000100,"unit":5,"ok":false}' >"$BATS_TEST_TMPDIR/ev.jsonl"
	echo '{"ts":1700000200,"unit":5,"ok":true}' >>"$BATS_TEST_TMPDIR/ev.jsonl"
	run_split "${VALGRIND[@]}" leak-classify "$BATS_TEST_TMPDIR/in.jsonl"
	[ "$status" -eq 4 ]
	run_split "${VALGRIND[@]}" leak-classify --json --limit 1G --svg "$BATS_TEST_TMPDIR/c.svg" --events "$BATS_TEST_TMPDIR/ev.jsonl" "$BATS_TEST_TMPDIR/in.jsonl"
	[ "$status" -eq 4 ]
	run_split "${VALGRIND[@]}" leak-classify </dev/null
	[ "$status" -eq 3 ]
}

@test "leak-classify: valgrind-clean over episodes, faults, sawtooth, onset and steps" {
	/usr/bin/python3 "$CASES" night "$BATS_TEST_TMPDIR/ev.jsonl" >"$BATS_TEST_TMPDIR/night.jsonl"
	run_split "${VALGRIND[@]}" leak-classify --json --svg "$BATS_TEST_TMPDIR/n.svg" "$BATS_TEST_TMPDIR/night.jsonl"
	[ "$status" -eq 4 ]
	run_split "${VALGRIND[@]}" leak-classify --events "$BATS_TEST_TMPDIR/ev.jsonl" "$BATS_TEST_TMPDIR/night.jsonl"
	[ "$status" -eq 4 ]
	for c in sawtooth late; do
		/usr/bin/python3 "$CASES" "$c" >"$BATS_TEST_TMPDIR/$c.jsonl"
		run_split "${VALGRIND[@]}" leak-classify --json --warmup 10m "$BATS_TEST_TMPDIR/$c.jsonl"
		[ "$status" -eq 4 ]
	done
	/usr/bin/python3 "$CASES" steps >"$BATS_TEST_TMPDIR/steps.jsonl"
	run_split "${VALGRIND[@]}" leak-classify "$BATS_TEST_TMPDIR/steps.jsonl"
	[ "$status" -eq 0 ]
}

@test "rss-watch | leak-classify: the seed of the project, a steady process" {
	run bash -c 'rss-watch -i 50ms -d 3s -- memhog steady --for 3.5 | leak-classify'
	[ "$status" -eq 0 ]
	[[ $output == *"steady"* ]]
	# -q, for cron: nothing to say of a steady process
	run bash -c 'rss-watch -i 50ms -d 3s -- memhog steady --for 3.5 | leak-classify -q'
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}

# ---- the field's cases (issue 11) --------------------------------------

CASES="$BATS_TEST_DIRNAME/../helpers/leakcases.py"

@test "leak-classify: night-only growth judged at 19:00 is a leak, with and without --events" {
	/usr/bin/python3 "$CASES" night "$BATS_TEST_TMPDIR/ev.jsonl" >"$BATS_TEST_TMPDIR/in.jsonl"
	run_split leak-classify --json "$BATS_TEST_TMPDIR/in.jsonl"
	[ "$status" -eq 4 ]
	o=$BATS_TEST_TMPDIR/out
	jq -e '.verdict == "leak" and (.reason | startswith("grows in episodes: 2 episodes")) and
		.episodes.count == 2 and (.episodes.rate_per_h | . > 160 and . < 200) and
		(.regimes | map(.kind) | index("rise") != null) and .flat_since_ts != null' "$o" >/dev/null
	# the words say what the numbers say
	jq -e '.reason | contains("180 KB/h while growing")' "$o" >/dev/null
	run_split leak-classify --json --events "$BATS_TEST_TMPDIR/ev.jsonl" "$BATS_TEST_TMPDIR/in.jsonl"
	[ "$status" -eq 4 ]
	jq -e '.verdict == "leak" and (.reason | startswith("grows only during faults: 180 KB/h inside (2 periods, 20h 00m)")) and
		.faults.periods == 2 and .faults.in_p < 0.01 and .faults.out_p > 0.01' "$o" >/dev/null
	run_split leak-classify --events "$BATS_TEST_TMPDIR/ev.jsonl" "$BATS_TEST_TMPDIR/in.jsonl"
	grep -q "^anon_kb: leak (grows only during faults" "$o"
	grep -q "faults    2 periods" "$o"
}

@test "leak-classify: one fault period that explains the growth is a leak, morning and evening" {
	for n in 1140 1860; do
		/usr/bin/python3 "$CASES" onenight "$n" "$BATS_TEST_TMPDIR/ev.jsonl" >"$BATS_TEST_TMPDIR/in.jsonl"
		run_split leak-classify --json --events "$BATS_TEST_TMPDIR/ev.jsonl" "$BATS_TEST_TMPDIR/in.jsonl"
		[ "$status" -eq 4 ]
		jq -e '.verdict == "leak" and .faults.periods == 1 and
			(.reason | test("^grows only during faults: 1(79|80|81) KB/h inside \\(1 period, 10h 00m\\), (0|1|0\\.[0-9]) KB/h outside$"))' \
			"$BATS_TEST_TMPDIR/out" >/dev/null
	done
	# without the faults one episode that stopped is a plateau
	run_split leak-classify "$BATS_TEST_TMPDIR/in.jsonl"
	[ "$status" -eq 0 ]
	grep -Eq "^anon_kb: settling \(grew once, by 1\.[78] MB, and is flat since 2025-12-02 05:5" "$BATS_TEST_TMPDIR/out"
}

@test "leak-classify: a late onset is a leak, its onset found" {
	/usr/bin/python3 "$CASES" late >"$BATS_TEST_TMPDIR/in.jsonl"
	run_split leak-classify --json "$BATS_TEST_TMPDIR/in.jsonl"
	[ "$status" -eq 4 ]
	# onset at 2.5 h of 6 h: within 5 % of the span (18 min)
	jq -e '.verdict == "leak" and (.onset_ts - .first_ts | . > 150 * 60 - 1080 and . < 150 * 60 + 1080) and
		(.slope_per_h | . > 2160 and . < 2640)' "$BATS_TEST_TMPDIR/out" >/dev/null
	run_split leak-classify "$BATS_TEST_TMPDIR/in.jsonl"
	grep -q "^anon_kb: leak (grows [0-9.]* [KM]B/h since 2025-12-01 02:" "$BATS_TEST_TMPDIR/out"
}

@test "leak-classify: the floor under a sawtooth decides, whatever its amplitude" {
	/usr/bin/python3 "$CASES" sawtooth >"$BATS_TEST_TMPDIR/in.jsonl"
	run_split leak-classify --json "$BATS_TEST_TMPDIR/in.jsonl"
	[ "$status" -eq 4 ]
	jq -e '.verdict == "leak" and .sawtooth and (.reason | startswith("the floor under the sawtooth grows")) and
		(.slope_per_h | . > 340 and . < 460)' "$BATS_TEST_TMPDIR/out" >/dev/null
}

@test "leak-classify: steps that come back down are steady, in words that match" {
	/usr/bin/python3 "$CASES" steps >"$BATS_TEST_TMPDIR/in.jsonl"
	run_split leak-classify --json "$BATS_TEST_TMPDIR/in.jsonl"
	[ "$status" -eq 0 ]
	jq -e '.verdict == "steady" and (.reason | startswith("rose by")) and (.reason | contains("came back"))' \
		"$BATS_TEST_TMPDIR/out" >/dev/null
}

@test "leak-classify: --events that cannot be read is an error with a message" {
	gen 100 '1000 + rand()' >"$BATS_TEST_TMPDIR/in.jsonl"
	run_split leak-classify --events "$BATS_TEST_TMPDIR" "$BATS_TEST_TMPDIR/in.jsonl"
	[ "$status" -eq 1 ]
	grep -q "read error: Is a directory" "$BATS_TEST_TMPDIR/err"
	run_split leak-classify --events /no/such/events.jsonl "$BATS_TEST_TMPDIR/in.jsonl"
	[ "$status" -eq 1 ]
	grep -q "/no/such/events.jsonl: No such file" "$BATS_TEST_TMPDIR/err"
}

@test "leak-classify: --warmup leaves the start-up ramp out, auto when age_s shows the start" {
	# a process seen half a second after its start: ramps for 40 s, flat
	/usr/bin/python3 -c '
import json
for i in range(600):
    v = 5000 + (100 * i if i < 40 else 4000) + (i * 7919 % 13)
    print(json.dumps({"ts": 1.7e9 + i, "anon_kb": v, "age_s": 0.5 + i}))' >"$BATS_TEST_TMPDIR/in.jsonl"
	run_split leak-classify --json "$BATS_TEST_TMPDIR/in.jsonl"
	jq -e '.verdict == "steady" and (.warmup_s | . > 59 and . < 60)' "$BATS_TEST_TMPDIR/out" >/dev/null
	run_split leak-classify --json --warmup 0 "$BATS_TEST_TMPDIR/in.jsonl"
	jq -e '.verdict == "settling" and .warmup_s == 0' "$BATS_TEST_TMPDIR/out" >/dev/null
	run_split leak-classify --warmup soon "$BATS_TEST_TMPDIR/in.jsonl"
	assert_usage_error
}

# ---- real runtimes, recorded by rss-watch ---------------------------------

# record NAME CMD...: rss-watch every 100 ms over the launched command
# (its output, on rss-watch's stderr, in NAME.err)
record() {
	local name=$1
	shift
	rss-watch -i 100ms -- "$@" >"$BATS_TEST_TMPDIR/$name.jsonl" 2>"$BATS_TEST_TMPDIR/$name.err"
}

@test "leak-classify: CPython: churn steady, a retaining leak, an lru_cache settling" {
	PY="$BATS_TEST_DIRNAME/../helpers/pyheap.py"
	record churn /usr/bin/python3 "$PY" churn 8 &
	record leak /usr/bin/python3 "$PY" leak 9 &
	record lru /usr/bin/python3 "$PY" lru 9
	wait
	run_split leak-classify --json "$BATS_TEST_TMPDIR/churn.jsonl"
	cat "$BATS_TEST_TMPDIR/out" # shown when the test fails
	[ "$status" -eq 0 ]
	jq -e '.verdict == "steady" and (.reason | test("grows|growth") | not)' "$BATS_TEST_TMPDIR/out" >/dev/null
	run_split leak-classify --json "$BATS_TEST_TMPDIR/leak.jsonl"
	# shown when it fails: the verdict and what the recording held
	jq -c '{verdict, reason, samples, span_s, slope_per_h, onset_s: (.onset_ts - .first_ts)}' "$BATS_TEST_TMPDIR/out" || cat "$BATS_TEST_TMPDIR/err"
	grep -c anon_kb "$BATS_TEST_TMPDIR/leak.jsonl" || true
	[ "$status" -eq 4 ]
	# about 1 MB a second, found within a second and a half of when the
	# program began to keep it (a third of its own time: later than a
	# third of the recording when its start was slow, as on a loaded
	# machine or beside emulated recorders)
	from=$(sed -n 's/^pyheap: leaking from //p' "$BATS_TEST_TMPDIR/leak.err")
	echo "leaking from $from"
	jq -e --argjson from "$from" '.verdict == "leak" and
		(.slope_per_h / 3600 | . > 600 and . < 1400) and
		(.onset_ts - $from | . > -1 and . < 1.5)' "$BATS_TEST_TMPDIR/out" >/dev/null
	run_split leak-classify --json "$BATS_TEST_TMPDIR/lru.jsonl"
	[ "$status" -eq 0 ]
	jq -e '.verdict == "settling" or .verdict == "steady"' "$BATS_TEST_TMPDIR/out" >/dev/null
}

@test "leak-classify: node: churn steady in words that match, a late leak found at its onset" {
	JS="$BATS_TEST_DIRNAME/../helpers/nodeheap.js"
	record churn node "$JS" churn 10 &
	record late node "$JS" late-leak 10
	wait
	run_split leak-classify --json "$BATS_TEST_TMPDIR/churn.jsonl"
	cat "$BATS_TEST_TMPDIR/out" # shown when the test fails
	# (a floor with one step of V8's, under 20 teeth, once read as a line)
	[ "$status" -eq 0 ]
	# no leak, and words that do not say it grows
	jq -e '(.verdict == "steady" or .verdict == "settling") and
		(.reason | test("^grows|growth is") | not)' "$BATS_TEST_TMPDIR/out" >/dev/null
	run_split leak-classify "$BATS_TEST_TMPDIR/churn.jsonl"
	! grep -q "significant but below" "$BATS_TEST_TMPDIR/out"
	run_split leak-classify --json "$BATS_TEST_TMPDIR/late.jsonl"
	cat "$BATS_TEST_TMPDIR/out" # shown when the test fails
	[ "$status" -eq 4 ]
	jq -e '.verdict == "leak" and (.onset_ts - .first_ts | . > 3 and . < 6)' "$BATS_TEST_TMPDIR/out" >/dev/null
}

@test "leak-classify: node: a floor that stepped once in a short recording is no leak" {
	run_split leak-classify "$BATS_TEST_DIRNAME/../fixtures/node-churn-one-step.jsonl"
	[ "$status" -eq 0 ]
	grep -q "^anon_kb: settling (grew once, by 52 KB, and is flat since" "$BATS_TEST_TMPDIR/out"
}

@test "leak-classify: bash completion offers options and fields" {
	run complete_words leak-classify --env
	[ "$output" = --envelope-share ]
	run complete_words leak-classify -f free
	[ "$output" = free_heap ]
}

# record_maps NAME CMD...: rss-watch --maps, smaps at every sample
record_maps() { # record_maps NAME CMD...: for ${RECORD_S:-5} s
	local name=$1
	shift
	rss-watch --maps --maps-every 1 -i 100ms -d "${RECORD_S:-5}s" -- "$@" \
		>"$BATS_TEST_TMPDIR/$name.jsonl" 2>/dev/null || true
}

@test "leak-classify: where: the brk heap, anonymous mappings and a file mapping, each named" {
	record_maps heap maphog heap --rate 2000 --for 5.5 &
	record_maps anon maphog anon --rate 2000 --for 5.5 &
	record_maps file maphog file --rate 4000 --file "$BATS_TEST_TMPDIR/f.bin" --for 5.5
	wait
	for m in heap anon; do
		run_split leak-classify --json "$BATS_TEST_TMPDIR/$m.jsonl"
		[ "$status" -eq 4 ]
		jq -e --arg m "[$m]" '.verdict == "leak" and .where[0].mapping == $m and
			.where[0].share > 0.9 and
			(.where[0].slope_per_h / .slope_per_h | . > 0.8 and . < 1.25) and
			(.where | map(.share) | add | . > 0.99 and . < 1.01)' "$BATS_TEST_TMPDIR/out" >/dev/null
	done
	run_split leak-classify --svg "$BATS_TEST_TMPDIR/heap.svg" "$BATS_TEST_TMPDIR/heap.jsonl"
	grep -Eq "^  where     (9[0-9]|100) % of the growth is in the brk heap \(\[heap\]" "$BATS_TEST_TMPDIR/out"
	# the chart gains the classes stacked, the heap's band widening
	/usr/bin/python3 -c 'import sys, xml.dom.minidom as m
d = m.parse(sys.argv[1])
bands = [p for p in d.getElementsByTagName("polygon") if p.getAttribute("fill") == "#e4572e"]
assert len(bands) == 1
pts = [tuple(map(float, q.split(","))) for q in bands[0].getAttribute("points").split()]
n = len(pts) // 2
first, last = pts[2 * n - 1][1] - pts[0][1], pts[n][1] - pts[n - 1][1]
assert last > 3 * first, (first, last)
labels = [t.firstChild.data for t in d.getElementsByTagName("text")]
assert all("[%s]" % c in labels for c in ("heap", "anon", "stack", "shmem", "file"))' "$BATS_TEST_TMPDIR/heap.svg"
	# a file mapping grows rss_kb, not anon_kb: by its basename
	run_split leak-classify --json -f rss_kb "$BATS_TEST_TMPDIR/file.jsonl"
	jq -e '.verdict == "leak" and .where[0].mapping == "f.bin" and .where[0].share > 0.9' "$BATS_TEST_TMPDIR/out" >/dev/null
}

@test "leak-classify: where: arenas multiplying with threads, each flat, are fragmentation" {
	record_maps arenas maphog arenas --every 0.4 --kb 2048 --for 5.5
	run_split leak-classify --json "$BATS_TEST_TMPDIR/arenas.jsonl"
	[ "$status" -eq 4 ]
	jq -e '.verdict == "fragmentation_suspect" and .arenas.fired and
		.arenas.to >= .arenas.from + 2 and .arenas.threads_to > .arenas.threads_from and
		(.reason | test("arena heaps multiply with the threads")) and
		.where[0].mapping == "[anon]"' "$BATS_TEST_TMPDIR/out" >/dev/null
	# one thread allocating the same is no arena story: a leak in the heap
	record_maps one maphog heap --rate 1000 --for 5.5
	run_split leak-classify --json "$BATS_TEST_TMPDIR/one.jsonl"
	jq -e '.verdict == "leak" and (.arenas.fired | not)' "$BATS_TEST_TMPDIR/out" >/dev/null
}

@test "leak-classify: where: a heap that outgrows the allocations is fragmentation; one that follows them a leak" {
	record_maps frag maphog fragment --rate 2000 --alloc-log "$BATS_TEST_TMPDIR/allocs.jsonl" --for 5.5
	run_split leak-classify --json --alloc-field alloc_kb "$BATS_TEST_TMPDIR/frag.jsonl" "$BATS_TEST_TMPDIR/allocs.jsonl"
	[ "$status" -eq 4 ]
	jq -e '.verdict == "fragmentation_suspect" and .allocations.fired and
		.allocations.field == "alloc_kb" and
		.allocations.alloc_slope_per_h < 0.25 * .allocations.heap_slope_per_h and
		(.reason | test("the brk heap grows .* while the allocations \\(alloc_kb\\) grow"))' "$BATS_TEST_TMPDIR/out" >/dev/null
	! grep -q "skipped" "$BATS_TEST_TMPDIR/err"
	# without the allocations, the same heap is a leak: nothing to tell
	run_split leak-classify --json "$BATS_TEST_TMPDIR/frag.jsonl"
	jq -e '.verdict == "leak" and (has("allocations") | not)' "$BATS_TEST_TMPDIR/out" >/dev/null
	# allocations that grow with the heap: a leak it stays
	record_maps heap maphog heap --rate 2000 --for 5.5
	jq -c 'select(.maps) | {ts, alloc_kb: (.maps.heap_kb * 0.9)}' "$BATS_TEST_TMPDIR/heap.jsonl" >"$BATS_TEST_TMPDIR/follow.jsonl"
	run_split "${VALGRIND[@]}" leak-classify --json --alloc-field alloc_kb "$BATS_TEST_TMPDIR/heap.jsonl" "$BATS_TEST_TMPDIR/follow.jsonl"
	[ "$status" -eq 4 ]
	jq -e '.verdict == "leak" and (.allocations.fired | not)' "$BATS_TEST_TMPDIR/out" >/dev/null
}

@test "leak-classify: where: a CPython and a node leak live in the brk heap; a restart forgets the old process's maps" {
	# 8 s: growth from 40 % on, after an interpreter's start on a busy host
	RECORD_S=8 record_maps py /usr/bin/python3 "$BATS_TEST_DIRNAME/../helpers/pyheap.py" leak 8 &
	RECORD_S=8 record_maps js node "$BATS_TEST_DIRNAME/../helpers/nodeheap.js" late-leak 8
	wait
	# bytearray(10 KB) and Buffer.alloc(100 KB) are malloc'd below glibc's
	# mmap threshold: the main arena, the brk heap.  (The verdict of 3 s
	# of growth that ends with the recording may be settling; where the
	# growth was is the question here.)
	for rec in py js; do
		run_split leak-classify --json -f rss_kb "$BATS_TEST_TMPDIR/$rec.jsonl"
		cat "$BATS_TEST_TMPDIR/out" # shown when the test fails
		jq -e '(.verdict == "leak" or .verdict == "settling") and
			.where[0].mapping == "[heap]" and .where[0].share > 0.7' "$BATS_TEST_TMPDIR/out" >/dev/null
	done
	# records without maps: no "where" at all; garbage maps: ignored
	jq -c 'del(.maps)' "$BATS_TEST_TMPDIR/py.jsonl" >"$BATS_TEST_TMPDIR/plain.jsonl"
	run_split leak-classify --json "$BATS_TEST_TMPDIR/plain.jsonl"
	jq -e 'has("where") | not' "$BATS_TEST_TMPDIR/out" >/dev/null
	jq -c '.maps = (if .maps then {"heap_kb": "x", "top": 7} else .maps end)' \
		"$BATS_TEST_TMPDIR/py.jsonl" >"$BATS_TEST_TMPDIR/bad.jsonl"
	run_split "${VALGRIND[@]}" leak-classify --json "$BATS_TEST_TMPDIR/bad.jsonl"
	[ "$status" -eq 0 ] || [ "$status" -eq 4 ]
	jq -e '.verdict != "insufficient_data" and (has("where") | not)' "$BATS_TEST_TMPDIR/out" >/dev/null
	# two processes one after the other: the second's growth only
	record_maps anon maphog anon --rate 2000 --for 5.5
	cat "$BATS_TEST_TMPDIR/py.jsonl" "$BATS_TEST_TMPDIR/anon.jsonl" >"$BATS_TEST_TMPDIR/two.jsonl"
	run_split "${VALGRIND[@]}" leak-classify --json "$BATS_TEST_TMPDIR/two.jsonl"
	jq -e '.where[0].mapping == "[anon]" and .where[0].share > 0.9' "$BATS_TEST_TMPDIR/out" >/dev/null
}

@test "leak-classify: other recorders' logs: psrecord and prmon (fixtures), mprof (the real tool), CSV" {
	F=$BATS_TEST_DIRNAME/../fixtures
	# psrecord and prmon are not in Debian: their fixtures are written from
	# their source (psrecord/main.py monitor(); prmon's package/src/prmon.cpp
	# and README), see tests/fixtures/README
	run_split leak-classify --json "$F/psrecord-leak.txt"
	[ "$status" -eq 4 ]
	# 0.02 MB/s of Real (MB), psutil's MiB: 73.7 MB/h in KiB
	jq -e '.verdict == "leak" and .field == "rss_kb" and
		(.slope_per_h | . > 0.9 * 73728 and . < 1.1 * 73728)' "$BATS_TEST_TMPDIR/out" >/dev/null
	run_split leak-classify -f uss_kb "$F/psrecord-steady-uss.txt"
	[ "$status" -eq 0 ]
	grep -q "^uss_kb: steady" "$BATS_TEST_TMPDIR/out"
	run_split leak-classify --json -f pss_kb "$F/prmon-leak.txt"
	[ "$status" -eq 4 ]
	# 50 kB per 30 s sample
	jq -e '.verdict == "leak" and (.slope_per_h | . > 5400 and . < 6600)' "$BATS_TEST_TMPDIR/out" >/dev/null
	run_split leak-classify --json -f heap_kb "$F/plain-leak.csv"
	jq -e '.verdict == "leak" and (.slope_per_h | . > 650 and . < 790)' "$BATS_TEST_TMPDIR/out" >/dev/null
	run_split leak-classify --json -f free_kb --format csv - <"$F/plain-leak.csv"
	jq -e '.verdict == "leak" and .direction == "falling"' "$BATS_TEST_TMPDIR/out" >/dev/null
	# mprof, run here: MEM is the series; CHLD series by --child
	(cd "$BATS_TEST_TMPDIR" && python3-mprof run -o leak.dat --interval 0.1 \
		memhog leak --rate 2000 --for 4 >/dev/null 2>&1)
	run_split leak-classify --json "$BATS_TEST_TMPDIR/leak.dat"
	[ "$status" -eq 4 ]
	jq -e '.verdict == "leak" and (.slope_per_h / 3600 | . > 1500 and . < 2700)' "$BATS_TEST_TMPDIR/out" >/dev/null
	(cd "$BATS_TEST_TMPDIR" && python3-mprof run -M -o multi.dat --interval 0.1 \
		sh -c 'memhog leak --rate 2000 --for 4 & wait' >/dev/null 2>&1)
	run_split leak-classify "$BATS_TEST_TMPDIR/multi.dat"
	grep -q "the CHLD series of [0-9]* not judged: pick one with --child ID" "$BATS_TEST_TMPDIR/err"
	id=$(awk '$1 == "CHLD" { print $2; exit }' "$BATS_TEST_TMPDIR/multi.dat")
	run_split leak-classify --child "$id" "$BATS_TEST_TMPDIR/multi.dat"
	[ "$status" -eq 4 ]
	grep -q "^rss_kb: leak" "$BATS_TEST_TMPDIR/out"
}

@test "leak-classify: --format: bad names and values, a log read as the wrong format" {
	F=$BATS_TEST_DIRNAME/../fixtures
	for args in "--format nope" "--format PRMON" "--child -5" "--child 3 --format csv"; do
		run_split leak-classify $args "$F/prmon-leak.txt"
		assert_usage_error
	done
	# a JSONL stream said to be psrecord: every line malformed, named
	printf '{"ts":1,"rss_kb":5}\n{"ts":2,"rss_kb":6}\n' >"$BATS_TEST_TMPDIR/x.jsonl"
	run_split "${VALGRIND[@]}" leak-classify --format psrecord "$BATS_TEST_TMPDIR/x.jsonl"
	[ "$status" -eq 3 ]
	grep -q "x.jsonl:1: not as many fields as the header names" "$BATS_TEST_TMPDIR/err"
	# garbage inside each format: reported with its line, the rest judged
	{ cat "$F/prmon-leak.txt"; printf 'zzz\t1\n'; } >"$BATS_TEST_TMPDIR/p.txt"
	run_split "${VALGRIND[@]}" leak-classify "$BATS_TEST_TMPDIR/p.txt"
	[ "$status" -eq 4 ]
	grep -q "p.txt:182: not as many fields as the header names" "$BATS_TEST_TMPDIR/err"
	printf 'host,heap_kb\na,1\n' >"$BATS_TEST_TMPDIR/c.csv"
	run_split leak-classify --format csv "$BATS_TEST_TMPDIR/c.csv"
	grep -q "c.csv:1: no ts, time or timestamp column in the header" "$BATS_TEST_TMPDIR/err"
	printf 'CMDLINE x\nMEM 1.0 1764633600\nHEAP 7\n' >"$BATS_TEST_TMPDIR/m.dat"
	run_split leak-classify "$BATS_TEST_TMPDIR/m.dat"
	grep -q "m.dat:3: not an mprof MEM, CHLD, FUNC or CMDLINE line" "$BATS_TEST_TMPDIR/err"
}

@test "leak-classify: --by host judges each device, worst first, exit of the worst" {
	local T=$BATS_TEST_TMPDIR
	/usr/bin/python3 "$ROOT/tests/bench/fleetgen.py" 8 400 2,5 >"$T/fleet.jsonl"
	# garbage between the records is reported and skipped
	sed -i '100a not json\n{"ts":"x","host":"gx1"}' "$T/fleet.jsonl"
	run_split leak-classify --by host "$T/fleet.jsonl"
	[ "$status" -eq 4 ]
	head -3 "$BATS_TEST_TMPDIR/out"
	[ "$(sed -n 2p "$BATS_TEST_TMPDIR/out" | awk '{print $2}')" = leak ]
	[ "$(awk 'NR > 1 && $2 == "leak" {print $1}' "$BATS_TEST_TMPDIR/out" | sort | paste -sd' ')" = "gx2 gx5" ]
	[ "$(awk 'NR > 1' "$BATS_TEST_TMPDIR/out" | wc -l)" -eq 8 ]
	grep -q 'fleet.jsonl:101:' "$BATS_TEST_TMPDIR/err"
	# JSON: one verdict per group with its fields; two fields
	run_split leak-classify --by host,comm --json "$T/fleet.jsonl"
	[ "$(jq -r 'select(.verdict == "leak") | "\(.host)/\(.comm)"' "$BATS_TEST_TMPDIR/out" | sort | paste -sd' ')" = "gx2/python3 gx5/python3" ]
	# the garbage record without a comm is a group of its own, too short
	[ "$(jq -s length "$BATS_TEST_TMPDIR/out")" -eq 9 ]
	[ "$(jq -r 'select(.comm == "") | .verdict' "$BATS_TEST_TMPDIR/out")" = insufficient_data ]
	# all steady: exit 0; devices in any order, each in its own
	grep -v '"gx[25]"' "$T/fleet.jsonl" | grep '^{"ts":[0-9]' |
		sort -s -t'"' -k10,10r >"$T/calm.jsonl"
	[ "$(head -1 "$T/calm.jsonl" | jq -r .host)" = gx7 ]
	run_split leak-classify --by host "$T/calm.jsonl"
	cat "$BATS_TEST_TMPDIR/out"
	[ "$status" -eq 0 ]
	[ "$(awk 'NR > 1 && $2 == "steady"' "$BATS_TEST_TMPDIR/out" | wc -l)" -eq 6 ]
	[ ! -s "$BATS_TEST_TMPDIR/err" ]
}

@test "leak-classify: --expire judges a silent group while the input goes on" {
	local T=$BATS_TEST_TMPDIR
	mkfifo "$T/in"
	start_bg bash -c "leak-classify --by host --json --expire 10m <'$T/in' >'$T/out'"
	exec 5>"$T/in"
	/usr/bin/python3 "$ROOT/tests/bench/fleetgen.py" 2 200 1 >&5
	# gx0 and gx1 stop at 199 minutes; gx9 goes on for two more hours
	/usr/bin/python3 -c '
for i in range(200, 340):
    print("{\"ts\":%.1f,\"src\":\"rss-watch\",\"host\":\"gx9\",\"pid\":9,\"start\":5,\"anon_kb\":%d}" % (1.7e9 + 60 * i, 30000 + i % 7))' >&5
	local i
	for i in $(seq 1 100); do
		[ "$(jq -s length "$T/out" 2>/dev/null)" = 2 ] && break
		sleep 0.05
	done
	# judged before the end of the input, and dropped
	[ "$(jq -r .host "$T/out" | sort | paste -sd' ')" = "gx0 gx1" ]
	exec 5>&-
	for i in $(seq 1 100); do
		[ "$(jq -s length "$T/out")" = 3 ] && break
		sleep 0.05
	done
	[ "$(jq -r 'select(.host == "gx1") | .verdict' "$T/out")" = leak ]
	[ "$(jq -r 'select(.host == "gx9") | .verdict' "$T/out")" = steady ]
}

@test "leak-classify: --by and --expire refuse what they cannot do" {
	run_split leak-classify --expire 1h
	assert_usage_error
	grep -q "goes with --by" "$BATS_TEST_TMPDIR/err"
	run_split leak-classify --by host --expire soon
	assert_usage_error
	run_split leak-classify --by a,b,c,d,e
	assert_usage_error
	run_split leak-classify --by host --svg /tmp/x.svg
	assert_usage_error
	run_split leak-classify --by ,
	assert_usage_error
}

@test "leak-classify: valgrind-clean over --by with --expire, and its bound per group said" {
	local T=$BATS_TEST_TMPDIR
	/usr/bin/python3 "$ROOT/tests/bench/fleetgen.py" 30 200 3 >"$T/fleet.jsonl"
	run_split "${VALGRIND[@]}" leak-classify -v --by host --expire 30m "$T/fleet.jsonl"
	[ "$status" -eq 4 ]
	grep -q 'groups left of at most [0-9]* KiB each' "$BATS_TEST_TMPDIR/err"
	kib=$(grep -o 'at most [0-9]* KiB' "$BATS_TEST_TMPDIR/err" | grep -o '[0-9]*')
	[ "$kib" -le 64 ]
}

@test "leak-classify: --by keeps at most --max-groups groups, says so once, judges those it kept" {
	local T=$BATS_TEST_TMPDIR
	/usr/bin/python3 -c '
import json
for i in range(3000):
    for h in range(1200):
        if i % 100 == h % 100:
            print(json.dumps({"ts": 1.7e9 + 60 * i, "host": "h%d" % h, "anon_kb": 30000 + (i if h == 3 else 0)}))
' >"$T/in.jsonl"
	run_split leak-classify --by host --json "$T/in.jsonl"
	[ "$(grep -c 'more than 1000 groups' "$T/err")" -eq 1 ]
	grep -q "records of groups past --max-groups 1000 skipped" "$T/err"
	[ "$(jq -s length "$T/out")" -eq 1000 ]
	[ "$(jq -r 'select(.host == "h3") | .verdict' "$T/out")" = leak ]
	run_split leak-classify --by host --max-groups 5 --json "$T/in.jsonl"
	[ "$(jq -s length "$T/out")" -eq 5 ]
	run_split leak-classify --by host --max-groups 0 "$T/in.jsonl"
	assert_usage_error
}
