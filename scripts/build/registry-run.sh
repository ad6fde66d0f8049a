#!/bin/sh
# registry-run.sh - the `run` of grim's build registry supervisor directory: Debian's docker-registry
# (distribution 2.8) in the foreground with the configuration grim wrote (token auth against grim).
# param: REGISTRY_CONFIG - path of its config.yml
# result: runs until stopped
set -eu
: "${REGISTRY_CONFIG:?}"
exec env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin docker-registry serve "$REGISTRY_CONFIG"
