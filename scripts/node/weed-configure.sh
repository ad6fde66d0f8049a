#!/bin/sh
# weed-configure.sh - writes SeaweedFS's configuration on this node into /etc/seaweedfs (directory 0700,
# every file 0600, each replaced atomically): the cluster CA and this node's certificate and key (tls/),
# security.toml, and the optional filer.toml, master.toml, s3.json and per-service options files. Creates
# the data directories the options name. Idempotent. Values arrive as environment, never as arguments.
# param: CA_CRT (optional) - the cluster CA certificate (PEM)
# param: NODE_CRT (optional) - this node's certificate (PEM), used for every gRPC server and client
# param: NODE_KEY (optional) - its private key (PEM)
# param: SECURITY_TOML (optional) - security.toml
# param: FILER_TOML (optional) - filer.toml
# param: MASTER_TOML (optional) - master.toml
# param: S3_JSON (optional) - the S3 identities file s3.json
# param: OPTIONS_MASTER (optional) - options of weed-master (name=value lines)
# param: OPTIONS_VOLUME (optional) - options of weed-volume
# param: OPTIONS_FILER (optional) - options of weed-filer
# param: OPTIONS_S3 (optional) - options of weed-s3
# param: MOUNT_NAME (optional) - with OPTIONS_MOUNT: the mount's name ([a-z0-9-])
# param: OPTIONS_MOUNT (optional) - options of weed-mount-<MOUNT_NAME>
# result: {"ok":true,"written":N}
set -eu

conf=/etc/seaweedfs
umask 077
mkdir -p "$conf/tls"
chmod 700 "$conf" "$conf/tls"
written=0

# put FILE CONTENT: replace FILE atomically, mode 0600
put() {
  printf '%s\n' "$2" >"$1.tmp.$$"
  chmod 600 "$1.tmp.$$"
  mv -f "$1.tmp.$$" "$1"
  written=$((written + 1))
}

# datadirs OPTIONS: create the directories an options file names
datadirs() {
  printf '%s\n' "$1" | while IFS='=' read -r k v; do
    case $k in mdir | dir | defaultStoreDir | cacheDir)
      case $v in /*) mkdir -p "$v" ;; *) echo "option $k must be an absolute path" >&2 && exit 2 ;; esac ;;
    esac
  done
}

if [ -n "${CA_CRT:-}" ]; then put "$conf/tls/ca.crt" "$CA_CRT"; fi
if [ -n "${NODE_CRT:-}" ]; then put "$conf/tls/node.crt" "$NODE_CRT"; fi
if [ -n "${NODE_KEY:-}" ]; then put "$conf/tls/node.key" "$NODE_KEY"; fi
if [ -n "${SECURITY_TOML:-}" ]; then put "$conf/security.toml" "$SECURITY_TOML"; fi
if [ -n "${FILER_TOML:-}" ]; then put "$conf/filer.toml" "$FILER_TOML"; fi
if [ -n "${MASTER_TOML:-}" ]; then put "$conf/master.toml" "$MASTER_TOML"; fi
if [ -n "${S3_JSON:-}" ]; then put "$conf/s3.json" "$S3_JSON"; fi
# options ROLE VALUE: write weed-ROLE.options when VALUE is set
options() {
  if [ -n "$2" ]; then
    datadirs "$2"
    put "$conf/weed-$1.options" "$2"
  fi
}
options master "${OPTIONS_MASTER:-}"
options volume "${OPTIONS_VOLUME:-}"
options filer "${OPTIONS_FILER:-}"
options s3 "${OPTIONS_S3:-}"
if [ -n "${OPTIONS_MOUNT:-}" ]; then
  case ${MOUNT_NAME:-} in '' | *[!a-z0-9-]*) echo "invalid MOUNT_NAME" >&2 && exit 2 ;; esac
  datadirs "$OPTIONS_MOUNT"
  put "$conf/weed-mount-$MOUNT_NAME.options" "$OPTIONS_MOUNT"
fi
echo "{\"ok\":true,\"written\":$written}"
