#!/bin/sh
# os-update.sh - upgrade the node's OS packages with its own package manager (apk or apt-get).
# Idempotent: with nothing to upgrade it changes nothing and reports 0 upgraded.
# param: REFRESH - "1" to refresh the package index first (apk update / apt-get update); "0" to use the local index
# result: {"os":"alpine|debian|ubuntu","manager":"apk|apt","upgraded":N,"rebootRequired":true|false}
set -eu

os=unknown
if [ -r /etc/os-release ]; then
	# shellcheck disable=SC1091 # the node's own file, read at run time
	os=$(. /etc/os-release && printf '%s' "${ID:-unknown}")
fi

case "$os" in
alpine)
	manager=apk
	if [ "${REFRESH:-1}" = 1 ]; then apk update; fi
	before=$(apk info -v 2>/dev/null | sort)
	if [ "${REFRESH:-1}" = 1 ]; then apk upgrade --available; else apk upgrade --no-network --force-missing-repositories; fi
	after=$(apk info -v 2>/dev/null | sort)
	upgraded=$(printf '%s\n' "$after" | grep -vxF -e "$before" -c || true)
	# A new kernel installed under /lib/modules while an older one runs means a reboot is due.
	reboot=false
	if [ -d /lib/modules ] && [ -n "$(ls /lib/modules 2>/dev/null)" ] && [ ! -d "/lib/modules/$(uname -r)" ]; then reboot=true; fi
	;;
debian | ubuntu)
	manager=apt
	export DEBIAN_FRONTEND=noninteractive
	if [ "${REFRESH:-1}" = 1 ]; then apt-get update -q; fi
	log=$(apt-get -y -q -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold upgrade)
	printf '%s\n' "$log"
	upgraded=$(printf '%s\n' "$log" | sed -n 's/^\([0-9][0-9]*\) upgraded,.*/\1/p' | tail -n 1)
	reboot=false
	if [ -e /run/reboot-required ] || [ -e /var/run/reboot-required ]; then reboot=true; fi
	;;
*)
	echo "unsupported OS '$os': grim updates Alpine (apk), Debian and Ubuntu (apt)" >&2
	exit 3
	;;
esac

printf '{"os":"%s","manager":"%s","upgraded":%s,"rebootRequired":%s}\n' "$os" "$manager" "${upgraded:-0}" "$reboot"
