#!/usr/bin/python3
"""A Venus driver's D-Bus service as velib_python's vedbus.py makes it, for
dbus-watch --check and --set: a peer as strict as the real thing.

Written from victronenergy/velib_python, vedbus.py (VeDbusService,
ServiceContext, VeDbusTreeExport, VeDbusRootExport, VeDbusItemExport) and
ve_utils.py (wrap_dbus_value); none of its code is used:
  - the name is requested with do_not_queue (VeDbusService.register): a
    second owner is refused, not queued;
  - an invalid value (None) is an empty array of int32 on the bus, its text
    "---" (wrap_dbus_value, VeDbusItemExport.GetText);
  - a path that was never added is no object: GetValue on it is
    org.freedesktop.DBus.Error.UnknownObject (libdbus's answer);
  - "/" and every node above a path are tree objects whose GetValue is a
    dictionary of the paths under them (VeDbusTreeExport);
  - a change made in a `with service` block is sent once, as ItemsChanged
    on "/" (ServiceContext.flush); a change made by assignment is sent
    once, as PropertiesChanged on its path (local_set_value); a value
    equal to the last is not sent at all (_local_set_value);
  - SetValue answers 1 on a path not writeable or a value that does not
    coerce to its type, 0 for the same value (nothing sent), 2 when the
    driver's callback refuses it, else 0 after a PropertiesChanged
    (VeDbusItemExport.SetValue).

usage: vedbus_service.py NAME [--tick SECONDS] [--ready FILE]
  every tick: /Ac/Power changes in a `with` block (ItemsChanged),
  /Ac/Energy/Forward by assignment (PropertiesChanged)
  SIGUSR1  stop changing (the values go stale, still valid)
  SIGUSR2  invalidate /Ac/Power in a `with` block
  SIGTERM  leave the bus
"""
import argparse
import signal
import sys

import dbus
import dbus.service
from dbus.mainloop.glib import DBusGMainLoop
from gi.repository import GLib

IFACE = "com.victronenergy.BusItem"


def on_bus(value):
    """A Python value as vedbus puts it on the bus (wrap_dbus_value)."""
    if value is None:
        return dbus.Array([], signature="i")
    if isinstance(value, bool):
        return dbus.Boolean(value)
    if isinstance(value, float):
        return dbus.Double(value)
    if isinstance(value, int):
        return dbus.Int32(value) if -2**31 <= value < 2**31 else dbus.Int64(value)
    return dbus.String(value)


def as_text(value):
    return "---" if value is None else str(value)


class Tree(dbus.service.Object):
    """A node above paths: its value is theirs, keyed below it."""

    def __init__(self, bus, path, service):
        super().__init__(bus, path)
        self.node, self.service = path, service

    def below(self, text):
        prefix = self.node.rstrip("/") + "/"
        return {p[len(prefix):]: (as_text(i.value) if text else on_bus(i.value))
                for p, i in self.service.items.items() if p.startswith(prefix)}

    @dbus.service.method(IFACE, out_signature="v")
    def GetValue(self):
        return dbus.Dictionary(self.below(False), signature="sv")

    @dbus.service.method(IFACE, out_signature="v")
    def GetText(self):
        return dbus.Dictionary(self.below(True), signature="ss")


class Root(Tree):
    @dbus.service.signal(IFACE, signature="a{sa{sv}}")
    def ItemsChanged(self, changes):
        pass

    @dbus.service.method(IFACE, out_signature="a{sa{sv}}")
    def GetItems(self):
        return {p: {"Value": on_bus(i.value), "Text": as_text(i.value)}
                for p, i in self.service.items.items()}


class Item(dbus.service.Object):
    def __init__(self, bus, path, value, writeable=False, valuetype=None,
                 accept=None):
        super().__init__(bus, path)
        self.path, self.value = path, value
        self.writeable, self.valuetype, self.accept = writeable, valuetype, accept

    def change(self, value):
        """The change to send, or None when the value is the same."""
        if value == self.value:
            return None
        self.value = value
        return {"Value": on_bus(value), "Text": as_text(value)}

    def assign(self, value):
        c = self.change(value)
        if c is not None:
            self.PropertiesChanged(c)

    @dbus.service.method(IFACE, in_signature="v", out_signature="i")
    def SetValue(self, value):
        if not self.writeable:
            return 1
        if isinstance(value, dbus.Array) and len(value) == 0:
            value = None
        elif isinstance(value, dbus.String):
            value = str(value)
        elif isinstance(value, dbus.Double):
            value = float(value)
        elif isinstance(value, (dbus.Int32, dbus.Int64, dbus.UInt32, dbus.Byte)):
            value = int(value)
        try:
            if self.valuetype is not None and value is not None:
                value = self.valuetype(value)
        except (TypeError, ValueError):
            return 1
        if value == self.value:
            return 0
        if self.accept is not None and not self.accept(self.path, value):
            return 2
        self.assign(value)
        return 0

    @dbus.service.method(IFACE, out_signature="v")
    def GetValue(self):
        return on_bus(self.value)

    @dbus.service.method(IFACE, out_signature="s")
    def GetText(self):
        return as_text(self.value)

    @dbus.service.method(IFACE, in_signature="si", out_signature="s")
    def GetDescription(self, language, length):
        return "No description given"

    @dbus.service.signal(IFACE, signature="a{sv}")
    def PropertiesChanged(self, changes):
        pass


class Service:
    def __init__(self, bus, name):
        self.bus, self.items, self.nodes = bus, {}, {}
        self.root = Root(bus, "/", self)
        for path, value in (("/Mgmt/ProcessName", "vedbus_service.py"),
                            ("/Mgmt/ProcessVersion", "1.0"),
                            ("/Mgmt/Connection", "Modbus TCP"),
                            ("/DeviceInstance", 20), ("/ProductId", 0xA142),
                            ("/ProductName", "Growatt"), ("/Connected", 1),
                            ("/Serial", "GW1234"), ("/Ac/Power", 1000.0),
                            ("/Ac/Energy/Forward", 12.5),
                            ("/Dc/0/Voltage", None)):
            self.add(path, value)
        self.add("/CustomName", "", writeable=True, valuetype=str)
        self.add("/Position", 0, writeable=True, valuetype=int,
                 accept=lambda path, v: v in (0, 1, 2))
        self.name = dbus.service.BusName(name, bus, do_not_queue=True)

    def add(self, path, value, **kw):
        self.items[path] = Item(self.bus, path, value, **kw)
        parts = path.split("/")
        for i in range(2, len(parts)):
            node = "/".join(parts[:i])
            if node not in self.nodes and node not in self.items:
                self.nodes[node] = Tree(self.bus, node, self)

    def batch(self, values):
        """A `with service` block: one ItemsChanged for what changed."""
        changes = {}
        for path, value in values.items():
            c = self.items[path].change(value)
            if c is not None:
                changes[path] = c
        if changes:
            self.root.ItemsChanged(changes)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("name")
    ap.add_argument("--tick", type=float, default=0.2)
    ap.add_argument("--ready")
    args = ap.parse_args()
    DBusGMainLoop(set_as_default=True)
    svc = Service(dbus.SessionBus(), args.name)
    state = {"n": 0, "updating": True}

    def tick():
        if state["updating"]:
            state["n"] += 1
            svc.batch({"/Ac/Power": 1000.0 + state["n"]})
            svc.items["/Ac/Energy/Forward"].assign(12.5 + state["n"] / 100)
        return True

    def stop_updating():
        state["updating"] = False
        return True

    def invalidate():
        svc.batch({"/Ac/Power": None})
        return True

    GLib.timeout_add(int(args.tick * 1000), tick)
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGUSR1, stop_updating)
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGUSR2, invalidate)
    loop = GLib.MainLoop()
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, loop.quit)
    if args.ready:
        with open(args.ready, "w") as f:
            f.write("ready\n")
    loop.run()
    sys.exit(0)


main()
