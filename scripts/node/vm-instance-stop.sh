#!/bin/sh
# vm-instance-stop.sh - stop an instance's microVM gracefully: mark the stop (the supervisor will not
# restart it), press Ctrl-Alt-Del through QMP (grim's guest init sends SIGTERM to the app, waits, syncs
# and reboots, and QEMU exits), then QMP quit, SIGTERM and SIGKILL as the timeout runs out.
# Idempotent: stopping a stopped instance succeeds. Needs socat for QMP (without it: SIGTERM only).
# param: INSTANCE - instance id
# param: MARK_ONLY (optional) - "1": only mark the stop (the supervisor will not restart the VMM) and return;
#   the Firecracker driver then stops the guest through its API
# param: TIMEOUT_S (optional) - seconds for the graceful part, default 20
# param: VM_ROOT (optional) - grim's VM state directory, default /var/lib/grim/vm
# result: {"wasRunning":true|false,"graceful":true|false,"forced":"none"|"quit"|"term"|"kill"}
# lib: fail
set -eu
: "${INSTANCE:?}"
case $INSTANCE in *[!a-z0-9-]* | '' | -*) fail "invalid INSTANCE '$INSTANCE'" ;; esac
DIR=${VM_ROOT:-/var/lib/grim/vm}/instances/$INSTANCE
TIMEOUT_S=${TIMEOUT_S:-20}
[ -d "$DIR" ] || {
  echo '{"wasRunning":false,"graceful":false,"forced":"none"}'
  exit 0
}
touch "$DIR/stop-requested"
if [ "${MARK_ONLY:-0}" = 1 ]; then
  echo '{"wasRunning":false,"graceful":false,"forced":"none"}'
  exit 0
fi
# the VMM: firecracker writes vmm.pid, QEMU qemu.pid
qemu=$(cat "$DIR/vmm.pid" 2>/dev/null || cat "$DIR/qemu.pid" 2>/dev/null || true)
alive() { [ -n "$qemu" ] && kill -0 "$qemu" 2>/dev/null; }
wait_gone() { # wait_gone TENTHS
  n=0
  while alive && [ $n -lt "$1" ]; do
    sleep 0.1
    n=$((n + 1))
  done
  ! alive
}
qmp() { # qmp JSON-COMMAND
  command -v socat >/dev/null || return 1
  printf '{"execute":"qmp_capabilities"}\n%s\n' "$1" | socat -t1 - "UNIX-CONNECT:$DIR/qmp.sock" >/dev/null 2>&1
}
was=false
graceful=false
forced=none
if alive; then
  was=true
  if qmp '{"execute":"send-key","arguments":{"keys":[{"type":"qcode","data":"ctrl"},{"type":"qcode","data":"alt"},{"type":"qcode","data":"delete"}]}}' &&
    wait_gone $((TIMEOUT_S * 10)); then
    graceful=true
  else
    forced=quit
    qmp '{"execute":"quit"}' || true
    if ! wait_gone 30; then
      forced=term
      kill -TERM "$qemu" 2>/dev/null || true
      if ! wait_gone 50; then
        forced='kill'
        kill -KILL "$qemu" 2>/dev/null || true
        wait_gone 50 || fail "qemu (pid $qemu) survived SIGKILL"
      fi
    fi
  fi
fi
sup=$(cat "$DIR/supervisor.pid" 2>/dev/null || true)
n=0
while [ -n "$sup" ] && kill -0 "$sup" 2>/dev/null && [ $n -lt 50 ]; do
  sleep 0.1
  n=$((n + 1))
done
if [ -n "$sup" ] && kill -0 "$sup" 2>/dev/null; then kill -TERM "$sup" 2>/dev/null || true; fi
for p in $(cat "$DIR/ports" 2>/dev/null || true); do
  nft delete element ip grim_vm_nat ports "{ ${p%%:*} }" 2>/dev/null || true
done
printf '{"wasRunning":%s,"graceful":%s,"forced":"%s"}\n' "$was" "$graceful" "$forced"
