#!/bin/sh
# weed-signal.sh - sends a signal to running SeaweedFS services on this node: HUP makes them re-read
# security.toml's JWT keys (master, volume, filer) and s3.json (S3 gateway); TERM restarts a service (its
# supervisor starts it again, with the binary the symlink points to now).
# param: SERVICES - space-separated service ids (weed-master weed-volume weed-filer weed-s3 weed-mount-<name>)
# param: SIGNAL - HUP or TERM
# result: {"ok":true,"signalled":N}
set -eu

: "${SERVICES:?}" "${SIGNAL:?}"
case $SIGNAL in HUP | TERM) ;; *) echo "SIGNAL must be HUP or TERM" >&2 && exit 2 ;; esac
dir=/var/lib/grim/seaweedfs/services
n=0
for s in $SERVICES; do
  case $s in weed-*) ;; *) echo "invalid service $s" >&2 && exit 2 ;; esac
  case $s in *[!a-z0-9-]*) echo "invalid service $s" >&2 && exit 2 ;; esac
  pid=$(cat "$dir/$s/app.pid" 2>/dev/null || true)
  case $pid in '' | *[!0-9]*) continue ;; esac
  if kill "-$SIGNAL" "$pid" 2>/dev/null; then n=$((n + 1)); fi
done
echo "{\"ok\":true,\"signalled\":$n}"
