#!/bin/sh
# install-key.sh - authorize grim's public key for the login user (idempotent).
# Adds the key to ~/.ssh/authorized_keys unless that key is already there, and fixes modes
# (~/.ssh 0700, authorized_keys 0600). Other lines are left untouched.
# param: GRIM_PUBLIC_KEY - one OpenSSH public key line, e.g. "ssh-ed25519 AAAA... grim@control"
# result: {"added":true|false,"path":"/root/.ssh/authorized_keys"}
set -eu

nl='
'
cr=$(printf '\r')
case "$GRIM_PUBLIC_KEY" in
*"$nl"* | *"$cr"*) echo "GRIM_PUBLIC_KEY must be a single line" >&2; exit 2 ;;
ssh-ed25519\ AAAA* | ssh-rsa\ AAAA* | ecdsa-sha2-nistp*\ AAAA* | sk-*\ AAAA*) ;;
*) echo "GRIM_PUBLIC_KEY is not an OpenSSH public key line" >&2; exit 2 ;;
esac
rest=${GRIM_PUBLIC_KEY#* }
blob=${rest%% *}
case "$blob" in *[!A-Za-z0-9+/=]*) echo "GRIM_PUBLIC_KEY has malformed key data" >&2; exit 2 ;; esac

: "${HOME:?HOME is not set}"
dir="$HOME/.ssh"
file="$dir/authorized_keys"
umask 077
mkdir -p "$dir"
chmod 700 "$dir"
[ -e "$file" ] || : >"$file"
chmod 600 "$file"

added=false
if ! grep -qF -- " $blob" "$file"; then
	# keep the file line-oriented when its last line has no newline
	if [ -s "$file" ] && [ "$(tail -c 1 "$file" | wc -l)" -eq 0 ]; then
		echo >>"$file"
	fi
	printf '%s\n' "$GRIM_PUBLIC_KEY" >>"$file"
	added=true
fi

esc_path=$(printf '%s' "$file" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g')
printf '{"added":%s,"path":"%s"}\n' "$added" "$esc_path"
