#!/bin/sh
# weed-mount-check.sh - says whether a directory on this node is a live SeaweedFS FUSE mount (listed in the
# mount table and answering a stat).
# param: DIR - the mount point
# result: {"mounted":true|false}
set -eu

: "${DIR:?}"
case $DIR in /*) ;; *) echo "DIR must be absolute" >&2 && exit 2 ;; esac
mounted=false
if awk -v d="$DIR" '$2 == d && $3 ~ /^fuse/ { found = 1 } END { exit found ? 0 : 1 }' /proc/mounts; then
  if stat "$DIR" >/dev/null 2>&1; then mounted=true; fi
fi
echo "{\"mounted\":$mounted}"
