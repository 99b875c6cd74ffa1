#!/usr/bin/env bash
# Run every test: lint, unit, course content, the live compose stack, a real browser, and the
# Ansible deployment (deploy/tests/run.sh). Installs what is missing first (Docker, redis-server,
# Chromium, the venvs) on Debian/Ubuntu as root. Extra arguments go to pytest and skip the
# deployment tests, e.g. scripts/test.sh tests/hub -x
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap-docker.sh
scripts/test-deps.sh
scripts/venv.sh
. scripts/env.sh
docker compose --profile images build --quiet
.venv/bin/ruff check .
.venv/bin/ruff format --check .
[ ! -x .ci/course-checks.sh ] || .ci/course-checks.sh
.venv/bin/pytest "$@"
# The deployment's tests (~8 min): only for the whole suite, as CI runs it.
[ "$#" -gt 0 ] || deploy/tests/run.sh
