#!/usr/bin/env bats
# gx/install.sh, the installer of the GX tarball, with native binaries in a
# scratch root laid out like Venus OS (/data, /service, /data/rc.local), and
# a bridge service under Debian's real daemontools (svscan, supervise,
# multilog): killed on either side, it comes back.

load helpers

# every file and link under DIR with its size, mode and mtime
snapshot() {
	find "$1" -printf '%p %s %m %T@ %l\n' | sort
}

teardown() {
	# supervise first: it would restart what stop_all ends
	stop_svscan
	stop_all
}

@test "install.sh: --help and usage errors" {
	stage
	run "$PKG/install.sh" --help
	[ "$status" -eq 0 ]
	[[ $output == *"--bridge NAME"* ]]
	for args in "--frobnicate" "--root" "--bridge x" "--bridge a-b -b tcp:h -u 1 -m m" \
		"--bridge 1x -b tcp:h -u 1 -m m" "--bridge x -b udp:h -u 1 -m m" \
		"--bridge x -b tcp:h -u 1a -m m" "--remove a/b"; do
		run_split "$PKG/install.sh" --root "$R" $args
		assert_usage_error
	done
	[ ! -e "$R/data" ]
	run "$PKG/install.sh" --root "$BATS_TEST_TMPDIR/none"
	[ "$status" -eq 1 ]
}

@test "install.sh: the tools into ROOT/data/gxkit; twice changes nothing" {
	stage
	run "$PKG/install.sh" --root "$R"
	[ "$status" -eq 0 ]
	[[ $output == *"tools in /data/gxkit/bin"* ]]
	for t in $(make -s -C "$ROOT" --no-print-directory print-tools); do
		[ -x "$R/data/gxkit/bin/$t" ]
	done
	[ -f "$R/data/gxkit/share/maps/growatt-v120.csv" ]
	[ -x "$R/data/gxkit/install.sh" ]
	# heap-watch finds its library where install.sh put it
	[ -f "$R/data/gxkit/lib/gxkit/libgxkit-heap.so" ]
	run "$R/data/gxkit/bin/heap-watch" -i 100ms -- sleep 0.3
	[ "$status" -eq 0 ]
	[[ $output != *"cannot find"* ]]
	snapshot "$R" >"$BATS_TEST_TMPDIR/before"
	sleep 1.1
	run "$PKG/install.sh" --root "$R"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	snapshot "$R" | diff "$BATS_TEST_TMPDIR/before" -
	# the installed copy runs from where it is, and finds its maps there
	run "$R/data/gxkit/install.sh" --root "$R"
	[ -z "$output" ]
	run_split "$R/data/gxkit/bin/gw-read" -b tcp:127.0.0.1:1 -m growatt-v120 --timeout 100ms
	! grep -qi "map\|csv" "$BATS_TEST_TMPDIR/err"
}

@test "install.sh --bridge: run, log/run, the link, rc.local; twice changes nothing" {
	stage
	echo "# Venus: the owner's own lines" >"$BATS_TEST_TMPDIR/rc"
	mkdir -p "$R/data"
	cp "$BATS_TEST_TMPDIR/rc" "$R/data/rc.local"
	run "$PKG/install.sh" --root "$R" --bridge growatt -b rtu:/dev/ttyUSB0:9600 -u 1 -m growatt-v120
	[ "$status" -eq 0 ]
	d=$R/data/gxkit/service/growatt
	[ -x "$d/run" ] && [ -x "$d/log/run" ]
	[ "$(readlink "$R/service/growatt")" = "../data/gxkit/service/growatt" ]
	[ "$(cd -P "$R/service/growatt" && pwd)" = "$(cd -P "$d" && pwd)" ]
	grep -qx "ln -sfn /data/gxkit/service/growatt /service/growatt" "$R/data/rc.local"
	grep -qx "# Venus: the owner's own lines" "$R/data/rc.local"
	[ -x "$R/data/rc.local" ]
	sed -e ':a' -e '/\\$/N; s/\\\n[[:space:]]*//; ta' "$d/run" >"$BATS_TEST_TMPDIR/joined"
	grep -q "gw-read\" -b 'rtu:/dev/ttyUSB0:9600' -u '1' -m 'growatt-v120' -i '5s' --max-rss '24M'" "$BATS_TEST_TMPDIR/joined"
	grep -q "gw-publish\" -s 'com.victronenergy.pvinverter.growatt' -m 'growatt-v120' --max-rss '24M'" "$BATS_TEST_TMPDIR/joined"
	grep -qx "exec multilog t s25000 n4 '/var/log/growatt'" "$d/log/run"
	sh -n "$d/run"
	snapshot "$R" >"$BATS_TEST_TMPDIR/before"
	sleep 1.1
	run "$PKG/install.sh" --root "$R" --bridge growatt -b rtu:/dev/ttyUSB0:9600 -u 1 -m growatt-v120
	[ -z "$output" ]
	snapshot "$R" | diff "$BATS_TEST_TMPDIR/before" -
	[ "$(grep -c growatt "$R/data/rc.local")" -eq 1 ]
	# two units: one service each, by the {unit} name; quotes survive
	run "$PKG/install.sh" --root "$R" --bridge pair -b "tcp:it's" -u 1,5 -m growatt-v120 -i 10s
	[ "$status" -eq 0 ]
	grep -q "'com.victronenergy.pvinverter.pair_{unit}'" "$R/data/gxkit/service/pair/run"
	grep -qF -- "-b 'tcp:it'\\''s'" "$R/data/gxkit/service/pair/run"
	sh -n "$R/data/gxkit/service/pair/run"
}

@test "install.sh --bridge --limit: the control path through a second FIFO" {
	stage
	run "$PKG/install.sh" --root "$R" --bridge growatt -b rtu:/dev/ttyUSB0 -u 1 \
		-m growatt-v120 --limit 5000
	[ "$status" -eq 0 ]
	d=$R/data/gxkit/service/growatt
	sed -e ':a' -e '/\\$/N; s/\\\n[[:space:]]*//; ta' "$d/run" >"$BATS_TEST_TMPDIR/joined"
	grep -q "mkfifo commands.fifo" "$d/run"
	grep -q "gw-read\" .* --commands commands.fifo >bridge.fifo" "$BATS_TEST_TMPDIR/joined"
	grep -q "gw-publish\" .* --commands commands.fifo --max-power '5000' <bridge.fifo" "$BATS_TEST_TMPDIR/joined"
	sh -n "$d/run"
	run "$PKG/install.sh" --root "$R" --bridge growatt -b rtu:/dev/ttyUSB0 -u 1 \
		-m growatt-v120 --limit 5kW
	[ "$status" -eq 2 ]
	[[ $output == *"--limit: '5kW' is not a power in W, or map"* ]]
	# the rated power from the map's /Ac/MaxPower register
	run "$PKG/install.sh" --root "$R" --bridge growatt -b rtu:/dev/ttyUSB0 -u 1 \
		-m growatt-v120 --limit map
	[ "$status" -eq 0 ]
	sed -e ':a' -e '/\\$/N; s/\\\n[[:space:]]*//; ta' "$d/run" >"$BATS_TEST_TMPDIR/joined"
	grep -q "gw-publish\" .* --commands commands.fifo <bridge.fifo" "$BATS_TEST_TMPDIR/joined"
	! grep -q -- "--max-power" "$d/run"
	# without --limit, no control path
	run "$PKG/install.sh" --root "$R" --bridge growatt -b rtu:/dev/ttyUSB0 -u 1 -m growatt-v120
	! grep -q "commands" "$d/run"
}

@test "install.sh --remove one service, --uninstall everything" {
	stage
	"$PKG/install.sh" --root "$R" --bridge one -b tcp:127.0.0.1 -u 1 -m growatt-v120
	"$PKG/install.sh" --root "$R" --bridge two -b tcp:127.0.0.1 -u 2 -m growatt-v120
	run "$PKG/install.sh" --root "$R" --remove one
	[ "$status" -eq 0 ]
	[ ! -e "$R/service/one" ] && [ ! -L "$R/service/one" ]
	[ ! -e "$R/data/gxkit/service/one" ]
	! grep -q "service/one" "$R/data/rc.local"
	grep -qx "ln -sfn /data/gxkit/service/two /service/two" "$R/data/rc.local"
	[ -L "$R/service/two" ]
	run "$PKG/install.sh" --root "$R" --uninstall
	[ "$status" -eq 0 ]
	[ ! -e "$R/data/gxkit" ] && [ ! -L "$R/service/two" ]
	! grep -q gxkit "$R/data/rc.local"
	grep -qx '#!/bin/sh' "$R/data/rc.local"
}

# the pid of the process supervise runs in DIR, and of the run script's
# children named NAME
svpid() { svstat "$1" | sed -n 's/.*(pid \([0-9]*\)).*/\1/p'; }
child() { # child PID NAME
	local c
	for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
		[ "$(cat /proc/"$c"/comm 2>/dev/null)" != "$2" ] || echo "$c"
	done
}

# wait until the bridge's run script has both children and the name is up
wait_bridge() {
	local i
	for i in $(seq 1 100); do
		RUN=$(svpid "$R/service/sim")
		if [ -n "$RUN" ] && [ -n "$(child "$RUN" gw-read)" ] &&
			[ -n "$(child "$RUN" gw-publish)" ] &&
			wait_name com.victronenergy.pvinverter.sim; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

owner() {
	dbus-send --print-reply --dest=org.freedesktop.DBus / org.freedesktop.DBus.GetNameOwner \
		string:com.victronenergy.pvinverter.sim | sed -n 's/.*string "\(.*\)"/\1/p'
}

@test "install.sh --bridge under real supervise: either side dying, it comes back" {
	stage
	start_dbus
	start_gw_sim_tcp -m growatt-v120 --time 12:00
	mkdir -p "$BATS_TEST_TMPDIR/log" # /var/log, on a GX
	"$PKG/install.sh" --root "$R" --bridge sim -b tcp:127.0.0.1:$PORT -u 1 -m growatt-v120 \
		-i 200ms --log-dir "$BATS_TEST_TMPDIR/log"
	svscan "$R/service" >/dev/null 2>&1 &
	SVSCAN_PID=$!
	wait_bridge
	first=$(owner)
	[ -n "$first" ]
	# gw-read dies (its --max-rss guard, a lost device): gw-publish sees
	# the end of input, the run script ends, supervise starts it again
	kill "$(child "$RUN" gw-read)"
	old=$RUN
	for i in $(seq 1 50); do [ "$(svpid "$R/service/sim")" != "$old" ] && break; sleep 0.1; done
	wait_bridge
	second=$(owner)
	[ -n "$second" ] && [ "$second" != "$first" ]
	[ "$RUN" != "$old" ]
	# gw-publish dies: gw-read is ended with it, no second reader on the bus
	pub=$(child "$RUN" gw-publish)
	reader=$(child "$RUN" gw-read)
	kill -9 "$pub"
	for i in $(seq 1 50); do [ -e /proc/"$reader" ] || break; sleep 0.1; done
	[ ! -e /proc/"$reader" ]
	wait_bridge
	[ "$(owner)" != "$second" ]
	# svc -d ends both sides at once, no orphan keeps the port
	pub=$(child "$RUN" gw-publish)
	reader=$(child "$RUN" gw-read)
	svc -d "$R/service/sim"
	for i in $(seq 1 50); do [ -e /proc/"$reader" ] || [ -e /proc/"$pub" ] || break; sleep 0.1; done
	[ ! -e /proc/"$reader" ] && [ ! -e /proc/"$pub" ]
	# multilog kept the log, with its tai64 stamps
	grep -q "no com.victronenergy.settings on the bus yet" "$BATS_TEST_TMPDIR/log/sim/current"
	head -c1 "$BATS_TEST_TMPDIR/log/sim/current" | grep -q @
}

@test "install.sh --monitor --publish: rss-watch's records through a real broker, tagged" {
	stage
	run "$PKG/install.sh" --root "$R" --monitor drv -N memhog -i 200ms
	[ "$status" -eq 0 ]
	grep -q "rss-watch\" -N 'memhog' --wait -i '200ms'" "$R/data/gxkit/service/drv/run"
	! grep -q mosquitto_pub "$R/data/gxkit/service/drv/run"
	for args in "--monitor x" "--monitor x -N p --publish h" \
		"--monitor x -N p --topic t" "--monitor x -N p --publish h:x --topic t" \
		"--monitor x -N p --publish h --topic 'a/#'"; do
		run sh -c "'$PKG/install.sh' --root '$R' $args"
		echo "$args: $status $output"
		[ "$status" -eq 2 ]
	done
	local port=$(free_port) T=$BATS_TEST_TMPDIR
	printf 'listener %s 127.0.0.1\nallow_anonymous true\nuser %s\nlog_dest none\n' \
		"$port" "$(id -un)" >"$T/mq.conf"
	start_bg mosquitto -c "$T/mq.conf"
	wait_port "$port"
	run "$PKG/install.sh" --root "$R" --monitor drv -N memhog -i 200ms \
		--publish 127.0.0.1:$port --topic gxkit/shard3 --host site-42
	[ "$status" -eq 0 ]
	start_bg mosquitto_sub -h 127.0.0.1 -p "$port" -t 'gxkit/shard3/+/rss' -v >"$T/sub.out"
	sleep 0.5
	start_bg memhog steady --base 2048
	(cd "$R/data/gxkit/service/drv" && exec ./run) >"$T/log" 2>&1 &
	echo $! >>"$BATS_TEST_TMPDIR/pids"
	local i
	for i in $(seq 1 100); do
		[ "$(wc -l <"$T/sub.out")" -ge 3 ] && break
		sleep 0.05
	done
	head -2 "$T/sub.out"
	[ "$(wc -l <"$T/sub.out")" -ge 3 ]
	[ "$(head -1 "$T/sub.out" | cut -d' ' -f1)" = gxkit/shard3/site-42/rss ]
	[ "$(head -1 "$T/sub.out" | cut -d' ' -f2- | jq -r '.host + " " + .comm')" = "site-42 memhog" ]
}
