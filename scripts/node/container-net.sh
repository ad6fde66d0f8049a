#!/bin/sh
# container-net.sh - the network of one container instance: its network namespace (grim-ID), a veth pair to the
# node (gvTAG on the node, eth0 inside) on a private /30, and its ports published on the node's addresses by DNAT
# (one nftables table ip grim_ID, or iptables chains GRIM-TAG-*). `up` (re)builds it all idempotently; `down`
# removes every trace. Also kept in the instance directory, where container-run.sh calls it at each start.
# param: ACTION - up | down
# param: INSTANCE_ID - instance id ([a-z0-9-])
# param: NET_TAG - 10 hex characters naming the instance's veth and iptables chains
# param: IP_HOST (optional) - node side of the /30 (up)
# param: IP_CTR (optional) - container side of the /30 (up)
# param: PORTS (optional) - space-separated HOSTPORT:CONTAINERPORT pairs, tcp (up)
# param: FIREWALL (optional) - nft | iptables (up; down cleans both)
# result: {"ok":true,"action":"up|down","netns":"grim-ID","veth":"gvTAG"}
# lib: fail
set -u

case ${INSTANCE_ID:-} in *[!a-z0-9-]* | -* | '') fail "invalid INSTANCE_ID" ;; esac
case ${NET_TAG:-} in *[!0-9a-f]* | '') fail "NET_TAG must be hex" ;; esac
[ ${#NET_TAG} -eq 10 ] || fail "NET_TAG must be 10 hex characters"

NETNS=grim-$INSTANCE_ID
VETH=gv$NET_TAG
TABLE=grim_$(printf '%s' "$INSTANCE_ID" | tr '-' '_')
CHAIN=GRIM-$NET_TAG

has() { command -v "$1" >/dev/null 2>&1; }
netns_exists() { ip netns list 2>/dev/null | cut -d ' ' -f 1 | grep -qx "$NETNS"; }
ipt() { iptables -w "$@"; }

iptables_down() {
  has iptables || return 0
  for spec in "nat PREROUTING -m addrtype --dst-type LOCAL -j $CHAIN-DNAT" \
    "nat OUTPUT -m addrtype --dst-type LOCAL -j $CHAIN-DNAT" \
    "nat POSTROUTING -j $CHAIN-SNAT" "filter FORWARD -j $CHAIN-FWD"; do
    # shellcheck disable=SC2086 # split the rule spec
    set -- $spec
    table=$1
    shift
    while ipt -t "$table" -D "$@" 2>/dev/null; do :; done
  done
  for c in nat:DNAT nat:SNAT filter:FWD; do
    ipt -t "${c%%:*}" -F "$CHAIN-${c#*:}" 2>/dev/null
    ipt -t "${c%%:*}" -X "$CHAIN-${c#*:}" 2>/dev/null
  done
  return 0
}

nft_down() {
  has nft || return 0
  if nft list table ip "$TABLE" >/dev/null 2>&1; then nft delete table ip "$TABLE" || return 1; fi
  return 0
}

case ${ACTION:-} in
  down)
    nft_down || fail "cannot delete nftables table $TABLE"
    iptables_down
    if ip link show "$VETH" >/dev/null 2>&1; then ip link del "$VETH" || fail "cannot delete $VETH"; fi
    if netns_exists; then ip netns del "$NETNS" || fail "cannot delete netns $NETNS"; fi
    printf '{"ok":true,"action":"down","netns":"%s","veth":"%s"}\n' "$NETNS" "$VETH"
    exit 0
    ;;
  up) ;;
  *) fail "ACTION must be up or down" ;;
esac

valid_ip() {
  case $1 in *[!0-9.]* | '') return 1 ;; esac
  [ "$(printf '%s' "$1" | tr -cd . | wc -c)" -eq 3 ]
}
valid_ip "${IP_HOST:-}" || fail "invalid IP_HOST"
valid_ip "${IP_CTR:-}" || fail "invalid IP_CTR"
case ${PORTS:-} in *[!0-9:\ ]*) fail "PORTS must be HOSTPORT:CONTAINERPORT pairs" ;; esac
case ${FIREWALL:-} in nft | iptables) ;; *) fail "FIREWALL must be nft or iptables" ;; esac
has ip || fail "the ip command (iproute2) is missing"
has "$FIREWALL" || fail "$FIREWALL is missing"

if ! netns_exists; then ip netns add "$NETNS" || fail "cannot create netns $NETNS"; fi
# The runtime joins the namespace by this path (config.json).
[ -e "/run/netns/$NETNS" ] || fail "ip netns did not create /run/netns/$NETNS"
if ! ip link show "$VETH" >/dev/null 2>&1; then
  ip -n "$NETNS" link del eth0 2>/dev/null
  ip link add "$VETH" type veth peer name eth0 netns "$NETNS" || fail "cannot create veth $VETH"
fi
ip addr replace "$IP_HOST/30" dev "$VETH" || fail "cannot address $VETH"
ip link set "$VETH" up || fail "cannot bring $VETH up"
ip -n "$NETNS" link set lo up || fail "cannot bring lo up in $NETNS"
ip -n "$NETNS" addr replace "$IP_CTR/30" dev eth0 || fail "cannot address eth0 in $NETNS"
ip -n "$NETNS" link set eth0 up || fail "cannot bring eth0 up in $NETNS"
ip -n "$NETNS" route replace default via "$IP_HOST" || fail "cannot set the default route in $NETNS"
# Forwarding to the instance; loopback-sourced connections (127.0.0.1:HOSTPORT on the node) may be routed to it.
echo 1 >/proc/sys/net/ipv4/ip_forward || fail "cannot enable net.ipv4.ip_forward"
echo 1 >"/proc/sys/net/ipv4/conf/$VETH/route_localnet" || fail "cannot set route_localnet on $VETH"

if [ "$FIREWALL" = nft ]; then
  dnat=
  for pair in $PORTS; do
    dnat="$dnat
    fib daddr type local tcp dport ${pair%%:*} dnat to $IP_CTR:${pair#*:}"
  done
  # One transaction: declare (so delete cannot fail), delete, define.
  nft -f - <<NFT || fail "nft rejected the rules of $TABLE"
table ip $TABLE
delete table ip $TABLE
table ip $TABLE {
  chain prerouting {
    type nat hook prerouting priority dstnat; policy accept;$dnat
  }
  chain output {
    type nat hook output priority -100; policy accept;$dnat
  }
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    oifname "$VETH" ip saddr 127.0.0.0/8 masquerade
    ip saddr $IP_CTR oifname != "$VETH" masquerade
  }
  chain forward {
    type filter hook forward priority filter; policy accept;
    oifname "$VETH" accept
    iifname "$VETH" accept
  }
}
NFT
  iptables_down
else
  nft_down
  for c in nat:DNAT nat:SNAT filter:FWD; do
    ipt -t "${c%%:*}" -N "$CHAIN-${c#*:}" 2>/dev/null || ipt -t "${c%%:*}" -F "$CHAIN-${c#*:}" ||
      fail "cannot create iptables chain $CHAIN-${c#*:}"
  done
  for pair in $PORTS; do
    ipt -t nat -A "$CHAIN-DNAT" -p tcp --dport "${pair%%:*}" -j DNAT --to-destination "$IP_CTR:${pair#*:}" ||
      fail "cannot add the DNAT rule for port ${pair%%:*}"
  done
  if ! { ipt -t nat -A "$CHAIN-SNAT" -o "$VETH" -s 127.0.0.0/8 -j MASQUERADE &&
    ipt -t nat -A "$CHAIN-SNAT" -s "$IP_CTR" ! -o "$VETH" -j MASQUERADE &&
    ipt -t filter -A "$CHAIN-FWD" -o "$VETH" -j ACCEPT &&
    ipt -t filter -A "$CHAIN-FWD" -i "$VETH" -j ACCEPT; }; then
    fail "cannot add iptables rules to $CHAIN"
  fi
  for spec in "nat PREROUTING -m addrtype --dst-type LOCAL -j $CHAIN-DNAT" \
    "nat OUTPUT -m addrtype --dst-type LOCAL -j $CHAIN-DNAT" \
    "nat POSTROUTING -j $CHAIN-SNAT" "filter FORWARD -j $CHAIN-FWD"; do
    # shellcheck disable=SC2086 # split the rule spec
    set -- $spec
    table=$1
    shift
    ipt -t "$table" -C "$@" 2>/dev/null || ipt -t "$table" -I "$@" || fail "cannot hook $CHAIN into $table"
  done
fi
printf '{"ok":true,"action":"up","netns":"%s","veth":"%s"}\n' "$NETNS" "$VETH"
