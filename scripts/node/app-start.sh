#!/bin/sh
# app-start.sh - starts one installed app instance's supervisor (and so the app) unless it already runs,
# and marks it wanted, so boot hooks and the supervisor keep it running. Idempotent.
# param: INSTANCE_ID - instance id
# param: GRIM_APPS_DIR (optional) - directory of instance directories (default /var/lib/grim/apps)
# result: {"ok":true,"started":true|false,"mode":"..."}; exits 3 when the instance is not installed
set -eu

: "${INSTANCE_ID:?}"
case $INSTANCE_ID in '' | *[!a-z0-9-]*) echo "invalid INSTANCE_ID" >&2 && exit 2 ;; esac
apps=${GRIM_APPS_DIR:-/var/lib/grim/apps}
bin=$(dirname "$apps")/bin
dir=$apps/$INSTANCE_ID
if [ ! -f "$dir/run" ] || [ ! -f "$dir/mode" ]; then
  echo "instance $INSTANCE_ID is not installed" >&2
  exit 3
fi
echo run >"$dir/wanted"
mode=$(cat "$dir/mode")
started=false

supervised() {
  for p in /proc/[0-9]*; do
    if tr '\0' '\n' 2>/dev/null <"$p/environ" | grep -qx "GRIM_INSTANCE=$INSTANCE_ID" &&
      tr '\0' ' ' 2>/dev/null <"$p/cmdline" | grep -q 'supervisor\.sh'; then
      return 0
    fi
  done
  return 1
}

case $mode in
  systemd)
    if ! systemctl is-active --quiet "grim-app-$INSTANCE_ID"; then started=true; fi
    systemctl enable --now --quiet "grim-app-$INSTANCE_ID"
    ;;
  openrc)
    rc-update add "grim-app-$INSTANCE_ID" default >/dev/null 2>&1 || true
    if ! rc-service "grim-app-$INSTANCE_ID" status >/dev/null 2>&1; then
      rc-service "grim-app-$INSTANCE_ID" start >&2
      started=true
    fi
    ;;
  *)
    if ! supervised; then
      # A clean environment: the app gets only its own env file, never this SSH session's variables.
      env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        GRIM_INSTANCE="$INSTANCE_ID" GRIM_INSTANCE_DIR="$dir" \
        setsid sh "$bin/supervisor.sh" </dev/null >>"$dir/supervisor.log" 2>&1 &
      started=true
    fi
    ;;
esac
echo "{\"ok\":true,\"started\":$started,\"mode\":\"$mode\"}"
