# Sourced by scripts/serve and scripts/test: makes .venv with a Python 3.11+ in it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYTHON="${PYTHON:-python3}"

need_root_install() {
  # A fresh Debian/Ubuntu lacks the venv module (and sometimes curl); install as root.
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
  else
    echo "error: please install: $* (e.g. sudo apt-get install $*)" >&2
    exit 1
  fi
}

if ! command -v "$PYTHON" >/dev/null; then
  need_root_install python3 python3-venv
fi
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "error: PrintCloud needs Python 3.11 or newer; $PYTHON is $("$PYTHON" -V 2>&1)." >&2
  echo "       Set PYTHON=/path/to/python3.11 and run again." >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  if ! "$PYTHON" -m venv .venv 2>/dev/null; then
    rm -rf .venv
    need_root_install python3-venv
    "$PYTHON" -m venv .venv
  fi
  .venv/bin/python -m pip install --quiet --upgrade pip
fi
