#!/bin/sh
# volume-restore.sh - restores a restic backup of an app volume into that volume on this node (created before
# by volume-create.sh, possibly on another node than the backup's). The volume must be empty unless
# REPLACE=yes, which first removes its content. Reports the restored bytes and how long it took. Into a zvol
# volume (.NAME.zvol names its device), the backup's /volume.ext4 is written onto the device.
# param: APP - app name
# param: NAME - volume name
# param: BACKUP - restic snapshot id, or "latest"
# param: RESTIC_REPOSITORY - repository: a path or s3:URL
# param: RESTIC_PASSWORD - the app's repository password
# param: REPLACE (optional) - "yes": remove the volume's content first
# param: AWS_ACCESS_KEY_ID (optional) - S3 access key
# param: AWS_SECRET_ACCESS_KEY (optional) - S3 secret key
# param: VOLUMES_ROOT (optional) - where volumes are mounted (default /var/lib/grim/volumes)
# result: {"restored":"<snapshot id>","bytes":N,"durationMs":N}
# lib: fail
set -eu
: "${APP:?}" "${NAME:?}" "${BACKUP:?}" "${RESTIC_REPOSITORY:?}" "${RESTIC_PASSWORD:?}"
case $APP in '' | -* | *[!a-z0-9-]*) fail "invalid APP" 2 ;; esac
case $NAME in '' | -* | *[!a-z0-9-]*) fail "invalid NAME" 2 ;; esac
case $BACKUP in latest) ;; '' | *[!0-9a-f]*) fail "invalid BACKUP (a snapshot id or latest)" 2 ;; esac
root=${VOLUMES_ROOT:-/var/lib/grim/volumes}
case $root in /*) ;; *) fail "VOLUMES_ROOT must be absolute" 2 ;; esac
case $root in *[!A-Za-z0-9/_.-]*) fail "VOLUMES_ROOT has unsafe characters" 2 ;; esac
command -v restic >/dev/null 2>&1 || fail "restic is not installed on this node (apt-get install restic / apk add restic)" 3
export RESTIC_REPOSITORY RESTIC_PASSWORD
[ -n "${AWS_ACCESS_KEY_ID:-}" ] && export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
export RESTIC_CACHE_DIR=/var/cache/grim/restic
path=$root/$APP/$NAME
[ -d "$path" ] || fail "volume $APP/$NAME does not exist on this node: create it first" 4
zvol=$(cat "$root/$APP/.$NAME.zvol" 2>/dev/null) || zvol=
if [ -n "$zvol" ]; then
  [ "${REPLACE:-}" = yes ] || fail "volume $APP/$NAME is a zvol: a restore overwrites it whole (REPLACE=yes)" 5
elif [ "${REPLACE:-}" = yes ]; then
  find "$path" -mindepth 1 -maxdepth 1 ! -name .zfs -exec rm -rf {} +
elif [ -n "$(find "$path" -mindepth 1 -maxdepth 1 ! -name .zfs ! -name lost+found | head -n 1)" ]; then
  fail "volume $APP/$NAME on this node is not empty (restore with REPLACE=yes to overwrite it)" 5
fi
if [ "$BACKUP" = latest ]; then
  id=$(restic snapshots --json --host "$APP" --tag "vol:$NAME" --latest 1 | sed -n 's/.*"short_id":"\([0-9a-f]*\)".*/\1/p' | tail -n 1)
  [ -n "$id" ] || fail "no backup of $APP/$NAME in the repository" 6
else
  id=$BACKUP
fi
# milliseconds since the epoch (seconds * 1000 where date has no %N)
now_ms() {
  t=$(date +%s%N)
  case $t in *N) echo $(($(date +%s) * 1000)) ;; *) echo $((t / 1000000)) ;; esac
}
started=$(now_ms)
if [ -n "$zvol" ]; then
  restic dump "$id" /volume.ext4 >"$zvol"
  ms=$(($(now_ms) - started))
  # shellcheck disable=SC2012 # the size of one file grim named
  bytes=$(if [ -b "$zvol" ]; then blockdev --getsize64 "$zvol"; else ls -ln "$zvol" | awk '{ print $5 }'; fi)
else
  restic restore "$id" --host "$APP" --target "$path" >&2
  ms=$(($(now_ms) - started))
  bytes=$(($(du -sk "$path" | awk '{ print $1 }') * 1024))
fi
printf '{"restored":"%s","bytes":%s,"durationMs":%s}\n' "$id" "$bytes" "$ms"
