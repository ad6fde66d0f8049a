# plan.sh - runs command plans grim writes as data, inlined by the script loader (`# lib: plan`).
# A plan file holds one command per line: "must" or "may", a TAB, then the argv separated by TABs.
# Each line runs as that exact argv (never through a shell, so no value is ever interpreted);
# run_plan FILE stops at the first failing "must" line and returns 1; "may" lines may fail.
run_plan() {
  _tab=$(printf '\t')
  while IFS= read -r _line || [ -n "$_line" ]; do
    [ -n "$_line" ] || continue
    _mode=${_line%%"$_tab"*}
    _rest=${_line#*"$_tab"}
    set --
    while :; do
      case $_rest in
        *"$_tab"*)
          set -- "$@" "${_rest%%"$_tab"*}"
          _rest=${_rest#*"$_tab"}
          ;;
        *)
          set -- "$@" "$_rest"
          break
          ;;
      esac
    done
    case $_mode in
      must) "$@" </dev/null || {
        echo "plan step failed: $*" >&2
        return 1
      } ;;
      may) "$@" </dev/null 2>/dev/null || true ;;
      *)
        echo "plan line must start with must or may: $_line" >&2
        return 1
        ;;
    esac
  done <"$1"
}
