#!/bin/sh
# container-run.sh - runs one container instance in the foreground (`runc|crun run`), for a supervisor or for
# container-start.sh: makes sure its rootfs is mounted and its network is up (both vanish at reboot), removes a
# stale container of the same id, then runs it with its stdout appended to INSTANCE_DIR/output.log and its stderr to stderr.log, forwarding
# TERM/INT/HUP to it. Kept in the instance directory.
# param: INSTANCE_DIR - the instance directory (holds instance.env, config.json, rootfs)
# param: PREPARE_ONLY (optional) - 1: only make sure the rootfs and the network are ready
# result: exits with the container's status (writes it to INSTANCE_DIR/last-exit); PREPARE_ONLY prints {"ok":true}
# lib: fail
set -u

[ -f "${INSTANCE_DIR:-}/instance.env" ] || fail "no instance.env in '${INSTANCE_DIR:-}'" 125
# shellcheck disable=SC1091 # written by container-create.sh
. "$INSTANCE_DIR/instance.env"
cd "$INSTANCE_DIR" || fail "cannot enter $INSTANCE_DIR" 125

crun_hybrid() { [ "$RUNTIME" = crun ] && [ -n "$(cat /sys/fs/cgroup/unified/cgroup.controllers 2>/dev/null)" ]; }
# crun refuses hybrid cgroups whose v2 hierarchy has controllers: hide that hierarchy from crun only.
HIDE_UNIFIED='mount -t tmpfs -o size=4k grim-hide /sys/fs/cgroup/unified && exec "$@"'
rt() {
  if crun_hybrid; then
    unshare --mount --propagation private sh -c "$HIDE_UNIFIED" rt "$RUNTIME" --root "$RUNTIME_ROOT" "$@"
  else
    "$RUNTIME" --root "$RUNTIME_ROOT" "$@"
  fi
}
# Like rt, but replaces the calling (sub)shell: signals sent to its pid reach the runtime.
rt_exec() {
  if crun_hybrid; then
    exec unshare --mount --propagation private sh -c "$HIDE_UNIFIED" rt "$RUNTIME" --root "$RUNTIME_ROOT" "$@"
  fi
  exec "$RUNTIME" --root "$RUNTIME_ROOT" "$@"
}

if [ "$ROOTFS_MODE" = overlay ] && ! grep -q " $INSTANCE_DIR/rootfs overlay " /proc/self/mounts; then
  mount -t overlay overlay -o "lowerdir=$IMAGE_DIR/rootfs,upperdir=$INSTANCE_DIR/upper,workdir=$INSTANCE_DIR/work" \
    "$INSTANCE_DIR/rootfs" || fail "cannot mount the overlay rootfs" 125
fi
net=$(ACTION=up INSTANCE_ID=$INSTANCE_ID NET_TAG=$NET_TAG IP_HOST=$IP_HOST IP_CTR=$IP_CTR PORTS=$PORTS \
  FIREWALL=$FIREWALL sh "$INSTANCE_DIR/container-net.sh" 2>&1)
case $(printf '%s\n' "$net" | tail -n 1) in
  '{"ok":true'*) ;;
  *) fail "network setup failed: $(printf '%s\n' "$net" | tail -n 2 | tr '\n' ' ')" 125 ;;
esac
mkdir -p "$RUNTIME_ROOT" || fail "cannot create $RUNTIME_ROOT" 125
if [ "${PREPARE_ONLY:-}" = 1 ]; then
  printf '{"ok":true}\n'
  exit 0
fi

for f in output.log stderr.log; do
  size=$(wc -c 2>/dev/null <"$f") || size=0
  if [ "$size" -gt 8388608 ]; then mv -f "$f" "$f.1"; fi
done
rt delete --force "$INSTANCE_ID" >/dev/null 2>&1
rm -f stop-requested last-exit
echo $$ >run.pid
starts=$(cat starts 2>/dev/null) || starts=0
case $starts in '' | *[!0-9]*) starts=0 ;; esac
echo $((starts + 1)) >starts

child=
# shellcheck disable=SC2317 # called from the traps
forward() { if [ -n "$child" ]; then kill -"$1" "$child" 2>/dev/null; fi; }
trap 'forward TERM' TERM
trap 'forward INT' INT
trap 'forward HUP' HUP
rt_exec run --bundle "$INSTANCE_DIR" "$INSTANCE_ID" </dev/null >>output.log 2>>stderr.log &
child=$!
status=0
while :; do
  wait "$child"
  status=$?
  kill -0 "$child" 2>/dev/null || break
done
echo "$status" >last-exit
rm -f run.pid
exit "$status"
