#!/usr/bin/env bash
# `make courses`: bring the running hub in line with the course declarations, in one command.
#
# New users' initial passwords go to a NEW file, credentials/initial-passwords-<UTC time>.csv
# (mode 0600; CELERYLAB_CREDENTIALS_DIR names another folder), never to one that exists:
# passwords already handed out are never overwritten.
# A run that issues none leaves no file. A course declared after the hub started is not loaded
# by it (its formgrader is unreachable): the sync exits 3, and this restarts the hub once
# (running labs keep running) and syncs again, so the course works when this returns.
set -euo pipefail
cd "$(dirname "$0")/.."
umask 077
credentials="${CELERYLAB_CREDENTIALS_DIR:-credentials}"
mkdir -p "$credentials"

sync_once() {
  local out rc=0
  out="$credentials/initial-passwords-$(date -u +%Y%m%dT%H%M%SZ).csv"
  while [ -e "$out" ]; do  # two runs in one second: wait for a name of its own
    sleep 1
    out="$credentials/initial-passwords-$(date -u +%Y%m%dT%H%M%SZ).csv"
  done
  (set -o noclobber && docker compose exec -T hub celerylab courses sync "$@" >"$out") || rc=$?
  if [ "$(wc -l <"$out")" -gt 1 ]; then
    echo "courses: new initial passwords in $out (hand them out; the file stays as it is)" >&2
  else
    rm -f "$out"
  fi
  return "$rc"
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
