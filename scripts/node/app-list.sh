#!/bin/sh
# app-list.sh - lists the grim app instances on this node in one round trip: every instance directory with
# its app, release, whether its supervisor and its app process are alive and how often it restarted, plus
# instance ids that only live on as processes (their directory is gone) and the TCP ports listening.
# param: GRIM_APPS_DIR (optional) - directory of instance directories (default /var/lib/grim/apps)
# result: {"instances":[{"id":"..","app":"..","release":N,"driver":"..","mode":"..","wanted":"run|stop",
# result:   "supervised":bool,"appAlive":bool,"pid":N|null,"restarts":N}],"strays":["id",...],"listening":[port,...]}
set -u

apps=${GRIM_APPS_DIR:-/var/lib/grim/apps}

# One pass over /proc: "<pid> <instance id> <1 if supervisor else 0>" per process carrying GRIM_INSTANCE.
procs=$(for p in /proc/[0-9]*; do
  id=$(tr '\0' '\n' 2>/dev/null <"$p/environ" | sed -n 's/^GRIM_INSTANCE=\([a-z0-9-]*\)$/\1/p' | head -n 1)
  [ -n "$id" ] || continue
  sup=0
  if tr '\0' ' ' 2>/dev/null <"$p/cmdline" | grep -q 'supervisor\.sh'; then sup=1; fi
  echo "${p#/proc/} $id $sup"
done)

value() { # value FILE KEY: KEY=value line of FILE
  sed -n "s/^$2=\\([a-z0-9-]*\\)\$/\\1/p" "$1" 2>/dev/null | head -n 1
}
num() { # num VALUE: VALUE if it is a number, else 0
  case $1 in '' | *[!0-9]*) echo 0 ;; *) echo "$1" ;; esac
}

out=
ids=
for d in "$apps"/*/; do
  [ -f "$d/meta" ] || continue
  id=$(basename "$d")
  case $id in *[!a-z0-9-]*) continue ;; esac
  ids="$ids $id "
  supervised=false
  if echo "$procs" | grep -q " $id 1\$"; then supervised=true; fi
  pid=$(cat "$d/app.pid" 2>/dev/null) || pid=
  alive=false
  case $pid in '' | *[!0-9]*) pid=null ;; *) if kill -0 "$pid" 2>/dev/null; then alive=true; else pid=null; fi ;; esac
  wanted=$(cat "$d/wanted" 2>/dev/null) || wanted=stop
  [ "$wanted" = run ] || wanted=stop
  mode=$(cat "$d/mode" 2>/dev/null) || mode=unknown
  case $mode in systemd | openrc | sh) ;; *) mode=unknown ;; esac
  item="{\"id\":\"$id\",\"app\":\"$(value "$d/meta" app)\",\"release\":$(num "$(value "$d/meta" release)"),"
  item="$item\"driver\":\"$(value "$d/meta" driver)\",\"mode\":\"$mode\",\"wanted\":\"$wanted\","
  item="$item\"supervised\":$supervised,\"appAlive\":$alive,\"pid\":$pid,\"restarts\":$(num "$(cat "$d/restarts" 2>/dev/null)")}"
  out="${out:+$out,}$item"
done

strays=
for id in $(echo "$procs" | awk 'NF == 3 { print $2 }' | sort -u); do
  case $ids in *" $id "*) ;; *) strays="${strays:+$strays,}\"$id\"" ;; esac
done

# Listening TCP sockets (state 0A), IPv4 and IPv6, local port in hex.
ports=$(cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk '$4 == "0A" { split($2, a, ":"); print a[2] }' | sort -u |
  while read -r hex; do printf '%d\n' "0x$hex"; done | sort -n | uniq | tr '\n' ',' | sed 's/,$//')
echo "{\"instances\":[$out],\"strays\":[$strays],\"listening\":[$ports]}"
