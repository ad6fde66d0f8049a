#!/bin/sh
# app-upload.sh - the old upload path, kept only for `npm run bench:vm` to compare against file-receive.sh:
# writes one file on the node from base64, in chunks: the first chunk
# starts <path>.part, later chunks append to it, and the chunk marked last moves it into place atomically.
# param: FILE_PATH - absolute path to write; it must be under /var/lib/grim/
# param: FILE_DATA_B64 - this chunk's content, base64
# param: FILE_APPEND (optional) - 1 to append to the chunks sent before
# param: FILE_COMMIT (optional) - 1 when this is the last chunk
# param: FILE_MODE (optional) - octal mode (default 600)
# result: {"ok":true,"bytes":N} (bytes written so far)
set -eu

: "${FILE_PATH:?}" "${FILE_DATA_B64?}"
case $FILE_PATH in /var/lib/grim/*) ;; *) echo "FILE_PATH must be under /var/lib/grim/" >&2 && exit 2 ;; esac
case $FILE_PATH in *..*) echo "FILE_PATH must not contain .." >&2 && exit 2 ;; esac
mode=${FILE_MODE:-600}
case $mode in '' | *[!0-7]*) echo "invalid FILE_MODE" >&2 && exit 2 ;; esac
umask 077
mkdir -p "$(dirname "$FILE_PATH")"
part=$FILE_PATH.part
if [ "${FILE_APPEND:-}" = 1 ]; then
  printf '%s' "$FILE_DATA_B64" | base64 -d >>"$part"
else
  printf '%s' "$FILE_DATA_B64" | base64 -d >"$part"
fi
bytes=$(wc -c <"$part" | tr -d ' ')
if [ "${FILE_COMMIT:-}" = 1 ]; then
  chmod "$mode" "$part"
  mv -f "$part" "$FILE_PATH"
fi
echo "{\"ok\":true,\"bytes\":$bytes}"
