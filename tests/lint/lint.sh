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
# The long options of a --help text: the option column of each line, not
# options a description mentions.
long_options_of_help() {
	grep -oE '^ +(-[a-zA-Z0-9], )?--[a-z][a-z0-9-]*' | grep -o -- '--.*' |
		sort -u
}
# ... and of a completion: its compgen -W words and case patterns, not
# the options of the commands it runs (dbus-send --print-reply)
long_options_of_completion() {
	perl -0777 -ne '
		while (/compgen -W "([^"]*)"/g) {
			print "$_\n" for grep { /^--/ } split /\s+/, $1;
		}
		while (/^\s*((?:-[-\w]+\s*\|\s*)*-[-\w]+)\)/mg) {
			print "$_\n" for grep { /^--/ } split /\s*\|\s*/, $1;
		}' "$1" | sort -u
}
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

# the extractors themselves: whole options, the option column only
got=$(printf '  -m, --max-rss=SIZE  exit 3 (see --maximum)\n      --max   x\n' |
	long_options_of_help | paste -sd' ')
comp=$(mktemp)
cat >"$comp" <<'SAMPLE'
	-b | --bus)
		x=$(dbus-send --print-reply)
	COMPREPLY=($(compgen -W "--bus --max" -- "$cur"))
SAMPLE
gotc=$(long_options_of_completion "$comp" | paste -sd' ')
rm -f "$comp"
[ "$got" = "--max --max-rss" ] && [ "$gotc" = "--bus --max" ] &&
	result OK "lint: options are read whole, from their own column" ||
	result FAIL "lint: options are read whole, from their own column" \
		"help: $got; completion: $gotc"

for t in $tools; do
	missing=""
	for f in cmd/$t.c man/$t.1 completions/$t.bash tests/cli/$t.bats; do
		[ -f "$f" ] || missing="$missing $f"
	done
	[ -z "$missing" ] && result OK "$t: five places" ||
		result FAIL "$t: five places" "missing:$missing"
	[ -x build/bin/$t ] || { result FAIL "$t: built" ""; continue; }
	# both ways, as util-linux's checkcompletion: what --help lists, the
	# man page's option lists (.It Fl) and the completion's words must
	# be the same set of long options, compared whole (--max is not
	# --max-rss)
	opts=$(build/bin/$t --help | long_options_of_help)
	man_opts=$(grep '^\.It Fl' man/$t.1 | grep -o 'Fl \\-[a-z][a-z0-9-]*' |
		sed 's/^Fl \\-/--/' | sort -u)
	comp_opts=$(long_options_of_completion completions/$t.bash)
	for place in man completion; do
		[ $place = man ] && have=$man_opts || have=$comp_opts
		absent=$(comm -23 <(echo "$opts") <(echo "$have") | paste -sd' ')
		stale=$(comm -13 <(echo "$opts") <(echo "$have") | paste -sd' ')
		[ -z "$absent" ] && result OK "$t: every --help option in the $place" ||
			result FAIL "$t: every --help option in the $place" \
				"absent: $absent"
		[ -z "$stale" ] && result OK "$t: no option in the $place that --help lacks" ||
			result FAIL "$t: no option in the $place that --help lacks" \
				"not an option of $t: $stale"
	done
	grep -q "_comp_cmd_${t//-/_}" completions/$t.bash &&
		result OK "$t: completion function _comp_cmd_${t//-/_}" ||
		result FAIL "$t: completion function _comp_cmd_${t//-/_}"
	grep -q '^\.Sh EXIT STATUS' man/$t.1 && grep -q '^\.Sh EXAMPLES' man/$t.1 &&
		result OK "$t: man page has EXIT STATUS and EXAMPLES" ||
		result FAIL "$t: man page has EXIT STATUS and EXAMPLES"
done

# and no page or completion of a tool that is gone
for f in man/*.1 completions/*.bash; do
	name=$(basename "$f" | sed -E 's/[.](1|bash)$//')
	[ "$name" = gxkit-common ] && continue
	grep -qw -- "$name" <<<"$tools" && result OK "$f: belongs to a tool" ||
		result FAIL "$f: belongs to a tool" "no tool $name in TOOLS"
done

# lib/ stands without the command line: cli is the one module that knows
# popt and the tools' globals, and no other lib module includes it
out=$(grep -l '^#include "cli.h"' lib/*.[ch] | grep -Ev '^lib/cli[.][ch]$')
[ -z "$out" ] && result OK "lib: only cli includes cli.h" ||
	result FAIL "lib: only cli includes cli.h" "$out"

# ... and its modules (lib/X.c with lib/X.h) include each other without
# a circle: tsort finds one
out=$(for f in lib/*.[ch]; do
	m=$(basename "${f%.*}")
	sed -n 's/^#include "\([a-z0-9_]*\)[.]h".*/\1/p' "$f" |
		while read -r h; do [ "$h" = "$m" ] || echo "$h $m"; done
done | tsort 2>&1 >/dev/null)
[ -z "$out" ] && result OK "lib: no include circle between modules" ||
	result FAIL "lib: no include circle between modules" "$out"

# exit codes by name (lib/exitcodes.h): no bare number given to err(3),
# errx(3), exit(3), or returned from main()
out=$(grep -nE '\b(v?errx?|_?exit)\( *[0-9]' cmd/*.c lib/*.c;
	awk '/^main\(/ { m = 1 } m && /^}/ { m = 0 }
		m && /return +[0-9]/ { print FILENAME ":" FNR ": " $0 }' cmd/*.c)
[ -z "$out" ] && result OK "exit codes by name" ||
	result FAIL "exit codes by name" "$out"

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
