#!/bin/sh
# container-user.sh - resolves an image's user spec (name|uid[:group|gid]) against the image's /etc/passwd and
# /etc/group, as container engines do: the primary gid comes from passwd unless given, plus supplementary groups.
# param: STATE_DIR - grim's state directory on the node, e.g. /var/lib/grim
# param: IMAGE_ID - hex part of the image's manifest digest (the image must be built)
# param: IMAGE_USER - the user spec
# result: {"ok":true,"uid":N,"gid":N,"additionalGids":[N,...]}
# lib: fail
set -u

case ${STATE_DIR:-} in /*) ;; *) fail "STATE_DIR must be an absolute path" ;; esac
case ${IMAGE_ID:-} in *[!0-9a-f]* | '') fail "IMAGE_ID must be hex" ;; esac
case ${IMAGE_USER:-} in *[!A-Za-z0-9._:-]* | '') fail "IMAGE_USER is empty or has unsupported characters" ;; esac
root=$STATE_DIR/images/$IMAGE_ID/rootfs
[ -d "$root" ] || fail "image $IMAGE_ID is not built on this node"

# Never follow symlinks out of the image.
passwd=/dev/null
group=/dev/null
if [ -f "$root/etc/passwd" ] && ! [ -L "$root/etc/passwd" ]; then passwd=$root/etc/passwd; fi
if [ -f "$root/etc/group" ] && ! [ -L "$root/etc/group" ]; then group=$root/etc/group; fi

awk -v spec="$IMAGE_USER" -v passwd="$passwd" -v group="$group" '
  function numeric(s) { return s ~ /^[0-9]+$/ }
  BEGIN {
    FS = ":"
    n = index(spec, ":"); u = n ? substr(spec, 1, n - 1) : spec; g = n ? substr(spec, n + 1) : ""
    uid = ""; gid = ""; name = ""
    while ((getline line < passwd) > 0) {
      split(line, f, ":")
      if ((numeric(u) && f[3] == u) || (!numeric(u) && f[1] == u)) { name = f[1]; uid = f[3]; gid = f[4]; break }
    }
    if (uid == "") {
      if (!numeric(u)) { print "{\"ok\":false,\"error\":\"user " u " not found in the image /etc/passwd\"}"; exit 1 }
      uid = u; gid = 0
    }
    extra = ""
    if (g != "") {
      gid = ""
      if (numeric(g)) gid = g
      while ((getline line < group) > 0) {
        split(line, f, ":")
        if (gid == "" && f[1] == g) gid = f[3]
      }
      if (gid == "") { print "{\"ok\":false,\"error\":\"group " g " not found in the image /etc/group\"}"; exit 1 }
    } else if (name != "") {
      while ((getline line < group) > 0) {
        k = split(line, f, ":"); m = split(f[4], members, ",")
        for (i = 1; i <= m; i++) if (members[i] == name && f[3] != gid && numeric(f[3])) extra = extra (extra == "" ? "" : ",") f[3]
      }
    }
    if (!numeric(uid) || !numeric(gid)) { print "{\"ok\":false,\"error\":\"non-numeric uid or gid in the image\"}"; exit 1 }
    printf "{\"ok\":true,\"uid\":%d,\"gid\":%d,\"additionalGids\":[%s]}\n", uid, gid, extra
  }'
