#!/bin/sh
# volume-create.sh - creates (or finds) one local app volume, idempotently. On a node with a ZFS pool it is the
# dataset POOL/grim-volumes/APP/NAME with quota = SIZE_BYTES, mounted at VOLUMES_ROOT/APP/NAME; otherwise a
# directory there, created only when the filesystem has SIZE_BYTES free (the numbers are in the error). With
# FORMAT=block the volume is a block device with an ext4 filesystem (label grim-vol, the given UUID) that a
# microVM gets as an extra drive: a zvol POOL/grim-volumes/APP/NAME (/dev/zvol/...) where ZFS offers zvols
# (OpenZFS: `zfs version` names its kernel module; zfs-fuse has none), else volume.ext4, a sparse file in the
# volume. A larger SIZE_BYTES grows the volume: the quota (ZFS), a free-space check for the increase
# (directory), the zvol's volsize or the file, then resize2fs; while the drive is in use the filesystem grows at
# the next call (the instance's next start). A smaller SIZE_BYTES is refused: volumes do not shrink.
# param: APP - app name ([a-z0-9-])
# param: NAME - volume name ([a-z0-9-])
# param: SIZE_BYTES - the volume's size
# param: FORMAT (optional) - dir (default) or block
# param: FS_UUID (optional) - with FORMAT=block: the ext4 UUID the guest finds the drive by
# param: VOLUME_POOL (optional) - ZFS pool for volumes; "none" forces directories; default: the first pool
# param: VOLUMES_ROOT (optional) - where volumes are mounted (default /var/lib/grim/volumes)
# param: ZVOLS (optional) - auto (default) or no: never make a zvol
# result: {"created":true|false,"backend":"zfs"|"zvol"|"dir","path":"...","image":"..."|null,"sizeBytes":N,"usedBytes":N,"grown":"no"|"yes"|"pending"}
# lib: fail
set -eu
: "${APP:?}" "${NAME:?}" "${SIZE_BYTES:?}"
case $APP in '' | -* | *[!a-z0-9-]*) fail "invalid APP" 2 ;; esac
case $NAME in '' | -* | *[!a-z0-9-]*) fail "invalid NAME" 2 ;; esac
case $SIZE_BYTES in '' | *[!0-9]*) fail "invalid SIZE_BYTES" 2 ;; esac
format=${FORMAT:-dir}
case $format in dir | block) ;; *) fail "FORMAT must be dir or block" 2 ;; esac
case ${FS_UUID:-} in *[!0-9a-f-]*) fail "invalid FS_UUID" 2 ;; esac
case ${ZVOLS:-auto} in auto | no) ;; *) fail "ZVOLS must be auto or no" 2 ;; esac
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
grown=no

# Volumes never shrink: the size this node last gave the volume is the floor.
prev=$(cat "$root/$APP/.$NAME.size" 2>/dev/null) || prev=
case $prev in '' | *[!0-9]*) prev=$SIZE_BYTES ;; esac
[ "$SIZE_BYTES" -ge "$prev" ] ||
  fail "volume $APP/$NAME is $prev bytes: it cannot shrink to $SIZE_BYTES bytes (make a new volume and restore a backup into it)" 4
[ "$SIZE_BYTES" -gt "$prev" ] && grown=yes

# OpenZFS (a kernel module) offers zvols; zfs-fuse does not, and `zfs version` is unknown to it.
zvols_offered() {
  [ "${ZVOLS:-auto}" = auto ] && zfs version 2>/dev/null | grep -q '^zfs-kmod-'
}
# Whether a process holds the drive open (a VMM) or a loop device is backed by it: then it must not be resized.
in_use() {
  # shellcheck disable=SC2012 # one listing of every open file's link target
  ls -l /proc/[0-9]*/fd 2>/dev/null | sed -n 's/.* -> //p' | grep -qxF -- "$1" ||
    cat /sys/block/loop*/loop/backing_file 2>/dev/null | grep -qxF -- "$1"
}
# Grows the ext4 filesystem on $1 to its device or file size, now or (in use) at the next call.
grow_fs() {
  pending=$root/$APP/.$NAME.resize
  if in_use "$1"; then
    : >"$pending"
    grown=pending
    return 0
  fi
  e2fsck -fp "$1" >&2 || [ $? -le 1 ] || fail "e2fsck found errors on $1; not resized" 5
  resize2fs "$1" >&2
  rm -f "$pending"
}
[ -e "$root/$APP/.$NAME.resize" ] && [ "$grown" = no ] && grown=yes

# Before a new dataset or zvol: the pool has SIZE_BYTES available, and the parent datasets exist.
zfs_room_and_parents() {
  avail=$(zfs get -Hp -o value available "$pool")
  [ "$avail" -ge "$SIZE_BYTES" ] ||
    fail "volume $APP/$NAME needs $SIZE_BYTES bytes; pool $pool has $avail bytes available" 4
  zfs list -H -o name "$pool/grim-volumes" >/dev/null 2>&1 || zfs create -o mountpoint=none "$pool/grim-volumes"
  zfs list -H -o name "$pool/grim-volumes/$APP" >/dev/null 2>&1 || zfs create -o mountpoint=none "$pool/grim-volumes/$APP"
}

ds=$pool/grim-volumes/$APP/$NAME
if [ -n "$pool" ] && [ "$format" = block ] && {
  [ "$(zfs get -H -o value type "$ds" 2>/dev/null)" = volume ] ||
    { ! zfs list -H -o name "$ds" >/dev/null 2>&1 && zvols_offered; }
}; then
  backend=zvol
  dev=/dev/zvol/$ds
  if ! zfs list -H -o name "$ds" >/dev/null 2>&1; then
    zfs_room_and_parents
    # volsize must be a multiple of the block size (8K by default)
    zfs create -V "$(((SIZE_BYTES + 8191) / 8192 * 8192))" -o volmode=dev "$ds"
    created=true
    grown=no
  elif [ "$grown" = yes ]; then
    [ "$(zfs get -Hp -o value volsize "$ds")" -ge "$SIZE_BYTES" ] ||
      zfs set volsize="$(((SIZE_BYTES + 8191) / 8192 * 8192))" "$ds"
  fi
  i=0
  while [ ! -b "$dev" ] && [ "$i" -lt 50 ]; do
    sleep 0.2
    i=$((i + 1))
  done
  [ -b "$dev" ] || fail "zvol $ds has no device $dev" 5
  if ! dumpe2fs -h "$dev" >/dev/null 2>&1; then
    command -v mkfs.ext4 >/dev/null 2>&1 || fail "mkfs.ext4 is missing (e2fsprogs)" 3
    mkfs.ext4 -q -F -L grim-vol ${FS_UUID:+-U "$FS_UUID"} -E root_owner=0:0 "$dev" >&2
  elif [ "$grown" = yes ]; then
    grow_fs "$dev"
  fi
  # The volume's directory holds no data: it marks the volume for the other scripts (backups stream the device).
  mkdir -p "$path"
  printf '%s\n' "$dev" >"$root/$APP/.$NAME.zvol"
  printf '%s\n' "$SIZE_BYTES" >"$root/$APP/.$NAME.size"
  printf '{"created":%s,"backend":"zvol","path":"%s","image":"%s","sizeBytes":%s,"usedBytes":%s,"grown":"%s"}\n' \
    "$created" "$path" "$dev" "$SIZE_BYTES" "$(zfs get -Hp -o value referenced "$ds")" "$grown"
  exit 0
fi

if [ -n "$pool" ]; then
  backend=zfs
  if ! zfs list -H -o name "$ds" >/dev/null 2>&1; then
    zfs_room_and_parents
    mkdir -p "$path"
    zfs create -o quota="$SIZE_BYTES" -o mountpoint="$path" "$ds"
    created=true
    grown=no
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
    grown=no
  fi
  used=$(($(du -sk "$path" | awk '{ print $1 }') * 1024))
  if [ "$grown" = yes ] && [ "$SIZE_BYTES" -gt "$prev" ]; then
    # the volume may now take SIZE_BYTES - used more: the filesystem must have that room
    kb=$(df -Pk "$path" | awk 'NR == 2 { print $4 }')
    free=$((kb * 1024))
    [ "$free" -ge $((SIZE_BYTES - used)) ] ||
      fail "volume $APP/$NAME cannot grow to $SIZE_BYTES bytes: it uses $used bytes and $root has $free bytes free" 4
  fi
fi
printf '%s\n' "$SIZE_BYTES" >"$root/$APP/.$NAME.size"

image=null
if [ "$format" = block ]; then
  img=$path/volume.ext4
  # ZFS counts the image's written blocks against the quota: leave 1/32 for metadata.
  bytes=$SIZE_BYTES
  [ "$backend" = zfs ] && bytes=$((SIZE_BYTES - SIZE_BYTES / 32))
  if [ ! -f "$img" ]; then
    command -v mkfs.ext4 >/dev/null 2>&1 || fail "mkfs.ext4 is missing (e2fsprogs)" 3
    truncate -s "$bytes" "$img.partial"
    mkfs.ext4 -q -F -L grim-vol ${FS_UUID:+-U "$FS_UUID"} -E root_owner=0:0 "$img.partial" >&2
    mv "$img.partial" "$img"
    grown=no
  elif [ "$grown" = yes ]; then
    # never truncates: the file only grows (a pending resize finds it at its size already)
    # shellcheck disable=SC2012 # the size of one file grim named
    [ "$(ls -ln "$img" | awk '{ print $5 }')" -ge "$bytes" ] || truncate -s "$bytes" "$img"
    grow_fs "$img"
  fi
  image="\"$img\""
fi
printf '{"created":%s,"backend":"%s","path":"%s","image":%s,"sizeBytes":%s,"usedBytes":%s,"grown":"%s"}\n' \
  "$created" "$backend" "$path" "$image" "$SIZE_BYTES" "$used" "$grown"
