#!/usr/bin/python3
"""Write shepherd HDF5 recordings with h5py, in the v1, v2 and current
layouts, for h5-dump's tests and benchmarks.  Independent of gxkit: only
h5py and numpy.

  shepherd_h5.py --layout v2 --compression lzf --samples 30000 out.h5

Options that damage the file on purpose (for --check and error tests):
--jump I:NS (add NS to every stamp from index I), --short (current one
sample shorter), --no-gain, --mode M, --datatype D, --time-type f8.
"""
import argparse
import sys

import h5py
import numpy as np

T0_NS = 1_700_000_000_000_000_000
STEP_NS = 10_000  # 100 kHz
CONFIG = "mode: harvester\nvirtual_harvester:\n  name: mppt_opt\nduration: 60\n"
GPIO_MAP = "0: {name: gpio0}\n1: {name: gpio1}\n8: {name: target_io}\n"


def opts(args):
    o = {"chunks": (args.chunk,), "maxshape": (None,)}
    if args.compression == "lzf":
        o["compression"] = "lzf"
    elif args.compression == "gzip":
        o.update(compression="gzip", compression_opts=1)
    return o


def kopts(args, k):
    o = opts(args)
    o["chunks"] = (min(args.chunk, 1000), k)
    o["maxshape"] = (None, k)
    return o


def write_blocks(ds_time, ds_v, ds_i, args, rng):
    """Fill /data in blocks so that big files never sit in memory."""
    n, block, pos = args.samples, 1_000_000, 0
    while pos < n:
        m = min(block, n - pos)
        idx = np.arange(pos, pos + m, dtype=np.uint64)
        t = (T0_NS + idx * STEP_NS).astype(np.uint64)
        for at, ns in args.jump:
            t = (t.astype(np.int64) + np.where(idx >= at, ns, 0)).astype(
                np.uint64)
        ds_time[pos:pos + m] = t
        ds_v[pos:pos + m] = rng.integers(700_000_000, 900_000_000, m,
                                         dtype=np.uint32)
        ds_i[pos:pos + m] = rng.integers(0, 8_000_000, m, dtype=np.uint32)
        pos += m


def data_group(f, args, rng, time_attrs, gains):
    g = f.create_group("data")
    n = args.samples
    tt = np.float64 if args.time_type == "f8" else np.uint64
    t = g.create_dataset("time", (n,), dtype=tt, **opts(args))
    for k, v in time_attrs.items():
        t.attrs[k] = v
    ds = {}
    for name, unit, gain, offset in gains:
        d = g.create_dataset(name, (n,), dtype=np.uint32, **opts(args))
        d.attrs["unit"] = unit
        if args.layout != "v1":
            d.attrs["description"] = "%s [raw]" % name
        if not args.no_gain:
            d.attrs["gain"] = gain
            d.attrs["offset"] = offset
        ds[name] = d
    write_blocks(t, ds["voltage"], ds["current"], args, rng)
    if args.short:
        ds["current"].resize((n - 1,))
    return g


def monitor(f, name, n, fields, args, time_attrs):
    """A small side group: fields maps dataset name to (dtype, k)."""
    g = f.create_group(name)
    if time_attrs is not None:
        t = g.create_dataset("time", data=T0_NS + np.arange(n, dtype=np.uint64)
                             * 1_000_000_000, **opts(args))
        for k, v in time_attrs.items():
            t.attrs[k] = v
    for ds, (dt, k) in fields.items():
        if dt == "str":
            data = ["line %d: héllo \"w\"\t%d" % (i, i) for i in range(n)]
            g.create_dataset(ds, data=data, dtype=h5py.string_dtype(),
                             **opts(args))
        elif dt == "bytes":
            data = [b"\x01uart\xff%d\n" % i for i in range(n)]
            g.create_dataset(ds, data=data,
                             dtype=h5py.string_dtype("ascii"), **opts(args))
        elif k == 1:
            g.create_dataset(ds, data=(np.arange(n) * 7 % 251).astype(dt),
                             **opts(args))
        else:
            a = (np.arange(n * k).reshape(n, k) * 13 % 1000).astype(dt)
            if np.dtype(dt).kind == "i":
                a -= 500
            g.create_dataset(ds, data=a, **kopts(args, k))
    return g


def v1(f, args, rng):
    f.attrs["mode"] = args.mode or "harvesting"
    data_group(f, args, rng, {}, [("voltage", "V", 1.9e-8, 0.0),
                                  ("current", "A", 3.2e-11, -1e-7)])
    monitor(f, "log", 5, {"message": ("str", 1), "value": (np.uint32, 1)},
            args, {})
    monitor(f, "gpio", 6, {"value": (np.uint8, 1)}, args, {})


def v2(f, args, rng):
    f.attrs["mode"] = args.mode or "harvester"
    g = data_group(f, args, rng, {"unit": "ns", "description": "system time"},
                   [("voltage", "V", 1.9e-8, 0.0),
                    ("current", "A", 3.2e-11, -1e-7)])
    g.attrs["datatype"] = args.datatype or "ivsample"
    g.attrs["window_samples"] = 0
    g.attrs["config"] = CONFIG
    gp = monitor(f, "gpio", 6, {"value": (np.uint16, 1)}, args, {"unit": "ns"})
    gp["value"].attrs["description"] = GPIO_MAP
    monitor(f, "exceptions", 3, {"message": ("str", 1),
                                 "value": (np.uint32, 1)}, args, {})
    monitor(f, "uart", 4, {"message": ("bytes", 1)}, args, None)
    monitor(f, "sysutil", 5, {"cpu": (np.uint8, 1), "ram": (np.uint8, 2),
                              "io": (np.uint64, 4), "net": (np.uint64, 2)},
            args, {"unit": "ns"})
    monitor(f, "dmesg", 3, {"message": ("str", 1)}, args, None)
    monitor(f, "timesync", 4, {"value": (np.int64, 3)}, args, None)


def current(f, args, rng):
    f.attrs["mode"] = args.mode or "harvester"
    f.attrs["hostname"] = "sheep0"
    f.attrs["config"] = CONFIG
    tgain = {"unit": "s", "gain": 1e-9, "offset": 0.0}
    g = data_group(f, args, rng, tgain,
                   [("voltage", "V", 3e-9, 0.0),
                    ("current", "A", 250e-12, -2.5e-9)])
    g.attrs["window_samples"] = 0
    g.attrs["datatype"] = args.datatype or "ivsample"
    monitor(f, "gpio", 6, {"value": (np.uint16, 1)}, args, tgain)
    monitor(f, "pru_util", 5, {"values": (np.uint16, 3)}, args, tgain)
    monitor(f, "sheep", 4, {"message": ("str", 1), "level": (np.uint8, 1)},
            args, tgain)
    monitor(f, "uart", 3, {"message": ("bytes", 1)}, args, tgain)
    monitor(f, "sys_util", 5, {"cpu": (np.uint8, 1), "ram": (np.uint8, 2),
                               "io": (np.uint64, 4), "net": (np.uint64, 2)},
            args, tgain)
    monitor(f, "kernel", 3, {"message": ("str", 1)}, args, tgain)
    for name in ("ptp", "phc2sys", "ntp"):
        monitor(f, name, 4, {"values": (np.int64, 3)}, args, tgain)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--layout", choices=["v1", "v2", "current"],
                   default="current")
    p.add_argument("--compression", choices=["none", "lzf", "gzip"],
                   default="gzip")
    p.add_argument("--samples", type=int, default=30000)
    p.add_argument("--chunk", type=int, default=10000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--jump", action="append", default=[],
                   type=lambda s: tuple(int(x) for x in s.split(":")))
    p.add_argument("--short", action="store_true")
    p.add_argument("--no-gain", action="store_true")
    p.add_argument("--mode")
    p.add_argument("--datatype")
    p.add_argument("--time-type", choices=["u8", "f8"], default="u8")
    p.add_argument("--alien-filter", action="store_true",
                   help="relabel LZF as filter 32099, which nobody has")
    args = p.parse_args()
    if args.alien_filter:
        args.compression = "lzf"
    rng = np.random.default_rng(args.seed)
    with h5py.File(args.out, "w") as f:
        {"v1": v1, "v2": v2, "current": current}[args.layout](f, args, rng)
    if args.alien_filter:
        alien(args.out)
    return 0


def alien(path):
    """Version 1 pipeline messages hold id, name length, flags, value
    count, then the name: patch the id in front of each "lzf"."""
    data = bytearray(open(path, "rb").read())
    pos, n = 0, 0
    while (pos := data.find(b"lzf\0", pos + 1)) > 0:
        if data[pos - 8:pos - 6] == (32000).to_bytes(2, "little"):
            data[pos - 8:pos - 6] = (32099).to_bytes(2, "little")
            n += 1
    assert n > 0, "no LZF pipeline message found"
    open(path, "wb").write(bytes(data))


if __name__ == "__main__":
    sys.exit(main())
