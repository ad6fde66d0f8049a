#!/grim/bin/busybox sh
# grim guest init: PID 1 inside every grim microVM (installed as /sbin/grim-init, run by the
# initramfs or directly by the kernel with init=/sbin/grim-init). Needs only /grim/bin/busybox
# (static) on the root disk; works the same under QEMU microvm and Firecracker.
#
# What it does, in order:
#   1. mounts proc, sys, dev, devpts, shm and run; turns Ctrl-Alt-Del into a signal (SIGINT) to itself;
#   2. reads the metadata drive: a virtio disk holding a tar with grim-meta/ (environment: the app's
#      environment and secrets, network, hostname, hosts, resolv.conf, optional app). Secrets only
#      ever arrive this way, never on the kernel command line;
#   3. mounts the app drive (ext4 labelled grim-app) on /app when there is one (tarball apps), and each
#      persistent volume drive listed in grim-meta/volumes ("<ext4 UUID> <mount>" lines) at its mount;
#   4. configures eth0 from the kernel's ip=ADDR::GW:MASK::IFACE:off argument or from grim-meta/network;
#   5. sets the hostname, /etc/hosts and /etc/resolv.conf;
#   6. runs the app: /grim/app (from the image config: argv, Env, WorkingDir, User), overridden by
#      grim-meta/app, then the instance environment from grim-meta/environment (both are data: base64
#      values that lib/app-definition.sh and lib/env.sh read; nothing grim writes is run as shell);
#   7. forwards SIGHUP/SIGUSR1/SIGUSR2 to the app; SIGTERM or Ctrl-Alt-Del stops it gracefully: SIGTERM,
#      a grace period (GRIM_STOP_GRACE seconds, default 10), then SIGKILL; orphans are reaped while it
#      waits;
#   8. when the app has exited: sync, unmount, and reboot (QEMU -no-reboot and Firecracker both exit on
#      a guest reboot; poweroff would leave Firecracker running).
# Console lines from grim start with "grim-init:".
# lib: env
# lib: app-definition
export PATH=/grim/bin
umask 022

say() { echo "grim-init: $*" >/dev/console 2>/dev/null || echo "grim-init: $*"; }

mounted() { grep -q " $1 " /proc/mounts 2>/dev/null; }

mount -t proc proc /proc 2>/dev/null
mounted /sys || mount -t sysfs sysfs /sys
mounted /dev || mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm /run
mounted /dev/pts || mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts
mounted /dev/shm || mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /dev/shm
mounted /run || mount -t tmpfs -o mode=755,nosuid,nodev tmpfs /run
[ -e /dev/ptmx ] || ln -s pts/ptmx /dev/ptmx
[ -e /dev/fd ] || ln -s /proc/self/fd /dev/fd
mkdir -p /tmp && chmod 1777 /tmp
# Ctrl-Alt-Del no longer resets the machine at once: the kernel sends SIGINT to PID 1 instead.
echo 0 >/proc/sys/kernel/ctrl-alt-del 2>/dev/null
say "started at uptime $(cut -d' ' -f1 /proc/uptime)"

# 2. metadata drive: the first virtio disk whose content is a tar holding grim-meta/.
META=/run/grim/meta
mkdir -p /run/grim
for disk in /dev/vd?; do
  [ -b "$disk" ] || continue
  if tar -tf "$disk" 2>/dev/null | grep -q '^grim-meta/'; then
    tar -xf "$disk" -C /run/grim 2>/dev/null && mv /run/grim/grim-meta "$META" && chmod 0700 "$META"
    say "metadata from $disk"
    break
  fi
done

# 3. app drive (tarball apps): ext4 labelled grim-app, mounted on /app.
app_disk=$(findfs LABEL=grim-app 2>/dev/null)
if [ -n "$app_disk" ]; then
  mkdir -p /app && mount -t ext4 "$app_disk" /app && say "app drive $app_disk on /app"
fi

# 3b. persistent volumes: drives found by their ext4 UUID (device order is not stable), mounted read-write.
VOLUME_MOUNTS=
if [ -f "$META/volumes" ]; then
  while read -r uuid target; do
    [ -n "$uuid" ] || continue
    dev=
    i=0
    while [ -z "$dev" ] && [ $i -lt 50 ]; do
      dev=$(findfs "UUID=$uuid" 2>/dev/null)
      [ -n "$dev" ] || sleep 0.1
      i=$((i + 1))
    done
    if [ -n "$dev" ] && mkdir -p "$target" && mount -t ext4 "$dev" "$target"; then
      VOLUME_MOUNTS="$target $VOLUME_MOUNTS"
      say "volume $dev on $target"
    else
      say "volume $uuid: not mounted on $target"
    fi
  done <"$META/volumes"
fi

# 4. network: kernel ip= wins, else grim-meta/network (ADDRESS=a.b.c.d/len GATEWAY=... IFACE=eth0).
ADDRESS=
GATEWAY=
IFACE=eth0
read -r cmdline </proc/cmdline
# shellcheck disable=SC2086 # split the command line into words
for word in $cmdline; do
  case $word in
    ip=*)
      IFS=: read -r a _ g m _ i _ <<EOF_IP
${word#ip=}
EOF_IP
      [ -n "$i" ] && IFACE=$i
      if [ -n "$a" ] && [ -n "$m" ]; then
        bits=0
        for octet in $(echo "$m" | tr . ' '); do
          while [ "$octet" -gt 0 ]; do
            bits=$((bits + (octet & 1)))
            octet=$((octet >> 1))
          done
        done
        ADDRESS=$a/$bits
      fi
      GATEWAY=$g
      ;;
  esac
done
if [ -z "$ADDRESS" ] && [ -f "$META/network" ]; then
  # shellcheck disable=SC1091 # written by grim: ADDRESS=, GATEWAY=, IFACE=
  . "$META/network"
fi
ip link set lo up
if [ -n "$ADDRESS" ]; then
  i=0
  while [ ! -e "/sys/class/net/$IFACE" ] && [ $i -lt 100 ]; do
    sleep 0.05
    i=$((i + 1))
  done
  ip link set "$IFACE" up
  ip addr replace "$ADDRESS" dev "$IFACE"
  [ -n "$GATEWAY" ] && ip route replace default via "$GATEWAY" dev "$IFACE"
  say "network $IFACE $ADDRESS via ${GATEWAY:-none}"
fi

# 5. identity files.
[ -f "$META/hostname" ] && hostname "$(cat "$META/hostname")"
hostname >/etc/hostname 2>/dev/null
if [ -f "$META/hosts" ]; then cp "$META/hosts" /etc/hosts; else
  printf '127.0.0.1\tlocalhost\n%s\t%s\n' "${ADDRESS%/*}" "$(hostname)" >/etc/hosts
fi
[ -f "$META/resolv.conf" ] && cp "$META/resolv.conf" /etc/resolv.conf

# 6. the app.
if [ -f "$META/app" ]; then APP=$META/app; else APP=/grim/app; fi
[ -f "$APP" ] || {
  say "no app definition (/grim/app)"
  sync
  reboot -f
}
grep -q '^arg=' "$APP" || {
  say "the app has no command (Entrypoint/Cmd)"
  sync
  reboot -f
}
GRIM_WORKDIR=$(app_value "$APP" workdir)
GRIM_USER=$(app_value "$APP" user)
GRIM_STOP_GRACE=$(app_value "$APP" stop_grace)
case $GRIM_STOP_GRACE in '' | *[!0-9]*) GRIM_STOP_GRACE=10 ;; esac

run_as=
if [ -n "${GRIM_USER:-}" ] && [ "$GRIM_USER" != root ] && [ "$GRIM_USER" != 0 ] && [ "$GRIM_USER" != 0:0 ]; then
  user=${GRIM_USER%%:*}
  group=${GRIM_USER#*:}
  [ "$group" = "$GRIM_USER" ] && group=
  if ! grep -q "^$user:" /etc/passwd 2>/dev/null && ! awk -F: -v u="$user" '$3 == u { f = 1 } END { exit !f }' /etc/passwd 2>/dev/null; then
    case $user in *[!0-9]*) say "user $user is not in /etc/passwd" ;; *) echo "grim$user:x:$user:${group:-$user}::/:/grim/bin/sh" >>/etc/passwd ;; esac
  fi
  run_as=$(awk -F: -v u="$user" '$1 == u || $3 == u { print $1; exit }' /etc/passwd)
fi

(
  # The app's own environment: the image's Env (from app.sh) plus the instance's, not init's PATH.
  export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
  app_env "$APP" || say "the app definition has a bad env line"
  # the instance environment, secrets included; only root can read it
  if [ -f "$META/environment" ]; then load_env "$META/environment" || say "bad instance environment"; fi
  cd "${GRIM_WORKDIR:-/}" 2>/dev/null || say "WorkingDir ${GRIM_WORKDIR:-/} is missing; using /"
  if [ -n "$run_as" ]; then
    # shellcheck disable=SC2016 # expanded by su's shell: the argv app_exec appends
    app_exec "$APP" /grim/bin/busybox su -p -s /grim/bin/busybox "$run_as" -c 'shift; exec "$@"' sh --
  fi
  app_exec "$APP"
  say "the app definition has no command"
  exit 127
) </dev/null >/dev/console 2>&1 &
APP_PID=$!
say "app started (pid $APP_PID)"

STOPPING=0
stop_app() {
  [ "$STOPPING" = 1 ] && return
  STOPPING=1
  say "stopping the app (SIGTERM, grace ${GRIM_STOP_GRACE}s)"
  kill -TERM "$APP_PID" 2>/dev/null
  (
    sleep "$GRIM_STOP_GRACE"
    kill -0 "$APP_PID" 2>/dev/null && echo "grim-init: grace period over, SIGKILL" >/dev/console && kill -KILL "$APP_PID"
  ) &
}
trap stop_app TERM INT
trap 'kill -HUP "$APP_PID" 2>/dev/null' HUP
trap 'kill -USR1 "$APP_PID" 2>/dev/null' USR1
trap 'kill -USR2 "$APP_PID" 2>/dev/null' USR2

# `wait` returns when the app exits or a trapped signal arrives; ash reaps every child (orphans
# re-parented to PID 1 included) while it waits.
status=0
while kill -0 "$APP_PID" 2>/dev/null; do
  wait "$APP_PID"
  status=$?
done
say "app exited with status $status"
sync
# shellcheck disable=SC2086 # mount points without spaces (checked by grim), most recent first
for target in $VOLUME_MOUNTS; do umount "$target" 2>/dev/null || say "volume on $target: busy, left mounted"; done
umount /app 2>/dev/null
mount -o remount,ro / 2>/dev/null
sync
say "rebooting"
reboot -f
