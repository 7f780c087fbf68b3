#!/usr/bin/env bash
# native.sh - run a command with real SocketCAN on THIS kernel, inside a private network
# namespace (so the host's own CAN interfaces are never touched), with vcan0 and vcan1 up,
# like test/vm/canvm.sh does in a VM. Needs the vcan and can-raw modules loaded on the host.
#
# Usage: native.sh --check          exit 0 if this kernel can do it (vcan creatable in a netns)
#        native.sh [--] CMD [ARG...] run CMD in the namespace, exit with its status
# Env:   CANVM_VCAN="vcan0 vcan1"  CANVM_VCAN_MTU=16 (72 = CAN FD)   (same names as canvm.sh)
#        CANVM_VCAN_ECHO is not settable here (a module parameter of the host's vcan).
set -euo pipefail

# root: a plain network namespace; anyone else: a user namespace that maps them to root
ns=(unshare --net)
[ "$(id -u)" = 0 ] || ns=(unshare --user --map-root-user --net)

case ${1:-} in
  --check)
    [ -d /sys/module/vcan ] && [ -d /sys/module/can_raw ] || { echo "native: vcan/can_raw modules not loaded" >&2; exit 1; }
    "${ns[@]}" ip link add dev vcan0 type vcan 2>/dev/null || { echo "native: cannot create a vcan in a network namespace" >&2; exit 1; }
    exit 0 ;;
  --) shift ;;
esac
[ $# -gt 0 ] || { echo "native: no command given" >&2; exit 2; }

export CANVM_NATIVE=1
exec "${ns[@]}" bash -c '
  set -e
  ip link set lo up
  for i in ${CANVM_VCAN:-vcan0 vcan1}; do
    ip link add dev "$i" type vcan
    ip link set "$i" mtu "${CANVM_VCAN_MTU:-16}" up
  done
  exec "$@"' native "$@"
