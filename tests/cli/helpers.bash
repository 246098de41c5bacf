# Shared set-up of the CLI tests: PATH to the build, background processes
# killed by PID in teardown, valgrind with the project's leak settings.

ROOT=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
# wait_port, free_port, rss_kb, cpu_ms: shared with the benchmarks
. "$ROOT/tests/shared.sh"
# GXKIT_BIN: the tools to test (make check-gx: emulated GX builds);
# GXKIT_BUILD: the build tree (make check-asan: build-asan)
B=${GXKIT_BUILD:-build}
export PATH="${GXKIT_BIN:-$ROOT/$B/bin}:$ROOT/$B/helpers:$PATH"
export TZ=UTC LC_ALL=C.UTF-8
VALGRIND=(valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect
	--error-exitcode=99 --suppressions="$ROOT/tests/valgrind.supp")
# valgrind cannot run another architecture's code: emulated tools run bare;
# sanitized tools check themselves, leaks included (exit 99 as valgrind's)
[ -z "${GXKIT_BIN:-}" ] && [ -z "${GXKIT_SANITIZED:-}" ] || VALGRIND=()

# start CMD... in the background; its pid lands in $BG_PID
start_bg() {
	"$@" &
	BG_PID=$!
	echo "$BG_PID" >>"$BATS_TEST_TMPDIR/pids"
}

stop_all() {
	local pid
	[ -f "$BATS_TEST_TMPDIR/pids" ] || return 0
	while read -r pid; do
		kill "$pid" 2>/dev/null || true
	done <"$BATS_TEST_TMPDIR/pids"
	while read -r pid; do
		wait "$pid" 2>/dev/null || true
	done <"$BATS_TEST_TMPDIR/pids"
	rm -f "$BATS_TEST_TMPDIR/pids"
}

# every line of FILE is a JSON object with ts and src = $2
assert_jsonl() {
	local file=$1 src=$2
	[ -s "$file" ]
	jq -e --arg src "$src" \
		'(.ts | type == "number") and .src == $src' "$file" >/dev/null
	[ "$(jq -c . "$file" | wc -l)" -eq "$(wc -l <"$file")" ]
}

# a usage error: status 2, two lines on stderr, nothing on stdout
assert_usage_error() {
	[ "$status" -eq 2 ]
	[ -z "$(cat "$BATS_TEST_TMPDIR/out")" ]
	[ "$(wc -l <"$BATS_TEST_TMPDIR/err")" -eq 2 ]
	grep -q "^Try '.* --help'\.$" "$BATS_TEST_TMPDIR/err"
}

# run_split CMD...: like run, stdout and stderr apart in files
run_split() {
	status=0
	"$@" >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" || status=$?
}

# complete TOOL WORD...: the completions bash offers for the last word
complete_words() {
	local tool=$1
	shift
	bash -c '
		source /usr/share/bash-completion/bash_completion
		source "$0/completions/$1.bash"
		fn=_comp_cmd_${1//-/_}
		COMP_WORDS=("$1" "${@:2}")
		COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
		COMP_LINE="${COMP_WORDS[*]}"
		COMP_POINT=${#COMP_LINE}
		prev=${COMP_WORDS[COMP_CWORD-1]}
		$fn "$1" "${COMP_WORDS[COMP_CWORD]}" "$prev"
		printf "%s\n" "${COMPREPLY[@]}"' "$ROOT" "$tool" "$@"
}

# ---- Modbus peers ---------------------------------------------------------

# pymodbus slave on loopback TCP: start_pymodbus_tcp UNITS -> $PORT
start_pymodbus_tcp() {
	PORT=$(free_port)
	start_bg /usr/bin/python3 "$ROOT/tests/peers/pymodbus_server.py" --tcp "$PORT" --units "$1"
	wait_port "$PORT"
}

# a socat pty pair: $TTY_A and $TTY_B
start_ptys() {
	TTY_A=$BATS_TEST_TMPDIR/ttyA
	TTY_B=$BATS_TEST_TMPDIR/ttyB
	start_bg socat pty,raw,echo=0,link="$TTY_A" pty,raw,echo=0,link="$TTY_B"
	SOCAT_PID=$BG_PID
	local i
	for i in $(seq 1 100); do
		[ -e "$TTY_A" ] && [ -e "$TTY_B" ] && return 0
		sleep 0.05
	done
	return 1
}

# gw-sim on loopback TCP: start_gw_sim ARGS... -> $PORT
start_gw_sim_tcp() {
	PORT=$(free_port)
	start_bg gw-sim -b tcp:127.0.0.1:$PORT "$@"
	SIM_PID=$BG_PID
	wait_port "$PORT"
}

# ---- the GX tarball -----------------------------------------------------------

# a tarball's gxkit/ directory (PKG), with the native tools, and a scratch
# root laid out like Venus OS (R)
stage() {
	PKG=$BATS_TEST_TMPDIR/pkg/gxkit
	mkdir -p "$PKG/bin" "$PKG/share/maps" "$PKG/lib/gxkit"
	cp "$ROOT"/build/bin/* "$PKG/bin/"
	cp "$ROOT"/build/lib/gxkit/libgxkit-heap.so "$PKG/lib/gxkit/"
	cp "$ROOT"/lib/maps/*.csv "$PKG/share/maps/"
	cp "$ROOT/gx/install.sh" "$PKG/install.sh"
	R=$BATS_TEST_TMPDIR/root
	mkdir -p "$R"
}

# end svscan (SVSCAN_PID) and what it supervises under $R/service, before
# stop_all: supervise would restart what stop_all ends
stop_svscan() {
	[ -n "${SVSCAN_PID:-}" ] || return 0
	kill "$SVSCAN_PID" 2>/dev/null || true
	svc -dx "$R/service/"*/ "$R/service/"*/log 2>/dev/null || true
	sleep 0.5
}

# ---- D-Bus ------------------------------------------------------------------

# a private dbus-daemon for this test; exports DBUS_SESSION_BUS_ADDRESS
start_dbus() {
	local dir=$BATS_TEST_TMPDIR/dbus
	mkdir -p "$dir"
	dbus-daemon --session --nofork --address="unix:path=$dir/bus" \
		--print-address=3 3>"$dir/addr" 2>/dev/null &
	DBUS_PID=$!
	echo "$DBUS_PID" >>"$BATS_TEST_TMPDIR/pids"
	local i
	for i in $(seq 1 100); do
		[ -s "$dir/addr" ] && break
		sleep 0.02
	done
	export DBUS_SESSION_BUS_ADDRESS=$(head -1 "$dir/addr")
	export DBUS_SYSTEM_BUS_ADDRESS=$DBUS_SESSION_BUS_ADDRESS
}

# wait until NAME has an owner on the bus
wait_name() {
	local i
	for i in $(seq 1 150); do
		dbus-send --print-reply --dest=org.freedesktop.DBus / \
			org.freedesktop.DBus.NameHasOwner string:"$1" 2>/dev/null |
			grep -q "boolean true" && return 0
		sleep 0.05
	done
	return 1
}
