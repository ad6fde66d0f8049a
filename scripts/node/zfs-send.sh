#!/bin/sh
# zfs-send.sh - writes a replication stream of a snapshot to stdout (grim relays it to the receiving
# node over its own SSH connections: nodes never need keys to each other). With FROM, the stream is
# incremental from that older snapshot of the same dataset (zfs send -i).
# This script is run with `sh -c`, not on stdin: stdout is the stream itself, so it has no JSON result.
# param: SNAPSHOT - pool/path@name to send
# param: FROM (optional) - pool/path@older for an incremental stream
# result: the zfs send stream on stdout (binary)
set -eu
FROM=${FROM:-}

if [ -n "$FROM" ]; then
	exec zfs send -i "$FROM" "$SNAPSHOT"
fi
exec zfs send "$SNAPSHOT"
