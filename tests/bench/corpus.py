#!/usr/bin/python3
"""Write a corpus of memory timelines whose truth is known by construction.
usage: corpus.py DIR [PER_CLASS]  -> DIR/<truth>__<class>__<k>.jsonl
One sample a minute over a day (1440 samples), level 50 MB, seeded."""
import json
import math
import os
import random
import sys

N, BASE = 1440, 50000.0


def write(path, values, pids=None):
    with open(path, "w") as f:
        for i, v in enumerate(values):
            rec = {"ts": 1700000000 + 60 * i, "src": "corpus",
                   "anon_kb": round(v, 1)}
            if pids:
                rec["pid"], rec["start"] = pids[i], float(pids[i])
            f.write(json.dumps(rec) + "\n")


def noise(rng, sigma):
    return [rng.gauss(0, sigma * BASE) for _ in range(N)]


def linear(rng):
    g, s = rng.choice([0.03, 0.1, 0.5]), rng.choice([0.001, 0.005, 0.02])
    return [BASE * (1 + g * i / N) + e for i, e in enumerate(noise(rng, s))]


def steady(rng):
    s = rng.choice([0.001, 0.005, 0.02])
    if rng.random() < 0.5:
        return [BASE + e for e in noise(rng, s)]
    v, x = [], 0.0          # AR(1) noise, phi 0.9
    for e in noise(rng, s):
        x = 0.9 * x + e
        v.append(BASE + x)
    return v


def sawtooth(rng, growth=0.0):
    p, a = rng.choice([20, 60, 120]), rng.choice([0.05, 0.2])
    return [BASE * (1 + a * (i % p) / p + growth * i / N) + e
            for i, e in enumerate(noise(rng, 0.002))]


def settling(rng):
    tau, amp = N / rng.uniform(5, 8), rng.uniform(0.1, 0.3)
    return [BASE * (1 + amp * (1 - math.exp(-i / tau))) + e
            for i, e in enumerate(noise(rng, 0.002))]


def random_walk(rng):
    v, x = [], BASE
    for _ in range(N):
        x += rng.gauss(0, 0.0005 * BASE)
        v.append(x)
    return v


def restarts(rng, last_leaks):
    """Three lives of a service: leaking, leaking, then the last one."""
    v, pids, seg = [], [], N // 3
    for k in range(3):
        leak = k < 2 or last_leaks
        for i in range(seg if k < 2 else N - 2 * seg):
            v.append(BASE * (1 + (0.3 * i / seg if leak else 0)) +
                     rng.gauss(0, 0.002 * BASE))
            pids.append(100 + k)
    return v, pids


def main():
    out, per = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 30
    os.makedirs(out, exist_ok=True)
    rng = random.Random(20261121)
    classes = [("leak", "linear", linear), ("steady", "noise", steady),
               ("steady", "sawtooth", sawtooth),
               ("leak", "sawtooth_leak", lambda r: sawtooth(r, 0.2)),
               ("settling", "settling", settling),
               ("steady", "random_walk", random_walk)]
    for truth, name, fn in classes:
        for k in range(per):
            write(f"{out}/{truth}__{name}__{k}.jsonl", fn(rng))
    for k in range(per):
        last = k % 2 == 0
        v, pids = restarts(rng, last)
        write(f"{out}/{'leak' if last else 'steady'}__restarts__{k}.jsonl",
              v, pids)


main()
