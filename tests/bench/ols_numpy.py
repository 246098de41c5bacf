#!/usr/bin/python3
"""The Python way to judge a memory log: json per line, numpy OLS.
usage: ols_numpy.py FILE [FIELD]          prints the slope per hour
       ols_numpy.py FILE FIELD --by KEY   one OLS per value of KEY: prints
                                          how many groups rise by more than
                                          1 %/day of their level"""
import json
import sys
from collections import defaultdict

import numpy as np

field = sys.argv[2] if len(sys.argv) > 2 else "anon_kb"
by = sys.argv[4] if len(sys.argv) > 4 and sys.argv[3] == "--by" else None
groups = defaultdict(lambda: ([], []))
with open(sys.argv[1]) as f:
    for line in f:
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if isinstance(rec.get("ts"), (int, float)) and \
                isinstance(rec.get(field), (int, float)):
            ts, vs = groups[rec.get(by) if by else None]
            ts.append(rec["ts"])
            vs.append(rec[field])
fits = {}
for key, (ts, vs) in groups.items():
    t = np.array(ts) - ts[0]
    slope, _ = np.polyfit(t, np.array(vs), 1)
    fits[key] = (len(ts), slope, np.mean(vs))
if by is None:
    n, slope, _ = fits[None]
    print(json.dumps({"samples": n, "slope_per_h": slope * 3600}))
else:
    rising = sum(1 for n, s, m in fits.values() if s * 86400 > 0.01 * m)
    print(json.dumps({"groups": len(fits), "rising": rising}))
