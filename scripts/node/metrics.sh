#!/bin/sh
# metrics.sh — one raw usage sample of this node (read-only; safe to run any number of times).
#
# param: INSTANCE_CGROUPS (optional) - newline-separated cgroup paths relative to the cgroup root
#   (e.g. "/lxc/web-1" or "system.slice/app.service"). For each one the CPU usage counter and memory
#   usage are reported (cgroup v2 when the path exists on the unified hierarchy with cpu.stat, else
#   v1 cpuacct/memory controllers).
# param: VMM_METRICS (optional) - newline-separated "OFFSET PATH" pairs: Firecracker metrics files (one JSON
#   object per line, appended at each flush) and the byte offset grim has read up to. What was written since
#   is returned base64-encoded (at most the last 256 KiB; a file shorter than OFFSET is read from the start).
#   Paths may only contain letters, digits and / _ . - (others are reported as invalid).
#
# result: one JSON object on the last stdout line (counters are raw, never differenced here):
#   {"v":1,"ts":<unix ms>,"boot_id":"...","uptime":<s>,
#    "cpu":[user,nice,system,idle,iowait,irq,softirq,steal],          USER_HZ ticks, all cores
#    "cpus":{"0":[...same 8...],...},
#    "load":[l1,l5,l15],
#    "mem":{"total_kb":..,"available_kb":..|null,"free_kb":..,"buffers_kb":..,"cached_kb":..},
#    "fs":[{"mount":"/","dev":"/dev/vda","type":"ext4","size_kb":..,"used_kb":..,"avail_kb":..}],
#    "disk":[{"dev":"vda","rd_ios":..,"rd_sectors":..,"wr_ios":..,"wr_sectors":..,"io_ms":..}],
#    "net":[{"if":"eth0","rx_bytes":..,"rx_packets":..,"tx_bytes":..,"tx_packets":..}],
#    "cgroups":[{"path":"...","v":2,"cpu_usec":..,"mem_bytes":..} | {"path":"...","error":"not found"}],
#    "vmm":[{"path":"...","size":N,"from":N,"b64":"..."} | {"path":"...","error":"not found"}]}   (with VMM_METRICS)
# Sectors in /proc/diskstats are always 512 bytes. Only whole physical disks (/sys/block/*/device)
# are listed; pseudo, network and overlay filesystems are skipped (and never stat'ed, so a hung NFS
# mount cannot block the sample).
set -eu

now=$(date +%s%N 2>/dev/null || date +%s)

# Firecracker metrics files: the bytes written since grim's offset, base64 (JSON lines survive as they are).
vmm=''
if [ -n "${VMM_METRICS:-}" ]; then
  while read -r off file; do
    [ -n "$file" ] || continue
    case $file in
      *[!A-Za-z0-9/_.-]* | *..*)
        vmm="$vmm${vmm:+,}{\"path\":\"invalid\",\"error\":\"invalid path\"}"
        continue
        ;;
    esac
    if [ ! -f "$file" ]; then
      vmm="$vmm${vmm:+,}{\"path\":\"$file\",\"error\":\"not found\"}"
      continue
    fi
    case $off in '' | *[!0-9]*) off=0 ;; esac
    size=$(wc -c <"$file" | tr -d ' ')
    if [ "$size" -lt "$off" ]; then off=0; fi
    if [ $((size - off)) -gt 262144 ]; then off=$((size - 262144)); fi
    b64=$(tail -c +$((off + 1)) "$file" | head -c $((size - off)) | base64 | tr -d '\n')
    vmm="$vmm${vmm:+,}{\"path\":\"$file\",\"size\":$size,\"from\":$off,\"b64\":\"$b64\"}"
  done <<EOF
$VMM_METRICS
EOF
fi
export GRIM_VMM_JSON="$vmm"

disks=""
for d in /sys/block/*; do
  if [ -e "$d/device" ]; then disks="$disks ${d##*/}"; fi
done

# Real local filesystems, one mountpoint per line, first mount of each source device only.
mounts=$(awk '
BEGIN {
  n = split("proc sysfs devtmpfs devpts tmpfs ramfs cgroup cgroup2 securityfs pstore bpf debugfs tracefs " \
    "configfs fusectl mqueue hugetlbfs autofs binfmt_misc rpc_pipefs nsfs overlay aufs squashfs iso9660 " \
    "selinuxfs efivarfs devfs nfs nfs4 cifs smb3 smbfs 9p ceph glusterfs sshfs afs", t, " ")
  for (i = 1; i <= n; i++) skip[t[i]] = 1
}
function unoctal(s) { gsub(/\\040/, " ", s); gsub(/\\011/, "\t", s); return s }
{
  if (($3 in skip) || $3 ~ /^fuse/ || $2 ~ /\\012/ || $2 ~ /\\134/) next
  if ($2 ~ /^\/(proc|sys|dev|run)(\/|$)/ || $2 ~ /^\/var\/lib\/(docker|containers)\//) next
  if ($1 in seen) next
  seen[$1] = 1
  print unoctal($2)
}' /proc/mounts)

# df only for the selected mountpoints (newline-separated -> positional parameters).
dfout=""
if [ -n "$mounts" ]; then
  old_ifs=$IFS
  IFS='
'
  set -f
  # shellcheck disable=SC2086 # word splitting on newlines is intended
  set -- $mounts
  set +f
  IFS=$old_ifs
  dfout=$(df -P -k "$@" 2>/dev/null || true)
fi

printf '%s\n' "$dfout" | awk -v now="$now" -v disks="$disks" '
function jstr(s,   out, i, c) {
  out = ""
  for (i = 1; i <= length(s); i++) {
    c = substr(s, i, 1)
    if (c == "\\") out = out "\\\\"
    else if (c == "\"") out = out "\\\""
    else if (c == "\t") out = out "\\t"
    else if (c == "\n") out = out "\\n"
    else if (c == "\r") out = out "\\r"
    else out = out c
  }
  return "\"" out "\""
}
function int_or_null(s) { return (s ~ /^[0-9]+$/) ? s : "null" }
function dec_or_null(s) { return (s ~ /^[0-9]+(\.[0-9]+)?$/) ? s : "null" }
function cpu8(   s, i) {
  s = int_or_null($2)
  for (i = 3; i <= 9; i++) s = s "," int_or_null(NF >= i ? $i : "0")
  return "[" s "]"
}
function unoctal(s) { gsub(/\\040/, " ", s); gsub(/\\011/, "\t", s); return s }
function readfirst(path,   line) {
  line = ""
  if ((getline line < path) <= 0) line = ""
  close(path)
  return line
}
function keyval(path, key,   line, f, v) {
  v = ""
  while ((getline line < path) > 0) {
    split(line, f, " ")
    if (f[1] == key) { v = f[2]; break }
  }
  close(path)
  return v
}
BEGIN {
  nd = split(disks, d, " ")
  for (i = 1; i <= nd; i++) { x = d[i]; gsub(/!/, "/", x); isdisk[x] = 1 }
  if (now ~ /^[0-9]+$/ && length(now) > 12) ts = substr(now, 1, length(now) - 6)
  else { ts = now; sub(/[^0-9].*$/, "", ts); ts = ts "000" }
  ncpus = 0; nfs = 0; ndisk = 0; nnet = 0
}
FILENAME == "-" {
  if (FNR == 1 || NF < 6) next
  line = $0
  for (i = 1; i <= 5; i++) sub(/^[ \t]*[^ \t]+[ \t]+/, "", line)
  fs[++nfs] = line; fsdev[nfs] = $1; fssize[nfs] = $2; fsused[nfs] = $3; fsavail[nfs] = $4
  next
}
FILENAME == "/proc/mounts" { mt[unoctal($2)] = $3; next }
FILENAME == "/proc/uptime" { uptime = $1; next }
FILENAME == "/proc/sys/kernel/random/boot_id" { bootid = $1; next }
FILENAME == "/proc/stat" {
  if ($1 == "cpu") cputot = cpu8()
  else if ($1 ~ /^cpu[0-9]+$/) { c = substr($1, 4); cpus = cpus (ncpus++ ? "," : "") "\"" c "\":" cpu8() }
  next
}
FILENAME == "/proc/loadavg" { load = "[" dec_or_null($1) "," dec_or_null($2) "," dec_or_null($3) "]"; next }
FILENAME == "/proc/meminfo" { k = $1; sub(/:$/, "", k); mem[k] = $2; next }
FILENAME == "/proc/diskstats" {
  if (!($3 in isdisk)) next
  disk[++ndisk] = "{\"dev\":" jstr($3) ",\"rd_ios\":" int_or_null($4) ",\"rd_sectors\":" int_or_null($6) \
    ",\"wr_ios\":" int_or_null($8) ",\"wr_sectors\":" int_or_null($10) ",\"io_ms\":" int_or_null($13) "}"
  next
}
FILENAME == "/proc/net/dev" {
  if (FNR <= 2) next
  line = $0; sub(/:/, " ", line); split(line, f, " ")
  if (f[1] == "lo") next
  net[++nnet] = "{\"if\":" jstr(f[1]) ",\"rx_bytes\":" int_or_null(f[2]) ",\"rx_packets\":" int_or_null(f[3]) \
    ",\"tx_bytes\":" int_or_null(f[10]) ",\"tx_packets\":" int_or_null(f[11]) "}"
  next
}
END {
  out = "{\"v\":1,\"ts\":" int_or_null(ts) ",\"boot_id\":" jstr(bootid) ",\"uptime\":" dec_or_null(uptime)
  out = out ",\"cpu\":" (cputot == "" ? "null" : cputot) ",\"cpus\":{" cpus "},\"load\":" (load == "" ? "null" : load)
  out = out ",\"mem\":{\"total_kb\":" int_or_null(mem["MemTotal"]) ",\"available_kb\":" int_or_null(mem["MemAvailable"])
  out = out ",\"free_kb\":" int_or_null(mem["MemFree"]) ",\"buffers_kb\":" int_or_null(mem["Buffers"])
  out = out ",\"cached_kb\":" int_or_null(mem["Cached"]) "}"
  s = ""
  for (i = 1; i <= nfs; i++) {
    s = s (i > 1 ? "," : "") "{\"mount\":" jstr(fs[i]) ",\"dev\":" jstr(fsdev[i]) ",\"type\":" jstr(mt[fs[i]]) \
      ",\"size_kb\":" int_or_null(fssize[i]) ",\"used_kb\":" int_or_null(fsused[i]) ",\"avail_kb\":" int_or_null(fsavail[i]) "}"
  }
  out = out ",\"fs\":[" s "]"
  s = ""; for (i = 1; i <= ndisk; i++) s = s (i > 1 ? "," : "") disk[i]
  out = out ",\"disk\":[" s "]"
  s = ""; for (i = 1; i <= nnet; i++) s = s (i > 1 ? "," : "") net[i]
  out = out ",\"net\":[" s "]"

  # Instance cgroups.
  s = ""; ncg = 0
  cc = "/sys/fs/cgroup/cgroup.controllers"
  unified = ((getline x < cc) >= 0)
  close(cc)
  n = split(ENVIRON["INSTANCE_CGROUPS"], cg, "\n")
  for (i = 1; i <= n; i++) {
    p = cg[i]; sub(/\r$/, "", p)
    if (p == "") continue
    rel = p; sub(/^\/+/, "", rel); sub(/\/+$/, "", rel)
    base = (rel == "" ? "" : "/" rel)
    item = "{\"path\":" jstr(p)
    if (("/" rel "/") ~ /\/\.\.?\//) { s = s (ncg++ ? "," : "") item ",\"error\":\"invalid path\"}"; continue }
    ns = ""; usec = ""
    if (!unified) {
      ns = readfirst("/sys/fs/cgroup/cpuacct" base "/cpuacct.usage")
      if (ns == "") ns = readfirst("/sys/fs/cgroup/cpu,cpuacct" base "/cpuacct.usage")
    }
    if (ns != "") {
      item = item ",\"v\":1,\"cpu_ns\":" int_or_null(ns) ",\"mem_bytes\":" \
        int_or_null(readfirst("/sys/fs/cgroup/memory" base "/memory.usage_in_bytes")) "}"
    } else {
      v2 = (unified ? "/sys/fs/cgroup" : "/sys/fs/cgroup/unified") base
      usec = keyval(v2 "/cpu.stat", "usage_usec")
      if (usec == "") item = item ",\"error\":\"not found\"}"
      else item = item ",\"v\":2,\"cpu_usec\":" int_or_null(usec) ",\"mem_bytes\":" \
        int_or_null(readfirst(v2 "/memory.current")) "}"
    }
    s = s (ncg++ ? "," : "") item
  }
  out = out ",\"cgroups\":[" s "]"
  if (ENVIRON["GRIM_VMM_JSON"] != "") out = out ",\"vmm\":[" ENVIRON["GRIM_VMM_JSON"] "]"
  out = out "}"
  print out
}' /proc/mounts /proc/uptime /proc/sys/kernel/random/boot_id /proc/stat /proc/loadavg /proc/meminfo \
  /proc/diskstats /proc/net/dev -
