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
scripts/images.sh  # the base image is pulled, or built from Debian's packages without a registry
.venv/bin/ruff check .
.venv/bin/ruff format --check .
[ ! -x .ci/course-checks.sh ] || .ci/course-checks.sh
if [ "$#" -gt 0 ]; then
    .venv/bin/pytest "$@"
else
    # The whole suite but the `slow` lab-session runs of lab notebooks (~10 min; their
    # autograding tests run the same cells, all but the try-it ones): `scripts/test.sh -m slow`.
    .venv/bin/pytest -m "not slow" --durations=30  # the slowest, to keep CI well under an hour
    # The deployment's tests (~8 min): only for the whole suite, as CI runs it.
    deploy/tests/run.sh
fi
