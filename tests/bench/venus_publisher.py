#!/usr/bin/python3
"""A python3-dbus publisher built the way Venus drivers publish: one
BusItem object per path, one ItemsChanged per record with Value and Text.
usage: venus_publisher.py SERVICE MAP.csv < records.jsonl"""
import csv
import json
import sys

import dbus
import dbus.service
from dbus.mainloop.glib import DBusGMainLoop

IFACE = "com.victronenergy.BusItem"


class Item(dbus.service.Object):
    def __init__(self, bus, path):
        super().__init__(bus, path)
        self.value = dbus.Array([], signature="i")

    @dbus.service.method(IFACE, out_signature="v")
    def GetValue(self):
        return self.value


class Root(dbus.service.Object):
    @dbus.service.signal(IFACE, signature="a{sa{sv}}")
    def ItemsChanged(self, items):
        pass


def main():
    DBusGMainLoop(set_as_default=True)
    bus = dbus.SessionBus()
    paths = {}
    with open(sys.argv[2]) as f:
        rows = csv.DictReader(line for line in f if not line.startswith("#"))
        for row in rows:
            if row["dbus_path"]:
                paths[row["name"]] = row["dbus_path"]
    root = Root(bus, "/")
    items = {p: Item(bus, p) for p in paths.values()}
    name = dbus.service.BusName(sys.argv[1], bus)
    updates = 0
    for line in sys.stdin:
        rec = json.loads(line)
        changed = {}
        for key, value in rec.get("values", {}).items():
            path = paths.get(key)
            if path is None or value is None:
                continue
            v = dbus.Double(value) if isinstance(value, float) else dbus.Int32(value)
            if items[path].value != v:
                items[path].value = v
                changed[path] = {"Value": v, "Text": str(value)}
        if changed:
            root.ItemsChanged(changed)
            updates += len(changed)
    bus.flush()
    print(updates)


main()
