#!/bin/sh
# buildbot-worker-run.sh - the `run` of a Buildbot worker's supervisor directory: runs the worker in the
# foreground with a clean environment (builds see PATH, HOME and LANG only, not grim's environment).
# param: VENV - the venv with buildbot-worker
# param: BB_DIR - the worker's base directory
# result: runs until stopped
set -eu
: "${VENV:?}" "${BB_DIR:?}"
cd "$BB_DIR"
rm -f twistd.pid
exec env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME="$BB_DIR" LANG=C.UTF-8 \
  "$VENV/bin/buildbot-worker" start --nodaemon "$BB_DIR"
