# env.sh - reads grim's instance environment files, inlined by the script loader (`# lib: env`).
# An environment file holds one NAME=VALUE line per variable with VALUE in base64, so any value (quotes,
# newlines, $(...)) arrives exactly as given and none is ever interpreted by a shell.
# load_env FILE: exports every variable of FILE; returns 1 when FILE cannot be read or a value is not base64.
load_env() {
  [ -r "$1" ] || return 1
  while IFS= read -r _line || [ -n "$_line" ]; do
    _name=${_line%%=*}
    case $_name in '' | [0-9]* | *[!A-Za-z0-9_]*) continue ;; esac
    _value=$(printf '%s' "${_line#*=}" | base64 -d && echo .) || return 1
    export "$_name=${_value%.}"
  done <"$1"
}

# instance_env DIR: exports the environment of the app instance in DIR: its `environment` file, or the
# sh `env` file an older grim wrote (sourced; grim no longer writes it).
instance_env() {
  if [ -f "$1/environment" ]; then
    load_env "$1/environment"
  elif [ -f "$1/env" ]; then
    set -a
    # shellcheck disable=SC1091 # written by an older grim's app-install.sh
    . "$1/env"
    set +a
  fi
}
