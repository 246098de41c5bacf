#!/usr/bin/python3
"""A Python Modbus driver with the field's bug (the dbus-growatt case): it
polls an inverter with pymodbus and keeps the traceback of every failed
poll, so its heap grows only while the inverter is offline.

usage: pydriver.py PORT SECONDS [INTERVAL]"""
import sys
import time
import traceback

from pymodbus.client import ModbusTcpClient

port = int(sys.argv[1])
seconds = float(sys.argv[2])
interval = float(sys.argv[3]) if len(sys.argv) > 3 else 0.2
failures = []  # the bug: what every failed poll left behind
client = ModbusTcpClient("127.0.0.1", port=port, timeout=1, retries=0)
start = time.monotonic()
while time.monotonic() - start < seconds:
    try:
        if not client.connected:
            client.connect()
        rr = client.read_input_registers(0, 2, slave=1)
        if rr.isError():
            raise IOError(str(rr))
    except Exception:
        failures.append((traceback.format_exc(), bytearray(512 * 1024)))
        client.close()
    time.sleep(interval)
