#!/usr/bin/python3
"""Run leak-classify on every series of a leakgen.py or realcorpus.py
corpus and print the confusion matrices and the goals of leak-classify's
accuracy (with LEAKEVAL_SUMMARY=FILE, the counts as JSON there too, and
"called": the files called a leak).

usage: leakeval.py DIR [LEAK_CLASSIFY] [JOBS]   (exit 0 when the goals hold)
"""
import collections
import concurrent.futures
import json
import os
import subprocess
import sys

LEAKY = {"leak", "fragmentation_suspect", "oom_imminent"}
VERDICTS = ["steady", "settling", "recovery", "leak", "fragmentation_suspect",
            "oom_imminent", "insufficient_data"]
SHORT = {"steady": "steady", "settling": "settl", "recovery": "recov",
         "leak": "leak", "fragmentation_suspect": "frag",
         "oom_imminent": "oom", "insufficient_data": "insuf"}


def judge(tool, path):
    try:
        p = subprocess.run([tool, "--json", path], capture_output=True, text=True)
        return json.loads(p.stdout)
    except (OSError, ValueError) as e:
        return {"verdict": "error", "stderr": str(e)}


def table(title, rows, counts):
    print(f"  {title:<22}" + "".join(f"{SHORT[v]:>8}" for v in VERDICTS) + f"{'n':>8}")
    for r in rows:
        c = counts[r]
        print(f"  {r:<22}" + "".join(f"{c.get(v, 0):>8}" for v in VERDICTS)
              + f"{sum(c.values()):>8}")


def main():
    d = sys.argv[1]
    tool = sys.argv[2] if len(sys.argv) > 2 else "leak-classify"
    jobs = int(sys.argv[3]) if len(sys.argv) > 3 else os.cpu_count() or 2
    man = [json.loads(l) for l in open(os.path.join(d, "manifest.jsonl"))]
    with concurrent.futures.ThreadPoolExecutor(jobs) as ex:
        res = list(ex.map(lambda m: judge(tool, os.path.join(d, m["file"])), man))
    by_truth = collections.defaultdict(collections.Counter)
    by_class = collections.defaultdict(collections.Counter)
    errors = 0
    for m, r in zip(man, res):
        v = r.get("verdict")
        if v not in VERDICTS:
            errors += 1
            continue
        by_truth[m["truth"] + (" (eligible)" if m["eligible"] else
                               " (weak)" if m["truth"] == "leak" else "")][v] += 1
        by_class[("leak: " if m["truth"] == "leak" else "none: ") + m["class"]][v] += 1
    print(f"{len(man)} series from {d}")
    table("truth", sorted(by_truth), by_truth)
    print()
    table("class", sorted(by_class), by_class)
    elig = [(m, r) for m, r in zip(man, res) if m["truth"] == "leak" and m["eligible"]]
    none = [(m, r) for m, r in zip(man, res) if m["truth"] == "none"]
    found = sum(r.get("verdict") in LEAKY for _, r in elig)
    false = sum(r.get("verdict") in LEAKY for _, r in none)
    stair = [(m, r) for m, r in zip(man, res) if m["class"] == "episodic_night"]
    stair_settling = sum(r.get("verdict") == "settling" for _, r in stair)
    onset = [(m, r) for m, r in zip(man, res)
             if m["class"] == "late_onset" and r.get("verdict") in LEAKY]
    near = sum(r.get("onset_ts") is not None and
               abs(r["onset_ts"] - m["onset_ts"]) <= 0.05 * (m["last_ts"] - m["first_ts"])
               for m, r in onset)
    det = found / max(len(elig), 1)
    fp = false / max(len(none), 1)
    on = near / max(len(onset), 1)
    print()
    print(f"  goal: eligible leaks called a leak  {found}/{len(elig)} = {100 * det:.1f} % (>= 97 %)")
    print(f"  goal: non-leaks called a leak       {false}/{len(none)} = {100 * fp:.2f} % (<= 1 %)")
    print(f"  goal: staircases called settling    {stair_settling}/{len(stair)} (none)")
    print(f"  goal: onset within 5 % of the span  {near}/{len(onset)} = {100 * on:.1f} % of late onsets found")
    if errors:
        print(f"  {errors} series gave no verdict")
    ok = det >= 0.97 and fp <= 0.01 and stair_settling == 0 and errors == 0
    print("  goals " + ("met" if ok else "NOT met"))
    if os.environ.get("LEAKEVAL_SUMMARY"):  # for accuracy.sh's side by side
        with open(os.environ["LEAKEVAL_SUMMARY"], "w") as f:
            json.dump({"series": len(man), "eligible": len(elig), "found": found,
                       "none": len(none), "false": false, "ok": ok,
                       "called": [m["file"] for m, r in zip(man, res)
                                  if r.get("verdict") in LEAKY]}, f)
    sys.exit(0 if ok else 1)


main()
