#!/usr/bin/python3
"""The field's cases from issue 11 as JSON Lines, for leak-classify's CLI
tests (the same shapes as its unit tests, with their own noise).

usage: leakcases.py night [EVENTS]   heap grows 20:00-06:00 only; judged at
                                     19:00 after two nights (3300 samples,
                                     one a minute); EVENTS gets gw-read
                                     records failing through the nights
       leakcases.py onenight N EVENTS
                                     one night of growth, N samples from
                                     noon (1140: judged at 07:00, 1860:
                                     at 19:00 the next day)
       leakcases.py late             flat 2.5 h, then 40 KB/min for 3.5 h
       leakcases.py sawtooth         GC sawtooth of 8000 KB, period 25,
                                     over 400 KB/h, 6 h at one a minute
       leakcases.py steps            steps up that come back down
       leakcases.py lives KIND [MIN] the field's lives, one sample a minute,
                                     judged MIN minutes (default 5) into
                                     the last:
           restarted  leaks 300 KB/h, restarted every 24 h (new pid), 5
                      lives before
           reboot     free_heap falls 80 B/min, a reboot every 12 h shown
                      only by uptime_s starting again
           ramps      healthy: each life rises 8 MB in its first 20 min,
                      then holds; restarted every 6 h
           stopped    leaked 300 KB/h in 2 lives, not in the 2 since
           exits      rss-watch's watchdog: a leak of 2 MB/h killed at its
                      --limit, "limit" and "restart" events between lives"""
import json
import random
import sys

rng = random.Random(2026)
T0 = 1764547200  # 2025-12-01 00:00 UTC


def out(ts, v):
    print(json.dumps({"ts": ts, "src": "leakcases", "anon_kb": round(v, 1)}))


case = sys.argv[1]
if case in ("night", "onenight"):
    x, ev = 30000.0, []
    start = T0 + 12 * 3600
    n = 3300 if case == "night" else int(sys.argv[2])
    if case == "onenight":
        del sys.argv[2]
    for i in range(n):
        ts = start + 60 * i
        hour = (ts // 3600) % 24
        asleep = hour >= 20 or hour < 6
        if asleep:
            x += 3
        out(ts, x + rng.gauss(0, 15))
        ev.append({"ts": ts, "src": "gw-read", "unit": 1, "ok": not asleep})
    if len(sys.argv) > 2:
        with open(sys.argv[2], "w") as f:
            for e in ev:
                f.write(json.dumps(e) + "\n")
elif case == "late":
    for i in range(360):
        out(T0 + 60 * i, 30000 + (0 if i < 150 else 40 * (i - 150)) + rng.gauss(0, 100))
elif case == "sawtooth":
    for i in range(360):
        out(T0 + 60 * i, 50000 + 8000 * (i % 25) / 25 + 400 / 60 * i + rng.gauss(0, 20))
elif case == "steps":
    for i in range(1440):
        up = 2000 if 300 < i < 500 else 3000 if 800 < i < 1100 else 0
        out(T0 + 60 * i, 40000 + up + rng.gauss(0, 30))
elif case == "lives":
    kind = sys.argv[2]
    into = int(sys.argv[3]) if len(sys.argv) > 3 else 5

    def rec(d):
        print(json.dumps(d))

    if kind == "reboot":
        t, heap = T0, 0
        for life in range(4):
            n = 720 if life < 3 else into
            for i in range(n):
                heap = 180000 - 80 * i + rng.gauss(0, 300)
                rec({"ts": t, "src": "meshtastic", "uptime_s": 60 * i + 7,
                     "free_heap": round(heap)})
                t += 60
    else:
        minutes = {"restarted": 1440, "ramps": 360, "stopped": 1440,
                   "exits": 300}[kind]
        lives = 5 if kind == "restarted" else 4
        t = T0
        for life in range(lives + 1):
            n = minutes if life < lives else into
            pid = 1000 + life
            for i in range(n):
                if kind == "ramps":
                    v = 20000 + 8000 * min(i, 20) / 20
                elif kind == "stopped":
                    v = 20000 + (5 * i if life < 2 else 0)
                elif kind == "exits":
                    v = 20000 + 2048 / 60 * i
                else:
                    v = 20000 + 5 * i
                rec({"ts": t, "src": "rss-watch", "pid": pid,
                     "start": 100 + life, "rss_kb": round(v + 9000),
                     "anon_kb": round(v + rng.gauss(0, 40))})
                t += 60
            if life < lives and kind == "exits":
                rec({"ts": t - 30, "src": "rss-watch", "pid": pid,
                     "start": 100 + life, "event": "limit",
                     "field": "anon_kb", "value": round(v), "limit": 30000,
                     "action": "TERM"})
            if life < lives:
                rec({"ts": t, "src": "rss-watch", "pid": pid + 1,
                     "start": 101 + life, "event": "restart",
                     "old_pid": pid})
