#!/bin/sh
# deploy.sh - the last Buildbot step: asks grim to deploy the built image (or tarball) to the app, with the
# pipeline's deployer token (it may deploy this app and nothing else). The release records the pipeline,
# build number, commit and digest. Fails the build when grim refuses.
# param: GRIM_URL - grim's API base URL, e.g. https://10.0.0.1:8443
# param: GRIM_CA_FILE (optional) - CA certificate to trust for GRIM_URL (empty: the system's)
# param: GRIM_TOKEN - the deployer token (from Buildbot's secrets)
# param: APP - the app to deploy
# param: PIPELINE - this pipeline's name
# param: BUILD_NUMBER - Buildbot's build number
# param: COMMIT - the built commit (hex)
# param: DIGEST - the image or tarball digest (sha256:<64 hex>)
# param: SOURCE_TEMPLATE - the app source as JSON with @DIGEST@ / @DIGEST_HEX@ where the digest goes
# result: grim's answer (JSON with jobId and release)
set -eu

: "${GRIM_URL:?}" "${GRIM_TOKEN:?}" "${APP:?}" "${PIPELINE:?}" "${BUILD_NUMBER:?}" "${COMMIT:?}" "${DIGEST:?}"
: "${SOURCE_TEMPLATE:?}"
case $APP in *[!a-z0-9-]*) echo "bad APP" >&2 && exit 2 ;; esac
case $PIPELINE in *[!a-z0-9-]*) echo "bad PIPELINE" >&2 && exit 2 ;; esac
case $BUILD_NUMBER in '' | *[!0-9]*) echo "bad BUILD_NUMBER" >&2 && exit 2 ;; esac
case $COMMIT in '' | *[!0-9a-f]*) echo "bad COMMIT" >&2 && exit 2 ;; esac
hex=${DIGEST#sha256:}
if [ "$hex" = "$DIGEST" ] || [ ${#hex} -ne 64 ]; then echo "bad DIGEST: $DIGEST" >&2 && exit 2; fi
case $hex in *[!0-9a-f]*) echo "bad DIGEST: $DIGEST" >&2 && exit 2 ;; esac

source=$(printf '%s' "$SOURCE_TEMPLATE" | sed -e "s/@DIGEST_HEX@/$hex/g" -e "s/@DIGEST@/sha256:$hex/g")
body=$(printf '{"source":%s,"build":{"pipeline":"%s","number":%s,"commit":"%s","digest":"sha256:%s"}}' \
  "$source" "$PIPELINE" "$BUILD_NUMBER" "$COMMIT" "$hex")
echo "deploying $APP: $source" >&2
out=$(mktemp)
trap 'rm -f "$out"' EXIT
if [ -n "${GRIM_CA_FILE:-}" ]; then set -- --cacert "$GRIM_CA_FILE"; else set --; fi
# The token goes in a header file on stdin-free fd: never on the command line (ps shows argv).
status=$(printf 'Authorization: Bearer %s\n' "$GRIM_TOKEN" | curl -sS -o "$out" -w '%{http_code}' "$@" \
  -H @- -H 'Content-Type: application/json' --data-binary "$body" "$GRIM_URL/api/apps/$APP/deploy") || status=000
cat "$out"
echo
case $status in 2??) exit 0 ;; *) echo "grim refused the deploy: HTTP $status" >&2 && exit 1 ;; esac
