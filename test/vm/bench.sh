#!/usr/bin/env bash
# VM benchmark of the SocketCAN path: the bridge vs the real cannelloni 2.1.2 (when
# CANNELLONI=/path/to/cannelloni is set; "skipped" otherwise), inside the CAN VM
# (test/vm/canvm.sh), one boot. Needs `npm run build` first.
# Env: BENCH_WARMUP (2000 frames before the measured burst) BENCH_BRIDGE_VARIANTS ("--can-rx-coalesce 0;" = two bridge rows) BENCH_FRAMES (20000) BENCH_GAP_MS (0.1, cangen -g) BENCH_CLIENTS (1,32) BENCH_RUNS (1)
#      BENCH_PROFILE_DIR (the bridge writes a V8 CPU profile there; a host dir, e.g. under the repo)
# Usage: flock /tmp/ampio-vm.lock bash test/vm/bench.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -f dist/test/vm/guest/bench-socketcan.js ] || { echo "bench: run npm run build first" >&2; exit 2; }
if [ -n "${CANNELLONI:-}" ]; then CANNELLONI=$(realpath "$CANNELLONI"); export CANNELLONI; fi
export CANVM_VCAN_MTU=16 CANVM_TIMEOUT=${CANVM_TIMEOUT:-1800}
exec bash test/vm/canvm.sh -- node dist/test/vm/guest/bench-socketcan.js
