#!/bin/sh
# node-stop.sh - stops one simulated lab node: its supervisor, its namespaces' processes (by PID).
# The node's network namespace and address stay, so connections to it are refused.
#
# Parameters (environment):
#   LAB_NODE_DIR   node state dir holding supervisor.pid and node.pid
#   LAB_NETNS      the node's network namespace (may already be gone)
# Result: last stdout line is a JSON object {"stopped":true,"leftoverKilled":N}. Idempotent.
set -u

: "${LAB_NODE_DIR:?}" "${LAB_NETNS:?}"

# is_ours PID: the process was started for this node (its environment names the node dir)
is_ours() {
  [ -r "/proc/$1/environ" ] && tr '\0' '\n' <"/proc/$1/environ" 2>/dev/null | grep -Fqx "LAB_NODE_DIR=$LAB_NODE_DIR"
}

pid_from() { # pid_from FILE: prints the pid in FILE if it is a live process of this node
  [ -f "$1" ] || return 1
  p=$(cat "$1" 2>/dev/null) || return 1
  case $p in '' | *[!0-9]*) return 1 ;; esac
  is_ours "$p" && echo "$p"
}

netns_pids() {
  if ip netns list 2>/dev/null | cut -d' ' -f1 | grep -Fqx "$LAB_NETNS"; then ip netns pids "$LAB_NETNS" 2>/dev/null; fi
}

sup=$(pid_from "$LAB_NODE_DIR/supervisor.pid") || sup=
node=$(pid_from "$LAB_NODE_DIR/node.pid") || node=
if [ -n "$sup" ]; then kill -TERM "$sup" 2>/dev/null; fi
# unshare ignores SIGTERM; SIGKILL makes the kernel kill the node's init (and so its whole pid namespace)
if [ -n "$node" ]; then kill -KILL "$node" 2>/dev/null; fi

alive() { [ -n "$1" ] && is_ours "$1"; }

tries=0
while [ $tries -lt 50 ]; do
  if [ -z "$(netns_pids)" ] && ! alive "$sup"; then break; fi
  sleep 0.1
  tries=$((tries + 1))
done

killed=0
if alive "$sup"; then kill -KILL "$sup" 2>/dev/null && killed=$((killed + 1)); fi
for p in $(netns_pids); do
  kill -KILL "$p" 2>/dev/null && killed=$((killed + 1))
done
rm -f "$LAB_NODE_DIR/supervisor.pid" "$LAB_NODE_DIR/node.pid"
echo "{\"stopped\":true,\"leftoverKilled\":$killed}"
