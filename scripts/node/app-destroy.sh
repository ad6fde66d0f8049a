#!/bin/sh
# app-destroy.sh - removes every trace of one app instance: stops it (supervisor, stop script, its whole
# session), kills any process still carrying its id or still in its cgroup grim/<id>, removes that cgroup
# (every hierarchy), its systemd unit or OpenRC service and its directory. Idempotent: destroying an absent
# instance succeeds.
# param: INSTANCE_ID - instance id
# param: TIMEOUT_SEC (optional) - how long a graceful stop may take before everything is killed (default 20)
# param: GRIM_APPS_DIR (optional) - directory of instance directories (default /var/lib/grim/apps)
# result: {"ok":true,"existed":true|false,"killed":N}
set -u

: "${INSTANCE_ID:?}"
case $INSTANCE_ID in '' | *[!a-z0-9-]*) echo "invalid INSTANCE_ID" >&2 && exit 2 ;; esac
apps=${GRIM_APPS_DIR:-/var/lib/grim/apps}
dir=$apps/$INSTANCE_ID
timeout=${TIMEOUT_SEC:-20}
case $timeout in '' | *[!0-9]*) timeout=20 ;; esac
existed=false
if [ -d "$dir" ]; then
  existed=true
  echo stop >"$dir/wanted"
fi

pids() {
  for p in /proc/[0-9]*; do
    if tr '\0' '\n' 2>/dev/null <"$p/environ" | grep -qx "GRIM_INSTANCE=$INSTANCE_ID"; then echo "${p#/proc/}"; fi
  done
}
supervisors() {
  for p in $(pids); do
    if tr '\0' ' ' 2>/dev/null <"/proc/$p/cmdline" | grep -q 'supervisor\.sh'; then echo "$p"; fi
  done
}

unit=/etc/systemd/system/grim-app-$INSTANCE_ID.service
if [ -f "$unit" ] && command -v systemctl >/dev/null 2>&1; then
  systemctl disable --now --quiet "grim-app-$INSTANCE_ID" 2>/dev/null || true
  rm -f "$unit"
  systemctl daemon-reload 2>/dev/null || true
fi
rc=/etc/init.d/grim-app-$INSTANCE_ID
if [ -f "$rc" ]; then
  rc-service "grim-app-$INSTANCE_ID" stop >&2 2>/dev/null || true
  rc-update del "grim-app-$INSTANCE_ID" default >/dev/null 2>&1 || true
  rm -f "$rc"
fi
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
# the instance's cgroup in every hierarchy (cgroup v2 root, v1 controllers); a dying process keeps it busy
cgroups() {
  for c in /sys/fs/cgroup/grim/"$INSTANCE_ID" /sys/fs/cgroup/*/grim/"$INSTANCE_ID"; do
    if [ -d "$c" ]; then echo "$c"; fi
  done
}
n=0
while [ -n "$(cgroups)" ] && [ $n -lt 50 ]; do
  for c in $(cgroups); do
    while read -r p; do
      if kill -KILL "$p" 2>/dev/null; then killed=$((killed + 1)); fi
    done <"$c/cgroup.procs" 2>/dev/null
    rmdir "$c" 2>/dev/null
  done
  if [ -n "$(cgroups)" ]; then sleep 0.1; fi
  n=$((n + 1))
done
for c in $(cgroups); do echo "app-destroy: could not remove cgroup $c" >&2; done
rm -rf "$dir"
echo "{\"ok\":true,\"existed\":$existed,\"killed\":$killed}"
