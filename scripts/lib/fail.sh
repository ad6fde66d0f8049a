# fail.sh - grim's one error convention for scripts a node runs, inlined by the script loader (`# lib: fail`).
# fail MESSAGE [STATUS]: the reason goes to stderr (grim reports its last line) and, as the script's JSON
# result, {"ok":false,"error":"MESSAGE"} to stdout; then exit STATUS (default 1).
fail() {
  printf '%s\n' "$1" >&2
  printf '{"ok":false,"error":"%s"}\n' "$(printf '%s' "$1" | tr -d '\000-\037' | sed 's/\\/\\\\/g; s/"/\\"/g')"
  exit "${2:-1}"
}
