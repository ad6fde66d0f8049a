#!/bin/sh
# buildbot-worker-install.sh - makes this node a Buildbot worker of grim's build master (idempotent):
# a Python venv with buildbot-worker at the pinned version, installed offline from the wheels grim staged in
# /var/lib/grim/buildbot-worker/wheels (the node needs no access to PyPI), the worker's base directory
# connected to the master, grim's build step scripts and the registry's CA. buildah and git must be installed;
# a missing /etc/containers/policy.json gets containers-common's default. The service itself is installed
# and started with app-install.sh/app-start.sh in grim's services directory.
# param: VERSION - buildbot-worker version to install (e.g. 4.3.0)
# param: WORKER_NAME - the worker's name on the master ([a-z0-9-])
# param: WORKER_PASSWORD - its password (from grim's Buildbot secrets)
# param: MASTER - the master's PB address as this node reaches it (host:port)
# param: BUILD_IMAGE_SH - body of grim's build-image.sh step script
# param: DEPLOY_SH - body of grim's deploy.sh step script
# param: REGISTRY_CA - PEM of the CA that signed the build registry's certificate
# param: WHEELS_STAGED (optional) - "yes" when grim uploaded the wheels (first install)
# (the wheels directory exists after any run, so grim can upload into it)
# result: {"ok":true,"installed":true|false,"changed":true|false,"venv":"...","base":"..."} (changed: the worker must restart); exits 3 when buildbot-worker is missing and no wheels were staged
set -eu

: "${VERSION:?}" "${WORKER_NAME:?}" "${WORKER_PASSWORD:?}" "${MASTER:?}" "${BUILD_IMAGE_SH:?}" "${DEPLOY_SH:?}"
: "${REGISTRY_CA:?}"
case $VERSION in *[!0-9.]* | '') echo "invalid VERSION" >&2 && exit 2 ;; esac
case $WORKER_NAME in *[!a-z0-9-]* | '' | -*) echo "invalid WORKER_NAME" >&2 && exit 2 ;; esac
case $MASTER in *[!A-Za-z0-9.:-]* | '' | -*) echo "invalid MASTER" >&2 && exit 2 ;; esac
case $WORKER_PASSWORD in *[!A-Za-z0-9]*) echo "invalid WORKER_PASSWORD" >&2 && exit 2 ;; esac

command -v buildah >/dev/null || { echo "buildah is missing on this node (apt-get install buildah)" >&2 && exit 1; }
command -v git >/dev/null || { echo "git is missing on this node (apt-get install git)" >&2 && exit 1; }
# buildah refuses to commit without a signature policy; containers-common ships this default one.
if [ ! -f /etc/containers/policy.json ]; then
  mkdir -p /etc/containers
  printf '%s\n' '{"default":[{"type":"insecureAcceptAnything"}]}' >/etc/containers/policy.json
fi

root=/var/lib/grim/buildbot-worker
venv=/opt/grim/buildbot-worker
wheels=$root/wheels
base=$root/worker
umask 022
mkdir -p "$wheels" "$base" "$root/scripts" "$root/registry-ca"

installed=false
changed=false
if ! "$venv/bin/python" -c 'import sys, importlib.metadata as m; sys.exit(m.version("buildbot-worker") != sys.argv[1])' "$VERSION" 2>/dev/null; then
  if [ "${WHEELS_STAGED:-}" != yes ]; then
    echo "buildbot-worker $VERSION is not installed and no wheels were staged" >&2
    exit 3
  fi
  command -v python3 >/dev/null || { echo "python3 is missing on this node" >&2 && exit 1; }
  rm -rf "$venv"
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install -q --no-index --find-links "$wheels" "buildbot-worker==$VERSION" >&2
  installed=true
  changed=true
fi

printf '%s\n' "$BUILD_IMAGE_SH" >"$root/scripts/build-image.sh.new"
printf '%s\n' "$DEPLOY_SH" >"$root/scripts/deploy.sh.new"
mv "$root/scripts/build-image.sh.new" "$root/scripts/build-image.sh"
mv "$root/scripts/deploy.sh.new" "$root/scripts/deploy.sh"
printf '%s\n' "$REGISTRY_CA" >"$root/registry-ca/ca.crt"

# The worker's buildbot.tac holds the master's address and the password: written again when either changed.
tac=$base/buildbot.tac
want="buildmaster_host = '${MASTER%:*}'"
if [ ! -f "$tac" ] || ! grep -qx "$want" "$tac" || ! grep -qx "port = ${MASTER##*:}" "$tac" ||
  ! grep -qx "passwd = '$WORKER_PASSWORD'" "$tac"; then
  (umask 077 && "$venv/bin/buildbot-worker" create-worker --umask=0o22 --force "$base" "$MASTER" "$WORKER_NAME" \
    "$WORKER_PASSWORD" >&2)
  changed=true
fi
rm -f "$wheels"/*.whl
echo "{\"ok\":true,\"installed\":$installed,\"changed\":$changed,\"venv\":\"$venv\",\"base\":\"$base\"}"
