#!/bin/bash
# Run every test (lint, cmocka unit tests, bats CLI tests) as TAP and close
# with one line "N passed, N failed".  Exit 0 only when nothing failed.
set -u
cd "$(dirname "$0")/.."
export PATH="$PWD/build/bin:$PWD/build/helpers:$PATH"
export TZ=UTC LC_ALL=C.UTF-8
pass=0
fail=0

# count TAP results of one suite; a suite that dies without "not ok" fails
count() {
	local name=$1 out rc=0
	shift
	out=$("$@" 2>&1) || rc=$?
	printf '%s\n' "$out"
	local ok bad
	ok=$(grep -c '^ok ' <<<"$out")
	bad=$(grep -c '^not ok ' <<<"$out")
	if [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; then
		echo "not ok - $name exited with $rc"
		bad=1
	fi
	pass=$((pass + ok))
	fail=$((fail + bad))
}

count lint tests/lint/lint.sh
for t in build/unit/test_*; do
	count "$t" env CMOCKA_MESSAGE_OUTPUT=TAP "$t"
done
count bats bats --tap tests/cli
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
