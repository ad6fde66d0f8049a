#!/bin/sh
# container-image-build.sh - adopts uploaded blobs (sha256-verified) and unpacks an image's layers, whiteouts applied,
# into STATE_DIR/images/IMAGE_ID/rootfs. Built once per manifest digest in a temporary directory that is renamed
# at the end, so a half-finished earlier attempt is never used (its leftovers are removed).
# param: STATE_DIR - grim's state directory on the node, e.g. /var/lib/grim
# param: IMAGE_ID - hex part of the image's manifest digest
# param: LAYERS - space-separated HEX:MEDIA (MEDIA gzip or none), bottom layer first
# param: CONFIG_BLOB - hex digest of the image config blob
# param: UPLOAD_SUFFIX - blobs uploaded for this build are at STATE_DIR/blobs/sha256/HEX.UPLOAD_SUFFIX
# param: UNPACKER - path of oci-unpack.sh on the node
# result: {"ok":true,"built":BOOL,"layers":N}  (built false: the image was already there)
# lib: fail
set -u

is_hex64() {
  case $1 in *[!0-9a-f]* | '') return 1 ;; esac
  [ ${#1} -eq 64 ]
}
case ${STATE_DIR:-} in /*) ;; *) fail "STATE_DIR must be an absolute path" ;; esac
is_hex64 "${IMAGE_ID:-}" || fail "IMAGE_ID must be 64 hex characters"
is_hex64 "${CONFIG_BLOB:-}" || fail "CONFIG_BLOB must be 64 hex characters"
case ${UPLOAD_SUFFIX:-} in *[!a-z0-9]* | '') fail "UPLOAD_SUFFIX must be [a-z0-9]+" ;; esac
[ -f "${UNPACKER:-}" ] || fail "unpacker not found: ${UNPACKER:-}"

blobs=$STATE_DIR/blobs/sha256
images=$STATE_DIR/images
target=$images/$IMAGE_ID
if [ -d "$target/rootfs" ] && [ -f "$target/config.json" ]; then
  printf '{"ok":true,"built":false,"layers":0}\n'
  exit 0
fi

# adopt BLOB: the verified blob is in the store afterwards (an upload of this build is checked and renamed).
adopt() {
  upload=$blobs/$1.$UPLOAD_SUFFIX
  if [ -f "$upload" ]; then
    sum=$(sha256sum <"$upload" | cut -d ' ' -f 1)
    if [ "$sum" != "$1" ]; then
      rm -f "$upload"
      fail "uploaded blob $1 has digest $sum"
    fi
    mv -f "$upload" "$blobs/$1" || fail "cannot store blob $1"
  fi
  [ -f "$blobs/$1" ] || fail "blob $1 is neither stored nor uploaded"
}

adopt "$CONFIG_BLOB"
count=0
for layer in ${LAYERS:-}; do
  hex=${layer%%:*}
  media=${layer#*:}
  is_hex64 "$hex" || fail "LAYERS: bad digest in $layer"
  case $media in gzip | none) ;; *) fail "LAYERS: unsupported layer media '$media' (gzip or none)" ;; esac
  adopt "$hex"
  count=$((count + 1))
done

# Leftovers of earlier attempts whose builder is gone.
for old in "$images"/.build-*; do
  [ -d "$old" ] || continue
  pid=$(cat "$old/pid" 2>/dev/null || echo 0)
  case $pid in *[!0-9]* | '') pid=0 ;; esac
  if [ "$pid" -eq 0 ] || ! kill -0 "$pid" 2>/dev/null; then rm -rf "$old"; fi
done

work=$images/.build-$IMAGE_ID-$$
rm -rf "$work"
mkdir -p "$work/rootfs" || fail "cannot create $work"
echo $$ >"$work/pid"
for layer in ${LAYERS:-}; do
  out=$(ROOTFS=$work/rootfs LAYER=$blobs/${layer%%:*} LAYER_MEDIA=${layer#*:} sh "$UNPACKER" 2>&1)
  case $(printf '%s\n' "$out" | tail -n 1) in
    '{"ok":true'*) ;;
    *)
      rm -rf "$work"
      fail "unpacking layer ${layer%%:*} failed: $(printf '%s\n' "$out" | tail -n 3 | tr '\n' ' ')"
      ;;
  esac
done
cp "$blobs/$CONFIG_BLOB" "$work/config.json" || fail "cannot copy the image config"
rm -f "$work/pid"
if [ -e "$target" ]; then
  rm -rf "$work" # built concurrently by someone else
else
  mv "$work" "$target" || fail "cannot rename $work to $target"
  # lost a race: mv moved the build into an existing target
  rm -rf "${target:?}/.build-$IMAGE_ID-$$"
fi
printf '{"ok":true,"built":true,"layers":%d}\n' "$count"
