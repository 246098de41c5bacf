#!/usr/bin/python3
"""An independent Venus D-Bus client (python3-dbus) that checks a BusItem
service and prints what it saw as one JSON object.

usage: busitem_client.py NAME check
       busitem_client.py NAME first-sight       wait for NAME to appear and
                                               list its paths at once
       busitem_client.py NAME signals SECONDS   count the signals it sends"""
import json
import sys

import dbus
from dbus.mainloop.glib import DBusGMainLoop
from gi.repository import GLib

IFACE = "com.victronenergy.BusItem"


def plain(v):
    """dbus values as JSON; an empty array is invalid (null)."""
    if isinstance(v, dbus.Array) and len(v) == 0:
        return None
    if isinstance(v, dbus.Dictionary):
        return {str(k): plain(x) for k, x in v.items()}
    if isinstance(v, (dbus.Double,)):
        return float(v)
    if isinstance(v, (dbus.Int32, dbus.Int64, dbus.UInt32, dbus.Int16, dbus.Byte)):
        return int(v)
    if isinstance(v, dbus.String):
        return str(v)
    return v


def kind(v):
    return type(v).__name__ + (":" + v.signature if isinstance(v, dbus.Array) else "")


def check(bus, name):
    def item(path):
        return dbus.Interface(bus.get_object(name, path, introspect=False), IFACE)
    items = item("/").GetItems()
    out = {
        "paths": sorted(str(p) for p in items),
        "items_ac_power": plain(items["/Ac/Power"]["Value"]),
        "items_text_keys": sorted(str(k) for k in items["/Ac/Power"]),
        "leaf": plain(item("/Ac/Power").GetValue()),
        "leaf_kind": kind(item("/Ac/Power").GetValue()),
        "status_kind": kind(item("/StatusCode").GetValue()),
        "node": plain(item("/Ac/L1").GetValue()),
        "root_keys": sorted(plain(item("/").GetValue()).keys()),
        "text": str(item("/Ac/Power").GetText()),
        "instance": plain(item("/DeviceInstance").GetValue()),
        "position": plain(item("/Position").GetValue()),
        "set_position": int(item("/Position").SetValue(dbus.Int32(1))),
        "position_after": plain(item("/Position").GetValue()),
        "set_position_rejected": int(item("/Position").SetValue(dbus.Int32(7))),
        "set_position_bad_type": int(item("/Position").SetValue(dbus.String("x"))),
        "set_custom_name": int(item("/CustomName").SetValue(dbus.String("roof"))),
        "set_power": int(item("/Ac/Power").SetValue(dbus.Double(5))),
        "description": str(item("/Ac/Power").GetDescription("en", 0)),
    }
    invalid = [str(p) for p, d in items.items()
               if isinstance(d["Value"], dbus.Array)]
    out["invalid_paths"] = sorted(invalid)
    out["invalid_kind"] = (kind(items[invalid[0]]["Value"]) if invalid else None)
    out["invalid_text"] = (str(items[invalid[0]]["Text"]) if invalid else None)
    print(json.dumps(out))


def first_sight(bus, name):
    """Venus reads a device the moment its name appears: all paths must
    already be there."""
    loop = GLib.MainLoop()
    seen = {}

    def owner_changed(n, old, new):
        if n == name and new:
            root = bus.get_object(name, "/", introspect=False)
            try:
                seen["paths"] = sorted(str(p) for p in
                                       dbus.Interface(root, IFACE).GetItems())
            except dbus.DBusException as e:  # into the record, not lost
                seen["error"] = str(e)
            loop.quit()

    bus.add_signal_receiver(owner_changed, "NameOwnerChanged",
                            "org.freedesktop.DBus", "org.freedesktop.DBus")
    # The match rule goes out without a reply; the daemon handles one
    # connection's messages in order, so once a blocking call returns the
    # rule is in force and "ready" tells the truth.
    if bus.name_has_owner(name):
        print("already there: too late to see it appear", file=sys.stderr)
        sys.exit(1)
    print("ready", file=sys.stderr, flush=True)
    GLib.timeout_add(15000, loop.quit)
    loop.run()
    print(json.dumps(seen))


def signals(bus, name, seconds):
    loop = GLib.MainLoop()
    got = {"items": 0, "properties": 0, "items_paths": [], "last_power": None}
    owner = bus.get_name_owner(name)

    def items_changed(items, sender=None):
        got["items"] += 1
        got["items_paths"] = sorted(set(got["items_paths"]) | {str(p) for p in items})
        if "/Ac/Power" in items:
            got["last_power"] = plain(items["/Ac/Power"]["Value"])

    def props_changed(changes, path=None, sender=None):
        got["properties"] += 1

    bus.add_signal_receiver(items_changed, "ItemsChanged", IFACE, owner,
                            sender_keyword="sender")
    bus.add_signal_receiver(props_changed, "PropertiesChanged", IFACE, owner,
                            path_keyword="path", sender_keyword="sender")
    print("ready", file=sys.stderr, flush=True)
    GLib.timeout_add(int(seconds * 1000), loop.quit)
    loop.run()
    print(json.dumps(got))


def main():
    DBusGMainLoop(set_as_default=True)
    bus = dbus.SessionBus()
    name, what = sys.argv[1], sys.argv[2]
    if what == "check":
        check(bus, name)
    elif what == "first-sight":
        first_sight(bus, name)
    else:
        signals(bus, name, float(sys.argv[3]))


main()
