# Sourced by the scripts: settings every docker build here needs.
export DOCKER_BUILDKIT=1
# Compose builds through the engine's own BuildKit, not Bake: Bake needs the buildx plugin, which
# Debian 12's docker.io lacks (Compose would warn on every build and fall back anyway).
export COMPOSE_BAKE=false
# pip inside image builds trusts the host's CA bundle, so builds also work behind a
# TLS-inspecting proxy (common on campus networks). Override with CELERYLAB_PIP_CERT=path.
if [ -z "${CELERYLAB_PIP_CERT:-}" ] && [ -s /etc/ssl/certs/ca-certificates.crt ]; then
  export CELERYLAB_PIP_CERT=/etc/ssl/certs/ca-certificates.crt
fi
# The hub and the graders run unprivileged with the Docker socket's group only
# (docker-compose.yml's group_add): its id differs between hosts, so it is read here.
if [ -z "${CELERYLAB_DOCKER_GID:-}" ] && [ -S /var/run/docker.sock ]; then
  CELERYLAB_DOCKER_GID=$(stat -c %g /var/run/docker.sock)
  export CELERYLAB_DOCKER_GID
fi
