#!/bin/sh
# node-supervisor.sh - host-side loop that keeps one simulated lab node running across reboots.
#
# Parameters (environment):
#   LAB_NODE_DIR   node state dir; this script writes supervisor.pid, node.pid (the unshare process),
#                  boots (boot counter) and power (on|off) there
#   LAB_NETNS      the node's network namespace
#   LAB_BOOT       path of node-boot.sh (which needs LAB_ROOTFS, LAB_OS, LAB_HOSTNAME, LAB_INIT too)
# Result: runs until it receives SIGTERM (the lab stops the node) or the node powers off.
# Each boot gets new pid/mount/uts/time namespaces inside the node's network namespace; the node's
# init exit status tells what happened:
#   100 (init saw a reboot request) or 129 (killed by SIGHUP: reboot(2) RESTART)   -> boot again
#   101 (init saw a power-off request) or 130 (SIGINT: reboot(2) POWER_OFF/HALT)  -> stay off
#   anything else (the node's init died)                                          -> boot again after 1 s
set -u

: "${LAB_NODE_DIR:?}" "${LAB_NETNS:?}" "${LAB_BOOT:?}"
echo $$ >"$LAB_NODE_DIR/supervisor.pid"

stopping=
child=
trap 'stopping=1; if [ -n "$child" ]; then kill -KILL "$child" 2>/dev/null; fi' TERM INT HUP

boots=$(cat "$LAB_NODE_DIR/boots" 2>/dev/null) || boots=0
case $boots in '' | *[!0-9]*) boots=0 ;; esac
echo on >"$LAB_NODE_DIR/power"
while [ -z "$stopping" ]; do
  # boot time starts near zero in the node, as after a real boot
  up=$(cut -d. -f1 /proc/uptime)
  ip netns exec "$LAB_NETNS" unshare --mount --uts --pid --time --boottime "-$((up - 1))" \
    --fork --kill-child --propagation private sh "$LAB_BOOT" &
  child=$!
  echo "$child" >"$LAB_NODE_DIR/node.pid"
  boots=$((boots + 1))
  echo "$boots" >"$LAB_NODE_DIR/boots"
  echo "supervisor: boot $boots (pid $child)"
  status=0
  while :; do
    wait "$child"
    status=$?
    # wait returns >128 early when a trapped signal arrives; the child is then still alive
    if ! kill -0 "$child" 2>/dev/null; then break; fi
  done
  child=
  rm -f "$LAB_NODE_DIR/node.pid"
  if [ -n "$stopping" ]; then break; fi
  case $status in
    100 | 129) echo "supervisor: node rebooted (status $status)" ;;
    101 | 130)
      echo "supervisor: node powered off (status $status)"
      echo off >"$LAB_NODE_DIR/power"
      break
      ;;
    *)
      echo "supervisor: node init exited with status $status, booting again"
      sleep 1
      ;;
  esac
done
rm -f "$LAB_NODE_DIR/supervisor.pid"
echo "supervisor: stopped"
