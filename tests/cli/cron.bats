#!/usr/bin/env bats
# The cron recipes of the README's "Health checks from cron" (and gxkit(7),
# word for word), run as cron runs a job: no terminal, no standard input,
# env -i with cron's PATH, the system bus.  The recorder is install.sh
# --monitor under Debian's real svscan, supervise and multilog; the D-Bus
# peer is written like Victron's vedbus.py.  Only the recipes' paths and
# durations are changed, to a scratch root and to seconds.

load helpers

SVC=com.victronenergy.pvinverter.growatt_1

teardown() {
	stop_svscan
	stop_all
}

# recipe NAME: the script as the README gives it
recipe() {
	awk -v m="<!-- recipe: $1 -->" '
		$0 == m { on = 1; next }
		on && /^    / { sub(/^    /, ""); print; next }
		on && /^$/ { print; next }
		on { exit }' "$ROOT/README.md" | sed -e :a -e '/^\n*$/{$d;N;ba' -e '}'
}

# as_cron SCRIPT: run it as cron would; a logger that writes down what it
# is given stands in for syslog
as_cron() {
	local fake=$BATS_TEST_TMPDIR/fakebin
	mkdir -p "$fake"
	printf '#!/bin/sh\necho "$*" >>%s/logger.log\n' "$BATS_TEST_TMPDIR" >"$fake/logger"
	chmod +x "$fake/logger"
	run env -i PATH="$fake:/usr/bin:/bin" HOME=/ LOGNAME=root SHELL=/bin/sh \
		${DBUS_SYSTEM_BUS_ADDRESS:+DBUS_SYSTEM_BUS_ADDRESS=$DBUS_SYSTEM_BUS_ADDRESS} \
		setsid -w sh "$1" </dev/null
	# CRON_TRANSCRIPT=FILE: what cron would have mailed, run by run
	[ -z "${CRON_TRANSCRIPT:-}" ] ||
		printf '$ %s    # as cron\n%s\n[exit %s; %s]\n\n' "${1##*/}" "$output" "$status" \
			"$([ -n "$output" ] && echo mailed || echo nothing mailed)" >>"$CRON_TRANSCRIPT"
}

@test "cron: the recipes are the same in the README and in gxkit(7)" {
	local name
	for name in leak-check power-check; do
		recipe "$name" >"$BATS_TEST_TMPDIR/readme"
		[ "$(wc -l <"$BATS_TEST_TMPDIR/readme")" -gt 8 ]
		awk -v m="recipe: $name" 'index($0, m) { on = 1; next }
			on && /^\.Bd/ { next } on && /^\.Ed/ { exit } on { print }' \
			"$ROOT/man/gxkit.7" | sed 's/\\e/\\/g' >"$BATS_TEST_TMPDIR/man"
		diff "$BATS_TEST_TMPDIR/readme" "$BATS_TEST_TMPDIR/man"
		sh -n "$BATS_TEST_TMPDIR/readme"
	done
}

@test "cron: leak-check is silent on a steady service, says a leak and a recorder that stopped" {
	local T=$BATS_TEST_TMPDIR
	stage
	"$PKG/install.sh" --root "$R" >/dev/null
	recipe leak-check | sed -e "s#/data/gxkit/bin#$R/data/gxkit/bin#" \
		-e "s#/var/log/#$T/log/#" -e 's/--last 24h --max-age 15m/--last 1h --max-age 3s/' \
		>"$T/leak-check"
	# nothing recorded yet: too little data, nothing to mail
	as_cron "$T/leak-check"
	[ "$status" -eq 0 ] && [ -z "$output" ]
	# a steady service's records, through multilog with its t labels
	mkdir -p "$T/log"
	rss-watch -i 100ms -d 4s -- memhog steady --base 4096 --for 5 2>/dev/null |
		multilog t "$T/log/rss_growatt"
	head -c1 "$T/log/rss_growatt/current" | grep -q @
	as_cron "$T/leak-check"
	[ "$status" -eq 0 ] && [ -z "$output" ]
	[ ! -e "$T/logger.log" ]
	# the recorder as a service, the service it follows leaking
	rm -r "$T/log/rss_growatt"
	"$PKG/install.sh" --root "$R" --monitor rss_growatt -N memhog -i 100ms \
		--log-dir "$T/log" >/dev/null
	grep -qx "exec multilog t s1000000 n5 '$T/log/rss_growatt'" "$R/data/gxkit/service/rss_growatt/log/run"
	svscan "$R/service" >/dev/null 2>&1 &
	SVSCAN_PID=$!
	start_bg memhog leak --rate 1000 --for 60
	local i
	for i in $(seq 1 150); do
		[ "$(grep -c '"anon_kb"' "$T/log/rss_growatt/current" 2>/dev/null)" -ge 60 ] && break
		sleep 0.1
	done
	as_cron "$T/leak-check"
	[ "$status" -eq 0 ]
	# 1000 KB/s: 128 MB is minutes away
	[[ ${lines[0]} == "anon_kb: oom_imminent (at "*" GB/h the limit 128 MB is reached in "* ]]
	grep -qx -- '-t gxkit dbus-growatt leaks' "$T/logger.log"
	# the recorder stops: its data go stale
	svc -d "$R/service/rss_growatt"
	sleep 4
	as_cron "$T/leak-check"
	[ "$status" -eq 0 ]
	[ "$output" = "leak-check: nothing recorded in $T/log/rss_growatt for 15 minutes" ]
}

@test "cron: power-check is silent while the power changes, and names each fault" {
	local T=$BATS_TEST_TMPDIR
	start_dbus
	unset DBUS_SESSION_BUS_ADDRESS # cron has none: the system bus, as on a GX
	stage
	"$PKG/install.sh" --root "$R" >/dev/null
	recipe power-check | sed -e "s#/data/gxkit/bin#$R/data/gxkit/bin#" \
		-e 's/--fresh 60s/--fresh 2s/' >"$T/power-check"
	as_cron "$T/power-check"
	[ "$output" = "power-check: $SVC is not on the D-Bus" ]
	DBUS_SESSION_BUS_ADDRESS=$DBUS_SYSTEM_BUS_ADDRESS \
		start_bg /usr/bin/python3 "$ROOT/tests/peers/vedbus_service.py" $SVC --tick 0.1
	local peer=$BG_PID
	DBUS_SESSION_BUS_ADDRESS=$DBUS_SYSTEM_BUS_ADDRESS wait_name $SVC
	as_cron "$T/power-check"
	[ "$status" -eq 0 ] && [ -z "$output" ]
	kill -USR1 "$peer" # it stops changing
	sleep 2.5
	as_cron "$T/power-check"
	[ "$output" = "power-check: /Ac/Power of $SVC has not changed for 60 s" ]
	kill -USR2 "$peer" # invalid
	sleep 0.3
	as_cron "$T/power-check"
	[ "$output" = "power-check: $SVC has no valid /Ac/Power" ]
	kill "$DBUS_PID"
	sleep 0.3
	as_cron "$T/power-check"
	[[ ${lines[0]} == "dbus-watch: cannot connect to the bus: "* ]]
	[ "${lines[1]}" = "power-check: the D-Bus is down" ]
}
