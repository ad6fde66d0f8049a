#!/bin/sh
# heartbeat.sh - cheap liveness probe: uptime, 1-minute load and available memory. Read-only.
# result: {"ok":true,"uptimeSeconds":12345,"load1":0.05,"memAvailableBytes":123456789}
set -u

read -r uptime _ </proc/uptime
read -r load1 _ </proc/loadavg
kb=$(awk '$1 == "MemAvailable:" { print $2 }' /proc/meminfo)
case "$kb" in '' | *[!0-9]*) kb=0 ;; esac
printf '{"ok":true,"uptimeSeconds":%s,"load1":%s,"memAvailableBytes":%s}\n' "${uptime%%.*}" "$load1" "$((kb * 1024))"
