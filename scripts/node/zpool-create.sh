#!/bin/sh
# zpool-create.sh - creates a pool with exactly the `zpool create` arguments grim showed the admin
# (grim checked every word: pool name, by-id disk paths, properties). Refuses to touch an existing pool.
# param: POOL - the pool's name (also one of ARGS)
# param: ARGS - the arguments after `zpool create`, one per line
# result: {"ok":true,"pool":"tank","created":true} ("created":false when the pool already exists)
set -eu

if zpool list -H -o name "$POOL" >/dev/null 2>&1; then
	printf '{"ok":true,"pool":"%s","created":false}\n' "$POOL"
	exit 0
fi

# One argument per line: split on newlines only, no globbing.
set -f
old_ifs=$IFS
IFS='
'
# shellcheck disable=SC2086 # splitting ARGS into words (one per line) is the point
set -- $ARGS
IFS=$old_ifs
set +f

zpool create "$@"
printf '{"ok":true,"pool":"%s","created":true}\n' "$POOL"
