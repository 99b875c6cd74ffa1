#!/usr/bin/env bash
# Course checks that are not pytest: the conformance report, release/ drift and leaks, and the
# course site's build.
# Usage: .ci/course-checks.sh [PYTHON]   (default: .venv/bin/python). Called from scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
py="${1:-.venv/bin/python}"

echo "== course conformance report"
"$py" -m celerylab_course.conformance

echo "== course source/ and release/ drift, solution and answer leaks"
"$py" -m celerylab_course.cli check

echo "== course site (docs/): Sphinx with warnings as errors, links inside the site"
scripts/docs.sh "$py"
