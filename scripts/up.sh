#!/usr/bin/env bash
# Bring celerylab up on this host: Docker (installed if missing), images, secrets, the stack.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap-docker.sh
. scripts/env.sh

echo "celerylab: building images..."
docker compose --profile images build --quiet
docker compose up -d --wait

port="${CELERYLAB_HTTP_PORT:-8000}"
bind="${CELERYLAB_BIND:-127.0.0.1}"
echo
echo "celerylab is up: http://${bind}:${port}"
if password=$(docker compose exec -T hub celerylab admin-password 2>/dev/null); then
  echo "First login: user 'admin' with the one-time password: ${password}"
  echo "  then set your own at http://${bind}:${port}/hub/change-password"
fi
echo "Add students:  docker compose exec -T hub celerylab roster import - < students.csv"
echo "Ops API token: CELERYLAB_API_TOKEN in .env (REST API at http://${bind}:${port}/hub/api)"
