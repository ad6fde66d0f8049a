#!/bin/sh
# app-inspect.sh - the state of one app instance: missing (no directory), stopped (not wanted or no
# supervisor), starting (supervised, app between restarts), failed (its status script says so) or running.
# param: INSTANCE_ID - instance id
# param: GRIM_APPS_DIR (optional) - directory of instance directories (default /var/lib/grim/apps)
# result: {"state":"running|starting|stopped|failed|missing","pid":N|null,"restarts":N,"supervised":bool}
# lib: env
set -u

: "${INSTANCE_ID:?}"
case $INSTANCE_ID in '' | *[!a-z0-9-]*) echo "invalid INSTANCE_ID" >&2 && exit 2 ;; esac
apps=${GRIM_APPS_DIR:-/var/lib/grim/apps}
dir=$apps/$INSTANCE_ID
if [ ! -f "$dir/meta" ]; then
  echo '{"state":"missing","pid":null,"restarts":0,"supervised":false}'
  exit 0
fi
supervised=false
for p in /proc/[0-9]*; do
  if tr '\0' '\n' 2>/dev/null <"$p/environ" | grep -qx "GRIM_INSTANCE=$INSTANCE_ID" &&
    tr '\0' ' ' 2>/dev/null <"$p/cmdline" | grep -q 'supervisor\.sh'; then
    supervised=true
    break
  fi
done
pid=$(cat "$dir/app.pid" 2>/dev/null) || pid=
case $pid in '' | *[!0-9]*) pid=null ;; *) kill -0 "$pid" 2>/dev/null || pid=null ;; esac
restarts=$(cat "$dir/restarts" 2>/dev/null) || restarts=0
case $restarts in '' | *[!0-9]*) restarts=0 ;; esac
if [ "$supervised" = false ]; then
  state=stopped
elif [ "$pid" = null ]; then
  state=starting
elif [ -f "$dir/status" ] && ! (cd "$dir" && instance_env . && sh ./status) >/dev/null 2>&1; then
  state=failed
else
  state=running
fi
echo "{\"state\":\"$state\",\"pid\":$pid,\"restarts\":$restarts,\"supervised\":$supervised}"
