#!/usr/bin/env bash
# `make courses`: bring the running hub in line with the course declarations, in one command.
#
# New users' initial passwords go to a NEW file, credentials/initial-passwords-<UTC time>.csv
# (scripts/credentials.sh): passwords already handed out are never overwritten.
# A course declared after the hub started is not loaded by it (its formgrader is unreachable):
# the sync exits 3, and this restarts the hub once (running labs keep running) and syncs again,
# so the course works when this returns.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/credentials.sh

sync_once() {
  to_credentials_file docker compose exec -T hub celerylab courses sync "$@"
}

rc=0
sync_once "$@" || rc=$?
if [ "$rc" -eq 3 ]; then
  echo "courses: restarting the hub so that it loads the new courses (labs keep running)" >&2
  docker compose restart hub >&2
  docker compose up -d --wait --no-recreate --no-deps hub >&2
  rc=0
  sync_once "$@" || rc=$?
fi
[ "$rc" -eq 0 ] && echo "courses: every declared course is ready" >&2
exit "$rc"
