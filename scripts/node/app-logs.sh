#!/bin/sh
# app-logs.sh - prints the tail of one app instance's output: its stdout with the supervisor's restart notes,
# then (when it wrote any) a line "--- stderr ---" and the tail of its stderr; then one JSON line.
# param: INSTANCE_ID - instance id
# param: TAIL_LINES (optional) - how many lines (default 100)
# param: GRIM_APPS_DIR (optional) - directory of instance directories (default /var/lib/grim/apps)
# result: the log lines, then {"ok":true,"found":true|false}
set -u

: "${INSTANCE_ID:?}"
case $INSTANCE_ID in '' | *[!a-z0-9-]*) echo "invalid INSTANCE_ID" >&2 && exit 2 ;; esac
apps=${GRIM_APPS_DIR:-/var/lib/grim/apps}
lines=${TAIL_LINES:-100}
case $lines in '' | *[!0-9]*) lines=100 ;; esac
dir=$apps/$INSTANCE_ID
if [ ! -f "$dir/log" ]; then
  echo '{"ok":true,"found":false}'
  exit 0
fi
cat "$dir/log.1" "$dir/log" 2>/dev/null | tail -n "$lines"
if [ -s "$dir/stderr" ] || [ -s "$dir/stderr.1" ]; then
  echo
  echo '--- stderr ---'
  cat "$dir/stderr.1" "$dir/stderr" 2>/dev/null | tail -n "$lines"
fi
echo
echo '{"ok":true,"found":true}'
