#!/bin/sh
# heartbeat.sh - cheap liveness probe: uptime, 1-minute load and available memory. Read-only.
# result: {"ok":true,"uptimeSeconds":12345,"load1":0.05,"memAvailableBytes":123456789,"rebootPending":false}
# rebootPending: reboot.sh left its marker in /run (a tmpfs), so this boot is the one before the reboot.
set -u

read -r uptime _ </proc/uptime
read -r load1 _ </proc/loadavg
kb=$(awk '$1 == "MemAvailable:" { print $2 }' /proc/meminfo)
case "$kb" in '' | *[!0-9]*) kb=0 ;; esac
pending=false
if [ -e /run/grim-reboot-pending ]; then pending=true; fi
printf '{"ok":true,"uptimeSeconds":%s,"load1":%s,"memAvailableBytes":%s,"rebootPending":%s}\n' "${uptime%%.*}" "$load1" "$((kb * 1024))" "$pending"
