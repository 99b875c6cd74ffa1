#!/usr/bin/env bash
# Build the course site (docs/) with warnings as errors, check every link inside it, and scan the
# student site, release/ and the lab image's files for the banks' answers. Two builds: the student site, and the
# instructor site, which adds each module's lecture script (recap questions with their answers).
# Usage: scripts/docs.sh [PYTHON]   (default: .venv/bin/python).
# Output: docs/_build/html (students), docs/_build/instructor (course staff only).
set -euo pipefail
cd "$(dirname "$0")/.."
py="${1:-.venv/bin/python}"
out=docs/_build/html
staff=docs/_build/instructor
"$py" -m sphinx -W --keep-going -q -b html -d docs/_build/doctrees docs "$out"
"$py" docs/_ext/sitelinks.py "$out"
"$py" -m celerylab_course.leakscan "$out" release --image images/lab/Dockerfile
"$py" -m sphinx -W --keep-going -q -b html -d docs/_build/doctrees-instructor \
  -D coursepages_audience=instructor docs "$staff"
"$py" docs/_ext/sitelinks.py "$staff"
echo "course site: $out/index.html (students), $staff/index.html (instructors)"
