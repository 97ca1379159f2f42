#!/usr/bin/env python3
"""An independent Modbus RTU server for tests: pymodbus serving an Eastron SDM630's input registers.

Values are encoded here with Python's struct module (float32, most significant word first, as the SDM630
protocol V1.7 specifies), independently of sitegate's own encoder and simulator.

Usage: pymodbus_sdm630.py SERIAL_DEVICE UNIT
Prints "serving DEVICE" once ready. The values are printed as JSON on the next line.
"""
import json
import struct
import sys

from pymodbus.datastore import ModbusSequentialDataBlock, ModbusServerContext, ModbusSlaveContext
from pymodbus.server import StartSerialServer
from pymodbus.transaction import ModbusRtuFramer

# Wire address -> value, from the SDM630 V1.7 register table.
VALUES = {
    0x0000: 229.8,  # voltage_l1
    0x0002: 231.4,  # voltage_l2
    0x0004: 230.6,  # voltage_l3
    0x0006: 12.25,  # current_l1
    0x0008: 8.5,  # current_l2
    0x000A: 10.75,  # current_l3
    0x000C: 2815.0,  # power_l1
    0x000E: 1966.9,  # power_l2
    0x0010: 2478.9,  # power_l3
    0x0034: 7260.8,  # power
    0x0046: 49.98,  # frequency
    0x0048: 123456.7,  # energy_import
    0x004A: 321.5,  # energy_export
    0x004C: 4567.8,  # reactive_energy_import
    0x004E: 12.3,  # reactive_energy_export
}


def registers():
    words = [0] * 0x60
    for address, value in VALUES.items():
        high, low = struct.unpack(">HH", struct.pack(">f", value))
        words[address] = high
        words[address + 1] = low
    return words


def main():
    device, unit = sys.argv[1], int(sys.argv[2])
    store = ModbusSlaveContext(ir=ModbusSequentialDataBlock(0, registers()), zero_mode=True)
    context = ModbusServerContext(slaves={unit: store}, single=False)
    print(f"serving {device}", flush=True)
    print(json.dumps({f"0x{a:04X}": v for a, v in VALUES.items()}), flush=True)
    StartSerialServer(context=context, framer=ModbusRtuFramer, port=device, baudrate=9600, bytesize=8,
                      parity="N", stopbits=1, timeout=0.05)


if __name__ == "__main__":
    main()
