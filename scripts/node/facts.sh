#!/bin/sh
# facts.sh - report the node's OS, hardware and installed runtime tools. Read-only.
# result: {"os":{"id","version","prettyName"},"kernel","arch","hostname","cpus","memoryBytes",
# result:  "disks":[{"name","sizeBytes","rotational","model","serial"}],"kvm","tools":{"firecracker",...},
# result:  "cgroup":"v1"|"v2","init":"systemd"|"openrc"|"none",
# result:  "zpools":[{"name","sizeBytes","freeBytes","health"}],"kvmUsable":bool,"kvmCheck","kvmProblem","fuse":bool}
# kvmUsable: /dev/kvm is a character device this user can open read-write AND, where QEMU is installed, a tiny
#   test guest really runs under KVM: a 512-byte boot sector that writes to QEMU's isa-debug-exit port, bounded by
#   `timeout` (with nested virtualization, /dev/kvm can open fine while every guest hangs). The verdict is kept
#   in /run/grim/kvm-probe for the rest of this boot, so refreshing facts does not boot a guest each time.
# kvmCheck: "guest" (a test guest ran, or failed to), "open" (only the read-write open was checked: no QEMU or
#   timeout here), "none" (no /dev/kvm). kvmProblem: why KVM is not usable ("" when it is).
# param: KVM_PROBE_CACHE (optional) - file keeping this boot's KVM verdict (default /run/grim/kvm-probe; empty: none)
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

KVM_PROBE_SECONDS=5
KVM_PROBE_CACHE=${KVM_PROBE_CACHE-/run/grim/kvm-probe}

# Boots a 512-byte guest under KVM: mov dx,0xf4; mov al,0x10; out dx,al (isa-debug-exit: QEMU exits with
# status 0x10*2+1 = 33); hlt. Sets kvm_usable (1/0) and kvm_problem.
kvm_guest_probe() {
	boot_id=$(cat /proc/sys/kernel/random/boot_id 2>/dev/null || echo unknown)
	if [ -n "$KVM_PROBE_CACHE" ] && [ -r "$KVM_PROBE_CACHE" ]; then
		IFS=' ' read -r cached_boot kvm_usable kvm_problem <"$KVM_PROBE_CACHE" || :
		[ "$cached_boot" = "$boot_id" ] && return 0
	fi
	disk=$(mktemp) || {
		kvm_usable=0 kvm_problem='cannot create a temporary file for the KVM test guest'
		return 0
	}
	dd if=/dev/zero of="$disk" bs=512 count=1 2>/dev/null
	printf '\272\364\000\260\020\356\364' | dd of="$disk" conv=notrunc 2>/dev/null
	printf '\125\252' | dd of="$disk" bs=1 seek=510 conv=notrunc 2>/dev/null
	err=$(timeout "$KVM_PROBE_SECONDS" qemu-system-x86_64 -accel kvm -M pc -m 16 -nodefaults -display none \
		-no-reboot -device isa-debug-exit,iobase=0xf4,iosize=1 -drive "file=$disk,format=raw,if=floppy" 2>&1 >/dev/null)
	rc=$?
	rm -f "$disk"
	if [ "$rc" = 33 ]; then
		kvm_usable=1 kvm_problem=
	elif [ "$rc" = 124 ] || [ "$rc" -gt 128 ]; then
		kvm_usable=0
		kvm_problem="/dev/kvm opens, but a test guest under KVM did not finish within ${KVM_PROBE_SECONDS} s (nested virtualization?)"
	else
		kvm_usable=0
		kvm_problem="/dev/kvm opens, but QEMU could not run a test guest under KVM: $(printf '%s\n' "$err" | grep -v '^qemu-system-x86_64: warning' | head -n 1)"
	fi
	if [ -n "$KVM_PROBE_CACHE" ] && mkdir -p "${KVM_PROBE_CACHE%/*}" 2>/dev/null; then
		printf '%s %s %s\n' "$boot_id" "$kvm_usable" "$kvm_problem" >"$KVM_PROBE_CACHE.$$" 2>/dev/null &&
			mv -f "$KVM_PROBE_CACHE.$$" "$KVM_PROBE_CACHE" 2>/dev/null
	fi
	return 0
}

kvm_facts() {
	kvm_check=none kvm_usable=0 kvm_problem='no /dev/kvm'
	[ -c /dev/kvm ] || return 0
	if ! [ -r /dev/kvm ] || ! [ -w /dev/kvm ]; then
		kvm_check=open kvm_problem="/dev/kvm is not readable and writable by $(id -un 2>/dev/null || echo this user)"
		return 0
	fi
	if command -v qemu-system-x86_64 >/dev/null 2>&1 && command -v timeout >/dev/null 2>&1; then
		kvm_check=guest
		kvm_guest_probe
	else
		kvm_check=open kvm_usable=1 kvm_problem=
	fi
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
kvm_facts
if [ -c /dev/fuse ]; then fuse=1; else fuse=0; fi
host=$(cat /proc/sys/kernel/hostname 2>/dev/null || hostname)

printf '{"os":{"id":%s,"version":%s,"prettyName":%s},' \
	"$(json_str "$(os_field ID)")" "$(json_str "$(os_field VERSION_ID)")" "$(json_str "$(os_field PRETTY_NAME)")"
printf '"kernel":%s,"arch":%s,"hostname":%s,"cpus":%s,"memoryBytes":%s,' \
	"$(json_str "$(uname -r)")" "$(json_str "$(uname -m)")" "$(json_str "$host")" \
	"$(json_num "$(cpu_count)")" "$(memory_bytes)"
printf '"disks":%s,"kvm":%s,"tools":%s,"cgroup":"%s","init":"%s","zpools":%s,' \
	"$(disks_json)" "$(json_bool "$kvm")" "$(tools_json)" "$cgroup" "$(init_system)" "$(zpools_json)"
printf '"kvmUsable":%s,"kvmCheck":"%s","kvmProblem":%s,"fuse":%s}\n' "$(json_bool "$kvm_usable")" "$kvm_check" \
	"$(json_str "$kvm_problem")" "$(json_bool "$fuse")"
