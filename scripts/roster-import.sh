#!/usr/bin/env bash
# `make roster ROSTER=students.csv`: add a roster's students to the running hub. The initial
# passwords of those who had none go to a new file under credentials/ (scripts/credentials.sh),
# never to stdout or an existing file: a second run cannot overwrite the ones handed out.
# Extra arguments go to `celerylab roster import` (e.g. --reset).
set -euo pipefail
roster="${1:?usage: scripts/roster-import.sh students.csv [--reset]}"
shift
roster="$(realpath "$roster")"
cd "$(dirname "$0")/.."
. scripts/credentials.sh
to_credentials_file docker compose exec -T hub celerylab roster import - "$@" <"$roster"
