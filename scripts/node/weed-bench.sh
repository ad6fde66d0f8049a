#!/bin/sh
# weed-bench.sh - runs SeaweedFS's own `weed benchmark` on this node against the cluster (the peer the
# storage benchmark compares grim's S3 path with): writes N files of SIZE bytes with C concurrent clients,
# then reads them back, straight through masters and volume servers.
# param: MASTERS - comma-separated master addresses host:port
# param: N - number of files
# param: SIZE - bytes per file
# param: C - concurrent clients
# param: REPLICATION (optional) - replication of the benchmark's collection (default: the cluster's)
# result: weed benchmark's report, then {"ok":true}
set -eu

: "${MASTERS:?}" "${N:?}" "${SIZE:?}" "${C:?}"
case $MASTERS in *[!A-Za-z0-9.:,\[\]-]*) echo "invalid MASTERS" >&2 && exit 2 ;; esac
for v in "$N" "$SIZE" "$C"; do case $v in '' | *[!0-9]*) echo "N, SIZE and C must be numbers" >&2 && exit 2 ;; esac; done
case ${REPLICATION:-000} in [0-2][0-2][0-2]) ;; *) echo "invalid REPLICATION" >&2 && exit 2 ;; esac
cd /etc/seaweedfs
list=/tmp/weed-bench-list.$$
rm -f "$list"
if [ -n "${REPLICATION:-}" ]; then
  /opt/seaweedfs/weed benchmark -master="$MASTERS" -n "$N" -size "$SIZE" -c "$C" -collection benchmark \
    -replication "$REPLICATION" -list "$list" 2>&1
else
  /opt/seaweedfs/weed benchmark -master="$MASTERS" -n "$N" -size "$SIZE" -c "$C" -collection benchmark -list "$list" 2>&1
fi
rm -f "$list"
echo '{"ok":true}'
