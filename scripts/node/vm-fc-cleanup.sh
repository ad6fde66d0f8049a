#!/bin/sh
# vm-fc-cleanup.sh - removes what a stopped firecracker VMM leaves on its host, with the steps in
# cleanup-plan (TAP device, the jailer's cgroup and chroot: a plan grim's firecracker driver writes as data,
# see scripts/lib/plan.sh). Installed as cleanup.sh in the instance directory; run by vm-fc-run.sh after
# the VMM exits and by vm-instance-cleanup.sh. Idempotent: every target may already be gone.
# param: GRIM_VM_DIR (optional) - the instance directory (default: this script's directory)
# result: none; exit 1 when a required step fails
# lib: plan
set -u
cd "${GRIM_VM_DIR:-$(dirname "$0")}" || exit 1
rm -f vmm.pid
if [ -f cleanup-plan ]; then run_plan cleanup-plan || exit 1; fi
exit 0
