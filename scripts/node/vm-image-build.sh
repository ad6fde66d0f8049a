#!/bin/sh
# vm-image-build.sh - turn an unpacked root filesystem (or a tarball) into a cached ext4 disk image
# for microVMs: injects grim's guest init and a static busybox (root disks), then `mkfs.ext4 -d`,
# sized from the content plus headroom. Cached under VM_ROOT/images/KEY: when the disk is already
# there nothing is rebuilt (a redeploy of the same image digest reuses it).
# param: KEY - cache key, [a-z0-9._-], e.g. "sha256-<hex of the manifest digest>" or "runtime-alpine-3.20"
# param: SOURCE_DIR (optional) - unpacked tree to build from (e.g. filled by oci-unpack.sh); removed afterwards
# param: SOURCE_TARBALL (optional) - tarball (gzip or plain) to unpack instead of SOURCE_DIR
# param: LAYERS (optional) - OCI layers to apply in order with whiteouts, "path:gzip|none" words (needs OCI_UNPACK)
# param: OCI_UNPACK (optional) - path of grim's oci-unpack.sh on this node (the same whiteout rules as the control node)
# param: KIND (optional) - "root" (default: inject init + busybox, label grim-root) or "app" (label grim-app)
# param: GUEST_INIT (optional) - path of grim's guest init on this node (required for KIND=root)
# param: APP_DEF (optional) - path of the app definition grim wrote (data), installed as /grim/app
# param: HEADROOM_MB (optional) - free space to leave in the filesystem, default 64
# param: VM_ROOT (optional) - grim's VM state directory, default /var/lib/grim/vm
# param: BUSYBOX (optional) - a statically linked busybox, default /bin/busybox
# result: {"key","disk","cached":true|false,"sizeBytes":N,"contentBytes":N}
# lib: fail
set -eu

: "${KEY:?}"
case $KEY in *[!a-z0-9._-]* | '' | .*) fail "invalid KEY '$KEY'" ;; esac
VM_ROOT=${VM_ROOT:-/var/lib/grim/vm}
KIND=${KIND:-root}
HEADROOM_MB=${HEADROOM_MB:-64}
BUSYBOX=${BUSYBOX:-/bin/busybox}
OUT=$VM_ROOT/images/$KEY
DISK=$OUT/disk.ext4

result() { # result CACHED CONTENT_BYTES
  printf '{"key":"%s","disk":"%s","cached":%s,"sizeBytes":%s,"contentBytes":%s}\n' \
    "$KEY" "$DISK" "$1" "$(wc -c <"$DISK" | tr -d ' ')" "$2"
}

cleanup_source() { if [ -n "${SOURCE_DIR:-}" ]; then rm -rf "$SOURCE_DIR"; fi; }

if [ -f "$DISK" ]; then
  cleanup_source
  result true "$(cat "$OUT/content-bytes" 2>/dev/null || echo 0)"
  exit 0
fi
command -v mkfs.ext4 >/dev/null || fail "mkfs.ext4 not found (install e2fsprogs)"
mkdir -p "$OUT"
TREE=$(mktemp -d "$OUT/.tree.XXXXXX")
trap 'rm -rf "$TREE" "$DISK.partial"' EXIT

if [ -n "${SOURCE_TARBALL:-}" ]; then
  [ -f "$SOURCE_TARBALL" ] || fail "tarball not found: $SOURCE_TARBALL"
  case $(od -A n -t x1 -N 2 "$SOURCE_TARBALL" | tr -d ' ') in
    1f8b) tar -xzf "$SOURCE_TARBALL" -C "$TREE" --numeric-owner 2>/dev/null || tar -xzf "$SOURCE_TARBALL" -C "$TREE" ;;
    *) tar -xf "$SOURCE_TARBALL" -C "$TREE" --numeric-owner 2>/dev/null || tar -xf "$SOURCE_TARBALL" -C "$TREE" ;;
  esac || fail "cannot unpack $SOURCE_TARBALL"
elif [ -n "${LAYERS:-}" ]; then
  [ -f "${OCI_UNPACK:-}" ] || fail "OCI_UNPACK is required with LAYERS"
  for layer in $LAYERS; do
    out=$(ROOTFS=$TREE LAYER=${layer%:*} LAYER_MEDIA=${layer##*:} sh "$OCI_UNPACK") || fail "layer ${layer%:*}: $(echo "$out" | tail -n 1)"
    rm -f "${layer%:*}"
  done
elif [ -n "${SOURCE_DIR:-}" ]; then
  [ -d "$SOURCE_DIR" ] || fail "SOURCE_DIR not found: $SOURCE_DIR"
  rmdir "$TREE"
  mv "$SOURCE_DIR" "$TREE"
else
  fail "set SOURCE_DIR, SOURCE_TARBALL or LAYERS"
fi

# A directory inside the tree, following a symlink the way the guest will (relative or absolute).
inside() { # inside REL: echo the host path of REL in the tree
  rel=$1
  if [ -L "$TREE/$rel" ]; then
    target=$(readlink "$TREE/$rel")
    case $target in /*) rel=${target#/} ;; *) rel=$(dirname "$rel")/$target ;; esac
  fi
  echo "$TREE/$rel"
}

case $KIND in
  root)
    [ -f "${GUEST_INIT:-}" ] || fail "GUEST_INIT is required for a root disk"
    [ -x "$BUSYBOX" ] || fail "busybox not found: $BUSYBOX (install busybox-static)"
    mkdir -p "$TREE/grim/bin"
    cp "$BUSYBOX" "$TREE/grim/bin/busybox"
    for applet in $("$BUSYBOX" --list); do [ "$applet" = busybox ] || ln -sf busybox "$TREE/grim/bin/$applet"; done
    sbin=$(inside sbin)
    mkdir -p "$sbin"
    cp "$GUEST_INIT" "$sbin/grim-init"
    chmod 0755 "$sbin/grim-init"
    if [ -n "${APP_DEF:-}" ]; then cp "$APP_DEF" "$TREE/grim/app"; fi
    for d in dev proc sys run tmp etc app; do [ -e "$TREE/$d" ] || [ -L "$TREE/$d" ] || mkdir -p "$TREE/$d"; done
    chmod 1777 "$TREE/tmp" 2>/dev/null || true
    LABEL=grim-root
    ;;
  app) LABEL=grim-app ;;
  *) fail "KIND must be root or app, got '$KIND'" ;;
esac

content_kb=$(du -sk "$TREE" | cut -f1)
inodes=$(find "$TREE" | wc -l | tr -d ' ')
# ext4 metadata needs ~5% plus the journal; headroom is what the app may write.
size_mb=$((content_kb * 11 / 10 / 1024 + HEADROOM_MB + 16))
mkfs.ext4 -q -F -L "$LABEL" -N $((inodes * 2 + 4096)) -E root_owner=0:0 -d "$TREE" "$DISK.partial" "${size_mb}M" >/dev/null ||
  fail "mkfs.ext4 -d failed (e2fsprogs >= 1.43 is needed)"
mv "$DISK.partial" "$DISK"
echo $((content_kb * 1024)) >"$OUT/content-bytes"
result false $((content_kb * 1024))
