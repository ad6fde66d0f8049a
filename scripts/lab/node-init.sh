#!/bin/sh
# node-init.sh - PID 1 of a simulated lab node (runs INSIDE the node, under dash or busybox ash).
#
# Parameters: none (copied to /run/grim-lab-init.sh by node-boot.sh and run by the node's /bin/sh).
# Result: starts the node's sshd, runs /etc/rc.local when it is present and executable (as a real init's
#   rc-local step does: `/etc/rc.local start`, output in /run/rc.local.log), then waits for a shutdown
#   request and exits with
#   100  reboot requested   (SIGTERM, as busybox `reboot` sends; or initctl runlevel 6, as systemd's `reboot` sends)
#   101  power off / halt   (SIGUSR1/SIGUSR2, as busybox `halt`/`poweroff` send; or initctl runlevel 0)
# A reboot(2) call in the node (`reboot -f`) makes the kernel kill this process with SIGHUP
# (restart) or SIGINT (power off / halt) instead; the host-side supervisor sees that as the exit status.

request=
trap 'request=reboot' TERM
trap 'request=poweroff' USR1 USR2

mkdir -p /run/sshd
rm -f /run/initctl
mkfifo -m 600 /run/initctl

/usr/sbin/sshd -D -e -f /etc/ssh/sshd_config &

# Storage lab nodes run their own zfs-fuse daemon; /run, /var/lock and /var/lib/zfs are the node's
# own, so it neither sees nor locks out the host's or another node's daemon.
if [ -e /etc/grim-lab/zfs-fuse ] && [ -x /sbin/zfs-fuse ]; then
  [ -e /var/run ] || ln -s /run /var/run
  [ -e /var/lock ] || ln -s /run/lock /var/lock
  mkdir -p /run/zfs /run/lock/zfs /var/lib/zfs
  rm -f /run/zfs-fuse.pid
  (
    /sbin/zfs-fuse --no-kstat-mount -p /run/zfs-fuse.pid >/run/zfs-fuse.log 2>&1
    i=0
    while [ ! -S /run/zfs/zfs_socket ] && [ "$i" -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    zfs mount -a >>/run/zfs-fuse.log 2>&1
  ) </dev/null &
fi

# In the background: a slow boot script must not keep this init from answering shutdown requests.
if [ -x /etc/rc.local ]; then
  /etc/rc.local start </dev/null >/run/rc.local.log 2>&1 &
fi

# Wait for an initctl request (struct init_request: the runlevel is the int at byte offset 8).
while [ -z "$request" ]; do
  od -An -tx1 -j8 -N1 </run/initctl >/run/initctl.request 2>/dev/null &
  reader=$!
  wait "$reader"
  if [ -z "$request" ]; then
    case $(cat /run/initctl.request) in
      *36*) request=reboot ;;
      *30*) request=poweroff ;;
    esac
  else
    kill "$reader" 2>/dev/null
  fi
done

echo "node-init: $request requested" >&2
kill -TERM -1 2>/dev/null
if [ "$request" = reboot ]; then exit 100; fi
exit 101
