#!/bin/sh
# facts.sh - report the node's OS, hardware and installed runtime tools. Read-only.
# result: {"os":{"id","version","prettyName"},"kernel","arch","hostname","cpus","memoryBytes",
# result:  "disks":[{"name","sizeBytes","rotational","model","serial"}],"kvm","tools":{"firecracker",...},
# result:  "cgroup":"v1"|"v2","init":"systemd"|"openrc"|"none",
# result:  "zpools":[{"name","sizeBytes","freeBytes","health"}],"kvmUsable":bool,"fuse":bool}
# kvmUsable: /dev/kvm is a character device this user can open read-write (what Firecracker needs).
# Disks: block devices from /sys/block, except loop, ram and zram devices and empty (size 0) ones.
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

# A number, or 0 when the value is not one.
json_num() {
	case "$1" in
	'' | *[!0-9]*) printf '0' ;;
	*) printf '%s' "$1" ;;
	esac
}

json_bool() {
	if [ "$1" = 1 ]; then printf 'true'; else printf 'false'; fi
}

# Value of KEY in /etc/os-release, unquoted (the file is parsed, never sourced).
os_field() {
	[ -r /etc/os-release ] || return 0
	sed -n "s/^$1=//p" /etc/os-release | head -n 1 | sed -e 's/^"\(.*\)"$/\1/' -e "s/^'\(.*\)'\$/\1/"
}

# First line of a sysfs file with surrounding blanks removed; empty when missing.
read_trimmed() {
	[ -r "$1" ] || return 0
	head -n 1 "$1" 2>/dev/null | sed -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//'
}

cpu_count() {
	if command -v nproc >/dev/null 2>&1; then
		nproc
	else
		grep -c '^processor' /proc/cpuinfo
	fi
}

memory_bytes() {
	kb=$(awk '$1 == "MemTotal:" { print $2 }' /proc/meminfo)
	echo $(($(json_num "$kb") * 1024))
}

disks_json() {
	sep=''
	printf '['
	for dev in /sys/block/*; do
		[ -e "$dev" ] || continue
		name=${dev##*/}
		case "$name" in loop* | ram* | zram*) continue ;; esac
		sectors=$(json_num "$(read_trimmed "$dev/size")")
		[ "$sectors" -gt 0 ] || continue
		rotational=$(read_trimmed "$dev/queue/rotational")
		serial=$(read_trimmed "$dev/device/serial")
		[ -n "$serial" ] || serial=$(read_trimmed "$dev/serial")
		printf '%s{"name":%s,"sizeBytes":%s,"rotational":%s,"model":%s,"serial":%s}' "$sep" \
			"$(json_str "$name")" "$((sectors * 512))" "$(json_bool "$rotational")" \
			"$(json_str "$(read_trimmed "$dev/device/model")")" "$(json_str "$serial")"
		sep=','
	done
	printf ']'
}

tools_json() {
	sep=''
	printf '{'
	for tool in firecracker jailer qemu-system-x86_64 crun runc zpool weed; do
		if command -v "$tool" >/dev/null 2>&1; then found=1; else found=0; fi
		printf '%s"%s":%s' "$sep" "$tool" "$(json_bool "$found")"
		sep=','
	done
	printf '}'
}

# ZFS pools with their size and free space in bytes (zfs-fuse has no -p: its rounded sizes are converted).
zpools_json() {
	out=
	if command -v zpool >/dev/null 2>&1; then
		out=$(zpool list -Hp -o name,size,free,health 2>/dev/null) || out=$(zpool list -H -o name,size,free,health 2>/dev/null) || out=
	fi
	printf '%s\n' "$out" | awk -F '\t' '
		function bytes(v, n, u, i, m) {
			u = substr(v, length(v)); n = v + 0; m = 1
			for (i = 1; i <= 6; i++) { m *= 1024; if (u == substr("KMGTPE", i, 1)) return n * m }
			return n
		}
		BEGIN { printf "[" }
		NF == 4 && $1 ~ /^[A-Za-z][A-Za-z0-9_.:-]*$/ {
			printf "%s{\"name\":\"%s\",\"sizeBytes\":%.0f,\"freeBytes\":%.0f,\"health\":\"%s\"}", sep, $1, bytes($2), bytes($3), $4
			sep = ","
		}
		END { printf "]" }'
}

init_system() {
	if [ -d /run/systemd/system ]; then
		echo systemd
	elif [ -d /run/openrc ] || command -v openrc >/dev/null 2>&1; then
		echo openrc
	else
		echo none
	fi
}

if [ -e /sys/fs/cgroup/cgroup.controllers ]; then cgroup=v2; else cgroup=v1; fi
if [ -c /dev/kvm ]; then kvm=1; else kvm=0; fi
if [ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ]; then kvm_usable=1; else kvm_usable=0; fi
if [ -c /dev/fuse ]; then fuse=1; else fuse=0; fi
host=$(cat /proc/sys/kernel/hostname 2>/dev/null || hostname)

printf '{"os":{"id":%s,"version":%s,"prettyName":%s},' \
	"$(json_str "$(os_field ID)")" "$(json_str "$(os_field VERSION_ID)")" "$(json_str "$(os_field PRETTY_NAME)")"
printf '"kernel":%s,"arch":%s,"hostname":%s,"cpus":%s,"memoryBytes":%s,' \
	"$(json_str "$(uname -r)")" "$(json_str "$(uname -m)")" "$(json_str "$host")" \
	"$(json_num "$(cpu_count)")" "$(memory_bytes)"
printf '"disks":%s,"kvm":%s,"tools":%s,"cgroup":"%s","init":"%s","zpools":%s,' \
	"$(disks_json)" "$(json_bool "$kvm")" "$(tools_json)" "$cgroup" "$(init_system)" "$(zpools_json)"
printf '"kvmUsable":%s,"fuse":%s}\n' "$(json_bool "$kvm_usable")" "$(json_bool "$fuse")"
