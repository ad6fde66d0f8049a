#!/bin/sh
# container-check.sh - what this node already has for an image (unpacked rootfs by manifest digest, layer blobs,
# the layer unpacker) and, optionally, creates the directory of a new container instance.
# param: STATE_DIR - grim's state directory on the node, e.g. /var/lib/grim
# param: IMAGE_ID - hex part of the image's manifest digest (sha256)
# param: BLOBS - space-separated hex sha256 digests of the image's layer and config blobs
# param: UNPACKER - path of the layer unpacker (oci-unpack.sh) on the node
# param: INSTANCE_ID (optional) - create STATE_DIR/containers/INSTANCE_ID for this instance
# result: {"ok":true,"image":BOOL,"missingBlobs":["hex",...],"unpacker":BOOL,"config":{image config, when image is true}}
# lib: fail
set -u

is_hex64() {
  case $1 in *[!0-9a-f]* | '') return 1 ;; esac
  [ ${#1} -eq 64 ]
}
case ${STATE_DIR:-} in /*) ;; *) fail "STATE_DIR must be an absolute path" ;; esac
is_hex64 "${IMAGE_ID:-}" || fail "IMAGE_ID must be 64 hex characters"
case ${UNPACKER:-} in /*) ;; *) fail "UNPACKER must be an absolute path" ;; esac
if [ -n "${INSTANCE_ID:-}" ]; then
  case $INSTANCE_ID in *[!a-z0-9-]* | -*) fail "invalid INSTANCE_ID" ;; esac
fi

mkdir -p "$STATE_DIR/blobs/sha256" "$STATE_DIR/images" "$STATE_DIR/lib" "$STATE_DIR/containers" ||
  fail "cannot create directories under $STATE_DIR"
chmod 700 "$STATE_DIR/containers"
if [ -n "${INSTANCE_ID:-}" ]; then
  mkdir -p "$STATE_DIR/containers/$INSTANCE_ID" || fail "cannot create the instance directory"
  chmod 700 "$STATE_DIR/containers/$INSTANCE_ID"
fi

image=$STATE_DIR/images/$IMAGE_ID
if [ -d "$image/rootfs" ] && [ -f "$image/config.json" ]; then
  printf '{"ok":true,"image":true,"missingBlobs":[],"unpacker":%s,"config":%s}\n' \
    "$([ -f "$UNPACKER" ] && echo true || echo false)" "$(tr -d '\n\r' <"$image/config.json")"
  exit 0
fi

missing=
for blob in ${BLOBS:-}; do
  is_hex64 "$blob" || fail "BLOBS: not a sha256 hex digest: $blob"
  if ! [ -f "$STATE_DIR/blobs/sha256/$blob" ]; then missing="$missing${missing:+,}\"$blob\""; fi
done
printf '{"ok":true,"image":false,"missingBlobs":[%s],"unpacker":%s}\n' "$missing" \
  "$([ -f "$UNPACKER" ] && echo true || echo false)"
