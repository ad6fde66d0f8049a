#!/bin/sh
# vm-fc-api.sh - send one request to a Firecracker API socket on this node (curl --unix-socket) and
# return the answer. grim builds and validates the request; this only carries it.
# param: SOCKET - the API socket, e.g. /srv/jailer/firecracker/<id>/root/run/firecracker.socket
# param: METHOD - GET | PUT | PATCH
# param: API_PATH - request path, e.g. /machine-config
# param: BODY (optional) - JSON request body
# result: {"status":N,"body":<JSON answer or null>}
set -eu
: "${SOCKET:?}" "${METHOD:?}" "${API_PATH:?}"
case $METHOD in GET | PUT | PATCH) ;; *) echo '{"ok":false,"error":"METHOD must be GET, PUT or PATCH"}' && exit 1 ;; esac
case $API_PATH in /*) ;; *) echo '{"ok":false,"error":"API_PATH must start with /"}' && exit 1 ;; esac
command -v curl >/dev/null || { echo '{"ok":false,"error":"curl not found"}' && exit 1; }
[ -S "$SOCKET" ] || { echo '{"ok":false,"error":"API socket not found (is the VMM running?)"}' && exit 1; }
out=$(mktemp)
trap 'rm -f "$out"' EXIT
if [ -n "${BODY:-}" ]; then
  status=$(printf '%s' "$BODY" | curl -sS -o "$out" -w '%{http_code}' --unix-socket "$SOCKET" -X "$METHOD" \
    -H 'Content-Type: application/json' -H 'Accept: application/json' --data-binary @- "http://localhost$API_PATH")
else
  status=$(curl -sS -o "$out" -w '%{http_code}' --unix-socket "$SOCKET" -X "$METHOD" -H 'Accept: application/json' "http://localhost$API_PATH")
fi
body=$(tr -d '\n' <"$out")
printf '{"status":%s,"body":%s}\n' "$status" "${body:-null}"
