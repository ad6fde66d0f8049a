#!/bin/sh
# vm-instance-cleanup.sh - run the host cleanup grim wrote for a stopped microVM (cleanup.sh in the
# instance directory: TAP device, jailer cgroup and chroot). Idempotent; nothing to do is success.
# param: INSTANCE - instance id
# param: VM_ROOT (optional) - grim's VM state directory, default /var/lib/grim/vm
# result: {"ran":true|false}
set -eu
: "${INSTANCE:?}"
case $INSTANCE in *[!a-z0-9-]* | '' | -*) echo '{"ok":false,"error":"invalid INSTANCE"}' && exit 1 ;; esac
DIR=${VM_ROOT:-/var/lib/grim/vm}/instances/$INSTANCE
if [ -f "$DIR/cleanup.sh" ]; then
  sh "$DIR/cleanup.sh" >>"$DIR/supervisor.log" 2>&1
  echo '{"ran":true}'
else
  echo '{"ran":false}'
fi
