#!/bin/sh
# volume-backups.sh - lists the restic backups of one app volume (newest last).
# param: APP - app name (the backups' host)
# param: NAME - volume name
# param: RESTIC_REPOSITORY - repository: a path or s3:URL
# param: RESTIC_PASSWORD - the app's repository password
# param: AWS_ACCESS_KEY_ID (optional) - S3 access key
# param: AWS_SECRET_ACCESS_KEY (optional) - S3 secret key
# result: {"backups":[{"id","time","host","tags"}...]} (restic's own JSON objects, one line)
set -eu
: "${APP:?}" "${NAME:?}" "${RESTIC_REPOSITORY:?}" "${RESTIC_PASSWORD:?}"
case $APP in '' | -* | *[!a-z0-9-]*) echo "invalid APP" >&2 && exit 2 ;; esac
case $NAME in '' | -* | *[!a-z0-9-]*) echo "invalid NAME" >&2 && exit 2 ;; esac
command -v restic >/dev/null 2>&1 || { echo "restic is not installed on this node" >&2 && exit 3; }
export RESTIC_REPOSITORY RESTIC_PASSWORD
[ -n "${AWS_ACCESS_KEY_ID:-}" ] && export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
export RESTIC_CACHE_DIR=/var/cache/grim/restic
if ! restic cat config >/dev/null 2>&1; then
  echo '{"backups":[]}'
  exit 0
fi
printf '{"backups":%s}\n' "$(restic snapshots --json --host "$APP" --tag "vol:$NAME" | tr -d '\n')"
