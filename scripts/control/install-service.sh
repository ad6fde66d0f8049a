#!/bin/sh
# install-service.sh - installs grim's control-plane service on this machine: creates the system user and the
# data directory, puts the service file and its settings in place and (ENABLE=1) enables and starts it.
# Runs on the control node itself (`grim install-service`), as root. Idempotent: running it again rewrites the
# files and restarts nothing that is not asked for. With ROOT set, files are staged under that directory
# (for images and tests) and no user, enable or start happens.
# param: KIND - systemd or openrc
# param: SERVICE_SOURCE - file to install as the unit (systemd) or init script (openrc)
# param: SETTINGS_SOURCE - file to install as /etc/default/grim (systemd) or /etc/conf.d/grim (openrc)
# param: RUN_USER - system user the server runs as (created when missing)
# param: DATA_DIR - the server's data directory (created, owned by RUN_USER, mode 0700)
# param: ENABLE (optional) - 1: enable at boot and (re)start now (default 0)
# param: ROOT (optional) - stage the files under this directory instead of /
# result: {"ok":true,"kind":"systemd","service":"/etc/systemd/system/grim.service","settings":"/etc/default/grim","enabled":false}
set -eu

: "${KIND:?}" "${SERVICE_SOURCE:?}" "${SETTINGS_SOURCE:?}" "${RUN_USER:?}" "${DATA_DIR:?}"
enable=${ENABLE:-0}
root=${ROOT:-}
case $RUN_USER in '' | *[!a-z0-9_-]*) echo "invalid RUN_USER" >&2 && exit 2 ;; esac
case $KIND in
  systemd)
    service=/etc/systemd/system/grim.service
    settings=/etc/default/grim
    service_mode=0644
    ;;
  openrc)
    service=/etc/init.d/grim
    settings=/etc/conf.d/grim
    service_mode=0755
    ;;
  *) echo "KIND must be systemd or openrc" >&2 && exit 2 ;;
esac

mkdir -p "$root$(dirname "$service")" "$root$(dirname "$settings")"
cp "$SERVICE_SOURCE" "$root$service.new"
chmod "$service_mode" "$root$service.new"
mv -f "$root$service.new" "$root$service"
# the settings may hold the database password: readable by root only
(umask 077 && cp "$SETTINGS_SOURCE" "$root$settings.new")
mv -f "$root$settings.new" "$root$settings"

if [ -z "$root" ]; then
  if ! id -u "$RUN_USER" >/dev/null 2>&1; then
    if command -v useradd >/dev/null 2>&1; then
      useradd --system --user-group --home-dir "$DATA_DIR" --no-create-home --shell /usr/sbin/nologin "$RUN_USER"
    else
      addgroup -S "$RUN_USER"
      adduser -S -D -H -h "$DATA_DIR" -s /sbin/nologin -G "$RUN_USER" "$RUN_USER"
    fi
  fi
  mkdir -p "$DATA_DIR"
  chown "$RUN_USER:$(id -gn "$RUN_USER")" "$DATA_DIR"
  chmod 0700 "$DATA_DIR"
  if [ "$enable" = 1 ]; then
    if [ "$KIND" = systemd ]; then
      systemctl daemon-reload
      systemctl enable grim.service
      systemctl restart grim.service
    else
      rc-update add grim default
      rc-service grim restart
    fi
  fi
else
  mkdir -p "$root$DATA_DIR"
fi

enabled=false
[ "$enable" = 1 ] && [ -z "$root" ] && enabled=true
printf '{"ok":true,"kind":"%s","service":"%s","settings":"%s","enabled":%s}\n' \
  "$KIND" "$root$service" "$root$settings" "$enabled"
