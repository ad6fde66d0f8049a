#!/bin/sh
# zpool-scrub.sh - starts a scrub of a pool (or stops the running one). The result is read later
# from `zpool status` (zfs-status.sh).
# param: POOL - the pool
# param: STOP (optional) - "1" to stop a running scrub (zpool scrub -s)
# result: {"ok":true,"pool":"tank","started":true}
set -eu
STOP=${STOP:-}

if [ "$STOP" = 1 ]; then
	zpool scrub -s "$POOL"
	printf '{"ok":true,"pool":"%s","started":false}\n' "$POOL"
else
	zpool scrub "$POOL"
	printf '{"ok":true,"pool":"%s","started":true}\n' "$POOL"
fi
