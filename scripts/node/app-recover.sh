#!/bin/sh
# app-recover.sh - what this node has of one app instance, for grim's recover() (after a control-node
# restart, for an instance grim has no handle of, or a stray): whether it is installed as a supervised
# service, and the driver handle app-install.sh kept beside it (handle.json). Reads only.
# param: INSTANCE_ID - instance id
# param: GRIM_APPS_DIR (optional) - directory of instance directories (default /var/lib/grim/apps)
# result: {"installed":true|false,"handle":{...}|null}
# lib: fail
set -u

: "${INSTANCE_ID:?}"
case $INSTANCE_ID in '' | *[!a-z0-9-]*) fail "invalid INSTANCE_ID" 2 ;; esac
apps=${GRIM_APPS_DIR:-/var/lib/grim/apps}
dir=$apps/$INSTANCE_ID
if [ ! -f "$dir/run" ]; then
  echo '{"installed":false,"handle":null}'
  exit 0
fi
handle=null
if [ -s "$dir/handle.json" ]; then handle=$(cat "$dir/handle.json"); fi
# one JSON object on one line, as app-install.sh got it; anything else is not a handle
case $handle in "{"*"}") ;; *) handle=null ;; esac
case $handle in *"
"*) handle=null ;; esac
printf '{"installed":true,"handle":%s}\n' "$handle"
