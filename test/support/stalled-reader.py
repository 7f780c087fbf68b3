"""A cannelloni client that stops reading, as a paused Home Assistant or a sleeping laptop
does, with a small receive buffer (SO_RCVBUF) so that what its own kernel holds is small and
measurable. Reads the virtual bus's `sequence` payload (bytes 0-3 sequence number, 4-7 send
time in µs, low 32 bits of the wall clock).

usage: stalled-reader.py PORT READ_S STALL_S RESUME_S RCVBUF
Prints one JSON object: the frames after resuming (seq, age_ms) and what was in flight when it
resumed (its kernel's receive queue, the bridge's send queue, from /proc/net/tcp)."""
import json
import socket
import sys
import time

port, read_s, stall_s, resume_s, rcvbuf = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])


def proc_queues(local_port, remote_port):
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(name) as f:
            for line in f.readlines()[1:]:
                c = line.split()
                lp = int(c[1].rsplit(":", 1)[1], 16)
                rp = int(c[2].rsplit(":", 1)[1], 16)
                if lp == local_port and rp == remote_port:
                    tx, rx = (int(x, 16) for x in c[4].split(":"))
                    return tx, rx
    return None, None


s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
s.connect(("127.0.0.1", port))
s.sendall(b"CANNELLONIv1")
buf = b""
hello = False
frames = []


def read_for(seconds, keep):
    global buf, hello
    end = time.time() + seconds
    s.settimeout(0.05)
    while time.time() < end:
        try:
            d = s.recv(65536)
        except socket.timeout:
            continue
        if not d:
            return True
        buf += d
        if not hello:
            if len(buf) < 12:
                continue
            hello = True
            buf = buf[12:]
        now_us = int(time.time() * 1e6) & 0xFFFFFFFF
        n = len(buf) // 13
        for k in range(n):
            f = buf[13 * k : 13 * k + 13]
            seq = int.from_bytes(f[5:9], "big")
            sent = int.from_bytes(f[9:13], "big")
            age = (now_us - sent) & 0xFFFFFFFF
            if age >= 0x80000000:
                age -= 0x100000000
            if keep:
                frames.append((seq, age / 1000.0))
        buf = buf[13 * n :]
    return False


read_for(read_s, False)
local = s.getsockname()[1]
# Stalled: nothing is read.
time.sleep(stall_s)
bridge_tx, _ = proc_queues(port, local)
_, client_rx = proc_queues(local, port)
in_flight = {"client_rx": client_rx or 0, "bridge_tx": bridge_tx or 0, "pending_bytes": len(buf)}
read_for(resume_s, True)
print(json.dumps({"frames": frames, "in_flight": in_flight, "rcvbuf": s.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)}))
