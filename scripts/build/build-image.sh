#!/bin/sh
# build-image.sh - a Buildbot step: builds the checked-out repository's Dockerfile with buildah (vfs storage,
# chroot isolation, no daemon), tags it with the commit, pushes it and prints the pushed manifest digest.
# Build arguments come as NAME=VALUE arguments (each one checked again here), never through a shell.
# param: IMAGE - registry/repository to push to, e.g. 127.0.0.1:5000/lab/web
# param: TAG - the commit id the image is tagged with
# param: DOCKERFILE - path of the Dockerfile inside the checkout
# param: REGISTRY_CA_DIR (optional) - directory with the registry's CA (ca.crt); empty: plain http (loopback)
# param: REGISTRY_USER (optional) - push account (from Buildbot's secrets)
# param: REGISTRY_PASSWORD (optional) - its password
# param: BUILDAH_ROOT (optional) - buildah storage root (default: $HOME/buildah)
# result: the image's manifest digest (sha256:...) as the only stdout line; buildah's output goes to stderr
set -eu

: "${IMAGE:?}" "${TAG:?}" "${DOCKERFILE:?}"
case $TAG in *[!0-9a-f]* | '') echo "TAG must be a hex commit id" >&2 && exit 2 ;; esac
case $DOCKERFILE in /* | -* | *..*) echo "DOCKERFILE must be a relative path without .." >&2 && exit 2 ;; esac
case $IMAGE in -* | *[!A-Za-z0-9./:_-]*) echo "IMAGE has unexpected characters" >&2 && exit 2 ;; esac

root=${BUILDAH_ROOT:-${HOME:-/tmp}/buildah}
# The build arguments become "--build-arg NAME=VALUE" pairs in "$@" (the for list is expanded once).
nargs=$#
for a in "$@"; do
  case ${a%%=*} in '' | [!A-Za-z_]* | *[!A-Za-z0-9_]*) echo "bad build argument name: ${a%%=*}" >&2 && exit 2 ;; esac
  case $a in *=*) ;; *) echo "build argument without a value: $a" >&2 && exit 2 ;; esac
  set -- "$@" --build-arg "$a"
done
shift "$nargs"

tls=--tls-verify=false
if [ -n "${REGISTRY_CA_DIR:-}" ]; then tls="--cert-dir=$REGISTRY_CA_DIR"; fi
creds=
if [ -n "${REGISTRY_USER:-}" ]; then creds="$REGISTRY_USER:${REGISTRY_PASSWORD:-}"; fi

b() { buildah --storage-driver vfs --root "$root/root" --runroot "$root/run" "$@"; }
b bud --isolation chroot --layers=false -f "$DOCKERFILE" -t "$IMAGE:$TAG" "$@" . >&2
digestfile=$(mktemp)
trap 'rm -f "$digestfile"' EXIT
if [ -n "$creds" ]; then
  b push "$tls" --creds "$creds" --digestfile "$digestfile" "$IMAGE:$TAG" "docker://$IMAGE:$TAG" >&2
else
  b push "$tls" --digestfile "$digestfile" "$IMAGE:$TAG" "docker://$IMAGE:$TAG" >&2
fi
b rmi "$IMAGE:$TAG" >/dev/null 2>&1 || true
digest=$(cat "$digestfile")
case $digest in sha256:*) ;; *) echo "no digest from buildah push: $digest" >&2 && exit 1 ;; esac
echo "$digest"
