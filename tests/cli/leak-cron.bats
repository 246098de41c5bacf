#!/usr/bin/env bats
# leak-classify as cron and people use it: -q, --max-age, --last and
# --min-rate; a report in units; the input people have (dotted fields,
# other time keys, ISO 8601, bad stamps); the cron recipes of gxkit(7).

load helpers

teardown() {
	stop_all
}

# the free heap of a device, as /leakhunt records it
lc() { leak-classify -f free_heap "$@"; }

# heap N STEP [KEY]: N records a minute apart of a free heap in bytes that
# falls STEP a minute, stamped now - N minutes on; KEY names the stamp
heap() {
	awk -v n="$1" -v step="$2" -v now="$(date +%s)" 'BEGIN { srand(3)
		for (i = 0; i < n; i++)
			printf "{\"ts\":%d,\"free_heap\":%d}\n",
				now - (n - i) * 60, 140000 - step * i - 40 * rand() }'
}

@test "leak-cron: -q is silent unless the verdict calls for action" {
	heap 600 0 >"$BATS_TEST_TMPDIR/flat.jsonl"
	run_split lc -q "$BATS_TEST_TMPDIR/flat.jsonl"
	[ "$status" -eq 0 ]
	[ ! -s "$BATS_TEST_TMPDIR/out" ] && [ ! -s "$BATS_TEST_TMPDIR/err" ]
	# too little data: exit 3, and nothing to mail
	heap 5 0 >"$BATS_TEST_TMPDIR/few.jsonl"
	run_split lc -q "$BATS_TEST_TMPDIR/few.jsonl"
	[ "$status" -eq 3 ]
	[ ! -s "$BATS_TEST_TMPDIR/out" ]
	# a leak: the report, which cron mails
	heap 600 80 >"$BATS_TEST_TMPDIR/leak.jsonl"
	run_split lc -q "$BATS_TEST_TMPDIR/leak.jsonl"
	[ "$status" -eq 4 ]
	grep -q '^free_heap: leak (loses 80 B/min since ' "$BATS_TEST_TMPDIR/out"
}

@test "leak-cron: a falling heap is said as falling, in its units, with the sign of its fall" {
	heap 600 82 >"$BATS_TEST_TMPDIR/in.jsonl"
	run_split lc "$BATS_TEST_TMPDIR/in.jsonl"
	[ "$status" -eq 4 ]
	head -n 1 "$BATS_TEST_TMPDIR/out" | grep -Eq '^free_heap: leak \(loses 8[0-4] B/min since [0-9-]+ [0-9:]+, -[0-9.]+ %/day\)$'
	grep -Eq '^  series +600 samples over 9h 59m, level [0-9]+ KB, last [0-9]+ KB' "$BATS_TEST_TMPDIR/out"
	# no e-notation, no statistics' jargon on the first screen
	! grep -Eq '[0-9]e[+-][0-9]|Theil-Sen|Mann-Kendall|lag-1|one-sided' "$BATS_TEST_TMPDIR/out"
	! grep -q 'episodes of growth' "$BATS_TEST_TMPDIR/out"
	# they move under -v
	run_split lc -v "$BATS_TEST_TMPDIR/in.jsonl"
	grep -q 'Theil-Sen .* B/min' "$BATS_TEST_TMPDIR/out"
	grep -q '^  noise ' "$BATS_TEST_TMPDIR/out"
	# the JSON's %/day is negative on a fall too
	lc --json "$BATS_TEST_TMPDIR/in.jsonl" |
		jq -e '.rate_pct_day < 0 and .slope_per_h < 0 and .direction == "falling"' >/dev/null
}

@test "leak-cron: --min-rate with units: absolute beside relative" {
	heap 600 82 >"$BATS_TEST_TMPDIR/in.jsonl"
	# 82 B/min is under 100 B/min: not a leak by that rule
	run_split lc --min-rate 100B/min "$BATS_TEST_TMPDIR/in.jsonl"
	[ "$status" -eq 0 ]
	grep -q 'below --min-rate 100 B/min' "$BATS_TEST_TMPDIR/out"
	# /leakhunt's rule, slope below -50 B/min: a leak
	run_split lc --min-rate 50B/min "$BATS_TEST_TMPDIR/in.jsonl"
	[ "$status" -eq 4 ]
	# both rules together: each must hold
	run_split lc --min-rate 50B/min --min-rate 200%/day "$BATS_TEST_TMPDIR/in.jsonl"
	[ "$status" -eq 0 ]
	run_split lc --min-rate 3K/h "$BATS_TEST_TMPDIR/in.jsonl"
	[ "$status" -eq 4 ]
	for bad in 50 B/min 5Q/min -3B/min 1%/week 50B/fortnight ''; do
		run_split lc --min-rate "$bad" "$BATS_TEST_TMPDIR/in.jsonl"
		[ "$status" -eq 2 ] || [ "$bad" = 50 ]
	done
	grep -q -- '--min-rate' "$BATS_TEST_TMPDIR/err"
}

@test "leak-cron: --max-age calls old data stale, exit 6, in words, -q or not" {
	awk -v now="$(date +%s)" 'BEGIN { for (i = 0; i < 600; i++)
		printf "{\"ts\":%d,\"free_heap\":%d}\n", now - 90000 + i * 60, 140000 - 80 * i }' \
		>"$BATS_TEST_TMPDIR/old.jsonl"
	run_split lc --max-age 1h "$BATS_TEST_TMPDIR/old.jsonl"
	[ "$status" -eq 6 ]
	grep -Eq '^free_heap: stale \(the last sample is 15h [0-9]{2}m old, from .*: over --max-age 1h 00m\)' "$BATS_TEST_TMPDIR/out"
	run_split lc -q --max-age 1h "$BATS_TEST_TMPDIR/old.jsonl"
	[ "$status" -eq 6 ]
	[ ! -s "$BATS_TEST_TMPDIR/out" ]
	lc --json --max-age 1h "$BATS_TEST_TMPDIR/old.jsonl" |
		jq -e '.verdict == "stale" and .age_s > 54000 and .age_s < 54600 and .max_age_s == 3600' >/dev/null
	# fresh enough: judged as usual
	run_split lc --max-age 1d "$BATS_TEST_TMPDIR/old.jsonl"
	[ "$status" -eq 4 ]
	run_split lc --max-age soon "$BATS_TEST_TMPDIR/old.jsonl"
	assert_usage_error
}

@test "leak-cron: --last judges only the last hours" {
	# a leak the first 8 h, flat the last 2 h
	awk -v now="$(date +%s)" 'BEGIN { srand(5); for (i = 0; i < 600; i++)
		printf "{\"ts\":%d,\"free_heap\":%d}\n", now - (600 - i) * 60,
			(i < 480 ? 140000 - 80 * i : 140000 - 80 * 480) + 40 * rand() }' \
		>"$BATS_TEST_TMPDIR/in.jsonl"
	lc --json "$BATS_TEST_TMPDIR/in.jsonl" | jq -e '.samples == 600' >/dev/null
	run_split lc --json --last 90m "$BATS_TEST_TMPDIR/in.jsonl"
	jq -e '.samples >= 90 and .samples <= 91 and .verdict == "steady"' "$BATS_TEST_TMPDIR/out" >/dev/null
	[ "$status" -eq 0 ]
	run_split lc --last 0 "$BATS_TEST_TMPDIR/in.jsonl"
	assert_usage_error
}

@test "leak-cron: dotted fields, other time keys in s, ms and ns, ISO 8601 strings" {
	local base=1764806400 # 2025-12-04 00:00:00 UTC
	awk -v b=$base 'BEGIN { for (i = 0; i < 300; i++) {
		v = 140000 - 80 * i
		printf "{\"timestamp\":%.0f,\"payload\":{\"free_heap\":%d}}\n", (b + 60 * i) * 1000, v >"'"$BATS_TEST_TMPDIR"'/ms.jsonl"
		printf "{\"t\":%.0f,\"free_heap\":%d}\n", (b + 60 * i) * 1e9, v >"'"$BATS_TEST_TMPDIR"'/ns.jsonl"
		printf "{\"time\":%d,\"free_heap\":%d}\n", b + 60 * i, v >"'"$BATS_TEST_TMPDIR"'/s.jsonl"
		printf "{\"when\":\"2025-12-04T%02d:%02d:00+01:00\",\"free_heap\":%d}\n", int(i / 60), i % 60, v >"'"$BATS_TEST_TMPDIR"'/iso.jsonl"
	} }'
	local f
	for f in payload.free_heap:ms free_heap:ns free_heap:s; do
		leak-classify --json -f "${f%:*}" "$BATS_TEST_TMPDIR/${f#*:}.jsonl" >"$BATS_TEST_TMPDIR/out" || true
		jq -e '.samples == 300 and .span_s == 17940 and .verdict == "leak" and
			(.slope_per_h | . < -4700 and . > -4900)' "$BATS_TEST_TMPDIR/out" >/dev/null
	done
	# the dotted field is named in the report
	run_split leak-classify -f payload.free_heap "$BATS_TEST_TMPDIR/ms.jsonl"
	grep -q '^payload.free_heap: leak (loses 80 B/min since 2025-12-04 00:' "$BATS_TEST_TMPDIR/out"
	# an ISO stamp with its zone, under a key named with --time-field
	run_split leak-classify --json -f free_heap --time-field when "$BATS_TEST_TMPDIR/iso.jsonl"
	[ "$status" -eq 4 ]
	jq -e '.samples == 300 and .first_ts == 1764802800' "$BATS_TEST_TMPDIR/out" >/dev/null
}

@test "leak-cron: a field or time that never comes is named, with what came instead, exit 3" {
	heap 100 0 >"$BATS_TEST_TMPDIR/in.jsonl"
	run_split leak-classify -f payload.free_heap "$BATS_TEST_TMPDIR/in.jsonl"
	[ "$status" -eq 3 ]
	grep -qx 'leak-classify: no field payload.free_heap in 100 records; numeric fields seen: free_heap' "$BATS_TEST_TMPDIR/err"
	# a CSV lists its columns
	{
		echo 'time,rss,cpu'
		for i in $(seq 0 99); do echo "$((1700000000 + i)),$((1000 + i)),3"; done
	} >"$BATS_TEST_TMPDIR/in.csv"
	run_split leak-classify -f mem "$BATS_TEST_TMPDIR/in.csv"
	[ "$status" -eq 3 ]
	grep -qx 'leak-classify: no field mem in 100 records; numeric fields seen: rss, cpu' "$BATS_TEST_TMPDIR/err"
	# the field, but under a time key nobody looks for
	sed 's/"ts"/"when"/' "$BATS_TEST_TMPDIR/in.jsonl" >"$BATS_TEST_TMPDIR/when.jsonl"
	run_split leak-classify -f free_heap "$BATS_TEST_TMPDIR/when.jsonl"
	[ "$status" -eq 3 ]
	grep -q 'no time in 100 records with free_heap (looked for ts, time, timestamp, t); numeric fields seen: when' "$BATS_TEST_TMPDIR/err"
}

@test "leak-cron: stamps not positive and finite are counted and said, never judged" {
	{
		echo 'CMDLINE python3 driver.py'
		for i in $(seq 0 99); do echo "MEM 100.5 $((1700000000 + i)).25"; done
		echo 'MEM 900.0 0'
		echo 'MEM 900.0 -5.5'
		echo 'MEM 900.0 nan'
	} >"$BATS_TEST_TMPDIR/mprof.dat"
	run_split leak-classify --json "$BATS_TEST_TMPDIR/mprof.dat"
	[ "$status" -eq 0 ]
	jq -e '.samples == 100 and .bad_ts >= 2 and .verdict == "steady"' "$BATS_TEST_TMPDIR/out" >/dev/null
	grep -q 'records whose time is not a positive, finite time skipped' "$BATS_TEST_TMPDIR/err"
	heap 100 0 | sed '3s/"ts":[0-9]*/"ts":-4/; 5s/"ts":[0-9]*/"ts":0/; 7s/"ts":[0-9]*/"ts":"yesterday"/' \
		>"$BATS_TEST_TMPDIR/in.jsonl"
	run_split lc --json "$BATS_TEST_TMPDIR/in.jsonl"
	jq -e '.samples == 97 and .bad_ts == 3' "$BATS_TEST_TMPDIR/out" >/dev/null
	grep -q '^leak-classify: 3 records whose time' "$BATS_TEST_TMPDIR/err"
}

@test "leak-cron: valgrind-clean over --max-age, --last, --min-rate, dotted and ISO input" {
	heap 300 80 | awk '{ sub(/"free_heap"/, "\"p\":{\"free_heap\""); sub(/}$/, "}}"); print }' \
		>"$BATS_TEST_TMPDIR/in.jsonl"
	run_split "${VALGRIND[@]}" leak-classify -v -f p.free_heap --last 2h --max-age 1d --min-rate 50B/min \
		"$BATS_TEST_TMPDIR/in.jsonl"
	[ "$status" -eq 4 ]
	run_split "${VALGRIND[@]}" leak-classify -q -f nope "$BATS_TEST_TMPDIR/in.jsonl"
	[ "$status" -eq 3 ]
}
