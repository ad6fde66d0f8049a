#!/bin/sh
# vm-instance-start.sh - start (or keep running) the supervised microVM of an instance and publish its
# ports on the node's address (nat mode). Idempotent: a running supervisor is left alone.
# param: INSTANCE - instance id
# param: PORTS (optional) - nat mode: published ports, "hostPort:guestIp:guestPort" separated by spaces
# param: VM_ROOT (optional) - grim's VM state directory, default /var/lib/grim/vm
# result: {"started":true|false,"supervisorPid":N}
# lib: fail
set -eu
: "${INSTANCE:?}"
case $INSTANCE in *[!a-z0-9-]* | '' | -*) fail "invalid INSTANCE '$INSTANCE'" ;; esac
DIR=${VM_ROOT:-/var/lib/grim/vm}/instances/$INSTANCE
[ -f "$DIR/supervise.sh" ] || fail "instance $INSTANCE is not created on this node"

for p in ${PORTS:-}; do
  host_port=${p%%:*}
  rest=${p#*:}
  nft add element ip grim_vm_nat ports "{ $host_port : ${rest%%:*} . ${rest#*:} }" ||
    fail "cannot publish port $host_port (run vm-net-setup.sh in nat mode first)"
done
echo "${PORTS:-}" >"$DIR/ports"

pid=$(cat "$DIR/supervisor.pid" 2>/dev/null || true)
if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
  printf '{"started":false,"supervisorPid":%s}\n' "$pid"
  exit 0
fi
rm -f "$DIR/stop-requested" "$DIR/supervisor.pid"
(cd "$DIR" && setsid sh ./supervise.sh </dev/null >/dev/null 2>&1 &)
i=0
while [ ! -s "$DIR/supervisor.pid" ] && [ $i -lt 50 ]; do
  sleep 0.1
  i=$((i + 1))
done
[ -s "$DIR/supervisor.pid" ] || fail "the supervisor did not start"
printf '{"started":true,"supervisorPid":%s}\n' "$(cat "$DIR/supervisor.pid")"
