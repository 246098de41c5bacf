#!/bin/bash
# leak-classify on a generated corpus with known truth: confusion matrix,
# accuracy, and leak verdicts on steady, sawtooth and random-walk series
# (goal: >= 95% correct, and no such false leak).
set -eu
. "$(dirname "$0")/lib.sh"
/usr/bin/python3 "$ROOT/tests/bench/corpus.py" "$OUT/corpus" "${BENCH_PER_CLASS:-30}"
for f in "$OUT"/corpus/*.jsonl; do
	v=$(leak-classify -q --json "$f" | jq -r .verdict) || true
	b=$(basename "$f" .jsonl)
	echo "${b%%__*} ${b#*__} $v"
done >"$OUT/verdicts.txt"
/usr/bin/python3 - "$OUT/verdicts.txt" <<'PY'
import collections, sys
rows = [l.split() for l in open(sys.argv[1])]
verdicts = sorted({r[2] for r in rows} | {r[0] for r in rows})
by_class = collections.defaultdict(collections.Counter)
for truth, name, v in rows:
    by_class[(truth, name.split("__")[0])][v] += 1
print("accuracy corpus, %d series; rows truth/class, columns verdicts:" % len(rows))
print("  %-26s" % "" + "".join("%10s" % v[:9] for v in verdicts))
for (truth, cls), c in sorted(by_class.items()):
    print("  %-26s" % (truth + "/" + cls) + "".join("%10d" % c[v] for v in verdicts))
ok = sum(1 for t, _, v in rows if t == v)
false_leaks = sum(1 for t, n, v in rows if t == "steady" and v in ("leak", "fragmentation_suspect", "oom_imminent"))
print("  correct %d/%d = %.1f%%; leak verdicts on non-leaking series: %d" % (ok, len(rows), 100.0 * ok / len(rows), false_leaks))
PY
