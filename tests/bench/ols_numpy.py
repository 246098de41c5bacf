#!/usr/bin/python3
"""The Python way to judge a memory log: json per line, numpy OLS.
usage: ols_numpy.py FILE [FIELD]  (prints slope per hour)"""
import json
import sys

import numpy as np

field = sys.argv[2] if len(sys.argv) > 2 else "anon_kb"
ts, vs = [], []
with open(sys.argv[1]) as f:
    for line in f:
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if isinstance(rec.get("ts"), (int, float)) and \
                isinstance(rec.get(field), (int, float)):
            ts.append(rec["ts"])
            vs.append(rec[field])
t = np.array(ts) - ts[0]
slope, _ = np.polyfit(t, np.array(vs), 1)
print(json.dumps({"samples": len(ts), "slope_per_h": slope * 3600}))
