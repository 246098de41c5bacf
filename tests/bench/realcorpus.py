#!/usr/bin/python3
"""Memory timelines of real processes whose truth is in how their programs
are written: C with glibc malloc (tests/helpers/allocs), CPython 3
(pyalloc.py) and node/V8 (nodealloc.js), each recorded by rss-watch at
several sampling intervals at once.

usage: realcorpus.py DIR SEEDS [SECONDS] [JOBS] [INTERVALS] [PROGRAMS]
  SEEDS      comma list: one run of each program per seed (tune on some
             seeds, report on others)
  SECONDS    how long each program runs (default 60)
  JOBS       programs at a time (default 8)
  INTERVALS  rss-watch's intervals, comma list of seconds (default
             0.1,0.5,2)
  PROGRAMS   comma list of runtime:mode to run (default all)

Writes DIR/NNNNN.jsonl and DIR/manifest.jsonl in leakgen.py's format
(leakeval.py judges either): file, truth, class (runtime:mode), generator
(real:c, real:python, real:node), seed, interval_s, samples, sigma (the
noise: the MAD of differences at a lag of a thirtieth, / sqrt 2), growth (the leak's designed KiB
in the window judged), growth_samples, eligible (growth >= 5 sigma over
>= 20 samples), onset_ts, first_ts, last_ts.
"""
import concurrent.futures
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(ROOT, os.environ.get("GXKIT_BUILD", "build"))
# the rss-watch on PATH (the tests': an emulated GX build under check-gx)
RSS_WATCH = shutil.which("rss-watch") or os.path.join(BUILD, "bin", "rss-watch")
HELPERS = os.path.join(ROOT, "tests", "helpers")

# runtime:mode -> (truth, command builder); leak-late leaks from a third on
PROGRAMS = {
    "c:churn": "none", "c:leak": "leak", "c:leak-late": "leak",
    "c:cache": "none", "c:frag": "none", "c:threads": "none",
    "python:churn": "none", "python:cache": "none", "python:bursts": "none",
    "python:burst-keep": "leak", "python:leak": "leak",
    "python:leak-late": "leak",
    "node:churn": "none", "node:settle": "none", "node:leak": "leak",
    "node:leak-late": "leak",
}


def command(prog, seconds, seed):
    runtime, mode = prog.split(":")
    if runtime == "c":
        return [os.path.join(BUILD, "helpers", "allocs"), mode,
                "--for", str(seconds), "--seed", str(seed)]
    if runtime == "python":
        return ["/usr/bin/python3", os.path.join(HELPERS, "pyalloc.py"),
                mode, str(seconds), str(seed)]
    return ["node", os.path.join(HELPERS, "nodealloc.js"), mode,
            str(seconds), str(seed)]


def sigma(values):
    """The noise: the robust sd of differences at a lag of a thirtieth of
    the series (a GC's sawtooth and a heap's steps are noise at that
    scale; page-sized single steps are not all of it), / sqrt 2."""
    k = max(1, len(values) // 30)
    d = [b - a for a, b in zip(values, values[k:])]
    if len(d) < 3:
        return 0.0
    m = statistics.median(d)
    return 1.4826 * statistics.median(abs(x - m) for x in d) / 2 ** 0.5


def run(task):
    """One program, watched at every interval; its recordings' lines."""
    prog, seed, seconds, intervals, paths = task
    start = time.time()
    p = subprocess.Popen(command(prog, seconds, seed), stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True)
    watchers = [subprocess.Popen([RSS_WATCH, "-q", "-p", str(p.pid), "-i",
                                  "%gs" % iv], stdout=open(path, "w"),
                                 stderr=subprocess.DEVNULL)
                for iv, path in zip(intervals, paths)]
    err = p.stderr.read()
    p.wait()
    for w in watchers:
        w.wait()
    rate = re.search(r"rate_kb=([0-9.]+)", err)
    kept = [int(k) for k in re.findall(r"kept_kb=([0-9]+)", err)]
    out = []
    for iv, path in zip(intervals, paths):
        recs = [json.loads(l) for l in open(path)]
        recs = [r for r in recs if "anon_kb" in r]
        truth = PROGRAMS[prog]
        m = {"file": os.path.basename(path), "truth": truth,
             "class": prog, "generator": "real:" + prog.split(":")[0],
             "seed": seed, "interval_s": iv, "samples": len(recs),
             "first_ts": recs[0]["ts"] if recs else None,
             "last_ts": recs[-1]["ts"] if recs else None}
        vals = [r["anon_kb"] for r in recs]
        m["sigma"] = round(sigma(vals), 1)
        onset = start + (seconds / 3 if prog.endswith("leak-late") else 0)
        judged = [r for r in recs if r["ts"] >= onset]
        if prog.endswith("burst-keep"):
            growth = sum(kept[1:]) if len(kept) > 1 else 0
        elif truth == "leak" and rate:
            growth = float(rate.group(1)) * (judged[-1]["ts"] - judged[0]["ts"]) if len(judged) > 1 else 0
        else:
            growth = 0
        m["growth"] = round(growth, 1)
        m["growth_samples"] = len(judged) if truth == "leak" else 0
        m["eligible"] = (truth == "leak" and m["growth_samples"] >= 20 and
                         growth >= 5 * m["sigma"])
        m["onset_ts"] = onset if truth == "leak" else None
        out.append(m)
    return out


def main():
    d = sys.argv[1]
    seeds = [int(s) for s in sys.argv[2].split(",")]
    seconds = float(sys.argv[3]) if len(sys.argv) > 3 else 60
    jobs = int(sys.argv[4]) if len(sys.argv) > 4 else 8
    intervals = [float(x) for x in (sys.argv[5] if len(sys.argv) > 5 else "0.1,0.5,2").split(",")]
    progs = sys.argv[6].split(",") if len(sys.argv) > 6 else list(PROGRAMS)
    os.makedirs(d, exist_ok=True)
    tasks, n = [], 0
    for seed in seeds:
        for prog in progs:
            paths = [os.path.join(d, "%05d.jsonl" % (n + i)) for i in range(len(intervals))]
            n += len(intervals)
            tasks.append((prog, seed, seconds, intervals, paths))
    with concurrent.futures.ThreadPoolExecutor(jobs) as ex:
        results = list(ex.map(run, tasks))
    with open(os.path.join(d, "manifest.jsonl"), "w") as f:
        for lines in results:
            for m in lines:
                f.write(json.dumps(m) + "\n")


if __name__ == "__main__":
    main()
