#!/usr/bin/python3
"""A stand-in for Victron's com.victronenergy.settings (localsettings), as
strict as the real service.  It mirrors localsettings v1.76
(github.com/victronenergy/localsettings, localsettings.py; commit 3aac232),
and tests/peers/localsettings-v1.76.jsonl holds what the real service
answered to tests/peers/settings_probe.py: the test "settings fake answers
as the real localsettings" runs the same probe against this fake and wants
the same answers.  Where each behaviour comes from:

- GroupObject.AddSettings: aa{sv} in, aa{sv} out, one dict per entry with
  "path" (as sent; left out when it is missing), "error" and, whenever the
  setting exists afterwards, "value".  A path that is not a string: -4.
  The type comes from the D-Bus type of "default": int32/int64 integer,
  double float, string string; anything else (bool, uint32, byte, none): -3.
- GroupObject.addSetting, in this order: "/_" anywhere -2; a default that
  does not convert -6; for numbers min == max == 0 means no limits, and a
  default outside them -7 (limits are converted to the type, so 2.9 is 2);
  strings take no limits; not under "/Settings/" -9; an existing setting of
  another type -5; a path that is a group -8.  An existing setting keeps
  its value; only its attributes change (and are signalled when they did).
- A path part that is not a valid object path element fails the whole call
  with org.freedesktop.DBus.Python.ValueError, after the entries before it
  were added, and a path below a setting with ...Python.KeyError: the real
  service creates one D-Bus object per group and setting as it goes.
- ClassAndVrmInstance (DeviceGroup, DevicesGroup.assureFreeInstance): under
  /Settings/Devices/<ident>/, "class:N" values are unique per class; a taken
  one becomes the next free N, in AddSettings and in SetValue.  A default
  that is not "class:N" is -6 (a new setting is removed again, with the
  removal's PropertiesChanged).
- SettingObject.SetValue: the value is converted to the setting's type
  (int("2") is 2, int(0.7) is 0, str(5) is "5"); what does not convert, or
  falls outside min/max, answers -1; a change sends PropertiesChanged with
  Value and Text on the setting's path.  No ItemsChanged: localsettings
  never sends it.
- GetValue/GetText on a group: a{sv}/a{ss} of everything below it, keyed
  relative to it; GetItems only on "/"; SetValue on a group is an unknown
  method; an unknown path is org.freedesktop.DBus.Error.UnknownObject.
- RemoveSettings(as) -> ai: 0 removed (PropertiesChanged with an empty
  int32 array and empty text), -1 unknown.
- The name is claimed after the objects exist; the session bus when
  DBUS_SESSION_BUS_ADDRESS is set, else the system bus (LocalSettings).

Left out: settings.xml, /etc/venus/settings.d and the SecurityProfile
check.  --path DIR keeps the settings in DIR/settings.json across restarts
instead; --log FILE writes one line per call for the tests to read."""
import argparse
import json
import os
import re

import dbus
import dbus.service
from dbus.mainloop.glib import DBusGMainLoop
from gi.repository import GLib

BUSITEM = "com.victronenergy.BusItem"
SETTINGS = "com.victronenergy.Settings"
ELEMENT = re.compile(r"^[A-Za-z0-9_]+$")
NO_ERROR, UNDERSCORE, UNKNOWN_TYPE, INVALID_PATH = 0, -2, -3, -4
TYPE_DIFFERS, INVALID_DEFAULT, OUT_OF_RANGE, IS_GROUP = -5, -6, -7, -8
NOT_IN_SETTINGS = -9
CONVERT = {"i": int, "f": float, "s": str}


class PyError(dbus.exceptions.DBusException):
    """What dbus-python answers when the real service raises."""

    def __init__(self, kind, msg):
        super().__init__(msg, name="org.freedesktop.DBus.Python." + kind)


def convert(typ, value):
    if value is None:
        return None
    try:
        return CONVERT[typ](value)
    except (TypeError, ValueError, OverflowError):
        return None


def wrap(typ, value):
    if value is None:
        return None
    if typ == "i":
        return dbus.Int64(value) if value > 0x7FFFFFFF else dbus.Int32(value)
    return dbus.Double(value) if typ == "f" else dbus.String(value)


def check_object_path(path):
    parts = path.split("/")[1:]
    if not path.startswith("/") or (path != "/" and
                                    not all(ELEMENT.match(p) for p in parts)):
        raise PyError("ValueError", f"Invalid object path '{path}'")


def class_instance(value):
    """"pvinverter:20" -> ("pvinverter", 20), or None."""
    if not isinstance(value, str):
        return None
    parts = value.split(":")
    if len(parts) != 2:
        return None
    try:
        return parts[0], int(parts[1])
    except ValueError:
        return None


class Store:
    """Every group and setting, and the D-Bus objects that serve them."""

    def __init__(self, bus, args):
        self.bus, self.args = bus, args
        self.groups = {}    # path -> Group
        self.settings = {}  # path -> Setting
        Group(self, "/")
        Group(self, "/Settings")
        Group(self, "/Settings/Devices")

    def log(self, line):
        if self.args.log:
            with open(self.args.log, "a") as f:
                f.write(line + "\n")

    def save(self):
        if not self.args.path:
            return
        data = {p: [s.type, s.value, s.default, s.min, s.max, s.silent]
                for p, s in self.settings.items()}
        tmp = os.path.join(self.args.path, "settings.json.new")
        with open(tmp, "w") as f:
            json.dump(data, f)
        os.rename(tmp, os.path.join(self.args.path, "settings.json"))

    def load(self):
        name = os.path.join(self.args.path or "", "settings.json")
        if not self.args.path or not os.path.exists(name):
            return
        with open(name) as f:
            for path, (typ, value, default, lo, hi, silent) in json.load(f).items():
                s = self.create(path)
                s.type, s.value, s.default = typ, value, default
                s.min, s.max, s.silent = lo, hi, silent

    def create(self, path):
        """Groups along path, then the setting: objects made one by one."""
        parts = path.split("/")[1:]
        at = ""
        for p in parts[:-1]:
            at += "/" + p
            if at in self.settings:
                raise PyError("KeyError", f"there is already a handler for {at}")
            if at not in self.groups:
                check_object_path(at)
                Group(self, at)
        check_object_path(path)
        cls = Instance if re.match(r"^/Settings/Devices/[^/]+/ClassAndVrmInstance$",
                                   path) else Setting
        return cls(self, path)

    def below(self, group):
        prefix = "" if group == "/" else group
        return {p[len(prefix) + 1:]: s for p, s in sorted(self.settings.items())
                if p.startswith(prefix + "/")}

    def taken(self, cls, other):
        return [s.value for p, s in self.settings.items()
                if p.startswith("/Settings/Devices/") and
                p.endswith("/ClassAndVrmInstance") and s is not other and
                isinstance(s.value, str) and s.value.startswith(cls + ":")]

    def remove(self, setting):
        setting.PropertiesChanged({"Value": dbus.Array([], signature="i"),
                                   "Text": ""})
        setting.remove_from_connection()
        del self.settings[setting.path]
        group = setting.path.rsplit("/", 1)[0]
        keep = {"/", "/Settings", "/Settings/Devices"}
        while group not in keep and not any(
                p.startswith(group + "/") for p in list(self.settings) + list(self.groups)):
            self.groups.pop(group).remove_from_connection()
            group = group.rsplit("/", 1)[0]

    def add(self, path, default, typ, lo, hi, silent):
        """(error, setting or None), as GroupObject.addSetting."""
        if "/_" in path:
            return UNDERSCORE, None
        value = convert(typ, default)
        if value is None:
            return INVALID_DEFAULT, None
        lo, hi = convert(typ, lo), convert(typ, hi)
        if typ == "s":
            lo = hi = None
        else:
            if lo == 0 and hi == 0:
                lo = hi = None
            if (lo is not None and value < lo) or (hi is not None and value > hi):
                return OUT_OF_RANGE, None
        if not path.startswith("/Settings/"):
            return NOT_IN_SETTINGS, None
        s = self.settings.get(path)
        if s is None:
            if path in self.groups:
                return IS_GROUP, None
            s = self.create(path)
            s.attributes(value, typ, lo, hi, silent)
            if not s.assign(value, attributes=True):
                self.remove(s)
                return INVALID_DEFAULT, None
        else:
            if s.type != typ:
                return TYPE_DIFFERS, None
            error, changed = s.attributes(value, typ, lo, hi, silent)
            if error or not changed:
                return error, s
            s.assign(s.value, attributes=True)
        self.log(f"AddSettings {path} default={default} value={s.value}")
        self.save()
        return NO_ERROR, s


class Group(dbus.service.Object):
    def __init__(self, store, path):
        super().__init__(store.bus, path)
        self.store, self.path = store, path
        store.groups[path] = self

    @dbus.service.method(BUSITEM, out_signature="v")
    def GetValue(self):
        return dbus.Dictionary({k: s.wrapped() for k, s in self.store.below(self.path).items()},
                               signature="sv", variant_level=1)

    @dbus.service.method(BUSITEM, out_signature="v")
    def GetText(self):
        return dbus.Dictionary({k: s.text() for k, s in self.store.below(self.path).items()},
                               signature="ss", variant_level=1)

    @dbus.service.method(BUSITEM, out_signature="a{sa{sv}}")
    def GetItems(self):
        if self.path != "/":
            raise dbus.exceptions.UnknownMethodException("GetItems is not a method here")
        return dbus.Dictionary({p: s.properties() for p, s in self.store.settings.items()},
                               signature="sa{sv}")

    @dbus.service.method(SETTINGS, in_signature="aa{sv}", out_signature="aa{sv}")
    def AddSettings(self, entries):
        if self.path != "/":  # the real one takes relative paths here
            raise dbus.exceptions.UnknownMethodException("AddSettings only on /")
        out = []
        for props in entries:
            result = {}
            out.append(result)
            path = props.get("path")
            if not isinstance(path, dbus.String):
                if path:
                    result["path"] = path
                result["error"] = dbus.Int32(INVALID_PATH)
                continue
            result["path"] = path
            default = props.get("default")
            if isinstance(default, (dbus.Int32, dbus.Int64)):
                typ = "i"
            elif isinstance(default, dbus.Double):
                typ = "f"
            elif isinstance(default, dbus.String):
                typ = "s"
            else:
                result["error"] = dbus.Int32(UNKNOWN_TYPE)
                continue
            error, s = self.store.add(str(path), default, typ, props.get("min"),
                                      props.get("max"), bool(props.get("silent")))
            if error:
                self.store.log(f"AddSettings {path} error={error}")
            result["error"] = dbus.Int32(error)
            if s is not None:
                result["value"] = s.wrapped()
        return out

    @dbus.service.method(SETTINGS, in_signature="as", out_signature="ai")
    def RemoveSettings(self, paths):
        out = []
        for p in paths:
            s = self.store.settings.get(str(p))
            if s is not None:
                self.store.remove(s)
            out.append(0 if s is not None else -1)
        self.store.save()
        return out


class Setting(dbus.service.Object):
    def __init__(self, store, path):
        super().__init__(store.bus, path)
        self.store, self.path = store, path
        self.type = self.value = self.default = self.min = self.max = None
        self.silent = False
        store.settings[path] = self

    def attributes(self, default, typ, lo, hi, silent):
        changed = (self.default, self.type, self.min, self.max, self.silent) != \
            (default, typ, lo, hi, silent)
        self.default, self.type, self.min, self.max, self.silent = \
            default, typ, lo, hi, silent
        return NO_ERROR, changed

    def wrapped(self):
        return wrap(self.type, self.value)

    def text(self):
        return dbus.String(self.value)

    def limit(self, v):
        return dbus.Int32(0) if v is None else wrap(self.type, v)

    def properties(self):
        p = {"Value": self.wrapped(), "Text": self.text()}
        for k, v in (("Max", self.max), ("Min", self.min), ("Default", self.default)):
            if v is not None:
                p[k] = wrap(self.type, v)
        return dbus.Dictionary(p, signature="sv")

    def assign(self, value, attributes=False):
        if self.type == "i" and not -0x80000000 <= value <= 0x7FFFFFFF:
            # the real service signals the plain int, which dbus-python
            # cannot marshal as int32: the call fails, the value stays
            self.value = value
            raise PyError("OverflowError", "int too large for int32")
        self.value = value
        change = {"Value": value, "Text": self.text()}
        if attributes:
            change["Default"] = wrap(self.type, self.default)
            if self.type != "s":
                change["Min"] = self.limit(self.min)
                change["Max"] = self.limit(self.max)
        self.PropertiesChanged(change)
        return True

    @dbus.service.method(BUSITEM, out_signature="v")
    def GetValue(self):
        return self.wrapped()

    @dbus.service.method(BUSITEM, out_signature="s")
    def GetText(self):
        return self.text()

    @dbus.service.method(BUSITEM, in_signature="v", out_signature="i")
    def SetValue(self, value):
        v = convert(self.type, value)
        ok = v is not None and not (self.min is not None and v < self.min) and \
            not (self.max is not None and v > self.max)
        if ok and v != self.value:
            ok = self.assign(v)
            self.store.save()
        self.store.log(f"SetValue {self.path} {value} result={0 if ok else -1}")
        return dbus.Int32(0 if ok else -1)

    @dbus.service.method(BUSITEM, out_signature="v")
    def GetMin(self):
        return self.limit(self.min)

    @dbus.service.method(BUSITEM, out_signature="v")
    def GetMax(self):
        return self.limit(self.max)

    @dbus.service.method(BUSITEM, out_signature="v")
    def GetDefault(self):
        return dbus.Int32(-1) if self.default is None else wrap(self.type, self.default)

    @dbus.service.signal(BUSITEM, signature="a{sv}")
    def PropertiesChanged(self, changes):
        pass


class Instance(Setting):
    """/Settings/Devices/<ident>/ClassAndVrmInstance: unique per class."""

    def attributes(self, default, typ, lo, hi, silent):
        if default is not None and class_instance(default) is None:
            return INVALID_DEFAULT, False
        return super().attributes(default, typ, lo, hi, silent)

    def assign(self, value, attributes=False):
        parsed = class_instance(value)
        if parsed is None:
            return False
        cls, n = parsed
        taken = self.store.taken(cls, self)
        while f"{cls}:{n}" in taken:
            n += 1
        return super().assign(f"{cls}:{n}", attributes)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--log", help="one line per call")
    ap.add_argument("--path", help="keep settings in DIR/settings.json")
    args = ap.parse_args()
    DBusGMainLoop(set_as_default=True)
    bus = dbus.SessionBus() if "DBUS_SESSION_BUS_ADDRESS" in os.environ \
        else dbus.SystemBus()
    store = Store(bus, args)
    store.load()
    bus.request_name("com.victronenergy.settings", dbus.bus.NAME_FLAG_DO_NOT_QUEUE)
    loop = GLib.MainLoop()
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, 15, loop.quit)
    loop.run()


main()
