#!/bin/sh
# vm-kernel-prepare.sh - put one guest kernel into the node's kernel catalog: an uncompressed vmlinux
# (extracted from a distro bzImage when needed: QEMU boots it through PVH, ~2x faster under TCG) and
# an initramfs built from the node's own kernel modules (virtio_mmio, virtio_blk, virtio_net, ext4 and
# their dependencies) with a static busybox and grim's initramfs init. Idempotent: the catalog entry
# is rebuilt only when the source kernel or the modules changed.
# param: KERNEL_NAME - catalog name, [A-Za-z0-9._-], e.g. "6.1.0-56-amd64"
# param: KERNEL_IMAGE - kernel on this node: a bzImage (/boot/vmlinuz-*) or an ELF vmlinux
# param: INITRAMFS_INIT - path of grim's initramfs init on this node (scripts/guest/initramfs-init.sh)
# param: MODULES_DIR (optional) - /lib/modules/<version>; empty means "no initramfs" (virtio built in)
# param: VM_ROOT (optional) - grim's VM state directory, default /var/lib/grim/vm
# param: BUSYBOX (optional) - a statically linked busybox, default /bin/busybox
# result: {"name","vmlinux","initramfs","vmlinuxSha256","initramfsSha256","modules":N,"rebuilt":true|false}
# lib: fail
set -eu

: "${KERNEL_NAME:?}" "${KERNEL_IMAGE:?}" "${INITRAMFS_INIT:?}"
case $KERNEL_NAME in *[!A-Za-z0-9._-]* | '' | .*) fail "invalid KERNEL_NAME '$KERNEL_NAME'" ;; esac
VM_ROOT=${VM_ROOT:-/var/lib/grim/vm}
BUSYBOX=${BUSYBOX:-/bin/busybox}
MODULES_DIR=${MODULES_DIR:-}
[ -f "$KERNEL_IMAGE" ] || fail "kernel image not found: $KERNEL_IMAGE"
[ -f "$INITRAMFS_INIT" ] || fail "initramfs init not found: $INITRAMFS_INIT"
if [ -n "$MODULES_DIR" ]; then
  [ -f "$MODULES_DIR/modules.dep" ] || fail "no modules.dep in $MODULES_DIR"
  [ -x "$BUSYBOX" ] || fail "busybox not found: $BUSYBOX (install busybox-static)"
fi

OUT=$VM_ROOT/kernels/$KERNEL_NAME
mkdir -p "$OUT"
stamp=$({
  sha256sum "$KERNEL_IMAGE" "$INITRAMFS_INIT" | cut -d' ' -f1
  if [ -n "$MODULES_DIR" ]; then sha256sum "$MODULES_DIR/modules.dep" "$BUSYBOX" | cut -d' ' -f1; fi
} | sha256sum | cut -d' ' -f1)

result() { # result REBUILT MODULE_COUNT
  initramfs_json=null
  initramfs_sum=null
  if [ -f "$OUT/initramfs.cpio.gz" ]; then
    initramfs_json="\"$OUT/initramfs.cpio.gz\""
    initramfs_sum="\"$(sha256sum "$OUT/initramfs.cpio.gz" | cut -d' ' -f1)\""
  fi
  printf '{"name":"%s","vmlinux":"%s","initramfs":%s,"vmlinuxSha256":"%s","initramfsSha256":%s,"modules":%s,"rebuilt":%s}\n' \
    "$KERNEL_NAME" "$OUT/vmlinux" "$initramfs_json" "$(sha256sum "$OUT/vmlinux" | cut -d' ' -f1)" \
    "$initramfs_sum" "$2" "$1"
}

if [ -f "$OUT/stamp" ] && [ "$(cat "$OUT/stamp")" = "$stamp" ] && [ -f "$OUT/vmlinux" ]; then
  result false "$(cat "$OUT/module-count" 2>/dev/null || echo 0)"
  exit 0
fi

WORK=$(mktemp -d "$OUT/.build.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

is_elf() { [ "$(head -c 4 "$1" | od -An -c | tr -d ' ')" = '177ELF' ]; }

# 1. vmlinux: an ELF kernel is used as is; a bzImage holds a compressed ELF after its setup code.
if is_elf "$KERNEL_IMAGE"; then
  cp "$KERNEL_IMAGE" "$WORK/vmlinux"
else
  # The x86 boot protocol header says where the payload is: setup_sects (byte 0x1f1) and
  # payload_offset (le32 at 0x248), relative to the protected-mode code at (setup_sects+1)*512.
  setup_sects=$(od -A n -t u1 -j 497 -N 1 "$KERNEL_IMAGE" | tr -d ' ')
  payload_offset=$(od -A n -t u4 -j 584 -N 4 "$KERNEL_IMAGE" | tr -d ' ')
  [ "$(od -A n -c -j 514 -N 4 "$KERNEL_IMAGE" | tr -d ' ')" = HdrS ] || fail "$KERNEL_IMAGE is neither an ELF vmlinux nor a bzImage"
  [ "$setup_sects" -gt 0 ] 2>/dev/null || setup_sects=4
  start=$(((setup_sects + 1) * 512 + payload_offset))
  magic=$(od -A n -t x1 -j "$start" -N 4 "$KERNEL_IMAGE" | tr -d ' ')
  case $magic in
    fd377a58)
      # busybox xz lacks the x86 BCJ filter that kernels use: XZ Utils is needed
      xz --version 2>/dev/null | grep -q 'XZ Utils' || fail "extracting an xz kernel needs XZ Utils (apt/apk install xz)"
      decompress='xz -dc --single-stream'
      ;;
    1f8b08*) decompress='gzip -dc' ;;
    28b52ffd) decompress='zstd -qdc' ;;
    *) fail "unsupported bzImage payload (magic $magic): grim handles xz, gzip and zstd kernels" ;;
  esac
  # shellcheck disable=SC2086 # $decompress is a command with its arguments
  tail -c "+$((start + 1))" "$KERNEL_IMAGE" | $decompress >"$WORK/vmlinux" 2>/dev/null || true
  is_elf "$WORK/vmlinux" || fail "decompressing the payload of $KERNEL_IMAGE did not give an ELF kernel"
fi

# 2. initramfs from the node's modules, in dependency order (modules.dep, depth first).
count=0
if [ -n "$MODULES_DIR" ]; then
  R=$WORK/initramfs
  mkdir -p "$R/bin" "$R/dev" "$R/proc" "$R/sys" "$R/newroot" "$R/lib/modules"
  cp "$BUSYBOX" "$R/bin/busybox"
  for applet in $("$BUSYBOX" --list); do [ "$applet" = busybox ] || ln -sf busybox "$R/bin/$applet"; done
  cp "$INITRAMFS_INIT" "$R/init"
  chmod 0755 "$R/init"
  # Dependency closure in load order (depth first over modules.dep; awk keeps recursion locals).
  # crc32c_generic: jbd2/ext4 need a crc32c implementation (a soft dependency, not in modules.dep).
  awk -v wanted="virtio_mmio virtio_blk virtio_net crc32c_generic ext4" '
    function base(path,   b) { b = path; sub(/.*\//, "", b); sub(/\.ko(\.(xz|gz|zst))?$/, "", b); gsub(/-/, "_", b); return b }
    function visit(name,   n, parts, i) {
      if (name in seen || !(name in file)) return
      seen[name] = 1
      n = split(deps[name], parts, " ")
      for (i = 1; i <= n; i++) visit(base(parts[i]))
      print file[name]
    }
    { f = $1; sub(/:$/, "", f); b = base(f); file[b] = f; $1 = ""; deps[b] = $0 }
    END { n = split(wanted, w, " "); for (i = 1; i <= n; i++) visit(w[i]) }
  ' "$MODULES_DIR/modules.dep" >"$WORK/files"
  : >"$WORK/order"
  while read -r file; do
    target=$(basename "$file" | sed 's/\.\(xz\|gz\|zst\)$//')
    case $file in
      *.xz) xz -dc "$MODULES_DIR/$file" >"$R/lib/modules/$target" ;;
      *.gz) gzip -dc "$MODULES_DIR/$file" >"$R/lib/modules/$target" ;;
      *.zst) zstd -qdc "$MODULES_DIR/$file" >"$R/lib/modules/$target" ;;
      *) cp "$MODULES_DIR/$file" "$R/lib/modules/$target" ;;
    esac
    echo "$target" >>"$WORK/order"
  done <"$WORK/files"
  cp "$WORK/order" "$R/lib/modules/order"
  count=$(wc -l <"$WORK/order" | tr -d ' ')
  (cd "$R" && find . | "$BUSYBOX" cpio -o -H newc 2>/dev/null) | gzip -1 >"$WORK/initramfs.cpio.gz"
fi

mv -f "$WORK/vmlinux" "$OUT/vmlinux"
if [ -f "$WORK/initramfs.cpio.gz" ]; then
  mv -f "$WORK/initramfs.cpio.gz" "$OUT/initramfs.cpio.gz"
else
  rm -f "$OUT/initramfs.cpio.gz"
fi
echo "$count" >"$OUT/module-count"
echo "$stamp" >"$OUT/stamp"
result true "$count"
