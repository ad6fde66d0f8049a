#!/bin/sh
# zfs-recv.sh - receives a replication stream from stdin into DATASET (zfs receive -F: the target
# is rolled back to its latest snapshot first, so an incremental stream applies cleanly).
# This script is run with `sh -c`, not on stdin: stdin is the stream itself.
# param: DATASET - pool/path to receive into (its parent must exist)
# result: {"ok":true,"dataset":"tank/copy","snapshots":["tank/copy@s1"]}
set -eu

zfs receive -F "$DATASET"
snaps=$(zfs list -H -t snapshot -o name -r "$DATASET" 2>/dev/null | awk -v d="$DATASET@" 'index($0, d) == 1 { printf "%s\"%s\"", sep, $0; sep = "," }')
printf '{"ok":true,"dataset":"%s","snapshots":[%s]}\n' "$DATASET" "$snaps"
