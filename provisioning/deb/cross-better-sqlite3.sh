#!/usr/bin/env bash
# Cross-compiles better-sqlite3's native module (node_modules/better-sqlite3: its C++ binding
# and the SQLite amalgamation it vendors) for linux-arm64 or linux-arm (ARMv6 hard-float:
# every Raspberry Pi), so `npm run deb` can put capture into the arm packages.
#
# better-sqlite3 is not Node-API: it compiles against V8's C++ headers and loads only into
# the Node whose NODE_MODULE_VERSION it was built for. So the headers are the installed
# Node's own (/usr/include/node, Node 20 = NODE_MODULE_VERSION 115, what NodeSource's
# Node 20 on a Pi has); a test may point NODE_INCLUDE at another Node's headers.
#
# The compile mirrors what node-gyp does with better-sqlite3's binding.gyp, deps/sqlite3.gyp
# and deps/common.gypi (read from the installed package, not copied): SQLite's compile-time
# options from deps/defines.gypi, -O3, C++20 without RTTI/exceptions, node-gyp's ABI defines
# (_FILE_OFFSET_BITS=64 matters on 32-bit arm), -Bsymbolic and --exclude-libs,ALL.
#
# What a C++ addon pulls in beyond its own code (the armhf toolchain is ARMv7/Thumb-2 by
# default, a Pi Zero/1 is ARMv6):
#   - crti/crtbegin/crtend start files: left out (-nostartfiles, as the SocketCAN addon);
#     the one thing of theirs C++ needs is __dso_handle (for __cxa_atexit), defined below.
#   - libstdc++, libm, libc, libgcc_s: linked dynamically, so the Pi's own (ARMv6) copies run.
#   - libgcc.a: static helpers (64-bit division …) the linker takes only when libgcc_s does
#     not export them; whatever it takes is checked by the ELF attribute test below, which
#     fails the build if any ARMv7 or Thumb-2 object got in.
# Then the result is checked: ELF machine, ARM attributes, NEEDED libraries, and symbol
# versions no newer than Debian 12 / Raspberry Pi OS Bookworm ship (glibc 2.36, GCC 12).
#
# Usage: cross-better-sqlite3.sh arm64|arm OUT.node     (env NODE_INCLUDE, default /usr/include/node)
# Objects are cached under node_modules/.cache/ampio-deb/, keyed by inputs and flags.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
arch=${1:?usage: cross-better-sqlite3.sh arm64|arm OUT.node}
out=${2:?usage: cross-better-sqlite3.sh arm64|arm OUT.node}
NODE_INCLUDE=${NODE_INCLUDE:-/usr/include/node}
PKG="$ROOT/node_modules/better-sqlite3"
CACHE="$ROOT/node_modules/.cache/ampio-deb"

fail() { echo "cross-better-sqlite3: $*" >&2; exit 1; }
case $arch in
  arm64) triple=aarch64-linux-gnu machine=AArch64 debpkg=g++-aarch64-linux-gnu libcdev=libc6-dev-arm64-cross archflags=() ;;
  arm) triple=arm-linux-gnueabihf machine=ARM debpkg=g++-arm-linux-gnueabihf libcdev=libc6-dev-armhf-cross archflags=(-march=armv6 -mfpu=vfp -mfloat-abi=hard -marm) ;;
  *) fail "unknown target $arch (arm64, arm)" ;;
esac
# CXX_ARM64 / CXX_ARM name another compiler (a test points one at nothing to see the message).
CC=$triple-gcc
if [ "$arch" = arm64 ]; then CXX=${CXX_ARM64:-$triple-g++}; else CXX=${CXX_ARM:-$triple-g++}; fi
command -v "$CXX" >/dev/null || fail "$CXX not found: apt-get install $debpkg"
[ -f "/usr/$triple/include/stdio.h" ] || fail "/usr/$triple/include/stdio.h missing: apt-get install $libcdev"
[ -f "$NODE_INCLUDE/node.h" ] && [ -f "$NODE_INCLUDE/v8.h" ] || fail "$NODE_INCLUDE/node.h or v8.h missing: install Node 20's headers (NodeSource's nodejs ships them in /usr/include/node)"
[ -f "$PKG/deps/sqlite3/sqlite3.c" ] && [ -f "$PKG/src/better_sqlite3.cpp" ] || fail "$PKG has no sources: run npm ci"
command -v readelf >/dev/null || fail "readelf not found: apt-get install binutils"

# SQLite's options exactly as better-sqlite3 builds it (its generated deps/defines.gypi).
mapfile -t sqlite_defs < <(grep -oE "^\s*'[A-Z_0-9]+(=[^']*)?'," "$PKG/deps/defines.gypi" | sed -E "s/^\s*'(.*)',$/-D\1/")
[ ${#sqlite_defs[@]} -gt 10 ] || fail "could not read SQLite's options from $PKG/deps/defines.gypi"
# -ffile-prefix-map: __FILE__ strings name better-sqlite3/…, not this checkout's path, so the
# same sources and compiler give the same bytes in any clone (checked: two clones, one sha256).
common=(-ffile-prefix-map="$PKG"=better-sqlite3 -fPIC -pthread -O3 -fno-omit-frame-pointer -DNDEBUG -D_FILE_OFFSET_BITS=64 -D_LARGEFILE_SOURCE -D__STDC_FORMAT_MACROS "${archflags[@]}")
cflags=("${common[@]}" -std=c99 -w "${sqlite_defs[@]}")
cxxflags=("${common[@]}" -std=c++20 -fno-rtti -fno-exceptions -Wno-deprecated-declarations
  -DNODE_GYP_MODULE_NAME=better_sqlite3 -DUSING_UV_SHARED=1 -DUSING_V8_SHARED=1 -DV8_DEPRECATION_WARNINGS=1
  -D_GLIBCXX_USE_CXX11_ABI=1 -DBUILDING_NODE_EXTENSION -DOPENSSL_NO_PINSHARED -DOPENSSL_THREADS
  -I "$NODE_INCLUDE" -I "$PKG/deps/sqlite3")

mkdir -p "$CACHE/$arch"
key() { { "$CXX" --version | head -1; printf '%s\n' "$@"; } | sha256sum | cut -c1-16; }
# sqlite3.c does not depend on Node: one object serves every Node's build.
sqlite_o="$CACHE/$arch/sqlite3-$(key "${cflags[@]}" "$(sha256sum <"$PKG/deps/sqlite3/sqlite3.c")").o"
if [ ! -f "$sqlite_o" ]; then
  echo "cross-better-sqlite3: compiling SQLite for linux-$arch (a minute or two)" >&2
  "$CC" "${cflags[@]}" -c "$PKG/deps/sqlite3/sqlite3.c" -o "$sqlite_o.tmp" && mv "$sqlite_o.tmp" "$sqlite_o"
fi
# As an archive, as node-gyp links it: --exclude-libs,ALL then keeps SQLite's symbols private.
sqlite_a="${sqlite_o%.o}.a"
[ -f "$sqlite_a" ] || { "$triple-ar" rcsD "$sqlite_a.tmp" "$sqlite_o" && mv "$sqlite_a.tmp" "$sqlite_a"; }
srchash=$(cat "$PKG"/src/*.cpp "$PKG"/src/*/*.cpp "$PKG/deps/sqlite3/sqlite3.h" "$NODE_INCLUDE"/*.h | sha256sum)
binding_o="$CACHE/$arch/better_sqlite3-$(key "${cxxflags[@]}" "$srchash").o"
if [ ! -f "$binding_o" ]; then
  echo "cross-better-sqlite3: compiling the binding for linux-$arch against $NODE_INCLUDE" >&2
  "$CXX" "${cxxflags[@]}" -c "$PKG/src/better_sqlite3.cpp" -o "$binding_o.tmp" && mv "$binding_o.tmp" "$binding_o"
fi
dso="$CACHE/$arch/dso-handle.o"
# crtbeginS.o's one definition C++ static destructors need (hidden: each object has its own).
echo '__attribute__((visibility("hidden"))) void *__dso_handle = &__dso_handle;' |
  "$CC" -x c -fPIC "${archflags[@]}" -c - -o "$dso"

tmp="$out.tmp"
mkdir -p "$(dirname "$out")"
"$CXX" -shared -nostartfiles -pthread "${archflags[@]}" -Wl,-Bsymbolic -Wl,--exclude-libs,ALL -Wl,--as-needed \
  -o "$tmp" "$binding_o" "$dso" "$sqlite_a"
"$triple-strip" --strip-unneeded "$tmp"

# The checks that make "it runs on a Pi" more than a hope.
hdr=$(readelf -h "$tmp")
grep -q "Machine:.*$machine" <<<"$hdr" || fail "$tmp is not $machine code"
if [ "$arch" = arm ]; then
  attrs=$(readelf -A "$tmp")
  grep -qE 'Tag_CPU_arch: v6$' <<<"$attrs" || fail "$tmp is not ARMv6 code (an ARMv7 object from the toolchain got in?): $(grep Tag_CPU_arch <<<"$attrs")"
  ! grep -q 'Thumb-2' <<<"$attrs" || fail "$tmp holds Thumb-2 code"
  grep -q 'Tag_ABI_VFP_args: VFP registers' <<<"$attrs" || fail "$tmp is not hard-float"
fi
needed=$(readelf -d "$tmp" | sed -nE 's/.*\(NEEDED\).*\[(.*)\]/\1/p' | sort | tr '\n' ' ')
for lib in $needed; do
  case $lib in libstdc++.so.6 | libm.so.6 | libc.so.6 | libgcc_s.so.1 | ld-linux-*) ;; *) fail "$tmp needs $lib" ;; esac
done
# Debian 12 / Pi OS Bookworm: glibc 2.36, libstdc++ of GCC 12 (GLIBCXX_3.4.30, CXXABI_1.3.13).
vers=$(readelf -V "$tmp" | grep -oE '(GLIBC|GLIBCXX|CXXABI)_[0-9.]+' | sort -u)
while read -r v; do
  [ -n "$v" ] || continue
  n=${v#*_}
  case $v in
    GLIBC_*) max=2.36 ;; GLIBCXX_*) max=3.4.30 ;; CXXABI_*) max=1.3.13 ;;
  esac
  [ "$(printf '%s\n%s\n' "$n" "$max" | sort -V | tail -1)" = "$max" ] || fail "$tmp needs $v, newer than Debian 12 has"
done <<<"$vers"
syms=$(readelf --dyn-syms -W "$tmp")
grep -qE ' node_register_module_v[0-9]+$' <<<"$syms" || fail "$tmp does not register a Node module"
mv "$tmp" "$out"
echo "cross-better-sqlite3: $out (linux-$arch, $(grep -oE 'NODE_MODULE_VERSION [0-9]+' "$NODE_INCLUDE/node_version.h" | head -1), needs: $needed)" >&2
