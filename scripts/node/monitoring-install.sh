#!/bin/sh
# monitoring-install.sh - installs one release of a monitoring stack component (cortex, loki, tempo, grafana) on
# this node: checks the staged artifact's SHA-256 against the one grim recorded, puts a binary (or unpacks a
# release tarball) into <dir>/releases/<component>/<version>/ and switches the symlink
# <dir>/releases/<component>/current to it atomically. Idempotent: a version already installed from an
# artifact with the same SHA-256 is only switched to.
# param: COMPONENT - cortex, loki, tempo or grafana
# param: VERSION - the release name grim recorded ([A-Za-z0-9._-])
# param: SHA256 - the artifact's SHA-256 (64 hex digits) as grim recorded it
# param: KIND - binary or tarball
# param: ENTRY - the executable, relative to the release directory
# param: MON_DIR - the stack's base directory on the node (absolute)
# param: STAGED (optional) - path of the uploaded artifact under <MON_DIR>/staging/ (not needed when installed)
# result: {"ok":true,"version":"...","switched":true|false}; exits 3 when the version is neither installed nor staged, 4 on a checksum mismatch
set -eu

: "${COMPONENT:?}" "${VERSION:?}" "${SHA256:?}" "${KIND:?}" "${ENTRY:?}" "${MON_DIR:?}"
case $COMPONENT in cortex | loki | tempo | grafana) ;; *) echo "invalid COMPONENT" >&2 && exit 2 ;; esac
case $VERSION in '' | *[!A-Za-z0-9._-]* | .*) echo "invalid VERSION" >&2 && exit 2 ;; esac
case $SHA256 in *[!0-9a-f]*) echo "invalid SHA256" >&2 && exit 2 ;; esac
[ ${#SHA256} -eq 64 ] || { echo "invalid SHA256" >&2 && exit 2; }
case $KIND in binary | tarball) ;; *) echo "invalid KIND" >&2 && exit 2 ;; esac
case $ENTRY in /* | *..* | *[!A-Za-z0-9._/-]*) echo "invalid ENTRY" >&2 && exit 2 ;; esac
case $MON_DIR in /*) ;; *) echo "MON_DIR must be absolute" >&2 && exit 2 ;; esac
case $MON_DIR in *..* | *[!A-Za-z0-9/_.-]*) echo "MON_DIR has unsafe characters" >&2 && exit 2 ;; esac
root=$MON_DIR/releases/$COMPONENT
staging=$MON_DIR/staging
umask 022
mkdir -p "$root" "$staging"
chmod 700 "$staging"

sum() { sha256sum "$1" | cut -d' ' -f1; }

target=$root/$VERSION
if [ "$(cat "$target/.artifact-sha256" 2>/dev/null || true)" != "$SHA256" ] || [ ! -x "$target/$ENTRY" ]; then
  staged=${STAGED:-}
  if [ -z "$staged" ] || [ ! -f "$staged" ]; then
    echo "$COMPONENT $VERSION is not installed and nothing was staged" >&2
    exit 3
  fi
  case $staged in "$staging"/*) ;; *) echo "STAGED must be under $staging" >&2 && exit 2 ;; esac
  case $staged in *..*) echo "STAGED must not contain .." >&2 && exit 2 ;; esac
  got=$(sum "$staged")
  if [ "$got" != "$SHA256" ]; then
    rm -f "$staged"
    echo "checksum mismatch: grim recorded $SHA256, the staged artifact has $got" >&2
    exit 4
  fi
  rm -rf "$target.tmp"
  mkdir -p "$target.tmp"
  if [ "$KIND" = tarball ]; then
    tar -xzf "$staged" -C "$target.tmp"
    rm -f "$staged"
  else
    chmod 755 "$staged"
    mkdir -p "$(dirname "$target.tmp/$ENTRY")"
    mv -f "$staged" "$target.tmp/$ENTRY"
  fi
  [ -x "$target.tmp/$ENTRY" ] || { rm -rf "$target.tmp" && echo "the release has no executable $ENTRY" >&2 && exit 4; }
  echo "$SHA256" >"$target.tmp/.artifact-sha256"
  rm -rf "$target"
  mv -f "$target.tmp" "$target"
fi

current=$(readlink "$root/current" 2>/dev/null || true)
switched=false
if [ "$current" != "$target" ]; then
  ln -sfn "$target" "$root/current.tmp.$$"
  mv -f "$root/current.tmp.$$" "$root/current"
  switched=true
fi
echo "{\"ok\":true,\"version\":\"$VERSION\",\"switched\":$switched}"
