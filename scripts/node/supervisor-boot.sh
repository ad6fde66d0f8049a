#!/bin/sh
# supervisor-boot.sh - the boot hook for nodes without systemd or OpenRC: starts the supervisor of every grim
# app instance that should run (its `wanted` file says run) and has no live supervisor. Installed by
# app-install.sh as <apps dir>/../bin/boot.sh and called from /etc/rc.local when that file exists.
# Called from /etc/rc.local (app-install.sh creates it when missing). On nodes whose init runs no
# rc.local, grim's reconciler calls app-start.sh instead.
# param: GRIM_APPS_DIR (optional) - directory of instance directories (default /var/lib/grim/apps)
# result: {"started":N}
set -u

apps=${GRIM_APPS_DIR:-/var/lib/grim/apps}
bin=$(dirname "$apps")/bin
started=0

# supervised ID: a live process carries GRIM_INSTANCE=ID and runs supervisor.sh
supervised() {
  for p in /proc/[0-9]*; do
    if tr '\0' '\n' 2>/dev/null <"$p/environ" | grep -qx "GRIM_INSTANCE=$1" &&
      tr '\0' ' ' 2>/dev/null <"$p/cmdline" | grep -q 'supervisor\.sh'; then
      return 0
    fi
  done
  return 1
}

for d in "$apps"/*/; do
  [ -f "$d/run" ] || continue
  id=$(basename "$d")
  [ "$(cat "$d/wanted" 2>/dev/null)" = run ] || continue
  [ "$(cat "$d/mode" 2>/dev/null)" = sh ] || continue
  if supervised "$id"; then continue; fi
  # A clean environment: the app gets only its own env file, not the boot script's variables.
  env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    GRIM_INSTANCE="$id" GRIM_INSTANCE_DIR="${d%/}" \
    setsid sh "$bin/supervisor.sh" </dev/null >>"$d/supervisor.log" 2>&1 &
  started=$((started + 1))
done
echo "{\"started\":$started}"
