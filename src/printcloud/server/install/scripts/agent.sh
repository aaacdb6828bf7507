#!/bin/sh
# Installs the PrintCloud agent on Linux or macOS, from the PrintCloud server that
# served this script (its address is filled in below):
#
#   curl -fsSL __PRINTCLOUD_SERVER__/install/agent.sh | sh
#   curl -fsSL __PRINTCLOUD_SERVER__/install/agent.sh | sh -s -- --api-key KEY
#
# It needs Python 3.11 or newer, makes a private Python environment for the agent,
# installs the agent into it from the server, logs this computer in and installs the
# service that starts the agent with the computer. Nothing else on the computer changes.
set -eu

SERVER='__PRINTCLOUD_SERVER__'
WHEEL='__PRINTCLOUD_WHEEL__'

usage() {
  cat <<EOF
Install the PrintCloud agent from $SERVER.

  curl -fsSL $SERVER/install/agent.sh | sh -s -- [OPTIONS]

Options:
  --prefix DIR          where the agent goes [default: /opt/printcloud-agent as root,
                        else ~/.local/share/printcloud-agent]
  --email EMAIL         log in as this PrintCloud user (the password is asked for)
  --api-key KEY         log in with a full API key instead, for unattended installs
                        (or set PRINTCLOUD_API_KEY)
  --name NAME           this computer's name in PrintCloud [default: its host name]
  --no-service          do not install the service (run: printcloud agent run)
  --service-root DIR    write the service's files under DIR instead of / (for checking)
  -h, --help            this help

Set PYTHON=/path/to/python3 to choose the Python (3.11 or newer).
EOF
}

say() { printf 'printcloud-agent: %s\n' "$*"; }
die() {
  printf 'printcloud-agent: error: %s\n' "$*" >&2
  exit 1
}

prefix=""
email=""
api_key="${PRINTCLOUD_API_KEY:-}"
name=""
service=yes
service_root=""

while [ $# -gt 0 ]; do
  case $1 in
    --prefix | --email | --api-key | --name | --service-root)
      [ $# -ge 2 ] || die "$1 needs a value"
      option=$1
      value=$2
      shift 2
      ;;
    --prefix=* | --email=* | --api-key=* | --name=* | --service-root=*)
      option=${1%%=*}
      value=${1#*=}
      shift
      ;;
    --no-service)
      service=no
      shift
      continue
      ;;
    -h | --help)
      usage
      exit 0
      ;;
    *) die "unknown option: $1 (see --help)" ;;
  esac
  case $option in
    --prefix) prefix=$value ;;
    --email) email=$value ;;
    --api-key) api_key=$value ;;
    --name) name=$value ;;
    --service-root) service_root=$value ;;
  esac
done

is_root() { [ "$(id -u)" = 0 ]; }

# A terminal to ask on: when piped from curl, stdin is this script, not the keyboard.
can_ask() { (exec </dev/tty) 2>/dev/null; }

python_ok() { "$1" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; }

find_python() {
  if [ -n "${PYTHON:-}" ]; then
    python_ok "$PYTHON" || die "PYTHON=$PYTHON is not Python 3.11 or newer"
    printf '%s\n' "$PYTHON"
    return
  fi
  for candidate in python3 python3.13 python3.12 python3.11; do
    if command -v "$candidate" >/dev/null 2>&1 && python_ok "$candidate"; then
      command -v "$candidate"
      return
    fi
  done
  case $(uname -s) in
    Darwin) hint="install it from https://www.python.org/downloads/ (or: brew install python)" ;;
    *) hint="install it (Debian, Ubuntu: sudo apt-get install python3 python3-venv; Fedora: sudo dnf install python3)" ;;
  esac
  die "the PrintCloud agent needs Python 3.11 or newer, and none was found: $hint, then run this again (or set PYTHON=/path/to/python3.11)"
}

if [ -z "$prefix" ]; then
  if is_root; then
    prefix=/opt/printcloud-agent
  else
    prefix="${XDG_DATA_HOME:-$HOME/.local/share}/printcloud-agent"
  fi
fi
case $prefix in
  /*) ;;
  *) prefix="$(pwd)/$prefix" ;;
esac
venv="$prefix/venv"
config="$prefix/agent.json"
printcloud="$venv/bin/printcloud"

# Fail before installing anything when the login could not happen.
if [ -z "$api_key" ] && { [ -n "$email" ] || [ ! -f "$config" ]; } && ! can_ask; then
  die "no terminal to ask for the password on: give --api-key KEY for an unattended install"
fi

python=$(find_python)
say "installing the agent into $prefix (with $("$python" -V 2>&1))"
mkdir -p "$prefix" || die "cannot create $prefix (run as root, or choose another --prefix)"
if [ ! -x "$venv/bin/python" ] || ! python_ok "$venv/bin/python"; then
  rm -rf "$venv"
  if ! "$python" -m venv "$venv"; then
    rm -rf "$venv"
    die "$python cannot make a virtual environment: install its venv module (Debian, Ubuntu: sudo apt-get install python3-venv) and run this again"
  fi
fi
# The agent's libraries come from the package index pip is configured with, the agent
# itself from this server.
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade \
  "$SERVER/install/$WHEEL" || die "pip could not install the agent (see above)"
[ -x "$printcloud" ] || die "the install left no $printcloud"

# The journal beside the agent, not in the home of whoever ran the installer.
set -- agent login --server "$SERVER" --config "$config" --data-dir "$prefix/data"
if [ -n "$name" ]; then
  set -- "$@" --name "$name"
fi
if [ -n "$api_key" ]; then
  # In the environment, not on the command line, where `ps` would show it.
  PRINTCLOUD_API_KEY=$api_key "$printcloud" "$@" || die "login failed (see above)"
elif [ -n "$email" ] || [ ! -f "$config" ]; then
  if [ -z "$email" ]; then
    printf 'Your PrintCloud e-mail address: ' >/dev/tty
    read -r email </dev/tty
    [ -n "$email" ] || die "no e-mail address given"
  fi
  "$printcloud" "$@" --email "$email" </dev/tty || die "login failed (see above)"
else
  say "keeping the login in $config (give --email or --api-key to log in again)"
fi

if [ "$service" = yes ]; then
  if ! "$printcloud" agent install-service --help >/dev/null 2>&1; then
    die "the agent is installed and logged in, but this version cannot install its service (no 'printcloud agent install-service'). Start it by hand: \"$printcloud\" agent run --config \"$config\""
  fi
  if is_root; then scope=--system; else scope=--user; fi
  set -- agent install-service "$scope" --config "$config"
  if [ -n "$service_root" ]; then
    set -- "$@" --root "$service_root"
  fi
  "$printcloud" "$@" || die "the service could not be installed (see above)"
fi

say "done. The agent is in $prefix, its configuration in $config."
if [ "$service" = yes ]; then
  say "it runs as a service; see how it is doing with: \"$printcloud\" agent status --config \"$config\""
else
  say "start it with: \"$printcloud\" agent run --config \"$config\""
fi
if is_root; then scope=--system; else scope=--user; fi
say "to remove it: \"$printcloud\" agent uninstall-service $scope (if the service is installed), then rm -rf \"$prefix\""
