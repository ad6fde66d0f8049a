#!/bin/sh
# zpool-destroy.sh - destroys a pool and everything on it (grim asks the admin to type its name first).
# zfs-fuse sometimes answers "pool is busy" right after create/replace although it already unmounted
# the datasets; the command is retried a few times.
# param: POOL - the pool to destroy
# result: {"ok":true,"pool":"tank","destroyed":true} ("destroyed":false when there was no such pool)
set -u

if ! zpool list -H -o name "$POOL" >/dev/null 2>&1; then
	printf '{"ok":true,"pool":"%s","destroyed":false}\n' "$POOL"
	exit 0
fi
i=0
until err=$(zpool destroy "$POOL" 2>&1); do
	i=$((i + 1))
	case $err in
	*busy*) if [ "$i" -ge 10 ]; then break; fi ;;
	*) break ;;
	esac
	sleep 1
done
if zpool list -H -o name "$POOL" >/dev/null 2>&1; then
	echo "zpool-destroy: $err" >&2
	exit 1
fi
printf '{"ok":true,"pool":"%s","destroyed":true}\n' "$POOL"
