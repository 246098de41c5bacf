#!/usr/bin/python3
"""An independent Modbus slave for the tests: pymodbus (Debian's
python3-pymodbus), zero_mode, serving tests/peers/types.csv's registers with
known values for every type and word order.

usage: pymodbus_server.py (--tcp PORT | --rtu DEVICE) [--units 1,5]"""
import argparse
import logging
import struct

from pymodbus.datastore import (ModbusSequentialDataBlock,
                                ModbusServerContext, ModbusSlaveContext)
from pymodbus.server import StartSerialServer, StartTcpServer
from pymodbus.transaction import ModbusRtuFramer


def words(fmt, value):
    """Pack a value big-endian and split it into 16-bit registers."""
    raw = struct.pack(">" + fmt, value)
    return [int.from_bytes(raw[i:i + 2], "big") for i in range(0, len(raw), 2)]


def input_registers():
    regs = [0] * 40
    regs[0] = 1234                                  # u16
    regs[1:2] = words("h", -2)                      # s16
    regs[2:4] = words("I", 74565)                   # u32, high word first
    regs[4:6] = list(reversed(words("I", 74565)))   # u32le, low word first
    regs[6:8] = words("i", -100000)                 # s32
    regs[8:10] = words("f", 230.5)                  # f32
    text = b"ABC123\0\0\0\0"                        # str:5, NUL padded
    regs[10:15] = [int.from_bytes(text[i:i + 2], "big") for i in range(0, 10, 2)]
    regs[15:19] = words("Q", 2**40 + 5)             # u64
    regs[19:23] = words("q", -3)                    # s64
    regs[23] = 2301                                 # u16 x 0.1 = 230.1
    regs[24] = 65535                                # the invalid raw value
    regs[25] = 3                                    # enum: fault
    regs[26:28] = list(reversed(words("i", -7)))    # s32le
    return regs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tcp", type=int)
    ap.add_argument("--rtu")
    ap.add_argument("--units", default="1")
    args = ap.parse_args()
    logging.basicConfig(level=logging.CRITICAL)
    slaves = {}
    for unit in (int(u) for u in args.units.split(",")):
        holding = [0] * 40
        holding[0] = 42
        holding[1] = unit
        slaves[unit] = ModbusSlaveContext(
            ir=ModbusSequentialDataBlock(0, input_registers()),
            hr=ModbusSequentialDataBlock(0, holding),
            zero_mode=True)
    context = ModbusServerContext(slaves=slaves, single=False)
    if args.tcp:
        StartTcpServer(context=context, address=("127.0.0.1", args.tcp))
    else:
        StartSerialServer(context=context, framer=ModbusRtuFramer,
                          port=args.rtu, baudrate=9600, timeout=0.05)


main()
