#!/usr/bin/python3
"""The Python way to sample a process's memory: psutil in a loop.
usage: psutil_loop.py PID INTERVAL_S COUNT  (prints JSON lines, like rss-watch)"""
import json
import sys
import time

import psutil

pid, interval, count = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
proc = psutil.Process(pid)
next_t = time.monotonic()
for _ in range(count):
    with proc.oneshot():
        mem = proc.memory_full_info() if False else proc.memory_info()
        rec = {"ts": round(time.time(), 3), "src": "psutil", "pid": pid,
               "rss_kb": mem.rss // 1024, "vsz_kb": mem.vms // 1024,
               "threads": proc.num_threads(), "fds": proc.num_fds()}
    print(json.dumps(rec), flush=True)
    next_t += interval
    time.sleep(max(0, next_t - time.monotonic()))
