#!/usr/bin/env bash
# Build the course site (docs/) with warnings as errors, then check every link inside it.
# Usage: scripts/docs.sh [PYTHON]   (default: .venv/bin/python). Output: docs/_build/html.
set -euo pipefail
cd "$(dirname "$0")/.."
py="${1:-.venv/bin/python}"
out=docs/_build/html
"$py" -m sphinx -W --keep-going -q -b html docs "$out"
"$py" docs/_ext/sitelinks.py "$out"
echo "course site: $out/index.html"
