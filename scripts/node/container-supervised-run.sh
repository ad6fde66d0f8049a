#!/bin/sh
# container-supervised-run.sh - the foreground command grim's node-side supervisor keeps alive for one
# container instance (installed as its `run`): runs the container-run.sh kept in the instance directory.
# param: GRIM_CONTAINER_DIR - the container instance's directory (container-run.sh, instance.env)
# result: none; exits with the container's status (125 when the directory is unusable)
# lib: fail
set -u
case ${GRIM_CONTAINER_DIR:-} in /*) ;; *) fail "GRIM_CONTAINER_DIR must be an absolute path" 125 ;; esac
[ -f "$GRIM_CONTAINER_DIR/container-run.sh" ] || fail "no container-run.sh in $GRIM_CONTAINER_DIR" 125
INSTANCE_DIR=$GRIM_CONTAINER_DIR
export INSTANCE_DIR
exec sh "$GRIM_CONTAINER_DIR/container-run.sh"
