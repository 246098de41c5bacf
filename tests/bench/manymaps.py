#!/usr/bin/python3
"""A process with N mappings that the kernel cannot merge: anonymous pages
of alternating protection, half of them written.  Runs until killed.
usage: manymaps.py N"""
import mmap
import sys
import time

n = int(sys.argv[1])
maps = []
for i in range(n):
    prot = mmap.PROT_READ | (mmap.PROT_WRITE if i % 2 else 0)
    m = mmap.mmap(-1, 8192, prot=prot)
    if i % 2:
        m[0:1] = b"x"
    maps.append(m)
print("ready", flush=True)
while True:
    time.sleep(60)
