#!/bin/sh
# file-receive.sh - writes one file on the node from this channel's stdin (the whole upload, one SSH channel):
# into a temporary file next to it, checked against its SHA-256, then moved into place atomically.
# param: FILE_PATH - absolute path to write; it must be under /var/lib/grim/
# param: FILE_SHA256 - the SHA-256 of the content (64 hex digits); a mismatch leaves nothing behind
# param: FILE_MODE (optional) - octal mode (default 600)
# result: {"ok":true,"bytes":N}
# lib: fail
set -eu

: "${FILE_PATH:?}" "${FILE_SHA256:?}"
case $FILE_PATH in /var/lib/grim/*) ;; *) fail "FILE_PATH must be under /var/lib/grim/" 2 ;; esac
case $FILE_PATH in *..*) fail "FILE_PATH must not contain .." 2 ;; esac
case $FILE_SHA256 in *[!0-9a-f]*) fail "FILE_SHA256 must be 64 lowercase hex digits" 2 ;; esac
[ ${#FILE_SHA256} -eq 64 ] || fail "FILE_SHA256 must be 64 lowercase hex digits" 2
mode=${FILE_MODE:-600}
case $mode in '' | *[!0-7]*) fail "invalid FILE_MODE" 2 ;; esac
umask 077
mkdir -p "$(dirname "$FILE_PATH")"
part=$FILE_PATH.part.$$
trap 'rm -f "$part"' EXIT
cat >"$part"
got=$(sha256sum "$part" | cut -d ' ' -f 1)
[ "$got" = "$FILE_SHA256" ] || fail "checksum mismatch for $FILE_PATH: got sha256 $got, expected $FILE_SHA256" 3
bytes=$(wc -c <"$part" | tr -d ' ')
chmod "$mode" "$part"
mv -f "$part" "$FILE_PATH"
trap - EXIT
echo "{\"ok\":true,\"bytes\":$bytes}"
