#!/bin/sh
# zfs-fuse-ns.sh VDEV_DIR POOL COMMAND... - for tests: inside a private mount namespace (unshare -m), start a
# zfs-fuse daemon with its own socket, lock and cache, create POOL on a 256 MiB file vdev in VDEV_DIR, run
# COMMAND, then destroy the pool and stop the daemon (by PID). Exits with COMMAND's status.
set -eu
dir=$1
pool=$2
shift 2
for d in /run/zfs /var/lock/zfs /var/lib/zfs; do mount -t tmpfs tmpfs "$d"; done
/sbin/zfs-fuse --no-daemon --no-kstat-mount &
daemon=$!
i=0
while [ ! -S /run/zfs/zfs_socket ] && [ $i -lt 100 ]; do
  sleep 0.1
  i=$((i + 1))
done
truncate -s 256M "$dir/vdev.img"
zpool create -m none "$pool" "$dir/vdev.img" 2>/dev/null
status=0
"$@" || status=$?
i=0
until zpool destroy "$pool" 2>/dev/null || [ $i -ge 10 ]; do
  sleep 1
  i=$((i + 1))
done
kill "$daemon"
wait "$daemon" || true
rm -f "$dir/vdev.img"
exit $status
