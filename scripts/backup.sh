#!/usr/bin/env bash
# Backups of the one-command (compose) install: the deployment's own backup script
# (deploy/roles/celerylab_backup/files/celerylab-backup.sh) with this checkout's settings.
#   scripts/backup.sh run | list | restore [SNAPSHOT]      (make backup runs `run`)
# Snapshots go to ./backups (CELERYLAB_BACKUP_DIR); every volume of the compose project, every
# student home and course volume, and .env are in each. Restore needs the stack stopped
# (`docker compose down`), then `docker compose up -d`. Other settings: see the script's header
# (CELERYLAB_BACKUP_KEEP, CELERYLAB_BACKUP_REMOTE for an off-host rsync copy, ...).
set -euo pipefail
cd "$(dirname "$0")/.."
env_value() {  # a variable's value in .env, if set there
  if [ -f .env ]; then sed -n "s/^$1=//p" .env | tail -n 1; fi
}
project=${COMPOSE_PROJECT_NAME:-$(env_value COMPOSE_PROJECT_NAME)}
export CELERYLAB_BACKUP_PROJECT=${CELERYLAB_BACKUP_PROJECT:-${project:-celerylab}}
export CELERYLAB_BACKUP_DIR=${CELERYLAB_BACKUP_DIR:-$PWD/backups}
hub_image=${CELERYLAB_HUB_IMAGE:-$(env_value CELERYLAB_HUB_IMAGE)}
export CELERYLAB_BACKUP_RUNNER_IMAGE=${CELERYLAB_BACKUP_RUNNER_IMAGE:-${hub_image:-celerylab/hub:latest}}
export CELERYLAB_BACKUP_CONFIG_PATHS=${CELERYLAB_BACKUP_CONFIG_PATHS:-$PWD/.env}
exec deploy/roles/celerylab_backup/files/celerylab-backup.sh "$@"
