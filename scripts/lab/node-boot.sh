#!/bin/sh
# node-boot.sh - boots one simulated lab node. Host side: it runs as PID 1 of the node's fresh
# pid/mount/uts/time namespaces (inside the node's network namespace), builds the node's filesystem
# view and then becomes the node's init (node-init.sh) inside a chroot.
#
# Parameters (environment):
#   LAB_NODE_DIR   node state dir: upper/ work/ merged/ (overlay) and, for Debian, usr-upper/ usr-work/
#   LAB_ROOTFS     base root filesystem (overlay lower dir, never written)
#   LAB_OS         debian | alpine
#   LAB_HOSTNAME   the node's hostname
#   LAB_INIT       path of node-init.sh on the host
# Result: does not return on success (execs the node's init); exits non-zero with a message on stderr.
set -eu

: "${LAB_NODE_DIR:?}" "${LAB_ROOTFS:?}" "${LAB_OS:?}" "${LAB_HOSTNAME:?}" "${LAB_INIT:?}"
M=$LAB_NODE_DIR/merged

hostname "$LAB_HOSTNAME"
mount --make-rprivate /
mount -t overlay overlay -o "lowerdir=$LAB_ROOTFS,upperdir=$LAB_NODE_DIR/upper,workdir=$LAB_NODE_DIR/work" "$M"

bind_ro() { # bind_ro SOURCE TARGET
  mount --bind "$1" "$2"
  mount -o remount,bind,ro "$2"
}

case $LAB_OS in
  debian)
    # The host's /usr, copy-on-write per node: package tools in the node can write without touching the host.
    mount -t overlay overlay -o "lowerdir=/usr,upperdir=$LAB_NODE_DIR/usr-upper,workdir=$LAB_NODE_DIR/usr-work" "$M/usr"
    ;;
  alpine)
    # The host's glibc sshd, at paths Alpine does not use; users still get Alpine's /bin/sh.
    for d in /lib/x86_64-linux-gnu /usr/lib/x86_64-linux-gnu /usr/lib/openssh; do
      if [ -d "$d" ]; then bind_ro "$d" "$M$d"; fi
    done
    bind_ro /usr/sbin/sshd "$M/usr/sbin/sshd"
    ;;
  *)
    echo "node-boot: unknown LAB_OS '$LAB_OS'" >&2
    exit 2
    ;;
esac

mount -t proc proc "$M/proc"
# Kernel-wide knobs stay read-only; the network ones belong to the node's own network namespace.
bind_ro "$M/proc/sys" "$M/proc/sys"
mount --bind "$M/proc/sys/net" "$M/proc/sys/net"
mount -o remount,bind,rw "$M/proc/sys/net"
if [ -e "$M/proc/sysrq-trigger" ]; then bind_ro "$M/proc/sysrq-trigger" "$M/proc/sysrq-trigger"; fi
mount -t sysfs -o ro sysfs "$M/sys"
# cgroups as the host has them (pure v2 on real nodes; hybrid v1 + unified on this kind of host),
# so container and VM runtimes on a lab node can apply size limits. The host's hierarchies are read
# from its init's mount table: `ip netns exec` gave this namespace a fresh /sys, so ours lists none.
if grep -q ' /sys/fs/cgroup cgroup2 ' /proc/1/mounts; then
  mount -t cgroup2 cgroup2 "$M/sys/fs/cgroup"
elif grep -q ' /sys/fs/cgroup/' /proc/1/mounts; then
  mount -t tmpfs -o mode=755 cgroup_root "$M/sys/fs/cgroup"
  awk '$3 == "cgroup" && $2 ~ "^/sys/fs/cgroup/" {
         n = split($4, o, ","); c = ""
         for (i = 1; i <= n; i++) if (o[i] !~ /^(rw|ro|nosuid|nodev|noexec|relatime)$/) c = c (c == "" ? "" : ",") o[i]
         sub("^/sys/fs/cgroup/", "", $2); print $2, c }' /proc/1/mounts |
    while read -r dir opts; do
      mkdir -p "$M/sys/fs/cgroup/$dir"
      mount -t cgroup -o "$opts" cgroup "$M/sys/fs/cgroup/$dir" 2>/dev/null || rmdir "$M/sys/fs/cgroup/$dir"
    done
  if grep -q ' /sys/fs/cgroup/unified cgroup2 ' /proc/1/mounts; then
    mkdir -p "$M/sys/fs/cgroup/unified"
    mount -t cgroup2 cgroup2 "$M/sys/fs/cgroup/unified"
  fi
fi

mount -t tmpfs -o mode=755,size=1m tmpfs "$M/dev"
for spec in "null 1 3" "zero 1 5" "full 1 7" "random 1 8" "urandom 1 9" "tty 5 0" "fuse 10 229"; do
  # shellcheck disable=SC2086 # split "name major minor"
  set -- $spec
  mknod -m 666 "$M/dev/$1" c "$2" "$3"
done
mkdir -p "$M/dev/pts" "$M/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666,mode=620 devpts "$M/dev/pts"
ln -s pts/ptmx "$M/dev/ptmx"
ln -s /proc/self/fd "$M/dev/fd"
ln -s /proc/self/fd/0 "$M/dev/stdin"
ln -s /proc/self/fd/1 "$M/dev/stdout"
ln -s /proc/self/fd/2 "$M/dev/stderr"

# Storage lab nodes: their sparse-file disks, linked where real disks are found (/dev/disk/by-id).
if [ -d "$LAB_NODE_DIR/disks" ]; then
  mkdir -p "$M/var/lib/grim-lab-disks" "$M/dev/disk/by-id"
  mount --bind "$LAB_NODE_DIR/disks" "$M/var/lib/grim-lab-disks"
  # zfs-fuse drops the kernel's caches after snapshot and rollback so FUSE readers see the new data
  mount --bind "$M/proc/sys/vm/drop_caches" "$M/proc/sys/vm/drop_caches"
  mount -o remount,bind,rw "$M/proc/sys/vm/drop_caches"
  for disk in "$LAB_NODE_DIR"/disks/*; do
    [ -f "$disk" ] || continue
    ln -s "/var/lib/grim-lab-disks/${disk##*/}" "$M/dev/disk/by-id/${disk##*/}"
  done
fi

mkdir -p "$M/run"
mount -t tmpfs -o mode=755,size=16m tmpfs "$M/run"
cp "$LAB_INIT" "$M/run/grim-lab-init.sh"

exec env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
  chroot "$M" /bin/sh /run/grim-lab-init.sh
