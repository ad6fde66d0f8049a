#!/bin/sh
# zfs-dataset.sh - creates a dataset (parents too) with properties, changes properties, or destroys
# a dataset with its snapshots and children. Creating an existing dataset only sets the properties.
# param: ACTION - create | set | destroy
# param: DATASET - pool/path
# param: PROPS (optional) - property=value pairs, one per line (quota=1073741824, compression=on, ...)
# result: {"ok":true,"action":"create","dataset":"tank/data","changed":true}
set -eu
PROPS=${PROPS:-}

exists() { zfs list -H -o name "$DATASET" >/dev/null 2>&1; }

# Properties as words: split on newlines only, no globbing.
set -f
old_ifs=$IFS
IFS='
'
# shellcheck disable=SC2086 # one property per line
set -- $PROPS
IFS=$old_ifs
set +f

changed=true
case $ACTION in
create)
	if exists; then
		changed=false
		for p in "$@"; do zfs set "$p" "$DATASET"; done
	else
		# each property becomes "-o property=value"
		n=$#
		for p in "$@"; do set -- "$@" -o "$p"; done
		shift "$n"
		zfs create -p "$@" "$DATASET"
	fi
	;;
set)
	for p in "$@"; do zfs set "$p" "$DATASET"; done
	;;
destroy)
	if exists; then zfs destroy -r "$DATASET"; else changed=false; fi
	;;
*)
	echo "zfs-dataset: unknown ACTION $ACTION" >&2
	exit 2
	;;
esac
printf '{"ok":true,"action":"%s","dataset":"%s","changed":%s}\n' "$ACTION" "$DATASET" "$changed"
