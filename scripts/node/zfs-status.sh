#!/bin/sh
# zfs-status.sh - the node's pools and datasets as ZFS prints them, for grim to parse: `zpool status`
# (also `zpool status -j` where it exists), `zpool list -H`, and exact byte values of every dataset
# and snapshot from `zfs get -Hp` (which works on every ZFS version, zfs-fuse included). Read-only.
# param: POOL (optional) - only this pool
# result: {"answers":true,"status":"<zpool status text>","statusJson":"<zpool status -j or empty>",
# result:  "list":"<zpool list -H lines>","props":"<zfs get -Hp lines>","types":"<zfs list -H name,type>"}
set -u
POOL=${POOL:-}

json_str() {
	printf '%s' "$1" | awk '
		BEGIN { ORS = ""; for (i = 1; i < 32; i++) ctl[sprintf("%c", i)] = sprintf("\\u%04x", i); printf "\"" }
		{
			if (NR > 1) printf "\\n"
			n = length($0)
			for (i = 1; i <= n; i++) {
				c = substr($0, i, 1)
				if (c == "\\") printf "\\\\"
				else if (c == "\"") printf "\\\""
				else if (c in ctl) printf "%s", ctl[c]
				else printf "%s", c
			}
		}
		END { printf "\"" }'
}

if ! command -v zpool >/dev/null 2>&1; then
	echo "zfs-status: zpool is not installed on this node" >&2
	exit 3
fi
if ! err=$(zpool list -H -o name 2>&1); then
	echo "zfs-status: ZFS does not answer: $err" >&2
	exit 4
fi

# With no POOL the word list is empty and zpool reports on every pool.
set --
if [ -n "$POOL" ]; then set -- "$POOL"; fi

status=$(zpool status -v "$@" 2>&1)
status_json=$(zpool status -j "$@" 2>/dev/null) || status_json=
fields=name,size,allocated,free,capacity,health
list=$(zpool list -Hp -o "$fields" "$@" 2>/dev/null) || list=$(zpool list -H -o "$fields" "$@" 2>&1)
props=$(zfs get -Hp -r -o name,property,value \
	used,available,referenced,quota,refquota,reservation,refreservation,compression,recordsize,mountpoint,compressratio,creation \
	"$@" 2>/dev/null)
types=$(zfs list -H -r -t all -o name,type "$@" 2>/dev/null)

printf '{"answers":true,"status":%s,"statusJson":%s,"list":%s,"props":%s,"types":%s}\n' \
	"$(json_str "$status")" "$(json_str "$status_json")" "$(json_str "$list")" \
	"$(json_str "$props")" "$(json_str "$types")"
