#!/bin/sh
# vm-instance-logs.sh - the tail of an instance's serial console (kernel, grim-init and app output),
# base64-encoded so any bytes survive the JSON result. Read-only.
# param: INSTANCE - instance id
# param: LINES (optional) - lines to return, default 200
# param: VM_ROOT (optional) - grim's VM state directory, default /var/lib/grim/vm
# result: {"base64":"..."}
set -eu
: "${INSTANCE:?}"
case $INSTANCE in *[!a-z0-9-]* | '' | -*) echo '{"ok":false,"error":"invalid INSTANCE"}' && exit 1 ;; esac
LINES=${LINES:-200}
case $LINES in *[!0-9]* | '') echo '{"ok":false,"error":"invalid LINES"}' && exit 1 ;; esac
LOG=${VM_ROOT:-/var/lib/grim/vm}/instances/$INSTANCE/serial.log
printf '{"base64":"%s"}\n' "$(tail -n "$LINES" "$LOG" 2>/dev/null | base64 | tr -d '\n')"
