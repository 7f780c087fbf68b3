#!/usr/bin/env bash
# Builds prebuilds/<platform-arch>/ampio-can.glibc.napi.node for linux-x64, linux-arm64 and
# linux-arm (ARMv6 hard-float: Pi Zero/1 and every later Pi), so a Pi installs the bridge
# without a compiler. Runs at `npm pack` time (prepack) and for the repo's own x64 build.
#
# A Node-API addon links against nothing of Node's: its napi_* and uv_* symbols resolve
# from the node binary at load time. So a plain cross gcc is all it takes: no node-gyp,
# no header download. Headers: Node-API from the npm package node-api-headers, libuv's
# from Debian's libuv1-dev (uv_poll_t is ABI-stable across libuv 1.x).
# Cross compilers: Debian's gcc-aarch64-linux-gnu and gcc-arm-linux-gnueabihf.
#
# Usage: prebuild.sh [x64] [arm64] [arm]     (default: all three)
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../../../.." && pwd)
SRC="$HERE/ampio_can.c"
NAPI_INC=$(cd "$ROOT" && node -p "require('node-api-headers').include_dir" 2>/dev/null) ||
  { echo "prebuild: node-api-headers is missing: run npm ci" >&2; exit 1; }
UV_INC=${UV_INCLUDE:-/usr/include}
[ -f "$UV_INC/uv.h" ] || { echo "prebuild: $UV_INC/uv.h missing: apt-get install libuv1-dev" >&2; exit 1; }
# Only uv.h itself comes from there: a private dir keeps the host's other headers out of
# a cross build.
inc=$(mktemp -d)
trap 'rm -rf "$inc"' EXIT
cp "$UV_INC/uv.h" "$inc/" && cp -r "$UV_INC/uv" "$inc/"

build() { # arch cc flags...
  local arch=$1 cc=$2
  shift 2
  command -v "$cc" >/dev/null || { echo "prebuild: $cc not found (Debian package: $(pkg_of "$arch"))" >&2; return 1; }
  # The cross C library is only a Recommends of the cross gcc: name it before gcc fails on
  # "bits/libc-header-start.h: No such file or directory".
  local triple=${cc%-gcc}
  [ "$arch" = x64 ] || [ -f "/usr/$triple/include/stdio.h" ] ||
    { echo "prebuild: /usr/$triple/include/stdio.h missing (Debian package: $(libc_of "$arch"))" >&2; return 1; }
  local out="$ROOT/prebuilds/linux-$arch" tmp="$ROOT/node_modules/.cache/ampio-prebuild/linux-$arch.node"
  mkdir -p "$out" "$(dirname "$tmp")"
  # -nostartfiles: no crti/crtbegin objects from the (ARMv7) toolchain in an ARMv6 build;
  # the loader still runs .init_array, which is all Node-API registration needs.
  "$cc" -shared -fPIC -O2 -std=gnu11 -Wall -Wextra -Wno-unused-parameter -fvisibility=hidden \
    -nostartfiles -DNODE_GYP_MODULE_NAME=ampio_can -DBUILDING_NODE_EXTENSION \
    -I "$NAPI_INC" -I "$inc" "$@" -o "$tmp" "$SRC"
  # built outside prebuilds/ and renamed in: an npm pack running meanwhile never sees half a file
  mv "$tmp" "$out/ampio-can.glibc.napi.node"
  echo "prebuild: prebuilds/linux-$arch/ampio-can.glibc.napi.node" >&2
}
libc_of() { case $1 in arm64) echo libc6-dev-arm64-cross ;; arm) echo libc6-dev-armhf-cross ;; esac; }
pkg_of() { case $1 in x64) echo gcc ;; arm64) echo gcc-aarch64-linux-gnu ;; arm) echo gcc-arm-linux-gnueabihf ;; esac; }

targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(x64 arm64 arm)
for t in "${targets[@]}"; do
  case $t in
    x64) build x64 "${CC_X64:-x86_64-linux-gnu-gcc}" ;;
    arm64) build arm64 "${CC_ARM64:-aarch64-linux-gnu-gcc}" ;;
    arm) build arm "${CC_ARM:-arm-linux-gnueabihf-gcc}" -march=armv6 -mfpu=vfp -mfloat-abi=hard -marm ;;
    *) echo "prebuild: unknown target $t (x64, arm64, arm)" >&2; exit 2 ;;
  esac
done
