#!/usr/bin/python3
"""ols_numpy.py grouped: json per line, one numpy OLS per value of FIELD.
usage: ols_numpy_by.py FILE BY [FIELD]  (prints the groups whose slope
is above 1 %/day of their level, the python way to say "leaking")"""
import json
import sys
from collections import defaultdict

import numpy as np

by = sys.argv[2]
field = sys.argv[3] if len(sys.argv) > 3 else "anon_kb"
groups = defaultdict(lambda: ([], []))
with open(sys.argv[1]) as f:
    for line in f:
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if isinstance(rec.get("ts"), (int, float)) and \
                isinstance(rec.get(field), (int, float)):
            ts, vs = groups[rec.get(by)]
            ts.append(rec["ts"])
            vs.append(rec[field])
rising = 0
for key, (ts, vs) in groups.items():
    t = np.array(ts) - ts[0]
    v = np.array(vs)
    slope, _ = np.polyfit(t, v, 1)
    rising += slope * 86400 > 0.01 * np.mean(v)
print(json.dumps({"groups": len(groups), "rising": int(rising)}))
