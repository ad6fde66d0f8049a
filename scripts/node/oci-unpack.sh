#!/bin/sh
# oci-unpack.sh — apply one OCI / Docker image layer tarball to a rootfs directory, with whiteouts.
#
# param: ROOTFS - target rootfs directory (created when missing)
# param: LAYER - path of the layer tarball on this node
# param: LAYER_MEDIA - gzip | none
# result: {"ok":true,"entries":N,"whiteouts":N,"opaque":N} (exit 0), or {"ok":false,"error":"..."} (exit 1)
#
# Semantics (same as src/oci/layer-plan.ts + src/oci/unpack.ts):
#   1. list the layer; reject absolute names, ".." components, whiteouts without a target and entries
#      below a symlink created by the same layer — before anything is touched;
#   2. ".wh.<name>" deletes <name> from lower layers; ".wh..wh..opq" removes the lower contents of its
#      directory; other ".wh..wh.*" names (aufs metadata, with everything below them) are ignored markers;
#   3. a lower path is removed when the layer has an entry there, unless both are directories (merge);
#   4. extract with tar (numeric owners), then delete the marker files.
#   Every delete/extract location must resolve (through lower-layer symlinks) inside ROOTFS.
#   Hard-link targets are checked like names. Names containing a newline or tab are unsupported.
#   Idempotent: re-applying the same layer gives the same tree. Works with GNU tar and busybox tar.
# lib: fail
set -u

[ -n "${ROOTFS:-}" ] || fail "ROOTFS is not set"
[ -n "${LAYER:-}" ] || fail "LAYER is not set"
case "${LAYER_MEDIA:-}" in
  gzip | none) ;;
  *) fail "LAYER_MEDIA must be gzip or none, got '${LAYER_MEDIA:-}'" ;;
esac
[ -f "$LAYER" ] || fail "layer file not found: $LAYER"
mkdir -p "$ROOTFS" || fail "cannot create ROOTFS $ROOTFS"
ROOT_REAL=$(cd "$ROOTFS" && pwd -P) || fail "cannot resolve ROOTFS $ROOTFS"
ROOTFS=$ROOT_REAL

WORK=$(mktemp -d) || fail "mktemp failed"
trap 'rm -rf "$WORK"' EXIT

# GNU tar: list names raw (no escaping, no stripping of "/" and "../" so they can be rejected below).
# busybox tar always strips leading "/" and "../" from names but warns ("removing leading ..."): rejected too.
GNU=
if tar --version 2>/dev/null | grep -q 'GNU tar'; then GNU=1; fi

layer_stream() {
  if [ "$LAYER_MEDIA" = gzip ]; then gzip -dc <"$LAYER"; else cat <"$LAYER"; fi
}

list_layer() {
  if [ -n "$GNU" ]; then
    layer_stream | tar "$1" - -P --quoting-style=literal
  else
    layer_stream | tar "$1" -
  fi
}
for listing in names:-tf verbose:-tvf; do
  list_layer "${listing#*:}" >"$WORK/${listing%%:*}" 2>"$WORK/err" ||
    fail "cannot list layer $LAYER: $(head -n 3 "$WORK/err")"
  if grep -qi 'removing leading' "$WORK/err"; then
    fail "unsafe layer entry: absolute path or \"..\" component ($(head -n 1 "$WORK/err"))"
  fi
done

# Plan: pair each name with its verbose line: type = first char (d, l, -, h, c, b, p); hard-link targets come
# from "<name> link to <target>" (GNU) or "<name> -> <target>" on a non-symlink line (busybox). Emits
#   E <error> | O <opaque dir> | D <deleted path> | M <marker> | N <type> <path> | L <hard-link target>
awk 'NR == FNR { v[FNR] = $0; next }
  {
    line = v[FNR]; t = substr(line, 1, 1); target = ""
    if (t == "h") { k = index(line, " " $0 " link to "); if (k) target = substr(line, k + length($0) + 10) }
    else if (t == "-") { k = index(line, " " $0 " -> "); if (k) { t = "h"; target = substr(line, k + length($0) + 5) } }
    print t "\t" target "\t" $0
  }' "$WORK/verbose" "$WORK/names" |
  awk -F '\t' '
    function err(msg) { if (!failed) print "E\t" msg; failed = 1; exit }
    function normalize(name,    n, i, p, out) {
      if (substr(name, 1, 1) == "/") err("unsafe layer entry \"" name "\": absolute path")
      n = split(name, parts, "/"); out = ""
      for (i = 1; i <= n; i++) {
        p = parts[i]
        if (p == "" || p == ".") continue
        if (p == "..") err("unsafe layer entry \"" name "\": \"..\" component")
        out = (out == "" ? p : out "/" p)
      }
      return out
    }
    {
      if (NF != 3) err("unsupported layer entry name (contains a tab): " $0)
      type = $1; name = $3
      path = normalize(name)
      all[++count] = path; names[count] = name
      if (type == "h") {
        link = normalize($2)
        if (link == "") err("unsafe layer entry \"" name "\": hard link to the rootfs itself")
        all[++count] = link; names[count] = name
        print "L\t" link
      }
      if (match(path, /\/[^\/]*$/)) { dir = substr(path, 1, RSTART - 1); base = substr(path, RSTART + 1) }
      else { dir = ""; base = path }
      if (base == ".wh..wh..opq") { print "O\t" dir; print "M\t" path }
      else if (("/" path) ~ /\/\.wh\.\.wh\./) print "M\t" path
      else if (substr(base, 1, 4) == ".wh.") {
        target = substr(base, 5)
        if (target == "" || target == "." || target == "..") err("unsafe layer entry \"" name "\": whiteout without a valid target name")
        print "M\t" path; print "D\t" (dir == "" ? target : dir "/" target)
      } else {
        if (type == "l") symlink[path] = 1
        print "N\t" type "\t" path
      }
    }
    END {
      if (failed) exit 1
      for (i = 1; i <= count; i++) {
        d = all[i]
        while (match(d, /\/[^\/]*$/)) {
          d = substr(d, 1, RSTART - 1)
          if (d in symlink) { print "E\tunsafe layer entry \"" names[i] "\": below symlink \"" d "\" of the same layer"; exit 1 }
        }
      }
    }' >"$WORK/plan"
if grep -q '^E' "$WORK/plan"; then fail "$(grep '^E' "$WORK/plan" | head -n 1 | cut -f 2-)"; fi
[ "$(wc -l <"$WORK/names")" -eq "$(wc -l <"$WORK/verbose")" ] || fail "layer listing is inconsistent"

TAB=$(printf '\t')

# check_parent PATH STRICT: the deepest existing ancestor of PATH's parent must resolve inside ROOTFS;
# STRICT=1 also requires it to be a directory (extraction target). Builtins only unless a symlink is involved.
check_parent() {
  case $1 in */*) probe=${1%/*} ;; *) return 0 ;; esac
  while ! [ -e "$ROOTFS/$probe" ] && ! [ -L "$ROOTFS/$probe" ]; do
    case $probe in */*) probe=${probe%/*} ;; *) return 0 ;; esac
  done
  link=
  p=$probe
  while :; do
    if [ -L "$ROOTFS/$p" ]; then
      link=1
      break
    fi
    case $p in */*) p=${p%/*} ;; *) break ;; esac
  done
  if [ -n "$link" ] && real=$(cd "$ROOTFS/$probe" 2>/dev/null && pwd -P); then
    case $real in
      "$ROOT_REAL" | "$ROOT_REAL"/*) return 0 ;;
      *) fail "$1: parent $probe resolves outside the rootfs ($real)" ;;
    esac
  fi
  if [ -z "$link" ] && [ -d "$ROOTFS/$probe" ]; then return 0; fi
  # A non-directory (or dangling symlink) parent: nothing below it can be touched; extraction would fail.
  if [ "$2" = 1 ]; then fail "$1: parent $probe is not a directory (or is a dangling symlink)"; fi
  return 0
}

present() { [ -e "$ROOTFS/$1" ] || [ -L "$ROOTFS/$1" ]; }

remove_children() {
  for child in "$ROOTFS/$1"/* "$ROOTFS/$1"/.[!.]* "$ROOTFS/$1"/..?*; do
    if [ -e "$child" ] || [ -L "$child" ]; then rm -rf -- "$child" || fail "cannot remove $child"; fi
  done
}

whiteouts=$(grep -c '^D' "$WORK/plan")
opaque=$(grep -c '^O' "$WORK/plan")
entries=$(grep -c '^N' "$WORK/plan")

# Before touching anything: every location we delete or replace must resolve inside ROOTFS.
while IFS="$TAB" read -r kind rest; do
  case $kind in
    D | O) check_parent "$rest" 0 ;;
    N) check_parent "${rest#*"$TAB"}" 0 ;;
  esac
done <"$WORK/plan"

# Whiteouts apply to lower layers only, so they run before extraction.
while IFS="$TAB" read -r kind path; do
  case $kind in
    D)
      if present "$path"; then rm -rf -- "${ROOTFS:?}/$path" || fail "cannot delete $path"; fi
      ;;
    O)
      if [ -L "$ROOTFS/$path" ]; then
        rm -f -- "${ROOTFS:?}/$path" || fail "cannot delete $path"
      elif [ -d "$ROOTFS/$path" ]; then
        remove_children "$path"
      elif present "$path"; then
        rm -f -- "${ROOTFS:?}/$path" || fail "cannot delete $path"
      fi
      ;;
  esac
done <"$WORK/plan"

# Type conflicts: only directory-over-directory merges; anything else replaces the lower path.
while IFS="$TAB" read -r kind type path; do
  if [ "$kind" != N ] || [ -z "$path" ] || ! present "$path"; then continue; fi
  if [ "$type" = d ] && [ -d "$ROOTFS/$path" ] && ! [ -L "$ROOTFS/$path" ]; then continue; fi
  rm -rf -- "${ROOTFS:?}/$path" || fail "cannot replace $path"
done <"$WORK/plan"

# After the removals, every extraction location (and hard-link target) must be a directory inside ROOTFS.
while IFS="$TAB" read -r kind rest; do
  case $kind in
    M | L) check_parent "$rest" 1 ;;
    N) check_parent "${rest#*"$TAB"}" 1 ;;
  esac
done <"$WORK/plan"

layer_stream | tar -xf - -C "$ROOTFS" --numeric-owner 2>"$WORK/err" ||
  fail "extracting $LAYER failed: $(head -n 3 "$WORK/err")"

while IFS="$TAB" read -r kind path; do
  [ "$kind" = M ] || continue
  if present "$path"; then rm -rf -- "${ROOTFS:?}/$path" || fail "cannot remove marker $path"; fi
done <"$WORK/plan"

printf '{"ok":true,"entries":%d,"whiteouts":%d,"opaque":%d}\n' "$entries" "$whiteouts" "$opaque"
