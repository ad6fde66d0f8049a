#!/bin/sh
# app-install.sh - installs one app instance as a supervised service, without starting it: its directory
# (environment, run, optional stop/status scripts), the supervisor, and the service definition: a systemd unit
# (grim-app-<id>.service) on systemd nodes, an OpenRC service on OpenRC nodes, else the sh supervisor with a
# boot hook in /etc/rc.local (created, executable, when the node has none). Idempotent: installing again
# rewrites the same files.
# param: INSTANCE_ID - instance id ([a-z0-9-])
# param: APP_NAME - the app's name
# param: RELEASE - the release number
# param: DRIVER - the runtime driver (script, container, ...)
# param: RUN_SCRIPT - sh script that runs the app in the foreground
# param: ENV_FILE - the instance's environment: NAME=<base64 value> lines (see lib/env.sh; mode 0600: secrets)
# param: SUPERVISOR_SCRIPT - body of supervisor.sh
# param: BOOT_SCRIPT - body of supervisor-boot.sh
# param: HANDLE (optional) - the driver's handle of the instance (one JSON line), kept as handle.json for recover()
# param: STOP_SCRIPT (optional) - sh script run before the instance is stopped
# param: STATUS_SCRIPT (optional) - sh script whose exit status says whether the app is well
# param: STOP_TIMEOUT_SEC (optional) - seconds between TERM and KILL on stop (default 10)
# param: CGROUP (optional) - "yes": the supervisor runs the app in the cgroup grim/<id> (best effort)
# param: MEMORY_LIMIT_BYTES (optional) - with CGROUP: the cgroup's memory limit
# param: CPU_LIMIT_MILLIS (optional) - with CGROUP: the cgroup's CPU quota in millicores (1000 = one core)
# param: GRIM_APPS_DIR (optional) - directory of instance directories (default /var/lib/grim/apps)
# result: {"ok":true,"dir":"...","mode":"systemd|openrc|sh"}
set -eu

: "${INSTANCE_ID:?}" "${APP_NAME:?}" "${RELEASE:?}" "${DRIVER:?}" "${RUN_SCRIPT:?}" "${ENV_FILE?}"
: "${SUPERVISOR_SCRIPT:?}" "${BOOT_SCRIPT:?}"
case $INSTANCE_ID in '' | *[!a-z0-9-]*) echo "invalid INSTANCE_ID" >&2 && exit 2 ;; esac
case $APP_NAME in '' | *[!a-z0-9-]*) echo "invalid APP_NAME" >&2 && exit 2 ;; esac
case $RELEASE in '' | *[!0-9]*) echo "invalid RELEASE" >&2 && exit 2 ;; esac
case $DRIVER in '' | *[!a-z0-9-]*) echo "invalid DRIVER" >&2 && exit 2 ;; esac
case ${MEMORY_LIMIT_BYTES:-0} in *[!0-9]*) echo "invalid MEMORY_LIMIT_BYTES" >&2 && exit 2 ;; esac
case ${CPU_LIMIT_MILLIS:-0} in *[!0-9]*) echo "invalid CPU_LIMIT_MILLIS" >&2 && exit 2 ;; esac
apps=${GRIM_APPS_DIR:-/var/lib/grim/apps}
case $apps in /*) ;; *) echo "GRIM_APPS_DIR must be absolute" >&2 && exit 2 ;; esac
case $apps in *[!A-Za-z0-9/_.-]*) echo "GRIM_APPS_DIR has unsafe characters" >&2 && exit 2 ;; esac
bin=$(dirname "$apps")/bin
dir=$apps/$INSTANCE_ID

umask 077
mkdir -p "$dir" "$bin"

# put FILE CONTENT: replace FILE atomically (a reader never sees half a file; concurrent installs do not clash)
put() {
  printf '%s\n' "$2" >"$1.tmp.$$"
  mv -f "$1.tmp.$$" "$1"
}
put "$bin/supervisor.sh" "$SUPERVISOR_SCRIPT"
put "$bin/boot.sh" "$BOOT_SCRIPT"
put "$dir/environment" "$ENV_FILE"
rm -f "$dir/env" # the sh file an older grim wrote
put "$dir/run" "$RUN_SCRIPT"
if [ -n "${HANDLE:-}" ]; then put "$dir/handle.json" "$HANDLE"; else rm -f "$dir/handle.json"; fi
if [ -n "${STOP_SCRIPT:-}" ]; then put "$dir/stop" "$STOP_SCRIPT"; else rm -f "$dir/stop"; fi
if [ -n "${STATUS_SCRIPT:-}" ]; then put "$dir/status" "$STATUS_SCRIPT"; else rm -f "$dir/status"; fi
put "$dir/stop-timeout" "${STOP_TIMEOUT_SEC:-10}"
if [ "${CGROUP:-}" = yes ]; then
  put "$dir/cgroup" "memory_bytes=${MEMORY_LIMIT_BYTES:-0}
cpu_millis=${CPU_LIMIT_MILLIS:-0}"
else
  rm -f "$dir/cgroup"
fi
put "$dir/meta" "app=$APP_NAME
release=$RELEASE
driver=$DRIVER"
[ -f "$dir/wanted" ] || put "$dir/wanted" stop
[ -f "$dir/restarts" ] || put "$dir/restarts" 0
touch "$dir/log" "$dir/stderr"

if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
  mode=systemd
  put "/etc/systemd/system/grim-app-$INSTANCE_ID.service" "[Unit]
Description=grim app $APP_NAME instance $INSTANCE_ID (release $RELEASE)
After=network-online.target

[Service]
Environment=GRIM_INSTANCE=$INSTANCE_ID GRIM_INSTANCE_DIR=$dir
ExecStart=/bin/sh $bin/supervisor.sh
KillMode=mixed
TimeoutStopSec=$((${STOP_TIMEOUT_SEC:-10} + 15))
Restart=always
RestartSec=2

[Install]
WantedBy=multi-user.target"
  chmod 644 "/etc/systemd/system/grim-app-$INSTANCE_ID.service"
  systemctl daemon-reload
elif command -v openrc-run >/dev/null 2>&1 && [ -d /etc/init.d ]; then
  mode=openrc
  put "/etc/init.d/grim-app-$INSTANCE_ID" "#!/sbin/openrc-run
description=\"grim app $APP_NAME instance $INSTANCE_ID (release $RELEASE)\"
supervisor=supervise-daemon
command=/bin/sh
command_args=\"$bin/supervisor.sh\"
export GRIM_INSTANCE=$INSTANCE_ID GRIM_INSTANCE_DIR=$dir
retry=TERM/$((${STOP_TIMEOUT_SEC:-10} + 15))/KILL/5
depend() { need net; }"
  chmod 755 "/etc/init.d/grim-app-$INSTANCE_ID"
else
  mode='sh'
  hook="[ -x $bin/boot.sh ] && GRIM_APPS_DIR=$apps sh $bin/boot.sh >/dev/null 2>&1 &"
  if [ ! -f /etc/rc.local ]; then
    # The classic boot script, run by sysvinit's rc.local step and by other plain inits at the end of boot.
    printf '#!/bin/sh\n# boot script; grim starts its app instances from here\n%s\nexit 0\n' "$hook" \
      >/etc/rc.local.grim-tmp.$$
    chmod 755 /etc/rc.local.grim-tmp.$$
    mv -f /etc/rc.local.grim-tmp.$$ /etc/rc.local
  elif ! grep -qF "$bin/boot.sh" /etc/rc.local; then
    # before a final `exit 0`, if there is one
    {
      grep -v '^exit 0' /etc/rc.local || true
      printf '%s\n' "$hook"
      if grep -q '^exit 0' /etc/rc.local; then echo 'exit 0'; fi
    } >/etc/rc.local.grim-tmp.$$
    chmod 755 /etc/rc.local.grim-tmp.$$
    mv -f /etc/rc.local.grim-tmp.$$ /etc/rc.local
  fi
fi
chmod 755 "$bin/boot.sh" "$bin/supervisor.sh"
put "$dir/mode" "$mode"
echo "{\"ok\":true,\"dir\":\"$dir\",\"mode\":\"$mode\"}"
