#!/bin/sh
# container-create.sh - prepares one container instance from a built image without starting it: an address slot
# (/30 from the pool), /etc/hosts, /etc/hostname and /etc/resolv.conf for it, its root filesystem (an overlay on
# the cached image rootfs, or a copy where overlay cannot be mounted), instance.env for the other scripts, and its
# network (container-net.sh up). Expects config.json.new (or config.json), container-run.sh and container-net.sh
# uploaded into STATE_DIR/containers/INSTANCE_ID. Idempotent: a second run reuses the slot and the rootfs.
# param: STATE_DIR - grim's state directory on the node, e.g. /var/lib/grim
# param: INSTANCE_ID - instance id ([a-z0-9-])
# param: IMAGE_ID - hex part of the image's manifest digest (built by container-image-build.sh)
# param: NET_TAG - 10 hex characters naming the veth (gvTAG)
# param: NET_BASE - first address of the instance address pool, as an unsigned 32-bit integer
# param: NET_SLOTS - number of /30 networks in the pool
# param: PORTS (optional) - space-separated HOSTPORT:CONTAINERPORT pairs, tcp
# param: RUNTIME - auto | runc | crun (auto: runc when installed, else crun)
# param: FIREWALL - auto | nft | iptables (auto: nft when usable, else iptables)
# param: ROOTFS_MODE - auto | overlay | copy (auto: overlay when it mounts, else copy)
# param: STOP_SIGNAL (optional) - signal for a graceful stop (default TERM)
# result: {"ok":true,"ip":"A.B.C.D","hostIp":"A.B.C.D","slot":N,"runtime":"runc|crun","firewall":"nft|iptables","rootfs":"overlay|copy"}
# lib: fail
set -u

has() { command -v "$1" >/dev/null 2>&1; }
case ${STATE_DIR:-} in /*) ;; *) fail "STATE_DIR must be an absolute path" ;; esac
case $STATE_DIR in *[!A-Za-z0-9/_.-]*) fail "STATE_DIR has unsupported characters" ;; esac
case ${INSTANCE_ID:-} in *[!a-z0-9-]* | -* | '') fail "invalid INSTANCE_ID" ;; esac
case ${IMAGE_ID:-} in *[!0-9a-f]* | '') fail "IMAGE_ID must be hex" ;; esac
case ${NET_TAG:-} in *[!0-9a-f]* | '') fail "NET_TAG must be hex" ;; esac
case ${NET_BASE:-}${NET_SLOTS:-} in *[!0-9]* | '') fail "NET_BASE and NET_SLOTS must be integers" ;; esac
case ${PORTS:-} in *[!0-9:\ ]*) fail "PORTS must be HOSTPORT:CONTAINERPORT pairs" ;; esac
case ${STOP_SIGNAL:=TERM} in *[!A-Z0-9]* | '') fail "STOP_SIGNAL must be a signal name like TERM" ;; esac

dir=$STATE_DIR/containers/$INSTANCE_ID
image=$STATE_DIR/images/$IMAGE_ID
[ -d "$image/rootfs" ] || fail "image $IMAGE_ID is not built on this node"
[ -d "$dir" ] || fail "instance directory $dir does not exist"
for f in container-run.sh container-net.sh; do [ -f "$dir/$f" ] || fail "$dir/$f was not uploaded"; done
if [ -f "$dir/config.json.new" ]; then
  chmod 600 "$dir/config.json.new" || fail "cannot chmod config.json.new"
  mv -f "$dir/config.json.new" "$dir/config.json" || fail "cannot install config.json"
fi
[ -f "$dir/config.json" ] || fail "$dir/config.json was not uploaded"

case ${RUNTIME:-} in
  auto) if has runc; then RUNTIME=runc; elif has crun; then RUNTIME=crun; else fail "neither runc nor crun is installed"; fi ;;
  runc | crun) has "$RUNTIME" || fail "$RUNTIME is not installed" ;;
  *) fail "RUNTIME must be auto, runc or crun" ;;
esac
nft_usable() { has nft && nft list tables >/dev/null 2>&1; }
iptables_usable() { has iptables && iptables -w -t nat -S >/dev/null 2>&1; }
case ${FIREWALL:-} in
  auto)
    if nft_usable; then FIREWALL=nft; elif iptables_usable; then FIREWALL=iptables; else
      fail "neither nft nor iptables can set NAT rules on this node"
    fi
    ;;
  nft) nft_usable || fail "nft is missing or cannot list tables" ;;
  iptables) iptables_usable || fail "iptables is missing or cannot list the nat table" ;;
  *) fail "FIREWALL must be auto, nft or iptables" ;;
esac

# Address slot: a symlink slots/N -> INSTANCE_ID, created atomically.
slots=$STATE_DIR/net/slots
mkdir -p "$slots" || fail "cannot create $slots"
slot=$(cat "$dir/slot" 2>/dev/null)
if [ -z "$slot" ] || [ "$(readlink "$slots/$slot" 2>/dev/null)" != "$INSTANCE_ID" ]; then
  slot=
  for link in "$slots"/*; do
    if [ "$(readlink "$link" 2>/dev/null)" = "$INSTANCE_ID" ]; then slot=${link##*/}; fi
  done
  n=0
  [ -z "$slot" ] || n=$NET_SLOTS
  while [ "$n" -lt "$NET_SLOTS" ]; do
    if ln -s "$INSTANCE_ID" "$slots/$n" 2>/dev/null; then
      slot=$n
      break
    fi
    n=$((n + 1))
  done
  [ -n "$slot" ] || fail "no free address slot in the pool ($NET_SLOTS slots in use)"
  echo "$slot" >"$dir/slot"
fi
int_to_ip() {
  printf '%d.%d.%d.%d' $((($1 >> 24) & 255)) $((($1 >> 16) & 255)) $((($1 >> 8) & 255)) $(($1 & 255))
}
base=$((NET_BASE + 4 * slot))
ip_host=$(int_to_ip $((base + 1)))
ip_ctr=$(int_to_ip $((base + 2)))

mkdir -p "$dir/etc" || fail "cannot create $dir/etc"
printf '%s\n' "$INSTANCE_ID" >"$dir/etc/hostname"
printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n%s\t%s\n' "$ip_ctr" "$INSTANCE_ID" >"$dir/etc/hosts"
# A resolver on the node's loopback (systemd-resolved stub) is unreachable from the container: use its upstreams.
resolv=/etc/resolv.conf
if grep -q '^nameserver[[:space:]]*127\.' /etc/resolv.conf 2>/dev/null && [ -f /run/systemd/resolve/resolv.conf ]; then
  resolv=/run/systemd/resolve/resolv.conf
fi
grep -v '^nameserver[[:space:]]*127\.' "$resolv" >"$dir/etc/resolv.conf" 2>/dev/null || : >"$dir/etc/resolv.conf"

mounted() { grep -q " $dir/rootfs overlay " /proc/self/mounts; }
mode=$(cat "$dir/rootfs.mode" 2>/dev/null)
if [ -z "$mode" ]; then
  case ${ROOTFS_MODE:-} in auto | overlay | copy) ;; *) fail "ROOTFS_MODE must be auto, overlay or copy" ;; esac
  if [ "$ROOTFS_MODE" != copy ]; then
    mkdir -p "$dir/upper" "$dir/work" "$dir/rootfs" || fail "cannot create the overlay directories"
    if mounted || mount -t overlay overlay -o "lowerdir=$image/rootfs,upperdir=$dir/upper,workdir=$dir/work" \
      "$dir/rootfs" 2>"$dir/overlay.err"; then
      mode=overlay
    elif [ "$ROOTFS_MODE" = overlay ]; then
      fail "cannot mount the overlay rootfs: $(cat "$dir/overlay.err")"
    else
      rmdir "$dir/rootfs" 2>/dev/null
      rm -rf "$dir/upper" "$dir/work"
    fi
    rm -f "$dir/overlay.err"
  fi
  if [ -z "$mode" ]; then
    rm -rf "$dir/rootfs" "$dir/rootfs.tmp"
    cp -a "$image/rootfs" "$dir/rootfs.tmp" || fail "cannot copy the image rootfs"
    mv "$dir/rootfs.tmp" "$dir/rootfs" || fail "cannot rename the rootfs copy"
    mode=copy
  fi
  echo "$mode" >"$dir/rootfs.mode"
fi

cat >"$dir/instance.env.tmp" <<ENV || fail "cannot write instance.env"
INSTANCE_ID='$INSTANCE_ID'
INSTANCE_DIR='$dir'
IMAGE_DIR='$image'
NET_TAG='$NET_TAG'
IP_HOST='$ip_host'
IP_CTR='$ip_ctr'
PORTS='${PORTS:-}'
FIREWALL='$FIREWALL'
RUNTIME='$RUNTIME'
RUNTIME_ROOT='/run/grim/$RUNTIME'
ROOTFS_MODE='$mode'
STOP_SIGNAL='$STOP_SIGNAL'
ENV
mv -f "$dir/instance.env.tmp" "$dir/instance.env" || fail "cannot write instance.env"

out=$(INSTANCE_DIR=$dir PREPARE_ONLY=1 sh "$dir/container-run.sh" 2>&1)
case $(printf '%s\n' "$out" | tail -n 1) in
  '{"ok":true'*) ;;
  *) fail "preparing the instance failed: $(printf '%s\n' "$out" | tail -n 3 | tr '\n' ' ')" ;;
esac
printf '{"ok":true,"ip":"%s","hostIp":"%s","slot":%d,"runtime":"%s","firewall":"%s","rootfs":"%s"}\n' \
  "$ip_ctr" "$ip_host" "$slot" "$RUNTIME" "$FIREWALL" "$mode"
