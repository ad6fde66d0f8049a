#!/bin/sh
# zpool-device.sh - one change to a pool's device: take it offline, bring it online, replace it with
# a new disk (the resilver then runs in the background), or clear its error counters.
# param: ACTION - offline | online | replace | clear
# param: POOL - the pool
# param: DEVICE (optional) - the device as zpool status names it (path, by-id name or GUID); clear: empty = whole pool
# param: NEW_DEVICE (optional) - replace: the new disk (a by-id path)
# result: {"ok":true,"action":"replace","pool":"tank"}
set -eu
DEVICE=${DEVICE:-}
NEW_DEVICE=${NEW_DEVICE:-}

case $ACTION in
offline) zpool offline "$POOL" "$DEVICE" ;;
online) zpool online "$POOL" "$DEVICE" ;;
replace) zpool replace "$POOL" "$DEVICE" "$NEW_DEVICE" ;;
clear)
	if [ -n "$DEVICE" ]; then zpool clear "$POOL" "$DEVICE"; else zpool clear "$POOL"; fi
	;;
*)
	echo "zpool-device: unknown ACTION $ACTION" >&2
	exit 2
	;;
esac
printf '{"ok":true,"action":"%s","pool":"%s"}\n' "$ACTION" "$POOL"
