#!/usr/bin/env bats
# A fleet through a real broker: Debian's mosquitto on a loopback port
# with its own config, rss-watch --tag on memhog "devices" publishing with
# mosquitto_pub -l, one mosquitto_sub | leak-classify --by host judging.

load helpers

# start_broker [persistence]: mosquitto on $MQ_PORT, pid in $MQ_PID
start_broker() {
	local conf=$BATS_TEST_TMPDIR/mosquitto.conf
	[ -n "${MQ_PORT:-}" ] || MQ_PORT=$(free_port)
	{
		echo "listener $MQ_PORT 127.0.0.1"
		echo "allow_anonymous true"
		echo "user $(id -un)" # as root it would become mosquitto
		echo "persistence ${1:-false}"
		echo "persistence_location $BATS_TEST_TMPDIR/"
		echo "log_dest file $BATS_TEST_TMPDIR/mosquitto.log"
	} >"$conf"
	start_bg mosquitto -c "$conf"
	MQ_PID=$BG_PID
	wait_port "$MQ_PORT"
}

# the samples a device wrote (its last record is the exit event)
samples_of() {
	jq -c 'select(.event == null)' "$BATS_TEST_TMPDIR/dev$1.jsonl" | wc -l
}

# device N LEAK SECONDS [TOPIC]: rss-watch --tag host=gxN on a memhog,
# each record a message on gxkit/gxN/rss (and a copy in devN.jsonl)
device() {
	local hog="steady --base 4096"
	[ "$2" = 1 ] && hog="leak --rate 2000"
	rss-watch --tag host=gx$1 -i 50ms -d "$3" -- memhog $hog --for "$3.5" |
		tee "$BATS_TEST_TMPDIR/dev$1.jsonl" |
		mosquitto_pub -h 127.0.0.1 -p "$MQ_PORT" -q 1 -l \
			-t "${4:-gxkit/gx$1/rss}"
}

# consume TOPIC SECONDS OUT [mosquitto_sub options]: subscribe, judge at
# the end (-W: twice the devices' time and more, for emulated devices on a
# busy machine; finished sooner by finish), verdicts in OUT, exit code in
# OUT.rc; waits until the subscription is in place
consume() {
	local topic=$1 secs=$2 out=$3
	shift 3
	start_bg bash -c '{ mosquitto_sub -h 127.0.0.1 -p "$0" -q 1 -t "$1" -W "$2" "${@:4}" &
		echo $! >"$3.sub"; wait; } |
		tee "$3.in" | leak-classify --by host --json >"$3"; echo $? >"$3.rc"' \
		"$MQ_PORT" "$topic" "$secs" "$out" "$@"
	local i probe=${topic/+/probe}
	for i in $(seq 1 100); do
		mosquitto_pub -h 127.0.0.1 -p "$MQ_PORT" -t "$probe" \
			-m '{"event":"probe"}'
		grep -q probe "$out.in" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

# finish OUT: once the devices are done and nothing more has come for two
# seconds (what the broker redelivers included), end the subscriber of
# OUT, as -W would later, and wait for the verdicts
finish() {
	local i size last=-1
	for i in $(seq 1 40); do
		size=$(stat -c %s "$1.in")
		[ "$size" = "$last" ] && break
		last=$size
		sleep 2
	done
	kill "$(cat "$1.sub")" 2>/dev/null || true
	wait_file "$1.rc"
}

wait_file() {
	local i
	for i in $(seq 1 400); do
		[ -s "$1" ] && return 0
		sleep 0.05
	done
	return 1
}

# the hosts OUT calls leaking, sorted, on one line
leaking() {
	jq -r 'select(.verdict == "leak") | .host' "$1" | sort -V | paste -sd' '
}

teardown() {
	stop_all
}

@test "fleet: twenty devices through mosquitto, --by host names exactly the leaking ones" {
	local T=$BATS_TEST_TMPDIR i pids=()
	start_broker
	consume 'gxkit/+/rss' 14 "$T/verdicts.jsonl"
	for i in $(seq 0 19); do
		case $i in 3 | 7 | 11 | 16) leak=1 ;; *) leak=0 ;; esac
		device "$i" "$leak" 4 &
		pids+=($!)
	done
	for i in "${pids[@]}"; do wait "$i"; done
	finish "$T/verdicts.jsonl"
	cat "$T/verdicts.jsonl" | jq -c '{host, verdict, samples}'
	[ "$(cat "$T/verdicts.jsonl.rc")" = 4 ] # the worst: a leak
	[ "$(leaking "$T/verdicts.jsonl")" = "gx3 gx7 gx11 gx16" ]
	# one verdict per device (and none for the probe's empty group
	# but a steady or insufficient one), each with its records
	[ "$(jq -r 'select(.host | startswith("gx")) | .host' "$T/verdicts.jsonl" | sort -u | wc -l)" -eq 20 ]
	for i in 0 3 19; do
		n=$(jq -r "select(.host == \"gx$i\") | .samples" "$T/verdicts.jsonl")
		[ "$n" -eq "$(samples_of "$i")" ]
	done
}

# restart_run PERSIST [mosquitto_sub options]: four devices (gx1 and gx3
# leaking) for 6 s, the broker killed after 2 s and back after 3 s
restart_run() {
	local T=$BATS_TEST_TMPDIR i pids=() persist=$1
	shift
	start_broker "$persist"
	consume 'gxkit/+/rss' 15 "$T/verdicts.jsonl" "$@"
	for i in 0 1 2 3; do
		device "$i" $((i % 2)) 6 &
		pids+=($!)
	done
	sleep 2
	kill "$MQ_PID"
	wait "$MQ_PID" || true
	sleep 1
	start_broker "$persist"
	for i in "${pids[@]}"; do wait "$i"; done
	finish "$T/verdicts.jsonl"
	cat "$T/verdicts.jsonl" | jq -c '{host, verdict, samples}'
	[ "$(leaking "$T/verdicts.jsonl")" = "gx1 gx3" ]
	[ "$(jq -r 'select(.verdict == "steady") | .host' "$T/verdicts.jsonl" | sort | paste -sd' ')" = "gx0 gx2" ]
}

@test "fleet: a broker restart loses the records of the gap, not the verdicts" {
	local i
	restart_run false
	# a broker without persistence forgets the consumer: what comes
	# before it subscribes again is gone
	for i in 0 1 2 3; do
		got=$(jq -r "select(.host == \"gx$i\") | .samples" "$BATS_TEST_TMPDIR/verdicts.jsonl")
		echo "gx$i: $got of $(samples_of "$i")"
		[ "$got" -le "$(samples_of "$i")" ]
		[ "$got" -gt 40 ]
	done
}

@test "fleet: QoS 1, a persistent session and broker persistence lose nothing" {
	local i
	# the consumer's session (-c -i) outlives the restart in the
	# broker's database; mosquitto_pub queues its QoS 1 messages while
	# away; a message sent twice (at least once) is skipped as such
	restart_run true -c -i fleet-consumer
	for i in 0 1 2 3; do
		got=$(jq -r "select(.host == \"gx$i\") | .samples" "$BATS_TEST_TMPDIR/verdicts.jsonl")
		echo "gx$i: $got of $(samples_of "$i")"
		[ "$got" -eq "$(samples_of "$i")" ]
	done
}

@test "fleet: shards by topic prefix split the fleet, never a device's series" {
	local T=$BATS_TEST_TMPDIR i pids=()
	start_broker
	consume 'gxkit/shard0/+/rss' 12 "$T/shard0.jsonl"
	consume 'gxkit/shard1/+/rss' 12 "$T/shard1.jsonl"
	for i in 0 1 2 3 4 5; do
		device "$i" $((i == 1 || i == 4)) 3 "gxkit/shard$((i % 2))/gx$i/rss" &
		pids+=($!)
	done
	for i in "${pids[@]}"; do wait "$i"; done
	finish "$T/shard0.jsonl"
	finish "$T/shard1.jsonl"
	hosts() { jq -r 'select(.host | startswith("gx")) | .host' "$1" | sort | paste -sd' '; }
	[ "$(hosts "$T/shard0.jsonl")" = "gx0 gx2 gx4" ]
	[ "$(hosts "$T/shard1.jsonl")" = "gx1 gx3 gx5" ]
	[ "$(leaking "$T/shard0.jsonl")" = "gx4" ]
	[ "$(leaking "$T/shard1.jsonl")" = "gx1" ]
	# each device whole in its shard
	for i in 0 1 2 3 4 5; do
		n=$(jq -r "select(.host == \"gx$i\") | .samples" "$T"/shard?.jsonl)
		[ "$n" -eq "$(samples_of "$i")" ]
	done
}

@test "fleet: --tag on every record writer, checked keys, JSONL only" {
	local T=$BATS_TEST_TMPDIR
	run rss-watch --tag host=gx1 --tag 'site=a "b"' -n 2 -i 10ms -p $$
	[ "$status" -eq 0 ]
	[ "$(jq -r '[.host, .site] | join("|")' <<<"$output" | sort -u)" = 'gx1|a "b"' ]
	# ts and src stay first
	[ "$(head -1 <<<"$output" | jq -r 'keys_unsorted[:3] | join(",")')" = "ts,src,host" ]
	start_gw_sim_tcp -m growatt-v120
	run gw-read --tag host=gx2 -b tcp:127.0.0.1:$PORT -m growatt-v120
	[ "$status" -eq 0 ]
	[ "$(jq -r .host <<<"$output" | sort -u)" = gx2 ]
	run gw-scan --tag host=gx3 -b tcp:127.0.0.1:$PORT -u 1-2 --timeout 200ms
	[ "$(jq -r .host <<<"$output" | sort -u)" = gx3 ]
	/usr/bin/python3 "$ROOT/tests/peers/shepherd_h5.py" --samples 100 "$T/r.h5"
	run h5-dump --tag host=bb1 "$T/r.h5" /data
	[ "$status" -eq 0 ]
	[ "$(jq -r .host <<<"$output" | sort -u)" = bb1 ]
	[ "$(wc -l <<<"$output")" -eq 100 ]
	run h5-dump --tag host=bb1 --stats "$T/r.h5"
	[ "$(jq -r .host <<<"$output")" = bb1 ]
	start_dbus
	run dbus-watch --tag host=gx4 --once 'org.freedesktop.*'
	[ "$status" -eq 0 ] || [ "$status" -eq 1 ]
	# refused: bad keys, reserved keys, twice, and CSV
	for bad in "ts=1" "src=x" "Host=1" "=1" "host" "a-b=1"; do
		run rss-watch --tag "$bad" -p $$
		[ "$status" -eq 2 ]
		[[ $output == *"--tag"* ]]
	done
	run rss-watch --tag a=1 --tag a=2 -p $$
	[ "$status" -eq 2 ]
	[[ $output == *"tagged twice"* ]]
	run gw-read --tag a=1 --format csv -b tcp:127.0.0.1:$PORT -m growatt-v120
	[ "$status" -eq 2 ]
	run h5-dump --tag a=1 -f csv "$T/r.h5" /data
	[ "$status" -eq 2 ]
	run "${VALGRIND[@]}" rss-watch --tag host=gx1 --tag b=2 -n 2 -i 10ms -p $$
	[ "$status" -eq 0 ]
}
