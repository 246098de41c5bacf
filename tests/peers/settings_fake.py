#!/usr/bin/python3
"""A fake com.victronenergy.settings: AddSettings(aa{sv}) -> aa{sv} with
path and value for each setting (a ClassAndVrmInstance gets the instance
from --instance), and BusItem SetValue on each /Settings/... path.  Every
call is logged as a line to --log."""
import argparse

import dbus
import dbus.service
from dbus.mainloop.glib import DBusGMainLoop
from gi.repository import GLib

STORE = {}


class Setting(dbus.service.Object):
    def __init__(self, bus, path, log):
        super().__init__(bus, path)
        self.path, self.log = path, log

    @dbus.service.method("com.victronenergy.BusItem", in_signature="v",
                         out_signature="i")
    def SetValue(self, value):
        STORE[self.path] = value
        self.log(f"SetValue {self.path} {value}")
        return 0

    @dbus.service.method("com.victronenergy.BusItem", out_signature="v")
    def GetValue(self):
        return STORE[self.path]


class Root(dbus.service.Object):
    def __init__(self, bus, args):
        super().__init__(bus, "/")
        self.bus, self.args = bus, args

    def log(self, line):
        with open(self.args.log, "a") as f:
            f.write(line + "\n")

    @dbus.service.method("com.victronenergy.Settings", in_signature="aa{sv}",
                         out_signature="aa{sv}")
    def AddSettings(self, settings):
        out = []
        for s in settings:
            path = "/" + str(s["path"]).lstrip("/")
            if path not in STORE:
                default = s["default"]
                if path.endswith("ClassAndVrmInstance"):
                    cls = str(default).split(":")[0]
                    default = dbus.String(f"{cls}:{self.args.instance}")
                STORE[path] = default
                Setting(self.bus, path, self.log)
            self.log(f"AddSettings {path} default={s['default']}")
            out.append({"path": dbus.String(s["path"]), "error": dbus.Int32(0),
                        "value": STORE[path]})
        return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--instance", type=int, default=33)
    ap.add_argument("--log", required=True)
    args = ap.parse_args()
    DBusGMainLoop(set_as_default=True)
    bus = dbus.SessionBus()
    Root(bus, args)
    name = dbus.service.BusName("com.victronenergy.settings", bus)
    GLib.MainLoop().run()


main()
