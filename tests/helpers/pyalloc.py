#!/usr/bin/python3
"""A CPython process whose heap does what its mode says, for the real
allocator corpus (tests/bench/realcorpus.py): its truth is in how it is
written.  Only leak, leak-late and burst-keep keep what they cannot
reach again.

usage: pyalloc.py MODE [SECONDS] [SEED]
  churn       dicts of lists made and dropped, 200 a second; a bounded
              window of them lives, sized by the seed
  cache       an lru_cache of 2 to 10 KB values filled by random keys to
              its bound in the first third, then hit and replaced
  bursts      every few seconds a burst of 20 to 40 MB, held, then freed
  burst-keep  the same, and 1 to 3 MB of each burst kept for good
  leak        churn, and 20 to 160 KB a second kept for good
  leak-late   churn; the leak starts after a third of the time"""
import functools
import random
import sys
import time

mode = sys.argv[1]
seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 60
rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 1)
rate_kb = 20 * 8 ** rng.random()
window = rng.randint(40, 400)
burst_every = rng.uniform(6, 12)
start = time.monotonic()
recent, kept = [], []
print("params: rate_kb=%.3f" % rate_kb, file=sys.stderr, flush=True)


@functools.lru_cache(maxsize=rng.randint(1000, 4000))
def value(key):
    return bytearray(rng.randint(2048, 10240))


def churn():
    """A request's worth of objects, kept for a while: a bounded window
    of them lives, its size reached within seconds."""
    for _ in range(4):
        d = {str(rng.random()): [rng.random()] * 8 for _ in range(100)}
        recent.append(d)
        if len(recent) > window:
            del recent[rng.randrange(len(recent))]


def leak(dt):
    n = int(rate_kb * dt * 1024 / 100)
    kept.extend(("x" * 60 + str(rng.random()),) for _ in range(n))


def burst(keep):
    big = [bytearray(1 << 20) for _ in range(rng.randint(20, 40))]
    time.sleep(rng.uniform(1, 2))
    if keep:
        k = rng.randint(1, 3)
        kept.extend(big[:k])
        print("kept_kb=%d" % (k * 1024), file=sys.stderr, flush=True)
    del big


last = start
next_burst = start + burst_every
while True:
    now = time.monotonic()
    t = now - start
    if t >= seconds:
        break
    if mode == "cache":
        value(rng.randrange(10 ** 6) if t < seconds / 3 else rng.randrange(500))
    elif mode in ("bursts", "burst-keep"):
        if now >= next_burst:
            burst(mode == "burst-keep")
            next_burst = time.monotonic() + burst_every
    else:
        churn()
    if mode == "leak" or (mode == "leak-late" and t >= seconds / 3):
        leak(now - last)
    last = now
    time.sleep(0.02)
