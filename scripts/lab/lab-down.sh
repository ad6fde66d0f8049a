#!/bin/sh
# lab-down.sh - removes everything a lab created: node processes (by PID), network namespaces
# (and with them the veth pairs), the lab bridge and the state dir. Works on half-created labs.
#
# Parameters (environment):
#   LAB_STATE_DIR      the lab's state dir (nodes/n<i>/ inside); may be missing
#   LAB_NETNS_PREFIX   network namespace prefix, "grim-<name>-" (node i's netns is <prefix>n<i>)
#   LAB_BRIDGE         the lab bridge, "gl-<name>"
#   LAB_SCRIPTS        directory holding node-stop.sh
# Result: last stdout line is a JSON object {"down":true,"netns":N}. Idempotent.
set -u

: "${LAB_STATE_DIR:?}" "${LAB_NETNS_PREFIX:?}" "${LAB_BRIDGE:?}" "${LAB_SCRIPTS:?}"

# every node at once: each stop waits (up to 5 s) for its own node's processes to be gone
for dir in "$LAB_STATE_DIR"/nodes/n*; do
  [ -d "$dir" ] || continue
  LAB_NODE_DIR=$dir LAB_NETNS="$LAB_NETNS_PREFIX$(basename "$dir")" sh "$LAB_SCRIPTS/node-stop.sh" >/dev/null &
done
wait

count=0
for ns in $(ip netns list 2>/dev/null | cut -d' ' -f1 | grep -E "^${LAB_NETNS_PREFIX}n[0-9]+\$"); do
  for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
  ip netns del "$ns" 2>/dev/null && count=$((count + 1))
done

if ip link show "$LAB_BRIDGE" >/dev/null 2>&1; then ip link del "$LAB_BRIDGE"; fi
rm -rf "$LAB_STATE_DIR"
echo "{\"down\":true,\"netns\":$count}"
