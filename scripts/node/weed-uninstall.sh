#!/bin/sh
# weed-uninstall.sh - removes SeaweedFS's configuration from this node after its services were destroyed,
# and with DATA=delete also its data (volumes, master and filer metadata, mount caches). The installed
# releases under /opt/seaweedfs stay (they are only binaries). Deleting data destroys the volume server's ZFS
# datasets (<pool>/grim-seaweedfs) too. Idempotent.
# param: DATA (optional) - "delete" to remove the data directories too (default: keep)
# result: {"ok":true,"data":"kept|deleted"}
set -eu

busy=$(grep -c ' fuse.seaweedfs ' /proc/mounts 2>/dev/null || true)
if [ "${busy:-0}" -gt 0 ]; then
  echo "weed mounts are still mounted on this node: remove them first" >&2
  exit 3
fi
rm -rf /etc/seaweedfs
data=kept
if [ "${DATA:-keep}" = delete ]; then
  if command -v zfs >/dev/null 2>&1; then
    for ds in $(zfs list -H -o name 2>/dev/null | grep '^[^/]*/grim-seaweedfs$' || true); do
      zfs destroy -r "$ds"
    done
  fi
  rm -rf /var/lib/grim/seaweedfs/master /var/lib/grim/seaweedfs/volume /var/lib/grim/seaweedfs/filer \
    /var/lib/grim/seaweedfs/mount-cache
  data=deleted
fi
echo "{\"ok\":true,\"data\":\"$data\"}"
