#!/usr/bin/python3
"""A real Waveshare 2-CH-CAN-TO-ETH client: can-waveshare's bus class on Debian's python3-can (4.1).

The client is not part of this repository: its source directory (a checkout of
kstaniek/python-can-waveshare-eth, the one holding can_waveshare/) comes from the
environment variable CAN_WAVESHARE_SRC.

usage: python-can-waveshare.py HOST PORT [--send ID#HEX | ID#R<len>]... [--recv N] [--timeout S]
  ID#HEX   3 hex digits = standard id, 8 = extended (candump style); HEX may be empty
  ID#R2    a remote request for 2 bytes
Prints one JSON object per line: connected, sent, rx (id, ext, rtr, dlc, data), done.
"""
import json
import os
import sys
import time

sys.path.insert(0, os.environ["CAN_WAVESHARE_SRC"])

import can  # noqa: E402
from can_waveshare import WaveShareBus  # noqa: E402


def emit(obj):
    print(json.dumps(obj), flush=True)


def message(spec):
    ident, data = spec.split("#")
    ext = len(ident) == 8
    if data.startswith("R"):
        return can.Message(arbitration_id=int(ident, 16), is_extended_id=ext, is_remote_frame=True, dlc=int(data[1:] or "0"))
    return can.Message(arbitration_id=int(ident, 16), is_extended_id=ext, data=bytes.fromhex(data))


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    sends, want, timeout = [], 0, 5.0
    args = sys.argv[3:]
    while args:
        flag, value = args[0], args[1]
        args = args[2:]
        if flag == "--send":
            sends.append(message(value))
        elif flag == "--recv":
            want = int(value)
        elif flag == "--timeout":
            timeout = float(value)
    # As Home Assistant's Ampio integration opens it: host and port, nothing else.
    bus = WaveShareBus(host=host, port=port)
    emit({"ev": "connected", "version": can.__version__})
    for msg in sends:
        bus.send(msg)
        emit({"ev": "sent", "id": msg.arbitration_id})
    got = 0
    deadline = time.monotonic() + timeout
    while got < want and time.monotonic() < deadline:
        msg = bus.recv(timeout=max(0.01, deadline - time.monotonic()))
        if msg is None:
            continue
        got += 1
        emit({"ev": "rx", "id": msg.arbitration_id, "ext": msg.is_extended_id, "rtr": msg.is_remote_frame, "dlc": msg.dlc, "data": bytes(msg.data).hex()})
    # Let the server read what was sent before the socket closes.
    time.sleep(0.2)
    bus.shutdown()
    emit({"ev": "done", "count": got})


if __name__ == "__main__":
    main()
