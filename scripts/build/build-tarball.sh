#!/bin/sh
# build-tarball.sh - a Buildbot step: packs the checked-out commit (git archive: tracked files only) into a
# gzip tarball named after its sha256 under OUT_DIR, for a tarball + runtime app, and prints that digest.
# param: OUT_DIR - absolute directory the tarballs are kept in (the control node reads them from there)
# param: COMMIT - the commit to pack (hex)
# result: the tarball's digest (sha256:...) as the only stdout line
set -eu

: "${OUT_DIR:?}" "${COMMIT:?}"
case $COMMIT in *[!0-9a-f]* | '') echo "COMMIT must be a hex commit id" >&2 && exit 2 ;; esac
case $OUT_DIR in /*) ;; *) echo "OUT_DIR must be absolute" >&2 && exit 2 ;; esac
mkdir -p "$OUT_DIR"
tmp=$(mktemp "$OUT_DIR/.build.XXXXXX")
trap 'rm -f "$tmp"' EXIT
git archive --format=tar "$COMMIT" | gzip -n >"$tmp"
hex=$(sha256sum "$tmp" | cut -d' ' -f1)
chmod 644 "$tmp"
mv -f "$tmp" "$OUT_DIR/$hex.tar.gz"
echo "packed $COMMIT into $OUT_DIR/$hex.tar.gz ($(wc -c <"$OUT_DIR/$hex.tar.gz") bytes)" >&2
echo "sha256:$hex"
