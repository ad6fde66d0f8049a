#!/bin/sh
# vm-instance-create.sh - lay out one QEMU microVM instance (idempotent, does not start it):
# VM_ROOT/instances/INSTANCE/ with a private writable copy of the cached root disk (reflink when the
# filesystem can), the metadata drive, vm.env (the VM's settings), run.sh (creates the TAP on the
# bridge, then execs qemu in the foreground) and supervise.sh (runs run.sh, restarts it when the guest
# reboots on its own, stops when stop-requested exists). The root disk copy is kept on re-create.
# param: INSTANCE - instance id, [a-z0-9-]
# param: BASE_DISK - cached root disk (vm-image-build.sh)
# param: META_TAR - metadata drive (a tar with grim-meta/), already on this node
# param: KERNEL - guest kernel (ELF vmlinux or bzImage)
# param: APPEND - kernel command line (no secrets: they travel on the metadata drive)
# param: MEMORY_MIB - guest memory
# param: VCPUS - guest vCPUs
# param: TAP - TAP device name (gvt..., at most 15 characters)
# param: BRIDGE - bridge the TAP joins
# param: MAC - guest MAC address
# param: INITRD (optional) - initramfs
# param: APP_DISK (optional) - cached app drive (tarball apps), attached read-write as a copy
# param: VOLUME_DISKS (optional) - persistent volume images (ext4, one absolute path a line), attached in place
# param: RUN_SCRIPT (optional) - a run.sh grim rendered for another VMM (Firecracker), used instead of the QEMU one
# param: CLEANUP_SCRIPT (optional) - host cleanup for vm-instance-cleanup.sh (jail, cgroup, TAP)
# param: ACCEL (optional) - auto (KVM when /dev/kvm is usable, else TCG), kvm or tcg; default auto
# param: VM_ROOT (optional) - grim's VM state directory, default /var/lib/grim/vm
# result: {"dir","disk","created":true|false}
# lib: fail
set -eu

: "${INSTANCE:?}" "${BASE_DISK:?}" "${META_TAR:?}" "${KERNEL:?}" "${APPEND:?}" "${MEMORY_MIB:?}" "${VCPUS:?}" "${TAP:?}" "${BRIDGE:?}" "${MAC:?}"
case $INSTANCE in *[!a-z0-9-]* | '' | -*) fail "invalid INSTANCE '$INSTANCE'" ;; esac
case $TAP in gvt*) ;; *) fail "TAP must start with gvt, got '$TAP'" ;; esac
[ ${#TAP} -le 15 ] || fail "TAP name '$TAP' is longer than 15 characters"
for f in "$BASE_DISK" "$META_TAR" "$KERNEL" ${INITRD:+"$INITRD"} ${APP_DISK:+"$APP_DISK"}; do
  [ -f "$f" ] || fail "file not found: $f"
done
# Volume images stay where grim's volume scripts made them (their data outlives the instance).
for f in ${VOLUME_DISKS:-}; do
  case $f in /*) ;; *) fail "volume disk '$f' is not absolute" ;; esac
  case $f in *[!A-Za-z0-9/_.-]*) fail "volume disk '$f' has unsafe characters" ;; esac
  [ -f "$f" ] || fail "volume disk not found: $f"
done
[ -n "${RUN_SCRIPT:-}" ] || command -v qemu-system-x86_64 >/dev/null || fail "qemu-system-x86_64 not found (install qemu-system-x86)"
VM_ROOT=${VM_ROOT:-/var/lib/grim/vm}
DIR=$VM_ROOT/instances/$INSTANCE
created=false
[ -d "$DIR" ] || created=true
mkdir -p "$DIR"
chmod 0700 "$DIR"

copy_disk() { # copy_disk SOURCE TARGET: copy-on-write when possible, sparse otherwise
  [ -f "$2" ] && return 0
  cp --reflink=auto --sparse=always "$1" "$2.partial" 2>/dev/null || cp "$1" "$2.partial"
  mv "$2.partial" "$2"
}
copy_disk "$BASE_DISK" "$DIR/disk.ext4"
if [ -n "${APP_DISK:-}" ]; then copy_disk "$APP_DISK" "$DIR/app.ext4"; fi
if [ "$META_TAR" != "$DIR/meta.tar" ]; then cp "$META_TAR" "$DIR/meta.tar"; fi
chmod 0600 "$DIR/meta.tar"

q() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }
{
  echo "KERNEL=$(q "$KERNEL")"
  echo "INITRD=$(q "${INITRD:-}")"
  echo "APPEND=$(q "$APPEND")"
  echo "MEMORY_MIB=$(q "$MEMORY_MIB")"
  echo "VCPUS=$(q "$VCPUS")"
  echo "TAP=$(q "$TAP")"
  echo "BRIDGE=$(q "$BRIDGE")"
  echo "MAC=$(q "$MAC")"
  echo "ACCEL=$(q "${ACCEL:-auto}")"
  echo "APP_DISK=$(q "${APP_DISK:+$DIR/app.ext4}")"
  echo "VOLUME_DISKS=$(q "$(printf '%s' "${VOLUME_DISKS:-}" | tr '\n' ' ')")"
} >"$DIR/vm.env.partial"
mv "$DIR/vm.env.partial" "$DIR/vm.env"

if [ -n "${CLEANUP_SCRIPT:-}" ]; then cp "$CLEANUP_SCRIPT" "$DIR/cleanup.sh"; fi
if [ -n "${RUN_SCRIPT:-}" ]; then
  cp "$RUN_SCRIPT" "$DIR/run.sh"
else
  cat >"$DIR/run.sh" <<'RUN'
#!/bin/sh
# run.sh - one QEMU microvm in the foreground (written by grim's vm-instance-create.sh).
cd "$(dirname "$0")" || exit 1
. ./vm.env
ip link show "$TAP" >/dev/null 2>&1 || ip tuntap add dev "$TAP" mode tap || exit 1
ip link set "$TAP" master "$BRIDGE" up || exit 1
accel=tcg
if [ "$ACCEL" = kvm ] || { [ "$ACCEL" = auto ] && [ -r /dev/kvm ] && [ -w /dev/kvm ]; }; then accel=kvm:tcg; fi
# TCG: a 32 MiB translation cache instead of QEMU 7.2's 1 GiB default keeps the VMM's RSS small.
if [ "$accel" = tcg ]; then set -- -M microvm,acpi=on -accel tcg,tb-size=32; else set -- -M microvm,acpi=on -accel kvm -accel tcg,tb-size=32; fi
set -- "$@" -m "$MEMORY_MIB" -smp "$VCPUS" -nodefaults -no-user-config -nographic -no-reboot \
  -chardev file,id=serial0,path=serial.log,append=on -serial chardev:serial0 \
  -qmp unix:qmp.sock,server=on,wait=off -pidfile qemu.pid \
  -kernel "$KERNEL" -append "$APPEND" -device i8042 \
  -netdev tap,id=net0,ifname="$TAP",script=no,downscript=no -device virtio-net-device,netdev=net0,mac="$MAC" \
  -drive id=root,file=disk.ext4,format=raw,if=none,cache=writeback -device virtio-blk-device,drive=root \
  -drive id=meta,file=meta.tar,format=raw,if=none,readonly=on -device virtio-blk-device,drive=meta
[ -n "$INITRD" ] && set -- "$@" -initrd "$INITRD"
[ -n "$APP_DISK" ] && set -- "$@" -drive id=app,file="$APP_DISK",format=raw,if=none -device virtio-blk-device,drive=app
n=0
# shellcheck disable=SC2086 # space-separated paths without spaces (checked by vm-instance-create.sh)
for vol in $VOLUME_DISKS; do
  set -- "$@" -drive id=vol$n,file="$vol",format=raw,if=none,cache=writeback -device virtio-blk-device,drive=vol$n
  n=$((n + 1))
done
exec qemu-system-x86_64 "$@" </dev/null
RUN
fi
cat >"$DIR/supervise.sh" <<'SUP'
#!/bin/sh
# supervise.sh - keeps run.sh running until stop-requested exists (written by vm-instance-create.sh).
cd "$(dirname "$0")" || exit 1
echo $$ >supervisor.pid
trap 'touch stop-requested; [ -f qemu.pid ] && kill -TERM "$(cat qemu.pid)" 2>/dev/null' TERM INT
delay=1
while [ ! -f stop-requested ]; do
  started=$(date +%s)
  echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) starting" >>supervisor.log
  sh ./run.sh >>qemu.log 2>&1 &
  wait $!
  code=$?
  echo "$code" >last-exit
  echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) qemu exited with $code" >>supervisor.log
  rm -f qemu.pid
  [ -f stop-requested ] && break
  # The guest rebooted on its own (its app exited) or qemu failed: restart, backing off on crash loops.
  echo $(($(cat restarts 2>/dev/null || echo 0) + 1)) >restarts
  if [ $(($(date +%s) - started)) -lt 10 ]; then delay=$((delay * 2 > 30 ? 30 : delay * 2)); else delay=1; fi
  sleep "$delay" &
  wait $!
done
rm -f supervisor.pid
SUP
chmod 0755 "$DIR/run.sh" "$DIR/supervise.sh"
printf '{"dir":"%s","disk":"%s","created":%s}\n' "$DIR" "$DIR/disk.ext4" "$created"
