#!/bin/sh
# volume-snapshot.sh - takes a point-in-time copy of one local volume before a deploy: a ZFS snapshot
# (DATASET@SNAPSHOT) when the volume is a dataset, else a copy under VOLUMES_ROOT/.snapshots/APP/NAME/SNAPSHOT,
# made only when the volume holds at most MAX_COPY_BYTES (else it is skipped and the reason reported). Keeps the
# KEEP newest grim snapshots of the volume and deletes older ones. Idempotent: an existing snapshot is kept.
# param: APP - app name
# param: NAME - volume name
# param: SNAPSHOT - snapshot name ([a-z0-9-], e.g. pre-r4)
# param: KEEP (optional) - grim snapshots kept per volume (default 5)
# param: MAX_COPY_BYTES (optional) - largest directory volume copied (default 1073741824)
# param: VOLUME_POOL (optional) - ZFS pool for volumes; "none" forces directories; default: the first pool
# param: VOLUMES_ROOT (optional) - where volumes are mounted (default /var/lib/grim/volumes)
# result: {"taken":true|false,"kind":"zfs"|"copy"|null,"bytes":N,"reason":"...","deleted":["..."]}
# lib: fail
set -eu
: "${APP:?}" "${NAME:?}" "${SNAPSHOT:?}"
case $APP in '' | -* | *[!a-z0-9-]*) fail "invalid APP" 2 ;; esac
case $NAME in '' | -* | *[!a-z0-9-]*) fail "invalid NAME" 2 ;; esac
case $SNAPSHOT in '' | -* | *[!a-z0-9-]*) fail "invalid SNAPSHOT" 2 ;; esac
keep=${KEEP:-5}
case $keep in '' | *[!0-9]*) fail "invalid KEEP" 2 ;; esac
max=${MAX_COPY_BYTES:-1073741824}
case $max in '' | *[!0-9]*) fail "invalid MAX_COPY_BYTES" 2 ;; esac
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
[ -d "$path" ] || fail "volume $APP/$NAME does not exist on this node" 3
ds=$pool/grim-volumes/$APP/$NAME
deleted=
# beyond KEEP: the lines of stdin except the last KEEP (stdin is oldest first)
beyond() { awk -v keep="$keep" '{ l[NR] = $0 } END { for (i = 1; i <= NR - keep; i++) print l[i] }'; }
if [ -n "$pool" ] && zfs list -H -o name "$ds" >/dev/null 2>&1; then
  kind=zfs
  zfs list -H -o name "$ds@$SNAPSHOT" >/dev/null 2>&1 || zfs snapshot "$ds@$SNAPSHOT"
  bytes=$(zfs get -Hp -o value referenced "$ds@$SNAPSHOT")
  # oldest first; grim's snapshots are the ones named pre-*
  for s in $(zfs list -H -t snapshot -o name -s creation -r "$ds" | grep "^$ds@pre-" | beyond || true); do
    zfs destroy "$s"
    deleted="$deleted,\"${s#*@}\""
  done
else
  kind=copy
  bytes=$(($(du -sk "$path" | awk '{ print $1 }') * 1024))
  snaps=$root/.snapshots/$APP/$NAME
  if [ ! -d "$snaps/$SNAPSHOT" ]; then
    if [ "$bytes" -gt "$max" ]; then
      printf '{"taken":false,"kind":null,"bytes":%s,"reason":"the volume holds %s bytes, more than the %s bytes a copy may take","deleted":[]}\n' \
        "$bytes" "$bytes" "$max"
      exit 0
    fi
    mkdir -p "$snaps"
    rm -rf "$snaps/.partial"
    cp -a "$path" "$snaps/.partial"
    mv "$snaps/.partial" "$snaps/$SNAPSHOT"
    # the order snapshots were taken in (file times are too coarse to tell)
    echo "$SNAPSHOT" >>"$snaps/.order"
  fi
  for s in $(grep '^pre-' "$snaps/.order" 2>/dev/null | beyond || true); do
    rm -rf "${snaps:?}/$s"
    grep -vx "$s" "$snaps/.order" >"$snaps/.order.new" || true
    mv "$snaps/.order.new" "$snaps/.order"
    deleted="$deleted,\"$s\""
  done
fi
printf '{"taken":true,"kind":"%s","bytes":%s,"reason":"","deleted":[%s]}\n' "$kind" "$bytes" "${deleted#,}"
