#!/bin/sh
# zfs-inventory.sh - what a storage node has: its disks (with /dev/disk/by-id names, size, kind, model,
# serial, partitions, filesystem, holders, mounts, SMART health where smartctl exists) and what its
# ZFS supports (raw `zpool upgrade -v`, whether the daemon/module answers, whether `zpool status -j` works).
# Read-only. Lab disks are regular files behind /dev/disk/by-id links; they are listed as kind "file".
# result: {"zfs":{"zpool":true,"answers":true,"upgradeV":"...","jsonStatus":false},
# result:  "disks":[{"path","dev","kind","sizeBytes","rotational","transport","model","serial",
# result:  "partitions","fstype","holders","mounted","smart"}]}
set -u

# Print $1 as a JSON string (quotes, backslashes and control characters escaped).
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

json_num() {
	case "$1" in
	'' | *[!0-9]*) printf '0' ;;
	*) printf '%s' "$1" ;;
	esac
}

read_trimmed() {
	[ -r "$1" ] || return 0
	head -n 1 "$1" 2>/dev/null | sed -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//'
}

# The best /dev/disk/by-id link of a block device (not wwn-, not a partition), or /dev/NAME.
by_id_of() {
	best=
	for link in /dev/disk/by-id/*; do
		[ -L "$link" ] || continue
		case ${link##*/} in wwn-* | *-part[0-9]*) continue ;; esac
		target=$(readlink -f "$link" 2>/dev/null) || continue
		if [ "$target" = "/dev/$1" ]; then
			best=$link
			break
		fi
	done
	printf '%s' "${best:-/dev/$1}"
}

disk_json() { # path dev kind size rotational transport model serial partitions fstype holders mounted smart
	printf '{"path":%s,"dev":%s,"kind":"%s","sizeBytes":%s,"rotational":%s,"transport":%s,"model":%s,"serial":%s,' \
		"$(json_str "$1")" "$(json_str "$2")" "$3" "$(json_num "$4")" "$5" "$(json_str "$6")" \
		"$(json_str "$7")" "$(json_str "$8")"
	printf '"partitions":%s,"fstype":%s,"holders":%s,"mounted":%s,"smart":%s}' \
		"$(json_num "$9")" "$(json_str "${10}")" "$(json_num "${11}")" "${12}" "$(json_str "${13}")"
}

mounted_dev() {
	if grep -q "^/dev/$1[0-9p]* " /proc/mounts 2>/dev/null; then printf true; else printf false; fi
}

smart_of() {
	command -v smartctl >/dev/null 2>&1 || return 0
	smartctl -j -H -i "$1" 2>/dev/null | tr -d '\n'
}

disks_json() {
	sep=''
	printf '['
	for sys in /sys/block/*; do
		[ -e "$sys" ] || continue
		name=${sys##*/}
		case "$name" in loop* | ram* | zram* | zd* | dm-* | md* | sr* | fd*) continue ;; esac
		sectors=$(json_num "$(read_trimmed "$sys/size")")
		[ "$sectors" -gt 0 ] || continue
		if [ "$(read_trimmed "$sys/queue/rotational")" = 1 ]; then rota=true; else rota=false; fi
		case "$name" in nvme*) transport=nvme ;; *) transport=$(read_trimmed "$sys/device/transport") ;; esac
		serial=$(read_trimmed "$sys/device/serial")
		[ -n "$serial" ] || serial=$(read_trimmed "$sys/serial")
		parts=0
		for p in "$sys/$name"*; do [ -e "$p/partition" ] && parts=$((parts + 1)); done
		holders=$(find "$sys/holders" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
		fstype=
		if command -v blkid >/dev/null 2>&1 && [ -b "/dev/$name" ]; then
			fstype=$(blkid -o value -s TYPE "/dev/$name" 2>/dev/null)
		fi
		printf '%s' "$sep"
		disk_json "$(by_id_of "$name")" "/dev/$name" block "$((sectors * 512))" "$rota" "$transport" \
			"$(read_trimmed "$sys/device/model")" "$serial" "$parts" "$fstype" "$holders" \
			"$(mounted_dev "$name")" "$(smart_of "/dev/$name")"
		sep=','
	done
	# Disks that are regular files behind by-id links (the lab's sparse-file disks).
	for link in /dev/disk/by-id/*; do
		[ -L "$link" ] || continue
		target=$(readlink -f "$link" 2>/dev/null) || continue
		[ -f "$target" ] || continue
		size=$(wc -c <"$target" 2>/dev/null | tr -d ' ')
		printf '%s' "$sep"
		disk_json "$link" "$target" file "$size" false file "sparse file" "${link##*/}" 0 "" 0 false ""
		sep=','
	done
	printf ']'
}

zpool_ok=false
answers=false
upgrade=
json_status=false
if command -v zpool >/dev/null 2>&1; then
	zpool_ok=true
	if zpool list -H -o name >/dev/null 2>&1; then answers=true; fi
	upgrade=$(zpool upgrade -v 2>&1 | head -n 80)
	if zpool status -j >/dev/null 2>&1; then json_status=true; fi
fi

printf '{"zfs":{"zpool":%s,"answers":%s,"upgradeV":%s,"jsonStatus":%s},"disks":%s}\n' \
	"$zpool_ok" "$answers" "$(json_str "$upgrade")" "$json_status" "$(disks_json)"
