#!/bin/sh
# container-inspect.sh - state of one container instance as its node sees it: runtime status and pid, restarts,
# last exit status, address, and the cgroup it runs in with the limits read back (cgroup v1 or v2).
# param: STATE_DIR - grim's state directory on the node, e.g. /var/lib/grim
# param: INSTANCE_ID - instance id ([a-z0-9-])
# result: {"ok":true,"state":"running|starting|stopped|failed|missing","pid":N|null,"restarts":N,"lastExit":N|null,
# result:  "ip":"...","netns":BOOL,"cgroup":{"version":1|2,"path":"...","memoryLimitBytes":N|"max","cpuQuotaUs":N|-1,
# result:  "cpuPeriodUs":N,"cpuShares":N,"pidsMax":N|"max"}|null}
# lib: fail
set -u

case ${STATE_DIR:-} in /*) ;; *) fail "STATE_DIR must be an absolute path" ;; esac
case ${INSTANCE_ID:-} in *[!a-z0-9-]* | -* | '') fail "invalid INSTANCE_ID" ;; esac
dir=$STATE_DIR/containers/$INSTANCE_ID
if ! [ -f "$dir/instance.env" ]; then
  printf '{"ok":true,"state":"missing","pid":null,"restarts":0,"lastExit":null,"netns":false,"cgroup":null}\n'
  exit 0
fi
# shellcheck disable=SC1091 # written by container-create.sh
. "$dir/instance.env"

rt() {
  if [ "$RUNTIME" = crun ] && [ -n "$(cat /sys/fs/cgroup/unified/cgroup.controllers 2>/dev/null)" ]; then
    unshare --mount --propagation private sh -c \
      'mount -t tmpfs -o size=4k grim-hide /sys/fs/cgroup/unified && exec "$@"' rt "$RUNTIME" --root "$RUNTIME_ROOT" "$@"
  else
    "$RUNTIME" --root "$RUNTIME_ROOT" "$@"
  fi
}
json_value() { # a number as is, anything else as a string
  case $1 in '' | *[!0-9-]* | -) printf '"%s"' "$1" ;; *) printf '%s' "$1" ;; esac
}
alive() {
  p=$(cat "$1" 2>/dev/null)
  case $p in '' | *[!0-9]*) return 1 ;; esac
  kill -0 "$p" 2>/dev/null
}

raw=$(rt state "$INSTANCE_ID" 2>/dev/null)
status=$(printf '%s\n' "$raw" | sed -n 's/^ *"status": *"\([a-z]*\)".*/\1/p')
pid=$(printf '%s\n' "$raw" | sed -n 's/^ *"pid": *\([0-9]*\).*/\1/p')
last=$(cat "$dir/last-exit" 2>/dev/null)
case $last in '' | *[!0-9]*) last=null ;; esac
starts=$(cat "$dir/starts" 2>/dev/null)
case $starts in '' | *[!0-9]*) starts=0 ;; esac
restarts=$((starts > 0 ? starts - 1 : 0))

case $status in
  running) state=running ;;
  created | creating) state=starting ;;
  paused) state=stopped ;;
  *)
    if alive "$dir/run.pid"; then
      state=starting
    elif [ -f "$dir/stop-requested" ] || [ "$last" = null ] || [ "$last" = 0 ]; then
      state=stopped
    else
      state=failed
    fi
    ;;
esac
case $pid in '' | 0) pid=null ;; esac

cgroup=null
if [ "$pid" != null ] && [ -r "/proc/$pid/cgroup" ]; then
  if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
    path=$(sed -n 's/^0:://p' "/proc/$pid/cgroup")
    base=/sys/fs/cgroup$path
    mem=$(cat "$base/memory.max" 2>/dev/null)
    # shellcheck disable=SC2046 # "QUOTA PERIOD"
    set -- $(cat "$base/cpu.max" 2>/dev/null)
    quota=${1:-}
    period=${2:-}
    [ "$quota" != max ] || quota=-1
    shares=$(cat "$base/cpu.weight" 2>/dev/null)
    pids=$(cat "$base/pids.max" 2>/dev/null)
    version=2
  else
    v1path() { awk -F: -v c="$1" '{ n = split($2, list, ","); for (i = 1; i <= n; i++) if (list[i] == c) print $3 }' "/proc/$pid/cgroup"; }
    path=$(v1path memory)
    mem=$(cat "/sys/fs/cgroup/memory$path/memory.limit_in_bytes" 2>/dev/null)
    cpu=/sys/fs/cgroup/cpu$(v1path cpu)
    quota=$(cat "$cpu/cpu.cfs_quota_us" 2>/dev/null)
    period=$(cat "$cpu/cpu.cfs_period_us" 2>/dev/null)
    shares=$(cat "$cpu/cpu.shares" 2>/dev/null)
    pids=$(cat "/sys/fs/cgroup/pids$(v1path pids)/pids.max" 2>/dev/null)
    version=1
  fi
  cgroup=$(printf '{"version":%d,"path":"%s","memoryLimitBytes":%s,"cpuQuotaUs":%s,"cpuPeriodUs":%s,"cpuShares":%s,"pidsMax":%s}' \
    "$version" "$path" "$(json_value "$mem")" "$(json_value "$quota")" "$(json_value "$period")" \
    "$(json_value "$shares")" "$(json_value "$pids")")
fi
netns=false
if ip netns list 2>/dev/null | cut -d ' ' -f 1 | grep -qx "grim-$INSTANCE_ID"; then netns=true; fi
printf '{"ok":true,"state":"%s","status":"%s","pid":%s,"restarts":%d,"lastExit":%s,"ip":"%s","netns":%s,"cgroup":%s}\n' \
  "$state" "$status" "$pid" "$restarts" "$last" "$IP_CTR" "$netns" "$cgroup"
