#!/usr/bin/env bats
# heap-watch against real programs: tests/helpers/heapleak (C, one thread
# and eight, a constructor, fork and exec children), CPython with a leak
# in a C extension built here (tests/peers/pyleak_ext.c) and one in
# Python.  The tests that run a native command with the tool are tagged
# native-command: make check-gx runs the same under qemu in tests/gx.

# bats file_tags=after-corpus
load helpers

teardown() {
	stop_all
}

# the last snapshot record of FILE
last_snapshot() {
	jq -c 'select(.sites)' "$1" | tail -1
}

@test "heap-watch: --help, --version, --usage" {
	run heap-watch --help
	[ "$status" -eq 0 ]
	[[ $output == *"--rate"* && $output == *"--unwind"* ]]
	run heap-watch --version
	[ "$status" -eq 0 ]
	[[ $output == "heap-watch (gxkit) "* ]]
}

@test "heap-watch: bash completion offers options, their values, and commands after --" {
	run complete_words heap-watch --unw
	[ "$output" = --unwind ]
	run complete_words heap-watch --unwind s
	[ "$output" = scan ]
	run complete_words heap-watch --rate 51
	[ "$output" = 512K ]
	run complete_words heap-watch -i 1s -- heap-wat
	[[ $output == *heap-watch* ]]
	run complete_words rss-watch -- rss-wat
	[[ $output == *rss-watch* ]]
}

@test "heap-watch: usage errors exit 2 with two lines and no output" {
	for args in "" "--bogus true" "--rate 0 true" "--rate lots true" \
		"--depth 0 true" "--depth 33 true" "--top 0 true" \
		"--callers 16 true" "-i 1ms true" "-i soon true" \
		"--unwind dwarf true" "--tag =x true" "--max-rss lots true"; do
		run_split heap-watch $args
		assert_usage_error
	done
}

@test "heap-watch: a command that cannot run is exit 127, named" {
	run_split heap-watch -- /nonexistent/prog
	[ "$status" -eq 127 ]
	grep -q "heap-watch: /nonexistent/prog: No such file" "$BATS_TEST_TMPDIR/err"
}

@test "heap-watch: no preload library found is a clear failure" {
	GXKIT_HEAP_LIB=/nonexistent.so run_split heap-watch -- true
	[ "$status" -eq 1 ]
	grep -q "cannot find libgxkit-heap.so" "$BATS_TEST_TMPDIR/err"
}

# bats test_tags=native-command
@test "heap-watch: C, one thread: the leaking function first, its size within 20 %" {
	run_split heap-watch -i 100ms --rate 64K -- heapleak -n 20000 -w 300
	[ "$status" -eq 0 ]
	assert_jsonl "$BATS_TEST_TMPDIR/out" heap-watch
	last=$(last_snapshot "$BATS_TEST_TMPDIR/out")
	echo "$last"
	jq -e '.sites[0].site | startswith("leak_record (heapleak+0x")' <<<"$last"
	jq -e '.sites[0].site | contains(" < work (heapleak+0x")' <<<"$last"
	# 20000 blocks of 4096 bytes: 80000 KiB
	jq -e '.sites[0].live_kb > 64000 and .sites[0].live_kb < 96000' <<<"$last"
	jq -e '.comm == "heapleak" and (.start | type == "number") and
		.heap_kb >= .sites[0].live_kb and .other_kb >= 0 and .unwind == "eh"' <<<"$last"
	# the bounded cache and the churn are not the leak
	jq -e '[.sites[] | select(.site | startswith("cache_store"))] |
		all(.live_kb < 4000)' <<<"$last"
	tail -1 "$BATS_TEST_TMPDIR/out" | jq -e '.event == "exit" and .status == 0 and .comm == "heapleak"'
	grep -q "heapleak: leaked 81920000 bytes" "$BATS_TEST_TMPDIR/err"
}

# bats test_tags=native-command
@test "heap-watch: C, eight threads freeing each other's blocks: the same site" {
	run_split heap-watch -i 100ms --rate 64K -- heapleak -t 8 -n 20000 -w 300
	[ "$status" -eq 0 ]
	last=$(last_snapshot "$BATS_TEST_TMPDIR/out")
	echo "$last"
	jq -e '.sites[0].site | startswith("leak_record (heapleak+0x")' <<<"$last"
	jq -e '.sites[0].live_kb > 64000 and .sites[0].live_kb < 96000' <<<"$last"
}

# bats test_tags=native-command
@test "heap-watch: allocation in a constructor before main is named" {
	run_split heap-watch -i 100ms -- heapleak -n 100 -w 300
	[ "$status" -eq 0 ]
	last=$(last_snapshot "$BATS_TEST_TMPDIR/out")
	echo "$last"
	jq -e '[.sites[] | select(.site | startswith("early_table (heapleak+0x"))] |
		length == 1 and .[0].live_kb > 1800 and .[0].live_kb < 2300' <<<"$last"
}

# bats test_tags=native-command
@test "heap-watch: fork and exec children are not traced, and exec'd ones lose LD_PRELOAD" {
	run_split heap-watch -i 100ms -- heapleak -n 2000 -f -w 600 \
		-e "env > $BATS_TEST_TMPDIR/env"
	[ "$status" -eq 0 ]
	pid=$(tail -1 "$BATS_TEST_TMPDIR/out" | jq .pid)
	# every record is of the command itself; no site of the child's leak
	jq -e --argjson pid "$pid" 'select(.pid != $pid)' "$BATS_TEST_TMPDIR/out" && false
	! grep -q child_leak "$BATS_TEST_TMPDIR/out"
	! grep -q "libgxkit-heap" "$BATS_TEST_TMPDIR/env"
	grep -q "^PYTHONMALLOC=malloc" "$BATS_TEST_TMPDIR/env"
}

# bats test_tags=native-command
@test "heap-watch --children: the fork child's leak is traced under its pid" {
	run_split heap-watch --children -i 100ms -- heapleak -n 2000 -f -w 600
	[ "$status" -eq 0 ]
	pid=$(tail -1 "$BATS_TEST_TMPDIR/out" | jq .pid)
	jq -c --argjson pid "$pid" 'select(.pid != $pid and .sites)' \
		"$BATS_TEST_TMPDIR/out" | tail -1 >"$BATS_TEST_TMPDIR/child"
	cat "$BATS_TEST_TMPDIR/child"
	jq -e '.sites[0].site | startswith("child_leak (heapleak+0x")' "$BATS_TEST_TMPDIR/child"
}

# bats test_tags=native-command
@test "heap-watch: exits with the command's status, its output on stderr" {
	run_split heap-watch -i 100ms -- sh -c 'echo hello; exit 7'
	[ "$status" -eq 7 ]
	grep -qx hello "$BATS_TEST_TMPDIR/err"
	jq -e 'select(.event == "exit") | .status == 7' "$BATS_TEST_TMPDIR/out"
	! grep -q hello "$BATS_TEST_TMPDIR/out"
}

# bats test_tags=own-memory
@test "heap-watch --max-rss: past it, the command is ended and the status is 3" {
	run_split heap-watch --max-rss 1K -i 50ms -- sleep 30
	[ "$status" -eq 3 ]
	grep -q "above --max-rss" "$BATS_TEST_TMPDIR/err"
}

# bats test_tags=native-command
@test "heap-watch -o and --tag: records appended to a file, tagged" {
	heap-watch -o "$BATS_TEST_TMPDIR/h.jsonl" --tag host=gx1 -i 100ms -- heapleak -n 200 -w 200 2>/dev/null
	heap-watch -o "$BATS_TEST_TMPDIR/h.jsonl" --tag host=gx1 -i 100ms -- heapleak -n 200 -w 200 2>/dev/null
	[ "$(jq -c 'select(.event == "exit")' "$BATS_TEST_TMPDIR/h.jsonl" | wc -l)" -eq 2 ]
	jq -e '.host == "gx1"' "$BATS_TEST_TMPDIR/h.jsonl" >/dev/null
}

# bats test_tags=native-command
@test "heap-watch --raw: objects and offsets, and their build-ids for addr2line" {
	run_split heap-watch --raw -i 100ms --rate 64K -- heapleak -n 5000 -w 300
	[ "$status" -eq 0 ]
	last=$(last_snapshot "$BATS_TEST_TMPDIR/out")
	echo "$last"
	site=$(jq -r '.sites[0].site' <<<"$last")
	[[ $site == heapleak+0x* ]]
	jq -e '.objects[] | select(.name == "heapleak") | (.path | endswith("/heapleak")) and
		(.build_id | test("^[0-9a-f]{40}$"))' <<<"$last"
	# addr2line names the function from the object and offset alone
	off=${site%% *}
	off=${off#heapleak+}
	addr2line -f -e "$ROOT/$B/helpers/heapleak" "$off" | head -1 | grep -qx leak_record
}

# bats test_tags=native-command
@test "heap-watch: CPython, a leak in a C extension: the extension's function first" {
	cc -shared -fPIC -O2 -g $(/usr/bin/python3-config --includes) \
		-o "$BATS_TEST_TMPDIR/pyleak_ext$(/usr/bin/python3-config --extension-suffix)" \
		"$ROOT/tests/peers/pyleak_ext.c"
	cat >"$BATS_TEST_TMPDIR/drv.py" <<'PY'
import json, sys, time
import pyleak_ext
keep = {}
for i in range(6000):
    pyleak_ext.stash(8192)              # the leak, below Python
    pyleak_ext.ephemeral(50000)
    keep[i % 500] = json.dumps({"i": i, "v": [i] * 20})   # bounded
    if i % 100 == 0:
        time.sleep(0.01)
pyleak_ext.stash(8192)
PY
	PYTHONPATH=$BATS_TEST_TMPDIR run_split heap-watch -i 50ms --rate 64K -- \
		/usr/bin/python3 "$BATS_TEST_TMPDIR/drv.py"
	[ "$status" -eq 0 ]
	last=$(last_snapshot "$BATS_TEST_TMPDIR/out")
	echo "$last"
	jq -e '.sites[0].site | startswith("ext_stash_block (pyleak_ext")' <<<"$last"
	jq -e '.sites[0].site | contains("< stash (pyleak_ext")' <<<"$last"
	# 6000 blocks of 8192 bytes: 48000 KiB
	jq -e '.sites[0].live_kb > 38400 and .sites[0].live_kb < 57600' <<<"$last"
	# and leak-classify says where it grows, in words
	run leak-classify "$BATS_TEST_TMPDIR/out"
	echo "$output"
	[ "$status" -eq 4 ]
	[[ $output == *"% of the growth is allocated in ext_stash_block (pyleak_ext"*"< stash <"* ]]
}

# bats test_tags=native-command
@test "heap-watch: CPython, a Python-level leak: libpython's frames named" {
	cat >"$BATS_TEST_TMPDIR/pyleak.py" <<'PY'
import time
cache = []
def remember(i):
    cache.append("reply %d " % i * 40)
for i in range(60000):
    remember(i)
    if i % 5000 == 0:
        time.sleep(0.02)
time.sleep(0.3)
PY
	run_split heap-watch -i 100ms --rate 64K -- /usr/bin/python3 "$BATS_TEST_TMPDIR/pyleak.py"
	[ "$status" -eq 0 ]
	last=$(last_snapshot "$BATS_TEST_TMPDIR/out")
	echo "$last"
	# the strings' allocation in the interpreter: its exported frames by
	# name (Debian's python3 keeps no .symtab: static ones are offsets)
	jq -e '.sites[0].site | test("^python3[.0-9]*\\+0x|^[A-Za-z_]+ \\(python3")' <<<"$last"
	jq -e '.sites[0].site | contains("< _PyEval_EvalFrameDefault (python3")' <<<"$last"
	jq -e '.sites[0].live_kb > 20000' <<<"$last"
}

@test "leak-classify: heap-watch records judged by heap_kb, the growth by site in words" {
	f=$ROOT/tests/fixtures/heap-watch-leak.jsonl
	run leak-classify "$f"
	echo "$output"
	[ "$status" -eq 4 ]
	[[ $output == "heap_kb: leak"* ]]
	[[ $output == *"where     "*"% of the growth is allocated in cache_put (libfoo.so) < handle_reply < main"* ]]
	run leak-classify --json "$f"
	jq -e '.where[0].site | startswith("cache_put (libfoo.so+0x1139)")' <<<"$output"
	jq -e '.where[0].share > 0.9 and .where[0].slope_per_h > 0' <<<"$output"
}

@test "leak-classify: heap-watch records of a steady program: no site grows" {
	f=$BATS_TEST_TMPDIR/steady.jsonl
	for i in $(seq 0 59); do
		printf '{"ts":%d,"src":"heap-watch","pid":9,"start":1,"comm":"x","heap_kb":%d,"sites":[{"site":"cache_put (libfoo.so+0x1139) < main (x+0x10)","live_kb":%d,"count":3}],"other_kb":0}\n' \
			$((1000 + 60 * i)) $((5000 + (i % 3) * 10)) $((4000 + (i % 3) * 10))
	done >"$f"
	run leak-classify "$f"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == "heap_kb: steady"* ]]
}

# bats test_tags=native-command
@test "heap-watch: valgrind-clean over a traced run, --raw and -o included" {
	run "${VALGRIND[@]}" heap-watch -i 50ms --rate 64K -- heapleak -n 3000 -w 200
	[ "$status" -eq 0 ]
	run "${VALGRIND[@]}" heap-watch --raw -o "$BATS_TEST_TMPDIR/v.jsonl" -i 50ms -- heapleak -n 1000 -w 100
	[ "$status" -eq 0 ]
	jq -e 'select(.event == "exit")' "$BATS_TEST_TMPDIR/v.jsonl"
}

@test "leak-classify --events: a site that grows only while a unit is offline is said so" {
	# heap-watch records every 5 s: poll_retry grows 5 KiB/s only while
	# unit 5 is offline (t 200-400, 600-800); parse_reply is steady
	awk 'BEGIN { v = 2000; for (i = 0; i < 1000; i += 5) {
		if ((i >= 200 && i < 400) || (i >= 600 && i < 800)) v += 25
		s = 3000 + (i % 3) * 5
		printf "{\"ts\":%d,\"src\":\"heap-watch\",\"pid\":7,\"start\":1,\"comm\":\"drv\",\"heap_kb\":%d,\"sites\":[{\"site\":\"parse_reply (drv+0x20) < main (drv+0x10)\",\"live_kb\":%d,\"count\":9},{\"site\":\"poll_retry (libmb.so+0x1139) < poll (drv+0x30) < main (drv+0x10)\",\"live_kb\":%d,\"count\":4}],\"other_kb\":0}\n", 1700000000 + i, v + s, s, v } }' >"$BATS_TEST_TMPDIR/heap.jsonl"
	awk 'BEGIN { for (i = 0; i < 1000; i += 5) {
		bad = (i >= 200 && i < 400) || (i >= 600 && i < 800)
		printf "{\"ts\":%d,\"src\":\"gw-read\",\"unit\":5,\"ok\":%s}\n", 1700000000 + i, bad ? "false" : "true" } }' >"$BATS_TEST_TMPDIR/poll.jsonl"
	run_split leak-classify --events "$BATS_TEST_TMPDIR/poll.jsonl" "$BATS_TEST_TMPDIR/heap.jsonl"
	cat "$BATS_TEST_TMPDIR/out"
	[ "$status" -eq 4 ]
	grep -q "allocated in poll_retry (libmb.so) < poll < main (.*, only during faults)" "$BATS_TEST_TMPDIR/out"
	run_split leak-classify --json --events "$BATS_TEST_TMPDIR/poll.jsonl" "$BATS_TEST_TMPDIR/heap.jsonl"
	jq -e '.where[0].faults_only == true and (.where[0].site | startswith("poll_retry"))' "$BATS_TEST_TMPDIR/out"
	# without the events, no such claim
	run_split leak-classify --json "$BATS_TEST_TMPDIR/heap.jsonl"
	jq -e '.where[0].faults_only == false' "$BATS_TEST_TMPDIR/out"
}

# the tool's own memory: under qemu (check-gx) that is the emulator's
# bats test_tags=own-memory,native-command
@test "heap-watch: flat RSS while naming a snapshot every 10 ms (short soak)" {
	heap-watch -i 10ms --rate 16K -o /dev/null -- /usr/bin/python3 -c '
import json, time
end = time.time() + 5
keep = {}
i = 0
while time.time() < end:
    keep[i % 2000] = json.loads(json.dumps({"i": i, "v": [i] * 30}))
    i += 1
' &
	soaker=$!
	echo "$soaker" >>"$BATS_TEST_TMPDIR/pids"
	sleep 1
	rss-watch -p "$soaker" -i 100ms -d 3s >"$BATS_TEST_TMPDIR/self.jsonl"
	jq -s -r 'map(.anon_kb | numbers) | "\(min) .. \(max)"' "$BATS_TEST_TMPDIR/self.jsonl"
	jq -s -e 'map(.anon_kb | numbers) | (max - min) <= 8' "$BATS_TEST_TMPDIR/self.jsonl" >/dev/null
	run leak-classify -f anon_kb "$BATS_TEST_TMPDIR/self.jsonl"
	[ "$status" -eq 0 ]
}

# bats test_tags=native-command
@test "heap-watch: blocks freed past the hooks (RTLD_DEEPBIND) and handed out again are not counted twice" {
	printf '#include <stdlib.h>\nvoid deep_free(void *p) { free(p); }\n' >"$BATS_TEST_TMPDIR/deep.c"
	cc -shared -fPIC -O2 -o "$BATS_TEST_TMPDIR/deep.so" "$BATS_TEST_TMPDIR/deep.c"
	cat >"$BATS_TEST_TMPDIR/deep.py" <<'PY'
import ctypes, os, sys, time
libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
libc.malloc.argtypes = [ctypes.c_size_t]
deep = ctypes.CDLL(sys.argv[1], mode=os.RTLD_NOW | os.RTLD_DEEPBIND)
deep.deep_free.argtypes = [ctypes.c_void_p]
for i in range(300):
    deep.deep_free(libc.malloc(65536))  # 64 KiB: always sampled at 4K
time.sleep(0.4)
PY
	run_split heap-watch -i 100ms --rate 4K -- /usr/bin/python3 "$BATS_TEST_TMPDIR/deep.py" "$BATS_TEST_TMPDIR/deep.so"
	[ "$status" -eq 0 ]
	last=$(last_snapshot "$BATS_TEST_TMPDIR/out")
	echo "$last"
	# 300 blocks of 64 KiB went through it: 19200 KiB if they stayed
	jq -e '.heap_kb < 6000' <<<"$last"
}
