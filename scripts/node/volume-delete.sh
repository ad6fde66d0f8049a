#!/bin/sh
# volume-delete.sh - deletes one local app volume with its snapshots (the ZFS dataset, or the directory and its
# snapshot copies). Idempotent: deleting an absent volume succeeds.
# param: APP - app name
# param: NAME - volume name
# param: VOLUME_POOL (optional) - ZFS pool for volumes; "none" forces directories; default: the first pool
# param: VOLUMES_ROOT (optional) - where volumes are mounted (default /var/lib/grim/volumes)
# result: {"existed":true|false}
set -eu
: "${APP:?}" "${NAME:?}"
case $APP in '' | -* | *[!a-z0-9-]*) echo "invalid APP" >&2 && exit 2 ;; esac
case $NAME in '' | -* | *[!a-z0-9-]*) echo "invalid NAME" >&2 && exit 2 ;; esac
root=${VOLUMES_ROOT:-/var/lib/grim/volumes}
case $root in /* ) ;; *) echo "VOLUMES_ROOT must be absolute" >&2 && exit 2 ;; esac
case $root in *[!A-Za-z0-9/_.-]*) echo "VOLUMES_ROOT has unsafe characters" >&2 && exit 2 ;; esac
pool=${VOLUME_POOL:-}
case $pool in *[!A-Za-z0-9/_.:-]*) echo "VOLUME_POOL has unsafe characters" >&2 && exit 2 ;; esac
if [ -z "$pool" ] && command -v zpool >/dev/null 2>&1; then
  pool=$(zpool list -H -o name 2>/dev/null | head -n 1) || pool=
fi
[ "$pool" = none ] && pool=
path=$root/$APP/$NAME
existed=false
if [ -n "$pool" ] && zfs list -H -o name "$pool/grim-volumes/$APP/$NAME" >/dev/null 2>&1; then
  # zfs-fuse answers "dataset is busy" for a moment after the last write: retry
  i=0
  until zfs destroy -r "$pool/grim-volumes/$APP/$NAME"; do
    i=$((i + 1))
    [ $i -lt 10 ] || exit 1
    sleep 1
  done
  existed=true
fi
if [ -d "$path" ]; then
  existed=true
  rm -rf "$path"
fi
rm -rf "$root/.snapshots/$APP/$NAME"
rm -f "$root/$APP/.$NAME.size" "$root/$APP/.$NAME.zvol" "$root/$APP/.$NAME.resize"
rmdir "$root/$APP" 2>/dev/null || true
printf '{"existed":%s}\n' "$existed"
