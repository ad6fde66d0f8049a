#!/bin/sh
# container-logs.sh - the tail of a container instance's stdout (INSTANCE_DIR/output.log), then (when it wrote
# any) a line "--- stderr ---" and the tail of its stderr (stderr.log), followed by a newline and the result line.
# param: STATE_DIR - grim's state directory on the node, e.g. /var/lib/grim
# param: INSTANCE_ID - instance id ([a-z0-9-])
# param: TAIL_LINES - how many lines
# result: the log lines, then {"ok":true}
set -u

case ${STATE_DIR:-} in /*) ;; *) echo '{"ok":false,"error":"STATE_DIR must be an absolute path"}' && exit 1 ;; esac
case ${INSTANCE_ID:-} in *[!a-z0-9-]* | -* | '') echo '{"ok":false,"error":"invalid INSTANCE_ID"}' && exit 1 ;; esac
case ${TAIL_LINES:-} in *[!0-9]* | '') echo '{"ok":false,"error":"TAIL_LINES must be an integer"}' && exit 1 ;; esac
log=$STATE_DIR/containers/$INSTANCE_ID/output.log
if [ -f "$log" ]; then tail -n "$TAIL_LINES" "$log"; fi
err=$STATE_DIR/containers/$INSTANCE_ID/stderr.log
if [ -s "$err" ]; then
  printf '\n--- stderr ---\n'
  tail -n "$TAIL_LINES" "$err"
fi
printf '\n{"ok":true}\n'
