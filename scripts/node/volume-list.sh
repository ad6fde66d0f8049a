#!/bin/sh
# volume-list.sh - every app volume on this node with its backend, size, use and snapshots, in one round trip:
# what grim shows per node and compares with its records to find orphans.
# param: VOLUME_POOL (optional) - ZFS pool for volumes; "none" forces directories; default: the first pool
# param: VOLUMES_ROOT (optional) - where volumes are mounted (default /var/lib/grim/volumes)
# result: {"volumes":[{"app","name","backend","sizeBytes","usedBytes","snapshots":[{"name","bytes"}]}]}
set -eu
root=${VOLUMES_ROOT:-/var/lib/grim/volumes}
case $root in /*) ;; *) echo "VOLUMES_ROOT must be absolute" >&2 && exit 2 ;; esac
case $root in *[!A-Za-z0-9/_.-]*) echo "VOLUMES_ROOT has unsafe characters" >&2 && exit 2 ;; esac
pool=${VOLUME_POOL:-}
case $pool in *[!A-Za-z0-9/_.:-]*) echo "VOLUME_POOL has unsafe characters" >&2 && exit 2 ;; esac
if [ -z "$pool" ] && command -v zpool >/dev/null 2>&1; then
  pool=$(zpool list -H -o name 2>/dev/null | head -n 1) || pool=
fi
[ "$pool" = none ] && pool=
out=
for dir in "$root"/*/*; do
  [ -d "$dir" ] || continue
  name=${dir##*/}
  app=${dir%/*}
  app=${app##*/}
  case $app$name in *[!a-z0-9-]*) continue ;; esac
  size=$(cat "$root/$app/.$name.size" 2>/dev/null || echo 0)
  snaps=
  ds=$pool/grim-volumes/$app/$name
  if [ -n "$pool" ] && zfs list -H -o name "$ds" >/dev/null 2>&1; then
    backend=zfs
    used=$(zfs get -Hp -o value used "$ds")
    for s in $(zfs list -H -t snapshot -o name -s creation -r "$ds" | grep "^$ds@" || true); do
      snaps="$snaps,{\"name\":\"${s#*@}\",\"bytes\":$(zfs get -Hp -o value referenced "$s")}"
    done
  else
    backend=dir
    used=$(($(du -sk "$dir" | awk '{ print $1 }') * 1024))
    if [ -d "$root/.snapshots/$app/$name" ]; then
      # oldest first, in the order volume-snapshot.sh took them
      # shellcheck disable=SC2013 # names are one word each ([a-z0-9-], checked below)
      for s in $(cat "$root/.snapshots/$app/$name/.order" 2>/dev/null); do
        case $s in *[!a-z0-9-]*) continue ;; esac
        [ -d "$root/.snapshots/$app/$name/$s" ] || continue
        snaps="$snaps,{\"name\":\"$s\",\"bytes\":$(($(du -sk "$root/.snapshots/$app/$name/$s" | awk '{ print $1 }') * 1024))}"
      done
    fi
  fi
  out="$out,{\"app\":\"$app\",\"name\":\"$name\",\"backend\":\"$backend\",\"sizeBytes\":$size,\"usedBytes\":$used,\"snapshots\":[${snaps#,}]}"
done
printf '{"volumes":[%s]}\n' "${out#,}"
