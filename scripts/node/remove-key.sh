#!/bin/sh
# remove-key.sh - remove a public key from the login user's ~/.ssh/authorized_keys (idempotent).
# Used by `grim ssh rotate` once the new key is known to work: it refuses to run unless the key to keep
# is authorized, so grim can never lock itself out. Other lines are left untouched.
# param: GRIM_REMOVE_BLOB - base64 key data of the key to remove (the second field of its line)
# param: GRIM_KEEP_BLOB - base64 key data of grim's new key, which must stay authorized
# result: {"removed":true|false,"path":"/root/.ssh/authorized_keys"}
set -eu

for blob in "$GRIM_REMOVE_BLOB" "$GRIM_KEEP_BLOB"; do
	case "$blob" in
	'' | *[!A-Za-z0-9+/=]*) echo "key data must be non-empty base64" >&2; exit 2 ;;
	esac
done
[ "$GRIM_REMOVE_BLOB" != "$GRIM_KEEP_BLOB" ] || { echo "the key to remove is the key to keep" >&2; exit 2; }

: "${HOME:?HOME is not set}"
file="$HOME/.ssh/authorized_keys"
esc_path=$(printf '%s' "$file" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g')
if [ ! -e "$file" ]; then
	echo "$file does not exist" >&2
	exit 3
fi
# A key line is "[options] type blob [comment]": match the blob as a whole field.
has() { awk -v b="$1" '{ for (i = 1; i <= NF; i++) if ($i == b) found = 1 } END { exit found ? 0 : 1 }' "$file"; }
if ! has "$GRIM_KEEP_BLOB"; then
	echo "grim's new key is not authorized in $file: not removing the old one" >&2
	exit 3
fi
removed=false
if has "$GRIM_REMOVE_BLOB"; then
	tmp="$file.grim-tmp.$$"
	umask 077
	awk -v b="$GRIM_REMOVE_BLOB" '{ keep = 1; for (i = 1; i <= NF; i++) if ($i == b) keep = 0; if (keep) print }' "$file" >"$tmp"
	chmod 600 "$tmp"
	mv -f "$tmp" "$file"
	removed=true
fi
printf '{"removed":%s,"path":"%s"}\n' "$removed" "$esc_path"
