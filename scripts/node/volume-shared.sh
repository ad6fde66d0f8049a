#!/bin/sh
# volume-shared.sh - finds the directory of a shared app volume on this node: ENVIRONMENT/APP/NAME below the
# node's SeaweedFS filer mount (a supervised `weed mount` at SHARED_ROOT), created when missing. Replicas on
# every node see the same files there. Fails (exit 3) when SHARED_ROOT is not a FUSE mount, so a replica never
# writes shared data to a plain local directory by mistake.
# param: ENVIRONMENT - the app's environment ([a-z0-9-])
# param: APP - app name
# param: NAME - volume name
# param: SHARED_ROOT (optional) - where the node's weed mount is (default /srv/grim-shared)
# result: {"path":"...","mount":"...","created":true|false}
set -eu
: "${ENVIRONMENT:?}" "${APP:?}" "${NAME:?}"
for v in "$ENVIRONMENT" "$APP" "$NAME"; do
  case $v in '' | -* | *[!a-z0-9-]*) echo "invalid ENVIRONMENT, APP or NAME" >&2 && exit 2 ;; esac
done
root=${SHARED_ROOT:-/srv/grim-shared}
case $root in /*) ;; *) echo "SHARED_ROOT must be absolute" >&2 && exit 2 ;; esac
case $root in *[!A-Za-z0-9/_.-]*) echo "SHARED_ROOT has unsafe characters" >&2 && exit 2 ;; esac
if ! awk -v r="$root" '$2 == r && $3 ~ /^fuse/ { found = 1 } END { exit !found }' /proc/mounts; then
  echo "no SeaweedFS mount at $root on this node: shared volumes need the node's weed mount (grim's SeaweedFS setup)" >&2
  exit 3
fi
path=$root/$ENVIRONMENT/$APP/$NAME
created=false
if [ ! -d "$path" ]; then
  mkdir -p "$path"
  created=true
fi
printf '{"path":"%s","mount":"%s","created":%s}\n' "$path" "$root" "$created"
