#!/usr/bin/env bash
# Guest side of the SocketCAN suite: runs every guest check in turn inside ONE VM boot
# (test/vm/canvm.sh) or the native namespace (test/vm/native.sh), from the repository root,
# after `npm run build`. Each program prints `@@check {json}` lines; this script adds one
# `@@exit NAME STATUS` line per program. test/vm/socketcan.vm.test.ts parses both.
cd "$(dirname "$0")/../.." || exit 125
run() { # name command...
  local name=$1 t0 rc=0
  shift
  t0=$(date +%s.%N)
  "$@" || rc=$?
  echo "@@exit $name $rc $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')"
}
run socketcan-backend node dist/test/vm/guest/socketcan-backend.js
run socketcan-daemon node dist/test/vm/guest/socketcan-daemon.js
# issue 4: our bus-load bit counts against Debian's canbusload -e on the same frames
run busload-compare bash test/vm/busload-compare.sh vcan0 50000
# issue 27: the real cannelloni 2.1.2 (CANNELLONI=...) over UDP and as the server the bridge dials
run cannelloni-peer node dist/test/vm/guest/cannelloni-peer.js
