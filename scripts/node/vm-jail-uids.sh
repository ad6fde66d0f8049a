#!/bin/sh
# vm-jail-uids.sh - the uids grim's firecracker driver gave to the jailed microVMs on this node (one per VM,
# kept in each instance's jail-uid file), so a new VM gets one no other VM holds. Read-only.
# param: VM_ROOT (optional) - grim's VM state directory, default /var/lib/grim/vm
# result: {"uids":[N,...]}
set -u
uids=''
for f in "${VM_ROOT:-/var/lib/grim/vm}"/instances/*/jail-uid; do
  [ -f "$f" ] || continue
  u=$(cat "$f")
  case $u in '' | *[!0-9]*) continue ;; esac
  uids="$uids${uids:+,}$u"
done
printf '{"uids":[%s]}\n' "$uids"
