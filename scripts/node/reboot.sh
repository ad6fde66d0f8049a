#!/bin/sh
# reboot.sh - reboot the node after a short delay, so the SSH command can return first.
# It leaves a marker in /run (a tmpfs, empty after every boot); grim waits until SSH answers
# again and the marker is gone, which proves the node went through a boot.
# result: {"rebooting":true}
set -eu
mkdir -p /run
: >/run/grim-reboot-pending
printf '{"rebooting":true}\n'
# Detach fully (own session, no inherited descriptors), so sshd can close this channel cleanly.
(sleep 1 && reboot) </dev/null >/dev/null 2>&1 &
