#!/usr/bin/python3
"""The h5py way to what `h5-dump -f csv FILE /data` does: the same CSV
rows (ts, t_ns, SI voltage and current), read in chunks as a careful
Python user would, written with repr()'s shortest floats."""
import sys

import h5py
import numpy as np


def main():
    path, out = sys.argv[1], sys.stdout
    with h5py.File(path, "r") as f:
        d = f["data"]
        t, v, i = d["time"], d["voltage"], d["current"]
        gv, ov = v.attrs["gain"], v.attrs["offset"]
        gi, oi = i.attrs["gain"], i.attrs["offset"]
        tg = int(round(t.attrs.get("gain", 1e-9) * 1e9))
        step = t.chunks[0] * 10
        out.write("ts,t_ns,voltage,current\n")
        for a in range(0, len(t), step):
            tn = t[a:a + step].astype(np.int64) * tg
            vv = v[a:a + step] * gv + ov
            ii = i[a:a + step] * gi + oi
            out.writelines("%s,%d,%r,%r\n" % (ts(x), x, y, z)
                           for x, y, z in zip(tn.tolist(), vv.tolist(), ii.tolist()))


def ts(ns):
    """Exact seconds, trailing zeros dropped, as h5-dump writes them."""
    s, f = divmod(ns, 10**9)
    return "%d.%s" % (s, ("%09d" % f).rstrip("0")) if f else "%d" % s


if __name__ == "__main__":
    main()
