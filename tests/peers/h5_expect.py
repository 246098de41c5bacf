#!/usr/bin/python3
"""Check h5-dump's output against values numpy computes from the file
itself (h5py reads it; nothing of gxkit is used).

  h5_expect.py rows FILE GROUP OUT.csv [--raw]   every row, exactly
  h5_expect.py stats FILE OUT.jsonl              --stats of /data
  h5_expect.py h5dump H5DUMP.txt OUT.csv COLUMN  raw values of h5dump -y -w 0

Prints what differs and exits 1; prints "ok N" and exits 0.
"""
import csv
import json
import sys

import h5py
import numpy as np


def si(ds, raw):
    v = ds[()]
    if raw or "gain" not in ds.attrs:
        return v
    return v.astype(np.float64) * ds.attrs["gain"] + ds.attrs.get("offset", 0.0)


def rows(path, group, out, raw):
    with h5py.File(path, "r") as f, open(out, newline="") as fp:
        g = f[group]
        r = csv.reader(fp)
        header = next(r)
        got = list(r)
        t = g["time"][()].astype(np.int64) if "time" in g else None
        if t is not None and "gain" in g["time"].attrs:
            t = t * int(round(g["time"].attrs["gain"] * 1e9))
        if t is not None:
            assert header[:2] == ["ts", "t_ns"], header
        bad = 0
        for i, row in enumerate(got):
            if t is not None and int(row[1]) != t[i]:
                bad += 1
                print("row %d: t_ns %s, numpy %d" % (i, row[1], t[i]))
        for name in g:
            if name == "time" or name not in header and name + "_0" not in header:
                continue
            want = si(g[name], raw)
            if want.ndim == 1:
                cols = [header.index(name)]
                want = want.reshape(-1, 1)
            else:
                cols = [header.index("%s_%d" % (name, j))
                        for j in range(want.shape[1])]
            for i, row in enumerate(got):
                for j, c in enumerate(cols):
                    w = want[i][j]
                    if isinstance(w, bytes):
                        w = w.decode("utf-8", "replace")
                    ok = (row[c] == w if isinstance(w, str)
                          else float(row[c]) == float(w))
                    if not ok:
                        bad += 1
                        if bad < 10:
                            print("row %d %s: %r, numpy %r" % (i, name, row[c], w))
        if len(got) != len(g[next(iter(g))]):
            print("rows: %d, file %d" % (len(got), len(g[next(iter(g))])))
            bad += 1
    return bad, len(got)


def close(a, b, rel):
    return abs(a - b) <= rel * max(abs(a), abs(b), 1e-300)


def stats(path, out):
    rec = json.loads(open(out).read().splitlines()[-1])
    with h5py.File(path, "r") as f:
        g = f["data"]
        v, i = si(g["voltage"], False), si(g["current"], False)
        t = g["time"][()].astype(np.int64)
        if "gain" in g["time"].attrs:
            t = t * int(round(g["time"].attrs["gain"] * 1e9))
    dt = np.diff(t) / 1e9
    dt = np.append(dt, dt[-1])
    energy = float(np.sum(v * i * dt))
    bad = 0
    checks = [("rows", rec["rows"], len(t), 0),
              ("energy_j", rec["energy_j"], energy, 1e-9),
              ("duration_s", rec["duration_s"], (t[-1] - t[0]) / 1e9, 1e-12)]
    for name, x in (("voltage", v), ("current", i)):
        s = rec[name]
        checks += [(name + ".count", s["count"], len(x), 0),
                   (name + ".min", s["min"], float(x.min()), 0),
                   (name + ".max", s["max"], float(x.max()), 0),
                   (name + ".mean", s["mean"], float(x.mean()), 1e-12),
                   (name + ".std", s["std"], float(x.std(ddof=1)), 1e-9)]
    for name, got, want, rel in checks:
        if not close(float(got), float(want), rel):
            print("%s: %r, numpy %r" % (name, got, want))
            bad += 1
    return bad, len(checks)


def h5dump(text, out, column):
    """h5dump -y -w 0 prints DATA { v, v, ... }: compare with a column."""
    body = open(text).read()
    body = body[body.index("DATA {") + 6:body.rindex("}")]
    body = body[:body.index("}")]
    want = [int(x) for x in body.replace("\n", " ").replace(",", " ").split()]
    with open(out, newline="") as fp:
        r = csv.reader(fp)
        c = next(r).index(column)
        got = [int(row[c]) for row in r]
    bad = sum(1 for a, b in zip(got, want) if a != b) + abs(len(got) - len(want))
    if bad:
        print("%d values differ from h5dump's" % bad)
    return bad, len(want)


def main():
    mode, args = sys.argv[1], sys.argv[2:]
    if mode == "rows":
        bad, n = rows(args[0], args[1], args[2], "--raw" in args)
    elif mode == "stats":
        bad, n = stats(args[0], args[1])
    else:
        bad, n = h5dump(args[0], args[1], args[2])
    print("ok %d" % n if not bad else "%d differences" % bad)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
