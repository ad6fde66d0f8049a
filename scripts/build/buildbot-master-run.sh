#!/bin/sh
# buildbot-master-run.sh - the `run` of the Buildbot master's supervisor directory: upgrades the master's
# database if needed, then runs the master in the foreground with a clean environment (grim's own
# environment, which may hold secrets, never reaches Buildbot or its builds).
# param: VENV - the venv with buildbot
# param: BB_DIR - the master's base directory
# result: runs until stopped
set -eu
: "${VENV:?}" "${BB_DIR:?}"
cd "$BB_DIR"
rm -f twistd.pid
env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME="$BB_DIR" LANG=C.UTF-8 \
  "$VENV/bin/buildbot" upgrade-master "$BB_DIR" >/dev/null
exec env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME="$BB_DIR" LANG=C.UTF-8 \
  "$VENV/bin/buildbot" start --nodaemon "$BB_DIR"
