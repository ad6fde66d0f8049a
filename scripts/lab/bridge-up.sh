#!/bin/sh
# bridge-up.sh - creates a lab's bridge on a free 10.77.<k>.0/24 subnet (address 10.77.<k>.1).
# Run it under `flock` on a host-wide lock so that concurrent labs never pick the same subnet.
#
# Parameters (environment):
#   LAB_BRIDGE        bridge name, "gl-<name>"
#   LAB_SUBNET_INDEX  preferred k (1..254)
#   LAB_SUBNET_FIXED  1: k must be exactly LAB_SUBNET_INDEX; 0: the next free k is fine
# Result: last stdout line is a JSON object {"bridge":"gl-x","subnetIndex":k}; exit 1 with a message
# on stderr when the bridge exists or no subnet is free.
set -eu

: "${LAB_BRIDGE:?}" "${LAB_SUBNET_INDEX:?}" "${LAB_SUBNET_FIXED:?}"

if ip link show "$LAB_BRIDGE" >/dev/null 2>&1; then
  echo "bridge-up: $LAB_BRIDGE already exists (is the lab already up? run 'grim lab down')" >&2
  exit 1
fi

used=$(ip -4 -o addr show | awk '{print $4}' | sed -n 's#^10\.77\.\([0-9]*\)\..*#\1#p')
in_use() { echo "$used" | grep -qx "$1"; }

k=$LAB_SUBNET_INDEX
tries=0
while in_use "$k"; do
  if [ "$LAB_SUBNET_FIXED" = 1 ]; then
    echo "bridge-up: subnet 10.77.$k.0/24 is already used on this host" >&2
    exit 1
  fi
  k=$((k % 254 + 1))
  tries=$((tries + 1))
  if [ $tries -ge 254 ]; then
    echo "bridge-up: no free 10.77.<k>.0/24 subnet left" >&2
    exit 1
  fi
done

ip link add "$LAB_BRIDGE" type bridge
ip addr add "10.77.$k.1/24" dev "$LAB_BRIDGE"
ip link set "$LAB_BRIDGE" up
echo "{\"bridge\":\"$LAB_BRIDGE\",\"subnetIndex\":$k}"
