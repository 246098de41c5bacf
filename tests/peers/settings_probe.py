#!/usr/bin/python3
"""Probe a com.victronenergy.settings service and print one JSON line per
case: the reply (D-Bus types kept) or the D-Bus error name, and the
signals the call caused.  localsettings-v1.76.jsonl is this probe's output
against Victron's real localsettings v1.76 (commit 3aac232) started with
--no-delay on a private bus with an empty data directory; the CLI test
runs it against settings_fake.py and wants the same lines.

usage: settings_probe.py [CASE...]     (the bus from DBUS_SESSION_BUS_ADDRESS)"""
import json
import sys
import time

import dbus
from dbus.mainloop.glib import DBusGMainLoop
from gi.repository import GLib

DBusGMainLoop(set_as_default=True)
bus = dbus.SessionBus()
NAME = "com.victronenergy.settings"
signals = []


def on_sig(*args, **kw):
    signals.append({"member": kw["member"], "path": kw["path"],
                    "args": [plain(a) for a in args]})


bus.add_signal_receiver(on_sig, dbus_interface="com.victronenergy.BusItem",
                        bus_name=NAME, path_keyword="path",
                        member_keyword="member")


def plain(v):
    if isinstance(v, dbus.Boolean):
        return {"b": bool(v)}
    if isinstance(v, (dbus.Int16, dbus.Int32, dbus.Int64, dbus.UInt16,
                      dbus.UInt32, dbus.UInt64, dbus.Byte)):
        return {type(v).__name__: int(v)}
    if isinstance(v, dbus.Double):
        return {"Double": float(v)}
    if isinstance(v, (dbus.String, dbus.ObjectPath)):
        return {type(v).__name__: str(v)}
    if isinstance(v, dbus.Dictionary):
        return {str(k): plain(x) for k, x in sorted(v.items())}
    if isinstance(v, dbus.Array):
        return {"Array:" + (v.signature or "?"): [plain(x) for x in v]}
    if isinstance(v, (list, tuple)):
        return [plain(x) for x in v]
    return repr(v)


def drain():
    ctx = GLib.MainContext.default()
    end = time.time() + 0.15
    while time.time() < end:
        while ctx.pending():
            ctx.iteration(False)
        time.sleep(0.01)
    out = list(signals)
    signals.clear()
    return out


def call(path, iface, method, sig, args):
    try:
        r = bus.call_blocking(NAME, path, iface, method, sig, args)
        res = {"reply": plain(r)}
    except dbus.exceptions.DBusException as e:
        res = {"dbus_error": e.get_dbus_name()}
    res["signals"] = drain()
    return res


def add(*entries):
    return call("/", "com.victronenergy.Settings", "AddSettings", "aa{sv}",
                [list(entries)])


def e(path, default, **kw):
    d = {"path": path, "default": default}
    d.update(kw)
    return d


S = dbus.String
I = dbus.Int32
D = dbus.Double
B = "com.victronenergy.BusItem"
cases = [
    ("relative path", lambda: add(e(S("Settings/Devices/g_1/ClassAndVrmInstance"), S("pvinverter:20")))),
    ("new instance", lambda: add(e(S("/Settings/Devices/g_1/ClassAndVrmInstance"), S("pvinverter:20"), min=I(0), max=I(0)))),
    ("clash gives next", lambda: add(e(S("/Settings/Devices/g_5/ClassAndVrmInstance"), S("pvinverter:20")))),
    ("other class same number", lambda: add(e(S("/Settings/Devices/b_1/ClassAndVrmInstance"), S("battery:20")))),
    ("again keeps", lambda: add(e(S("/Settings/Devices/g_5/ClassAndVrmInstance"), S("pvinverter:20")))),
    ("new default keeps value", lambda: add(e(S("/Settings/Devices/g_5/ClassAndVrmInstance"), S("pvinverter:30")))),
    ("bad instance default", lambda: add(e(S("/Settings/Devices/g_7/ClassAndVrmInstance"), S("garbage")))),
    ("bad default on existing", lambda: add(e(S("/Settings/Devices/g_5/ClassAndVrmInstance"), S("nocolon")))),
    ("position", lambda: add(e(S("/Settings/Devices/g_1/Position"), I(0), min=I(0), max=I(2)),
                              e(S("/Settings/Devices/g_1/CustomName"), S(""), min=I(0), max=I(0)))),
    ("out of range", lambda: add(e(S("/Settings/Devices/g_1/Other"), I(5), min=I(0), max=I(2)))),
    ("below range", lambda: add(e(S("/Settings/Devices/g_1/Other"), I(-1), min=I(0), max=I(2)))),
    ("only min", lambda: add(e(S("/Settings/Devices/g_1/OnlyMin"), I(5), min=I(7)))),
    ("zero zero no limits", lambda: add(e(S("/Settings/Devices/g_1/Free"), I(99), min=I(0), max=I(0)))),
    ("double limits on int", lambda: add(e(S("/Settings/Devices/g_1/DL"), I(1), min=D(0.5), max=D(2.9)))),
    ("string limits ignored", lambda: add(e(S("/Settings/Devices/g_1/Name2"), S("x"), min=I(5), max=I(1)))),
    ("underscore", lambda: add(e(S("/Settings/_x/y"), I(1)))),
    ("underscore leaf", lambda: add(e(S("/Settings/x/_y"), I(1)))),
    ("bool default", lambda: add(e(S("/Settings/x/b"), dbus.Boolean(True)))),
    ("uint32 default", lambda: add(e(S("/Settings/x/u"), dbus.UInt32(3)))),
    ("byte default", lambda: add(e(S("/Settings/x/y"), dbus.Byte(3)))),
    ("int64 default", lambda: add(e(S("/Settings/x/i64"), dbus.Int64(3)))),
    ("double default", lambda: add(e(S("/Settings/x/d"), D(1.5), min=D(0), max=D(10)))),
    ("no default", lambda: add({"path": S("/Settings/x/nodef")})),
    ("type differs", lambda: add(e(S("/Settings/Devices/g_1/Position"), S("0")))),
    ("int on double", lambda: add(e(S("/Settings/x/d"), I(1)))),
    ("is group", lambda: add(e(S("/Settings/Devices"), I(1)))),
    ("is group 2", lambda: add(e(S("/Settings/Devices/g_1"), I(1)))),
    ("path not string", lambda: add(e(I(5), I(1)))),
    ("path object path", lambda: add(e(dbus.ObjectPath("/Settings/x/op"), I(1)))),
    ("no path", lambda: add({"default": I(1)})),
    ("outside settings", lambda: add(e(S("/Other/x"), I(1)))),
    ("settings itself", lambda: add(e(S("/Settings"), I(1)))),
    ("silent", lambda: add(e(S("/Settings/x/s"), I(1), silent=dbus.Boolean(True)))),
    ("several, one bad", lambda: add(e(S("/Settings/x/m1"), I(1)), e(S("x/m2"), I(1)), e(S("/Settings/x/m3"), S("a")))),
    ("changed limits keep value", lambda: (call("/Settings/x/d", B, "SetValue", "v", [D(7.0)]),
                                            add(e(S("/Settings/x/d"), D(1.5), min=D(0), max=D(20))))[1]),
    ("getvalue leaf", lambda: call("/Settings/Devices/g_1/Position", B, "GetValue", "", [])),
    ("gettext leaf", lambda: call("/Settings/Devices/g_1/Position", B, "GetText", "", [])),
    ("getvalue group", lambda: call("/Settings/Devices/g_1", B, "GetValue", "", [])),
    ("getvalue missing", lambda: call("/Settings/Devices/g_1/Nope", B, "GetValue", "", [])),
    ("set position", lambda: call("/Settings/Devices/g_1/Position", B, "SetValue", "v", [I(1)])),
    ("set same", lambda: call("/Settings/Devices/g_1/Position", B, "SetValue", "v", [I(1)])),
    ("set out of range", lambda: call("/Settings/Devices/g_1/Position", B, "SetValue", "v", [I(3)])),
    ("set string digits on int", lambda: call("/Settings/Devices/g_1/Position", B, "SetValue", "v", [S("2")])),
    ("set string on int", lambda: call("/Settings/Devices/g_1/Position", B, "SetValue", "v", [S("abc")])),
    ("set double on int", lambda: call("/Settings/Devices/g_1/Position", B, "SetValue", "v", [D(0.7)])),
    ("set invalid on int", lambda: call("/Settings/Devices/g_1/Position", B, "SetValue", "v", [dbus.Array([], signature="i")])),
    ("set int on string", lambda: call("/Settings/Devices/g_1/CustomName", B, "SetValue", "v", [I(5)])),
    ("set custom name", lambda: call("/Settings/Devices/g_1/CustomName", B, "SetValue", "v", [S("roof")])),
    ("set instance free", lambda: call("/Settings/Devices/g_1/ClassAndVrmInstance", B, "SetValue", "v", [S("pvinverter:40")])),
    ("set instance taken", lambda: call("/Settings/Devices/g_5/ClassAndVrmInstance", B, "SetValue", "v", [S("pvinverter:40")])),
    ("set instance garbage", lambda: call("/Settings/Devices/g_5/ClassAndVrmInstance", B, "SetValue", "v", [S("x")])),

    ("space in path", lambda: add(e(S("/Settings/a b/c"), I(1)))),
    ("trailing slash", lambda: add(e(S("/Settings/x/t/"), I(1)))),
    ("double slash", lambda: add(e(S("/Settings//x"), I(1)))),
    ("dash in path", lambda: add(e(S("/Settings/x/a-b"), I(1)))),
    ("below a setting", lambda: add(e(S("/Settings/Devices/g_1/Position/X"), I(1)))),
    ("digit part", lambda: add(e(S("/Settings/Devices/1abc/Position"), I(1)))),
    ("one ok then bad path", lambda: add(e(S("/Settings/y/ok"), I(1)), e(S("/Settings/y/a b"), I(1)))),
    ("getvalue root", lambda: call("/", B, "GetValue", "", [])),
    ("gettext group", lambda: call("/Settings/Devices/g_1", B, "GetText", "", [])),
    ("set on group", lambda: call("/Settings/Devices/g_1", B, "SetValue", "v", [I(1)])),
    ("getitems on group", lambda: call("/Settings", B, "GetItems", "", [])),
    ("default float text", lambda: add(e(S("/Settings/x/f2"), D(0.1)))),
    ("huge int", lambda: add(e(S("/Settings/x/big"), dbus.Int64(5000000000)))),
    ("set bool on int", lambda: call("/Settings/Devices/g_1/Position", B, "SetValue", "v", [dbus.Boolean(True)])),
    ("group left by trailing slash", lambda: add(e(S("/Settings/x/t"), I(1)))),
    ("getitems", lambda: call("/", B, "GetItems", "", [])),
    ("remove", lambda: call("/", "com.victronenergy.Settings", "RemoveSettings", "as", [[S("/Settings/x/m1"), S("/Settings/x/nope")]])),
]

only = sys.argv[1:]
for name, fn in cases:
    if only and name not in only:
        continue
    r = fn()
    if name == "getvalue root":
        r["reply"] = {"keys": sorted(k for k in r["reply"] if "Devices/g_1" in k)}
    if name == "getitems":  # keep the gxkit-relevant part
        r["reply"] = {k: v for k, v in r["reply"].items() if "/Devices/" in k}
    print(json.dumps({"case": name, **r}, sort_keys=True))
