#!/bin/sh
# weed-configure.sh - writes SeaweedFS's configuration on this node into /etc/seaweedfs (directory 0700,
# every file 0600, each replaced atomically): the cluster CA and this node's certificate and key (tls/),
# security.toml, and the optional filer.toml, master.toml, s3.json and per-service options files. Creates
# the data directories the options name. The volume server's directory is a ZFS dataset
# <pool>/grim-seaweedfs/volume with a refquota when the node has a pool (SeaweedFS sizes its volume slots by
# statfs, which on a dataset is the refquota), else a plain directory. Idempotent. Values arrive as
# environment, never as arguments.
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
# param: VOLUME_POOL (optional) - ZFS pool for the volume server's data; "none": a directory; default: the node's first pool
# param: VOLUME_QUOTA_BYTES (optional) - the dataset's refquota; default: 90% of what the pool has available
# result: {"ok":true,"written":N,"volumeBackend":"zfs"|"dir"|"","volumeDataset":"pool/grim-seaweedfs/volume"|""}
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

# volume_dataset DIR: DIR becomes the mountpoint of a dataset with a refquota when there is a pool
backend=
dataset=
volume_dataset() {
  pool=${VOLUME_POOL:-}
  case $pool in *[!A-Za-z0-9_.:-]*) echo "VOLUME_POOL has unsafe characters" >&2 && exit 2 ;; esac
  case ${VOLUME_QUOTA_BYTES:-} in *[!0-9]*) echo "VOLUME_QUOTA_BYTES must be a number" >&2 && exit 2 ;; esac
  if [ -z "$pool" ] && command -v zpool >/dev/null 2>&1; then
    pool=$(zpool list -H -o name 2>/dev/null | head -n 1) || pool=
  fi
  backend=dir
  if [ -z "$pool" ] || [ "$pool" = none ]; then
    mkdir -p "$1"
    return
  fi
  dataset=$pool/grim-seaweedfs/volume
  if ! zfs list -H -o name "$dataset" >/dev/null 2>&1 && [ -n "$(ls -A "$1" 2>/dev/null)" ]; then
    # data from before the node had a pool: kept where it is rather than hidden under a new dataset
    dataset=
    return
  fi
  quota=${VOLUME_QUOTA_BYTES:-}
  if [ -z "$quota" ] || [ "$quota" = 0 ]; then
    avail=$(zfs get -Hp -o value available "$pool")
    quota=$((avail * 9 / 10))
  fi
  zfs list -H -o name "$pool/grim-seaweedfs" >/dev/null 2>&1 ||
    zfs create -o mountpoint=none "$pool/grim-seaweedfs"
  if zfs list -H -o name "$dataset" >/dev/null 2>&1; then
    zfs set refquota="$quota" "$dataset"
  else
    # an empty directory left by an earlier run would hide nothing; a full one is refused by zfs mount
    rmdir "$1" 2>/dev/null || true
    zfs create -o mountpoint="$1" -o refquota="$quota" "$dataset"
  fi
  [ "$(zfs get -H -o value mounted "$dataset")" = yes ] || zfs mount "$dataset"
  backend=zfs
}
if [ -n "${OPTIONS_VOLUME:-}" ]; then
  vdir=$(printf '%s\n' "$OPTIONS_VOLUME" | sed -n 's/^dir=//p' | head -n 1)
  case $vdir in /*) volume_dataset "$vdir" ;; *) echo "the volume options name no absolute dir" >&2 && exit 2 ;; esac
fi

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
echo "{\"ok\":true,\"written\":$written,\"volumeBackend\":\"$backend\",\"volumeDataset\":\"$dataset\"}"
