#!/bin/sh
# container-stop.sh - stops a container instance gracefully: its stop signal (TERM unless the image says
# otherwise), up to GRACE_SECONDS, then KILL to all its processes; then deletes it from the runtime (cgroups
# included). Marks the stop as requested so it reads "stopped", not "failed". Idempotent.
# param: STATE_DIR - grim's state directory on the node, e.g. /var/lib/grim
# param: INSTANCE_ID - instance id ([a-z0-9-])
# param: GRACE_SECONDS (optional) - seconds between the stop signal and KILL (default 10)
# result: {"ok":true,"wasRunning":BOOL,"graceful":BOOL,"exitCode":N|null}
# lib: fail
set -u

case ${STATE_DIR:-} in /*) ;; *) fail "STATE_DIR must be an absolute path" ;; esac
case ${INSTANCE_ID:-} in *[!a-z0-9-]* | -* | '') fail "invalid INSTANCE_ID" ;; esac
case ${GRACE_SECONDS:=10} in *[!0-9]* | '') fail "GRACE_SECONDS must be an integer" ;; esac
dir=$STATE_DIR/containers/$INSTANCE_ID
if ! [ -f "$dir/instance.env" ]; then
  printf '{"ok":true,"wasRunning":false,"graceful":true,"exitCode":null}\n'
  exit 0
fi
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
# wait_until_not STATUS TENTHS: polls the runtime state every 0.1 s
wait_not_running() {
  i=0
  while [ "$(state status)" = running ]; do
    i=$((i + 1))
    [ "$i" -le "$1" ] || return 1
    sleep 0.1
  done
}

touch "$dir/stop-requested"
status=$(state status)
was=false
graceful=true
if [ -n "$status" ]; then
  if [ "$status" = running ]; then
    was=true
    rt kill "$INSTANCE_ID" "$STOP_SIGNAL" 2>/dev/null
    if ! wait_not_running $((GRACE_SECONDS * 10)); then
      graceful=false
      rt kill --all "$INSTANCE_ID" KILL 2>/dev/null || rt kill "$INSTANCE_ID" KILL 2>/dev/null
      wait_not_running 100 || fail "the container did not die after KILL"
    fi
  fi
  rt delete --force "$INSTANCE_ID" >/dev/null 2>&1
  [ -z "$(state status)" ] || fail "the runtime still lists the container after delete"
fi
# Let container-run.sh record the exit status.
i=0
while pid=$(cat "$dir/run.pid" 2>/dev/null) && [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && [ "$i" -lt 50 ]; do
  i=$((i + 1))
  sleep 0.1
done
code=$(cat "$dir/last-exit" 2>/dev/null)
case $code in '' | *[!0-9]*) code=null ;; esac
printf '{"ok":true,"wasRunning":%s,"graceful":%s,"exitCode":%s}\n' "$was" "$graceful" "$code"
