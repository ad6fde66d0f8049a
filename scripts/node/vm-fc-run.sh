#!/bin/sh
# vm-fc-run.sh - the foreground command grim's node-side supervisor keeps alive for one firecracker
# instance: publish the instance's nat ports, start the VMM (run.sh: firecracker, or the jailer that
# execs it), configure and start the microVM through its API socket with the requests in boot-plan, wait
# for the VMM to exit, then run cleanup.sh (TAP device, jail chroot and cgroup) so the next start is clean.
# boot-plan holds one request per line, "METHOD PATH JSON-BODY", written by grim's firecracker driver from
# its boot plan (machine-config, boot-source, drives, network-interfaces, MMDS, InstanceStart; grim's tests
# check every one against Firecracker's OpenAPI spec). Because the plan lives on the node, a VM whose guest
# rebooted (its app exited) or whose VMM died is booted again by the supervisor, control node or not.
# param: GRIM_VM_DIR - the instance's directory (run.sh, boot-plan, cleanup.sh; run.sh writes vmm.pid)
# param: GRIM_VM_API_SOCKET - the VMM's API socket as seen from the node (inside the chroot when jailed)
# param: GRIM_VM_PORTS (optional) - space-separated "hostPort:guestIp:guestPort" to publish
# result: none; exits with the VMM's status (1 when the VM could not be configured)
cd "$GRIM_VM_DIR" || exit 1
[ -f boot-plan ] || {
  echo "vm-fc-run: $GRIM_VM_DIR/boot-plan is missing" >&2
  exit 1
}
for p in ${GRIM_VM_PORTS:-}; do
  host_port=${p%%:*}
  rest=${p#*:}
  nft add element ip grim_vm_nat ports "{ $host_port : ${rest%%:*} . ${rest#*:} }" || exit 1
done
echo "${GRIM_VM_PORTS:-}" >ports

# A socket left by a killed VMM would make Firecracker refuse to start.
rm -f "$GRIM_VM_API_SOCKET"

sh ./run.sh &
vmm=$!
trap 'kill -TERM "$vmm" 2>/dev/null' TERM INT HUP

finish() { # finish STATUS: clean up after the VMM and exit
  sh ./cleanup.sh >/dev/null 2>&1
  exit "$1"
}
abort_boot() { # abort_boot MESSAGE: the VM cannot be configured; stop the VMM
  echo "vm-fc-run: $1" >&2
  kill -KILL "$vmm" 2>/dev/null
  wait "$vmm"
  finish 1
}

n=0
while [ ! -S "$GRIM_VM_API_SOCKET" ]; do
  kill -0 "$vmm" 2>/dev/null || {
    wait "$vmm"
    code=$?
    echo "vm-fc-run: the VMM exited with status $code before its API socket appeared" >&2
    finish "$code"
  }
  [ $n -lt 300 ] || abort_boot "no API socket at $GRIM_VM_API_SOCKET after 30 s"
  sleep 0.1
  n=$((n + 1))
done

answer=$(mktemp) || abort_boot "cannot create a temporary file"
while read -r method path body; do
  [ -n "$method" ] || continue
  case $method in PUT | PATCH) ;; *) abort_boot "boot-plan: unexpected method '$method'" ;; esac
  case $path in /*) ;; *) abort_boot "boot-plan: path '$path' must start with /" ;; esac
  status=$(printf '%s' "$body" | curl -sS -o "$answer" -w '%{http_code}' --unix-socket "$GRIM_VM_API_SOCKET" \
    -X "$method" -H 'Content-Type: application/json' -H 'Accept: application/json' --data-binary @- \
    "http://localhost$path") || status=000
  case $status in
    2??) ;;
    *)
      why=$(tr -d '\n' <"$answer")
      rm -f "$answer"
      abort_boot "$method $path answered $status: $why"
      ;;
  esac
done <boot-plan
rm -f "$answer"
echo "vm-fc-run: microVM configured and started ($(grep -c . boot-plan) requests)" >&2

status=0
while :; do
  wait "$vmm"
  status=$?
  kill -0 "$vmm" 2>/dev/null || break # wait returns early when a trapped signal arrives
done
finish "$status"
