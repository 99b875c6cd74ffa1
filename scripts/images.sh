#!/usr/bin/env bash
# Build every image the stack runs (hub, lab, the local Prometheus) from the base image, which is
# pulled or, where no registry answers, built locally first (scripts/base-image.sh).
# Extra arguments go to `docker compose build`, e.g. scripts/images.sh lab
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
scripts/base-image.sh
# Compose says its own builder (COMPOSE_BAKE=false, scripts/env.sh) is deprecated; that builder
# is the choice here, since Debian's docker.io has no buildx new enough for Bake. Only that one
# line is dropped: every other message of the build still reaches the user.
{ docker compose --profile images build --quiet "$@" 2>&1 1>&3 3>&- |
    sed -u '/COMPOSE_BAKE=false is deprecated/d' >&2; } 3>&1
