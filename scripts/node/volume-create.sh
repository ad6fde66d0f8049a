#!/bin/sh
# volume-create.sh - creates (or finds) one local app volume, idempotently. On a node with a ZFS pool it is the
# dataset POOL/grim-volumes/APP/NAME with quota = SIZE_BYTES, mounted at VOLUMES_ROOT/APP/NAME; otherwise a
# directory there, created only when the filesystem has SIZE_BYTES free (the numbers are in the error). With
# FORMAT=block the volume also holds volume.ext4, a sparse file with an ext4 filesystem (label grim-vol,
# the given UUID) that a microVM gets as an extra drive.
# param: APP - app name ([a-z0-9-])
# param: NAME - volume name ([a-z0-9-])
# param: SIZE_BYTES - the volume's size
# param: FORMAT (optional) - dir (default) or block
# param: FS_UUID (optional) - with FORMAT=block: the ext4 UUID the guest finds the drive by
# param: VOLUME_POOL (optional) - ZFS pool for volumes; "none" forces directories; default: the first pool
# param: VOLUMES_ROOT (optional) - where volumes are mounted (default /var/lib/grim/volumes)
# result: {"created":true|false,"backend":"zfs"|"dir","path":"...","image":"..."|null,"sizeBytes":N,"usedBytes":N}
set -eu
fail() {
  printf '%s\n' "$1" >&2
  exit "${2:-1}"
}
: "${APP:?}" "${NAME:?}" "${SIZE_BYTES:?}"
case $APP in '' | -* | *[!a-z0-9-]*) fail "invalid APP" 2 ;; esac
case $NAME in '' | -* | *[!a-z0-9-]*) fail "invalid NAME" 2 ;; esac
case $SIZE_BYTES in '' | *[!0-9]*) fail "invalid SIZE_BYTES" 2 ;; esac
format=${FORMAT:-dir}
case $format in dir | block) ;; *) fail "FORMAT must be dir or block" 2 ;; esac
case ${FS_UUID:-} in *[!0-9a-f-]*) fail "invalid FS_UUID" 2 ;; esac
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
created=false

if [ -n "$pool" ]; then
  backend=zfs
  ds=$pool/grim-volumes/$APP/$NAME
  if ! zfs list -H -o name "$ds" >/dev/null 2>&1; then
    avail=$(zfs get -Hp -o value available "$pool")
    [ "$avail" -ge "$SIZE_BYTES" ] ||
      fail "volume $APP/$NAME needs $SIZE_BYTES bytes; pool $pool has $avail bytes available" 4
    zfs list -H -o name "$pool/grim-volumes" >/dev/null 2>&1 || zfs create -o mountpoint=none "$pool/grim-volumes"
    zfs list -H -o name "$pool/grim-volumes/$APP" >/dev/null 2>&1 || zfs create -o mountpoint=none "$pool/grim-volumes/$APP"
    mkdir -p "$path"
    zfs create -o quota="$SIZE_BYTES" -o mountpoint="$path" "$ds"
    created=true
  else
    # a grown size raises the quota; the data stays
    zfs set quota="$SIZE_BYTES" "$ds"
  fi
  grep -q " $path fuse.zfs \| $path zfs " /proc/mounts 2>/dev/null || zfs mount "$ds" 2>/dev/null || true
  used=$(zfs get -Hp -o value used "$ds")
else
  backend=dir
  if [ ! -d "$path" ]; then
    mkdir -p "$root/$APP"
    kb=$(df -Pk "$root/$APP" | awk 'NR == 2 { print $4 }')
    free=$((kb * 1024))
    [ "$free" -ge "$SIZE_BYTES" ] ||
      fail "volume $APP/$NAME needs $SIZE_BYTES bytes; $root has $free bytes free" 4
    mkdir -p "$path.partial"
    mv "$path.partial" "$path"
    created=true
  fi
  used=$(($(du -sk "$path" | awk '{ print $1 }') * 1024))
fi
printf '%s\n' "$SIZE_BYTES" >"$root/$APP/.$NAME.size"

image=null
if [ "$format" = block ]; then
  img=$path/volume.ext4
  if [ ! -f "$img" ]; then
    command -v mkfs.ext4 >/dev/null 2>&1 || fail "mkfs.ext4 is missing (e2fsprogs)" 3
    # ZFS counts the image's written blocks against the quota: leave 1/32 for metadata.
    bytes=$SIZE_BYTES
    [ "$backend" = zfs ] && bytes=$((SIZE_BYTES - SIZE_BYTES / 32))
    truncate -s "$bytes" "$img.partial"
    mkfs.ext4 -q -F -L grim-vol ${FS_UUID:+-U "$FS_UUID"} -E root_owner=0:0 "$img.partial" >&2
    mv "$img.partial" "$img"
  fi
  image="\"$img\""
fi
printf '{"created":%s,"backend":"%s","path":"%s","image":%s,"sizeBytes":%s,"usedBytes":%s}\n' \
  "$created" "$backend" "$path" "$image" "$SIZE_BYTES" "$used"
