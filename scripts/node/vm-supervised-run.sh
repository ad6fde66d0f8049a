#!/bin/sh
# vm-supervised-run.sh - the foreground command grim's node-side supervisor keeps alive for one
# qemu-microvm instance: publish the instance's nat ports, then run QEMU (run.sh) in the foreground.
# The supervisor itself puts this process (and so QEMU) into the cgroup grim/<instance>.
# param: GRIM_VM_DIR - the instance's directory (run.sh, qemu.pid, qmp.sock)
# param: GRIM_VM_PORTS (optional) - space-separated "hostPort:guestIp:guestPort" to publish
# result: none; execs QEMU, which runs until the guest reboots or is stopped
cd "$GRIM_VM_DIR" || exit 1
for p in ${GRIM_VM_PORTS:-}; do
  host_port=${p%%:*}
  rest=${p#*:}
  nft add element ip grim_vm_nat ports "{ $host_port : ${rest%%:*} . ${rest#*:} }" || exit 1
done
echo "${GRIM_VM_PORTS:-}" >ports
exec sh ./run.sh
