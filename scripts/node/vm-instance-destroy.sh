#!/bin/sh
# vm-instance-destroy.sh - remove every trace of a stopped instance's microVM: leftover processes
# (SIGKILL), its TAP device, its published ports and its directory (disks, metadata, logs).
# Idempotent. Run vm-instance-stop.sh first for a graceful stop.
# param: INSTANCE - instance id
# param: TAP (optional) - its TAP device
# param: VM_ROOT (optional) - grim's VM state directory, default /var/lib/grim/vm
# result: {"removed":true|false}
set -eu
: "${INSTANCE:?}"
case $INSTANCE in *[!a-z0-9-]* | '' | -*) echo '{"ok":false,"error":"invalid INSTANCE"}' && exit 1 ;; esac
DIR=${VM_ROOT:-/var/lib/grim/vm}/instances/$INSTANCE
removed=false
if [ -d "$DIR" ]; then
  touch "$DIR/stop-requested"
  for f in supervisor.pid vmm.pid qemu.pid; do
    p=$(cat "$DIR/$f" 2>/dev/null || true)
    if [ -n "$p" ]; then kill -KILL "$p" 2>/dev/null || true; fi
  done
  for p in $(cat "$DIR/ports" 2>/dev/null || true); do
    nft delete element ip grim_vm_nat ports "{ ${p%%:*} }" 2>/dev/null || true
  done
  rm -rf "$DIR"
  removed=true
fi
if [ -n "${TAP:-}" ]; then
  case $TAP in gvt*) ip link del "$TAP" 2>/dev/null || true ;; esac
fi
printf '{"removed":%s}\n' "$removed"
