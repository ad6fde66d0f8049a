#!/bin/sh
# weed-install.sh - installs one SeaweedFS release on this node: checks the staged binary's SHA-256 against
# the one grim recorded, moves it to /opt/seaweedfs/<version>/weed and switches the symlink /opt/seaweedfs/weed
# to it (atomically), remembering the previous version so a rollback is one step. Idempotent: a version
# already installed with the same SHA-256 is only switched to.
# param: VERSION - the release name grim recorded ([A-Za-z0-9._-])
# param: SHA256 - the binary's SHA-256 (64 hex digits) as grim recorded it
# param: STAGED (optional) - path of the uploaded binary under /var/lib/grim/seaweedfs/staging/ (not needed when installed)
# param: SWITCH (optional) - "no": install without switching the symlink
# (the staging directory exists after any run, so grim can upload into it)
# result: {"ok":true,"version":"...","previous":"...","switched":true|false}; exits 3 when the version is neither installed nor staged, 4 on a checksum mismatch
set -eu

: "${VERSION:?}" "${SHA256:?}"
case $VERSION in '' | *[!A-Za-z0-9._-]* | .*) echo "invalid VERSION" >&2 && exit 2 ;; esac
case $SHA256 in *[!0-9a-f]*) echo "invalid SHA256" >&2 && exit 2 ;; esac
[ ${#SHA256} -eq 64 ] || { echo "invalid SHA256" >&2 && exit 2; }
root=/opt/seaweedfs
staging=/var/lib/grim/seaweedfs/staging
umask 022
mkdir -p "$root" "$staging"
chmod 700 "$staging"

sum() { sha256sum "$1" | cut -d' ' -f1; }

target=$root/$VERSION/weed
if [ ! -x "$target" ] || [ "$(sum "$target")" != "$SHA256" ]; then
  staged=${STAGED:-}
  if [ -z "$staged" ] || [ ! -f "$staged" ]; then
    echo "version $VERSION is not installed and no binary was staged" >&2
    exit 3
  fi
  case $staged in "$staging"/*) ;; *) echo "STAGED must be under $staging" >&2 && exit 2 ;; esac
  case $staged in *..*) echo "STAGED must not contain .." >&2 && exit 2 ;; esac
  got=$(sum "$staged")
  if [ "$got" != "$SHA256" ]; then
    rm -f "$staged"
    echo "checksum mismatch: grim recorded $SHA256, the staged binary has $got" >&2
    exit 4
  fi
  mkdir -p "$root/$VERSION"
  chmod 755 "$staged"
  mv -f "$staged" "$target.tmp"
  mv -f "$target.tmp" "$target"
fi
rm -f "$staging"/weed-* 2>/dev/null || true

current=$(readlink "$root/weed" 2>/dev/null || true)
current=${current%/weed}
current=${current##*/}
switched=false
if [ "${SWITCH:-yes}" != no ] && [ "$current" != "$VERSION" ]; then
  ln -sfn "$root/$VERSION/weed" "$root/weed.tmp.$$"
  mv -f "$root/weed.tmp.$$" "$root/weed"
  if [ -n "$current" ]; then echo "$current" >"$root/previous"; fi
  switched=true
fi
previous=$(cat "$root/previous" 2>/dev/null || true)
echo "{\"ok\":true,\"version\":\"$VERSION\",\"previous\":\"$previous\",\"switched\":$switched}"
