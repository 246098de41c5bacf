#!/bin/bash
# Replay every harness over its corpus (seeds and the inputs that once
# broke something) as TAP: one test per harness.  usage: regress.sh BUILD
set -u
cd "$(dirname "$0")/../.."
b=${1:-build}
n=0
for bin in "$b"/fuzz/fuzz_*; do
	name=$(basename "$bin")
	n=$((n + 1))
	files=(tests/fuzz/corpus/"$name"/*)
	if out=$("$bin" "${files[@]}" 2>&1); then
		echo "ok $n - $name: $out"
	else
		echo "not ok $n - $name"
		printf '%s\n' "$out" | tail -20 | sed 's/^/# /'
	fi
done
echo "1..$n"
