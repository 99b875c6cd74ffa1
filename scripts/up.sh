#!/usr/bin/env bash
# Bring celerylab up on this host: Docker (installed if missing), images, secrets, the stack.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap-docker.sh
. scripts/env.sh
# Kept in .env, so later `docker compose` commands (exec, restart, backups) find it too.
touch .env
grep -v '^CELERYLAB_DOCKER_GID=' .env >.env.new || true
echo "CELERYLAB_DOCKER_GID=${CELERYLAB_DOCKER_GID}" >>.env.new
chmod 600 .env.new && mv .env.new .env

echo "celerylab: building images..."
scripts/images.sh  # the base image is pulled, or built from Debian's packages without a registry

# Monitoring: the official Prometheus, node exporter and Grafana images. Where they cannot be
# pulled (no registry), Prometheus and the node exporter run from celerylab/prometheus (Debian's
# packages, built above) and Grafana is left out; docs/monitoring.md.
if ! docker compose pull --quiet prometheus node-exporter >/dev/null 2>&1; then
  echo "celerylab: official Prometheus images unavailable; using celerylab/prometheus (Debian's)"
  export CELERYLAB_PROMETHEUS_IMAGE=celerylab/prometheus:latest
  export CELERYLAB_NODE_EXPORTER_IMAGE=celerylab/prometheus:latest
fi
services=$(docker compose config --services)
if ! docker compose pull --quiet grafana >/dev/null 2>&1; then
  echo "celerylab: Grafana's image cannot be pulled here; starting without Grafana"
  services=$(grep -vx grafana <<<"$services")
fi
# shellcheck disable=SC2086 # one service name per word
docker compose up -d --wait $services

port="${CELERYLAB_HTTP_PORT:-8000}"
bind="${CELERYLAB_BIND:-127.0.0.1}"
# Every lab has its own origin under this address (CELERYLAB_PUBLIC_URL; *.localhost by default).
public=$(docker compose exec -T hub printenv CELERYLAB_PUBLIC_URL)
echo
echo "celerylab is up: ${public}"
if password=$(docker compose exec -T hub celerylab admin-password 2>/dev/null); then
  echo "First login: user 'admin' with the one-time password: ${password}"
  echo "  then set your own at ${public}/hub/change-password"
fi
echo "Add students:  docker compose exec -T hub celerylab roster import - < students.csv"
echo "Ops API token: CELERYLAB_API_TOKEN in .env (REST API at http://${bind}:${port}/hub/api)"
echo "Monitoring: Prometheus http://127.0.0.1:${CELERYLAB_PROMETHEUS_PORT:-9090} (user celerylab," \
  "CELERYLAB_PROMETHEUS_PASSWORD in .env)"
if grep -qx grafana <<<"$services"; then
  echo "            Grafana http://127.0.0.1:${CELERYLAB_GRAFANA_PORT:-3000} (user admin," \
    "CELERYLAB_GRAFANA_ADMIN_PASSWORD in .env)"
fi
