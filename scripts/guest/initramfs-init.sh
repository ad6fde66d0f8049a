#!/bin/sh
# grim initramfs init (/init inside the initramfs that vm-kernel-prepare.sh builds from the node's
# own kernel modules). It loads the virtio/ext4 modules listed in /lib/modules/order, finds the root
# disk by its ext4 label, mounts it and switch_roots into grim's guest init.
#
# Kernel command line (read once, before /proc is unmounted):
#   grim.root=LABEL   ext4 label of the root disk (default grim-root)
#   grim.init=PATH    init to run on the root disk (default /sbin/grim-init)
#   grim.debug=1      drop to a shell on the console when the root disk cannot be mounted
# Runs under the static busybox copied to /bin/busybox; every applet is a symlink in /bin.
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

arg() { # arg NAME DEFAULT: value of NAME=... on the kernel command line
  read -r cmdline </proc/cmdline
  # shellcheck disable=SC2086 # split the command line into words
  for word in $cmdline; do
    case $word in "$1"=*) echo "${word#*=}" && return 0 ;; esac
  done
  echo "$2"
}
ROOT_LABEL=$(arg grim.root grim-root)
NEW_INIT=$(arg grim.init /sbin/grim-init)
DEBUG=$(arg grim.debug 0)

boot_failed() { # boot_failed MESSAGE: say why on the console, then debug shell or reboot
  echo "grim-initramfs: $1" >/dev/console
  if [ "$DEBUG" = 1 ]; then exec sh </dev/console >/dev/console 2>&1; fi
  sync
  reboot -f
}

if [ -f /lib/modules/order ]; then
  while read -r module; do
    [ -n "$module" ] || continue
    insmod "/lib/modules/$module" 2>/dev/null || echo "grim-initramfs: insmod $module failed (built in or not needed?)"
  done </lib/modules/order
fi

device=
i=0
while [ $i -lt 200 ]; do
  device=$(findfs "LABEL=$ROOT_LABEL" 2>/dev/null) && [ -b "$device" ] && break
  device=
  i=$((i + 1))
  sleep 0.05
done
[ -n "$device" ] || boot_failed "no disk labelled $ROOT_LABEL appeared"
mkdir -p /newroot
mount -t ext4 -o rw "$device" /newroot || boot_failed "cannot mount $device (ext4) as the root"
[ -x "/newroot$NEW_INIT" ] || boot_failed "$NEW_INIT is missing on the root disk"
umount /proc /sys
mount --move /dev /newroot/dev
exec switch_root /newroot "$NEW_INIT"
