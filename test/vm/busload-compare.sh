#!/bin/sh
# Guest side of the VM suite's bus-load check: the same frames, the same bitrate,
# counted by Debian's `canbusload -e` and by our src/core/bus-load.ts; they must agree.
# Runs as root inside the CAN VM (real SocketCAN, vcan0 up), from the repository root,
# after `npm run build`. Usage: test/vm/busload-compare.sh [IFACE] [BITRATE]
# Exit 0 when every run agrees (frames and bits equal, load within 1 percentage point).
set -eu
IFACE=${1:-vcan0}
BITRATE=${2:-50000}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

ip link set "$IFACE" up

# One run: start both listeners, let canbusload open its socket and tick once, send the
# frames with cangen at a fixed rate, then wait until canbusload has printed the interval
# that holds the last frame (it drops the running interval when stopped), and compare.
run() { # name cangen-args...
  name=$1; shift
  canbusload -e "$IFACE@$BITRATE" > "$TMP/$name.cbl" &
  cbl=$!
  candump -L "$IFACE" > "$TMP/$name.dump" &
  dump=$!
  sleep 1.3
  cangen "$IFACE" "$@"
  sleep 2.2
  kill -INT "$cbl" "$dump" 2>/dev/null || true
  wait "$cbl" "$dump" 2>/dev/null || true
  printf '%-28s ' "$name"
  node "$ROOT/test/vm/busload-compare.mjs" "$TMP/$name.cbl" "$TMP/$name.dump" "$BITRATE" "$IFACE"
}

status=0
# 100 standard 8-byte frames/s with random IDs and data (the shape of the 50 kbit/s load example)
run std-8byte-random -g 10 -n 300 -L 8 -D r -I r || status=1
# extended IDs, random lengths 0..8 and data
run ext-random -e -g 10 -n 300 -L r -D r -I r || status=1
# all-zero payloads (long dominant runs: many stuff bits), fixed ID
run std-zeros -g 5 -n 400 -I 123 -L 8 -D 0000000000000000 || status=1
# incrementing IDs and payloads, near saturation at 50 kbit/s (~330 fps of ~120 bits)
run std-increment-busy -g 3 -n 900 -I i -L 8 -D i || status=1
exit $status
