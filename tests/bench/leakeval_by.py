#!/usr/bin/python3
"""The leakgen.py corpus judged at once as a fleet: every series tagged
with its name, one leak-classify --by series run (512 buckets a group),
against the goals and against one run per series (4,096 buckets).

usage: leakeval_by.py DIR [LEAK_CLASSIFY]
"""
import collections
import json
import os
import subprocess
import sys

LEAKY = {"leak", "fragmentation_suspect", "oom_imminent"}


def main():
    d = sys.argv[1]
    tool = sys.argv[2] if len(sys.argv) > 2 else "leak-classify"
    man = [json.loads(l) for l in open(os.path.join(d, "manifest.jsonl"))]
    fleet = os.path.join(d, "fleet.jsonl")
    with open(fleet, "w") as out:
        for m in man:
            for line in open(os.path.join(d, m["file"])):
                out.write(line.rstrip("\n")[:-1] + ',"series":"%s"}\n' % m["file"])
    p = subprocess.run([tool, "--by", "series", "--json", fleet],
                       capture_output=True, text=True)
    by = {r["series"]: r["verdict"] for r in map(json.loads, p.stdout.splitlines())}
    os.unlink(fleet)
    elig = [m for m in man if m["truth"] == "leak" and m["eligible"]]
    none = [m for m in man if m["truth"] == "none"]
    found = sum(by.get(m["file"]) in LEAKY for m in elig)
    false = sum(by.get(m["file"]) in LEAKY for m in none)
    print(f"\n--by series, {len(man)} series in one run (512 buckets a group):")
    print(f"  eligible leaks called a leak  {found}/{len(elig)} = {100 * found / max(len(elig), 1):.1f} % (>= 97 %)")
    print(f"  non-leaks called a leak       {false}/{len(none)} = {100 * false / max(len(none), 1):.2f} % (<= 1 %)")
    same, differ = 0, collections.Counter()
    for m in man:
        r = subprocess.run([tool, "--json", os.path.join(d, m["file"])],
                           capture_output=True, text=True)
        one = json.loads(r.stdout)["verdict"]
        if one == by.get(m["file"]):
            same += 1
        else:
            differ[(m["truth"], one, by.get(m["file"]))] += 1
    print(f"  the same verdict as one run per series: {same}/{len(man)}")
    for (truth, one, grouped), n in differ.most_common(6):
        print(f"    truth {truth}: alone {one}, grouped {grouped}: {n}")


if __name__ == "__main__":
    main()
