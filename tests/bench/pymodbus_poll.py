#!/usr/bin/python3
"""The Python way to poll a block: pymodbus's client in a loop.
usage: pymodbus_poll.py PORT COUNT INTERVAL_S  (prints one JSON line per poll)"""
import json
import sys
import time

from pymodbus.client import ModbusTcpClient

port, count, interval = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
client = ModbusTcpClient("127.0.0.1", port=port, timeout=1)
client.connect()
next_t = time.monotonic()
for _ in range(count):
    t0 = time.monotonic()
    rr = client.read_input_registers(0, 50, slave=1)
    ok = not rr.isError()
    print(json.dumps({"ts": round(time.time(), 3), "ok": ok,
                      "latency_ms": round((time.monotonic() - t0) * 1000, 1),
                      "values": rr.registers if ok else None}), flush=True)
    if interval > 0:
        next_t += interval
        time.sleep(max(0, next_t - time.monotonic()))
client.close()
