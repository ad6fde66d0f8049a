#!/bin/sh
# buildbot-setup.sh - prepares the Buildbot master and one local worker (idempotent): creates the master's
# base directory (state database, buildbot.tac) and the worker's, upgrades the master's database when the
# Buildbot version changed, and writes the supervisor directories whose `run` starts each in the foreground.
# param: VENV - the Python venv holding buildbot and buildbot-worker (e.g. /opt/grim-venv)
# param: BASE - grim's Buildbot directory (master/, worker-<name>/, svc-*/, secrets in master/secrets/)
# param: WORKER_NAME - the local worker's name
# param: PB_PORT - the master's PB port
# param: PB_HOST - the address the local worker reaches the master's PB port on
# param: SCRIPTS - grim's scripts/build directory (the run scripts are copied from it)
# result: {"ok":true,"created":[...]} listing what was created now
set -eu

: "${VENV:?}" "${BASE:?}" "${WORKER_NAME:?}" "${PB_PORT:?}" "${PB_HOST:?}" "${SCRIPTS:?}"
case $PB_HOST in *[!0-9a-zA-Z.:-]* | '') echo "bad PB_HOST" >&2 && exit 2 ;; esac
case $WORKER_NAME in *[!a-z0-9-]* | '') echo "bad WORKER_NAME" >&2 && exit 2 ;; esac
case $PB_PORT in *[!0-9]* | '') echo "bad PB_PORT" >&2 && exit 2 ;; esac
umask 077
created=
mkdir -p "$BASE/master/secrets" "$BASE/svc-master" "$BASE/svc-worker-$WORKER_NAME"
chmod 700 "$BASE/master/secrets"
if [ ! -f "$BASE/master/buildbot.tac" ]; then
  "$VENV/bin/buildbot" create-master -r "$BASE/master" >&2
  created="$created \"master\""
fi
worker=$BASE/worker-$WORKER_NAME
# Created again when the master's address changed (the local worker follows the PB listen address).
if [ -f "$worker/buildbot.tac" ] && ! { grep -qx "buildmaster_host = '$PB_HOST'" "$worker/buildbot.tac" && grep -qx "port = $PB_PORT" "$worker/buildbot.tac"; }; then
  rm -f "$worker/buildbot.tac"
fi
if [ ! -f "$worker/buildbot.tac" ]; then
  password=$(cat "$BASE/master/secrets/worker-$WORKER_NAME")
  "$VENV/bin/buildbot-worker" create-worker --umask=0o22 --force "$worker" "$PB_HOST:$PB_PORT" "$WORKER_NAME" "$password" >&2
  created="$created \"worker-$WORKER_NAME\""
fi
cp "$SCRIPTS/buildbot-master-run.sh" "$BASE/svc-master/run"
cp "$SCRIPTS/buildbot-worker-run.sh" "$BASE/svc-worker-$WORKER_NAME/run"
printf "VENV='%s'\nBB_DIR='%s'\n" "$VENV" "$BASE/master" >"$BASE/svc-master/env"
printf "VENV='%s'\nBB_DIR='%s'\n" "$VENV" "$worker" >"$BASE/svc-worker-$WORKER_NAME/env"
echo "{\"ok\":true,\"created\":[$(echo "$created" | sed 's/^ //; s/" "/", "/g')]}"
