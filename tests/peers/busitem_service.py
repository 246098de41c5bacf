#!/usr/bin/python3
"""An independent com.victronenergy.BusItem service, written from the Venus
facts (not from gw-publish), for dbus-watch's tests.

usage: busitem_service.py NAME [--mode full|rootvalue|introspect]
                               [--flood N] [--ready FILE]
  full        GetItems on /, ItemsChanged and PropertiesChanged
  rootvalue   no GetItems: GetValue on / gives a{sv}
  introspect  neither: only introspection and GetValue per path
  --flood N   after start, change /Count N times as fast as it can
              (one PropertiesChanged each), then write "done" to --ready;
              SIGUSR1 floods again
  --hostile   also serve what any peer on a bus may send, all legal D-Bus:
              a unix fd (h), a value nested 40 deep (20 arrays of 20 structs), dictionaries keyed by
              int32, byte, object path, double and boolean, uint64 and
              int64 extremes; with --flood, each flood signal carries the
              fd and the deep value too"""
import argparse
import signal
import sys

import dbus
import dbus.service
from dbus.mainloop.glib import DBusGMainLoop
from gi.repository import GLib

IFACE = "com.victronenergy.BusItem"
INVALID = dbus.Array([], signature="i")

VALUES = {
    "/Ac/Power": dbus.Double(1234.5),
    "/Ac/L1/Voltage": dbus.Double(230.1),
    "/StatusCode": dbus.Int32(7),
    "/Serial": dbus.String("HQ2024"),
    "/Dc/0/Voltage": INVALID,
    "/Count": dbus.Int32(0),
}


def hostile_values():
    deep = dbus.Int32(1)
    for _ in range(20):  # D-Bus allows 32 of each, 64 in all
        deep = dbus.Struct([deep])
    for _ in range(20):
        deep = dbus.Array([deep])
    return {
        "/Fd": dbus.types.UnixFd(sys.stdin.fileno()),
        "/Deep": deep,
        "/Keys/Int": dbus.Dictionary({dbus.Int32(-1): "minus one",
                                      dbus.Int32(7): "seven"},
                                     signature="is"),
        "/Keys/Byte": dbus.Dictionary({dbus.Byte(200): "b"}, signature="ys"),
        "/Keys/Path": dbus.Dictionary({dbus.ObjectPath("/a/b"): "p"},
                                      signature="os"),
        "/Keys/Double": dbus.Dictionary({dbus.Double(0.1): "d"},
                                        signature="ds"),
        "/Keys/Bool": dbus.Dictionary({dbus.Boolean(True): "t"},
                                      signature="bs"),
        "/U64": dbus.UInt64(18446744073709551615),
        "/I64": dbus.Int64(-9223372036854775808),
    }


def text(v):
    return "---" if isinstance(v, dbus.Array) else str(v)


class Item(dbus.service.Object):
    def __init__(self, bus, path, svc):
        super().__init__(bus, path)
        self.path, self.svc = path, svc

    @dbus.service.method(IFACE, out_signature="v")
    def GetValue(self):
        if self.path in VALUES:
            return VALUES[self.path]
        if self.svc.mode == "introspect" and self.path == "/":
            raise dbus.exceptions.DBusException("no root value")
        prefix = "" if self.path == "/" else self.path + "/"
        return dbus.Dictionary({k[len(prefix):].lstrip("/"): v
                                for k, v in VALUES.items()
                                if k.startswith(prefix or "/")},
                               signature="sv")

    @dbus.service.method(IFACE, out_signature="s")
    def GetText(self):
        return text(VALUES.get(self.path, INVALID))

    @dbus.service.method(IFACE, in_signature="v", out_signature="i")
    def SetValue(self, value):
        if self.path != "/Count":
            return 1
        self.svc.change("/Count", dbus.Int32(int(value)))
        return 0

    @dbus.service.signal(IFACE, signature="a{sv}")
    def PropertiesChanged(self, changes):
        pass


class Root(Item):
    @dbus.service.method(IFACE, out_signature="a{sa{sv}}")
    def GetItems(self):
        if self.svc.mode != "full":
            raise dbus.exceptions.DBusException(
                "org.freedesktop.DBus.Error.UnknownMethod")
        return {p: {"Value": v, "Text": text(v)} for p, v in VALUES.items()}

    @dbus.service.signal(IFACE, signature="a{sa{sv}}")
    def ItemsChanged(self, items):
        pass


class Service:
    def __init__(self, bus, args):
        self.mode = args.mode
        self.root = Root(bus, "/", self)
        self.items = {p: Item(bus, p, self) for p in VALUES}
        for node in ("/Ac", "/Ac/L1", "/Dc", "/Dc/0"):
            Item(bus, node, self)
        self.name = dbus.service.BusName(args.name, bus)

    def change(self, path, value):
        VALUES[path] = value
        self.items[path].PropertiesChanged({"Value": value, "Text": text(value)})
        if self.mode == "full":
            self.root.ItemsChanged({path: {"Value": value, "Text": text(value)}})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("name")
    ap.add_argument("--mode", default="full")
    ap.add_argument("--flood", type=int, default=0)
    ap.add_argument("--ready")
    ap.add_argument("--hostile", action="store_true")
    ap.add_argument("--delay", type=float, default=0.5)
    args = ap.parse_args()
    if args.hostile:
        VALUES.update(hostile_values())
    DBusGMainLoop(set_as_default=True)
    bus = dbus.SessionBus()
    svc = Service(bus, args)
    loop = GLib.MainLoop()

    def flood():
        for i in range(1, args.flood + 1):
            svc.items["/Count"].PropertiesChanged(
                {"Value": dbus.Int32(i), "Text": str(i)})
            if args.hostile:
                for p in ("/Fd", "/Deep"):
                    svc.items[p].PropertiesChanged(
                        {"Value": VALUES[p], "Text": "x"})
        VALUES["/Count"] = dbus.Int32(args.flood)
        if args.ready:
            open(args.ready, "w").write("done\n")
        return False

    if args.flood:
        GLib.timeout_add(int(args.delay * 1000), flood)
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGUSR1,
                             lambda: flood() or True)
    loop.run()


main()
