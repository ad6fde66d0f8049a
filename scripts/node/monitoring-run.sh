#!/bin/sh
# monitoring-run.sh - the `run` script of a supervised monitoring stack component: runs the current release's
# executable in the foreground with the arguments grim wrote (one a line in <MON_DIR>/<component>/config/args),
# from the release's working directory (Grafana's home). Secrets come from the instance environment file or the
# 0600 config files, never from the command line.
# param: COMPONENT - cortex, loki, tempo or grafana
# param: MON_DIR - the stack's base directory on the node
# param: ENTRY - the executable, relative to the release directory
# param: WORKDIR (optional) - working directory relative to the release directory (default .)
# result: runs until stopped (the supervisor restarts it)
set -eu

: "${COMPONENT:?}" "${MON_DIR:?}" "${ENTRY:?}"
case $COMPONENT in cortex | loki | tempo | grafana) ;; *) echo "invalid COMPONENT" >&2 && exit 2 ;; esac
case $ENTRY in /* | *..*) echo "invalid ENTRY" >&2 && exit 2 ;; esac
case ${WORKDIR:-.} in /* | *..*) echo "invalid WORKDIR" >&2 && exit 2 ;; esac
release=$MON_DIR/releases/$COMPONENT/current
conf=$MON_DIR/$COMPONENT/config
cd "$release/${WORKDIR:-.}"
set --
while IFS= read -r arg || [ -n "$arg" ]; do
  [ -n "$arg" ] && set -- "$@" "$arg"
done <"$conf/args"
exec "$release/$ENTRY" "$@"
