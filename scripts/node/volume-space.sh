#!/bin/sh
# volume-space.sh - how much room this node has for new app volumes, and where they would live: a ZFS pool
# (datasets with quota = size) when the node has one, else plain directories under VOLUMES_ROOT.
# param: VOLUME_POOL (optional) - ZFS pool (or dataset) for volumes; "none" forces directories; default: the
#   node's first imported pool, when the zfs tools and daemon answer
# param: VOLUMES_ROOT (optional) - where volumes are mounted (default /var/lib/grim/volumes)
# result: {"backend":"zfs"|"dir","pool":"..."|null,"freeBytes":N,"root":"...","zvols":true|false}
#   (zvols: block volumes of microVMs become zvols; OpenZFS names its kernel module in `zfs version`, zfs-fuse
#   has no zvols and no such command)
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
if [ -n "$pool" ] && avail=$(zfs get -Hp -o value available "$pool" 2>/dev/null); then
  zvols=false
  zfs version 2>/dev/null | grep -q '^zfs-kmod-' && zvols=true
  printf '{"backend":"zfs","pool":"%s","freeBytes":%s,"root":"%s","zvols":%s}\n' "$pool" "$avail" "$root" "$zvols"
  exit 0
fi
mkdir -p "$root"
kb=$(df -Pk "$root" | awk 'NR == 2 { print $4 }')
printf '{"backend":"dir","pool":null,"freeBytes":%s,"root":"%s","zvols":false}\n' "$((kb * 1024))" "$root"
