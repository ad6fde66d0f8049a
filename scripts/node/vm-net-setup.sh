#!/bin/sh
# vm-net-setup.sh - prepare the node's microVM network (idempotent): /dev/net/tun, one bridge per mode
# and the nftables rules shared by every VM on the node.
#   nat:     a private per-node subnet on BRIDGE (the node is its gateway), outbound masquerading, and
#            a map of published ports (node address:hostPort -> guest:port) filled per instance.
#   bridged: BRIDGE takes over UPLINK (its addresses, routes and MAC move to the bridge, so the node
#            keeps its address and existing connections survive); VMs get LAN addresses from IPAM.
# Both: guest traffic (from TAPs named gvt*) to the node's own addresses is dropped unless it answers a
# connection the node opened, and guests never reach link-local metadata addresses (169.254.0.0/16).
# param: MODE - nat | bridged
# param: BRIDGE - bridge name, e.g. grimnat0 or grimlan0
# param: GATEWAY_CIDR (optional) - nat: the node's address on the private subnet, e.g. 172.31.0.1/24
# param: SUBNET (optional) - nat: the private subnet, e.g. 172.31.0.0/24
# param: UPLINK (optional) - bridged: the LAN interface to put in the bridge, e.g. eth0
# result: {"mode","bridge","created":true|false}
# lib: fail
set -eu

: "${MODE:?}" "${BRIDGE:?}"
case $BRIDGE in *[!A-Za-z0-9_.-]* | '') fail "invalid BRIDGE '$BRIDGE'" ;; esac
command -v nft >/dev/null || fail "nft not found (install nftables)"

if [ ! -c /dev/net/tun ]; then
  mkdir -p /dev/net
  mknod -m 666 /dev/net/tun c 10 200 || fail "no /dev/net/tun and cannot create it"
fi

created=false
case $MODE in
  nat)
    : "${GATEWAY_CIDR:?}" "${SUBNET:?}"
    if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
      ip link add "$BRIDGE" type bridge
      created=true
    fi
    ip addr replace "$GATEWAY_CIDR" dev "$BRIDGE"
    ip link set "$BRIDGE" up
    [ "$(cat /proc/sys/net/ipv4/ip_forward)" = 1 ] || { echo 1 >/proc/sys/net/ipv4/ip_forward; } 2>/dev/null ||
      fail "cannot enable IPv4 forwarding (net.ipv4.ip_forward) for nat mode"
    if ! nft list table ip grim_vm_nat >/dev/null 2>&1; then
      nft -f - <<NFT
table ip grim_vm_nat {
  map ports { type inet_service : ipv4_addr . inet_service; }
  chain prerouting { type nat hook prerouting priority dstnat; policy accept; fib daddr type local dnat ip to tcp dport map @ports; }
  chain output { type nat hook output priority -100; policy accept; fib daddr type local dnat ip to tcp dport map @ports; }
  chain postrouting { type nat hook postrouting priority srcnat; policy accept; ip saddr $SUBNET oifname != "$BRIDGE" masquerade; }
}
NFT
    fi
    ;;
  bridged)
    : "${UPLINK:?}"
    if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
      ip link show "$UPLINK" >/dev/null 2>&1 || fail "uplink $UPLINK not found"
      mac=$(cat "/sys/class/net/$UPLINK/address")
      addrs=$(ip -o -4 addr show dev "$UPLINK" | awk '{print $4}')
      gw=$(ip -4 route show default dev "$UPLINK" | awk '{print $3; exit}')
      # One command batch: the node's address is off the LAN only for a moment.
      ip link add "$BRIDGE" type bridge
      ip link set "$BRIDGE" address "$mac"
      ip link set "$BRIDGE" type bridge forward_delay 0 stp_state 0 2>/dev/null || true
      ip link set "$BRIDGE" up
      for a in $addrs; do ip addr del "$a" dev "$UPLINK" && ip addr add "$a" dev "$BRIDGE"; done
      ip link set "$UPLINK" master "$BRIDGE"
      if [ -n "$gw" ]; then ip route replace default via "$gw" dev "$BRIDGE"; fi
      created=true
    fi
    ;;
  *) fail "MODE must be nat or bridged, got '$MODE'" ;;
esac

if ! nft list table bridge grim_vm_guard >/dev/null 2>&1; then
  nft -f - <<'NFT'
table bridge grim_vm_guard {
  chain prerouting { type filter hook prerouting priority 0; policy accept; iifname "gvt*" meta mark set 0x67726d; }
  chain forward { type filter hook forward priority 0; policy accept; iifname "gvt*" ip daddr 169.254.0.0/16 drop; }
}
table inet grim_vm_guard {
  chain input { type filter hook input priority 0; policy accept; meta mark 0x67726d ct state established,related accept; meta mark 0x67726d drop; }
  chain forward { type filter hook forward priority 0; policy accept; meta mark 0x67726d ip daddr 169.254.0.0/16 drop; }
}
NFT
fi
printf '{"mode":"%s","bridge":"%s","created":%s}\n' "$MODE" "$BRIDGE" "$created"
