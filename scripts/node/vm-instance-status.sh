#!/bin/sh
# vm-instance-status.sh - report an instance's microVM: supervisor and QEMU processes, restarts, last exit.
# Read-only.
# param: INSTANCE - instance id
# param: VM_ROOT (optional) - grim's VM state directory, default /var/lib/grim/vm
# result: {"exists":true|false,"state":"running"|"starting"|"stopped"|"missing","supervisorPid":N|null,"vmmPid":N|null,"restarts":N,"lastExit":N|null}
set -eu
: "${INSTANCE:?}"
case $INSTANCE in *[!a-z0-9-]* | '' | -*) echo '{"ok":false,"error":"invalid INSTANCE"}' && exit 1 ;; esac
DIR=${VM_ROOT:-/var/lib/grim/vm}/instances/$INSTANCE
if [ ! -f "$DIR/vm.env" ]; then
  echo '{"exists":false,"state":"missing","supervisorPid":null,"vmmPid":null,"restarts":0,"lastExit":null}'
  exit 0
fi
pid_or_null() {
  p=$(cat "$1" 2>/dev/null || true)
  if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then echo "$p"; else echo null; fi
}
sup=$(pid_or_null "$DIR/supervisor.pid")
# the VMM: firecracker writes vmm.pid, QEMU qemu.pid
vmm=$(pid_or_null "$DIR/vmm.pid")
if [ "$vmm" = null ]; then vmm=$(pid_or_null "$DIR/qemu.pid"); fi
state=stopped
if [ "$vmm" != null ]; then state=running; elif [ "$sup" != null ]; then state=starting; fi
last=$(cat "$DIR/last-exit" 2>/dev/null || echo null)
printf '{"exists":true,"state":"%s","supervisorPid":%s,"vmmPid":%s,"restarts":%s,"lastExit":%s}\n' \
  "$state" "$sup" "$vmm" "$(cat "$DIR/restarts" 2>/dev/null || echo 0)" "$last"
