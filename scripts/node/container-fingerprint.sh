#!/bin/sh
# container-fingerprint.sh - what this node offers the container runtime: runc/crun, the cgroup layout and its
# controllers, nft/iptables for publishing ports, overlayfs, and the small tools the container scripts use.
# result: {"ok":true,"runc":"VERSION"|"","crun":"VERSION"|"","cgroup":"v1|hybrid|v2|none","controllers":"memory cpu pids ...",
# result:  "nft":BOOL,"iptables":BOOL,"overlay":BOOL,"tools":{"ip":BOOL,"unshare":BOOL,"setsid":BOOL,"sha256sum":BOOL}}
set -u

has() { command -v "$1" >/dev/null 2>&1; }
bool() { if "$@" >/dev/null 2>&1; then echo true; else echo false; fi; }
version() { if has "$1"; then "$1" --version 2>/dev/null | sed -n '1s/^[a-z]* version \([0-9][^ ]*\).*/\1/p'; fi; }

cg=none
controllers=
if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
  cg=v2
  controllers=$(cat /sys/fs/cgroup/cgroup.controllers)
elif [ -f /sys/fs/cgroup/memory/memory.limit_in_bytes ]; then
  cg=v1
  if [ -f /sys/fs/cgroup/unified/cgroup.controllers ]; then cg=hybrid; fi
  for c in cpu cpuacct cpuset memory pids devices freezer blkio; do
    if [ -d "/sys/fs/cgroup/$c" ] && [ -n "$(ls "/sys/fs/cgroup/$c" 2>/dev/null)" ]; then controllers="$controllers${controllers:+ }$c"; fi
  done
fi
printf '{"ok":true,"runc":"%s","crun":"%s","cgroup":"%s","controllers":"%s","nft":%s,"iptables":%s,"overlay":%s,' \
  "$(version runc)" "$(version crun)" "$cg" "$controllers" "$(bool nft list tables)" \
  "$(bool iptables -w -t nat -S)" "$(bool grep -qw overlay /proc/filesystems)"
printf '"tools":{"ip":%s,"unshare":%s,"setsid":%s,"sha256sum":%s}}\n' \
  "$(bool has ip)" "$(bool has unshare)" "$(bool has setsid)" "$(bool has sha256sum)"
