#!/bin/sh
# vm-stage-dir.sh - create (or remove) a private staging directory for uploads under VM_ROOT/staging.
# param: NAME - directory name, [a-z0-9._-]
# param: ACTION (optional) - create (default) or remove
# param: VM_ROOT (optional) - grim's VM state directory, default /var/lib/grim/vm
# result: {"dir":"...","action":"create"|"remove"}
set -eu
: "${NAME:?}"
case $NAME in *[!a-z0-9._-]* | '' | .*) echo '{"ok":false,"error":"invalid NAME"}' && exit 1 ;; esac
DIR=${VM_ROOT:-/var/lib/grim/vm}/staging/$NAME
case ${ACTION:-create} in
  create) mkdir -p "$DIR" && chmod 0700 "$DIR" ;;
  remove) rm -rf "$DIR" ;;
  *) echo '{"ok":false,"error":"ACTION must be create or remove"}' && exit 1 ;;
esac
printf '{"dir":"%s","action":"%s"}\n' "$DIR" "${ACTION:-create}"
