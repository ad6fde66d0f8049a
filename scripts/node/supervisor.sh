#!/bin/sh
# supervisor.sh - keeps one grim app instance running on its node: starts the instance's `run` script in its
# own session, restarts it when it exits (backoff 1 s doubling to 30 s, reset after 30 s of good running),
# and on SIGTERM runs the optional `stop` script, then stops the whole session (TERM, then KILL).
# Installed by app-install.sh as <apps dir>/../bin/supervisor.sh; started by app-start.sh, by systemd
# (grim-app-<id>.service) or OpenRC (grim-app-<id>), or by the boot hook supervisor-boot.sh.
# param: GRIM_INSTANCE - the instance id; every process of the instance carries it in its environment
# param: GRIM_INSTANCE_DIR - the instance directory (environment, run, stop, log, restarts, app.pid, supervisor.pid,
#   and optional `cgroup`: when present the app runs in the cgroup grim/<id>, with the limits it lists as
#   `memory_bytes=N` and `cpu_millis=N` lines; best effort: without usable cgroups the app runs anyway)
# result: runs until stopped; writes the app's stdout (and the supervisor's notes) to <dir>/log and its stderr to
#   <dir>/stderr, each rotated to .1 past 1 MiB (kept apart so that log shipping labels them stream=stdout/stderr)
# lib: env
set -u

: "${GRIM_INSTANCE:?}" "${GRIM_INSTANCE_DIR:?}"
cd "$GRIM_INSTANCE_DIR" || exit 1
echo $$ >supervisor.pid

stopping=
child=
trap 'stopping=1' TERM INT HUP

alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null; }

# put VALUE FILE: write a cgroup control file; says why in the log when the kernel refuses
put() {
  if ! { echo "$1" >"$2"; } 2>/dev/null; then echo "supervisor: cgroup: could not write $1 to $2" >>log; fi
}

# cgroup_setup: creates grim/<id> (cgroup v2, else the v1 cpu, cpuacct and memory hierarchies), applies the
# limits listed in ./cgroup and prints the cgroup.procs files the app joins. Idempotent.
cgroup_setup() {
  mem='' cpu=''
  while IFS='=' read -r k v; do
    case $v in '' | *[!0-9]* | 0) continue ;; esac
    case $k in memory_bytes) mem=$v ;; cpu_millis) cpu=$v ;; esac
  done <cgroup
  quota=$((${cpu:-0} * 100)) # microseconds per 100 ms period; the kernel's minimum is 1 ms
  if [ "$quota" -gt 0 ] && [ "$quota" -lt 1000 ]; then quota=1000; fi
  root=/sys/fs/cgroup
  if [ -f $root/cgroup.controllers ]; then
    d=$root/grim/$GRIM_INSTANCE
    mkdir -p "$d" 2>/dev/null || return 0
    { echo '+cpu +memory' >$root/cgroup.subtree_control && echo '+cpu +memory' >$root/grim/cgroup.subtree_control; } \
      2>/dev/null || echo "supervisor: cgroup: could not enable the cpu and memory controllers" >>log
    put "${mem:-max}" "$d/memory.max"
    if [ "$quota" -gt 0 ]; then put "$quota 100000" "$d/cpu.max"; else put max "$d/cpu.max"; fi
    echo "$d/cgroup.procs"
    return 0
  fi
  for h in $root/cpu,cpuacct $root/cpu $root/cpuacct $root/memory; do
    # cpu and cpuacct are often links to cpu,cpuacct: each hierarchy once
    if [ ! -d "$h" ] || [ -L "$h" ]; then continue; fi
    d=$h/grim/$GRIM_INSTANCE
    mkdir -p "$d" 2>/dev/null || continue
    # no limit listed: none (a reinstall without limits lifts the old ones)
    if [ -f "$d/memory.limit_in_bytes" ]; then put "${mem:--1}" "$d/memory.limit_in_bytes"; fi
    if [ -f "$d/cpu.cfs_quota_us" ]; then
      put 100000 "$d/cpu.cfs_period_us"
      if [ "$quota" -gt 0 ]; then put "$quota" "$d/cpu.cfs_quota_us"; else put -1 "$d/cpu.cfs_quota_us"; fi
    fi
    echo "$d/cgroup.procs"
  done
}

# The app's new session joins these cgroup.procs files (space separated) before it runs.
GRIM_CGROUP_PROCS=
if [ -f cgroup ]; then
  GRIM_CGROUP_PROCS=$(cgroup_setup | tr '\n' ' ')
  if [ -n "$GRIM_CGROUP_PROCS" ]; then
    echo "supervisor: cgroup grim/$GRIM_INSTANCE:$(sed -n 's/^\(.*\)=\(.*\)$/ \1 \2/p' cgroup | tr -d '\n')" >>log
  else
    echo "supervisor: cgroups unavailable or not writable: the app runs without its cgroup and limits" >>log
  fi
fi
export GRIM_CGROUP_PROCS

rotate() {
  for f in log stderr; do
    size=$(wc -c <"$f" 2>/dev/null) || size=0
    if [ "$size" -gt 1048576 ]; then mv -f "$f" "$f.1"; fi
  done
}

restarts=$(cat restarts 2>/dev/null) || restarts=0
case $restarts in '' | *[!0-9]*) restarts=0 ;; esac
backoff=1
while [ -z "$stopping" ] && [ -d "$GRIM_INSTANCE_DIR" ]; do
  rotate
  started=$(date +%s)
  # A new session: the instance's processes form one group the supervisor can stop as a whole.
  # shellcheck disable=SC2016 # expanded by the new shell
  # The subshell takes the instance's environment (lib/env.sh) and becomes the session (pid kept: it is no
  # process group leader, so setsid does not fork).
  (
    instance_env . || {
      echo "supervisor: cannot read the instance environment"
      exit 125
    }
    exec setsid sh -c 'for f in $GRIM_CGROUP_PROCS; do
      { echo $$ >"$f"; } 2>/dev/null || echo "supervisor: cgroup: could not join $f"
    done
    unset GRIM_CGROUP_PROCS OLDPWD; exec sh ./run'
  ) </dev/null >>log 2>>stderr &
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
    (instance_env . && exec sh ./stop) </dev/null >>log 2>&1 &
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
