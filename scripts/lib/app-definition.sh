# app-definition.sh - reads the app definition grim writes for a microVM's guest init (/grim/app on the
# root disk, or grim-meta/app on the metadata drive), inlined by the script loader (`# lib: app-definition`).
# The file holds KEY=VALUE lines with VALUE in base64, so no value is ever interpreted by a shell:
#   workdir=, user=, stop_grace= (once each), env= (NAME=value, once per variable), arg= (the argv, in order).

# app_value FILE KEY: prints the value of KEY's first line (nothing when there is none)
app_value() {
  while IFS= read -r _line || [ -n "$_line" ]; do
    case $_line in "$2="*)
      printf '%s' "${_line#*=}" | base64 -d
      return
      ;;
    esac
  done <"$1"
}

# app_env FILE: exports the app's own environment (its env= lines)
app_env() {
  while IFS= read -r _line || [ -n "$_line" ]; do
    case $_line in env=*)
      _value=$(printf '%s' "${_line#env=}" | base64 -d && echo .) || return 1
      _value=${_value%.}
      case ${_value%%=*} in '' | [0-9]* | *[!A-Za-z0-9_]*) continue ;; esac
      export "${_value%%=*}=${_value#*=}"
      ;;
    esac
  done <"$1"
}

# app_exec FILE [COMMAND...]: execs COMMAND followed by the app's argv (its arg= lines, in order);
# returns 1 when the definition has no argv
app_exec() {
  _file=$1
  shift
  _prefix=$#
  while IFS= read -r _line || [ -n "$_line" ]; do
    case $_line in arg=*)
      _value=$(printf '%s' "${_line#arg=}" | base64 -d && echo .) || return 1
      set -- "$@" "${_value%.}"
      ;;
    esac
  done <"$_file"
  [ $# -gt "$_prefix" ] || return 1
  exec "$@"
}
