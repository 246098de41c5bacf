#!/bin/bash
# make lint: mandoc -Tlint, the five-places consistency check of DESIGN.md,
# clang-format and cppcheck.  Prints TAP; exits 1 when anything failed.
set -u
cd "$(dirname "$0")/../.."
n=0
failed=0
result() { # result OK|FAIL description [details]
	n=$((n + 1))
	if [ "$1" = OK ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		[ -n "${3:-}" ] && printf '%s\n' "$3" | sed 's/^/# /'
		failed=1
	fi
}

tools=$(make -s --no-print-directory print-tools)
# Xr to our own pages cannot be found before they are installed: the one
# message let through, and only for the pages in man/.  A mandoc.db older
# than the packages says "outdated": the machine's state, not the page's.
own=$(cd man && ls *.[17] | sed 's/\.\([17]\)$/ \1/' | paste -sd'|')
for page in man/*.1 man/*.7; do
	out=$(mandoc -Tlint "$page" 2>&1 |
		grep -Ev "referenced manual not found: Xr ($own)( \(|$)" |
		grep -v 'outdated mandoc.db lacks')
	[ -z "$out" ] && result OK "mandoc -Tlint $page" ||
		result FAIL "mandoc -Tlint $page" "$out"
done

for t in $tools; do
	missing=""
	for f in cmd/$t.c man/$t.1 completions/$t.bash tests/cli/$t.bats; do
		[ -f "$f" ] || missing="$missing $f"
	done
	[ -z "$missing" ] && result OK "$t: five places" ||
		result FAIL "$t: five places" "missing:$missing"
	[ -x build/bin/$t ] || { result FAIL "$t: built" ""; continue; }
	page=$(mandoc -Tutf8 man/$t.1 2>/dev/null | col -b)
	opts=$(build/bin/$t --help | grep -o -- '--[a-z][a-z0-9-]*' | sort -u)
	for place in man completion; do
		absent=""
		for o in $opts; do
			if [ $place = man ]; then
				grep -q -- "$o\\b" <<<"$page" || absent="$absent $o"
			else
				grep -q -- "$o\\b" completions/$t.bash ||
					absent="$absent $o"
			fi
		done
		[ -z "$absent" ] && result OK "$t: every --help option in the $place" ||
			result FAIL "$t: every --help option in the $place" \
				"absent:$absent"
	done
	grep -q "_comp_cmd_${t//-/_}" completions/$t.bash &&
		result OK "$t: completion function _comp_cmd_${t//-/_}" ||
		result FAIL "$t: completion function _comp_cmd_${t//-/_}"
	grep -q '^\.Sh EXIT STATUS' man/$t.1 && grep -q '^\.Sh EXAMPLES' man/$t.1 &&
		result OK "$t: man page has EXIT STATUS and EXAMPLES" ||
		result FAIL "$t: man page has EXIT STATUS and EXAMPLES"
done

sources=$(ls cmd/*.c lib/*.c lib/*.h tests/unit/*.c tests/helpers/*.c tests/fuzz/*.[ch])
out=$(clang-format --dry-run --Werror $sources 2>&1)
[ -z "$out" ] && result OK "clang-format" ||
	result FAIL "clang-format (run make format)" "$(head -20 <<<"$out")"

out=$(cppcheck -q --error-exitcode=1 --enable=warning,portability \
	--std=c11 --inline-suppr -D_GNU_SOURCE -I lib --suppress=missingIncludeSystem \
	cmd lib tests/helpers tests/fuzz 2>&1)
[ $? -eq 0 ] && result OK "cppcheck" || result FAIL "cppcheck" "$out"

# header dependencies (-MMD -MP): a header's change recompiles what
# includes it and nothing else; make -W pretends it changed, touching
# nothing.  The objects from grep of who includes venus.h:
B=${GXKIT_BUILD:-build}
want=$(grep -l '"venus.h"' cmd/*.c lib/*.c |
	sed -E "s#^(cmd|lib)/(.*)[.]c\$#$B/\1/\2.o#" | sort | paste -sd' ')
got=$(make -n --no-print-directory B="$B" -W lib/venus.h all 2>&1 |
	grep -o " -c -o [^ ]*" | awk '{ print $3 }' | sort | paste -sd' ')
[ "$got" = "$want" ] && result OK "header dependencies: lib/venus.h recompiles $want" ||
	result FAIL "header dependencies: lib/venus.h" "want: $want; got: $got"

echo "1..$n"
exit $failed
