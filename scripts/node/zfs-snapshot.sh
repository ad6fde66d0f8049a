#!/bin/sh
# zfs-snapshot.sh - takes, destroys or rolls back to a snapshot.
# Rollback to an older snapshot destroys the newer ones only when DESTROY_NEWER is 1 (zfs rollback -r).
# param: ACTION - create | destroy | rollback
# param: SNAPSHOT - pool/path@name
# param: RECURSIVE (optional) - create/destroy: "1" for the dataset's children too (-r)
# param: DESTROY_NEWER (optional) - rollback: "1" to destroy snapshots newer than SNAPSHOT
# result: {"ok":true,"action":"create","snapshot":"tank/data@daily-2026-12-06","changed":true}
set -eu
RECURSIVE=${RECURSIVE:-}
DESTROY_NEWER=${DESTROY_NEWER:-}

exists() { zfs list -H -t snapshot -o name "$SNAPSHOT" >/dev/null 2>&1; }
set --
changed=true
case $ACTION in
create)
	if [ "$RECURSIVE" = 1 ]; then set -- -r; fi
	if exists; then changed=false; else zfs snapshot "$@" "$SNAPSHOT"; fi
	;;
destroy)
	if [ "$RECURSIVE" = 1 ]; then set -- -r; fi
	if exists; then zfs destroy "$@" "$SNAPSHOT"; else changed=false; fi
	;;
rollback)
	if [ "$DESTROY_NEWER" = 1 ]; then set -- -r; fi
	zfs rollback "$@" "$SNAPSHOT"
	;;
*)
	echo "zfs-snapshot: unknown ACTION $ACTION" >&2
	exit 2
	;;
esac
printf '{"ok":true,"action":"%s","snapshot":"%s","changed":%s}\n' "$ACTION" "$SNAPSHOT" "$changed"
