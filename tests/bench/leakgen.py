#!/usr/bin/python3
"""Memory timelines whose truth is known by construction, for judging
leak-classify on series it was not tuned on.

usage: leakgen.py DIR SEED NONLEAK LEAK

Writes DIR/NNNNN.jsonl (records with ts, src, anon_kb, pid, start) and
DIR/manifest.jsonl, one line per series: file, truth (leak or not), class,
generator, interval_s, samples, sigma (sd of the noise), growth (total
growth while leaking), growth_samples, eligible (growth >= 5 sigma over
>= 20 samples, and at least 1 % of the level a day: leak-classify's
default --min-rate), onset_ts (where the current growth starts).

Three generators with their own noise and shapes, so that no rule can fit
one of them:
  gauss    python's random: Gaussian noise, iid or AR(1)
  numpy    numpy's PCG64: Student-t and AR(1) noise, page-sized (4 KiB)
           quantisation, GC sawtooth with jittered period and phase
  alloc    an allocator simulation: objects of random sizes with random
           lifetimes (the live set is the heap), leaking ones retained
Sampling intervals 1 s to 5 min; 30 to 4000 samples.  One SEED gives one
corpus; tune on one seed, report on another.
"""
import json
import math
import os
import random
import sys

import numpy as np

NONLEAK = ["iid", "ar1", "sawtooth", "steps_back", "settling", "cache_fill",
           "restarts", "random_walk", "churn", "recovery"]
LEAK = ["linear", "late_onset", "episodic_night", "sawtooth_leak",
        "restart_leak", "churn_retain"]
GENERATORS = ["gauss", "numpy", "alloc"]
INTERVALS = [1, 5, 10, 60, 300]


class Series:
    def __init__(self, n, interval, level):
        self.n, self.interval, self.level = n, interval, level
        self.y = np.full(n, float(level))
        self.pids = None
        self.sigma = 0.0
        self.growth = 0.0
        self.growth_samples = 0
        self.onset = None  # index where the current growth starts
        self.t0 = 1_700_000_000 + 3600 * 7


def noise(rng, gen, n, sigma, phi):
    """Noise of sd sigma: iid (phi 0) or AR(1), Gaussian or Student-t."""
    if gen == "gauss":
        r = random.Random(int(rng.integers(2 ** 31)))
        e = [r.gauss(0, 1) for _ in range(n)]
    else:
        df = float(rng.choice([3, 5, 30]))
        e = rng.standard_t(df, n) / math.sqrt(df / (df - 2))
    e = np.asarray(e)
    if phi > 0:
        out = np.empty(n)
        scale = math.sqrt(1 - phi * phi)
        out[0] = e[0]
        for i in range(1, n):
            out[i] = phi * out[i - 1] + scale * e[i]
        e = out
    return sigma * e


def base(rng, gen, want_phi=None, n_min=30, n_max=4000):
    n = int(rng.choice([30, 60, 120, 360, 720, 1440, 2880, 4000],
                       p=[.05, .08, .12, .15, .15, .25, .12, .08]))
    n = min(max(n, n_min), n_max)
    interval = int(rng.choice(INTERVALS))
    level = float(rng.choice([3000, 20000, 60000, 250000, 500000]))
    s = Series(n, interval, level)
    s.sigma = level * float(rng.choice([0.0005, 0.002, 0.005, 0.01]))
    phi = want_phi if want_phi is not None else float(
        rng.choice([0, 0, 0.3, 0.6]))
    s.y += noise(rng, gen, n, s.sigma, phi)
    return s


def quantise(s):
    s.y = np.round(s.y / 4) * 4  # pages of 4 KiB


def add_growth(s, start, rate, end=None):
    """Linear growth of rate per sample from index start (to end)."""
    end = s.n if end is None else end
    i = np.arange(s.n)
    ramp = np.clip(i - start, 0, end - start) * rate
    s.y += ramp
    s.growth += rate * (end - start)
    s.growth_samples += end - start


def sawtooth(rng, s, amp):
    """A collector's sawtooth: rises from the live set (the floor) at a
    steady rate until the next collection; jittered periods move the
    peaks, never the floor."""
    # at least four teeth: fewer are a rise, whatever made them
    period = float(rng.uniform(6, max(6.0, min(60.0, s.n / 4))))
    jitter = float(rng.uniform(0, 0.3))
    out = np.empty(s.n)
    last = -float(rng.uniform(0, period))
    edge = last + period
    for i in range(s.n):
        if i >= edge:
            last, edge = i, i + period * (1 + jitter * float(rng.uniform(-1, 1)))
        out[i] = amp * (i - last) / period
    s.y += out


# ---- classes without a leak -------------------------------------------------

def c_iid(rng, gen):
    return base(rng, gen, 0.0)


def c_ar1(rng, gen):
    return base(rng, gen, float(rng.uniform(0.3, 0.95)))


def c_sawtooth(rng, gen):
    s = base(rng, gen, n_min=60)
    sawtooth(rng, s, s.level * float(rng.uniform(0.01, 0.2)))
    return s


def c_steps_back(rng, gen):
    s = base(rng, gen)
    for _ in range(int(rng.integers(1, 4))):
        a = int(rng.uniform(0, 0.8) * s.n)
        b = min(int(a + rng.uniform(0.05, 0.3) * s.n), int(0.9 * s.n))
        if b > a:
            s.y[a:b] += s.sigma * float(rng.uniform(3, 30))
    return s


def c_settling(rng, gen):
    s = base(rng, gen)
    tau = s.n * float(rng.uniform(0.05, 0.25))
    amp = s.sigma * float(rng.uniform(10, 200))
    s.y += amp * (1 - np.exp(-np.arange(s.n) / tau))
    return s


def c_cache_fill(rng, gen):
    """An lru_cache: fills at a steady rate, then is full."""
    s = base(rng, gen)
    stop = int(s.n * float(rng.uniform(0.1, 0.55)))
    rate = s.sigma * float(rng.uniform(10, 200)) / max(stop, 1)
    i = np.arange(s.n)
    s.y += np.minimum(i, stop) * rate
    return s


def lives(rng, s, leak_last):
    cut = sorted(int(x) for x in rng.uniform(0.1, 0.8, int(rng.integers(1, 4))) * s.n)
    cut = [c for c in cut if c > 5] + [s.n]
    pids, a, pid = np.empty(s.n), 0, int(rng.integers(100, 30000))
    for j, b in enumerate(cut):
        pids[a:b] = pid
        seg = np.arange(b - a)
        last = j == len(cut) - 1
        if leak_last or not last:
            rate = s.sigma * float(rng.uniform(0.5, 5)) if (leak_last or rng.random() < 0.5) else 0
        else:
            rate = 0
        s.y[a:b] += seg * rate
        if last and leak_last:
            s.growth, s.growth_samples, s.onset = rate * (b - a), b - a, a
        a, pid = b, pid + int(rng.integers(1, 50))
    s.pids = pids
    return s


def c_restarts(rng, gen):
    s = base(rng, gen, n_min=120)
    return lives(rng, s, False)


def c_random_walk(rng, gen):
    s = base(rng, gen, 0.0)
    steps = rng.normal(0, s.sigma * float(rng.uniform(0.05, 0.5)), s.n)
    s.y += np.cumsum(steps)
    return s


def churn(rng, s, retain):
    """Objects with random sizes and lifetimes; retain: share kept.  The
    heap is already in its steady state at the first sample (a burn-in
    of ten lifetimes runs before it)."""
    rate = float(rng.uniform(2, 20))  # allocations per sample
    mean_size = s.sigma * float(rng.uniform(0.05, 0.5))
    life = float(rng.uniform(1, 30))
    burn = int(10 * life)
    total = s.n + burn
    live = np.zeros(total)
    kept = 0.0
    births = rng.poisson(rate, total)
    for i in range(total):
        k = births[i]
        if k == 0:
            continue
        size = rng.exponential(mean_size, k)
        dur = rng.exponential(life, k)
        for sz, d in zip(size, dur):
            if retain and i >= burn and rng.random() < retain:
                live[i:] += sz
                kept += sz
            else:
                live[i:min(total, i + int(d) + 1)] += sz
    s.y += live[burn:]
    return kept


def c_churn(rng, gen):
    s = base(rng, gen, n_max=1440)
    churn(rng, s, 0)
    return s


def c_recovery(rng, gen):
    s = base(rng, gen)
    add_growth(s, int(s.n * rng.uniform(0, 0.5)), -s.sigma * float(rng.uniform(0.05, 1)))
    s.growth = s.growth_samples = 0
    return s


# ---- classes with one -------------------------------------------------------

def c_linear(rng, gen):
    s = base(rng, gen)
    total = s.sigma * float(rng.uniform(3, 300))
    add_growth(s, 0, total / s.n)
    s.onset = 0
    return s


def c_late_onset(rng, gen):
    s = base(rng, gen, n_min=120)
    start = int(s.n * float(rng.uniform(0.5, 0.95)))
    total = s.sigma * float(rng.uniform(3, 200))
    add_growth(s, start, total / (s.n - start))
    s.onset = start
    return s


def c_episodic_night(rng, gen):
    """Grows only while the inverter sleeps (20:00-06:00), judged at any
    hour after at least one night and a half."""
    interval = int(rng.choice([60, 300]))
    level = float(rng.choice([20000, 60000, 250000]))
    # from some hour of one day, judged at any hour after the second
    # night began (one night then day is a cache that filled: no rule
    # could tell, but --events)
    first = int(rng.uniform(0, 24))
    to_second = (20 - first) % 24 + 24 + 1
    hours = float(rng.uniform(to_second, to_second + 48))
    n = int(hours * 3600 / interval)
    s = Series(n, interval, level)
    s.t0 = 1_700_000_000 - 1_700_000_000 % 86400 + first * 3600
    s.sigma = level * float(rng.choice([0.0005, 0.002, 0.005]))
    s.y += noise(rng, gen, n, s.sigma, float(rng.choice([0, 0.3])))
    rate = s.sigma * float(rng.uniform(0.02, 1.0)) * interval / 60
    hour = ((s.t0 + np.arange(n) * interval) % 86400) / 3600
    night = (hour >= 20) | (hour < 6)
    s.y += np.cumsum(night * rate)
    s.growth, s.growth_samples = rate * night.sum(), int(night.sum())
    starts = [i for i in range(1, n) if night[i] and not night[i - 1]]
    s.onset = starts[-1] if starts and night[-1] else (starts[0] if starts else 0)
    return s


def c_sawtooth_leak(rng, gen):
    s = base(rng, gen, n_min=360)
    per_hour = 3600 / s.interval
    total = s.sigma * float(rng.uniform(5, 300))
    rate = total / s.n
    amp = min(rate * per_hour * float(rng.uniform(1, 20)), s.level * 0.3)
    sawtooth(rng, s, amp)
    add_growth(s, 0, rate)
    s.onset = 0
    return s


def c_restart_leak(rng, gen):
    s = base(rng, gen, n_min=360)
    return lives(rng, s, True)


def c_churn_retain(rng, gen):
    s = base(rng, gen, n_min=120, n_max=1440)
    before = s.y.copy()
    s.growth = churn(rng, s, float(rng.uniform(0.005, 0.05)))
    # the noise is everything but the steady retention: the churn too
    trend = np.linspace(0, s.growth, s.n)
    s.sigma = float(np.std(s.y - trend - np.mean(s.y - trend)))
    s.growth_samples, s.onset = s.n, 0
    return s


def write(path, s):
    with open(path, "w") as f:
        start = float(s.t0 - 30)
        for i in range(s.n):
            rec = {"ts": s.t0 + i * s.interval, "src": "leakgen",
                   "anon_kb": round(float(s.y[i]), 1),
                   "pid": int(s.pids[i]) if s.pids is not None else 4242,
                   "start": start + (float(s.pids[i]) if s.pids is not None else 0)}
            f.write(json.dumps(rec) + "\n")


def main():
    out, seed = sys.argv[1], int(sys.argv[2])
    counts = {False: int(sys.argv[3]), True: int(sys.argv[4])}
    os.makedirs(out, exist_ok=True)
    rng = np.random.Generator(np.random.PCG64(seed))
    k = 0
    with open(os.path.join(out, "manifest.jsonl"), "w") as man:
        for leak in (False, True):
            classes = LEAK if leak else NONLEAK
            for j in range(counts[leak]):
                cls = classes[j % len(classes)]
                gen = GENERATORS[(j // len(classes)) % len(GENERATORS)]
                s = globals()["c_" + cls](rng, gen)
                if gen == "numpy" and rng.random() < 0.5:
                    quantise(s)
                name = f"{k:05d}.jsonl"
                write(os.path.join(out, name), s)
                # eligible: 5 sigma over 20 samples, at least the default
                # --min-rate (1 % of the level a day)
                days = s.n * s.interval / 86400
                eligible = (leak and s.growth >= 5 * s.sigma and
                            s.growth_samples >= 20 and
                            s.growth / s.level / days >= 0.01)
                man.write(json.dumps({
                    "file": name, "truth": "leak" if leak else "none",
                    "class": cls, "generator": gen, "interval_s": s.interval,
                    "samples": s.n, "sigma": s.sigma, "growth": s.growth,
                    "growth_samples": s.growth_samples, "eligible": bool(eligible),
                    "onset_ts": (s.t0 + s.onset * s.interval) if s.onset is not None and leak else None,
                    "first_ts": s.t0, "last_ts": s.t0 + (s.n - 1) * s.interval}) + "\n")
                k += 1


main()
