#!/usr/bin/python3
"""A CPython process whose heap does what its mode says, for recording
with rss-watch and judging with leak-classify.

usage: pyheap.py churn|leak|lru [SECONDS]
  churn  builds and drops lists of objects: busy, no growth
  leak   churns for a third of the time, then keeps ~1 MB a second;
         says on stdout when it starts to keep (Unix time), so that an
         onset is judged against when it began, however slow the start
  lru    fills an lru_cache of 10 KB values for a third of the time,
         then calls it with the keys it holds: full, flat"""
import functools
import sys
import time

mode = sys.argv[1]
seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 10
start = time.monotonic()
kept = []


@functools.lru_cache(maxsize=400)
def value(key):
    return bytearray(10240)


def churn():
    junk = [str(i) * 8 for i in range(20000)]
    del junk


i = 0
said = False
while time.monotonic() - start < seconds:
    t = time.monotonic() - start
    if mode == "churn" or (mode == "leak" and t < seconds / 3):
        churn()
    elif mode == "leak":
        if not said:
            print("pyheap: leaking from %.3f" % time.time(), flush=True)
            said = True
        kept.append(bytearray(100 * 1024))  # 1 MB a second at 10 a second
    elif mode == "lru":
        value(i if t < seconds / 3 else i % 200)
        i += 1
        if t < seconds / 3:
            time.sleep(0.01)
            continue
    time.sleep(0.1)
