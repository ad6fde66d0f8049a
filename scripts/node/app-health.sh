#!/bin/sh
# app-health.sh - runs an app's command health check on the node, inside the instance's directory and
# environment, with a time limit.
# param: INSTANCE_ID - instance id
# param: HEALTH_COMMAND - sh command; exit status 0 means healthy
# param: TIMEOUT_SEC (optional) - time limit (default 5)
# param: GRIM_APPS_DIR (optional) - directory of instance directories (default /var/lib/grim/apps)
# result: {"healthy":true|false,"exitCode":N}
# lib: env
set -u

: "${INSTANCE_ID:?}" "${HEALTH_COMMAND:?}"
case $INSTANCE_ID in '' | *[!a-z0-9-]*) echo "invalid INSTANCE_ID" >&2 && exit 2 ;; esac
apps=${GRIM_APPS_DIR:-/var/lib/grim/apps}
limit=${TIMEOUT_SEC:-5}
case $limit in '' | *[!0-9]*) limit=5 ;; esac
dir=$apps/$INSTANCE_ID
if [ ! -f "$dir/environment" ] && [ ! -f "$dir/env" ]; then
  echo '{"healthy":false,"exitCode":-1}'
  exit 0
fi
code=0
# shellcheck disable=SC2016 # $1 expands in the inner shell, which runs the admin's command
(cd "$dir" && instance_env . && exec timeout "$limit" sh -c 'eval "$1"' health "$HEALTH_COMMAND") \
  </dev/null >/dev/null 2>&1 || code=$?
if [ "$code" -eq 0 ]; then healthy=true; else healthy=false; fi
echo "{\"healthy\":$healthy,\"exitCode\":$code}"
