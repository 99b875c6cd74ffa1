#!/usr/bin/env bash
# The project's Python environment (.venv) from the locked requirements/dev.txt. Idempotent:
# reinstalls only when the lock changed.
set -euo pipefail
cd "$(dirname "$0")/.."
stamp=.venv/.installed
if [ -f "$stamp" ] && [ "$stamp" -nt requirements/dev.txt ]; then exit 0; fi
if ! python3 -c "import ensurepip" >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
  else
    echo "celerylab: python3's venv module is missing (install python3-venv)" >&2; exit 1
  fi
fi
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip uv
.venv/bin/uv pip install --python .venv/bin/python -q -r requirements/dev.txt
touch "$stamp"
