#!/usr/bin/python3
"""A real socketcand client: Debian's python3-can (4.1) driven from the tests.

usage: python-can-socketcand.py HOST PORT CHANNEL [--send ID#HEX]... [--recv N] [--timeout S]
  ID#HEX   3 hex digits = standard id, 8 = extended (candump style); HEX may be empty
Prints one JSON object per line: connected, sent, rx (id, ext, data, ts), done.
"""
import json
import sys
import time

import can


def emit(obj):
    print(json.dumps(obj), flush=True)


def main():
    host, port, channel = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    sends, want, timeout = [], 0, 5.0
    args = sys.argv[4:]
    while args:
        flag, value = args[0], args[1]
        args = args[2:]
        if flag == "--send":
            ident, data = value.split("#")
            sends.append(can.Message(arbitration_id=int(ident, 16), is_extended_id=len(ident) == 8, data=bytes.fromhex(data)))
        elif flag == "--recv":
            want = int(value)
        elif flag == "--timeout":
            timeout = float(value)
    bus = can.Bus(interface="socketcand", host=host, port=port, channel=channel)
    emit({"ev": "connected", "version": can.__version__})
    for msg in sends:
        bus.send(msg)
        emit({"ev": "sent", "id": msg.arbitration_id, "ext": msg.is_extended_id, "data": msg.data.hex()})
    got = 0
    deadline = time.monotonic() + timeout
    while got < want and time.monotonic() < deadline:
        msg = bus.recv(timeout=max(0.01, deadline - time.monotonic()))
        if msg is None:
            continue
        got += 1
        emit({"ev": "rx", "id": msg.arbitration_id, "ext": msg.is_extended_id, "data": msg.data.hex(), "ts": msg.timestamp})
    # Let the server read what was sent before the socket closes.
    time.sleep(0.2)
    bus.shutdown()
    emit({"ev": "done", "count": got})


if __name__ == "__main__":
    main()
