#!/bin/sh
# weed-run.sh - the `run` script of a supervised SeaweedFS service (master, volume, filer, s3 or a mount):
# runs the installed `weed` in the foreground with the options file grim wrote. It runs in /etc/seaweedfs so
# weed finds security.toml, filer.toml and master.toml there; no secret is ever on the command line.
# param: WEED_SERVICE - weed-master, weed-volume, weed-filer, weed-s3 or weed-mount-<name>
# result: runs until stopped (the supervisor restarts it)
set -eu

: "${WEED_SERVICE:?}"
case $WEED_SERVICE in weed-master | weed-volume | weed-filer | weed-s3 | weed-mount-*) ;; *) echo "invalid WEED_SERVICE" >&2 && exit 2 ;; esac
case $WEED_SERVICE in *[!a-z0-9-]*) echo "invalid WEED_SERVICE" >&2 && exit 2 ;; esac
conf=/etc/seaweedfs
options=$conf/$WEED_SERVICE.options
role=${WEED_SERVICE#weed-}
role=${role%%-*}
cd "$conf"
if [ "$role" = mount ]; then
  dir=$(sed -n 's/^dir=//p' "$options")
  # a mount left behind by a crash answers "Transport endpoint is not connected": detach it first
  if grep -q " $dir fuse" /proc/mounts 2>/dev/null; then umount -l "$dir" 2>/dev/null || true; fi
  mkdir -p "$dir"
fi
exec /opt/seaweedfs/weed "$role" -options="$options"
