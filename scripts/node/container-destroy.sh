#!/bin/sh
# container-destroy.sh - removes a container instance from its node: kills and deletes it from the runtime,
# stops a leftover container-run.sh, unmounts its rootfs, frees its address slot and deletes its directory and
# cgroups. Run container-net.sh down first (network namespace, veth, NAT rules). Idempotent.
# param: STATE_DIR - grim's state directory on the node, e.g. /var/lib/grim
# param: INSTANCE_ID - instance id ([a-z0-9-])
# result: {"ok":true,"removed":BOOL}
# lib: fail
set -u

case ${STATE_DIR:-} in /*) ;; *) fail "STATE_DIR must be an absolute path" ;; esac
case ${INSTANCE_ID:-} in *[!a-z0-9-]* | -* | '') fail "invalid INSTANCE_ID" ;; esac
dir=$STATE_DIR/containers/$INSTANCE_ID
hide='mount -t tmpfs -o size=4k grim-hide /sys/fs/cgroup/unified && exec "$@"'

for runtime in runc crun; do
  command -v "$runtime" >/dev/null 2>&1 || continue
  if [ "$runtime" = crun ] && [ -n "$(cat /sys/fs/cgroup/unified/cgroup.controllers 2>/dev/null)" ]; then
    unshare --mount --propagation private sh -c "$hide" rt crun --root /run/grim/crun delete --force "$INSTANCE_ID" \
      >/dev/null 2>&1
  else
    "$runtime" --root "/run/grim/$runtime" delete --force "$INSTANCE_ID" >/dev/null 2>&1
  fi
done

pid=$(cat "$dir/run.pid" 2>/dev/null)
case $pid in
  '' | *[!0-9]*) ;;
  *)
    if kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q container-run.sh; then
      kill -TERM "$pid" 2>/dev/null
      sleep 0.5
      kill -KILL "$pid" 2>/dev/null
    fi
    ;;
esac

if grep -q " $dir/rootfs " /proc/self/mounts; then
  umount "$dir/rootfs" 2>/dev/null || umount -l "$dir/rootfs" || fail "cannot unmount $dir/rootfs"
fi
for link in "$STATE_DIR"/net/slots/*; do
  if [ "$(readlink "$link" 2>/dev/null)" = "$INSTANCE_ID" ]; then rm -f "$link"; fi
done
for cg in /sys/fs/cgroup/*/grim/"$INSTANCE_ID" /sys/fs/cgroup/grim/"$INSTANCE_ID"; do
  if [ -d "$cg" ]; then rmdir "$cg" 2>/dev/null || fail "cgroup $cg is still in use"; fi
done
removed=false
if [ -d "$dir" ]; then
  rm -rf "$dir" || fail "cannot remove $dir"
  removed=true
fi
printf '{"ok":true,"removed":%s}\n' "$removed"
