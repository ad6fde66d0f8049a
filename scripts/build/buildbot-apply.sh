#!/bin/sh
# buildbot-apply.sh - checks a new master.cfg with `buildbot checkconfig` (in a copy of the master's
# directory, so a bad file never replaces the good one), then moves it into place and, when the master runs,
# asks it to reload (`buildbot reconfig`: SIGHUP; running builds go on).
# param: VENV - the venv with buildbot
# param: BB_DIR - the master's base directory
# param: NEW_CFG - path of the candidate master.cfg
# param: MASTER_PID_FILE (optional) - pid file of the running master (the supervisor's app.pid); when it
#   names a live process the master is sent SIGHUP and this waits (60 s at most) for its log to say the
#   configuration update completed or failed
# result: {"ok":true,"reloaded":true|false}; on a bad file, checkconfig's output on stderr and exit 1
set -eu
: "${VENV:?}" "${BB_DIR:?}" "${NEW_CFG:?}"
check=$(mktemp -d)
trap 'rm -rf "$check"' EXIT
cp "$NEW_CFG" "$check/master.cfg"
ln -s "$BB_DIR/secrets" "$check/secrets"
if ! (cd "$check" && env -i PATH=/usr/bin:/bin HOME="$check" "$VENV/bin/buildbot" checkconfig "$check" >&2); then
  echo "checkconfig refused the new master.cfg" >&2
  exit 1
fi
cp "$NEW_CFG" "$BB_DIR/master.cfg.new"
mv -f "$BB_DIR/master.cfg.new" "$BB_DIR/master.cfg"
reloaded=false
pid=$(cat "${MASTER_PID_FILE:-/nonexistent}" 2>/dev/null) || pid=
case $pid in '' | *[!0-9]*) pid= ;; esac
if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
  log=$BB_DIR/twistd.log
  before=$(wc -c <"$log" 2>/dev/null) || before=0
  kill -HUP "$pid"
  n=0
  while [ $n -lt 600 ]; do
    news=$(tail -c +$((before + 1)) "$log" 2>/dev/null) || news=
    case $news in
    *"configuration update complete"*) reloaded=true && break ;;
    *"configuration update aborted"* | *"configuration update failed"* | *"reconfig aborted"* | *"partially applied"*)
      printf '%s\n' "$news" >&2
      echo "the master refused the new configuration" >&2
      exit 1
      ;;
    esac
    sleep 0.1
    n=$((n + 1))
  done
  if [ "$reloaded" != true ]; then
    tail -c +$((before + 1)) "$log" | grep -v 'gitpoller: processing changes' | tail -n 40 >&2
    echo "(SIGHUP went to pid $pid: $(tr '\0' ' ' </proc/"$pid"/cmdline 2>/dev/null))" >&2
    echo "the master did not confirm the reload within 60 s" >&2
    exit 1
  fi
fi
echo "{\"ok\":true,\"reloaded\":$reloaded}"
