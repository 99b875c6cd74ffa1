#!/usr/bin/env bash
# Backups of a celerylab installation: the one script behind both installs (docs/deploy.md,
# README "Backups"). The Ansible role installs it with a wrapper that sets its variables
# (celerylab_backup_*); the one-command compose install runs it through scripts/backup.sh.
#
# Usage:
#   celerylab-backup run             take a snapshot now, then keep the newest $CELERYLAB_BACKUP_KEEP
#   celerylab-backup list            list the snapshots, oldest first
#   celerylab-backup restore [SNAP]  replace the installation's volumes and settings with a
#                                    snapshot (default: the newest); the stack must be stopped
#
# A snapshot is a folder in CELERYLAB_BACKUP_DIR named by its UTC time: volumes/<key>.tar.gz for
# every volume of the compose project (hub state, secrets, exchange, grading broker, monitoring
# and TLS data) and every student home and course volume (gradebooks), volumes.tsv listing
# them, and config.tar.gz (.env, ops.env, credentials, TLS certificates). It is built as
# <time>.partial and renamed when complete; a run removes the .partial folders of runs that
# were killed. A file in a home that cannot be read is left out with a warning (the helper
# says which), never a reason to lose the snapshot. With CELERYLAB_BACKUP_REMOTE set, the
# snapshots are then copied off the host with rsync.
#
# Settings (environment):
#   CELERYLAB_BACKUP_PROJECT        compose project name (celerylab)
#   CELERYLAB_BACKUP_DIR            where snapshots go (/var/backups/celerylab)
#   CELERYLAB_BACKUP_KEEP           snapshots kept (14)
#   CELERYLAB_BACKUP_RUNNER_IMAGE   image with python3 that runs the helper (celerylab/hub:latest)
#   CELERYLAB_BACKUP_HELPER         celerylab_volume.py (next to this script)
#   CELERYLAB_BACKUP_PATTERNS       newline-separated regular expressions of volumes made
#                                   outside compose (default: <project>-home-*, <project>-course-*)
#   CELERYLAB_BACKUP_CONFIG_PATHS   newline-separated host files kept with each snapshot
#   CELERYLAB_BACKUP_REMOTE         rsync destination for an off-host copy (empty: none)
#   CELERYLAB_BACKUP_POST_COMMAND   shell command run after each snapshot (empty: none)
set -euo pipefail
umask 077

PROJECT=${CELERYLAB_BACKUP_PROJECT:-celerylab}
BACKUP_DIR=${CELERYLAB_BACKUP_DIR:-/var/backups/celerylab}
KEEP=${CELERYLAB_BACKUP_KEEP:-14}
RUNNER_IMAGE=${CELERYLAB_BACKUP_RUNNER_IMAGE:-celerylab/hub:latest}
HELPER=${CELERYLAB_BACKUP_HELPER:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/celerylab_volume.py}
REMOTE=${CELERYLAB_BACKUP_REMOTE:-}
POST_COMMAND=${CELERYLAB_BACKUP_POST_COMMAND:-}
mapfile -t PATTERNS < <(printf '%s\n' "${CELERYLAB_BACKUP_PATTERNS:-^${PROJECT}-home-[a-z][a-z0-9_-]*\$
^${PROJECT}-course-[a-z0-9][a-z0-9_-]*\$}" | sed '/^$/d')
mapfile -t CONFIG_PATHS < <(printf '%s\n' "${CELERYLAB_BACKUP_CONFIG_PATHS:-}" | sed '/^$/d')

say() { echo "celerylab-backup: $*" >&2; }
die() { say "$*"; exit 1; }

# key kind name, one line per volume: compose volumes by their compose name, others by the
# name without the "<project>-" prefix.
list_volumes() {
  docker volume ls -q --filter "label=com.docker.compose.project=${PROJECT}" | while read -r name; do
    key=$(docker volume inspect -f '{{ index .Labels "com.docker.compose.volume" }}' "$name")
    printf '%s\tcompose\t%s\n' "$key" "$name"
  done
  for pattern in "${PATTERNS[@]}"; do
    docker volume ls -q | { grep -E -- "$pattern" || true; } | while read -r name; do
      printf '%s\tplain\t%s\n' "${name#"${PROJECT}"-}" "$name"
    done
  done
}

in_volume() {  # in_volume VOLUME MODE SNAPSHOT ARGS...: run the helper with the volume at /data
  local volume=$1 mode=$2 snap=$3; shift 3
  docker run --rm --network none --entrypoint python3 \
    -v "${volume}:/data:${mode}" -v "${snap}:/backup" -v "${HELPER}:/celerylab_volume.py:ro" \
    "$RUNNER_IMAGE" /celerylab_volume.py "$@"
}

lock() {  # one run at a time, so a run never removes another's snapshot in progress
  mkdir -p "$BACKUP_DIR"
  chmod 0700 "$BACKUP_DIR"
  exec 9>"$BACKUP_DIR/.lock"
  flock -n 9 || die "another backup or restore of $BACKUP_DIR is running"
}

run() {
  lock
  local stamp snap
  stamp=$(date -u +%Y%m%dT%H%M%SZ)
  find "$BACKUP_DIR" -mindepth 1 -maxdepth 1 -type d -name '*.partial' -print0 |
    while IFS= read -r -d '' old; do
      say "removing the unfinished snapshot $(basename "$old")"
      rm -rf "$old"
    done
  snap="$BACKUP_DIR/$stamp.partial"
  trap 'rm -rf "$snap"' EXIT  # a failed run leaves no half snapshot behind
  mkdir -p "$snap/volumes"
  list_volumes | sort -u > "$snap/volumes.tsv"
  echo "$PROJECT" > "$snap/project"
  while IFS=$'\t' read -r key kind name; do
    say "volume $name"
    in_volume "$name" ro "$snap" backup /data "/backup/volumes/$key.tar.gz"
  done < "$snap/volumes.tsv"
  local present=()
  for path in "${CONFIG_PATHS[@]}"; do
    [ -e "$path" ] && present+=("${path#/}")
  done
  if [ "${#present[@]}" -gt 0 ]; then
    tar -C / -czf "$snap/config.tar.gz" "${present[@]}"
  else
    tar -czf "$snap/config.tar.gz" -T /dev/null
  fi
  mv "$snap" "$BACKUP_DIR/$stamp"
  trap - EXIT
  say "snapshot $BACKUP_DIR/$stamp ($(wc -l < "$BACKUP_DIR/$stamp/volumes.tsv") volumes)"
  prune
  if [ -n "$REMOTE" ]; then
    say "copying the snapshots to $REMOTE"
    rsync -a --delete --exclude '*.partial' --exclude .lock "$BACKUP_DIR/" "$REMOTE"
  fi
  if [ -n "$POST_COMMAND" ]; then
    bash -c "$POST_COMMAND"
  fi
}

snapshots() { find "$BACKUP_DIR" -mindepth 1 -maxdepth 1 -type d -name '[0-9]*Z' -printf '%f\n' 2>/dev/null | sort; }

prune() {
  snapshots | head -n -"$KEEP" | while read -r old; do
    say "removing old snapshot $old"
    rm -rf "${BACKUP_DIR:?}/$old"
  done
}

restore() {
  local snap=${1:-latest}
  lock
  [ "$snap" = latest ] && snap=$(snapshots | tail -n 1)
  if [ -z "$snap" ] || [ ! -f "$BACKUP_DIR/$snap/volumes.tsv" ]; then
    die "no snapshot '${1:-latest}' in $BACKUP_DIR"
  fi
  snap="$BACKUP_DIR/$snap"
  if [ -n "$(docker ps -q --filter "label=com.docker.compose.project=${PROJECT}")" ]; then
    die "the stack is running: stop it first (docker compose down, or use restore.yml)"
  fi
  # Labs and course containers hold volumes; they are made again on start (spawner, courses sync).
  docker ps -aq --filter "name=^${PROJECT}-lab-" | xargs -r docker rm -f >/dev/null
  docker ps -aq --filter "name=^${PROJECT}-course-" | xargs -r docker rm -f >/dev/null
  # Volume names keep their form, with the snapshot's project name replaced by this one.
  local from
  from=$(cat "$snap/project")
  while IFS=$'\t' read -r key kind name; do
    name="${PROJECT}${name#"$from"}"
    labels=()
    if [ "$kind" = compose ]; then
      labels=(--label "com.docker.compose.project=${PROJECT}" --label "com.docker.compose.volume=${key}")
    fi
    say "volume $name"
    docker volume rm -f "$name" >/dev/null
    docker volume create "${labels[@]}" "$name" >/dev/null
    in_volume "$name" rw "$snap" restore "/backup/volumes/$key.tar.gz" /data
  done < "$snap/volumes.tsv"
  tar -C / -xzpf "$snap/config.tar.gz"
  say "restored $(wc -l < "$snap/volumes.tsv") volumes and the settings from $snap"
}

case "${1:-}" in
  run) run ;;
  list) snapshots ;;
  restore) restore "${2:-latest}" ;;
  *) sed -n '6,11p' "$0" >&2; exit 2 ;;
esac
