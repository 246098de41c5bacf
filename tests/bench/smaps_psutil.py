#!/usr/bin/python3
"""psutil's full smaps parse (Process.memory_maps(grouped=False), what
prmon-style per-mapping tools do), COUNT times, and the same file read
raw (the kernel's share, which no parser avoids): prints CPU ms per read
of each and the mappings seen.
usage: smaps_psutil.py PID COUNT"""
import sys
import time

import psutil

pid, count = int(sys.argv[1]), int(sys.argv[2])
proc = psutil.Process(pid)
t0 = time.process_time()
for _ in range(count):
    maps = proc.memory_maps(grouped=False)
t1 = time.process_time()
for _ in range(count):
    with open("/proc/%d/smaps" % pid, "rb", buffering=0) as f:
        while f.read(16384):
            pass
t2 = time.process_time()
print("%.3f %.3f %d" % ((t1 - t0) * 1000 / count, (t2 - t1) * 1000 / count,
                        len(maps)))
