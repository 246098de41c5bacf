#!/usr/bin/env bats
# h5-dump against recordings h5py writes in the three shepherd layouts,
# values checked by numpy (tests/peers/h5_expect.py) and h5dump.

load helpers

FIX=tests/peers/shepherd_h5.py
EXPECT=tests/peers/h5_expect.py

setup_file() {
	local d=$BATS_FILE_TMPDIR p=$ROOT/$FIX
	/usr/bin/python3 "$p" --layout v1 --compression lzf "$d/v1.h5"
	/usr/bin/python3 "$p" --layout v2 --compression gzip "$d/v2.h5"
	/usr/bin/python3 "$p" --layout v2 --compression lzf "$d/v2lzf.h5"
	/usr/bin/python3 "$p" --layout current --compression none "$d/cur.h5"
	/usr/bin/python3 "$p" --layout current --compression lzf "$d/curlzf.h5"
	/usr/bin/python3 "$p" --layout v2 --samples 25000 --mode emulator \
		--datatype ivcurve --no-gain --short --jump 12000:20000 \
		--jump 20000:-5000 "$d/bad.h5"
	/usr/bin/python3 "$p" --alien-filter --samples 20000 "$d/alien.h5"
	/usr/bin/python3 "$p" --time-type f8 --samples 20000 "$d/f8.h5"
	head -c 100000 "$d/v2.h5" >"$d/truncated.h5"
	/usr/bin/python3 "$p" --layout v2 --compression gzip --samples 200000 \
		"$d/long.h5"
	# 4000 bytes overwritten at a fraction of the file
	local spoil='
import sys
d = bytearray(open(sys.argv[1], "rb").read())
at = int(len(d) * float(sys.argv[3]))
for i in range(at, at + 4000):
    d[i] = 0x55
open(sys.argv[2], "wb").write(bytes(d))'
	local flip='
import sys
d = bytearray(open(sys.argv[1], "rb").read())
d[int(sys.argv[3])] = int(sys.argv[4], 0)
open(sys.argv[2], "wb").write(bytes(d))'
	/usr/bin/python3 -c "$spoil" "$d/v2.h5" "$d/corrupt.h5" 0.5
	/usr/bin/python3 -c "$spoil" "$d/long.h5" "$d/corrupt-late.h5" 0.8
	echo "not hdf5 at all" >"$d/text.h5"
	# one byte changed in the layout the audit broke libhdf5 1.10.8 with
	# (the files of ../shared/repro, made again here)
	/usr/bin/python3 "$p" --layout current --compression lzf --samples 5000 \
		--chunk 1000 "$d/base.h5"
	/usr/bin/python3 -c "$flip" "$d/base.h5" "$d/segv.h5" 2242 0x80
	/usr/bin/python3 -c "$flip" "$d/base.h5" "$d/hang.h5" 2872 0x81
}

teardown() {
	stop_all
}

# one_record FILE SELECT TEST: exactly one record matches SELECT, and TEST
# holds for it
one_record() {
	[ "$(jq -c "select($2)" "$1" | wc -l)" -eq 1 ]
	jq -c "select($2)" "$1" | jq -e "$3" >/dev/null
}

@test "h5-dump: --help and usage errors" {
	run h5-dump --help
	[ "$status" -eq 0 ]
	[[ $output == *"--downsample"* ]]
	local f=$BATS_FILE_TMPDIR/v2.h5
	for args in "" "--format xml $f" "--delimiter ab $f /data" \
		"--from soon $f /data" "--every 0 $f /data" "--minmax $f /data" \
		"--stats --downsample 4 $f" "--check $f /data" "-f csv $f" \
		"-f tree $f /data" "--from 2 --to 1 $f /data" "--every 3 $f" \
		"$f /data extra" "--index --from -1 $f /data"; do
		run_split h5-dump $args
		assert_usage_error
	done
}

@test "h5-dump: /data of all three layouts equals numpy's SI values, exactly" {
	local f
	for f in v1 v2 v2lzf cur curlzf; do
		run_split h5-dump -f csv "$BATS_FILE_TMPDIR/$f.h5" /data
		[ "$status" -eq 0 ]
		[ "$(head -1 "$BATS_TEST_TMPDIR/out")" = "ts,t_ns,voltage,current" ]
		run /usr/bin/python3 "$ROOT/$EXPECT" rows "$BATS_FILE_TMPDIR/$f.h5" /data "$BATS_TEST_TMPDIR/out"
		[ "$status" -eq 0 ]
		[ "$output" = "ok 30000" ]
	done
}

@test "h5-dump: --raw agrees with numpy and with h5dump's raw integers" {
	local f=$BATS_FILE_TMPDIR/v2.h5
	run_split h5-dump --raw -f csv "$f" /data
	[ "$status" -eq 0 ]
	cp "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/raw.csv"
	run /usr/bin/python3 "$ROOT/$EXPECT" rows "$f" /data "$BATS_TEST_TMPDIR/raw.csv" --raw
	[ "$output" = "ok 30000" ]
	for ds in voltage current time; do
		h5dump -y -w 0 -d /data/$ds "$f" >"$BATS_TEST_TMPDIR/h5dump.txt"
		col=$ds
		[ $ds = time ] && col=t_ns
		run /usr/bin/python3 "$ROOT/$EXPECT" h5dump "$BATS_TEST_TMPDIR/h5dump.txt" "$BATS_TEST_TMPDIR/raw.csv" $col
		[ "$output" = "ok 30000" ]
	done
}

@test "h5-dump: JSONL rows keep the contract: ts, src, exact t_ns" {
	run_split h5-dump "$BATS_FILE_TMPDIR/cur.h5" /data
	[ "$status" -eq 0 ]
	assert_jsonl "$BATS_TEST_TMPDIR/out" h5-dump
	[ "$(wc -l <"$BATS_TEST_TMPDIR/out")" -eq 30000 ]
	sed -n 2p "$BATS_TEST_TMPDIR/out" | grep -q '^{"ts":1700000000.00001,"src":"h5-dump","t_ns":1700000000000010000,"voltage":'
	jq -e 'keys == ["current","src","t_ns","ts","voltage"]' "$BATS_TEST_TMPDIR/out" >/dev/null
}

@test "h5-dump: N x k datasets are arrays (JSON) or name_j columns (CSV)" {
	run_split h5-dump "$BATS_FILE_TMPDIR/cur.h5" /sys_util
	[ "$status" -eq 0 ]
	sed -n 2p "$BATS_TEST_TMPDIR/out" | jq -e '.io == [52,65,78,91] and .ram == [26,39] and .cpu == 7' >/dev/null
	run_split h5-dump -f csv "$BATS_FILE_TMPDIR/cur.h5" /sys_util
	[ "$(head -1 "$BATS_TEST_TMPDIR/out")" = "ts,t_ns,cpu,io_0,io_1,io_2,io_3,net_0,net_1,ram_0,ram_1" ]
	run /usr/bin/python3 "$ROOT/$EXPECT" rows "$BATS_FILE_TMPDIR/cur.h5" /sys_util "$BATS_TEST_TMPDIR/out"
	[ "$output" = "ok 5" ]
	run_split h5-dump "$BATS_FILE_TMPDIR/v2.h5" /timesync
	sed -n 1p "$BATS_TEST_TMPDIR/out" | jq -e '.ts == null and .value == [-500,-487,-474]' >/dev/null
}

@test "h5-dump: vlen strings escaped in JSON, quoted in CSV; bytes too" {
	run_split h5-dump "$BATS_FILE_TMPDIR/v1.h5" /log
	[ "$status" -eq 0 ]
	sed -n 2p "$BATS_TEST_TMPDIR/out" | jq -e '.message == "line 1: héllo \"w\"\t1" and .value == 7' >/dev/null
	run_split h5-dump -f csv --delimiter ';' "$BATS_FILE_TMPDIR/cur.h5" /sheep
	[ "$(sed -n 2p "$BATS_TEST_TMPDIR/out")" = $'1700000000;1700000000000000000;0;"line 0: héllo ""w""\t0"' ]
	run_split h5-dump "$BATS_FILE_TMPDIR/v2.h5" /uart
	[ "$status" -eq 0 ]
	[ "$(wc -l <"$BATS_TEST_TMPDIR/out")" -eq 4 ]
	jq -e '.message | startswith("\u0001uart")' "$BATS_TEST_TMPDIR/out" >/dev/null
}

@test "h5-dump: -d, a dataset path, --from/--to in seconds and rows, --every" {
	local f=$BATS_FILE_TMPDIR/v2.h5
	run_split h5-dump -d current "$f" /data
	jq -e 'keys == ["current","src","t_ns","ts"]' "$BATS_TEST_TMPDIR/out" >/dev/null
	run_split h5-dump "$f" /data/voltage
	jq -e 'keys == ["src","t_ns","ts","voltage"]' "$BATS_TEST_TMPDIR/out" >/dev/null
	run_split h5-dump --from 0.1 --to 100ms "$f" /data
	[ "$status" -eq 0 ]
	[ ! -s "$BATS_TEST_TMPDIR/out" ]
	run_split h5-dump --from 0.1 --to 0.15 "$f" /data
	[ "$(wc -l <"$BATS_TEST_TMPDIR/out")" -eq 5000 ]
	head -1 "$BATS_TEST_TMPDIR/out" | jq -e '.t_ns == 1700000000100000000' >/dev/null
	run_split h5-dump --index --from 29990 "$f" /data
	[ "$(wc -l <"$BATS_TEST_TMPDIR/out")" -eq 10 ]
	run_split h5-dump --every 7000 --index --from 1 "$f" /data
	# jq reads numbers as doubles: compare the exact stamps as text
	[ "$(grep -o '"t_ns":[0-9]*' "$BATS_TEST_TMPDIR/out" | sed -E 's/"t_ns":17000000000*//' | tr '\n' ' ')" = "10000 70010000 140010000 210010000 280010000 " ]
}

@test "h5-dump: --downsample means and --minmax against numpy" {
	local f=$BATS_FILE_TMPDIR/cur.h5
	run_split h5-dump --downsample 10000 "$f" /data
	[ "$(wc -l <"$BATS_TEST_TMPDIR/out")" -eq 3 ]
	run_split h5-dump --downsample 7000 --minmax -f csv "$f" /data
	[ "$(head -1 "$BATS_TEST_TMPDIR/out")" = "ts,t_ns,voltage_min,voltage_max,current_min,current_max" ]
	/usr/bin/python3 - "$f" "$BATS_TEST_TMPDIR/out" <<'PY'
import csv, sys, h5py, numpy as np
f = h5py.File(sys.argv[1]); d = f["data"]
v = d["voltage"][()] * d["voltage"].attrs["gain"] + d["voltage"].attrs["offset"]
rows = list(csv.DictReader(open(sys.argv[2])))
assert len(rows) == 5, len(rows)
for k, r in enumerate(rows):
    blk = v[k * 7000:(k + 1) * 7000]
    assert float(r["voltage_min"]) == blk.min() and float(r["voltage_max"]) == blk.max(), k
    assert int(r["t_ns"]) == int(d["time"][k * 7000]), k
PY
}

@test "h5-dump: --stats equals numpy (count, min, max, mean, std, energy)" {
	local f
	for f in v1 v2 cur curlzf; do
		run_split h5-dump --stats "$BATS_FILE_TMPDIR/$f.h5"
		[ "$status" -eq 0 ]
		assert_jsonl "$BATS_TEST_TMPDIR/out" h5-dump
		run /usr/bin/python3 "$ROOT/$EXPECT" stats "$BATS_FILE_TMPDIR/$f.h5" "$BATS_TEST_TMPDIR/out"
		[ "$output" = "ok 13" ]
	done
	run_split h5-dump --stats -f csv "$BATS_FILE_TMPDIR/cur.h5" /gpio
	[ "$(head -1 "$BATS_TEST_TMPDIR/out")" = "rows,duration_s,sample_rate_hz,value_count,value_min,value_max,value_mean,value_std" ]
	[ "$(sed -n 2p "$BATS_TEST_TMPDIR/out")" = "6,5,1,6,0,35,17.5,13.095800853708795" ]
}

@test "h5-dump: describes groups, datasets, filters and the shepherd summary" {
	run_split h5-dump "$BATS_FILE_TMPDIR/v2lzf.h5"
	[ "$status" -eq 0 ]
	assert_jsonl "$BATS_TEST_TMPDIR/out" h5-dump
	one_record "$BATS_TEST_TMPDIR/out" '.path == "/data/current"' '.type == "u4" and .shape == [30000] and .chunks == [10000] and .filters == "lzf(32000)" and .attrs.unit == "A"'
	one_record "$BATS_TEST_TMPDIR/out" '.path == "/data"' '.attrs.datatype == "ivsample"'
	tail -1 "$BATS_TEST_TMPDIR/out" | jq -e '.kind == "shepherd" and .layout == "v2" and .mode == "harvester" and .samples == 30000 and .sample_rate_hz == 100000 and .config == "/data" and .energy_j > 0' >/dev/null
	run_split h5-dump "$BATS_FILE_TMPDIR/cur.h5"
	tail -1 "$BATS_TEST_TMPDIR/out" | jq -e '.layout == "current" and .hostname == "sheep0" and .config == "/"' >/dev/null
	run_split h5-dump "$BATS_FILE_TMPDIR/v1.h5"
	tail -1 "$BATS_TEST_TMPDIR/out" | jq -e '.layout == "v1" and .mode == "harvesting"' >/dev/null
	run_split h5-dump -f tree "$BATS_FILE_TMPDIR/cur.h5"
	grep -q '^    current  u4 \[30000\] chunks \[10000\]  description=' "$BATS_TEST_TMPDIR/out"
	grep -q '^shepherd recording: layout="current" mode="harvester"' "$BATS_TEST_TMPDIR/out"
}

@test "h5-dump: --check passes good files and reports every fault, exit 4" {
	for f in v1 v2 cur; do
		run_split h5-dump --check "$BATS_FILE_TMPDIR/$f.h5"
		[ "$status" -eq 0 ]
		tail -1 "$BATS_TEST_TMPDIR/out" | jq -e '.check == "summary" and .ok' >/dev/null
	done
	run_split h5-dump --check "$BATS_FILE_TMPDIR/bad.h5"
	[ "$status" -eq 4 ]
	local o=$BATS_TEST_TMPDIR/out
	one_record "$o" '.check == "datatype"' '.ok == false and .value == "ivcurve"'
	[ "$(jq -c 'select(.check == "calibration" and .ok == false)' "$o" | wc -l)" -eq 2 ]
	one_record "$o" '.check == "lengths"' '.ok == false'
	one_record "$o" '.check == "chunks" and .dataset == "/data/time"' '.ok == false'
	jq -s -e '[.[] | select(.check == "time_step") | [.index, .step_ns, .expected_ns]] == [[12000, 30000, 10000], [20000, 5000, 10000]]' "$o" >/dev/null
}

@test "h5-dump: bad files get one clear line and exit 1" {
	local d=$BATS_FILE_TMPDIR
	run_split h5-dump "$d/text.h5"
	[ "$status" -eq 1 ]
	grep -qx "h5-dump: $d/text.h5: not an HDF5 file" "$BATS_TEST_TMPDIR/err"
	run_split h5-dump "$d/missing.h5" /data
	[ "$status" -eq 1 ]
	grep -q 'No such file or directory' "$BATS_TEST_TMPDIR/err"
	run_split h5-dump "$d/truncated.h5" /data
	[ "$status" -eq 1 ]
	grep -q 'truncated file' "$BATS_TEST_TMPDIR/err"
	run_split h5-dump "$d/corrupt.h5" /data
	[ "$status" -eq 1 ]
	[ "$(wc -l <"$BATS_TEST_TMPDIR/err")" -eq 1 ]
	grep -q "can't read data (inflate() failed)" "$BATS_TEST_TMPDIR/err"
	# Blocks before the damaged one come out whole, as in the good file.
	run_split h5-dump -f csv "$d/corrupt-late.h5" /data
	[ "$status" -eq 1 ]
	[ "$(wc -l <"$BATS_TEST_TMPDIR/err")" -eq 1 ]
	rows=$(($(wc -l <"$BATS_TEST_TMPDIR/out") - 1))
	[ "$rows" -ge 60000 ] && [ "$rows" -lt 200000 ]
	h5-dump -f csv "$d/long.h5" /data | head -n $((rows + 1)) |
		cmp - "$BATS_TEST_TMPDIR/out"
	run_split h5-dump "$d/v2.h5" /nothing
	[ "$status" -eq 1 ]
	grep -qx 'h5-dump: /nothing: no such group' "$BATS_TEST_TMPDIR/err"
	run_split h5-dump -d bogus "$d/v2.h5" /data
	grep -qx 'h5-dump: /data/bogus: no such dataset' "$BATS_TEST_TMPDIR/err"
	run_split h5-dump "$d/bad.h5" /data
	[ "$status" -eq 1 ]
	grep -q 'differ in length' "$BATS_TEST_TMPDIR/err"
	run_split h5-dump "$d/f8.h5" /data
	[ "$status" -eq 1 ]
	grep -qx 'h5-dump: /data/time: time stamps must be integers' "$BATS_TEST_TMPDIR/err"
	run_split h5-dump --stats "$d/v1.h5" /
	[ "$status" -eq 1 ]
}

@test "h5-dump: libhdf5 crashing on a corrupt file is exit 1 naming what it read" {
	local d=$BATS_FILE_TMPDIR
	for args in "" "/data" "--stats /data" "--check" "-f jsonl"; do
		run_split timeout 60 h5-dump "$d/segv.h5" $args
		[ "$status" -eq 1 ]
		# one line of ours (qemu-user, in check-gx, adds its own)
		[ "$(grep -c "^h5-dump: " "$BATS_TEST_TMPDIR/err")" -eq 1 ]
		grep -qx "h5-dump: $d/segv.h5: libhdf5 crashed (Segmentation fault) reading attribute '[a-z]*' of /data/[a-z]*" "$BATS_TEST_TMPDIR/err"
	done
	# the good file unchanged through the guard, and without it
	h5-dump "$d/base.h5" /data >"$BATS_TEST_TMPDIR/guarded"
	h5-dump --deadline 0 "$d/base.h5" /data | cmp - "$BATS_TEST_TMPDIR/guarded"
	[ "$(wc -l <"$BATS_TEST_TMPDIR/guarded")" -eq 5000 ]
}

@test "h5-dump: libhdf5 looping on a corrupt file ends at --deadline, or at a signal" {
	local d=$BATS_FILE_TMPDIR
	for args in "" "/data"; do
		run_split timeout 60 h5-dump --deadline 1s "$d/hang.h5" $args
		[ "$status" -eq 1 ]
		grep -qx "h5-dump: $d/hang.h5: libhdf5 made no progress for 1[0-9]* ms reading attribute '[a-z]*' of /[a-z/]* (stopped)" "$BATS_TEST_TMPDIR/err"
	done
	# libhdf5 ignores SIGTERM while it spins: the watcher does not
	h5-dump --deadline 1h "$d/hang.h5" /data >/dev/null 2>&1 &
	local pid=$! t0=$SECONDS
	sleep 0.5
	kill -TERM $pid
	wait $pid || true
	[ $((SECONDS - t0)) -lt 5 ]
	run_split h5-dump --deadline soon "$d/hang.h5"
	assert_usage_error
}

@test "h5-dump: single-byte corruptions never crash, hang or leave a signal" {
	local d=$BATS_FILE_TMPDIR n=0 f rc
	/usr/bin/python3 - "$d/base.h5" "$BATS_TEST_TMPDIR" <<-'PY'
		import random, sys
		base = open(sys.argv[1], "rb").read()
		rng = random.Random(12)
		# the object headers and attribute heap of this layout: where
		# libhdf5 1.10.8 crashes on one byte in ten (seen: 5 of 60)
		for i in range(40):
		    d = bytearray(base)
		    at = rng.randrange(1800, 3200)
		    d[at] = (d[at] + 0x80) & 0xff
		    open("%s/c%02d.h5" % (sys.argv[2], i), "wb").write(bytes(d))
	PY
	for f in "$BATS_TEST_TMPDIR"/c*.h5; do
		for args in "" "/data" "--check"; do
			rc=0
			timeout 30 h5-dump --deadline 2s "$f" $args >/dev/null \
				2>"$BATS_TEST_TMPDIR/err" || rc=$?
			# 0 and 4 (a layout fault) are answers; 1 has a message
			case $rc in
			0 | 4) ;;
			1) grep -q "^h5-dump: " "$BATS_TEST_TMPDIR/err" ;;
			*) echo "$f $args: exit $rc" >&2 && false ;;
			esac
			n=$((n + 1))
		done
	done
	[ "$n" -eq 120 ]
	# and keep no memory of theirs (libhdf5's own: tests/valgrind.supp)
	for f in "$BATS_TEST_TMPDIR"/c[0-3]5.h5; do
		rc=0
		"${VALGRIND[@]}" h5-dump --deadline 30s "$f" /data >/dev/null \
			2>&1 || rc=$?
		[ "$rc" -ne 99 ]
	done
}

@test "h5-dump: a missing filter is named with its id, exit 1" {
	run_split h5-dump "$BATS_FILE_TMPDIR/alien.h5" /data
	[ "$status" -eq 1 ]
	[ ! -s "$BATS_TEST_TMPDIR/out" ]
	grep -qx "h5-dump: /data/time: needs HDF5 filter 'lzf' (id 32099), which is not available" "$BATS_TEST_TMPDIR/err"
	run_split h5-dump -f jsonl "$BATS_FILE_TMPDIR/alien.h5"
	[ "$status" -eq 1 ]
	one_record "$BATS_TEST_TMPDIR/out" '.path == "/data/voltage"' '.error | contains("32099")'
}

@test "h5-dump: --progress shows percent and rows/s on stderr only" {
	run_split h5-dump --progress "$BATS_FILE_TMPDIR/v2.h5" /data
	[ "$status" -eq 0 ]
	grep -q '100%' "$BATS_TEST_TMPDIR/err"
	grep -q 'M rows/s' "$BATS_TEST_TMPDIR/err"
	assert_jsonl "$BATS_TEST_TMPDIR/out" h5-dump
	run_split h5-dump "$BATS_FILE_TMPDIR/v2.h5" /data
	[ ! -s "$BATS_TEST_TMPDIR/err" ]
}

@test "h5-dump: a reader that leaves early, and a full disk" {
	run bash -c "h5-dump '$BATS_FILE_TMPDIR/v2.h5' /data | head -1 >/dev/null; echo \${PIPESTATUS[0]}"
	[ "$output" = 0 ]
	# every mode: a failed write is exit 1 with one message, whatever
	# the result so far (--check of a bad file was 4 and silent)
	local d=$BATS_FILE_TMPDIR args
	for args in "$d/v2.h5 /data" "-f csv $d/v2.h5 /data" \
		"--downsample 10 $d/v2.h5 /data" "--stats $d/v2.h5" \
		"--stats -f csv $d/v2.h5" "$d/v2.h5" "-f tree $d/v2.h5" \
		"--check $d/v2.h5" "--check $d/bad.h5" "$d/corrupt-late.h5 /data"; do
		run bash -c "h5-dump $args >/dev/full"
		echo "$args: $status $output"
		[ "$status" -eq 1 ]
		[ "$(grep -c 'write error: No space left on device' <<<"$output")" -eq 1 ]
	done
}

@test "h5-dump: valgrind-clean over dump, stats, check, describe and errors" {
	local d=$BATS_FILE_TMPDIR
	for args in "$d/v2lzf.h5 /data" "-f csv $d/cur.h5 /sheep" \
		"--stats $d/v1.h5" "--downsample 999 --minmax $d/v2.h5 /data" \
		"$d/cur.h5" "$d/v2.h5 /uart" "$d/corrupt.h5 /data" \
		"$d/alien.h5 /data" "$d/truncated.h5"; do
		run_split "${VALGRIND[@]}" h5-dump $args
		[ "$status" -ne 99 ]
	done
	run_split "${VALGRIND[@]}" h5-dump --check "$d/bad.h5"
	[ "$status" -eq 4 ]
}

@test "h5-dump: completion offers options and the file's groups" {
	run complete_words h5-dump --down
	[ "$output" = "--downsample" ]
	run complete_words h5-dump "$BATS_FILE_TMPDIR/cur.h5" /sys
	[ "$output" = "/sys_util" ]
}
