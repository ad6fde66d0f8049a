#!/bin/sh
# node-host-key.sh - runs inside a running lab node: installs a new sshd host key and makes sshd load it
# (SIGHUP: sshd re-executes itself). stdin holds the OpenSSH private key, then its public key line.
# param: HOST_KEY_PATH - the host key file sshd reads (the public key goes to HOST_KEY_PATH.pub)
# result: {"ok":true}
# lib: fail
set -eu
case ${HOST_KEY_PATH:-} in /*) ;; *) fail "HOST_KEY_PATH must be an absolute path" 2 ;; esac
umask 077
input=$(cat)
printf '%s\n' "$input" | sed -n '/^-----BEGIN /,/^-----END /p' >"$HOST_KEY_PATH.new"
printf '%s\n' "$input" | grep '^ssh-' >"$HOST_KEY_PATH.pub.new" || fail "no public key line on stdin"
[ -s "$HOST_KEY_PATH.new" ] || fail "no private key on stdin"
chmod 644 "$HOST_KEY_PATH.pub.new"
mv -f "$HOST_KEY_PATH.new" "$HOST_KEY_PATH"
mv -f "$HOST_KEY_PATH.pub.new" "$HOST_KEY_PATH.pub"
kill -HUP "$(cat /run/sshd.pid)"
echo '{"ok":true}'
