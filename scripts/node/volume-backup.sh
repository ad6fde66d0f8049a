#!/bin/sh
# volume-backup.sh - backs up one local volume with restic (initialising the repository on first use), then
# applies retention with `restic forget --keep-last KEEP --prune` for that volume's backups. The repository is a
# local path or an S3 URL (s3:http://host:port/bucket/prefix); it is encrypted with RESTIC_PASSWORD.
# A zvol volume (volume-create.sh left .NAME.zvol naming its device) is streamed as the file /volume.ext4, the
# name a file-backed block volume has in its backups, so either kind restores into the other.
# param: APP - app name (the backup's host)
# param: NAME - volume name (tagged vol:NAME)
# param: RESTIC_REPOSITORY - repository: a path or s3:URL
# param: RESTIC_PASSWORD - the app's repository password
# param: KEEP (optional) - backups kept for the volume (default 7)
# param: AWS_ACCESS_KEY_ID (optional) - S3 access key
# param: AWS_SECRET_ACCESS_KEY (optional) - S3 secret key
# param: VOLUMES_ROOT (optional) - where volumes are mounted (default /var/lib/grim/volumes)
# result: {"snapshotId":"...","bytes":N,"files":N,"added":N,"durationMs":N,"forgotten":N}
# lib: fail
set -eu
: "${APP:?}" "${NAME:?}" "${RESTIC_REPOSITORY:?}" "${RESTIC_PASSWORD:?}"
case $APP in '' | -* | *[!a-z0-9-]*) fail "invalid APP" 2 ;; esac
case $NAME in '' | -* | *[!a-z0-9-]*) fail "invalid NAME" 2 ;; esac
keep=${KEEP:-7}
case $keep in '' | *[!0-9]*) fail "invalid KEEP" 2 ;; esac
root=${VOLUMES_ROOT:-/var/lib/grim/volumes}
case $root in /*) ;; *) fail "VOLUMES_ROOT must be absolute" 2 ;; esac
case $root in *[!A-Za-z0-9/_.-]*) fail "VOLUMES_ROOT has unsafe characters" 2 ;; esac
command -v restic >/dev/null 2>&1 || fail "restic is not installed on this node (apt-get install restic / apk add restic)" 3
export RESTIC_REPOSITORY RESTIC_PASSWORD
[ -n "${AWS_ACCESS_KEY_ID:-}" ] && export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
export RESTIC_CACHE_DIR=/var/cache/grim/restic
path=$root/$APP/$NAME
[ -d "$path" ] || fail "volume $APP/$NAME does not exist on this node" 4
if ! restic cat config >/dev/null 2>&1; then
  restic init >&2 || fail "cannot open or create the restic repository" 5
fi
now_ms() {
  t=$(date +%s%N)
  case $t in *N) echo $(($(date +%s) * 1000)) ;; *) echo $((t / 1000000)) ;; esac
}
started=$(now_ms)
# Back up the volume's content as ".", so it restores into any directory.
zvol=$(cat "$root/$APP/.$NAME.zvol" 2>/dev/null) || zvol=
if [ -n "$zvol" ]; then
  [ -b "$zvol" ] || [ -f "$zvol" ] || fail "the zvol $zvol of $APP/$NAME is missing" 4
  summary=$(restic backup --json --host "$APP" --tag "vol:$NAME" --stdin --stdin-filename volume.ext4 <"$zvol" |
    grep '"message_type":"summary"' | tail -n 1)
else
  summary=$(cd "$path" && restic backup --json --host "$APP" --tag "vol:$NAME" . | grep '"message_type":"summary"' | tail -n 1)
fi
[ -n "$summary" ] || fail "restic backup gave no summary" 6
field() { printf '%s' "$summary" | sed -n "s/.*\"$1\":\\([^,}]*\\).*/\\1/p" | tr -d '"'; }
# One group per volume (its host and tag), whatever paths its backups have (a directory, or a zvol's stream).
# The first line restic prints is the JSON of what it kept and removed; prune's report follows (to stderr here).
forget=$(restic forget --json --host "$APP" --tag "vol:$NAME" --group-by host,tags --keep-last "$keep" --prune)
printf '%s\n' "$forget" | grep -v '^\[' >&2 || true
forgotten=$(printf '%s\n' "$forget" | grep '^\[' | head -n 1 | sed -n 's/.*"remove":\(.*\),"reasons":.*/\1/p' |
  grep -o '"short_id"' | wc -l)
ended=$(now_ms)
printf '{"snapshotId":"%s","bytes":%s,"files":%s,"added":%s,"durationMs":%s,"forgotten":%s}\n' \
  "$(field snapshot_id)" "$(field total_bytes_processed)" "$(field total_files_processed)" \
  "$(field data_added)" "$((ended - started))" "$((forgotten + 0))"
