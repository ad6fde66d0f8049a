#!/bin/sh
# vm-fingerprint.sh - can this node run grim microVMs? Reports the tools the VM drivers need. Read-only.
# result: {"qemu":"path"|null,"firecracker":"path"|null,"jailer":"path"|null,"mkfsExt4":bool,"nft":bool,
# result:  "socat":bool,"staticBusybox":bool,"kvm":bool,"tun":bool,"cpuKhz":N,"jailerOff":bool}
# jailerOff: the admin turned the jailer off for this node (the file /etc/grim/firecracker-no-jailer exists);
# otherwise grim runs Firecracker under the jailer wherever the jailer is installed.
set -u
path_or_null() { p=$(command -v "$1" 2>/dev/null) && printf '"%s"' "$p" || printf null; }
yes_no() { if "$@" >/dev/null 2>&1; then printf true; else printf false; fi; }
static_busybox() { [ -x /bin/busybox ] && ! grep -qa -e /ld-linux -e /ld-musl /bin/busybox; }
printf '{"qemu":%s,"firecracker":%s,"jailer":%s,"mkfsExt4":%s,"nft":%s,"socat":%s,"staticBusybox":%s,"kvm":%s,"tun":%s,"cpuKhz":%s,"jailerOff":%s}\n' \
  "$(path_or_null qemu-system-x86_64)" "$(path_or_null firecracker)" "$(path_or_null jailer)" \
  "$(yes_no command -v mkfs.ext4)" "$(yes_no command -v nft)" "$(yes_no command -v socat)" \
  "$(yes_no static_busybox)" "$(yes_no test -w /dev/kvm)" \
  "$(yes_no sh -c '[ -c /dev/net/tun ] || [ -w /dev ]')" \
  "$(awk -F': ' '/cpu MHz/ { printf "%d", $2 * 1000; found = 1; exit } END { if (!found) printf "0" }' /proc/cpuinfo)" \
  "$(yes_no test -e /etc/grim/firecracker-no-jailer)"
