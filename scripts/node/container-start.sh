#!/bin/sh
# container-start.sh - starts a created container instance detached from the SSH session (setsid
# container-run.sh) unless it already runs, and waits until the runtime reports it running. Idempotent.
# For supervised instances, run INSTANCE_DIR/container-run.sh under the supervisor instead.
# param: STATE_DIR - grim's state directory on the node, e.g. /var/lib/grim
# param: INSTANCE_ID - instance id ([a-z0-9-])
# param: WAIT_SECONDS (optional) - how long to wait for "running" (default 30)
# result: {"ok":true,"started":BOOL,"pid":N}
# lib: fail
set -u

case ${STATE_DIR:-} in /*) ;; *) fail "STATE_DIR must be an absolute path" ;; esac
case ${INSTANCE_ID:-} in *[!a-z0-9-]* | -* | '') fail "invalid INSTANCE_ID" ;; esac
case ${WAIT_SECONDS:=30} in *[!0-9]* | '') fail "WAIT_SECONDS must be an integer" ;; esac
dir=$STATE_DIR/containers/$INSTANCE_ID
[ -f "$dir/instance.env" ] || fail "instance $INSTANCE_ID is not created on this node"
# shellcheck disable=SC1091 # written by container-create.sh
. "$dir/instance.env"

rt() {
  if [ "$RUNTIME" = crun ] && [ -n "$(cat /sys/fs/cgroup/unified/cgroup.controllers 2>/dev/null)" ]; then
    unshare --mount --propagation private sh -c \
      'mount -t tmpfs -o size=4k grim-hide /sys/fs/cgroup/unified && exec "$@"' rt "$RUNTIME" --root "$RUNTIME_ROOT" "$@"
  else
    "$RUNTIME" --root "$RUNTIME_ROOT" "$@"
  fi
}
state() { rt state "$INSTANCE_ID" 2>/dev/null | sed -n "s/^ *\"$1\": *\"\{0,1\}\([a-z0-9]*\).*/\1/p"; }
run_alive() {
  pid=$(cat "$dir/run.pid" 2>/dev/null)
  case $pid in '' | *[!0-9]*) return 1 ;; esac
  kill -0 "$pid" 2>/dev/null
}

started=false
if [ "$(state status)" != running ]; then
  if ! run_alive; then
    rm -f "$dir/last-exit"
    INSTANCE_DIR=$dir setsid sh "$dir/container-run.sh" </dev/null >>"$dir/run.log" 2>&1 &
    started=true
  fi
  i=0
  while [ "$(state status)" != running ]; do
    if [ -f "$dir/last-exit" ]; then
      fail "the container exited with status $(cat "$dir/last-exit"): $(tail -n 5 "$dir/run.log" "$dir/output.log" 2>/dev/null | tr '\n' ' ')"
    fi
    i=$((i + 1))
    [ "$i" -le $((WAIT_SECONDS * 10)) ] || fail "the container is not running after ${WAIT_SECONDS}s"
    sleep 0.1
  done
fi
printf '{"ok":true,"started":%s,"pid":%d}\n' "$started" "$(state pid)"
