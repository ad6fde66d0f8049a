#!/bin/sh
# app-stop.sh - stops one app instance (its supervisor runs the stop script, then ends the app's session) and
# marks it not wanted, so nothing starts it at boot. Every process carrying the instance's id is gone after.
# Idempotent: stopping a stopped or absent instance succeeds.
# param: INSTANCE_ID - instance id
# param: TIMEOUT_SEC (optional) - how long the supervisor may take before everything is killed (default 20)
# param: GRIM_APPS_DIR (optional) - directory of instance directories (default /var/lib/grim/apps)
# result: {"ok":true,"killed":N} (N processes had to be killed by force)
set -u

: "${INSTANCE_ID:?}"
case $INSTANCE_ID in '' | *[!a-z0-9-]*) echo "invalid INSTANCE_ID" >&2 && exit 2 ;; esac
apps=${GRIM_APPS_DIR:-/var/lib/grim/apps}
dir=$apps/$INSTANCE_ID
timeout=${TIMEOUT_SEC:-20}
case $timeout in '' | *[!0-9]*) timeout=20 ;; esac
if [ -d "$dir" ]; then echo stop >"$dir/wanted"; fi
mode=$(cat "$dir/mode" 2>/dev/null) || mode='sh'

# pids: every live process whose environment carries GRIM_INSTANCE=<id>
pids() {
  for p in /proc/[0-9]*; do
    if tr '\0' '\n' 2>/dev/null <"$p/environ" | grep -qx "GRIM_INSTANCE=$INSTANCE_ID"; then echo "${p#/proc/}"; fi
  done
}
# supervisors: those of them running supervisor.sh
supervisors() {
  for p in $(pids); do
    if tr '\0' ' ' 2>/dev/null <"/proc/$p/cmdline" | grep -q 'supervisor\.sh'; then echo "$p"; fi
  done
}

case $mode in
  systemd) systemctl disable --now --quiet "grim-app-$INSTANCE_ID" 2>/dev/null || true ;;
  openrc)
    rc-service "grim-app-$INSTANCE_ID" stop >&2 2>/dev/null || true
    rc-update del "grim-app-$INSTANCE_ID" default >/dev/null 2>&1 || true
    ;;
esac
for p in $(supervisors); do kill -TERM "$p" 2>/dev/null; done
n=0
while [ -n "$(supervisors)" ] && [ $n -lt $((timeout * 5)) ]; do
  sleep 0.2
  n=$((n + 1))
done
killed=0
for p in $(pids); do
  if kill -KILL "$p" 2>/dev/null; then killed=$((killed + 1)); fi
done
rm -f "$dir/app.pid" "$dir/supervisor.pid" 2>/dev/null
echo "{\"ok\":true,\"killed\":$killed}"
