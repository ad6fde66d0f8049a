#!/bin/sh
# logs-read.sh - what was appended to log files since grim's cursors, whole lines only; follows a rotation
# to FILE.1 (the old file is read to its end first) and starts over after a truncation. Read-only.
# param: LOG_FILES - one file per line: "INODE OFFSET SKIP PATH". INODE 0 is a file not read before (OFFSET -1:
#   start at its current end). SKIP 1: the cursor is inside an over-long line whose rest is skipped.
# param: LOG_MAX_BYTES (optional) - most bytes read from one file per call (default 524288)
# param: LOG_BUDGET (optional) - most bytes read in this call over all files (default 2097152)
# param: LOG_JOURNAL (optional) - also read the node's systemd journal after this journald cursor ("-": only find
#   its current end, "^": from its first entry); empty: no journal
# param: LOG_JOURNAL_DIR (optional) - the journal's directory (journalctl --directory); default the system journal
# param: LOG_JOURNAL_MAX (optional) - most journal entries read in one call (default 2000)
# result: per chunk a line "@grim-log KEY INODE OFFSET LEN LINES SKIP FLAGS" followed by exactly LINES lines
#   (LEN bytes of the file from OFFSET; the cursor after it is INODE, OFFSET+LEN, SKIP; KEY is the line number
#   in LOG_FILES; FLAGS: r read from the rotated FILE.1, l rest of a rotated file lost, z truncated file,
#   t over-long line cut here, p last line without newline of a rotated file, m missing, - none); with LOG_JOURNAL
#   then "@grim-journal MODE N" and exactly N lines of `journalctl -o json` (MODE after: the entries after the
#   cursor, oldest first; end: the newest entry, only for its cursor; none: this node has no journal, N 0);
#   then {"ok":true}
set -u

: "${LOG_FILES?}"
max=${LOG_MAX_BYTES:-524288}
budget=${LOG_BUDGET:-2097152}
case $max in '' | *[!0-9]*) echo '{"ok":false,"error":"LOG_MAX_BYTES must be a number"}' && exit 2 ;; esac
case $budget in '' | *[!0-9]*) echo '{"ok":false,"error":"LOG_BUDGET must be a number"}' && exit 2 ;; esac
journal=${LOG_JOURNAL:-}
journal_max=${LOG_JOURNAL_MAX:-2000}
case $journal_max in '' | *[!0-9]*) echo '{"ok":false,"error":"LOG_JOURNAL_MAX must be a number"}' && exit 2 ;; esac
case $journal in *[!A-Za-z0-9=\;_^-]*) echo '{"ok":false,"error":"LOG_JOURNAL is not a journald cursor"}' && exit 2 ;; esac
tmp=$(mktemp) || exit 1
trap 'rm -f "$tmp"' EXIT

# chunk KEY INODE OFFSET FILE FINAL SKIP FLAGS: prints one chunk; sets $drained=1 when FILE was read to its end
chunk() {
  c_key=$1 c_ino=$2 c_off=$3 c_file=$4 c_final=$5 c_skip=$6 c_flags=$7
  drained=0
  c_size=$(stat -c %s "$c_file" 2>/dev/null) || c_size=0
  want=$((c_size - c_off))
  [ "$want" -gt "$max" ] && want=$max
  [ "$want" -gt "$budget" ] && want=$budget
  if [ "$want" -le 0 ]; then
    [ $((c_off)) -ge "$c_size" ] && drained=1
    echo "@grim-log $c_key $c_ino $c_off 0 0 $c_skip ${c_flags:--}"
    return
  fi
  tail -c +$((c_off + 1)) "$c_file" 2>/dev/null | head -c "$want" >"$tmp"
  n=$(wc -c <"$tmp")
  budget=$((budget - n))
  at_end=0
  [ $((c_off + n)) -ge "$c_size" ] && at_end=1
  if [ "$c_skip" = 1 ]; then
    # inside an over-long line: drop bytes up to and including the next newline
    if [ "$(head -n 1 "$tmp" | tail -c 1 | wc -l)" -eq 1 ]; then
      len=$(head -n 1 "$tmp" | wc -c)
      echo "@grim-log $c_key $c_ino $c_off $len 0 0 ${c_flags:--}"
    else
      echo "@grim-log $c_key $c_ino $c_off $n 0 1 ${c_flags:--}"
      len=$n
    fi
    [ "$at_end" = 1 ] && [ "$len" = "$n" ] && drained=1
    return
  fi
  extra=''
  if [ "$(tail -c 1 "$tmp" | wc -l)" -eq 1 ]; then
    len=$n
  else
    partial=$(tail -n 1 "$tmp" | wc -c)
    len=$((n - partial))
    if [ "$c_final" = 1 ] && [ "$at_end" = 1 ]; then
      len=$n extra=p
    elif [ "$len" -eq 0 ] && [ "$n" -ge "$max" ]; then
      len=$n extra=t
    fi
  fi
  [ "$at_end" = 1 ] && [ "$len" = "$n" ] && drained=1
  if [ "$len" -eq 0 ]; then
    echo "@grim-log $c_key $c_ino $c_off 0 0 0 ${c_flags:--}"
    return
  fi
  lines=$(head -c "$len" "$tmp" | wc -l)
  next_skip=0
  [ -n "$extra" ] && lines=$((lines + 1))
  [ "$extra" = t ] && next_skip=1
  c_flags=$c_flags$extra
  echo "@grim-log $c_key $c_ino $c_off $len $lines $next_skip ${c_flags:--}"
  head -c "$len" "$tmp"
  [ -n "$extra" ] && echo
  return 0
}

key=0
while IFS=' ' read -r ino off skip path; do
  [ -n "$ino" ] || continue
  key=$((key + 1))
  case $ino$off$skip in *[!0-9-]*) echo '{"ok":false,"error":"bad LOG_FILES line"}' && exit 2 ;; esac
  if [ "$budget" -le 0 ]; then continue; fi
  cur=$(stat -c %i "$path" 2>/dev/null) || cur=''
  flags=''
  if [ "$ino" != 0 ] && [ "$cur" != "$ino" ]; then
    # rotated (or removed): finish the old file when it is FILE.1, then start the new one at 0
    if [ "$(stat -c %i "$path.1" 2>/dev/null)" = "$ino" ]; then
      chunk "$key" "$ino" "$off" "$path.1" 1 "$skip" r
      [ "$drained" = 1 ] || continue
    else
      echo "@grim-log $key $ino $off 0 0 0 l"
    fi
    off=0 skip=0 flags=r
  fi
  if [ -z "$cur" ]; then
    echo "@grim-log $key 0 0 0 0 0 m"
    continue
  fi
  size=$(stat -c %s "$path" 2>/dev/null) || size=0
  if [ "$off" = -1 ]; then
    off=$size
  elif [ "$off" -gt "$size" ]; then
    off=0 skip=0 flags=${flags}z
  fi
  chunk "$key" "$cur" "$off" "$path" 0 "$skip" "$flags"
done <<EOF_FILES
$LOG_FILES
EOF_FILES

# journal: the node's systemd journal (journalctl reads journald's files; journald itself need not run)
if [ -n "$journal" ]; then
  if [ -n "${LOG_JOURNAL_DIR:-}" ]; then
    set -- --directory="$LOG_JOURNAL_DIR"
    dirs=$LOG_JOURNAL_DIR
  else
    set --
    dirs='/run/log/journal /var/log/journal'
  fi
  # shellcheck disable=SC2086 # $dirs is a list of fixed paths or one admin-set directory without spaces
  if ! command -v journalctl >/dev/null 2>&1 || [ -z "$(find $dirs -name '*.journal' 2>/dev/null | head -n 1)" ]; then
    echo "@grim-journal none 0"
  else
    mode=after
    case $journal in
      -) mode=end && journalctl "$@" -o json -n 1 --no-pager >"$tmp" 2>/dev/null ;;
      ^) journalctl "$@" -o json --no-pager 2>/dev/null | head -n "$journal_max" >"$tmp" ;;
      *) journalctl "$@" -o json --no-pager --after-cursor="$journal" 2>/dev/null | head -n "$journal_max" >"$tmp" ;;
    esac
    # nothing after the cursor: if the newest entry belongs to another journal (sequence id s=, e.g. a volatile
    # journal after a reboot), the cursor's journal is gone and journalctl would show nothing forever: start over
    if [ "$mode" = after ] && [ "$journal" != '^' ] && [ ! -s "$tmp" ]; then
      seq=$(journalctl "$@" -o json -n 1 --no-pager 2>/dev/null | sed -n 's/.*"__CURSOR":"\(s=[0-9a-f]*\);.*/\1/p')
      if [ -n "$seq" ] && [ "$seq" != "${journal%%;*}" ]; then
        journalctl "$@" -o json --no-pager 2>/dev/null | head -n "$journal_max" >"$tmp"
      fi
    fi
    echo "@grim-journal $mode $(wc -l <"$tmp")"
    cat "$tmp"
  fi
fi
echo '{"ok":true}'
