#!/usr/bin/env bash
# What the test suite needs besides Docker: redis-server (course labs run a real Redis),
# Chromium (Playwright's browser tests), *.localhost names for the per-user origins, and the
# project venv. Installs on Debian/Ubuntu as
# root; elsewhere, says what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
# Every lab has its own origin, <user>.celerylab.localhost: Chromium resolves *.localhost by
# itself, the tests' Python clients through glibc's myhostname module.
getent hosts probe.celerylab.localhost >/dev/null 2>&1 || missing+=(libnss-myhostname)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "celerylab: the tests need: ${missing[*]} (install them with your package manager)" >&2
    exit 1
  fi
fi
