#!/bin/bash
# Run every test (lint, cmocka unit tests, bats CLI tests) as TAP and close
# with one line "N passed, N failed".  Exit 0 only when nothing failed.
set -u
cd "$(dirname "$0")/.."
B=${GXKIT_BUILD:-build}
export PATH="$PWD/$B/bin:$PWD/$B/helpers:$PATH"
export TZ=UTC LC_ALL=C.UTF-8
# under the sanitizers (make check-asan) a finding fails like valgrind's
# h5-dump's watcher must see libhdf5's crash on a corrupt file as the
# signal it is (handle_segv=0); a crash of gxkit's own fails its test so
export ASAN_OPTIONS=detect_leaks=1:exitcode=99:abort_on_error=0:handle_segv=0:suppressions=$PWD/tests/asan.supp
export LSAN_OPTIONS=exitcode=99:suppressions=$PWD/tests/lsan.supp
export UBSAN_OPTIONS=halt_on_error=1:exitcode=99:print_stacktrace=1
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

# the tests of the sources themselves run once, not per build
[ -n "${GXKIT_SANITIZED:-}" ] || count lint tests/lint/lint.sh
for t in "$B"/unit/test_*; do
	count "$t" env CMOCKA_MESSAGE_OUTPUT=TAP "$t"
done
count fuzz tests/fuzz/regress.sh "$B"
# a sanitized process's own memory is its shadow's: those tests run in
# the normal build (and make check-gx) only
if [ -n "${GXKIT_SANITIZED:-}" ]; then
	count bats bats --tap --filter-tags '!own-memory' tests/cli
else
	# the real corpus records for two minutes, its programs mostly asleep:
	# beside the rest, not after it, to keep make check within 10 minutes
	corpus=$(mktemp)
	{
		bats --tap --filter-tags real-corpus tests/cli >"$corpus" 2>&1
		echo $? >"$corpus.rc"
	} &
	corpus_pid=$!
	count bats bats --tap --filter-tags '!real-corpus,!after-corpus' tests/cli
	wait "$corpus_pid"
	count "bats real corpus" sh -c 'cat "$1"; exit "$(cat "$1.rc")"' _ "$corpus"
	rm -f "$corpus" "$corpus.rc"
	# what keeps both cores busy (heap-watch's traced programs) would
	# starve the corpus's recorder: after it
	count "bats after the corpus" bats --tap --filter-tags after-corpus tests/cli
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
