#!/bin/bash
# h5-dump against h5dump -y -w 0 (each dataset of /data, as text) and an
# h5py script writing the same CSV rows, on one generated recording:
# rows per second and max RSS.  Then h5-dump's max RSS at 1x and 8x size.
#   SAMPLES=20000000 (default) tests/bench/h5-dump.sh
set -eu
. "$(dirname "$0")/lib.sh"
n=${SAMPLES:-20000000}
fix=$ROOT/tests/peers/shepherd_h5.py
rec=$OUT/rec.h5

echo "h5-dump: writing a $n-sample recording (current layout, gzip 1)"
/usr/bin/python3 "$fix" --samples "$n" "$rec"

# h5dump prints one dataset at a time: the three runs add up.
h5dump_all() {
	local ds
	for ds in time voltage current; do
		h5dump -y -w 0 -d /data/$ds "$1" || return
	done
}
export -f h5dump_all
# Output to /dev/null: the page cache would otherwise be half the cost.
export STDOUT=/dev/null
measure h5dump bash -c 'h5dump_all "$0"' "$rec"
measure h5py /usr/bin/python3 "$ROOT/tests/bench/h5_py_csv.py" "$rec"
measure csv h5-dump -q -f csv "$rec" /data
measure jsonl h5-dump -q "$rec" /data
measure raw h5-dump -q --raw -f csv "$rec" /data
# the cost of reading in a watched child (--deadline, the default)
measure inproc h5-dump -q --deadline 0 -f csv "$rec" /data
# h5dump's RSS is its largest single run: measure one alone too.
measure h5dump1 h5dump -y -w 0 -d /data/time "$rec"
unset STDOUT

rows() { awk -v n="$n" -v s="$(val "$1" wall)" 'BEGIN { printf "%.2f", n / s / 1e6 }'; }
printf '%-26s %9s %9s %10s\n' "" "wall s" "M rows/s" "max RSS KB"
for m in h5dump h5dump1 h5py csv jsonl raw; do
	printf '%-26s %9s %9s %10s\n' "$m" "$(val $m wall)" "$(rows $m)" "$(val $m rss)"
done
echo "throughput h5-dump csv / h5dump:   $(ratio "$(val h5dump wall)" "$(val csv wall)")x"
echo "throughput h5-dump jsonl / h5dump: $(ratio "$(val h5dump wall)" "$(val jsonl wall)")x"
echo "throughput h5-dump raw / h5dump:   $(ratio "$(val h5dump wall)" "$(val raw wall)")x"
echo "throughput h5-dump csv / h5py:     $(ratio "$(val h5py wall)" "$(val csv wall)")x"
echo "max RSS h5dump / h5-dump csv:      $(ratio "$(val h5dump1 rss)" "$(val csv rss)")x"
echo "max RSS h5py / h5-dump csv:        $(ratio "$(val h5py rss)" "$(val csv rss)")x"
echo "guarded / in-process (--deadline 0) wall: $(ratio "$(val csv wall)" "$(val inproc wall)")x"

# ... and per run, on a small file: 200 describes, guarded and not
/usr/bin/python3 "$fix" --layout current --compression lzf --samples 5000 \
	--chunk 1000 "$OUT/small.h5"
runs() { for _ in $(seq 1 200); do h5-dump "$@" "$OUT/small.h5" >/dev/null; done; }
export -f runs
export OUT
measure small_guarded bash -c 'runs -q'
measure small_inproc bash -c 'runs -q --deadline 0'
awk -v g="$(val small_guarded wall)" -v i="$(val small_inproc wall)" 'BEGIN {
	printf "guard per run on a 5000-row file: %.2f ms (%.2f ms guarded, %.2f in-process)\n",
		(g - i) / 200 * 1000, g / 200 * 1000, i / 200 * 1000 }'


# RSS against size: 1x and 8x of a smaller recording, stats mode.
small=$((n / 8))
/usr/bin/python3 "$fix" --samples "$small" "$OUT/1x.h5"
/usr/bin/python3 "$fix" --samples $((small * 8)) "$OUT/8x.h5"
measure x1 h5-dump -q -f csv "$OUT/1x.h5" /data
measure x8 h5-dump -q -f csv "$OUT/8x.h5" /data
# Same rows as the h5py script? Python writes 0.0 where JSON style has 0.
/usr/bin/python3 "$ROOT/tests/bench/h5_py_csv.py" "$OUT/1x.h5" |
	sed -E 's/,(-?[0-9]+)\.0$/,\1/; s/,(-?[0-9]+)\.0,/,\1,/' >"$OUT/py1x.csv"
cmp -s "$OUT/x1.stdout" "$OUT/py1x.csv" && same=identical || same=DIFFERENT
echo "h5-dump CSV vs h5py CSV at 1x: $same"
rm -f "$OUT"/*.stdout
echo "max RSS at 1x ($small rows): $(val x1 rss) KB, at 8x: $(val x8 rss) KB," \
	"difference $(( $(val x8 rss) - $(val x1 rss) )) KB (goal < 2048)"
