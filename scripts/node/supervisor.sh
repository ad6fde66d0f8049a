#!/bin/sh
# supervisor.sh - keeps one grim app instance running on its node: starts the instance's `run` script in its
# own session, restarts it when it exits (backoff 1 s doubling to 30 s, reset after 30 s of good running),
# and on SIGTERM runs the optional `stop` script, then stops the whole session (TERM, then KILL).
# Installed by app-install.sh as <apps dir>/../bin/supervisor.sh; started by app-start.sh, by systemd
# (grim-app-<id>.service) or OpenRC (grim-app-<id>), or by the boot hook supervisor-boot.sh.
# param: GRIM_INSTANCE - the instance id; every process of the instance carries it in its environment
# param: GRIM_INSTANCE_DIR - the instance directory (env, run, stop, log, restarts, app.pid, supervisor.pid)
# result: runs until stopped; writes app output to <dir>/log (rotated to log.1 past 1 MiB)
set -u

: "${GRIM_INSTANCE:?}" "${GRIM_INSTANCE_DIR:?}"
cd "$GRIM_INSTANCE_DIR" || exit 1
echo $$ >supervisor.pid

stopping=
child=
trap 'stopping=1' TERM INT HUP

alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null; }

rotate() {
  size=$(wc -c <log 2>/dev/null) || size=0
  if [ "$size" -gt 1048576 ]; then mv -f log log.1; fi
}

restarts=$(cat restarts 2>/dev/null) || restarts=0
case $restarts in '' | *[!0-9]*) restarts=0 ;; esac
backoff=1
while [ -z "$stopping" ] && [ -d "$GRIM_INSTANCE_DIR" ]; do
  rotate
  started=$(date +%s)
  # A new session: the instance's processes form one group the supervisor can stop as a whole.
  setsid sh -c 'set -a; . ./env; set +a; exec sh ./run' </dev/null >>log 2>&1 &
  child=$!
  echo "$child" >app.pid
  status=0
  while :; do
    wait "$child"
    status=$?
    # wait returns early when a trapped signal arrives; the child may still be alive
    if [ -n "$stopping" ] || ! alive "$child"; then break; fi
  done
  if [ -n "$stopping" ]; then break; fi
  kill -KILL -"$child" 2>/dev/null # leftovers of its session hold ports: none may outlive it
  child=
  rm -f app.pid
  restarts=$((restarts + 1))
  echo "$restarts" >restarts
  echo "supervisor: the app exited with status $status; restart $restarts in ${backoff} s" >>log
  if [ $(($(date +%s) - started)) -ge 30 ]; then backoff=1; fi
  sleep "$backoff" &
  wait $! 2>/dev/null
  backoff=$((backoff * 2))
  if [ "$backoff" -gt 30 ]; then backoff=30; fi
done

if alive "$child"; then
  if [ -f stop ]; then
    # shellcheck disable=SC1091 # the instance env, written by app-install.sh
    (set -a && . ./env && set +a && exec sh ./stop) </dev/null >>log 2>&1 &
    stopper=$!
    n=0
    while alive "$stopper" && [ $n -lt 100 ]; do
      sleep 0.1
      n=$((n + 1))
    done
    kill -KILL "$stopper" 2>/dev/null
  fi
  kill -TERM -"$child" 2>/dev/null
  timeout=$(cat stop-timeout 2>/dev/null) || timeout=10
  case $timeout in '' | *[!0-9]*) timeout=10 ;; esac
  n=0
  while alive "$child" && [ $n -lt $((timeout * 10)) ]; do
    sleep 0.1
    n=$((n + 1))
  done
  kill -KILL -"$child" 2>/dev/null
fi
rm -f app.pid supervisor.pid
echo "supervisor: stopped" >>log 2>/dev/null
exit 0
