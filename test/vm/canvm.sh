#!/usr/bin/env bash
# canvm.sh - run a command inside a throwaway QEMU VM that has real Linux SocketCAN.
# (ampio-bridge's own copy of the team's canvm recipe, so a clean clone runs the VM suite;
#  test/vm/socketcan.vm.test.ts boots it once per suite.)
#
# The VM boots Debian's stock kernel (package linux-image-amd64) from a tiny busybox
# initramfs, mounts THIS machine's root filesystem read-only over 9p under a tmpfs
# overlay (so writes succeed but are discarded), makes the current directory writable
# and host-backed, loads the CAN modules, brings up vcan0 and vcan1, runs COMMAND as
# root in the same directory, streams its stdout/stderr back and exits with its status.
# The VM has no network device (only its own loopback).
#
# Usage: canvm.sh [--] COMMAND [ARG...]    run COMMAND in the VM
#        canvm.sh --setup                  install host packages and build the cache (else done on first run)
#        canvm.sh --rebuild                rebuild the cache (e.g. to pick up a newer Debian kernel)
#        canvm.sh --check                  exit 0 if a VM can be booted here (packages + cache), else say why
# Env:   CANVM_CACHE (default ~/.cache/ampio-bridge-canvm)  CANVM_ACCEL=auto|kvm|tcg  CANVM_MEM=1024 (MiB)  CANVM_SMP=2  CANVM_TIMEOUT=900 (s)
#        CANVM_RW="dir..."   host dirs made writable in the guest (default: the current dir)
#        CANVM_VCAN="vcan0 vcan1"  CANVM_VCAN_MTU=16 (72 = CAN FD)  CANVM_VERBOSE=1
#        CANVM_VCAN_ECHO=1   load vcan with echo=1 (frames reach readers after the qdisc, so tc shaping applies)
# In the guest stdin is /dev/null and CANVM=1 is set; the host's exported environment is copied.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# Kernel and initramfs are built from Debian packages into this cache, never into the repo.
CACHE=${CANVM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ampio-bridge-canvm}
# Modules put in the initramfs (dependencies are added automatically), loaded in this order.
MODULES="virtio_pci virtio-rng 9pnet_virtio 9p overlay can can-raw can-bcm can-gw can-isotp can-j1939
         vcan vxcan sch_tbf sch_netem veth"

log() { printf 'canvm: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 125; }

# ---------------------------------------------------------------- setup (host packages + cache)
install_host_packages() {
  local need=()
  command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
  # must be the static busybox: it runs alone in the initramfs
  dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q ' installed' || need+=(busybox-static)
  command -v xz >/dev/null || need+=(xz-utils)
  command -v candump >/dev/null || need+=(can-utils)
  [ ${#need[@]} -eq 0 ] && return 0
  [ "$(id -u)" = 0 ] || die "missing packages: ${need[*]} (apt-get install them as root)"
  log "installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q --no-install-recommends "${need[@]}" >&2 ||
    { apt-get update -q >&2 && apt-get install -y -q --no-install-recommends "${need[@]}" >&2; } ||
    die "apt-get install ${need[*]} failed"
}

build_cache() {
  local tmp pkg kver z off r mdir m
  mkdir -p "$CACHE"
  printf '*\n!.gitignore\n' > "$CACHE/.gitignore"   # never commit kernel/initramfs binaries
  pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
  if [ -z "$pkg" ]; then
    apt-get update -q >&2 || true
    pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
  fi
  [ -n "$pkg" ] || die "cannot resolve linux-image-amd64 with apt-cache"
  kver=${pkg#linux-image-}
  log "building $CACHE from $pkg"
  tmp=$(mktemp -d "$CACHE/build.XXXXXX")
  (cd "$tmp" && apt-get download -q -o APT::Sandbox::User=root "$pkg" >&2) || die "apt-get download $pkg failed"
  dpkg-deb -x "$tmp"/*.deb "$tmp/x"

  # vmlinuz is a bzImage around an xz stream; unpack the ELF vmlinux so QEMU boots it
  # directly via PVH (no BIOS real-mode setup, no in-guest decompression).
  z="$tmp/x/boot/vmlinuz-$kver"
  off=$(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$z" | head -1 | cut -d: -f1)
  [ -n "$off" ] || die "no xz payload in $z"
  tail -c +$((off + 1)) "$z" | xz -dc > "$tmp/vmlinux" 2>/dev/null || true  # xz complains about trailing bytes
  [ "$(head -c 4 "$tmp/vmlinux" | tail -c 3)" = ELF ] || die "could not unpack vmlinux from $z"

  # initramfs: static busybox, the modules in load order, and a stub /init that hands
  # over to the per-run script on the control share.
  r="$tmp/root" mdir="$tmp/x/lib/modules/$kver"
  mkdir -p "$r"/{bin,mods,proc,sys,dev,ctl,lower,rw,newroot}
  cp /bin/busybox "$r/bin/busybox"
  : > "$r/mods/order"
  add_mod() {   # $1: module name; adds its dependencies first
    local f n d
    f=$(find "$mdir" \( -name "$1.ko*" -o -name "${1//_/-}.ko*" -o -name "${1//-/_}.ko*" \) -print | head -1)
    [ -n "$f" ] || die "module $1 not in $pkg"
    n=$(basename "$f"); n=${n%%.ko*}
    grep -qx -- "$n" "$r/mods/order" && return 0
    for d in $(tr '\0' '\n' < "$f" | LC_ALL=C sed -n 's/^depends=//p' | tr ',' ' '); do add_mod "$d"; done
    case $f in *.xz) xz -dc "$f" > "$r/mods/$n.ko" ;; *.zst) zstd -qdc "$f" > "$r/mods/$n.ko" ;; *) cp "$f" "$r/mods/$n.ko" ;; esac
    echo "$n" >> "$r/mods/order"
  }
  for m in $MODULES; do add_mod "$m"; done
  cat > "$r/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
for m in $(cat /mods/order); do insmod /mods/$m.ko || echo "canvm: insmod $m failed"; done
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,cache=mmap ctl /ctl && exec sh /ctl/init.sh
echo "canvm: cannot mount the control share"; echo o > /proc/sysrq-trigger; sleep 30
EOF
  chmod +x "$r/init"
  (cd "$r" && find . | busybox cpio -o -H newc 2>/dev/null) > "$tmp/initrd.cpio"
  mv "$tmp/vmlinux" "$tmp/initrd.cpio" "$CACHE/"
  echo "$kver" > "$CACHE/kernel-version"
  echo $MODULES > "$CACHE/modules"
  rm -rf "$tmp"
  log "cache ready: kernel $kver"
}

setup() {
  install_host_packages
  # (re)build when missing or when MODULES changed
  [ -f "$CACHE/vmlinux" ] && [ -f "$CACHE/initrd.cpio" ] && [ "$(cat "$CACHE/modules" 2>/dev/null)" = "$(echo $MODULES)" ] ||
    build_cache
}

# ---------------------------------------------------------------- guest-side scripts
# Runs under busybox in the initramfs: mount everything, create vcan, switch to host root.
write_init_sh() {
  cat > "$1/init.sh" <<'EOF'
exec 2>>/ctl/err            # init errors reach the host's stderr
: > /ctl/booted
. /ctl/config
o9p=trans=virtio,version=9p2000.L,msize=512000
n=/newroot
mount -t 9p -o $o9p,ro,cache=loose root /lower || exit 1
mount -t tmpfs -o mode=755 rw /rw && mkdir /rw/u /rw/w
mount -t overlay -o lowerdir=/lower,upperdir=/rw/u,workdir=/rw/w overlay $n || exit 1
mount -t tmpfs -o mode=755 run $n/run && mkdir $n/run/canvm && mount --move /ctl $n/run/canvm
while read -r tag dir; do mkdir -p "$n$dir"; mount -t 9p -o $o9p,cache=mmap "$tag" "$n$dir" || exit 1; done < $n/run/canvm/rwdirs
for d in proc sys dev; do mount --move /$d $n/$d; done
mkdir -p $n/dev/pts $n/dev/shm
mount -t devpts devpts $n/dev/pts; mount -t tmpfs -o mode=1777 shm $n/dev/shm
hostname canvm
ip link set lo up
[ "$VCAN_ECHO" = 1 ] && rmmod vcan && insmod /mods/vcan.ko echo=1   # echo=1: loopback after the qdisc
for i in $VCAN; do ip link add dev $i type vcan && ip link set $i mtu $VCAN_MTU up; done
grep -q kvm-clock $n/sys/devices/system/clocksource/clocksource0/available_clocksource ||
  echo "guest runs under TCG (software emulation): slower than KVM" >> $n/run/canvm/info
exec switch_root $n /bin/bash /run/canvm/stage2.sh
EOF
  # Runs under the host's bash as PID 1 in the new root: run COMMAND, record status, power off.
  cat > "$1/stage2.sh" <<'EOF'
C=/run/canvm
exec </dev/null >>$C/out 2>>$C/err
set -a; . $C/env; set +a
rc=0
/bin/bash $C/cmd || rc=$?
echo $rc > $C/rc
sync
echo o > /proc/sysrq-trigger
sleep 30
EOF
}

# ---------------------------------------------------------------- run
ctl='' qpid='' tails=()
cleanup() {
  set +e
  [ -n "$qpid" ] && kill "$qpid" 2>/dev/null && wait "$qpid" 2>/dev/null
  [ ${#tails[@]} -gt 0 ] && kill "${tails[@]}" 2>/dev/null
  [ -n "$ctl" ] && rm -rf "$ctl"
  return 0
}

start_qemu() {   # $1: kvm|tcg
  local cpu=host acc=kvm
  [ "$1" = tcg ] && cpu=${CANVM_CPU:-max} acc=tcg,thread=multi
  rm -f "$ctl/booted"
  local args=(
    -M q35 -accel "$acc" -cpu "$cpu" -m "${CANVM_MEM:-1024}" -smp "${CANVM_SMP:-2}"
    -nodefaults -no-user-config -display none -nic none -no-reboot
    -serial "file:$ctl/console.log"
    -kernel "$CACHE/vmlinux" -initrd "$CACHE/initrd.cpio"
    -append "console=ttyS0 quiet panic=-1 rdinit=/init"
    -device virtio-rng-pci
    -fsdev "local,id=root,path=/,security_model=none,readonly=on,multidevs=remap"
    -device virtio-9p-pci,fsdev=root,mount_tag=root
    -fsdev "local,id=ctl,path=$ctl,security_model=none"
    -device virtio-9p-pci,fsdev=ctl,mount_tag=ctl
  )
  local i=0 d
  : > "$ctl/rwdirs"
  for d in "${rw[@]}"; do
    args+=(-fsdev "local,id=rw$i,path=${d//,/,,},security_model=none,multidevs=remap"
           -device "virtio-9p-pci,fsdev=rw$i,mount_tag=rw$i")
    printf 'rw%d %s\n' "$i" "$d" >> "$ctl/rwdirs"
    i=$((i + 1))
  done
  [ -n "${CANVM_VERBOSE:-}" ] && log "qemu-system-x86_64 ${args[*]}"
  timeout -k 5 "${CANVM_TIMEOUT:-900}" qemu-system-x86_64 "${args[@]}" </dev/null >"$ctl/qemu.log" 2>&1 &
  qpid=$!
}

run() {
  local accel=${CANVM_ACCEL:-auto} d rc t0 i
  t0=$(date +%s.%N)
  if [ "$accel" = auto ]; then
    accel=tcg
    if [ -r /dev/kvm ] && [ -w /dev/kvm ] && { [ -d /sys/module/kvm_intel ] || [ -d /sys/module/kvm_amd ]; }; then
      accel=kvm
    elif [ -d /sys/module/kvm_pvm ]; then
      log "/dev/kvm is PVM (kvm_pvm), which cannot boot a stock kernel: using TCG"
    else
      log "no usable KVM: using TCG"
    fi
  fi
  # writable host dirs (parents first), default: the current directory
  local dirs=("$PWD"); [ -n "${CANVM_RW:-}" ] && read -ra dirs <<< "$CANVM_RW"
  rw=()
  for d in "${dirs[@]}"; do
    d=$(realpath -e -- "$d") || die "no such dir: $d"
    [ "$d" = / ] && die "refusing to make / writable"
    rw+=("$d")
  done
  mapfile -t rw < <(printf '%s\n' "${rw[@]}" | awk '{print length, $0}' | sort -n | cut -d' ' -f2-)

  ctl=$(mktemp -d /tmp/canvm.XXXXXX)
  trap cleanup EXIT
  trap 'exit 130' INT; trap 'exit 143' TERM
  write_init_sh "$ctl"
  printf 'VCAN=%q\nVCAN_MTU=%q\nVCAN_ECHO=%q\n' "${CANVM_VCAN:-vcan0 vcan1}" "${CANVM_VCAN_MTU:-16}" \
    "${CANVM_VCAN_ECHO:-0}" > "$ctl/config"
  (unset PWD OLDPWD SHLVL _; export CANVM=1; export -p) | grep -v '^declare -x \(SHELLOPTS\|BASHOPTS\)=' > "$ctl/env"
  { printf 'cd -- %q || exit 125\nexec' "$PWD"; printf ' %q' "$@"; echo; } > "$ctl/cmd"
  : > "$ctl/out"; : > "$ctl/err"

  start_qemu "$accel"
  if [ "$accel" = kvm ] && [ "${CANVM_ACCEL:-auto}" = auto ]; then
    # a KVM that cannot run this kernel tends to hang silently: fall back after 20 s
    for i in $(seq 200); do { [ -e "$ctl/booted" ] || ! kill -0 "$qpid" 2>/dev/null; } && break; sleep 0.1; done
    if [ ! -e "$ctl/booted" ]; then
      log "KVM guest did not boot; retrying with TCG"
      kill "$qpid" 2>/dev/null || true; wait "$qpid" 2>/dev/null || true
      start_qemu tcg
    fi
  fi
  tail -q -c +1 -s 0.1 --pid="$qpid" -f "$ctl/out" & tails+=($!)
  tail -q -c +1 -s 0.1 --pid="$qpid" -f "$ctl/err" >&2 & tails+=($!)
  rc=0; wait "$qpid" || rc=$?
  qpid=''
  wait "${tails[@]}" 2>/dev/null || true
  tails=()
  [ -s "$ctl/info" ] && [ -n "${CANVM_VERBOSE:-}" ] && log "$(cat "$ctl/info")"
  if [ -f "$ctl/rc" ]; then
    [ -n "${CANVM_VERBOSE:-}" ] && log "total $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.2f", b-a}') s"
    return "$(cat "$ctl/rc")"
  fi
  if [ $rc -eq 124 ]; then log "timed out after ${CANVM_TIMEOUT:-900} s (CANVM_TIMEOUT)"; return 124; fi
  log "guest did not report an exit status (qemu rc=$rc); qemu log and console tail:"
  tail -n 20 "$ctl/qemu.log" "$ctl/console.log" >&2 || true
  return 125
}

case ${1:-} in
  --setup) setup; exit 0 ;;
  --check) setup >&2; [ -f "$CACHE/vmlinux" ] && [ -f "$CACHE/initrd.cpio" ]; exit ;;
  --rebuild) install_host_packages; build_cache; exit 0 ;;
  --) shift ;;
  ''|-h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 2 ;;
esac
[ $# -gt 0 ] || die "no command given"
setup
run "$@"
