# What the CLI tests (tests/cli/helpers.bash) and the benchmarks
# (tests/bench/lib.sh) both use: ports on loopback, and a process's memory
# and CPU time from /proc.  Sourced; defines functions only.

# a TCP port on loopback that nothing listens on, below the kernel's
# ephemeral range: there a client's connection may hold a port that
# nothing listens on, and a server's bind to it fails
free_port() {
	local p low=32768
	read -r low _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || true
	for p in $(shuf -i 10000-$((low - 1)) -n 50); do
		if ! (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null; then
			echo "$p"
			return
		fi
	done
	return 1
}

# wait_port PORT: until something listens on it; 1 after 10 s (an
# emulated tool of make check-gx on a busy machine is slow to listen; a
# ready one answers at once)
wait_port() {
	local i
	for i in $(seq 1 200); do
		(exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

# rss_kb PID, hwm_kb PID: resident memory now and at its highest, in KiB
rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }
hwm_kb() { awk '/^VmHWM/ { print $2 }' "/proc/$1/status"; }

# cpu_ms PID: user and system time so far, in ms
cpu_ms() {
	awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15) * 1000 / hz }' \
		"/proc/$1/stat"
}
