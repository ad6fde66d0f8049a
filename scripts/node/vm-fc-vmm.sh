#!/bin/sh
# vm-fc-vmm.sh - the VMM of one firecracker instance in the foreground (installed as run.sh in the instance
# directory; vm-fc-run.sh starts it). It prepares the host with the steps in run-plan (jail staging, the
# TAP device on its bridge: a plan grim's firecracker driver writes as data, see scripts/lib/plan.sh), records
# its pid in vmm.pid and execs the VMM (firecracker, or the jailer that execs it) with the argv in vmm-argv,
# one argument per line. Nothing in either file is interpreted by a shell.
# param: GRIM_VM_DIR (optional) - the instance directory (default: this script's directory)
# result: none; execs the VMM (exit 1 when a preparation step fails)
# lib: plan
set -u
cd "${GRIM_VM_DIR:-$(dirname "$0")}" || exit 1
[ -f vmm-argv ] || {
  echo "vm-fc-vmm: $(pwd)/vmm-argv is missing" >&2
  exit 1
}
if [ -f run-plan ]; then run_plan run-plan || exit 1; fi
set --
while IFS= read -r arg || [ -n "$arg" ]; do set -- "$@" "$arg"; done <vmm-argv
echo $$ >vmm.pid
exec "$@" >serial.log 2>&1
