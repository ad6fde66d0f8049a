#!/bin/sh
# vm-fc-stop.sh - graceful stop of one supervised firecracker instance, run by the supervisor before it
# ends the session: SendCtrlAltDel through the API socket (grim's guest init gives the app SIGTERM, syncs
# and reboots; Firecracker exits on the guest's reboot), then wait up to ~9.5 s for the VMM to exit.
# param: GRIM_VM_DIR - the instance's directory (vmm.pid: the VMM's pid)
# param: GRIM_VM_API_SOCKET - the VMM's API socket as seen from the node
# result: none; exit 0 in every case (the supervisor kills what is left, vm-fc-run.sh cleans up)
cd "$GRIM_VM_DIR" || exit 0
pid=$(cat vmm.pid 2>/dev/null) || exit 0
[ -S "$GRIM_VM_API_SOCKET" ] || exit 0
curl -sS -o /dev/null --max-time 2 --unix-socket "$GRIM_VM_API_SOCKET" -X PUT \
  -H 'Content-Type: application/json' --data '{"action_type":"SendCtrlAltDel"}' \
  http://localhost/actions || exit 0
n=0
while kill -0 "$pid" 2>/dev/null && [ $n -lt 95 ]; do
  sleep 0.1
  n=$((n + 1))
done
exit 0
