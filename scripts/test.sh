#!/usr/bin/env bash
# Run every test: lint, unit, course content, the live compose stack, a real browser.
# Installs what is missing first (Docker, redis-server, Chromium, the venv) on Debian/Ubuntu as
# root. Extra arguments go to pytest, e.g. scripts/test.sh tests/hub -x
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
