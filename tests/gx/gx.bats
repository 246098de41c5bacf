#!/usr/bin/env bats
# make check-gx: the GX tarball's tools, run by qemu-user on a Debian 11
# (glibc 2.31) userland without gxkit's libraries, doing real work against
# native peers on loopback and a native dbus-daemon.  Where the output is
# deterministic it must equal the native build's, byte for byte: a 32-bit
# long or time_t, alignment or word order shows up there.  Run by
# gx/check.sh, which sets GX_ARCH, GX_WRAP (one wrapper per tool), GX_ROOT,
# GX_QEMU and GX_TARBALL.

load ../cli/helpers

NATIVE=$ROOT/build/bin
TYPES=$ROOT/tests/peers/types.csv

setup() {
	[ -n "${GX_WRAP:-}" ] || { echo "run by gx/check.sh" >&2; return 1; }
	# the emulated tools by their names; native peers and helpers after
	export PATH="$GX_WRAP:$ROOT/build/helpers:$PATH"
	unset GXKIT_MAPS
}

teardown() {
	stop_all
}

# the records of FILE without what differs from run to run
stable() {
	jq -c 'del(.ts, .latency_ms, .elapsed_s)' "$1"
}

@test "the tarball: layout, and binaries that need only glibc 2.31" {
	tar -tzf "$GX_TARBALL" >"$BATS_TEST_TMPDIR/list"
	for f in gxkit/install.sh gxkit/README gxkit/share/maps/growatt-v120.csv \
		gxkit/bin/gw-read gxkit/bin/gw-publish gxkit/bin/h5-dump gxkit/bin/leak-classify; do
		grep -qx "$f" "$BATS_TEST_TMPDIR/list"
	done
	[ "$(grep -c '^gxkit/bin/.' "$BATS_TEST_TMPDIR/list")" -eq 9 ]
	grep -qx gxkit/lib/gxkit/libgxkit-heap.so "$BATS_TEST_TMPDIR/list"
	case $GX_ARCH in
	armhf) machine="ARM" ;;
	arm64) machine="AArch64" ;;
	esac
	for t in $(make -s -C "$ROOT" --no-print-directory print-tools); do
		bin=$(sed -n 's/^exec .* \(\/[^ ]*\) "\$@"$/\1/p' "$GX_WRAP/$t")
		readelf -h "$bin" | grep -q "Machine: *$machine"
		! readelf -d "$bin" | grep NEEDED | grep -vE '\[(libc|libm|libpthread|libdl|librt)\.so|\[ld-linux'
		run "$t" --version
		[ "$status" -eq 0 ]
		[[ $output == "$t (gxkit) "* ]]
	done
	# and the userland really is the old one, without our libraries
	ls "$GX_ROOT"/usr/lib/*/libc-2.31.so
	! ls "$GX_ROOT"/usr/lib/*/libpopt* "$GX_ROOT"/usr/lib/*/libdbus-1* 2>/dev/null
}

@test "gw-read against pymodbus over TCP: the native build's values" {
	start_pymodbus_tcp 1,5
	gw-read -b tcp:127.0.0.1:$PORT -m "$TYPES" -u 1,5 >"$BATS_TEST_TMPDIR/gx.jsonl"
	"$NATIVE/gw-read" -b tcp:127.0.0.1:$PORT -m "$TYPES" -u 1,5 >"$BATS_TEST_TMPDIR/native.jsonl"
	assert_jsonl "$BATS_TEST_TMPDIR/gx.jsonl" gw-read
	[ "$(wc -l <"$BATS_TEST_TMPDIR/gx.jsonl")" -eq 2 ]
	diff <(stable "$BATS_TEST_TMPDIR/native.jsonl") <(stable "$BATS_TEST_TMPDIR/gx.jsonl")
	# 64-bit values survive a 32-bit build
	jq -s -e 'map(select(.unit == 1))[0].values | .huge > 4294967296 and .minus3 == -3 and
		.signed32 < 0 and .negative == -2' "$BATS_TEST_TMPDIR/gx.jsonl" >/dev/null
}

@test "gw-read over RTU on a pty pair, a shipped map found next to the binary" {
	start_ptys
	start_bg /usr/bin/python3 "$ROOT/tests/peers/pymodbus_server.py" --rtu "$TTY_A" --units 1
	sleep 1.5
	run_split gw-read -b rtu:"$TTY_B":9600:8N1 -m "$TYPES" --timeout 1s
	[ "$status" -eq 0 ]
	jq -e '.ok and (.values | length) > 5' "$BATS_TEST_TMPDIR/out" >/dev/null
	# -m by short name: share/maps of the tarball, no GXKIT_MAPS
	run_split gw-read -b tcp:127.0.0.1:1 -m growatt-v120 --timeout 100ms
	[ "$status" -eq 1 ]
	! grep -q "growatt-v120" "$BATS_TEST_TMPDIR/err"
}

@test "gw-scan finds the peer's units; gw-sim serves the native gw-read" {
	start_pymodbus_tcp 2,7
	run_split gw-scan -b tcp:127.0.0.1:$PORT --units 1-8 --timeout 200ms
	[ "$status" -eq 0 ]
	jq -s -e 'map(select(.event == null) | .unit) == [2, 7]' "$BATS_TEST_TMPDIR/out" >/dev/null
	jq -s -e 'last | .event == "scan_done" and .found == [2, 7] and .scanned == 8' "$BATS_TEST_TMPDIR/out" >/dev/null
	start_gw_sim_tcp -m growatt-v120 -u 1,5 --time 12:00
	"$NATIVE/gw-read" -b tcp:127.0.0.1:$PORT -m growatt-v120 -u 1,5 --gap 0 >"$BATS_TEST_TMPDIR/sim.jsonl"
	jq -s -e 'map(.values.serial) == ["SIM0000001", "SIM0000005"] and
		all(.[]; .ok and .values.ac_power > 0)' "$BATS_TEST_TMPDIR/sim.jsonl" >/dev/null
}

@test "gw-publish on a native dbus-daemon, read back by the python peer" {
	start_dbus
	start_bg /usr/bin/python3 "$ROOT/tests/peers/settings_fake.py" --log "$BATS_TEST_TMPDIR/settings.log"
	wait_name com.victronenergy.settings
	start_gw_sim_tcp -m growatt-v120 --time 12:00
	mkfifo "$BATS_TEST_TMPDIR/in"
	exec 5<>"$BATS_TEST_TMPDIR/in"
	gw-publish -s com.victronenergy.pvinverter.gx_1 -m growatt-v120 <"$BATS_TEST_TMPDIR/in" \
		5>&- 2>"$BATS_TEST_TMPDIR/pub.err" &
	echo $! >>"$BATS_TEST_TMPDIR/pids"
	# the emulated bridge: gw-sim -> gw-read -> gw-publish
	gw-read -b tcp:127.0.0.1:$PORT -m growatt-v120 --gap 0 >&5
	printf '{"ts":1,"unit":1,"values":{"/Ac/Power":2935.5,"/StatusCode":7}}\n' >&5
	wait_name com.victronenergy.pvinverter.gx_1
	sleep 0.3
	run /usr/bin/python3 "$ROOT/tests/peers/busitem_client.py" com.victronenergy.pvinverter.gx_1 check
	[ "$status" -eq 0 ]
	jq -e '.leaf == 2935.5 and .leaf_kind == "Double" and .text == "2935.5W" and
		.instance == 20 and .set_position == 0 and .set_position_rejected == 2' <<<"$output" >/dev/null
	[[ $(dbus-send --print-reply --dest=com.victronenergy.pvinverter.gx_1 /Serial \
		com.victronenergy.BusItem.GetValue) == *'"SIM0000001"'* ]]
	grep -q "AddSettings /Settings/Devices/growatt_SIM0000001/ClassAndVrmInstance" "$BATS_TEST_TMPDIR/settings.log"
	exec 5>&-
}

@test "dbus-watch reads a peer service as the native build does" {
	start_dbus
	start_bg /usr/bin/python3 "$ROOT/tests/peers/busitem_service.py" com.victronenergy.battery.gx
	wait_name com.victronenergy.battery.gx
	dbus-watch --once --text 'com.victronenergy.battery.*' >"$BATS_TEST_TMPDIR/gx.jsonl"
	"$NATIVE/dbus-watch" --once --text 'com.victronenergy.battery.*' >"$BATS_TEST_TMPDIR/native.jsonl"
	[ "$(wc -l <"$BATS_TEST_TMPDIR/gx.jsonl")" -ge 5 ]
	diff <(stable "$BATS_TEST_TMPDIR/native.jsonl" | sort) <(stable "$BATS_TEST_TMPDIR/gx.jsonl" | sort)
	run dbus-watch --set com.victronenergy.battery.gx /Count 5
	[ "$status" -eq 0 ]
	[[ $output == *'"result":0'* ]]
}

@test "rss-watch samples a real process and follows a launched one" {
	start_bg memhog steady --base 8192
	sleep 0.5
	run_split rss-watch -p "$BG_PID" -i 100ms -n 3
	[ "$status" -eq 0 ]
	assert_jsonl "$BATS_TEST_TMPDIR/out" rss-watch
	[ "$(wc -l <"$BATS_TEST_TMPDIR/out")" -eq 3 ]
	jq -e --argjson pid "$BG_PID" '.pid == $pid and .comm == "memhog" and
		.rss_kb > 8000 and .anon_kb > 7000 and .threads == 1' "$BATS_TEST_TMPDIR/out" >/dev/null
	# launched: its exit status comes back
	run_split rss-watch -i 50ms -- sh -c 'sleep 0.3; exit 7'
	[ "$status" -eq 7 ]
	jq -s -e 'last | .event == "exit" and .status == 7' "$BATS_TEST_TMPDIR/out" >/dev/null
}

# heapleak built for ARCH against the Debian 11 sysroot, run by qemu under
# the tarball's heap-watch (the kernel here has no binfmt for ARM)
heap_run() {
	local unwind=$1
	(
		ARCH=$GX_ARCH
		cd "$ROOT" && . gx/env.sh &&
			$(cross_cc) -O2 $CPU -g -o "$BATS_TEST_TMPDIR/heapleak" \
				tests/helpers/heapleak.c -pthread -lm
	)
	run_split heap-watch --unwind "$unwind" -i 200ms --rate 64K -- \
		"$GX_QEMU" -L "$GX_ROOT" "$BATS_TEST_TMPDIR/heapleak" -n 5000 -w 400
	[ "$status" -eq 0 ]
	jq -c 'select(.sites)' "$BATS_TEST_TMPDIR/out" | tail -1 >"$BATS_TEST_TMPDIR/last"
	cat "$BATS_TEST_TMPDIR/last"
}

@test "heap-watch: the leaking function named first, by the default unwinder" {
	case $GX_ARCH in
	armhf) unwind=scan ;; # the tables stop at once (next test)
	arm64) unwind=eh ;;
	esac
	heap_run "$unwind"
	jq -e --arg u "$unwind" '.unwind == $u and
		(.sites[0].site | startswith("leak_record (heapleak+0x")) and
		(.sites[0].site | contains("< work (heapleak+0x")) and
		.sites[0].live_kb > 16000 and .sites[0].live_kb < 24000' "$BATS_TEST_TMPDIR/last"
	# the constructor's block, before main
	jq -e '[.sites[] | select(.site | startswith("early_table (heapleak+0x"))] | length == 1' \
		"$BATS_TEST_TMPDIR/last"
}

@test "heap-watch: the other unwinder, measured (armhf: tables give no frame)" {
	case $GX_ARCH in
	armhf)
		heap_run eh
		jq -e '.depth == 0 and .sites[0].site == "[no stack]"' "$BATS_TEST_TMPDIR/last"
		;;
	arm64)
		heap_run scan
		jq -e '.sites[0].site | startswith("leak_record (heapleak+0x")' "$BATS_TEST_TMPDIR/last"
		;;
	esac
}

@test "heap-watch: Debian 11's python3.9, a leak in a C extension: its function first" {
	local py=$GX_ROOT/usr/bin/python3.9
	(
		ARCH=$GX_ARCH
		cd "$ROOT" && . gx/env.sh &&
			$(cross_cc) -shared -fPIC -O2 $CPU -g \
				-I"$SYSROOT/usr/include/python3.9" \
				-I"$SYSROOT/usr/include/$TRIPLET/python3.9" \
				-o "$BATS_TEST_TMPDIR/pyleak_ext.so" tests/peers/pyleak_ext.c
	)
	cat >"$BATS_TEST_TMPDIR/drv.py" <<'PY'
import json, time
import pyleak_ext
keep = {}
for i in range(3000):
    pyleak_ext.stash(8192)
    pyleak_ext.ephemeral(50000)
    keep[i % 500] = json.dumps({"i": i, "v": [i] * 20})
    if i % 100 == 0:
        time.sleep(0.01)
time.sleep(0.6)
PY
	PYTHONPATH=$BATS_TEST_TMPDIR run_split heap-watch -i 200ms --rate 64K -- \
		"$GX_QEMU" -L "$GX_ROOT" "$py" "$BATS_TEST_TMPDIR/drv.py"
	[ "$status" -eq 0 ]
	cat "$BATS_TEST_TMPDIR/err"
	jq -c 'select(.sites)' "$BATS_TEST_TMPDIR/out" | tail -1 >"$BATS_TEST_TMPDIR/last"
	cat "$BATS_TEST_TMPDIR/last"
	jq -e '(.sites[0].site | startswith("ext_stash_block (pyleak_ext.so+0x")) and
		(.sites[0].site | contains("< stash (pyleak_ext.so+0x")) and
		.sites[0].live_kb > 19200 and .sites[0].live_kb < 28800' "$BATS_TEST_TMPDIR/last"
	# and a leak in Python code: the interpreter's frames, by name
	cat >"$BATS_TEST_TMPDIR/pyleak.py" <<'PY'
import time
cache = []
for i in range(30000):
    cache.append("reply %d " % i * 40)
time.sleep(0.6)
PY
	run_split heap-watch -i 200ms --rate 64K -- "$GX_QEMU" -L "$GX_ROOT" "$py" "$BATS_TEST_TMPDIR/pyleak.py"
	[ "$status" -eq 0 ]
	cat "$BATS_TEST_TMPDIR/err"
	jq -c '[.ts, .heap_kb, .samples]' "$BATS_TEST_TMPDIR/out"
	# the largest snapshot: the one after the strings, before clean-up
	jq -s -c 'map(select(.sites)) | max_by(.heap_kb)' "$BATS_TEST_TMPDIR/out" >"$BATS_TEST_TMPDIR/last"
	cat "$BATS_TEST_TMPDIR/last"
	jq -e '.sites[0].live_kb > 10000 and (.sites[0].site | contains("(python3.9+0x"))' \
		"$BATS_TEST_TMPDIR/last"
}

@test "leak-classify: the native build's verdicts on a corpus" {
	/usr/bin/python3 "$ROOT/tests/bench/corpus.py" "$BATS_TEST_TMPDIR/corpus" 2
	for f in "$BATS_TEST_TMPDIR"/corpus/*.jsonl; do
		gx=$(leak-classify --json "$f" || true)
		native=$("$NATIVE/leak-classify" --json "$f" || true)
		[ "$(jq -c .verdict <<<"$gx")" = "$(jq -c .verdict <<<"$native")" ]
		# the same statistics, to the last printed digit but for libm's
		# rounding on another architecture
		jq -n -e --argjson a "$gx" --argjson b "$native" \
			'($a.slope_per_h - $b.slope_per_h) | fabs <= 1e-6 * ($b.slope_per_h | fabs) + 1e-9' >/dev/null
	done
	run leak-classify "$BATS_TEST_TMPDIR"/corpus/leak__linear__0.jsonl
	[ "$status" -eq 4 ]
}

@test "h5-dump: an h5py recording, byte for byte as the native build" {
	/usr/bin/python3 "$ROOT/tests/peers/shepherd_h5.py" --layout current --compression lzf \
		--samples 30000 "$BATS_TEST_TMPDIR/rec.h5"
	h5-dump -f csv "$BATS_TEST_TMPDIR/rec.h5" /data >"$BATS_TEST_TMPDIR/gx.csv"
	"$NATIVE/h5-dump" -f csv "$BATS_TEST_TMPDIR/rec.h5" /data >"$BATS_TEST_TMPDIR/native.csv"
	[ "$(wc -l <"$BATS_TEST_TMPDIR/gx.csv")" -eq 30001 ]
	cmp "$BATS_TEST_TMPDIR/native.csv" "$BATS_TEST_TMPDIR/gx.csv"
	h5-dump --stats "$BATS_TEST_TMPDIR/rec.h5" >"$BATS_TEST_TMPDIR/gx.stats"
	"$NATIVE/h5-dump" --stats "$BATS_TEST_TMPDIR/rec.h5" >"$BATS_TEST_TMPDIR/native.stats"
	diff <(stable "$BATS_TEST_TMPDIR/native.stats") <(stable "$BATS_TEST_TMPDIR/gx.stats")
	run h5-dump --check "$BATS_TEST_TMPDIR/rec.h5"
	[ "$status" -eq 0 ]
}

@test "install.sh from the tarball into a scratch root; the installed tools run" {
	r=$BATS_TEST_TMPDIR/root
	mkdir -p "$r"
	tar -xzf "$GX_TARBALL" -C "$BATS_TEST_TMPDIR"
	"$BATS_TEST_TMPDIR/gxkit/install.sh" --root "$r"
	run "$GX_QEMU" -L "$GX_ROOT" "$r/data/gxkit/bin/leak-classify" --version
	[ "$status" -eq 0 ]
	start_pymodbus_tcp 1
	# the installed gw-read finds the installed maps by its own location
	run_split "$GX_QEMU" -L "$GX_ROOT" "$r/data/gxkit/bin/gw-read" \
		-b tcp:127.0.0.1:$PORT -m growatt-v120 --timeout 300ms
	! grep -q "cannot open\|No such file" "$BATS_TEST_TMPDIR/err"
	jq -e '.map == "growatt-v120"' "$BATS_TEST_TMPDIR/out" >/dev/null
	# the installed heap-watch finds its installed library
	[ -f "$r/data/gxkit/lib/gxkit/libgxkit-heap.so" ]
	run_split "$GX_QEMU" -L "$GX_ROOT" "$r/data/gxkit/bin/heap-watch" -i 100ms -- \
		"$GX_QEMU" -L "$GX_ROOT" "$GX_ROOT/bin/sleep" 0.3
	[ "$status" -eq 0 ]
	jq -e 'select(.event == "exit") | .status == 0' "$BATS_TEST_TMPDIR/out"
	jq -s -e 'map(select(.sites)) | length > 0' "$BATS_TEST_TMPDIR/out" >/dev/null
}
