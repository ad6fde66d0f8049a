#!/bin/sh
# zpool-import.sh - lists pools that can be imported, or imports one (to adopt an existing pool).
# Without DIR, zpool searches /dev; pools on file disks need the directory the files are in.
# param: POOL (optional) - the pool name (or numeric id) to import; empty = only list
# param: DIR (optional) - directory to search (zpool import -d)
# result: {"ok":true,"imported":"tank"|null,"listing":"<zpool import output>"}
set -u
POOL=${POOL:-}
DIR=${DIR:-}

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

set --
if [ -n "$DIR" ]; then set -- -d "$DIR"; fi
listing=$(zpool import "$@" 2>&1)
if [ -z "$POOL" ]; then
	printf '{"ok":true,"imported":null,"listing":%s}\n' "$(json_str "$listing")"
	exit 0
fi
if zpool list -H -o name "$POOL" >/dev/null 2>&1; then
	printf '{"ok":true,"imported":%s,"listing":%s}\n' "$(json_str "$POOL")" "$(json_str "$listing")"
	exit 0
fi
zpool import "$@" "$POOL" || exit 1
zfs mount -a 2>/dev/null || true
printf '{"ok":true,"imported":%s,"listing":%s}\n' "$(json_str "$POOL")" "$(json_str "$listing")"
