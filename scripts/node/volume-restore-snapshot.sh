#!/bin/sh
# volume-restore-snapshot.sh - returns one local volume to a snapshot taken by volume-snapshot.sh: copies the
# snapshot's files back (from DATASET/.zfs/snapshot/SNAPSHOT for a ZFS dataset, or through a temporary clone of
# the snapshot where there is no snapshot directory, as with zfs-fuse; from the copy for a directory volume).
# Later snapshots are kept, so the restore itself can be undone. A zvol is copied back from a temporary clone
# of its snapshot, block for block.
# The instances using the volume must be stopped first.
# param: APP - app name
# param: NAME - volume name
# param: SNAPSHOT - snapshot name
# param: VOLUME_POOL (optional) - ZFS pool for volumes; "none" forces directories; default: the first pool
# param: VOLUMES_ROOT (optional) - where volumes are mounted (default /var/lib/grim/volumes)
# result: {"restored":true,"kind":"zfs"|"zfs-clone"|"zvol-clone"|"copy","bytes":N}; exits 3 when the snapshot is missing
# lib: fail
set -eu
: "${APP:?}" "${NAME:?}" "${SNAPSHOT:?}"
case $APP in '' | -* | *[!a-z0-9-]*) fail "invalid APP" 2 ;; esac
case $NAME in '' | -* | *[!a-z0-9-]*) fail "invalid NAME" 2 ;; esac
case $SNAPSHOT in '' | -* | *[!a-z0-9-]*) fail "invalid SNAPSHOT" 2 ;; esac
root=${VOLUMES_ROOT:-/var/lib/grim/volumes}
case $root in /*) ;; *) fail "VOLUMES_ROOT must be absolute" 2 ;; esac
case $root in *[!A-Za-z0-9/_.-]*) fail "VOLUMES_ROOT has unsafe characters" 2 ;; esac
pool=${VOLUME_POOL:-}
case $pool in *[!A-Za-z0-9/_.:-]*) fail "VOLUME_POOL has unsafe characters" 2 ;; esac
if [ -z "$pool" ] && command -v zpool >/dev/null 2>&1; then
  pool=$(zpool list -H -o name 2>/dev/null | head -n 1) || pool=
fi
[ "$pool" = none ] && pool=
path=$root/$APP/$NAME
ds=$pool/grim-volumes/$APP/$NAME

# replace_from DIR: the volume's content becomes DIR's (files removed first, then copied with attributes)
replace_from() {
  find "$path" -mindepth 1 -maxdepth 1 -exec rm -rf {} +
  (cd "$1" && find . -mindepth 1 -maxdepth 1 -exec cp -a {} "$path/" \;)
}

if [ -n "$pool" ] && zfs list -H -o name "$ds" >/dev/null 2>&1; then
  zfs list -H -o name "$ds@$SNAPSHOT" >/dev/null 2>&1 || fail "snapshot $SNAPSHOT of $APP/$NAME does not exist" 3
  if [ "$(zfs get -H -o value type "$ds")" = volume ]; then
    kind=zvol-clone
    clone=$pool/grim-volumes/$APP/restore-$NAME
    zfs list -H -o name "$clone" >/dev/null 2>&1 && zfs destroy "$clone"
    zfs clone -o volmode=dev "$ds@$SNAPSHOT" "$clone"
    i=0
    while [ ! -b "/dev/zvol/$clone" ] && [ $i -lt 50 ]; do
      sleep 0.2
      i=$((i + 1))
    done
    dd if="/dev/zvol/$clone" of="/dev/zvol/$ds" bs=1M conv=fsync 2>/dev/null
    zfs destroy "$clone"
  elif [ -d "$path/.zfs/snapshot/$SNAPSHOT" ]; then
    kind=zfs
    replace_from "$path/.zfs/snapshot/$SNAPSHOT"
  else
    # No snapshot directory (zfs-fuse): read the snapshot through a temporary clone, so later snapshots stay.
    kind=zfs-clone
    clone=$pool/grim-volumes/$APP/restore-$NAME
    tmp=$root/.restore/$APP/$NAME
    zfs list -H -o name "$clone" >/dev/null 2>&1 && zfs destroy "$clone"
    mkdir -p "$tmp"
    zfs clone -o mountpoint="$tmp" -o readonly=on "$ds@$SNAPSHOT" "$clone"
    grep -q " $tmp " /proc/mounts || zfs mount "$clone" 2>/dev/null || true
    replace_from "$tmp"
    i=0
    until zfs destroy "$clone" 2>/dev/null; do
      i=$((i + 1))
      [ $i -lt 10 ] || fail "cannot destroy the temporary clone $clone"
      sleep 1
    done
    rmdir "$tmp" 2>/dev/null || true
  fi
  bytes=$(zfs get -Hp -o value referenced "$ds")
else
  src=$root/.snapshots/$APP/$NAME/$SNAPSHOT
  [ -d "$src" ] || fail "snapshot $SNAPSHOT of $APP/$NAME does not exist" 3
  kind=copy
  replace_from "$src"
  bytes=$(($(du -sk "$path" | awk '{ print $1 }') * 1024))
fi
printf '{"restored":true,"kind":"%s","bytes":%s}\n' "$kind" "$bytes"
