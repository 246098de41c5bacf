#!/bin/bash
# make fuzz: each harness under libFuzzer (clang) for SECONDS, from its
# seed corpus and dictionary; new inputs and crashes land in build-fuzz/.
# Prints the executions per harness; exit 1 when one found something.
# usage: run.sh SECONDS HARNESS...
set -u
cd "$(dirname "$0")/../.."
seconds=$1
shift
libs="-Wl,--as-needed -pthread $(pkg-config --libs popt jansson libmodbus dbus-1 hdf5 liblzf) -lcsv -lm"
cflags="-std=c11 -D_GNU_SOURCE -Ilib -Itests/fuzz -O1 -g $(pkg-config --cflags popt jansson libmodbus dbus-1 hdf5 liblzf)"
rc=0
for name in "$@"; do
	out=build-fuzz/$name
	mkdir -p "$out/corpus" "$out/crashes"
	# shellcheck disable=SC2086
	clang $cflags -fsanitize=address,undefined,fuzzer -o "$out/$name" \
		"tests/fuzz/$name.c" build-fuzz/libgxkit.a $libs || exit 1
	dict=()
	[ -f "tests/fuzz/$name.dict" ] && dict=(-dict="tests/fuzz/$name.dict")
	log=$out/log
	"$out/$name" -max_total_time="$seconds" -print_final_stats=1 \
		-artifact_prefix="$out/crashes/" "${dict[@]}" \
		"$out/corpus" "tests/fuzz/corpus/$name" >"$log" 2>&1 || rc=1
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	if ls "$out"/crashes/* >/dev/null 2>&1; then
		echo "$name: FOUND $(ls "$out/crashes" | wc -l) input(s) in $out/crashes ($execs executions)"
		rc=1
	else
		echo "$name: nothing found in $execs executions ($seconds s)"
	fi
done
exit $rc
