#!/bin/sh
# vm-supervised-stop.sh - graceful stop of one supervised qemu-microvm instance, run by the supervisor
# before it ends the session: Ctrl-Alt-Del over QMP (grim's guest init gives the app SIGTERM, syncs and
# reboots; -no-reboot ends QEMU), then wait up to ~9.5 s for QEMU to exit.
# param: GRIM_VM_DIR - the instance's directory (qemu.pid, qmp.sock)
# result: none; exit 0 in every case (the supervisor kills what is left)
cd "$GRIM_VM_DIR" || exit 0
pid=$(cat qemu.pid 2>/dev/null) || exit 0
printf '%s\n' '{"execute":"qmp_capabilities"}' \
  '{"execute":"send-key","arguments":{"keys":[{"type":"qcode","data":"ctrl"},{"type":"qcode","data":"alt"},{"type":"qcode","data":"delete"}]}}' |
  socat -t1 - UNIX-CONNECT:qmp.sock >/dev/null 2>&1 || exit 0
n=0
while kill -0 "$pid" 2>/dev/null && [ $n -lt 95 ]; do
  sleep 0.1
  n=$((n + 1))
done
exit 0
