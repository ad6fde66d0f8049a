#!/bin/sh
# monitoring-configure.sh - writes one monitoring stack component's configuration on this node: every file grim
# generated into <MON_DIR>/<component>/config/ (directory 0700, files 0600, each replaced atomically), the
# arguments file `args` (one argument a line), and creates the component's data directories. Values arrive as
# environment, never as arguments. Idempotent.
# param: COMPONENT - cortex, loki, tempo or grafana
# param: MON_DIR - the stack's base directory on the node (absolute)
# param: FILES - one file a line: <relative path>=<content in base64>
# param: ARGS - the process's arguments, one a line
# param: DIRS (optional) - absolute directories to create, one a line (under MON_DIR)
# result: {"ok":true,"written":N}
set -eu

: "${COMPONENT:?}" "${MON_DIR:?}" "${FILES?}" "${ARGS?}"
case $COMPONENT in cortex | loki | tempo | grafana) ;; *) echo "invalid COMPONENT" >&2 && exit 2 ;; esac
case $MON_DIR in /*) ;; *) echo "MON_DIR must be absolute" >&2 && exit 2 ;; esac
case $MON_DIR in *..* | *[!A-Za-z0-9/_.-]*) echo "MON_DIR has unsafe characters" >&2 && exit 2 ;; esac
conf=$MON_DIR/$COMPONENT/config
umask 077
mkdir -p "$conf"
chmod 700 "$conf"
written=0

# put FILE: the standard input replaces FILE atomically, mode 0600
put() {
  mkdir -p "$(dirname "$1")"
  cat >"$1.tmp.$$"
  chmod 600 "$1.tmp.$$"
  mv -f "$1.tmp.$$" "$1"
  written=$((written + 1))
}

printf '%s\n' "$FILES" | {
  while IFS= read -r line || [ -n "$line" ]; do
    [ -n "$line" ] || continue
    name=${line%%=*}
    case $name in '' | /* | *..* | *[!a-z0-9/_.-]*) echo "invalid file name $name" >&2 && exit 2 ;; esac
    printf '%s' "${line#*=}" | base64 -d | put "$conf/$name"
  done
  printf '%s\n' "$ARGS" | put "$conf/args"
  echo "$written" >"$conf/.written"
}
written=$(cat "$conf/.written")
rm -f "$conf/.written"

printf '%s\n' "${DIRS:-}" | while IFS= read -r d; do
  [ -n "$d" ] || continue
  case $d in "$MON_DIR"/*) ;; *) echo "directory $d is not under $MON_DIR" >&2 && exit 2 ;; esac
  case $d in *..*) echo "directory $d contains .." >&2 && exit 2 ;; esac
  mkdir -p "$d"
done
echo "{\"ok\":true,\"written\":$written}"
