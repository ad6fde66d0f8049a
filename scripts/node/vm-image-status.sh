#!/bin/sh
# vm-image-status.sh - is a disk image cached on this node? Read-only.
# param: KEY - cache key (see vm-image-build.sh)
# param: VM_ROOT (optional) - grim's VM state directory, default /var/lib/grim/vm
# result: {"key","cached":true|false,"disk"}
set -eu
: "${KEY:?}"
case $KEY in *[!a-z0-9._-]* | '' | .*) echo '{"ok":false,"error":"invalid KEY"}' && exit 1 ;; esac
DISK=${VM_ROOT:-/var/lib/grim/vm}/images/$KEY/disk.ext4
if [ -f "$DISK" ]; then cached=true; else cached=false; fi
printf '{"key":"%s","cached":%s,"disk":"%s"}\n' "$KEY" "$cached" "$DISK"
