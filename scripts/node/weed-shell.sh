#!/bin/sh
# weed-shell.sh - runs `weed shell` commands against the cluster from this node (with its certificate, so
# gRPC mutual TLS admits it). grim builds the commands from a fixed list; mutating ones run between `lock`
# and `unlock` (the cluster-wide shell lock).
# param: MASTERS - comma-separated master addresses host:port
# param: COMMANDS - weed shell commands, one per line
# param: TIMEOUT_SEC (optional) - how long the shell may run (default 300)
# result: the shell's output, then {"ok":true}
set -eu

: "${MASTERS:?}" "${COMMANDS:?}"
case $MASTERS in *[!A-Za-z0-9.:,\[\]-]*) echo "invalid MASTERS" >&2 && exit 2 ;; esac
t=${TIMEOUT_SEC:-300}
case $t in '' | *[!0-9]*) echo "invalid TIMEOUT_SEC" >&2 && exit 2 ;; esac
cd /etc/seaweedfs
printf '%s\n' "$COMMANDS" | timeout "$t" /opt/seaweedfs/weed shell -master="$MASTERS" 2>&1
echo '{"ok":true}'
